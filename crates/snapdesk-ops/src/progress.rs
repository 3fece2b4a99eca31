//! Progress of a flow, reported from the one core callback to a CLI bar or a UI channel.

use std::path::PathBuf;

use serde::Serialize;
use ts_rs::TS;

/// One step of a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(rename = "RemoteProgress")]
pub enum Progress {
    /// The Supervisor accepted a create: the snapshot's name and how many nodes it runs on.
    Created {
        name: String,
        nodes: usize,
        request_id: Option<String>,
    },
    /// A poll while waiting for a snapshot.
    Waiting {
        name: String,
        completed: usize,
        failed: usize,
        total: usize,
    },
    /// A node's download starts (`index` counts from 1).
    NodeStarted {
        #[serde(with = "snapdesk_api::ids")]
        #[ts(type = "string")]
        snapshot_id: u64,
        #[serde(with = "snapdesk_api::ids")]
        #[ts(type = "string")]
        node_id: u64,
        index: usize,
        count: usize,
        #[ts(type = "string")]
        path: PathBuf,
    },
    /// Bytes of a node's archive so far.
    Transfer {
        #[serde(with = "snapdesk_api::ids")]
        #[ts(type = "string")]
        snapshot_id: u64,
        #[ts(type = "number")]
        downloaded: u64,
        #[ts(type = "number | null")]
        total: Option<u64>,
    },
    /// A node's download ended (`ok` false: see its result).
    NodeFinished {
        #[serde(with = "snapdesk_api::ids")]
        #[ts(type = "string")]
        snapshot_id: u64,
        ok: bool,
    },
}

/// The callback a host passes: a CLI draws a bar, the app forwards to a channel.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Send + Sync);

/// A callback that ignores everything.
pub fn ignore(_: Progress) {}

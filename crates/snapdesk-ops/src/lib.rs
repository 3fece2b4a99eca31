//! The flows a support engineer runs against a Supervisor, written once for every host: the
//! CLI prints their results, the desktop app sends them over IPC. Each flow takes typed
//! inputs, returns typed results (partial results included), reports progress through a
//! callback and stops at a [`Cancel`].
//!
//! Errors are [`snapdesk_core::Error`] with host-neutral hints: the CLI adds command text,
//! the app maps the codes to actions.
//!
//! - [`target`]: which Supervisor, deployment and key a flow talks to.
//! - [`snapshots`]: list, create, wait.
//! - [`download`]: some or all nodes of a snapshot, resumable.
//! - [`delete`]: some or all nodes of a snapshot.
//! - [`contexts`]: add, test, list, use and remove contexts.
//! - [`connections`]: a desktop host's connections: contexts, session keys, the demo.
//! - [`deployment`]: a deployment's snapshots with their library copies, and the flows
//!   behind the app's buttons.
//! - [`library`]: downloads and collections into the local library, imports.

pub mod connections;
pub mod contexts;
pub mod delete;
pub mod deployment;
pub mod desk;
pub mod download;
pub mod library;
pub mod progress;
pub mod remote_desk;
pub mod snapshots;
pub mod target;

pub use progress::{Progress, ProgressFn};
pub use snapdesk_core::Cancel;
pub use target::{Remote, Target};

/// Which nodes of which snapshot a flow acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// One node's item, by its snapshot id.
    Node(u64),
    /// Every node of the snapshot with this name.
    Name(String),
    /// Some nodes of one snapshot, by their items' ids (the ones still to fetch, say).
    Items(Vec<u64>),
    /// Every node of the newest snapshot whose nodes all completed.
    NewestCompleted,
}

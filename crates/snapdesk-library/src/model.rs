//! What the catalog holds, as both hosts see it. Ids are strings on the wire: the app's
//! JavaScript and the CLI's `--json` readers both get them exactly.

use serde::{Deserialize, Serialize};
use snapdesk_report::archive::{Integrity, IntegrityState};
use snapdesk_report::StatusCounts;
use ts_rs::TS;

/// Where an archive came from. One entry may have several (the same bytes twice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// Downloaded from a Supervisor.
    Remote {
        context: String,
        supervisor_url: String,
        deployment_id: String,
        deployment_name: Option<String>,
        snapshot_id: String,
        snapshot_name: Option<String>,
        node_id: Option<String>,
        /// When the server deletes it: the snapshot's creation plus its plan's retention,
        /// when the context records the plan (the API does not say it).
        expires_at: Option<String>,
    },
    /// A file from disk (a customer's mail, an `iggy snapshot` ZIP).
    File { path: String },
    /// Collected on this machine.
    Collected { path: Option<String> },
}

impl Origin {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Origin::Remote { .. } => "remote",
            Origin::File { .. } => "file",
            Origin::Collected { .. } => "collected",
        }
    }

    /// How errors name the archive: the user's file, or the snapshot it was downloaded as
    /// (never the library's temp copy).
    pub fn shown(&self) -> std::path::PathBuf {
        match self {
            Origin::File { path } => path.into(),
            Origin::Collected { path: Some(p) } => p.into(),
            Origin::Collected { path: None } => "the local collection".into(),
            Origin::Remote {
                snapshot_id,
                snapshot_name,
                node_id,
                ..
            } => format!(
                "snapshot {} (id {snapshot_id}) of node {}",
                snapshot_name.as_deref().unwrap_or("?"),
                node_id.as_deref().unwrap_or("?")
            )
            .into(),
        }
    }
}

/// An origin as recorded, with when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OriginRecord {
    #[serde(flatten)]
    pub origin: Origin,
    /// When it was downloaded, imported or collected.
    pub at: String,
}

/// One archive in the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Entry {
    pub id: String,
    pub sha256: String,
    #[ts(type = "number")]
    pub size: u64,
    /// `snapdesk`, `html` or `iggy_snapshot`.
    pub kind: String,
    pub title: String,
    pub snapshot_name: Option<String>,
    pub deployment_id: Option<String>,
    pub deployment_name: Option<String>,
    pub node_id: Option<String>,
    pub host_name: Option<String>,
    pub created_at: Option<String>,
    pub completed_at: Option<String>,
    pub added_at: String,
    pub last_opened_at: Option<String>,
    pub expires_at: Option<String>,
    /// `None` when the archive does not say (foreign reports).
    pub redacted: Option<bool>,
    pub has_iggy: bool,
    pub checks: StatusCounts,
    pub pinned: bool,
    pub note: String,
    pub tags: Vec<String>,
    /// Set when the archive was evicted for the size budget; the catalog rows stay.
    pub evicted_at: Option<String>,
    /// Evicted, downloaded from a Supervisor, and not past its retention (`expires_at`, when
    /// the plan is known): it can be downloaded again.
    pub downloadable: bool,
    /// Whether the archive's entries matched its manifest when it was stored: `mismatch`
    /// means some entry's bytes differ from (or are missing from, or are not listed in) what
    /// the manifest vouches for. `None` for entries stored before this was recorded.
    pub integrity: Option<IntegrityState>,
}

pub(crate) fn integrity_str(s: IntegrityState) -> &'static str {
    match s {
        IntegrityState::Verified => "verified",
        IntegrityState::Mismatch => "mismatch",
        IntegrityState::Unverifiable => "unverifiable",
    }
}

pub(crate) fn integrity_of(s: &str) -> Option<IntegrityState> {
    match s {
        "verified" => Some(IntegrityState::Verified),
        "mismatch" => Some(IntegrityState::Mismatch),
        "unverifiable" => Some(IntegrityState::Unverifiable),
        _ => None,
    }
}

/// An entry with its origins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EntryDetail {
    #[serde(flatten)]
    pub entry: Entry,
    pub origins: Vec<OriginRecord>,
    /// What differed from the manifest when the archive was stored (names shown escaped).
    pub integrity_detail: Option<Integrity>,
}

/// One check of one entry, as the catalog keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CheckRow {
    pub entry_id: String,
    pub check_id: String,
    pub category: String,
    pub title: String,
    pub status: String,
    pub summary: String,
    pub facts: Vec<(String, String)>,
}

/// A search hit: the check with the entry and node it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Hit {
    pub entry_id: String,
    pub check_id: String,
    pub category: String,
    pub title: String,
    pub status: String,
    pub summary: String,
    pub snapshot_name: Option<String>,
    pub deployment_name: Option<String>,
    /// The node id, or the host name when there is none.
    pub node: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Imported {
    pub id: String,
    pub sha256: String,
    #[ts(type = "number")]
    pub size: u64,
    /// The same bytes were already stored: only the origin was added.
    pub deduplicated: bool,
    #[ts(type = "number")]
    pub checks: u64,
    /// Entries evicted to stay within the budget.
    pub evicted: Vec<String>,
}

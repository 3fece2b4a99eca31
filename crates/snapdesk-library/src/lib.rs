//! The local library: every snapshot a support engineer downloaded, collected or imported,
//! kept long after the server's retention deleted it, and a catalog to search and compare.
//!
//! - [`store`]: archives stored once by sha256 and `library.sqlite`; import and the crash
//!   rules (see its module comment).
//! - [`db`]: the catalog's connection pragmas and numbered migrations.
//! - [`catalog`]: what an archive holds, proven sound before it is kept.
//! - [`query`]: the query language both hosts use.
//! - [`browse`]: a sorted page of entries with the count and status totals of all that match
//!   (what the app's library view shows).
//! - [`entries`]: list, show, search, open, export, pin, note, tag, remove.
//! - [`compare`]: two entries, or the nodes of one snapshot as a matrix.
//! - [`lifecycle`]: the size budget, eviction, `gc` and `verify`.
//! - [`changes`]: how one process sees another's writes without a restart.
//! - [`insight`]: across snapshots: the triage board, check timelines, logs around a time.
//! - [`analysis`]: analyzers that need no live host, run on every archive the library stores
//!   and again over stored archives by a re-analysis.
//! - [`continuity`]: what happened to the Iggy data between two snapshots.
//!
//! The library lives under `<data dir>/library/` ([`Library::under`]).

pub mod analysis;
pub mod browse;
pub mod catalog;
pub mod changes;
pub mod compare;
pub mod continuity;
pub mod copies;
pub mod db;
pub mod entries;
pub mod error;
pub mod insight;
pub mod lifecycle;
pub mod model;
pub mod query;
pub mod scopes;
pub mod store;

pub use analysis::{AnalysisFinding, Reanalysis};
pub use browse::{Browse, Sort};
pub use changes::Change;
pub use compare::{Diff, Matrix};
pub use continuity::{Continuity, DataDiff};
pub use entries::{parse_id, Page};
pub use error::{LibraryError, Result};
pub use insight::{NodeLogs, Scope, Timeline, Triage, TriageItem, TriageState};
pub use lifecycle::{Collected, Verified};
pub use model::{CheckRow, Entry, EntryDetail, Hit, Imported, Origin, OriginRecord};
pub use query::Query;
pub use scopes::{DeploymentScope, HostScope, Scopes};
pub use store::{Library, DEFAULT_BUDGET};

impl Library {
    /// The library of an app data directory: `<data_dir>/library`.
    pub fn under(paths: &snapdesk_core::AppPaths) -> Result<Self> {
        Self::open(&paths.data_dir.join("library"))
    }
}

// The suite's one skip-or-fail rule, shared as a file (this crate cannot depend on
// `snapdesk-tests`).
#[cfg(test)]
#[path = "../../../tests/src/skip.rs"]
pub(crate) mod test_skip;

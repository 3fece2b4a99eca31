//! The emulator's model: deployments, snapshot items, idempotency records, queued faults and
//! the request journal, with the rules that change them. No HTTP, no files: the store
//! (`state`) holds one of these behind a lock and the routes read and change it.
//!

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Plan;

pub(crate) const TENANT_ID: u64 = 615_380_456_123_456_789;
pub(crate) const DIVISION_ID: u64 = 1;
pub(crate) const ENVIRONMENT_ID: u64 = 1;
/// Snapshot ids count up from here: snowflake-sized, above 2^53.
pub(crate) const SNAPSHOT_ID_BASE: u64 = 612_000_000_000_000_000;
/// How long an idempotency record lives.
pub(crate) const IDEMPOTENCY_TTL_SECS: i64 = 600;

#[derive(Debug, Clone)]
pub(crate) struct Deployment {
    pub id: u64,
    pub name: String,
    pub plan: Plan,
    /// Node ids, node 1 first.
    pub node_ids: Vec<u64>,
}

/// Node ids are derived from the deployment id: stable, distinct, above 2^53.
pub(crate) fn node_id(deployment_id: u64, node_index: u32) -> u64 {
    610_809_900_976_570_880 + (deployment_id % 100_000) * 100 + u64::from(node_index)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ItemStatus {
    Processing,
    Completed,
    Failed,
}

impl ItemStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Processing => "processing",
            ItemStatus::Completed => "completed",
            ItemStatus::Failed => "failed",
        }
    }
}

/// One node's snapshot: one list item, one archive.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Item {
    pub id: u64,
    pub deployment_id: u64,
    pub node_id: u64,
    /// 1-based.
    pub node_index: u32,
    pub name: String,
    /// Whole seconds; shared by the items of one trigger.
    pub created_at: DateTime<Utc>,
    /// When this node's archive is due (emulator clock).
    pub due_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub status: ItemStatus,
    pub redact_secrets: bool,
    pub include_iggy: bool,
    /// Archive file name under the archive directory, once written.
    pub file: Option<String>,
    pub size: u64,
    #[serde(default)]
    pub seeded: bool,
}

impl Item {
    pub(crate) fn file_name(&self) -> String {
        format!("{}-{}.zip", self.name, self.node_id)
    }

    /// The storage object key (what the presigned URL signs).
    pub(crate) fn object(&self) -> String {
        format!("{}/{}", self.deployment_id, self.file_name())
    }
}

/// A cached outcome of a POST with an idempotency key.
#[derive(Debug, Clone)]
pub(crate) struct CachedOutcome {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub(crate) struct IdemEntry {
    pub body_hash: String,
    pub created: DateTime<Utc>,
    /// `None` while the first request is still being handled.
    pub outcome: Option<CachedOutcome>,
}

/// (idempotency key, API key, deployment id).
pub(crate) type IdemKey = (String, String, u64);

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub items: Vec<Item>,
    pub next_id: u64,
    pub idem: HashMap<IdemKey, IdemEntry>,
    pub faults: Vec<Fault>,
    /// The last requests received, for `GET /_admin/requests`.
    pub requests: VecDeque<RequestRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    Status,
    Delay,
    Truncate,
    MalformedJson,
    Reset,
    /// Not a request fault: the next `count` node archives fail to generate, so those items
    /// end with status `failed` (and `completed_at` set).
    NodeFailure,
    /// The body is sent at `bytes_per_sec` (default 256 KiB/s): a slow link.
    Throttle,
    /// The whole body arrives, with the real length, but every byte is zero: what a client
    /// must refuse to keep (a download that is not a ZIP).
    Corrupt,
}

/// The body of `POST /_admin/faults`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaultSpec {
    #[serde(default = "one")]
    pub count: u32,
    pub kind: FaultKind,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub retry_after: Option<u64>,
    #[serde(default)]
    pub delay_ms: Option<u64>,
    #[serde(default)]
    pub bytes_per_sec: Option<u64>,
    #[serde(default)]
    pub path_prefix: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    /// Moves the emulator's clock on by this many seconds when the fault acts.
    #[serde(default)]
    pub advance_clock_secs: Option<i64>,
}

fn one() -> u32 {
    1
}

/// A queued fault.
#[derive(Debug, Clone, Serialize)]
pub struct Fault {
    pub remaining: u32,
    pub spec: FaultSpec,
}

/// One request as the emulator received it (`GET /_admin/requests`).
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// The `idempotency-key` header, when sent.
    pub idempotency_key: Option<String>,
    /// The `range` header, when sent (what a resumed download asked for).
    pub range: Option<String>,
    /// The `if-range` header, when sent.
    pub if_range: Option<String>,
    /// The fault applied to this request, if any.
    pub fault: Option<FaultKind>,
}

/// How many requests the journal keeps (the oldest go first): enough for any test, bounded
/// for long demos and benchmarks.
pub(crate) const JOURNAL_LIMIT: usize = 10_000;

impl Inner {
    /// Takes one use of the first queued request fault matching `method` and `path`.
    pub(crate) fn take_fault(&mut self, method: &str, path: &str) -> Option<FaultSpec> {
        let idx = self.faults.iter().position(|f| {
            f.remaining > 0
                && f.spec.kind != FaultKind::NodeFailure
                && f.spec
                    .path_prefix
                    .as_deref()
                    .is_none_or(|p| path.starts_with(p))
                && f.spec
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
        })?;
        let f = &mut self.faults[idx];
        f.remaining -= 1;
        let spec = f.spec.clone();
        if f.remaining == 0 {
            self.faults.remove(idx);
        }
        Some(spec)
    }

    /// Takes one queued node failure, if any (the processing task asks before each node).
    pub(crate) fn take_node_failure(&mut self) -> bool {
        let Some(idx) = self
            .faults
            .iter()
            .position(|f| f.remaining > 0 && f.spec.kind == FaultKind::NodeFailure)
        else {
            return false;
        };
        let f = &mut self.faults[idx];
        f.remaining -= 1;
        if f.remaining == 0 {
            self.faults.remove(idx);
        }
        true
    }

    /// Adds a request to the journal, dropping the oldest past [`JOURNAL_LIMIT`].
    pub(crate) fn record(&mut self, r: RequestRecord) {
        if self.requests.len() >= JOURNAL_LIMIT {
            self.requests.pop_front();
        }
        self.requests.push_back(r);
    }
}

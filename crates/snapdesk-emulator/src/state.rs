//! The emulator's state: deployments, snapshot items, the clock, idempotency records and
//! pending faults. Held in a `std::sync::Mutex` that is never kept across an `.await`;
//! persisted as `state.json` under the data directory when one is given.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::faults::Fault;
use crate::{util, EmulatorConfig, Plan};

pub(crate) const TENANT_ID: u64 = 615_380_456_123_456_789;
pub(crate) const DIVISION_ID: u64 = 1;
pub(crate) const ENVIRONMENT_ID: u64 = 1;
/// Snapshot ids count up from here: snowflake-sized, above 2^53.
pub(crate) const SNAPSHOT_ID_BASE: u64 = 612_000_000_000_000_000;
/// How long an idempotency record lives.
pub(crate) const IDEMPOTENCY_TTL_SECS: i64 = 600;

pub(crate) type App = Arc<Shared>;

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
    pub requests: std::collections::VecDeque<crate::faults::RequestRecord>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Persisted {
    manage_key: String,
    read_key: String,
    admin_token: String,
    secret: String,
    next_id: u64,
    clock_offset_ms: i64,
    items: Vec<Item>,
}

pub(crate) struct Shared {
    pub deployments: Vec<Deployment>,
    pub manage_key: String,
    pub read_key: String,
    pub admin_token: String,
    pub secret: Vec<u8>,
    pub processing_ms: u64,
    pub url_ttl_secs: u64,
    pub supervisor_url: String,
    pub archive_dir: PathBuf,
    state_file: Option<PathBuf>,
    clock_offset_ms: AtomicI64,
    inner: Mutex<Inner>,
    _tmp: Option<tempfile::TempDir>,
}

impl Shared {
    pub(crate) fn new(config: &EmulatorConfig, supervisor_url: String) -> anyhow::Result<Self> {
        let (base_dir, tmp, state_file) = match &config.data_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                (dir.clone(), None, Some(dir.join("state.json")))
            }
            None => {
                let tmp = tempfile::Builder::new()
                    .prefix("snapdesk-emulator-")
                    .tempdir()?;
                (tmp.path().to_path_buf(), Some(tmp), None)
            }
        };
        let archive_dir = base_dir.join("archives");
        std::fs::create_dir_all(&archive_dir)?;

        let persisted: Option<Persisted> = match &state_file {
            Some(p) if p.exists() => {
                let raw = std::fs::read(p)?;
                match serde_json::from_slice(&raw) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        tracing::warn!("ignoring unreadable {}: {e}", p.display());
                        None
                    }
                }
            }
            _ => None,
        };

        let deployments: Vec<Deployment> = config
            .deployments
            .iter()
            .map(|d| {
                let n = if d.nodes == 0 {
                    config.nodes.max(1)
                } else {
                    d.nodes
                };
                Deployment {
                    id: d.id,
                    name: d.name.clone(),
                    plan: d.plan,
                    node_ids: (1..=n).map(|i| node_id(d.id, i)).collect(),
                }
            })
            .collect();

        let pick = |fixed: &Option<String>, old: Option<&String>, fresh: fn() -> String| {
            fixed.clone().or_else(|| old.cloned()).unwrap_or_else(fresh)
        };
        let manage_key = pick(
            &config.manage_key,
            persisted.as_ref().map(|p| &p.manage_key),
            util::new_api_key,
        );
        let read_key = pick(
            &config.read_key,
            persisted.as_ref().map(|p| &p.read_key),
            util::new_api_key,
        );
        let admin_token = pick(
            &config.admin_token,
            persisted.as_ref().map(|p| &p.admin_token),
            || util::random_hex(32),
        );
        let secret = persisted
            .as_ref()
            .and_then(|p| hex::decode(&p.secret).ok())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| util::random_bytes().to_vec());

        let mut inner = Inner {
            next_id: SNAPSHOT_ID_BASE + 1,
            ..Inner::default()
        };
        let mut offset = 0;
        if let Some(p) = persisted {
            offset = p.clock_offset_ms;
            inner.next_id = p.next_id.max(SNAPSHOT_ID_BASE + 1);
            inner.items = p
                .items
                .into_iter()
                .filter(|i| deployments.iter().any(|d| d.id == i.deployment_id))
                .collect();
        }

        Ok(Self {
            deployments,
            manage_key,
            read_key,
            admin_token,
            secret,
            processing_ms: config.processing_ms,
            url_ttl_secs: config.url_ttl_secs,
            supervisor_url,
            archive_dir,
            state_file,
            clock_offset_ms: AtomicI64::new(offset),
            inner: Mutex::new(inner),
            _tmp: tmp,
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The emulator's clock: real time plus the offset set through `/_admin/clock`.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.clock_offset_ms.load(Ordering::SeqCst))
    }

    pub(crate) fn clock_offset_ms(&self) -> i64 {
        self.clock_offset_ms.load(Ordering::SeqCst)
    }

    pub(crate) fn advance_clock(&self, secs: i64) {
        self.clock_offset_ms
            .fetch_add(secs.saturating_mul(1000), Ordering::SeqCst);
    }

    pub(crate) fn deployment(&self, id: u64) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.id == id)
    }

    pub(crate) fn archive_path(&self, file: &str) -> PathBuf {
        self.archive_dir.join(file)
    }

    /// Writes `state.json` when there is a data directory. Call with the lock held, so
    /// that writes are ordered.
    pub(crate) fn save(&self, inner: &Inner) {
        let Some(path) = &self.state_file else {
            return;
        };
        let p = Persisted {
            manage_key: self.manage_key.clone(),
            read_key: self.read_key.clone(),
            admin_token: self.admin_token.clone(),
            secret: hex::encode(&self.secret),
            next_id: inner.next_id,
            clock_offset_ms: self.clock_offset_ms(),
            items: inner.items.clone(),
        };
        if let Err(e) = write_json_atomic(path, &p) {
            tracing::warn!("cannot write {}: {e}", path.display());
        }
    }

    /// Drops items past their plan's retention and idempotency records past 10 minutes.
    /// Returns the archive files to delete (delete them after releasing the lock).
    pub(crate) fn sweep(&self, inner: &mut Inner) -> Vec<PathBuf> {
        let now = self.now();
        let mut doomed = Vec::new();
        let before = inner.items.len();
        inner.items.retain(|item| {
            let days = self
                .deployment(item.deployment_id)
                .map(|d| d.plan.retention_days())
                .unwrap_or(7);
            let keep = item.created_at + chrono::Duration::days(days) > now;
            if !keep {
                if let Some(f) = &item.file {
                    doomed.push(self.archive_path(f));
                }
            }
            keep
        });
        inner.idem.retain(|_, e| {
            e.outcome.is_none() || e.created + chrono::Duration::seconds(IDEMPOTENCY_TTL_SECS) > now
        });
        if inner.items.len() != before {
            self.save(inner);
        }
        doomed
    }

    /// A name `snapshot-YYYYMMDD-HHMMSS` not yet used in the deployment, and its time
    /// (whole seconds; moved on by a second while the name is taken).
    pub(crate) fn fresh_name(&self, inner: &Inner, deployment_id: u64) -> (String, DateTime<Utc>) {
        let now = self.now();
        let mut t = now.with_nanosecond(0).unwrap_or(now);
        loop {
            let name = format!("snapshot-{}", t.format("%Y%m%d-%H%M%S"));
            let taken = inner
                .items
                .iter()
                .any(|i| i.deployment_id == deployment_id && i.name == name);
            if !taken {
                return (name, t);
            }
            t += chrono::Duration::seconds(1);
        }
    }
}

fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let json = serde_json::to_vec_pretty(value)?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, json)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Deletes archive files, ignoring those already gone.
pub(crate) async fn remove_files(paths: Vec<PathBuf>) {
    for p in paths {
        if let Err(e) = tokio::fs::remove_file(&p).await {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("cannot delete {}: {e}", p.display());
            }
        }
    }
}

/// Restarts the processing of items left `processing` by a previous run.
pub(crate) fn resume_processing(app: &App) {
    let ids: Vec<u64> = {
        let inner = app.lock();
        inner
            .items
            .iter()
            .filter(|i| i.status == ItemStatus::Processing)
            .map(|i| i.id)
            .collect()
    };
    if !ids.is_empty() {
        tokio::spawn(process_items(app.clone(), ids));
    }
}

/// Completes items one by one, each when its due time (on the emulator clock) has come:
/// the archive is written first, then the item says `completed`.
pub(crate) async fn process_items(app: App, ids: Vec<u64>) {
    for id in ids {
        loop {
            let due = {
                let inner = app.lock();
                inner.items.iter().find(|i| i.id == id).map(|i| i.due_at)
            };
            let Some(due) = due else { break };
            let now = app.now();
            if now >= due {
                break;
            }
            let wait = (due - now)
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(Duration::from_millis(50));
            tokio::time::sleep(wait).await;
        }
        let item = {
            let inner = app.lock();
            inner.items.iter().find(|i| i.id == id).cloned()
        };
        let Some(item) = item else { continue };
        let Some(dep) = app.deployment(item.deployment_id).cloned() else {
            continue;
        };
        let completed_at = app.now();
        let path = app.archive_path(&item.file_name());
        let job_item = item.clone();
        let job_path = path.clone();
        let inject_failure = crate::faults::take_node_failure(&mut app.lock());
        let result = tokio::task::spawn_blocking(move || {
            if inject_failure {
                return Err(anyhow::anyhow!("node failure injected by the emulator"));
            }
            crate::archives::write_node_archive(&job_path, &dep, &job_item, completed_at)
        })
        .await;
        let outcome = match result {
            Ok(Ok(size)) => Ok(size),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let orphan = {
            let mut inner = app.lock();
            let found = inner.items.iter_mut().find(|i| i.id == id);
            let orphan = match (found, &outcome) {
                (Some(it), Ok(size)) => {
                    it.status = ItemStatus::Completed;
                    it.completed_at = Some(completed_at);
                    it.file = Some(item.file_name());
                    it.size = *size;
                    false
                }
                (Some(it), Err(e)) => {
                    tracing::error!("snapshot {} failed: {e}", it.id);
                    it.status = ItemStatus::Failed;
                    it.completed_at = Some(completed_at);
                    false
                }
                // Deleted (or expired) while it was being written.
                (None, _) => true,
            };
            app.save(&inner);
            orphan
        };
        if orphan {
            remove_files(vec![path]).await;
        }
    }
}

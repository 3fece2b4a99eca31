//! The store: the model behind a `std::sync::Mutex` that is never held across an `.await`,
//! the emulator's clock, the keys, and `state.json` under the data directory when there is
//! one. Also the archive files' lifetime (paths, deletion) and presigned URLs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::config::EmulatorConfig;
use crate::model::{node_id, Deployment, Inner, Item, IDEMPOTENCY_TTL_SECS, SNAPSHOT_ID_BASE};
use crate::util;

pub(crate) type App = Arc<Shared>;

#[derive(Debug, Serialize, Deserialize)]
struct Persisted {
    manage_key: String,
    read_key: String,
    admin_token: String,
    secret: String,
    next_id: u64,
    clock_offset_ms: i64,
    items: Vec<Item>,
    /// The port last served, tried first on the next start: a stable URL across restarts.
    #[serde(default)]
    port: u16,
}

/// The port a previous run on `data_dir` served, if its state says.
pub(crate) fn previous_port(data_dir: &Path) -> Option<u16> {
    let raw = std::fs::read(data_dir.join("state.json")).ok()?;
    let p: Persisted = serde_json::from_slice(&raw).ok()?;
    (p.port != 0).then_some(p.port)
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
    pub port: u16,
    pub archive_dir: PathBuf,
    state_file: Option<PathBuf>,
    clock_offset_ms: AtomicI64,
    inner: Mutex<Inner>,
    _tmp: Option<tempfile::TempDir>,
}

impl Shared {
    pub(crate) fn new(
        config: &EmulatorConfig,
        supervisor_url: String,
        port: u16,
    ) -> anyhow::Result<Self> {
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
            port,
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
            port: self.port,
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

    /// A presigned URL for `object`, valid for the configured TTL on the emulator's clock.
    pub(crate) fn presign(&self, object: &str) -> String {
        let expires =
            self.now().timestamp() + i64::try_from(self.url_ttl_secs).unwrap_or(i64::MAX / 2);
        let signature = util::sign(&self.secret, object, expires);
        format!(
            "{}/_storage/{object}?expires={expires}&signature={signature}",
            self.supervisor_url
        )
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

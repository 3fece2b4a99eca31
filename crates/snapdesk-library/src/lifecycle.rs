//! Keeping the library within its size budget, and proving catalog and store agree.
//!
//! Eviction removes the least recently opened unpinned archives until the stored total fits
//! the budget; their catalog rows stay (searchable, comparable), marked evicted, with
//! "download again" while the Supervisor still keeps the snapshot.

use std::collections::HashSet;
use std::fs;

use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use snapdesk_core::Cancel;
use ts_rs::TS;

use crate::changes::record;
use crate::error::{io_err, Result};
use crate::store::{hash_file, now, Library, DEFAULT_BUDGET};

/// What `verify` found; empty lists mean catalog and store agree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Verified {
    #[ts(type = "number")]
    pub entries: u64,
    /// Entries whose archive is missing.
    pub missing: Vec<String>,
    /// Entries whose archive's bytes no longer hash to their sha256 (or size).
    pub corrupt: Vec<String>,
    /// Files in the store with no entry.
    pub orphans: Vec<String>,
    /// Files left in `tmp/` by processes that are gone.
    pub leftovers: Vec<String>,
    /// The catalog's own integrity check, when it is not "ok".
    pub catalog: Vec<String>,
}

impl Verified {
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty()
            && self.corrupt.is_empty()
            && self.orphans.is_empty()
            && self.leftovers.is_empty()
            && self.catalog.is_empty()
    }
}

/// What `gc` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Collected {
    /// Leftover files removed.
    pub removed: Vec<String>,
    /// Entries evicted for the budget.
    pub evicted: Vec<String>,
    #[ts(type = "number")]
    pub stored_bytes: u64,
    #[ts(type = "number")]
    pub budget_bytes: u64,
}

impl Library {
    pub fn budget(&self) -> Result<u64> {
        let v: Option<String> = self
            .lock()
            .query_row(
                "SELECT value FROM settings WHERE key = 'budget_bytes'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(v.and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_BUDGET))
    }

    pub fn set_budget(&self, bytes: u64) -> Result<Vec<String>> {
        self.write(None, "budget", |tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES ('budget_bytes', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [bytes.to_string()],
            )?;
            Ok(())
        })?;
        self.enforce_budget()
    }

    /// Bytes of archives stored (not evicted).
    pub fn stored_bytes(&self) -> Result<u64> {
        Ok(self.lock().query_row(
            "SELECT coalesce(sum(size), 0) FROM entries WHERE evicted_at IS NULL",
            [],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }

    /// Evicts least recently opened unpinned archives until the store fits the budget.
    pub fn enforce_budget(&self) -> Result<Vec<String>> {
        let budget = self.budget()?;
        let mut evicted = Vec::new();
        let mut files = Vec::new();
        {
            let mut conn = self.lock();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut stored: i64 = tx.query_row(
                "SELECT coalesce(sum(size), 0) FROM entries WHERE evicted_at IS NULL",
                [],
                |r| r.get(0),
            )?;
            if stored as u64 > budget {
                // Least recently opened first; within one millisecond an entry never opened
                // counts as older than one opened then (a test evicted the wrong one on a tie).
                let victims: Vec<(i64, String, i64)> = {
                    let mut st = tx.prepare(
                        "SELECT id, sha256, size FROM entries
                         WHERE evicted_at IS NULL AND pinned = 0
                         ORDER BY coalesce(last_opened_at, added_at), last_opened_at IS NOT NULL, id",
                    )?;
                    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                    rows.collect::<rusqlite::Result<_>>()?
                };
                for (id, sha, size) in victims {
                    if stored as u64 <= budget {
                        break;
                    }
                    tx.execute(
                        "UPDATE entries SET evicted_at = ?2 WHERE id = ?1",
                        params![id, now()],
                    )?;
                    record(&tx, Some(id), "evicted")?;
                    stored -= size;
                    evicted.push(id.to_string());
                    files.push(self.archive_path(&sha));
                }
            }
            tx.commit()?;
        }
        // Files go after the commit: a crash between leaves orphans, which a start removes.
        for f in files {
            if let Err(e) = fs::remove_file(&f) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    return Err(io_err("remove", f)(e));
                }
            }
        }
        Ok(evicted)
    }

    /// Removes leftovers and enforces the budget.
    pub fn gc(&self) -> Result<Collected> {
        let removed = self
            .clean_leftovers()?
            .into_iter()
            .map(|p| p.display().to_string())
            .collect();
        let evicted = self.enforce_budget()?;
        Ok(Collected {
            removed,
            evicted,
            stored_bytes: self.stored_bytes()?,
            budget_bytes: self.budget()?,
        })
    }

    /// Re-hashes every stored archive and checks catalog and store agree. Reads only.
    pub fn verify(&self, cancel: &Cancel) -> Result<Verified> {
        let mut v = Verified::default();
        let (rows, integrity): (Vec<(i64, String, i64)>, Vec<String>) = {
            let conn = self.lock();
            let mut st =
                conn.prepare("SELECT id, sha256, size FROM entries WHERE evicted_at IS NULL")?;
            let rows = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut ic = conn.prepare("PRAGMA integrity_check")?;
            let integrity = ic
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<_>>()?;
            (rows, integrity)
        };
        v.entries = self
            .lock()
            .query_row("SELECT count(*) FROM entries", [], |r| r.get::<_, i64>(0))?
            as u64;
        if integrity != ["ok"] {
            v.catalog = integrity;
        }
        let mut shas = HashSet::new();
        for (id, sha, size) in rows {
            let path = self.archive_path(&sha);
            shas.insert(sha.clone());
            if !path.is_file() {
                v.missing.push(id.to_string());
                continue;
            }
            match hash_file(&path, cancel) {
                Ok((got, n)) if got == sha && n == size as u64 => {}
                Ok(_) => v.corrupt.push(id.to_string()),
                Err(crate::error::LibraryError::Stopped(s)) => return Err(s.into()),
                Err(_) => v.corrupt.push(id.to_string()),
            }
        }
        for f in self.archive_files()? {
            let stem = f
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !shas.contains(&stem) {
                v.orphans.push(f.display().to_string());
            }
        }
        let tmp = self.tmp_dir();
        for e in fs::read_dir(&tmp).map_err(io_err("read", tmp.clone()))? {
            let e = e.map_err(io_err("read", tmp.clone()))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if crate::store::is_dead_leftover(&name) {
                v.leftovers.push(e.path().display().to_string());
            }
        }
        Ok(v)
    }
}

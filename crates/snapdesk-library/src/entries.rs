//! Reading and editing entries: list, show, search, open, export, pin, note, tag, remove.

use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, OptionalExtension, Row, TransactionBehavior};
use snapdesk_core::Cancel;
use snapdesk_report::StatusCounts;

use crate::changes::record;
use crate::error::{io_err, LibraryError, Result};
use crate::model::{Entry, EntryDetail, Hit, OriginRecord};
use crate::query::Query;
use crate::store::{hash_file, now, Library};

pub(crate) const ENTRY_COLUMNS: &str = "e.id, e.sha256, e.size, e.kind, e.title, e.snapshot_name,
    e.deployment_id, e.deployment_name, e.node_id, e.host_name, e.created_at, e.completed_at,
    e.added_at, e.last_opened_at, e.expires_at, e.redacted, e.has_iggy, e.n_pass, e.n_warn,
    e.n_fail, e.n_info, e.n_error, e.n_skipped, e.pinned, e.note, e.evicted_at,
    (SELECT group_concat(tag, char(31)) FROM (SELECT tag FROM tags t WHERE t.entry_id = e.id ORDER BY tag)),
    e.integrity,
    EXISTS (SELECT 1 FROM origins o WHERE o.entry_id = e.id AND o.kind = 'remote')";

pub(crate) fn entry_of(r: &Row<'_>) -> rusqlite::Result<Entry> {
    let tags: Option<String> = r.get(26)?;
    let expires_at: Option<String> = r.get(14)?;
    let evicted_at: Option<String> = r.get(25)?;
    // Evicted, from a Supervisor, and not past the server's retention (when known).
    let remote: bool = r.get(28)?;
    let downloadable =
        evicted_at.is_some() && remote && expires_at.as_deref().is_none_or(|x| x > now().as_str());
    Ok(Entry {
        id: r.get::<_, i64>(0)?.to_string(),
        sha256: r.get(1)?,
        size: r.get::<_, i64>(2)? as u64,
        kind: r.get(3)?,
        title: r.get(4)?,
        snapshot_name: r.get(5)?,
        deployment_id: r.get(6)?,
        deployment_name: r.get(7)?,
        node_id: r.get(8)?,
        host_name: r.get(9)?,
        created_at: r.get(10)?,
        completed_at: r.get(11)?,
        added_at: r.get(12)?,
        last_opened_at: r.get(13)?,
        expires_at,
        redacted: r.get(15)?,
        has_iggy: r.get(16)?,
        checks: StatusCounts {
            pass: r.get(17)?,
            warn: r.get(18)?,
            fail: r.get(19)?,
            info: r.get(20)?,
            error: r.get(21)?,
            skipped: r.get(22)?,
        },
        pinned: r.get(23)?,
        note: r.get(24)?,
        tags: tags
            .map(|t| t.split('\u{1f}').map(str::to_owned).collect())
            .unwrap_or_default(),
        evicted_at,
        downloadable,
        integrity: r
            .get::<_, Option<String>>(27)?
            .as_deref()
            .and_then(crate::model::integrity_of),
    })
}

/// Parses an id given as text.
pub fn parse_id(s: &str) -> Result<i64> {
    s.trim()
        .parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or_else(|| LibraryError::Invalid(format!("{s:?} is not an entry id")))
}

/// The `WHERE` clause (or nothing) selecting the entries `q` matches, over `entries e`;
/// check filters keep entries with a matching check.
pub(crate) fn where_clause(q: &Query, args: &mut Vec<Value>) -> String {
    where_clause_with(q, args, true)
}

/// [`where_clause`], with the match-alone form allowed or not (tests compare the two).
pub(crate) fn where_clause_with(q: &Query, args: &mut Vec<Value>, allow_covered: bool) -> String {
    let mut conds = Vec::new();
    q.entry_sql(&mut conds, args);
    if q.filters_checks() {
        let mut inner = Vec::new();
        let narrowed = q.fts_narrowed();
        // The match alone answers: the check conditions are in it (see below).
        let covered = allow_covered && narrowed.is_some() && q.fts_covers_checks();
        if !covered {
            q.check_sql(&mut inner, args);
        }
        // One pass over the matching checks, not one full-text query per entry: a correlated
        // `EXISTS (... MATCH ...)` ran the search once for each of 10,000 entries (3 s).
        let one_word = q.entry_terms_match().filter(|_| covered);
        let cond = match (narrowed, one_word) {
            // One word alone: the entries' own words answer, one row per entry (migration 8),
            // however many checks hold it.
            (_, Some(m)) => {
                args.push(Value::Text(m));
                "e.id IN (SELECT rowid FROM entry_terms WHERE entry_terms MATCH ?)".to_owned()
            }
            // The match says it all: each matching check's id tells its entry, no row is read
            // (a one-letter prefix matches nearly every check: 3 to 4 times faster than the
            // join below).
            (Some(m), None) if covered => {
                args.push(Value::Text(m));
                format!(
                    "e.id IN (SELECT checks_fts.rowid >> {} FROM checks_fts WHERE checks_fts MATCH ?)",
                    crate::db::CHECK_ID_BITS
                )
            }
            // Each match's status, entry and category from the covering index `checks_rank`
            // (found by id alone: the `+` keeps the planner from probing once per status),
            // not from the check's row: a third of the time on 400,000 checks.
            (Some(m), None) => {
                let mut inner: Vec<String> = inner.iter().map(|c| format!("+{c}")).collect();
                inner.push("checks_fts MATCH ?".into());
                args.push(Value::Text(m));
                format!(
                    "e.id IN (SELECT c.entry_id FROM checks_fts \
                     JOIN checks c INDEXED BY checks_rank ON c.id = checks_fts.rowid WHERE {})",
                    inner.join(" AND ")
                )
            }
            (None, None) => {
                inner.insert(0, "c.entry_id = e.id".to_owned());
                format!(
                    "EXISTS (SELECT 1 FROM checks c WHERE {})",
                    inner.join(" AND ")
                )
            }
        };
        conds.push(cond);
    }
    if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    }
}

/// A page of a list.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub offset: u32,
    pub limit: u32,
}

impl Default for Page {
    fn default() -> Self {
        Self {
            offset: 0,
            limit: 50,
        }
    }
}

impl Library {
    /// Entries matching `q`, newest first. Check filters keep entries with a matching check.
    pub fn list(&self, q: &Query, page: Page) -> Result<Vec<Entry>> {
        let mut args = Vec::new();
        let wh = where_clause(q, &mut args);
        args.push(Value::Integer(page.limit.into()));
        args.push(Value::Integer(page.offset.into()));
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM entries e {wh} ORDER BY e.added_at DESC, e.id DESC \
             LIMIT ? OFFSET ?"
        );
        let conn = self.lock();
        let mut st = conn.prepare_cached(&sql)?;
        let rows = st.query_map(params_from_iter(args), entry_of)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn entry(&self, id: i64) -> Result<Entry> {
        let conn = self.lock();
        conn.query_row(
            &format!("SELECT {ENTRY_COLUMNS} FROM entries e WHERE e.id = ?1"),
            [id],
            entry_of,
        )
        .optional()?
        .ok_or_else(|| LibraryError::NotFound(format!("no library entry {id}")))
    }

    pub fn show(&self, id: i64) -> Result<EntryDetail> {
        let entry = self.entry(id)?;
        let conn = self.lock();
        let mut st =
            conn.prepare("SELECT body, at FROM origins WHERE entry_id = ?1 ORDER BY id")?;
        let rows = st.query_map([id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut origins = Vec::new();
        for row in rows {
            let (body, at) = row?;
            if let Ok(origin) = serde_json::from_str(&body) {
                origins.push(OriginRecord { origin, at });
            }
        }
        let integrity_detail = conn
            .query_row(
                "SELECT integrity_detail FROM entries WHERE id = ?1",
                [id],
                |r| r.get::<_, Option<String>>(0),
            )?
            .and_then(|j| serde_json::from_str(&j).ok());
        Ok(EntryDetail {
            entry,
            origins,
            integrity_detail,
        })
    }

    /// Checks matching `q`, failures first, each with its entry and node.
    pub fn search(&self, q: &Query, limit: u32) -> Result<Vec<Hit>> {
        let mut conds = Vec::new();
        let mut args = Vec::new();
        // Two steps: the ranked ids of the matches first, reading only the covering index
        // `checks_rank` (status, entry, category) for each match, then the rows of the few
        // that are shown. Reading every match's row to rank it took most of a search's time.
        let from = match q.fts_narrowed() {
            Some(m) => {
                conds.push("checks_fts MATCH ?".to_owned());
                args.push(Value::Text(m));
                "checks_fts JOIN checks c INDEXED BY checks_rank ON c.id = checks_fts.rowid"
            }
            None => "checks c",
        };
        q.check_sql(&mut conds, &mut args);
        let mut entry_conds = Vec::new();
        q.entry_sql(&mut entry_conds, &mut args);
        let join_entries = if entry_conds.is_empty() {
            ""
        } else {
            "JOIN entries e ON e.id = c.entry_id"
        };
        conds.extend(entry_conds);
        let wh = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        args.push(Value::Integer(limit.into()));
        let order = "ORDER BY CASE c.status WHEN 'fail' THEN 0 WHEN 'error' THEN 1
                      WHEN 'warn' THEN 2 ELSE 3 END, c.entry_id DESC, c.id";
        let sql = format!(
            "WITH top AS (SELECT c.id FROM {from} {join_entries} {wh} {order} LIMIT ?)
             SELECT c.entry_id, c.check_id, c.category, c.title, c.status, c.summary,
                    e.snapshot_name, e.deployment_name, coalesce(e.node_id, e.host_name)
             FROM top JOIN checks c ON c.id = top.id JOIN entries e ON e.id = c.entry_id
             {order}"
        );
        let conn = self.lock();
        let mut st = conn.prepare_cached(&sql)?;
        let rows = st.query_map(params_from_iter(args), |r| {
            Ok(Hit {
                entry_id: r.get::<_, i64>(0)?.to_string(),
                check_id: r.get(1)?,
                category: r.get(2)?,
                title: r.get(3)?,
                status: r.get(4)?,
                summary: r.get(5)?,
                snapshot_name: r.get(6)?,
                deployment_name: r.get(7)?,
                node: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The stored archive of an entry, marked as opened now (what eviction goes by).
    pub fn open_entry(&self, id: i64) -> Result<PathBuf> {
        let e = self.entry(id)?;
        if e.evicted_at.is_some() {
            return Err(LibraryError::Evicted {
                id,
                downloadable: e.downloadable,
            });
        }
        self.write(Some(id), "opened", |tx| {
            tx.execute(
                "UPDATE entries SET last_opened_at = ?2 WHERE id = ?1",
                params![id, now()],
            )?;
            Ok(())
        })?;
        Ok(self.archive_path(&e.sha256))
    }

    /// Copies an entry's archive to `dest` (a file, or a directory for `<sha>.zip`),
    /// checking the copy's hash.
    pub fn export(&self, id: i64, dest: &Path, cancel: &Cancel) -> Result<PathBuf> {
        let e = self.entry(id)?;
        if e.evicted_at.is_some() {
            return Err(LibraryError::Evicted {
                id,
                downloadable: e.downloadable,
            });
        }
        let name = match (
            &e.snapshot_name,
            e.node_id.as_ref().or(e.host_name.as_ref()),
        ) {
            (Some(s), Some(n)) => format!("{s}-{n}.zip"),
            _ => format!("{}.zip", e.sha256),
        };
        let target = if dest.is_dir() {
            dest.join(snapdesk_core::paths::safe_file_part(&name))
        } else {
            dest.to_path_buf()
        };
        let partial = snapdesk_core::paths::partial_path(&target);
        let src = self.archive_path(&e.sha256);
        fs::copy(&src, &partial).map_err(io_err("write", partial.clone()))?;
        let (sha, _) = hash_file(&partial, cancel)?;
        if sha != e.sha256 {
            let _ = fs::remove_file(&partial);
            return Err(LibraryError::Invalid(format!(
                "the stored archive of entry {id} no longer matches its sha256; run a verify"
            )));
        }
        fs::rename(&partial, &target).map_err(io_err("write", target.clone()))?;
        Ok(target)
    }

    /// Runs `f` in one write transaction that also records the change.
    pub(crate) fn write<T>(
        &self,
        id: Option<i64>,
        what: &str,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(id) = id {
            let exists: Option<i64> = tx
                .query_row("SELECT id FROM entries WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            if exists.is_none() {
                return Err(LibraryError::NotFound(format!("no library entry {id}")));
            }
        }
        let v = f(&tx)?;
        record(&tx, id, what)?;
        tx.commit()?;
        Ok(v)
    }

    pub fn set_pinned(&self, id: i64, pinned: bool) -> Result<()> {
        self.write(Some(id), if pinned { "pinned" } else { "unpinned" }, |tx| {
            tx.execute(
                "UPDATE entries SET pinned = ?2 WHERE id = ?1",
                params![id, pinned],
            )?;
            Ok(())
        })
    }

    pub fn set_note(&self, id: i64, note: &str) -> Result<()> {
        self.write(Some(id), "note", |tx| {
            tx.execute(
                "UPDATE entries SET note = ?2 WHERE id = ?1",
                params![id, note],
            )?;
            Ok(())
        })
    }

    /// Adds and removes tags (trimmed, lowercase, no spaces).
    pub fn tag(&self, id: i64, add: &[String], remove: &[String]) -> Result<Vec<String>> {
        let norm = |t: &String| -> Result<String> {
            let t = t.trim().to_lowercase();
            if t.is_empty() || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(LibraryError::Invalid(format!(
                    "{t:?} is not a tag: one word, no spaces"
                )));
            }
            Ok(t)
        };
        self.write(Some(id), "tags", |tx| {
            for t in add {
                tx.execute(
                    "INSERT OR IGNORE INTO tags (entry_id, tag) VALUES (?1, ?2)",
                    params![id, norm(t)?],
                )?;
            }
            for t in remove {
                tx.execute(
                    "DELETE FROM tags WHERE entry_id = ?1 AND tag = ?2",
                    params![id, norm(t)?],
                )?;
            }
            Ok(())
        })?;
        Ok(self.entry(id)?.tags)
    }

    /// Removes an entry: catalog rows first (committed), then its archive; a crash between
    /// the two leaves an orphan file the next start removes.
    pub fn remove(&self, id: i64) -> Result<()> {
        let e = self.entry(id)?;
        {
            let mut conn = self.lock();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute("DELETE FROM entries WHERE id = ?1", [id])?;
            record(&tx, Some(id), "removed")?;
            tx.commit()?;
        }
        let path = self.archive_path(&e.sha256);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(io_err("remove", path)(err)),
        }
    }
}

//! The store: archives under `archives/<first two hex>/<sha256>.zip`, never edited in place,
//! and a `tmp/` directory for files being written. An archive reaches its final name only
//! by a rename made inside the catalog transaction that inserts its entry, while that
//! transaction holds SQLite's write lock; so any other process that takes the lock sees
//! either both (committed) or neither (the rename is undone, or the process died and the
//! file is an orphan that the next start removes under the same lock).
//!
//! Copies are hashed while they are written and not fsynced: a killed process leaves only a
//! temp file, cleaned at the next start. (A power cut could lose a committed archive's last
//! pages; `verify` finds it.)

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};
use snapdesk_core::Cancel;

use crate::catalog::{self, Described};
use crate::db;
use crate::error::{io_err, LibraryError, Result};
use crate::model::{Imported, Origin};

/// The default size budget of stored archives.
pub const DEFAULT_BUDGET: u64 = 10 * 1024 * 1024 * 1024;

/// Resume files of a download are kept this long before a start removes them.
const KEEP_PARTIAL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The library: one directory, one catalog. Cheap to share between threads (one connection
/// behind a mutex; SQLite's WAL lets other processes read meanwhile).
pub struct Library {
    root: PathBuf,
    pub(crate) conn: Mutex<Connection>,
}

impl std::fmt::Debug for Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Library").field("root", &self.root).finish()
    }
}

pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Library {
    /// Opens the library under `root` (`<data dir>/library`), creating it, migrating the
    /// catalog and cleaning what a killed process left.
    pub fn open(root: &Path) -> Result<Self> {
        Self::open_at_version(root, db::latest())
    }

    /// For tests of migrations: a catalog left at `version`.
    #[doc(hidden)]
    pub fn open_at_version(root: &Path, version: i64) -> Result<Self> {
        for d in [root.to_path_buf(), root.join("archives"), root.join("tmp")] {
            fs::create_dir_all(&d).map_err(io_err("create", d.clone()))?;
        }
        let mut conn = db::connect(&root.join("library.sqlite"))?;
        db::migrate_to(&mut conn, version)?;
        let lib = Self {
            root: root.to_path_buf(),
            conn: Mutex::new(conn),
        };
        if version == db::latest() {
            lib.clean_leftovers()?;
        }
        Ok(lib)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// Where the archive of `sha` is stored (whether or not it is, now).
    pub fn stored_path(&self, sha: &str) -> PathBuf {
        self.archive_path(sha)
    }

    pub(crate) fn archive_path(&self, sha: &str) -> PathBuf {
        self.root
            .join("archives")
            .join(&sha[..2.min(sha.len())])
            .join(format!("{sha}.zip"))
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock left a connection SQLite still guards itself.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Removes what a killed process left: temp files of dead processes, old resume files,
    /// and archives without a committed entry. Runs under the catalog's write lock so that
    /// no other process is between its rename and its commit meanwhile.
    pub fn clean_leftovers(&self) -> Result<Vec<PathBuf>> {
        let mut removed = Vec::new();
        let tmp = self.tmp_dir();
        for e in fs::read_dir(&tmp).map_err(io_err("read", tmp.clone()))? {
            let e = e.map_err(io_err("read", tmp.clone()))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let old = |age: Duration| {
                e.metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok())
                    .is_some_and(|a| a > age)
            };
            let stale = match owner_pid(&name) {
                // Our own imports: `imp-<pid>-...`; stale once that process is gone.
                Some(pid) => !process_alive(pid),
                // Downloads: resume files are kept a while on purpose.
                None => old(KEEP_PARTIAL),
            };
            if stale {
                let _ = fs::remove_file(e.path());
                removed.push(e.path());
            }
        }
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let known: std::collections::HashSet<String> = {
            let mut st = tx.prepare("SELECT sha256 FROM entries WHERE evicted_at IS NULL")?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for file in self.archive_files()? {
            let sha = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !known.contains(&sha) {
                fs::remove_file(&file).map_err(io_err("remove", file.clone()))?;
                removed.push(file);
            }
        }
        tx.commit()?;
        if !removed.is_empty() {
            tracing::info!(count = removed.len(), "library: removed leftovers");
        }
        Ok(removed)
    }

    /// Every file under `archives/`.
    pub(crate) fn archive_files(&self) -> Result<Vec<PathBuf>> {
        let mut out = Vec::new();
        let top = self.root.join("archives");
        for d in fs::read_dir(&top).map_err(io_err("read", top.clone()))? {
            let d = d.map_err(io_err("read", top.clone()))?.path();
            if !d.is_dir() {
                out.push(d);
                continue;
            }
            for f in fs::read_dir(&d).map_err(io_err("read", d.clone()))? {
                out.push(f.map_err(io_err("read", d.clone()))?.path());
            }
        }
        Ok(out)
    }

    /// A fresh temp file name owned by this process.
    pub fn temp_path(&self, what: &str) -> PathBuf {
        let mut p = self.temp_file(what).into_os_string();
        p.push(".partial");
        PathBuf::from(p)
    }

    /// A fresh file name in `tmp/` owned by this process (`imp-<pid>-...-<what>`), for a
    /// writer that adds its own suffixes (the collector writes `<name>.partial` and renames):
    /// whatever it leaves when killed, the next start removes once this process is gone.
    pub fn temp_file(&self, what: &str) -> PathBuf {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        self.tmp_dir()
            .join(format!("imp-{}-{n}-{nanos:x}-{what}", std::process::id()))
    }

    /// Imports a ZIP from disk: copies it (hashing while writing), proves it sound, then
    /// stores and catalogs it in one transaction. The original is only read.
    pub fn import_file(&self, src: &Path, origin: Origin, cancel: &Cancel) -> Result<Imported> {
        let tmp = self.temp_path("copy");
        let shown = origin.shown();
        let r = copy_hashing(src, &tmp, cancel)
            .and_then(|(sha, size)| self.commit(&tmp, &sha, size, origin, cancel));
        let _ = fs::remove_file(&tmp);
        r.map_err(|e| e.renamed(&tmp, &shown))
    }

    /// Stores a file already written inside the library's `tmp/` (a download): hashed,
    /// proven sound, renamed and cataloged. The file is consumed either way.
    pub fn import_owned(&self, file: &Path, origin: Origin, cancel: &Cancel) -> Result<Imported> {
        let shown = origin.shown();
        let r = hash_file(file, cancel)
            .and_then(|(sha, size)| self.commit(file, &sha, size, origin, cancel));
        let _ = fs::remove_file(file);
        r.map_err(|e| e.renamed(file, &shown))
    }

    /// Stores a download already written inside the library's `tmp/` whose sha256 and size
    /// were taken while it was written: proven sound, renamed and cataloged without hashing
    /// it again. The file is consumed either way.
    pub fn import_hashed(
        &self,
        file: &Path,
        sha256: &str,
        size: u64,
        origin: Origin,
        cancel: &Cancel,
    ) -> Result<Imported> {
        let shown = origin.shown();
        let r = if sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            self.commit(file, &sha256.to_ascii_lowercase(), size, origin, cancel)
        } else {
            Err(LibraryError::Invalid(format!(
                "{sha256:?} is not a sha256 in hex"
            )))
        };
        let _ = fs::remove_file(file);
        r.map_err(|e| e.renamed(file, &shown))
    }

    fn commit(
        &self,
        tmp: &Path,
        sha: &str,
        size: u64,
        origin: Origin,
        cancel: &Cancel,
    ) -> Result<Imported> {
        let existing: Option<(i64, Option<String>)> = self
            .lock()
            .query_row(
                "SELECT id, evicted_at FROM entries WHERE sha256 = ?1",
                [sha],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        // Known bytes that are still stored need no second reading.
        if let Some((id, None)) = existing {
            let mut conn = self.lock();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            insert_origin(&tx, id, &origin)?;
            crate::changes::record(&tx, Some(id), "origin")?;
            tx.commit()?;
            drop(conn);
            return Ok(Imported {
                id: id.to_string(),
                sha256: sha.to_owned(),
                size,
                deduplicated: true,
                checks: self.check_count(id)?,
                evicted: Vec::new(),
            });
        }
        let fallback = match &origin {
            Origin::File { path } => Path::new(path)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.clone()),
            Origin::Remote {
                snapshot_name,
                snapshot_id,
                ..
            } => snapshot_name.clone().unwrap_or_else(|| snapshot_id.clone()),
            Origin::Collected { .. } => "local collection".to_owned(),
        };
        let described = catalog::describe(tmp, &fallback, cancel)?;
        let dest = self.archive_path(sha);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(io_err("create", parent.to_path_buf()))?;
        }
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have stored the same bytes while this one read them.
        let existing: Option<(i64, Option<String>)> = tx
            .query_row(
                "SELECT id, evicted_at FROM entries WHERE sha256 = ?1",
                [sha],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((id, None)) = existing {
            insert_origin(&tx, id, &origin)?;
            crate::changes::record(&tx, Some(id), "origin")?;
            tx.commit()?;
            return Ok(Imported {
                id: id.to_string(),
                sha256: sha.to_owned(),
                size,
                deduplicated: true,
                checks: described.checks.len() as u64,
                evicted: Vec::new(),
            });
        }
        let id = match existing {
            // An evicted entry gets its archive back; its rows, pins and notes stay.
            Some((id, Some(_))) => {
                tx.execute("UPDATE entries SET evicted_at = NULL WHERE id = ?1", [id])?;
                id
            }
            _ => insert_entry(&tx, sha, size, &described, &origin)?,
        };
        insert_origin(&tx, id, &origin)?;
        crate::analysis::record_at_import(&tx, id, &described.findings)?;
        crate::changes::record(&tx, Some(id), "added")?;
        fs::rename(tmp, &dest).map_err(io_err("store", dest.clone()))?;
        if let Err(e) = tx.commit() {
            let _ = fs::remove_file(&dest);
            return Err(e.into());
        }
        drop(conn);
        let evicted = self.enforce_budget()?;
        Ok(Imported {
            id: id.to_string(),
            sha256: sha.to_owned(),
            size,
            deduplicated: false,
            checks: described.checks.len() as u64,
            evicted,
        })
    }

    fn check_count(&self, id: i64) -> Result<u64> {
        Ok(self.lock().query_row(
            "SELECT count(*) FROM checks WHERE entry_id = ?1",
            [id],
            |r| r.get::<_, i64>(0),
        )? as u64)
    }
}

fn insert_entry(
    tx: &rusqlite::Transaction<'_>,
    sha: &str,
    size: u64,
    d: &Described,
    origin: &Origin,
) -> Result<i64> {
    let (dep_id, dep_name, node, snap, expires) = match origin {
        Origin::Remote {
            deployment_id,
            deployment_name,
            node_id,
            snapshot_name,
            expires_at,
            ..
        } => (
            Some(deployment_id.clone()),
            deployment_name.clone(),
            node_id.clone(),
            snapshot_name.clone(),
            expires_at.clone(),
        ),
        _ => (None, None, None, None, None),
    };
    let c = &d.counts;
    tx.execute(
        "INSERT INTO entries (sha256, size, kind, title, snapshot_name, deployment_id,
            deployment_name, node_id, host_name, created_at, completed_at, added_at,
            expires_at, redacted, has_iggy, n_pass, n_warn, n_fail, n_info, n_error, n_skipped,
            integrity, integrity_detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
            ?18, ?19, ?20, ?21, ?22, ?23)",
        params![
            sha,
            size as i64,
            d.kind,
            d.title,
            d.snapshot_name.clone().or(snap),
            d.deployment_id.clone().or(dep_id),
            d.deployment_name.clone().or(dep_name),
            d.node_id.clone().or(node),
            d.host_name,
            d.created_at,
            d.completed_at,
            now(),
            expires,
            d.redacted,
            d.has_iggy,
            c.pass,
            c.warn,
            c.fail,
            c.info,
            c.error,
            c.skipped,
            crate::model::integrity_str(d.integrity.state),
            serde_json::to_string(&d.integrity).ok()
        ],
    )?;
    let id = tx.last_insert_rowid();
    let mut st = tx.prepare(
        "INSERT INTO checks (id, entry_id, check_id, category, title, status, summary, facts)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    // A check's id tells its entry (see `db::CHECK_ID_BITS`).
    let max = (1i64 << crate::db::CHECK_ID_BITS) - 1;
    if d.checks.len() as i64 > max {
        return Err(LibraryError::Invalid(format!(
            "a report with {} checks: the library keeps at most {max} per entry",
            d.checks.len()
        )));
    }
    for (n, k) in d.checks.iter().enumerate() {
        let facts = serde_json::to_string(&k.facts).unwrap_or_else(|_| "[]".into());
        let check = (id << crate::db::CHECK_ID_BITS) + n as i64 + 1;
        st.execute(params![
            check, id, k.check_id, k.category, k.title, k.status, k.summary, facts
        ])?;
    }
    // The entry's words (migration 8). A catalog left at an older version (the tests of
    // migrations) has no such index yet: migration 8 builds it from the checks.
    if crate::db::version(tx)? >= crate::db::ENTRY_TERMS_VERSION {
        tx.execute(crate::db::ENTRY_TERMS_INDEX, [id])?;
    }
    Ok(id)
}

pub(crate) fn insert_origin(tx: &rusqlite::Transaction<'_>, id: i64, o: &Origin) -> Result<()> {
    let context = match o {
        Origin::Remote { context, .. } => Some(context.clone()),
        _ => None,
    };
    let body = serde_json::to_string(o).map_err(|e| LibraryError::Invalid(e.to_string()))?;
    tx.execute(
        "INSERT INTO origins (entry_id, kind, body, context, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, o.kind(), body, context, now()],
    )?;
    if let Origin::Remote {
        expires_at: Some(e),
        ..
    } = o
    {
        tx.execute(
            "UPDATE entries SET expires_at = ?2 WHERE id = ?1",
            params![id, e],
        )?;
    }
    Ok(())
}

/// A temp file of an import whose process is gone.
pub(crate) fn is_dead_leftover(name: &str) -> bool {
    owner_pid(name).is_some_and(|pid| !process_alive(pid))
}

/// `imp-<pid>-...`: the pid of the process that owns a temp file.
fn owner_pid(name: &str) -> Option<u32> {
    name.strip_prefix("imp-")?.split('-').next()?.parse().ok()
}

fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        // Elsewhere no cheap check: treat it as alive; the age rule removes it later.
        true
    }
}

const CHUNK: usize = 1024 * 1024;

/// Copies `src` to `dst`, hashing the bytes as they are written.
fn copy_hashing(src: &Path, dst: &Path, cancel: &Cancel) -> Result<(String, u64)> {
    let mut input = File::open(src).map_err(io_err("open", src.to_path_buf()))?;
    let mut out = File::create(dst).map_err(io_err("write", dst.to_path_buf()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        cancel.check()?;
        let n = input
            .read(&mut buf)
            .map_err(io_err("read", src.to_path_buf()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(io_err("write", dst.to_path_buf()))?;
        size += n as u64;
    }
    Ok((hex::encode(h.finalize()), size))
}

pub(crate) fn hash_file(path: &Path, cancel: &Cancel) -> Result<(String, u64)> {
    let mut input = File::open(path).map_err(io_err("open", path.to_path_buf()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        cancel.check()?;
        let n = input
            .read(&mut buf)
            .map_err(io_err("read", path.to_path_buf()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex::encode(h.finalize()), size))
}

//! `library.sqlite`: WAL (readers never wait for the writer, so the app reads while the CLI
//! imports), a busy timeout (two processes write in turn instead of failing), foreign keys
//! (an entry's origins, tags and checks go with it), and numbered migrations, each applied in
//! one transaction with the version it reaches: a crash mid-migration leaves the previous
//! version whole.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::{LibraryError, Result};

/// The migrations, in order: `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
/// Never edit one that shipped; add the next.
pub const MIGRATIONS: &[&str] = &[
    // 1: entries, their origins and tags, and every check with a full-text index.
    r#"
    CREATE TABLE entries (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        snapshot_name TEXT,
        deployment_id TEXT,
        deployment_name TEXT,
        node_id TEXT,
        host_name TEXT,
        created_at TEXT,
        completed_at TEXT,
        added_at TEXT NOT NULL,
        last_opened_at TEXT,
        expires_at TEXT,
        redacted INTEGER,
        has_iggy INTEGER NOT NULL,
        n_pass INTEGER NOT NULL, n_warn INTEGER NOT NULL, n_fail INTEGER NOT NULL,
        n_info INTEGER NOT NULL, n_error INTEGER NOT NULL, n_skipped INTEGER NOT NULL,
        pinned INTEGER NOT NULL DEFAULT 0,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE origins (
        id INTEGER PRIMARY KEY,
        entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        context TEXT,
        at TEXT NOT NULL
    );
    CREATE INDEX origins_entry ON origins(entry_id);
    CREATE TABLE tags (
        entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
        tag TEXT NOT NULL,
        PRIMARY KEY (entry_id, tag)
    );
    CREATE TABLE checks (
        id INTEGER PRIMARY KEY,
        entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
        check_id TEXT NOT NULL,
        category TEXT NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        summary TEXT NOT NULL,
        facts TEXT NOT NULL
    );
    CREATE INDEX checks_entry ON checks(entry_id);
    CREATE INDEX checks_status ON checks(status, entry_id);
    CREATE VIRTUAL TABLE checks_fts USING fts5(
        check_id, category, title, summary, facts,
        content='checks', content_rowid='id'
    );
    CREATE TRIGGER checks_ai AFTER INSERT ON checks BEGIN
        INSERT INTO checks_fts(rowid, check_id, category, title, summary, facts)
        VALUES (new.id, new.check_id, new.category, new.title, new.summary, new.facts);
    END;
    CREATE TRIGGER checks_ad AFTER DELETE ON checks BEGIN
        INSERT INTO checks_fts(checks_fts, rowid, check_id, category, title, summary, facts)
        VALUES ('delete', old.id, old.check_id, old.category, old.title, old.summary, old.facts);
    END;
    "#,
    // 2: eviction (rows kept, archive gone), settings (the size budget), and the change log
    // another process polls to see this one's writes without a restart.
    r#"
    ALTER TABLE entries ADD COLUMN evicted_at TEXT;
    CREATE INDEX entries_lru ON entries(pinned, evicted_at, last_opened_at);
    CREATE INDEX entries_added ON entries(added_at);
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        entry_id INTEGER,
        what TEXT NOT NULL,
        at TEXT NOT NULL
    );
    "#,
    // 3: whether the archive's entries matched its manifest when it was stored (`verified`,
    // `mismatch`, `unverifiable`; NULL for entries stored before this was recorded) and what
    // differed, as JSON.
    r#"
    ALTER TABLE entries ADD COLUMN integrity TEXT;
    ALTER TABLE entries ADD COLUMN integrity_detail TEXT;
    CREATE INDEX entries_integrity ON entries(integrity);
    "#,
    // 4: covering indexes for a search's ranking (status and entry of every full-text match,
    // without reading the check's row) and for list filters on checks (an entry's checks of
    // a status and category, without reading the rows).
    r#"
    CREATE INDEX checks_rank ON checks(id, status, entry_id, category);
    CREATE INDEX checks_entry_status ON checks(entry_id, status, category);
    "#,
    // 5: what the analyzers that need no live host found in each entry, and which versions last ran.
    r#"
    CREATE TABLE analysis_findings (
        entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
        finding_id TEXT NOT NULL,
        analyzer TEXT NOT NULL,
        version INTEGER NOT NULL,
        severity TEXT NOT NULL,
        title TEXT NOT NULL,
        detail TEXT NOT NULL,
        count INTEGER NOT NULL,
        first_at TEXT NOT NULL,
        is_new INTEGER NOT NULL,
        PRIMARY KEY (entry_id, finding_id)
    );
    CREATE TABLE analysis_state (
        entry_id INTEGER PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
        versions TEXT NOT NULL,
        at TEXT NOT NULL
    );
    "#,
    // 6: a check's id tells its entry (`entry_id << CHECK_ID_BITS | n`), so a full-text match
    // maps to its entry without reading a row: a one-letter prefix matches nearly every check
    // of a large library, and joining 400,000 matches to their rows cost 100 to 150 ms per
    // keystroke. The full-text index is rebuilt with prefix indexes for one and two letters.
    r#"
    DROP TRIGGER checks_ai;
    DROP TRIGGER checks_ad;
    DROP TABLE checks_fts;
    CREATE TEMP TABLE checks_renumbered (old_id INTEGER PRIMARY KEY, new_id INTEGER NOT NULL);
    INSERT INTO checks_renumbered
        SELECT id, (entry_id << 20) + row_number() OVER (PARTITION BY entry_id ORDER BY id)
        FROM checks;
    UPDATE checks SET id = -(SELECT new_id FROM checks_renumbered WHERE old_id = checks.id);
    UPDATE checks SET id = -id;
    DROP TABLE checks_renumbered;
    CREATE VIRTUAL TABLE checks_fts USING fts5(
        check_id, category, title, summary, facts,
        content='checks', content_rowid='id', prefix='1 2'
    );
    INSERT INTO checks_fts(checks_fts) VALUES('rebuild');
    CREATE TRIGGER checks_ai AFTER INSERT ON checks BEGIN
        INSERT INTO checks_fts(rowid, check_id, category, title, summary, facts)
        VALUES (new.id, new.check_id, new.category, new.title, new.summary, new.facts);
    END;
    CREATE TRIGGER checks_ad AFTER DELETE ON checks BEGIN
        INSERT INTO checks_fts(checks_fts, rowid, check_id, category, title, summary, facts)
        VALUES ('delete', old.id, old.check_id, old.category, old.title, old.summary, old.facts);
    END;
    "#,
    // 7: a check's status in the full-text index, so that a status filter with free text is
    // one pass over the index too (`status:fail n` joined 50,000 rows per keystroke: 115 to
    // 175 ms). The indexed value is the status behind U+E000 (`status_key`), a token no free
    // text can start with (the query drops that character), so typing "fail" still finds the
    // words, not every failing check.
    r#"
    ALTER TABLE checks ADD COLUMN status_key TEXT GENERATED ALWAYS AS (char(57344) || status) VIRTUAL;
    DROP TRIGGER checks_ai;
    DROP TRIGGER checks_ad;
    DROP TABLE checks_fts;
    CREATE VIRTUAL TABLE checks_fts USING fts5(
        check_id, category, title, summary, facts, status_key,
        content='checks', content_rowid='id', prefix='1 2'
    );
    INSERT INTO checks_fts(checks_fts) VALUES('rebuild');
    CREATE TRIGGER checks_ai AFTER INSERT ON checks BEGIN
        INSERT INTO checks_fts(rowid, check_id, category, title, summary, facts, status_key)
        VALUES (new.id, new.check_id, new.category, new.title, new.summary, new.facts,
                new.status_key);
    END;
    CREATE TRIGGER checks_ad AFTER DELETE ON checks BEGIN
        INSERT INTO checks_fts(checks_fts, rowid, check_id, category, title, summary, facts,
                               status_key)
        VALUES ('delete', old.id, old.check_id, old.category, old.title, old.summary, old.facts,
                old.status_key);
    END;
    "#,
    // 8: the words of each entry's checks, one document per entry (`entry_terms`), for a
    // query of one word alone. Such a query matches every check of a large library when it
    // is a letter or two, or a word every check holds ("node"): 400,000 check ids to fold
    // into 10,000 entries took 60 to 100 ms per keystroke. Here its answer is the entries
    // themselves. Only the words are kept (no text, no positions); `ENTRY_TERMS_INDEX` adds
    // an entry's words once its checks are in, and removing the entry removes them.
    r#"
    CREATE VIRTUAL TABLE entry_terms USING fts5(
        terms, content='', contentless_delete=1, detail=none, prefix='1 2'
    );
    INSERT INTO entry_terms(rowid, terms)
        SELECT entry_id, group_concat(concat_ws(' ', check_id, category, title, summary, facts), ' ')
        FROM checks GROUP BY entry_id;
    CREATE TRIGGER entries_terms_ad AFTER DELETE ON entries BEGIN
        DELETE FROM entry_terms WHERE rowid = old.id;
    END;
    "#,
];

/// The schema version that has `entry_terms`.
pub const ENTRY_TERMS_VERSION: i64 = 8;

/// Indexes the words of entry `?1`'s checks in `entry_terms` (migration 8): run once, after
/// the entry's checks are inserted, in the same transaction (an entry without checks gets no
/// row, as in the migration). Queries that use the index (`Query::entry_terms_match`) need
/// a catalog at this version: `Library::open` always migrates to the latest. The columns are those the
/// free text searches in `checks_fts`, so a one-word query finds the same entries in both.
pub const ENTRY_TERMS_INDEX: &str = "INSERT INTO entry_terms(rowid, terms) \
     SELECT ?1, group_concat(concat_ws(' ', check_id, category, title, summary, facts), ' ') \
     FROM checks WHERE entry_id = ?1 HAVING count(*) > 0";

/// The character in front of a check's status in the full-text index (migration 7): a
/// private-use code point, a letter to the tokenizer, that free text never holds.
pub const STATUS_KEY_MARK: char = '\u{E000}';

/// How many low bits of a check's id number it within its entry (migration 6): an entry holds
/// at most 2^20 - 1 checks, and `id >> CHECK_ID_BITS` is its entry.
pub const CHECK_ID_BITS: u32 = 20;

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Opens (creating) the catalog with the pragmas every connection needs.
pub fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // 32 MiB of page cache (the default is 2 MiB): a search over 400,000 checks reads a few
    // MiB of index pages, which should stay in memory from one query to the next.
    conn.pragma_update(None, "cache_size", -32768)?;
    Ok(conn)
}

pub fn version(conn: &Connection) -> Result<i64> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

/// Applies the migrations past the current version, up to `target`, each in its own
/// transaction that also sets `user_version`. Two processes starting at once: the second
/// waits on the write lock, then finds the work done.
pub fn migrate_to(conn: &mut Connection, target: i64) -> Result<()> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let v: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if v > latest() {
            return Err(LibraryError::TooNew {
                found: v,
                known: latest(),
            });
        }
        if v >= target {
            return Ok(());
        }
        tx.execute_batch(MIGRATIONS[v as usize])?;
        tx.pragma_update(None, "user_version", v + 1)?;
        tx.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_applies_from_every_earlier_version() {
        for start in 0..=latest() {
            let tmp = tempfile::tempdir().unwrap();
            let mut c = connect(&tmp.path().join("l.sqlite")).unwrap();
            migrate_to(&mut c, start).unwrap();
            assert_eq!(version(&c).unwrap(), start);
            migrate_to(&mut c, latest()).unwrap();
            assert_eq!(version(&c).unwrap(), latest());
            let fk: i64 = c
                .pragma_query_value(None, "foreign_keys", |r| r.get(0))
                .unwrap();
            let mode: String = c
                .pragma_query_value(None, "journal_mode", |r| r.get(0))
                .unwrap();
            assert_eq!((fk, mode.as_str()), (1, "wal"));
        }
    }

    #[test]
    fn a_failing_migration_leaves_the_previous_version_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let mut c = connect(&tmp.path().join("l.sqlite")).unwrap();
        migrate_to(&mut c, 1).unwrap();
        // What migration 2 would do, failing halfway: the transaction undoes the first half.
        let tx = c.transaction().unwrap();
        tx.execute_batch("ALTER TABLE entries ADD COLUMN evicted_at TEXT;")
            .unwrap();
        assert!(tx.execute_batch("CREATE TABLE entries (x);").is_err());
        drop(tx);
        assert_eq!(version(&c).unwrap(), 1);
        migrate_to(&mut c, latest()).unwrap();
        assert_eq!(version(&c).unwrap(), latest());
    }

    #[test]
    fn migration_6_renumbers_checks_by_entry_and_keeps_them_searchable() {
        let tmp = tempfile::tempdir().unwrap();
        let mut c = connect(&tmp.path().join("l.sqlite")).unwrap();
        migrate_to(&mut c, 5).unwrap();
        c.execute_batch(
            "INSERT INTO entries (id, sha256, size, kind, title, added_at, has_iggy, \
               n_pass, n_warn, n_fail, n_info, n_error, n_skipped) VALUES \
               (1, 'a', 1, 'k', 'a', '2026-01-01T00:00:00Z', 0, 0, 0, 0, 0, 0, 0), \
               (2, 'b', 1, 'k', 'b', '2026-01-01T00:00:00Z', 0, 0, 0, 0, 0, 0, 0); \
             INSERT INTO checks (entry_id, check_id, category, title, status, summary, facts) VALUES \
               (2, 'x.one', 'kernel', 'Swappiness', 'warn', 'high', '[]'), \
               (1, 'x.two', 'network', 'Resolver', 'pass', 'ok', '[]'), \
               (2, 'x.three', 'kernel', 'Map count', 'fail', 'low', '[]');",
        )
        .unwrap();
        migrate_to(&mut c, latest()).unwrap();
        let ids: Vec<(i64, i64)> = c
            .prepare("SELECT id, entry_id FROM checks ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            ids,
            vec![(1 << 20 | 1, 1), (2 << 20 | 1, 2), (2 << 20 | 2, 2)]
        );
        let found: Vec<i64> = c
            .prepare("SELECT rowid >> 20 FROM checks_fts WHERE checks_fts MATCH 'ma*' ORDER BY 1")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(found, vec![2]);
        // Migration 7: each status is one token of its own in the index, which the word
        // "fail" does not match.
        let by_status = |m: &str| -> i64 {
            c.query_row(
                "SELECT count(*) FROM checks_fts WHERE checks_fts MATCH ?1",
                [m],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(by_status("status_key : \"\u{E000}fail\""), 1);
        assert_eq!(
            by_status("status_key : (\"\u{E000}fail\" OR \"\u{E000}pass\")"),
            2
        );
        assert_eq!(by_status("\"fail\"* OR \"pass\"*"), 0);
        // Migration 8: each entry's words, from the checks it already had, not the status.
        let by_words = |m: &str| -> Vec<i64> {
            c.prepare("SELECT rowid FROM entry_terms WHERE entry_terms MATCH ?1 ORDER BY 1")
                .unwrap()
                .query_map([m], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        assert_eq!(by_words("\"ma\"*"), vec![2]);
        assert_eq!(by_words("\"x\"*"), vec![1, 2]);
        assert_eq!(by_words("\"resolver\""), vec![1]);
        assert_eq!(by_words("\"fail\"*"), Vec::<i64>::new());
        // The triggers came back: a deleted entry's checks leave the index.
        c.execute("DELETE FROM entries WHERE id = 2", []).unwrap();
        let left: i64 = c
            .query_row(
                "SELECT count(*) FROM checks_fts WHERE checks_fts MATCH 'kernel'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
        assert_eq!(by_words("\"kernel\""), Vec::<i64>::new());
        assert_eq!(by_words("\"x\"*"), vec![1]);
    }

    #[test]
    fn a_catalog_from_a_newer_build_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let mut c = connect(&tmp.path().join("l.sqlite")).unwrap();
        c.pragma_update(None, "user_version", latest() + 1).unwrap();
        assert!(matches!(
            migrate_to(&mut c, latest()),
            Err(LibraryError::TooNew { .. })
        ));
    }
}

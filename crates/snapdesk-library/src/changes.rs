//! How one process sees another's writes without a restart. Every write adds a row to
//! `changes` in its own transaction; a host remembers the last `seq` it saw and asks for
//! what came after. `PRAGMA data_version` is the cheap "did anything change" probe a host
//! can poll first: it moves when another connection commits.

use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::Result;
use crate::store::{now, Library};

/// One write to the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Change {
    #[ts(type = "number")]
    pub seq: i64,
    /// The entry it touched (`None` for library-wide changes such as the budget).
    pub entry_id: Option<String>,
    /// `added`, `origin`, `opened`, `pinned`, `unpinned`, `note`, `tags`, `removed`,
    /// `evicted`, `budget`.
    pub what: String,
    pub at: String,
}

pub(crate) fn record(tx: &rusqlite::Transaction<'_>, entry: Option<i64>, what: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO changes (entry_id, what, at) VALUES (?1, ?2, ?3)",
        params![entry, what, now()],
    )?;
    Ok(())
}

impl Library {
    /// The last change's sequence number (0 for none).
    pub fn last_change(&self) -> Result<i64> {
        Ok(self
            .lock()
            .query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
                r.get(0)
            })?)
    }

    /// Changes after `seq`, oldest first (at most 1,000: a host that fell further behind
    /// reloads everything).
    pub fn changes_since(&self, seq: i64) -> Result<Vec<Change>> {
        let conn = self.lock();
        let mut st = conn.prepare(
            "SELECT seq, entry_id, what, at FROM changes WHERE seq > ?1 ORDER BY seq LIMIT 1000",
        )?;
        let rows = st.query_map([seq], |r| {
            Ok(Change {
                seq: r.get(0)?,
                entry_id: r.get::<_, Option<i64>>(1)?.map(|i| i.to_string()),
                what: r.get(2)?,
                at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// SQLite's `data_version`: changes when another connection commits.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .lock()
            .pragma_query_value(None, "data_version", |r| r.get(0))?)
    }
}

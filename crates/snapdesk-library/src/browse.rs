//! What a library view shows: one sorted page of the entries a query matches, with how many
//! match in all and their checks' totals per status. One round trip to the catalog per
//! keystroke of the app's filter, so it has to stay cheap on a large library (the
//! `bench-library` script measures it).

use rusqlite::params_from_iter;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};
use snapdesk_report::StatusCounts;
use ts_rs::TS;

use crate::entries::{entry_of, where_clause, Page, ENTRY_COLUMNS};
use crate::error::{LibraryError, Result};
use crate::model::Entry;
use crate::query::Query;
use crate::store::Library;

/// The orders a list can be shown in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Newest in the library first.
    #[default]
    Added,
    /// Newest snapshot first (when it was taken; unknown last).
    Created,
    /// Most recently opened first; never opened last.
    Opened,
    /// Most failing checks (fail + error) first.
    Failures,
    /// Largest first.
    Size,
    /// By node (or host), A to Z.
    Node,
    /// By deployment, A to Z.
    Deployment,
}

impl Sort {
    pub const ALL: [Sort; 7] = [
        Sort::Added,
        Sort::Created,
        Sort::Opened,
        Sort::Failures,
        Sort::Size,
        Sort::Node,
        Sort::Deployment,
    ];

    fn order_by(self) -> &'static str {
        match self {
            Sort::Added => "e.added_at DESC, e.id DESC",
            Sort::Created => "e.created_at IS NULL, e.created_at DESC, e.id DESC",
            Sort::Opened => "e.last_opened_at IS NULL, e.last_opened_at DESC, e.id DESC",
            Sort::Failures => "(e.n_fail + e.n_error) DESC, e.n_warn DESC, e.added_at DESC",
            Sort::Size => "e.size DESC, e.id DESC",
            Sort::Node => {
                "coalesce(e.node_id, e.host_name) IS NULL, \
                 coalesce(e.node_id, e.host_name) COLLATE NOCASE, e.added_at DESC"
            }
            Sort::Deployment => {
                "coalesce(e.deployment_name, e.deployment_id) IS NULL, \
                 coalesce(e.deployment_name, e.deployment_id) COLLATE NOCASE, e.added_at DESC"
            }
        }
    }
}

impl std::str::FromStr for Sort {
    type Err = LibraryError;

    fn from_str(s: &str) -> Result<Self> {
        Sort::ALL
            .into_iter()
            .find(|v| v.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                let names: Vec<_> = Sort::ALL.iter().map(|v| v.as_str()).collect();
                LibraryError::Invalid(format!(
                    "unknown sort {s:?}: use one of {}",
                    names.join(", ")
                ))
            })
    }
}

impl Sort {
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Added => "added",
            Sort::Created => "created",
            Sort::Opened => "opened",
            Sort::Failures => "failures",
            Sort::Size => "size",
            Sort::Node => "node",
            Sort::Deployment => "deployment",
        }
    }
}

/// One page of a view and what the whole match holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Browse {
    pub items: Vec<Entry>,
    /// How many entries match in all.
    #[ts(type = "number")]
    pub total: u64,
    /// Checks per status, summed over every matching entry.
    pub totals: StatusCounts,
    /// Matching entries whose archive was evicted (catalog rows only).
    #[ts(type = "number")]
    pub evicted: u64,
}

impl Library {
    /// A sorted page of the entries `q` matches, the number that match and their totals.
    pub fn browse(&self, q: &Query, sort: Sort, page: Page) -> Result<Browse> {
        let mut args = Vec::new();
        let wh = where_clause(q, &mut args);
        let conn = self.lock();
        let (total, totals, evicted) = conn.query_row(
            &format!(
                "SELECT count(*), coalesce(sum(e.n_pass), 0), coalesce(sum(e.n_warn), 0), \
                 coalesce(sum(e.n_fail), 0), coalesce(sum(e.n_info), 0), \
                 coalesce(sum(e.n_error), 0), coalesce(sum(e.n_skipped), 0), \
                 coalesce(sum(e.evicted_at IS NOT NULL), 0) FROM entries e {wh}"
            ),
            params_from_iter(args.iter()),
            |r| {
                let n = |i: usize| -> rusqlite::Result<u32> {
                    Ok(u32::try_from(r.get::<_, i64>(i)?).unwrap_or(u32::MAX))
                };
                Ok((
                    r.get::<_, i64>(0)?,
                    StatusCounts {
                        pass: n(1)?,
                        warn: n(2)?,
                        fail: n(3)?,
                        info: n(4)?,
                        error: n(5)?,
                        skipped: n(6)?,
                    },
                    r.get::<_, i64>(7)?,
                ))
            },
        )?;
        args.push(Value::Integer(page.limit.into()));
        args.push(Value::Integer(page.offset.into()));
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM entries e {wh} ORDER BY {} LIMIT ? OFFSET ?",
            sort.order_by()
        );
        let mut st = conn.prepare_cached(&sql)?;
        let items = st
            .query_map(params_from_iter(args), entry_of)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Browse {
            items,
            total: total.unsigned_abs(),
            totals,
            evicted: evicted.unsigned_abs(),
        })
    }
}

//! What a library view shows: one sorted page of the entries a query matches, with how many
//! match in all and their checks' totals per status. One round trip to the catalog per
//! keystroke of the app's filter, so it has to stay cheap on a large library (the
//! `bench-library` script measures it).

use std::collections::HashMap;

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, Row};
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

    /// Each order ends with the id, so that pages never overlap nor skip an entry.
    fn order_by(self) -> &'static str {
        match self {
            Sort::Added => "e.added_at DESC, e.id DESC",
            Sort::Created => "e.created_at IS NULL, e.created_at DESC, e.id DESC",
            Sort::Opened => "e.last_opened_at IS NULL, e.last_opened_at DESC, e.id DESC",
            Sort::Failures => {
                "(e.n_fail + e.n_error) DESC, e.n_warn DESC, e.added_at DESC, e.id DESC"
            }
            Sort::Size => "e.size DESC, e.id DESC",
            Sort::Node => {
                "coalesce(e.node_id, e.host_name) IS NULL, \
                 coalesce(e.node_id, e.host_name) COLLATE NOCASE, e.added_at DESC, e.id DESC"
            }
            Sort::Deployment => {
                "coalesce(e.deployment_name, e.deployment_id) IS NULL, \
                 coalesce(e.deployment_name, e.deployment_id) COLLATE NOCASE, e.added_at DESC, \
                 e.id DESC"
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
    ///
    /// A query that filters by checks (free text, status, category) is costly to evaluate
    /// (a full-text pass over the matching checks, or a look at each entry's checks), so it
    /// is evaluated once: the page's ids with the count and totals as window aggregates over
    /// every match, then the page's rows by id. Measured on 10,000 entries and 400,000
    /// checks (`scripts/bench-library`): a status chip and free text, p95 124 ms as two
    /// statements (count, then page), about half as one. A query on the entries alone is
    /// cheap to count, and its page can stop early along an index: two statements are
    /// faster there (the whole list: p95 16 to 20 ms either way, one pass 3 times slower at
    /// the median).
    pub fn browse(&self, q: &Query, sort: Sort, page: Page) -> Result<Browse> {
        if q.filters_checks() {
            self.browse_one_pass(q, sort, page)
        } else {
            self.browse_two_statements(q, sort, page)
        }
    }

    fn browse_two_statements(&self, q: &Query, sort: Sort, page: Page) -> Result<Browse> {
        let mut args = Vec::new();
        let wh = where_clause(q, &mut args);
        let conn = self.lock();
        let (total, totals, evicted) = counted(&conn, &wh, &args)?;
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
            total,
            totals,
            evicted,
        })
    }

    fn browse_one_pass(&self, q: &Query, sort: Sort, page: Page) -> Result<Browse> {
        let mut args = Vec::new();
        let wh = where_clause(q, &mut args);
        args.push(Value::Integer(page.limit.into()));
        args.push(Value::Integer(page.offset.into()));
        let conn = self.lock();
        let sql = format!(
            "SELECT e.id, count(*) OVER (), sum(e.n_pass) OVER (), sum(e.n_warn) OVER (), \
             sum(e.n_fail) OVER (), sum(e.n_info) OVER (), sum(e.n_error) OVER (), \
             sum(e.n_skipped) OVER (), sum(e.evicted_at IS NOT NULL) OVER () \
             FROM entries e {wh} ORDER BY {} LIMIT ? OFFSET ?",
            sort.order_by()
        );
        let mut ids = Vec::new();
        let mut counts = None;
        {
            let mut st = conn.prepare_cached(&sql)?;
            let mut rows = st.query(params_from_iter(args.iter()))?;
            while let Some(r) = rows.next()? {
                ids.push(r.get::<_, i64>(0)?);
                if counts.is_none() {
                    counts = Some(counts_at(r, 1)?);
                }
            }
        }
        let (total, totals, evicted) = match counts {
            Some(c) => c,
            // No row on this page: nothing matches, or the page lies past the end.
            None if page.offset == 0 => (0, StatusCounts::default(), 0),
            None => {
                args.truncate(args.len() - 2);
                counted(&conn, &wh, &args)?
            }
        };
        let items = if ids.is_empty() {
            Vec::new()
        } else {
            let marks = vec!["?"; ids.len()].join(", ");
            let mut st = conn.prepare_cached(&format!(
                "SELECT {ENTRY_COLUMNS} FROM entries e WHERE e.id IN ({marks})"
            ))?;
            let mut items: Vec<Entry> = st
                .query_map(params_from_iter(ids.iter()), entry_of)?
                .collect::<rusqlite::Result<_>>()?;
            let at: HashMap<String, usize> = ids
                .iter()
                .enumerate()
                .map(|(i, id)| (id.to_string(), i))
                .collect();
            items.sort_by_key(|e| at.get(&e.id).copied().unwrap_or(usize::MAX));
            items
        };
        Ok(Browse {
            items,
            total,
            totals,
            evicted,
        })
    }
}

/// How many entries match `wh`, their checks per status, and how many are evicted.
fn counted(conn: &Connection, wh: &str, args: &[Value]) -> Result<(u64, StatusCounts, u64)> {
    Ok(conn.query_row(
        &format!(
            "SELECT count(*), coalesce(sum(e.n_pass), 0), coalesce(sum(e.n_warn), 0), \
             coalesce(sum(e.n_fail), 0), coalesce(sum(e.n_info), 0), \
             coalesce(sum(e.n_error), 0), coalesce(sum(e.n_skipped), 0), \
             coalesce(sum(e.evicted_at IS NOT NULL), 0) FROM entries e {wh}"
        ),
        params_from_iter(args.iter()),
        |r| counts_at(r, 0),
    )?)
}

/// The count, totals per status and evicted count in the 8 columns from `at`.
fn counts_at(r: &Row<'_>, at: usize) -> rusqlite::Result<(u64, StatusCounts, u64)> {
    let n = |i: usize| -> rusqlite::Result<u32> {
        Ok(u32::try_from(r.get::<_, i64>(at + i)?).unwrap_or(u32::MAX))
    };
    Ok((
        r.get::<_, i64>(at)?.unsigned_abs(),
        StatusCounts {
            pass: n(1)?,
            warn: n(2)?,
            fail: n(3)?,
            info: n(4)?,
            error: n(5)?,
            skipped: n(6)?,
        },
        r.get::<_, i64>(at + 7)?.unsigned_abs(),
    ))
}

#[cfg(test)]
mod tests {
    use snapdesk_core::Cancel;
    use snapdesk_report::sample::{sample_report, write_archive};
    use snapdesk_report::Status;

    use super::*;
    use crate::model::Origin;

    #[test]
    fn a_match_read_from_check_ids_finds_what_the_join_finds() {
        let tmp = tempfile::tempdir().unwrap();
        let lib = Library::open(&tmp.path().join("lib")).unwrap();
        for (n, checks) in [(1, 5), (2, 40), (3, 1)] {
            let mut r = sample_report(checks, 3);
            r.node_id = Some(format!("n{n}"));
            if n == 3 {
                // A foreign report's heading: "kernel" is one of its words, not its category.
                r.checks[0].category = "Kernel parameters".into();
            }
            let p = write_archive(&tmp.path().join(format!("{n}.zip")), &r, None).unwrap();
            let origin = Origin::File {
                path: p.display().to_string(),
            };
            lib.import_file(&p, origin, &Cancel::new()).unwrap();
        }
        let conn = lib.lock();
        // Every check's id tells its entry.
        let wrong: i64 = conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM checks WHERE id >> {} != entry_id",
                    crate::db::CHECK_ID_BITS
                ),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(wrong, 0);
        let ids = |q: &Query, covered: bool| -> Vec<i64> {
            let mut args = Vec::new();
            let wh = crate::entries::where_clause_with(q, &mut args, covered);
            let mut st = conn
                .prepare(&format!("SELECT e.id FROM entries e {wh} ORDER BY e.id"))
                .unwrap();
            st.query_map(params_from_iter(args), |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        let mut nonempty = 0;
        for text in [
            "s",
            "sa",
            "sample",
            "kernel",
            "nothing_here",
            "status:fail s",
            "status:pass,warn sampl",
            "status:skipped kernel",
            "status:error nothing_here",
        ] {
            let q = Query::parse(text).unwrap();
            assert!(q.fts_covers_checks(), "{text}");
            let (fast, join) = (ids(&q, true), ids(&q, false));
            assert_eq!(fast, join, "{text}");
            nonempty += usize::from(!fast.is_empty());
        }
        assert!(nonempty >= 6, "the queries matched too little to compare");
        // One word alone is answered by the entries' words (migration 8): the same entries
        // as the checks' index, for prefixes, whole words, words with punctuation around
        // them; a word of two tokens or of other scripts takes the checks' index.
        let mut by_terms = 0;
        for text in [
            "s", "sa", "sampl", "sample", "c", "check", "kernel", "node:", "(s)", "1", "zz", "a-b",
            "é",
        ] {
            let q = Query::parse(text).unwrap();
            by_terms += usize::from(q.entry_terms_match().is_some());
            let (fast, join) = (ids(&q, true), ids(&q, false));
            assert_eq!(fast, join, "{text}");
        }
        assert_eq!(by_terms, 11);
        // The match alone cannot tell a category from a word of one: the join decides.
        let q = Query::parse("category:kernel s").unwrap();
        assert!(!q.fts_covers_checks());
        assert_eq!(ids(&q, true), vec![1, 2]);
        let q = Query::parse("\"category:Kernel parameters\" s").unwrap();
        assert_eq!(ids(&q, true), vec![3]);
        // An entry removed leaves the entries' words with it.
        drop(conn);
        lib.remove(2).unwrap();
        let conn = lib.lock();
        let docs: i64 = conn
            .query_row("SELECT count(*) FROM entry_terms", [], |r| r.get(0))
            .unwrap();
        assert_eq!(docs, 2);
        let mut args = Vec::new();
        let wh = crate::entries::where_clause(&Query::parse("s").unwrap(), &mut args);
        let left: Vec<i64> = conn
            .prepare(&format!("SELECT e.id FROM entries e {wh} ORDER BY e.id"))
            .unwrap()
            .query_map(params_from_iter(args), |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(left, vec![1, 3]);
    }

    #[test]
    fn one_pass_and_two_statements_answer_alike_on_every_query_sort_and_page() {
        let tmp = tempfile::tempdir().unwrap();
        let lib = Library::open(&tmp.path().join("lib")).unwrap();
        use Status::*;
        let nodes: [(&str, &str, &[Status]); 6] = [
            ("n1", "alpha", &[Fail, Pass, Warn]),
            ("n2", "alpha", &[Pass, Pass]),
            ("n3", "beta", &[Error, Fail, Fail, Skipped]),
            ("n4", "beta", &[Warn, Info]),
            ("n5", "gamma", &[Fail]),
            ("n6", "gamma", &[Pass, Pass, Pass, Warn, Error]),
        ];
        for (node, dep, statuses) in nodes {
            let mut r = sample_report(statuses.len(), 3);
            r.node_id = Some(node.into());
            r.deployment_name = Some(dep.into());
            for (c, s) in r.checks.iter_mut().zip(statuses) {
                c.status = *s;
            }
            let p = write_archive(&tmp.path().join(format!("{node}.zip")), &r, None).unwrap();
            let origin = Origin::File {
                path: p.display().to_string(),
            };
            lib.import_file(&p, origin, &Cancel::new()).unwrap();
        }
        let mut compared = 0;
        for text in [
            "status:fail",
            "status:fail,error category:os",
            "sample",
            "status:warn sample",
            "deployment:beta sampl",
            "sample category:os",
            "sampl category:kernel,cpu status:fail,pass",
            "nothing_matches_this",
        ] {
            let q = Query::parse(text).unwrap();
            assert!(q.filters_checks(), "{text}");
            for sort in Sort::ALL {
                for (offset, limit) in [(0, 2), (2, 2), (4, 3), (6, 2), (50, 2), (0, 100)] {
                    let page = Page { offset, limit };
                    let one = lib.browse_one_pass(&q, sort, page).unwrap();
                    let two = lib.browse_two_statements(&q, sort, page).unwrap();
                    assert_eq!(one, two, "{text:?} {sort:?} {offset}+{limit}");
                    compared += usize::from(!one.items.is_empty());
                }
            }
        }
        assert!(compared > 100, "{compared} pages with entries compared");
        // Free text narrowed to a category inside the full-text index finds what the exact
        // category says: every entry's first check is in `os`, the fourth in `kernel`.
        let total = |text: &str| {
            let q = Query::parse(text).unwrap();
            lib.browse(&q, Sort::Added, Page::default()).unwrap().total
        };
        assert_eq!(total("sample category:os"), 6);
        assert_eq!(total("sample category:kernel"), 2);
        assert_eq!(total("sample category:kern"), 0, "a category is exact");
        // A page past the end still says how many match.
        let q = Query::parse("status:fail").unwrap();
        let past = lib
            .browse(
                &q,
                Sort::Added,
                Page {
                    offset: 50,
                    limit: 2,
                },
            )
            .unwrap();
        assert_eq!((past.items.len(), past.total, past.totals.fail), (0, 3, 4));
    }
}

//! Comparing what the catalog holds: two entries check by check, and the nodes of one
//! snapshot side by side. Both read the catalog only, so evicted entries compare too.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{LibraryError, Result};
use crate::model::{CheckRow, Entry};
use crate::store::Library;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StatusChange {
    pub check_id: String,
    pub title: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FactChange {
    pub check_id: String,
    pub key: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Two entries compared: `a` is before, `b` after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Diff {
    pub a: Entry,
    pub b: Entry,
    pub status_changed: Vec<StatusChange>,
    pub added: Vec<CheckRow>,
    pub gone: Vec<CheckRow>,
    pub facts_changed: Vec<FactChange>,
    #[ts(type = "number")]
    pub unchanged: u64,
}

/// One check across the nodes of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct MatrixRow {
    pub check_id: String,
    pub title: String,
    /// One status per node, in the order of `nodes`; `None` where the node lacks the check.
    pub statuses: Vec<Option<String>>,
    /// Not the same on every node.
    pub differs: bool,
}

/// The nodes of one snapshot side by side, differences first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Matrix {
    pub snapshot_name: String,
    /// Node ids (or host names), one per entry.
    pub nodes: Vec<String>,
    pub entry_ids: Vec<String>,
    pub rows: Vec<MatrixRow>,
}

fn rank(status: &str) -> u8 {
    match status {
        "fail" => 0,
        "error" => 1,
        "warn" => 2,
        "info" => 3,
        "skipped" => 4,
        _ => 5,
    }
}

impl Library {
    /// Every check of an entry, in report order.
    pub fn checks(&self, id: i64) -> Result<Vec<CheckRow>> {
        let conn = self.lock();
        let mut st = conn.prepare_cached(
            "SELECT check_id, category, title, status, summary, facts FROM checks
             WHERE entry_id = ?1 ORDER BY id",
        )?;
        let rows = st.query_map(params![id], |r| {
            let facts: String = r.get(5)?;
            Ok(CheckRow {
                entry_id: id.to_string(),
                check_id: r.get(0)?,
                category: r.get(1)?,
                title: r.get(2)?,
                status: r.get(3)?,
                summary: r.get(4)?,
                facts: serde_json::from_str(&facts).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Checks by id (the first of a repeated id wins: foreign reports may repeat titles).
    fn check_map(&self, id: i64) -> Result<BTreeMap<String, CheckRow>> {
        let mut m = BTreeMap::new();
        for c in self.checks(id)? {
            m.entry(c.check_id.clone()).or_insert(c);
        }
        Ok(m)
    }

    pub fn diff(&self, a: i64, b: i64) -> Result<Diff> {
        let (ea, eb) = (self.entry(a)?, self.entry(b)?);
        let (ca, cb) = (self.check_map(a)?, self.check_map(b)?);
        let mut d = Diff {
            a: ea,
            b: eb,
            status_changed: Vec::new(),
            added: Vec::new(),
            gone: Vec::new(),
            facts_changed: Vec::new(),
            unchanged: 0,
        };
        for (id, x) in &ca {
            let Some(y) = cb.get(id) else {
                d.gone.push(x.clone());
                continue;
            };
            let mut same = true;
            if x.status != y.status {
                same = false;
                d.status_changed.push(StatusChange {
                    check_id: id.clone(),
                    title: y.title.clone(),
                    before: x.status.clone(),
                    after: y.status.clone(),
                });
            }
            let fx: BTreeMap<&str, &str> = x
                .facts
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let fy: BTreeMap<&str, &str> = y
                .facts
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let keys: BTreeSet<&str> = fx.keys().chain(fy.keys()).copied().collect();
            for k in keys {
                let (before, after) = (fx.get(k), fy.get(k));
                if before != after {
                    same = false;
                    d.facts_changed.push(FactChange {
                        check_id: id.clone(),
                        key: k.to_owned(),
                        before: before.map(|s| (*s).to_owned()),
                        after: after.map(|s| (*s).to_owned()),
                    });
                }
            }
            if same {
                d.unchanged += 1;
            }
        }
        d.added = cb
            .iter()
            .filter(|(id, _)| !ca.contains_key(*id))
            .map(|(_, c)| c.clone())
            .collect();
        // Worse outcomes first.
        d.status_changed
            .sort_by_key(|c| (rank(&c.after), c.check_id.clone()));
        Ok(d)
    }

    /// The nodes of the snapshot `name` (optionally of one deployment) side by side.
    pub fn matrix(&self, name: &str, deployment: Option<&str>) -> Result<Matrix> {
        let found: Vec<(i64, String, Option<String>)> = {
            let conn = self.lock();
            let mut st = conn.prepare(
                "SELECT id, coalesce(node_id, host_name, CAST(id AS TEXT)),
                        coalesce(deployment_name, deployment_id) FROM entries
                 WHERE snapshot_name = ?1 AND (?2 IS NULL OR deployment_id = ?2
                       OR deployment_name = ?2)
                 ORDER BY node_id, host_name, id",
            )?;
            let rows = st.query_map(params![name, deployment], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if found.is_empty() {
            return Err(LibraryError::NotFound(match deployment {
                Some(d) => {
                    format!("no library entry of a snapshot named {name:?} in deployment {d}")
                }
                None => format!("no library entry of a snapshot named {name:?}"),
            }));
        }
        // Snapshot names are unique per deployment only: two deployments' nodes side by side
        // would read as one snapshot's.
        let deployments: std::collections::BTreeSet<&str> =
            found.iter().filter_map(|(_, _, d)| d.as_deref()).collect();
        if deployment.is_none() && deployments.len() > 1 {
            return Err(LibraryError::Invalid(format!(
                "snapshots named {name:?} come from {} deployments ({}): name one",
                deployments.len(),
                deployments.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
        let entries: Vec<(i64, String)> = found.into_iter().map(|(i, n, _)| (i, n)).collect();
        let mut by_check: BTreeMap<String, (String, Vec<Option<String>>)> = BTreeMap::new();
        for (i, (id, _)) in entries.iter().enumerate() {
            for (cid, c) in self.check_map(*id)? {
                let row = by_check
                    .entry(cid)
                    .or_insert_with(|| (c.title.clone(), vec![None; entries.len()]));
                row.1[i] = Some(c.status);
            }
        }
        let mut rows: Vec<MatrixRow> = by_check
            .into_iter()
            .map(|(check_id, (title, statuses))| {
                let differs = statuses.windows(2).any(|w| w[0] != w[1]);
                MatrixRow {
                    check_id,
                    title,
                    statuses,
                    differs,
                }
            })
            .collect();
        rows.sort_by_key(|r| {
            let worst = r
                .statuses
                .iter()
                .map(|s| s.as_deref().map(rank).unwrap_or(6))
                .min()
                .unwrap_or(6);
            (!r.differs, worst, r.check_id.clone())
        });
        Ok(Matrix {
            snapshot_name: name.to_owned(),
            nodes: entries.iter().map(|(_, n)| n.clone()).collect(),
            entry_ids: entries.iter().map(|(id, _)| id.to_string()).collect(),
            rows,
        })
    }
}

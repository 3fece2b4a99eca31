//! Which of a deployment's snapshot items the library already holds: what the app's
//! Deployments section marks on each node.

use std::collections::HashMap;

use crate::error::Result;
use crate::store::Library;

/// A library entry holding one node's archive of a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copy {
    pub entry: i64,
    /// The archive was evicted to stay within the budget (the catalog row stays).
    pub evicted: bool,
}

impl Library {
    /// Every entry downloaded from `deployment_id`, keyed by the snapshot item's id (the API
    /// gives one item per node). One query, whatever the number of items.
    pub fn copies_of_deployment(&self, deployment_id: &str) -> Result<HashMap<String, Copy>> {
        let conn = self.lock();
        let mut st = conn.prepare_cached(
            "SELECT json_extract(o.body, '$.snapshot_id'), e.id, e.evicted_at IS NOT NULL
               FROM origins o JOIN entries e ON e.id = o.entry_id
              WHERE o.kind = 'remote' AND json_extract(o.body, '$.deployment_id') = ?1",
        )?;
        let rows = st.query_map([deployment_id], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                Copy {
                    entry: r.get(1)?,
                    evicted: r.get(2)?,
                },
            ))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            if let (Some(snapshot), copy) = row? {
                out.insert(snapshot, copy);
            }
        }
        Ok(out)
    }

    /// The entries holding any of these snapshot items of `deployment_id`.
    pub fn entries_of_items(&self, deployment_id: &str, items: &[String]) -> Result<Vec<i64>> {
        let copies = self.copies_of_deployment(deployment_id)?;
        let mut ids: Vec<i64> = items
            .iter()
            .filter_map(|i| copies.get(i).map(|c| c.entry))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }
}

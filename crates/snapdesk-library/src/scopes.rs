//! What a scope picker offers: every deployment the library holds snapshots of, and every
//! host of local collections and imported files (entries without a deployment).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::Result;
use crate::store::Library;

/// One deployment with snapshots in the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DeploymentScope {
    /// Its id (or its name, when the archives carry no id).
    pub id: String,
    pub name: Option<String>,
    /// How many snapshots (by name) of it the library holds.
    #[ts(type = "number")]
    pub snapshots: u64,
}

/// One host of entries without a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct HostScope {
    pub name: String,
    #[ts(type = "number")]
    pub snapshots: u64,
}

/// Every scope the library can be looked at in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Scopes {
    pub deployments: Vec<DeploymentScope>,
    pub hosts: Vec<HostScope>,
}

impl Library {
    /// The deployments and hosts the library holds snapshots of, A to Z.
    pub fn scopes(&self) -> Result<Scopes> {
        let conn = self.lock();
        let mut st = conn.prepare_cached(
            "SELECT coalesce(deployment_id, deployment_name) AS d, max(deployment_name),
                    count(DISTINCT coalesce(snapshot_name, 'entry ' || id))
             FROM entries WHERE d IS NOT NULL GROUP BY d
             ORDER BY coalesce(max(deployment_name), d) COLLATE NOCASE",
        )?;
        let deployments = st
            .query_map([], |r| {
                Ok(DeploymentScope {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    snapshots: r.get::<_, i64>(2)?.unsigned_abs(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut st = conn.prepare_cached(
            "SELECT host_name, count(*) FROM entries
             WHERE host_name IS NOT NULL AND deployment_id IS NULL AND deployment_name IS NULL
             GROUP BY host_name ORDER BY host_name COLLATE NOCASE",
        )?;
        let hosts = st
            .query_map([], |r| {
                Ok(HostScope {
                    name: r.get(0)?,
                    snapshots: r.get::<_, i64>(1)?.unsigned_abs(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Scopes { deployments, hosts })
    }
}

//! Deleting some or all nodes of a snapshot. Two steps, so that a host can show what will go
//! and ask before it goes: [`plan`], then [`delete`].

use serde::Serialize;
use snapdesk_api::{Snapshot, SnapshotItem};
use snapdesk_core::{Cancel, Error, Result};
use ts_rs::TS;

use crate::target::Remote;
use crate::Selection;

/// The items a selection names. One node by id is taken as given (it is not listed first:
/// the server says whether it exists); a name must match a snapshot.
pub async fn plan(remote: &Remote, selection: &Selection) -> Result<Vec<u64>> {
    let dep = remote.deployment();
    match selection {
        Selection::Node(id) => Ok(vec![*id]),
        Selection::Items(ids) => Ok(ids.clone()),
        Selection::Name(n) => {
            let items = remote.client.list_all(dep, 4).await?;
            let group = Snapshot::group(items)
                .into_iter()
                .find(|g| &g.name == n)
                .ok_or_else(|| {
                    Error::not_found(format!("no snapshot named {n:?} in deployment {dep}"))
                })?;
            Ok(group.items.iter().map(|i: &SnapshotItem| i.id).collect())
        }
        Selection::NewestCompleted => Err(Error::invalid_input(
            "a delete names what it deletes: one snapshot id, or a snapshot name",
        )),
    }
}

/// One item that was not deleted, and why.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct NotDeleted {
    #[serde(with = "snapdesk_api::ids")]
    #[ts(type = "string")]
    pub snapshot_id: u64,
    pub error: Error,
}

/// What a delete did, item by item.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Deleted {
    #[ts(type = "Array<string>")]
    #[serde(serialize_with = "ids_as_strings")]
    pub deleted: Vec<u64>,
    pub failed: Vec<NotDeleted>,
}

fn ids_as_strings<S: serde::Serializer>(ids: &[u64], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(ids.iter().map(u64::to_string))
}

impl Deleted {
    /// The first failure, when any.
    pub fn error(&self) -> Option<Error> {
        self.failed.first().map(|f| f.error.clone())
    }
}

/// Deletes each item; one failing does not stop the others (a cancel does).
pub async fn delete(remote: &Remote, ids: &[u64], cancel: &Cancel) -> Deleted {
    let mut out = Deleted {
        deleted: Vec::new(),
        failed: Vec::new(),
    };
    for id in ids {
        if let Err(stop) = cancel.check() {
            out.failed.push(NotDeleted {
                snapshot_id: *id,
                error: stop.into(),
            });
            continue;
        }
        match remote
            .client
            .delete_snapshot(remote.deployment(), *id)
            .await
        {
            Ok(()) => out.deleted.push(*id),
            Err(e) => out.failed.push(NotDeleted {
                snapshot_id: *id,
                error: e.into(),
            }),
        }
    }
    out
}

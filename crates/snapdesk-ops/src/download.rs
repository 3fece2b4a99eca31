//! Downloading some or all nodes of a snapshot: which nodes, where, and what became of each.

use std::path::{Path, PathBuf};

use serde::Serialize;
use snapdesk_api::{ApiError, DownloadProgress, Snapshot, SnapshotItem, SnapshotState};
use snapdesk_core::paths::{output_file, partial_path, safe_file_part};
use snapdesk_core::{Cancel, Error, ErrorCode, Result};
use ts_rs::TS;

use crate::progress::{Progress, ProgressFn};
use crate::target::Remote;
use crate::Selection;

/// A newer snapshot that "the newest completed one" passed over, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Skipped {
    pub name: String,
    pub state: snapdesk_api::SnapshotState,
    pub reason: String,
}

/// What became of one node.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum NodeOutcome {
    Downloaded {
        #[ts(type = "string")]
        path: PathBuf,
        #[ts(type = "number")]
        bytes: u64,
        /// Bytes a previous, interrupted run had kept in `.partial` and this one reused.
        #[ts(type = "number | null")]
        resumed_from: Option<u64>,
        /// The archive's sha256, taken while it was written.
        sha256: String,
    },
    Failed {
        error: Error,
        /// A `.partial` file kept for the next run to resume, and its size.
        #[ts(type = "string | null")]
        kept_partial: Option<PathBuf>,
        #[ts(type = "number | null")]
        kept_bytes: Option<u64>,
    },
}

/// One node's result.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct NodeResult {
    #[serde(with = "snapdesk_api::ids")]
    #[ts(type = "string")]
    pub snapshot_id: u64,
    #[serde(with = "snapdesk_api::ids")]
    #[ts(type = "string")]
    pub node_id: u64,
    pub deployment_name: String,
    /// When the Supervisor created it (its retention counts from here).
    #[ts(type = "string")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(flatten)]
    pub outcome: NodeOutcome,
}

/// What a download run did, node by node.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct DownloadReport {
    /// The snapshot the nodes belong to.
    pub snapshot: String,
    /// Newer snapshots passed over when none was named.
    pub skipped_newer: Vec<Skipped>,
    pub nodes: Vec<NodeResult>,
}

impl DownloadReport {
    pub fn failed(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| matches!(n.outcome, NodeOutcome::Failed { .. }))
            .count()
    }

    /// The run's error: the first failure's, with the count when several nodes were tried.
    pub fn error(&self) -> Option<Error> {
        let mut first = self.nodes.iter().find_map(|n| match &n.outcome {
            NodeOutcome::Failed { error, .. } => Some(error.clone()),
            NodeOutcome::Downloaded { .. } => None,
        })?;
        if self.nodes.len() > 1 {
            first.message = format!(
                "{} of {} downloads failed; first: {}",
                self.failed(),
                self.nodes.len(),
                first.message
            );
        }
        Some(first)
    }
}

/// The items a selection names, the snapshot's name, and the newer snapshots passed over.
fn choose(
    items: Vec<SnapshotItem>,
    selection: &Selection,
    dep: u64,
) -> Result<(String, Vec<SnapshotItem>, Vec<Skipped>)> {
    match selection {
        Selection::Node(id) => {
            let item = items
                .into_iter()
                .find(|i| i.id == *id)
                .ok_or_else(|| Error::not_found(format!("no snapshot {id} in deployment {dep}")))?;
            Ok((item.name.clone(), vec![item], Vec::new()))
        }
        Selection::Name(n) => {
            let chosen: Vec<SnapshotItem> = Snapshot::group(items)
                .into_iter()
                .find(|g| &g.name == n)
                .map(|g| g.items)
                .ok_or_else(|| {
                    Error::not_found(format!("no snapshot named {n:?} in deployment {dep}"))
                })?;
            Ok((n.clone(), chosen, Vec::new()))
        }
        Selection::Items(ids) => {
            let chosen: Vec<SnapshotItem> =
                items.into_iter().filter(|i| ids.contains(&i.id)).collect();
            if let Some(missing) = ids.iter().find(|id| !chosen.iter().any(|i| i.id == **id)) {
                return Err(Error::not_found(format!(
                    "no snapshot {missing} in deployment {dep}"
                )));
            }
            let name = match chosen.first() {
                Some(first) if chosen.iter().all(|i| i.name == first.name) => first.name.clone(),
                Some(_) => {
                    return Err(Error::invalid_input(
                        "the nodes to download belong to more than one snapshot",
                    ))
                }
                None => return Err(Error::invalid_input("no node was chosen to download")),
            };
            Ok((name, chosen, Vec::new()))
        }
        Selection::NewestCompleted => {
            let mut skipped = Vec::new();
            for g in Snapshot::group(items) {
                if g.state == SnapshotState::Completed {
                    return Ok((g.name, g.items, skipped));
                }
                let reason = match g.state {
                    SnapshotState::Failed => {
                        let nodes: Vec<String> =
                            g.failed_nodes().map(|i| i.node_id.to_string()).collect();
                        format!("it ended without an archive on node {}", nodes.join(", "))
                    }
                    _ => format!(
                        "it is still processing ({}/{} nodes completed)",
                        g.completed_nodes(),
                        g.items.len()
                    ),
                };
                skipped.push(Skipped {
                    name: g.name,
                    state: g.state,
                    reason,
                });
            }
            let why: Vec<String> = skipped
                .iter()
                .map(|s| format!("{}: {}", s.name, s.reason))
                .collect();
            let mut e = Error::not_found(format!("deployment {dep} has no completed snapshot"));
            if !why.is_empty() {
                e = e.with_hint(format!(
                    "name a snapshot to download the nodes that completed ({})",
                    why.join("; ")
                ));
            }
            Err(e)
        }
    }
}

fn file_name(item: &SnapshotItem) -> String {
    format!("{}-{}.zip", safe_file_part(&item.name), item.node_id)
}

/// Where a node's archive goes: for one node `out` may be a file or a directory; for several
/// it is a directory; without it, the current directory.
fn destination(out: Option<&Path>, selection: &Selection, item: &SnapshotItem) -> PathBuf {
    let name = file_name(item);
    match (out, selection) {
        (Some(d), Selection::Node(_)) => output_file(Some(d), &name),
        (Some(d), _) => d.join(&name),
        (None, _) => PathBuf::from(&name),
    }
}

/// A node that has no archive to fetch, said without asking the server.
fn unavailable(item: &SnapshotItem) -> Option<Error> {
    if item.has_failed() {
        Some(
            Error::new(
                ErrorCode::Conflict,
                format!(
                    "node {}'s snapshot {} ended {} and has no archive",
                    item.node_id, item.id, item.status
                ),
            )
            .with_hint(
                "this node's snapshot failed on the Supervisor: download the nodes that \
                 completed, or create a new snapshot",
            ),
        )
    } else if !item.has_ended() {
        Some(
            Error::new(
                ErrorCode::Conflict,
                format!(
                    "node {}'s snapshot {} is still processing",
                    item.node_id, item.id
                ),
            )
            .with_hint("wait until the snapshot has completed"),
        )
    } else {
        None
    }
}

/// Downloads every selected node, one after the other; each gets its own result and a
/// failure does not stop the others (a cancel does).
pub async fn download(
    remote: &Remote,
    selection: &Selection,
    out: Option<&Path>,
    cancel: &Cancel,
    progress: ProgressFn<'_>,
) -> Result<DownloadReport> {
    let dep = remote.deployment();
    let items = remote.client.list_all(dep, 4).await?;
    let (snapshot, chosen, skipped_newer) = choose(items, selection, dep)?;
    let count = chosen.len();
    let mut nodes = Vec::with_capacity(count);
    for (n, item) in chosen.iter().enumerate() {
        if cancel.is_cancelled() {
            break;
        }
        let path = destination(out, selection, item);
        progress(Progress::NodeStarted {
            snapshot_id: item.id,
            node_id: item.node_id,
            index: n + 1,
            count,
            path: path.clone(),
        });
        let outcome = match unavailable(item) {
            Some(error) => NodeOutcome::Failed {
                error,
                kept_partial: None,
                kept_bytes: None,
            },
            None => fetch(remote, item, &path, cancel, progress).await,
        };
        progress(Progress::NodeFinished {
            snapshot_id: item.id,
            ok: matches!(outcome, NodeOutcome::Downloaded { .. }),
        });
        nodes.push(NodeResult {
            snapshot_id: item.id,
            node_id: item.node_id,
            deployment_name: item.deployment_name.clone(),
            created_at: item.created_at,
            outcome,
        });
    }
    Ok(DownloadReport {
        snapshot,
        skipped_newer,
        nodes,
    })
}

async fn fetch(
    remote: &Remote,
    item: &SnapshotItem,
    path: &Path,
    cancel: &Cancel,
    progress: ProgressFn<'_>,
) -> NodeOutcome {
    let id = item.id;
    let mut cb = move |p: DownloadProgress| {
        progress(Progress::Transfer {
            snapshot_id: id,
            downloaded: p.downloaded,
            total: p.total,
        });
    };
    let r = remote
        .client
        .download_cancellable(remote.deployment(), item.id, path, &mut cb, cancel)
        .await;
    match r {
        Ok(d) => NodeOutcome::Downloaded {
            path: d.path,
            bytes: d.bytes,
            resumed_from: d.resumed_from,
            sha256: d.sha256,
        },
        Err(e) => {
            let cancelled = matches!(e, ApiError::Cancelled);
            let partial = partial_path(path);
            let kept = std::fs::metadata(&partial).ok().map(|m| m.len());
            let mut error = Error::from(e);
            if cancelled {
                error.message = match kept {
                    Some(b) => format!(
                        "cancelled: {b} bytes of node {} kept in {}",
                        item.node_id,
                        partial.display()
                    ),
                    None => format!("cancelled before node {}'s archive started", item.node_id),
                };
                error = error.with_hint("the next download of this node resumes where it stopped");
            }
            NodeOutcome::Failed {
                error,
                kept_partial: kept.map(|_| partial),
                kept_bytes: kept,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: u64, node: u64, name: &str, t: &str, status: &str, ended: bool) -> SnapshotItem {
        SnapshotItem {
            id,
            tenant_id: None,
            division_id: None,
            environment_id: None,
            deployment_id: 1,
            node_id: node,
            deployment_name: "d".into(),
            name: name.into(),
            status: status.into(),
            created_at: t.parse().unwrap(),
            completed_at: ended.then(|| t.parse().unwrap()),
        }
    }

    #[test]
    fn the_newest_completed_snapshot_names_the_newer_ones_it_passed_over() {
        let items = vec![
            item(5, 1, "c", "2026-06-03T10:00:00Z", "processing", false),
            item(6, 2, "c", "2026-06-03T10:00:00Z", "completed", true),
            item(3, 1, "b", "2026-06-02T10:00:00Z", "completed", true),
            item(4, 2, "b", "2026-06-02T10:00:00Z", "failed", true),
            item(1, 1, "a", "2026-06-01T10:00:00Z", "completed", true),
            item(2, 2, "a", "2026-06-01T10:00:00Z", "completed", true),
        ];
        let (name, chosen, skipped) = choose(items, &Selection::NewestCompleted, 1).unwrap();
        assert_eq!(name, "a");
        assert_eq!(chosen.len(), 2);
        assert_eq!(skipped.len(), 2);
        assert_eq!(skipped[0].name, "c");
        assert!(
            skipped[0].reason.contains("still processing (1/2"),
            "{skipped:?}"
        );
        assert_eq!(skipped[1].name, "b");
        assert!(
            skipped[1].reason.contains("without an archive on node 2"),
            "{skipped:?}"
        );
    }

    #[test]
    fn a_failed_node_gets_a_hint_about_the_failed_node() {
        let failed = item(4, 2, "b", "2026-06-02T10:00:00Z", "failed", true);
        let e = unavailable(&failed).unwrap();
        let hint = e.hint.unwrap_or_default();
        assert!(
            hint.contains("failed") && !hint.contains("in progress"),
            "{hint}"
        );
        let done = item(3, 1, "b", "2026-06-02T10:00:00Z", "completed", true);
        assert!(unavailable(&done).is_none());
    }
}

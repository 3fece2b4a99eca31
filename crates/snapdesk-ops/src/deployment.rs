//! A deployment as a desktop host shows it: its snapshots grouped by name with each node's
//! place in the library, and the multi-step flows behind its buttons (create and follow,
//! download into the library, delete with the library copies, "Copy as curl").

use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use snapdesk_api::client::Operation;
use snapdesk_api::{CreateSnapshot, Plan, Snapshot, SnapshotState};
use snapdesk_core::{Cancel, Error, ErrorCode, Result};
use snapdesk_library::Library;
use ts_rs::TS;

use crate::contexts::Permissions;
use crate::delete::{self, NotDeleted};
use crate::download::NodeOutcome;
use crate::library::{download_into, Stored};
use crate::progress::{Progress, ProgressFn};
use crate::snapshots::{self, CreateOptions, Waited};
use crate::target::Remote;
use crate::Selection;

/// How long a host follows a create before it says the snapshot is still processing.
pub const FOLLOW_FOR: Duration = Duration::from_secs(30 * 60);

/// A node's archive in the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct LibraryCopy {
    /// The entry's id.
    #[serde(with = "snapdesk_api::ids")]
    #[ts(type = "string")]
    pub entry: u64,
    pub evicted: bool,
}

/// One node's item of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct NodeRow {
    /// The item's id (what download and delete take).
    #[serde(with = "snapdesk_api::ids")]
    #[ts(type = "string")]
    pub id: u64,
    #[serde(with = "snapdesk_api::ids")]
    #[ts(type = "string")]
    pub node_id: u64,
    /// The API's status, verbatim.
    pub status: String,
    #[ts(type = "string")]
    pub created_at: chrono::DateTime<Utc>,
    #[ts(type = "string | null")]
    pub completed_at: Option<chrono::DateTime<Utc>>,
    pub library: Option<LibraryCopy>,
}

/// The items of one trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SnapshotGroup {
    pub name: String,
    #[ts(type = "string")]
    pub created_at: chrono::DateTime<Utc>,
    /// When the last node ended, once every node has.
    #[ts(type = "string | null")]
    pub completed_at: Option<chrono::DateTime<Utc>>,
    pub state: SnapshotState,
    pub completed: usize,
    pub failed: usize,
    /// When the server deletes it, when the plan is known.
    #[ts(type = "string | null")]
    pub expires_at: Option<chrono::DateTime<Utc>>,
    pub nodes: Vec<NodeRow>,
}

/// What the Deployments section shows of one deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct DeploymentView {
    pub connection: String,
    #[serde(with = "snapdesk_api::ids")]
    #[ts(type = "string")]
    pub deployment: u64,
    /// From the API's `deployment_name` (empty while the deployment has no snapshot).
    pub deployment_name: String,
    pub plan: Option<Plan>,
    #[ts(type = "number | null")]
    pub retention_days: Option<i64>,
    /// Newest first.
    pub snapshots: Vec<SnapshotGroup>,
    #[ts(type = "string")]
    pub fetched_at: chrono::DateTime<Utc>,
    /// What the key may do here, when known.
    pub permissions: Option<Permissions>,
}

/// Lists every snapshot of the deployment and marks the nodes the library holds.
pub async fn view(
    remote: &Remote,
    lib: &Library,
    permissions: Option<Permissions>,
) -> Result<DeploymentView> {
    let dep = remote.deployment();
    let items = remote.client.list_all(dep, 4).await?;
    let copies = lib.copies_of_deployment(&dep.to_string())?;
    let plan = remote.target.plan;
    let deployment_name = items
        .iter()
        .find(|i| !i.deployment_name.is_empty())
        .map(|i| i.deployment_name.clone())
        .unwrap_or_default();
    let snapshots = group(items)
        .into_iter()
        .map(|s| {
            let completed_at = if s.state == SnapshotState::Processing {
                None
            } else {
                s.items.iter().filter_map(|i| i.completed_at).max()
            };
            SnapshotGroup {
                completed: s.completed_nodes(),
                failed: s.failed_nodes().count(),
                expires_at: plan.map(|p| p.expiry(s.created_at)),
                nodes: s
                    .items
                    .iter()
                    .map(|i| NodeRow {
                        id: i.id,
                        node_id: i.node_id,
                        status: i.status.to_string(),
                        created_at: i.created_at,
                        completed_at: i.completed_at,
                        library: copies.get(&i.id.to_string()).map(|c| LibraryCopy {
                            entry: u64::try_from(c.entry).unwrap_or_default(),
                            evicted: c.evicted,
                        }),
                    })
                    .collect(),
                name: s.name,
                created_at: s.created_at,
                completed_at,
                state: s.state,
            }
        })
        .collect();
    Ok(DeploymentView {
        connection: remote.target.context.clone(),
        deployment: dep,
        deployment_name,
        plan,
        retention_days: plan.map(Plan::retention_days),
        snapshots,
        fetched_at: Utc::now(),
        permissions,
    })
}

/// [`Snapshot::group`] in one pass over a map (a deployment of 1,000 nodes with 20
/// snapshots lists 20,000 items), newest first.
fn group(items: Vec<snapdesk_api::SnapshotItem>) -> Vec<Snapshot> {
    let mut by_name: std::collections::HashMap<String, Vec<snapdesk_api::SnapshotItem>> =
        std::collections::HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for item in items {
        match by_name.get_mut(&item.name) {
            Some(v) => v.push(item),
            None => {
                order.push(item.name.clone());
                by_name.insert(item.name.clone(), vec![item]);
            }
        }
    }
    let mut out: Vec<Snapshot> = order
        .into_iter()
        .filter_map(|n| by_name.remove(&n))
        .flat_map(Snapshot::group)
        .collect();
    out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.name.cmp(&a.name)));
    out
}

/// Creates a snapshot and follows it until every node ended. A 409 names the snapshot in
/// progress (`details.in_progress`), so a host can select it.
pub async fn create_and_follow(
    remote: &Remote,
    body: CreateSnapshot,
    follow_for: Duration,
    cancel: &Cancel,
    progress: ProgressFn<'_>,
) -> Result<Waited> {
    let created = match snapshots::create(remote, CreateOptions { body }, cancel).await {
        Ok(c) => c,
        Err(e) if e.code == ErrorCode::Conflict => return Err(name_in_progress(remote, e).await),
        Err(e) => return Err(e),
    };
    progress(Progress::Created {
        name: created.snapshot.name.clone(),
        nodes: created.snapshot.items.len(),
        request_id: created.request_id.clone(),
    });
    snapshots::wait(
        remote,
        Some(&created.snapshot.name),
        follow_for,
        cancel,
        progress,
    )
    .await
}

async fn name_in_progress(remote: &Remote, e: Error) -> Error {
    let Ok(items) = remote.client.list_all(remote.deployment(), 4).await else {
        return e;
    };
    let Some(busy) = group(items)
        .into_iter()
        .find(|s| s.state == SnapshotState::Processing)
    else {
        return e;
    };
    let mut details = match e.details.clone() {
        Some(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    details.insert("in_progress".into(), busy.name.clone().into());
    let message = format!(
        "a snapshot is already in progress on this deployment: {}",
        busy.name
    );
    Error {
        message,
        hint: Some(format!(
            "wait until {} has completed ({}/{} nodes so far), then create another",
            busy.name,
            busy.completed_nodes(),
            busy.items.len()
        )),
        details: Some(serde_json::Value::Object(details)),
        ..e
    }
}

/// One node of a download into the library.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct NodeDownload {
    #[serde(with = "snapdesk_api::ids")]
    #[ts(type = "string")]
    pub snapshot_id: u64,
    #[serde(with = "snapdesk_api::ids")]
    #[ts(type = "string")]
    pub node_id: u64,
    pub ok: bool,
    /// The library entry now holding it.
    pub entry: Option<String>,
    #[ts(type = "number | null")]
    pub bytes: Option<u64>,
    /// Bytes an interrupted download had kept and this one reused.
    #[ts(type = "number | null")]
    pub resumed_from: Option<u64>,
    pub error: Option<Error>,
}

/// What a download into the library did.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Downloaded {
    pub snapshot: String,
    pub nodes: Vec<NodeDownload>,
}

/// Downloads the items `ids` (all of one snapshot) into the library. A cancelled or failed
/// node keeps its partial file; the next download of it resumes.
pub async fn download(
    remote: &Remote,
    lib: &Library,
    ids: &[u64],
    cancel: &Cancel,
    progress: ProgressFn<'_>,
) -> Result<Downloaded> {
    let selection = match ids {
        [] => return Err(Error::invalid_input("no node was chosen to download")),
        [one] => Selection::Node(*one),
        // Any nodes of one snapshot: all of them, or the ones still to fetch.
        many => Selection::Items(many.to_vec()),
    };
    let stored = download_into(remote, lib, &selection, None, cancel, progress).await?;
    let mut library = stored.library.into_iter();
    let nodes = stored
        .download
        .nodes
        .into_iter()
        .map(|n| match n.outcome {
            NodeOutcome::Downloaded {
                bytes,
                resumed_from,
                ..
            } => {
                let (entry, error) = match library.next() {
                    Some(Stored::Yes { entry, .. }) => (Some(entry.id), None),
                    Some(Stored::No { error }) => (None, Some(error)),
                    None => (None, None),
                };
                NodeDownload {
                    snapshot_id: n.snapshot_id,
                    node_id: n.node_id,
                    ok: error.is_none(),
                    entry,
                    bytes: Some(bytes),
                    resumed_from,
                    error,
                }
            }
            NodeOutcome::Failed {
                error, kept_bytes, ..
            } => NodeDownload {
                snapshot_id: n.snapshot_id,
                node_id: n.node_id,
                ok: false,
                entry: None,
                bytes: kept_bytes,
                resumed_from: None,
                error: Some(error),
            },
        })
        .collect();
    Ok(Downloaded {
        snapshot: stored.download.snapshot,
        nodes,
    })
}

/// What a delete did on the server and in the library.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SnapshotsDeleted {
    #[ts(type = "Array<string>")]
    pub deleted: Vec<String>,
    pub failed: Vec<NotDeleted>,
    /// Library entries removed with them (only when asked).
    pub library_removed: Vec<String>,
}

/// Deletes the items on the server; with `also_library`, the library entries of the items
/// that were deleted go too. The library copies stay otherwise.
pub async fn delete(
    remote: &Remote,
    lib: &Library,
    ids: &[u64],
    also_library: bool,
    cancel: &Cancel,
) -> Result<SnapshotsDeleted> {
    if ids.is_empty() {
        return Err(Error::invalid_input("no snapshot was chosen to delete"));
    }
    let done = delete::delete(remote, ids, cancel).await;
    if done.deleted.is_empty() {
        if let Some(e) = done.error() {
            return Err(e);
        }
    }
    let deleted: Vec<String> = done.deleted.iter().map(u64::to_string).collect();
    let mut library_removed = Vec::new();
    if also_library {
        for entry in lib.entries_of_items(&remote.deployment().to_string(), &deleted)? {
            lib.remove(entry)?;
            library_removed.push(entry.to_string());
        }
    }
    Ok(SnapshotsDeleted {
        deleted,
        failed: done.failed,
        library_removed,
    })
}

/// A request a person may want to run by hand.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApiRequest {
    List,
    Create {
        redact_secrets: bool,
        include_iggy: bool,
    },
    Download {
        #[ts(type = "string")]
        id: String,
    },
    Delete {
        #[ts(type = "string")]
        id: String,
    },
}

/// The request as a curl command; the key is read from `$LD_API_KEY`, never written (so no
/// key is needed to describe a request, even one that fails).
pub fn curl(target: &crate::Target, request: &ApiRequest) -> Result<String> {
    let client = snapdesk_api::Client::new(
        &target.url,
        "key-read-from-LD_API_KEY",
        snapdesk_api::ClientOptions::default(),
    )?;
    let deployment = target.deployment;
    let id = crate::remote_desk::parse_id;
    let op = match request {
        ApiRequest::List => Operation::List {
            deployment,
            page: 1,
            results: snapdesk_api::client::MAX_PAGE_SIZE,
        },
        ApiRequest::Create {
            redact_secrets,
            include_iggy,
        } => Operation::Create {
            deployment,
            body: CreateSnapshot {
                redact_secrets: *redact_secrets,
                include_iggy: *include_iggy,
            },
            idempotency_key: snapdesk_api::client::new_idempotency_key(),
        },
        ApiRequest::Download { id: s } => Operation::DownloadUrl {
            deployment,
            snapshot: id(s)?,
        },
        ApiRequest::Delete { id: s } => Operation::Delete {
            deployment,
            snapshot: id(s)?,
        },
    };
    Ok(client.curl(&op))
}

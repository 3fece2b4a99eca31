//! Listing, creating and waiting for snapshots.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use serde::Serialize;
use snapdesk_api::client::{new_idempotency_key, MAX_PAGE_SIZE};
use snapdesk_api::{CreateSnapshot, Snapshot, SnapshotItem, SnapshotState};
use snapdesk_core::{Cancel, Error, ErrorCode, Result};
use ts_rs::TS;

use crate::progress::{Progress, ProgressFn};
use crate::target::Remote;

/// Pages fetched at once by the flows that need every item.
const LIST_CONCURRENCY: usize = 4;

/// One page of items, with the paging fields and where the page boundary cuts a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Listing {
    pub items: Vec<SnapshotItem>,
    pub page: u32,
    pub results: u32,
    pub total_pages: u32,
    #[ts(type = "number")]
    pub total_results: u64,
    /// The snapshot whose nodes began on the previous page, if the page starts inside one.
    pub continued_from_previous: Option<String>,
    /// The snapshot whose nodes go on on the next page, if the page ends inside one.
    pub continues_on_next: Option<String>,
}

/// One page. The items next to its edges are fetched one by one (a page of one item is the
/// item at that index) to say whether a snapshot is split across pages.
pub async fn list_page(remote: &Remote, page: u32, results: u32) -> Result<Listing> {
    let c = &remote.client;
    let dep = remote.deployment();
    let results = results.clamp(1, MAX_PAGE_SIZE);
    let p = c.list_snapshots(dep, page.max(1), results).await?;
    let first_index = u64::from(p.page.max(1) - 1) * u64::from(results);
    let item_at = |index: u64| async move {
        match u32::try_from(index + 1) {
            Ok(one_page) => c
                .list_snapshots(dep, one_page, 1)
                .await
                .map(|pg| pg.items.into_iter().next()),
            Err(_) => Ok(None),
        }
    };
    let mut continued_from_previous = None;
    if let (Some(first), true) = (p.items.first(), first_index > 0) {
        if let Some(before) = item_at(first_index - 1).await? {
            if before.name == first.name {
                continued_from_previous = Some(first.name.clone());
            }
        }
    }
    let mut continues_on_next = None;
    let next_index = first_index + p.items.len() as u64;
    if let (Some(last), true) = (p.items.last(), next_index < p.total_results) {
        if let Some(after) = item_at(next_index).await? {
            if after.name == last.name {
                continues_on_next = Some(last.name.clone());
            }
        }
    }
    Ok(Listing {
        page: p.page,
        results,
        total_pages: p.total_pages,
        total_results: p.total_results,
        items: p.items,
        continued_from_previous,
        continues_on_next,
    })
}

/// Every snapshot of the deployment, grouped, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct AllSnapshots {
    pub snapshots: Vec<Snapshot>,
    #[ts(type = "number")]
    pub total_results: u64,
}

pub async fn list_all(remote: &Remote) -> Result<AllSnapshots> {
    let items = remote
        .client
        .list_all(remote.deployment(), LIST_CONCURRENCY)
        .await?;
    Ok(AllSnapshots {
        total_results: items.len() as u64,
        snapshots: Snapshot::group(items),
    })
}

/// What to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CreateOptions {
    pub body: CreateSnapshot,
}

/// The snapshot a create started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Created {
    #[serde(flatten)]
    pub snapshot: Snapshot,
    /// The server replayed an earlier outcome of the same request.
    pub replayed: bool,
    pub request_id: Option<String>,
}

/// Creates a snapshot on every node and finds its items. The API answers `204` without a
/// body, so the items are the ones the list did not hold before the request (ids, not names:
/// a snapshot created by someone else at the same moment has other ids too, and then the
/// newest of the new snapshots is ours, since only one can be in progress).
pub async fn create(remote: &Remote, opts: CreateOptions, cancel: &Cancel) -> Result<Created> {
    let c = &remote.client;
    let dep = remote.deployment();
    let before: HashSet<u64> = c
        .list_all(dep, LIST_CONCURRENCY)
        .await?
        .iter()
        .map(|i| i.id)
        .collect();
    cancel.check()?;
    let key = new_idempotency_key();
    let outcome = c.create_snapshot(dep, opts.body, &key).await?;
    let after = c.list_all(dep, LIST_CONCURRENCY).await?;
    let fresh: Vec<SnapshotItem> = after
        .iter()
        .filter(|i| !before.contains(&i.id))
        .cloned()
        .collect();
    let snapshot = Snapshot::group(fresh).into_iter().next().ok_or_else(|| {
        Error::new(
            ErrorCode::Api,
            format!(
                "the Supervisor accepted the snapshot of deployment {dep}, but its list shows no \
                 new item"
            ),
        )
        .with_hint("list the snapshots in a moment; if none appears, create it again")
    })?;
    Ok(Created {
        snapshot,
        replayed: outcome.replayed,
        request_id: outcome.request_id,
    })
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum WaitEnd {
    Completed,
    /// Every node ended, some without an archive.
    Failed,
    TimedOut,
}

/// The snapshot as the wait last saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Waited {
    #[serde(flatten)]
    pub snapshot: Snapshot,
    pub end: WaitEnd,
}

impl Waited {
    /// The error a host reports when the wait did not end with every node completed.
    pub fn error(&self, timeout: Duration) -> Option<Error> {
        let s = &self.snapshot;
        match self.end {
            WaitEnd::Completed => None,
            WaitEnd::Failed => {
                let nodes: Vec<String> = s
                    .failed_nodes()
                    .map(|i| format!("node {} ({})", i.node_id, i.status))
                    .collect();
                Some(
                    Error::new(
                        ErrorCode::Api,
                        format!(
                            "{} finished, but not on every node: {}",
                            s.name,
                            nodes.join(", ")
                        ),
                    )
                    .with_hint(
                        "the nodes that completed can be downloaded by their snapshot ids; or \
                         create a new snapshot",
                    ),
                )
            }
            WaitEnd::TimedOut => Some(
                Error::new(
                    ErrorCode::Timeout,
                    format!(
                        "{} did not complete within {} s ({}/{} nodes)",
                        s.name,
                        timeout.as_secs(),
                        s.completed_nodes(),
                        s.items.len()
                    ),
                )
                .with_hint("wait longer: the snapshot goes on on the Supervisor"),
            ),
        }
    }
}

/// Polls until every node of `name` (default: the newest snapshot) ended, or `timeout`.
pub async fn wait(
    remote: &Remote,
    name: Option<&str>,
    timeout: Duration,
    cancel: &Cancel,
    progress: ProgressFn<'_>,
) -> Result<Waited> {
    let dep = remote.deployment();
    let start = Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        cancel.check()?;
        let items = remote.client.list_all(dep, LIST_CONCURRENCY).await?;
        let mut groups = Snapshot::group(items);
        let snapshot = match name {
            Some(n) => groups.into_iter().find(|g| g.name == n).ok_or_else(|| {
                Error::not_found(format!("no snapshot named {n:?} in deployment {dep}"))
            })?,
            None if groups.is_empty() => {
                return Err(Error::not_found(format!(
                    "deployment {dep} has no snapshots"
                )))
            }
            None => groups.swap_remove(0),
        };
        progress(Progress::Waiting {
            name: snapshot.name.clone(),
            completed: snapshot.completed_nodes(),
            failed: snapshot.failed_nodes().count(),
            total: snapshot.items.len(),
        });
        let end = match snapshot.state {
            SnapshotState::Completed => Some(WaitEnd::Completed),
            SnapshotState::Failed => Some(WaitEnd::Failed),
            SnapshotState::Processing if start.elapsed() >= timeout => Some(WaitEnd::TimedOut),
            SnapshotState::Processing => None,
        };
        if let Some(end) = end {
            return Ok(Waited { snapshot, end });
        }
        sleep(delay.min(timeout.saturating_sub(start.elapsed())), cancel).await?;
        delay = (delay * 3 / 2).min(Duration::from_secs(5));
    }
}

/// Sleeps, waking every 100 ms to honour a cancel.
pub(crate) async fn sleep(d: Duration, cancel: &Cancel) -> Result<()> {
    let end = Instant::now() + d;
    loop {
        cancel.check()?;
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        tokio::time::sleep(left.min(Duration::from_millis(100))).await;
    }
}

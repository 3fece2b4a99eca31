//! Snapshot processing: each node's archive is written when its due time comes (on the
//! emulator's clock), then the item says `completed` (or `failed`, when a fault says so).

use std::time::Duration;

use crate::model::ItemStatus;
use crate::state::{remove_files, App};

/// Restarts the processing of items left `processing` by a previous run.
pub(crate) fn resume_processing(app: &App) {
    let ids: Vec<u64> = {
        let inner = app.lock();
        inner
            .items
            .iter()
            .filter(|i| i.status == ItemStatus::Processing)
            .map(|i| i.id)
            .collect()
    };
    if !ids.is_empty() {
        tokio::spawn(process_items(app.clone(), ids));
    }
}

/// Completes items one by one, each when its due time (on the emulator clock) has come:
/// the archive is written first, then the item says `completed`.
pub(crate) async fn process_items(app: App, ids: Vec<u64>) {
    for id in ids {
        loop {
            let due = {
                let inner = app.lock();
                inner.items.iter().find(|i| i.id == id).map(|i| i.due_at)
            };
            let Some(due) = due else { break };
            let now = app.now();
            if now >= due {
                break;
            }
            let wait = (due - now)
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(Duration::from_millis(50));
            tokio::time::sleep(wait).await;
        }
        let item = {
            let inner = app.lock();
            inner.items.iter().find(|i| i.id == id).cloned()
        };
        let Some(item) = item else { continue };
        let Some(dep) = app.deployment(item.deployment_id).cloned() else {
            continue;
        };
        let completed_at = app.now();
        let path = app.archive_path(&item.file_name());
        let job_item = item.clone();
        let job_path = path.clone();
        let inject_failure = app.lock().take_node_failure();
        let result = tokio::task::spawn_blocking(move || {
            if inject_failure {
                return Err(anyhow::anyhow!("node failure injected by the emulator"));
            }
            crate::archives::write_node_archive(&job_path, &dep, &job_item, completed_at)
        })
        .await;
        let outcome = match result {
            Ok(Ok(size)) => Ok(size),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let orphan = {
            let mut inner = app.lock();
            let found = inner.items.iter_mut().find(|i| i.id == id);
            let orphan = match (found, &outcome) {
                (Some(it), Ok(size)) => {
                    it.status = ItemStatus::Completed;
                    it.completed_at = Some(completed_at);
                    it.file = Some(item.file_name());
                    it.size = *size;
                    false
                }
                (Some(it), Err(e)) => {
                    tracing::error!("snapshot {} failed: {e}", it.id);
                    it.status = ItemStatus::Failed;
                    it.completed_at = Some(completed_at);
                    false
                }
                // Deleted (or expired) while it was being written.
                (None, _) => true,
            };
            app.save(&inner);
            orphan
        };
        if orphan {
            remove_files(vec![path]).await;
        }
    }
}

//! Tauri commands of the Deployments section and Settings → Connections: adapters over
//! `snapdesk_ops::{connections, deployment}`. Progress goes out on the caller's channel from
//! the same callbacks the CLI draws bars with; long jobs run under the app's one registry.

use std::sync::Arc;

use snapdesk_api::CreateSnapshot;
use snapdesk_core::{Error, ErrorCode};
use snapdesk_ops::connections::{ConnectionDraft, Connections, Connector};
use snapdesk_ops::contexts::{self, ContextRemoved, ContextTest};
use snapdesk_ops::deployment::{self, ApiRequest, DeploymentView, Downloaded, SnapshotsDeleted};
use snapdesk_ops::snapshots::{WaitEnd, Waited};
use snapdesk_ops::{Cancel, Progress};
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_plugin_notification::NotificationExt;

use crate::AppState;

pub use snapdesk_ops::connections::Connection;

fn connector(state: &AppState) -> Arc<Connector> {
    state.connector.clone()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(format!("a background job failed: {e}")))?
}

fn ids(given: &[String]) -> Result<Vec<u64>, Error> {
    given
        .iter()
        .map(|s| {
            snapdesk_api::ids::parse_id(s)
                .map_err(|e| Error::invalid_input(format!("snapshot id {e}")))
        })
        .collect()
}

/// Every connection (the CLI's contexts and the demo) with where its key is, never the key.
#[tauri::command]
pub async fn connections_list(state: State<'_, AppState>) -> Result<Connections, Error> {
    let c = connector(&state);
    blocking(move || c.list()).await
}

/// Adds or changes a connection; its key goes to the keyring (or this session).
#[tauri::command]
pub async fn connection_save(
    state: State<'_, AppState>,
    draft: ConnectionDraft,
) -> Result<Connection, Error> {
    let c = connector(&state);
    blocking(move || c.save(draft)).await
}

/// Lists with the key, then asks whether it may manage (see `contexts::test`).
#[tauri::command]
pub async fn connection_test(
    state: State<'_, AppState>,
    name: String,
    deployment: Option<String>,
) -> Result<ContextTest, Error> {
    let c = connector(&state);
    let deployment = match deployment {
        Some(d) => d,
        None => c
            .get(&name)?
            .deployments
            .first()
            .map(|d| d.id.clone())
            .ok_or_else(|| {
                Error::invalid_input(format!("{name} knows no deployment to test against"))
                    .with_hint("add a deployment id to the connection")
            })?,
    };
    let remote = c.remote(&name, &deployment).await?;
    let test = contexts::test(&remote, true).await?;
    c.learn_permissions(&name, remote.deployment(), test.permissions);
    Ok(test)
}

#[tauri::command]
pub async fn connection_remove(
    state: State<'_, AppState>,
    name: String,
) -> Result<ContextRemoved, Error> {
    connector(&state).remove(&name).await
}

/// Starts the local demo Supervisor (once) and gives its connection.
#[tauri::command]
pub async fn demo_start(state: State<'_, AppState>) -> Result<Connection, Error> {
    connector(&state).start_demo().await
}

/// The deployment's snapshots grouped by name, each node marked when the library holds it.
/// The first view of a deployment in this session also asks what the key may do.
#[tauri::command]
pub async fn deployment_snapshots(
    state: State<'_, AppState>,
    connection: String,
    deployment: String,
) -> Result<DeploymentView, Error> {
    let c = connector(&state);
    let lib = state.library.clone()?;
    let remote = c.remote(&connection, &deployment).await?;
    let dep = remote.deployment();
    let permissions = match c.permissions(&connection, dep) {
        Some(p) => Some(p),
        None => match contexts::test(&remote, true).await {
            Ok(t) => {
                c.learn_permissions(&connection, dep, t.permissions);
                Some(t.permissions)
            }
            Err(e) if e.code == ErrorCode::Forbidden || e.code == ErrorCode::Unauthorized => {
                return Err(e)
            }
            Err(_) => None,
        },
    };
    let view = deployment::view(&remote, &lib, permissions).await?;
    if let Err(e) = c.remember_name(&connection, dep, &view.deployment_name) {
        tracing::warn!("the deployment's name was not recorded: {}", e.message);
    }
    Ok(view)
}

/// Creates a snapshot and follows it to its end; a desktop notification says how it ended.
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn snapshot_create<R: tauri::Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    connection: String,
    deployment: String,
    redact_secrets: bool,
    include_iggy: bool,
    job: String,
    on_progress: Channel<Progress>,
) -> Result<Waited, Error> {
    let c = connector(&state);
    let remote = c.remote(&connection, &deployment).await?;
    let job = state.viewer.jobs.start(Some(&job));
    let body = CreateSnapshot {
        redact_secrets,
        include_iggy,
    };
    let send = |p: Progress| {
        let _ = on_progress.send(p);
    };
    let r =
        deployment::create_and_follow(&remote, body, deployment::FOLLOW_FOR, &job.cancel, &send)
            .await;
    match &r {
        Ok(w) => {
            c.learn_permissions(
                &connection,
                remote.deployment(),
                contexts::Permissions {
                    read: true,
                    manage: Some(true),
                },
            );
            notify(&app, w);
        }
        Err(e) => c.learn_from_error(&connection, remote.deployment(), e),
    }
    r
}

fn notify<R: tauri::Runtime>(app: &AppHandle<R>, w: &Waited) {
    let s = &w.snapshot;
    let (title, body) = match w.end {
        WaitEnd::Completed => (
            format!("Snapshot {} completed", s.name),
            format!("All {} nodes have an archive to download.", s.items.len()),
        ),
        WaitEnd::Failed => {
            let failed: Vec<String> = s.failed_nodes().map(|i| i.node_id.to_string()).collect();
            (
                format!("Snapshot {} failed on {} nodes", s.name, failed.len()),
                format!("Failed nodes: {}", failed.join(", ")),
            )
        }
        WaitEnd::TimedOut => (
            format!("Snapshot {} is still processing", s.name),
            format!(
                "{}/{} nodes completed; it goes on on the Supervisor.",
                s.completed_nodes(),
                s.items.len()
            ),
        ),
    };
    if let Err(e) = app
        .notification()
        .builder()
        .title(&title)
        .body(&body)
        .show()
    {
        tracing::warn!("no desktop notification ({title}): {e}");
    }
}

/// Downloads one node, or every node of a snapshot, into the library; a cancelled node keeps
/// its partial file and the next download resumes it.
#[tauri::command]
pub async fn snapshot_download(
    state: State<'_, AppState>,
    connection: String,
    deployment: String,
    ids: Vec<String>,
    job: String,
    on_progress: Channel<Progress>,
) -> Result<Downloaded, Error> {
    let c = connector(&state);
    let lib = state.library.clone()?;
    let items = self::ids(&ids)?;
    let remote = c.remote(&connection, &deployment).await?;
    let job = state.viewer.jobs.start(Some(&job));
    let send = |p: Progress| {
        let _ = on_progress.send(p);
    };
    deployment::download(&remote, &lib, &items, &job.cancel, &send).await
}

/// Deletes server copies; the library copies go only when asked.
#[tauri::command]
pub async fn snapshot_delete(
    state: State<'_, AppState>,
    connection: String,
    deployment: String,
    ids: Vec<String>,
    also_library: bool,
) -> Result<SnapshotsDeleted, Error> {
    let c = connector(&state);
    let lib = state.library.clone()?;
    let items = self::ids(&ids)?;
    let remote = c.remote(&connection, &deployment).await?;
    let r = deployment::delete(&remote, &lib, &items, also_library, &Cancel::new()).await;
    if let Err(e) = &r {
        c.learn_from_error(&connection, remote.deployment(), e);
    }
    r
}

/// A request as a curl command with the key as `$LD_API_KEY`.
#[tauri::command]
pub fn request_curl(
    state: State<'_, AppState>,
    connection: String,
    deployment: String,
    request: ApiRequest,
) -> Result<String, Error> {
    let target = connector(&state).target(&connection, &deployment)?;
    deployment::curl(&target, &request)
}

/// Puts text on the system clipboard (a curl command, a request id): the page's own
/// clipboard API is refused by WebKitGTK.
#[tauri::command]
pub fn copy_text<R: tauri::Runtime>(app: AppHandle<R>, text: String) -> Result<(), Error> {
    use tauri_plugin_clipboard_manager::ClipboardExt;
    if text.len() > 4 * 1024 * 1024 {
        return Err(Error::invalid_input(
            "too much text to copy (4 MiB at most)",
        ));
    }
    app.clipboard().write_text(text).map_err(|e| {
        Error::new(
            ErrorCode::Unsupported,
            format!("the clipboard refused the text: {e}"),
        )
    })
}

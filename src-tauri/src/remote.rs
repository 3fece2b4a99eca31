//! Tauri commands of the Deployments section and Settings → Connections: adapters over
//! `snapdesk_ops::{connections, deployment}`. Progress goes out on the caller's channel from
//! the same callbacks the CLI draws bars with; long jobs run under the app's one registry.

use snapdesk_api::CreateSnapshot;
use snapdesk_core::{Error, ErrorCode};
use snapdesk_ops::connections::{ConnectionDraft, Connections};
use snapdesk_ops::contexts::{ContextRemoved, ContextTest};
use snapdesk_ops::deployment::{ApiRequest, DeploymentView, Downloaded, SnapshotsDeleted};
use snapdesk_ops::snapshots::Waited;
use snapdesk_ops::Progress;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_plugin_notification::NotificationExt;

use crate::commands::blocking;
use crate::AppState;

pub use snapdesk_ops::connections::Connection;

/// Every connection (the CLI's contexts and the demo) with where its key is, never the key.
#[tauri::command]
pub async fn connections_list(state: State<'_, AppState>) -> Result<Connections, Error> {
    let c = state.connector.clone();
    blocking(move || c.list()).await
}

/// Adds or changes a connection; its key goes to the keyring (or this session).
#[tauri::command]
pub async fn connection_save(
    state: State<'_, AppState>,
    draft: ConnectionDraft,
) -> Result<Connection, Error> {
    let c = state.connector.clone();
    blocking(move || c.save(draft)).await
}

/// Lists with the key, then asks whether it may manage (`Connector::test`).
#[tauri::command]
pub async fn connection_test(
    state: State<'_, AppState>,
    name: String,
    deployment: Option<String>,
) -> Result<ContextTest, Error> {
    state.connector.test(&name, deployment.as_deref()).await
}

#[tauri::command]
pub async fn connection_remove(
    state: State<'_, AppState>,
    name: String,
) -> Result<ContextRemoved, Error> {
    state.connector.remove(&name).await
}

/// Starts the local demo Supervisor (once) and gives its connection.
#[tauri::command]
pub async fn demo_start(state: State<'_, AppState>) -> Result<Connection, Error> {
    state.connector.start_demo().await
}

/// The deployment's snapshots grouped by name, each node marked when the library holds it
/// (`Connector::view`).
#[tauri::command]
pub async fn deployment_snapshots(
    state: State<'_, AppState>,
    connection: String,
    deployment: String,
) -> Result<DeploymentView, Error> {
    let lib = state.library.clone()?;
    state.connector.view(&connection, &deployment, &lib).await
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
    let job = state.jobs.start(Some(&job));
    let body = CreateSnapshot {
        redact_secrets,
        include_iggy,
    };
    let send = |p: Progress| {
        let _ = on_progress.send(p);
    };
    let waited = state
        .connector
        .create(&connection, &deployment, body, &job.cancel, &send)
        .await?;
    let (title, body) = waited.summary();
    if let Err(e) = app
        .notification()
        .builder()
        .title(&title)
        .body(&body)
        .show()
    {
        tracing::warn!("no desktop notification ({title}): {e}");
    }
    Ok(waited)
}

/// Downloads nodes of one snapshot into the library; a cancelled node keeps its partial file
/// and the next download resumes it.
#[tauri::command]
pub async fn snapshot_download(
    state: State<'_, AppState>,
    connection: String,
    deployment: String,
    ids: Vec<String>,
    job: String,
    on_progress: Channel<Progress>,
) -> Result<Downloaded, Error> {
    let lib = state.library.clone()?;
    let job = state.jobs.start(Some(&job));
    let send = |p: Progress| {
        let _ = on_progress.send(p);
    };
    state
        .connector
        .download(&connection, &deployment, &lib, &ids, &job.cancel, &send)
        .await
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
    let lib = state.library.clone()?;
    state
        .connector
        .delete(&connection, &deployment, &lib, &ids, also_library)
        .await
}

/// A request as a curl command with the key as `$LD_API_KEY`.
#[tauri::command]
pub fn request_curl(
    state: State<'_, AppState>,
    connection: String,
    deployment: String,
    request: ApiRequest,
) -> Result<String, Error> {
    state.connector.curl(&connection, &deployment, &request)
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

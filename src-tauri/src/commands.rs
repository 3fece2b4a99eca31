//! Tauri commands: one-line adapters over core functions. Errors cross IPC as
//! `snapdesk_core::Error` (`{code, message, hint, details}`), never as bare strings.

use std::path::PathBuf;
use std::sync::Arc;

use snapdesk_collector::archive_redact::RedactedCopy;
use snapdesk_core::{AppInfo, Error, ErrorCode};
use snapdesk_library::analysis::{AnalysisFinding, Reanalysis};
use snapdesk_library::continuity::DataDiff;
use snapdesk_library::insight::{NodeLogs, Scope, Timeline, Triage};
use snapdesk_library::Scopes;
use snapdesk_ops::desk::{AppEvent, CollectRequest};
use snapdesk_ops::library::{self, Browse, EntryDetail, Library, Matrix, Page, Query, Sort};
use snapdesk_report::view::OpenedReport;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;

#[allow(clippy::wildcard_imports)]
use crate::remote::*;
use crate::viewer::APP_ORIGIN;
use crate::{host, AppState};

include!("command_list.rs");

macro_rules! names {
    ($($c:ident),*) => { &[$(stringify!($c)),*] };
}

/// Every command name (from `command_list.rs`); `build.rs` declares the same list.
pub const COMMANDS: &[&str] = app_commands!(names);

macro_rules! invoke_handler {
    ($($c:ident),*) => { tauri::generate_handler![$($c),*] };
}

/// The app's commands, behind a check of who calls. The ACL already limits commands to the
/// main window at a local origin, but a report page is local too (its scheme is the app's):
/// were one ever the main window's top-level page, it would pass the ACL. So a call is
/// served only while the calling webview shows the app itself, and, when the request names
/// its origin (the `ipc:` scheme does), only from the app's origin.
pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static
{
    let inner: Box<dyn Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync> =
        Box::new(app_commands!(invoke_handler));
    move |invoke: tauri::ipc::Invoke<R>| {
        if !from_the_app(&invoke) {
            tracing::warn!(
                cmd = invoke.message.command(),
                "IPC refused: not from the app"
            );
            invoke.resolver.reject(Error::new(
                ErrorCode::Forbidden,
                "only the app's own page may call Snapdesk",
            ));
            return true;
        }
        inner(invoke)
    }
}

fn from_the_app<R: tauri::Runtime>(invoke: &tauri::ipc::Invoke<R>) -> bool {
    let page_ok = invoke
        .message
        .webview()
        .url()
        .is_ok_and(|url| APP_ORIGIN.contains(&url));
    let origin_ok = match invoke.message.headers().get("origin") {
        None => true,
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|o| o.parse::<tauri::Url>().ok())
            .is_some_and(|url| APP_ORIGIN.contains(&url)),
    };
    page_ok && origin_ok
}

/// How long a read across archives (continuity, logs) may take before it gives up.
const LONG_READ: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs blocking work off the main thread.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(format!("a background job failed: {e}")))?
}

fn lib(state: &AppState) -> Result<Arc<Library>, Error> {
    state.library.clone()
}

/// The system's save dialog, suggesting `name` (made safe for a file name); `None` when the
/// person dismissed it. `zip` limits the choice to ZIP files.
fn choose_save<R: tauri::Runtime>(
    app: &AppHandle<R>,
    title: &str,
    name: &str,
    zip: bool,
) -> Option<PathBuf> {
    let mut dialog = app
        .dialog()
        .file()
        .set_title(title)
        .set_file_name(snapdesk_core::paths::safe_file_part(name));
    if zip {
        dialog = dialog.add_filter("Snapshot ZIP", &["zip"]);
    }
    dialog.blocking_save_file().and_then(|p| p.into_path().ok())
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> Result<AppInfo, Error> {
    Ok(AppInfo::new(state.paths.clone(), state.home_overridden))
}

/// The UI's event channel: files to open, library changes, links a report asked for.
#[tauri::command]
pub fn subscribe(state: State<'_, AppState>, on_event: Channel<AppEvent>) -> Result<(), Error> {
    state.hub.subscribe(on_event);
    Ok(())
}

/// Opens a snapshot ZIP from disk: imported into the library, then shown from there.
/// `request` names the open so that `cancel_open` can stop it.
#[tauri::command]
pub async fn open_archive(
    state: State<'_, AppState>,
    path: String,
    request: Option<String>,
) -> Result<OpenedReport, Error> {
    let (viewer, lib) = (state.viewer.clone(), lib(&state)?);
    let job = state.jobs.start(request.as_deref());
    blocking(move || host::open_file(&viewer, &lib, &PathBuf::from(path), &job.cancel)).await
}

/// Stops a job in progress (an open or a collection).
#[tauri::command]
pub fn cancel_job(state: State<'_, AppState>, job: String) -> Result<(), Error> {
    state.jobs.cancel(&job);
    Ok(())
}

/// Forgets an opened archive (its frame can no longer load it).
#[tauri::command]
pub fn close_archive(state: State<'_, AppState>, token: String) -> Result<(), Error> {
    state.viewer.close(&token)
}

/// The system's file dialog for snapshot ZIPs (several at once); empty when dismissed.
#[tauri::command]
pub async fn pick_archives<R: tauri::Runtime>(app: AppHandle<R>) -> Result<Vec<String>, Error> {
    blocking(move || {
        let picked = app
            .dialog()
            .file()
            .set_title("Open snapshot ZIPs")
            .add_filter("Snapshot ZIP", &["zip"])
            .blocking_pick_files()
            .unwrap_or_default();
        Ok(picked
            .into_iter()
            .filter_map(|p| p.into_path().ok())
            .map(|p| p.display().to_string())
            .collect())
    })
    .await
}

/// The system's dialog for one file (`kind` "file") or directory ("dir"); null when dismissed.
#[tauri::command]
pub async fn pick_path<R: tauri::Runtime>(
    app: AppHandle<R>,
    kind: String,
    title: String,
) -> Result<Option<String>, Error> {
    blocking(move || {
        let dialog = app.dialog().file().set_title(title);
        let picked = match kind.as_str() {
            "dir" => dialog.blocking_pick_folder(),
            "file" => dialog.blocking_pick_file(),
            other => {
                return Err(Error::new(
                    ErrorCode::InvalidInput,
                    format!("{other:?} is not a kind of path: use file or dir"),
                ))
            }
        };
        Ok(picked
            .and_then(|p| p.into_path().ok())
            .map(|p| p.display().to_string()))
    })
    .await
}

/// One sorted page of the library for a query, with the count and totals of the whole match.
#[tauri::command]
pub async fn library_browse(
    state: State<'_, AppState>,
    query: String,
    sort: Sort,
    offset: u32,
    limit: u32,
) -> Result<Browse, Error> {
    let lib = lib(&state)?;
    blocking(move || {
        let q = Query::parse(&query)?;
        Ok(lib.browse(
            &q,
            sort,
            Page {
                offset,
                limit: limit.min(1000),
            },
        )?)
    })
    .await
}

/// Shows a library entry in the viewer.
#[tauri::command]
pub async fn library_open(
    state: State<'_, AppState>,
    id: String,
    request: Option<String>,
) -> Result<OpenedReport, Error> {
    let (viewer, lib) = (state.viewer.clone(), lib(&state)?);
    let job = state.jobs.start(request.as_deref());
    blocking(move || host::show_entry(&viewer, &lib, &id, &job.cancel)).await
}

#[tauri::command]
pub async fn library_show(state: State<'_, AppState>, id: String) -> Result<EntryDetail, Error> {
    let lib = lib(&state)?;
    blocking(move || Ok(lib.show(library::parse_id(&id)?)?)).await
}

#[tauri::command]
pub async fn library_pin(
    state: State<'_, AppState>,
    id: String,
    pinned: bool,
) -> Result<(), Error> {
    let lib = lib(&state)?;
    blocking(move || Ok(lib.set_pinned(library::parse_id(&id)?, pinned)?)).await
}

#[tauri::command]
pub async fn library_note(
    state: State<'_, AppState>,
    id: String,
    note: String,
) -> Result<(), Error> {
    let lib = lib(&state)?;
    blocking(move || Ok(lib.set_note(library::parse_id(&id)?, &note)?)).await
}

/// Adds and removes tags; resolves with the entry's tags after.
#[tauri::command]
pub async fn library_tag(
    state: State<'_, AppState>,
    id: String,
    add: Vec<String>,
    remove: Vec<String>,
) -> Result<Vec<String>, Error> {
    let lib = lib(&state)?;
    blocking(move || Ok(lib.tag(library::parse_id(&id)?, &add, &remove)?)).await
}

#[tauri::command]
pub async fn library_remove(state: State<'_, AppState>, id: String) -> Result<(), Error> {
    let lib = lib(&state)?;
    blocking(move || Ok(lib.remove(library::parse_id(&id)?)?)).await
}

/// Copies an entry's archive where the person chooses (the save dialog); null when dismissed.
#[tauri::command]
pub async fn library_export<R: tauri::Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
    name: String,
) -> Result<Option<String>, Error> {
    let lib = lib(&state)?;
    blocking(move || {
        let n = library::parse_id(&id)?;
        let Some(dest) = choose_save(&app, "Export snapshot", &name, true) else {
            return Ok(None);
        };
        let written = lib.export(n, &dest, &snapdesk_core::Cancel::new())?;
        Ok(Some(written.display().to_string()))
    })
    .await
}

/// Two entries compared: checks whose status changed, added or gone, facts that changed,
/// and, when both carry Iggy data, the data's continuity (messages lost, offsets re-issued,
/// holes, consumers rewound, lag trends).
#[tauri::command]
pub async fn library_diff(
    state: State<'_, AppState>,
    a: String,
    b: String,
) -> Result<DataDiff, Error> {
    let lib = lib(&state)?;
    blocking(move || {
        let (a, b) = (library::parse_id(&a)?, library::parse_id(&b)?);
        Ok(lib.diff_with_data(a, b, &snapdesk_core::Cancel::new().with_deadline(LONG_READ))?)
    })
    .await
}

fn scope(deployment: Option<String>, host: Option<String>) -> Scope {
    let keep = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    Scope {
        deployment: keep(deployment),
        host: keep(host),
    }
}

/// The deployments and hosts the library holds snapshots of (a scope picker's choices).
#[tauri::command]
pub async fn library_scopes(state: State<'_, AppState>) -> Result<Scopes, Error> {
    let lib = lib(&state)?;
    blocking(move || Ok(lib.scopes()?)).await
}

/// The triage board of a deployment, a host, or the whole library.
#[tauri::command]
pub async fn library_triage(
    state: State<'_, AppState>,
    deployment: Option<String>,
    host: Option<String>,
) -> Result<Triage, Error> {
    let lib = lib(&state)?;
    blocking(move || Ok(lib.triage(&scope(deployment, host))?)).await
}

/// One check's status over every snapshot, per node.
#[tauri::command]
pub async fn library_timeline(
    state: State<'_, AppState>,
    check_id: String,
    node: Option<String>,
    deployment: Option<String>,
    host: Option<String>,
) -> Result<Timeline, Error> {
    let lib = lib(&state)?;
    blocking(move || Ok(lib.timeline(&check_id, node.as_deref(), &scope(deployment, host))?)).await
}

/// The log lines every node wrote around a moment (RFC 3339), read from the archives.
#[tauri::command]
pub async fn library_logs_around(
    state: State<'_, AppState>,
    deployment: Option<String>,
    host: Option<String>,
    at: String,
    window_secs: u32,
    max_lines: u32,
) -> Result<Vec<NodeLogs>, Error> {
    let lib = lib(&state)?;
    blocking(move || {
        let at = chrono::DateTime::parse_from_rfc3339(&at)
            .map_err(|e| Error::invalid_input(format!("{at:?} is not an RFC 3339 time: {e}")))?
            .with_timezone(&chrono::Utc);
        let cancel = snapdesk_core::Cancel::new().with_deadline(LONG_READ);
        Ok(lib.logs_around(
            &scope(deployment, host),
            at,
            window_secs.clamp(1, 86_400),
            max_lines.clamp(1, 10_000) as usize,
            &cancel,
        )?)
    })
    .await
}

/// What the analyzers found in one entry (new findings marked).
#[tauri::command]
pub async fn library_analysis(
    state: State<'_, AppState>,
    id: String,
) -> Result<Vec<AnalysisFinding>, Error> {
    let lib = lib(&state)?;
    blocking(move || Ok(lib.analysis(library::parse_id(&id)?)?)).await
}

/// Re-runs the analyzers over the whole library; says which snapshots they now flag.
#[tauri::command]
pub async fn library_reanalyze(state: State<'_, AppState>) -> Result<Reanalysis, Error> {
    let lib = lib(&state)?;
    blocking(move || Ok(lib.reanalyze(&snapdesk_core::Cancel::new())?)).await
}

/// Writes a redacted copy of an entry's archive where the person chooses; null when
/// dismissed. The stored archive is never touched.
#[tauri::command]
pub async fn library_export_redacted<R: tauri::Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
    name: String,
) -> Result<Option<RedactedCopy>, Error> {
    let lib = lib(&state)?;
    blocking(move || {
        let n = library::parse_id(&id)?;
        let source = lib.open_entry(n)?;
        let Some(dest) = choose_save(&app, "Export a redacted copy", &name, true) else {
            return Ok(None);
        };
        let redactor = snapdesk_collector::redact::Redactor::new();
        let copy = snapdesk_collector::archive_redact::redact_archive(
            &source,
            &dest,
            &redactor,
            &snapdesk_core::Cancel::new(),
        )?;
        Ok(Some(copy))
    })
    .await
}

/// The nodes of one snapshot as a check-by-node matrix, differences first.
#[tauri::command]
pub async fn library_matrix(
    state: State<'_, AppState>,
    name: String,
    deployment: Option<String>,
) -> Result<Matrix, Error> {
    let lib = lib(&state)?;
    blocking(move || Ok(lib.matrix(&name, deployment.as_deref())?)).await
}

/// Opens a link a report asked for in the system browser, once the person confirmed it.
#[tauri::command]
pub fn open_link<R: tauri::Runtime>(app: AppHandle<R>, url: String) -> Result<(), Error> {
    let url = crate::hub::Hub::confirmed_link(&url)?;
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(|e| Error::new(ErrorCode::Io, format!("the browser did not start: {e}")))
}

/// The files of an opened archive (names escaped, sizes, kinds), nested Iggy data included.
#[tauri::command]
pub async fn archive_files(
    state: State<'_, AppState>,
    token: String,
) -> Result<Vec<snapdesk_report::archive::ArchiveFile>, Error> {
    let viewer = state.viewer.clone();
    blocking(move || viewer.files(&token)).await
}

/// Prepares one file's page (text, JSON or hex) for the sandboxed frame; resolves with its
/// URL. The file's bytes stay on the Rust side.
#[tauri::command]
pub async fn archive_file_page(
    state: State<'_, AppState>,
    token: String,
    file: String,
) -> Result<String, Error> {
    let viewer = state.viewer.clone();
    blocking(move || viewer.file_page(&token, &file)).await
}

/// Saves one file of an opened archive where the person chooses; null when dismissed.
#[tauri::command]
pub async fn archive_file_export<R: tauri::Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    token: String,
    file: String,
) -> Result<Option<String>, Error> {
    let viewer = state.viewer.clone();
    blocking(move || {
        let name = file.rsplit(['/', '\\']).next().unwrap_or("file");
        let Some(dest) = choose_save(&app, "Export file", name, false) else {
            return Ok(None);
        };
        viewer.export_file(&token, &file, &dest)?;
        Ok(Some(dest.display().to_string()))
    })
    .await
}

/// Collects this machine into the library, with each step on `on_progress`; `job` names it
/// for `cancel_job`. Resolves with the new report, open in the viewer.
#[tauri::command]
pub async fn collect_run(
    state: State<'_, AppState>,
    request: CollectRequest,
    job: String,
    on_progress: Channel<snapdesk_collector::Progress>,
) -> Result<OpenedReport, Error> {
    let (viewer, lib) = (state.viewer.clone(), lib(&state)?);
    let job = state.jobs.start(Some(&job));
    blocking(move || {
        let mut progress = |p: &snapdesk_collector::Progress| {
            let _ = on_progress.send(p.clone());
        };
        host::collect(&viewer, &lib, &request, &mut progress, &job.cancel)
    })
    .await
}

#[cfg(test)]
mod tests {
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{mock_builder, MockRuntime, INVOKE_KEY};
    use tauri::webview::InvokeRequest;

    use crate::AppState;

    fn build(home: &std::path::Path) -> tauri::App<MockRuntime> {
        let state = AppState::new(snapdesk_core::AppPaths::under(home), true);
        // The real context: the app's own ACL (capabilities) applies, as in the app.
        crate::setup(mock_builder(), state)
            .build(tauri::generate_context!())
            .expect("mock app")
    }

    fn invoke(
        app: &tauri::App<MockRuntime>,
        label: &str,
        url: &str,
        cmd: &str,
    ) -> Result<serde_json::Value, serde_json::Value> {
        invoke_on_page(app, label, tauri::WebviewUrl::default(), url, cmd)
    }

    /// Invokes `cmd` from a webview showing `page`, with `url` as the request's origin.
    fn invoke_on_page(
        app: &tauri::App<MockRuntime>,
        label: &str,
        page: tauri::WebviewUrl,
        url: &str,
        cmd: &str,
    ) -> Result<serde_json::Value, serde_json::Value> {
        let webview = tauri::WebviewWindowBuilder::new(app, label, page)
            .build()
            .expect("mock window");
        tauri::test::get_ipc_response(
            &webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: url.parse().expect("url"),
                body: InvokeBody::default(),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<serde_json::Value>().expect("json body"))
    }

    #[test]
    fn app_info_reports_version_and_overridden_paths() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let app = build(tmp.path());
        let v = invoke(&app, "main", "tauri://localhost", "app_info").expect("app_info succeeds");
        assert_eq!(v["product_name"], "Snapdesk");
        assert_eq!(v["version"], snapdesk_core::VERSION);
        assert_eq!(v["home_overridden"], true);
        assert_eq!(
            v["paths"]["data_dir"],
            tmp.path().join("data").display().to_string()
        );
    }

    #[test]
    fn a_window_without_a_capability_cannot_call_app_commands() {
        // Any window but `main` matches no capability: the ACL refuses it even at the app's
        // own (local) URL. Report frames inside `main` get no IPC bridge at all, which the
        // desktop end-to-end test checks in WebKitGTK (tests/tests/e2e_viewer.rs).
        let tmp = tempfile::tempdir().expect("tempdir");
        let app = build(tmp.path());
        let err = invoke(&app, "report", "tauri://localhost", "app_info").unwrap_err();
        assert!(err.to_string().contains("not allowed"), "{err}");
    }

    #[test]
    fn a_remote_origin_cannot_call_app_commands() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let app = build(tmp.path());
        assert!(invoke(&app, "main", "https://example.com", "app_info").is_err());
    }

    #[test]
    fn a_report_as_the_main_windows_page_cannot_call_app_commands() {
        // A report page is on a local scheme, so the ACL alone would let it through; the
        // handler refuses any call while the webview shows something else than the app.
        let tmp = tempfile::tempdir().expect("tempdir");
        let app = build(tmp.path());
        let report = format!(
            "{}/0123456789abcdef0123456789abcdef/",
            crate::viewer::origin()
        );
        let page = tauri::WebviewUrl::CustomProtocol(report.parse().expect("url"));
        let err = invoke_on_page(&app, "main", page, &report, "app_info").unwrap_err();
        assert_eq!(err["code"], "forbidden", "{err}");
    }

    #[test]
    fn a_call_naming_another_origin_is_refused_by_the_handler() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let app = build(tmp.path());
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("mock window");
        let mut headers = tauri::http::HeaderMap::new();
        headers.insert("origin", "null".parse().expect("header"));
        let err = tauri::test::get_ipc_response(
            &webview,
            InvokeRequest {
                cmd: "app_info".into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().expect("url"),
                body: InvokeBody::default(),
                headers,
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .unwrap_err();
        assert_eq!(err["code"], "forbidden", "{err}");
    }

    #[test]
    fn unknown_command_is_refused() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let app = build(tmp.path());
        assert!(invoke(&app, "main", "tauri://localhost", "does_not_exist").is_err());
    }

    #[test]
    fn every_listed_command_is_granted_to_the_main_window_and_served() {
        // One list (command_list.rs) feeds build.rs, the capability it writes and the handler:
        // the capability grants exactly these, and each one reaches its command (a call
        // without its arguments is refused by the command, not by the ACL or as unknown).
        let caps: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/main.json")).expect("json");
        let granted: Vec<&str> = caps["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .filter_map(|p| p.as_str())
            .collect();
        let expected: Vec<String> = super::COMMANDS
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-")))
            .collect();
        assert_eq!(granted, expected);
        let tmp = tempfile::tempdir().expect("tempdir");
        let app = build(tmp.path());
        let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("mock window");
        for cmd in super::COMMANDS {
            let r = tauri::test::get_ipc_response(
                &webview,
                InvokeRequest {
                    cmd: (*cmd).into(),
                    callback: CallbackFn(0),
                    error: CallbackFn(1),
                    url: "tauri://localhost".parse().expect("url"),
                    body: InvokeBody::default(),
                    headers: Default::default(),
                    invoke_key: INVOKE_KEY.to_string(),
                },
            );
            if let Err(e) = r {
                let text = e.to_string();
                assert!(
                    !text.contains("not allowed") && !text.contains("not found"),
                    "{cmd}: {text}"
                );
            }
        }
    }
}

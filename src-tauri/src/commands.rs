//! Tauri commands: one-line adapters over core functions. Errors cross IPC as
//! `snapdesk_core::Error` (`{code, message, hint, details}`), never as bare strings.

use snapdesk_core::{AppInfo, Error, ErrorCode};
use snapdesk_report::view::OpenedReport;
use tauri::State;

use crate::viewer::APP_ORIGIN;
use crate::AppState;

/// Every command name; `build.rs` generates an `allow-*` permission for each.
pub const COMMANDS: &[&str] = &["app_info", "open_archive", "cancel_open", "close_archive"];

/// The app's commands, behind a check of who calls. The ACL already limits commands to the
/// main window at a local origin, but a report page is local too (its scheme is the app's):
/// were one ever the main window's top-level page, it would pass the ACL. So a call is
/// served only while the calling webview shows the app itself, and, when the request names
/// its origin (the `ipc:` scheme does), only from the app's origin.
pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static
{
    let inner: Box<dyn Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync> =
        Box::new(tauri::generate_handler![
            app_info,
            open_archive,
            cancel_open,
            close_archive
        ]);
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

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> Result<AppInfo, Error> {
    Ok(AppInfo::new(state.paths.clone(), state.home_overridden))
}

/// Opens a snapshot ZIP from disk for the sandboxed viewer; returns its summary and URL.
/// `request` names the open so that `cancel_open` can stop it.
#[tauri::command]
pub async fn open_archive(
    state: State<'_, AppState>,
    path: String,
    request: Option<String>,
) -> Result<OpenedReport, Error> {
    let viewer = state.viewer.clone();
    tauri::async_runtime::spawn_blocking(move || viewer.open(path.into(), request))
        .await
        .map_err(|e| Error::internal(format!("opening the archive failed: {e}")))?
}

/// Stops an open in progress.
#[tauri::command]
pub fn cancel_open(state: State<'_, AppState>, request: String) -> Result<(), Error> {
    state.viewer.cancel_open(&request)
}

/// Forgets an opened archive (its frame can no longer load it).
#[tauri::command]
pub fn close_archive(state: State<'_, AppState>, token: String) -> Result<(), Error> {
    state.viewer.close(&token)
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
    fn build_script_capabilities_and_handler_list_the_same_commands() {
        let build_rs = include_str!("../build.rs");
        let caps = include_str!("../capabilities/main.json");
        for cmd in super::COMMANDS {
            assert!(
                build_rs.contains(&format!("\"{cmd}\"")),
                "build.rs lacks {cmd}"
            );
            let perm = format!("\"allow-{}\"", cmd.replace('_', "-"));
            assert!(caps.contains(&perm), "capabilities/main.json lacks {perm}");
        }
    }
}

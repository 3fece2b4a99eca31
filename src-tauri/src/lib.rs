//! The Snapdesk desktop app: a thin Tauri host over the core crates. It wires state, commands
//! and security; the work itself lives in `crates/`.

pub mod commands;
pub mod viewer;

use std::path::PathBuf;

use snapdesk_core::AppPaths;

/// State shared by every command.
pub struct AppState {
    pub paths: AppPaths,
    pub home_overridden: bool,
    pub viewer: std::sync::Arc<viewer::Viewer>,
}

impl AppState {
    pub fn new(paths: AppPaths, home_overridden: bool) -> Self {
        Self {
            paths,
            home_overridden,
            viewer: Default::default(),
        }
    }
}

/// Reads `--data-dir DIR` (or `--data-dir=DIR`) from the app's own arguments.
fn data_dir_arg(args: impl Iterator<Item = String>) -> Option<PathBuf> {
    let mut args = args.skip(1);
    while let Some(arg) = args.next() {
        if arg == "--data-dir" {
            return args.next().map(PathBuf::from);
        }
        if let Some(v) = arg.strip_prefix("--data-dir=") {
            return Some(PathBuf::from(v));
        }
    }
    None
}

/// Adds the app's state and commands to a builder; shared by `run` and the command tests
/// (which pass `tauri::test::mock_builder()`).
pub fn setup<R: tauri::Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    let viewer = state.viewer.clone();
    builder
        .manage(state)
        .invoke_handler(commands::handler())
        // Report pages, answered inline from bytes prepared at open (see viewer.rs for why
        // no request may cost more than a copy).
        .register_uri_scheme_protocol(viewer::SCHEME, move |_ctx, request| {
            viewer.respond(request.uri())
        })
        // A second layer behind the CSPs: no webview or frame navigates off this platform's
        // app and report origins.
        .plugin(
            tauri::plugin::Builder::<R>::new("navigation-guard")
                .on_navigation(|_webview, url| {
                    let ok = viewer::navigation_allowed(url);
                    if !ok {
                        tracing::warn!(
                            scheme = url.scheme(),
                            host = url.host_str(),
                            "navigation refused"
                        );
                    }
                    ok
                })
                .build(),
        )
}

/// The main window, built here rather than in `tauri.conf.json` so that WebKit keeps its
/// caches, storage and HSTS state inside our data directory instead of `~/.local/share` and
/// `~/.cache`, and so that its top-level page can never be anything but the app.
fn main_window<R: tauri::Runtime>(
    app: &tauri::App<R>,
    webview_dir: PathBuf,
) -> tauri::Result<tauri::WebviewWindow<R>> {
    tauri::WebviewWindowBuilder::new(app, "main", tauri::WebviewUrl::App("index.html".into()))
        .title(snapdesk_core::PRODUCT_NAME)
        .inner_size(1280.0, 800.0)
        .min_inner_size(900.0, 600.0)
        .resizable(true)
        .center()
        .data_directory(webview_dir)
        // The report frame may load report pages; the main window's own page may only ever
        // be the app. A report at the top level would count as a local origin.
        .on_page_load(|window, payload| {
            let url = payload.url();
            if !viewer::APP_ORIGIN.contains(url) {
                tracing::warn!(scheme = url.scheme(), "top-level page refused");
                let home = format!("{}/index.html", viewer::APP_ORIGIN.url());
                if let Ok(home) = home.parse() {
                    let _ = window.navigate(home);
                }
            }
        })
        .build()
}

pub fn run() {
    let explicit = data_dir_arg(std::env::args());
    let overridden =
        explicit.is_some() || std::env::var_os(snapdesk_core::paths::HOME_ENV).is_some();
    let paths = match AppPaths::resolve(explicit.as_deref()).and_then(|p| p.ensure().map(|_| p)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error[{}]: {}", e.code, e.message);
            std::process::exit(1);
        }
    };
    let _log = snapdesk_core::logging::init(&paths.log_dir, "warn");
    tracing::info!(
        "Snapdesk {} starting, data in {}",
        snapdesk_core::VERSION,
        paths.data_dir.display()
    );

    let webview_dir = paths.data_dir.join("webview");
    let result = setup(tauri::Builder::default(), AppState::new(paths, overridden))
        .setup(move |app| {
            main_window(app, webview_dir)?;
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        tracing::error!("the app stopped with an error: {e}");
        eprintln!("error[internal]: Snapdesk could not start: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> impl Iterator<Item = String> {
        v.iter()
            .map(|s| (*s).to_owned())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn data_dir_flag_is_read_in_both_forms() {
        assert_eq!(
            data_dir_arg(args(&["app", "--data-dir", "/x"])),
            Some("/x".into())
        );
        assert_eq!(
            data_dir_arg(args(&["app", "--data-dir=/y"])),
            Some("/y".into())
        );
        assert_eq!(data_dir_arg(args(&["app"])), None);
    }
}

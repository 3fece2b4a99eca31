//! The Snapdesk desktop app: a thin Tauri host over the core crates. It wires state, commands
//! and security; the work itself lives in `crates/`.

pub mod cli;
pub mod commands;
pub mod host;
pub mod hub;
pub mod remote;
pub mod viewer;

use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use snapdesk_core::{AppPaths, Error};
use snapdesk_ops::desk::{files_of_launch, AppEvent};
use snapdesk_ops::library::{self, Library};
use tauri::Manager;

/// State shared by every command.
pub struct AppState {
    pub paths: AppPaths,
    pub home_overridden: bool,
    pub viewer: Arc<viewer::Viewer>,
    /// The library of this data directory, or why it could not be opened (the app still
    /// runs and says so where the library is shown).
    pub library: Result<Arc<Library>, Error>,
    pub hub: hub::Hub,
    /// Connections: the CLI's contexts, keys kept for this session, the demo Supervisor.
    pub connector: Arc<snapdesk_ops::connections::Connector>,
    /// The app's one registry of long jobs (opens, collections, creates, downloads).
    pub jobs: Arc<snapdesk_core::jobs::Jobs>,
}

impl AppState {
    pub fn new(paths: AppPaths, home_overridden: bool) -> Self {
        let library = library::open(&paths).map(Arc::new);
        if let Err(e) = &library {
            tracing::error!("the library could not be opened: {}", e.message);
        }
        Self {
            connector: Arc::new(snapdesk_ops::connections::Connector::new(paths.clone())),
            paths,
            home_overridden,
            viewer: Default::default(),
            library,
            hub: Default::default(),
            jobs: Default::default(),
        }
    }
}

/// One running app per data directory: the D-Bus name of the single-instance lock carries
/// a hash of the directory, so a second launch on the same library hands its files over,
/// and apps on other data directories (tests, a second profile) run side by side.
fn instance_id(paths: &AppPaths) -> String {
    let dir = std::fs::canonicalize(&paths.data_dir).unwrap_or_else(|_| paths.data_dir.clone());
    let hash = Sha256::digest(dir.as_os_str().as_encoded_bytes());
    let hex: String = hash[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("dev.snapdesk.app.d{hex}")
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
                .on_navigation(|webview, url| {
                    let ok = viewer::navigation_allowed(url);
                    if !ok {
                        // A report's link: refused here, offered to the person to open in
                        // their browser.
                        if let Some(state) = webview.try_state::<AppState>() {
                            state.hub.link_requested(url);
                        }
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

/// Whether this machine has a GPU render node WebKit could composite with.
fn has_render_node(dri: &std::path::Path) -> bool {
    std::fs::read_dir(dri).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// Picks WebKit's rendering path before GTK starts. Without a GPU render node WebKit's
/// accelerated compositing runs on software OpenGL (llvmpipe), and every repaint of the app
/// cost about 200 ms at 1280x800 on 2 cores (measured by the Deployments benchmark: a scroll
/// step 190–240 ms, "Expand all" 300 ms); its non-composited path paints the same frames in
/// 20–40 ms. So compositing is turned off where there is no render node (Xvfb, VMs, remote
/// desktops). A person's own `WEBKIT_DISABLE_COMPOSITING_MODE` always wins, and
/// `SNAPDESK_WEBKIT_COMPOSITING=1` keeps compositing on regardless.
pub fn choose_webkit_rendering() {
    const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    if std::env::var_os(VAR).is_some()
        || std::env::var("SNAPDESK_WEBKIT_COMPOSITING").as_deref() == Ok("1")
    {
        return;
    }
    if cfg!(target_os = "linux") && !has_render_node(std::path::Path::new("/dev/dri")) {
        // Single-threaded still: called first thing in `main`.
        std::env::set_var(VAR, "1");
    }
}

/// Where WebKit's own network traffic is sent: TEST-NET-1 (RFC 5737), routed nowhere.
pub const BLACKHOLE_PROXY: &str = "http://192.0.2.1:9";

/// Closes the network paths of WebKit itself, behind the CSPs and the navigation guard. The
/// app never needs WebKit's network (its pages come over custom schemes, its API calls over
/// Rust), yet a report can make WebKit connect where no CSP looks: `<link rel=preconnect>`
/// opened a TCP connection to a listener on 127.0.0.1 in the hostile corpus, and
/// `rel=dns-prefetch` resolves any host name (a DNS channel out). So every http(s) and ws(s)
/// connection of this view goes to a proxy that goes nowhere, with no host exempt, and DNS
/// prefetching is off.
#[cfg(target_os = "linux")]
fn seal_webkit_network<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>) {
    let sealed = window.with_webview(|wv| {
        use webkit2gtk::{
            NetworkProxyMode, NetworkProxySettings, SettingsExt, WebViewExt, WebsiteDataManagerExt,
        };
        let view = wv.inner();
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_enable_dns_prefetching(false);
        }
        match view.website_data_manager() {
            Some(manager) => {
                let mut proxy = NetworkProxySettings::new(Some(BLACKHOLE_PROXY), &[]);
                manager.set_network_proxy_settings(NetworkProxyMode::Custom, Some(&mut proxy));
            }
            None => tracing::error!("WebKit has no data manager: its network is not sealed"),
        }
    });
    if let Err(e) = sealed {
        tracing::error!("WebKit's network could not be sealed: {e}");
    }
}

#[cfg(not(target_os = "linux"))]
fn seal_webkit_network<R: tauri::Runtime>(_window: &tauri::WebviewWindow<R>) {}

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
        .inspect(seal_webkit_network)
        .inspect(|window| {
            // Files dropped on the window open like files given on the command line.
            let hub = window.state::<AppState>().hub.clone();
            window.on_window_event(move |event| {
                if let tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) =
                    event
                {
                    let paths = paths.iter().map(|p| p.display().to_string()).collect();
                    hub.send(AppEvent::OpenFiles { paths });
                }
            });
        })
}

pub fn run() {
    let args = cli::parse();
    let explicit = args.data_dir.clone();
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
    let launch: Vec<String> = std::env::args().collect();
    let cwd = std::env::current_dir().unwrap_or_default();
    let first_files = files_of_launch(&launch, &cwd);
    let single = tauri_plugin_single_instance::Builder::new()
        .dbus_id(instance_id(&paths))
        .callback(|app, argv, cwd| {
            let paths = files_of_launch(&argv, std::path::Path::new(&cwd));
            tracing::info!(files = paths.len(), "a second launch handed over");
            if !paths.is_empty() {
                app.state::<AppState>()
                    .hub
                    .send(AppEvent::OpenFiles { paths });
            }
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.unminimize();
                let _ = w.set_focus();
            }
        })
        .build();
    let state = AppState::new(paths, overridden);
    let watched = state.library.clone().ok();
    let contexts_file = state.paths.contexts_file();
    let hub = state.hub.clone();
    // The single-instance plugin goes first: a second launch must hand over before anything
    // else starts.
    let builder = tauri::Builder::default()
        .plugin(single)
        .plugin(tauri_plugin_dialog::init())
        // Used from Rust only: a create that ended says so on the desktop.
        .plugin(tauri_plugin_notification::init())
        // Used from Rust only (`copy_text`): WebKitGTK refuses the page's clipboard API.
        .plugin(tauri_plugin_clipboard_manager::init())
        // Used from Rust only (a confirmed link); no click handler is injected into pages.
        .plugin(
            tauri_plugin_opener::Builder::new()
                .open_js_links_on_click(false)
                .build(),
        );
    let result = setup(builder, state)
        .setup(move |app| {
            main_window(app, webview_dir)?;
            hub.watch(watched, contexts_file);
            if !first_files.is_empty() {
                hub.send(AppEvent::OpenFiles { paths: first_files });
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .map(|app| {
            app.run(|app, event| {
                if let tauri::RunEvent::Exit = event {
                    // The demo Supervisor stops with the app (and takes its temporary
                    // directory with it).
                    let connector = app.state::<AppState>().connector.clone();
                    tauri::async_runtime::block_on(connector.stop_demo());
                }
            })
        });
    if let Err(e) = result {
        tracing::error!("the app stopped with an error: {e}");
        eprintln!("error[internal]: Snapdesk could not start: {e}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_render_node_is_found_only_where_one_exists() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(!has_render_node(&tmp.path().join("missing")));
        assert!(!has_render_node(tmp.path()));
        std::fs::write(tmp.path().join("card0"), b"").unwrap();
        assert!(!has_render_node(tmp.path()));
        std::fs::write(tmp.path().join("renderD128"), b"").unwrap();
        assert!(has_render_node(tmp.path()));
    }

    #[test]
    fn the_instance_lock_is_per_data_directory_and_a_valid_dbus_name() {
        let tmp = std::env::temp_dir();
        let a = instance_id(&AppPaths::under(&tmp.join("one")));
        let b = instance_id(&AppPaths::under(&tmp.join("two")));
        assert_ne!(a, b);
        for part in a.split('.') {
            assert!(
                !part.is_empty() && !part.starts_with(|c: char| c.is_ascii_digit()),
                "{a}"
            );
        }
    }
}

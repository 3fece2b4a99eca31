//! A local emulator of the vendor's Supervisor snapshots API: a real HTTP server on
//! 127.0.0.1 that behaves, as far as a client can observe, like the contract in
//! `supervisor-snapshots-api.txt` and `supervisor-conventions.md`.
//!
//! - `POST /deployments/{id}/snapshots` creates one item per node; each node's archive is
//!   generated (a real snapshot: `report.html`, `manifest.json`, optionally `iggy-data.zip`)
//!   when its processing time is up, and only then does the item say `completed`.
//! - `GET /deployments/{id}/snapshots`, `.../{snapshot_id}/download` (a presigned URL served
//!   by `GET /_storage/{object}` with Range support) and `DELETE .../{snapshot_id}`.
//! - Admin routes under `/_admin/` (header `x-admin-token`): fault injection, a clock that
//!   can be advanced (retention, URL expiry), a state dump and seeding of large archives.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let emu = snapdesk_emulator::start(snapdesk_emulator::EmulatorConfig::default()).await?;
//! println!("{}", emu.startup_line());
//! emu.shutdown().await;
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

// The module graph, bottom to top (each uses only those above it in this list; a test in
// this file keeps it so): util, config, model; problem, profile; archives, state;
// processing; routes.
mod archives;
mod config;
mod model;
mod problem;
mod processing;
pub mod profile;
mod routes;
mod state;
mod util;

pub use config::{default_deployments, DeploymentSpec, EmulatorConfig, Plan};
pub use model::{FaultKind, FaultSpec, RequestRecord};

/// The admin routes, as `snapdesk emulator --help` shows them (the README has the same).
pub const ADMIN_HELP: &str = "\
Admin routes (for tests and demos; header x-admin-token: the startup line's admin_token):
  POST   /_admin/faults    queue a fault for the next requests:
           {\"kind\": \"status\"|\"delay\"|\"truncate\"|\"malformed_json\"|\"reset\"|
                    \"throttle\"|\"corrupt\"|\"node_failure\",
            \"count\": 1, \"path_prefix\": \"/_storage\", \"method\": \"GET\",
            \"status\": 503, \"retry_after\": 2 (s), \"delay_ms\": 1000,
            \"bytes_per_sec\": 262144, \"advance_clock_secs\": 0}
  DELETE /_admin/faults    drop every queued fault
  POST   /_admin/clock     move the emulator's clock (retention, URL expiry):
           {\"advance_secs\": 86400}
  POST   /_admin/seed      add a completed one-node snapshot with an archive of about N bytes:
           {\"deployment_id\": \"611298765432109056\", \"archive_bytes\": 1000000}
  GET    /_admin/state     the deployments, items, clock and queued faults
  GET    /_admin/requests  the last requests received (method, path, range,
                           idempotency-key, fault applied)

Example:
  curl -X POST http://127.0.0.1:PORT/_admin/clock -H \"x-admin-token: TOKEN\" \\
       -H 'content-type: application/json' -d '{\"advance_secs\": 3600}'";

/// A running emulator. Dropping it without [`Emulator::shutdown`] leaves the server running
/// until the runtime ends.
pub struct Emulator {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub supervisor_url: String,
    pub manage_key: String,
    pub read_key: String,
    pub admin_token: String,
    /// `(id, name)` of each deployment.
    pub deployments: Vec<(u64, String)>,
    shutdown_tx: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    // Keeps the temporary data directory alive as long as the emulator.
    _shared: Arc<state::Shared>,
}

impl Emulator {
    /// One JSON line describing how to reach this emulator (ids as strings).
    pub fn startup_line(&self) -> String {
        let deployments: Vec<serde_json::Value> = self
            .deployments
            .iter()
            .map(|(id, name)| serde_json::json!({ "id": id.to_string(), "name": name }))
            .collect();
        serde_json::json!({
            "supervisor_url": self.supervisor_url,
            "deployments": deployments,
            "keys": { "manage": self.manage_key, "read": self.read_key },
            "admin_token": self.admin_token,
        })
        .to_string()
    }

    /// Stops accepting connections and waits (at most 5 s) for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown_tx.take() {
            let _ = tx.send(());
        }
        let abort = self.task.abort_handle();
        if tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}

/// Binds 127.0.0.1:`config.port` and serves in a background task.
pub async fn start(config: EmulatorConfig) -> anyhow::Result<Emulator> {
    let listener = bind(&config).await?;
    let addr = listener.local_addr()?;
    let supervisor_url = format!("http://{addr}");
    let shared = Arc::new(state::Shared::new(
        &config,
        supervisor_url.clone(),
        addr.port(),
    )?);
    // Recorded at once (with the port), so that a restart finds it even if nothing changed.
    shared.save(&shared.lock());
    processing::resume_processing(&shared);
    let router = routes::router(shared.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!("emulator server stopped: {e}");
        }
    });
    Ok(Emulator {
        addr,
        supervisor_url,
        manage_key: shared.manage_key.clone(),
        read_key: shared.read_key.clone(),
        admin_token: shared.admin_token.clone(),
        deployments: shared
            .deployments
            .iter()
            .map(|d| (d.id, d.name.clone()))
            .collect(),
        shutdown_tx: Some(tx),
        task,
        _shared: shared,
    })
}

/// The port asked for; else, with state on disk, the port the last run served (so that a
/// restart keeps the URL contexts were saved with), or a free one when it is taken.
async fn bind(config: &EmulatorConfig) -> anyhow::Result<tokio::net::TcpListener> {
    if config.port != 0 {
        return tokio::net::TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on 127.0.0.1:{}: {e}", config.port));
    }
    if let Some(port) = config.data_dir.as_deref().and_then(state::previous_port) {
        match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => return Ok(l),
            Err(e) => tracing::warn!("port {port} of the last run is taken ({e}); using another"),
        }
    }
    Ok(tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?)
}

/// `snapdesk emulator [flags]`.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Port on 127.0.0.1; 0 (the default) reuses the last run's port when state is kept on
    /// disk, else picks a free one. A fixed port keeps the URL stable across restarts.
    #[arg(long, default_value_t = 0, value_name = "PORT")]
    pub port: u16,
    /// Node count of every deployment (default: 3 for events-prod, 2 for analytics-staging).
    #[arg(long, value_name = "N")]
    pub nodes: Option<u32>,
    /// Time a snapshot takes to complete, all nodes together, in milliseconds.
    #[arg(long = "processing-ms", default_value_t = 3000, value_name = "MS")]
    pub processing_ms: u64,
    /// Lifetime of presigned download URLs, in seconds.
    #[arg(long = "url-ttl", default_value_t = 300, value_name = "SECS")]
    pub url_ttl: u64,
    /// API key with deployment:manage (random when not given).
    #[arg(long = "manage-key", env = "SNAPDESK_EMULATOR_MANAGE_KEY")]
    pub manage_key: Option<String>,
    /// API key with deployment:read only (random when not given).
    #[arg(long = "read-key", env = "SNAPDESK_EMULATOR_READ_KEY")]
    pub read_key: Option<String>,
    /// Directory for state.json and archives/ (a temporary directory when not given).
    #[arg(long = "state-dir", id = "state_dir", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Token for the /_admin/ routes (random when not given).
    #[arg(long = "admin-token", env = "SNAPDESK_EMULATOR_ADMIN_TOKEN")]
    pub admin_token: Option<String>,
    /// Plan of every deployment (default: events-prod pro, analytics-staging basic).
    #[arg(long, value_enum)]
    pub plan: Option<Plan>,
}

impl EmulatorArgs {
    pub fn to_config(&self) -> EmulatorConfig {
        let mut deployments = default_deployments();
        for d in &mut deployments {
            if let Some(n) = self.nodes {
                d.nodes = n.max(1);
            }
            if let Some(p) = self.plan {
                d.plan = p;
            }
        }
        EmulatorConfig {
            port: self.port,
            nodes: self.nodes.unwrap_or(3).max(1),
            processing_ms: self.processing_ms,
            url_ttl_secs: self.url_ttl,
            manage_key: self.manage_key.clone(),
            read_key: self.read_key.clone(),
            data_dir: self.data_dir.clone(),
            deployments,
            admin_token: self.admin_token.clone(),
        }
    }
}

/// Runs the emulator for the CLI: prints the startup line to stdout, then serves until
/// Ctrl-C or SIGTERM. Call it from inside a tokio runtime.
pub async fn run(args: EmulatorArgs) -> anyhow::Result<()> {
    use std::io::Write;
    let emu = start(args.to_config()).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", emu.startup_line())?;
        out.flush()?;
    }
    wait_for_signal().await;
    emu.shutdown().await;
    Ok(())
}

/// Same as [`run`], for a caller without a runtime: builds one.
pub fn main_entry(args: EmulatorArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(args))
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    /// The modules, bottom to top: each may use only modules before it.
    const LAYERS: &[&str] = &[
        "util",
        "config",
        "model",
        "problem",
        "profile",
        "archives",
        "state",
        "processing",
        "routes::faults",
        "routes::storage",
        "routes::api",
        "routes::admin",
        "routes",
    ];

    /// The crate modules a file names (`crate::x`, `crate::{x, y}`, `super::x` in `routes/`).
    fn uses(src: &str, in_routes: bool) -> Vec<String> {
        let mut out = Vec::new();
        let code: String = src
            .lines()
            .take_while(|l| !l.starts_with("#[cfg(test)]"))
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let ident = |s: &str| -> String {
            s.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        };
        let mut push = |first: &str, rest: &str| {
            let first = ident(first.trim());
            if first == "routes" {
                let child = ident(rest.trim_start_matches("::"));
                out.push(format!("routes::{child}"));
            } else if !first.is_empty() {
                out.push(first);
            }
        };
        for (i, _) in code.match_indices("crate::") {
            let after = &code[i + 7..];
            if let Some(group) = after.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for part in group[..end].split(',') {
                    let part = part.trim();
                    let (a, b) = part.split_once("::").unwrap_or((part, ""));
                    push(a, b);
                }
            } else {
                let first = ident(after);
                push(&first, &after[first.len()..]);
            }
        }
        if in_routes {
            for (i, _) in code.match_indices("super::") {
                out.push(format!("routes::{}", ident(&code[i + 7..])));
            }
        }
        out
    }

    #[test]
    fn the_modules_form_layers_without_a_circle() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for (index, module) in LAYERS.iter().enumerate() {
            let file = match module.strip_prefix("routes::") {
                Some(child) => src.join("routes").join(format!("{child}.rs")),
                None if *module == "routes" => src.join("routes").join("mod.rs"),
                None => src.join(format!("{module}.rs")),
            };
            let text = std::fs::read_to_string(&file).unwrap();
            for used in uses(&text, module.starts_with("routes")) {
                let at = LAYERS
                    .iter()
                    .position(|m| *m == used)
                    .unwrap_or_else(|| panic!("{module} uses {used}, which has no layer"));
                assert!(
                    at < index,
                    "{module} uses {used}, which is not below it: a circle in the making"
                );
            }
        }
    }

    #[test]
    fn the_layer_check_sees_a_use_that_points_up() {
        let found = uses(
            "use crate::state::App;\nuse crate::{archives, util};\n",
            false,
        );
        assert_eq!(found, vec!["state", "archives", "util"]);
        let found = uses("use super::faults::PendingDelay;\n", true);
        assert_eq!(found, vec!["routes::faults"]);
    }
}

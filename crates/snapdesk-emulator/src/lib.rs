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

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod archives;
pub mod faults;
mod http;
pub mod profile;
mod state;
mod storage;
mod util;

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

/// A deployment's plan: how many snapshots it may keep and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Basic,
    Pro,
    Enterprise,
}

impl Plan {
    /// Snapshots (triggers, i.e. distinct names) a deployment may hold.
    pub fn snapshot_limit(self) -> usize {
        match self {
            Plan::Basic => 3,
            Plan::Pro => 5,
            Plan::Enterprise => 20,
        }
    }

    /// Days a snapshot is kept.
    pub fn retention_days(self) -> i64 {
        match self {
            Plan::Basic => 7,
            Plan::Pro => 14,
            Plan::Enterprise => 90,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Basic => "basic",
            Plan::Pro => "pro",
            Plan::Enterprise => "enterprise",
        }
    }
}

/// One emulated deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentSpec {
    pub id: u64,
    pub name: String,
    pub plan: Plan,
    /// Nodes of the deployment; 0 means "use `EmulatorConfig::nodes`".
    pub nodes: u32,
}

/// The default deployments: `events-prod` (Pro, 3 nodes) and `analytics-staging` (Basic, 2).
pub fn default_deployments() -> Vec<DeploymentSpec> {
    vec![
        DeploymentSpec {
            id: 611_298_765_432_109_056,
            name: "events-prod".into(),
            plan: Plan::Pro,
            nodes: 3,
        },
        DeploymentSpec {
            id: 611_298_765_432_109_057,
            name: "analytics-staging".into(),
            plan: Plan::Basic,
            nodes: 2,
        },
    ]
}

/// How to run the emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Node count for deployments whose spec says 0.
    pub nodes: u32,
    /// How long a snapshot takes, all nodes together (node i of n completes at
    /// `created + processing_ms * i / n`).
    pub processing_ms: u64,
    /// Lifetime of presigned download URLs.
    pub url_ttl_secs: u64,
    /// API key with `deployment:read` and `deployment:manage`; random when `None`.
    pub manage_key: Option<String>,
    /// API key with `deployment:read` only; random when `None`.
    pub read_key: Option<String>,
    /// Where state (`state.json`) and archives (`archives/`) live; a temporary directory
    /// owned by the emulator when `None`. State is reloaded from here on start.
    pub data_dir: Option<PathBuf>,
    pub deployments: Vec<DeploymentSpec>,
    /// Token for the `/_admin/` routes (header `x-admin-token`); random when `None`.
    pub admin_token: Option<String>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            port: 0,
            nodes: 3,
            processing_ms: 3000,
            url_ttl_secs: 300,
            manage_key: None,
            read_key: None,
            data_dir: None,
            deployments: default_deployments(),
            admin_token: None,
        }
    }
}

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
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
    let addr = listener.local_addr()?;
    let supervisor_url = format!("http://{addr}");
    let shared = Arc::new(state::Shared::new(&config, supervisor_url.clone())?);
    state::resume_processing(&shared);
    let router = http::router(shared.clone());
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

/// `snapdesk emulator [flags]`.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Port on 127.0.0.1 (0 = a free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Node count of every deployment (default: 3 for events-prod, 2 for analytics-staging).
    #[arg(long)]
    pub nodes: Option<u32>,
    /// Time a snapshot takes to complete, all nodes together.
    #[arg(long = "processing-ms", default_value_t = 3000)]
    pub processing_ms: u64,
    /// Lifetime of presigned download URLs, in seconds.
    #[arg(long = "url-ttl", default_value_t = 300)]
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

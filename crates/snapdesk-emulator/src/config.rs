//! How an emulator is shaped: deployments, plans, timings, keys. The bottom of the module
//! graph, with `util` and `model`: nothing here knows about HTTP.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

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

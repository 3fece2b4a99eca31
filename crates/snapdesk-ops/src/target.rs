//! Which Supervisor, deployment and key a flow talks to.

use std::sync::Arc;

use snapdesk_api::contexts::Contexts;
use snapdesk_api::{Client, ClientOptions};
use snapdesk_core::secrets::{self, KeySource};
use snapdesk_core::{AppPaths, Result};

/// A context resolved to a URL and a deployment, before any key is read (enough to describe
/// a request, as "Copy as curl" does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub context: String,
    pub url: String,
    pub deployment: u64,
    /// The deployment's plan as the context records it (the API does not say).
    pub plan: Option<snapdesk_api::Plan>,
}

impl Target {
    /// The named context (or the current one) and a deployment given by id or name (or the
    /// context's only one).
    pub fn resolve(
        paths: &AppPaths,
        context: Option<&str>,
        deployment: Option<&str>,
    ) -> Result<Self> {
        let all = Contexts::load(&paths.contexts_file())?;
        let (name, ctx) = all.resolve(context)?;
        let deployment = ctx.deployment(deployment)?;
        Ok(Self {
            context: name,
            url: ctx.url.clone(),
            plan: ctx.plan_of(deployment),
            deployment,
        })
    }

    /// Connects with the context's key (`LD_API_KEY`, else the OS keyring).
    pub fn connect(self) -> Result<Remote> {
        let (key, source) = secrets::load_key(&self.context)?;
        Remote::new(self, &key, source)
    }
}

/// A target with a client: what every flow runs against.
#[derive(Debug, Clone)]
pub struct Remote {
    pub target: Target,
    pub client: Client,
    pub key_source: KeySource,
}

impl Remote {
    /// A client for `target` with `key`. Downloads take their final name only when they are
    /// whole ZIP files.
    pub fn new(target: Target, key: &str, key_source: KeySource) -> Result<Self> {
        let client = Client::new(&target.url, key, ClientOptions::default())?;
        let client = client.with_validator(Arc::new(|p: &std::path::Path| {
            snapdesk_report::archive::check_zip(p).map_err(|e| e.to_string())
        }));
        Ok(Self {
            target,
            client,
            key_source,
        })
    }

    pub fn deployment(&self) -> u64 {
        self.target.deployment
    }
}

//! Connections as a desktop host keeps them: the CLI's contexts (one file, keys in the OS
//! keyring), plus what lives only as long as the host: keys kept for this session when no
//! keyring is reachable, the in-process demo Supervisor, and the permissions learned so far.
//!
//! The key of a connection never leaves this module towards a host's UI: a [`Connection`]
//! says only where its key is ([`KeyState`]).

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use snapdesk_api::contexts::{Contexts, KnownDeployment};
use snapdesk_api::Plan;
use snapdesk_core::secrets::{self, KeySource, KeyringStatus};
use snapdesk_core::{AppPaths, Error, ErrorCode, Result};
use snapdesk_emulator::{Emulator, EmulatorConfig};
use ts_rs::TS;

use crate::contexts::{self, ContextRemoved, KeyChoice, NewContext, Permissions};
use crate::target::{Remote, Target};

/// The name the demo connection takes.
pub const DEMO: &str = "demo";

/// Where a connection's key is. The key itself never crosses to a UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// In the OS keyring.
    Keyring,
    /// In this process's memory until it ends (no keyring was reachable, or the demo).
    Session,
    /// `LD_API_KEY` supplies it.
    Environment,
    /// Nowhere: requests will fail until a key is given.
    Missing,
}

/// A connection: a CLI context, or the in-process demo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Connection {
    pub name: String,
    pub label: String,
    pub url: String,
    /// The CLI's current context.
    pub current: bool,
    pub deployments: Vec<KnownDeployment>,
    pub key: KeyState,
    /// The local emulator started by "Try the demo": gone when the host stops.
    pub demo: bool,
}

/// Whether keys can be stored in an OS keyring here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct KeyringInfo {
    pub available: bool,
    /// Why not, when not.
    pub message: Option<String>,
}

/// Every connection, and whether the keyring can be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Connections {
    pub items: Vec<Connection>,
    pub keyring: KeyringInfo,
}

/// A connection to add or change, as a person typed it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, TS)]
pub struct ConnectionDraft {
    pub name: String,
    /// The name before an edit (a rename moves the key along).
    pub previous: Option<String>,
    #[serde(default)]
    pub label: String,
    pub url: String,
    /// `ID` or `ID=NAME`.
    pub deployments: Vec<String>,
    /// `None` on an edit keeps the stored key.
    pub key: Option<String>,
    /// Keep the key in memory for this session instead of the keyring.
    #[serde(default)]
    pub session_only: bool,
    /// The deployments' plan, when known (the API does not say): the retention countdown.
    #[serde(default)]
    #[ts(optional)]
    pub plan: Option<Plan>,
}

struct Demo {
    emulator: Emulator,
}

/// The connections of one host process.
pub struct Connector {
    paths: AppPaths,
    session_keys: Mutex<HashMap<String, String>>,
    permissions: Mutex<HashMap<(String, u64), Permissions>>,
    /// Deployment names already recorded (or found) in the contexts file this session: a
    /// processing snapshot's polls view the deployment every few seconds.
    names_known: Mutex<std::collections::HashSet<(String, u64, String)>>,
    demo: tokio::sync::Mutex<Option<Demo>>,
    demo_seen: Mutex<Option<(String, Vec<KnownDeployment>)>>,
}

impl Connector {
    pub fn new(paths: AppPaths) -> Self {
        Self {
            paths,
            session_keys: Mutex::default(),
            permissions: Mutex::default(),
            names_known: Mutex::default(),
            demo: tokio::sync::Mutex::new(None),
            demo_seen: Mutex::default(),
        }
    }

    pub fn paths(&self) -> &AppPaths {
        &self.paths
    }

    fn session_key(&self, name: &str) -> Option<String> {
        self.session_keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    fn key_state(&self, name: &str, keyring: &KeyringStatus) -> KeyState {
        if self.session_key(name).is_some() {
            KeyState::Session
        } else if std::env::var_os(secrets::KEY_ENV).is_some() {
            KeyState::Environment
        } else if keyring.is_reachable() && secrets::load_stored_key(name).is_ok() {
            KeyState::Keyring
        } else {
            KeyState::Missing
        }
    }

    fn demo_connection(&self) -> Option<Connection> {
        let seen = self.demo_seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.as_ref().map(|(url, deployments)| Connection {
            name: DEMO.to_owned(),
            label: "Demo (local emulator)".to_owned(),
            url: url.clone(),
            current: false,
            deployments: deployments.clone(),
            key: KeyState::Session,
            demo: true,
        })
    }

    /// Every connection: the demo first while it runs, then the contexts by name.
    pub fn list(&self) -> Result<Connections> {
        off_runtime(|| self.list_now())
    }

    fn list_now(&self) -> Result<Connections> {
        let status = secrets::keyring_status();
        let mut items: Vec<Connection> = self.demo_connection().into_iter().collect();
        for row in contexts::list(&self.paths)? {
            if row.name == DEMO && !items.is_empty() {
                continue;
            }
            items.push(Connection {
                key: self.key_state(&row.name, &status),
                name: row.name,
                label: row.label,
                url: row.url,
                current: row.current,
                deployments: row.deployments,
                demo: false,
            });
        }
        Ok(Connections {
            items,
            keyring: KeyringInfo {
                available: status.is_reachable(),
                message: match status {
                    KeyringStatus::Reachable => None,
                    KeyringStatus::Unreachable { reason } => Some(format!(
                        "No OS keyring is reachable ({reason}). A key can be kept for this \
                         session only; it is forgotten when Snapdesk quits."
                    )),
                },
            },
        })
    }

    /// Adds or changes a connection (a CLI context). A key goes to the keyring, or to this
    /// session's memory when asked; on an edit without a key the stored one stays (and moves
    /// along with a rename).
    pub fn save(&self, draft: ConnectionDraft) -> Result<Connection> {
        off_runtime(|| self.save_now(draft))
    }

    fn save_now(&self, draft: ConnectionDraft) -> Result<Connection> {
        if draft.name == DEMO {
            return Err(Error::invalid_input(format!(
                "{DEMO:?} is the name of the demo connection: choose another name"
            )));
        }
        let new = NewContext {
            name: draft.name.clone(),
            url: draft.url.trim().to_owned(),
            label: draft.label.trim().to_owned(),
            deployments: draft
                .deployments
                .iter()
                .map(|d| d.trim().to_owned())
                .filter(|d| !d.is_empty())
                .collect(),
            plan: draft.plan,
        };
        contexts::validate(&new)?;
        let renamed_from = draft
            .previous
            .as_deref()
            .filter(|p| *p != draft.name.as_str());
        let key = draft
            .key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty());
        if let Some(k) = key {
            snapdesk_api::client::check_key(k)?;
        }
        let choice = match (key, draft.session_only) {
            (Some(k), false) => KeyChoice::Store(k.to_owned()),
            (Some(k), true) => {
                self.session_keys
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(draft.name.clone(), k.to_owned());
                KeyChoice::Keep
            }
            (None, _) => {
                if let Some(old) = renamed_from {
                    self.move_key(old, &draft.name)?;
                }
                KeyChoice::Keep
            }
        };
        if let (Some(_), false) = (key, draft.session_only) {
            // A key now in the keyring replaces one kept for the session.
            self.session_keys
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&draft.name);
        }
        // Keep known names and plans of deployments the person did not rename.
        let known = Contexts::load(&self.paths.contexts_file())?;
        let before = draft
            .previous
            .as_deref()
            .and_then(|p| known.contexts.get(p).cloned());
        contexts::add(&self.paths, new, choice)?;
        if let Some(old) = before {
            self.keep_known(&draft.name, &old.deployments)?;
        }
        if let Some(old) = renamed_from {
            contexts::remove(&self.paths, old).map(|_| ())?;
        }
        self.forget_permissions(&draft.name);
        self.list_now()?
            .items
            .into_iter()
            .find(|c| c.name == draft.name)
            .ok_or_else(|| Error::internal("the connection just saved is not listed"))
    }

    fn move_key(&self, from: &str, to: &str) -> Result<()> {
        let mut keys = self.session_keys.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = keys.remove(from) {
            keys.insert(to.to_owned(), k);
            return Ok(());
        }
        drop(keys);
        match secrets::load_stored_key(from) {
            Ok(k) => {
                secrets::store_key(to, &k)?;
                secrets::delete_key(from)
            }
            Err(_) => Ok(()),
        }
    }

    /// Fills deployment names and plans the draft left empty from what was known.
    fn keep_known(&self, name: &str, old: &[KnownDeployment]) -> Result<()> {
        let file = self.paths.contexts_file();
        let mut all = Contexts::load(&file)?;
        let Some(ctx) = all.contexts.get_mut(name) else {
            return Ok(());
        };
        let mut changed = false;
        for d in &mut ctx.deployments {
            if let Some(o) = old.iter().find(|o| o.id == d.id) {
                if d.name.is_empty() && !o.name.is_empty() {
                    d.name = o.name.clone();
                    changed = true;
                }
                if d.plan.is_none() && o.plan.is_some() {
                    d.plan = o.plan;
                    changed = true;
                }
            }
        }
        if changed {
            all.save(&file)?;
        }
        Ok(())
    }

    /// One connection by name.
    pub fn get(&self, name: &str) -> Result<Connection> {
        self.list()?
            .items
            .into_iter()
            .find(|c| c.name == name)
            .ok_or_else(|| Error::not_found(format!("there is no connection named {name:?}")))
    }

    /// Removes a connection and its stored key; removing the demo stops its Supervisor.
    pub async fn remove(&self, name: &str) -> Result<ContextRemoved> {
        self.forget_permissions(name);
        if name == DEMO && self.demo_connection().is_some() {
            self.stop_demo().await;
            return Ok(ContextRemoved {
                name: name.to_owned(),
                key_error: None,
            });
        }
        self.session_keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
        off_runtime(|| contexts::remove(&self.paths, name))
    }

    /// Starts the demo Supervisor on 127.0.0.1 (once; later calls return it) and gives its
    /// connection. Snapshots complete in a few seconds so every flow can be tried.
    pub async fn start_demo(&self) -> Result<Connection> {
        let mut demo = self.demo.lock().await;
        if demo.is_none() {
            let config = EmulatorConfig {
                processing_ms: 6_000,
                ..EmulatorConfig::default()
            };
            let plans: HashMap<u64, Plan> = config
                .deployments
                .iter()
                .map(|d| (d.id, plan_of(d.plan)))
                .collect();
            let emulator = snapdesk_emulator::start(config).await.map_err(|e| {
                Error::new(
                    ErrorCode::Io,
                    format!("cannot start the demo Supervisor: {e:#}"),
                )
            })?;
            let deployments = emulator
                .deployments
                .iter()
                .map(|(id, name)| KnownDeployment {
                    id: id.to_string(),
                    name: name.clone(),
                    plan: plans.get(id).copied(),
                })
                .collect::<Vec<_>>();
            *self.demo_seen.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((emulator.supervisor_url.clone(), deployments));
            *demo = Some(Demo { emulator });
        }
        drop(demo);
        self.demo_connection()
            .ok_or_else(|| Error::internal("the demo Supervisor stopped while starting"))
    }

    /// Stops the demo Supervisor, if it runs (a host calls this when it quits).
    pub async fn stop_demo(&self) {
        let demo = self.demo.lock().await.take();
        *self.demo_seen.lock().unwrap_or_else(|p| p.into_inner()) = None;
        if let Some(d) = demo {
            d.emulator.shutdown().await;
        }
    }

    /// Where a request about `deployment` (an id, or a name the connection knows) goes.
    pub fn target(&self, connection: &str, deployment: &str) -> Result<Target> {
        if connection == DEMO {
            if let Some(c) = self.demo_connection() {
                let d = c
                    .deployments
                    .iter()
                    .find(|d| d.id == deployment || d.name == deployment)
                    .ok_or_else(|| {
                        Error::not_found(format!("the demo has no deployment {deployment:?}"))
                    })?;
                return Ok(Target {
                    context: DEMO.to_owned(),
                    url: c.url,
                    deployment: d.id_u64()?,
                    plan: d.plan,
                });
            }
        }
        Target::resolve(&self.paths, Some(connection), Some(deployment))
    }

    /// A client for `deployment` of `connection`, with its key.
    pub async fn remote(&self, connection: &str, deployment: &str) -> Result<Remote> {
        let target = self.target(connection, deployment)?;
        if connection == DEMO {
            if let Some(d) = self.demo.lock().await.as_ref() {
                return Remote::new(target, &d.emulator.manage_key, KeySource::Keyring);
            }
        }
        if let Some(k) = self.session_key(connection) {
            return Remote::new(target, &k, KeySource::Keyring);
        }
        tokio::task::spawn_blocking(move || target.connect())
            .await
            .map_err(|e| Error::internal(format!("reading the key failed: {e}")))?
    }

    /// What the host learned about a key's permissions on a deployment.
    pub fn permissions(&self, connection: &str, deployment: u64) -> Option<Permissions> {
        self.permissions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(connection.to_owned(), deployment))
            .copied()
    }

    pub fn learn_permissions(&self, connection: &str, deployment: u64, p: Permissions) {
        self.permissions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((connection.to_owned(), deployment), p);
    }

    /// A refusal (403) of a create or a delete says the key cannot manage.
    pub fn learn_from_error(&self, connection: &str, deployment: u64, e: &Error) {
        if e.code == ErrorCode::Forbidden {
            self.learn_permissions(
                connection,
                deployment,
                Permissions {
                    read: true,
                    manage: Some(false),
                },
            );
        }
    }

    fn forget_permissions(&self, connection: &str) {
        self.permissions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(c, _), _| c != connection);
        // A saved or removed connection's deployments are read from the file again.
        self.names_known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(c, _, _)| c != connection);
    }

    /// Records a deployment's name from the API in the context, when the context has none
    /// for it (names come from the API's `deployment_name`).
    pub fn remember_name(&self, connection: &str, deployment: u64, name: &str) -> Result<()> {
        if connection == DEMO || name.is_empty() {
            return Ok(());
        }
        let key = (connection.to_owned(), deployment, name.to_owned());
        if self
            .names_known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&key)
        {
            return Ok(());
        }
        // Only a name the file now holds is remembered: a deployment the context does not
        // know yet is looked at again on its next view.
        if self.record_name(connection, deployment, name)? {
            self.names_known
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key);
        }
        Ok(())
    }

    /// Writes the name when the context knows the deployment without one; whether the file
    /// holds that name afterwards.
    fn record_name(&self, connection: &str, deployment: u64, name: &str) -> Result<bool> {
        let file = self.paths.contexts_file();
        let mut all = Contexts::load(&file)?;
        let Some(ctx) = all.contexts.get_mut(connection) else {
            return Ok(false);
        };
        if ctx.deployments.iter().any(|d| d.name == name) {
            return Ok(true);
        }
        let Some(d) = ctx
            .deployments
            .iter_mut()
            .find(|d| d.id_u64().ok() == Some(deployment) && d.name.is_empty())
        else {
            return Ok(false);
        };
        d.name = name.to_owned();
        all.save(&file)?;
        Ok(true)
    }
}

/// Runs keyring work where it may block: the keyring's D-Bus client starts its own runtime,
/// which panics inside a Tokio runtime, so there it runs on a thread of its own.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(v) => v,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

fn plan_of(p: snapdesk_emulator::Plan) -> Plan {
    match p {
        snapdesk_emulator::Plan::Basic => Plan::Basic,
        snapdesk_emulator::Plan::Pro => Plan::Pro,
        snapdesk_emulator::Plan::Enterprise => Plan::Enterprise,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapdesk_api::contexts::{Context, KnownDeployment};

    #[test]
    fn a_deployment_name_is_recorded_once_and_not_read_again_each_poll() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = AppPaths::under(tmp.path());
        let file = paths.contexts_file();
        let mut all = Contexts::default();
        all.contexts.insert(
            "prod".into(),
            Context {
                label: String::new(),
                url: "http://127.0.0.1:1".into(),
                deployments: vec![KnownDeployment {
                    id: "5".into(),
                    name: String::new(),
                    plan: None,
                }],
            },
        );
        all.save(&file).unwrap();
        let c = Connector::new(paths);
        c.remember_name("prod", 5, "events").unwrap();
        let saved = Contexts::load(&file).unwrap();
        assert_eq!(saved.contexts["prod"].deployments[0].name, "events");
        // Known now: a later view does not read or write the file (a person cleared the
        // name meanwhile: it stays cleared until the API says another name).
        all.save(&file).unwrap();
        c.remember_name("prod", 5, "events").unwrap();
        assert_eq!(
            Contexts::load(&file).unwrap().contexts["prod"].deployments[0].name,
            ""
        );
        // A deployment the context does not know is not remembered: once added, its name is
        // recorded.
        c.remember_name("prod", 6, "other").unwrap();
        all.contexts
            .get_mut("prod")
            .unwrap()
            .deployments
            .push(KnownDeployment {
                id: "6".into(),
                name: String::new(),
                plan: None,
            });
        all.save(&file).unwrap();
        c.remember_name("prod", 6, "other").unwrap();
        assert_eq!(
            Contexts::load(&file).unwrap().contexts["prod"].deployments[1].name,
            "other"
        );
        // A name the session has not seen is read and recorded as before.
        c.remember_name("prod", 5, "renamed").unwrap();
        assert_eq!(
            Contexts::load(&file).unwrap().contexts["prod"].deployments[0].name,
            "renamed"
        );
    }
}

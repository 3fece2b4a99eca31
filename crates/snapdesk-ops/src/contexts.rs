//! Contexts: a name, a Supervisor URL, the deployments known there, and a key kept in the OS
//! keyring (or supplied by `LD_API_KEY`, then never stored).

use serde::Serialize;
use snapdesk_api::contexts::{parse_deployment_id, Context, Contexts, KnownDeployment};
use snapdesk_core::secrets::{self, KeySource, KeyringStatus};
use snapdesk_core::{AppPaths, Error, ErrorCode, Result};
use ts_rs::TS;

use crate::target::{Remote, Target};

/// A context to add, as a person typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContext {
    pub name: String,
    pub url: String,
    pub label: String,
    /// `ID` or `ID=NAME`.
    pub deployments: Vec<String>,
    /// The Supervisor plan of these deployments, when known (the API does not say): how long
    /// the server keeps their snapshots.
    pub plan: Option<snapdesk_api::Plan>,
}

/// What to do with the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChoice {
    /// Store this key in the OS keyring.
    Store(String),
    /// Keep the key already stored for this context.
    Keep,
    /// `LD_API_KEY` supplies the key; nothing is stored.
    Environment,
}

/// Where the context's key is after an add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum KeyStorage {
    /// Stored in the OS keyring now.
    Keyring,
    /// The key stored before was kept (and not checked).
    Kept,
    /// Not stored anywhere: `LD_API_KEY` supplies it while it is set.
    NotStored,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ContextAdded {
    pub name: String,
    pub url: String,
    pub key: KeyStorage,
    /// This context is now the current one.
    pub current: bool,
}

/// Parses `ID` or `ID=NAME`.
pub fn parse_deployment_arg(s: &str) -> Result<KnownDeployment> {
    let (id, name) = s.split_once('=').unwrap_or((s, ""));
    parse_deployment_id(id)?;
    Ok(KnownDeployment {
        id: id.trim().to_owned(),
        name: name.trim().to_owned(),
        plan: None,
    })
}

/// Checks the context's input before anything is asked or stored (a host prompts for the
/// key only after this).
pub fn validate(new: &NewContext) -> Result<Vec<KnownDeployment>> {
    snapdesk_api::contexts::validate_name(&new.name)?;
    snapdesk_api::client::parse_base_url(&new.url)?;
    new.deployments
        .iter()
        .map(|d| {
            parse_deployment_arg(d).map(|mut k| {
                k.plan = new.plan;
                k
            })
        })
        .collect()
}

/// Whether a key can be stored here; an error says what to do instead.
pub fn require_keyring() -> Result<()> {
    match secrets::keyring_status() {
        KeyringStatus::Reachable => Ok(()),
        KeyringStatus::Unreachable { reason } => Err(Error::new(
            ErrorCode::Keyring,
            format!("no OS keyring is reachable to store the API key: {reason}"),
        )
        .with_hint(
            "set LD_API_KEY to the key (it is then used without being stored), or start a \
             Secret Service (on a headless server: gnome-keyring in a D-Bus session)",
        )),
    }
}

/// Saves the context (and stores the key, when given one to store).
pub fn add(paths: &AppPaths, new: NewContext, key: KeyChoice) -> Result<ContextAdded> {
    let deployments = validate(&new)?;
    let file = paths.contexts_file();
    let mut all = Contexts::load(&file)?;
    let storage = match &key {
        KeyChoice::Store(k) => {
            snapdesk_api::client::check_key(k)?;
            secrets::store_key(&new.name, k)?;
            KeyStorage::Keyring
        }
        KeyChoice::Keep => KeyStorage::Kept,
        KeyChoice::Environment => KeyStorage::NotStored,
    };
    all.upsert(
        &new.name,
        Context {
            label: new.label,
            url: new.url.clone(),
            deployments,
        },
    )?;
    all.save(&file)?;
    Ok(ContextAdded {
        current: all.current.as_deref() == Some(new.name.as_str()),
        name: new.name,
        url: new.url,
        key: storage,
    })
}

/// One row of the context list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ContextRow {
    pub name: String,
    pub current: bool,
    pub label: String,
    pub url: String,
    pub deployments: Vec<KnownDeployment>,
}

pub fn list(paths: &AppPaths) -> Result<Vec<ContextRow>> {
    let all = Contexts::load(&paths.contexts_file())?;
    Ok(all
        .contexts
        .iter()
        .map(|(n, c)| ContextRow {
            name: n.clone(),
            current: all.current.as_deref() == Some(n.as_str()),
            label: c.label.clone(),
            url: c.url.clone(),
            deployments: c.deployments.clone(),
        })
        .collect())
}

pub fn set_current(paths: &AppPaths, name: &str) -> Result<()> {
    let file = paths.contexts_file();
    let mut all = Contexts::load(&file)?;
    all.set_current(name)?;
    all.save(&file)
}

/// What a remove did with the key.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ContextRemoved {
    pub name: String,
    /// `None` when the stored key is gone (or there was none); else why it stayed.
    pub key_error: Option<Error>,
}

/// Removes the context, then its stored key; the context goes even when the keyring cannot
/// be reached, and the result says what stayed.
pub fn remove(paths: &AppPaths, name: &str) -> Result<ContextRemoved> {
    let file = paths.contexts_file();
    let mut all = Contexts::load(&file)?;
    all.remove(name)?;
    all.save(&file)?;
    Ok(ContextRemoved {
        name: name.to_owned(),
        key_error: secrets::delete_key(name).err(),
    })
}

/// The permissions a test found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct Permissions {
    #[serde(rename = "deployment:read")]
    pub read: bool,
    /// `None`: not checked.
    #[serde(rename = "deployment:manage")]
    pub manage: Option<bool>,
}

/// What a context test found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct ContextTest {
    pub context: String,
    pub url: String,
    #[serde(with = "snapdesk_api::ids")]
    #[ts(type = "string")]
    pub deployment: u64,
    /// Snapshot items (one per node) the deployment holds.
    #[ts(type = "number")]
    pub snapshots: u64,
    pub permissions: Permissions,
    /// Where the key came from.
    pub key_from_environment: bool,
}

/// Lists the deployment's snapshots with the key, and with `probe_manage` finds out whether
/// the key may create and delete by asking to delete snapshot 0, which cannot exist (ids are
/// snowflakes): refused without `deployment:manage`, "not found" with it. Off by default: it
/// leaves a delete in the audit log.
pub async fn test(remote: &Remote, probe_manage: bool) -> Result<ContextTest> {
    let dep = remote.deployment();
    let page = remote.client.list_snapshots(dep, 1, 1).await?;
    let manage = if probe_manage {
        match remote.client.delete_snapshot(dep, 0).await {
            Err(e) if e.status() == Some(403) => Some(false),
            Err(e) if e.status() == Some(404) => Some(true),
            Err(e) => return Err(e.into()),
            Ok(()) => {
                return Err(Error::new(
                    ErrorCode::Api,
                    "the Supervisor accepted deleting snapshot 0; permissions unknown",
                ))
            }
        }
    } else {
        None
    };
    Ok(ContextTest {
        context: remote.target.context.clone(),
        url: remote.target.url.clone(),
        deployment: dep,
        snapshots: page.total_results,
        permissions: Permissions { read: true, manage },
        key_from_environment: remote.key_source == KeySource::Environment,
    })
}

/// A test right after an add, with the key just given (before it could be read back).
pub async fn test_new(
    paths: &AppPaths,
    name: &str,
    deployment: Option<&str>,
    key: &str,
    key_source: KeySource,
) -> Result<ContextTest> {
    let target = Target::resolve(paths, Some(name), deployment)?;
    let remote = Remote::new(target, key, key_source)?;
    test(&remote, false).await
}

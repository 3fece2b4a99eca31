//! Named contexts: a label, a Supervisor URL and the deployments known there, kept in
//! `contexts.toml` under the config directory. Keys are never here: they live in the OS
//! keyring (service `snapdesk`, account = the context name).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use snapdesk_core::{Error, ErrorCode};
use ts_rs::TS;

/// A deployment known in a context. The id is a string here: it exceeds 2^53.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct KnownDeployment {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// Its plan, when a person said (the API does not): how long the server keeps snapshots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<crate::models::Plan>,
}

/// As a person types it: `ID=NAME`, or `ID` when it has no name.
impl std::fmt::Display for KnownDeployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.name.is_empty() {
            f.write_str(&self.id)
        } else {
            write!(f, "{}={}", self.id, self.name)
        }
    }
}

impl KnownDeployment {
    pub fn id_u64(&self) -> Result<u64, Error> {
        parse_deployment_id(&self.id)
    }
}

/// One context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Context {
    #[serde(default)]
    pub label: String,
    pub url: String,
    #[serde(default)]
    pub deployments: Vec<KnownDeployment>,
}

/// The contents of `contexts.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contexts {
    /// The context used when none is named.
    #[serde(default)]
    pub current: Option<String>,
    #[serde(default)]
    pub contexts: BTreeMap<String, Context>,
}

/// Parses a deployment id given by a person.
pub fn parse_deployment_id(s: &str) -> Result<u64, Error> {
    crate::ids::parse_id(s).map_err(|e| Error::invalid_input(format!("deployment id {e}")))
}

/// A context name must be usable as a keyring account and a TOML key.
pub fn validate_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{name:?} is not a valid context name: use letters, digits, '-', '_' or '.', up to 64"
        )))
    }
}

impl Contexts {
    /// Reads the file; a missing file is an empty set.
    pub fn load(path: &Path) -> Result<Self, Error> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                Error::new(
                    ErrorCode::Config,
                    format!("{} is not valid: {e}", path.display()),
                )
                .with_hint("fix the file by hand, or remove it and add the contexts again")
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::io_at(e, "read", path)),
        }
    }

    /// Writes the file atomically (a temporary file renamed over it).
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let text = toml::to_string_pretty(self)
            .map_err(|e| Error::internal(format!("cannot write contexts: {e}")))?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io_at(e, "create directory", dir))?;
        }
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(
            &tmp,
            format!("# Snapdesk contexts. API keys are in the OS keyring, not here.\n{text}"),
        )
        .map_err(|e| Error::io_at(e, "write", &tmp))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io_at(e, "write", path))
    }

    /// The named context, or the current one.
    pub fn resolve(&self, name: Option<&str>) -> Result<(String, &Context), Error> {
        let name = match name.or(self.current.as_deref()) {
            Some(n) => n.to_owned(),
            None if self.contexts.len() == 1 => {
                self.contexts.keys().next().cloned().unwrap_or_default()
            }
            None => {
                return Err(
                    Error::new(ErrorCode::Config, "no context is selected").with_hint(
                        if self.contexts.is_empty() {
                            "add a context: a name, the Supervisor URL and an API key"
                        } else {
                            "choose the current context, or name the context to use"
                        },
                    ),
                )
            }
        };
        let ctx = self.contexts.get(&name).ok_or_else(|| {
            Error::not_found(format!("there is no context named {name:?}")).with_hint(format!(
                "known contexts: {}",
                if self.contexts.is_empty() {
                    "none yet".to_owned()
                } else {
                    self.contexts.keys().cloned().collect::<Vec<_>>().join(", ")
                }
            ))
        })?;
        Ok((name, ctx))
    }

    /// Adds or replaces a context; the first one becomes current.
    pub fn upsert(&mut self, name: &str, ctx: Context) -> Result<(), Error> {
        validate_name(name)?;
        let mut seen = std::collections::HashSet::new();
        for d in &ctx.deployments {
            if !d.name.is_empty() && !seen.insert(d.name.as_str()) {
                return Err(Error::invalid_input(format!(
                    "two deployments are named {:?}: names must be unique in a context",
                    d.name
                )));
            }
        }
        self.contexts.insert(name.to_owned(), ctx);
        if self.current.is_none() {
            self.current = Some(name.to_owned());
        }
        Ok(())
    }

    pub fn remove(&mut self, name: &str) -> Result<Context, Error> {
        let ctx = self
            .contexts
            .remove(name)
            .ok_or_else(|| Error::not_found(format!("there is no context named {name:?}")))?;
        if self.current.as_deref() == Some(name) {
            self.current = None;
        }
        Ok(ctx)
    }

    pub fn set_current(&mut self, name: &str) -> Result<(), Error> {
        if !self.contexts.contains_key(name) {
            return Err(Error::not_found(format!(
                "there is no context named {name:?}"
            )));
        }
        self.current = Some(name.to_owned());
        Ok(())
    }
}

impl Context {
    /// The plan recorded for a deployment of this context, if any.
    pub fn plan_of(&self, deployment: u64) -> Option<crate::models::Plan> {
        self.deployments
            .iter()
            .find(|d| d.id_u64().ok() == Some(deployment))
            .and_then(|d| d.plan)
    }

    /// A deployment by id or by name; with none given, the only one known.
    pub fn deployment(&self, given: Option<&str>) -> Result<u64, Error> {
        match given {
            Some(g) => match self.deployments.iter().find(|d| d.name == g) {
                Some(d) => d.id_u64(),
                None => parse_deployment_id(g).map_err(|e| {
                    let known: Vec<String> =
                        self.deployments.iter().map(ToString::to_string).collect();
                    e.with_hint(if known.is_empty() {
                        "this context knows no deployment names: give the numeric id, or add \
                         the deployment as ID=NAME to the context"
                            .to_owned()
                    } else {
                        format!("known deployments: {}", known.join(", "))
                    })
                }),
            },
            None if self.deployments.len() == 1 => self.deployments[0].id_u64(),
            None => Err(
                Error::invalid_input("which deployment? name it by id or by name").with_hint(
                    if self.deployments.is_empty() {
                        "this context knows no deployment: add one as ID=NAME to the context"
                            .to_owned()
                    } else {
                        let known: Vec<String> =
                            self.deployments.iter().map(ToString::to_string).collect();
                        format!("known deployments: {}", known.join(", "))
                    },
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_round_trip_through_toml_with_exact_ids() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("config/contexts.toml");
        let mut c = Contexts::default();
        c.upsert(
            "prod",
            Context {
                label: "Production".into(),
                url: "https://sup.example".into(),
                deployments: vec![KnownDeployment {
                    id: "611298765432109056".into(),
                    name: "events-prod".into(),
                    plan: Some(crate::models::Plan::Enterprise),
                }],
            },
        )
        .unwrap();
        c.save(&path).unwrap();
        let back = Contexts::load(&path).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.current.as_deref(), Some("prod"));
        let (name, ctx) = back.resolve(None).unwrap();
        assert_eq!(name, "prod");
        assert_eq!(
            ctx.deployment(Some("events-prod")).unwrap(),
            611_298_765_432_109_056
        );
        assert_eq!(ctx.deployment(None).unwrap(), 611_298_765_432_109_056);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.to_lowercase().contains("key ="), "no key in the file");
    }

    #[test]
    fn bad_names_and_missing_contexts_are_clear() {
        let e = validate_name("a b").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert!(e.message.contains("\"a b\""), "{}", e.message);
        assert!(validate_name("prod-eu_1").is_ok());
        let c = Contexts::default();
        let e = c.resolve(None).unwrap_err();
        assert_eq!(e.code, ErrorCode::Config);
        assert!(e.hint.unwrap().contains("add a context"));
    }
}

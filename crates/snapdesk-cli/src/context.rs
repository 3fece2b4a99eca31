//! `snapdesk context ...`: the flows are in `snapdesk_ops::contexts`; this file parses,
//! prompts for the key and prints.

use std::io::{IsTerminal, Read};

use clap::Subcommand;
use snapdesk_core::secrets::{self, KeySource};
use snapdesk_core::{AppPaths, Error, ErrorCode, Result};
use snapdesk_ops::contexts::{self, ContextAdded, KeyChoice, NewContext};
use snapdesk_ops::Target;

use crate::output::{CmdResult, Failure, Output};
use crate::render;

#[derive(Debug, Subcommand)]
pub enum ContextCommand {
    /// Add (or replace) a context. The API key is read from a prompt or standard input and
    /// stored in the OS keyring; with LD_API_KEY set, that key is used and nothing is stored.
    Add {
        /// Name of the context (letters, digits, '-', '_', '.'; up to 64).
        name: String,
        /// The Supervisor URL, a host without a path, e.g. https://supervisor-aws-us.example.
        #[arg(long, value_name = "URL")]
        url: String,
        /// A label shown to people.
        #[arg(long, default_value = "", value_name = "TEXT")]
        label: String,
        /// A known deployment, `ID` or `ID=NAME` (repeatable).
        #[arg(long = "deployment", value_name = "ID[=NAME]")]
        deployments: Vec<String>,
        /// The Supervisor plan of these deployments (basic, pro, enterprise), when known:
        /// the library then knows until when the server keeps a downloaded snapshot.
        #[arg(long, value_name = "PLAN", value_parser = clap::value_parser!(snapdesk_api::Plan))]
        plan: Option<snapdesk_api::Plan>,
        /// Keep the key that is already stored for this context.
        #[arg(long)]
        keep_key: bool,
        /// Then list the deployment's snapshots with the key, to prove URL and key work.
        #[arg(long)]
        check: bool,
    },
    /// List the contexts.
    List,
    /// Make a context the current one.
    Use {
        /// The context's name.
        name: String,
    },
    /// Remove a context and its stored key.
    Remove {
        /// The context's name.
        name: String,
    },
    /// List a deployment's snapshots with the context's key and report its permissions.
    Test {
        /// The context to test (default: the current one).
        #[arg(long, value_name = "NAME")]
        context: Option<String>,
        /// The deployment: an id, or a name known in the context.
        #[arg(long, value_name = "ID|NAME")]
        deployment: Option<String>,
        /// Also find out whether the key may create and delete (`deployment:manage`), by
        /// asking to delete snapshot 0, which cannot exist: refused without the permission,
        /// "not found" with it. Off by default: it leaves a delete in the audit log.
        #[arg(long)]
        probe_manage: bool,
    },
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    // One thread: the CLI does one thing at a time, and on small machines a second worker
    // only adds wake-ups between the network and the disk.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the async runtime: {e}")))
}

fn read_key() -> Result<String> {
    let key = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("API key (input hidden): ")
            .map_err(|e| Error::new(ErrorCode::InvalidInput, format!("cannot read the key: {e}")))?
    } else {
        let mut s = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut s)
            .map_err(|e| {
                Error::new(ErrorCode::InvalidInput, format!("cannot read the key: {e}"))
            })?;
        s
    };
    // A prompt or a pipe ends with a newline that is not part of the key.
    let key = key.trim().to_owned();
    if key.is_empty() {
        return Err(Error::invalid_input("no API key given").with_hint(
            "type it at the prompt, or pipe it: `printf %s \"$KEY\" | snapdesk context add ...`; \
             the Supervisor's console creates API keys",
        ));
    }
    Ok(key)
}

fn env_key() -> Option<String> {
    std::env::var(secrets::KEY_ENV)
        .ok()
        .filter(|k| !k.trim().is_empty())
}

pub fn run(cmd: ContextCommand, paths: &AppPaths, out: &Output) -> CmdResult {
    match cmd {
        ContextCommand::Add {
            name,
            url,
            label,
            deployments,
            plan,
            keep_key,
            check,
        } => {
            let new = NewContext {
                name,
                url,
                label,
                deployments,
                plan,
            };
            add(paths, new, keep_key, check, out)
        }
        ContextCommand::List => {
            let rows = contexts::list(paths)?;
            out.print(&rows, |r| render::contexts(r))
        }
        ContextCommand::Use { name } => {
            contexts::set_current(paths, &name)?;
            out.print(&serde_json::json!({ "current": name }), |_| {
                format!("using context {name:?}")
            })
        }
        ContextCommand::Remove { name } => {
            let removed = contexts::remove(paths, &name)?;
            out.print(&removed, render::removed)
        }
        ContextCommand::Test {
            context,
            deployment,
            probe_manage,
        } => {
            let remote =
                Target::resolve(paths, context.as_deref(), deployment.as_deref())?.connect()?;
            let report = runtime()?.block_on(contexts::test(&remote, probe_manage))?;
            out.print(&report, render::context_test)
        }
    }
}

/// The add, and with `--check` a test with the key just given.
#[derive(Debug, serde::Serialize)]
struct AddOutput {
    #[serde(flatten)]
    added: ContextAdded,
    #[serde(skip_serializing_if = "Option::is_none")]
    check: Option<contexts::ContextTest>,
}

fn add(paths: &AppPaths, new: NewContext, keep_key: bool, check: bool, out: &Output) -> CmdResult {
    contexts::validate(&new)?;
    // The key: kept, from the environment (never stored), or asked for once a keyring is
    // known to be there to keep it.
    let (choice, key) = if keep_key {
        (KeyChoice::Keep, None)
    } else if let Some(k) = env_key() {
        (KeyChoice::Environment, Some((k, KeySource::Environment)))
    } else {
        contexts::require_keyring()?;
        let k = read_key()?;
        (KeyChoice::Store(k.clone()), Some((k, KeySource::Keyring)))
    };
    let name = new.name.clone();
    let first_deployment = new.deployments.first().map(|d| {
        d.split_once('=')
            .map_or(d.as_str(), |(id, _)| id)
            .to_owned()
    });
    let added = contexts::add(paths, new, choice)?;
    let mut output = AddOutput { added, check: None };
    if check {
        let (key, source) = match key {
            Some(k) => k,
            None => secrets::load_key(&name)?,
        };
        let tested = runtime()?.block_on(contexts::test_new(
            paths,
            &name,
            first_deployment.as_deref(),
            &key,
            source,
        ));
        match tested {
            Ok(t) => output.check = Some(t),
            Err(e) => {
                let text = render::added(&output.added);
                return Err(Failure::with_partial(e, &output, text));
            }
        }
    }
    out.print(&output, |o| {
        let mut s = render::added(&o.added);
        if let Some(t) = &o.check {
            s.push('\n');
            s.push_str(&render::context_test(t));
        }
        s
    })
}

//! `snapdesk snapshots ...`: the flows are in `snapdesk_ops`; this file holds the options,
//! one small function per subcommand, and the printing.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde::Serialize;
use snapdesk_api::client::Operation;
use snapdesk_api::{Client, ClientOptions, CreateSnapshot};
use snapdesk_core::{AppPaths, Cancel, Error, Stop};
use snapdesk_ops::snapshots::{self, CreateOptions};
use snapdesk_ops::{delete, Remote, Selection, Target};

use crate::args;
use crate::context::runtime;
use crate::hints::Doing;
use crate::output::{CmdResult, Failure, Output};
use crate::render::{self, Bars};

#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The context to use (default: the current one).
    #[arg(long, global = true, value_name = "NAME")]
    context: Option<String>,
    /// The deployment: an id, or a name known in the context.
    #[arg(long, global = true, value_name = "ID|NAME")]
    deployment: Option<String>,
    /// Print the request as a curl command (the key as $LD_API_KEY) instead of sending it.
    #[arg(long, global = true)]
    curl: bool,
}

#[derive(Debug, Subcommand)]
pub enum SnapshotsCommand {
    /// List snapshots, grouped by snapshot name (one line per node), one page at a time.
    List {
        /// Every page, grouped by snapshot, instead of one page.
        #[arg(long)]
        all: bool,
        /// The page to show, from 1.
        #[arg(long, default_value = "1", value_parser = args::page, value_name = "N")]
        page: u32,
        /// Items (nodes) per page, 1 to 100 (the API's limit).
        #[arg(long, default_value = "10", value_parser = args::results, value_name = "N")]
        results: u32,
    },
    /// Trigger a snapshot on every node of the deployment.
    Create {
        /// Keep secrets in the reports.
        #[arg(long)]
        no_redact_secrets: bool,
        /// Do not bundle the Iggy data directory.
        #[arg(long)]
        no_include_iggy: bool,
        /// Wait until every node has ended; failed nodes are listed with the ids to download.
        #[arg(long)]
        wait: bool,
        /// How long to wait, in whole seconds (1 to 86400).
        #[arg(long, default_value = "600", value_parser = args::wait_secs, value_name = "SECS")]
        timeout: Duration,
    },
    /// Wait until every node of a snapshot has ended (default: the newest snapshot).
    Wait {
        /// The snapshot's name (default: the newest).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// How long to wait, in whole seconds (1 to 86400).
        #[arg(long, default_value = "600", value_parser = args::wait_secs, value_name = "SECS")]
        timeout: Duration,
    },
    /// Download archives: one node (`--snapshot ID`) or every node of `--name` (default:
    /// the newest snapshot whose nodes all completed). An interrupted download resumes.
    Download {
        /// One node's snapshot id (as listed).
        #[arg(long, conflicts_with = "name", value_parser = args::id, value_name = "ID")]
        snapshot: Option<u64>,
        /// Every node of the snapshot with this name.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Also write the archives here: a directory (or, for one node, a file). They always
        /// go into the local library.
        #[arg(long, short, value_name = "PATH")]
        out: Option<PathBuf>,
    },
    /// Delete one node's snapshot (`--snapshot ID`) or every node of `--name`.
    Delete {
        /// One node's snapshot id (as listed).
        #[arg(long, conflicts_with = "name", required_unless_present = "name", value_parser = args::id, value_name = "ID")]
        snapshot: Option<u64>,
        /// Every node of the snapshot with this name (asks first on a terminal).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Delete without asking (needed for --name when standard input is not a terminal).
        #[arg(long, short)]
        yes: bool,
    },
}

impl SnapshotsCommand {
    pub fn doing(&self) -> Doing {
        match self {
            Self::List { .. } => Doing::Other,
            Self::Create { .. } => Doing::Create,
            Self::Wait { .. } => Doing::Wait,
            Self::Download { .. } => Doing::Download,
            Self::Delete { .. } => Doing::Delete,
        }
    }
}

pub fn run(cmd: SnapshotsCommand, t: TargetArgs, paths: &AppPaths, out: &Output) -> CmdResult {
    let target = Target::resolve(paths, t.context.as_deref(), t.deployment.as_deref())?;
    if t.curl {
        return curl(&cmd, &target, out);
    }
    let remote = target.connect()?;
    let cancel = Cancel::new();
    runtime()?.block_on(async {
        // Ctrl-C asks the flow to stop: a download keeps its `.partial` and says so.
        let on_signal = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_signal.cancel();
            }
        });
        let r = &remote;
        match cmd {
            SnapshotsCommand::List { all, page, results } => {
                interruptible(list(r, all, page, results, out), &cancel).await
            }
            SnapshotsCommand::Create {
                no_redact_secrets,
                no_include_iggy,
                wait,
                timeout,
            } => {
                let body = CreateSnapshot {
                    redact_secrets: !no_redact_secrets,
                    include_iggy: !no_include_iggy,
                };
                let wait = wait.then_some(timeout);
                interruptible(create(r, body, wait, &cancel, out), &cancel).await
            }
            SnapshotsCommand::Wait { name, timeout } => {
                interruptible(wait(r, name.as_deref(), timeout, &cancel, out), &cancel).await
            }
            SnapshotsCommand::Download {
                snapshot,
                name,
                out: dest,
            } => {
                let sel = selection(snapshot, name).unwrap_or(Selection::NewestCompleted);
                let lib = snapdesk_ops::library::open(paths)?;
                fetch(r, &lib, &sel, dest, &cancel, out).await
            }
            SnapshotsCommand::Delete {
                snapshot,
                name,
                yes,
            } => {
                let sel = selection(snapshot, name)
                    .ok_or_else(|| Error::invalid_input("pass --snapshot ID or --name NAME"))?;
                interruptible(remove(r, &sel, yes, &cancel, out), &cancel).await
            }
        }
    })
}

fn selection(snapshot: Option<u64>, name: Option<String>) -> Option<Selection> {
    match (snapshot, name) {
        (Some(id), _) => Some(Selection::Node(id)),
        (None, Some(n)) => Some(Selection::Name(n)),
        (None, None) => None,
    }
}

/// Runs a flow that does not watch the cancel itself until it ends or Ctrl-C.
async fn interruptible(
    flow: impl std::future::Future<Output = CmdResult>,
    cancel: &Cancel,
) -> CmdResult {
    let stopped = async {
        while !cancel.is_cancelled() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::select! {
        r = flow => r,
        () = stopped => Err(Failure::from(Stop::Cancelled)),
    }
}

async fn list(remote: &Remote, all: bool, page: u32, results: u32, out: &Output) -> CmdResult {
    if all {
        let all = snapshots::list_all(remote).await?;
        out.print(&all, |a| render::snapshots(&a.snapshots))
    } else {
        let listing = snapshots::list_page(remote, page, results).await?;
        out.print(&listing, render::listing)
    }
}

async fn create(
    remote: &Remote,
    body: CreateSnapshot,
    wait_for: Option<Duration>,
    cancel: &Cancel,
    out: &Output,
) -> CmdResult {
    let created = snapshots::create(remote, CreateOptions { body }, cancel).await?;
    match wait_for {
        None => out.print(&created, |c| {
            render::snapshots(std::slice::from_ref(&c.snapshot))
        }),
        Some(timeout) => wait(remote, Some(&created.snapshot.name), timeout, cancel, out).await,
    }
}

async fn wait(
    remote: &Remote,
    name: Option<&str>,
    timeout: Duration,
    cancel: &Cancel,
    out: &Output,
) -> CmdResult {
    let bars = Bars::new(out.live());
    let waited = snapshots::wait(remote, name, timeout, cancel, &|p| bars.show(p)).await;
    bars.clear();
    let waited = waited?;
    let table = render::snapshots(std::slice::from_ref(&waited.snapshot));
    match waited.error(timeout) {
        // The node table with its snapshot ids: what a person downloads next.
        Some(e) => Err(Failure::with_partial(e, &waited, table)),
        None => out.print(&waited, |_| table),
    }
}

async fn fetch(
    remote: &Remote,
    lib: &snapdesk_ops::library::Library,
    sel: &Selection,
    dest: Option<PathBuf>,
    cancel: &Cancel,
    out: &Output,
) -> CmdResult {
    let bars = Bars::new(out.live());
    let stored =
        snapdesk_ops::library::download_into(remote, lib, sel, dest.as_deref(), cancel, &|p| {
            bars.show(p)
        })
        .await;
    bars.clear();
    let stored = stored?;
    let report = &stored.download;
    for s in &report.skipped_newer {
        out.note(&format!(
            "note: skipped the newer snapshot {}: {}",
            s.name, s.reason
        ));
    }
    let mut text = render::downloads(report);
    for st in &stored.library {
        if let snapdesk_ops::library::Stored::Yes { entry, .. } = st {
            text.push_str(&format!(
                "\nlibrary entry {}{}",
                entry.id,
                if entry.deduplicated {
                    " (already stored)"
                } else {
                    ""
                }
            ));
        }
    }
    match stored.error() {
        Some(e) => Err(Failure::with_partial(e, &stored, text)),
        None => out.print(&stored, |_| text),
    }
}

/// Asks on the terminal; without one, refuses unless `--yes`.
fn confirm(what: &str, yes: bool) -> Result<(), Error> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(
            Error::invalid_input(format!("refusing to {what} without a confirmation")).with_hint(
                "pass --yes to delete without asking (standard input is not a terminal)",
            ),
        );
    }
    let mut stderr = std::io::stderr().lock();
    let _ = write!(stderr, "{what}? [y/N] ");
    let _ = stderr.flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
        Ok(())
    } else {
        Err(Error::new(
            snapdesk_core::ErrorCode::Cancelled,
            "nothing deleted",
        ))
    }
}

async fn remove(
    remote: &Remote,
    sel: &Selection,
    yes: bool,
    cancel: &Cancel,
    out: &Output,
) -> CmdResult {
    let ids = delete::plan(remote, sel).await?;
    if let Selection::Name(n) = sel {
        confirm(
            &format!(
                "delete {n} ({} node{}) from deployment {}",
                ids.len(),
                if ids.len() == 1 { "" } else { "s" },
                remote.deployment()
            ),
            yes,
        )?;
    }
    let deleted = delete::delete(remote, &ids, cancel).await;
    let text = render::deleted(&deleted);
    match deleted.error() {
        Some(e) => Err(Failure::with_partial(e, &deleted, text)),
        None => out.print(&deleted, |_| text),
    }
}

/// `--curl`: the request as a shell command (JSON with `--json`), without a key.
#[derive(Debug, Serialize)]
struct Curl {
    curl: String,
}

fn curl(cmd: &SnapshotsCommand, target: &Target, out: &Output) -> CmdResult {
    let dep = target.deployment;
    // The key is never needed to describe a request; a placeholder builds the client.
    let client =
        Client::new(&target.url, "LD_API_KEY", ClientOptions::default()).map_err(Error::from)?;
    let op = match cmd {
        SnapshotsCommand::List { page, results, .. } => Operation::List {
            deployment: dep,
            page: *page,
            results: *results,
        },
        SnapshotsCommand::Create {
            no_redact_secrets,
            no_include_iggy,
            ..
        } => Operation::Create {
            deployment: dep,
            body: CreateSnapshot {
                redact_secrets: !no_redact_secrets,
                include_iggy: !no_include_iggy,
            },
            idempotency_key: snapdesk_api::client::new_idempotency_key(),
        },
        SnapshotsCommand::Download {
            snapshot: Some(id), ..
        } => Operation::DownloadUrl {
            deployment: dep,
            snapshot: *id,
        },
        SnapshotsCommand::Delete {
            snapshot: Some(id), ..
        } => Operation::Delete {
            deployment: dep,
            snapshot: *id,
        },
        SnapshotsCommand::Wait { .. } => Operation::List {
            deployment: dep,
            page: 1,
            results: 100,
        },
        _ => {
            return Err(
                Error::invalid_input("--curl needs one request: pass --snapshot ID").into(),
            );
        }
    };
    let c = Curl {
        curl: client.curl(&op),
    };
    out.print(&c, |c| c.curl.clone())
}

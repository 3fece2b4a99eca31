//! `snapdesk context ...` and `snapdesk snapshots ...`: the Supervisor API from the command
//! line. The work is in `snapdesk-api`; this file parses, prompts and prints.

use std::collections::HashSet;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use snapdesk_api::contexts::{Context, Contexts, KnownDeployment};
use snapdesk_api::models::{group_by_name, SnapshotItem};
use snapdesk_api::{Client, ClientOptions, CreateSnapshot};
use snapdesk_core::{AppPaths, Error, ErrorCode, Result};

use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum ContextCommand {
    /// Add (or replace) a context; the API key is read from a prompt or standard input.
    Add {
        /// Name of the context (letters, digits, '-', '_', '.').
        name: String,
        /// The Supervisor URL, e.g. https://supervisor-aws-us.example.
        #[arg(long)]
        url: String,
        /// A label shown to people.
        #[arg(long, default_value = "")]
        label: String,
        /// A known deployment, `ID` or `ID=NAME` (repeatable).
        #[arg(long = "deployment", value_name = "ID[=NAME]")]
        deployments: Vec<String>,
        /// Keep the key that is already stored for this context.
        #[arg(long)]
        keep_key: bool,
    },
    /// List the contexts.
    List,
    /// Make a context the current one.
    Use { name: String },
    /// Remove a context and its stored key.
    Remove { name: String },
    /// List a deployment's snapshots with the context's key and report its permissions.
    Test {
        /// The context to test (default: the current one).
        #[arg(long)]
        context: Option<String>,
        #[arg(long)]
        deployment: Option<String>,
        /// Also find out whether the key may create and delete (`deployment:manage`), by
        /// asking to delete snapshot 0, which cannot exist: refused without the permission,
        /// "not found" with it. Off by default: it leaves a delete in the audit log.
        #[arg(long)]
        probe_manage: bool,
    },
}

#[derive(Debug, Args)]
pub struct Target {
    /// The context to use (default: the current one).
    #[arg(long, global = true)]
    context: Option<String>,
    /// The deployment: an id, or a name known in the context.
    #[arg(long, global = true)]
    deployment: Option<String>,
    /// Print the request as a curl command (the key as $LD_API_KEY) instead of sending it.
    #[arg(long, global = true)]
    curl: bool,
}

#[derive(Debug, Subcommand)]
pub enum SnapshotsCommand {
    /// List snapshots, grouped by snapshot name (one line per node).
    List {
        /// Every page instead of one.
        #[arg(long)]
        all: bool,
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        page: u32,
        /// Items per page, at most 100 (the API's limit).
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
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
        /// Wait until every node completed.
        #[arg(long)]
        wait: bool,
        /// How long to wait, in seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
    /// Wait until every node of a snapshot completed (default: the newest snapshot).
    Wait {
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
    /// Download archives: one node (`--snapshot ID`) or every node of `--name`
    /// (default: the newest completed snapshot).
    Download {
        #[arg(long, conflicts_with = "name")]
        snapshot: Option<u64>,
        #[arg(long)]
        name: Option<String>,
        /// Directory (or, for one node, file) to write to.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Delete one node's snapshot (`--snapshot ID`) or every node of `--name`.
    Delete {
        #[arg(long, conflicts_with = "name", required_unless_present = "name")]
        snapshot: Option<u64>,
        #[arg(long)]
        name: Option<String>,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime> {
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
    let key = key.trim().to_owned();
    if key.is_empty() {
        return Err(Error::invalid_input("no API key given").with_hint(
            "type it at the prompt, or pipe it: `printf %s \"$KEY\" | snapdesk context add ...`",
        ));
    }
    Ok(key)
}

fn parse_deployment_arg(s: &str) -> Result<KnownDeployment> {
    let (id, name) = s.split_once('=').unwrap_or((s, ""));
    snapdesk_api::contexts::parse_deployment_id(id)?;
    Ok(KnownDeployment {
        id: id.trim().to_owned(),
        name: name.trim().to_owned(),
    })
}

fn client_for(ctx_name: &str, ctx: &Context) -> Result<Client> {
    let (key, _) = snapdesk_core::secrets::load_key(ctx_name)?;
    let client =
        Client::new(&ctx.url, key, ClientOptions::default()).map_err(|e| e.into_error(false))?;
    // A download only takes its final name when it is a whole ZIP.
    Ok(
        client.with_validator(std::sync::Arc::new(|p: &std::path::Path| {
            snapdesk_report::archive::check_zip(p).map_err(|e| e.to_string())
        })),
    )
}

pub fn context(cmd: ContextCommand, paths: &AppPaths, out: &Output) -> Result<()> {
    let file = paths.contexts_file();
    let mut all = Contexts::load(&file)?;
    match cmd {
        ContextCommand::Add {
            name,
            url,
            label,
            deployments,
            keep_key,
        } => {
            snapdesk_api::contexts::validate_name(&name)?;
            snapdesk_api::client::parse_base_url(&url).map_err(|e| e.into_error(false))?;
            let deployments = deployments
                .iter()
                .map(|d| parse_deployment_arg(d))
                .collect::<Result<Vec<_>>>()?;
            if !keep_key {
                let key = read_key()?;
                snapdesk_core::secrets::store_key(&name, &key)?;
            }
            all.upsert(
                &name,
                Context {
                    label,
                    url,
                    deployments,
                },
            )?;
            all.save(&file)?;
            out.print(&serde_json::json!({ "added": name }), |_| {
                format!("context {name:?} saved; its API key is in the OS keyring")
            })
        }
        ContextCommand::List => {
            let current = all.current.clone();
            let rows: Vec<serde_json::Value> = all
                .contexts
                .iter()
                .map(|(n, c)| {
                    serde_json::json!({
                        "name": n, "current": current.as_deref() == Some(n),
                        "label": c.label, "url": c.url, "deployments": c.deployments,
                    })
                })
                .collect();
            out.print(&rows, |rows| {
                if rows.is_empty() {
                    return "no contexts yet: `snapdesk context add NAME --url SUPERVISOR_URL`"
                        .to_owned();
                }
                let mut s = String::new();
                for (n, c) in &all.contexts {
                    let mark = if current.as_deref() == Some(n) {
                        "*"
                    } else {
                        " "
                    };
                    let deps: Vec<String> = c.deployments.iter().map(ToString::to_string).collect();
                    s.push_str(&format!(
                        "{mark} {n:<16} {:<44} {} {}\n",
                        c.url,
                        c.label,
                        deps.join(", ")
                    ));
                }
                s.trim_end().to_owned()
            })
        }
        ContextCommand::Use { name } => {
            all.set_current(&name)?;
            all.save(&file)?;
            out.print(&serde_json::json!({ "current": name }), |_| {
                format!("using context {name:?}")
            })
        }
        ContextCommand::Remove { name } => {
            all.remove(&name)?;
            all.save(&file)?;
            // The context goes even when the keyring cannot be reached; say what stayed.
            let key = match snapdesk_core::secrets::delete_key(&name) {
                Ok(()) => "its stored key removed".to_owned(),
                Err(e) => format!(
                    "its key could not be removed from the OS keyring: {}",
                    e.message
                ),
            };
            out.print(&serde_json::json!({ "removed": name, "key": key }), |_| {
                format!("context {name:?} removed; {key}")
            })
        }
        ContextCommand::Test {
            context,
            deployment,
            probe_manage,
        } => {
            let (name, ctx) = all.resolve(context.as_deref())?;
            let dep = ctx.deployment(deployment.as_deref())?;
            let client = client_for(&name, ctx)?;
            let rt = runtime()?;
            let report = rt.block_on(async {
                let page = client
                    .list_snapshots(dep, 1, 10)
                    .await
                    .map_err(|e| e.into_error(false))?;
                // deployment:manage, only when asked: deleting snapshot 0 (ids are snowflakes,
                // 0 cannot exist) is refused with 403 without it, 404 with it.
                let manage =
                    if probe_manage {
                        match client.delete_snapshot(dep, 0).await {
                            Err(e) if e.status() == Some(403) => serde_json::Value::Bool(false),
                            Err(e) if e.status() == Some(404) => serde_json::Value::Bool(true),
                            Err(e) => return Err(e.into_error(true)),
                            Ok(()) => return Err(Error::new(
                                ErrorCode::Api,
                                "the Supervisor accepted deleting snapshot 0; permissions unknown",
                            )),
                        }
                    } else {
                        serde_json::Value::Null
                    };
                Ok::<_, Error>(serde_json::json!({
                    "context": name, "url": ctx.url, "deployment": dep.to_string(),
                    "snapshots": page.total_results,
                    "permissions": { "deployment:read": true, "deployment:manage": manage },
                }))
            })?;
            out.print(&report, |r| {
                format!(
                    "context {} reaches {}\ndeployment {}: {} snapshot items\npermissions: deployment:read yes, deployment:manage {}",
                    r["context"].as_str().unwrap_or_default(),
                    r["url"].as_str().unwrap_or_default(),
                    r["deployment"].as_str().unwrap_or_default(),
                    r["snapshots"],
                    match r["permissions"]["deployment:manage"].as_bool() {
                        Some(true) => "yes",
                        Some(false) => "no",
                        None => "not checked (--probe-manage checks it)",
                    }
                )
            })
        }
    }
}

/// `--curl`: the request each command would send, without a key and without sending it.
fn print_curl(cmd: &SnapshotsCommand, url: &str, dep: u64) -> Result<()> {
    use snapdesk_api::client::Operation;
    // The key is never needed to describe a request; a placeholder builds the client.
    let client = Client::new(url, "$LD_API_KEY", ClientOptions::default())
        .map_err(|e| e.into_error(false))?;
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
            return Err(Error::invalid_input(
                "--curl needs one request: pass --snapshot ID",
            ));
        }
    };
    println!("{}", client.curl(&op));
    Ok(())
}

fn fmt_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// The human table: one block per snapshot name, one line per node.
pub fn table(items: &[SnapshotItem]) -> String {
    if items.is_empty() {
        return "no snapshots".into();
    }
    let mut s = String::new();
    for g in group_by_name(items) {
        let done = g.items.iter().filter(|i| i.status.is_completed()).count();
        s.push_str(&format!(
            "{}  created {}  {}/{} nodes completed\n",
            g.name,
            fmt_time(&g.created_at),
            done,
            g.items.len()
        ));
        s.push_str(&format!(
            "  {:<20}  {:<20}  {:<11}  {}\n",
            "NODE ID", "SNAPSHOT ID", "STATUS", "COMPLETED"
        ));
        for i in &g.items {
            s.push_str(&format!(
                "  {:<20}  {:<20}  {:<11}  {}\n",
                i.node_id,
                i.id,
                i.status.as_str(),
                i.completed_at
                    .as_ref()
                    .map(fmt_time)
                    .unwrap_or_else(|| "-".into())
            ));
        }
    }
    s.trim_end().to_owned()
}

fn bar(len: Option<u64>, live: bool) -> ProgressBar {
    if !live {
        return ProgressBar::hidden();
    }
    match len {
        Some(l) => {
            let b = ProgressBar::new(l);
            b.set_style(
                ProgressStyle::with_template(
                    "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            b
        }
        None => ProgressBar::new_spinner(),
    }
}

async fn wait_for(
    client: &Client,
    dep: u64,
    name: Option<String>,
    timeout: Duration,
    live: bool,
) -> Result<Vec<SnapshotItem>> {
    let start = Instant::now();
    let mut delay = Duration::from_millis(500);
    let spinner = bar(None, live);
    loop {
        let items = client
            .list_all(dep, 4)
            .await
            .map_err(|e| e.into_error(false))?;
        let target = match &name {
            Some(n) => n.clone(),
            None => group_by_name(&items)
                .first()
                .map(|g| g.name.to_owned())
                .ok_or_else(|| Error::not_found(format!("deployment {dep} has no snapshots")))?,
        };
        let group: Vec<SnapshotItem> = items.into_iter().filter(|i| i.name == target).collect();
        if group.is_empty() {
            return Err(Error::not_found(format!(
                "no snapshot named {target:?} in deployment {dep}"
            )));
        }
        let done = group.iter().filter(|i| i.status.is_completed()).count();
        spinner.set_message(format!("{target}: {done}/{} nodes completed", group.len()));
        spinner.tick();
        if done == group.len() {
            spinner.finish_and_clear();
            return Ok(group);
        }
        // A node is finished when `completed_at` is set, whatever its status says: one that
        // finished in another state (e.g. "failed") will never complete.
        let ended: Vec<&SnapshotItem> = group
            .iter()
            .filter(|i| i.completed_at.is_some() && !i.status.is_completed())
            .collect();
        if !ended.is_empty() && group.iter().all(|i| i.completed_at.is_some()) {
            spinner.finish_and_clear();
            let nodes: Vec<String> = ended
                .iter()
                .map(|i| format!("node {} ({})", i.node_id, i.status))
                .collect();
            return Err(Error::new(
                ErrorCode::Api,
                format!(
                    "{target} finished, but not on every node: {}",
                    nodes.join(", ")
                ),
            )
            .with_hint(
                "download the nodes that completed with --snapshot ID, or create a new snapshot",
            )
            .with_details(serde_json::json!({ "items": group })));
        }
        if start.elapsed() >= timeout {
            spinner.finish_and_clear();
            return Err(Error::new(
                ErrorCode::Timeout,
                format!(
                    "{target} did not complete within {} s ({done}/{} nodes)",
                    timeout.as_secs(),
                    group.len()
                ),
            )
            .with_hint("wait longer with `snapdesk snapshots wait --timeout SECS`"));
        }
        tokio::time::sleep(delay.min(timeout.saturating_sub(start.elapsed()))).await;
        delay = (delay * 3 / 2).min(Duration::from_secs(5));
    }
}

pub fn snapshots(
    cmd: SnapshotsCommand,
    target: Target,
    paths: &AppPaths,
    out: &Output,
) -> Result<()> {
    let all = Contexts::load(&paths.contexts_file())?;
    let (name, ctx) = all.resolve(target.context.as_deref())?;
    let dep = ctx.deployment(target.deployment.as_deref())?;
    if target.curl {
        return print_curl(&cmd, &ctx.url, dep);
    }
    let client = client_for(&name, ctx)?;
    let live = std::io::stderr().is_terminal() && !out.json();
    let rt = runtime()?;
    rt.block_on(async move {
        match cmd {
            SnapshotsCommand::List { all, page, results } => {
                let items = if all {
                    client.list_all(dep, 4).await
                } else {
                    client
                        .list_snapshots(dep, page, results)
                        .await
                        .map(|p| p.items)
                }
                .map_err(|e| e.into_error(false))?;
                out.print(&serde_json::json!({ "items": items }), |_| table(&items))
            }
            SnapshotsCommand::Create {
                no_redact_secrets,
                no_include_iggy,
                wait,
                timeout,
            } => {
                let before: HashSet<u64> = client
                    .list_all(dep, 4)
                    .await
                    .map_err(|e| e.into_error(false))?
                    .iter()
                    .map(|i| i.id)
                    .collect();
                let body = CreateSnapshot {
                    redact_secrets: !no_redact_secrets,
                    include_iggy: !no_include_iggy,
                };
                let key = snapdesk_api::client::new_idempotency_key();
                client
                    .create_snapshot(dep, body, &key)
                    .await
                    .map_err(|e| e.into_error(true))?;
                let after = client
                    .list_all(dep, 4)
                    .await
                    .map_err(|e| e.into_error(false))?;
                let new_name = after
                    .iter()
                    .find(|i| !before.contains(&i.id))
                    .map(|i| i.name.clone())
                    .or_else(|| group_by_name(&after).first().map(|g| g.name.to_owned()));
                let items = if wait {
                    wait_for(&client, dep, new_name, Duration::from_secs(timeout), live).await?
                } else {
                    after
                        .into_iter()
                        .filter(|i| Some(&i.name) == new_name.as_ref())
                        .collect()
                };
                out.print(&serde_json::json!({ "items": items }), |_| table(&items))
            }
            SnapshotsCommand::Wait { name, timeout } => {
                let items =
                    wait_for(&client, dep, name, Duration::from_secs(timeout), live).await?;
                out.print(&serde_json::json!({ "items": items }), |_| table(&items))
            }
            SnapshotsCommand::Download {
                snapshot,
                name,
                out: dest,
            } => {
                let items = client
                    .list_all(dep, 4)
                    .await
                    .map_err(|e| e.into_error(false))?;
                let chosen: Vec<&SnapshotItem> = match (snapshot, &name) {
                    (Some(id), _) => items.iter().filter(|i| i.id == id).collect(),
                    (None, Some(n)) => items.iter().filter(|i| &i.name == n).collect(),
                    (None, None) => group_by_name(&items)
                        .into_iter()
                        .find(|g| g.completed())
                        .map(|g| g.items)
                        .unwrap_or_default(),
                };
                if chosen.is_empty() {
                    return Err(Error::not_found(match (snapshot, &name) {
                        (Some(id), _) => format!("no snapshot {id} in deployment {dep}"),
                        (None, Some(n)) => format!("no snapshot named {n:?} in deployment {dep}"),
                        _ => format!("deployment {dep} has no completed snapshot"),
                    }));
                }
                // Every node is tried; each gets its own line, and any failure fails the run.
                let mut results = Vec::new();
                let mut failed = 0usize;
                let mut first_error: Option<Error> = None;
                for item in chosen {
                    let file_name = format!(
                        "{}-{}.zip",
                        snapdesk_core::paths::safe_file_part(&item.name),
                        item.node_id
                    );
                    let path = match (&dest, snapshot) {
                        (Some(d), Some(_)) => snapdesk_core::paths::output_file(Some(d), &file_name),
                        (Some(d), None) => d.join(&file_name),
                        (None, _) => PathBuf::from(&file_name),
                    };
                    let pb = bar(Some(0), live);
                    pb.set_message(format!("node {}", item.node_id));
                    let pb2 = pb.clone();
                    let mut cb = move |p: snapdesk_api::DownloadProgress| {
                        if let Some(t) = p.total {
                            pb2.set_length(t);
                        }
                        pb2.set_position(p.downloaded);
                    };
                    let r = client.download(dep, item.id, &path, &mut cb).await;
                    pb.finish_and_clear();
                    results.push(match r {
                        Ok(d) => serde_json::json!({
                            "snapshot_id": item.id.to_string(), "node_id": item.node_id.to_string(),
                            "path": d.path, "bytes": d.bytes, "resumed": d.resumed,
                        }),
                        Err(e) => {
                            failed += 1;
                            let e = e.into_error(false);
                            let v = serde_json::json!({
                                "snapshot_id": item.id.to_string(), "node_id": item.node_id.to_string(),
                                "error": e,
                            });
                            first_error.get_or_insert(e);
                            v
                        }
                    });
                }
                // With --json a failed run prints one value, the error, the per-node results in
                // its details: a script reads a single JSON document from standard output.
                if let (Some(e), true) = (&mut first_error, out.json()) {
                    let mut d = e.details.take().unwrap_or_else(|| serde_json::json!({}));
                    d["results"] = serde_json::json!(results);
                    e.details = Some(d);
                } else {
                    out.print(&results, |w| {
                    w.iter()
                        .map(|x| match x.get("error") {
                            Some(e) => format!(
                                "node {}: FAILED: {}",
                                x["node_id"].as_str().unwrap_or_default(),
                                e["message"].as_str().unwrap_or_default()
                            ),
                            None => format!(
                                "{}  {} bytes",
                                x["path"].as_str().unwrap_or_default(),
                                x["bytes"]
                            ),
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                    })?;
                }
                if let Some(mut e) = first_error {
                    // The first failure's code and hint; the count when there were several.
                    if results.len() > 1 {
                        e.message = format!("{failed} of {} downloads failed; first: {}", results.len(), e.message);
                    }
                    return Err(e);
                }
                Ok(())
            }
            SnapshotsCommand::Delete { snapshot, name } => {
                let ids: Vec<u64> = match (snapshot, name) {
                    (Some(id), _) => vec![id],
                    (None, Some(n)) => {
                        let items = client
                            .list_all(dep, 4)
                            .await
                            .map_err(|e| e.into_error(false))?;
                        let ids: Vec<u64> =
                            items.iter().filter(|i| i.name == n).map(|i| i.id).collect();
                        if ids.is_empty() {
                            return Err(Error::not_found(format!(
                                "no snapshot named {n:?} in deployment {dep}"
                            )));
                        }
                        ids
                    }
                    (None, None) => {
                        return Err(Error::invalid_input("pass --snapshot ID or --name NAME"))
                    }
                };
                let mut deleted = Vec::new();
                let mut failures = Vec::new();
                for id in &ids {
                    match client.delete_snapshot(dep, *id).await {
                        Ok(()) => deleted.push(id.to_string()),
                        Err(e) => failures.push(serde_json::json!({
                            "snapshot_id": id.to_string(), "error": e.into_error(true),
                        })),
                    }
                }
                let outcome = serde_json::json!({ "deleted": deleted, "failed": failures });
                let first_failure = failures.first().map(|f| {
                    serde_json::from_value::<Error>(f["error"].clone())
                        .unwrap_or_else(|_| Error::new(ErrorCode::Api, "some deletions failed"))
                });
                // With --json a failed run prints one value, the error, the outcome in its
                // details: a script reads a single JSON document from standard output.
                if let (Some(mut e), true) = (first_failure.clone(), out.json()) {
                    let mut d = e.details.take().unwrap_or_else(|| serde_json::json!({}));
                    d["outcome"] = outcome;
                    e.details = Some(d);
                    return Err(e);
                }
                out.print(&outcome, |_| {
                    let mut t = format!("deleted {} snapshot item(s): {}", deleted.len(), deleted.join(", "));
                    for f in &failures {
                        t.push_str(&format!(
                            "\nnot deleted {}: {}",
                            f["snapshot_id"].as_str().unwrap_or_default(),
                            f["error"]["message"].as_str().unwrap_or_default()
                        ));
                    }
                    t
                })?;
                match first_failure {
                    None => Ok(()),
                    Some(e) => Err(e),
                }
            }
        }
    })
}

//! `snapdesk library triage|timeline|logs|reanalyze` and the data half of `library diff`:
//! thin adapters over `snapdesk_library::{insight, continuity, analysis}`.

use clap::Args;
use snapdesk_core::{Cancel, Error};
use snapdesk_library::continuity::DataDiff;
use snapdesk_library::insight::{NodeLogs, Scope, Timeline, Triage};
use snapdesk_library::Library;

use crate::output::{CmdResult, Failure, Output};

/// Which snapshots: one deployment, one host's collections, or (neither) the whole library.
#[derive(Debug, Args)]
pub struct ScopeArgs {
    /// A deployment id or name.
    #[arg(long, value_name = "ID", conflicts_with = "host")]
    pub deployment: Option<String>,
    /// A host name (local collections).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
}

impl From<ScopeArgs> for Scope {
    fn from(a: ScopeArgs) -> Self {
        Scope {
            deployment: a.deployment,
            host: a.host,
        }
    }
}

fn lib_err(e: snapdesk_library::LibraryError) -> Failure {
    Failure::from(Error::from(e))
}

pub fn triage(lib: &Library, scope: ScopeArgs, out: &Output) -> CmdResult {
    let t = lib.triage(&scope.into()).map_err(lib_err)?;
    out.print(&t, render_triage)
}

pub fn timeline(
    lib: &Library,
    check_id: &str,
    node: Option<&str>,
    scope: ScopeArgs,
    out: &Output,
) -> CmdResult {
    let t = lib
        .timeline(check_id, node, &scope.into())
        .map_err(lib_err)?;
    out.print(&t, render_timeline)
}

#[derive(Debug, serde::Serialize)]
struct Logs {
    at: String,
    window_secs: u32,
    nodes: Vec<NodeLogs>,
}

pub fn logs(
    lib: &Library,
    at: &str,
    window: u32,
    limit: u32,
    scope: ScopeArgs,
    cancel: &Cancel,
    out: &Output,
) -> CmdResult {
    let t = chrono::DateTime::parse_from_rfc3339(at.trim())
        .map_err(|_| {
            Failure::from(Error::invalid_input(format!(
                "{at:?} is not a time: give it as 2026-05-01T12:00:00Z"
            )))
        })?
        .with_timezone(&chrono::Utc);
    let nodes = lib
        .logs_around(&scope.into(), t, window, limit as usize, cancel)
        .map_err(lib_err)?;
    out.print(
        &Logs {
            at: t.to_rfc3339(),
            window_secs: window,
            nodes,
        },
        |l| {
            let mut s = String::new();
            for n in &l.nodes {
                s.push_str(&format!(
                    "== {} (entry {}, {})\n",
                    n.node,
                    n.entry_id.as_deref().unwrap_or("-"),
                    n.snapshot.as_deref().unwrap_or("-")
                ));
                if let Some(note) = &n.note {
                    s.push_str(&format!("   {note}\n"));
                }
                for line in &n.lines {
                    s.push_str(&format!("   [{}] {}\n", line.source, line.line));
                }
            }
            if s.is_empty() {
                "no snapshot in the library covers that time".into()
            } else {
                s.trim_end().to_owned()
            }
        },
    )
}

pub fn render_triage(t: &Triage) -> String {
    if t.items.is_empty() {
        return format!(
            "nothing to triage: {} snapshots, no warn, fail or error check",
            t.snapshots
        );
    }
    let mut s = format!(
        "{} snapshots, the newest {} ({})\n{:<6} {:<14} {:<36} {:>5}  {:<10} {:<10}\n",
        t.snapshots,
        t.newest_snapshot.as_deref().unwrap_or("-"),
        t.newest_at.as_deref().unwrap_or("-"),
        "status",
        "state",
        "check",
        "nodes",
        "first",
        "last"
    );
    for i in &t.items {
        let state = serde_json::to_value(i.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        s.push_str(&format!(
            "{:<6} {:<14} {:<36} {:>5}  {:<10} {:<10}  {}\n",
            i.status,
            state,
            i.check_id,
            i.nodes.len(),
            i.first_seen.get(..10).unwrap_or(&i.first_seen),
            i.last_seen.get(..10).unwrap_or(&i.last_seen),
            i.title
        ));
    }
    s.trim_end().to_owned()
}

fn glyph(state: &str) -> char {
    match state {
        "pass" => '.',
        "info" => 'i',
        "warn" => 'W',
        "fail" => 'F',
        "error" => 'E',
        _ => '?',
    }
}

pub fn render_timeline(t: &Timeline) -> String {
    let mut s = format!(
        "{} ({}): . pass  i info  W warn  F fail  E error  ? not collected\n",
        t.check_id,
        t.title.as_deref().unwrap_or("")
    );
    for n in &t.nodes {
        let strip: String = n.points.iter().map(|p| glyph(&p.state)).collect();
        let from = n.points.first().map(|p| p.at.as_str()).unwrap_or("");
        let to = n.points.last().map(|p| p.at.as_str()).unwrap_or("");
        s.push_str(&format!(
            "{:<24} {strip}  ({} .. {})\n",
            n.node,
            from.get(..10).unwrap_or(from),
            to.get(..10).unwrap_or(to)
        ));
    }
    s.trim_end().to_owned()
}

pub fn render_data_diff(d: &DataDiff) -> String {
    let mut s = crate::render_library::diff(&d.diff);
    match (&d.continuity, &d.continuity_note) {
        (Some(c), _) => {
            s.push_str(&format!(
                "\nIggy data: {} partitions compared, {} continuity findings",
                c.partitions_compared,
                c.findings.len()
            ));
            for f in &c.findings {
                s.push_str(&format!(
                    "\n! {:<17} {:<36} {:>8} messages  {}",
                    f.kind.as_str(),
                    f.partition,
                    f.messages,
                    f.message
                ));
            }
            for l in &c.lags {
                let trend = serde_json::to_value(l.trend)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let ms = |m: Option<u64>| m.map(|m| format!(" ({m} ms)")).unwrap_or_default();
                s.push_str(&format!(
                    "\n  lag {:<10} {} {}: {}{} -> {}{}",
                    trend,
                    l.label,
                    l.consumer,
                    l.lag_before.map(|x| x.to_string()).unwrap_or("-".into()),
                    ms(l.lag_ms_before),
                    l.lag_after.map(|x| x.to_string()).unwrap_or("-".into()),
                    ms(l.lag_ms_after)
                ));
            }
            for n in &c.notes {
                s.push_str(&format!("\n  note: {n}"));
            }
        }
        (None, Some(note)) => s.push_str(&format!("\nIggy data: not compared: {note}")),
        (None, None) => {}
    }
    s
}

pub fn reanalyze(lib: &Library, cancel: &Cancel, out: &Output) -> CmdResult {
    let r = lib.reanalyze(cancel).map_err(lib_err)?;
    out.print(&r, |r| {
        let versions: Vec<String> = r
            .analyzers
            .iter()
            .map(|a| format!("{} v{}", a.id, a.version))
            .collect();
        let mut s = format!(
            "{} entries analyzed ({}), {} findings, {} new",
            r.entries_analyzed,
            versions.join(", "),
            r.findings,
            r.new_findings
        );
        if r.entries_facts_only > 0 {
            s.push_str(&format!(
                "\n{} evicted entries: recorded facts only",
                r.entries_facts_only
            ));
        }
        for f in &r.flagged {
            s.push_str(&format!(
                "\nentry {} ({} {}):",
                f.entry_id,
                f.snapshot_name.as_deref().unwrap_or("-"),
                f.node.as_deref().unwrap_or("-")
            ));
            for x in &f.findings {
                s.push_str(&format!(
                    "\n  {} {:<4} {:<32} x{}  {}",
                    if x.new { "NEW" } else { "   " },
                    x.severity,
                    x.finding_id,
                    x.count,
                    x.title
                ));
            }
        }
        for (id, e) in &r.errors {
            s.push_str(&format!("\nentry {id}: not read: {e}"));
        }
        s
    })
}

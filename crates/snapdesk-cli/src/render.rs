//! The human forms of the typed results, and the progress bars of a terminal run.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use snapdesk_api::Snapshot;
use snapdesk_core::secrets::KeyringStatus;
use snapdesk_ops::contexts::{ContextAdded, ContextRemoved, ContextRow, ContextTest, KeyStorage};
use snapdesk_ops::delete::Deleted;
use snapdesk_ops::download::{DownloadReport, NodeOutcome};
use snapdesk_ops::snapshots::Listing;
use snapdesk_ops::Progress;

use crate::InfoOutput;

pub fn info(i: &InfoOutput) -> String {
    let p = &i.info.paths;
    let keyring = match &i.keyring {
        KeyringStatus::Reachable => "reachable".to_owned(),
        KeyringStatus::Unreachable { reason } => {
            format!("NOT reachable ({reason}); set LD_API_KEY to use a key without storing it")
        }
    };
    let env = if i.key_from_environment {
        "\nLD_API_KEY is set: it supplies the key of every context"
    } else {
        ""
    };
    format!(
        "{} {} ({}/{})\nconfig  {}\ndata    {}\ncache   {}\nlogs    {}\nkeyring {keyring}{env}",
        i.info.product_name,
        i.info.version,
        i.info.os,
        i.info.arch,
        p.config_dir.display(),
        p.data_dir.display(),
        p.cache_dir.display(),
        p.log_dir.display()
    )
}

pub fn contexts(rows: &[ContextRow]) -> String {
    if rows.is_empty() {
        return "no contexts yet: `snapdesk context add NAME --url SUPERVISOR_URL`".to_owned();
    }
    let mut s = String::new();
    for r in rows {
        let mark = if r.current { "*" } else { " " };
        let deps: Vec<String> = r.deployments.iter().map(ToString::to_string).collect();
        s.push_str(&format!(
            "{mark} {:<16} {:<44} {} {}\n",
            r.name,
            r.url,
            r.label,
            deps.join(", ")
        ));
    }
    s.trim_end().to_owned()
}

pub fn added(a: &ContextAdded) -> String {
    let key = match a.key {
        KeyStorage::Keyring => "its API key is stored in the OS keyring",
        KeyStorage::Kept => "the API key stored before is kept",
        KeyStorage::NotStored => {
            "its API key is NOT stored: LD_API_KEY supplies it while it is set (run `context \
             add` again without LD_API_KEY to store one in the OS keyring)"
        }
    };
    let current = if a.current { " (current)" } else { "" };
    format!("context {:?}{current} saved; {key}", a.name)
}

pub fn removed(r: &ContextRemoved) -> String {
    match &r.key_error {
        None => format!("context {:?} removed; its stored key removed", r.name),
        Some(e) => format!(
            "context {:?} removed; its key could not be removed from the OS keyring: {}",
            r.name, e.message
        ),
    }
}

pub fn context_test(t: &ContextTest) -> String {
    format!(
        "context {} reaches {}\ndeployment {}: {} snapshot items\npermissions: deployment:read \
         yes, deployment:manage {}",
        t.context,
        t.url,
        t.deployment,
        t.snapshots,
        match t.permissions.manage {
            Some(true) => "yes",
            Some(false) => "no",
            None => "not checked (--probe-manage checks it)",
        }
    )
}

fn fmt_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// One block per snapshot, one line per node with the ids to download or delete.
pub fn snapshots(groups: &[Snapshot]) -> String {
    if groups.is_empty() {
        return "no snapshots".into();
    }
    let mut s = String::new();
    for g in groups {
        s.push_str(&format!(
            "{}  created {}  {}/{} nodes completed  {}\n",
            g.name,
            fmt_time(&g.created_at),
            g.completed_nodes(),
            g.items.len(),
            g.state
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

/// A page, said as a page: its number, the total, and a snapshot cut by its edges.
pub fn listing(l: &Listing) -> String {
    let mut s = snapshots(&Snapshot::group(l.items.clone()));
    if l.total_results == 0 {
        return s;
    }
    s.push_str(&format!(
        "\npage {} of {} ({} items in all, {} per page)",
        l.page,
        l.total_pages.max(1),
        l.total_results,
        l.results
    ));
    if let Some(n) = &l.continued_from_previous {
        s.push_str(&format!("\n{n} has more nodes on page {}", l.page - 1));
    }
    if let Some(n) = &l.continues_on_next {
        s.push_str(&format!("\n{n} has more nodes on page {}", l.page + 1));
    }
    if l.total_pages > 1 {
        s.push_str("\n--all lists every page, grouped by snapshot");
    }
    s
}

pub fn downloads(r: &DownloadReport) -> String {
    r.nodes
        .iter()
        .map(|n| match &n.outcome {
            NodeOutcome::Downloaded {
                path,
                bytes,
                resumed_from,
                ..
            } => {
                let resumed = match resumed_from {
                    Some(b) => format!(" (resumed: {b} bytes were kept from an earlier run)"),
                    None => String::new(),
                };
                format!("{}  {bytes} bytes{resumed}", path.display())
            }
            NodeOutcome::Failed { error, .. } => {
                format!("node {}: FAILED: {}", n.node_id, error.message)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn deleted(d: &Deleted) -> String {
    let ids: Vec<String> = d.deleted.iter().map(u64::to_string).collect();
    let mut t = format!(
        "deleted {} snapshot item(s): {}",
        d.deleted.len(),
        ids.join(", ")
    );
    for f in &d.failed {
        t.push_str(&format!(
            "\nnot deleted {}: {}",
            f.snapshot_id, f.error.message
        ));
    }
    t
}

/// Progress on a terminal: a spinner while waiting, a bar per node while downloading;
/// nothing at all otherwise.
pub struct Bars {
    live: bool,
    bar: Mutex<Option<ProgressBar>>,
}

impl Bars {
    pub fn new(live: bool) -> Self {
        Self {
            live,
            bar: Mutex::new(None),
        }
    }

    fn replace(&self, bar: Option<ProgressBar>) {
        let mut slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = slot.take() {
            old.finish_and_clear();
        }
        *slot = bar;
    }

    fn with(&self, f: impl FnOnce(&ProgressBar)) {
        let slot = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = slot.as_ref() {
            f(b);
        }
    }

    pub fn show(&self, p: Progress) {
        if !self.live {
            return;
        }
        match p {
            Progress::Waiting {
                name,
                completed,
                failed,
                total,
            } => {
                if self.bar.lock().map(|b| b.is_none()).unwrap_or(false) {
                    self.replace(Some(ProgressBar::new_spinner()));
                }
                self.with(|b| {
                    let failed = if failed > 0 {
                        format!(", {failed} failed")
                    } else {
                        String::new()
                    };
                    b.set_message(format!(
                        "{name}: {completed}/{total} nodes completed{failed}"
                    ));
                    b.tick();
                });
            }
            Progress::NodeStarted {
                node_id,
                index,
                count,
                ..
            } => {
                let b = ProgressBar::new(0);
                b.set_style(
                    ProgressStyle::with_template(
                        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                b.set_message(format!("node {node_id} ({index}/{count})"));
                self.replace(Some(b));
            }
            Progress::Transfer {
                downloaded, total, ..
            } => self.with(|b| {
                if let Some(t) = total {
                    b.set_length(t);
                }
                b.set_position(downloaded);
            }),
            Progress::NodeFinished { .. } => self.replace(None),
            // The create's result is printed by the command itself.
            Progress::Created { .. } => {}
        }
    }

    pub fn clear(&self) {
        self.replace(None);
    }
}

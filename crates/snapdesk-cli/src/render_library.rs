//! The human forms of the library's results.

use snapdesk_library::AnalysisFinding;
use snapdesk_ops::library::{
    CheckRow, Collected, Diff, Entry, EntryDetail, Hit, Imported, Matrix, Verified,
};
use snapdesk_report::archive::IntegrityState;

fn node(e: &Entry) -> &str {
    e.node_id
        .as_deref()
        .or(e.host_name.as_deref())
        .unwrap_or("-")
}

pub fn entries(items: &[Entry]) -> String {
    if items.is_empty() {
        return "no library entries match".into();
    }
    let mut s = format!(
        "{:>5}  {:<28} {:<20} {:<10} {:>4} {:>4} {:>4}  flags\n",
        "id", "snapshot", "node", "added", "fail", "warn", "pass"
    );
    for e in items {
        let mut flags = Vec::new();
        if e.pinned {
            flags.push("pinned".to_owned());
        }
        if e.has_iggy {
            flags.push("iggy".to_owned());
        }
        if e.integrity == Some(IntegrityState::Mismatch) {
            flags.push("INTEGRITY MISMATCH".to_owned());
        }
        if e.evicted_at.is_some() {
            flags.push(if e.downloadable {
                "evicted (download again)".to_owned()
            } else {
                "evicted".to_owned()
            });
        }
        if !e.tags.is_empty() {
            flags.push(format!("#{}", e.tags.join(" #")));
        }
        s.push_str(&format!(
            "{:>5}  {:<28} {:<20} {:<10} {:>4} {:>4} {:>4}  {}\n",
            e.id,
            e.snapshot_name.as_deref().unwrap_or(&e.title),
            node(e),
            e.added_at.get(..10).unwrap_or(""),
            e.checks.fail,
            e.checks.warn,
            e.checks.pass,
            flags.join(", ")
        ));
    }
    s.trim_end().to_owned()
}

pub fn show(d: &EntryDetail, checks: &[CheckRow], findings: &[AnalysisFinding]) -> String {
    let e = &d.entry;
    let mut s = format!(
        "entry {}: {}\nkind {}, {} bytes, sha256 {}\nsnapshot {}  deployment {}  node {}\nadded {}  opened {}\nredacted {}  iggy data {}  pinned {}",
        e.id,
        e.title,
        e.kind,
        e.size,
        e.sha256,
        e.snapshot_name.as_deref().unwrap_or("-"),
        e.deployment_name
            .as_deref()
            .or(e.deployment_id.as_deref())
            .unwrap_or("-"),
        node(e),
        e.added_at,
        e.last_opened_at.as_deref().unwrap_or("never"),
        match e.redacted {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "unknown",
        },
        if e.has_iggy { "yes" } else { "no" },
        if e.pinned { "yes" } else { "no" },
    );
    s.push_str(&format!(
        "\nintegrity {}",
        match e.integrity {
            Some(IntegrityState::Verified) => "verified: every entry matches the manifest",
            Some(IntegrityState::Mismatch) => "MISMATCH: the archive is not what its manifest says",
            Some(IntegrityState::Unverifiable) => "unverifiable: no manifest",
            None => "not recorded (stored by an older Snapdesk)",
        }
    ));
    if let Some(i) = d
        .integrity_detail
        .as_ref()
        .filter(|i| i.state == IntegrityState::Mismatch)
    {
        for (what, names) in [
            ("differ", &i.mismatched),
            ("missing", &i.missing),
            ("not listed", &i.unlisted),
        ] {
            if !names.is_empty() {
                s.push_str(&format!("\n  {what}: {}", names.join(", ")));
            }
        }
    }
    if let Some(ev) = &e.evicted_at {
        s.push_str(&format!(
            "\nevicted {ev} for the size budget; {}",
            if e.downloadable {
                format!(
                    "the Supervisor {}: `snapdesk library fetch {}` downloads it again",
                    if e.expires_at.is_some() {
                        "still keeps it"
                    } else {
                        "may still keep it (the context records no plan)"
                    },
                    e.id
                )
            } else if e.expires_at.is_some() {
                "the Supervisor's retention has deleted it".to_owned()
            } else {
                "no known Supervisor keeps it".to_owned()
            }
        ));
    }
    if let Some(x) = &e.expires_at {
        s.push_str(&format!("\nthe Supervisor keeps it until {x}"));
    }
    if !e.note.is_empty() {
        s.push_str(&format!("\nnote: {}", e.note));
    }
    if !e.tags.is_empty() {
        s.push_str(&format!("\ntags: {}", e.tags.join(", ")));
    }
    for o in &d.origins {
        s.push_str(&format!(
            "\norigin {}: {}",
            o.at,
            serde_json::to_string(&o.origin).unwrap_or_default()
        ));
    }
    for f in findings {
        s.push_str(&format!(
            "\nfinding {}{:<4} {:<32} x{}  {}: {}",
            if f.new { "NEW " } else { "" },
            f.severity,
            f.finding_id,
            f.count,
            f.title,
            f.detail
        ));
    }
    for c in checks {
        s.push_str(&format!(
            "\n{:<8} {:<36} {}",
            c.status, c.check_id, c.summary
        ));
    }
    s
}

pub fn imported(items: &[Imported]) -> String {
    items
        .iter()
        .map(|i| {
            format!(
                "{} entry {} ({} checks, sha256 {})",
                if i.deduplicated {
                    "already stored:"
                } else {
                    "stored:"
                },
                i.id,
                i.checks,
                &i.sha256[..12.min(i.sha256.len())]
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn hits(items: &[Hit]) -> String {
    if items.is_empty() {
        return "no checks match".into();
    }
    items
        .iter()
        .map(|h| {
            format!(
                "{:>5} {:<20} {:<8} {:<36} {}",
                h.entry_id,
                h.node.as_deref().unwrap_or("-"),
                h.status,
                h.check_id,
                h.summary
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn diff(d: &Diff) -> String {
    let mut s = format!(
        "{} ({}) -> {} ({}): {} changed, {} added, {} gone, {} facts changed, {} unchanged",
        d.a.id,
        node(&d.a),
        d.b.id,
        node(&d.b),
        d.status_changed.len(),
        d.added.len(),
        d.gone.len(),
        d.facts_changed.len(),
        d.unchanged
    );
    for c in &d.status_changed {
        s.push_str(&format!(
            "\n~ {:<36} {} -> {}",
            c.check_id, c.before, c.after
        ));
    }
    for c in &d.added {
        s.push_str(&format!("\n+ {:<36} {}", c.check_id, c.status));
    }
    for c in &d.gone {
        s.push_str(&format!("\n- {:<36} {}", c.check_id, c.status));
    }
    for f in &d.facts_changed {
        s.push_str(&format!(
            "\n  {:<36} {}: {} -> {}",
            f.check_id,
            f.key,
            f.before.as_deref().unwrap_or("(none)"),
            f.after.as_deref().unwrap_or("(none)")
        ));
    }
    s
}

pub fn matrix(m: &Matrix) -> String {
    let mut s = format!("{:<36}", m.snapshot_name);
    for n in &m.nodes {
        s.push_str(&format!(" {:<10}", n.chars().take(10).collect::<String>()));
    }
    for r in &m.rows {
        s.push_str(&format!(
            "\n{}{:<35}",
            if r.differs { "*" } else { " " },
            r.check_id
        ));
        for st in &r.statuses {
            s.push_str(&format!(" {:<10}", st.as_deref().unwrap_or("-")));
        }
    }
    s
}

pub fn gc(c: &Collected) -> String {
    format!(
        "removed {} leftovers, evicted {} archives; {} of {} MiB used",
        c.removed.len(),
        c.evicted.len(),
        c.stored_bytes >> 20,
        c.budget_bytes >> 20
    )
}

pub fn verified(v: &Verified) -> String {
    if v.is_clean() {
        return format!("{} entries: catalog and store agree", v.entries);
    }
    let mut s = format!("{} entries", v.entries);
    for (what, list) in [
        ("missing archive", &v.missing),
        ("corrupt archive", &v.corrupt),
        ("orphan file", &v.orphans),
        ("leftover", &v.leftovers),
        ("catalog", &v.catalog),
    ] {
        for x in list {
            s.push_str(&format!("\n{what}: {x}"));
        }
    }
    s
}

pub fn files(items: &[snapdesk_ops::library::ArchiveFile]) -> String {
    if items.is_empty() {
        return "no files".into();
    }
    let mut s = format!("{:>12} {:>12}  {:<6}  path\n", "size", "compressed", "kind");
    for f in items {
        let kind = serde_json::to_value(f.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        s.push_str(&format!(
            "{:>12} {:>12}  {:<6}  {}\n",
            f.size, f.compressed, kind, f.path
        ));
    }
    s.trim_end().to_owned()
}

pub fn fetched(id: i64, got: &snapdesk_ops::library::LibraryDownload) -> String {
    use snapdesk_ops::library::Stored;
    let mut s = crate::render::downloads(&got.download);
    for st in &got.library {
        if let Stored::Yes { entry, .. } = st {
            if entry.id == id.to_string() {
                s.push_str(&format!("\nentry {id} has its archive again"));
            } else {
                s.push_str(&format!(
                    "\nthe Supervisor's archive differs from the one entry {id} had: stored as entry {}",
                    entry.id
                ));
            }
        }
    }
    s
}

//! What the catalog learns from an archive: the entry's facts and every check, whatever
//! produced the report (our embedded JSON, a foreign HTML report read through `scraper`, or
//! the text sections of Apache Iggy's own snapshot ZIP, one "check" per section).

use std::io::Read;
use std::path::Path;

use snapdesk_core::Cancel;
use snapdesk_report::archive::{
    self, ArchiveKind, Integrity, Limits, OpenedArchive, IGGY_DATA_ENTRY,
};
use snapdesk_report::{Status, StatusCounts};

use crate::analysis::{self, ImportFindings};
use crate::error::{LibraryError, Result};

/// The largest total an archive may inflate to before it is kept (a 2 GiB snapshot with a
/// 1 GiB data bundle is ordinary).
pub const MAX_INFLATED: u64 = 64 * 1024 * 1024 * 1024;

/// One check to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCheck {
    pub check_id: String,
    pub category: String,
    pub title: String,
    pub status: String,
    pub summary: String,
    pub facts: Vec<(String, String)>,
}

/// What an archive says about itself, read and checked.
#[derive(Debug, Clone)]
pub struct Described {
    pub kind: &'static str,
    pub title: String,
    pub snapshot_name: Option<String>,
    pub deployment_id: Option<String>,
    pub deployment_name: Option<String>,
    pub node_id: Option<String>,
    pub host_name: Option<String>,
    pub created_at: Option<String>,
    pub completed_at: Option<String>,
    pub redacted: Option<bool>,
    pub has_iggy: bool,
    pub counts: StatusCounts,
    pub checks: Vec<NewCheck>,
    /// Whether the entries are what the manifest says (checked while reading).
    pub integrity: Integrity,
    /// What the analyzers found (filled by [`describe`], stored with the entry).
    pub findings: ImportFindings,
}

pub(crate) fn status_str(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Warn => "warn",
        Status::Fail => "fail",
        Status::Info => "info",
        Status::Error => "error",
        Status::Skipped => "skipped",
    }
}

/// Proves the whole archive sound and reads what the catalog keeps, the analyzers' findings
/// included. Nothing is written.
/// `fallback_title` names the entry when the report has no title (the archive is read from
/// a temp file whose name means nothing).
pub fn describe(path: &Path, fallback_title: &str, cancel: &Cancel) -> Result<Described> {
    let limits = Limits::default();
    // Every entry to its end (names, CRC, sizes, ratio), then the report as a viewer reads it.
    let scanned = archive::scan(path, &limits, MAX_INFLATED, cancel)?;
    let opened = archive::open_with(path, &limits, cancel)?;
    let has_iggy = scanned
        .entries
        .iter()
        .any(|e| e.name == IGGY_DATA_ENTRY || e.name.ends_with("/iggy-data.zip"));
    let has_iggy = has_iggy && check_nested(path, cancel)?;
    let mut d = from_opened(&opened, has_iggy);
    if d.title == file_stem(path) {
        d.title = fallback_title.to_owned();
    }
    cancel.check()?;
    d.findings = analysis::at_import(&opened, path, has_iggy, &d.checks);
    Ok(d)
}

/// Reads every file of a nested `iggy-data.zip` in place (through `snapdesk-iggy`'s reader,
/// which holds each to its declared size and the ratio): a nested bomb is refused like an
/// outer one. Returns whether it holds an Iggy data directory: a nested entry that is no ZIP
/// at all (the emulator pads with random bytes) is opaque bytes the outer scan checked.
fn check_nested(path: &Path, cancel: &Cancel) -> Result<bool> {
    use snapdesk_iggy::InspectError;
    let nested = |reason: String| LibraryError::Nested {
        path: path.to_path_buf(),
        reason,
    };
    let tree = match snapdesk_iggy::source::open(path) {
        Ok(t) => t,
        // No data directory inside, or not a ZIP: nothing nested to read.
        Err(InspectError::NoData { .. } | InspectError::NotZip { .. }) => return Ok(false),
        Err(e) => return Err(nested(e.to_string())),
    };
    let mut buf = vec![0u8; 256 * 1024];
    for (name, meta) in &tree.files {
        let mut r = tree
            .open(name)
            .map_err(|e| nested(format!("{name}: {e}")))?;
        let mut n = 0u64;
        loop {
            cancel.check()?;
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(k) => n += k as u64,
                Err(e) => return Err(nested(format!("{name}: {e}"))),
            }
        }
        if n != meta.size {
            return Err(nested(format!(
                "{name} holds {n} bytes, not the {} it declares",
                meta.size
            )));
        }
    }
    Ok(true)
}

fn kind_str(k: ArchiveKind) -> &'static str {
    match k {
        ArchiveKind::Snapdesk => "snapdesk",
        ArchiveKind::Html => "html",
        ArchiveKind::IggySnapshot => "iggy_snapshot",
    }
}

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The entry and its checks from an archive already opened and checked.
pub fn from_opened(o: &OpenedArchive, has_iggy: bool) -> Described {
    let report = o.parsed.as_ref().and_then(|p| p.report.as_ref());
    let checks: Vec<NewCheck> = match &o.parsed {
        Some(p) => p
            .checks
            .iter()
            .map(|c| NewCheck {
                check_id: c.id.clone(),
                category: c.category.clone(),
                title: c.title.clone(),
                status: status_str(c.status).to_owned(),
                summary: c.summary.clone(),
                facts: c
                    .facts
                    .iter()
                    .map(|f| (f.key.clone(), f.value.clone()))
                    .collect(),
            })
            .collect(),
        None => o
            .sections
            .iter()
            .map(|s| {
                let base = s.name.rsplit('/').next().unwrap_or(&s.name);
                let summary = match &s.left_out {
                    Some(why) => why.clone(),
                    None => s
                        .text
                        .lines()
                        .map(str::trim)
                        .find(|l| !l.is_empty())
                        .unwrap_or("")
                        .chars()
                        .take(200)
                        .collect(),
                };
                NewCheck {
                    check_id: format!("iggy_snapshot.{}", base.trim_end_matches(".txt")),
                    category: "iggy-snapshot".into(),
                    title: s.title.clone(),
                    status: "info".into(),
                    summary,
                    facts: vec![("bytes shown".into(), s.text.len().to_string())],
                }
            })
            .collect(),
    };
    let mut counts = StatusCounts::default();
    for c in &checks {
        match c.status.as_str() {
            "pass" => counts.pass += 1,
            "warn" => counts.warn += 1,
            "fail" => counts.fail += 1,
            "info" => counts.info += 1,
            "error" => counts.error += 1,
            _ => counts.skipped += 1,
        }
    }
    let m = o.manifest.as_ref();
    let title = report
        .map(|r| r.title.clone())
        .or_else(|| o.parsed.as_ref().and_then(|p| p.title.clone()))
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| file_stem(&o.path));
    let pick = |a: Option<&String>, b: Option<&String>| a.or(b).cloned();
    Described {
        kind: kind_str(o.kind),
        title,
        snapshot_name: m
            .map(|m| m.snapshot_name.clone())
            .or_else(|| report.map(|r| r.snapshot_name.clone())),
        deployment_id: pick(
            m.and_then(|m| m.deployment_id.as_ref()),
            report.and_then(|r| r.deployment_id.as_ref()),
        ),
        deployment_name: pick(
            m.and_then(|m| m.deployment_name.as_ref()),
            report.and_then(|r| r.deployment_name.as_ref()),
        ),
        node_id: pick(
            m.and_then(|m| m.node_id.as_ref()),
            report.and_then(|r| r.node_id.as_ref()),
        ),
        host_name: m
            .map(|m| m.host_name.clone())
            .or_else(|| report.map(|r| r.host_name.clone())),
        created_at: m
            .map(|m| m.created_at.to_rfc3339())
            .or_else(|| report.map(|r| r.created_at.to_rfc3339())),
        completed_at: m
            .and_then(|m| m.completed_at)
            .or_else(|| report.and_then(|r| r.completed_at))
            .map(|t| t.to_rfc3339()),
        redacted: m
            .map(|m| m.redaction.redacted)
            .or_else(|| report.map(|r| r.redacted)),
        has_iggy,
        counts,
        checks,
        integrity: o.integrity.clone(),
        findings: ImportFindings::default(),
    }
}

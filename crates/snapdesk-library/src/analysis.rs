//! Re-analysis: analyzers that need no live host, run over archives already in the library,
//! so that what we learn today flags yesterday's snapshots.
//!
//! | analyzer | reads | finds |
//! |---|---|---|
//! | `log_signatures` | the report's logs and an Iggy snapshot's server log | known Iggy failure modes by their log lines ([`SIGNATURES`]) |
//! | `fact_rules` | the catalog's recorded facts (evicted entries too) | certificates within 30 days of expiry, data disks under 10 % free |
//! | `iggy_data` | the archive's Iggy data, through the inspector | its error and warning findings, by kind |
//!
//! Each analyzer has a version ([`ANALYZERS`]); raise it when its rules change. A run stores
//! every finding per entry (catalog migration 3) and marks `new` those the entry did not
//! have before this run; an entry's next run clears the mark.
//!
//! The same analyzers run when an archive enters the library (import, download, collection:
//! [`at_import`], stored in the transaction that inserts the entry), so a fresh entry has its
//! findings without a re-analysis. None of those is `new`: that mark says what a re-analysis
//! learnt about a snapshot the library already held.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use rusqlite::params;
use serde::{Deserialize, Serialize};
use snapdesk_core::Cancel;
use snapdesk_iggy::{InspectError, Severity};
use snapdesk_report::archive::{self, Limits, OpenedArchive};
use ts_rs::TS;

use crate::catalog::NewCheck;
use crate::error::Result;
use crate::store::{now, Library};

/// The analyzers and their versions.
pub const ANALYZERS: [(&str, u32); 3] =
    [("log_signatures", 1), ("fact_rules", 1), ("iggy_data", 1)];

/// A log signature: (finding id, severity, title, any of these substrings).
pub type Signature = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
);

/// Known Iggy failure modes by the lines they leave (matched without case).
pub const SIGNATURES: [Signature; 8] = [
    (
        "log.disk_full",
        "fail",
        "The disk filled up: writes failed with ENOSPC",
        &["no space left on device", "os error 28"],
    ),
    (
        "log.persist_failed",
        "fail",
        "The server failed to persist messages",
        &["failed to persist messages", "cannot persist"],
    ),
    (
        "log.too_many_open_files",
        "fail",
        "The server ran out of file descriptors",
        &["too many open files", "os error 24"],
    ),
    (
        "log.address_in_use",
        "fail",
        "A listener could not bind: address already in use",
        &["address already in use", "os error 98"],
    ),
    ("log.panic", "fail", "The server panicked", &["panicked at"]),
    (
        "log.oom_kill",
        "fail",
        "The kernel's OOM killer killed a process",
        &[
            "out of memory: killed process",
            "invoked oom-killer",
            "oom-kill:",
        ],
    ),
    (
        "log.segment_recovery",
        "fail",
        "The server found a damaged segment at start",
        &[
            "recoveredsegmentsizedivergence",
            "segment is corrupted",
            "invalid segment",
        ],
    ),
    (
        "log.unauthenticated",
        "warn",
        "Unauthenticated access attempts",
        &["unauthenticated access attempt"],
    ),
];

/// One finding of one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AnalysisFinding {
    pub entry_id: String,
    pub analyzer: String,
    pub version: u32,
    pub finding_id: String,
    /// `fail`, `warn` or `info`.
    pub severity: String,
    pub title: String,
    /// The first line or fact that showed it.
    pub detail: String,
    #[ts(type = "number")]
    pub count: u64,
    /// When a run first flagged it on this entry.
    pub first_flagged_at: String,
    /// Flagged by the latest run and not before it.
    pub new: bool,
}

/// An entry with findings the latest run added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FlaggedEntry {
    pub entry_id: String,
    pub snapshot_name: Option<String>,
    pub node: Option<String>,
    pub created_at: Option<String>,
    /// Every finding of the entry, the new ones marked.
    pub findings: Vec<AnalysisFinding>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AnalyzerVersion {
    pub id: String,
    pub version: u32,
}

/// What a re-analysis did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Reanalysis {
    pub analyzers: Vec<AnalyzerVersion>,
    pub entries_analyzed: u32,
    /// Entries whose archive is gone (evicted): only the fact rules ran on them.
    pub entries_facts_only: u32,
    pub findings: u32,
    pub new_findings: u32,
    /// Past snapshots the run flags anew, oldest first.
    pub flagged: Vec<FlaggedEntry>,
    /// Archives that could not be read, with why.
    pub errors: Vec<(String, String)>,
}

/// A finding before it is stored.
#[derive(Debug, Clone)]
struct Found {
    analyzer: &'static str,
    id: String,
    severity: &'static str,
    title: String,
    detail: String,
    count: u64,
}

/// What the analyzers found in an archive as it was imported, kept until its entry is stored.
#[derive(Debug, Clone, Default)]
pub struct ImportFindings {
    found: BTreeMap<String, Found>,
}

impl ImportFindings {
    /// How many findings, for tests and logs.
    pub fn len(&self) -> usize {
        self.found.len()
    }

    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }
}

/// Every analyzer over an archive being imported (opened and proven sound at `path`): the
/// fact rules over its checks, the log signatures over its logs, its Iggy data's findings.
/// An analyzer that cannot read something finds nothing there: an import never fails for it
/// (a re-analysis reports such errors).
pub fn at_import(
    opened: &OpenedArchive,
    path: &Path,
    has_iggy: bool,
    checks: &[NewCheck],
) -> ImportFindings {
    let mut found = BTreeMap::new();
    let facts: Vec<(String, String, String)> = checks
        .iter()
        .flat_map(|c| {
            c.facts
                .iter()
                .map(|(k, v)| (c.check_id.clone(), k.clone(), v.clone()))
        })
        .collect();
    fact_rules(&facts, &mut found);
    scan_archive_logs(opened, &mut found);
    if has_iggy {
        if let Err(e) = iggy_findings(path, &mut found) {
            tracing::warn!("Iggy data of {} not analyzed: {e}", path.display());
        }
    }
    ImportFindings { found }
}

/// The analyzers and versions a run applies, as `analysis_state` records them.
fn versions() -> String {
    ANALYZERS
        .iter()
        .map(|(a, v)| format!("{a}@{v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The catalog migration that created `analysis_findings` and `analysis_state`.
const ANALYSIS_TABLES_SINCE: i64 = 5;

/// Stores what [`at_import`] found for a new entry, inside the transaction that inserts it
/// (nothing is marked new).
pub(crate) fn record_at_import(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    findings: &ImportFindings,
) -> Result<()> {
    // A catalog left before the analysis tables (only tests of migrations keep one) has
    // nowhere to store them; its first re-analysis after migrating finds them.
    if crate::db::version(tx)? < ANALYSIS_TABLES_SINCE {
        return Ok(());
    }
    write_findings(tx, id, &findings.found, &versions(), false)?;
    Ok(())
}

/// The log signatures over a report's logs and an Iggy snapshot's server log.
fn scan_archive_logs(o: &OpenedArchive, out: &mut BTreeMap<String, Found>) {
    if let Some(r) = o.parsed.as_ref().and_then(|p| p.report.as_ref()) {
        scan_logs(
            r.logs
                .iter()
                .flat_map(|l| l.lines.iter().map(String::as_str)),
            out,
        );
    }
    for s in o
        .sections
        .iter()
        .filter(|s| s.name.ends_with("server_logs.txt"))
    {
        scan_logs(s.text.lines(), out);
    }
}

fn version_of(analyzer: &str) -> u32 {
    ANALYZERS
        .iter()
        .find(|(a, _)| *a == analyzer)
        .map(|(_, v)| *v)
        .unwrap_or(0)
}

/// Log signatures over lines.
fn scan_logs<'a>(lines: impl Iterator<Item = &'a str>, out: &mut BTreeMap<String, Found>) {
    for line in lines {
        let lower = line.to_ascii_lowercase();
        for (id, sev, title, needles) in &SIGNATURES {
            if needles.iter().any(|n| lower.contains(n)) {
                let f = out.entry((*id).to_owned()).or_insert_with(|| Found {
                    analyzer: "log_signatures",
                    id: (*id).to_owned(),
                    severity: sev,
                    title: (*title).to_owned(),
                    detail: line.chars().take(300).collect(),
                    count: 0,
                });
                f.count += 1;
            }
        }
    }
}

/// Rules over the facts the catalog recorded for an entry.
fn fact_rules(facts: &[(String, String, String)], out: &mut BTreeMap<String, Found>) {
    for (check_id, key, value) in facts {
        let Ok(v) = value.trim().parse::<f64>() else {
            continue;
        };
        let hit = match key.as_str() {
            "days_left" if v <= 30.0 => Some((
                "facts.cert_expiring",
                if v <= 7.0 { "fail" } else { "warn" },
                "A certificate expires within 30 days (or has expired)",
                format!("{check_id}: days_left = {value}"),
            )),
            "free_percent" if v < 10.0 => Some((
                "facts.disk_nearly_full",
                if v < 5.0 { "fail" } else { "warn" },
                "A disk has less than 10 % free",
                format!("{check_id}: free_percent = {value}"),
            )),
            _ => None,
        };
        if let Some((id, sev, title, detail)) = hit {
            let f = out.entry(id.to_owned()).or_insert_with(|| Found {
                analyzer: "fact_rules",
                id: id.to_owned(),
                severity: sev,
                title: title.to_owned(),
                detail,
                count: 0,
            });
            f.count += 1;
            if sev == "fail" {
                f.severity = "fail";
            }
        }
    }
}

fn iggy_findings(path: &std::path::Path, out: &mut BTreeMap<String, Found>) -> Result<(), String> {
    let ins = match snapdesk_iggy::inspect(path) {
        Ok(i) => i,
        Err(InspectError::NoData { .. } | InspectError::NotZip { .. }) => return Ok(()),
        Err(InspectError::UnknownFormat { .. }) => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    for f in &ins.findings {
        let sev = match f.severity {
            Severity::Error => "fail",
            Severity::Warning => "warn",
            Severity::Info => continue,
        };
        let id = format!("iggy_data.{}", f.kind.as_str());
        let e = out.entry(id.clone()).or_insert_with(|| Found {
            analyzer: "iggy_data",
            id,
            severity: sev,
            title: format!("Iggy data: {}", f.kind.as_str().replace('_', " ")),
            detail: format!("{}: {}", f.path, f.message),
            count: 0,
        });
        e.count += 1;
    }
    Ok(())
}

impl Library {
    /// Runs every analyzer over every entry and stores the findings.
    pub fn reanalyze(&self, cancel: &Cancel) -> Result<Reanalysis> {
        let entries: Vec<(i64, String, bool, bool)> = {
            let conn = self.lock();
            let mut st = conn.prepare(
                "SELECT id, sha256, evicted_at IS NOT NULL, has_iggy FROM entries
                 ORDER BY coalesce(created_at, added_at), id",
            )?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut rep = Reanalysis {
            analyzers: ANALYZERS
                .iter()
                .map(|(id, v)| AnalyzerVersion {
                    id: (*id).to_owned(),
                    version: *v,
                })
                .collect(),
            entries_analyzed: 0,
            entries_facts_only: 0,
            findings: 0,
            new_findings: 0,
            flagged: Vec::new(),
            errors: Vec::new(),
        };
        let versions = versions();
        for (id, sha, evicted, has_iggy) in entries {
            cancel.check()?;
            let mut found: BTreeMap<String, Found> = BTreeMap::new();
            let facts: Vec<(String, String, String)> = {
                let conn = self.lock();
                let mut st =
                    conn.prepare_cached("SELECT check_id, facts FROM checks WHERE entry_id = ?1")?;
                let rows = st.query_map([id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?;
                let mut v = Vec::new();
                for row in rows {
                    let (cid, facts) = row?;
                    let pairs: Vec<(String, String)> =
                        serde_json::from_str(&facts).unwrap_or_default();
                    v.extend(pairs.into_iter().map(|(k, val)| (cid.clone(), k, val)));
                }
                v
            };
            fact_rules(&facts, &mut found);
            if evicted {
                rep.entries_facts_only += 1;
            } else {
                let path = self.stored_path(&sha);
                match archive::open_with(&path, &Limits::default(), cancel) {
                    Ok(o) => scan_archive_logs(&o, &mut found),
                    Err(e) => rep.errors.push((id.to_string(), e.to_string())),
                }
                if has_iggy {
                    if let Err(e) = iggy_findings(&path, &mut found) {
                        rep.errors.push((id.to_string(), e));
                    }
                }
            }
            rep.entries_analyzed += 1;
            let (stored, new) = self.store_findings(id, &found, &versions)?;
            rep.findings += stored.len() as u32;
            rep.new_findings += new;
            if new > 0 {
                let e = self.entry(id)?;
                rep.flagged.push(FlaggedEntry {
                    entry_id: id.to_string(),
                    snapshot_name: e.snapshot_name,
                    node: e.node_id.or(e.host_name),
                    created_at: e.created_at,
                    findings: stored,
                });
            }
        }
        Ok(rep)
    }

    /// Replaces an entry's findings; returns them with how many are new.
    fn store_findings(
        &self,
        id: i64,
        found: &BTreeMap<String, Found>,
        versions: &str,
    ) -> Result<(Vec<AnalysisFinding>, u32)> {
        self.write(Some(id), "analyzed", |tx| {
            Ok(write_findings(tx, id, found, versions, true)?)
        })
    }

    /// The stored findings of an entry, the new ones marked (what the app shows).
    pub fn analysis(&self, id: i64) -> Result<Vec<AnalysisFinding>> {
        let conn = self.lock();
        let mut st = conn.prepare_cached(
            "SELECT analyzer, version, finding_id, severity, title, detail, count, first_at, is_new
             FROM analysis_findings WHERE entry_id = ?1
             ORDER BY CASE severity WHEN 'fail' THEN 0 WHEN 'warn' THEN 1 ELSE 2 END, finding_id",
        )?;
        let rows = st.query_map([id], |r| {
            Ok(AnalysisFinding {
                entry_id: id.to_string(),
                analyzer: r.get(0)?,
                version: r.get(1)?,
                finding_id: r.get(2)?,
                severity: r.get(3)?,
                title: r.get(4)?,
                detail: r.get(5)?,
                count: r.get::<_, i64>(6)? as u64,
                first_flagged_at: r.get(7)?,
                new: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Replaces an entry's findings inside `tx`; returns them with how many are new. With
/// `mark_new`, a finding the entry did not have before is marked new (a re-analysis);
/// without, none is (an import).
fn write_findings(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    found: &BTreeMap<String, Found>,
    versions: &str,
    mark_new: bool,
) -> rusqlite::Result<(Vec<AnalysisFinding>, u32)> {
    let mut before: HashMap<String, String> = HashMap::new();
    {
        let mut st = tx.prepare_cached(
            "SELECT finding_id, first_at FROM analysis_findings WHERE entry_id = ?1",
        )?;
        let rows = st.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        for row in rows {
            let (f, at) = row?;
            before.insert(f, at);
        }
    }
    tx.execute("DELETE FROM analysis_findings WHERE entry_id = ?1", [id])?;
    let at = now();
    let mut out = Vec::new();
    let mut new = 0u32;
    for f in found.values() {
        let (first_at, is_new) = match before.get(&f.id) {
            Some(t) => (t.clone(), false),
            None => (at.clone(), mark_new),
        };
        new += u32::from(is_new);
        let version = version_of(f.analyzer);
        tx.execute(
            "INSERT INTO analysis_findings (entry_id, finding_id, analyzer, version,
                severity, title, detail, count, first_at, is_new)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                id,
                f.id,
                f.analyzer,
                version,
                f.severity,
                f.title,
                f.detail,
                f.count as i64,
                first_at,
                is_new
            ],
        )?;
        out.push(AnalysisFinding {
            entry_id: id.to_string(),
            analyzer: f.analyzer.to_owned(),
            version,
            finding_id: f.id.clone(),
            severity: f.severity.to_owned(),
            title: f.title.clone(),
            detail: f.detail.clone(),
            count: f.count,
            first_flagged_at: first_at,
            new: is_new,
        });
    }
    tx.execute(
        "INSERT INTO analysis_state (entry_id, versions, at) VALUES (?1, ?2, ?3)
         ON CONFLICT(entry_id) DO UPDATE SET versions = excluded.versions, at = excluded.at",
        params![id, versions, at],
    )?;
    Ok((out, new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_lines_iggy_and_the_kernel_write() {
        let lines = [
            "2026-05-01T12:00:00Z ERROR server::streaming::segments: Failed to persist messages for stream ID: 1, topic ID: 1, partition ID: 3: No space left on device (os error 28)",
            "2026-05-01T12:00:01Z INFO server::tcp: Accepted new TCP connection",
            "[12345.6] Out of memory: Killed process 4242 (iggy-server)",
            "thread 'main' panicked at core/server/src/main.rs:10:5:",
            "2026-05-01T12:00:02Z ERROR server::binary::command: Unauthenticated access attempt from 10.0.0.1:4000",
        ];
        let mut out = BTreeMap::new();
        scan_logs(lines.iter().copied(), &mut out);
        let got: Vec<(&str, u64)> = out.values().map(|f| (f.id.as_str(), f.count)).collect();
        assert_eq!(
            got,
            [
                ("log.disk_full", 1),
                ("log.oom_kill", 1),
                ("log.panic", 1),
                ("log.persist_failed", 1),
                ("log.unauthenticated", 1),
            ]
        );
    }

    #[test]
    fn fact_rules_judge_recorded_values_not_the_status_of_the_time() {
        let facts = vec![
            ("certs.expiry".into(), "days_left".into(), "12".into()),
            ("certs.expiry".into(), "days_left".into(), "400".into()),
            (
                "storage.data_free".into(),
                "free_percent".into(),
                "3.2".into(),
            ),
            (
                "storage.data_free".into(),
                "free_percent".into(),
                "not a number".into(),
            ),
        ];
        let mut out = BTreeMap::new();
        fact_rules(&facts, &mut out);
        let got: Vec<(&str, &str, u64)> = out
            .values()
            .map(|f| (f.id.as_str(), f.severity, f.count))
            .collect();
        assert_eq!(
            got,
            [
                ("facts.cert_expiring", "warn", 1),
                ("facts.disk_nearly_full", "fail", 1)
            ]
        );
    }
}

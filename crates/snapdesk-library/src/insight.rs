//! Insight across snapshots: the triage board of a deployment (or of a host's local
//! collections), one check's timeline per node, and the log lines every node wrote around a
//! moment. The board and the timelines read the catalog only (evicted entries count); the
//! log lines read the archives.
//!
//! A *snapshot* is what was collected at one time: the entries of one deployment that share
//! a snapshot name (one per node), or a single entry when it has no deployment (a local
//! collection, a file: two collections in one second share a name). Its time is the
//! earliest `created_at` of its entries (else when it was added). A *node* is an entry's
//! node id, else its host name.
//!
//! Triage states, for a check that was warn, fail or error in some snapshot:
//! - `new`: bad in the newest snapshot and in no earlier one;
//! - `persisting`: bad in the newest snapshot and in an earlier one;
//! - `resolved`: not bad in the newest snapshot, where it ran and passed (or was only
//!   information) on every node it was last bad on;
//! - `not_collected`: not bad in the newest snapshot, but on a node it was last bad on the
//!   newest snapshot skipped it, lacks it, or has no archive of that node. Never read as a
//!   pass.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};
use serde::{Deserialize, Serialize};
use snapdesk_core::Cancel;
use snapdesk_report::archive::{self, Limits};
use ts_rs::TS;

use crate::error::{LibraryError, Result};
use crate::store::Library;

/// Which entries a board or a timeline covers: one deployment (id or name), one host's
/// entries, or, with neither, the whole library.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Scope {
    pub deployment: Option<String>,
    pub host: Option<String>,
}

impl Scope {
    pub fn deployment(d: impl Into<String>) -> Self {
        Self {
            deployment: Some(d.into()),
            host: None,
        }
    }

    pub fn host(h: impl Into<String>) -> Self {
        Self {
            deployment: None,
            host: Some(h.into()),
        }
    }

    fn sql(&self, conds: &mut Vec<String>, args: &mut Vec<Value>) {
        if let Some(d) = &self.deployment {
            conds.push("(e.deployment_id = ? OR e.deployment_name = ?)".into());
            args.push(Value::Text(d.clone()));
            args.push(Value::Text(d.clone()));
        }
        if let Some(h) = &self.host {
            conds.push("e.host_name = ?".into());
            args.push(Value::Text(h.clone()));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum TriageState {
    New,
    Persisting,
    NotCollected,
    Resolved,
}

/// One row of the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TriageItem {
    pub check_id: String,
    pub title: String,
    /// The worst status where it was last seen bad: `fail`, `error` or `warn`.
    pub status: String,
    pub state: TriageState,
    /// The nodes it was bad on in the last snapshot it was seen bad in.
    pub nodes: Vec<String>,
    /// When it was first and last seen bad (snapshot times).
    pub first_seen: String,
    pub last_seen: String,
    /// The entry to open to read it where it was last seen (its worst node).
    pub last_entry_id: String,
    /// In how many snapshots it was bad.
    pub snapshots_seen: u32,
}

/// The triage board: every warn, fail and error check across the snapshots of a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Triage {
    pub scope: Scope,
    pub snapshots: u32,
    /// The newest snapshot's name and time, the one states are judged against.
    pub newest_snapshot: Option<String>,
    pub newest_at: Option<String>,
    /// Failures first, then by nodes affected.
    pub items: Vec<TriageItem>,
}

/// One snapshot of one node on a timeline. `state` is the check's status (`pass`, `info`,
/// `warn`, `fail`, `error`) or `not_collected`; `detail` says why not collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TimelinePoint {
    pub snapshot: String,
    pub at: String,
    pub entry_id: Option<String>,
    pub state: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NodeTimeline {
    pub node: String,
    /// Oldest first, one per snapshot of the scope.
    pub points: Vec<TimelinePoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Timeline {
    pub check_id: String,
    pub title: Option<String>,
    pub scope: Scope,
    pub nodes: Vec<NodeTimeline>,
}

/// One log line near a moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LogLine {
    /// The log's title (`Iggy server (journald)`, `Kernel log`).
    pub source: String,
    /// The line's own time when it has one (lines without inherit the previous line's).
    pub at: Option<String>,
    pub line: String,
}

/// One node's log lines near a moment, from the archive that covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct NodeLogs {
    pub node: String,
    pub entry_id: Option<String>,
    pub snapshot: Option<String>,
    pub lines: Vec<LogLine>,
    /// Why there are no lines (evicted archive, no log with times, nothing that near).
    pub note: Option<String>,
}

/// An entry as insight needs it.
#[derive(Debug, Clone)]
struct Lite {
    id: i64,
    node: String,
    /// Index into the chronological snapshots.
    snap: usize,
}

#[derive(Debug, Clone)]
struct Snap {
    name: String,
    at: String,
}

/// Entries of a scope, grouped into snapshots, oldest first.
struct Scoped {
    entries: Vec<Lite>,
    snaps: Vec<Snap>,
}

/// Sortable time: RFC 3339 parsed (the text kept as written), else first.
fn when(s: &str) -> (i64, String) {
    match DateTime::parse_from_rfc3339(s) {
        Ok(t) => (t.timestamp_micros(), s.to_owned()),
        Err(_) => (i64::MIN, s.to_owned()),
    }
}

fn scoped(conn: &Connection, scope: &Scope) -> Result<Scoped> {
    let mut conds = Vec::new();
    let mut args = Vec::new();
    scope.sql(&mut conds, &mut args);
    let wh = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    let sql = format!(
        "SELECT e.id, coalesce(e.node_id, e.host_name, 'entry ' || e.id), e.snapshot_name,
                coalesce(e.deployment_id, e.deployment_name, ''), coalesce(e.created_at, e.added_at)
         FROM entries e {wh}"
    );
    let mut st = conn.prepare_cached(&sql)?;
    let rows = st.query_map(params_from_iter(args), |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    // Snapshot key → (name, earliest time).
    let mut groups: HashMap<(String, String), ((i64, String), String)> = HashMap::new();
    let mut raw = Vec::new();
    for row in rows {
        let (id, node, name, dep, at) = row?;
        // The nodes of one deployment's snapshot share its name; anything else (a local
        // collection, a file) is its own snapshot, whatever it is named.
        let key = match &name {
            Some(n) if !dep.is_empty() => (dep, n.clone()),
            _ => (String::new(), format!("#{id}")),
        };
        let t = when(&at);
        let label = name.unwrap_or_else(|| format!("entry {id}"));
        groups
            .entry(key.clone())
            .and_modify(|g| {
                if t < g.0 {
                    g.0 = t.clone();
                }
            })
            .or_insert((t, label));
        raw.push((id, node, key));
    }
    let mut order: Vec<_> = groups.into_iter().collect();
    order.sort_by(|a, b| (&a.1 .0, &a.0).cmp(&(&b.1 .0, &b.0)));
    let mut index = HashMap::new();
    let snaps = order
        .into_iter()
        .enumerate()
        .map(|(i, (key, ((_, at), name)))| {
            index.insert(key, i);
            Snap { name, at }
        })
        .collect();
    let entries = raw
        .into_iter()
        .map(|(id, node, key)| Lite {
            id,
            node,
            snap: index[&key],
        })
        .collect();
    Ok(Scoped { entries, snaps })
}

fn bad_rank(status: &str) -> u8 {
    match status {
        "fail" => 0,
        "error" => 1,
        _ => 2,
    }
}

fn in_list(ids: &[i64]) -> String {
    let mut s = String::with_capacity(ids.len() * 8);
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&id.to_string());
    }
    s
}

impl Library {
    /// The triage board of a scope.
    pub fn triage(&self, scope: &Scope) -> Result<Triage> {
        let conn = self.lock();
        let sc = scoped(&conn, scope)?;
        let mut out = Triage {
            scope: scope.clone(),
            snapshots: sc.snaps.len() as u32,
            newest_snapshot: sc.snaps.last().map(|s| s.name.clone()),
            newest_at: sc.snaps.last().map(|s| s.at.clone()),
            items: Vec::new(),
        };
        let Some(newest) = sc.snaps.len().checked_sub(1) else {
            return Ok(out);
        };
        let by_id: HashMap<i64, &Lite> = sc.entries.iter().map(|e| (e.id, e)).collect();
        // Every bad check; the scope is applied through `by_id` (one index range scan, no
        // join, no string copied per row: the board of 10,000 snapshots stays well under
        // 200 ms).
        struct Acc<'a> {
            first: usize,
            last: usize,
            snaps: BTreeSet<usize>,
            /// At `last`: node → (rank, entry id).
            at_last: BTreeMap<&'a str, (u8, i64)>,
        }
        let mut acc: HashMap<String, Acc<'_>> = HashMap::new();
        {
            let mut st = conn.prepare_cached(
                "SELECT entry_id, check_id, status FROM checks
                 WHERE status IN ('warn', 'fail', 'error')",
            )?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                let entry: i64 = r.get(0)?;
                let Some(e) = by_id.get(&entry) else { continue };
                let check_id = r.get_ref(1)?.as_str().unwrap_or("");
                let rank = bad_rank(r.get_ref(2)?.as_str().unwrap_or("warn"));
                let a = match acc.get_mut(check_id) {
                    Some(a) => a,
                    None => acc.entry(check_id.to_owned()).or_insert_with(|| Acc {
                        first: e.snap,
                        last: e.snap,
                        snaps: BTreeSet::new(),
                        at_last: BTreeMap::new(),
                    }),
                };
                a.snaps.insert(e.snap);
                a.first = a.first.min(e.snap);
                if e.snap > a.last {
                    a.last = e.snap;
                    a.at_last.clear();
                }
                if e.snap == a.last {
                    let slot = a.at_last.entry(e.node.as_str()).or_insert((rank, entry));
                    if rank < slot.0 {
                        *slot = (rank, entry);
                    }
                }
            }
        }
        // The newest snapshot: its entries per node, and their checks' statuses.
        let newest_entries: HashMap<&str, i64> = sc
            .entries
            .iter()
            .filter(|e| e.snap == newest)
            .map(|e| (e.node.as_str(), e.id))
            .collect();
        let ids: Vec<i64> = newest_entries.values().copied().collect();
        let mut newest_status: HashMap<(i64, String), String> = HashMap::new();
        if !ids.is_empty() {
            let mut st = conn.prepare(&format!(
                "SELECT entry_id, check_id, status FROM checks WHERE entry_id IN ({})",
                in_list(&ids)
            ))?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                newest_status
                    .entry((r.get(0)?, r.get(1)?))
                    .or_insert(r.get(2)?);
            }
        }
        for (check_id, a) in acc {
            let state = if a.last == newest {
                if a.first == newest {
                    TriageState::New
                } else {
                    TriageState::Persisting
                }
            } else {
                let passed_everywhere = a.at_last.keys().all(|node| {
                    newest_entries
                        .get(node)
                        .and_then(|id| newest_status.get(&(*id, check_id.clone())))
                        .is_some_and(|s| s == "pass" || s == "info")
                });
                if passed_everywhere {
                    TriageState::Resolved
                } else {
                    TriageState::NotCollected
                }
            };
            let (rank, entry) = a.at_last.values().min().copied().unwrap_or((2, 0));
            // The title where it was last seen.
            let title: String = conn
                .prepare_cached(
                    "SELECT title FROM checks WHERE entry_id = ?1 AND check_id = ?2 LIMIT 1",
                )?
                .query_row(rusqlite::params![entry, check_id], |r| r.get(0))
                .unwrap_or_default();
            out.items.push(TriageItem {
                check_id,
                title,
                status: ["fail", "error", "warn"][rank as usize].to_owned(),
                state,
                nodes: a.at_last.keys().map(|n| (*n).to_owned()).collect(),
                first_seen: sc.snaps[a.first].at.clone(),
                last_seen: sc.snaps[a.last].at.clone(),
                last_entry_id: entry.to_string(),
                snapshots_seen: a.snaps.len() as u32,
            });
        }
        out.items.sort_by(|x, y| {
            (
                bad_rank(&x.status),
                std::cmp::Reverse(x.nodes.len()),
                x.state,
                &x.check_id,
            )
                .cmp(&(
                    bad_rank(&y.status),
                    std::cmp::Reverse(y.nodes.len()),
                    y.state,
                    &y.check_id,
                ))
        });
        Ok(out)
    }

    /// One check's status over every snapshot of a scope, per node (or of one node: its id
    /// or host name).
    pub fn timeline(&self, check_id: &str, node: Option<&str>, scope: &Scope) -> Result<Timeline> {
        let conn = self.lock();
        let sc = scoped(&conn, scope)?;
        let mut nodes: BTreeSet<&str> = sc.entries.iter().map(|e| e.node.as_str()).collect();
        if let Some(n) = node {
            // A host name selects the node it names too.
            let hosts: BTreeSet<String> = {
                let mut st = conn.prepare_cached(
                    "SELECT DISTINCT coalesce(node_id, host_name, 'entry ' || id) FROM entries
                     WHERE host_name = ?1 OR node_id = ?1",
                )?;
                let rows = st.query_map([n], |r| r.get::<_, String>(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            nodes.retain(|x| *x == n || hosts.contains(*x));
            if nodes.is_empty() {
                return Err(LibraryError::NotFound(format!(
                    "no snapshot of node {n:?} in the library{}",
                    scope_words(scope)
                )));
            }
        }
        let ids: Vec<i64> = sc
            .entries
            .iter()
            .filter(|e| nodes.contains(e.node.as_str()))
            .map(|e| e.id)
            .collect();
        let mut status: HashMap<i64, String> = HashMap::new();
        let mut title = None;
        if !ids.is_empty() {
            let mut st = conn.prepare(&format!(
                "SELECT entry_id, status, title FROM checks
                 WHERE check_id = ?1 AND entry_id IN ({}) ORDER BY id",
                in_list(&ids)
            ))?;
            let mut rows = st.query([check_id])?;
            while let Some(r) = rows.next()? {
                status.entry(r.get(0)?).or_insert(r.get(1)?);
                if title.is_none() {
                    title = Some(r.get(2)?);
                }
            }
        }
        if title.is_none() {
            return Err(LibraryError::NotFound(format!(
                "no snapshot{} has a check {check_id:?}",
                scope_words(scope)
            )));
        }
        let mut per: HashMap<(&str, usize), i64> = HashMap::new();
        for e in &sc.entries {
            per.entry((e.node.as_str(), e.snap)).or_insert(e.id);
        }
        let nodes = nodes
            .into_iter()
            .map(|n| NodeTimeline {
                node: n.to_owned(),
                points: sc
                    .snaps
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let entry = per.get(&(n, i)).copied();
                        let (state, detail) = match entry.map(|id| status.get(&id)) {
                            None => ("not_collected".to_owned(), Some("no archive of this node")),
                            Some(None) => ("not_collected".to_owned(), Some("the check is absent")),
                            Some(Some(st)) if st == "skipped" => {
                                ("not_collected".to_owned(), Some("the check was skipped"))
                            }
                            Some(Some(st)) => (st.clone(), None),
                        };
                        TimelinePoint {
                            snapshot: s.name.clone(),
                            at: s.at.clone(),
                            entry_id: entry.map(|id| id.to_string()),
                            state,
                            detail: detail.map(str::to_owned),
                        }
                    })
                    .collect(),
            })
            .collect();
        Ok(Timeline {
            check_id: check_id.to_owned(),
            title,
            scope: scope.clone(),
            nodes,
        })
    }

    /// The log lines every node of a scope wrote within `window_secs` of `at`, from the
    /// archive that covers that moment (the node's first snapshot taken at or after it, else
    /// its newest), at most `max_lines` per node.
    pub fn logs_around(
        &self,
        scope: &Scope,
        at: DateTime<Utc>,
        window_secs: u32,
        max_lines: usize,
        cancel: &Cancel,
    ) -> Result<Vec<NodeLogs>> {
        // (node → entries with their time and archive), read under the lock, then released.
        let mut per_node: BTreeMap<String, Vec<Stored>> = BTreeMap::new();
        {
            let conn = self.lock();
            let sc = scoped(&conn, scope)?;
            let mut st = conn.prepare_cached(
                "SELECT sha256, evicted_at IS NOT NULL, snapshot_name FROM entries WHERE id = ?1",
            )?;
            for e in &sc.entries {
                let (sha, evicted, name): (String, bool, Option<String>) =
                    st.query_row([e.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                let t = when(&sc.snaps[e.snap].at).0;
                per_node
                    .entry(e.node.clone())
                    .or_default()
                    .push((t, e.id, sha, name, evicted));
            }
        }
        let target = at.timestamp_micros();
        let w = i64::from(window_secs) * 1_000_000;
        let mut out = Vec::new();
        for (node, mut entries) in per_node {
            cancel.check()?;
            entries.sort_by_key(|e| (e.0, e.1));
            let pick = entries
                .iter()
                .find(|e| e.0 >= target)
                .or_else(|| entries.last());
            let Some((taken, id, sha, name, evicted)) = pick.cloned() else {
                continue;
            };
            let mut nl = NodeLogs {
                node,
                entry_id: Some(id.to_string()),
                snapshot: name,
                lines: Vec::new(),
                note: None,
            };
            if evicted {
                nl.note = Some("the archive was evicted for the size budget".into());
                out.push(nl);
                continue;
            }
            let opened = archive::open_with(&self.stored_path(&sha), &Limits::default(), cancel)?;
            let report = opened.parsed.as_ref().and_then(|p| p.report.as_ref());
            // When the logs were collected: what dates a syslog line that carries no year.
            let collected = report
                .map(|r| r.completed_at.unwrap_or(r.created_at))
                .or_else(|| DateTime::from_timestamp_micros(taken))
                .unwrap_or_else(Utc::now);
            let mut sources: Vec<(String, Vec<String>)> = Vec::new();
            if let Some(r) = report {
                for l in &r.logs {
                    sources.push((l.title.clone(), l.lines.clone()));
                }
            }
            for s in &opened.sections {
                if s.name.ends_with("server_logs.txt") {
                    sources.push((s.title.clone(), s.text.lines().map(str::to_owned).collect()));
                }
            }
            let mut timed = false;
            for (title, lines) in sources {
                let mut last: Option<DateTime<Utc>> = None;
                for line in lines {
                    if let Some(t) = line_time(&line, collected) {
                        last = Some(t);
                        timed = true;
                    }
                    let Some(t) = last else { continue };
                    if (t.timestamp_micros() - target).abs() <= w {
                        nl.lines.push(LogLine {
                            source: title.clone(),
                            at: Some(t.to_rfc3339()),
                            line,
                        });
                    }
                }
            }
            nl.lines
                .sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.source.cmp(&b.source)));
            if nl.lines.len() > max_lines {
                // Keep the lines nearest the moment.
                let mid = nl
                    .lines
                    .partition_point(|l| l.at.as_deref().map(when).map(|x| x.0) < Some(target));
                let start = mid
                    .saturating_sub(max_lines / 2)
                    .min(nl.lines.len() - max_lines);
                nl.lines = nl.lines[start..start + max_lines].to_vec();
            }
            if nl.lines.is_empty() {
                nl.note = Some(if timed {
                    format!("no log line within {window_secs} s of that time")
                } else {
                    "its logs carry no times".to_owned()
                });
            }
            out.push(nl);
        }
        Ok(out)
    }
}

/// An entry's archive as the log reader needs it: (time, id, sha256, snapshot name, evicted).
type Stored = (i64, i64, String, Option<String>, bool);

fn scope_words(scope: &Scope) -> String {
    match (&scope.deployment, &scope.host) {
        (Some(d), _) => format!(" of deployment {d:?}"),
        (None, Some(h)) => format!(" of host {h:?}"),
        _ => String::new(),
    }
}

/// The time a log line starts with: RFC 3339 (`2026-11-28T07:55:27.123Z`, journald's
/// `short-iso` `2026-11-28T07:55:27+0000`), a date and a time apart
/// (`2026-11-28 07:55:27,123`), or syslog's month, day and time with no year
/// (`Nov 30 16:58:55`, journald's `short` and `short-precise`), dated by `collected_at`, when
/// the log was collected; times without a zone are UTC. Brackets around are allowed.
pub fn line_time(line: &str, collected_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let head: String = line.chars().take(48).collect();
    let mut words = head
        .split_whitespace()
        .map(|w| w.trim_matches(|c| c == '[' || c == ']'));
    let first = words.next()?;
    if first.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return syslog_time(first, words, collected_at);
    }
    if !first.starts_with(|c: char| c.is_ascii_digit()) || first.len() < 10 {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(first) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(first, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(first, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    let date = NaiveDate::parse_from_str(first, "%Y-%m-%d").ok()?;
    let time = words.next()?.replace(',', ".");
    let time = time.trim_end_matches('Z');
    let t = NaiveTime::parse_from_str(time, "%H:%M:%S%.f").ok()?;
    Some(date.and_time(t).and_utc())
}

/// How far past the collection a year-less time may lie and still be this year's: a host
/// that logs local time east of UTC writes times up to 14 hours ahead of the collection's.
const SYSLOG_AHEAD_SECS: i64 = 24 * 3600;

/// `Nov 30 16:58:55[.123456]`, in the latest year that does not put it after the collection
/// (a December line in a snapshot collected in January is of the year before; 29 February
/// goes back to a leap year).
fn syslog_time<'a>(
    month: &str,
    mut words: impl Iterator<Item = &'a str>,
    collected_at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = month.to_ascii_lowercase();
    let m = MONTHS.iter().position(|p| lower == *p)? as u32 + 1;
    let day: u32 = words.next()?.parse().ok()?;
    let time = NaiveTime::parse_from_str(words.next()?, "%H:%M:%S%.f").ok()?;
    let latest = collected_at + chrono::Duration::seconds(SYSLOG_AHEAD_SECS);
    (0..=8)
        .map(|back| collected_at.year() + 1 - back)
        .filter_map(|y| NaiveDate::from_ymd_opt(y, m, day))
        .map(|d| d.and_time(time).and_utc())
        .find(|t| *t <= latest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A collection time for lines that carry their year (it changes nothing for them).
    fn any_time() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn log_times_in_the_shapes_servers_write_them() {
        let t = |s: &str| line_time(s, any_time()).map(|t| t.to_rfc3339());
        assert_eq!(
            t("2026-11-28T07:55:27.123456Z INFO shard-0 server: up"),
            Some("2026-11-28T07:55:27.123456+00:00".into())
        );
        assert_eq!(
            t("2026-11-28T08:55:27+0100 host iggy-server[12]: up"),
            Some("2026-11-28T07:55:27+00:00".into())
        );
        assert_eq!(
            t("[2026-11-28 07:55:27,500] WARN x"),
            Some("2026-11-28T07:55:27.500+00:00".into())
        );
        assert_eq!(
            t("2026-11-28T07:55:27 INFO"),
            Some("2026-11-28T07:55:27+00:00".into())
        );
        assert_eq!(t("Linux version 6.1.0"), None);
        assert_eq!(t("   at server::main (src/main.rs:12)"), None);
        assert_eq!(t("12345 is not a date"), None);
    }

    #[test]
    fn syslog_lines_take_the_year_of_their_collection() {
        let collected = Utc.with_ymd_and_hms(2026, 11, 30, 17, 5, 0).unwrap();
        let t = |s: &str| line_time(s, collected).map(|t| t.to_rfc3339());
        assert_eq!(
            t("Nov 30 16:58:55 iggy-node-1 sshd[1234]: Accepted publickey"),
            Some("2026-11-30T16:58:55+00:00".into())
        );
        // Single-digit days are padded with a space; journald's short-precise has micros.
        assert_eq!(
            t("Nov  3 04:05:06.250000 host kernel: x"),
            Some("2026-11-03T04:05:06.250+00:00".into())
        );
        assert_eq!(
            t("[Jan 15 00:00:01] host x"),
            Some("2026-01-15T00:00:01+00:00".into())
        );
        // Not syslog: words that look like a month but are not one, and broken times.
        assert_eq!(t("November is not a time"), None);
        assert_eq!(t("Nov 31 10:00:00 no such day"), None);
        assert_eq!(t("Nov 30 25:00:00 no such hour"), None);
        assert_eq!(t("Novel 30 10:00:00 x"), None);
        assert_eq!(t("Linux version 6.1.0"), None);
    }

    #[test]
    fn a_december_syslog_line_collected_in_january_is_of_the_year_before() {
        let collected = Utc.with_ymd_and_hms(2027, 1, 2, 8, 0, 0).unwrap();
        let t = |s: &str| line_time(s, collected).map(|t| t.to_rfc3339());
        assert_eq!(
            t("Dec 31 23:59:59 host x"),
            Some("2026-12-31T23:59:59+00:00".into())
        );
        assert_eq!(
            t("Jan  2 07:59:00 host x"),
            Some("2027-01-02T07:59:00+00:00".into())
        );
        // A host that logs local time east of UTC may be hours ahead of the collection.
        assert_eq!(
            t("Jan  2 18:00:00 host x"),
            Some("2027-01-02T18:00:00+00:00".into())
        );
        // And one collected on New Year's Eve (UTC) may already log the new year.
        let eve = Utc.with_ymd_and_hms(2026, 12, 31, 23, 0, 0).unwrap();
        assert_eq!(
            line_time("Jan  1 09:00:00 host x", eve).map(|t| t.to_rfc3339()),
            Some("2027-01-01T09:00:00+00:00".into())
        );
        // 29 February goes back to the last leap year.
        let march = Utc.with_ymd_and_hms(2027, 3, 1, 0, 0, 0).unwrap();
        assert_eq!(
            line_time("Feb 29 12:00:00 host x", march).map(|t| t.to_rfc3339()),
            Some("2024-02-29T12:00:00+00:00".into())
        );
    }
}

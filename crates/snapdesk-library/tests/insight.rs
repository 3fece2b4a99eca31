//! Insight across snapshots on a real library: archives written by our own writer, imported
//! into a real catalog, then the triage board, timelines and log lines around a time.

use std::path::Path;

use chrono::{Duration, TimeZone, Utc};
use snapdesk_core::Cancel;
use snapdesk_library::{Library, Origin, Scope, TriageState};
use snapdesk_report::sample::{sample_report, write_archive};
use snapdesk_report::{LogSource, Report, Status};

const DEP: &str = "611298765432109056";

/// One node's report of snapshot `snap` (taken `day` days after a fixed start).
fn report(snap: u32, node: &str, checks: &[(&str, Status)]) -> Report {
    let mut r = sample_report(checks.len(), 0);
    r.snapshot_name = format!("snap-{snap}");
    r.deployment_id = Some(DEP.into());
    r.deployment_name = Some("events-prod".into());
    r.node_id = Some(node.into());
    r.host_name = format!("host-{node}");
    r.created_at =
        Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap() + Duration::days(snap.into());
    for (c, (id, s)) in r.checks.iter_mut().zip(checks) {
        c.id = (*id).into();
        c.title = format!("title of {id}");
        c.status = *s;
    }
    r
}

fn import(lib: &Library, dir: &Path, r: &Report) -> String {
    let name = format!(
        "{}-{}.zip",
        r.snapshot_name,
        r.node_id.as_deref().unwrap_or("x")
    );
    let p = write_archive(&dir.join(name), r, None).unwrap();
    let origin = Origin::File {
        path: p.display().to_string(),
    };
    lib.import_file(&p, origin, &Cancel::new()).unwrap().id
}

use Status::{Fail, Pass, Skipped, Warn};

/// A node and its checks' statuses.
type Node<'a> = (&'a str, &'a [(&'a str, Status)]);

/// Three snapshots of two nodes, each check's story written beside it.
fn library(dir: &Path) -> (Library, Vec<String>) {
    let lib = Library::open(&dir.join("lib")).unwrap();
    let snaps: [[Node; 2]; 3] = [
        [
            (
                "n1",
                &[
                    ("a.always", Fail),
                    ("b.fixed", Warn),
                    ("c.skipped_now", Fail),
                    ("d.new", Pass),
                    ("e.gone_node", Pass),
                    ("f.dropped", Warn),
                ],
            ),
            (
                "n2",
                &[
                    ("a.always", Pass),
                    ("b.fixed", Warn),
                    ("c.skipped_now", Pass),
                    ("d.new", Pass),
                    ("e.gone_node", Warn),
                    ("f.dropped", Pass),
                ],
            ),
        ],
        [
            (
                "n1",
                &[
                    ("a.always", Fail),
                    ("b.fixed", Warn),
                    ("c.skipped_now", Fail),
                    ("d.new", Pass),
                    ("e.gone_node", Pass),
                    ("f.dropped", Warn),
                ],
            ),
            (
                "n2",
                &[
                    ("a.always", Fail),
                    ("b.fixed", Pass),
                    ("c.skipped_now", Pass),
                    ("d.new", Pass),
                    ("e.gone_node", Warn),
                    ("f.dropped", Warn),
                ],
            ),
        ],
        // Newest: n2 is missing from it altogether, and n1 no longer has f.dropped.
        [
            (
                "n1",
                &[
                    ("a.always", Fail),
                    ("b.fixed", Pass),
                    ("c.skipped_now", Skipped),
                    ("d.new", Warn),
                    ("e.gone_node", Pass),
                ],
            ),
            ("", &[]),
        ],
    ];
    let mut ids = Vec::new();
    for (i, nodes) in snaps.iter().enumerate() {
        for (node, checks) in nodes {
            if node.is_empty() {
                continue;
            }
            ids.push(import(&lib, dir, &report(i as u32, node, checks)));
        }
    }
    (lib, ids)
}

#[test]
fn the_board_says_new_persisting_resolved_and_not_collected_and_ranks_failures_first() {
    let tmp = tempfile::tempdir().unwrap();
    let (lib, ids) = library(tmp.path());
    let t = lib.triage(&Scope::deployment(DEP)).unwrap();
    assert_eq!(t.snapshots, 3);
    assert_eq!(t.newest_snapshot.as_deref(), Some("snap-2"));
    let rows: Vec<_> = t
        .items
        .iter()
        .map(|i| {
            (
                i.check_id.as_str(),
                i.status.as_str(),
                i.state,
                i.nodes.join(","),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            // Failures first; then by nodes affected, then by state.
            ("a.always", "fail", TriageState::Persisting, "n1".into()),
            (
                "c.skipped_now",
                "fail",
                TriageState::NotCollected,
                "n1".into()
            ),
            (
                "f.dropped",
                "warn",
                TriageState::NotCollected,
                "n1,n2".into()
            ),
            ("d.new", "warn", TriageState::New, "n1".into()),
            (
                "e.gone_node",
                "warn",
                TriageState::NotCollected,
                "n2".into()
            ),
            ("b.fixed", "warn", TriageState::Resolved, "n1".into()),
        ]
    );
    let a = &t.items[0];
    assert_eq!(a.snapshots_seen, 3);
    assert!(
        a.first_seen.starts_with("2026-05-01T12:00:00"),
        "{}",
        a.first_seen
    );
    assert!(
        a.last_seen.starts_with("2026-05-03T12:00:00"),
        "{}",
        a.last_seen
    );
    assert_eq!(a.last_entry_id, ids[4], "opens the newest snapshot's n1");
    // The same by name, by host, and the JSON shape the CLI prints.
    assert_eq!(
        lib.triage(&Scope::deployment("events-prod")).unwrap().items,
        t.items
    );
    let host = lib.triage(&Scope::host("host-n2")).unwrap();
    assert_eq!(host.snapshots, 2);
    assert!(lib
        .triage(&Scope::deployment("nope"))
        .unwrap()
        .items
        .is_empty());
    let json = serde_json::to_value(&t).unwrap();
    for k in [
        "check_id",
        "title",
        "status",
        "state",
        "nodes",
        "first_seen",
        "last_seen",
    ] {
        assert!(json["items"][0].get(k).is_some(), "{k}");
    }
    assert_eq!(json["items"][2]["state"], "not_collected");
}

#[test]
fn a_timeline_has_a_point_per_snapshot_and_not_collected_as_its_own_state() {
    let tmp = tempfile::tempdir().unwrap();
    let (lib, _) = library(tmp.path());
    let tl = lib
        .timeline("c.skipped_now", None, &Scope::deployment(DEP))
        .unwrap();
    assert_eq!(tl.title.as_deref(), Some("title of c.skipped_now"));
    let strip =
        |n: usize| -> Vec<String> { tl.nodes[n].points.iter().map(|p| p.state.clone()).collect() };
    assert_eq!(tl.nodes.len(), 2);
    assert_eq!(strip(0), ["fail", "fail", "not_collected"]);
    assert_eq!(strip(1), ["pass", "pass", "not_collected"]);
    assert_eq!(
        tl.nodes[0].points[2].detail.as_deref(),
        Some("the check was skipped")
    );
    assert_eq!(
        tl.nodes[1].points[2].detail.as_deref(),
        Some("no archive of this node")
    );
    let one = lib
        .timeline("f.dropped", Some("host-n1"), &Scope::default())
        .unwrap();
    assert_eq!(one.nodes.len(), 1);
    let states: Vec<_> = one.nodes[0]
        .points
        .iter()
        .map(|p| p.state.as_str())
        .collect();
    assert_eq!(states, ["warn", "warn", "not_collected"]);
    let both = lib.timeline("f.dropped", None, &Scope::default()).unwrap();
    let n2: Vec<_> = both.nodes[1]
        .points
        .iter()
        .map(|p| p.state.as_str())
        .collect();
    assert_eq!(n2, ["pass", "warn", "not_collected"]);
    assert_eq!(
        one.nodes[0].points[2].detail.as_deref(),
        Some("the check is absent")
    );
    assert!(lib.timeline("no.such", None, &Scope::default()).is_err());
    assert!(lib
        .timeline("a.always", Some("n9"), &Scope::default())
        .is_err());
}

#[test]
fn the_log_lines_around_a_time_come_from_every_node_that_covers_it() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = Library::open(&tmp.path().join("lib")).unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
    for node in ["n1", "n2"] {
        let mut r = report(0, node, &[("a.always", Pass)]);
        r.created_at = t0;
        let line = |s: i64, text: &str| {
            format!(
                "{} INFO {node}: {text}",
                (t0 - Duration::seconds(s)).format("%Y-%m-%dT%H:%M:%S%.6fZ")
            )
        };
        r.logs = vec![LogSource {
            id: "iggy".into(),
            title: "Iggy server".into(),
            source: "journalctl".into(),
            lines: vec![
                line(3600, "long before"),
                line(65, "a minute before"),
                "   continuation without a time".into(),
                line(30, "just before"),
                line(1, "right at the end"),
            ],
        }];
        import(&lib, tmp.path(), &r);
    }
    let at = t0 - Duration::seconds(40);
    let logs = lib
        .logs_around(&Scope::deployment(DEP), at, 30, 100, &Cancel::new())
        .unwrap();
    assert_eq!(logs.len(), 2);
    for (n, node) in logs.iter().zip(["n1", "n2"]) {
        assert_eq!(n.node, node);
        let texts: Vec<&str> = n.lines.iter().map(|l| l.line.trim()).collect();
        assert_eq!(texts.len(), 3, "{texts:#?}");
        assert!(texts[0].ends_with(&format!("{node}: a minute before")));
        assert_eq!(texts[1], "continuation without a time");
        assert!(texts[2].ends_with("just before"));
        assert_eq!(
            n.lines[1].at, n.lines[0].at,
            "a line without a time has its predecessor's"
        );
    }
    let none = lib
        .logs_around(
            &Scope::deployment(DEP),
            t0 - Duration::days(3),
            5,
            100,
            &Cancel::new(),
        )
        .unwrap();
    assert!(none.iter().all(|n| n.lines.is_empty() && n.note.is_some()));
}

#[test]
fn syslog_lines_without_a_year_are_found_around_a_time_across_new_year() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = Library::open(&tmp.path().join("lib")).unwrap();
    let mut r = report(0, "n1", &[("a.always", Pass)]);
    r.created_at = Utc.with_ymd_and_hms(2027, 1, 1, 0, 20, 0).unwrap();
    r.completed_at = Some(r.created_at + Duration::seconds(30));
    r.logs = vec![LogSource {
        id: "syslog".into(),
        title: "syslog".into(),
        source: "/var/log/syslog".into(),
        lines: vec![
            "Dec 31 23:58:00 iggy-node-1 iggy-server[7]: ERROR before midnight".into(),
            "Dec 31 23:59:50 iggy-node-1 kernel: eth0: link down".into(),
            "Jan  1 00:00:20 iggy-node-1 systemd[1]: Started x".into(),
            "Jan  1 00:10:00 iggy-node-1 sshd[9]: later".into(),
        ],
    }];
    import(&lib, tmp.path(), &r);
    let at = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    let logs = lib
        .logs_around(&Scope::deployment(DEP), at, 30, 100, &Cancel::new())
        .unwrap();
    let lines: Vec<(&str, Option<&str>)> = logs[0]
        .lines
        .iter()
        .map(|l| (l.line.as_str(), l.at.as_deref()))
        .collect();
    assert_eq!(
        lines,
        [
            (
                "Dec 31 23:59:50 iggy-node-1 kernel: eth0: link down",
                Some("2026-12-31T23:59:50+00:00")
            ),
            (
                "Jan  1 00:00:20 iggy-node-1 systemd[1]: Started x",
                Some("2027-01-01T00:00:20+00:00")
            ),
        ]
    );
}

fn with_log(snap: u32, node: &str, line: &str) -> Report {
    let mut r = report(snap, node, &[("certs.expiry", Pass)]);
    r.checks[0].facts = vec![snapdesk_report::Fact::new("days_left", 200)];
    r.logs = vec![LogSource {
        id: "iggy".into(),
        title: "Iggy server".into(),
        source: "journalctl".into(),
        lines: vec![
            "2026-05-01T11:59:00Z INFO server: started".into(),
            line.into(),
        ],
    }];
    r
}

const DISK_FULL: &str = "2026-05-01T11:59:30Z ERROR server::streaming::segments: Failed to \
    persist messages for stream ID: 1: No space left on device (os error 28)";

#[test]
fn an_imported_or_downloaded_snapshot_has_its_findings_at_once_none_marked_new() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = Library::open(&tmp.path().join("lib")).unwrap();
    let mut r = with_log(0, "n1", DISK_FULL);
    r.checks[0].facts = vec![snapdesk_report::Fact::new("days_left", 5)];
    let imported = import(&lib, tmp.path(), &r);
    // A download: written into the library's tmp/, then stored.
    let downloaded = {
        let file = lib.temp_file("download");
        write_archive(&file, &with_log(1, "n2", DISK_FULL), None).unwrap();
        let origin = Origin::File {
            path: "downloaded.zip".into(),
        };
        lib.import_owned(&file, origin, &Cancel::new()).unwrap().id
    };
    let quiet = import(
        &lib,
        tmp.path(),
        &with_log(2, "n1", "2026-05-03T11:00:00Z INFO ok"),
    );

    let found = |id: &str| -> Vec<(String, String, bool)> {
        lib.analysis(id.parse().unwrap())
            .unwrap()
            .into_iter()
            .map(|f| (f.finding_id, f.severity, f.new))
            .collect()
    };
    let s = |a: &str, b: &str| (a.to_owned(), b.to_owned(), false);
    assert_eq!(
        found(&imported),
        [
            s("facts.cert_expiring", "fail"),
            s("log.disk_full", "fail"),
            s("log.persist_failed", "fail"),
        ]
    );
    assert_eq!(
        found(&downloaded),
        [s("log.disk_full", "fail"), s("log.persist_failed", "fail")]
    );
    assert!(found(&quiet).is_empty());
    let first_at = lib.analysis(imported.parse().unwrap()).unwrap()[0]
        .first_flagged_at
        .clone();

    // A re-analysis with the same analyzers learns nothing new about them.
    let rep = lib.reanalyze(&Cancel::new()).unwrap();
    assert!(rep.flagged.is_empty(), "{:#?}", rep.flagged);
    assert_eq!((rep.findings, rep.new_findings), (5, 0));
    let again = lib.analysis(imported.parse().unwrap()).unwrap();
    assert_eq!(
        again[0].first_flagged_at, first_at,
        "first flagged at import"
    );
}

#[test]
fn reanalysis_flags_past_snapshots_once_and_marks_only_new_findings_new() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("lib");
    // Snapshots stored before their analyzers existed: by a catalog without analysis.
    let (a, quiet) = {
        let old = Library::open_at_version(&root, 4).unwrap();
        let a = import(&old, tmp.path(), &with_log(0, "n1", DISK_FULL));
        let quiet = import(
            &old,
            tmp.path(),
            &with_log(1, "n1", "2026-05-02T11:00:00Z INFO ok"),
        );
        (a, quiet)
    };
    let lib = Library::open(&root).unwrap();
    assert!(lib.analysis(a.parse().unwrap()).unwrap().is_empty());

    let first = lib.reanalyze(&Cancel::new()).unwrap();
    assert_eq!(first.entries_analyzed, 2);
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    let flagged: Vec<_> = first.flagged.iter().map(|f| f.entry_id.as_str()).collect();
    assert_eq!(flagged, [a.as_str()], "only the snapshot with the failure");
    let ids: Vec<_> = first.flagged[0]
        .findings
        .iter()
        .map(|f| (f.finding_id.as_str(), f.new))
        .collect();
    assert_eq!(ids, [("log.disk_full", true), ("log.persist_failed", true)]);

    // Again: nothing new, the findings kept, no longer marked new.
    let second = lib.reanalyze(&Cancel::new()).unwrap();
    assert!(second.flagged.is_empty());
    assert_eq!(second.findings, 2);
    let stored = lib.analysis(a.parse().unwrap()).unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|f| !f.new && f.version == 1));
    assert!(lib.analysis(quiet.parse().unwrap()).unwrap().is_empty());

    // A new snapshot with the same failure has its findings from its import: the next run
    // flags nothing. Removing an entry drops its rows.
    let b = import(&lib, tmp.path(), &with_log(2, "n2", DISK_FULL));
    assert_eq!(lib.analysis(b.parse().unwrap()).unwrap().len(), 2);
    let third = lib.reanalyze(&Cancel::new()).unwrap();
    assert!(third.flagged.is_empty(), "{:#?}", third.flagged);
    lib.remove(a.parse().unwrap()).unwrap();
    assert!(lib.analysis(a.parse().unwrap()).unwrap().is_empty());
}

#[test]
fn a_catalog_from_before_reanalysis_migrates_and_is_reanalyzed_with_its_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("lib");
    let id = {
        // The last version without analysis tables, with an entry imported by it.
        let lib = Library::open_at_version(&root, 4).unwrap();
        let mut r = with_log(0, "n1", "2026-05-01T11:59:30Z INFO fine");
        r.checks[0].facts = vec![snapdesk_report::Fact::new("days_left", 5)];
        import(&lib, tmp.path(), &r)
    };
    let lib = Library::open(&root).unwrap();
    assert_eq!(
        snapdesk_library::db::version(&lib_conn(&root)).unwrap(),
        snapdesk_library::db::latest()
    );
    let rep = lib.reanalyze(&Cancel::new()).unwrap();
    assert_eq!(rep.flagged.len(), 1);
    let f = &rep.flagged[0].findings[0];
    assert_eq!(
        (
            f.entry_id.as_str(),
            f.finding_id.as_str(),
            f.severity.as_str()
        ),
        (id.as_str(), "facts.cert_expiring", "fail")
    );
}

fn lib_conn(root: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(root.join("library.sqlite")).unwrap()
}

//! The snapshot format end to end: render → parse, archive write → open → verify, foreign
//! HTML archives, Iggy's own snapshot ZIPs, and malformed input.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use snapdesk_report::archive::{self, ArchiveKind, ArchiveWriter, Manifest};
use snapdesk_report::model::{Check, Evidence, Fact, LogSource, Producer, Report, Status};
use snapdesk_report::{parse, render, sample};

// The one skip-or-fail rule of the suite, shared as a file: this crate cannot depend on
// `snapdesk-tests`, which depends on it.
#[path = "../../../tests/src/skip.rs"]
mod skip;

/// The Iggy fixtures (`../shared/fixtures/iggy` beside the checkout); a skip outside CI when
/// they are absent, a failure under `CI=true`.
fn fixtures() -> Option<PathBuf> {
    skip::fixtures_or_skip(env!("CARGO_MANIFEST_DIR")).map(|p| p.join("iggy"))
}

fn status() -> impl Strategy<Value = Status> {
    prop::sample::select(Status::ALL.to_vec())
}

// Text with markup, script terminators, quotes, control characters and non-ASCII.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,40}",
        "\\PC{0,30}",
        Just("</script><script>alert(1)</script>".to_owned()),
        Just("<!-- \u{2028} \u{2029} --> &amp; \"'".to_owned()),
    ]
}

fn check() -> impl Strategy<Value = Check> {
    (
        "[a-z]{1,8}\\.[a-z_]{1,12}",
        "[a-z]{1,10}",
        text(),
        status(),
        text(),
        prop::collection::vec((text(), text()), 0..4),
        prop::collection::vec((text(), text()), 0..3),
        prop::option::of(text()),
        0u64..100_000,
    )
        .prop_map(
            |(id, category, title, status, summary, facts, evidence, remediation, d)| Check {
                id,
                category,
                title,
                status,
                summary,
                facts: facts
                    .into_iter()
                    .map(|(k, v)| Fact { key: k, value: v })
                    .collect(),
                evidence: evidence
                    .into_iter()
                    .map(|(s, e)| Evidence::new(s, e))
                    .collect(),
                remediation,
                duration_ms: d,
            },
        )
}

fn report_with(checks: Vec<Check>, lines: Vec<String>) -> Report {
    let mut r = sample::sample_report(0, 0);
    r.checks = checks;
    r.logs = vec![LogSource {
        id: "l".into(),
        title: "log".into(),
        source: "x".into(),
        lines,
    }];
    r
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn render_then_parse_gives_back_the_same_report(
        checks in prop::collection::vec(check(), 0..12),
        lines in prop::collection::vec(text(), 0..20),
    ) {
        let report = report_with(checks, lines);
        let html = render::render(&report);
        let parsed = parse::parse(&html).expect("parses");
        prop_assert_eq!(&parsed.checks, &report.checks);
        prop_assert_eq!(parsed.report.as_ref(), Some(&report));
    }
}

#[test]
fn rendered_report_is_self_contained() {
    let html = render::render(&sample::sample_report(50, 100));
    let lower = html.to_ascii_lowercase();
    for needle in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "url(http",
        "@import",
        "<link",
        "fetch(",
        "xmlhttprequest",
        "localstorage",
        "document.cookie",
        "eval(",
    ] {
        assert!(!lower.contains(needle), "report contains {needle}");
    }
    // Exactly one data element and one script of ours; hostile text stayed text.
    assert_eq!(html.matches("<script").count(), 2);
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[test]
fn checks_are_rendered_failures_first() {
    let html = render::render(&sample::sample_report(12, 0));
    let order: Vec<&str> = html
        .match_indices("<article class=\"check\"")
        .map(|(i, _)| {
            let rest = &html[i..];
            let s = rest.find("data-status=\"").unwrap() + 13;
            let e = rest[s..].find('"').unwrap();
            &rest[s..s + e]
        })
        .collect();
    let ranks: Vec<u8> = order
        .iter()
        .map(|s| s.parse::<Status>().unwrap().rank())
        .collect();
    let mut sorted = ranks.clone();
    sorted.sort();
    assert_eq!(ranks, sorted, "{order:?}");
    assert_eq!(order.first(), Some(&"fail"));
}

fn manifest() -> Manifest {
    let mut m = Manifest::new(
        "snapshot-20260601-103000".into(),
        "iggy-node-1".into(),
        Producer {
            name: "test".into(),
            version: "1".into(),
        },
    );
    m.deployment_id = Some("611298765432109056".into());
    m.node_id = Some("610809900976570889".into());
    m.created_at = Utc.with_ymd_and_hms(2026, 6, 1, 10, 30, 0).unwrap();
    m
}

#[test]
fn archive_round_trips_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("snap-node.zip");
    let report = sample::sample_report(20, 50);
    let html = render::render(&report);
    let mut w = ArchiveWriter::create(&out).unwrap();
    w.add_bytes(archive::REPORT_ENTRY, html.as_bytes(), true)
        .unwrap();
    w.add_bytes(archive::IGGY_DATA_ENTRY, b"PK-not-really", false)
        .unwrap();
    let mut m = manifest();
    m.checks = report.counts();
    let path = w.finish(&mut m).unwrap();
    assert_eq!(path, out);
    assert!(!tmp.path().join("snap-node.zip.partial").exists());

    let opened = archive::open(&out).unwrap();
    assert_eq!(opened.kind, ArchiveKind::Snapdesk);
    let om = opened.manifest.clone().unwrap();
    assert_eq!(om, m);
    assert_eq!(om.entries.len(), 2);
    assert_eq!(om.entries[0].size, html.len() as u64);
    assert_eq!(opened.parsed.unwrap().report.unwrap(), report);
    assert!(archive::verify(&out, &om).unwrap().is_empty());

    // The manifest's ids are strings, exactly.
    let raw = archive::read_entry(&out, archive::MANIFEST_ENTRY, 1 << 20).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(v["deployment_id"], "611298765432109056");

    // `unzip -t` agrees, where it is installed.
    if let Ok(o) = std::process::Command::new("unzip")
        .arg("-t")
        .arg(&out)
        .output()
    {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    }
}

#[test]
fn unfinished_archive_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("x.zip");
    {
        let mut w = ArchiveWriter::create(&out).unwrap();
        w.add_bytes("report.html", b"<html></html>", true).unwrap();
        assert!(tmp.path().join("x.zip.partial").exists());
        // dropped without finish(): as on an error half-way
    }
    assert!(!out.exists());
    assert!(!tmp.path().join("x.zip.partial").exists());
}

#[test]
fn tampered_entry_fails_verification() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("t.zip");
    let mut w = ArchiveWriter::create(&out).unwrap();
    w.add_bytes(
        archive::REPORT_ENTRY,
        render::render(&sample::sample_report(2, 0)).as_bytes(),
        true,
    )
    .unwrap();
    let mut m = manifest();
    w.finish(&mut m).unwrap();
    m.entries[0].sha256 = "0".repeat(64);
    assert_eq!(
        archive::verify(&out, &m).unwrap(),
        vec!["report.html".to_owned()]
    );
}

fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    for (name, data) in entries {
        z.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
}

#[test]
fn foreign_html_report_at_any_depth_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("other.zip");
    let html = b"<html><head><title>Vendor report</title></head><body><h2>Kernel</h2>\
<table><tr><th>Check</th><th>Status</th></tr><tr><td>swappiness</td><td>FAIL</td></tr></table></body></html>";
    write_zip(&p, &[("a/b/c/node.html", html), ("a/readme.txt", b"hi")]);
    let o = archive::open(&p).unwrap();
    assert_eq!(o.kind, ArchiveKind::Html);
    assert_eq!(o.html_entry.as_deref(), Some("a/b/c/node.html"));
    let parsed = o.parsed.unwrap();
    assert_eq!(parsed.title.as_deref(), Some("Vendor report"));
    assert_eq!(parsed.checks.len(), 1);
    assert_eq!(parsed.checks[0].status, Status::Fail);
}

#[test]
fn iggy_own_snapshot_zips_open_as_sections() {
    let Some(fx) = fixtures() else { return };
    for version in ["0.8.0", "0.9.0-edge.5-cc269ef7"] {
        let o = archive::open(&fx.join(version).join("iggy-snapshot.zip")).unwrap();
        assert_eq!(o.kind, ArchiveKind::IggySnapshot, "{version}");
        let names: Vec<&str> = o.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "filesystem_overview.txt",
                "process_list.txt",
                "resource_usage.txt",
                "server_logs.txt",
                "server_config.txt"
            ],
            "{version}"
        );
        let config = &o.sections[4];
        assert_eq!(config.title, "Server configuration");
        assert!(
            config.text.contains("[system]") || config.text.contains("[tcp]"),
            "{version}"
        );
        assert!(
            o.sections[3].text.lines().count() > 5,
            "{version}: server logs"
        );
    }
}

#[test]
fn malformed_archives_get_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let not_zip = tmp.path().join("bad.zip");
    std::fs::write(&not_zip, b"this is not a zip").unwrap();
    let e = snapdesk_core::Error::from(archive::open(&not_zip).unwrap_err());
    assert_eq!(e.code, snapdesk_core::ErrorCode::Archive);
    assert!(e.message.contains("not a valid ZIP"), "{}", e.message);

    // A truncated real archive.
    let good = tmp.path().join("good.zip");
    let mut w = ArchiveWriter::create(&good).unwrap();
    w.add_bytes(
        archive::REPORT_ENTRY,
        render::render(&sample::sample_report(5, 5)).as_bytes(),
        true,
    )
    .unwrap();
    w.finish(&mut manifest()).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let cut = tmp.path().join("cut.zip");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = snapdesk_core::Error::from(archive::open(&cut).unwrap_err());
    assert_eq!(e.code, snapdesk_core::ErrorCode::Archive);

    let empty = tmp.path().join("empty.zip");
    write_zip(&empty, &[("notes.md", b"nothing here")]);
    let e = snapdesk_core::Error::from(archive::open(&empty).unwrap_err());
    assert_eq!(e.code, snapdesk_core::ErrorCode::Archive);
    assert!(e.message.contains("holds no report"), "{}", e.message);

    let missing = tmp.path().join("missing.zip");
    let e = snapdesk_core::Error::from(archive::open(&missing).unwrap_err());
    assert_eq!(e.code, snapdesk_core::ErrorCode::NotFound);

    // A manifest that is not JSON.
    let badm = tmp.path().join("badm.zip");
    write_zip(
        &badm,
        &[
            ("report.html", b"<html></html>"),
            ("manifest.json", b"{nope"),
        ],
    );
    let e = snapdesk_core::Error::from(archive::open(&badm).unwrap_err());
    assert_eq!(e.code, snapdesk_core::ErrorCode::Archive);
    assert!(e.message.contains("manifest"), "{}", e.message);
}

/// The start tags a browser builds from the page's body, the embedded data left out (its
/// text holds no `<` at all: the renderer writes each as `\u003c`).
fn body_elements(html: &str) -> usize {
    let body = html.find("<body>").expect("a body");
    let data = html
        .find(&format!(
            "<script type=\"application/json\" id=\"{}\">",
            render::DATA_ELEMENT_ID
        ))
        .expect("the data element");
    let json_end = data + html[data..].find("</script>").expect("its end");
    assert!(
        !html[data + 1..json_end].contains('<'),
        "the JSON holds a <"
    );
    parse::count_elements(&html[body..json_end])
}

#[test]
fn a_report_with_18000_log_lines_builds_under_5000_elements() {
    // The collector's 69 checks and a busy node's logs: each line used to be an <li> (19,803
    // elements here; WebKitGTK took 4 s in the app, 15 s under Xvfb to lay them out).
    let report = sample::sample_report(69, 18_000);
    let html = render::render(&report);
    let elements = body_elements(&html);
    eprintln!(
        "figure: 69 checks and 18,000 log lines: {elements} elements in the body, {} bytes",
        html.len()
    );
    assert!(elements < 5_000, "{elements} elements");
    // All the lines are still there for a machine (and for the page's script).
    let parsed = parse::parse(&html).expect("parses");
    assert_eq!(parsed.report.expect("ours").logs[0].lines.len(), 18_000);
}

#[test]
fn a_report_written_before_lazy_logs_still_parses_in_full() {
    // Written by the renderer before logs were rendered lazily: all 300 lines as <li>, one of
    // them hostile. Reports like it sit in libraries; they are read by the same data element.
    let old = include_str!("fixtures/report-before-lazy-logs.html");
    assert_eq!(old.matches("<li data-level=").count(), 300);
    let report = parse::parse(old).expect("parses").report.expect("ours");
    let lines = &report.logs[0].lines;
    assert_eq!(lines.len(), 300);
    assert_eq!(
        lines[3],
        "2026-06-01T10:00:03Z ERROR x: </script><script>alert(1)</script> <!-- </SCRIPT > \u{2028}"
    );
    assert!(lines[298].contains("id=\"snapdesk-report\">"));
    assert_eq!(report.checks.len(), 3);
    // Rendered again today it reads back the same, with only the first lines as markup.
    let new = render::render(&report);
    assert_eq!(new.matches("<li data-n=").count(), 200);
    assert_eq!(parse::parse(&new).expect("parses").report, Some(report));
}

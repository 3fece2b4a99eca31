//! Insight across snapshots in the real app (WebKitGTK under Xvfb), on a library the CLI fills
//! with real collections of the fixture Iggy data directories, clean then torn: the compare
//! view's data continuity (orders/audit partition 0 loses the 15 messages after the cut), the
//! triage board's timeline strip and the log lines around a change, the analyzers' findings of
//! an entry, and "Export redacted copy" through the system's save dialog. Screenshots of each,
//! light and dark.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use snapdesk_tests::cli::{ok, snapdesk};
use snapdesk_tests::e2e::{self, App};
use snapdesk_tests::workspace;

const T: Duration = Duration::from_secs(30);

fn unpack(fixtures: &Path, name: &str, into: &Path) -> PathBuf {
    let f = std::fs::File::open(fixtures.join("iggy").join("0.8.0").join(name)).unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(f))
        .unpack(into)
        .unwrap();
    into.join("local_data")
}

fn rows(app: &App) -> Vec<(String, String)> {
    let v = app
        .exec(
            "return [...document.querySelectorAll('[data-testid=library-row]')].map(r => [r.dataset.entryId, r.textContent]);",
            json!([]),
        )
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap_or_default().to_owned(),
                r[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn sha256(p: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

#[test]
fn continuity_timeline_logs_findings_and_a_redacted_export_in_the_app() {
    if !e2e::enabled() {
        return;
    }
    let Some(fixtures) = workspace::shared_fixtures_or_skip() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let app = App::launch().unwrap();
    let data = app.data_dir().to_path_buf();
    // Two collections of this machine carrying the clean, then the torn Iggy data.
    for (name, dir) in [
        ("local_data.tar.gz", "clean"),
        ("local_data-torn.tar.gz", "torn"),
    ] {
        let iggy = unpack(&fixtures, name, &tmp.path().join(dir));
        ok(snapdesk(&data)
            .args(["collect", "--iggy-data"])
            .arg(&iggy)
            .output()
            .unwrap());
        // The second collection is later than the first.
        std::thread::sleep(Duration::from_millis(1100));
    }
    app.click_testid("nav-library").unwrap();
    app.wait_for("two entries", T, |a| Ok(rows(a).len() == 2))
        .unwrap();

    // Compare: the continuity of the Iggy data between the two.
    let listed = rows(&app);
    for (id, _) in &listed {
        let sel = app
            .find_opt(&format!(
                "[data-testid=library-row][data-entry-id='{id}'] [data-testid=row-select]"
            ))
            .unwrap()
            .unwrap();
        app.click(&sel).unwrap();
    }
    app.click_testid("compare-selected").unwrap();
    app.wait_for("the continuity findings", T, |a| {
        Ok(a.find_opt("[data-testid=continuity-finding]")?.is_some())
    })
    .unwrap();
    let finding = app
        .text(&app.by_testid("continuity-finding").unwrap())
        .unwrap();
    assert!(
        finding.contains("streams/0/topics/1/partitions/0"),
        "{finding}"
    );
    assert!(
        finding.contains("15"),
        "the 15 messages after the cut: {finding}"
    );
    // Whichever order the two were selected in, the torn one is the later: messages lost.
    assert!(
        finding.to_lowercase().contains("lost"),
        "the finding says messages were lost: {finding}"
    );
    app.screenshot_themes("insight-continuity").unwrap();
    app.click_testid("compare-back").unwrap();

    // The analyzers' findings of the torn entry, recorded at import (no re-analysis asked).
    let torn = listed
        .iter()
        .map(|(id, _)| id.clone())
        .max_by_key(|id| id.parse::<u64>().unwrap_or(0))
        .unwrap();
    let details = app
        .find_opt(&format!(
            "[data-testid=library-row][data-entry-id='{torn}'] [data-testid=row-details]"
        ))
        .unwrap()
        .unwrap();
    app.click(&details).unwrap();
    app.wait_for("the torn entry's findings", T, |a| {
        let Some(list) = a.find_opt("[data-testid=analysis-findings]")? else {
            return Ok(false);
        };
        Ok(a.text(&list)?.to_lowercase().contains("torn"))
    })
    .unwrap();
    app.screenshot_themes("insight-findings").unwrap();

    // Export redacted copy: the system's save dialog, answered with a path.
    let stored_before = library_archive_hashes(&data);
    let out = tmp.path().join("redacted.zip");
    app.click_testid("redact-export").unwrap();
    app.answer_file_dialog("Export a redacted copy", &out)
        .unwrap();
    app.wait_for("the redaction counts", T, |a| {
        Ok(a.find_opt("[data-testid=redact-result]")?.is_some())
    })
    .unwrap();
    assert!(out.is_file(), "no redacted copy at {}", out.display());
    let listed = ok(snapdesk(&data)
        .args(["library", "files", &torn])
        .output()
        .unwrap());
    assert!(listed.contains("report.html"), "{listed}");
    let copy = ok(snapdesk(&data)
        .args(["iggy", "inspect", "--json"])
        .arg(&out)
        .output()
        .unwrap());
    let copy: Value = serde_json::from_str(&copy).unwrap();
    assert!(
        copy["streams"].as_array().is_some_and(|s| !s.is_empty()),
        "the redacted copy still carries the Iggy data"
    );
    assert_eq!(
        library_archive_hashes(&data),
        stored_before,
        "the library's archives were touched"
    );
    app.screenshot_themes("insight-redacted").unwrap();

    // Triage: a row's timeline strip, and the log lines around a point of it.
    app.click_testid("triage-mode-triage").unwrap();
    app.wait_for("triage rows", T, |a| {
        Ok(a.find_opt("[data-testid=triage-row]")?.is_some())
    })
    .unwrap();
    let timeline_button = app
        .exec(
            "return [...document.querySelectorAll('[data-testid=triage-row] button')].find(b => (b.getAttribute('aria-label') || '').startsWith('Timeline of')) || null;",
            json!([]),
        )
        .unwrap();
    let timeline_button = timeline_button["element-6066-11e4-a52e-4f735466cecf"]
        .as_str()
        .expect("a row offers its timeline")
        .to_owned();
    app.click(&timeline_button).unwrap();
    app.wait_for("a timeline strip", T, |a| {
        Ok(
            a.find_opt("[data-testid=timeline-strip] [data-testid=timeline-cell]")?
                .is_some(),
        )
    })
    .unwrap();
    let cells = app
        .exec(
            "return document.querySelectorAll('[data-testid=timeline-strip] [data-testid=timeline-cell]').length;",
            json!([]),
        )
        .unwrap();
    assert_eq!(
        cells.as_u64(),
        Some(2),
        "one point per snapshot of the host"
    );
    let cell = app
        .find_opt("[data-testid=timeline-strip] button[data-testid=timeline-cell]")
        .unwrap()
        .expect("a point to click");
    app.click(&cell).unwrap();
    app.wait_for("the log lines around that time", T, |a| {
        Ok(a.find_opt("[data-testid=timeline-logs]")?.is_some())
    })
    .unwrap();
    app.wait_for("the logs answered", T, |a| {
        Ok(a.find_opt("[data-testid=timeline-logs-loading]")?.is_none())
    })
    .unwrap();
    let logs = app.text(&app.by_testid("timeline-logs").unwrap()).unwrap();
    assert!(!logs.trim().is_empty());
    app.screenshot_themes("insight-timeline-logs").unwrap();
}

/// The sha256 of every archive the library stores, sorted.
fn library_archive_hashes(data: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![data.join("data").join("library")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "zip") {
                out.push(sha256(&p));
            }
        }
    }
    out.sort();
    out
}

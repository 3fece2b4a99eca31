//! The report page's own script in WebKitGTK (the app's engine) under Xvfb, without the app:
//! `scripts/report-page.py check` drives a rendered report's log viewer (scrolling renders
//! more lines and keeps at most 3,000, Newest and Oldest, the level filter and the search read
//! the data, a hostile line stays text, the script's levels are the renderer's, printing shows
//! every line once and one chunk after, and a page whose data cannot be read keeps its lines).

use std::process::Command;

use snapdesk_tests::skip;
use snapdesk_tests::workspace;

#[test]
fn the_report_pages_log_viewer_behaves_in_webkitgtk() {
    // The same switch as the desktop tests: Xvfb and WebKitGTK come with them.
    if std::env::var("SNAPDESK_E2E").as_deref() != Ok("1") {
        skip::skip("report page in WebKitGTK: set SNAPDESK_E2E=1 (scripts/test does)");
        return;
    }
    let python = "/usr/bin/python3";
    let gi = Command::new(python)
        .args([
            "-c",
            "import gi; gi.require_version('WebKit2', '4.1'); from gi.repository import WebKit2",
        ])
        .status();
    if !gi.is_ok_and(|s| s.success()) {
        skip::skip("python3-gi and gir1.2-webkit2-4.1 are missing (scripts/test installs them)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("tricky.html");
    let sample = workspace::target_dir()
        .join("debug")
        .join("examples")
        .join("render_sample");
    let rendered = Command::new(&sample)
        .arg(&page)
        .args(["3", "5000", "tricky"])
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", sample.display()));
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let out = Command::new("xvfb-run")
        .arg("-a")
        .arg(python)
        .arg(workspace::root().join("scripts").join("report-page.py"))
        .arg("check")
        .arg(&page)
        .output()
        .expect("xvfb-run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the check failed:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("FAIL"), "{text}");
    assert!(
        text.lines().filter(|l| l.starts_with("ok ")).count() >= 14,
        "{text}"
    );
}

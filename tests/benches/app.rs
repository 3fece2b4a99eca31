//! Figures of the desktop app, measured in the real app under Xvfb through WebDriver (run by
//! `scripts/bench-app`, which builds what it needs):
//! - a 5 MiB report, from pressing Open to the frame's load (import into the library,
//!   viewer preparation, WebKit's layout): median and worst of 5 runs, target at most 1 s;
//! - a library of 10,000 entries (400,000 checks) filtered as a person types: time from
//!   each keystroke's input event to the list showing that query's answer and the next frame
//!   painted, p50 and p95 over every keystroke, target at most 100 ms.
//!
//! Timings are taken inside the page (`performance.now()`), not by WebDriver polling.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use snapdesk_report::sample::{sample_report, write_archive};
use snapdesk_tests::e2e::{self, App};

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

const OPEN_AND_WAIT: &str = r#"
const [path, done] = [arguments[0], arguments[arguments.length - 1]];
const input = document.querySelector('[data-testid=open-path]');
const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
setter.call(input, path);
input.dispatchEvent(new Event('input', { bubbles: true }));
const t0 = performance.now();
let viewer = -1;
input.form.requestSubmit();
const tick = () => {
  if (viewer < 0 && document.querySelector('[data-testid=report-viewer]')) {
    viewer = performance.now() - t0;
  }
  if (document.querySelector('[data-testid=report-viewer][data-ready=true]')) {
    requestAnimationFrame(() => done([performance.now() - t0, performance.timeOrigin + t0, viewer]));
  } else if (document.querySelector('[data-testid=open-error]')) {
    done([-1, 0, viewer]);
  } else {
    setTimeout(tick, 2);
  }
};
tick();
"#;

const TYPE_AND_WAIT: &str = r#"
const [text, done] = [arguments[0], arguments[arguments.length - 1]];
const input = document.querySelector('[data-testid=library-query]');
const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
const times = [];
// Where a keystroke's time goes: the catalog's measure of each query's round trip (the IPC
// and the query, see catalog.ts); the rest is the page's own work and the paint.
const call = (q) => {
  const m = performance.getEntriesByName('snapdesk:library-browse').filter((e) => e.detail && e.detail.query === q).pop();
  return m ? [m.startTime, m.duration] : null;
};
let i = 0;
const next = () => {
  if (i >= text.length) { done(times); return; }
  i += 1;
  const q = text.slice(0, i);
  const t0 = performance.now();
  setter.call(input, q);
  input.dispatchEvent(new Event('input', { bubbles: true }));
  const wait = () => {
    const root = document.querySelector('[data-testid=library-catalog]');
    if (root && root.dataset.shownQuery === q) {
      requestAnimationFrame(() => {
        const c = call(q);
        times.push([q, performance.now() - t0, c ? c[0] - t0 : -1, c ? c[1] : -1]);
        setTimeout(next, 0);
      });
    } else {
      setTimeout(wait, 1);
    }
  };
  wait();
};
next();
"#;

/// How many log lines take a report of `checks` checks just over 5 MiB of HTML.
fn lines_for_five_mib(checks: usize) -> usize {
    let mut lines = 20_000;
    while snapdesk_report::render::render(&sample_report(checks, lines)).len()
        < (5 << 20) + (64 << 10)
    {
        lines += 2_000;
    }
    lines
}

/// Our own report format with `checks` checks and `lines` log lines; `n` makes each
/// archive's bytes its own (each open is a new import, as for a person opening the next
/// node's snapshot).
fn five_mib_report(dir: &Path, checks: usize, lines: usize, n: usize) -> std::path::PathBuf {
    let mut r = sample_report(checks, lines);
    r.title = format!("Bench: a 5 MiB report ({checks} checks, {lines} log lines) #{n}");
    let path =
        write_archive(&dir.join(format!("five-mib-{checks}-{n}.zip")), &r, None).expect("archive");
    let html = zip::ZipArchive::new(std::fs::File::open(&path).expect("open"))
        .expect("zip")
        .by_name("report.html")
        .expect("report")
        .size();
    if n == 0 {
        eprintln!(
            "report: {checks} checks and {lines} log lines: {:.2} MiB of HTML",
            html as f64 / (1024.0 * 1024.0)
        );
    }
    assert!(html >= 5 << 20, "the report is under 5 MiB: grow it");
    path
}

/// Opens five such reports one after the other, from pressing Open to the frame's load and
/// the next painted frame; prints where the first open's time went. Returns the times, ms.
fn open_five(app: &App, dir: &Path, checks: usize) -> Vec<f64> {
    let mut opens = Vec::new();
    let lines = lines_for_five_mib(checks);
    for i in 0..5 {
        let zip = five_mib_report(dir, checks, lines, i);
        if app
            .find_opt("[data-testid=viewer-back]")
            .expect("find")
            .is_some()
        {
            app.click_testid("viewer-back").expect("back");
        }
        app.wait_for("the open form", std::time::Duration::from_secs(20), |a| {
            Ok(a.find_opt("[data-testid=open-path]")?.is_some())
        })
        .expect("form");
        // A quiet start: the list the back button showed has settled.
        std::thread::sleep(std::time::Duration::from_millis(500));
        let ms = app
            .exec_async(OPEN_AND_WAIT, json!([zip.display().to_string()]))
            .expect("open");
        let (ms, t0_epoch, viewer_ms) = (
            ms[0].as_f64().expect("ms"),
            ms[1].as_f64().expect("t0"),
            ms[2].as_f64().expect("viewer"),
        );
        assert!(ms >= 0.0, "the report did not open");
        println!(
            "report: {checks} checks, open {i}: viewer shown {viewer_ms:.0} ms, ready {ms:.0} ms"
        );
        opens.push(ms);
        if i == 0 {
            // Where the time goes: WebKit's own timing of the report page, read inside the frame.
            let frame = app.by_testid("report-frame").expect("frame");
            app.enter_frame(&frame).expect("enter");
            let t = app
                .exec(
                    "const n = performance.getEntriesByType('navigation')[0] || performance.timing; \
                     return [n.responseEnd, n.domInteractive, n.domContentLoadedEventEnd, n.loadEventEnd, document.getElementsByTagName('*').length, n.responseStart, performance.timeOrigin];",
                    json!([]),
                )
                .expect("timing");
            app.leave_frame().expect("leave");
            let rows = app
                .exec(
                    "return [document.querySelectorAll('[data-testid=check-item]').length, document.querySelector('[data-testid=check-list]')?.clientHeight];",
                    json!([]),
                )
                .expect("rows");
            println!(
                "report: {checks} checks: the check panel draws {} rows (list {} px high)",
                rows[0], rows[1]
            );
            let nav = t[6].as_f64().unwrap_or(0.0) - t0_epoch;
            println!("report: {checks} checks: the frame's navigation starts {nav:.0} ms after Open; then (ms from it) first byte {}, response {}, interactive {}, DOMContentLoaded {}, load {}; {} elements", t[5], t[0], t[1], t[2], t[3], t[4]);
        }
    }
    opens
}

fn main() {
    if !e2e::enabled() {
        eprintln!("bench-app: set SNAPDESK_E2E=1 (scripts/bench-app does)");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");

    // 1. A 5 MiB report visible: the target's figure on a report shaped like the collector's
    //    (69 checks, the rest logs), and the same size with 1,200 checks (every check is
    //    markup the page lays out; logs past the first lines are data).
    let app = App::launch().expect("app");
    app.click_testid("nav-library").expect("nav");
    // SNAPDESK_BENCH_ONLY=report or =library: one figure alone, while working on it.
    let only = std::env::var("SNAPDESK_BENCH_ONLY").unwrap_or_default();
    for (checks, what) in [
        (69, "collector-sized, logs to 5 MiB"),
        (1_200, "1,200 checks"),
    ] {
        if only == "library" {
            break;
        }
        let opens = open_five(&app, tmp.path(), checks);
        println!(
            "figure: 5 MiB report visible ({what}): median {:.0} ms, worst {:.0} ms over 5 opens (target <= 1000 ms)",
            pct(opens.clone(), 0.5),
            pct(opens, 1.0)
        );
    }
    if only == "report" {
        return;
    }
    if only != "library" {
        app.click_testid("viewer-back").expect("back");
    }

    // 2. A 10,000-entry library filtered as a person types.
    let fill = std::env::var_os("SNAPDESK_BENCH_FILL").expect("SNAPDESK_BENCH_FILL");
    let lib = app.data_dir().join("data").join("library");
    let out = Command::new(fill)
        .arg("catalog")
        .arg(&lib)
        .output()
        .expect("fill");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.click_testid("nav-settings").expect("nav");
    app.click_testid("nav-library").expect("nav");
    app.wait_for("10,000 entries", std::time::Duration::from_secs(30), |a| {
        let Some(l) = a.find_opt("[data-testid=library-list]")? else {
            return Ok(false);
        };
        Ok(a.attribute(&l, "data-total")?
            .is_some_and(|t| t.parse::<u64>().unwrap_or(0) >= 10_000))
    })
    .expect("library");
    let probe = app
        .exec_async(
            "const done = arguments[arguments.length - 1]; const t0 = performance.now(); \
             const input = document.querySelector('[data-testid=library-query]'); \
             const root = document.querySelector('[data-testid=library-catalog]'); \
             done([!!input, !!root, root && root.dataset.shownQuery, performance.now() - t0]);",
            json!([]),
        )
        .expect("probe");
    println!("report: library view before typing: {probe}");
    let mut times = Vec::new();
    let mut slowest: Vec<(f64, String)> = Vec::new();
    for text in [
        "latency pressure",
        "status:fail category:kernel",
        "node:610000000000000001 disk",
    ] {
        let v: Value = app.exec_async(TYPE_AND_WAIT, json!([text])).expect("type");
        for pair in v.as_array().expect("times") {
            let (Some(q), Some(ms)) = (pair[0].as_str(), pair[1].as_f64()) else {
                continue;
            };
            let (start, call) = (
                pair[2].as_f64().unwrap_or(-1.0),
                pair[3].as_f64().unwrap_or(-1.0),
            );
            times.push(ms);
            slowest.push((
                ms,
                format!("{q:?} {ms:.0} ms (call sent at {start:.0}, answered in {call:.0})"),
            ));
        }
        // Back to the whole list between phrases.
        let _ = app.exec_async(TYPE_AND_WAIT, json!([""]));
    }
    let all: Vec<String> = slowest.iter().map(|(_, q)| q.clone()).collect();
    println!("report: every keystroke (ms): {}", all.join(", "));
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    let worst: Vec<String> = slowest.iter().take(5).map(|(_, q)| q.clone()).collect();
    println!("report: slowest keystrokes: {}", worst.join(", "));
    println!(
        "figure: 10,000-entry library filtered: p50 {:.0} ms, p95 {:.0} ms, worst {:.0} ms per keystroke over {} keystrokes (target <= 100 ms)",
        pct(times.clone(), 0.5),
        pct(times.clone(), 0.95),
        pct(times.clone(), 1.0),
        times.len()
    );
}

//! The Deployments section with a long list (issue 11), in the real app under Xvfb through
//! WebDriver, against the emulator process serving 1,000 nodes x 20 snapshots (20,000 items,
//! its state written before it starts): from the data arriving in the page
//! (`deployments-data`) to the frame after the list painted (`deployments-painted`), target at
//! most 300 ms; then "Expand all" (20,020 rows) to painted; then scrolling through the whole
//! list one step per frame: frame times p50, p95 and worst. Median of 3 launches. Run by
//! `scripts/bench-app`.

use std::time::Duration;

use chrono::{Duration as Days, Utc};
use serde_json::{json, Value};
use snapdesk_tests::cli::{snapdesk, stderr};
use snapdesk_tests::e2e::{self, App, Launch};
use snapdesk_tests::emu::EmulatorProcess;

const DEP: u64 = 611_298_765_432_109_056;

/// The emulator's saved state with 20 completed snapshots of 1,000 nodes each.
fn big_state() -> Value {
    let now = Utc::now();
    let mut items = Vec::new();
    let mut id: u64 = 700_000_000_000_000_000;
    for s in 0..20 {
        let created = now - Days::hours(20 - s);
        let name = format!("snapshot-{}", created.format("%Y%m%d-%H%M%S"));
        for n in 1..=1000u64 {
            id += 1;
            items.push(json!({
                "id": id,
                "deployment_id": DEP,
                "node_id": 900_000_000_000_000_000u64 + n,
                "node_index": n,
                "name": name,
                "created_at": created,
                "due_at": created,
                "completed_at": created + Days::seconds(30),
                "status": "completed",
                "redact_secrets": true,
                "include_iggy": false,
                "file": null,
                "size": 0,
                "seeded": false,
            }));
        }
    }
    json!({
        "manage_key": "ld_bench_manage_key_0123456789",
        "read_key": "ld_bench_read_key_0123456789",
        "admin_token": "bench-admin",
        "secret": "bench-secret-0123456789abcdef",
        "next_id": id + 1,
        "clock_offset_ms": 0,
        "items": items,
        "port": 0,
    })
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn between(app: &App, a: &str, b: &str) -> f64 {
    app.exec(
        "const a = performance.getEntriesByName(arguments[0]).pop(); \
         const b = performance.getEntriesByName(arguments[1]).pop(); \
         return a && b ? b.startTime - a.startTime : -1;",
        json!([a, b]),
    )
    .expect("marks")
    .as_f64()
    .expect("ms")
}

/// Scrolls the list's viewport to the end, one step per animation frame; the frame times.
const SCROLL: &str = r#"
const done = arguments[arguments.length - 1];
const vp = document.querySelector('[data-testid=snapshot-viewport]');
const times = [];
let last = performance.now();
const step = Math.max(200, Math.floor(vp.scrollHeight / 600));
function frame(t) {
  times.push(t - last); last = t;
  if (vp.scrollTop + vp.clientHeight >= vp.scrollHeight || times.length > 240) { done(JSON.stringify(times.slice(1))); return; }
  vp.scrollTop += step;
  requestAnimationFrame(frame);
}
requestAnimationFrame((t) => { last = t; requestAnimationFrame(frame); });
"#;

fn main() {
    if !e2e::enabled() {
        eprintln!("bench deployments: set SNAPDESK_E2E=1 (scripts/bench-app does)");
        return;
    }
    let home = tempfile::tempdir().expect("tempdir");
    let state_dir = home.path().join("data").join("emulator");
    std::fs::create_dir_all(&state_dir).expect("state dir");
    std::fs::write(state_dir.join("state.json"), big_state().to_string()).expect("state");
    let emu = EmulatorProcess::spawn_with_home(home.path(), &["--processing-ms", "0"]);
    let dep = DEP.to_string();

    let (mut first, mut expand, mut frames) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..3 {
        // The key from the environment, as a CI job gives it (nothing stored).
        let app = App::launch_with(Launch {
            env: vec![("LD_API_KEY".into(), emu.manage_key().into())],
            ..Default::default()
        })
        .expect("app");
        let o = snapdesk(app.data_dir())
            .args(["context", "add", "big", "--url", emu.url(), "--keep-key"])
            .arg("--deployment")
            .arg(format!("{dep}=big-prod"))
            .output()
            .expect("context add");
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        app.click_testid("nav-deployments").expect("nav");
        let css = format!("[data-testid=deployment-item][data-deployment='{dep}']");
        app.wait_for("the CLI's context listed", Duration::from_secs(20), |a| {
            Ok(a.find_opt(&css)?.is_some())
        })
        .expect("the deployment");
        let item = app.find_opt(&css).expect("find").expect("the deployment");
        app.click(&item).expect("select");
        app.click_testid("deployment-tab-snapshots").expect("tab");
        app.wait_for("the list painted", Duration::from_secs(120), |a| {
            Ok(a.exec(
                "return performance.getEntriesByName('deployments-painted').length > 0;",
                json!([]),
            )?
            .as_bool()
            .unwrap_or(false))
        })
        .unwrap_or_else(|e| {
            let _ = app.screenshot("bench-deployments-failed");
            panic!("{e}: {}", app.page_text().unwrap_or_default());
        });
        let ms = between(&app, "deployments-data", "deployments-painted");
        println!(
            "report: run {run}: data to painted {ms:.0} ms (data to rendered {:.0} ms)",
            between(&app, "deployments-data", "deployments-rendered")
        );
        first.push(ms);
        let total = app
            .attribute(&app.by_testid("snapshot-list").expect("list"), "data-total")
            .expect("total");
        // Expand all: 20 snapshots and their 20,000 node rows.
        let t = app
            .exec_async(
                "const done = arguments[arguments.length - 1]; \
                 const b = document.querySelector('[data-testid=expand-all]'); \
                 const t0 = performance.now(); b.click(); \
                 requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now() - t0)));",
                json!([]),
            )
            .expect("expand")
            .as_f64()
            .expect("ms");
        expand.push(t);
        let rows_in_dom = app
            .exec(
                "return document.querySelectorAll('[data-testid=snapshot-row], [data-testid=node-row]').length;",
                json!([]),
            )
            .expect("rows");
        let expanded = app
            .attribute(&app.by_testid("snapshot-list").expect("list"), "data-total")
            .expect("total");
        println!(
            "report: run {run}: rows {} then {} after Expand all, {} in the DOM; Expand all to painted {t:.0} ms",
            total.unwrap_or_default(),
            expanded.unwrap_or_default(),
            rows_in_dom
        );
        let idle = app
            .exec_async(
                "const done = arguments[arguments.length - 1]; let n = 0; const t0 = performance.now(); \
                 function f() { n++; if (performance.now() - t0 < 1000) requestAnimationFrame(f); else done(n); } \
                 requestAnimationFrame(f);",
                json!([]),
            )
            .expect("idle frames");
        println!("report: run {run}: {idle} animation frames in 1 s on the idle page");
        let times = app.exec_async(SCROLL, json!([])).expect("scroll");
        let times: Vec<f64> =
            serde_json::from_str(times.as_str().expect("frame times")).expect("frame times");
        frames.extend(times);
    }
    println!(
        "figure: 1,000 nodes x 20 snapshots, data to painted: median {:.0} ms, worst {:.0} ms over 3 launches (target <= 300 ms)",
        pct(first.clone(), 0.5),
        pct(first, 1.0)
    );
    println!(
        "figure: Expand all (20,020 rows) to painted: median {:.0} ms",
        pct(expand, 0.5)
    );
    println!(
        "figure: scrolling the expanded list to its end: frame p50 {:.1} ms, p95 {:.1} ms, worst {:.1} ms over {} frames",
        pct(frames.clone(), 0.5),
        pct(frames.clone(), 0.95),
        pct(frames.clone(), 1.0),
        frames.len()
    );
}

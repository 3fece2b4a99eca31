//! The Deployments section and Settings → Connections in the real app (WebKitGTK under Xvfb),
//! against the real emulator process on loopback: the demo from first run to a report in the
//! viewer; a connection added in the app with its key in the real keyring (and seen by the
//! CLI); create until completed and the 409 path; download with progress, cancelled and
//! resumed; delete; a read-only key; an injected 500 and a 429 recovering. Controls are found
//! by their visible names where a person would use them. Screenshots of each state, light
//! and dark.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use snapdesk_tests::cli::{ok, snapdesk};
use snapdesk_tests::e2e::{self, App};
use snapdesk_tests::emu::EmulatorProcess;

const T: Duration = Duration::from_secs(40);
const EL: &str = "element-6066-11e4-a52e-4f735466cecf";

fn shots(app: &App, name: &str) {
    app.screenshot_themes(&format!("deployments-{name}"))
        .unwrap();
}

/// Sets a text field's value as typing does (clears it first).
fn fill(app: &App, testid: &str, text: &str) {
    let input = app.by_testid(testid).unwrap();
    app.exec(
        "arguments[0].value = ''; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        json!([{ EL: input }]),
    )
    .unwrap();
    app.type_into(&input, text).unwrap();
}

/// The first element matching `css`, waiting for it.
fn wait_css(app: &App, what: &str, css: &str) -> String {
    let mut found = None;
    app.wait_for(what, T, |a| {
        found = a.find_opt(css)?;
        Ok(found.is_some())
    })
    .unwrap();
    found.unwrap()
}

/// The state of the snapshot row named `name` (`processing`, `completed`, `failed`).
fn snapshot_state(app: &App, name: &str) -> Option<String> {
    app.find_opt(&format!("[data-testid=snapshot-row][data-name='{name}']"))
        .ok()
        .flatten()
        .and_then(|r| app.attribute(&r, "data-state").ok().flatten())
}

fn first_snapshot_name(app: &App) -> String {
    let row = wait_css(app, "a snapshot row", "[data-testid=snapshot-row]");
    app.attribute(&row, "data-name").unwrap().unwrap()
}

fn open_snapshots_tab(app: &App) {
    app.click_testid("deployment-tab-snapshots").unwrap();
    app.by_testid("create-snapshot").unwrap();
}

fn expand(app: &App, name: &str) {
    let toggle = wait_css(
        app,
        "the snapshot's toggle",
        &format!("[data-testid=snapshot-row][data-name='{name}'] [data-testid=snapshot-toggle]"),
    );
    if app.attribute(&toggle, "aria-expanded").unwrap().as_deref() != Some("true") {
        app.click(&toggle).unwrap();
    }
}

/// The button named `label` inside the node row of item `id`.
fn node_button(app: &App, id: &str, label: &str) -> Option<String> {
    let v = app
        .exec(
            "const row = document.querySelector(`[data-testid=node-row][data-id='${arguments[0]}']`); \
             if (!row) return null; \
             return [...row.querySelectorAll('button')].find(b => b.innerText.trim() === arguments[1] && !b.disabled) || null;",
            json!([id, label]),
        )
        .unwrap();
    v[EL].as_str().map(str::to_owned)
}

fn wait_for_button(app: &App, id: &str, label: &str) -> String {
    let mut found = None;
    app.wait_for(&format!("{label} on node {id}"), T, |a| {
        found = node_button(a, id, label);
        Ok(found.is_some())
    })
    .unwrap();
    found.unwrap()
}

fn node_ids(app: &App, name: &str) -> Vec<String> {
    let v = app
        .exec(
            "return [...document.querySelectorAll('[data-testid=node-row]')] \
               .filter(r => r.dataset.snapshot === arguments[0]).map(r => r.dataset.id);",
            json!([name]),
        )
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect()
}

#[test]
fn the_demo_goes_from_first_run_to_a_report_in_the_viewer() {
    if !e2e::enabled() {
        return;
    }
    let app = App::launch().unwrap();
    app.click_testid("nav-deployments").unwrap();
    app.by_testid("deployments-first-run").unwrap();
    shots(&app, "first-run");
    app.press_control("Try the demo").unwrap();
    app.by_testid("deployment-pane").unwrap();
    app.wait_text("Demo", T).unwrap();
    // The demo is labelled as such, and is not a CLI context.
    let contexts = ok(snapdesk(app.data_dir())
        .args(["context", "list", "--json"])
        .output()
        .unwrap());
    assert!(!contexts.contains("\"demo\""), "{contexts}");

    if app
        .find_opt("[data-testid=create-snapshot]")
        .unwrap()
        .is_none()
    {
        open_snapshots_tab(&app);
    }
    // The desktop notification goes over the session bus: watch for it there (there is no
    // notification daemon under Xvfb, but the call is on the bus).
    let bus_log = tempfile::NamedTempFile::new().unwrap();
    let mut monitor = std::process::Command::new("dbus-monitor")
        .args([
            "--session",
            "interface='org.freedesktop.Notifications',member='Notify'",
        ])
        .stdout(bus_log.reopen().unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    app.press_control("Create snapshot").unwrap();
    app.by_testid("create-confirm").unwrap();
    shots(&app, "create-dialog");
    app.click_testid("create-confirm").unwrap();
    let name = first_snapshot_name(&app);
    app.wait_for("the snapshot processing", T, |a| {
        Ok(snapshot_state(a, &name).is_some())
    })
    .unwrap();
    shots(&app, "processing");
    app.wait_for("the demo snapshot completed", T, |a| {
        Ok(snapshot_state(a, &name).as_deref() == Some("completed"))
    })
    .unwrap();
    let notified = Instant::now();
    let mut seen = String::new();
    while notified.elapsed() < T {
        seen = std::fs::read_to_string(bus_log.path()).unwrap_or_default();
        if seen.contains(&format!("Snapshot {name} completed")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = monitor.kill();
    let _ = monitor.wait();
    assert!(
        seen.contains(&format!("Snapshot {name} completed")),
        "no desktop notification of the completed snapshot on the bus: {seen}"
    );
    expand(&app, &name);
    // "Download all" in the snapshot's row, once it is enabled.
    let mut download_all = Value::Null;
    app.wait_for("Download all, enabled", T, |a| {
        download_all = a.exec(
            "const row = document.querySelector(`[data-testid=snapshot-row][data-name='${arguments[0]}']`); \
             return row && [...row.querySelectorAll('button')].find(b => b.innerText.trim() === 'Download all' && !b.disabled) || null;",
            json!([name]),
        )?;
        Ok(!download_all.is_null())
    })
    .unwrap();
    app.click(download_all[EL].as_str().expect("Download all"))
        .unwrap();
    let ids = node_ids(&app, &name);
    assert_eq!(ids.len(), 3, "the demo's events-prod has 3 nodes");
    app.wait_for("every node in the library", T, |a| {
        Ok(ids.iter().all(|id| node_button(a, id, "Open").is_some()))
    })
    .unwrap();
    shots(&app, "downloaded");
    // The deployment's first view, Triage, now answers from the library: a row opens the
    // check in the report where it was last seen.
    app.click_testid("deployment-tab-triage").unwrap();
    app.wait_for("the deployment's triage rows", T, |a| {
        Ok(a.find_opt("[data-testid=triage-row]")?.is_some())
    })
    .unwrap();
    shots(&app, "triage");
    let row = app
        .find_opt("[data-testid=triage-row] [data-testid=triage-open]")
        .unwrap()
        .unwrap();
    app.click(&row).unwrap();
    app.wait_for("the triaged check's report", T, |a| {
        Ok(a.find_opt("[data-testid=report-viewer][data-ready=true]")?
            .is_some())
    })
    .unwrap();
    app.click_testid("nav-deployments").unwrap();
    open_snapshots_tab(&app);
    expand(&app, &name);
    let open = wait_for_button(&app, &ids[0], "Open");
    app.click(&open).unwrap();
    app.wait_for("the report in the viewer", T, |a| {
        Ok(a.find_opt("[data-testid=report-viewer][data-ready=true]")?
            .is_some())
    })
    .unwrap();
    let items = ok(snapdesk(app.data_dir())
        .args(["library", "list", "--json"])
        .output()
        .unwrap());
    let items: Value = serde_json::from_str(&items).unwrap();
    assert_eq!(items["items"].as_array().unwrap().len(), 3);
}

fn add_connection(app: &App, name: &str, url: &str, deployment: &str, key: &str) {
    app.click_testid("nav-settings").unwrap();
    app.press_control("Add connection").unwrap();
    fill(app, "conn-name", name);
    fill(app, "conn-url", url);
    fill(app, "conn-deployments", deployment);
    fill(app, "conn-key", key);
    app.click_testid("connection-save").unwrap();
    wait_css(
        app,
        "the saved connection",
        &format!("[data-testid=connection-row][data-name='{name}']"),
    );
}

/// Deployments, then the deployment `id` of `connection` in the list.
fn pick_deployment(app: &App, connection: &str, id: &str) {
    app.click_testid("nav-deployments").unwrap();
    let item = wait_css(
        app,
        "the deployment in the list",
        &format!(
            "[data-testid=deployment-item][data-connection='{connection}'][data-deployment='{id}']"
        ),
    );
    app.click(&item).unwrap();
    app.by_testid("deployment-pane").unwrap();
}

fn select_deployment(app: &App, connection: &str, id: &str) {
    pick_deployment(app, connection, id);
    open_snapshots_tab(app);
}

/// `snapdesk snapshots --context CONTEXT --deployment DEP ARGS...` with `key`, which must
/// succeed.
fn cli_snapshots(data: &Path, key: &str, context: &str, dep: &str, args: &[&str]) -> String {
    ok(snapdesk(data)
        .env("LD_API_KEY", key)
        .args(["snapshots", "--context", context, "--deployment", dep])
        .args(args)
        .output()
        .unwrap())
}

fn key_in_keyring(home: &Path, name: &str, dep: &str) -> String {
    // The CLI, without LD_API_KEY, reads the key the app stored in the OS keyring.
    let o = snapdesk(home)
        .env_remove("LD_API_KEY")
        .args([
            "snapshots",
            "--context",
            name,
            "--deployment",
            dep,
            "list",
            "--json",
        ])
        .output()
        .unwrap();
    ok(o)
}

#[test]
fn a_connection_with_its_key_in_the_keyring_creates_downloads_resumes_deletes_and_recovers() {
    if !e2e::enabled() {
        return;
    }
    let emu = EmulatorProcess::spawn(&["--processing-ms", "4000", "--nodes", "3"]);
    let (dep, dep_name) = emu.deployment(0);
    let app = App::launch().unwrap();
    let data = app.data_dir().to_path_buf();

    // Settings → Connections: the key goes to the keyring and never comes back.
    add_connection(&app, "acme", emu.url(), &dep, emu.manage_key());
    let key_state = app
        .attribute(
            &app.find_opt(
                "[data-testid=connection-row][data-name=acme] [data-testid=connection-key]",
            )
            .unwrap()
            .unwrap(),
            "data-key",
        )
        .unwrap();
    assert_eq!(key_state.as_deref(), Some("keyring"));
    assert!(
        !app.page_text().unwrap().contains(emu.manage_key()),
        "the key is shown after saving"
    );
    let listed = key_in_keyring(&data, "acme", &dep);
    assert!(listed.contains("items"), "{listed}");
    let contexts = ok(snapdesk(&data)
        .args(["context", "list", "--json"])
        .output()
        .unwrap());
    assert!(
        contexts.contains("acme"),
        "a connection is a CLI context: {contexts}"
    );
    // Test: the key reads and manages.
    let test = wait_css(
        &app,
        "the Test button",
        "[data-testid=connection-row][data-name=acme] [data-testid=connection-test-button]",
    );
    app.click(&test).unwrap();
    app.wait_for("the test result", T, |a| {
        Ok(
            a.find_opt("[data-testid=connection-row][data-name=acme] [data-testid=test-manage]")?
                .is_some(),
        )
    })
    .unwrap();
    shots(&app, "connections");

    // Create, and a second create while it processes: 409, the one in progress selected.
    select_deployment(&app, "acme", &dep);
    app.press_control("Create snapshot").unwrap();
    app.click_testid("create-confirm").unwrap();
    let name = first_snapshot_name(&app);
    app.press_control("Create snapshot").unwrap();
    app.click_testid("create-confirm").unwrap();
    app.wait_text("already in progress", T).unwrap();
    assert!(app.page_text().unwrap().contains(&name));
    shots(&app, "conflict");
    app.wait_for("the snapshot completed", T, |a| {
        Ok(snapshot_state(a, &name).as_deref() == Some("completed"))
    })
    .unwrap();
    shots(&app, "completed");

    // A download on a slow link: progress, cancel, then resumed from what was kept.
    emu.admin(
        "/_admin/seed",
        &json!({"deployment_id": dep, "archive_bytes": 3_000_000}).to_string(),
    );
    emu.admin(
        "/_admin/faults",
        &json!({"kind": "throttle", "count": 1, "path_prefix": "/_storage", "bytes_per_sec": 150_000}).to_string(),
    );
    app.click_testid("deployment-refresh").unwrap();
    std::thread::sleep(Duration::from_secs(1));
    let seeded = first_snapshot_name(&app);
    assert_ne!(seeded, name, "the seeded snapshot is the newest");
    expand(&app, &seeded);
    let ids = node_ids(&app, &seeded);
    let id = ids.first().expect("the seeded node").clone();
    let download = node_button(&app, &id, "Download").expect("Download");
    app.click(&download).unwrap();
    app.wait_for("bytes arriving", T, |a| {
        Ok(a.page_text()?.contains("Downloading"))
    })
    .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    shots(&app, "downloading");
    let cancel = node_button(&app, &id, "Cancel").expect("Cancel");
    app.click(&cancel).unwrap();
    app.wait_text("Cancelled", T).unwrap();
    shots(&app, "cancelled");
    emu.admin_delete_faults();
    let again = node_button(&app, &id, "Download").expect("Download again");
    app.click(&again).unwrap();
    app.wait_for("the node in the library", T, |a| {
        Ok(node_button(a, &id, "Open").is_some())
    })
    .unwrap();
    let ranged = emu.storage_requests().iter().any(|r| {
        r["range"]
            .as_str()
            .is_some_and(|x| x.starts_with("bytes=") && !x.starts_with("bytes=0-"))
    });
    assert!(ranged, "the second download resumed with a Range request");

    // Delete the seeded snapshot's server copy; the library copy stays.
    let library_before = ok(snapdesk(&data)
        .args(["library", "list", "--json"])
        .output()
        .unwrap());
    let delete = app
        .exec(
            "const row = document.querySelector(`[data-testid=snapshot-row][data-name='${arguments[0]}']`); \
             return [...row.querySelectorAll('button')].find(b => b.innerText.trim() === 'Delete') || null;",
            json!([seeded]),
        )
        .unwrap();
    app.click(delete[EL].as_str().expect("Delete")).unwrap();
    let what = app
        .text(&app.by_testid("confirm-delete-what").unwrap())
        .unwrap();
    assert!(
        what.contains(&seeded),
        "the confirmation names what goes: {what}"
    );
    shots(&app, "confirm-delete");
    app.click_testid("confirm-delete-ok").unwrap();
    app.wait_for("the snapshot gone", T, |a| {
        Ok(snapshot_state(a, &seeded).is_none())
    })
    .unwrap();
    let library_after = ok(snapdesk(&data)
        .args(["library", "list", "--json"])
        .output()
        .unwrap());
    let count = |s: &str| {
        serde_json::from_str::<Value>(s).unwrap()["items"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count(&library_before), count(&library_after));

    // A 500 that outlasts the retries: the error with its code and request id; then Retry.
    emu.admin(
        "/_admin/faults",
        &json!({"kind": "status", "status": 500, "count": 8, "method": "GET"}).to_string(),
    );
    app.click_testid("deployment-refresh").unwrap();
    let shown = app.by_testid("deployment-stale-error-request-id").unwrap();
    let shown = app.text(&shown).unwrap();
    assert!(!shown.trim().is_empty(), "the request id is shown");
    let code = app
        .text(&app.by_testid("deployment-stale-error").unwrap())
        .unwrap();
    assert!(code.contains("500"), "{code}");
    shots(&app, "error-500");
    emu.admin_delete_faults();
    app.click_testid("deployment-stale-retry").unwrap();
    app.wait_for("the error gone", T, |a| {
        Ok(a.find_opt("[data-testid=deployment-stale]")?.is_none())
    })
    .unwrap();
    app.wait_for("the list back", T, |a| {
        Ok(snapshot_state(a, &name).is_some())
    })
    .unwrap();
    // A 429 with Retry-After: the client waits and the list comes back by itself.
    emu.admin(
        "/_admin/faults",
        &json!({"kind": "status", "status": 429, "retry_after": 1, "count": 1, "method": "GET"})
            .to_string(),
    );
    let fetched = |a: &App| -> Option<String> {
        a.find_opt("[data-testid=deployment-fetched]")
            .ok()
            .flatten()
            .and_then(|f| a.attribute(&f, "title").ok().flatten())
    };
    let before = fetched(&app);
    let started = Instant::now();
    app.click_testid("deployment-refresh").unwrap();
    app.wait_for("the list after the 429", T, |a| {
        Ok(fetched(a).is_some() && fetched(a) != before)
    })
    .unwrap();
    assert!(app
        .find_opt("[data-testid=deployment-stale]")
        .unwrap()
        .is_none());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    let faulted = emu.admin_get("/_admin/requests")["requests"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["fault"] == "status");
    assert!(faulted, "the 429 was served");
    assert!(!app.page_text().unwrap().contains("rate_limited"));

    // Copy as curl: the request with the key as $LD_API_KEY.
    app.press_control("Copy as curl").unwrap();
    app.wait_text("Copied", T).unwrap();
    let clip = std::process::Command::new("xclip")
        .env("DISPLAY", app.display())
        .args(["-selection", "clipboard", "-o"])
        .output()
        .unwrap();
    let clip = String::from_utf8_lossy(&clip.stdout).to_string();
    assert!(
        clip.starts_with("curl "),
        "the clipboard holds the command: {clip}"
    );
    assert!(
        clip.contains(emu.url()) && clip.contains("$LD_API_KEY"),
        "{clip}"
    );
    assert!(
        !clip.contains(emu.manage_key()),
        "the key reached the clipboard"
    );

    // A read-only key: create and delete disabled, the missing permission named.
    add_connection(
        &app,
        "acme-ro",
        emu.url(),
        &format!("{dep}={dep_name}"),
        emu.read_key(),
    );
    select_deployment(&app, "acme-ro", &dep);
    app.wait_text("deployment:manage", T).unwrap();
    let create = app.by_testid("create-snapshot").unwrap();
    assert!(app.is_disabled(&create).unwrap());
    shots(&app, "read-only");
}

#[test]
fn an_unreachable_supervisor_says_so_keeps_the_library_and_retries() {
    if !e2e::enabled() {
        return;
    }
    let emu = EmulatorProcess::spawn(&["--processing-ms", "0", "--nodes", "2"]);
    let (dep, _) = emu.deployment(0);
    let app = App::launch().unwrap();
    let data = app.data_dir().to_path_buf();
    add_connection(&app, "edge", emu.url(), &dep, emu.manage_key());
    // One snapshot downloaded into the library by the CLI, then the Supervisor goes away.
    cli_snapshots(&data, emu.manage_key(), "edge", &dep, &["create", "--wait"]);
    cli_snapshots(&data, emu.manage_key(), "edge", &dep, &["download"]);
    let port = emu
        .url()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let (manage, read) = (emu.manage_key().to_owned(), emu.read_key().to_owned());
    drop(emu);
    select_deployment_offline(&app, "edge", &dep);
    app.by_testid("deployment-offline").unwrap();
    app.wait_for("the library's copies", T, |a| {
        Ok(a.find_opt("[data-testid=offline-entry]")?.is_some())
    })
    .unwrap();
    shots(&app, "offline");
    // Retry while nothing listens: still offline.
    app.press_control("Retry").unwrap();
    app.by_testid("deployment-offline").unwrap();
    // The Supervisor comes back at the same address, with the same keys: Retry reaches it.
    let _back = EmulatorProcess::spawn(&[
        "--port",
        &port,
        "--manage-key",
        &manage,
        "--read-key",
        &read,
        "--processing-ms",
        "0",
        "--nodes",
        "2",
    ]);
    // The pane follows by itself; Retry, when still offered, asks at once.
    app.wait_for("the pane back online", T, |a| {
        if a.find_opt("[data-testid=deployment-offline]")?.is_none()
            && a.find_opt("[data-testid=create-snapshot]")?.is_some()
        {
            return Ok(true);
        }
        if let Some(retry) = a.control_opt("Retry")? {
            if !a.is_disabled(&retry)? {
                a.click(&retry)?;
            }
        }
        Ok(false)
    })
    .unwrap();
}

/// Like `select_deployment`, for a pane that may show no tabs (offline with nothing listed).
fn select_deployment_offline(app: &App, connection: &str, id: &str) {
    pick_deployment(app, connection, id);
    if app
        .find_opt("[data-testid=deployment-tab-snapshots]")
        .unwrap()
        .is_some()
    {
        app.click_testid("deployment-tab-snapshots").unwrap();
    }
}

//! The library in the real app (WebKitGTK under Xvfb) over real archives: two collections of
//! this machine and a three-node snapshot downloaded from the emulator, all put there by the
//! CLI while the app runs (the app shows them without a restart). Search with the query
//! language, compare two entries, the nodes of one snapshot as a matrix (a cell opens that
//! node's report), and the triage board. Screenshots of each, light and dark.

use std::path::Path;
use std::time::Duration;

use serde_json::json;
use snapdesk_tests::cli::{ok, snapdesk};
use snapdesk_tests::e2e::{self, App};
use snapdesk_tests::emu::EmulatorProcess;

fn total(app: &App) -> Option<String> {
    app.find_opt("[data-testid=library-list]")
        .ok()
        .flatten()
        .and_then(|l| app.attribute(&l, "data-total").ok().flatten())
}

fn wait_total(app: &App, n: usize) {
    app.wait_for(
        &format!("{n} entries listed"),
        Duration::from_secs(30),
        |a| Ok(total(a).as_deref() == Some(n.to_string().as_str())),
    )
    .unwrap();
}

fn query(app: &App, q: &str) {
    let input = app.by_testid("library-query").unwrap();
    app.exec(
        "arguments[0].value = ''; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
        json!([{"element-6066-11e4-a52e-4f735466cecf": input}]),
    )
    .unwrap();
    app.click(&input).unwrap();
    if !q.is_empty() {
        app.type_into(&input, q).unwrap();
    }
}

fn shots(app: &App, name: &str) {
    app.screenshot_themes(&format!("library-{name}")).unwrap();
}

fn fill_library(data: &Path, emu: &EmulatorProcess) {
    for _ in 0..2 {
        ok(snapdesk(data)
            .args(["collect", "--no-iggy"])
            .output()
            .unwrap());
    }
    let (id, name) = emu.deployment(0);
    ok(snapdesk(data)
        .args(["context", "add", "emu", "--url", emu.url(), "--keep-key"])
        .arg("--deployment")
        .arg(format!("{id}={name}"))
        .output()
        .unwrap());
    ok(snapdesk(data)
        .env("LD_API_KEY", emu.manage_key())
        .args([
            "snapshots",
            "--deployment",
            &name,
            "create",
            "--wait",
            "--no-include-iggy",
        ])
        .output()
        .unwrap());
    ok(snapdesk(data)
        .env("LD_API_KEY", emu.manage_key())
        .args(["snapshots", "--deployment", &name, "download"])
        .output()
        .unwrap());
}

#[test]
fn search_compare_matrix_and_triage_on_a_library_the_cli_fills_while_the_app_runs() {
    if !e2e::enabled() {
        return;
    }
    let emu = EmulatorProcess::spawn(&["--processing-ms", "200", "--nodes", "3"]);
    let app = App::launch().unwrap();
    app.click_testid("nav-library").unwrap();
    app.wait_for("the empty library", Duration::from_secs(20), |a| {
        Ok(a.find_opt("[data-testid=library-empty]")?.is_some())
    })
    .unwrap();
    shots(&app, "empty");

    // The CLI fills the library; the running app shows it without a restart.
    fill_library(app.data_dir(), &emu);
    wait_total(&app, 5);
    shots(&app, "list");

    // Search: free text and filters of the query language.
    let (_, deployment) = emu.deployment(0);
    query(&app, &format!("deployment:{deployment}"));
    wait_total(&app, 3);
    query(&app, "status:warn");
    app.wait_for("warn entries", Duration::from_secs(10), |a| {
        Ok(total(a).is_some_and(|t| t != "5" && t != "0"))
    })
    .unwrap();
    shots(&app, "search");
    // A query that matches nothing says so in the list's place, with a way back; the next
    // one that matches draws its rows again.
    query(&app, "zzznothingmatches");
    app.wait_for("the no-match state", Duration::from_secs(10), |a| {
        Ok(a.find_opt("[data-testid=library-no-match]")?.is_some())
    })
    .unwrap();
    assert!(app.find_opt("[data-testid=library-row]").unwrap().is_none());
    shots(&app, "no-match");
    app.click_testid("library-clear-query").unwrap();
    wait_total(&app, 5);
    app.wait_for("the rows again", Duration::from_secs(10), |a| {
        Ok(a.find_opt("[data-testid=library-no-match]")?.is_none()
            && a.find_opt("[data-testid=library-row]")?.is_some())
    })
    .unwrap();

    // Compare two entries: the two local collections.
    let rows = app
        .exec(
            "return [...document.querySelectorAll('[data-testid=library-row]')].map(r => [r.dataset.entryId, r.textContent]);",
            json!([]),
        )
        .unwrap();
    let rows = rows.as_array().unwrap().clone();
    let local: Vec<String> = rows
        .iter()
        .filter(|r| !r[1].as_str().unwrap_or_default().contains(&deployment))
        .map(|r| r[0].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(local.len(), 2, "{rows:?}");
    for id in &local {
        let sel = app
            .find_opt(&format!(
                "[data-testid=library-row][data-entry-id='{id}'] [data-testid=row-select]"
            ))
            .unwrap()
            .unwrap();
        app.click(&sel).unwrap();
    }
    app.click_testid("compare-selected").unwrap();
    app.wait_for("the diff", Duration::from_secs(20), |a| {
        Ok(a.find_opt("[data-testid=diff-summary]")?.is_some())
    })
    .unwrap();
    shots(&app, "compare");
    app.click_testid("compare-back").unwrap();
    if app
        .find_opt("[data-testid=selection-clear]")
        .unwrap()
        .is_some()
    {
        app.click_testid("selection-clear").unwrap();
    }

    // The nodes of the emulator's snapshot as a matrix; a cell opens that node's report.
    query(&app, &format!("deployment:{deployment}"));
    wait_total(&app, 3);
    let row = app
        .find_opt("[data-testid=library-row] [data-testid=row-select]")
        .unwrap()
        .unwrap();
    app.click(&row).unwrap();
    app.click_testid("compare-nodes").unwrap();
    app.wait_for("the matrix", Duration::from_secs(20), |a| {
        Ok(a.find_opt("[data-testid=matrix-cell]")?.is_some())
    })
    .unwrap();
    let nodes = app
        .exec(
            "return document.querySelectorAll('[data-testid=matrix-node]').length;",
            json!([]),
        )
        .unwrap();
    assert_eq!(nodes, json!(3));
    shots(&app, "matrix");
    let cell = app.by_testid("matrix-cell").unwrap();
    app.click(&cell).unwrap();
    app.wait_for("a node's report", Duration::from_secs(30), |a| {
        Ok(a.find_opt("[data-testid=report-viewer][data-ready=true]")?
            .is_some())
    })
    .unwrap();
    shots(&app, "viewer");
    app.click_testid("viewer-back").unwrap();

    // The triage board of the whole library: a row opens its check in the report.
    if app
        .find_opt("[data-testid=compare-back]")
        .unwrap()
        .is_some()
    {
        app.click_testid("compare-back").unwrap();
    }
    app.click_testid("triage-mode-triage").unwrap();
    app.wait_for("triage rows", Duration::from_secs(20), |a| {
        Ok(a.find_opt("[data-testid=triage-row]")?.is_some())
    })
    .unwrap();
    shots(&app, "triage");
    let open = app
        .find_opt("[data-testid=triage-row] [data-testid=triage-open]")
        .unwrap()
        .unwrap();
    app.click(&open).unwrap();
    app.wait_for("the triaged check's report", Duration::from_secs(30), |a| {
        Ok(a.find_opt("[data-testid=report-viewer][data-ready=true]")?
            .is_some())
    })
    .unwrap();
}

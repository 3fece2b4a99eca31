//! Opening files in the real app (WebKitGTK under Xvfb): files given on the command line, a
//! second launch handing its file to the running window, links in a report that wait for the
//! person, and a collection of this machine started, cancelled and run from the app.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use snapdesk_tests::cli::{snapdesk, stderr, stdout};
use snapdesk_tests::e2e::{self, App, Launch};
use snapdesk_tests::hostile;

fn collected(dir: &Path) -> PathBuf {
    let out = dir.join("local.zip");
    let o = snapdesk(&dir.join("cli-home"))
        .args(["collect", "--no-iggy", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    out
}

fn foreign(dir: &Path) -> PathBuf {
    hostile::html_report(
        dir,
        "other-tool.zip",
        "<!doctype html><html><head><title>Report from another tool</title></head><body>\
         <h1>Report from another tool</h1><table><tr><th>Check</th><th>Status</th></tr>\
         <tr><td>Disk</td><td>FAIL</td></tr><tr><td>Memory</td><td>OK</td></tr></table></body></html>",
    )
    .unwrap()
}

/// The library as the CLI sees it (the same data directory as the app's).
fn library_items(data_dir: &Path) -> Vec<Value> {
    let o = snapdesk(data_dir)
        .args(["library", "list", "--json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    v["items"].as_array().cloned().unwrap_or_default()
}

fn wait_viewer_title(app: &App, what: &str, starts: &str) {
    app.wait_for(what, Duration::from_secs(30), |a| {
        let Some(viewer) = a.find_opt("[data-testid=report-viewer][data-ready=true]")? else {
            return Ok(false);
        };
        let _ = viewer;
        let title = a.text(&a.by_testid("viewer-title")?)?;
        Ok(title.starts_with(starts))
    })
    .unwrap();
}

#[test]
fn files_on_the_command_line_open_in_the_viewer_and_a_second_launch_hands_its_file_over() {
    if !e2e::enabled() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let ours = collected(tmp.path());
    let other = foreign(tmp.path());
    let app = App::launch_with(Launch {
        args: vec![ours.display().to_string()],
        ..Default::default()
    })
    .unwrap();
    wait_viewer_title(&app, "the file given at launch", "Snapshot of");
    // It is in the library, which the CLI sees (one library, two hosts).
    let items = library_items(app.data_dir());
    assert_eq!(items.len(), 1, "{items:?}");
    app.screenshot_themes("open-by-argument").unwrap();

    // A second launch on the same data directory hands its file to this window and exits.
    let started = Instant::now();
    let status = Command::new(e2e::app_bin())
        .arg("--data-dir")
        .arg(app.data_dir())
        .arg(&other)
        .env("DISPLAY", app.display())
        .env("NO_AT_BRIDGE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the second launch exits cleanly: {status}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the second launch handed over instead of starting a window: {:?}",
        started.elapsed()
    );
    wait_viewer_title(&app, "the handed-over file", "Report from another tool");
    assert_eq!(library_items(app.data_dir()).len(), 2);

    // A file that is not a snapshot says what is wrong and changes nothing.
    let junk = tmp.path().join("junk.zip");
    std::fs::write(&junk, b"this is not a zip").unwrap();
    let status = Command::new(e2e::app_bin())
        .arg("--data-dir")
        .arg(app.data_dir())
        .arg(&junk)
        .env("DISPLAY", app.display())
        .env("NO_AT_BRIDGE", "1")
        .status()
        .unwrap();
    assert!(status.success());
    app.wait_for("the error notice", Duration::from_secs(20), |a| {
        Ok(a.find_opt("[data-testid=open-files-error]")?.is_some())
    })
    .unwrap();
    let notice = app
        .text(&app.by_testid("open-files-error").unwrap())
        .unwrap();
    assert!(notice.contains("junk.zip"), "{notice}");
    assert_eq!(library_items(app.data_dir()).len(), 2, "nothing added");
    app.screenshot_themes("open-bad-file").unwrap();
}

#[test]
fn a_link_in_a_report_opens_in_the_browser_only_after_the_person_confirms_the_whole_address() {
    if !e2e::enabled() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // The system browser, as the app starts it (xdg-open), records what it was given.
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let opened_log = tmp.path().join("opened.txt");
    let script = bin.join("xdg-open");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" >> '{}'\n", opened_log.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let url = "https://docs.example.com/kb/42?from=report&node=2";
    let zip = hostile::html_report(
        tmp.path(),
        "links.zip",
        &format!(
            "<!doctype html><html><head><title>Links</title></head><body><h1>Links</h1>\
             <p><a id=\"kb\" href=\"{}\">Known issue 42</a></p></body></html>",
            url.replace('&', "&amp;")
        ),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let app = App::launch_with(Launch {
        args: vec![zip.display().to_string()],
        env: vec![("PATH".into(), path)],
        ..Default::default()
    })
    .unwrap();
    wait_viewer_title(&app, "the links report", "Links");
    let frame = app.by_testid("report-frame").unwrap();

    let click_link = |app: &App| {
        app.enter_frame(&frame).unwrap();
        app.exec(
            "document.getElementById('kb').click(); return true;",
            json!([]),
        )
        .unwrap();
        app.leave_frame().unwrap();
        app.wait_for("the link dialog", Duration::from_secs(10), |a| {
            Ok(a.find_opt("[data-testid=link-dialog]")?.is_some())
        })
        .unwrap();
    };

    click_link(&app);
    assert_eq!(app.text(&app.by_testid("link-url").unwrap()).unwrap(), url);
    assert_eq!(
        app.focused_testid().unwrap().as_deref(),
        Some("link-cancel"),
        "Cancel has the focus"
    );
    app.screenshot_themes("link-dialog").unwrap();
    app.click_testid("link-cancel").unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert!(!opened_log.exists(), "nothing opened on Cancel");
    // The report stayed where it was: the frame did not navigate away.
    assert_eq!(
        app.attribute(&frame, "src").unwrap().as_deref(),
        app.attribute(&frame, "src").unwrap().as_deref()
    );
    app.enter_frame(&frame).unwrap();
    let still = app.exec("return document.title;", json!([])).unwrap();
    app.leave_frame().unwrap();
    assert_eq!(still, json!("Links"));

    // Prompts are rate limited to one per 2 s.
    std::thread::sleep(Duration::from_millis(2100));
    click_link(&app);
    app.click_testid("link-open").unwrap();
    app.wait_for(
        "the browser to get the link",
        Duration::from_secs(10),
        |_| Ok(std::fs::read_to_string(&opened_log).is_ok_and(|t| t.contains(url))),
    )
    .unwrap();
}

#[test]
fn a_collection_in_the_app_can_be_cancelled_and_then_lands_in_the_library_and_the_viewer() {
    if !e2e::enabled() {
        return;
    }
    let app = App::launch().unwrap();
    app.click_testid("nav-collect").unwrap();
    app.click_testid("collect-iggy").unwrap();
    app.click_testid("collect-start").unwrap();
    app.click_testid("collect-cancel").unwrap();
    app.wait_for("the cancelled note", Duration::from_secs(30), |a| {
        Ok(a.find_opt("[data-testid=collect-cancelled]")?.is_some())
    })
    .unwrap();
    assert!(library_items(app.data_dir()).is_empty(), "nothing added");
    app.screenshot_themes("collect-cancelled").unwrap();

    app.click_testid("collect-start").unwrap();
    wait_viewer_title(&app, "the collected report", "Snapshot of");
    let items = library_items(app.data_dir());
    assert_eq!(items.len(), 1, "{items:?}");
    let show = snapdesk(app.data_dir())
        .args(["library", "show", "--json"])
        .arg(items[0]["id"].as_str().unwrap())
        .output()
        .unwrap();
    assert!(stdout(&show).contains("\"collected\""), "{}", stdout(&show));
    app.screenshot_themes("collect-done").unwrap();
}

#[test]
fn ctrl_o_opens_the_file_a_person_picks_in_the_system_dialog() {
    if !e2e::enabled() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let ours = collected(tmp.path());
    let app = App::launch().unwrap();
    app.by_testid("app-root").unwrap();
    // Ctrl+O: the GTK file dialog, answered with the keyboard (location field, Enter).
    app.chord(&["\u{E009}", "o"]).unwrap();
    app.answer_file_dialog("Open snapshot ZIPs", &ours).unwrap();
    wait_viewer_title(&app, "the file picked in the dialog", "Snapshot of");
    assert_eq!(library_items(app.data_dir()).len(), 1);
    // Dismissing the dialog changes nothing.
    app.chord(&["\u{E009}", "o"]).unwrap();
    let dialog = app.window_titled("Open snapshot ZIPs").unwrap();
    let esc = Command::new("xdotool")
        .env("DISPLAY", app.display())
        .args(["windowfocus", "--sync", &dialog])
        .status()
        .unwrap();
    assert!(esc.success());
    Command::new("xdotool")
        .env("DISPLAY", app.display())
        .args(["key", "Escape"])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(library_items(app.data_dir()).len(), 1);
}

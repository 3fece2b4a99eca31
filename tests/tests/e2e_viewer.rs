//! The sandboxed report viewer in the real app (WebKitGTK under Xvfb): a collected snapshot
//! opens from disk, its report renders and runs its own script inside the frame, and the
//! frame can reach neither the app's IPC, nor its parent, nor the network.

use std::io::Read;
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use snapdesk_tests::cli::{snapdesk, stderr};
use snapdesk_tests::e2e::{self, App};

fn collected(dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join("local.zip");
    let o = snapdesk(&dir.join("home"))
        .args(["collect", "--no-iggy", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    out
}

fn open_in_viewer(app: &App, path: &std::path::Path) -> String {
    app.click_testid("nav-library").unwrap();
    let input = app.by_testid("open-path").unwrap();
    app.click(&input).unwrap();
    app.type_into(&input, &path.display().to_string()).unwrap();
    app.click_testid("open-submit").unwrap();
    let viewer = app.by_testid("report-viewer").unwrap();
    app.wait_for("the report to be ready", Duration::from_secs(20), |a| {
        Ok(a.attribute(&viewer, "data-ready")?.as_deref() == Some("true"))
    })
    .unwrap();
    app.by_testid("report-frame").unwrap()
}

#[test]
fn a_collected_report_renders_and_runs_in_the_sandboxed_frame() {
    if !e2e::enabled() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let zip = collected(tmp.path());
    let app = App::launch().unwrap();
    let frame = open_in_viewer(&app, &zip);
    assert_eq!(
        app.attribute(&frame, "sandbox").unwrap().as_deref(),
        Some("allow-scripts")
    );
    app.screenshot("viewer-report").unwrap();
    // The viewer fills the window and no more: the page does not scroll, the check panel
    // and the frame scroll on their own, and the panel draws only the rows in view.
    let fit = app
        .exec(
            "const main = document.getElementById('main'); \
             const list = document.querySelector('[data-testid=check-list]'); \
             const frame = document.querySelector('[data-testid=report-frame]'); \
             const f = frame.getBoundingClientRect(), l = list.getBoundingClientRect(); \
             return [main.scrollHeight - main.clientHeight, \
                     list.scrollHeight > list.clientHeight && l.bottom <= window.innerHeight && l.height > 100, \
                     f.bottom <= window.innerHeight && f.height > window.innerHeight / 2, \
                     document.querySelectorAll('[data-testid=check-item]').length, \
                     +document.querySelector('[data-testid=viewer-checks]').textContent.split(' ')[0]];",
            json!([]),
        )
        .unwrap();
    assert_eq!(fit[0], 0, "the page scrolls under the viewer: {fit}");
    assert_eq!(
        fit[1], true,
        "the check list does not scroll on its own: {fit}"
    );
    assert_eq!(fit[2], true, "the frame reaches past the window: {fit}");
    assert!(
        fit[3].as_u64().unwrap() < fit[4].as_u64().unwrap(),
        "every check is drawn: {fit}"
    );

    app.enter_frame(&frame).unwrap();
    // The report's own script ran: it counts the checks it shows.
    let shown = app
        .exec(
            "return document.getElementById('shown').textContent;",
            json!([]),
        )
        .unwrap();
    assert!(
        shown.as_str().unwrap_or_default().contains("checks"),
        "{shown}"
    );
    let title = app
        .exec(
            "return document.querySelector('h1').textContent;",
            json!([]),
        )
        .unwrap();
    assert!(
        title
            .as_str()
            .unwrap_or_default()
            .starts_with("Snapshot of"),
        "{title}"
    );
    app.leave_frame().unwrap();

    // The report follows the app's theme: set dark, the page root says dark; cleared, it
    // follows the system again.
    let theme_in_frame = |app: &App| -> Option<String> {
        app.enter_frame(&frame).ok()?;
        let t = app
            .exec(
                "return document.documentElement.getAttribute('data-theme');",
                json!([]),
            )
            .ok();
        app.leave_frame().ok()?;
        t?.as_str().map(str::to_owned)
    };
    for (set, want) in [("'dark'", Some("dark")), ("null", None)] {
        app.exec(
            &format!(
                "const t = {set}; if (t) document.documentElement.dataset.theme = t; \
                 else delete document.documentElement.dataset.theme;"
            ),
            json!([]),
        )
        .unwrap();
        app.wait_for(
            &format!("the report's theme {want:?}"),
            Duration::from_secs(10),
            |a| Ok(theme_in_frame(a).as_deref() == want),
        )
        .unwrap();
    }
    app.screenshot_themes("viewer-report").unwrap();
}

#[test]
fn the_frame_reaches_neither_ipc_nor_parent_nor_network() {
    if !e2e::enabled() {
        return;
    }
    // A local server that records whether anything connects to it.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let touched = Arc::new(AtomicBool::new(false));
    let t2 = touched.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    let watcher = std::thread::spawn(move || {
        let accept = || {
            if let Ok((mut c, _)) = listener.accept() {
                t2.store(true, Ordering::SeqCst);
                let mut b = [0u8; 64];
                let _ = c.read(&mut b);
            }
        };
        while !s2.load(Ordering::SeqCst) {
            accept();
            std::thread::sleep(Duration::from_millis(20));
        }
        // A connection made before the stop waits in the backlog: take it too.
        accept();
    });

    let tmp = tempfile::tempdir().unwrap();
    let zip = collected(tmp.path());
    let app = App::launch().unwrap();
    let frame = open_in_viewer(&app, &zip);
    app.enter_frame(&frame).unwrap();
    let probe = app
        .exec_async(
            r#"const done = arguments[arguments.length - 1];
               const port = arguments[0];
               const r = {};
               r.tauri = typeof window.__TAURI_INTERNALS__;
               r.tauriIpc = typeof window.__TAURI__;
               try { r.parent = typeof parent.document; } catch (e) { r.parent = 'blocked'; }
               try { localStorage.setItem('x', '1'); r.storage = 'open'; } catch (e) { r.storage = 'blocked'; }
               try { document.cookie = 'a=b'; r.cookie = document.cookie === '' ? 'blocked' : 'open'; } catch (e) { r.cookie = 'blocked'; }
               // Done once both requests settled (a blocked one fails at once; one that left
               // would wait on the silent listener) or after 3 s.
               let settled = 0, finished = false;
               const finish = () => { if (!finished) { finished = true; done(r); } };
               const one = () => { settled += 1; if (settled === 2) finish(); };
               const img = new Image();
               img.onload = () => { r.img = 'open'; one(); };
               img.onerror = () => { r.img = 'blocked'; one(); };
               img.src = 'http://127.0.0.1:' + port + '/img.png';
               fetch('http://127.0.0.1:' + port + '/fetch').then(
                 () => { r.fetch = 'open'; one(); },
                 () => { r.fetch = 'blocked'; one(); });
               setTimeout(() => { r.fetch = r.fetch || 'pending'; r.img = r.img || 'pending'; finish(); }, 3000);"#,
            json!([port]),
        )
        .unwrap();
    app.leave_frame().unwrap();
    stop.store(true, Ordering::SeqCst);
    watcher.join().unwrap();

    assert_eq!(probe["tauri"], "undefined", "{probe}");
    assert_eq!(probe["tauriIpc"], "undefined", "{probe}");
    assert_eq!(probe["parent"], "blocked", "{probe}");
    assert_eq!(probe["storage"], "blocked", "{probe}");
    assert_eq!(probe["cookie"], "blocked", "{probe}");
    assert_eq!(probe["fetch"], "blocked", "{probe}");
    assert_eq!(probe["img"], "blocked", "{probe}");
    assert!(
        !touched.load(Ordering::SeqCst),
        "the frame reached 127.0.0.1:{port}"
    );
}

#[test]
fn a_bad_zip_shows_a_clear_error_and_keeps_the_path() {
    if !e2e::enabled() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.zip");
    std::fs::write(&bad, b"not a zip at all").unwrap();
    let app = App::launch().unwrap();
    app.click_testid("nav-library").unwrap();
    let input = app.by_testid("open-path").unwrap();
    app.click(&input).unwrap();
    app.type_into(&input, &bad.display().to_string()).unwrap();
    app.click_testid("open-submit").unwrap();
    let err = app.by_testid("open-error").unwrap();
    app.wait_for("the error", Duration::from_secs(10), |a| {
        Ok(a.text(&err)?.contains("not a valid ZIP"))
    })
    .unwrap();
    let value = app
        .exec(
            "return arguments[0].value;",
            json!([{ "element-6066-11e4-a52e-4f735466cecf": input }]),
        )
        .unwrap();
    assert_eq!(value.as_str(), Some(bad.display().to_string().as_str()));
    app.screenshot("library-open-error").unwrap();
}

#[test]
fn an_archive_with_iggy_data_shows_its_iggy_data_page_in_the_sandboxed_frame() {
    if !e2e::enabled() {
        return;
    }
    let Some(fx) = snapdesk_tests::workspace::shared_fixtures_or_skip() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let gz = flate2::read::GzDecoder::new(
        std::fs::File::open(fx.join("iggy/0.8.0/local_data.tar.gz")).unwrap(),
    );
    tar::Archive::new(gz).unpack(tmp.path()).unwrap();
    let out = tmp.path().join("with-data.zip");
    let o = snapdesk(&tmp.path().join("home"))
        .args(["collect", "--out"])
        .arg(&out)
        .arg("--iggy-data")
        .arg(tmp.path().join("local_data"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let app = App::launch().unwrap();
    open_in_viewer(&app, &out);
    app.click_testid("viewer-tab-iggy").unwrap();
    let viewer = app.by_testid("report-viewer").unwrap();
    app.wait_for("the Iggy data page", Duration::from_secs(20), |a| {
        Ok(a.attribute(&viewer, "data-ready")?.as_deref() == Some("true"))
    })
    .unwrap();
    let frame = app.by_testid("report-frame").unwrap();
    assert_eq!(
        app.attribute(&frame, "sandbox").unwrap().as_deref(),
        Some("allow-scripts")
    );
    app.enter_frame(&frame).unwrap();
    let text = app
        .exec("return document.body.innerText;", json!([]))
        .unwrap();
    app.leave_frame().unwrap();
    page_follows_the_apps_dark_theme(&app, "the Iggy data page");
    app.screenshot_themes("viewer-iggy-data").unwrap();
    let text = text.as_str().unwrap_or_default();
    assert!(text.contains("Iggy data: Snapshot of"), "{text}");
    assert!(
        text.contains("orders") && text.contains("metrics"),
        "{text}"
    );
}

#[test]
fn the_archives_files_are_listed_and_read_in_the_sandboxed_frame_never_rendered() {
    if !e2e::enabled() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let zip = collected(tmp.path());
    let app = App::launch().unwrap();
    open_in_viewer(&app, &zip);
    app.click_testid("viewer-tab-files").unwrap();
    app.wait_for("the file list", Duration::from_secs(20), |a| {
        Ok(
            a.find_opt("[data-testid=file-item][data-path='report.html']")?
                .is_some(),
        )
    })
    .unwrap();
    // The frame is a new element at each load: found again each time.
    let read = |app: &App, path: &str| -> String {
        let item = app
            .find_opt(&format!("[data-testid=file-item][data-path='{path}']"))
            .unwrap()
            .unwrap();
        app.click(&item).unwrap();
        app.wait_for("the file page", Duration::from_secs(20), |a| {
            let frame = a.by_testid("report-frame")?;
            Ok(a.attribute(&frame, "src")?
                .is_some_and(|s| s.contains("/files/"))
                && a.find_opt("[data-testid=report-viewer][data-ready=true]")?
                    .is_some())
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let frame = app.by_testid("report-frame").unwrap();
        app.enter_frame(&frame).unwrap();
        let v = app
            .exec("const p = document.querySelector('pre'); return p ? p.dataset.kind + '|' + p.textContent : 'none';", json!([]))
            .unwrap();
        app.leave_frame().unwrap();
        v.as_str().unwrap_or_default().to_owned()
    };
    let manifest = read(&app, "manifest.json");
    assert!(manifest.starts_with("json|"), "{manifest}");
    assert!(manifest.contains("\"snapshot_name\""), "{manifest}");
    // The report itself, as a file, is its source text: nothing in it runs or renders.
    let report = read(&app, "report.html");
    assert!(
        report.starts_with("text|<!doctype html>"),
        "{}",
        &report[..report.len().min(80)]
    );
    page_follows_the_apps_dark_theme(&app, "a file page");
    app.screenshot_themes("viewer-files").unwrap();
}

/// Sets the app's theme to dark and waits for the page in the viewer's frame to turn dark:
/// its root says so and its background is the dark one, so its one script (the theme
/// listener, allowed by its hash) ran. Then clears the app's theme again.
fn page_follows_the_apps_dark_theme(app: &App, what: &str) {
    let state = |a: &App| -> anyhow::Result<String> {
        let frame = a.by_testid("report-frame")?;
        a.enter_frame(&frame)?;
        let v = a.exec(
            "return document.documentElement.getAttribute('data-theme') + '|' + \
             getComputedStyle(document.body).backgroundColor;",
            json!([]),
        );
        a.leave_frame()?;
        Ok(v?.as_str().unwrap_or_default().to_owned())
    };
    app.exec(
        "document.documentElement.dataset.theme = 'dark';",
        json!([]),
    )
    .unwrap();
    let mut last = String::new();
    let dark = app.wait_for(
        &format!("{what} in the app's dark theme"),
        Duration::from_secs(10),
        |a| {
            last = state(a)?;
            Ok(last == "dark|rgb(20, 22, 26)")
        },
    );
    app.exec("delete document.documentElement.dataset.theme;", json!([]))
        .unwrap();
    assert!(dark.is_ok(), "{what} stayed {last:?}");
}

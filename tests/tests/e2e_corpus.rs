//! A corpus of hostile reports opened one after another in the real app (WebKitGTK under
//! Xvfb): each tries one way out of the sandboxed frame. A listener on 127.0.0.1 receives
//! nothing, no command runs (the library, its first entry included, stays as imported, and
//! the system browser is never started), the app's own page is untouched, and the app stays
//! usable and bounded in memory.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use snapdesk_tests::cli::{snapdesk, stderr, stdout};
use snapdesk_tests::e2e::{self, App, Launch};
use snapdesk_tests::hostile;

const GIB: u64 = 1024 * 1024 * 1024;

fn library_items(data_dir: &Path) -> Vec<Value> {
    let o = snapdesk(data_dir)
        .args(["library", "list", "--json", "--limit", "500"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    v["items"].as_array().cloned().unwrap_or_default()
}

/// Opens `path` from the library's form and waits for the frame to be ready.
fn open(app: &App, path: &Path) {
    if app.find_opt("[data-testid=viewer-back]").unwrap().is_some() {
        app.click_testid("viewer-back").unwrap();
    }
    app.click_testid("nav-library").unwrap();
    app.wait_for("the open form", Duration::from_secs(20), |a| {
        Ok(a.find_opt("[data-testid=open-path]")?.is_some())
    })
    .unwrap();
    let input = app.by_testid("open-path").unwrap();
    app.click(&input).unwrap();
    app.type_into(&input, &path.display().to_string()).unwrap();
    app.click_testid("open-submit").unwrap();
    app.wait_for(
        &format!("{} to be shown", path.display()),
        Duration::from_secs(60),
        |a| {
            Ok(a.find_opt("[data-testid=report-viewer][data-ready=true]")?
                .is_some())
        },
    )
    .unwrap();
}

#[test]
fn forty_hostile_reports_reach_no_listener_run_no_command_and_leave_the_app_usable() {
    if !e2e::enabled() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let first: Arc<Mutex<Option<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (hits, first, stop) = (hits.clone(), first.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        hits.fetch_add(1, Ordering::Relaxed);
                        let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
                        let mut buf = [0u8; 256];
                        let n = s.read(&mut buf).unwrap_or(0);
                        let mut f = first.lock().unwrap();
                        if f.is_none() {
                            *f = Some(String::from_utf8_lossy(&buf[..n]).into_owned());
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        })
    };
    // The system browser, as the app would start it, records anything it is given.
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let browser_log = tmp.path().join("browser.txt");
    let script = bin.join("xdg-open");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$@\" >> '{}'\n", browser_log.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let corpus = hostile::corpus(tmp.path(), port).unwrap();
    assert!(corpus.len() >= 40, "{} reports", corpus.len());
    let seed = hostile::html_report(
        tmp.path(),
        "seed.zip",
        "<!doctype html><title>Seed</title><h1>Seed</h1><table><tr><td>Disk</td><td>OK</td></tr></table>",
    )
    .unwrap();

    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let app = App::launch_with(Launch {
        env: vec![("PATH".into(), path)],
        ..Default::default()
    })
    .unwrap();
    open(&app, &seed);
    let before = library_items(app.data_dir());
    assert_eq!(before.len(), 1);
    let seed_entry = before[0].clone();

    let mut dialogs = Vec::new();
    let mut reached = Vec::new();
    for (name, zip) in &corpus {
        let hits_before = hits.load(Ordering::Relaxed);
        open(&app, zip);
        // Let the page's attempt run (every page marks itself done at once; a few wait a tick).
        std::thread::sleep(Duration::from_millis(400));
        if app.find_opt("[data-testid=link-dialog]").unwrap().is_some() {
            // A link to this machine is flagged as such before the person decides.
            assert!(
                app.find_opt("[data-testid=link-local]").unwrap().is_some(),
                "{name}: a loopback link without the warning"
            );
            dialogs.push(name.clone());
            app.click_testid("link-cancel").unwrap();
        }
        let section = app
            .attribute(&app.by_testid("app-root").unwrap(), "data-active-section")
            .unwrap();
        assert_eq!(
            section.as_deref(),
            Some("library"),
            "{name}: the app's page changed section"
        );
        if hits.load(Ordering::Relaxed) > hits_before {
            reached.push(name.clone());
        }
    }
    app.screenshot("hostile-corpus-last").unwrap();
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();

    assert_eq!(
        hits.load(Ordering::Relaxed),
        0,
        "the listener on 127.0.0.1 was reached by {reached:?}: {:?}",
        first.lock().unwrap()
    );
    assert!(
        !browser_log.exists(),
        "the system browser was started: {:?}",
        std::fs::read_to_string(&browser_log)
    );
    // Only a clicked link (a script can click one) and the forged link messages raise the
    // question, once each whatever their number; the person declined and nothing opened.
    assert!(
        dialogs
            .iter()
            .all(|d| d == "parent-forged-messages" || d == "target-blank"),
        "{dialogs:?}"
    );
    let after = library_items(app.data_dir());
    assert_eq!(after.len(), 1 + corpus.len(), "each report imported once");
    let seed_now = after
        .iter()
        .find(|e| e["id"] == seed_entry["id"])
        .expect("the first entry is still there");
    for key in ["pinned", "note", "tags"] {
        assert_eq!(seed_now[key], seed_entry[key], "{key} changed");
    }
    assert!(after
        .iter()
        .all(|e| e["pinned"] == false && e["note"] == ""));

    // Still usable: every section answers, and memory stays bounded.
    app.click_testid("viewer-back").unwrap();
    for s in ["settings", "collect", "library"] {
        app.click_testid(&format!("nav-{s}")).unwrap();
        app.wait_for(&format!("section {s}"), Duration::from_secs(10), |a| {
            Ok(a.find_opt(&format!("[data-testid=section-{s}]"))?.is_some())
        })
        .unwrap();
    }
    // A script can grow the DOM it shows (a million nodes cost WebKit about 700 MiB); once the
    // report is closed, WebKit gives it back within seconds.
    let shown = app.memory_probe().bytes().unwrap_or(0);
    let mut pss = shown;
    for _ in 0..30 {
        if pss < GIB {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
        pss = app.memory_probe().bytes().unwrap_or(0);
    }
    eprintln!(
        "figure: hostile corpus: {} reports, app and WebKit {} MiB with the last closed, {} MiB settled",
        corpus.len(),
        shown / (1024 * 1024),
        pss / (1024 * 1024)
    );
    assert!(pss < GIB, "app and WebKit use {} MiB", pss / (1024 * 1024));
}

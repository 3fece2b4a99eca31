//! The viewer's security review, kept fixed: each hostile archive it built is opened in the
//! real app (WebKitGTK under Xvfb) and must not hurt the app, the machine or the network.
//!
//! - Findings 1 to 3: a self-navigating report, a ZIP bomb of Iggy text sections, 40,000
//!   tables and 8 MB of `<p>` are each opened and left open for 30 s; the memory of the app
//!   and its WebKit processes stays under 1 GiB and the UI keeps answering.
//! - Findings 4 and 5: a report that sends child frames, forms, images, fetches and its own
//!   navigation to every `localhost` origin reaches no listener on 127.0.0.1:80, :443 or a
//!   random port, and its forged IPC messages reach no command.
//! - Finding 9: nothing is written under `$HOME` outside the data directory.
//!
//! Each case prints a `figure:` line (open time, peak and final memory), which
//! `scripts/bench-viewer` collects for the before/after table.

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use snapdesk_tests::e2e::{self, App, Launch};
use snapdesk_tests::hostile;

const GIB: u64 = 1024 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;

/// How long each hostile archive stays open (the 30 s, or less for a quick look).
fn hold() -> Duration {
    std::env::var("SNAPDESK_HOSTILE_HOLD_S")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(30))
}

/// Past this the sampler kills the app (a regression, or the old build measured for the
/// before/after figures, must not take the machine down with it).
const KILL_AT: u64 = 4 * GIB;

/// Samples the app's memory every 100 ms until dropped; keeps the peak, and kills the app's
/// processes past [`KILL_AT`].
struct Sampler {
    peak: Arc<AtomicU64>,
    killed: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    fn start(app: &App) -> Self {
        let probe = app.memory_probe();
        let peak = Arc::new(AtomicU64::new(0));
        let killed = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, k, s) = (peak.clone(), killed.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                if let Ok(b) = probe.bytes() {
                    p.fetch_max(b, Ordering::SeqCst);
                    if b > KILL_AT && !k.swap(true, Ordering::SeqCst) {
                        probe.kill();
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Self {
            peak,
            killed,
            stop,
            thread: Some(thread),
        }
    }

    fn peak(&self) -> u64 {
        self.peak.load(Ordering::SeqCst)
    }

    fn killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Types a path into the Library's open form and submits it.
fn submit_open(app: &App, path: &Path) {
    app.click_testid("nav-library").unwrap();
    let input = app.by_testid("open-path").unwrap();
    app.click(&input).unwrap();
    app.type_into(&input, &path.display().to_string()).unwrap();
    app.click_testid("open-submit").unwrap();
}

/// Waits until the viewer shows its page.
fn wait_ready(app: &App) {
    let viewer = app.by_testid("report-viewer").unwrap();
    app.wait_for("the report", Duration::from_secs(20), |a| {
        Ok(a.attribute(&viewer, "data-ready")?.as_deref() == Some("true"))
    })
    .unwrap();
}

/// Waits until the viewer is ready or the open failed; `ready` or the error's code, and
/// when the summary arrived (the open itself, before WebKit renders the page).
fn wait_opened(app: &App, stall: &mut Duration) -> anyhow::Result<(String, Option<Instant>)> {
    let mut outcome = String::new();
    let mut summary_at = None;
    app.wait_for(
        "the archive to open or fail",
        Duration::from_secs(90),
        |a| {
            // The longest a trivial script waits is the UI's worst stall while opening.
            let asked = Instant::now();
            let _ = a.exec("return 1;", json!([]));
            *stall = (*stall).max(asked.elapsed());
            if summary_at.is_none() && a.find_opt("[data-testid=report-viewer]")?.is_some() {
                summary_at = Some(Instant::now());
            }
            if a.find_opt("[data-testid=report-viewer][data-ready=true]")?
                .is_some()
            {
                outcome = "ready".into();
                return Ok(true);
            }
            if let Some(code) = a.find_opt("[data-testid=open-error-code]")? {
                outcome = a.text(&code)?;
                return Ok(true);
            }
            Ok(false)
        },
    )?;
    Ok((outcome, summary_at))
}

/// Opens a hostile archive, keeps it open, and checks memory and responsiveness. Returns
/// what the viewer ended in (`ready` or the open error's code). Prints a `figure:` line
/// whatever happens.
fn open_and_hold(case: &str, path: &Path, frame_says: &[&str]) -> String {
    // Two holds may run side by side: each measures its own app's processes, and the holds
    // are mostly waiting.
    let app = App::launch_with(Launch {
        paired: true,
        ..Default::default()
    })
    .unwrap();
    let sampler = Sampler::start(&app);
    let before = app.memory_probe().bytes().unwrap_or(0);
    let started = Instant::now();
    submit_open(&app, path);
    let mut open_stall = Duration::ZERO;
    let opened = wait_opened(&app, &mut open_stall);
    let open_ms = started.elapsed().as_millis();
    let summary_ms = match &opened {
        Ok((_, Some(at))) => format!("{} ms", at.duration_since(started).as_millis()),
        _ => "-".into(),
    };
    // While it is held open, the main window answers a trivial script: the longest wait is
    // the UI's worst stall.
    let held = Instant::now();
    let mut stall = Duration::ZERO;
    while held.elapsed() < hold() && !sampler.killed() {
        let asked = Instant::now();
        let _ = app.exec("return 1;", json!([]));
        stall = stall.max(asked.elapsed());
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = app.screenshot(&format!("hostile-{case}"));
    // What the frame shows at the end (a report, a notice, or the pause of a reload loop).
    let frame_text = (|| -> anyhow::Result<String> {
        let frame = app.by_testid("report-frame")?;
        app.enter_frame(&frame)?;
        let t = app.exec(
            "return document.body ? document.body.innerText : '';",
            json!([]),
        );
        app.leave_frame()?;
        Ok(t?.as_str().unwrap_or_default().to_owned())
    })();

    // The UI still answers: leave the viewer and switch sections.
    let answered = Instant::now();
    let answer = (|| -> anyhow::Result<()> {
        if app.find_opt("[data-testid=viewer-back]")?.is_some() {
            app.click_testid("viewer-back")?;
        }
        app.click_testid("nav-settings")?;
        app.by_testid("section-settings")?;
        Ok(())
    })();
    let answer_ms = answered.elapsed().as_millis();
    let after = app.memory_probe().bytes().unwrap_or(0);
    let peak = sampler.peak().max(after);
    let killed = sampler.killed();
    drop(sampler);
    let outcome = match &opened {
        Ok((o, _)) => o.clone(),
        Err(e) => format!("no answer ({e})"),
    };
    eprintln!(
        "figure: {case}: outcome {outcome}, summary {summary_ms}, open {open_ms} ms, peak {} MiB{}, start {} MiB, after {} MiB, UI answered: {} in {answer_ms} ms, worst stall while opening {} ms and while held {} ms",
        peak / MIB,
        if killed { " (killed at the 4 GiB cap)" } else { "" },
        before / MIB,
        after / MIB,
        if answer.is_ok() { "yes" } else { "no" },
        open_stall.as_millis(),
        stall.as_millis(),
    );
    assert!(
        peak < GIB,
        "{case}: the app and WebKit peaked at {} MiB",
        peak / MIB
    );
    assert!(answer.is_ok(), "{case}: the UI did not answer: {answer:?}");
    for needle in frame_says {
        let text = frame_text.as_deref().unwrap_or_default();
        assert!(
            text.contains(needle),
            "{case}: the frame does not say {needle:?}: {:?}",
            text.chars().take(300).collect::<String>()
        );
    }
    assert!(
        answer_ms < 10_000,
        "{case}: the UI took {answer_ms} ms to answer"
    );
    assert!(
        stall.max(open_stall) < Duration::from_secs(5),
        "{case}: the UI stalled {} ms while opening and {} ms while open",
        open_stall.as_millis(),
        stall.as_millis()
    );
    outcome
}

#[test]
fn finding_1_a_self_navigating_report_stays_bounded() {
    if !e2e::enabled() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let zip = hostile::navigation_loop(tmp.path()).unwrap();
    // The loop is paused by the viewer after a few loads: the frame shows why.
    assert_eq!(
        open_and_hold(
            "navigation-loop",
            &zip,
            &["reloads itself too often, so Snapdesk paused it"]
        ),
        "ready"
    );
}

#[test]
fn finding_2_a_zip_bomb_of_iggy_sections_stays_bounded() {
    if !e2e::enabled() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let zip = hostile::iggy_sections_bomb(tmp.path()).unwrap();
    assert!(std::fs::metadata(&zip).unwrap().len() < 2 * MIB);
    // Opening goes through the library, which reads every entry to its end before it keeps
    // anything: the bomb is refused as one (an `archive` error naming the ratio), within the
    // same bounds, and the UI answers throughout. The viewer's own cut of large sections is
    // proven on archives that are large but sound (snapdesk-report's reader tests).
    assert_eq!(open_and_hold("iggy-bomb", &zip, &[]), "archive");
}

// Finding 3 is three archives, each its own test so that their 30 s holds run side by side.

#[test]
fn finding_3_many_tables_parse_within_the_caps_and_are_not_shown() {
    if !e2e::enabled() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let tables = hostile::many_tables(tmp.path()).unwrap();
    // Read within the caps, not shown: WebKit would stall the UI laying it out.
    assert_eq!(
        open_and_hold(
            "many-tables",
            &tables,
            &["40000 tables, more than the 5000 Snapdesk shows safely"]
        ),
        "ready"
    );
}

#[test]
fn finding_3_the_reviews_many_paragraphs_deflate_like_a_bomb_and_are_refused() {
    if !e2e::enabled() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let paragraphs = hostile::many_paragraphs(tmp.path()).unwrap();
    assert_eq!(
        open_and_hold("many-paragraphs", &paragraphs, &[]),
        "archive"
    );
}

#[test]
fn finding_3_past_the_ratio_the_element_cap_keeps_a_report_unparsed_and_unshown() {
    if !e2e::enabled() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let worded = hostile::many_worded_paragraphs(tmp.path()).unwrap();
    assert_eq!(
        open_and_hold(
            "many-worded-paragraphs",
            &worded,
            &["more than the 50000 Snapdesk shows safely"]
        ),
        "ready"
    );
}

#[test]
fn finding_6_the_header_shows_what_snapdesk_established_not_what_the_archive_claims() {
    if !e2e::enabled() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (zip, checks) = hostile::lying_archive(tmp.path()).unwrap();
    let app = App::launch().unwrap();
    submit_open(&app, &zip);
    wait_ready(&app);
    // Let the report's script post its lie before reading the header.
    let frame = app.by_testid("report-frame").unwrap();
    app.enter_frame(&frame).unwrap();
    app.wait_for("the report's script", Duration::from_secs(10), |a| {
        Ok(a.exec("return document.getElementById('shown') ? document.getElementById('shown').textContent : '';", json!([]))?
            .as_str()
            .is_some_and(|t| t.contains("checks")))
    })
    .unwrap();
    app.leave_frame().unwrap();
    app.screenshot("hostile-lying-archive").unwrap();
    let text = |id: &str| app.text(&app.by_testid(id).unwrap()).unwrap();
    assert_eq!(text("viewer-checks"), format!("{checks} checks"));
    assert!(text("count-fail").contains("1 fail"));
    assert!(text("counts-differ").contains("manifest totals differ"));
    assert!(text("viewer-integrity").contains("modified after collection"));
    assert!(text("redacted").contains("redacted (claimed)"));
    let title = app
        .attribute(&app.by_testid("viewer-integrity").unwrap(), "title")
        .unwrap()
        .unwrap_or_default();
    assert!(title.contains("report.html"), "{title}");
}

/// Accepts connections on an address until stopped, recording each one.
struct Listener {
    addr: SocketAddr,
    hits: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Listener {
    fn bind(addr: &str) -> std::io::Result<Self> {
        let l = TcpListener::bind(addr)?;
        l.set_nonblocking(true)?;
        let addr = l.local_addr()?;
        let hits = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, s) = (hits.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match l.accept() {
                    Ok((mut c, _)) => {
                        let _ = c.set_read_timeout(Some(Duration::from_millis(500)));
                        let mut b = [0u8; 256];
                        let n = c.read(&mut b).unwrap_or(0);
                        let first = String::from_utf8_lossy(&b[..n])
                            .lines()
                            .next()
                            .unwrap_or("(nothing)")
                            .to_owned();
                        h.lock().unwrap().push(first);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Ok(Self {
            addr,
            hits,
            stop,
            thread: Some(thread),
        })
    }

    fn hits(&self) -> Vec<String> {
        self.hits.lock().unwrap().clone()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Binds a privileged port: root only (CI runs as root). Elsewhere that port is skipped.
fn bind_or_explain(addr: &str) -> Option<Listener> {
    snapdesk_tests::skip::require_or_skip(
        Listener::bind(addr)
            .map_err(|e| format!("cannot listen on {addr} ({e}); run as root to cover it")),
    )
}

#[test]
fn findings_4_and_5_the_frame_reaches_no_loopback_port_and_no_command() {
    if !e2e::enabled() {
        return;
    }
    let random = Listener::bind("127.0.0.1:0").unwrap();
    let listeners: Vec<Listener> = ["127.0.0.1:80", "127.0.0.1:443", "[::1]:80", "[::1]:443"]
        .into_iter()
        .filter_map(bind_or_explain)
        .chain(std::iter::once(random))
        .collect();
    let random_port = listeners.last().unwrap().addr.port();

    let tmp = tempfile::tempdir().unwrap();
    let zip = hostile::escape_attempts(tmp.path(), &[random_port, 80, 443]).unwrap();
    let app = App::launch().unwrap();
    submit_open(&app, &zip);
    wait_ready(&app);
    let frame = app.by_testid("report-frame").unwrap();
    app.enter_frame(&frame).unwrap();
    // The report says when it has fired every attempt and waited for them to land.
    let mut attempts = 0u64;
    app.wait_for("the report's attempts", Duration::from_secs(60), |a| {
        let v = a.exec("return document.body.dataset.done || null;", json!([]))?;
        attempts = v.as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
        Ok(attempts > 0)
    })
    .unwrap();
    let handler = app
        .exec("return document.body.dataset.ipcHandler;", json!([]))
        .unwrap();
    app.leave_frame().unwrap();
    app.screenshot("hostile-escape-attempts").unwrap();

    for l in &listeners {
        assert!(
            l.hits().is_empty(),
            "the report frame reached {}: {:?}",
            l.addr,
            l.hits()
        );
    }
    // 7 hosts x 2 schemes x 4 ports (none and 3) x 5 ways, and the IPC forgeries when the
    // handler is there.
    assert!(attempts >= 7 * 2 * 4 * 5, "only {attempts} attempts ran");
    eprintln!("figure: escape-attempts: {attempts} attempts, ipc handler {handler}, no connection");

    // The forged `close_archive` reached no command: the report is still open and loads again.
    app.click_testid("viewer-back").unwrap();
    app.click_testid("library-open").unwrap();
    wait_ready(&app);
    let frame = app.by_testid("report-frame").unwrap();
    app.enter_frame(&frame).unwrap();
    let h1 = app
        .exec(
            "return (document.querySelector('h1') || {}).textContent || document.body.textContent;",
            json!([]),
        )
        .unwrap();
    app.leave_frame().unwrap();
    assert_eq!(h1.as_str(), Some("Escape attempts"), "{h1}");
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn finding_9_webkit_writes_nothing_under_home_outside_the_data_directory() {
    if !e2e::enabled() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (zip, _) = hostile::lying_archive(tmp.path()).unwrap();
    {
        let app = App::launch_with(Launch {
            home: Some(home.path().to_path_buf()),
            ..Default::default()
        })
        .unwrap();
        submit_open(&app, &zip);
        wait_ready(&app);
        let data = files_under(app.data_dir());
        assert!(
            data.iter().any(|f| f.starts_with("data/webview/")),
            "WebKit keeps its data in the data directory: {data:?}"
        );
    }
    let written = files_under(home.path());
    assert!(
        written.is_empty(),
        "written under $HOME outside the data directory: {written:?}"
    );
}

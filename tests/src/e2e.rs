//! Desktop end-to-end harness: Xvfb, tauri-driver (WebKitWebDriver behind it) and a small
//! W3C WebDriver client. Each [`App`] runs the real `snapdesk-app` binary with its own data
//! directory on its own X display; dropping it ends the session, stops tauri-driver with
//! SIGTERM (SIGKILL would orphan WebKitWebDriver) and stops Xvfb.
//!
//! Tools: `Xvfb` and `WebKitWebDriver` from Debian, `tauri-driver` from the project-local
//! tools directory (`.tools/bin`, installed by `scripts/test` at a pinned version).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

use crate::workspace;

/// The W3C element reference key.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One desktop session at a time: WebKit on 2 cores is slow enough without contention.
/// Sessions that mostly wait (a hostile archive held open for 30 s) may run two at a time,
/// never beside another kind (see [`Launch::paired`]).
static SESSIONS: RwLock<()> = RwLock::new(());
static PAIRED: [Mutex<()>; 2] = [Mutex::new(()), Mutex::new(())];

/// A session's turn: alone, or one of two paired ones.
#[allow(dead_code)] // held for its drop
enum Turn {
    Alone(RwLockWriteGuard<'static, ()>),
    Paired(RwLockReadGuard<'static, ()>, MutexGuard<'static, ()>),
}

fn take_turn(paired: bool) -> Turn {
    if !paired {
        return Turn::Alone(SESSIONS.write().unwrap_or_else(|p| p.into_inner()));
    }
    let shared = SESSIONS.read().unwrap_or_else(|p| p.into_inner());
    loop {
        for slot in &PAIRED {
            match slot.try_lock() {
                Ok(g) => return Turn::Paired(shared, g),
                Err(std::sync::TryLockError::Poisoned(p)) => {
                    return Turn::Paired(shared, p.into_inner())
                }
                Err(std::sync::TryLockError::WouldBlock) => {}
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the end-to-end tests can run here: the switch `SNAPDESK_E2E=1` (scripts/test sets
/// it), Xvfb and WebKitWebDriver on the PATH, tauri-driver installed and the app built.
/// When not, the test skips with the reason outside CI and fails under `CI=true` (see
/// [`crate::skip`]): CI has every tool, so a desktop test that does not run there is a bug.
#[track_caller]
pub fn enabled() -> bool {
    crate::skip::require_or_skip(readiness()).is_some()
}

/// What stops the end-to-end tests from running here, if anything.
fn readiness() -> std::result::Result<(), String> {
    if std::env::var("SNAPDESK_E2E").as_deref() != Ok("1") {
        return Err("desktop end-to-end test: set SNAPDESK_E2E=1 (scripts/test does)".into());
    }
    for tool in ["Xvfb", "WebKitWebDriver"] {
        if find_on_path(tool).is_none() {
            return Err(format!(
                "{tool} is not on the PATH (apt-get install xvfb webkit2gtk-driver)"
            ));
        }
    }
    let driver = tauri_driver_path();
    if !driver.is_file() {
        return Err(format!(
            "{} is missing (scripts/test installs tauri-driver)",
            driver.display()
        ));
    }
    let app = app_bin();
    if !app.is_file() {
        return Err(format!(
            "{} is missing: run `cargo build --workspace` first",
            app.display()
        ));
    }
    Ok(())
}

/// The first `name` in a directory of `PATH`.
fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Where screenshots go: `target/e2e-shots/`.
pub fn shots_dir() -> PathBuf {
    workspace::target_dir().join("e2e-shots")
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn tauri_driver_path() -> PathBuf {
    if let Some(p) = std::env::var_os("TAURI_DRIVER") {
        return PathBuf::from(p);
    }
    workspace::root()
        .join(".tools")
        .join("bin")
        .join("tauri-driver")
}

fn terminate(child: &mut Child) {
    let pid = child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A virtual X display.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Result<Self> {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x800x24",
                "-nolisten",
                "tcp",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start Xvfb (apt-get install xvfb)")?;
        let stdout = child.stdout.take().context("Xvfb stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let n: u32 = line
            .trim()
            .parse()
            .with_context(|| format!("Xvfb said {line:?}"))?;
        Ok(Self {
            child,
            display: format!(":{n}"),
        })
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        terminate(&mut self.child);
    }
}

/// Measures the memory of one running app: see [`MemoryProbe::bytes`].
#[derive(Debug, Clone)]
pub struct MemoryProbe {
    needle: String,
}

impl MemoryProbe {
    /// Memory of the app and every process it started (WebKit's web and network processes),
    /// as the sum of their proportional set sizes (shared libraries counted once overall).
    pub fn bytes(&self) -> Result<u64> {
        Ok(self.tree()?.iter().map(|pid| pss_bytes(*pid)).sum())
    }

    /// Ends the app and its processes at once (a runaway under test).
    pub fn kill(&self) {
        for pid in self.tree().unwrap_or_default() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }

    /// The app's own process id.
    pub fn root(&self) -> Result<u32> {
        Ok(self.tree()?[0])
    }

    /// The app's pid and its descendants'.
    fn tree(&self) -> Result<Vec<u32>> {
        let procs = processes()?;
        let needle = &self.needle;
        let root = procs
            .iter()
            .find(|p| p.cmdline.contains("--data-dir") && p.cmdline.contains(needle.as_str()))
            .map(|p| p.pid)
            .ok_or_else(|| anyhow!("the app process is not running"))?;
        let mut tree = vec![root];
        let mut i = 0;
        while i < tree.len() {
            let parent = tree[i];
            tree.extend(procs.iter().filter(|p| p.ppid == parent).map(|p| p.pid));
            i += 1;
        }
        Ok(tree)
    }
}

struct Proc {
    pid: u32,
    ppid: u32,
    cmdline: String,
}

fn processes() -> Result<Vec<Proc>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc")? {
        let entry = entry?;
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The command name in parentheses may hold spaces; fields resume after the last `)`.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let cmdline = std::fs::read(entry.path().join("cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        out.push(Proc { pid, ppid, cmdline });
    }
    Ok(out)
}

/// A process's proportional set size (its resident memory, shared pages divided among their
/// users), or its resident size where `smaps_rollup` is missing; 0 once it has exited.
fn pss_bytes(pid: u32) -> u64 {
    let kib = |file: &str, key: &str| -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
        text.lines()
            .find(|l| l.starts_with(key))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    kib("smaps_rollup", "Pss:")
        .or_else(|| kib("status", "VmRSS:"))
        .unwrap_or(0)
        * 1024
}

/// A running app under WebDriver.
pub struct App {
    http: reqwest::blocking::Client,
    base: String,
    session: String,
    driver: Child,
    _xvfb: Xvfb,
    data_dir: tempfile::TempDir,
    _runtime_dir: tempfile::TempDir,
    _turn: Turn,
}

/// How to start the app, beyond the defaults.
#[derive(Debug, Default, Clone)]
pub struct Launch {
    /// `HOME` for the app (and WebKit); the test process's own by default.
    pub home: Option<PathBuf>,
    /// More arguments after `--data-dir DIR` (files to open).
    pub args: Vec<String>,
    /// More environment for the app (through tauri-driver, which it inherits).
    pub env: Vec<(String, String)>,
    /// May run beside one other paired session (tests that mostly hold the app open and
    /// wait); an ordinary session always runs alone.
    pub paired: bool,
}

/// The app binary under test: `SNAPDESK_APP_BIN` (to measure another build, as
/// `scripts/bench-viewer` does), or this workspace's debug build.
pub fn app_bin() -> PathBuf {
    std::env::var_os("SNAPDESK_APP_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace::debug_bin("snapdesk-app"))
}

impl App {
    /// Starts Xvfb, tauri-driver and the app with a fresh data directory.
    pub fn launch() -> Result<Self> {
        Self::launch_with(Launch::default())
    }

    /// Starts the app as [`App::launch`] does, with `opts`.
    pub fn launch_with(opts: Launch) -> Result<Self> {
        let turn = take_turn(opts.paired);
        let app_bin = app_bin();
        if !app_bin.exists() {
            bail!(
                "{} is missing: run `cargo build --workspace` first",
                app_bin.display()
            );
        }
        let driver_bin = tauri_driver_path();
        if !driver_bin.exists() {
            bail!(
                "{} is missing: scripts/test installs it",
                driver_bin.display()
            );
        }
        let data_dir = tempfile::Builder::new().prefix("snapdesk-e2e-").tempdir()?;
        let xvfb = Xvfb::start()?;
        let port = free_port()?;
        let native_port = free_port()?;
        let mut driver = Command::new(&driver_bin);
        let runtime_dir = tempfile::Builder::new()
            .prefix("snapdesk-e2e-run-")
            .tempdir()?;
        if let Some(home) = &opts.home {
            // A desktop session as a person has it: a HOME, no XDG overrides, and a runtime
            // directory of its own (where dconf and D-Bus keep their sockets).
            driver.env("HOME", home);
            for var in [
                "XDG_CACHE_HOME",
                "XDG_DATA_HOME",
                "XDG_CONFIG_HOME",
                "XDG_STATE_HOME",
            ] {
                driver.env_remove(var);
            }
            driver.env("XDG_RUNTIME_DIR", runtime_dir.path());
        }
        for (k, v) in &opts.env {
            driver.env(k, v);
        }
        let driver = driver
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("DISPLAY", &xvfb.display)
            .env("NO_AT_BRIDGE", "1")
            .env("SNAPDESK_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start tauri-driver")?;
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let base = format!("http://127.0.0.1:{port}");
        let mut app = Self {
            http,
            base,
            session: String::new(),
            driver,
            _xvfb: xvfb,
            data_dir,
            _runtime_dir: runtime_dir,
            _turn: turn,
        };
        app.wait_driver_ready()?;
        let mut args = vec![
            "--data-dir".to_owned(),
            app.data_dir.path().display().to_string(),
        ];
        args.extend(opts.args.iter().cloned());
        let caps = json!({
            "capabilities": { "alwaysMatch": { "tauri:options": {
                "application": app_bin,
                "args": args,
            }}}
        });
        let v = app.post_raw("/session", caps)?;
        app.session = v["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| anyhow!("no session id in {v}"))?
            .to_owned();
        app.wait_for("the app root", Duration::from_secs(20), |a| {
            Ok(a.find_opt("[data-testid=app-root]")?.is_some())
        })?;
        Ok(app)
    }

    /// The X display the app runs on.
    pub fn display(&self) -> &str {
        &self._xvfb.display
    }

    /// The app's own data directory (its `--data-dir`).
    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    /// The app's process id.
    pub fn app_pid(&self) -> Result<u32> {
        self.memory_probe().root()
    }

    /// A handle that measures the app's memory from any thread.
    pub fn memory_probe(&self) -> MemoryProbe {
        MemoryProbe {
            needle: self.data_dir.path().display().to_string(),
        }
    }

    fn wait_driver_ready(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = self.http.get(format!("{}/status", self.base)).send() {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                bail!("tauri-driver did not answer on {}", self.base);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn post_raw(&self, path: &str, body: Value) -> Result<Value> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()?;
        let status = r.status();
        let v: Value = r.json().unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("WebDriver POST {path} -> {status}: {v}");
        }
        Ok(v)
    }

    fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut req = self.http.request(method.clone(), url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send()?;
        let status = r.status();
        let v: Value = r.json().unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("WebDriver {method} {path} -> {status}: {v}");
        }
        Ok(v["value"].clone())
    }

    /// The document title.
    pub fn title(&self) -> Result<String> {
        Ok(self
            .cmd(reqwest::Method::GET, "/title", None)?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// Finds an element by CSS selector, `None` when absent.
    pub fn find_opt(&self, css: &str) -> Result<Option<String>> {
        let url = format!("{}/session/{}/element", self.base, self.session);
        let r = self
            .http
            .post(url)
            .json(&json!({"using": "css selector", "value": css}))
            .send()?;
        if r.status().as_u16() == 404 {
            return Ok(None);
        }
        let status = r.status();
        let v: Value = r.json()?;
        if !status.is_success() {
            bail!("find {css} -> {status}: {v}");
        }
        Ok(v["value"][ELEMENT_KEY].as_str().map(str::to_owned))
    }

    /// Finds an element by `data-testid`, waiting up to 10 s for it.
    pub fn by_testid(&self, id: &str) -> Result<String> {
        let css = format!("[data-testid=\"{id}\"]");
        let mut found = None;
        self.wait_for(&format!("element {css}"), Duration::from_secs(10), |a| {
            found = a.find_opt(&css)?;
            Ok(found.is_some())
        })?;
        found.ok_or_else(|| anyhow!("{css} not found"))
    }

    pub fn click(&self, element: &str) -> Result<()> {
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )?;
        Ok(())
    }

    pub fn click_testid(&self, id: &str) -> Result<()> {
        let e = self.by_testid(id)?;
        self.click(&e)
    }

    /// Types text into an element.
    pub fn type_into(&self, element: &str, text: &str) -> Result<()> {
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )?;
        Ok(())
    }

    /// The element's rendered text (`innerText`). WebKitWebDriver's own "element text"
    /// endpoint returns "" for some visible elements, so this asks the page.
    pub fn text(&self, element: &str) -> Result<String> {
        let v = self.exec(
            "return arguments[0].innerText;",
            json!([{ ELEMENT_KEY: element }]),
        )?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    pub fn attribute(&self, element: &str, name: &str) -> Result<Option<String>> {
        let v = self.cmd(
            reqwest::Method::GET,
            &format!("/element/{element}/attribute/{name}"),
            None,
        )?;
        Ok(v.as_str().map(str::to_owned))
    }

    /// Makes the given iframe element the browsing context for the next commands.
    pub fn enter_frame(&self, element: &str) -> Result<()> {
        self.cmd(
            reqwest::Method::POST,
            "/frame",
            Some(json!({ "id": { ELEMENT_KEY: element } })),
        )?;
        Ok(())
    }

    /// Back to the parent browsing context.
    pub fn leave_frame(&self) -> Result<()> {
        self.cmd(reqwest::Method::POST, "/frame/parent", Some(json!({})))?;
        Ok(())
    }

    /// Runs an asynchronous script: it must call `arguments[arguments.length - 1](result)`.
    pub fn exec_async(&self, script: &str, args: Value) -> Result<Value> {
        self.cmd(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Runs a script in the page and returns its result.
    pub fn exec(&self, script: &str, args: Value) -> Result<Value> {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Presses keys through the Actions API: `keys` are W3C key values, pressed in order and
    /// released in reverse (so `["\u{E009}", "2"]` is Ctrl+2).
    pub fn chord(&self, keys: &[&str]) -> Result<()> {
        let mut actions: Vec<Value> = keys
            .iter()
            .map(|k| json!({"type": "keyDown", "value": k}))
            .collect();
        actions.extend(
            keys.iter()
                .rev()
                .map(|k| json!({"type": "keyUp", "value": k})),
        );
        self.cmd(
            reqwest::Method::POST,
            "/actions",
            Some(json!({"actions": [{"type": "key", "id": "kbd", "actions": actions}]})),
        )?;
        let _ = self.cmd(reqwest::Method::DELETE, "/actions", None);
        Ok(())
    }

    /// Presses one key (W3C key value), e.g. `"\u{E015}"` for ArrowDown.
    pub fn press(&self, key: &str) -> Result<()> {
        self.chord(&[key])
    }

    /// The `data-testid` of the focused element, if any.
    pub fn focused_testid(&self) -> Result<Option<String>> {
        let v = self.exec(
            "const e = document.activeElement; return e ? e.getAttribute('data-testid') : null;",
            json!([]),
        )?;
        Ok(v.as_str().map(str::to_owned))
    }

    /// The visible control a person would call `name`: a button, link, tab, checkbox, field
    /// or menu item whose accessible name (its `aria-label`, its `<label>`, or its text) is
    /// exactly `name`; `None` when none is visible now.
    pub fn control_opt(&self, name: &str) -> Result<Option<String>> {
        let v = self.exec(NAMED_CONTROL_JS, json!([name]))?;
        Ok(v[ELEMENT_KEY].as_str().map(str::to_owned))
    }

    /// [`App::control_opt`], waiting up to 15 s for the control to be visible.
    pub fn control(&self, name: &str) -> Result<String> {
        let mut found = None;
        self.wait_for(
            &format!("a control named {name:?}"),
            Duration::from_secs(15),
            |a| {
                found = a.control_opt(name)?;
                Ok(found.is_some())
            },
        )?;
        found.ok_or_else(|| anyhow!("no control named {name:?}"))
    }

    /// Clicks the control named `name` (see [`App::control`]).
    pub fn press_control(&self, name: &str) -> Result<()> {
        let e = self.control(name)?;
        self.click(&e)
    }

    /// Whether `element` is disabled (the attribute, or `aria-disabled`).
    pub fn is_disabled(&self, element: &str) -> Result<bool> {
        let v = self.exec(
            "const e = arguments[0]; return !!(e.disabled || e.getAttribute('aria-disabled') === 'true');",
            json!([{ ELEMENT_KEY: element }]),
        )?;
        Ok(v.as_bool().unwrap_or(false))
    }

    /// The page's visible text (`document.body.innerText`).
    pub fn page_text(&self) -> Result<String> {
        let v = self.exec("return document.body.innerText;", json!([]))?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// What a person would see now, for a failure message: the page's text (its first 2,000
    /// characters) and a screenshot saved under `target/e2e-shots/timeout-*.png`.
    fn what_is_shown(&self, what: &str) -> String {
        let text = self
            .page_text()
            .map(|t| t.chars().take(2000).collect::<String>())
            .unwrap_or_else(|e| format!("(the page's text could not be read: {e})"));
        let slug: String = what
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(60)
            .collect();
        let shot = match self.screenshot(&format!("timeout-{slug}")) {
            Ok(p) => format!("screenshot: {}", p.display()),
            Err(e) => format!("no screenshot: {e}"),
        };
        format!("{shot}\nthe page shows:\n{text}")
    }

    /// Waits until the page shows `text` somewhere.
    pub fn wait_text(&self, text: &str, timeout: Duration) -> Result<()> {
        self.wait_for(&format!("the text {text:?}"), timeout, |a| {
            Ok(a.page_text()?.contains(text))
        })
    }

    /// The X window id of the top-level window titled exactly `title`, waiting up to 15 s.
    pub fn window_titled(&self, title: &str) -> Result<String> {
        let mut id = String::new();
        self.wait_for(
            &format!("a window titled {title:?}"),
            Duration::from_secs(15),
            |a| {
                let o = Command::new("xdotool")
                    .env("DISPLAY", a.display())
                    .args(["search", "--onlyvisible", "--name"])
                    .arg(format!("^{}$", regex_quote(title)))
                    .output()?;
                id = String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .to_owned();
                Ok(!id.is_empty())
            },
        )?;
        Ok(id)
    }

    /// Answers the system's file dialog titled `title` as a person does with the keyboard:
    /// focuses it, opens its location field (Ctrl+L), types `path` and presses Enter. For a
    /// save dialog, the name field takes the whole path the same way.
    pub fn answer_file_dialog(&self, title: &str, path: &Path) -> Result<()> {
        let window = self.window_titled(title)?;
        let xdotool = |args: &[&str]| -> Result<()> {
            let st = Command::new("xdotool")
                .env("DISPLAY", self.display())
                .args(args)
                .status()?;
            if !st.success() {
                bail!("xdotool {args:?} failed");
            }
            Ok(())
        };
        xdotool(&["windowfocus", "--sync", &window])?;
        std::thread::sleep(Duration::from_millis(300));
        xdotool(&["key", "--clearmodifiers", "ctrl+l"])?;
        std::thread::sleep(Duration::from_millis(200));
        xdotool(&["key", "--clearmodifiers", "ctrl+a"])?;
        xdotool(&["type", "--delay", "10", &path.display().to_string()])?;
        std::thread::sleep(Duration::from_millis(300));
        xdotool(&["key", "Return"])?;
        Ok(())
    }

    /// Polls `cond` until it holds or `timeout` passes.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        mut cond: impl FnMut(&Self) -> Result<bool>,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut last_err = None;
        loop {
            match cond(self) {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => last_err = Some(e),
            }
            if Instant::now() > deadline {
                let extra = last_err
                    .map(|e| format!(" (last error: {e})"))
                    .unwrap_or_default();
                bail!(
                    "timed out after {timeout:?} waiting for {what}{extra}\n{}",
                    self.what_is_shown(what)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Screenshots in the light and the dark theme: `<name>-light.png` and `<name>-dark.png`;
    /// the theme follows the system again after.
    pub fn screenshot_themes(&self, name: &str) -> Result<()> {
        for theme in ["light", "dark"] {
            self.exec(
                "document.documentElement.dataset.theme = arguments[0];",
                json!([theme]),
            )?;
            std::thread::sleep(Duration::from_millis(250));
            self.screenshot(&format!("{name}-{theme}"))?;
        }
        self.exec("delete document.documentElement.dataset.theme;", json!([]))?;
        Ok(())
    }

    /// Saves a PNG screenshot of the app's window as `target/e2e-shots/<name>.png`: the
    /// pixels on the X display, as a person sees them (menus, dialogs and all). WebKit's own
    /// snapshot (WebDriver's screenshot) can wait forever for a repaint of an idle page when
    /// compositing is off, which is how the app runs without a GPU.
    pub fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let dir = shots_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        let window = Command::new("xdotool")
            .env("DISPLAY", self.display())
            .args(["search", "--onlyvisible", "--name", "^Snapdesk$"])
            .output()
            .ok()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_owned()
            })
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "root".to_owned());
        let st = Command::new("import")
            .env("DISPLAY", self.display())
            .args(["-window", &window])
            .arg(&path)
            .stderr(Stdio::null())
            .status()?;
        if !st.success() {
            bail!(
                "import could not capture the window {window} on {}",
                self.display()
            );
        }
        Ok(path)
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self
                .http
                .delete(format!("{}/session/{}", self.base, self.session))
                .send();
        }
        terminate(&mut self.driver);
    }
}

/// Finds the visible control whose accessible name is `arguments[0]`.
const NAMED_CONTROL_JS: &str = r#"
const want = arguments[0].trim();
const sel = 'button, a[href], input, select, textarea, summary, [role=button], [role=tab], [role=menuitem], [role=checkbox], [role=switch], [role=option], [role=link]';
const nameOf = (e) => {
  const aria = e.getAttribute('aria-label');
  if (aria) return aria.trim();
  const by = e.getAttribute('aria-labelledby');
  if (by) {
    const t = by.split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean).map((x) => x.innerText).join(' ');
    if (t.trim()) return t.trim();
  }
  if (e.labels && e.labels.length) return e.labels[0].innerText.trim();
  if (e.tagName === 'INPUT' && (e.type === 'button' || e.type === 'submit')) return (e.value || '').trim();
  return (e.innerText || '').replace(/\s+/g, ' ').trim();
};
const visible = (e) => {
  const r = e.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) return false;
  const st = getComputedStyle(e);
  return st.visibility !== 'hidden' && st.display !== 'none';
};
for (const e of document.querySelectorAll(sel)) {
  if (visible(e) && nameOf(e) === want) return e;
}
return null;
"#;

fn regex_quote(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if "\\.^$|?*+()[]{}".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

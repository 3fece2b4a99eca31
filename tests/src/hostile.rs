//! Hostile archives from the viewer's security review, rebuilt for regression tests and for
//! the before/after figures (`scripts/bench-viewer`). Each is small on disk and costly to
//! open naively.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(9))
        .large_file(true)
}

/// Writes one entry's bytes.
type Producer = Box<dyn Fn(&mut dyn Write) -> Result<()>>;

/// Writes a ZIP of `(name, producer)` entries, each producer writing its entry's bytes.
fn write_zip(path: &Path, entries: Vec<(&str, Producer)>) -> Result<PathBuf> {
    let mut w = zip::ZipWriter::new(File::create(path)?);
    for (name, produce) in entries {
        w.start_file(name, deflated())?;
        produce(&mut w)?;
    }
    w.finish()?;
    Ok(path.to_path_buf())
}

fn repeat(byte: u8, total: usize) -> Producer {
    Box::new(move |w| {
        let chunk = vec![byte; 1024 * 1024];
        let mut left = total;
        while left > 0 {
            let n = left.min(chunk.len());
            w.write_all(&chunk[..n])?;
            left -= n;
        }
        Ok(())
    })
}

/// Lowercase words from a fixed xorshift stream: text that deflates about 1.7 times, like a
/// real report and unlike a bomb (which the ratio budget refuses before anything else runs).
pub fn words(len: usize) -> String {
    let mut x: u32 = 2_463_534_242;
    let mut out = String::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        if x % 7 == 0 {
            out.push(' ');
        } else {
            out.push((b'a' + (x % 26) as u8) as char);
        }
    }
    out
}

fn text(s: String) -> Producer {
    Box::new(move |w| Ok(w.write_all(s.as_bytes())?))
}

/// Finding 1: a report that navigates its own frame every 20 ms, padded with 4 MB of text
/// so that every load costs something.
pub fn navigation_loop(dir: &Path) -> Result<PathBuf> {
    let mut html = String::from(
        "<!doctype html><html><head><title>Loop</title></head><body><h1>Reloading</h1>\
         <script>setTimeout(function(){location.replace(location.href)},20)</script><!--",
    );
    html.push_str(&words(4 * 1024 * 1024));
    html.push_str("--></body></html>");
    write_zip(
        &dir.join("navigation-loop.zip"),
        vec![("index.html", text(html))],
    )
}

/// Finding 2: Apache Iggy's snapshot layout with four text sections of 200 MB of `<` each
/// (the review's archive was 816 KB).
pub fn iggy_sections_bomb(dir: &Path) -> Result<PathBuf> {
    const SIZE: usize = 200 * 1024 * 1024;
    write_zip(
        &dir.join("iggy-bomb.zip"),
        vec![
            ("filesystem_overview.txt", repeat(b'<', SIZE)),
            ("process_list.txt", repeat(b'<', SIZE)),
            ("resource_usage.txt", repeat(b'<', SIZE)),
            ("server_logs.txt", repeat(b'<', SIZE)),
        ],
    )
}

/// Finding 3a: 40,000 empty tables after a heading (the review's archive was 1.4 KB).
pub fn many_tables(dir: &Path) -> Result<PathBuf> {
    let mut html = String::from("<!doctype html><title>Tables</title><h2>Tables</h2>");
    for _ in 0..40_000 {
        html.push_str("<table></table>");
    }
    write_zip(
        &dir.join("many-tables.zip"),
        vec![("index.html", text(html))],
    )
}

/// Finding 3b: 8 MB of `<p>`, as the review built it (it deflates 1,000 times: a bomb).
pub fn many_paragraphs(dir: &Path) -> Result<PathBuf> {
    let mut html = String::from("<!doctype html><title>Paragraphs</title>");
    html.push_str(&"<p>".repeat(8 * 1024 * 1024 / 3));
    write_zip(
        &dir.join("many-paragraphs.zip"),
        vec![("index.html", text(html))],
    )
}

/// Finding 3b again, past the ratio budget: 8 MB of `<p>` each with a word, about a million
/// elements, so that the element cap is what stops it.
pub fn many_worded_paragraphs(dir: &Path) -> Result<PathBuf> {
    let mut html = String::from("<!doctype html><title>Paragraphs</title>");
    for word in words(5 * 1024 * 1024).split(' ') {
        html.push_str("<p>");
        html.push_str(word);
    }
    write_zip(
        &dir.join("many-worded-paragraphs.zip"),
        vec![("index.html", text(html))],
    )
}

/// Findings 4 and 5: a report that tries to reach loopback from its frame (child frames,
/// forms, images, fetch and, last, navigating itself, to every `localhost` origin and the
/// given extra ports) and to forge IPC messages that would close itself. It records what it
/// did in `document.body.dataset` and sets `data-done` when finished.
pub fn escape_attempts(dir: &Path, ports: &[u16]) -> Result<PathBuf> {
    let ports_js = ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let html = format!(
        r#"<!doctype html><html><head><title>Escape attempts</title></head><body><h1>Escape attempts</h1>
<p id="log"></p>
<script>
(function() {{
  var ports = [{ports_js}];
  var hosts = ["localhost", "127.0.0.1", "report.localhost", "tauri.localhost", "ipc.localhost", "asset.localhost", "x.localhost"];
  var urls = [];
  hosts.forEach(function(h) {{
    ["http", "https"].forEach(function(s) {{
      urls.push(s + "://" + h + "/");
      ports.forEach(function(p) {{ urls.push(s + "://" + h + ":" + p + "/"); }});
    }});
  }});
  var log = [];
  function note(s) {{ log.push(s); document.getElementById("log").textContent = log.length + " attempts"; }}
  // Forged IPC: close this very report through the app's command, with guessed keys.
  var token = location.pathname.split("/")[1] || "";
  var ipc = window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.ipc;
  document.body.dataset.ipcHandler = ipc ? "present" : "absent";
  if (ipc) {{
    ["", "guess", "00000000000000000000000000000000"].forEach(function(key) {{
      ["close_archive", "plugin:__TAURI_CHANNEL__|fetch"].forEach(function(cmd) {{
        try {{
          ipc.postMessage(JSON.stringify({{cmd: cmd, callback: 1, error: 2, payload: {{token: token}}, options: null, "__TAURI_INVOKE_KEY__": key}}));
          note("ipc " + cmd);
        }} catch (e) {{ note("ipc threw"); }}
      }});
    }});
  }}
  urls.forEach(function(u) {{
    try {{ var f = document.createElement("iframe"); f.src = u; document.body.appendChild(f); note("frame " + u); }} catch (e) {{}}
    try {{ var i = new Image(); i.src = u + "img.png"; note("img " + u); }} catch (e) {{}}
    try {{ fetch(u + "fetch").catch(function() {{}}); note("fetch " + u); }} catch (e) {{}}
    try {{
      var form = document.createElement("form"); form.method = "post"; form.action = u + "form";
      var input = document.createElement("input"); input.name = "x"; input.value = "1"; form.appendChild(input);
      document.body.appendChild(form); form.submit(); note("form " + u);
    }} catch (e) {{}}
  }});
  // Navigating itself comes last: a refused navigation keeps this page, one that went
  // through would end the test with the listener's evidence.
  var i = 0;
  function next() {{
    if (i >= urls.length) {{
      setTimeout(function() {{ document.body.dataset.done = String(log.length); }}, 1500);
      return;
    }}
    try {{ location.href = urls[i]; note("navigate " + urls[i]); }} catch (e) {{}}
    i += 1;
    setTimeout(next, 15);
  }}
  setTimeout(next, 200);
}})();
</script></body></html>"#
    );
    write_zip(
        &dir.join("escape-attempts.zip"),
        vec![("index.html", text(html))],
    )
}

/// Finding 6: one of our archives edited after collection. Its manifest claims 99 passing
/// checks and redacted secrets; its report has a failing check, a planted secret and a script
/// that tells the parent it has 99 checks; `report.html` no longer matches the manifest's
/// sha256. Returns the path and how many checks the report really has.
pub fn lying_archive(dir: &Path) -> Result<(PathBuf, usize)> {
    use snapdesk_report::archive::{ArchiveWriter, Manifest, REPORT_ENTRY};
    use snapdesk_report::{Status, StatusCounts};

    let mut report = snapdesk_report::sample::sample_report(6, 2);
    report.checks[0].status = Status::Fail;
    report.checks[0].summary = "password=hunter2-planted-secret".into();
    let honest = snapdesk_report::render::render(&report);
    let original = dir.join("lying-original.zip");
    let mut w = ArchiveWriter::create(&original)?;
    w.add_bytes(REPORT_ENTRY, honest.as_bytes(), true)?;
    let mut m = Manifest::new("all-good".into(), "node-1".into(), report.collector.clone());
    m.checks = StatusCounts {
        pass: 99,
        ..StatusCounts::default()
    };
    m.redaction.redacted = true;
    w.finish(&mut m)?;

    let edited = honest.replace(
        "</body>",
        "<script>parent.postMessage({type:'snapdesk-report-ready',checks:99},'*')</script></body>",
    );
    let path = dir.join("lying.zip");
    let mut input = zip::ZipArchive::new(File::open(&original)?)?;
    let mut out = zip::ZipWriter::new(File::create(&path)?);
    for i in 0..input.len() {
        let f = input.by_index_raw(i)?;
        if f.name().map(|n| n != REPORT_ENTRY).unwrap_or(true) {
            out.raw_copy_file(f)?;
        }
    }
    out.start_file(REPORT_ENTRY, deflated())?;
    out.write_all(edited.as_bytes())?;
    out.finish()?;
    Ok((path, report.checks.len()))
}

/// An archive whose whole report is `html` (a report from another tool, or a hostile one).
pub fn html_report(dir: &Path, name: &str, html: &str) -> Result<PathBuf> {
    write_zip(&dir.join(name), vec![("index.html", text(html.to_owned()))])
}

/// The corpus of hostile reports the app must contain: each tries one way out of the
/// sandboxed frame (Tauri's globals and raw message handler, every kind of request to
/// `http://127.0.0.1:<port>`, navigation, the parent, popups, storage, a million nodes).
/// Every page sets `document.body.dataset.done` when its attempt has run. Returns
/// `(name, archive)` pairs, at least 40.
pub fn corpus(dir: &Path, port: u16) -> Result<Vec<(String, PathBuf)>> {
    let u = format!("http://127.0.0.1:{port}");
    let ws = format!("ws://127.0.0.1:{port}");
    // Commands that would change the library, open a link or collect, were any to run.
    let forge = r#"var cmds = [["library_remove",{id:"1"}],["library_pin",{id:"1",pinned:true}],
      ["library_tag",{id:"1",add:["pwned"],remove:[]}],["library_note",{id:"1",note:"pwned"}],
      ["open_link",{url:"https://evil.example/"}],["close_archive",{token:"x"}]];"#;
    let cases: Vec<(&str, String, String)> = vec![
        ("tauri-internals", String::new(), format!("{forge} cmds.forEach(function(c){{ try {{ window.__TAURI_INTERNALS__.invoke(c[0], c[1]); }} catch(e) {{}} }});")),
        ("tauri-global", String::new(), format!("{forge} cmds.forEach(function(c){{ try {{ window.__TAURI__.core.invoke(c[0], c[1]); }} catch(e) {{}} }});")),
        ("tauri-ipc-legacy", String::new(), format!("{forge} cmds.forEach(function(c){{ try {{ window.__TAURI_IPC__({{cmd:c[0], payload:c[1]}}); }} catch(e) {{}} }});")),
        ("webkit-ipc-raw", String::new(), format!("{forge} var h = window.webkit && webkit.messageHandlers && webkit.messageHandlers.ipc; cmds.forEach(function(c){{ try {{ h.postMessage(JSON.stringify({{cmd:c[0], callback:1, error:2, payload:c[1], options:null}})); }} catch(e) {{}} }});")),
        ("webkit-ipc-guessed-key", String::new(), format!("{forge} var h = window.webkit && webkit.messageHandlers && webkit.messageHandlers.ipc; ['', 'x', '00000000'].forEach(function(k){{ cmds.forEach(function(c){{ try {{ h.postMessage(JSON.stringify({{cmd:c[0], callback:1, error:2, payload:c[1], __TAURI_INVOKE_KEY__:k}})); }} catch(e) {{}} }}); }});")),
        ("fetch", String::new(), format!("try {{ fetch('{u}/fetch').catch(function(){{}}); }} catch(e) {{}}")),
        ("fetch-no-cors", String::new(), format!("try {{ fetch('{u}/nocors', {{mode:'no-cors'}}).catch(function(){{}}); }} catch(e) {{}}")),
        ("xhr", String::new(), format!("try {{ var x = new XMLHttpRequest(); x.open('GET', '{u}/xhr'); x.send(); }} catch(e) {{}}")),
        ("websocket", String::new(), format!("try {{ new WebSocket('{ws}/ws'); }} catch(e) {{}}")),
        ("beacon", String::new(), format!("try {{ navigator.sendBeacon('{u}/beacon', 'x'); }} catch(e) {{}}")),
        ("event-source", String::new(), format!("try {{ new EventSource('{u}/sse'); }} catch(e) {{}}")),
        ("image", format!("<img src=\"{u}/img.png\">"), String::new()),
        ("image-script", String::new(), format!("var i = new Image(); i.src = '{u}/img2.png';")),
        ("svg-image", format!("<svg><image href=\"{u}/svg.png\" width=\"10\" height=\"10\"/></svg>"), String::new()),
        ("css-background", format!("<div style=\"width:10px;height:10px;background:url({u}/bg.png)\"></div>"), String::new()),
        ("css-import", format!("<style>@import url({u}/import.css);</style>"), String::new()),
        ("font-face", format!("<style>@font-face{{font-family:x;src:url({u}/font.woff)}} p{{font-family:x}}</style><p>font</p>"), String::new()),
        ("stylesheet-link", format!("<link rel=\"stylesheet\" href=\"{u}/style.css\">"), String::new()),
        ("preload-link", format!("<link rel=\"preload\" as=\"fetch\" href=\"{u}/preload\"><link rel=\"prefetch\" href=\"{u}/prefetch\">"), String::new()),
        ("dns-prefetch", format!("<link rel=\"dns-prefetch\" href=\"{u}\"><link rel=\"preconnect\" href=\"{u}\">"), String::new()),
        ("script-src", format!("<script src=\"{u}/x.js\"></script>"), String::new()),
        ("module-import", String::new(), format!("try {{ import('{u}/m.js').catch(function(){{}}); }} catch(e) {{}}")),
        ("media", format!("<video src=\"{u}/v.mp4\" autoplay></video><audio src=\"{u}/a.mp3\" autoplay></audio>"), String::new()),
        ("object-embed", format!("<object data=\"{u}/o\"></object><embed src=\"{u}/e\">"), String::new()),
        ("child-frame", format!("<iframe src=\"{u}/frame\"></iframe>"), String::new()),
        ("child-frame-srcdoc", format!("<iframe srcdoc=\"<img src='{u}/srcdoc.png'>\"></iframe>"), String::new()),
        ("meta-refresh", format!("<meta http-equiv=\"refresh\" content=\"0;url={u}/refresh\">"), String::new()),
        ("form-submit", format!("<form id=\"f\" method=\"post\" action=\"{u}/form\"><input name=\"a\" value=\"1\"></form>"), "try { document.getElementById('f').submit(); } catch(e) {}".into()),
        ("self-navigation", String::new(), format!("setTimeout(function(){{ try {{ location.href = '{u}/nav'; }} catch(e) {{}} }}, 50);")),
        ("top-location", String::new(), format!("try {{ top.location = '{u}/top'; }} catch(e) {{}}")),
        ("window-open", String::new(), format!("try {{ window.open('{u}/popup'); }} catch(e) {{}}")),
        ("target-blank", format!("<a id=\"b\" target=\"_blank\" href=\"{u}/blank\">x</a>"), "try { document.getElementById('b').click(); } catch(e) {}".into()),
        ("parent-dom", String::new(), "try { parent.document.body.innerHTML = 'pwned'; } catch(e) {} try { parent.document.querySelector('[data-testid=nav-settings]').click(); } catch(e) {}".into()),
        ("parent-forged-messages", String::new(), "for (var i = 0; i < 50; i++) { parent.postMessage({type:'snapdesk-link', url:'http://127.0.0.1:1/' + i}, '*'); parent.postMessage({kind:'open_files', paths:['/etc/passwd']}, '*'); }".into()),
        ("storage", String::new(), "try { localStorage.setItem('x', '1'); } catch(e) {} try { indexedDB.open('x'); } catch(e) {} try { document.cookie = 'a=b'; } catch(e) {}".into()),
        ("service-worker", String::new(), format!("try {{ navigator.serviceWorker.register('{u}/sw.js').catch(function(){{}}); }} catch(e) {{}}")),
        ("worker", String::new(), format!("try {{ new Worker('{u}/w.js'); }} catch(e) {{}} try {{ new Worker(URL.createObjectURL(new Blob(['fetch(\"{u}/blobworker\")']))); }} catch(e) {{}}")),
        ("base-href", format!("<base href=\"{u}/\"><img src=\"relative.png\">"), "try { fetch('relative-fetch').catch(function(){}); } catch(e) {}".into()),
        ("other-report", String::new(), "try { location.href = 'report://localhost/0123456789abcdef0123456789abcdef/'; } catch(e) {}".into()),
        ("history-spam", String::new(), "for (var i = 0; i < 2000; i++) { try { history.pushState({}, '', '#' + i); } catch(e) {} }".into()),
        ("dialogs", String::new(), "try { alert('x'); } catch(e) {} try { confirm('x'); } catch(e) {} try { prompt('x'); } catch(e) {} try { print(); } catch(e) {}".into()),
        ("notification-clipboard", String::new(), "try { Notification.requestPermission(); } catch(e) {} try { navigator.clipboard.writeText('x'); } catch(e) {} try { document.documentElement.requestFullscreen(); } catch(e) {}".into()),
        ("million-nodes", String::new(), "var f = document.createDocumentFragment(); for (var i = 0; i < 1000000; i++) { f.appendChild(document.createElement('i')); } document.body.appendChild(f);".into()),
    ];
    let mut out = Vec::new();
    for (name, body, script) in cases {
        let html = format!(
            "<!doctype html><html><head><title>hostile {name}</title></head><body><h1>hostile {name}</h1>{body}\
             <script>try {{ {script} }} catch (e) {{}} document.body.dataset.done = '1';</script></body></html>"
        );
        let path = html_report(dir, &format!("hostile-{name}.zip"), &html)?;
        out.push((name.to_owned(), path));
    }
    Ok(out)
}

//! `snapdesk collect` as a person and a script use it: the archive, `--json`, `--no-iggy`,
//! the Iggy fixtures, bad input, and the report in headless Chromium.

use std::path::{Path, PathBuf};
use std::process::Command;

use snapdesk_report::archive::{self, ArchiveKind};
use snapdesk_tests::cli::{snapdesk, stderr, stdout};
use snapdesk_tests::{skip, workspace};

fn collect_json(home: &Path, args: &[&str]) -> (serde_json::Value, PathBuf) {
    let o = snapdesk(home)
        .arg("--json")
        .arg("collect")
        .args(args)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let manifest: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let out = args
        .windows(2)
        .find(|w| w[0] == "--out")
        .map(|w| PathBuf::from(w[1]))
        .expect("tests pass --out");
    (manifest, out)
}

#[test]
fn collect_writes_a_valid_archive_and_prints_the_manifest_as_json() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("local.zip");
    let (manifest, path) = collect_json(
        &tmp.path().join("home"),
        &["--out", out.to_str().unwrap(), "--no-iggy"],
    );
    assert_eq!(manifest["format_version"], 1);
    assert_eq!(manifest["collector"]["name"], "snapdesk-collector");
    assert_eq!(manifest["redaction"]["redacted"], true);
    assert!(manifest["iggy_data"].is_null());
    let total: u64 = ["pass", "warn", "fail", "info", "error", "skipped"]
        .iter()
        .map(|s| manifest["checks"][s].as_u64().unwrap())
        .sum();
    assert!(total >= 40, "{total} checks");

    let o = Command::new("unzip").arg("-t").arg(&path).output().unwrap();
    assert!(o.status.success(), "{}", stdout(&o));

    let opened = archive::open(&path).unwrap();
    assert_eq!(opened.kind, ArchiveKind::Snapdesk);
    let m = opened.manifest.unwrap();
    assert!(archive::verify(&path, &m).unwrap().is_empty());
    let report = opened.parsed.unwrap().report.unwrap();
    assert_eq!(report.checks.len() as u64, total);
    // The archive's path beside the manifest's fields.
    let mut manifest = manifest;
    let printed_path = manifest
        .as_object_mut()
        .and_then(|m| m.remove("path"))
        .expect("--json names the archive");
    assert_eq!(printed_path, path.display().to_string());
    assert_eq!(serde_json::to_value(&m).unwrap(), manifest);
}

/// The 0.8.0 fixture's data directory, extracted into a temp dir (`None` after a skip when
/// the fixtures are absent; a failure under `CI=true`).
fn fixture_data_dir() -> Option<(tempfile::TempDir, PathBuf)> {
    let fx = workspace::shared_fixtures_or_skip()?;
    let tmp = tempfile::tempdir().unwrap();
    let st = Command::new("tar")
        .arg("-xzf")
        .arg(fx.join("iggy/0.8.0/local_data.tar.gz"))
        .arg("-C")
        .arg(tmp.path())
        .status()
        .unwrap();
    assert!(st.success());
    let data = tmp.path().join("local_data");
    Some((tmp, data))
}

#[test]
fn collect_bundles_a_real_iggy_data_directory() {
    let Some((tmp, data)) = fixture_data_dir() else {
        return;
    };
    let out = tmp.path().join("with-data.zip");
    let (manifest, path) = collect_json(
        &tmp.path().join("home"),
        &[
            "--out",
            out.to_str().unwrap(),
            "--iggy-data",
            data.to_str().unwrap(),
        ],
    );
    let bundle = &manifest["iggy_data"];
    // Every regular file of the fixture: 7 segments + 7 indexes + 3 consumer offsets +
    // state/info + state/log + runtime config + server log = 21.
    assert_eq!(bundle["files"], 21, "{bundle}");
    assert!(bundle["omitted"].as_array().unwrap().is_empty());
    let inner = archive::read_entry(&path, archive::IGGY_DATA_ENTRY, 64 << 20).unwrap();
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(inner)).unwrap();
    let seg = "streams/0/topics/1/partitions/0/00000000000000000300.log";
    let mut e = z.by_name(seg).unwrap();
    let mut got = Vec::new();
    std::io::Read::read_to_end(&mut e, &mut got).unwrap();
    assert_eq!(
        got,
        std::fs::read(data.join(seg)).unwrap(),
        "segment bytes are identical"
    );
}

#[test]
fn a_small_cap_keeps_metadata_and_lists_what_it_left_out() {
    let Some((tmp, data)) = fixture_data_dir() else {
        return;
    };
    let out = tmp.path().join("capped.zip");
    let (manifest, _) = collect_json(
        &tmp.path().join("home"),
        &[
            "--out",
            out.to_str().unwrap(),
            "--iggy-data",
            data.to_str().unwrap(),
            "--iggy-cap-mib",
            "1",
        ],
    );
    let omitted = manifest["iggy_data"]["omitted"].as_array().unwrap();
    // The 1.2 MB sealed audit segment cannot fit in 1 MiB; nothing but segments is dropped.
    assert!(!omitted.is_empty());
    for o in omitted {
        assert!(o["path"].as_str().unwrap().ends_with(".log"), "{o}");
        assert_eq!(o["reason"], "size cap reached");
    }
}

#[test]
fn bad_input_gets_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let o = snapdesk(&tmp.path().join("home"))
        .args(["collect", "--iggy-data", "/nonexistent/iggy/data", "--out"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.starts_with("error[not_found]: the Iggy data directory /nonexistent/iggy/data"),
        "{e}"
    );
    assert!(e.contains("hint:"), "{e}");
    // The collector's hint says what to give; the CLI adds which flag gives it.
    assert!(
        e.contains("give the server's data directory") && e.contains("--iggy-data DIR"),
        "{e}"
    );

    let rules = tmp.path().join("rules.txt");
    std::fs::write(&rules, "regex:([unclosed\n").unwrap();
    let o = snapdesk(&tmp.path().join("home"))
        .args(["collect", "--no-iggy", "--redact-rules"])
        .arg(&rules)
        .arg("--out")
        .arg(tmp.path())
        .output()
        .unwrap();
    // Input refused before anything ran: a usage error, exit 2.
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error[invalid_input]"),
        "{}",
        stderr(&o)
    );
    // Nothing half-written was left behind.
    let zips: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".zip"))
        .collect();
    assert!(zips.is_empty());
}

#[test]
fn the_report_renders_and_runs_in_headless_chromium() {
    let chromium = ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(chromium) = skip::require_or_skip(
        chromium.ok_or("chromium is not installed (scripts/test installs it)"),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("c.zip");
    let (manifest, path) = collect_json(
        &tmp.path().join("home"),
        &["--out", out.to_str().unwrap(), "--no-iggy"],
    );
    let html = archive::read_entry(&path, archive::REPORT_ENTRY, 64 << 20).unwrap();
    let page = tmp.path().join("report.html");
    std::fs::write(&page, html).unwrap();
    let url = format!("file://{}", page.display());
    let base = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];
    let profile = tmp.path().join("profile");
    let o = Command::new(chromium)
        .args(base)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    let dom = stdout(&o);
    let total: u64 = ["pass", "warn", "fail", "info", "error", "skipped"]
        .iter()
        .map(|s| manifest["checks"][s].as_u64().unwrap())
        .sum();
    // The report's own script ran: it wrote the count of shown checks.
    assert!(
        dom.contains(&format!("{total} of {total} checks")),
        "script did not run"
    );
    // Inside `<iframe sandbox="allow-scripts">` (no same origin: storage and cookies throw),
    // the report's script still runs and tells its parent.
    let wrapper = tmp.path().join("wrapper.html");
    std::fs::write(
        &wrapper,
        "<!doctype html><html><body><iframe sandbox=\"allow-scripts\" src=\"report.html\" \
         width=\"1200\" height=\"900\"></iframe><script>\
         window.addEventListener('message', function (e) {\
           if (e.source === document.querySelector('iframe').contentWindow && e.data &&\
               e.data.type === 'snapdesk-report-ready') {\
             document.body.setAttribute('data-ready', String(e.data.checks));\
           }\
         });</script></body></html>",
    )
    .unwrap();
    let o = Command::new(chromium)
        .args(base)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args([
            "--virtual-time-budget=5000",
            "--allow-file-access-from-files",
            "--dump-dom",
        ])
        .arg(format!("file://{}", wrapper.display()))
        .output()
        .unwrap();
    let dom = stdout(&o);
    assert!(
        dom.contains(&format!("data-ready=\"{total}\"")),
        "the report did not run in a sandboxed iframe: {}",
        &dom[..dom.len().min(400)]
    );

    let shots = workspace::target_dir().join("e2e-shots");
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("report-chromium.png");
    let o = Command::new(chromium)
        .args(base)
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .args(["--window-size=1280,1000", &url])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "a blank screenshot"
    );
}

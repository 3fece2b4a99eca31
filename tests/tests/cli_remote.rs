//! The `snapdesk` binary against the real `snapdesk emulator` process: contexts, the key in
//! the OS keyring (or LD_API_KEY), and every snapshots command, with their error paths.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use snapdesk_tests::cli::{ok, snapdesk, stderr, stdout};
use snapdesk_tests::emu::EmulatorProcess;
use snapdesk_tests::{skip, wait};

fn with_key(home: &Path, key: &str) -> Command {
    let mut c = snapdesk(home);
    c.env("LD_API_KEY", key);
    c
}

fn add_context(home: &Path, emu: &EmulatorProcess) {
    let (id, name) = emu.deployment(0);
    ok(snapdesk(home)
        .args([
            "context",
            "add",
            "emu",
            "--url",
            emu.url(),
            "--label",
            "Local emulator",
            "--keep-key",
        ])
        .arg("--deployment")
        .arg(format!("{id}={name}"))
        .output()
        .unwrap());
}

#[test]
fn snapshots_lifecycle_from_the_command_line() {
    let emu = EmulatorProcess::spawn(&["--processing-ms", "300", "--nodes", "3"]);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    add_context(&home, &emu);
    let key = emu.manage_key();

    // create --wait: every node completed; JSON items carry ids as strings.
    let out = ok(with_key(&home, key)
        .args([
            "--json",
            "snapshots",
            "--deployment",
            "events-prod",
            "create",
            "--wait",
            "--no-include-iggy",
        ])
        .output()
        .unwrap());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items
        .iter()
        .all(|i| i["status"] == "completed" && i["node_id"].is_string()));
    let name = items[0]["name"].as_str().unwrap().to_owned();

    // list: the human table groups by name, one line per node with full ids.
    let table = ok(with_key(&home, key)
        .args(["snapshots", "list", "--all"])
        .output()
        .unwrap());
    assert!(
        table.contains(&name) && table.contains("3/3 nodes completed"),
        "{table}"
    );
    for i in items {
        assert!(table.contains(i["node_id"].as_str().unwrap()), "{table}");
    }

    // --curl prints the request with the key as $LD_API_KEY; run as printed, it works.
    let curl = ok(snapdesk(&home)
        .args(["snapshots", "--curl", "list", "--results", "5"])
        .output()
        .unwrap());
    assert!(
        curl.contains("$LD_API_KEY") && !curl.contains(key),
        "{curl}"
    );
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!("{} -s", curl.trim()))
        .env("LD_API_KEY", key)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 3, "{v}");

    // download every node of the snapshot into a directory.
    let dl = tmp.path().join("dl");
    std::fs::create_dir_all(&dl).unwrap();
    let out = ok(with_key(&home, key)
        .args(["--json", "snapshots", "download", "--name", &name, "--out"])
        .arg(&dl)
        .output()
        .unwrap());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let files = v["nodes"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for f in files {
        assert_eq!(f["result"], "downloaded", "{f}");
        let p = f["path"].as_str().unwrap();
        let o = Command::new("unzip").args(["-t", p]).output().unwrap();
        assert!(o.status.success(), "{p}");
    }

    // The read key cannot create: exit 1, error[forbidden] naming the permission.
    let o = with_key(&home, emu.read_key())
        .args(["snapshots", "create"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.starts_with("error[forbidden]"), "{e}");
    assert!(e.contains("deployment:manage"), "{e}");

    // A wrong key: unauthorized, with a hint.
    let o = with_key(&home, "ld_wrong")
        .args(["snapshots", "list"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("error[unauthorized]"),
        "{}",
        stderr(&o)
    );

    // context test reports the permissions of each key.
    let out = ok(with_key(&home, emu.read_key())
        .args(["--json", "context", "test", "--probe-manage"])
        .output()
        .unwrap());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["permissions"]["deployment:manage"], false);
    let out = ok(with_key(&home, key)
        .args(["--json", "context", "test", "--probe-manage"])
        .output()
        .unwrap());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["permissions"]["deployment:manage"], true);

    // Without --probe-manage nothing is deleted to find out: manage is "not checked".
    let out = ok(with_key(&home, key)
        .args(["--json", "context", "test"])
        .output()
        .unwrap());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["permissions"]["deployment:manage"].is_null(), "{v}");
    assert_eq!(v["permissions"]["deployment:read"], true);

    // An unknown deployment name lists the known ones.
    let o = with_key(&home, key)
        .args(["snapshots", "--deployment", "nope", "list"])
        .output()
        .unwrap();
    assert!(
        stderr(&o).contains("known deployments: ") && stderr(&o).contains("=events-prod"),
        "{}",
        stderr(&o)
    );

    // delete the whole snapshot by name.
    let out = ok(with_key(&home, key)
        .args(["--json", "snapshots", "delete", "--name", &name, "--yes"])
        .output()
        .unwrap());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["deleted"].as_array().unwrap().len(), 3);
    let out = ok(with_key(&home, key)
        .args(["snapshots", "list"])
        .output()
        .unwrap());
    assert_eq!(out.trim(), "no snapshots");

    // An unknown deployment: not_found, naming it.
    let o = with_key(&home, key)
        .args(["snapshots", "--deployment", "42", "list"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("error[not_found]") && stderr(&o).contains("42"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn wait_gives_up_after_its_timeout() {
    let emu = EmulatorProcess::spawn(&["--processing-ms", "60000", "--nodes", "2"]);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    add_context(&home, &emu);
    ok(with_key(&home, emu.manage_key())
        .args(["snapshots", "create"])
        .output()
        .unwrap());
    let o = with_key(&home, emu.manage_key())
        .args(["snapshots", "wait", "--timeout", "1"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error[timeout]"), "{}", stderr(&o));
    // A second create while the first is processing: conflict.
    let o = with_key(&home, emu.manage_key())
        .args(["snapshots", "create"])
        .output()
        .unwrap();
    assert!(stderr(&o).starts_with("error[conflict]"), "{}", stderr(&o));
}

#[test]
fn wait_stops_when_a_node_ends_failed_and_names_it() {
    let emu = EmulatorProcess::spawn(&["--processing-ms", "200", "--nodes", "3"]);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    add_context(&home, &emu);
    // The next node archive fails to generate: that item ends "failed", completed_at set.
    emu.admin("/_admin/faults", r#"{"count": 1, "kind": "node_failure"}"#);
    let start = std::time::Instant::now();
    let o = with_key(&home, emu.manage_key())
        .args(["snapshots", "create", "--wait", "--timeout", "60"])
        .output()
        .unwrap();
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "it did not wait out the timeout"
    );
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.starts_with("error[api]") && e.contains("not on every node") && e.contains("(failed)"),
        "{e}"
    );
    // The node table, with the snapshot ids of the nodes that completed: what to download.
    let table = stdout(&o);
    assert!(
        table.contains("SNAPSHOT ID") && table.contains("failed"),
        "{table}"
    );
    let node_rows = table
        .lines()
        .filter(|l| l.trim_start().starts_with("6108"))
        .count();
    assert_eq!(node_rows, 3, "one row per node: {table}");
    assert!(e.contains("snapshots download --snapshot ID"), "{e}");
}

#[test]
fn kill_9_mid_download_leaves_no_file_under_the_final_name() {
    let emu = EmulatorProcess::spawn(&["--processing-ms", "0"]);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    add_context(&home, &emu);
    let (dep, _) = emu.deployment(0);
    let seeded = emu.admin(
        "/_admin/seed",
        &format!(r#"{{"deployment_id": "{dep}", "archive_bytes": 2000000}}"#),
    );
    let id = seeded["id_str"].as_str().unwrap().to_owned();
    // A slow link: the 2 MB take about 8 s, so the kill lands mid-transfer.
    emu.admin(
        "/_admin/faults",
        r#"{"count": 1, "kind": "throttle", "bytes_per_sec": 250000, "path_prefix": "/_storage"}"#,
    );
    let dest = tmp.path().join("node.zip");
    let mut child = with_key(&home, emu.read_key())
        .args(["snapshots", "download", "--snapshot", &id, "--out"])
        .arg(&dest)
        .spawn()
        .unwrap();
    let partial = tmp.path().join("node.zip.partial");
    let start = std::time::Instant::now();
    while !(partial.exists()
        && std::fs::metadata(&partial)
            .map(|m| m.len() > 0)
            .unwrap_or(false))
    {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "the download never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Well into the transfer (a quarter of it), still far from its end at 250 kB/s.
    wait::until("a quarter of the download", Duration::from_secs(10), || {
        std::fs::metadata(&partial).is_ok_and(|m| m.len() >= 500_000)
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(!dest.exists(), "a half-written file took the final name");
    // Nothing is lost: the next download replaces the partial file and completes.
    ok(with_key(&home, emu.read_key())
        .args(["snapshots", "download", "--snapshot", &id, "--out"])
        .arg(&dest)
        .output()
        .unwrap());
    let o = Command::new("unzip")
        .arg("-tq")
        .arg(&dest)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(!partial.exists());
}

/// The download validator the CLI really installs (a whole-ZIP check), not a stand-in: a
/// complete body of the right length that is not a ZIP is refused and never kept.
#[test]
fn a_download_that_is_not_a_zip_is_refused_and_never_kept() {
    let emu = EmulatorProcess::spawn(&["--processing-ms", "0"]);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    add_context(&home, &emu);
    let (dep, _) = emu.deployment(0);
    let seeded = emu.admin(
        "/_admin/seed",
        &format!(r#"{{"deployment_id": "{dep}", "archive_bytes": 100000}}"#),
    );
    let id = seeded["id_str"].as_str().unwrap().to_owned();
    emu.admin(
        "/_admin/faults",
        r#"{"count": 1, "kind": "corrupt", "path_prefix": "/_storage"}"#,
    );
    let dest = tmp.path().join("node.zip");
    let o = with_key(&home, emu.read_key())
        .args(["snapshots", "download", "--snapshot", &id, "--out"])
        .arg(&dest)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let e = stderr(&o);
    assert!(e.starts_with("error[archive]"), "{e}");
    assert!(e.contains("the downloaded archive is not valid"), "{e}");
    assert!(!dest.exists(), "a corrupt download took the final name");
    assert!(!tmp.path().join("node.zip.partial").exists());
    // The control: the same download without the fault is accepted.
    ok(with_key(&home, emu.read_key())
        .args(["snapshots", "download", "--snapshot", &id, "--out"])
        .arg(&dest)
        .output()
        .unwrap());
    assert!(dest.is_file());
}

#[test]
fn no_context_and_bad_context_input_are_clear() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let o = snapdesk(&home)
        .args(["snapshots", "list"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("context add"), "{}", stderr(&o));
    let o = snapdesk(&home)
        .args([
            "context",
            "add",
            "bad name",
            "--url",
            "https://x",
            "--keep-key",
        ])
        .output()
        .unwrap();
    assert!(
        stderr(&o).starts_with("error[invalid_input]"),
        "{}",
        stderr(&o)
    );
    let o = snapdesk(&home)
        .args(["context", "add", "x", "--url", "ftp://x", "--keep-key"])
        .output()
        .unwrap();
    assert!(
        stderr(&o).starts_with("error[invalid_input]"),
        "{}",
        stderr(&o)
    );
    // The key is never an argument: there is no flag for it.
    let o = snapdesk(&home)
        .args(["context", "add", "x", "--url", "https://x", "--key", "k"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn the_key_is_stored_in_the_os_keyring_and_read_from_standard_input() {
    let session = if std::env::var("SNAPDESK_KEYRING_TESTS").as_deref() == Ok("1") {
        Ok(())
    } else {
        Err("needs a Secret Service session and SNAPDESK_KEYRING_TESTS=1 (scripts/test provides both)")
    };
    if skip::require_or_skip(session).is_none() {
        return;
    }
    let emu = EmulatorProcess::spawn(&["--processing-ms", "100"]);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let (id, _) = emu.deployment(0);
    let ctx = format!("kr-{}", std::process::id());
    let mut child = snapdesk(&home)
        .args([
            "context",
            "add",
            &ctx,
            "--url",
            emu.url(),
            "--deployment",
            &id,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(emu.read_key().as_bytes())
        .unwrap();
    ok(child.wait_with_output().unwrap());
    // No key on disk, anywhere under the data directory.
    for entry in walk(&home) {
        let text = std::fs::read(&entry).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&text).contains(emu.read_key()),
            "the key is in {}",
            entry.display()
        );
    }
    // Without LD_API_KEY the keyring supplies it.
    ok(snapdesk(&home)
        .args(["snapshots", "--context", &ctx, "list"])
        .output()
        .unwrap());
    ok(snapdesk(&home)
        .args(["context", "remove", &ctx])
        .output()
        .unwrap());
    assert_eq!(
        snapdesk_core::secrets::load_stored_key(&ctx)
            .unwrap_err()
            .code,
        snapdesk_core::ErrorCode::NotFound
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn the_emulator_keeps_its_state_under_an_explicit_data_dir_across_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let first = EmulatorProcess::spawn_with_home(&home, &["--processing-ms", "0"]);
    let key = first.manage_key().to_owned();
    let first_url = first.url().to_owned();
    add_context(&home, &first);
    ok(with_key(&home, &key)
        .args(["snapshots", "create", "--wait"])
        .output()
        .unwrap());
    drop(first);
    assert!(home.join("data/emulator/state.json").is_file());
    // Same keys and the same snapshots after a restart on the same directory.
    let second = EmulatorProcess::spawn_with_home(&home, &["--processing-ms", "0"]);
    assert_eq!(second.manage_key(), key);
    // The same port, so the saved context still points at it.
    assert_eq!(second.url(), first_url, "the URL changed across a restart");
    let ctx_url = second.url().to_owned();
    ok(snapdesk(&home)
        .args(["context", "add", "emu", "--url", &ctx_url, "--keep-key"])
        .output()
        .unwrap());
    let out = ok(with_key(&home, &key)
        .args([
            "--json",
            "snapshots",
            "--deployment",
            &second.deployment(0).0,
            "list",
        ])
        .output()
        .unwrap());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 3, "{v}");
}

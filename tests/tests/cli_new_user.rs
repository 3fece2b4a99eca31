//! The CLI as a new user finds it (issue 8), each fix against the real `snapdesk emulator`
//! process over loopback: a key without a keyring, one JSON document per run, a download
//! that resumes after Ctrl-C, clear errors for bad input, paging that says so, the default
//! download naming what it skipped, confirmation before a delete, collect that keeps files,
//! plain logs in a pipe, TLS mistakes named and not retried, the emulator's admin routes.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use snapdesk_tests::cli::{ok, snapdesk, stderr, stdout};
use snapdesk_tests::emu::EmulatorProcess;
use snapdesk_tests::{skip, wait, workspace};

fn with_key(home: &Path, key: &str) -> Command {
    let mut c = snapdesk(home);
    c.env("LD_API_KEY", key);
    c
}

/// Standard output is exactly one JSON document (trailing whitespace aside).
#[track_caller]
fn one_json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", stdout(o)))
}

fn add_context(home: &Path, emu: &EmulatorProcess) {
    let (id, name) = emu.deployment(0);
    ok(snapdesk(home)
        .args(["context", "add", "emu", "--url", emu.url(), "--keep-key"])
        .arg("--deployment")
        .arg(format!("{id}={name}"))
        .output()
        .unwrap());
}

/// A D-Bus address where no bus listens: no keyring is reachable.
fn no_keyring(cmd: &mut Command, dir: &Path) {
    cmd.env(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}", dir.join("no-bus").display()),
    );
}

#[test]
fn context_add_works_without_a_keyring_when_ld_api_key_is_set_and_says_so() {
    let emu = EmulatorProcess::spawn(&["--processing-ms", "0"]);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let (id, name) = emu.deployment(0);
    let dep = format!("{id}={name}");

    // `info` says the keyring cannot be reached.
    let mut c = snapdesk(&home);
    no_keyring(&mut c, tmp.path());
    let v = one_json(&c.args(["--json", "info"]).output().unwrap());
    assert_eq!(v["keyring"]["state"], "unreachable", "{v}");

    // Neither a keyring nor LD_API_KEY: refused before any key is asked, saying what to do.
    let mut c = snapdesk(&home);
    no_keyring(&mut c, tmp.path());
    let o = c
        .args([
            "context",
            "add",
            "demo",
            "--url",
            emu.url(),
            "--deployment",
            &dep,
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.starts_with("error[keyring]") && e.contains("LD_API_KEY"),
        "{e}"
    );

    // With LD_API_KEY: saved, the key not stored, and the output says so; --check proves it.
    let mut c = with_key(&home, emu.manage_key());
    no_keyring(&mut c, tmp.path());
    let o = c
        .args([
            "context",
            "add",
            "demo",
            "--url",
            emu.url(),
            "--deployment",
            &dep,
        ])
        .args(["--check"])
        .output()
        .unwrap();
    let text = ok(o);
    assert!(
        text.contains("NOT stored") && text.contains("LD_API_KEY"),
        "{text}"
    );
    assert!(text.contains("deployment:read yes"), "{text}");
    let mut c = with_key(&home, emu.manage_key());
    no_keyring(&mut c, tmp.path());
    let v = one_json(
        &c.args([
            "--json",
            "context",
            "add",
            "demo",
            "--url",
            emu.url(),
            "--check",
        ])
        .args(["--deployment", &dep])
        .output()
        .unwrap(),
    );
    assert_eq!(v["key"], "not_stored", "{v}");
    assert_eq!(v["check"]["permissions"]["deployment:read"], true, "{v}");
}

#[test]
fn json_prints_one_document_for_every_outcome_with_partial_results() {
    let emu = EmulatorProcess::spawn(&["--processing-ms", "100", "--nodes", "3"]);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    add_context(&home, &emu);
    let key = emu.manage_key();

    // A usage error: exit 2, one JSON error in our words, nothing on stderr.
    for args in [
        &["snapshots", "list", "--page", "1.5"][..],
        &["snapshots", "frobnicate"][..],
        &[
            "snapshots",
            "download",
            "--snapshot",
            "18446744073709551616",
        ][..],
    ] {
        let o = with_key(&home, key)
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stdout(&o));
        let v = one_json(&o);
        assert_eq!(v["error"]["code"], "invalid_input", "{v}");
        assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    }

    // --json --curl: the command as JSON.
    let v = one_json(
        &snapdesk(&home)
            .args(["--json", "snapshots", "--curl", "list"])
            .output()
            .unwrap(),
    );
    assert!(v["curl"].as_str().unwrap().contains("$LD_API_KEY"), "{v}");

    // A completed snapshot, then one whose node 1 fails.
    ok(with_key(&home, key)
        .args(["snapshots", "create", "--wait"])
        .output()
        .unwrap());
    emu.admin("/_admin/faults", r#"{"count": 1, "kind": "node_failure"}"#);
    let o = with_key(&home, key)
        .args(["--json", "snapshots", "create", "--wait", "--timeout", "60"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v = one_json(&o);
    assert_eq!(v["error"]["code"], "api", "{v}");
    let items = v["partial"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "the node table with the error: {v}");
    assert!(items.iter().any(|i| i["status"] == "failed"), "{v}");
    let failed_name = v["partial"]["name"].as_str().unwrap().to_owned();

    // The default download passes over the newer, failed snapshot and says which and why.
    let dl = tmp.path().join("dl");
    let o = with_key(&home, key)
        .args(["snapshots", "download", "--out"])
        .arg(&dl)
        .output()
        .unwrap();
    let e = stderr(&o);
    ok(o);
    assert!(
        e.contains(&format!("skipped the newer snapshot {failed_name}"))
            && e.contains("without an archive on node"),
        "{e}"
    );
    assert_eq!(std::fs::read_dir(&dl).unwrap().count(), 3);

    // Every node of the failed one: two downloaded and one failed, all in one document; the
    // failed node's hint is about a failed node, not "already in progress".
    let o = with_key(&home, key)
        .args([
            "--json",
            "snapshots",
            "download",
            "--name",
            &failed_name,
            "--out",
        ])
        .arg(tmp.path().join("dl2"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v = one_json(&o);
    let nodes = v["partial"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3, "{v}");
    assert_eq!(
        nodes.iter().filter(|n| n["result"] == "downloaded").count(),
        2,
        "{v}"
    );
    let hint = v["error"]["hint"].as_str().unwrap();
    assert!(
        hint.contains("failed") && !hint.contains("in progress"),
        "{hint}"
    );
}

#[test]
fn an_interrupted_download_resumes_from_its_partial_file_and_fetches_only_the_rest() {
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
    let size = seeded["archive_bytes"].as_u64().unwrap();
    // A slow link for the first transfer only: 2 MB at 250 kB/s.
    emu.admin(
        "/_admin/faults",
        r#"{"count": 1, "kind": "throttle", "bytes_per_sec": 250000, "path_prefix": "/_storage"}"#,
    );
    let dest = tmp.path().join("node.zip");
    let partial = tmp.path().join("node.zip.partial");
    let child = with_key(&home, emu.read_key())
        .args(["snapshots", "download", "--snapshot", &id, "--out"])
        .arg(&dest)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait::until("a quarter of the download", Duration::from_secs(20), || {
        std::fs::metadata(&partial).is_ok_and(|m| m.len() >= 500_000)
    });
    // Ctrl-C, as a person at the terminal would.
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.starts_with("error[cancelled]") && e.contains("resume"),
        "{e}"
    );
    assert!(
        !dest.exists(),
        "an interrupted download took the final name"
    );
    let kept = std::fs::metadata(&partial).unwrap().len();
    assert!(kept > 0 && kept < size, "kept {kept} of {size}");
    let before = emu.storage_requests().len();

    // The next run asks only for the rest, with the object's validator, and says so.
    let out = ok(with_key(&home, emu.read_key())
        .args(["snapshots", "download", "--snapshot", &id, "--out"])
        .arg(&dest)
        .output()
        .unwrap());
    assert!(out.contains(&format!("resumed: {kept} bytes")), "{out}");
    let asked = emu.storage_requests();
    let resumed = &asked[before..];
    assert_eq!(resumed.len(), 1, "{resumed:?}");
    assert_eq!(resumed[0]["range"], format!("bytes={kept}-"), "{resumed:?}");
    assert!(resumed[0]["if_range"].is_string(), "{resumed:?}");
    assert_eq!(std::fs::metadata(&dest).unwrap().len(), size);
    assert!(!partial.exists());
    let o = Command::new("unzip")
        .arg("-tq")
        .arg(&dest)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stdout(&o));

    // A partial whose validator does not match the object is not trusted: restarted whole.
    std::fs::write(&partial, vec![7u8; 1000]).unwrap();
    std::fs::write(
        tmp.path().join("node2.zip.partial.meta"),
        format!(r#"{{"etag": "\"someone-else\"", "total": {size}}}"#),
    )
    .unwrap();
    std::fs::rename(&partial, tmp.path().join("node2.zip.partial")).unwrap();
    let dest2 = tmp.path().join("node2.zip");
    let out = ok(with_key(&home, emu.read_key())
        .args(["snapshots", "download", "--snapshot", &id, "--out"])
        .arg(&dest2)
        .output()
        .unwrap());
    assert!(!out.contains("resumed"), "{out}");
    assert_eq!(
        std::fs::read(&dest2).unwrap(),
        std::fs::read(&dest).unwrap()
    );
}

#[test]
fn bad_input_gets_one_message_and_exit_code_per_kind() {
    let emu = EmulatorProcess::spawn(&["--processing-ms", "0"]);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    add_context(&home, &emu);
    let key = emu.manage_key();
    // (arguments, key, what the message must say)
    let cases: Vec<(Vec<String>, String, &str)> = vec![
        (
            vec!["snapshots".into(), "list".into()],
            format!("{key}\n"),
            "a line break",
        ),
        (
            vec![
                "snapshots".into(),
                "download".into(),
                "--snapshot".into(),
                "18446744073709551616".into(),
            ],
            key.to_owned(),
            "out of range",
        ),
        (
            vec![
                "snapshots".into(),
                "download".into(),
                "--snapshot=-5".into(),
            ],
            key.to_owned(),
            "negative",
        ),
        (
            vec![
                "snapshots".into(),
                "wait".into(),
                "--timeout".into(),
                "1.5".into(),
            ],
            key.to_owned(),
            "not a whole number of seconds",
        ),
        (
            vec![
                "context".into(),
                "add".into(),
                "x".into(),
                "--url".into(),
                format!("{}/deployments/1/snapshots", emu.url()),
                "--keep-key".into(),
            ],
            key.to_owned(),
            "without a path",
        ),
    ];
    for (args, k, says) in cases {
        let o = with_key(&home, &k).args(&args).output().unwrap();
        let e = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(says), "{args:?}: {e}");
        for raw in [
            "invalid digit",
            "number too large",
            "builder error",
            "ParseIntError",
        ] {
            assert!(!e.contains(raw), "a raw parser string for {args:?}: {e}");
        }
    }

    // https:// to the emulator's plain-http port: named, not a raw TLS message.
    let tls_home = tmp.path().join("tls");
    let https = emu.url().replace("http://", "https://");
    ok(snapdesk(&tls_home)
        .args([
            "context",
            "add",
            "t",
            "--url",
            &https,
            "--keep-key",
            "--deployment",
            &emu.deployment(0).0,
        ])
        .output()
        .unwrap());
    let o = with_key(&tls_home, key)
        .args(["snapshots", "list"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.starts_with("error[network]") && e.contains("did not answer with TLS"),
        "{e}"
    );
}

#[test]
fn a_certificate_error_is_not_retried() {
    // A TLS server with a self-signed certificate for another name.
    let Some(()) = skip::require_or_skip(
        Command::new("openssl")
            .arg("version")
            .output()
            .map(|_| ())
            .map_err(|e| format!("openssl: {e}")),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (cert, key) = (tmp.path().join("c.pem"), tmp.path().join("k.pem"));
    let o = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=not-this-host.example", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // Two connections: the readiness probe's and the client's. A retry would find the port
    // closed and end with a connection error instead of the certificate's.
    let mut server = Command::new("openssl")
        .args(["s_server", "-quiet", "-naccept", "2", "-accept"])
        .arg(port.to_string())
        .arg("-cert")
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait::until(
        "openssl s_server listening",
        Duration::from_secs(10),
        || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
    );
    let home = tmp.path().join("home");
    ok(snapdesk(&home)
        .args([
            "context",
            "add",
            "t",
            "--url",
            &format!("https://localhost:{port}"),
        ])
        .args(["--keep-key", "--deployment", "1"])
        .output()
        .unwrap());
    let o = with_key(&home, "ld_k")
        .args(["snapshots", "list"])
        .output()
        .unwrap();
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{e}");
    assert!(
        e.starts_with("error[network]")
            && e.contains("the certificate of")
            && e.contains("was refused"),
        "one attempt, the certificate named: {e}"
    );
    let _ = server.stdin.take().map(|mut s| s.write_all(b"Q\n"));
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn list_says_which_page_and_names_a_snapshot_cut_by_the_page() {
    let emu = EmulatorProcess::spawn(&["--processing-ms", "0", "--nodes", "3"]);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    add_context(&home, &emu);
    let key = emu.manage_key();
    ok(with_key(&home, key)
        .args(["snapshots", "create", "--wait"])
        .output()
        .unwrap());
    let v = one_json(
        &with_key(&home, key)
            .args(["--json", "snapshots", "create", "--wait"])
            .output()
            .unwrap(),
    );
    let newest = v["name"].as_str().unwrap().to_owned();
    // 6 items, 4 per page: the newest snapshot's 3 nodes and 1 of the other's.
    let out = ok(with_key(&home, key)
        .args(["snapshots", "list", "--results", "4"])
        .output()
        .unwrap());
    assert!(out.contains("page 1 of 2"), "{out}");
    let v = one_json(
        &with_key(&home, key)
            .args(["--json", "snapshots", "list", "--results", "4"])
            .output()
            .unwrap(),
    );
    assert_eq!(
        (v["page"].as_u64(), v["total_pages"].as_u64()),
        (Some(1), Some(2)),
        "{v}"
    );
    assert_eq!(v["total_results"], 6, "{v}");
    let older = v["continues_on_next"].as_str().unwrap().to_owned();
    assert_ne!(older, newest);
    assert!(
        out.contains(&format!("{older} has more nodes on page 2")),
        "{out}"
    );
    let v2 = one_json(
        &with_key(&home, key)
            .args([
                "--json",
                "snapshots",
                "list",
                "--results",
                "4",
                "--page",
                "2",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(v2["continued_from_previous"], older.as_str(), "{v2}");
    // --all groups everything.
    let v = one_json(
        &with_key(&home, key)
            .args(["--json", "snapshots", "list", "--all"])
            .output()
            .unwrap(),
    );
    let groups = v["snapshots"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert!(
        groups
            .iter()
            .all(|g| g["items"].as_array().unwrap().len() == 3),
        "{v}"
    );
}

#[test]
fn delete_by_name_asks_on_a_terminal_and_refuses_without_one_unless_yes() {
    let emu = EmulatorProcess::spawn(&["--processing-ms", "0"]);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    add_context(&home, &emu);
    let key = emu.manage_key();
    let v = one_json(
        &with_key(&home, key)
            .args(["--json", "snapshots", "create", "--wait"])
            .output()
            .unwrap(),
    );
    let name = v["name"].as_str().unwrap().to_owned();
    let count = |home: &Path| {
        one_json(
            &with_key(home, key)
                .args(["--json", "snapshots", "list"])
                .output()
                .unwrap(),
        )["total_results"]
            .as_u64()
            .unwrap()
    };

    // No terminal, no --yes: refused, nothing deleted.
    let o = with_key(&home, key)
        .args(["snapshots", "delete", "--name", &name])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--yes"), "{}", stderr(&o));
    assert_eq!(count(&home), 3);

    // On a terminal (a pseudo-terminal from `script`): asked, and "n" deletes nothing.
    let line = format!(
        "{} --data-dir {} snapshots delete --name {name}",
        workspace::debug_bin("snapdesk").display(),
        home.display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("LD_API_KEY", key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let o = child.wait_with_output().unwrap();
    let shown = format!("{}{}", stdout(&o), stderr(&o));
    assert!(
        shown.contains(&format!("delete {name} (3 nodes)")) && shown.contains("[y/N]"),
        "{shown}"
    );
    assert!(shown.contains("nothing deleted"), "{shown}");
    assert_eq!(count(&home), 3);

    // --yes: deleted without asking.
    ok(with_key(&home, key)
        .args(["snapshots", "delete", "--name", &name, "--yes"])
        .stdin(Stdio::null())
        .output()
        .unwrap());
    assert_eq!(count(&home), 0);
}

#[test]
fn collect_keeps_an_existing_file_names_its_path_and_the_checks_to_read() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let out = tmp.path().join("local.zip");
    std::fs::write(&out, b"someone's snapshot").unwrap();
    let o = snapdesk(&home)
        .args(["collect", "--no-iggy", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("already exists") && stderr(&o).contains("--force"));
    assert_eq!(std::fs::read(&out).unwrap(), b"someone's snapshot");

    let v = one_json(
        &snapdesk(&home)
            .args(["--json", "collect", "--no-iggy", "--force", "--out"])
            .arg(&out)
            .output()
            .unwrap(),
    );
    assert_eq!(v["path"], out.display().to_string(), "{v}");
    assert_eq!(v["format_version"], 1);

    // The human summary names every warn and fail check of the report it wrote.
    let o = snapdesk(&home)
        .args(["collect", "--no-iggy", "--force", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let text = ok(o);
    let opened = snapdesk_report::archive::open(&out).unwrap();
    let report = opened.parsed.unwrap().report.unwrap();
    for c in &report.checks {
        if matches!(
            c.status,
            snapdesk_report::Status::Warn | snapdesk_report::Status::Fail
        ) {
            assert!(
                text.contains(&c.id),
                "{} missing from the summary:\n{text}",
                c.id
            );
        }
    }
}

#[test]
fn logs_on_stderr_carry_no_colour_outside_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let o = snapdesk(&tmp.path().join("home"))
        .env("SNAPDESK_LOG", "info")
        .arg("info")
        .output()
        .unwrap();
    let e = stderr(&o);
    assert!(e.contains("INFO"), "the log line is there: {e}");
    assert!(!e.contains('\u{1b}'), "colour codes in a pipe: {e:?}");
}

#[test]
fn the_emulator_documents_its_admin_routes_and_keeps_a_fixed_port() {
    let o = Command::new(workspace::debug_bin("snapdesk"))
        .args(["emulator", "--help"])
        .output()
        .unwrap();
    let help = ok(o);
    let readme = std::fs::read_to_string(workspace::root().join("README.md")).unwrap();
    for route in [
        "/_admin/faults",
        "/_admin/seed",
        "/_admin/clock",
        "/_admin/state",
        "x-admin-token",
    ] {
        assert!(help.contains(route), "--help lacks {route}");
        assert!(readme.contains(route), "the README lacks {route}");
    }
    for body in ["advance_secs", "archive_bytes", "bytes_per_sec"] {
        assert!(help.contains(body) && readme.contains(body), "{body}");
    }
    // --port: the URL is the one asked for.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let emu = EmulatorProcess::spawn(&["--port", &port.to_string()]);
    assert_eq!(emu.url(), format!("http://127.0.0.1:{port}"));
}

//! `--json` on the failure path of every command: exit code 1 (2 for `invalid_input`, input
//! refused before anything ran), one JSON object `{"error": {"code", "message", ...}}` on
//! standard output with the expected stable code, and nothing in the human format on
//! standard error (a script reads one stream).

use std::path::Path;
use std::process::Command;

use snapdesk_tests::cli::{snapdesk, stderr, stdout};
use snapdesk_tests::emu::EmulatorProcess;

/// Runs `cmd` with `--json` and checks the failure shape; returns the error object.
#[track_caller]
fn json_failure(mut cmd: Command, code: &str) -> serde_json::Value {
    let o = cmd.arg("--json").output().unwrap();
    let exit = if code == "invalid_input" { 2 } else { 1 };
    assert_eq!(
        o.status.code(),
        Some(exit),
        "stdout: {}\nstderr: {}",
        stdout(&o),
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {}", stdout(&o)));
    let err = &v["error"];
    assert_eq!(err["code"], code, "{v}");
    assert!(
        err["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    assert!(
        !stderr(&o).contains("error["),
        "the human error went to stderr too: {}",
        stderr(&o)
    );
    err.clone()
}

fn message(err: &serde_json::Value) -> &str {
    err["message"].as_str().unwrap_or_default()
}

fn add_context(home: &Path, emu: &EmulatorProcess) {
    let (id, name) = emu.deployment(0);
    let o = snapdesk(home)
        .args(["context", "add", "emu", "--url", emu.url(), "--keep-key"])
        .arg("--deployment")
        .arg(format!("{id}={name}"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn info_collect_and_emulator_fail_as_json() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();

    // info: the data directory cannot be created under a regular file.
    let mut cmd = snapdesk(&file.join("home"));
    cmd.arg("info");
    let err = json_failure(cmd, "io");
    assert!(message(&err).contains("plain-file"), "{err}");

    // collect: the Iggy data directory given does not exist.
    let home = tmp.path().join("home");
    let mut cmd = snapdesk(&home);
    cmd.args(["collect", "--iggy-data"])
        .arg(tmp.path().join("no-such-data"))
        .arg("--out")
        .arg(tmp.path().join("out"));
    let err = json_failure(cmd, "not_found");
    assert!(message(&err).contains("no-such-data"), "{err}");

    // emulator: its state directory is a regular file.
    let mut cmd = snapdesk(&home);
    cmd.args(["emulator", "--state-dir"]).arg(&file);
    let err = json_failure(cmd, "internal");
    assert!(message(&err).contains("the emulator stopped"), "{err}");
}

#[test]
fn every_context_command_fails_as_json() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");

    let mut cmd = snapdesk(&home);
    cmd.args([
        "context",
        "add",
        "bad name",
        "--url",
        "https://x",
        "--keep-key",
    ]);
    let err = json_failure(cmd, "invalid_input");
    assert!(message(&err).contains("\"bad name\""), "{err}");

    // Nothing configured yet: test has no context to use.
    let mut cmd = snapdesk(&home);
    cmd.args(["context", "test"]);
    json_failure(cmd, "config");

    let mut cmd = snapdesk(&home);
    cmd.args(["context", "use", "nope"]);
    let err = json_failure(cmd, "not_found");
    assert!(message(&err).contains("nope"), "{err}");

    let mut cmd = snapdesk(&home);
    cmd.args(["context", "remove", "nope"]);
    let err = json_failure(cmd, "not_found");
    assert!(message(&err).contains("nope"), "{err}");

    // A contexts file that is not TOML.
    let contexts = home.join("config").join("contexts.toml");
    std::fs::create_dir_all(contexts.parent().unwrap()).unwrap();
    std::fs::write(&contexts, "[contexts.x\nurl = ").unwrap();
    let mut cmd = snapdesk(&home);
    cmd.args(["context", "list"]);
    let err = json_failure(cmd, "config");
    assert!(message(&err).contains("contexts.toml"), "{err}");
}

#[test]
fn every_snapshots_command_fails_as_json() {
    let emu = EmulatorProcess::spawn(&["--processing-ms", "0"]);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    add_context(&home, &emu);
    let with_key = |key: &str| {
        let mut c = snapdesk(&home);
        c.env("LD_API_KEY", key);
        c
    };

    let mut cmd = with_key("ld_wrong_key");
    cmd.args(["snapshots", "list"]);
    let err = json_failure(cmd, "unauthorized");
    assert_eq!(err["details"]["status"], 401, "{err}");

    let mut cmd = with_key(emu.read_key());
    cmd.args(["snapshots", "create"]);
    let err = json_failure(cmd, "forbidden");
    assert_eq!(err["details"]["status"], 403, "{err}");

    let mut cmd = with_key(emu.read_key());
    cmd.args(["snapshots", "wait", "--name", "snapshot-19990101-000000"]);
    let err = json_failure(cmd, "not_found");
    assert!(message(&err).contains("snapshot-19990101-000000"), "{err}");

    let mut cmd = with_key(emu.read_key());
    cmd.args(["snapshots", "download", "--snapshot", "999", "--out"])
        .arg(tmp.path().join("x.zip"));
    let err = json_failure(cmd, "not_found");
    assert!(message(&err).contains("no snapshot 999"), "{err}");
    assert!(!tmp.path().join("x.zip").exists());

    let mut cmd = with_key(emu.read_key());
    cmd.args(["snapshots", "delete", "--snapshot", "999"]);
    let err = json_failure(cmd, "forbidden");
    assert_eq!(err["details"]["status"], 403, "{err}");
}

//! Insight across snapshots through the real `snapdesk` binary, on libraries built from real
//! collections of this machine (a planted certificate steering `certs.expiry`), from the
//! fixtures' clean and torn data directories, and from emulator snapshots over an advanced
//! clock.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use snapdesk_tests::cli::{snapdesk, stderr};
use snapdesk_tests::emu::EmulatorProcess;
use snapdesk_tests::{skip, workspace};

fn json(o: Output) -> Value {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {:?}", o.stdout))
}

/// A self-signed certificate valid for `days` days, made by openssl.
fn cert(dir: &Path, name: &str, days: u32) -> Option<PathBuf> {
    let crt = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}-key.pem"));
    let o = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-days")
        .arg(days.to_string())
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output();
    skip::require_or_skip(match o {
        Ok(o) if o.status.success() => Ok(crt),
        Ok(o) => Err(format!("openssl req failed: {}", stderr(&o))),
        Err(e) => Err(format!("openssl: {e}")),
    })
}

/// A collection of this machine into the library (no `--out`), checking `cert`.
fn collect(home: &Path, cert: &Path) {
    json(
        snapdesk(home)
            .args(["--json", "collect", "--no-iggy", "--cert"])
            .arg(cert)
            .output()
            .unwrap(),
    );
}

fn expiry_row(board: &Value) -> Option<Value> {
    board["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check_id"] == "certs.expiry")
        .cloned()
}

#[test]
fn an_expiring_certificate_collected_shows_new_then_persisting_then_resolved() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let Some(soon) = cert(tmp.path(), "soon", 10) else {
        return;
    };
    let Some(renewed) = cert(tmp.path(), "renewed", 400) else {
        return;
    };
    let triage = |scope: &[&str]| -> Value {
        json(
            snapdesk(&home)
                .args(["--json", "library", "triage"])
                .args(scope)
                .output()
                .unwrap(),
        )
    };

    collect(&home, &soon);
    let list = json(
        snapdesk(&home)
            .args(["--json", "library", "list"])
            .output()
            .unwrap(),
    );
    let host = list["items"][0]["host_name"].as_str().unwrap().to_owned();
    let scope = ["--host", host.as_str()];
    let b1 = triage(&scope);
    assert_eq!(b1["snapshots"], 1);
    let row = expiry_row(&b1).expect("certs.expiry on the board");
    assert_eq!(
        (row["status"].as_str(), row["state"].as_str()),
        (Some("warn"), Some("new"))
    );
    assert_eq!(row["nodes"], serde_json::json!([host]));

    collect(&home, &soon);
    let row = expiry_row(&triage(&scope)).unwrap();
    assert_eq!(row["state"], "persisting");
    assert_ne!(row["first_seen"], row["last_seen"]);

    collect(&home, &renewed);
    let b3 = triage(&scope);
    assert_eq!(b3["snapshots"], 3);
    let row = expiry_row(&b3).unwrap();
    assert_eq!(row["state"], "resolved");
    assert_eq!(row["status"], "warn", "the status where it was last seen");

    // Its timeline, one point per collection, and the text forms.
    let tl = json(
        snapdesk(&home)
            .args([
                "--json",
                "library",
                "timeline",
                "certs.expiry",
                "--node",
                &host,
            ])
            .output()
            .unwrap(),
    );
    let states: Vec<&str> = tl["nodes"][0]["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["warn", "warn", "pass"]);
    let o = snapdesk(&home)
        .args(["library", "triage", "--host", &host])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("certs.expiry"));
    // Both scopes at once is a usage error.
    let o = snapdesk(&home)
        .args([
            "--json",
            "library",
            "triage",
            "--host",
            "a",
            "--deployment",
            "b",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

fn unpack(fixtures: &Path, version: &str, name: &str, into: &Path) -> PathBuf {
    let f = std::fs::File::open(fixtures.join("iggy").join(version).join(name)).unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(f))
        .unpack(into)
        .unwrap();
    into.join("local_data")
}

#[test]
fn the_torn_copy_collected_after_the_clean_one_shows_the_audit_messages_lost() {
    let Some(fixtures) = workspace::shared_fixtures_or_skip() else {
        return;
    };
    for version in ["0.8.0", "0.9.0-edge.5-cc269ef7"] {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        for (name, zip) in [
            ("local_data.tar.gz", "clean.zip"),
            ("local_data-torn.tar.gz", "torn.zip"),
        ] {
            let dir = unpack(
                &fixtures,
                version,
                name,
                &tmp.path().join(zip.replace(".zip", "")),
            );
            json(
                snapdesk(&home)
                    .args(["--json", "collect", "--out"])
                    .arg(tmp.path().join(zip))
                    .arg("--iggy-data")
                    .arg(&dir)
                    .output()
                    .unwrap(),
            );
        }
        let imported = json(
            snapdesk(&home)
                .args(["--json", "library", "import"])
                .arg(tmp.path().join("clean.zip"))
                .arg(tmp.path().join("torn.zip"))
                .output()
                .unwrap(),
        );
        let a = imported["items"][0]["id"].as_str().unwrap().to_owned();
        let b = imported["items"][1]["id"].as_str().unwrap().to_owned();
        let d = json(
            snapdesk(&home)
                .args(["--json", "library", "diff", &a, &b])
                .output()
                .unwrap(),
        );
        let findings = d["continuity"]["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("{version}: no continuity: {}", d["continuity_note"]));
        assert_eq!(findings.len(), 1, "{version}: {findings:#?}");
        let f = &findings[0];
        assert_eq!(f["partition"], "streams/0/topics/1/partitions/0");
        assert_eq!(f["kind"], "messages_lost");
        assert_eq!(f["messages"], 15, "{version}: the 15 offsets after the cut");
        // The analyzers ran at import: the torn segment is a finding of the second snapshot
        // only, not marked new (new is what a re-analysis learns), and a re-analysis with the
        // same analyzers flags neither.
        let torn = |id: &str| -> Vec<Value> {
            let shown = json(
                snapdesk(&home)
                    .args(["--json", "library", "show", id])
                    .output()
                    .unwrap(),
            );
            shown["findings"]
                .as_array()
                .unwrap_or_else(|| panic!("{version}: no findings: {shown:#}"))
                .iter()
                .filter(|x| x["finding_id"] == "iggy_data.torn_segment")
                .cloned()
                .collect()
        };
        let in_b = torn(&b);
        assert_eq!(in_b.len(), 1, "{version}: {in_b:#?}");
        assert_eq!(in_b[0]["new"], false, "{version}");
        assert!(
            torn(&a).is_empty(),
            "{version}: the clean copy has no torn segment"
        );
        let r = json(
            snapdesk(&home)
                .args(["--json", "library", "reanalyze"])
                .output()
                .unwrap(),
        );
        assert_eq!(r["flagged"], serde_json::json!([]), "{version}: {r:#}");
    }
}

#[test]
fn emulator_snapshots_a_day_apart_persist_on_the_board_and_their_timeline() {
    let emu = EmulatorProcess::spawn(&["--processing-ms", "0", "--nodes", "3"]);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let (dep, name) = emu.deployment(0);
    let with_key = || {
        let mut c = snapdesk(&home);
        c.env("LD_API_KEY", emu.manage_key());
        c
    };
    json(
        with_key()
            .args(["--json", "context", "add", "emu", "--url", emu.url()])
            .arg("--deployment")
            .arg(format!("{dep}={name}"))
            .output()
            .unwrap(),
    );
    for day in 0..2 {
        if day > 0 {
            emu.admin("/_admin/clock", r#"{"advance_secs": 86400}"#);
        }
        json(
            with_key()
                .args([
                    "--json",
                    "snapshots",
                    "--deployment",
                    &name,
                    "create",
                    "--wait",
                ])
                .arg("--no-include-iggy")
                .output()
                .unwrap(),
        );
        json(
            with_key()
                .args(["--json", "snapshots", "--deployment", &name, "download"])
                .output()
                .unwrap(),
        );
    }
    let board = json(
        snapdesk(&home)
            .args(["--json", "library", "triage", "--deployment", &dep])
            .output()
            .unwrap(),
    );
    assert_eq!(board["snapshots"], 2, "{board:#}");
    let row = expiry_row(&board).expect("node 1's certificate expires in 10 days");
    assert_eq!(row["state"], "persisting");
    assert_eq!(row["nodes"].as_array().unwrap().len(), 1);
    let t = |k: &str| chrono::DateTime::parse_from_rfc3339(row[k].as_str().unwrap()).unwrap();
    assert!(
        t("last_seen") - t("first_seen") >= chrono::Duration::hours(23),
        "{row}"
    );
    // Failures rank first.
    let items = board["items"].as_array().unwrap();
    let first_warn = items.iter().position(|i| i["status"] == "warn").unwrap();
    assert!(items[..first_warn].iter().all(|i| i["status"] != "warn"));
    assert!(items[first_warn..].iter().all(|i| i["status"] == "warn"));

    let tl = json(
        snapdesk(&home)
            .args([
                "--json",
                "library",
                "timeline",
                "certs.expiry",
                "--deployment",
                &name,
            ])
            .output()
            .unwrap(),
    );
    let nodes = tl["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    let strips: Vec<Vec<&str>> = nodes
        .iter()
        .map(|n| {
            n["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["state"].as_str().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(
        strips.iter().filter(|s| *s == &["warn", "warn"]).count(),
        1,
        "{strips:?}"
    );
    assert!(strips.iter().all(|s| s.len() == 2));
    // The emulator's server logs, around the second snapshot's time, from every node.
    let at = board["newest_at"].as_str().unwrap();
    let at = (chrono::DateTime::parse_from_rfc3339(at).unwrap() - chrono::Duration::seconds(120))
        .to_rfc3339();
    let logs = json(
        snapdesk(&home)
            .args([
                "--json",
                "library",
                "logs",
                "--deployment",
                &dep,
                "--window",
                "60",
                "--at",
                &at,
            ])
            .output()
            .unwrap(),
    );
    let nodes = logs["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    assert!(
        nodes
            .iter()
            .all(|n| !n["lines"].as_array().unwrap().is_empty()),
        "{logs:#}"
    );
}

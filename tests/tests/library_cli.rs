//! The library through the real `snapdesk` binary: the files of an entry (nested
//! `iggy-data.zip` included) and one file's bytes, integrity recorded and shown, the node
//! matrix of one deployment's snapshot, and "download again" of an evicted entry against the
//! emulator (its plan's retention, then past it with the emulator's clock moved).

use std::io::Write;
use std::path::{Path, PathBuf};

use snapdesk_report::sample::{sample_report, write_archive};
use snapdesk_tests::cli::{snapdesk, stderr, stdout};
use snapdesk_tests::emu::EmulatorProcess;

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

fn run(home: &Path, args: &[&str]) -> std::process::Output {
    snapdesk(home).args(args).output().unwrap()
}

fn iggy_data() -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    for (name, data) in [
        ("metadata/journal.wal", &b"\x00\x01\x02wal"[..]),
        (
            "streams/1/topics/1/partitions/1/00000000000000000000.log",
            &[9u8; 300],
        ),
        (
            "runtime/current_config.toml",
            b"[system]\npath = \"local_data\"\n",
        ),
    ] {
        w.start_file(name, o).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn import(home: &Path, file: &Path) -> String {
    let o = snapdesk(home)
        .args(["--json", "library", "import"])
        .arg(file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    json(&o)["items"][0]["id"].as_str().unwrap().to_owned()
}

#[test]
fn files_of_an_entry_are_listed_and_read_without_extracting_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let mut r = sample_report(5, 5);
    r.snapshot_name = "snap-files".into();
    let a = write_archive(&tmp.path().join("a.zip"), &r, Some(&iggy_data())).unwrap();
    let id = import(&home, &a);

    let o = run(&home, &["--json", "library", "files", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let items = json(&o)["items"].as_array().unwrap().clone();
    let find = |p: &str| {
        items
            .iter()
            .find(|f| f["path"] == p)
            .unwrap_or_else(|| panic!("{p} not in {items:?}"))
            .clone()
    };
    assert_eq!(find("report.html")["kind"], "html");
    assert_eq!(find("manifest.json")["kind"], "json");
    assert_eq!(find("iggy-data.zip")["nested"], false);
    let seg = find("iggy-data.zip/streams/1/topics/1/partitions/1/00000000000000000000.log");
    assert_eq!(
        (
            seg["nested"].as_bool(),
            seg["size"].as_u64(),
            seg["kind"].as_str()
        ),
        (Some(true), Some(300), Some("binary"))
    );
    // Nothing was extracted next to the store.
    let stored: Vec<_> = walk(&home.join("data/library"))
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("library.sqlite"))
        .collect();
    assert_eq!(stored.len(), 1, "{stored:?}");

    // Raw bytes to a pipe, exactly.
    let o = run(
        &home,
        &[
            "library",
            "cat",
            &id,
            "iggy-data.zip/runtime/current_config.toml",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(o.stdout, b"[system]\npath = \"local_data\"\n");
    let o = run(
        &home,
        &["library", "cat", &id, "iggy-data.zip/metadata/journal.wal"],
    );
    assert_eq!(o.stdout, b"\x00\x01\x02wal");
    // Cut, and said so.
    let o = run(
        &home,
        &["library", "cat", &id, "report.html", "--max-mib", "1"],
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.starts_with(b"<!DOCTYPE html>") || o.stdout.starts_with(b"<"));
    // JSON: text when UTF-8, hex when not.
    let v = json(&run(
        &home,
        &[
            "--json",
            "library",
            "cat",
            &id,
            "iggy-data.zip/metadata/journal.wal",
        ],
    ));
    assert_eq!(v["hex"], "00010277616c");
    assert_eq!(v["text"], serde_json::Value::Null);
    let o = run(
        &home,
        &["--json", "library", "cat", &id, "iggy-data.zip/nope"],
    );
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(json(&o)["error"]["code"], "archive");
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(d) {
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
fn integrity_and_the_matrix_of_one_deployments_snapshot_show_in_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let mut ids = Vec::new();
    for (i, (dep, name)) in [
        ("611298765432109056", "events-prod"),
        ("611298765432109056", "events-prod"),
        ("611298765432109057", "events-staging"),
    ]
    .iter()
    .enumerate()
    {
        let mut r = sample_report(4, 4);
        r.snapshot_name = "snap-same".into();
        r.deployment_id = Some((*dep).into());
        r.deployment_name = Some((*name).into());
        r.node_id = Some(format!("61080990097657088{i}"));
        let p = write_archive(&tmp.path().join(format!("n{i}.zip")), &r, None).unwrap();
        ids.push(import(&home, &p));
    }
    // One name, two deployments: the matrix asks which.
    let o = run(
        &home,
        &["--json", "library", "diff", "--snapshot", "snap-same"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(json(&o)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("events-staging"));
    let o = run(
        &home,
        &[
            "--json",
            "library",
            "diff",
            "--snapshot",
            "snap-same",
            "--deployment",
            "events-prod",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(json(&o)["entry_ids"].as_array().unwrap().len(), 2);
    let o = run(
        &home,
        &[
            "library",
            "diff",
            "--snapshot",
            "snap-same",
            "--deployment",
            "611298765432109057",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // --deployment only with --snapshot.
    let o = run(
        &home,
        &["library", "diff", &ids[0], &ids[1], "--deployment", "x"],
    );
    assert_eq!(o.status.code(), Some(2));

    // Our archives match their manifests: recorded, shown, queryable.
    let v = json(&run(&home, &["--json", "library", "show", &ids[0]]));
    assert_eq!(v["integrity"], "verified");
    let o = run(&home, &["library", "show", &ids[0]]);
    assert!(stdout(&o).contains("integrity verified"), "{}", stdout(&o));
    let v = json(&run(
        &home,
        &["--json", "library", "list", "integrity:verified"],
    ));
    assert_eq!(v["items"].as_array().unwrap().len(), 3);
    let v = json(&run(
        &home,
        &["--json", "library", "list", "integrity:mismatch"],
    ));
    assert_eq!(v["items"].as_array().unwrap().len(), 0);
}

#[test]
fn an_evicted_download_is_fetched_again_while_the_supervisor_keeps_it() {
    let emu = EmulatorProcess::spawn(&["--processing-ms", "0"]);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let key = emu.manage_key().to_owned();
    let (dep, _) = emu.deployment(0);
    let with_key = |args: &[&str]| {
        snapdesk(&home)
            .env("LD_API_KEY", &key)
            .args(args)
            .output()
            .unwrap()
    };
    let o = with_key(&[
        "context",
        "add",
        "t",
        "--url",
        emu.url(),
        "--deployment",
        &dep,
        "--plan",
        "pro",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let seeded = emu.admin(
        "/_admin/seed",
        &format!(r#"{{"deployment_id": "{dep}", "archive_bytes": 3000000}}"#),
    );
    let snap = seeded["id_str"].as_str().unwrap().to_owned();
    let o = with_key(&["--json", "snapshots", "download", "--snapshot", &snap]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let id = json(&o)["library"][0]["entry"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // The Pro plan keeps a snapshot 14 days from its creation: the entry knows until when.
    let v = json(&run(&home, &["--json", "library", "show", &id]));
    let expires: chrono::DateTime<chrono::Utc> = v["expires_at"].as_str().unwrap().parse().unwrap();
    let left = expires - chrono::Utc::now();
    assert!(
        left > chrono::Duration::days(13) && left <= chrono::Duration::days(14),
        "{left:?}"
    );
    // Not evicted: nothing to fetch.
    let o = with_key(&["--json", "library", "fetch", &id]);
    assert_eq!(json(&o)["error"]["code"], "conflict", "{}", stdout(&o));

    // Evicted for the budget: the entry offers to download it again.
    let o = run(&home, &["library", "gc", "--budget-mib", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&run(&home, &["--json", "library", "show", &id]));
    assert!(v["evicted_at"].is_string(), "{v}");
    assert_eq!(v["downloadable"], true);
    let shown = stdout(&run(&home, &["library", "show", &id]));
    assert!(
        shown.contains(&format!("snapdesk library fetch {id}")),
        "{shown}"
    );
    run(&home, &["library", "gc", "--budget-mib", "1024"]);
    let o = with_key(&["--json", "library", "fetch", &id]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(json(&o)["library"][0]["entry"]["id"], id.as_str());
    let v = json(&run(&home, &["--json", "library", "show", &id]));
    assert!(v["evicted_at"].is_null(), "{v}");
    let o = run(&home, &["--json", "library", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // Past the retention the Supervisor deleted it: a clear not_found, the entry stays evicted.
    run(&home, &["library", "gc", "--budget-mib", "1"]);
    emu.admin("/_admin/clock", r#"{"advance_secs": 1296000}"#);
    let o = with_key(&["--json", "library", "fetch", &id]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let e = json(&o);
    assert_eq!(e["error"]["code"], "not_found", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no longer keeps"),
        "{e}"
    );
    let v = json(&run(&home, &["--json", "library", "show", &id]));
    assert!(v["evicted_at"].is_string(), "{v}");
}

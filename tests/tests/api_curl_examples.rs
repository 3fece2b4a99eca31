//! The curl examples of `supervisor-snapshots-api.txt`, run verbatim with `curl` against the
//! emulator (placeholders filled in): each gets the documented status code and body shape.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use snapdesk_tests::emu::EmulatorProcess;
use snapdesk_tests::{skip, wait};

/// Every `curl ...` command of the spec, joined across its `\` line continuations.
fn curl_examples(spec: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in spec.lines() {
        let line = line.trim_end();
        if let Some(c) = cur.as_mut() {
            c.push('\n');
            c.push_str(line);
        } else if let Some(i) = line.find("curl ") {
            cur = Some(line[i..].to_owned());
        }
        let done = cur
            .as_ref()
            .is_some_and(|c| !c.ends_with('\\') && c.matches('\'').count() % 2 == 0);
        if done {
            // The page runs each command into what follows it (example output, a table, a
            // sentence): the command ends at its last closing quote.
            let c = cur.take().unwrap_or_default();
            let c = match c.rfind(['"', '\'']) {
                Some(i) => c[..=i].to_owned(),
                None => c,
            };
            out.push(c);
        }
    }
    out
}

/// Runs one example as written, the body going to a file of `dir`: (status, body).
fn run(dir: &Path, cmd: &str) -> (u16, String) {
    let body_file = dir.join("body");
    let _ = std::fs::remove_file(&body_file);
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!("{cmd} -s -o \"$BODY_FILE\" -w '%{{http_code}}'"))
        .env("BODY_FILE", &body_file)
        .output()
        .unwrap();
    let code = String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    let body = std::fs::read_to_string(&body_file).unwrap_or_default();
    (code, body)
}

#[test]
fn the_documented_curl_examples_work_verbatim() {
    let spec_path = skip::shared_dir(env!("CARGO_MANIFEST_DIR"))
        .join("spec")
        .join("supervisor-snapshots-api.txt");
    let Some(spec) = skip::require_or_skip(
        std::fs::read_to_string(&spec_path)
            .map_err(|e| format!("cannot read {}: {e}", spec_path.display())),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let run = |cmd: &str| run(tmp.path(), cmd);
    let examples = curl_examples(&spec);
    assert_eq!(examples.len(), 4, "{examples:#?}");

    let emu = EmulatorProcess::spawn(&["--processing-ms", "100"]);
    let (dep, _) = emu.deployment(0);
    let fill = |c: &str, snapshot: &str| {
        c.replace("{supervisor_url}", emu.url())
            .replace("{deployment_id}", &dep)
            .replace("{snapshot_id}", snapshot)
            .replace("YOUR_API_KEY", emu.manage_key())
    };

    // Create: 204 No Content.
    let (code, body) = run(&fill(&examples[0], ""));
    assert_eq!(code, 204, "{body}");
    assert!(body.trim().is_empty());

    // List: 200 and the documented shape, once the node's archive is done (polled: the
    // processing time is the emulator's, the machine may be slow).
    let mut listed = (0, String::new());
    wait::until("the snapshot to complete", Duration::from_secs(30), || {
        listed = run(&fill(&examples[1], ""));
        let v: serde_json::Value = serde_json::from_str(&listed.1).unwrap_or_default();
        v["items"]
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|i| i["status"] == "completed"))
    });
    let (code, body) = listed;
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    for k in ["items", "page", "total_results", "total_pages"] {
        assert!(v.get(k).is_some(), "{k} missing: {body}");
    }
    let item = &v["items"][0];
    for k in [
        "id",
        "tenant_id",
        "division_id",
        "environment_id",
        "deployment_id",
        "node_id",
        "deployment_name",
        "name",
        "status",
        "created_at",
        "completed_at",
    ] {
        assert!(item.get(k).is_some(), "{k} missing in {item}");
    }
    assert_eq!(item["status"], "completed");
    // The raw digits of the id, not a rounded float.
    let id_start = body.find("\"id\":").unwrap() + 5;
    let id: String = body[id_start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();

    // Download: 200 {"url": ...}, and the URL serves a ZIP.
    let (code, body) = run(&fill(&examples[2], &id));
    assert_eq!(code, 200, "{body}");
    let url = serde_json::from_str::<serde_json::Value>(&body).unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = Command::new("curl")
        .args(["-s", "-o", "/dev/stdout", &url])
        .output()
        .unwrap();
    assert!(o.stdout.starts_with(b"PK\x03\x04"), "not a zip");

    // Delete: 204.
    let (code, body) = run(&fill(&examples[3], &id));
    assert_eq!(code, 204, "{body}");
    let (code, _) = run(&fill(&examples[2], &id));
    assert_eq!(code, 404);
}

//! Redaction, end to end: 36 canary secrets planted in an Iggy config, a server process's
//! environment and command line, server logs and a key file; `snapdesk collect` must leave
//! none of them anywhere in the archive, nested and compressed entries included.
//!
//! The control comes first: without redaction every canary is in every place it was planted
//! to reach (the report, and the bundled config, logs and key file inside the nested
//! `iggy-data.zip`). Only then does its absence from the same places of the redacted archive
//! show that redaction removed it, rather than that it never got there.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use std::time::Duration;

use snapdesk_tests::cli::{snapdesk, stderr};
use snapdesk_tests::wait;

const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnktand0LTE3In0.c2lnbmF0dXJlY2FuYXJ5MTc";

/// Where the canaries of each kind must show up in an unredacted archive (entry names;
/// `a.zip!b` is entry `b` of the nested `a.zip`).
const REPORT: &str = "report.html";
const BUNDLED_CONFIG: &str = "iggy-data.zip!runtime/current_config.toml";
/// The config the collector found, carried beside the report (the collector's
/// `SERVER_CONFIG_ENTRY`).
const SERVER_CONFIG: &str = "iggy/server-config.toml";
const BUNDLED_LOG: &str = "iggy-data.zip!logs/iggy-server.log";
const BUNDLED_KEY: &str = "iggy-data.zip!runtime/server.key";
const BUNDLED_TLS_LOG: &str = "iggy-data.zip!logs/tls-debug.log";

/// Every canary with the archive entries it must reach: the config through the bundle and the
/// server-config entry (the report's config checks quote settings, not the file), the process's environment and
/// command line through the report's process check, the logs through the report's log check
/// and the bundle, the key material through the bundle.
fn planted() -> Vec<(&'static str, &'static [&'static str])> {
    const CONFIG: &[&str] = &[BUNDLED_CONFIG, SERVER_CONFIG];
    const PROCESS: &[&str] = &[REPORT];
    const LOG: &[&str] = &[REPORT, BUNDLED_LOG];
    vec![
        // config file
        ("cfg-jwt-encoding-CANARY01", CONFIG),
        ("cfg-jwt-decoding-CANARY02", CONFIG),
        ("Y2FuYXJ5LWVuY3J5cHRpb24ta2V5LTAz", CONFIG),
        ("cfg-cluster-pass-CANARY04", CONFIG),
        ("cfg-api-key-CANARY05", CONFIG),
        ("cfg-token-CANARY06", CONFIG),
        ("cfg-client-secret-CANARY07", CONFIG),
        // process environment
        ("env-root-pass-CANARY08", PROCESS),
        ("env-aws-secret-CANARY09aaaaaaaaaaaaaaaaaaaaaaa", PROCESS),
        ("env-dburl-pass-CANARY10", PROCESS),
        ("ghp_CANARY11aaaaaaaaaaaaaaaaaaaaaaaaaaaa", PROCESS),
        ("xoxb-CANARY12-slack-token-value", PROCESS),
        ("env-jwt-secret-CANARY13", PROCESS),
        ("env-api-key-CANARY14", PROCESS),
        // command line
        ("cli-password-CANARY15", PROCESS),
        ("cli-token-CANARY16", PROCESS),
        // logs
        ("log-bearer-CANARY17token", LOG),
        (JWT, LOG),
        ("log-password-CANARY18", LOG),
        ("AKIACANARY0000000019", LOG),
        ("log-url-pass-CANARY20", LOG),
        ("log-json-api-key-CANARY21", LOG),
        ("log-pat-CANARY22", LOG),
        ("AIzaCANARY23aaaaaaaaaaaaaaaaaaaaaaaaaaa", LOG),
        ("log-secret-CANARY24", LOG),
        ("log-credential-CANARY25", LOG),
        ("log-private-key-field-CANARY26", LOG),
        ("log-encryption-key-CANARY27", LOG),
        ("log-access-key-CANARY28", LOG),
        ("log-auth-token-CANARY29", LOG),
        ("log-passwd-CANARY30", LOG),
        ("glpat-log-basic-CANARY31", LOG),
        // key material
        (
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCKEYCANARY32",
            &[BUNDLED_KEY],
        ),
        ("MIIEcanaryRSAkeyBODYCANARY33", &[BUNDLED_TLS_LOG]),
        ("log-token-query-CANARY34", LOG),
        ("env-pat-CANARY35", PROCESS),
    ]
}

/// The secret values that must not survive.
fn canaries() -> Vec<&'static str> {
    planted().into_iter().map(|(c, _)| c).collect()
}

fn plant(root: &Path) -> (PathBuf, PathBuf) {
    let data = root.join("local_data");
    std::fs::create_dir_all(data.join("runtime")).unwrap();
    std::fs::create_dir_all(data.join("logs")).unwrap();
    std::fs::create_dir_all(data.join("streams/0/topics/0/partitions/0")).unwrap();
    std::fs::create_dir_all(data.join("state")).unwrap();
    std::fs::write(data.join("state/log"), b"\x00\x01binary state").unwrap();
    std::fs::write(
        data.join("streams/0/topics/0/partitions/0/00000000000000000000.log"),
        [0u8; 256],
    )
    .unwrap();
    std::fs::write(
        data.join("streams/0/topics/0/partitions/0/00000000000000000000.index"),
        [0u8; 16],
    )
    .unwrap();
    let config = data.join("runtime/current_config.toml");
    std::fs::write(
        &config,
        format!(
            r#"[system]
path = "{data}"

[system.encryption]
enabled = true
key = "Y2FuYXJ5LWVuY3J5cHRpb24ta2V5LTAz"

[http]
enabled = true
address = "127.0.0.1:3000"

[http.jwt]
encoding_secret = "cfg-jwt-encoding-CANARY01"
decoding_secret = "cfg-jwt-decoding-CANARY02"

[cluster]
password = "cfg-cluster-pass-CANARY04"

[integrations]
api_key = "cfg-api-key-CANARY05"
token = "cfg-token-CANARY06"
client_secret = "cfg-client-secret-CANARY07"

[tcp]
enabled = true
address = "127.0.0.1:8090"
"#,
            data = data.display()
        ),
    )
    .unwrap();
    let log = [
        "2026-06-01T10:00:00Z INFO server: starting",
        "2026-06-01T10:00:01Z DEBUG http: Authorization: Bearer log-bearer-CANARY17token",
        &format!("2026-06-01T10:00:02Z DEBUG http: got jwt {JWT}"),
        "2026-06-01T10:00:03Z WARN auth: login failed password=log-password-CANARY18",
        "2026-06-01T10:00:04Z INFO s3: using key AKIACANARY0000000019",
        "2026-06-01T10:00:05Z INFO sink: connecting to https://sink:log-url-pass-CANARY20@example.com/x",
        r#"2026-06-01T10:00:06Z DEBUG cfg: {"api_key": "log-json-api-key-CANARY21"}"#,
        "2026-06-01T10:00:07Z INFO pat: personal_access_token: log-pat-CANARY22",
        "2026-06-01T10:00:08Z INFO gcp: key AIzaCANARY23aaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "2026-06-01T10:00:09Z DEBUG x: secret=log-secret-CANARY24",
        "2026-06-01T10:00:10Z DEBUG x: credential: log-credential-CANARY25",
        r#"2026-06-01T10:00:11Z DEBUG x: "private_key": "log-private-key-field-CANARY26""#,
        "2026-06-01T10:00:12Z DEBUG x: encryption_key = log-encryption-key-CANARY27",
        "2026-06-01T10:00:13Z DEBUG x: access_key=log-access-key-CANARY28",
        "2026-06-01T10:00:14Z DEBUG x: auth_token: log-auth-token-CANARY29",
        "2026-06-01T10:00:15Z DEBUG x: passwd=log-passwd-CANARY30",
        "2026-06-01T10:00:16Z DEBUG x: Authorization: Basic glpat-log-basic-CANARY31",
        "2026-06-01T10:00:17Z DEBUG x: GET /v1/things?token=log-token-query-CANARY34&a=1",
        "2026-06-01T10:00:18Z ERROR server: thread 'shard-1' panicked at core/server/src/x.rs:1:1",
    ]
    .join("\n");
    std::fs::write(data.join("logs/iggy-server.log"), log).unwrap();
    std::fs::write(
        data.join("runtime/server.key"),
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCKEYCANARY32\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    std::fs::write(
        data.join("logs/tls-debug.log"),
        "loaded key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEcanaryRSAkeyBODYCANARY33\nAAAA\n-----END RSA PRIVATE KEY-----\n",
    )
    .unwrap();
    (data, config)
}

/// A process named iggy-server (a shell script: the kernel names it after the script) with
/// secrets in its environment and command line.
fn fake_server(root: &Path) -> Child {
    let script = root.join("iggy-server");
    std::fs::write(&script, "#!/bin/sh\nsleep 60\n").unwrap();
    let mut perm = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&script, perm).unwrap();
    Command::new(&script)
        .args([
            "--password",
            "cli-password-CANARY15",
            "--token=cli-token-CANARY16",
        ])
        .env("IGGY_ROOT_PASSWORD", "env-root-pass-CANARY08")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "env-aws-secret-CANARY09aaaaaaaaaaaaaaaaaaaaaaa",
        )
        .env(
            "DATABASE_URL",
            "postgres://app:env-dburl-pass-CANARY10@db:5432/x",
        )
        .env("GITHUB_TOKEN", "ghp_CANARY11aaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .env("SLACK_WEBHOOK", "xoxb-CANARY12-slack-token-value")
        .env("IGGY_HTTP_JWT_ENCODING_SECRET", "env-jwt-secret-CANARY13")
        .env("MY_SERVICE_API_KEY", "env-api-key-CANARY14")
        .env("IGGY_PAT", "env-pat-CANARY35")
        .spawn()
        .unwrap()
}

/// Every byte of the archive that a person could read: every entry decompressed, and every
/// entry of nested ZIPs decompressed too.
fn all_text(zip_path: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(prefix: &str, bytes: &[u8], out: &mut Vec<(String, Vec<u8>)>) {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        for i in 0..z.len() {
            let mut e = z.by_index(i).unwrap();
            let name = format!("{prefix}{}", e.name().unwrap());
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            if name.ends_with(".zip") {
                walk(&format!("{name}!"), &data, out);
            }
            out.push((name, data));
        }
    }
    let mut out = Vec::new();
    walk("", &std::fs::read(zip_path).unwrap(), &mut out);
    out
}

fn collect(root: &Path, redact: bool) -> PathBuf {
    let (data, config) = (
        root.join("local_data"),
        root.join("local_data/runtime/current_config.toml"),
    );
    let out = root.join(if redact { "redacted.zip" } else { "raw.zip" });
    let mut cmd = snapdesk(&root.join("home"));
    cmd.arg("collect")
        .arg("--out")
        .arg(&out)
        .arg("--iggy-config")
        .arg(&config);
    cmd.arg("--iggy-data")
        .arg(&data)
        .arg("--cert")
        .arg(data.join("runtime/server.key"));
    if !redact {
        cmd.arg("--no-redact-secrets");
    }
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    out
}

/// The text of entry `name` (nested names as `a.zip!b`), if the archive has it.
fn entry<'a>(entries: &'a [(String, Vec<u8>)], name: &str) -> Option<std::borrow::Cow<'a, str>> {
    entries
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, d)| String::from_utf8_lossy(d))
}

/// Waits until the fake server runs under its own name with its secret command line: the
/// collector finds it by name, and a fixed sleep would race with a loaded machine.
fn wait_until_visible(server: &Child) {
    let proc_dir = Path::new("/proc").join(server.id().to_string());
    wait::until(
        "the fake iggy-server in /proc",
        Duration::from_secs(10),
        || {
            let comm = std::fs::read_to_string(proc_dir.join("comm")).unwrap_or_default();
            let cmdline = std::fs::read(proc_dir.join("cmdline")).unwrap_or_default();
            comm.trim() == "iggy-server"
                && String::from_utf8_lossy(&cmdline).contains("cli-token-CANARY16")
        },
    );
}

#[cfg(target_os = "linux")]
#[test]
fn no_planted_secret_survives_anywhere_in_the_archive() {
    let tmp = tempfile::tempdir().unwrap();
    plant(tmp.path());
    let mut server = fake_server(tmp.path());
    wait_until_visible(&server);

    let redacted = collect(tmp.path(), true);
    let raw = collect(tmp.path(), false);
    let _ = server.kill();
    let _ = server.wait();

    let planted = planted();
    assert_eq!(planted.len(), 36);

    // The control: unredacted, every canary is in every place it was planted to reach.
    let raw_entries = all_text(&raw);
    let mut missing = Vec::new();
    for (canary, places) in &planted {
        for place in *places {
            match entry(&raw_entries, place) {
                Some(text) if text.contains(canary) => {}
                Some(_) => {
                    let found_in: Vec<&str> = raw_entries
                        .iter()
                        .filter(|(_, d)| String::from_utf8_lossy(d).contains(canary))
                        .map(|(n, _)| n.as_str())
                        .collect();
                    missing.push(format!("{canary} not in {place} (found in {found_in:?})"));
                }
                None => missing.push(format!("{place} is not in the unredacted archive")),
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the control failed: without redaction these canaries did not reach their place, so \
         their absence after redaction would prove nothing:\n  {}",
        missing.join("\n  ")
    );

    // Redacted: the same places exist and hold none of them...
    let entries = all_text(&redacted);
    let mut leaks = Vec::new();
    for (canary, places) in &planted {
        for place in *places {
            let text = entry(&entries, place)
                .unwrap_or_else(|| panic!("{place} is missing from the redacted archive"));
            if text.contains(canary) {
                leaks.push(format!("{canary} in {place}"));
            }
        }
    }
    // ...and no entry anywhere does, nested ones included; a report's embedded data is
    // also read joined (it is cut in pieces: a secret could straddle a cut).
    for (name, data) in &entries {
        let text = String::from_utf8_lossy(data);
        let joined: Vec<String> = [
            snapdesk_report::render::DATA_ELEMENT_ID,
            snapdesk_report::iggy_data::IGGY_DATA_ELEMENT_ID,
        ]
        .iter()
        .filter_map(|id| snapdesk_report::render::read_data_element(&text, id))
        .collect();
        for c in canaries() {
            if text.contains(c) || joined.iter().any(|j| j.contains(c)) {
                leaks.push(format!("{c} in {name}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "secrets survived redaction:\n  {}",
        leaks.join("\n  ")
    );

    // The manifest counts per rule, never values.
    let manifest = entry(&entries, "manifest.json").expect("manifest.json");
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(m["redaction"]["redacted"], true);
    let total: u64 = m["redaction"]["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(
        total >= 36,
        "only {total} redactions counted for 36 canaries: {}",
        m["redaction"]
    );

    // `snapdesk redact` of the unredacted archive: the same guarantee, the input untouched.
    let before = std::fs::read(&raw).unwrap();
    let copy = tmp.path().join("copy.zip");
    let o = snapdesk(&tmp.path().join("home"))
        .args(["--json", "redact"])
        .arg(&raw)
        .arg(&copy)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read(&raw).unwrap(), before, "the input changed");
    let done: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(done["total"].as_u64().unwrap() >= 36, "{done}");
    assert!(
        done["counts"]["pem_private_key"].as_u64().unwrap() >= 1,
        "{done}"
    );
    let copied = all_text(&copy);
    let mut leaks = Vec::new();
    for (canary, places) in &planted {
        for place in *places {
            let text = entry(&copied, place)
                .unwrap_or_else(|| panic!("{place} is missing from the redacted copy"));
            if text.contains(canary) {
                leaks.push(format!("{canary} in {place}"));
            }
        }
    }
    for (name, data) in &copied {
        let text = String::from_utf8_lossy(data);
        for c in canaries() {
            if text.contains(c) {
                leaks.push(format!("{c} in {name}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "secrets survived `snapdesk redact`:\n  {}",
        leaks.join("\n  ")
    );
    let opened = snapdesk_report::archive::open(&copy).unwrap();
    let m = opened.manifest.unwrap();
    assert!(m.redaction.redacted);
    assert!(
        snapdesk_report::archive::verify(&copy, &m)
            .unwrap()
            .is_empty(),
        "the copy's manifest lists its entries"
    );
    let o = snapdesk(&tmp.path().join("home"))
        .args(["--json", "redact"])
        .arg(&copy)
        .arg(&copy)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "the input as its own output is refused"
    );

    // The process really was seen (its environment went through redaction).
    let html = entry(&entries, REPORT).expect("report.html");
    assert!(
        html.contains("IGGY_ROOT_PASSWORD=[REDACTED]"),
        "environment evidence missing"
    );
}

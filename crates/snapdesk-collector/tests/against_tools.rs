//! The collector's facts against what the standard tools print on this machine. A tool that
//! is missing or fails is a skip outside CI (said on stderr) and a failure under `CI=true`,
//! where every tool is installed. Each test counts the comparisons it really made and
//! requires a minimum, so that one whose every comparison was skipped cannot pass.
#![cfg(target_os = "linux")]

// The suite's one skip-or-fail rule, shared as a file: this crate cannot depend on
// `snapdesk-tests`, which depends on it through the emulator.
#[path = "../../../tests/src/skip.rs"]
mod skip;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use snapdesk_collector::checks::{self, Ctx, Outcome};
use snapdesk_collector::iggy::IggyTarget;
use snapdesk_report::Status;

use crate::skip::Comparisons;

fn ctx_with(extra_certs: Vec<PathBuf>) -> Ctx {
    Ctx {
        iggy: IggyTarget::default(),
        extra_certs,
        started: Instant::now(),
        host_name: "localhost".into(),
    }
}

fn run_check(id: &str, ctx: &Ctx) -> Outcome {
    let def = checks::all().into_iter().find(|c| c.id == id);
    let def = def.unwrap_or_else(|| panic!("no check {id}"));
    (def.run)(ctx)
}

fn fact<'a>(o: &'a Outcome, key: &str) -> Option<&'a str> {
    o.facts
        .iter()
        .find(|f| f.key == key)
        .map(|f| f.value.as_str())
}

/// Runs a tool; `None` after a skip (a failure under `CI=true`) when it is missing or fails.
fn tool(program: &str, args: &[&str]) -> Option<String> {
    let run = match Command::new(program).args(args).env("LC_ALL", "C").output() {
        Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        Ok(out) => Err(format!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!("{program} is not available ({e})")),
    };
    skip::require_or_skip(run)
}

/// The `vm.*` and `fs.*` parameters exist in every Linux kernel and in every container (only
/// some `net.*` ones and `kernel.io_uring_disabled` may be missing): at least these 5 of the
/// 10 must be compared.
const MIN_SYSCTLS_COMPARED: usize = 5;

#[test]
fn kernel_params_match_sysctl() {
    if tool("sysctl", &["--version"]).is_none() {
        return;
    }
    let ctx = ctx_with(Vec::new());
    let mut cmp = Comparisons::new();
    for (id, name) in checks::kernel::SYSCTLS {
        let o = run_check(id, &ctx);
        let value = fact(&o, "value").filter(|v| *v != "absent");
        let in_proc = std::path::Path::new(&checks::kernel::sysctl_path(name)).exists();
        let Some(value) = value else {
            // The kernel lacking the parameter is the one good reason not to compare.
            assert!(
                !in_proc,
                "{id}: no value, yet {name} is in /proc/sys: {}",
                o.summary
            );
            eprintln!("not compared: {id}: the kernel has no {name}");
            continue;
        };
        let Some(expected) = tool("sysctl", &["-n", name]) else {
            continue;
        };
        cmp.eq(
            value,
            expected.trim_end_matches('\n'),
            &format!("{id} ({name})"),
        );
        assert!(fact(&o, "rule").is_some(), "{id} has no rule");
        assert!(
            fact(&o, "source").is_some_and(|s| s.starts_with("/proc/sys/")),
            "{id}"
        );
    }
    cmp.require_at_least(MIN_SYSCTLS_COMPARED);
}

#[test]
fn kernel_release_matches_uname() {
    let Some(expected) = tool("uname", &["-r"]) else {
        return;
    };
    let o = run_check("os.kernel_version", &ctx_with(Vec::new()));
    assert_eq!(fact(&o, "release"), Some(expected.trim()));
}

#[test]
fn online_cpus_match_nproc() {
    let Some(expected) = tool("nproc", &[]) else {
        return;
    };
    let o = run_check("cpu.topology", &ctx_with(Vec::new()));
    assert_eq!(fact(&o, "online_cpus"), Some(expected.trim()));
}

#[test]
fn free_space_matches_df() {
    let Some(out) = tool("df", &["-k", "--output=avail", "/"]) else {
        return;
    };
    let expected: u64 = out
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap();
    let o = run_check("storage.data_free_space", &ctx_with(Vec::new()));
    assert!(o.summary.contains("checked /"), "{}", o.summary);
    let got: u64 = fact(&o, "available_kib").unwrap().parse().unwrap();
    // The disk is live: allow 1% drift between the two readings.
    let diff = got.abs_diff(expected) as f64;
    assert!(
        diff <= expected as f64 * 0.01 + 1.0,
        "df {expected} KiB, collector {got} KiB"
    );
}

#[test]
fn filesystem_type_matches_findmnt() {
    let Some(out) = tool("findmnt", &["-n", "-o", "FSTYPE", "--target", "/"]) else {
        return;
    };
    let o = run_check("storage.data_filesystem", &ctx_with(Vec::new()));
    assert_eq!(fact(&o, "fstype"), Some(out.trim()));
}

/// The ports of `ss -ltnH` lines (`LISTEN 0 128 0.0.0.0:2024 0.0.0.0:*`).
fn ss_ports(out: &str) -> BTreeSet<u16> {
    out.lines()
        .filter_map(|l| l.split_whitespace().nth(3))
        .filter_map(|local| local.rsplit(':').next())
        .filter_map(|p| p.parse().ok())
        .collect()
}

#[test]
fn listening_ports_match_ss() {
    if tool("ss", &["-V"]).is_none() {
        return;
    }
    // Sockets come and go (other tests run in parallel): compare twice before failing.
    let mut last = (BTreeSet::new(), BTreeSet::new());
    for _ in 0..3 {
        let Some(out) = tool("ss", &["-ltnH"]) else {
            return;
        };
        let expected = ss_ports(&out);
        let got: BTreeSet<u16> = snapdesk_collector::checks::network::tcp_listeners()
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        if expected == got {
            return;
        }
        last = (expected, got);
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    panic!(
        "ss -ltnH ports {:?} != /proc/net/tcp* ports {:?}",
        last.0, last.1
    );
}

fn openssl_req(dir: &Path, key: &str, cert: &str) -> bool {
    let key_p = dir.join(key);
    let cert_p = dir.join(cert);
    let args = [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "10",
        "-subj",
        "/CN=localhost",
        "-keyout",
        key_p.to_str().unwrap(),
        "-out",
        cert_p.to_str().unwrap(),
    ];
    tool("openssl", &args).is_some()
}

fn concat(dir: &Path, name: &str, parts: &[&str]) -> PathBuf {
    let mut text = String::new();
    for p in parts {
        text.push_str(&std::fs::read_to_string(dir.join(p)).unwrap());
    }
    let out = dir.join(name);
    std::fs::write(&out, text).unwrap();
    out
}

#[test]
fn certificate_checks_match_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    if !openssl_req(d, "k.pem", "c.pem") || !openssl_req(d, "k2.pem", "c2.pem") {
        return;
    }
    let cert = d.join("c.pem");
    let Some(enddate) = tool(
        "openssl",
        &["x509", "-enddate", "-noout", "-in", cert.to_str().unwrap()],
    ) else {
        return;
    };

    // Certificate and its key in one file.
    let good = concat(d, "good.pem", &["c.pem", "k.pem"]);
    let ctx = ctx_with(vec![good]);
    let o = run_check("certs.expiry", &ctx);
    assert_eq!(fact(&o, "openssl_enddate"), Some(enddate.trim()));
    assert_eq!(
        o.status,
        Status::Warn,
        "10 days left must warn: {}",
        o.summary
    );
    // `-days 10` ends 10 days from the second openssl ran; floor division gives 9 or 10.
    let days = fact(&o, "days_left");
    assert!(
        matches!(days, Some("9") | Some("10")),
        "{days:?}: {}",
        o.summary
    );
    let o = run_check("certs.key_match", &ctx);
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
    let o = run_check("certs.iggy_tls", &ctx);
    assert_eq!(o.status, Status::Warn, "{}", o.summary);
    let o = run_check("certs.chain", &ctx);
    assert_eq!(o.status, Status::Info, "{}", o.summary);
    let o = run_check("certs.hostname", &ctx);
    assert_eq!(
        o.status,
        Status::Pass,
        "CN=localhost covers localhost: {}",
        o.summary
    );

    // The same certificate with someone else's key.
    let bad = concat(d, "bad.pem", &["c.pem", "k2.pem"]);
    let o = run_check("certs.key_match", &ctx_with(vec![bad]));
    assert_eq!(o.status, Status::Fail, "{}", o.summary);

    // Key found beside the certificate by name, as Iggy names them.
    let side = d.join("side");
    std::fs::create_dir(&side).unwrap();
    std::fs::copy(d.join("c.pem"), side.join("iggy_cert.pem")).unwrap();
    std::fs::copy(d.join("k.pem"), side.join("iggy_key.pem")).unwrap();
    let o = run_check(
        "certs.key_match",
        &ctx_with(vec![side.join("iggy_cert.pem")]),
    );
    assert_eq!(o.status, Status::Pass, "{}", o.summary);
}

#[test]
fn no_certificate_is_skipped_with_a_reason() {
    let o = run_check("certs.expiry", &ctx_with(Vec::new()));
    assert_eq!(o.status, Status::Skipped);
    assert!(o.summary.contains("--cert"));
}

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

/// The clock as the kernel keeps it. Where systemd runs, `timedatectl` reads the same
/// adjtimex flags and must agree; where it does not (timedatectl cannot answer there, which
/// is no reason to skip), the check must still have measured rather than skipped.
#[test]
fn clock_sync_matches_timedatectl_or_is_measured_without_systemd() {
    let o = run_check("time.sync", &ctx_with(Vec::new()));
    assert_ne!(o.status, Status::Skipped, "{}", o.summary);
    assert!(fact(&o, "max_error_us").is_some(), "{:?}", o.facts);
    if !Path::new("/run/systemd/system").is_dir() {
        eprintln!("not compared: no systemd here, timedatectl has nothing to ask");
        assert!(!o.summary.contains("timedatectl"), "{}", o.summary);
        return;
    }
    let Some(out) = tool("timedatectl", &["show", "-p", "NTPSynchronized", "--value"]) else {
        return;
    };
    let expected = out.trim() == "yes";
    assert_eq!(
        fact(&o, "synchronised"),
        Some(expected.to_string().as_str())
    );
}

/// `hostname -I` lists this host's addresses (no loopback, no IPv6 link-local): the routable
/// ones the host name check saw are the same, and a name that `getent` resolves only to
/// loopback warns when there are any.
#[test]
fn host_name_check_matches_hostname_and_getent() {
    let Some(all) = tool("hostname", &["-I"]) else {
        return;
    };
    let Some(name) = tool("hostname", &[]) else {
        return;
    };
    let o = run_check("network.hostname", &ctx_with(Vec::new()));
    let expected: BTreeSet<String> = all
        .split_whitespace()
        .filter(|a| !a.starts_with("169.254."))
        .map(str::to_owned)
        .collect();
    let got: BTreeSet<String> = fact(&o, "routable_local_addresses")
        .unwrap_or("")
        .split(", ")
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    assert_eq!(got, expected, "{}", o.summary);
    let Some(resolved) = tool("getent", &["ahosts", name.trim()]) else {
        return;
    };
    let loopback_only = resolved
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .all(|a| {
            a.parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
        });
    if loopback_only && !expected.is_empty() {
        assert_eq!(o.status, Status::Warn, "{}", o.summary);
    } else {
        assert_eq!(o.status, Status::Pass, "{}", o.summary);
    }
}

#[test]
fn free_space_percentage_matches_dfs_use_percent() {
    let Some(out) = tool("df", &["--output=pcent", "/"]) else {
        return;
    };
    let expected: u64 = out
        .lines()
        .nth(1)
        .and_then(|l| l.trim().trim_end_matches('%').parse().ok())
        .unwrap();
    let o = run_check("storage.data_free_space", &ctx_with(Vec::new()));
    let got: u64 = fact(&o, "df_use_percent").unwrap().parse().unwrap();
    // The disk is live (other builds write to it): one point of drift is allowed.
    assert!(
        got.abs_diff(expected) <= 1,
        "df {expected}%, collector {got}%"
    );
}

#[test]
fn discard_matches_findmnt() {
    let Some(out) = tool("findmnt", &["-n", "-o", "FSTYPE,OPTIONS", "--target", "/"]) else {
        return;
    };
    let mut it = out.split_whitespace();
    let (fstype, options) = (it.next().unwrap_or(""), it.next().unwrap_or(""));
    let o = run_check("storage.data_filesystem", &ctx_with(Vec::new()));
    if fstype != "ext4" {
        assert!(fact(&o, "discard").is_none(), "{:?}", o.facts);
        return;
    }
    let discard = options.split(',').any(|x| x == "discard");
    assert_eq!(fact(&o, "discard"), Some(discard.to_string().as_str()));
    assert_eq!(
        o.summary.contains("online `discard`"),
        discard,
        "{}",
        o.summary
    );
}

#[test]
fn block_queue_matches_lsblk() {
    let o = run_check("storage.block_device", &ctx_with(Vec::new()));
    let Some(disk) = fact(&o, "disk") else {
        eprintln!("not compared: / is not on a block device: {}", o.summary);
        return;
    };
    let dev = format!("/dev/{disk}");
    let Some(out) = tool("lsblk", &["-dn", "-o", "ROTA,SCHED,RA,RQ-SIZE", &dev]) else {
        return;
    };
    let f: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(f.len(), 4, "{out}");
    assert_eq!(fact(&o, "rotational"), Some(f[0]));
    assert_eq!(fact(&o, "scheduler"), Some(f[1]));
    assert_eq!(fact(&o, "read_ahead_kb"), Some(f[2]));
    assert_eq!(fact(&o, "nr_requests"), Some(f[3]));
}

#[test]
fn tcp_buffers_match_sysctl() {
    let o = run_check("network.tcp_buffers", &ctx_with(Vec::new()));
    for name in ["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"] {
        let Some(out) = tool("sysctl", &["-n", name]) else {
            return;
        };
        let key = name.rsplit('.').next().unwrap();
        assert_eq!(fact(&o, key), Some(out.trim_end_matches('\n')), "{name}");
    }
}

#[test]
fn listen_drops_match_nstat() {
    let names = [
        "TcpExtListenOverflows",
        "TcpExtListenDrops",
        "TcpExtTCPReqQFullDrop",
    ];
    let mut args = vec!["-asz"];
    args.extend(names);
    let Some(out) = tool("nstat", &args) else {
        return;
    };
    let o = run_check("network.listen_drops", &ctx_with(Vec::new()));
    let mut cmp = Comparisons::new();
    for line in out.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(name), Some(value)) = (f.first(), f.get(1)) else {
            continue;
        };
        let key = name.trim_start_matches("TcpExt");
        // Counters only grow: the check ran after nstat, so it may be ahead, never behind.
        let got: u64 = fact(&o, key).unwrap().parse().unwrap();
        let expected: u64 = value.parse().unwrap();
        cmp.eq(&got.min(expected), &expected, key);
    }
    cmp.require_at_least(3);
}

#[test]
fn interface_mtus_match_ip_link() {
    let Some(out) = tool("ip", &["-o", "link"]) else {
        return;
    };
    let o = run_check("network.interfaces", &ctx_with(Vec::new()));
    let mut cmp = Comparisons::new();
    for line in out.lines() {
        // `2: eth0: <...> mtu 1400 qdisc ...`; a VLAN shows as `eth0.10@eth0`.
        let f: Vec<&str> = line.split_whitespace().collect();
        let name = f[1].trim_end_matches(':').split('@').next().unwrap();
        let Some(i) = f.iter().position(|x| *x == "mtu") else {
            continue;
        };
        let Some(described) = fact(&o, name) else {
            continue;
        };
        let got = described.split(',').next().unwrap();
        cmp.eq(got, format!("mtu {}", f[i + 1]).as_str(), name);
    }
    cmp.require_at_least(1);
}

#[test]
fn system_open_file_limits_match_sysctl() {
    let o = run_check("iggy.open_files", &ctx_with(Vec::new()));
    for name in ["fs.nr_open", "fs.file-max"] {
        let Some(out) = tool("sysctl", &["-n", name]) else {
            return;
        };
        assert_eq!(fact(&o, name), Some(out.trim()), "{name}: {}", o.summary);
    }
}

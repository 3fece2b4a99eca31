//! The running Iggy server process: version and uptime, open files and locked memory against
//! its limits, its systemd unit, and which other runtimes share the machine.

use std::time::Duration;

use snapdesk_report::Status;

use super::{rules, CheckDef, Ctx, Outcome};
use crate::iggy::IggyProcess;
use crate::sys::{self, CmdOutput};

pub fn checks() -> Vec<CheckDef> {
    vec![
        CheckDef {
            id: "iggy.process",
            category: "iggy",
            title: "Iggy server process",
            run: process,
        },
        CheckDef {
            id: "iggy.open_files",
            category: "iggy",
            title: "Open files against the limit",
            run: open_files,
        },
        CheckDef {
            id: "iggy.memlock",
            category: "iggy",
            title: "Locked memory limit",
            run: memlock,
        },
        CheckDef {
            id: "iggy.systemd_unit",
            category: "iggy",
            title: "systemd unit state and restarts",
            run: systemd_unit,
        },
        CheckDef {
            id: "runtime.versions",
            category: "runtime",
            title: "Other runtimes on the machine",
            run: runtime_versions,
        },
    ]
}

/// Formats seconds as `3d 4h 5m`.
pub fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    if d > 0 {
        format!("{d}d {h}h {m}m")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

fn process(ctx: &Ctx) -> Outcome {
    let Some(p) = &ctx.iggy.process else {
        return Outcome::info("no iggy-server process found");
    };
    let exe = p
        .exe
        .as_ref()
        .map(|e| e.display().to_string())
        .unwrap_or_default();
    let replaced = exe.ends_with(" (deleted)");
    let version = if exe.is_empty() || replaced {
        None
    } else {
        match sys::run(&exe, &["--version"], sys::CMD_TIMEOUT) {
            CmdOutput::Ok(out) => Some(crate::sys::first_line(&out)),
            CmdOutput::Failed { stdout, stderr, .. } => {
                Some(crate::sys::first_line(if stdout.trim().is_empty() {
                    &stderr
                } else {
                    &stdout
                }))
                .filter(|s| !s.is_empty())
            }
            CmdOutput::Missing | CmdOutput::TimedOut => None,
        }
    };
    let uptime = p
        .uptime_secs
        .map(human_duration)
        .unwrap_or_else(|| "unknown".into());
    let summary = format!(
        "iggy-server pid {}, {}, up {uptime}",
        p.pid,
        version.as_deref().unwrap_or("version unknown")
    );
    let mut o = if replaced {
        Outcome::warn(format!(
            "{summary}; its binary was replaced on disk since it started"
        ))
        .remediation("Restart the server to run the installed (upgraded) binary.")
    } else {
        Outcome::info(summary)
    };
    o = o.fact("pid", p.pid).fact("exe", exe);
    if let Some(v) = version {
        o = o.fact("version", v);
    }
    if let Some(cwd) = &p.cwd {
        o = o.fact("cwd", cwd.display());
    }
    if let Some(secs) = p.uptime_secs {
        o = o.fact("uptime", uptime).fact("uptime_secs", secs);
    }
    o = o.fact("cmdline", p.cmdline.join(" "));
    for key in ["IGGY_CONFIG_PATH", "IGGY_SYSTEM_PATH"] {
        if let Some(v) = p.env(key) {
            o = o.fact(key.to_ascii_lowercase(), v);
        }
    }
    if p.environ.is_empty() {
        o = o.fact("environ", "not readable (run as the Iggy user or root)");
    } else {
        // The whole environment is evidence: overrides like IGGY_TCP_ADDRESS explain
        // behaviour. Secrets in it are redacted with the rest of the report.
        let env: Vec<String> = p.environ.iter().map(|(k, v)| format!("{k}={v}")).collect();
        o = o.evidence(format!("/proc/{}/environ", p.pid), env.join("\n"));
    }
    o
}

/// A soft limit from `/proc/<pid>/limits`: `Some(None)` when unlimited.
pub fn parse_limit(limits: &str, name: &str) -> Option<Option<u64>> {
    let rest = limits.lines().find_map(|l| l.strip_prefix(name))?;
    let soft = rest.split_whitespace().next()?;
    if soft == "unlimited" {
        Some(None)
    } else {
        soft.parse().ok().map(Some)
    }
}

/// `VmLck` of `/proc/<pid>/status`, in kB.
pub fn parse_vmlck_kib(status: &str) -> Option<u64> {
    let rest = status.lines().find_map(|l| l.strip_prefix("VmLck:"))?;
    rest.split_whitespace().next()?.parse().ok()
}

fn no_process() -> Outcome {
    Outcome::skipped("no iggy-server process found")
}

/// The Iggy process and its `/proc/<pid>/limits` (path and text), or why a limits check
/// cannot run here.
fn process_limits(ctx: &Ctx) -> Result<(&IggyProcess, String, String), Outcome> {
    if !cfg!(target_os = "linux") {
        return Err(Outcome::unsupported_os());
    }
    let p = ctx.iggy.process.as_ref().ok_or_else(no_process)?;
    let limits_path = format!("/proc/{}/limits", p.pid);
    let limits = sys::read(&limits_path)
        .map_err(|_| Outcome::skipped(format!("cannot read {limits_path}")))?;
    Ok((p, limits_path, limits))
}

/// Whether systemd is the init system here, and if not, what is (`sd_booted(3)`'s test:
/// `/run/systemd/system` exists).
pub fn systemd_state() -> Result<(), String> {
    if std::path::Path::new("/run/systemd/system").is_dir() {
        return Ok(());
    }
    let init = sys::read_trim("/proc/1/comm").unwrap_or_else(|| "unknown".to_owned());
    Err(format!("no systemd on this host (PID 1 is {init})"))
}

/// `fs.file-nr`: allocated handles, unused (always 0 since 2.6), maximum.
pub fn parse_file_nr(v: &str) -> Option<(u64, u64)> {
    let mut it = v.split_whitespace();
    let allocated = it.next()?.parse().ok()?;
    let _unused = it.next()?;
    Some((allocated, it.next()?.parse().ok()?))
}

/// Open files system-wide, when no Iggy process is there to measure: handles in use against
/// `fs.file-max`, the per-process ceiling `fs.nr_open`, and the default limits new
/// processes get (systemd's `DefaultLimitNOFILE`, or the collector's own as inherited).
fn system_open_files() -> Outcome {
    let Some((allocated, max)) = sys::sysctl("fs.file-nr").and_then(|v| parse_file_nr(&v)) else {
        return Outcome::skipped("no iggy-server process found, and fs.file-nr is not readable");
    };
    let nr_open = sys::sysctl_u64("fs.nr_open");
    let (status, rule) = rules::system_open_files(allocated, max, nr_open);
    let own = sys::read("/proc/self/limits")
        .ok()
        .and_then(|l| parse_limit(&l, "Max open files"));
    let own_text = match own {
        Some(Some(n)) => n.to_string(),
        Some(None) => "unlimited".to_owned(),
        None => "unknown".to_owned(),
    };
    let defaults = match systemd_state() {
        Ok(()) => match sys::run(
            "systemctl",
            &["show", "-p", "DefaultLimitNOFILESoft,DefaultLimitNOFILE"],
            sys::CMD_TIMEOUT,
        ) {
            CmdOutput::Ok(out) => out.split_whitespace().collect::<Vec<_>>().join(", "),
            _ => "systemd runs, but its default limits could not be read".to_owned(),
        },
        Err(no) => format!("{no}: services get the limits of whatever starts them"),
    };
    let mut o = Outcome::new(
        status,
        format!(
            "no iggy-server process: {allocated} file handles open system-wide of {max} \
             (fs.file-max); per-process ceiling fs.nr_open {}",
            nr_open.map_or("unknown".to_owned(), |n| n.to_string())
        ),
    )
    .fact("file_handles_allocated", allocated)
    .fact("fs.file-max", max)
    .fact(
        "fs.nr_open",
        nr_open.map_or("unknown".to_owned(), |n| n.to_string()),
    )
    .fact("collector_soft_limit", own_text)
    .fact("default_limits", defaults)
    .fact("rule", rule)
    .fact(
        "source",
        "/proc/sys/fs/file-nr, /proc/sys/fs/nr_open, /proc/self/limits",
    );
    if status != Status::Pass {
        o = o.remediation(format!(
            "Raise the system-wide ceilings so the server's `LimitNOFILE=1048576` can apply: \
             `sysctl -w fs.nr_open=1048576 fs.file-max=2097152`, persisted with `echo \
             'fs.nr_open = 1048576' > {}` and `echo 'fs.file-max = 2097152' > {}`.",
            super::kernel::sysctl_conf("fs.nr_open"),
            super::kernel::sysctl_conf("fs.file-max")
        ));
    }
    o
}

fn open_files(ctx: &Ctx) -> Outcome {
    if cfg!(target_os = "linux") && ctx.iggy.process.is_none() {
        return system_open_files();
    }
    let (p, limits_path, limits) = match process_limits(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let fd_dir = format!("/proc/{}/fd", p.pid);
    let count = match std::fs::read_dir(&fd_dir) {
        Ok(rd) => rd.count(),
        Err(e) => {
            return Outcome::skipped(format!(
                "cannot list {fd_dir} ({e}): run as the Iggy user or root"
            ))
        }
    };
    let limit = match parse_limit(&limits, "Max open files") {
        Some(Some(l)) => l,
        Some(None) => {
            return Outcome::pass(format!("{count} open files, no limit"))
                .fact("open_files", count)
                .fact("limit", "unlimited");
        }
        None => return Outcome::skipped(format!("no 'Max open files' line in {limits_path}")),
    };
    let ratio = if limit > 0 {
        count as f64 / limit as f64
    } else {
        1.0
    };
    let (status, rule) = rules::open_files_ratio(ratio);
    let mut o = Outcome::new(
        status,
        format!("{count} of {limit} open files ({:.0}%)", ratio * 100.0),
    )
    .fact("open_files", count)
    .fact("limit", limit)
    .fact("ratio", format!("{ratio:.3}"))
    .fact("rule", rule)
    .fact("source", format!("{limits_path}, {fd_dir}"));
    if limit < 65_536 {
        o.summary
            .push_str("; the limit is low for a streaming server");
    }
    if status != Status::Pass || limit < 65_536 {
        o = o.remediation(
            "Raise the limit: `LimitNOFILE=1048576` in the systemd unit (or `ulimit -n` / \
             --ulimit nofile for containers), then restart the server.",
        );
    }
    o
}

/// Whether a process has an io_uring instance open (an fd linking to `anon_inode:[io_uring]`).
/// `None` when its fds cannot be listed.
fn uses_io_uring(pid: u32) -> Option<bool> {
    let rd = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    let found = rd.filter_map(|e| e.ok()).any(|e| {
        std::fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy().contains("io_uring"))
    });
    Some(found)
}

fn memlock(ctx: &Ctx) -> Outcome {
    let (p, limits_path, limits) = match process_limits(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let Some(limit) = parse_limit(&limits, "Max locked memory") else {
        return Outcome::skipped(format!("no 'Max locked memory' line in {limits_path}"));
    };
    let locked_kib = sys::read(format!("/proc/{}/status", p.pid))
        .ok()
        .and_then(|s| parse_vmlck_kib(&s));
    let io_uring = uses_io_uring(p.pid);
    let (status, rule) = rules::memlock(limit, io_uring.unwrap_or(false));
    let limit_text = match limit {
        Some(b) => super::storage::human_bytes(b),
        None => "unlimited".to_owned(),
    };
    let uring_text = match io_uring {
        Some(true) => "io_uring in use",
        Some(false) => "no io_uring",
        None => "io_uring use unknown",
    };
    let mut o = Outcome::new(
        status,
        format!("locked memory limit {limit_text} ({uring_text})"),
    )
    .fact("limit", limit_text)
    .fact("io_uring", uring_text)
    .fact("rule", rule)
    .fact("source", limits_path);
    if let Some(kib) = locked_kib {
        o = o.fact("locked_kib", kib);
    }
    if status == Status::Warn {
        o = o.remediation(
            "io_uring rings count against RLIMIT_MEMLOCK on kernels before 5.12: set \
             `LimitMEMLOCK=infinity` (or at least 64M) in the unit and restart.",
        );
    }
    o
}

/// The systemd unit a process runs in, from its cgroup path
/// (`0::/system.slice/iggy-server.service`).
pub fn unit_from_cgroup(text: &str) -> Option<String> {
    for line in text.lines() {
        let path = line.rsplit(':').next().unwrap_or("");
        for part in path.split('/').rev() {
            if part.ends_with(".service") {
                return Some(part.to_owned());
            }
        }
    }
    None
}

/// Splits `systemctl show` output for several units into one map per unit.
pub fn parse_systemctl_show(text: &str) -> Vec<Vec<(String, String)>> {
    let mut blocks = Vec::new();
    let mut cur: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                blocks.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            cur.push((k.to_owned(), v.to_owned()));
        }
    }
    if !cur.is_empty() {
        blocks.push(cur);
    }
    blocks
}

fn prop<'a>(block: &'a [(String, String)], key: &str) -> &'a str {
    block
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn systemd_unit(ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let mut units: Vec<String> = Vec::new();
    if let Some(p) = &ctx.iggy.process {
        if let Some(u) = sys::read(format!("/proc/{}/cgroup", p.pid))
            .ok()
            .and_then(|t| unit_from_cgroup(&t))
        {
            units.push(u);
        }
    }
    for u in ["iggy-server.service", "iggy.service"] {
        if !units.iter().any(|x| x == u) {
            units.push(u.to_owned());
        }
    }
    let props = "Id,LoadState,ActiveState,SubState,NRestarts,Result,ExecMainStartTimestamp";
    let mut args: Vec<&str> = vec!["show"];
    args.extend(units.iter().map(String::as_str));
    args.extend(["-p", props]);
    if let Err(no) = systemd_state() {
        return Outcome::skipped(format!("{no}: no systemd unit to look at"));
    }
    let out = match sys::run("systemctl", &args, sys::CMD_TIMEOUT) {
        CmdOutput::Ok(out) => out,
        CmdOutput::Missing => {
            return Outcome::skipped("systemd runs but systemctl is not installed")
        }
        CmdOutput::TimedOut => return Outcome::skipped("systemctl timed out"),
        CmdOutput::Failed { stderr, .. } => {
            return Outcome::skipped(format!("systemctl failed: {}", stderr.trim()))
        }
    };
    let blocks = parse_systemctl_show(&out);
    let Some(block) = blocks.iter().find(|b| {
        let load = prop(b, "LoadState");
        !load.is_empty() && load != "not-found"
    }) else {
        return Outcome::skipped("no iggy systemd unit");
    };
    let id = prop(block, "Id");
    let active = prop(block, "ActiveState");
    let sub = prop(block, "SubState");
    let restarts: u64 = prop(block, "NRestarts").parse().unwrap_or(0);
    let started = prop(block, "ExecMainStartTimestamp");
    let rule = "fail when the unit failed, warn when systemd restarted it, pass when active";
    let mut o = if active == "failed" {
        Outcome::fail(format!("{id} has failed ({sub})")).remediation(format!(
            "See `journalctl -u {id} -n 200` for why it stopped, fix it, then `systemctl \
             restart {id}`."
        ))
    } else if restarts > 0 {
        Outcome::warn(format!(
            "{id} is {active} ({sub}) but systemd restarted it {restarts} time(s)"
        ))
        .remediation(format!(
            "The server crashed or was killed: look for panics and OOM kills in \
                 `journalctl -u {id}` and the kernel log."
        ))
    } else if active == "active" {
        Outcome::pass(format!("{id} is active ({sub})"))
    } else {
        Outcome::info(format!("{id} is {active} ({sub})"))
    };
    for (k, v) in block {
        o = o.fact(k.as_str(), v);
    }
    if !started.is_empty() {
        o.summary.push_str(&format!(", started {started}"));
    }
    o.fact("rule", rule)
        .evidence(format!("systemctl show {}", units.join(" ")), out.trim())
}

/// Other runtimes whose presence helps explain a machine's load, and how to ask their version.
const RUNTIMES: [(&str, &str); 6] = [
    ("java", "java -version 2>&1"),
    ("python3", "python3 --version 2>&1"),
    ("node", "node --version 2>&1"),
    ("go", "go version 2>&1"),
    ("docker", "docker --version 2>&1"),
    ("containerd", "containerd --version 2>&1"),
];

fn runtime_versions(_ctx: &Ctx) -> Outcome {
    // Run them side by side: each has its own 2 s timeout, one after the other could take 12 s.
    let handles: Vec<(&str, std::thread::JoinHandle<String>)> = RUNTIMES
        .into_iter()
        .map(|(prog, cmd)| {
            let h = std::thread::spawn(move || {
                if !sys::has_program(prog) {
                    return String::new();
                }
                // Through sh so that `java -version`, which prints to stderr, is captured too.
                match sys::run("sh", &["-c", cmd], Duration::from_secs(2)) {
                    CmdOutput::Ok(out) => crate::sys::first_line(&out),
                    CmdOutput::Failed { stdout, .. } => crate::sys::first_line(&stdout),
                    CmdOutput::TimedOut => "installed (version timed out)".to_owned(),
                    CmdOutput::Missing => String::new(),
                }
            });
            (prog, h)
        })
        .collect();
    let mut found: Vec<String> = Vec::new();
    let mut facts: Vec<(String, String)> = Vec::new();
    for (prog, h) in handles {
        let v = h.join().unwrap_or_default();
        if v.is_empty() {
            facts.push((prog.to_owned(), "not installed".to_owned()));
        } else {
            found.push(prog.to_owned());
            facts.push((prog.to_owned(), v));
        }
    }
    let summary = if found.is_empty() {
        "no other runtimes found (java, python3, node, go, docker, containerd)".to_owned()
    } else {
        format!("also installed: {}", found.join(", "))
    };
    let mut o = Outcome::info(summary);
    for (k, v) in facts {
        o = o.fact(k, v);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: &str = "Limit                     Soft Limit           Hard Limit    Units\n\
        Max cpu time              unlimited            unlimited            seconds   \n\
        Max open files            1024                 524288               files     \n\
        Max locked memory         8388608              8388608              bytes     \n";

    #[test]
    fn limits_file() {
        assert_eq!(parse_limit(LIMITS, "Max open files"), Some(Some(1024)));
        assert_eq!(
            parse_limit(LIMITS, "Max locked memory"),
            Some(Some(8_388_608))
        );
        assert_eq!(parse_limit(LIMITS, "Max cpu time"), Some(None));
        assert_eq!(parse_limit(LIMITS, "Max nice priority"), None);
    }

    #[test]
    fn status_vmlck() {
        assert_eq!(
            parse_vmlck_kib("Name:\tiggy-server\nVmLck:\t      64 kB\n"),
            Some(64)
        );
        assert_eq!(parse_vmlck_kib("Name:\tx\n"), None);
    }

    #[test]
    fn systemctl_blocks() {
        let out = "Id=iggy-server.service\nLoadState=loaded\nActiveState=active\nNRestarts=2\n\n\
                   Id=iggy.service\nLoadState=not-found\nActiveState=inactive\nNRestarts=0\n";
        let b = parse_systemctl_show(out);
        assert_eq!(b.len(), 2);
        assert_eq!(prop(&b[0], "NRestarts"), "2");
        assert_eq!(prop(&b[1], "LoadState"), "not-found");
        assert_eq!(prop(&b[1], "Missing"), "");
    }

    #[test]
    fn unit_names_from_cgroups() {
        let t = "0::/system.slice/iggy-server.service\n";
        assert_eq!(unit_from_cgroup(t).as_deref(), Some("iggy-server.service"));
        assert_eq!(
            unit_from_cgroup("0::/user.slice/user-1000.slice/session-2.scope"),
            None
        );
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(65), "1m 5s");
        assert_eq!(human_duration(3 * 3600 + 120), "3h 2m");
        assert_eq!(human_duration(2 * 86_400 + 3600), "2d 1h 0m");
    }

    #[test]
    fn no_process_means_info_or_skipped() {
        let ctx = Ctx {
            iggy: crate::iggy::IggyTarget::default(),
            extra_certs: Vec::new(),
            started: std::time::Instant::now(),
            host_name: "h".into(),
        };
        assert_eq!(process(&ctx).status, Status::Info);
        if cfg!(target_os = "linux") {
            // Without a server, open files are measured system-wide rather than skipped.
            let o = open_files(&ctx);
            assert_ne!(o.status, Status::Skipped, "{}", o.summary);
            assert!(
                o.facts.iter().any(|f| f.key == "fs.nr_open"),
                "{:?}",
                o.facts
            );
            assert_eq!(memlock(&ctx).status, Status::Skipped);
        }
    }

    #[test]
    fn file_nr_is_parsed() {
        assert_eq!(
            parse_file_nr("1877\t0\t9223372036854775807"),
            Some((1877, 9_223_372_036_854_775_807))
        );
        assert_eq!(parse_file_nr("x"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn without_systemd_the_unit_check_says_so_plainly() {
        let ctx = Ctx {
            iggy: crate::iggy::IggyTarget::default(),
            extra_certs: Vec::new(),
            started: std::time::Instant::now(),
            host_name: "h".into(),
        };
        if systemd_state().is_err() {
            let o = systemd_unit(&ctx);
            assert_eq!(o.status, Status::Skipped);
            assert!(
                o.summary.starts_with("no systemd on this host (PID 1 is "),
                "{}",
                o.summary
            );
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn own_process_limits_are_readable() {
        let limits = sys::read("/proc/self/limits").unwrap();
        assert!(parse_limit(&limits, "Max open files").is_some());
    }
}

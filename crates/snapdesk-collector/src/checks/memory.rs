//! Memory: available memory, swap, OOM kills and cgroup limits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use snapdesk_report::Status;

use super::storage::human_bytes;
use super::{rules, CheckDef, Ctx, Outcome};
use crate::sys;

pub fn checks() -> Vec<CheckDef> {
    vec![
        CheckDef {
            id: "memory.available",
            category: "memory",
            title: "Available memory",
            run: available,
        },
        CheckDef {
            id: "memory.swap",
            category: "memory",
            title: "Swap",
            run: swap,
        },
        CheckDef {
            id: "memory.oom_kills",
            category: "memory",
            title: "OOM kills since boot",
            run: oom_kills,
        },
        CheckDef {
            id: "memory.cgroup_limits",
            category: "memory",
            title: "cgroup memory, CPU and pids limits",
            run: cgroup_limits,
        },
    ]
}

/// `/proc/meminfo` as `key -> value` (values in kB, as the kernel prints them).
pub fn parse_meminfo(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            let n = v.split_whitespace().next()?.parse().ok()?;
            Some((k.trim().to_owned(), n))
        })
        .collect()
}

pub(crate) fn meminfo() -> Option<BTreeMap<String, u64>> {
    sys::read("/proc/meminfo").ok().map(|t| parse_meminfo(&t))
}

fn available(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let Some(m) = meminfo() else {
        return Outcome::skipped("cannot read /proc/meminfo");
    };
    let (Some(total), Some(avail)) = (m.get("MemTotal").copied(), m.get("MemAvailable").copied())
    else {
        return Outcome::skipped("/proc/meminfo has no MemTotal or MemAvailable (kernel < 3.14?)");
    };
    if total == 0 {
        return Outcome::skipped("MemTotal is 0");
    }
    let pct = 100.0 * avail as f64 / total as f64;
    let (status, rule) = rules::mem_available_percent(pct);
    let mut o = Outcome::new(
        status,
        format!(
            "{} of {} available ({pct:.1}%)",
            human_bytes(avail * 1024),
            human_bytes(total * 1024)
        ),
    )
    .fact("total", human_bytes(total * 1024))
    .fact("available", human_bytes(avail * 1024))
    .fact("total_kib", total)
    .fact("available_kib", avail)
    .fact("available_percent", format!("{pct:.1}"))
    .fact("rule", rule)
    .fact("source", "/proc/meminfo");
    if status != Status::Pass {
        o = o.remediation(
            "Memory is nearly exhausted: find the largest processes (`ps aux --sort=-rss | \
             head`), lower Iggy's cache/memory pool sizes, or add memory.",
        );
    }
    o
}

fn swap(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let Some(m) = meminfo() else {
        return Outcome::skipped("cannot read /proc/meminfo");
    };
    let total = m.get("SwapTotal").copied().unwrap_or(0);
    let free = m.get("SwapFree").copied().unwrap_or(0);
    let used = total.saturating_sub(free);
    let pct = if total > 0 {
        Some(100.0 * used as f64 / total as f64)
    } else {
        None
    };
    let (status, rule) = rules::swap_used_percent(pct);
    let summary = match pct {
        None => "no swap configured".to_owned(),
        Some(p) => format!(
            "{} of {} swap used ({p:.1}%)",
            human_bytes(used * 1024),
            human_bytes(total * 1024)
        ),
    };
    let mut o = Outcome::new(status, summary)
        .fact("swap_total", human_bytes(total * 1024))
        .fact("swap_used", human_bytes(used * 1024))
        .fact("swap_total_kib", total)
        .fact("swap_free_kib", free)
        .fact("rule", rule)
        .fact("source", "/proc/meminfo");
    if status == Status::Warn {
        o = o.remediation(
            "Heavy swap use stalls the server: add memory or reduce other workloads; keep \
             vm.swappiness low (1-10).",
        );
    }
    o
}

/// The `oom_kill` counter of `/proc/vmstat` (kernel 4.13+).
pub fn parse_vmstat_oom(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("oom_kill "))
        .and_then(|v| v.trim().parse().ok())
}

fn oom_kills(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let Ok(text) = sys::read("/proc/vmstat") else {
        return Outcome::skipped("cannot read /proc/vmstat");
    };
    let Some(n) = parse_vmstat_oom(&text) else {
        return Outcome::skipped("/proc/vmstat has no oom_kill counter (kernel older than 4.13)");
    };
    let rule = "warn when the OOM killer has killed any process since boot";
    if n > 0 {
        Outcome::warn(format!("the OOM killer killed {n} process(es) since boot"))
            .fact("oom_kill", n)
            .fact("rule", rule)
            .fact("source", "/proc/vmstat")
            .remediation(
                "See the kernel log (logs.oom_kills) for which processes were killed; give Iggy \
                 more memory or limit its memory pool, and protect it with OOMScoreAdjust.",
            )
    } else {
        Outcome::pass("no OOM kills since boot")
            .fact("oom_kill", n)
            .fact("rule", rule)
            .fact("source", "/proc/vmstat")
    }
}

/// The cgroups of a process, from `/proc/<pid>/cgroup`: the unified (v2) path, and the v1
/// path per controller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupPaths {
    pub unified: Option<String>,
    pub v1: BTreeMap<String, String>,
}

pub fn parse_proc_cgroup(text: &str) -> CgroupPaths {
    let mut out = CgroupPaths::default();
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if controllers.is_empty() {
            out.unified = Some(path.to_owned());
        } else {
            for c in controllers.split(',') {
                out.v1.insert(c.to_owned(), path.to_owned());
            }
        }
    }
    out
}

/// A cgroup v2 `memory.max` / `pids.max` value: `Some(None)` for `max` (unlimited). Very
/// large cgroup v1 values (the page-rounded `i64::MAX`) also mean unlimited.
pub fn parse_limit(text: &str) -> Option<Option<u64>> {
    let t = text.trim();
    if t == "max" || t == "-1" {
        return Some(None);
    }
    let n: u64 = t.parse().ok()?;
    if n >= 1 << 60 {
        Some(None)
    } else {
        Some(Some(n))
    }
}

/// A cgroup v2 `cpu.max` (`"max 100000"` or `"200000 100000"`) as a number of CPUs;
/// `Some(None)` when unlimited.
pub fn parse_cpu_max(text: &str) -> Option<Option<f64>> {
    let mut it = text.split_whitespace();
    let quota = it.next()?;
    let period: f64 = it.next().unwrap_or("100000").parse().ok()?;
    if quota == "max" || quota == "-1" {
        return Some(None);
    }
    let q: f64 = quota.parse().ok()?;
    if period <= 0.0 {
        return None;
    }
    Some(Some(q / period))
}

pub(crate) fn cg_join(root: &str, path: &str) -> PathBuf {
    Path::new(root).join(path.trim_start_matches('/'))
}

fn cgroup_limits(ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let (whose, cgroup_file) = match &ctx.iggy.process {
        Some(p) => (
            format!("iggy-server (pid {})", p.pid),
            format!("/proc/{}/cgroup", p.pid),
        ),
        None => ("this collector".to_owned(), "/proc/self/cgroup".to_owned()),
    };
    let Ok(text) = sys::read(&cgroup_file) else {
        return Outcome::skipped(format!("cannot read {cgroup_file}"));
    };
    let paths = parse_proc_cgroup(&text);
    let unified_only = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let mut memory: Option<Option<u64>> = None;
    let mut cpus: Option<Option<f64>> = None;
    let mut pids: Option<Option<u64>> = None;
    let mut sources: Vec<String> = Vec::new();
    if let (true, Some(p)) = (unified_only, paths.unified.as_deref()) {
        let dir = cg_join("/sys/fs/cgroup", p);
        memory = sys::read(dir.join("memory.max"))
            .ok()
            .and_then(|t| parse_limit(&t));
        cpus = sys::read(dir.join("cpu.max"))
            .ok()
            .and_then(|t| parse_cpu_max(&t));
        pids = sys::read(dir.join("pids.max"))
            .ok()
            .and_then(|t| parse_limit(&t));
        sources.push(dir.display().to_string());
    } else {
        // cgroup v1 (or hybrid): one hierarchy per controller.
        if let Some(p) = paths.v1.get("memory") {
            let f = cg_join("/sys/fs/cgroup/memory", p).join("memory.limit_in_bytes");
            memory = sys::read(&f).ok().and_then(|t| parse_limit(&t));
            sources.push(f.display().to_string());
        }
        if let Some(p) = paths.v1.get("cpu") {
            let dir = cg_join("/sys/fs/cgroup/cpu", p);
            let quota = sys::read_trim(dir.join("cpu.cfs_quota_us"));
            let period = sys::read_trim(dir.join("cpu.cfs_period_us"));
            if let (Some(q), Some(per)) = (quota, period) {
                cpus = parse_cpu_max(&format!("{q} {per}"));
            }
            sources.push(dir.display().to_string());
        }
        if let Some(p) = paths.v1.get("pids") {
            let f = cg_join("/sys/fs/cgroup/pids", p).join("pids.max");
            pids = sys::read(&f).ok().and_then(|t| parse_limit(&t));
            sources.push(f.display().to_string());
        }
    }
    if memory.is_none() && cpus.is_none() && pids.is_none() {
        return Outcome::skipped(format!("no cgroup limit files readable for {whose}"))
            .evidence(cgroup_file, text);
    }
    let mem_limit = memory.flatten();
    let (status, rule) = rules::cgroup_memory_limit(mem_limit);
    let mem_text = match memory {
        Some(Some(b)) => human_bytes(b),
        Some(None) => "unlimited".to_owned(),
        None => "unknown".to_owned(),
    };
    let cpu_text = match cpus {
        Some(Some(c)) => format!("{c:.2} CPUs"),
        Some(None) => "unlimited".to_owned(),
        None => "unknown".to_owned(),
    };
    let pids_text = match pids {
        Some(Some(n)) => n.to_string(),
        Some(None) => "unlimited".to_owned(),
        None => "unknown".to_owned(),
    };
    let summary = format!("{whose}: memory {mem_text}, cpu {cpu_text}, pids {pids_text}");
    let mut o = Outcome::new(status, summary)
        .fact("cgroup", paths.unified.unwrap_or_else(|| "v1".to_owned()))
        .fact("memory_limit", &mem_text)
        .fact("cpu_limit", cpu_text)
        .fact("pids_limit", pids_text)
        .fact("rule", rule)
        .fact("source", sources.join(", "))
        .evidence(cgroup_file, text.trim());
    if let Some(b) = mem_limit {
        o = o.fact("memory_limit_bytes", b);
    }
    if status == Status::Warn {
        o = o.remediation(format!(
            "The memory limit ({mem_text}) is too small for an Iggy server: raise MemoryMax= \
             of the unit or the container's memory limit to at least 1 GiB."
        ));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo() {
        let m = parse_meminfo(
            "MemTotal:       16314480 kB\nMemFree:  1000 kB\nMemAvailable:   8000000 kB\n\
             HugePages_Total:       0\n",
        );
        assert_eq!(m.get("MemTotal"), Some(&16_314_480));
        assert_eq!(m.get("MemAvailable"), Some(&8_000_000));
        assert_eq!(m.get("HugePages_Total"), Some(&0));
    }

    #[test]
    fn vmstat() {
        assert_eq!(
            parse_vmstat_oom("nr_free_pages 1\noom_kill 3\npgfault 9\n"),
            Some(3)
        );
        assert_eq!(parse_vmstat_oom("nr_free_pages 1\n"), None);
    }

    #[test]
    fn proc_cgroup_v2_and_v1() {
        let v2 = parse_proc_cgroup("0::/system.slice/iggy-server.service\n");
        assert_eq!(
            v2.unified.as_deref(),
            Some("/system.slice/iggy-server.service")
        );
        let text = "12:pids:/user.slice\n4:memory:/docker/abc\n2:cpu,cpuacct:/x\n0::/\n";
        let v1 = parse_proc_cgroup(text);
        assert_eq!(v1.v1.get("memory").map(String::as_str), Some("/docker/abc"));
        assert_eq!(v1.v1.get("cpu").map(String::as_str), Some("/x"));
        assert_eq!(v1.v1.get("cpuacct").map(String::as_str), Some("/x"));
        assert_eq!(v1.unified.as_deref(), Some("/"));
    }

    #[test]
    fn limits() {
        assert_eq!(parse_limit("max\n"), Some(None));
        assert_eq!(parse_limit("536870912"), Some(Some(536_870_912)));
        assert_eq!(parse_limit("9223372036854771712"), Some(None));
        assert_eq!(parse_limit("abc"), None);
        assert_eq!(parse_cpu_max("max 100000"), Some(None));
        assert_eq!(parse_cpu_max("200000 100000\n"), Some(Some(2.0)));
        assert_eq!(parse_cpu_max("-1 100000"), Some(None));
    }

    #[test]
    fn joins_cgroup_paths() {
        assert_eq!(
            cg_join("/sys/fs/cgroup", "/a/b"),
            PathBuf::from("/sys/fs/cgroup/a/b")
        );
        assert_eq!(
            cg_join("/sys/fs/cgroup", "/"),
            PathBuf::from("/sys/fs/cgroup/")
        );
    }
}

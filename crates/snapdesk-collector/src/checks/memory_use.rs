//! Memory in use, beyond what is available: dirty pages against the write-back limits (in
//! bytes, whichever of `vm.dirty_bytes` or `vm.dirty_ratio` applies), and the cgroup's memory
//! use, limit hits and OOM events (cgroup v1 and v2).

use std::collections::BTreeMap;
use std::path::Path;

use snapdesk_report::Status;

use super::kernel::sysctl_conf;
use super::memory::{cg_join, meminfo, parse_limit, parse_proc_cgroup};
use super::rules::{self, CgroupMemory, DirtyMemory};
use super::storage::human_bytes;
use super::{CheckDef, Ctx, Outcome};
use crate::sys;

pub fn checks() -> Vec<CheckDef> {
    vec![
        CheckDef {
            id: "memory.dirty",
            category: "memory",
            title: "Dirty memory and write-back limits (bytes)",
            run: dirty,
        },
        CheckDef {
            id: "memory.cgroup_usage",
            category: "memory",
            title: "cgroup memory use, limit hits and OOM events",
            run: cgroup_usage,
        },
    ]
}

fn dirty(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let Some(m) = meminfo() else {
        return Outcome::skipped("cannot read /proc/meminfo");
    };
    let kb = |k: &str| m.get(k).copied().unwrap_or(0) * 1024;
    let d = DirtyMemory {
        dirty_bytes: sys::sysctl_u64("vm.dirty_bytes").unwrap_or(0),
        dirty_background_bytes: sys::sysctl_u64("vm.dirty_background_bytes").unwrap_or(0),
        dirty_ratio: sys::sysctl_u64("vm.dirty_ratio").unwrap_or(20),
        dirty_background_ratio: sys::sysctl_u64("vm.dirty_background_ratio").unwrap_or(10),
        available: kb("MemAvailable"),
        dirty: kb("Dirty"),
        writeback: kb("Writeback"),
    };
    judge_dirty(&d)
}

pub fn judge_dirty(d: &DirtyMemory) -> Outcome {
    let (status, rule) = rules::dirty_memory(d);
    let limit = d.limit();
    let how = if d.dirty_bytes > 0 {
        "vm.dirty_bytes".to_owned()
    } else {
        format!("vm.dirty_ratio {}% of available memory", d.dirty_ratio)
    };
    let mut o = Outcome::new(
        status,
        format!(
            "{} dirty, {} under write-back; writers are throttled at {} ({how})",
            human_bytes(d.dirty),
            human_bytes(d.writeback),
            human_bytes(limit)
        ),
    )
    .fact("dirty_bytes_now", d.dirty)
    .fact("writeback_bytes_now", d.writeback)
    .fact("dirty_limit_bytes", limit)
    .fact("vm.dirty_bytes", d.dirty_bytes)
    .fact("vm.dirty_background_bytes", d.dirty_background_bytes)
    .fact("vm.dirty_ratio", d.dirty_ratio)
    .fact("vm.dirty_background_ratio", d.dirty_background_ratio)
    .fact("rule", rule)
    .fact(
        "source",
        "/proc/meminfo (Dirty, Writeback, MemAvailable), /proc/sys/vm/dirty_*",
    );
    if status != Status::Pass {
        o = o.remediation(format!(
            "Cap dirty memory in bytes so a flush never holds gigabytes: `sysctl -w \
             vm.dirty_bytes=1073741824 vm.dirty_background_bytes=268435456`, persisted with \
             `echo 'vm.dirty_bytes = 1073741824' > {}` and `echo 'vm.dirty_background_bytes = \
             268435456' > {}` (setting the bytes form zeroes the ratio form).",
            sysctl_conf("vm.dirty_bytes"),
            sysctl_conf("vm.dirty_background_bytes")
        ));
    }
    o
}

/// `key value` lines (`memory.events`, `memory.stat`, `memory.oom_control`).
pub fn parse_kv(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?.to_owned(), it.next()?.parse().ok()?))
        })
        .collect()
}

/// cgroup v2: `memory.current`, `memory.max`, `memory.events`.
pub fn read_v2(dir: &Path) -> Option<CgroupMemory> {
    let usage = sys::read_trim(dir.join("memory.current")).and_then(|v| v.parse().ok());
    usage?;
    let events = sys::read(dir.join("memory.events"))
        .ok()
        .map(|t| parse_kv(&t))
        .unwrap_or_default();
    Some(CgroupMemory {
        usage,
        limit: sys::read(dir.join("memory.max"))
            .ok()
            .and_then(|t| parse_limit(&t))
            .flatten(),
        failcnt: None,
        max_events: events.get("max").copied(),
        oom: events.get("oom").copied(),
        oom_kill: events.get("oom_kill").copied(),
    })
}

/// cgroup v1: `memory.usage_in_bytes`, `memory.limit_in_bytes`, `memory.failcnt`,
/// `memory.oom_control`.
pub fn read_v1(dir: &Path) -> Option<CgroupMemory> {
    let usage = sys::read_trim(dir.join("memory.usage_in_bytes")).and_then(|v| v.parse().ok());
    usage?;
    let oom = sys::read(dir.join("memory.oom_control"))
        .ok()
        .map(|t| parse_kv(&t))
        .unwrap_or_default();
    Some(CgroupMemory {
        usage,
        limit: sys::read(dir.join("memory.limit_in_bytes"))
            .ok()
            .and_then(|t| parse_limit(&t))
            .flatten(),
        failcnt: sys::read_trim(dir.join("memory.failcnt")).and_then(|v| v.parse().ok()),
        max_events: None,
        oom: oom.get("under_oom").copied(),
        oom_kill: oom.get("oom_kill").copied(),
    })
}

pub fn judge_cgroup(whose: &str, version: &str, c: &CgroupMemory) -> Outcome {
    let (status, rule) = rules::cgroup_memory_use(c);
    let usage = c.usage.map_or("unknown".to_owned(), human_bytes);
    let limit = c.limit.map_or("no limit".to_owned(), human_bytes);
    let mut summary = format!("{whose}: {usage} in use of {limit} (cgroup {version})");
    let mut events = Vec::new();
    if let Some(n) = c.failcnt.filter(|n| *n > 0) {
        events.push(format!("limit hit {n} times (failcnt)"));
    }
    if let Some(n) = c.max_events.filter(|n| *n > 0) {
        events.push(format!("limit hit {n} times (max events)"));
    }
    if let Some(n) = c.oom_kill.filter(|n| *n > 0) {
        events.push(format!("{n} OOM kills"));
    }
    if !events.is_empty() {
        summary.push_str(&format!("; {}", events.join(", ")));
    }
    let opt = |v: Option<u64>| v.map_or("n/a".to_owned(), |n| n.to_string());
    let mut o = Outcome::new(status, summary)
        .fact("cgroup_version", version)
        .fact("usage_bytes", opt(c.usage))
        .fact(
            "limit_bytes",
            c.limit.map_or("max".to_owned(), |n| n.to_string()),
        )
        .fact("failcnt", opt(c.failcnt))
        .fact("max_events", opt(c.max_events))
        .fact("oom_events", opt(c.oom))
        .fact("oom_kill", opt(c.oom_kill))
        .fact("rule", rule);
    if status != Status::Pass {
        o = o.remediation(
            "The cgroup's memory limit is too tight for what runs in it: raise it \
             (`MemoryMax=` of the unit, the container's memory limit) or lower Iggy's cache \
             sizes; OOM kills in the cgroup are in the kernel log.",
        );
    }
    o
}

fn cgroup_usage(ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let (whose, file) = match &ctx.iggy.process {
        Some(p) => (
            format!("iggy-server (pid {})", p.pid),
            format!("/proc/{}/cgroup", p.pid),
        ),
        None => ("this collector".to_owned(), "/proc/self/cgroup".to_owned()),
    };
    let Ok(text) = sys::read(&file) else {
        return Outcome::skipped(format!("cannot read {file}"));
    };
    let paths = parse_proc_cgroup(&text);
    if let Some(p) = paths.v1.get("memory") {
        let dir = cg_join("/sys/fs/cgroup/memory", p);
        if let Some(c) = read_v1(&dir) {
            return judge_cgroup(&whose, "v1", &c).fact("source", dir.display());
        }
    }
    if let Some(p) = &paths.unified {
        let dir = cg_join("/sys/fs/cgroup", p);
        if let Some(c) = read_v2(&dir) {
            return judge_cgroup(&whose, "v2", &c).fact("source", dir.display());
        }
        // The root cgroup has no memory.current: the whole machine is the limit.
        if p == "/" {
            return Outcome::info(format!(
                "{whose} runs in the root cgroup: no cgroup memory limit applies"
            ))
            .fact("cgroup_version", "v2");
        }
    }
    Outcome::skipped(format!("no cgroup memory files readable for {whose}")).evidence(file, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_and_v1_oom_control() {
        let ev = parse_kv("low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n");
        assert_eq!(ev.get("max"), Some(&12));
        assert_eq!(ev.get("oom_kill"), Some(&1));
        let ctl = parse_kv("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
        assert_eq!(ctl.get("oom_kill"), Some(&3));
    }

    #[test]
    fn cgroup_files_are_read_for_both_versions() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("memory.current"), "104857600\n").unwrap();
        std::fs::write(d.path().join("memory.max"), "max\n").unwrap();
        std::fs::write(d.path().join("memory.events"), "max 0\noom 0\noom_kill 2\n").unwrap();
        let c = read_v2(d.path()).unwrap();
        assert_eq!(c.usage, Some(104_857_600));
        assert_eq!(c.limit, None);
        let o = judge_cgroup("x", "v2", &c);
        assert_eq!(o.status, Status::Fail, "{}", o.summary);
        assert!(o.summary.contains("2 OOM kills"), "{}", o.summary);

        let v1 = tempfile::tempdir().unwrap();
        std::fs::write(v1.path().join("memory.usage_in_bytes"), "900\n").unwrap();
        std::fs::write(v1.path().join("memory.limit_in_bytes"), "1000\n").unwrap();
        std::fs::write(v1.path().join("memory.failcnt"), "0\n").unwrap();
        let c = read_v1(v1.path()).unwrap();
        assert_eq!(c.failcnt, Some(0));
        assert_eq!(judge_cgroup("x", "v1", &c).status, Status::Pass);
        assert!(read_v1(d.path()).is_none());
    }

    #[test]
    fn dirty_memory_speaks_in_bytes() {
        let d = DirtyMemory {
            dirty_ratio: 20,
            available: 64 << 30,
            dirty: 1 << 20,
            ..Default::default()
        };
        let o = judge_dirty(&d);
        assert_eq!(o.status, Status::Warn);
        assert!(o.summary.contains("12.8 GiB"), "{}", o.summary);
        assert!(o
            .remediation
            .unwrap()
            .contains("90-iggy-vm-dirty_bytes.conf"));
    }
}

//! CPU: topology, NUMA, frequency governor, steal time and load.

use std::collections::BTreeMap;
use std::time::Duration;

use snapdesk_report::Status;

use super::{rules, CheckDef, Ctx, Outcome};
use crate::sys;

pub fn checks() -> Vec<CheckDef> {
    vec![
        CheckDef {
            id: "cpu.topology",
            category: "cpu",
            title: "CPU model and count",
            run: topology,
        },
        CheckDef {
            id: "cpu.numa",
            category: "cpu",
            title: "NUMA nodes",
            run: numa,
        },
        CheckDef {
            id: "cpu.governor",
            category: "cpu",
            title: "CPU frequency governor",
            run: governor,
        },
        CheckDef {
            id: "cpu.steal",
            category: "cpu",
            title: "CPU steal time",
            run: steal,
        },
        CheckDef {
            id: "cpu.load",
            category: "cpu",
            title: "Load average",
            run: load,
        },
    ]
}

/// Counts the CPUs in a kernel CPU list such as `0-3,8,10-11`.
pub fn count_cpu_list(list: &str) -> Option<usize> {
    let mut n = 0usize;
    for part in list.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let a: usize = a.trim().parse().ok()?;
                let b: usize = b.trim().parse().ok()?;
                n += b.checked_sub(a)? + 1;
            }
            None => {
                part.trim().parse::<usize>().ok()?;
                n += 1;
            }
        }
    }
    Some(n)
}

/// The CPUs this process may run on, as `nproc` counts them: the `Cpus_allowed_list` of
/// `/proc/self/status` on Linux. (std's `available_parallelism` also applies cgroup CPU
/// quotas, which `nproc` does not, so it is only the fallback.)
pub fn online_cpus() -> usize {
    if cfg!(target_os = "linux") {
        let status = sys::read("/proc/self/status").unwrap_or_default();
        let list = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"));
        if let Some(n) = list.and_then(count_cpu_list).filter(|n| *n > 0) {
            return n;
        }
    }
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// What `/proc/cpuinfo` says: model name, logical CPUs, sockets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuInfo {
    pub model: Option<String>,
    pub logical: usize,
    pub sockets: usize,
    pub cores_per_socket: Option<usize>,
}

pub fn parse_cpuinfo(text: &str) -> CpuInfo {
    let mut info = CpuInfo::default();
    let mut sockets = std::collections::BTreeSet::new();
    for line in text.lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        match k {
            "processor" => info.logical += 1,
            // "Model" is what arm64 kernels sometimes print instead of "model name".
            "model name" | "Model" if info.model.is_none() => info.model = Some(v.to_owned()),
            "physical id" => {
                sockets.insert(v.to_owned());
            }
            "cpu cores" if info.cores_per_socket.is_none() => {
                info.cores_per_socket = v.parse().ok();
            }
            _ => {}
        }
    }
    info.sockets = sockets.len();
    info
}

fn topology(_ctx: &Ctx) -> Outcome {
    let online = online_cpus();
    let parallelism = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    if !cfg!(target_os = "linux") {
        return Outcome::info(format!("{online} CPUs"))
            .fact("online_cpus", online)
            .fact("available_parallelism", parallelism);
    }
    let info = parse_cpuinfo(&sys::read("/proc/cpuinfo").unwrap_or_default());
    let model = info.model.clone().unwrap_or_else(|| "unknown model".into());
    let mut summary = format!("{online} usable CPUs ({} logical), {model}", info.logical);
    if info.logical > 0 && online < info.logical {
        summary.push_str(": this process is limited to a subset of CPUs (affinity or cpuset)");
    }
    let mut o = Outcome::info(summary)
        .fact("model", model)
        .fact("logical_cpus", info.logical)
        .fact("online_cpus", online)
        .fact("available_parallelism", parallelism);
    if info.sockets > 0 {
        o = o.fact("sockets", info.sockets);
    }
    if let Some(c) = info.cores_per_socket {
        o = o.fact("cores_per_socket", c);
    }
    o
}

fn numa(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let mut nodes: Vec<(String, String)> = match std::fs::read_dir("/sys/devices/system/node") {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| is_node_dir(n))
            .map(|n| {
                let cpus = sys::read_trim(format!("/sys/devices/system/node/{n}/cpulist"));
                (n, cpus.unwrap_or_default())
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    nodes.sort();
    let mut o = if nodes.len() > 1 {
        Outcome::info(format!("{} NUMA nodes", nodes.len())).remediation(
            "Cross-node memory access slows Iggy's shards: pin the server to one node \
             (numactl --cpunodebind=0 --membind=0) or use its sharding `cpu_allocation = \
             \"numa:auto\"` (0.9+).",
        )
    } else if nodes.len() == 1 {
        Outcome::info("1 NUMA node")
    } else {
        Outcome::info("no NUMA information (treated as a single node)")
    };
    o = o.fact("nodes", nodes.len());
    for (name, cpus) in nodes {
        o = o.fact(format!("{name}_cpus"), cpus);
    }
    o
}

fn is_node_dir(name: &str) -> bool {
    name.strip_prefix("node")
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()))
}

fn governor(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    if let Ok(rd) = std::fs::read_dir("/sys/devices/system/cpu") {
        for e in rd.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            let is_cpu = name
                .strip_prefix("cpu")
                .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_digit()));
            if !is_cpu {
                continue;
            }
            if let Some(g) = sys::read_trim(e.path().join("cpufreq/scaling_governor")) {
                *counts.entry(g).or_insert(0) += 1;
            }
        }
    }
    if counts.is_empty() {
        return Outcome::skipped("no cpufreq (virtual machine?)");
    }
    let listing: Vec<String> = counts
        .iter()
        .map(|(g, n)| format!("{g} ({n} CPUs)"))
        .collect();
    let listing = listing.join(", ");
    let rule = "warn when any CPU uses the powersave governor (adds latency on bursts)";
    let o = if counts.contains_key("powersave") {
        Outcome::warn(format!("governor: {listing}")).remediation(
            "Use the performance governor: `cpupower frequency-set -g performance` (persist it \
             with your distribution's cpufrequtils/tuned profile).",
        )
    } else {
        Outcome::pass(format!("governor: {listing}"))
    };
    o.fact("governors", listing).fact("rule", rule).fact(
        "source",
        "/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor",
    )
}

/// The aggregate `cpu` line of `/proc/stat`, in clock ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    /// user + nice + system + idle + iowait + irq + softirq + steal (guest time is already
    /// inside user and nice).
    pub total: u64,
    pub steal: u64,
    pub iowait: u64,
    pub idle: u64,
}

pub fn parse_proc_stat(text: &str) -> Option<CpuTimes> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let nums: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    if nums.len() < 4 {
        return None;
    }
    let get = |i: usize| nums.get(i).copied().unwrap_or(0);
    let total: u64 = (0..8).map(get).sum();
    Some(CpuTimes {
        total,
        steal: get(7),
        iowait: get(4),
        idle: get(3),
    })
}

fn steal(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let sample = || {
        sys::read("/proc/stat")
            .ok()
            .and_then(|t| parse_proc_stat(&t))
    };
    let Some(a) = sample() else {
        return Outcome::skipped("cannot read /proc/stat");
    };
    // Steal is a rate: a short window shows what happens now, not the average since boot.
    std::thread::sleep(Duration::from_millis(250));
    let Some(b) = sample() else {
        return Outcome::skipped("cannot read /proc/stat");
    };
    let dtotal = b.total.saturating_sub(a.total);
    if dtotal == 0 {
        return Outcome::skipped("no CPU time elapsed between the two samples");
    }
    let pct = |x: u64, y: u64| 100.0 * y.saturating_sub(x) as f64 / dtotal as f64;
    let steal_pct = pct(a.steal, b.steal);
    let iowait_pct = pct(a.iowait, b.iowait);
    let since_boot = if b.total > 0 {
        100.0 * b.steal as f64 / b.total as f64
    } else {
        0.0
    };
    let (status, rule) = rules::cpu_steal_percent(steal_pct);
    let mut o = Outcome::new(status, format!("steal {steal_pct:.1}% over 250 ms"))
        .fact("steal_percent", format!("{steal_pct:.2}"))
        .fact("iowait_percent", format!("{iowait_pct:.2}"))
        .fact("steal_percent_since_boot", format!("{since_boot:.2}"))
        .fact("rule", rule)
        .fact("source", "/proc/stat");
    if status != Status::Pass {
        o = o.remediation(
            "The hypervisor is giving this VM's CPU time to others: move to a dedicated or \
             larger instance type, or ask the provider about noisy neighbours.",
        );
    }
    o
}

/// The three load averages of `/proc/loadavg`.
pub fn parse_loadavg(text: &str) -> Option<(f64, f64, f64)> {
    let mut it = text.split_whitespace();
    let a = it.next()?.parse().ok()?;
    let b = it.next()?.parse().ok()?;
    let c = it.next()?.parse().ok()?;
    Some((a, b, c))
}

fn load(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let Some((l1, l5, l15)) = sys::read("/proc/loadavg")
        .ok()
        .and_then(|t| parse_loadavg(&t))
    else {
        return Outcome::skipped("cannot read /proc/loadavg");
    };
    let cpus = online_cpus();
    let (status, rule) = rules::load_average(l1, cpus);
    let mut o = Outcome::new(
        status,
        format!("load {l1:.2} / {l5:.2} / {l15:.2} on {cpus} CPUs"),
    )
    .fact("load1", format!("{l1:.2}"))
    .fact("load5", format!("{l5:.2}"))
    .fact("load15", format!("{l15:.2}"))
    .fact("cpus", cpus)
    .fact("rule", rule)
    .fact("source", "/proc/loadavg");
    if status == Status::Warn {
        o = o.remediation(
            "The machine is overloaded: find the busy processes (top, pidstat) and give Iggy \
             dedicated CPUs.",
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(count_cpu_list("0-3"), Some(4));
        assert_eq!(count_cpu_list("0-3,8,10-11\n"), Some(7));
        assert_eq!(count_cpu_list("0"), Some(1));
        assert_eq!(count_cpu_list("x"), None);
    }

    #[test]
    fn cpuinfo() {
        let text = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) \
                    CPU @ 2.20GHz\nphysical id\t: 0\ncpu cores\t: 2\n\nprocessor\t: 1\n\
                    model name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nphysical id\t: 0\n\
                    cpu cores\t: 2\n";
        let info = parse_cpuinfo(text);
        assert_eq!(info.logical, 2);
        assert_eq!(info.sockets, 1);
        assert_eq!(info.cores_per_socket, Some(2));
        assert_eq!(
            info.model.as_deref(),
            Some("Intel(R) Xeon(R) CPU @ 2.20GHz")
        );
    }

    #[test]
    fn proc_stat() {
        let text = "cpu  100 5 50 1000 20 1 2 30 0 0\ncpu0 50 2 25 500 10 1 1 15 0 0\n";
        let t = parse_proc_stat(text).unwrap();
        assert_eq!(t.total, 100 + 5 + 50 + 1000 + 20 + 1 + 2 + 30);
        assert_eq!(t.steal, 30);
        assert_eq!(t.iowait, 20);
        assert_eq!(t.idle, 1000);
        assert!(parse_proc_stat("intr 1 2 3").is_none());
    }

    #[test]
    fn loadavg() {
        assert_eq!(
            parse_loadavg("0.52 0.58 0.59 1/467 12345\n"),
            Some((0.52, 0.58, 0.59))
        );
        assert_eq!(parse_loadavg(""), None);
    }

    #[test]
    fn node_dirs() {
        assert!(is_node_dir("node0"));
        assert!(is_node_dir("node12"));
        assert!(!is_node_dir("node"));
        assert!(!is_node_dir("possible"));
    }

    #[test]
    fn online_cpus_is_positive() {
        assert!(online_cpus() >= 1);
    }
}

//! The judging half of the checks: pure functions from an observed value to a status and the
//! rule that was applied. They read nothing from the system, so they are unit-tested here and
//! reused by the emulator's host profiles. Every check puts the rule text into its facts under
//! the key `rule`, so a reader of the report sees why a value passed or not.

use snapdesk_report::Status;

mod host;
pub use host::*;

/// A status and the human-readable rule that produced it.
pub type Judgement = (Status, &'static str);

pub const SWAPPINESS_RULE: &str =
    "pass <= 10, warn otherwise (swapping out the server's pages stalls Iggy)";

/// `vm.swappiness`.
pub fn swappiness(v: u64) -> Judgement {
    (
        if v <= 10 { Status::Pass } else { Status::Warn },
        SWAPPINESS_RULE,
    )
}

pub const SWAPPINESS_NO_SWAP_RULE: &str =
    "info when no swap is configured (SwapTotal 0): swappiness has no effect without swap";

/// `vm.swappiness` judged with the swap there is: without swap the value changes nothing, so
/// a high one is information, not a warning.
pub fn swappiness_given_swap(v: u64, swap_total_kb: Option<u64>) -> Judgement {
    match (swappiness(v), swap_total_kb) {
        ((Status::Warn, _), Some(0)) => (Status::Info, SWAPPINESS_NO_SWAP_RULE),
        (j, _) => j,
    }
}

pub const MAX_MAP_COUNT_RULE: &str =
    "pass >= 262144, warn below (Iggy memory-maps many segment and index files)";

/// `vm.max_map_count`.
pub fn max_map_count(v: u64) -> Judgement {
    (
        if v >= 262_144 {
            Status::Pass
        } else {
            Status::Warn
        },
        MAX_MAP_COUNT_RULE,
    )
}

pub const DIRTY_RATIO_RULE: &str =
    "pass <= 20, warn above (large dirty ratios cause long write-back stalls)";

/// `vm.dirty_ratio`.
pub fn dirty_ratio(v: u64) -> Judgement {
    (
        if v <= 20 { Status::Pass } else { Status::Warn },
        DIRTY_RATIO_RULE,
    )
}

pub const DIRTY_BACKGROUND_RATIO_RULE: &str =
    "pass <= 10, warn above (background write-back should start early)";

/// `vm.dirty_background_ratio`.
pub fn dirty_background_ratio(v: u64) -> Judgement {
    (
        if v <= 10 { Status::Pass } else { Status::Warn },
        DIRTY_BACKGROUND_RATIO_RULE,
    )
}

pub const SOMAXCONN_RULE: &str =
    "pass >= 4096, warn below (bursts of client connections overflow the accept queue)";

/// `net.core.somaxconn`.
pub fn somaxconn(v: u64) -> Judgement {
    (
        if v >= 4096 {
            Status::Pass
        } else {
            Status::Warn
        },
        SOMAXCONN_RULE,
    )
}

pub const TCP_MAX_SYN_BACKLOG_RULE: &str =
    "pass >= 4096, warn below (half-open connections are dropped under bursts)";

/// `net.ipv4.tcp_max_syn_backlog`.
pub fn tcp_max_syn_backlog(v: u64) -> Judgement {
    (
        if v >= 4096 {
            Status::Pass
        } else {
            Status::Warn
        },
        TCP_MAX_SYN_BACKLOG_RULE,
    )
}

pub const SOCKET_BUFFER_RULE: &str =
    "pass >= 7340032 (7 MiB), warn below (QUIC needs large UDP socket buffers)";

/// `net.core.rmem_max`.
pub fn rmem_max(v: u64) -> Judgement {
    (
        if v >= 7_340_032 {
            Status::Pass
        } else {
            Status::Warn
        },
        SOCKET_BUFFER_RULE,
    )
}

/// `net.core.wmem_max`.
pub fn wmem_max(v: u64) -> Judgement {
    (
        if v >= 7_340_032 {
            Status::Pass
        } else {
            Status::Warn
        },
        SOCKET_BUFFER_RULE,
    )
}

pub const THP_RULE: &str =
    "warn when [always] (latency spikes from huge page compaction), pass for madvise or never";

/// `/sys/kernel/mm/transparent_hugepage/enabled`, e.g. `always [madvise] never`.
pub fn transparent_hugepages(v: &str) -> Judgement {
    if v.contains("[always]") {
        (Status::Warn, THP_RULE)
    } else if v.contains("[madvise]") || v.contains("[never]") {
        (Status::Pass, THP_RULE)
    } else {
        (Status::Info, THP_RULE)
    }
}

pub const IO_URING_DISABLED_RULE: &str =
    "0 pass, 1 warn (only privileged processes), 2 fail (Iggy 0.9+ runs on io_uring)";

/// `kernel.io_uring_disabled`.
pub fn io_uring_disabled(v: u64) -> Judgement {
    let st = match v {
        0 => Status::Pass,
        1 => Status::Warn,
        _ => Status::Fail,
    };
    (st, IO_URING_DISABLED_RULE)
}

pub const FILE_MAX_RULE: &str =
    "pass >= 1000000, warn below (each segment, index and connection uses a descriptor)";

/// `fs.file-max`.
pub fn file_max(v: u64) -> Judgement {
    (
        if v >= 1_000_000 {
            Status::Pass
        } else {
            Status::Warn
        },
        FILE_MAX_RULE,
    )
}

pub const KERNEL_VERSION_RULE: &str =
    "fail < 5.10, warn < 5.15, pass otherwise (Iggy's io_uring runtime needs a recent kernel)";

/// Reads `major.minor` from a kernel release such as `6.1.0-27-amd64`.
pub fn parse_kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.trim().split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// The running kernel's release. An unreadable release is `Info`, not a failure.
pub fn kernel_version(release: &str) -> Judgement {
    let st = match parse_kernel_version(release) {
        None => Status::Info,
        Some(v) if v < (5, 10) => Status::Fail,
        Some(v) if v < (5, 15) => Status::Warn,
        Some(_) => Status::Pass,
    };
    (st, KERNEL_VERSION_RULE)
}

pub const DISK_FREE_RULE: &str = "fail < 5% free, warn < 15% free, pass otherwise";

/// Free space of a filesystem, in percent of its size.
pub fn disk_free_percent(p: f64) -> Judgement {
    (low_is_bad(p, 5.0, 15.0), DISK_FREE_RULE)
}

pub const INODE_FREE_RULE: &str = "fail < 5% inodes free, warn < 15% free, pass otherwise";

/// Free inodes of a filesystem, in percent.
pub fn inode_free_percent(p: f64) -> Judgement {
    (low_is_bad(p, 5.0, 15.0), INODE_FREE_RULE)
}

pub const MEM_AVAILABLE_RULE: &str = "fail < 5% of memory available, warn < 10%, pass otherwise";

/// `MemAvailable / MemTotal`, in percent.
pub fn mem_available_percent(p: f64) -> Judgement {
    (low_is_bad(p, 5.0, 10.0), MEM_AVAILABLE_RULE)
}

pub const CPU_STEAL_RULE: &str =
    "warn > 5% steal, fail > 20% (the hypervisor is taking CPU time from this VM)";

/// CPU steal time, in percent of all CPU time.
pub fn cpu_steal_percent(p: f64) -> Judgement {
    (high_is_bad(p, 5.0, 20.0), CPU_STEAL_RULE)
}

pub const OPEN_FILES_RULE: &str =
    "warn when more than 80% of the open files limit is used, fail above 95%";

/// Open descriptors divided by the soft `RLIMIT_NOFILE`.
pub fn open_files_ratio(r: f64) -> Judgement {
    (high_is_bad(r, 0.8, 0.95), OPEN_FILES_RULE)
}

pub const CERT_DAYS_RULE: &str = "fail when expired, warn when fewer than 30 days left, else pass";

/// Whole days until a certificate expires; negative means already expired.
pub fn cert_days_left(days: i64) -> Judgement {
    let st = if days < 0 {
        Status::Fail
    } else if days < 30 {
        Status::Warn
    } else {
        Status::Pass
    };
    (st, CERT_DAYS_RULE)
}

pub const CLOCKSOURCE_RULE: &str =
    "pass for tsc, kvm-clock, arch_sys_counter, hyperv_clocksource_tsc_page; warn otherwise \
     (slow clock sources make every timestamp syscall expensive)";

/// `/sys/devices/system/clocksource/clocksource0/current_clocksource`.
pub fn clocksource(name: &str) -> Judgement {
    let good = [
        "tsc",
        "kvm-clock",
        "arch_sys_counter",
        "hyperv_clocksource_tsc_page",
    ];
    let st = if good.contains(&name.trim()) {
        Status::Pass
    } else {
        Status::Warn
    };
    (st, CLOCKSOURCE_RULE)
}

pub const LOAD_RULE: &str = "warn when the 1-minute load is above twice the number of CPUs";

/// The 1-minute load average against the number of usable CPUs.
pub fn load_average(load1: f64, cpus: usize) -> Judgement {
    let limit = 2.0 * cpus.max(1) as f64;
    (
        if load1 > limit {
            Status::Warn
        } else {
            Status::Pass
        },
        LOAD_RULE,
    )
}

pub const SWAP_USED_RULE: &str = "info; warn when more than 50% of swap is in use";

/// Swap in use, in percent of the swap size (no swap at all is `Info`).
pub fn swap_used_percent(p: Option<f64>) -> Judgement {
    let st = match p {
        Some(p) if p > 50.0 => Status::Warn,
        _ => Status::Info,
    };
    (st, SWAP_USED_RULE)
}

pub const TIME_WAIT_RULE: &str = "warn when more than 20000 sockets are in TIME_WAIT";

/// Sockets in TIME_WAIT (from `/proc/net/sockstat`).
pub fn time_wait(n: u64) -> Judgement {
    (
        if n > 20_000 {
            Status::Warn
        } else {
            Status::Pass
        },
        TIME_WAIT_RULE,
    )
}

pub const RETRANSMIT_RULE: &str = "warn when more than 2% of TCP segments were retransmitted";

/// Retransmitted segments in percent of sent segments, since boot.
pub fn tcp_retransmit_percent(p: f64) -> Judgement {
    (
        if p > 2.0 { Status::Warn } else { Status::Pass },
        RETRANSMIT_RULE,
    )
}

pub const INTERFACE_ERRORS_RULE: &str =
    "warn when errors plus drops exceed 0.1% of packets on an interface";

/// Errors and drops in percent of packets on one interface.
pub fn interface_error_percent(p: f64) -> Judgement {
    (
        if p > 0.1 { Status::Warn } else { Status::Pass },
        INTERFACE_ERRORS_RULE,
    )
}

pub const CGROUP_MEMORY_RULE: &str =
    "info when unlimited; warn when the memory limit is below 1 GiB, pass otherwise";

/// A cgroup memory limit in bytes (`None` = unlimited).
pub fn cgroup_memory_limit(limit: Option<u64>) -> Judgement {
    let st = match limit {
        None => Status::Info,
        Some(b) if b < 1024 * 1024 * 1024 => Status::Warn,
        Some(_) => Status::Pass,
    };
    (st, CGROUP_MEMORY_RULE)
}

pub const MEMLOCK_RULE: &str =
    "warn when the locked-memory limit is below 64 MiB and io_uring is in use (its rings \
     are locked memory on older kernels), info otherwise";

/// The soft `RLIMIT_MEMLOCK` in bytes (`None` = unlimited).
pub fn memlock(limit: Option<u64>, io_uring: bool) -> Judgement {
    let st = match limit {
        Some(b) if b < 64 * 1024 * 1024 && io_uring => Status::Warn,
        _ => Status::Info,
    };
    (st, MEMLOCK_RULE)
}

fn low_is_bad(v: f64, fail_below: f64, warn_below: f64) -> Status {
    if v < fail_below {
        Status::Fail
    } else if v < warn_below {
        Status::Warn
    } else {
        Status::Pass
    }
}

fn high_is_bad(v: f64, warn_above: f64, fail_above: f64) -> Status {
    if v > fail_above {
        Status::Fail
    } else if v > warn_above {
        Status::Warn
    } else {
        Status::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctl_thresholds() {
        assert_eq!(swappiness(1).0, Status::Pass);
        assert_eq!(swappiness(60).0, Status::Warn);
        assert_eq!(max_map_count(262_144).0, Status::Pass);
        assert_eq!(max_map_count(65_530).0, Status::Warn);
        assert_eq!(dirty_ratio(20).0, Status::Pass);
        assert_eq!(dirty_ratio(40).0, Status::Warn);
        assert_eq!(dirty_background_ratio(10).0, Status::Pass);
        assert_eq!(dirty_background_ratio(11).0, Status::Warn);
        assert_eq!(somaxconn(4096).0, Status::Pass);
        assert_eq!(somaxconn(128).0, Status::Warn);
        assert_eq!(tcp_max_syn_backlog(4096).0, Status::Pass);
        assert_eq!(tcp_max_syn_backlog(512).0, Status::Warn);
        assert_eq!(rmem_max(7_340_032).0, Status::Pass);
        assert_eq!(rmem_max(212_992).0, Status::Warn);
        assert_eq!(wmem_max(8_000_000).0, Status::Pass);
        assert_eq!(wmem_max(212_992).0, Status::Warn);
        assert_eq!(file_max(9_223_372_036_854_775_807).0, Status::Pass);
        assert_eq!(file_max(100_000).0, Status::Warn);
    }

    #[test]
    fn thp_and_io_uring() {
        assert_eq!(
            transparent_hugepages("[always] madvise never").0,
            Status::Warn
        );
        assert_eq!(
            transparent_hugepages("always [madvise] never").0,
            Status::Pass
        );
        assert_eq!(
            transparent_hugepages("always madvise [never]").0,
            Status::Pass
        );
        assert_eq!(transparent_hugepages("weird").0, Status::Info);
        assert_eq!(io_uring_disabled(0).0, Status::Pass);
        assert_eq!(io_uring_disabled(1).0, Status::Warn);
        assert_eq!(io_uring_disabled(2).0, Status::Fail);
    }

    #[test]
    fn kernel_versions() {
        assert_eq!(parse_kernel_version("6.1.0-27-amd64"), Some((6, 1)));
        assert_eq!(parse_kernel_version("5.4.0-1103-aws"), Some((5, 4)));
        assert_eq!(parse_kernel_version("6.18.44-fc-v857"), Some((6, 18)));
        assert_eq!(parse_kernel_version("garbage"), None);
        assert_eq!(kernel_version("4.19.0").0, Status::Fail);
        assert_eq!(kernel_version("5.10.0-30-amd64").0, Status::Warn);
        assert_eq!(kernel_version("5.15.0-91-generic").0, Status::Pass);
        assert_eq!(kernel_version("6.1.0-27-amd64").0, Status::Pass);
        assert_eq!(kernel_version("x").0, Status::Info);
    }

    #[test]
    fn percentages() {
        assert_eq!(disk_free_percent(4.9).0, Status::Fail);
        assert_eq!(disk_free_percent(10.0).0, Status::Warn);
        assert_eq!(disk_free_percent(15.0).0, Status::Pass);
        assert_eq!(inode_free_percent(1.0).0, Status::Fail);
        assert_eq!(inode_free_percent(90.0).0, Status::Pass);
        assert_eq!(mem_available_percent(4.0).0, Status::Fail);
        assert_eq!(mem_available_percent(9.0).0, Status::Warn);
        assert_eq!(mem_available_percent(50.0).0, Status::Pass);
        assert_eq!(cpu_steal_percent(1.0).0, Status::Pass);
        assert_eq!(cpu_steal_percent(6.0).0, Status::Warn);
        assert_eq!(cpu_steal_percent(25.0).0, Status::Fail);
        assert_eq!(open_files_ratio(0.5).0, Status::Pass);
        assert_eq!(open_files_ratio(0.9).0, Status::Warn);
        assert_eq!(open_files_ratio(0.99).0, Status::Fail);
    }

    #[test]
    fn certificates_and_clocks() {
        assert_eq!(cert_days_left(-1).0, Status::Fail);
        assert_eq!(cert_days_left(0).0, Status::Warn);
        assert_eq!(cert_days_left(29).0, Status::Warn);
        assert_eq!(cert_days_left(30).0, Status::Pass);
        assert_eq!(clocksource("tsc").0, Status::Pass);
        assert_eq!(clocksource("kvm-clock\n").0, Status::Pass);
        assert_eq!(clocksource("hpet").0, Status::Warn);
        assert_eq!(clocksource("acpi_pm").0, Status::Warn);
    }

    #[test]
    fn misc_rules() {
        assert_eq!(load_average(3.0, 2).0, Status::Pass);
        assert_eq!(load_average(4.1, 2).0, Status::Warn);
        assert_eq!(swap_used_percent(None).0, Status::Info);
        assert_eq!(swap_used_percent(Some(10.0)).0, Status::Info);
        assert_eq!(swap_used_percent(Some(60.0)).0, Status::Warn);
        assert_eq!(time_wait(100).0, Status::Pass);
        assert_eq!(time_wait(20_001).0, Status::Warn);
        assert_eq!(tcp_retransmit_percent(0.5).0, Status::Pass);
        assert_eq!(tcp_retransmit_percent(3.0).0, Status::Warn);
        assert_eq!(interface_error_percent(0.05).0, Status::Pass);
        assert_eq!(interface_error_percent(0.2).0, Status::Warn);
        assert_eq!(cgroup_memory_limit(None).0, Status::Info);
        assert_eq!(cgroup_memory_limit(Some(512 << 20)).0, Status::Warn);
        assert_eq!(cgroup_memory_limit(Some(4 << 30)).0, Status::Pass);
        assert_eq!(memlock(Some(8 << 20), true).0, Status::Warn);
        assert_eq!(memlock(Some(8 << 20), false).0, Status::Info);
        assert_eq!(memlock(None, true).0, Status::Info);
    }
}

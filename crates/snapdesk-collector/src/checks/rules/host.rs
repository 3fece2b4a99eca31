//! The judging of the host checks that read kernel state beyond plain sysctls: clock
//! discipline, host name against the interfaces' addresses, filesystem space on `df`'s base,
//! pressure stall, block devices, TCP queues, conntrack, dirty memory, cgroup memory and the
//! io_uring probe. Pure functions of values read elsewhere, like the rest of `rules`.

use std::net::IpAddr;

use snapdesk_report::Status;

use super::Judgement;

/// The kernel's clock discipline state, as `adjtimex(2)` reports it with `modes = 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelClock {
    /// The call's return value: `TIME_OK` 0, `TIME_INS` 1, `TIME_DEL` 2, `TIME_OOP` 3,
    /// `TIME_WAIT` 4, `TIME_ERROR` 5 (the clock is not synchronised).
    pub state: i32,
    /// `status` bits (`STA_UNSYNC` = 0x40, `STA_PLL` = 0x01, ...).
    pub status: i32,
    /// Maximum error, microseconds (the kernel grows it by 500 ppm and caps it at 16 s).
    pub maxerror_us: i64,
    /// Estimated error, microseconds.
    pub esterror_us: i64,
}

/// `STA_UNSYNC` of `<sys/timex.h>`.
pub const STA_UNSYNC: i32 = 0x0040;
/// `TIME_ERROR` of `<sys/timex.h>`.
pub const TIME_ERROR: i32 = 5;

impl KernelClock {
    /// Synchronised as `timedatectl` and `ntptime` decide it: `STA_UNSYNC` clear and the
    /// call not returning `TIME_ERROR`.
    pub fn synchronised(&self) -> bool {
        self.status & STA_UNSYNC == 0 && self.state != TIME_ERROR
    }
}

pub const CLOCK_SYNC_RULE: &str = "pass when the kernel clock is synchronised (adjtimex: \
     STA_UNSYNC clear, not TIME_ERROR) with a maximum error up to 1 s; warn when it is not \
     synchronised or the maximum error is larger";

/// The kernel's own view of time synchronisation, whatever daemon disciplines it.
pub fn clock_sync(k: &KernelClock) -> Judgement {
    let st = if k.synchronised() && k.maxerror_us <= 1_000_000 {
        Status::Pass
    } else {
        Status::Warn
    };
    (st, CLOCK_SYNC_RULE)
}

pub const HOSTNAME_RULE: &str = "fail when the host name does not resolve; warn when it \
     resolves only to loopback while an interface has a routable address (peers given the \
     name reach themselves); pass otherwise";

/// Whether an address can be reached from another host: not loopback, link-local,
/// unspecified or multicast.
pub fn is_routable(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback() || v4.is_link_local() || v4.is_unspecified() || v4.is_multicast())
        }
        IpAddr::V6(v6) => {
            let link_local = (v6.segments()[0] & 0xffc0) == 0xfe80;
            !(v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() || link_local)
        }
    }
}

/// The host name's resolved addresses against the addresses of this host's interfaces.
pub fn hostname_resolution(resolved: &[IpAddr], local: &[IpAddr]) -> Judgement {
    let st = if resolved.is_empty() {
        Status::Fail
    } else if resolved.iter().all(IpAddr::is_loopback) && local.iter().any(is_routable) {
        Status::Warn
    } else {
        Status::Pass
    };
    (st, HOSTNAME_RULE)
}

/// Space of a filesystem as `df` counts it: `used = size - free`, and the percentage used is
/// `used / (used + avail)`, so blocks reserved for root count as neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DfSpace {
    pub size: u64,
    /// Free blocks, reserved ones included (`f_bfree`).
    pub free: u64,
    /// Free blocks an unprivileged user may use (`f_bavail`).
    pub avail: u64,
}

impl DfSpace {
    pub fn used(&self) -> u64 {
        self.size.saturating_sub(self.free)
    }
    /// Blocks only root may use (ext4 reserves 5% by default).
    pub fn reserved(&self) -> u64 {
        self.free.saturating_sub(self.avail)
    }
    /// `df`'s `Use%` before rounding: `used / (used + avail)`, in percent.
    pub fn used_percent(&self) -> f64 {
        let base = self.used() + self.avail;
        if base == 0 {
            return 0.0;
        }
        100.0 * self.used() as f64 / base as f64
    }
    /// `Use%` as `df` prints it (rounded up to a whole percent).
    pub fn df_use_percent(&self) -> u64 {
        let base = self.used() + self.avail;
        if base == 0 {
            return 0;
        }
        (self.used() * 100).div_ceil(base)
    }
    /// Free on `df`'s base: `100 - used_percent`.
    pub fn free_percent(&self) -> f64 {
        100.0 - self.used_percent()
    }
    /// Whether the reserved blocks are worth a mention: over 5% of the size (ext4's default)
    /// and over 1 GiB.
    pub fn large_reserve(&self) -> bool {
        let r = self.reserved();
        r > 1 << 30 && r as f64 > self.size as f64 * 0.05 + 1.0
    }
}

/// ext4 mount facts worth a remark: no journal, online discard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ext4State {
    /// `Some(false)` when the filesystem has no journal, `None` when it cannot be told.
    pub journal: Option<bool>,
    /// The `discard` mount option (TRIM on every delete).
    pub discard: bool,
}

pub const EXT4_RULE: &str = "ext4: warn without a journal, remark online `discard`";

/// Remarks on an ext4 data filesystem, most serious first.
pub fn ext4_remarks(s: &Ext4State) -> Vec<(Status, &'static str)> {
    let mut v = Vec::new();
    if s.journal == Some(false) {
        v.push((
            Status::Warn,
            "ext4 without a journal: a crash or power loss can leave metadata inconsistent \
             (fsck needed, recent segments may be lost)",
        ));
    }
    if s.discard {
        v.push((
            Status::Info,
            "mounted with online `discard`: every delete issues TRIM synchronously, which \
             slows segment deletion on many devices",
        ));
    }
    v
}

/// One line of `/proc/pressure/<resource>`: the share of time tasks stalled.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PressureLine {
    pub avg10: f64,
    pub avg60: f64,
    pub avg300: f64,
    /// Microseconds stalled since boot.
    pub total_us: u64,
}

pub const PRESSURE_RULE: &str = "over the last 60 s: warn when some tasks stalled 20% of the \
     time or all tasks 5%; fail when all tasks stalled 25% of the time";

/// Pressure stall of one resource (`full` is absent for CPU on older kernels).
pub fn pressure(some: &PressureLine, full: Option<&PressureLine>) -> Judgement {
    let full60 = full.map(|f| f.avg60).unwrap_or(0.0);
    let st = if full60 >= 25.0 {
        Status::Fail
    } else if some.avg60 >= 20.0 || full60 >= 5.0 {
        Status::Warn
    } else {
        Status::Pass
    };
    (st, PRESSURE_RULE)
}

/// The queue settings of a block device, from `/sys/block/<dev>/queue/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockQueue {
    /// The active scheduler (the bracketed one of `scheduler`).
    pub scheduler: Option<String>,
    pub nr_requests: Option<u64>,
    pub rotational: Option<bool>,
    pub read_ahead_kb: Option<u64>,
    /// `write back` or `write through`.
    pub write_cache: Option<String>,
}

pub const BLOCK_QUEUE_RULE: &str = "warn for a rotational disk without an I/O scheduler \
     (none), a queue depth (nr_requests) below 32, or read-ahead below 64 KiB (segments are \
     read sequentially); pass otherwise";

/// The problems of a device's queue settings (empty when it passes).
pub fn block_queue(q: &BlockQueue) -> (Vec<&'static str>, Judgement) {
    let mut bad = Vec::new();
    if q.rotational == Some(true) && q.scheduler.as_deref() == Some("none") {
        bad.push("rotational disk with no I/O scheduler");
    }
    if q.nr_requests.is_some_and(|n| n < 32) {
        bad.push("queue depth below 32");
    }
    if q.read_ahead_kb.is_some_and(|r| r < 64) {
        bad.push("read-ahead below 64 KiB");
    }
    let st = if bad.is_empty() {
        Status::Pass
    } else {
        Status::Warn
    };
    (bad, (st, BLOCK_QUEUE_RULE))
}

/// The counters of one `/proc/diskstats` line that give average latency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskStats {
    pub reads: u64,
    pub read_ms: u64,
    pub writes: u64,
    pub write_ms: u64,
    pub in_flight: u64,
}

impl DiskStats {
    pub fn read_latency_ms(&self) -> Option<f64> {
        (self.reads > 0).then(|| self.read_ms as f64 / self.reads as f64)
    }
    pub fn write_latency_ms(&self) -> Option<f64> {
        (self.writes > 0).then(|| self.write_ms as f64 / self.writes as f64)
    }
}

pub const DISK_LATENCY_RULE: &str = "average since boot: warn when a read or a write took more \
     than 20 ms on a non-rotational device or 50 ms on a rotational one, fail above 200 ms";

/// Average read and write latency of the data directory's device.
pub fn disk_latency(s: &DiskStats, rotational: bool) -> Judgement {
    let worst = s
        .read_latency_ms()
        .unwrap_or(0.0)
        .max(s.write_latency_ms().unwrap_or(0.0));
    let warn = if rotational { 50.0 } else { 20.0 };
    let st = if worst > 200.0 {
        Status::Fail
    } else if worst > warn {
        Status::Warn
    } else {
        Status::Pass
    };
    (st, DISK_LATENCY_RULE)
}

pub const TCP_BUFFERS_RULE: &str = "warn when receive autotuning is off \
     (tcp_moderate_rcvbuf 0) or the autotuning maxima are below the kernel's defaults \
     (tcp_rmem max 6 MiB, tcp_wmem max 4 MiB): throughput per connection is capped by them";

/// `net.ipv4.tcp_rmem` / `tcp_wmem` maxima and `tcp_moderate_rcvbuf`.
pub fn tcp_buffers(rmem_max: u64, wmem_max: u64, moderate_rcvbuf: Option<u64>) -> Judgement {
    let st = if moderate_rcvbuf == Some(0) || rmem_max < 6 << 20 || wmem_max < 4 << 20 {
        Status::Warn
    } else {
        Status::Pass
    };
    (st, TCP_BUFFERS_RULE)
}

pub const LISTEN_DROPS_RULE: &str = "warn when connection attempts were dropped since boot: \
     accept queue full (ListenOverflows), dropped at listen (ListenDrops) or SYN queue full \
     (TCPReqQFullDrop)";

/// The accept-queue and SYN-queue drop counters of `/proc/net/netstat`.
pub fn listen_drops(overflows: u64, drops: u64, req_q_full: u64) -> Judgement {
    let st = if overflows + drops + req_q_full > 0 {
        Status::Warn
    } else {
        Status::Pass
    };
    (st, LISTEN_DROPS_RULE)
}

pub const CONNTRACK_RULE: &str =
    "warn when the conntrack table is over 80% full, fail over 95% (new connections are dropped)";

/// `nf_conntrack_count` against `nf_conntrack_max`.
pub fn conntrack(count: u64, max: u64) -> Judgement {
    let ratio = if max == 0 {
        1.0
    } else {
        count as f64 / max as f64
    };
    let st = if ratio > 0.95 {
        Status::Fail
    } else if ratio > 0.8 {
        Status::Warn
    } else {
        Status::Pass
    };
    (st, CONNTRACK_RULE)
}

pub const MTU_RULE: &str = "warn when an interface that is up has an MTU below 1280 (IPv6's \
     minimum) or a different MTU from the other physical interfaces; info otherwise";

/// The MTUs of physical interfaces that are up.
pub fn mtus(mtus: &[u64]) -> Judgement {
    let mixed = mtus.windows(2).any(|w| w[0] != w[1]);
    let st = if mtus.iter().any(|m| *m < 1280) || mixed {
        Status::Warn
    } else {
        Status::Info
    };
    (st, MTU_RULE)
}

/// What the dirty page limits and counters are, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirtyMemory {
    /// `vm.dirty_bytes` (0: `vm.dirty_ratio` applies instead).
    pub dirty_bytes: u64,
    pub dirty_background_bytes: u64,
    pub dirty_ratio: u64,
    pub dirty_background_ratio: u64,
    /// `MemAvailable`, the base the ratios are (about) taken of.
    pub available: u64,
    /// `Dirty` and `Writeback` of `/proc/meminfo`.
    pub dirty: u64,
    pub writeback: u64,
}

impl DirtyMemory {
    /// The limit writers are throttled at, in bytes (approximate for a ratio: the kernel's
    /// base is dirtyable memory, close to MemAvailable).
    pub fn limit(&self) -> u64 {
        if self.dirty_bytes > 0 {
            self.dirty_bytes
        } else {
            self.available / 100 * self.dirty_ratio
        }
    }
}

pub const DIRTY_MEMORY_RULE: &str = "warn when dirty and write-back pages reach 80% of the \
     dirty limit (writers are about to be throttled) or the limit exceeds 4 GiB (flushing it \
     stalls writes for seconds); pass otherwise";

pub fn dirty_memory(d: &DirtyMemory) -> Judgement {
    let limit = d.limit();
    let near = limit > 0 && (d.dirty + d.writeback) as f64 >= 0.8 * limit as f64;
    let st = if near || limit > 4 << 30 {
        Status::Warn
    } else {
        Status::Pass
    };
    (st, DIRTY_MEMORY_RULE)
}

/// A cgroup's memory use and events (v1 or v2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CgroupMemory {
    pub usage: Option<u64>,
    /// `None` when unlimited.
    pub limit: Option<u64>,
    /// v1 `memory.failcnt`: times the limit was hit.
    pub failcnt: Option<u64>,
    /// v2 `memory.events` `max` (times the limit was hit) and `oom`.
    pub max_events: Option<u64>,
    pub oom: Option<u64>,
    /// Processes killed by the OOM killer in this cgroup (v2 `oom_kill`, v1 `oom_kill`).
    pub oom_kill: Option<u64>,
}

pub const CGROUP_MEMORY_USE_RULE: &str = "fail when the OOM killer killed a process in the \
     cgroup; warn when use is over 90% of the limit or the limit was hit (failcnt, max \
     events); pass otherwise";

pub fn cgroup_memory_use(c: &CgroupMemory) -> Judgement {
    let near = match (c.usage, c.limit) {
        (Some(u), Some(l)) if l > 0 => u as f64 > 0.9 * l as f64,
        _ => false,
    };
    let hit = c.failcnt.unwrap_or(0) > 0 || c.max_events.unwrap_or(0) > 0;
    let st = if c.oom_kill.unwrap_or(0) > 0 {
        Status::Fail
    } else if near || hit || c.oom.unwrap_or(0) > 0 {
        Status::Warn
    } else {
        Status::Pass
    };
    (st, CGROUP_MEMORY_USE_RULE)
}

pub const SYSTEM_OPEN_FILES_RULE: &str = "warn when more than 80% of fs.file-max is in use \
     system-wide (fail above 95%), or when fs.nr_open is below 1048576 (a server's \
     LimitNOFILE=1048576 cannot be granted)";

/// `fs.file-nr` (handles allocated and `fs.file-max`) and `fs.nr_open`.
pub fn system_open_files(allocated: u64, file_max: u64, nr_open: Option<u64>) -> Judgement {
    let ratio = if file_max == 0 {
        1.0
    } else {
        allocated as f64 / file_max as f64
    };
    let st = if ratio > 0.95 {
        Status::Fail
    } else if ratio > 0.8 || nr_open.is_some_and(|n| n < 1_048_576) {
        Status::Warn
    } else {
        Status::Pass
    };
    (st, SYSTEM_OPEN_FILES_RULE)
}

/// What `io_uring_setup(2)` answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UringProbe {
    /// A ring was set up (and closed).
    Works,
    /// `EPERM`: refused (io_uring_disabled, a seccomp filter or an LSM).
    Denied,
    /// `ENOSYS`: the kernel has no io_uring, or a seccomp filter answers ENOSYS.
    NoSyscall,
    /// Any other error (`ENOMEM` under a low RLIMIT_MEMLOCK, ...).
    Other,
}

pub const IO_URING_PROBE_RULE: &str = "pass when io_uring_setup works for this collector; \
     fail when it is refused or missing (Iggy 0.9+ cannot start); warn for other errors";

pub fn io_uring_probe(p: UringProbe) -> Judgement {
    let st = match p {
        UringProbe::Works => Status::Pass,
        UringProbe::Denied | UringProbe::NoSyscall => Status::Fail,
        UringProbe::Other => Status::Warn,
    };
    (st, IO_URING_PROBE_RULE)
}

/// Why io_uring is refused, from what the kernel says: the sysctl, then seccomp.
pub fn io_uring_refusal(disabled: Option<u64>, seccomp_mode: Option<u8>) -> &'static str {
    match (disabled, seccomp_mode) {
        (Some(2), _) => "kernel.io_uring_disabled = 2 disables io_uring for every process",
        (Some(1), _) => {
            "kernel.io_uring_disabled = 1 allows io_uring only to privileged processes and \
             the kernel.io_uring_group"
        }
        (_, Some(2)) => {
            "a seccomp filter is active (Seccomp: 2): container runtimes' default profiles \
             block io_uring"
        }
        _ => "neither the sysctl nor seccomp explains it: look at the LSM (SELinux, AppArmor)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_sync_follows_the_kernel_flags() {
        let synced = KernelClock {
            state: 0,
            status: 0x2001,
            maxerror_us: 20_000,
            esterror_us: 100,
        };
        assert_eq!(clock_sync(&synced).0, Status::Pass);
        // What the issue saw on a micro-VM: unsynchronised, max error 16 s.
        let unsynced = KernelClock {
            state: TIME_ERROR,
            status: STA_UNSYNC,
            maxerror_us: 16_000_000,
            esterror_us: 16_000_000,
        };
        assert_eq!(clock_sync(&unsynced).0, Status::Warn);
        let drifting = KernelClock {
            maxerror_us: 2_000_000,
            ..synced
        };
        assert_eq!(clock_sync(&drifting).0, Status::Warn);
        let flag_only = KernelClock {
            status: STA_UNSYNC,
            ..synced
        };
        assert_eq!(clock_sync(&flag_only).0, Status::Warn);
    }

    #[test]
    fn a_loopback_only_host_name_warns_when_an_interface_is_routable() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let lo6: IpAddr = "::1".parse().unwrap();
        let eth: IpAddr = "192.0.2.2".parse().unwrap();
        let link: IpAddr = "fe80::1".parse().unwrap();
        assert_eq!(hostname_resolution(&[lo], &[lo, eth]).0, Status::Warn);
        assert_eq!(hostname_resolution(&[lo], &[lo, lo6, link]).0, Status::Pass);
        assert_eq!(hostname_resolution(&[eth], &[lo, eth]).0, Status::Pass);
        assert_eq!(hostname_resolution(&[], &[eth]).0, Status::Fail);
        assert!(!is_routable(&"169.254.1.1".parse().unwrap()));
        assert!(is_routable(&"fd00::2".parse().unwrap()));
    }

    #[test]
    fn free_space_is_on_dfs_base_and_a_large_reserve_is_noticed() {
        // The micro-VM's root as `df -k` printed it (KiB, here in bytes): df says 63%.
        let s = DfSpace {
            size: 264_212_084 * 1024,
            free: (264_212_084 - 59_434_400) * 1024,
            avail: 35_851_488 * 1024,
        };
        assert_eq!(s.df_use_percent(), 63);
        assert!(
            (s.free_percent() - 37.6).abs() < 0.1,
            "{}",
            s.free_percent()
        );
        assert!(s.large_reserve());
        let plain = DfSpace {
            size: 100 << 30,
            free: 50 << 30,
            avail: 45 << 30,
        };
        assert_eq!(plain.df_use_percent(), 53);
        assert!(!plain.large_reserve());
    }

    #[test]
    fn ext4_without_journal_warns_and_discard_is_remarked() {
        let none = Ext4State {
            journal: Some(false),
            discard: true,
        };
        let r = ext4_remarks(&none);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].0, Status::Warn);
        assert_eq!(r[1].0, Status::Info);
        let fine = Ext4State {
            journal: Some(true),
            discard: false,
        };
        assert!(ext4_remarks(&fine).is_empty());
        assert!(ext4_remarks(&Ext4State::default()).is_empty());
    }

    #[test]
    fn pressure_thresholds() {
        let calm = PressureLine {
            avg60: 4.27,
            ..Default::default()
        };
        assert_eq!(
            pressure(&calm, Some(&PressureLine::default())).0,
            Status::Pass
        );
        let busy = PressureLine {
            avg60: 20.0,
            ..Default::default()
        };
        assert_eq!(pressure(&busy, None).0, Status::Warn);
        let stalled = PressureLine {
            avg60: 30.0,
            ..Default::default()
        };
        assert_eq!(pressure(&calm, Some(&stalled)).0, Status::Fail);
    }

    #[test]
    fn block_queue_and_latency() {
        let ssd = BlockQueue {
            scheduler: Some("none".into()),
            nr_requests: Some(256),
            rotational: Some(false),
            read_ahead_kb: Some(128),
            write_cache: Some("write back".into()),
        };
        assert_eq!(block_queue(&ssd).1 .0, Status::Pass);
        let hdd = BlockQueue {
            rotational: Some(true),
            nr_requests: Some(16),
            ..ssd.clone()
        };
        let (bad, (st, _)) = block_queue(&hdd);
        assert_eq!(st, Status::Warn);
        assert_eq!(bad.len(), 2);
        let s = DiskStats {
            reads: 1_405_918,
            read_ms: 2_354_003,
            writes: 140_731,
            write_ms: 1_118_897,
            in_flight: 0,
        };
        assert_eq!(disk_latency(&s, false).0, Status::Pass);
        let slow = DiskStats {
            write_ms: 30 * 140_731,
            ..s
        };
        assert_eq!(disk_latency(&slow, false).0, Status::Warn);
        assert_eq!(disk_latency(&slow, true).0, Status::Pass);
        assert_eq!(disk_latency(&DiskStats::default(), false).0, Status::Pass);
    }

    #[test]
    fn network_rules() {
        assert_eq!(tcp_buffers(6_291_456, 4_194_304, Some(1)).0, Status::Pass);
        assert_eq!(tcp_buffers(6_291_456, 4_194_304, Some(0)).0, Status::Warn);
        assert_eq!(tcp_buffers(212_992, 4_194_304, Some(1)).0, Status::Warn);
        assert_eq!(listen_drops(0, 0, 0).0, Status::Pass);
        assert_eq!(listen_drops(0, 3, 0).0, Status::Warn);
        assert_eq!(conntrack(10, 262_144).0, Status::Pass);
        assert_eq!(conntrack(220_000, 262_144).0, Status::Warn);
        assert_eq!(conntrack(260_000, 262_144).0, Status::Fail);
        assert_eq!(mtus(&[1500, 1500]).0, Status::Info);
        assert_eq!(mtus(&[1500, 9000]).0, Status::Warn);
        assert_eq!(mtus(&[576]).0, Status::Warn);
    }

    #[test]
    fn dirty_memory_and_cgroups() {
        let d = DirtyMemory {
            dirty_ratio: 20,
            dirty_background_ratio: 10,
            available: 8 << 30,
            dirty: 10 << 20,
            ..Default::default()
        };
        assert_eq!(dirty_memory(&d).0, Status::Pass);
        let near = DirtyMemory {
            dirty: 1500 << 20,
            ..d
        };
        assert_eq!(dirty_memory(&near).0, Status::Warn);
        let huge = DirtyMemory {
            available: 64 << 30,
            ..d
        };
        assert_eq!(dirty_memory(&huge).0, Status::Warn);
        let bytes = DirtyMemory {
            dirty_bytes: 256 << 20,
            available: 64 << 30,
            ..d
        };
        assert_eq!(bytes.limit(), 256 << 20);
        assert_eq!(dirty_memory(&bytes).0, Status::Pass);

        let ok = CgroupMemory {
            usage: Some(100 << 20),
            limit: Some(1 << 30),
            failcnt: Some(0),
            ..Default::default()
        };
        assert_eq!(cgroup_memory_use(&ok).0, Status::Pass);
        let hit = CgroupMemory {
            failcnt: Some(4),
            ..ok
        };
        assert_eq!(cgroup_memory_use(&hit).0, Status::Warn);
        let full = CgroupMemory {
            usage: Some(1000 << 20),
            ..ok
        };
        assert_eq!(cgroup_memory_use(&full).0, Status::Warn);
        let killed = CgroupMemory {
            oom_kill: Some(1),
            ..ok
        };
        assert_eq!(cgroup_memory_use(&killed).0, Status::Fail);
    }

    #[test]
    fn system_wide_open_files() {
        let max = 9_223_372_036_854_775_807;
        assert_eq!(
            system_open_files(1877, max, Some(1_048_576)).0,
            Status::Pass
        );
        assert_eq!(system_open_files(1877, max, Some(65_536)).0, Status::Warn);
        assert_eq!(system_open_files(90, 100, Some(1_048_576)).0, Status::Warn);
        assert_eq!(system_open_files(99, 100, None).0, Status::Fail);
    }

    #[test]
    fn io_uring_probe_and_its_reason() {
        assert_eq!(io_uring_probe(UringProbe::Works).0, Status::Pass);
        assert_eq!(io_uring_probe(UringProbe::Denied).0, Status::Fail);
        assert_eq!(io_uring_probe(UringProbe::NoSyscall).0, Status::Fail);
        assert_eq!(io_uring_probe(UringProbe::Other).0, Status::Warn);
        assert!(io_uring_refusal(Some(2), Some(0)).contains("= 2"));
        assert!(io_uring_refusal(Some(0), Some(2)).contains("seccomp"));
        assert!(io_uring_refusal(None, Some(0)).contains("LSM"));
    }
}

//! Deterministic host profiles: what each emulated node "looks like", and the report, logs
//! and Iggy data directory generated from it.
//!
//! Every value derives from (deployment id, node index). Nodes differ on purpose:
//! node 1's TLS certificate expires in 10 days (warn), node 2's data disk is 97% full
//! (fail, and its kernel log's write errors fail `logs.kernel_io_errors`), node 3 has
//! `vm.swappiness = 60` (warn); everything else is healthy. Every check carries the id,
//! title and category of the collector's check of the same name, so that a report from
//! here and one from `snapdesk collect` compare check by check. Demo secrets
//! are planted in evidence and log lines so that redaction can be seen working.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::io::{Cursor, Write};

use chrono::{DateTime, Utc};
use snapdesk_collector::checks::{self, logs, rules};
use snapdesk_collector::redact::Redactor;
use snapdesk_report::archive::IggyBundle;
use snapdesk_report::model::FORMAT_VERSION;
use snapdesk_report::{Check, Evidence, Fact, LogSource, Producer, Report, Status};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::util::SplitMix;

/// The planted demo secrets (visible with `redact_secrets: false`).
pub const DEMO_ROOT_PASSWORD: &str = "demo-root-pass";
pub const DEMO_URL_PASSWORD: &str = "demo-pass";
pub const DEMO_BEARER_TOKEN: &str = "demo-bearer-token-0123456789abcdef";
pub const DEMO_JWT_SECRET_PREFIX: &str = "demo-jwt-secret-";

pub const DATA_PATH: &str = "/var/lib/iggy/local_data";

/// The producer named in the emulator's reports and manifests.
pub(crate) const COLLECTOR_NAME: &str = "supervisor-emulator";

/// One emulated host.
#[derive(Debug, Clone)]
pub struct HostProfile {
    pub deployment_id: u64,
    pub deployment_name: String,
    pub node_index: u32,
    pub node_id: u64,
    pub host_name: String,
    pub ip: String,
    pub os_pretty: String,
    pub kernel_release: String,
    pub uptime_secs: u64,
    pub cpu_model: String,
    pub cpus: u32,
    pub load1: f64,
    pub steal_pct: f64,
    pub clocksource: String,
    pub mem_total_mib: u64,
    pub mem_available_pct: f64,
    pub swap_total_mib: u64,
    pub swap_used_pct: f64,
    pub swappiness: u64,
    pub max_map_count: u64,
    pub dirty_ratio: u64,
    pub dirty_background_ratio: u64,
    pub thp: String,
    pub io_uring_disabled: u64,
    pub file_max: u64,
    pub somaxconn: u64,
    pub tcp_max_syn_backlog: u64,
    pub rmem_max: u64,
    pub wmem_max: u64,
    pub root_size_gib: u64,
    pub root_used_pct: f64,
    pub data_size_gib: u64,
    pub data_used_pct: f64,
    pub data_inodes_used_pct: f64,
    pub data_device: String,
    pub time_wait: u64,
    pub retransmit_pct: f64,
    pub iface_err_pct: f64,
    pub tcp_cert_days_left: i64,
    pub http_cert_days_left: i64,
    pub iggy_version: String,
    pub iggy_pid: u32,
    pub open_files: u64,
    pub nofile_limit: u64,
    pub streams: u32,
    pub topics: u32,
    pub partitions: u32,
    pub messages: u64,
    pub listeners: Vec<(String, String)>,
    pub jwt_secret: String,
    seed: u64,
}

/// The profile of node `node_index` (1-based) of a deployment.
pub fn host_profile(
    deployment_id: u64,
    deployment_name: &str,
    node_index: u32,
    node_id: u64,
) -> HostProfile {
    let seed = deployment_id
        .wrapping_mul(0x2545_F491_4F6C_DD1D)
        .wrapping_add(u64::from(node_index).wrapping_mul(0x9E37_79B9));
    let mut r = SplitMix(seed);
    let debian = deployment_id % 2 == 1;
    let cpus = [4u32, 8, 8, 16][r.range(0, 3) as usize];
    let (os_pretty, kernel_release) = if debian {
        (
            "Debian GNU/Linux 12 (bookworm)".to_owned(),
            format!("6.1.0-{}-amd64", r.range(25, 30)),
        )
    } else {
        (
            "Ubuntu 24.04.1 LTS".to_owned(),
            format!("6.8.0-{}-generic", r.range(45, 52)),
        )
    };
    let cpu_model = if r.range(0, 1) == 0 {
        "AMD EPYC 7R13 Processor"
    } else {
        "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"
    };
    let load1 = (cpus as f64 * r.frac(0.1, 0.6) * 100.0).round() / 100.0;
    let data_used_pct = if node_index == 2 {
        97.0
    } else {
        r.frac(35.0, 65.0)
    };
    let jwt_secret = format!(
        "{DEMO_JWT_SECRET_PREFIX}{:016x}",
        SplitMix(seed ^ 0x6a77).next_u64()
    );
    HostProfile {
        deployment_id,
        deployment_name: deployment_name.to_owned(),
        node_index,
        node_id,
        host_name: format!("{deployment_name}-node-{node_index}"),
        ip: format!(
            "10.{}.{}.{}",
            20 + deployment_id % 50,
            node_index,
            10 + r.range(0, 200)
        ),
        os_pretty,
        kernel_release,
        uptime_secs: r.range(3, 90) * 86_400 + r.range(0, 86_399),
        cpu_model: cpu_model.to_owned(),
        cpus,
        load1,
        steal_pct: r.frac(0.0, 1.5),
        clocksource: "kvm-clock".to_owned(),
        mem_total_mib: u64::from(cpus) * 4096,
        mem_available_pct: r.frac(40.0, 70.0),
        swap_total_mib: 2048,
        swap_used_pct: r.frac(0.0, 3.0),
        swappiness: if node_index == 3 { 60 } else { 1 },
        max_map_count: 262_144,
        dirty_ratio: 10,
        dirty_background_ratio: 5,
        thp: "always [madvise] never".to_owned(),
        io_uring_disabled: 0,
        file_max: 9_223_372_036_854_775_807,
        somaxconn: 4096,
        tcp_max_syn_backlog: 8192,
        rmem_max: 8_388_608,
        wmem_max: 8_388_608,
        root_size_gib: 50,
        root_used_pct: r.frac(30.0, 55.0),
        data_size_gib: 500,
        data_used_pct,
        data_inodes_used_pct: r.frac(1.0, 5.0),
        data_device: "/dev/nvme1n1".to_owned(),
        time_wait: r.range(50, 900),
        retransmit_pct: r.frac(0.0, 0.4),
        iface_err_pct: (r.frac(0.0, 0.3) / 10.0 * 100.0).round() / 100.0,
        tcp_cert_days_left: if node_index == 1 {
            10
        } else {
            180 + r.range(0, 150) as i64
        },
        http_cert_days_left: 300 + r.range(0, 60) as i64,
        iggy_version: "0.8.0".to_owned(),
        iggy_pid: r.range(900, 4000) as u32,
        open_files: r.range(800, 3000),
        nofile_limit: 1_048_576,
        streams: 3,
        topics: 2 + r.range(0, 4) as u32,
        partitions: 24,
        messages: r.range(10_000_000, 90_000_000),
        listeners: vec![
            ("tcp".into(), "0.0.0.0:8090".into()),
            ("quic".into(), "0.0.0.0:8080/udp".into()),
            ("http".into(), "0.0.0.0:3000".into()),
            ("websocket".into(), "0.0.0.0:8092".into()),
        ],
        jwt_secret,
        seed,
    }
}

/// Builds a check; `.fix()` attaches a remediation only to warn and fail.
struct B(Check);

impl B {
    fn new(id: &str, category: &str, title: &str, status: Status, summary: impl Into<String>) -> B {
        B(Check {
            id: id.to_owned(),
            category: category.to_owned(),
            title: title.to_owned(),
            status,
            summary: summary.into(),
            facts: Vec::new(),
            evidence: Vec::new(),
            remediation: None,
            duration_ms: 0,
        })
    }

    /// A judged check: the rule's status, with `value` and `rule` facts.
    fn judged(
        id: &str,
        category: &str,
        title: &str,
        (status, rule): (Status, &str),
        value: impl Display,
        summary: impl Into<String>,
    ) -> B {
        B::new(id, category, title, status, summary)
            .fact("value", value)
            .fact("rule", rule)
    }

    fn fact(mut self, key: &str, value: impl Display) -> B {
        self.0.facts.push(Fact::new(key, value));
        self
    }

    fn ev(mut self, source: &str, excerpt: impl Into<String>) -> B {
        self.0.evidence.push(Evidence::new(source, excerpt));
        self
    }

    fn fix(mut self, remediation: &str) -> B {
        if matches!(self.0.status, Status::Warn | Status::Fail) {
            self.0.remediation = Some(remediation.to_owned());
        }
        self
    }
}

fn sysctl_check(id: &str, key: &str, v: u64, j: (Status, &str), fix: &str) -> B {
    let path = format!("/proc/sys/{}", key.replace('.', "/"));
    let summary = match j.0 {
        Status::Pass => format!("{key} = {v}"),
        _ => format!("{key} = {v}, outside the recommended range"),
    };
    B::judged(id, "kernel", key, j, v, summary)
        .ev(&path, v.to_string())
        .fix(fix)
}

fn gib(v: f64) -> String {
    format!("{v:.1} GiB")
}

/// The report of one node.
pub fn build_report(
    h: &HostProfile,
    snapshot_name: &str,
    created_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
) -> Report {
    let mut checks: Vec<B> = Vec::new();

    // ---- os
    checks.push(
        B::new(
            "os.distribution",
            "os",
            "Operating system",
            Status::Info,
            h.os_pretty.clone(),
        )
        .fact("value", &h.os_pretty)
        .fact("uptime", format!("{} days", h.uptime_secs / 86_400))
        .fact("rule", "informational")
        .ev(
            "/etc/os-release",
            format!("PRETTY_NAME=\"{}\"\nID=linux", h.os_pretty),
        ),
    );
    checks.push(
        B::judged(
            "os.kernel_version",
            "os",
            "Kernel version",
            rules::kernel_version(&h.kernel_release),
            &h.kernel_release,
            format!("Linux {}", h.kernel_release),
        )
        .ev("uname -r", h.kernel_release.clone())
        .fix("upgrade the kernel to 5.15 or later"),
    );
    checks.push(
        B::judged(
            "time.clocksource",
            "os",
            "Clock source",
            rules::clocksource(&h.clocksource),
            &h.clocksource,
            format!("current clock source is {}", h.clocksource),
        )
        .ev(
            "/sys/devices/system/clocksource/clocksource0/current_clocksource",
            h.clocksource.clone(),
        )
        .fix("switch to tsc or kvm-clock"),
    );
    checks.push(
        B::new(
            "time.sync",
            "os",
            "Time synchronisation",
            Status::Pass,
            "chronyd is running and the clock is synchronised",
        )
        .fact("value", "synchronised")
        .fact("rule", "pass when NTP synchronisation is active")
        .ev(
            "timedatectl show",
            "NTPSynchronized=yes\nTimeUSec=synchronised via chronyd",
        ),
    );

    // ---- cpu
    checks.push(
        B::new(
            "cpu.topology",
            "cpu",
            "CPUs",
            Status::Info,
            format!("{} x {}", h.cpus, h.cpu_model),
        )
        .fact("value", h.cpus)
        .fact("rule", "informational")
        .fact("model", &h.cpu_model)
        .ev("nproc", h.cpus.to_string()),
    );
    checks.push(
        B::judged(
            "cpu.load",
            "cpu",
            "Load average",
            rules::load_average(h.load1, h.cpus as usize),
            format!("{:.2}", h.load1),
            format!("1-minute load {:.2} on {} CPUs", h.load1, h.cpus),
        )
        .ev(
            "/proc/loadavg",
            format!(
                "{:.2} {:.2} {:.2} 3/812 41231",
                h.load1,
                h.load1 * 0.9,
                h.load1 * 0.8
            ),
        )
        .fix("find the busy processes with top; add CPUs if Iggy itself is saturated"),
    );
    checks.push(
        B::judged(
            "cpu.steal",
            "cpu",
            "CPU steal time",
            rules::cpu_steal_percent(h.steal_pct),
            format!("{:.1}%", h.steal_pct),
            format!("{:.1}% steal", h.steal_pct),
        )
        .ev(
            "/proc/stat",
            "cpu  8123451 1021 912345 91234567 12345 0 4512 91234 0 0",
        )
        .fix("move to a dedicated or larger instance type"),
    );
    checks.push(
        B::new(
            "cpu.governor",
            "cpu",
            "CPU frequency governor",
            Status::Pass,
            "performance",
        )
        .fact("value", "performance")
        .fact(
            "rule",
            "pass for performance or when the hypervisor controls frequency",
        )
        .ev(
            "/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor",
            "performance",
        ),
    );

    // ---- memory
    let avail_mib = (h.mem_total_mib as f64 * h.mem_available_pct / 100.0) as u64;
    checks.push(
        B::judged(
            "memory.available",
            "memory",
            "Available memory",
            rules::mem_available_percent(h.mem_available_pct),
            format!("{:.1}%", h.mem_available_pct),
            format!(
                "{avail_mib} MiB of {} MiB available ({:.1}%)",
                h.mem_total_mib, h.mem_available_pct
            ),
        )
        .ev(
            "/proc/meminfo",
            format!(
                "MemTotal:       {} kB\nMemAvailable:   {} kB",
                h.mem_total_mib * 1024,
                avail_mib * 1024
            ),
        )
        .fix("add memory or reduce the server's cache sizes"),
    );
    checks.push(
        B::judged(
            "memory.swap",
            "memory",
            "Swap usage",
            rules::swap_used_percent(Some(h.swap_used_pct)),
            format!("{:.1}%", h.swap_used_pct),
            format!(
                "{:.1}% of {} MiB swap in use",
                h.swap_used_pct, h.swap_total_mib
            ),
        )
        .ev(
            "/proc/swaps",
            format!(
                "Filename\tType\tSize\tUsed\tPriority\n/swapfile\tfile\t{}\t{}\t-2",
                h.swap_total_mib * 1024,
                (h.swap_total_mib as f64 * 1024.0 * h.swap_used_pct / 100.0) as u64
            ),
        )
        .fix("find what pushes memory out; lower vm.swappiness"),
    );
    checks.push(
        B::new(
            "memory.oom_kills",
            "memory",
            "OOM kills",
            Status::Pass,
            "no OOM kill since boot",
        )
        .fact("value", 0)
        .fact("rule", "fail when the OOM killer ran since boot")
        .ev("/proc/vmstat", "oom_kill 0"),
    );
    checks.push(
        B::judged(
            "memory.cgroup_limits",
            "memory",
            "cgroup memory limit",
            rules::cgroup_memory_limit(None),
            "max",
            "iggy-server.service has no memory limit",
        )
        .ev(
            "/sys/fs/cgroup/system.slice/iggy-server.service/memory.max",
            "max",
        ),
    );
    checks.push(
        B::judged(
            "iggy.memlock",
            "memory",
            "Locked-memory limit",
            rules::memlock(None, true),
            "unlimited",
            "RLIMIT_MEMLOCK is unlimited for iggy-server",
        )
        .ev(
            &format!("/proc/{}/limits", h.iggy_pid),
            "Max locked memory         unlimited            unlimited            bytes",
        ),
    );
    checks.push(
        B::new(
            "cpu.numa",
            "memory",
            "NUMA nodes",
            Status::Info,
            "1 NUMA node",
        )
        .fact("value", 1)
        .fact("rule", "informational")
        .ev("lscpu", "NUMA node(s):                       1"),
    );

    // ---- kernel
    checks.push(sysctl_check(
        "kernel.vm_swappiness",
        "vm.swappiness",
        h.swappiness,
        rules::swappiness(h.swappiness),
        "sysctl -w vm.swappiness=1 and persist it in /etc/sysctl.d/99-iggy.conf",
    ));
    checks.push(sysctl_check(
        "kernel.vm_max_map_count",
        "vm.max_map_count",
        h.max_map_count,
        rules::max_map_count(h.max_map_count),
        "sysctl -w vm.max_map_count=262144",
    ));
    checks.push(sysctl_check(
        "kernel.vm_dirty_ratio",
        "vm.dirty_ratio",
        h.dirty_ratio,
        rules::dirty_ratio(h.dirty_ratio),
        "sysctl -w vm.dirty_ratio=10",
    ));
    checks.push(sysctl_check(
        "kernel.vm_dirty_background_ratio",
        "vm.dirty_background_ratio",
        h.dirty_background_ratio,
        rules::dirty_background_ratio(h.dirty_background_ratio),
        "sysctl -w vm.dirty_background_ratio=5",
    ));
    checks.push(sysctl_check(
        "kernel.io_uring_disabled",
        "kernel.io_uring_disabled",
        h.io_uring_disabled,
        rules::io_uring_disabled(h.io_uring_disabled),
        "sysctl -w kernel.io_uring_disabled=0",
    ));
    checks.push(sysctl_check(
        "kernel.fs_file_max",
        "fs.file-max",
        h.file_max,
        rules::file_max(h.file_max),
        "sysctl -w fs.file-max=2097152",
    ));
    checks.push(
        B::judged(
            "kernel.transparent_hugepages",
            "kernel",
            "Transparent huge pages",
            rules::transparent_hugepages(&h.thp),
            &h.thp,
            format!("THP: {}", h.thp),
        )
        .ev("/sys/kernel/mm/transparent_hugepage/enabled", h.thp.clone())
        .fix("echo madvise > /sys/kernel/mm/transparent_hugepage/enabled"),
    );

    // ---- storage
    let data_free = 100.0 - h.data_used_pct;
    let data_used_gib = h.data_size_gib as f64 * h.data_used_pct / 100.0;
    checks.push(
        B::judged(
            "storage.data_free_space",
            "storage",
            "Free space on the Iggy data disk",
            rules::disk_free_percent(data_free),
            format!("{data_free:.1}% free"),
            format!(
                "{DATA_PATH}: {} used of {} GiB ({:.1}% used, {data_free:.1}% free)",
                gib(data_used_gib),
                h.data_size_gib,
                h.data_used_pct
            ),
        )
        .fact("mount", "/var/lib/iggy")
        .fact("device", &h.data_device)
        .ev(
            "df -h /var/lib/iggy",
            format!(
                "Filesystem      Size  Used Avail Use% Mounted on\n{}  {}G  {:.0}G  {:.0}G  {:.0}% /var/lib/iggy",
                h.data_device,
                h.data_size_gib,
                data_used_gib,
                h.data_size_gib as f64 - data_used_gib,
                h.data_used_pct
            ),
        )
        .fix(
            "free space now: lower the retention (message_expiry) or max topic size, delete \
             unused streams, or grow the volume; Iggy stops persisting at 100%",
        ),
    );
    let inode_free = 100.0 - h.data_inodes_used_pct;
    checks.push(
        B::judged(
            "storage.data_inodes",
            "storage",
            "Free inodes on the data disk",
            rules::inode_free_percent(inode_free),
            format!("{inode_free:.1}% free"),
            format!("{inode_free:.1}% of inodes free on /var/lib/iggy"),
        )
        .ev(
            "df -i /var/lib/iggy",
            format!("IUse% {:.0}%", h.data_inodes_used_pct),
        )
        .fix("reduce the number of segments (larger segment size)"),
    );
    checks.push(
        B::new(
            "storage.data_filesystem",
            "storage",
            "Data filesystem and mount options",
            Status::Pass,
            "xfs mounted with noatime",
        )
        .fact("value", "xfs rw,noatime")
        .fact("rule", "pass for xfs or ext4 mounted noatime")
        .ev(
            "/proc/mounts",
            format!(
                "{} /var/lib/iggy xfs rw,noatime,attr2,inode64 0 0",
                h.data_device
            ),
        ),
    );

    // ---- network
    for (id, key, v, j, fix) in [
        (
            "kernel.net_core_somaxconn",
            "net.core.somaxconn",
            h.somaxconn,
            rules::somaxconn(h.somaxconn),
            "sysctl -w net.core.somaxconn=4096",
        ),
        (
            "kernel.net_ipv4_tcp_max_syn_backlog",
            "net.ipv4.tcp_max_syn_backlog",
            h.tcp_max_syn_backlog,
            rules::tcp_max_syn_backlog(h.tcp_max_syn_backlog),
            "sysctl -w net.ipv4.tcp_max_syn_backlog=8192",
        ),
        (
            "kernel.net_core_rmem_max",
            "net.core.rmem_max",
            h.rmem_max,
            rules::rmem_max(h.rmem_max),
            "sysctl -w net.core.rmem_max=8388608",
        ),
        (
            "kernel.net_core_wmem_max",
            "net.core.wmem_max",
            h.wmem_max,
            rules::wmem_max(h.wmem_max),
            "sysctl -w net.core.wmem_max=8388608",
        ),
    ] {
        let mut b = sysctl_check(id, key, v, j, fix);
        b.0.category = "network".into();
        checks.push(b);
    }
    checks.push(
        B::judged(
            "network.time_wait",
            "network",
            "Sockets in TIME_WAIT",
            rules::time_wait(h.time_wait),
            h.time_wait,
            format!("{} sockets in TIME_WAIT", h.time_wait),
        )
        .ev(
            "/proc/net/sockstat",
            format!(
                "TCP: inuse 312 orphan 0 tw {} alloc 330 mem 91",
                h.time_wait
            ),
        )
        .fix("make clients reuse connections"),
    );
    checks.push(
        B::judged(
            "network.tcp_retransmits",
            "network",
            "TCP retransmissions",
            rules::tcp_retransmit_percent(h.retransmit_pct),
            format!("{:.2}%", h.retransmit_pct),
            format!("{:.2}% of segments retransmitted", h.retransmit_pct),
        )
        .ev(
            "/proc/net/snmp",
            "Tcp: ... OutSegs 912345678 RetransSegs 123456",
        )
        .fix("look for packet loss between clients and the node"),
    );
    checks.push(
        B::judged(
            "network.interface_errors",
            "network",
            "Interface errors and drops",
            rules::interface_error_percent(h.iface_err_pct),
            format!("{:.2}%", h.iface_err_pct),
            format!("ens5: {:.2}% errors and drops", h.iface_err_pct),
        )
        .ev(
            "ip -s link show ens5",
            format!(
                "2: ens5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9001\n    inet {}/24",
                h.ip
            ),
        )
        .fix("check the NIC driver and the instance's network limits"),
    );
    let listeners_text: Vec<String> = h
        .listeners
        .iter()
        .map(|(proto, addr)| format!("{proto:<10} {addr}"))
        .collect();
    checks.push(
        B::new(
            "network.iggy_listeners",
            "network",
            "Iggy listeners",
            Status::Pass,
            format!("{} listeners bound", h.listeners.len()),
        )
        .fact("value", listeners_text.join(", "))
        .fact("rule", "pass when every enabled transport is listening")
        .ev("ss -lntup", listeners_text.join("\n")),
    );

    // ---- certificates
    // One check for every certificate the config names, judged by the one that expires first.
    let tcp_expiry = created_at + chrono::Duration::days(h.tcp_cert_days_left);
    let http_expiry = created_at + chrono::Duration::days(h.http_cert_days_left);
    let soonest = h.tcp_cert_days_left.min(h.http_cert_days_left);
    let first = if h.tcp_cert_days_left <= h.http_cert_days_left {
        "/etc/iggy/certs/tcp.pem"
    } else {
        "/etc/iggy/certs/http.pem"
    };
    checks.push(
        B::judged(
            "certs.expiry",
            "certificates",
            "Certificate expiry",
            rules::cert_days_left(soonest),
            format!("{soonest} days"),
            format!(
                "{first} expires first, in {soonest} days ({})",
                (created_at + chrono::Duration::days(soonest)).format("%Y-%m-%d")
            ),
        )
        .fact("subject", format!("CN={}.iggy.internal", h.host_name))
        .fact("tcp_not_after", tcp_expiry.to_rfc3339())
        .fact("http_not_after", http_expiry.to_rfc3339())
        .ev(
            "runtime/current_config.toml [tcp.tls]",
            "enabled = true\ncert_file = \"/etc/iggy/certs/tcp.pem\"\nkey_file = \"/etc/iggy/certs/tcp-key.pem\"",
        )
        .ev(
            "openssl x509 -noout -enddate -in /etc/iggy/certs/tcp.pem",
            format!("notAfter={}", tcp_expiry.format("%b %e %H:%M:%S %Y GMT")),
        )
        .ev(
            "openssl x509 -noout -enddate -in /etc/iggy/certs/http.pem",
            format!("notAfter={}", http_expiry.format("%b %e %H:%M:%S %Y GMT")),
        )
        .fix("renew the certificate and restart the listener before it expires"),
    );

    // ---- iggy
    checks.push(
        B::new(
            "runtime.versions",
            "iggy",
            "Iggy server version",
            Status::Info,
            format!("iggy-server {}", h.iggy_version),
        )
        .fact("value", &h.iggy_version)
        .fact("rule", "informational")
        .ev(
            "iggy-server --version",
            format!("iggy-server {}", h.iggy_version),
        ),
    );
    checks.push(
        B::new(
            "iggy.process",
            "iggy",
            "Iggy server process",
            Status::Pass,
            format!("iggy-server is running as pid {}", h.iggy_pid),
        )
        .fact("value", h.iggy_pid)
        .fact("rule", "pass when exactly one iggy-server process runs")
        .ev(
            "systemctl status iggy-server",
            format!(
                "● iggy-server.service - Apache Iggy server\n     Active: active (running)\n   Main PID: {} (iggy-server)",
                h.iggy_pid
            ),
        ),
    );
    let ratio = h.open_files as f64 / h.nofile_limit as f64;
    checks.push(
        B::judged(
            "iggy.open_files",
            "iggy",
            "Open file descriptors",
            rules::open_files_ratio(ratio),
            format!("{} of {}", h.open_files, h.nofile_limit),
            format!("{} of {} descriptors in use", h.open_files, h.nofile_limit),
        )
        .ev(
            &format!("/proc/{}/limits", h.iggy_pid),
            format!(
                "Max open files            {0}              {0}              files",
                h.nofile_limit
            ),
        )
        .fix("raise LimitNOFILE in the systemd unit"),
    );
    checks.push(
        B::new(
            "storage.data_dir",
            "iggy",
            "Data directory",
            Status::Pass,
            format!("system.path = {DATA_PATH}"),
        )
        .fact("value", DATA_PATH)
        .fact(
            "rule",
            "pass when the data directory exists and is writable",
        )
        .ev(
            "ls -ld /var/lib/iggy/local_data",
            "drwxr-x--- 7 iggy iggy 4096 local_data",
        ),
    );
    checks.push(
        B::new(
            "iggy.config_parse",
            "iggy",
            "Server configuration",
            Status::Info,
            "runtime configuration read from runtime/current_config.toml",
        )
        .fact("value", "runtime/current_config.toml")
        .fact("rule", "informational")
        .ev(
            "runtime/current_config.toml [http.jwt]",
            format!(
                "[http.jwt]\nalgorithm = \"HS256\"\nencoding_secret = \"{}\"\naccess_token_expiry = \"1h\"",
                h.jwt_secret
            ),
        ),
    );
    checks.push(
        B::new(
            "iggy.config_root_credentials",
            "iggy",
            "Server environment",
            Status::Info,
            "environment of the iggy-server process",
        )
        .fact("value", "4 variables")
        .fact("rule", "informational")
        .ev(
            &format!("/proc/{}/environ", h.iggy_pid),
            format!(
                "IGGY_SYSTEM_PATH={DATA_PATH}\nIGGY_ROOT_USERNAME=iggy\nIGGY_ROOT_PASSWORD={DEMO_ROOT_PASSWORD}\nRUST_LOG=info"
            ),
        ),
    );
    checks.push(
        B::new(
            "iggy.systemd_unit",
            "iggy",
            "systemd unit",
            Status::Pass,
            "iggy-server.service is enabled and restarts on failure",
        )
        .fact("value", "Restart=on-failure")
        .fact("rule", "pass when enabled with a restart policy")
        .ev(
            "systemctl cat iggy-server",
            "[Service]\nExecStart=/usr/local/bin/iggy-server\nRestart=on-failure\nLimitNOFILE=1048576",
        ),
    );

    // ---- logs
    let lines = server_log_lines(h, created_at);
    // The collector's own matcher over this node's kernel log.
    let kernel_lines = kernel_log_lines(h, created_at);
    let io_errors = logs::io_error_lines(&kernel_lines);
    let io_status = if io_errors.is_empty() {
        Status::Pass
    } else {
        Status::Fail
    };
    checks.push(
        B::new(
            "logs.kernel_io_errors",
            "logs",
            "Kernel I/O errors",
            io_status,
            if io_errors.is_empty() {
                "no disk I/O errors in the kernel log".to_owned()
            } else {
                format!("{} disk error line(s) in the kernel log", io_errors.len())
            },
        )
        .fact("matches", io_errors.len())
        .fact(
            "rule",
            "fail on I/O error, blk_update_request, EXT4-fs error or XFS error lines",
        )
        .ev("journalctl -k", io_errors.join("\n"))
        .fix("the disk or its filesystem reports errors: check the volume and free space"),
    );
    checks.push(
        B::new(
            "logs.iggy_panics",
            "logs",
            "Panics",
            Status::Pass,
            "no panic in the server log",
        )
        .fact("value", 0)
        .fact("rule", "fail when the server log holds a panic"),
    );

    // Titles and categories are the collector's, so that a report from the emulator and one
    // from `snapdesk collect` name every check alike and can be compared.
    let defs = checks::all();
    let mut r = SplitMix(h.seed ^ 0xd0d0);
    let checks: Vec<Check> = checks
        .into_iter()
        .map(|b| {
            let mut c = b.0;
            if let Some(d) = defs.iter().find(|d| d.id == c.id) {
                c.title = d.title.to_owned();
                c.category = d.category.to_owned();
            }
            c.duration_ms = r.range(1, 250);
            c
        })
        .collect();

    Report {
        format_version: FORMAT_VERSION,
        title: format!("Snapshot of {} ({})", h.host_name, h.deployment_name),
        snapshot_name: snapshot_name.to_owned(),
        deployment_id: Some(h.deployment_id.to_string()),
        deployment_name: Some(h.deployment_name.clone()),
        node_id: Some(h.node_id.to_string()),
        host_name: h.host_name.clone(),
        created_at,
        completed_at,
        collector: Producer {
            name: COLLECTOR_NAME.into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        redacted: false,
        checks,
        logs: vec![
            LogSource {
                id: "iggy-server".into(),
                title: "Iggy server log".into(),
                source: format!("{DATA_PATH}/logs/iggy-server.log"),
                lines,
            },
            LogSource {
                id: "kernel".into(),
                title: "Kernel log".into(),
                source: "journalctl -k".into(),
                lines: kernel_lines,
            },
        ],
    }
}

/// A few hundred deterministic server log lines ending at `end`.
pub fn server_log_lines(h: &HostProfile, end: DateTime<Utc>) -> Vec<String> {
    const N: usize = 320;
    let mut r = SplitMix(h.seed ^ 0x1095);
    let start = end - chrono::Duration::seconds(2 * N as i64 + 30);
    let mut out = Vec::with_capacity(N);
    for i in 0..N {
        let ts = (start + chrono::Duration::milliseconds(2000 * i as i64 + r.range(0, 999) as i64))
            .format("%Y-%m-%dT%H:%M:%S%.6fZ");
        let client = format!(
            "10.{}.7.{}:{}",
            h.deployment_id % 50,
            r.range(2, 250),
            r.range(30000, 60000)
        );
        let p = r.range(1, u64::from(h.partitions));
        let (level, msg) = match i {
            0 => ("INFO", format!("iggy_server: Starting Iggy server {} (pid {})", h.iggy_version, h.iggy_pid)),
            1 => ("INFO", format!("server::configs::config_provider: Loaded configuration, system.path = \"{DATA_PATH}\"")),
            2 => ("INFO", format!("server::configs::config_provider: http.jwt.encoding_secret = \"{}\"", h.jwt_secret)),
            3..=6 => {
                let (proto, addr) = &h.listeners[i - 3];
                ("INFO", format!("server::{proto}: {proto} server has started on: {addr}"))
            }
            120 => ("WARN", format!("connectors::sink::http: delivery failed, retrying https://iggy:{DEMO_URL_PASSWORD}@backup.internal.example:8443/ingest (attempt 2)")),
            121 => ("INFO", "connectors::sink::http: delivery succeeded after 2 attempts".to_owned()),
            200 => ("DEBUG", format!("connectors::sink::webhook: POST https://hooks.internal.example/iggy with Authorization: Bearer {DEMO_BEARER_TOKEN}")),
            _ if h.node_index == 2 && i % 14 == 7 => ("ERROR", format!("server::streaming::segments: Failed to persist messages for stream ID: 1, topic ID: 1, partition ID: {p}: No space left on device (os error 28)")),
            _ if i % 97 == 50 => ("ERROR", format!("server::binary::command: Unauthenticated access attempt from {client}")),
            _ if i % 23 == 11 => ("WARN", format!("server::tcp::tcp_sender: Client {client} disconnected unexpectedly: connection reset by peer")),
            _ if i % 41 == 20 => ("WARN", format!("server::streaming::partitions: Consumer group 3 rebalance on partition {p} took {} ms", r.range(120, 900))),
            _ => match i % 5 {
                0 => ("INFO", format!("server::tcp::tcp_listener: Accepted new TCP connection: {client}")),
                1 => ("INFO", format!("server::streaming::segments: Persisted {} messages on disk for stream ID: 1, topic ID: 1, partition ID: {p}", r.range(100, 5000))),
                2 => ("INFO", format!("server::binary::command: Client {} authenticated as user with ID: 1", r.range(1000, 9999))),
                3 => ("INFO", "server::channels::commands::clean_personal_access_tokens: No expired personal access tokens found.".to_owned()),
                _ => ("INFO", format!("server::http::http_server: GET /stats 200 in {} ms", r.range(1, 9))),
            },
        };
        out.push(format!("{ts} {level} {msg}"));
    }
    out
}

fn kernel_log_lines(h: &HostProfile, end: DateTime<Utc>) -> Vec<String> {
    let t0 = end - chrono::Duration::seconds(h.uptime_secs.min(86_400 * 365) as i64);
    let mut lines = vec![
        format!(
            "Linux version {} (buildd@lcy02) #1 SMP PREEMPT_DYNAMIC",
            h.kernel_release
        ),
        format!(
            "Command line: BOOT_IMAGE=/vmlinuz-{} root=/dev/nvme0n1p1 ro",
            h.kernel_release
        ),
        "clocksource: Switched to clocksource kvm-clock".to_owned(),
        "nvme nvme1: 2/0/0 default/read/poll queues".to_owned(),
        format!(
            "XFS ({}): Mounting V5 Filesystem",
            h.data_device.trim_start_matches("/dev/")
        ),
        format!(
            "XFS ({}): Ending clean mount",
            h.data_device.trim_start_matches("/dev/")
        ),
        "ena 0000:00:05.0 ens5: Link up".to_owned(),
    ];
    if h.node_index == 2 {
        lines.push(format!(
            "XFS ({}): writeback error on inode 1310721, offset 0, sector 91234: No space left on device",
            h.data_device.trim_start_matches("/dev/")
        ));
    }
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let ts = t0 + chrono::Duration::milliseconds(i as i64 * 137);
            format!(
                "{} {} kernel: {l}",
                ts.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
                h.host_name
            )
        })
        .collect()
}

fn current_config(h: &HostProfile) -> String {
    format!(
        "[system]\npath = \"{DATA_PATH}\"\n\n[system.segment]\nsize = \"1 GiB\"\n\n\
         [tcp]\nenabled = true\naddress = \"0.0.0.0:8090\"\n\n[tcp.tls]\nenabled = true\n\
         cert_file = \"/etc/iggy/certs/tcp.pem\"\nkey_file = \"/etc/iggy/certs/tcp-key.pem\"\n\n\
         [quic]\nenabled = true\naddress = \"0.0.0.0:8080\"\n\n\
         [http]\nenabled = true\naddress = \"0.0.0.0:3000\"\n\n[http.jwt]\nalgorithm = \"HS256\"\n\
         encoding_secret = \"{secret}\"\ndecoding_secret = \"{secret}\"\n\
         access_token_expiry = \"1h\"\n\n[http.tls]\nenabled = true\n\
         cert_file = \"/etc/iggy/certs/http.pem\"\nkey_file = \"/etc/iggy/certs/http-key.pem\"\n\n\
         [websocket]\nenabled = true\naddress = \"0.0.0.0:8092\"\n\n\
         # node {node} of {dep}\n",
        secret = h.jwt_secret,
        node = h.node_index,
        dep = h.deployment_name,
    )
}

/// The Iggy data directory bundle (`iggy-data.zip`), generated: one partition's segment
/// and index, the state log, the runtime config and the server log. Texts are redacted
/// when a redactor is given.
pub fn iggy_data_zip(
    h: &HostProfile,
    created_at: DateTime<Utc>,
    redactor: Option<&Redactor>,
    counts: &mut BTreeMap<String, u64>,
) -> anyhow::Result<(Vec<u8>, IggyBundle)> {
    let mut r = SplitMix(h.seed ^ 0xda7a);
    let base_ts = (created_at.timestamp_micros().max(0) as u64).saturating_sub(3_600_000_000);

    // Segment: 64 messages (offset, timestamp, id, checksum, length, payload), with a
    // 16-byte index entry per message (relative offset u32, position u32, timestamp u64).
    let mut log = Vec::new();
    let mut index = Vec::new();
    for i in 0..64u64 {
        let ts = base_ts + i * 1_000_000 + r.range(0, 999);
        let payload = format!(
            "{{\"event\":\"order_created\",\"order_id\":{},\"amount\":{}.{:02}}}",
            100_000 + i,
            r.range(1, 500),
            r.range(0, 99)
        );
        let position = log.len() as u32;
        log.extend_from_slice(&i.to_le_bytes());
        log.extend_from_slice(&ts.to_le_bytes());
        log.extend_from_slice(&u128::from(r.next_u64()).to_le_bytes());
        log.extend_from_slice(&(r.next_u64() as u32).to_le_bytes());
        log.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        log.extend_from_slice(payload.as_bytes());
        index.extend_from_slice(&(i as u32).to_le_bytes());
        index.extend_from_slice(&position.to_le_bytes());
        index.extend_from_slice(&ts.to_le_bytes());
    }
    let mut state = Vec::new();
    for (i, entry) in [
        "create_stream orders",
        "create_topic orders/created",
        "create_user iggy",
    ]
    .iter()
    .enumerate()
    {
        state.extend_from_slice(&(i as u64).to_le_bytes());
        state.extend_from_slice(&(entry.len() as u32).to_le_bytes());
        state.extend_from_slice(entry.as_bytes());
    }
    let mut config = current_config(h);
    let mut server_log = server_log_lines(h, created_at).join("\n");
    server_log.push('\n');
    if let Some(red) = redactor {
        red.redact_string(&mut config, counts);
        red.redact_string(&mut server_log, counts);
    }

    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            "streams/0/topics/0/partitions/0/00000000000000000000.log",
            log,
        ),
        (
            "streams/0/topics/0/partitions/0/00000000000000000000.index",
            index,
        ),
        ("state/log", state),
        ("runtime/current_config.toml", config.into_bytes()),
        ("logs/iggy-server.log", server_log.into_bytes()),
    ];
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o644);
    let mut bytes = 0u64;
    for (name, data) in &files {
        zip.start_file(*name, opts)?;
        zip.write_all(data)?;
        bytes += data.len() as u64;
    }
    let out = zip.finish()?.into_inner();
    let bundle = IggyBundle {
        source_dir: DATA_PATH.into(),
        files: files.len() as u64,
        bytes,
        cap_bytes: 1024 * 1024 * 1024,
        omitted: Vec::new(),
    };
    Ok((out, bundle))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report for each node of a 3-node deployment.
    fn reports() -> Vec<Report> {
        let t: DateTime<Utc> = "2026-06-01T10:30:00Z".parse().unwrap();
        (1..=3)
            .map(|n| {
                let h = host_profile(611_298_765_432_109_056, "events-prod", n, 42 + u64::from(n));
                build_report(&h, "snapshot-20260601-103000", t, Some(t))
            })
            .collect()
    }

    #[test]
    fn every_check_id_is_one_the_collector_emits_with_its_title_and_category() {
        let defs = snapdesk_collector::checks::all();
        for report in reports() {
            assert!(report.checks.len() >= 30, "{} checks", report.checks.len());
            let mut seen = std::collections::HashSet::new();
            for c in &report.checks {
                let def = defs.iter().find(|d| d.id == c.id).unwrap_or_else(|| {
                    panic!(
                        "the emulator reports {:?}, which the collector never emits",
                        c.id
                    )
                });
                assert_eq!(c.title, def.title, "{}", c.id);
                assert_eq!(c.category, def.category, "{}", c.id);
                assert!(seen.insert(c.id.clone()), "{} twice", c.id);
            }
        }
    }
}

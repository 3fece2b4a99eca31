//! Kernel tunables that matter to a message streaming server: one check per parameter, each
//! with the value exactly as `sysctl -n` prints it, the rule and the file it came from.

use snapdesk_report::Status;

use super::rules::{self, Judgement};
use super::{CheckDef, Ctx, Outcome};
use crate::sys;

pub fn checks() -> Vec<CheckDef> {
    vec![
        CheckDef {
            id: "kernel.vm_swappiness",
            category: "kernel",
            title: "vm.swappiness",
            run: vm_swappiness,
        },
        CheckDef {
            id: "kernel.vm_max_map_count",
            category: "kernel",
            title: "vm.max_map_count",
            run: vm_max_map_count,
        },
        CheckDef {
            id: "kernel.vm_dirty_ratio",
            category: "kernel",
            title: "vm.dirty_ratio",
            run: vm_dirty_ratio,
        },
        CheckDef {
            id: "kernel.vm_dirty_background_ratio",
            category: "kernel",
            title: "vm.dirty_background_ratio",
            run: vm_dirty_background_ratio,
        },
        CheckDef {
            id: "kernel.net_core_somaxconn",
            category: "kernel",
            title: "net.core.somaxconn",
            run: net_core_somaxconn,
        },
        CheckDef {
            id: "kernel.net_ipv4_tcp_max_syn_backlog",
            category: "kernel",
            title: "net.ipv4.tcp_max_syn_backlog",
            run: net_ipv4_tcp_max_syn_backlog,
        },
        CheckDef {
            id: "kernel.net_core_rmem_max",
            category: "kernel",
            title: "net.core.rmem_max",
            run: net_core_rmem_max,
        },
        CheckDef {
            id: "kernel.net_core_wmem_max",
            category: "kernel",
            title: "net.core.wmem_max",
            run: net_core_wmem_max,
        },
        CheckDef {
            id: "kernel.transparent_hugepages",
            category: "kernel",
            title: "Transparent huge pages",
            run: transparent_hugepages,
        },
        CheckDef {
            id: "kernel.io_uring_disabled",
            category: "kernel",
            title: "kernel.io_uring_disabled",
            run: io_uring_disabled,
        },
        CheckDef {
            id: "kernel.fs_file_max",
            category: "kernel",
            title: "fs.file-max",
            run: fs_file_max,
        },
    ]
}

/// The sysctl names behind the `kernel.*` checks, for tests and the emulator.
pub const SYSCTLS: [(&str, &str); 10] = [
    ("kernel.vm_swappiness", "vm.swappiness"),
    ("kernel.vm_max_map_count", "vm.max_map_count"),
    ("kernel.vm_dirty_ratio", "vm.dirty_ratio"),
    (
        "kernel.vm_dirty_background_ratio",
        "vm.dirty_background_ratio",
    ),
    ("kernel.net_core_somaxconn", "net.core.somaxconn"),
    (
        "kernel.net_ipv4_tcp_max_syn_backlog",
        "net.ipv4.tcp_max_syn_backlog",
    ),
    ("kernel.net_core_rmem_max", "net.core.rmem_max"),
    ("kernel.net_core_wmem_max", "net.core.wmem_max"),
    ("kernel.io_uring_disabled", "kernel.io_uring_disabled"),
    ("kernel.fs_file_max", "fs.file-max"),
];

/// The `/proc/sys` file of a sysctl name.
pub fn sysctl_path(name: &str) -> String {
    format!("/proc/sys/{}", name.replace('.', "/"))
}

/// The file a fix persists one setting in: one file per setting, so applying every fix
/// keeps every setting (a shared file written with `>` would keep only the last).
pub fn sysctl_conf(name: &str) -> String {
    format!(
        "/etc/sysctl.d/90-iggy-{}.conf",
        name.replace(['.', '/'], "-")
    )
}

/// Reads one sysctl and judges its first number.
fn sysctl_check(name: &str, judge: fn(u64) -> Judgement, recommended: &str, why: &str) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let source = sysctl_path(name);
    let Some(value) = sys::sysctl(name) else {
        return Outcome::skipped(format!("{source} is not readable"));
    };
    let first = value.split('\t').next().and_then(|v| v.parse::<u64>().ok());
    let Some(n) = first else {
        return Outcome::info(format!("{name} = {value} (not a number)"))
            .fact("value", value)
            .fact("sysctl", name)
            .fact("source", source);
    };
    let (status, rule) = judge(n);
    let mut o = Outcome::new(status, format!("{name} = {value}"))
        .fact("value", value)
        .fact("sysctl", name)
        .fact("rule", rule)
        .fact("source", source);
    if status != Status::Pass {
        o = o.remediation(format!(
            "{why} Set it now with `sysctl -w {name}={recommended}` and persist it with \
             `echo '{name} = {recommended}' > {}` (then `sysctl --system`).",
            sysctl_conf(name)
        ));
    }
    o
}

fn vm_swappiness(_ctx: &Ctx) -> Outcome {
    let why = "Keep Iggy's memory out of swap.";
    let swap = super::memory::meminfo().and_then(|m| m.get("SwapTotal").copied());
    let mut o = match swap {
        Some(0) => sysctl_check(
            "vm.swappiness",
            |v| rules::swappiness_given_swap(v, Some(0)),
            "1",
            why,
        ),
        _ => sysctl_check("vm.swappiness", rules::swappiness, "1", why),
    };
    if let Some(kb) = swap {
        o.facts
            .push(snapdesk_report::Fact::new("swap_total_kb", kb));
        if kb == 0 && o.status == Status::Info {
            o.summary.push_str(" (no swap configured: no effect)");
        }
    }
    o
}

fn vm_max_map_count(_ctx: &Ctx) -> Outcome {
    let why = "Each segment's index and log can be memory-mapped.";
    sysctl_check("vm.max_map_count", rules::max_map_count, "262144", why)
}

fn vm_dirty_ratio(_ctx: &Ctx) -> Outcome {
    let why = "Limit dirty pages so write-back never blocks writers for long.";
    sysctl_check("vm.dirty_ratio", rules::dirty_ratio, "20", why)
}

fn vm_dirty_background_ratio(_ctx: &Ctx) -> Outcome {
    let why = "Start background write-back early.";
    sysctl_check(
        "vm.dirty_background_ratio",
        rules::dirty_background_ratio,
        "5",
        why,
    )
}

fn net_core_somaxconn(_ctx: &Ctx) -> Outcome {
    let why = "Let bursts of client connections queue instead of being refused.";
    sysctl_check("net.core.somaxconn", rules::somaxconn, "4096", why)
}

fn net_ipv4_tcp_max_syn_backlog(_ctx: &Ctx) -> Outcome {
    let why = "Keep half-open connections during bursts.";
    sysctl_check(
        "net.ipv4.tcp_max_syn_backlog",
        rules::tcp_max_syn_backlog,
        "4096",
        why,
    )
}

fn net_core_rmem_max(_ctx: &Ctx) -> Outcome {
    let why = "QUIC (UDP) needs large receive buffers.";
    sysctl_check("net.core.rmem_max", rules::rmem_max, "7340032", why)
}

fn net_core_wmem_max(_ctx: &Ctx) -> Outcome {
    let why = "QUIC (UDP) needs large send buffers.";
    sysctl_check("net.core.wmem_max", rules::wmem_max, "7340032", why)
}

fn fs_file_max(_ctx: &Ctx) -> Outcome {
    let why = "Every segment file and connection needs a descriptor.";
    sysctl_check("fs.file-max", rules::file_max, "1000000", why)
}

fn io_uring_disabled(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let name = "kernel.io_uring_disabled";
    let source = sysctl_path(name);
    // The knob appeared in Linux 6.6; without it io_uring cannot be switched off this way.
    if !std::path::Path::new(&source).exists() {
        return Outcome::pass("kernel has no io_uring_disabled knob (io_uring enabled)")
            .fact("value", "absent")
            .fact("sysctl", name)
            .fact("rule", rules::IO_URING_DISABLED_RULE)
            .fact("source", source);
    }
    let why = "Iggy 0.9 and later run on io_uring and cannot start without it.";
    sysctl_check(name, rules::io_uring_disabled, "0", why)
}

fn transparent_hugepages(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let source = "/sys/kernel/mm/transparent_hugepage/enabled";
    let Some(value) = sys::read_trim(source) else {
        return Outcome::skipped(format!("cannot read {source} (kernel without THP?)"));
    };
    let (status, rule) = rules::transparent_hugepages(&value);
    let mut o = Outcome::new(status, format!("transparent huge pages: {value}"))
        .fact("value", value)
        .fact("rule", rule)
        .fact("source", source);
    if let Some(defrag) = sys::read_trim("/sys/kernel/mm/transparent_hugepage/defrag") {
        o = o.fact("defrag", defrag);
    }
    if status == Status::Warn {
        o = o.remediation(
            "Set `echo madvise > /sys/kernel/mm/transparent_hugepage/enabled` now and persist \
             it with the kernel parameter `transparent_hugepage=madvise`.",
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctl_paths() {
        assert_eq!(sysctl_path("vm.swappiness"), "/proc/sys/vm/swappiness");
        assert_eq!(sysctl_path("fs.file-max"), "/proc/sys/fs/file-max");
    }

    #[test]
    fn every_sysctl_check_is_listed() {
        let ids: Vec<&str> = checks().iter().map(|c| c.id).collect();
        for (id, _) in SYSCTLS {
            assert!(ids.contains(&id), "{id}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn every_sysctl_fix_persists_in_its_own_file_so_all_fixes_compose() {
        let files: std::collections::BTreeSet<String> =
            SYSCTLS.iter().map(|(_, name)| sysctl_conf(name)).collect();
        assert_eq!(files.len(), SYSCTLS.len(), "{files:?}");
        assert_eq!(
            sysctl_conf("fs.file-max"),
            "/etc/sysctl.d/90-iggy-fs-file-max.conf"
        );
        // Applying two fixes one after the other keeps both settings.
        let dir = tempfile::tempdir().unwrap();
        for (name, value) in [("vm.swappiness", "1"), ("vm.max_map_count", "262144")] {
            let f = dir
                .path()
                .join(sysctl_conf(name).trim_start_matches("/etc/sysctl.d/"));
            std::fs::write(f, format!("{name} = {value}\n")).unwrap();
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    /// Against the host: when `swapon` lists no swap, a high swappiness does not warn.
    #[test]
    fn swappiness_does_not_warn_on_a_host_without_swap() {
        assert_eq!(rules::swappiness_given_swap(60, Some(0)).0, Status::Info);
        assert_eq!(rules::swappiness_given_swap(60, Some(1024)).0, Status::Warn);
        assert_eq!(rules::swappiness_given_swap(1, Some(0)).0, Status::Pass);
        let Some(out) = crate::test_skip::require_or_skip(
            std::process::Command::new("swapon")
                .args(["--show", "--noheadings"])
                .output()
                .map_err(|e| format!("swapon: {e}")),
        ) else {
            return;
        };
        let o = vm_swappiness(&test_ctx());
        if String::from_utf8_lossy(&out.stdout).trim().is_empty() {
            assert_ne!(o.status, Status::Warn, "{}", o.summary);
        }
        let swap = o
            .facts
            .iter()
            .find(|f| f.key == "swap_total_kb")
            .map(|f| f.value.clone());
        let listed = !String::from_utf8_lossy(&out.stdout).trim().is_empty();
        assert_eq!(swap.as_deref() == Some("0"), !listed, "{:?}", o.facts);
    }

    fn test_ctx() -> Ctx {
        Ctx {
            iggy: Default::default(),
            extra_certs: Vec::new(),
            started: std::time::Instant::now(),
            host_name: "h".into(),
        }
    }

    #[test]
    fn swappiness_has_value_rule_and_source() {
        let o = sysctl_check("vm.swappiness", rules::swappiness, "1", "");
        let keys: Vec<&str> = o.facts.iter().map(|f| f.key.as_str()).collect();
        assert!(keys.contains(&"value") && keys.contains(&"rule") && keys.contains(&"source"));
    }
}

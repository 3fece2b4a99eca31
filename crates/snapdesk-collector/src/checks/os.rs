//! Operating system and time: distribution, kernel, pending reboot, virtualization, clock
//! source and time zone (clock synchronisation is measured in `clock`).

use std::path::Path;

use snapdesk_report::Status;

use super::{rules, CheckDef, Ctx, Outcome};
use crate::sys::{self, CmdOutput};

pub fn checks() -> Vec<CheckDef> {
    vec![
        CheckDef {
            id: "os.distribution",
            category: "os",
            title: "Operating system distribution",
            run: distribution,
        },
        CheckDef {
            id: "os.kernel_version",
            category: "os",
            title: "Kernel version",
            run: kernel_version,
        },
        CheckDef {
            id: "os.pending_reboot",
            category: "os",
            title: "Pending reboot",
            run: pending_reboot,
        },
        CheckDef {
            id: "os.virtualization",
            category: "os",
            title: "Virtualization and containers",
            run: virtualization,
        },
        CheckDef {
            id: "time.sync",
            category: "time",
            title: "Clock synchronised (NTP)",
            run: super::clock::time_sync,
        },
        CheckDef {
            id: "time.clocksource",
            category: "time",
            title: "Kernel clock source",
            run: clocksource,
        },
        CheckDef {
            id: "time.timezone",
            category: "time",
            title: "Time zone",
            run: timezone,
        },
    ]
}

/// Parses `/etc/os-release` (`KEY=value`, values optionally quoted).
pub fn parse_os_release(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.starts_with('#') {
                return None;
            }
            let (k, v) = line.split_once('=')?;
            Some((k.trim().to_owned(), unquote(v.trim())))
        })
        .collect()
}

fn unquote(v: &str) -> String {
    let inner = v
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')));
    inner.unwrap_or(v).to_owned()
}

fn distribution(_ctx: &Ctx) -> Outcome {
    let os = std::env::consts::OS;
    let arch = std::env::consts::ARCH;
    if !cfg!(target_os = "linux") {
        // Still useful off Linux: say what the collector ran on.
        return Outcome::info(format!("{os} ({arch})"))
            .fact("os", os)
            .fact("arch", arch);
    }
    let text = match sys::read("/etc/os-release").or_else(|_| sys::read("/usr/lib/os-release")) {
        Ok(t) => t,
        Err(e) => return Outcome::skipped(format!("cannot read /etc/os-release: {e}")),
    };
    let kv = parse_os_release(&text);
    let get = |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let pretty = get("PRETTY_NAME")
        .or_else(|| get("NAME"))
        .unwrap_or_else(|| "unknown".into());
    let mut o = Outcome::info(pretty.as_str()).fact("pretty_name", pretty);
    for k in ["ID", "ID_LIKE", "VERSION_ID", "VERSION_CODENAME"] {
        if let Some(v) = get(k) {
            o = o.fact(k.to_ascii_lowercase(), v);
        }
    }
    o.fact("arch", arch)
        .evidence("/etc/os-release", text.trim())
}

fn kernel_version(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let source = "/proc/sys/kernel/osrelease";
    let Some(release) = sys::read_trim(source) else {
        return Outcome::skipped(format!("cannot read {source}"));
    };
    let (status, rule) = rules::kernel_version(&release);
    let summary = match status {
        Status::Fail => format!("kernel {release} is too old for Iggy's io_uring runtime"),
        Status::Warn => format!("kernel {release} works, but 5.15 or newer is recommended"),
        Status::Pass => format!("kernel {release}"),
        _ => format!("cannot read a version number from kernel release {release:?}"),
    };
    let mut o = Outcome::new(status, summary)
        .fact("release", release)
        .fact("rule", rule)
        .fact("source", source);
    if let Some(v) = sys::read_trim("/proc/sys/kernel/version") {
        o = o.fact("build", v);
    }
    if matches!(status, Status::Fail | Status::Warn) {
        o = o.remediation(
            "Upgrade to a long-term kernel of 5.15 or newer (for example 6.1 or 6.6) and reboot.",
        );
    }
    o
}

fn pending_reboot(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let flag = Path::new("/var/run/reboot-required");
    if flag.exists() {
        let mut o = Outcome::warn("the system asks for a reboot (/var/run/reboot-required exists)")
            .fact("reboot_required", "yes")
            .remediation("Plan a reboot (one node at a time) to apply the pending updates.");
        if let Some(pkgs) = sys::read_trim("/var/run/reboot-required.pkgs") {
            o = o.evidence("/var/run/reboot-required.pkgs", pkgs);
        }
        return o;
    }
    let Some(release) = sys::read_trim("/proc/sys/kernel/osrelease") else {
        return Outcome::skipped("cannot read the running kernel release");
    };
    let installed = installed_kernels();
    reboot_judgement(&release, &installed)
}

/// Pending reboot from the running kernel and the kernels installed in `/lib/modules`, once
/// `/var/run/reboot-required` is known to be absent. Only a comparison can pass: with no
/// kernel on disk (micro-VMs booted from an external kernel, containers) nothing can be told.
pub fn reboot_judgement(release: &str, installed: &[String]) -> Outcome {
    if installed.is_empty() {
        return Outcome::info(
            "cannot tell: no kernel is installed in /lib/modules (an external kernel, as in \
             micro-VMs and containers) and /var/run/reboot-required is absent",
        )
        .fact("running_kernel", release);
    }
    if !installed.iter().any(|k| k == release) {
        return Outcome::warn("kernel was upgraded, reboot pending")
            .fact("running_kernel", release)
            .fact("installed_kernels", installed.join(", "))
            .evidence("/lib/modules", installed.join("\n"))
            .remediation(
                "The running kernel's modules are gone from /lib/modules: reboot into the new \
                 kernel soon (loading a module now would fail).",
            );
    }
    Outcome::pass("no reboot pending: the running kernel is the one installed")
        .fact("running_kernel", release)
        .fact("installed_kernels", installed.join(", "))
}

fn installed_kernels() -> Vec<String> {
    let mut v: Vec<String> = match std::fs::read_dir("/lib/modules") {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

/// Container runtimes named in a `/proc/1/cgroup` text.
pub fn container_from_cgroup(text: &str) -> Option<&'static str> {
    let hints = [
        ("kubepods", "kubernetes"),
        ("docker", "docker"),
        ("containerd", "containerd"),
        ("libpod", "podman"),
        ("lxc", "lxc"),
    ];
    hints
        .into_iter()
        .find(|(needle, _)| text.contains(*needle))
        .map(|(_, name)| name)
}

fn virtualization(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let mut facts: Vec<(String, String)> = Vec::new();
    // Plain `systemd-detect-virt` prints the container when there is one, hiding the VM under
    // it: ask for each separately (it exits 1 and prints "none" when there is none).
    let detect = |flag: &str, fact: &str, facts: &mut Vec<(String, String)>| match sys::run(
        "systemd-detect-virt",
        &[flag],
        sys::CMD_TIMEOUT,
    ) {
        CmdOutput::Ok(out) | CmdOutput::Failed { stdout: out, .. } => {
            let v = out.trim().to_owned();
            if v.is_empty() {
                return None;
            }
            facts.push((fact.into(), v.clone()));
            (v != "none").then_some(v)
        }
        _ => None,
    };
    let mut kind = detect("--vm", "systemd_detect_virt_vm", &mut facts);
    let detected_container = detect("--container", "systemd_detect_virt_container", &mut facts);
    let cpuinfo = sys::read("/proc/cpuinfo").unwrap_or_default();
    let hypervisor_flag = cpuinfo
        .lines()
        .filter(|l| l.starts_with("flags"))
        .any(|l| l.split_whitespace().any(|f| f == "hypervisor"));
    facts.push(("hypervisor_flag".into(), hypervisor_flag.to_string()));
    for (key, path) in [
        ("dmi_sys_vendor", "/sys/class/dmi/id/sys_vendor"),
        ("dmi_product_name", "/sys/class/dmi/id/product_name"),
    ] {
        if let Some(v) = sys::read_trim(path).filter(|v| !v.is_empty()) {
            facts.push((key.into(), v));
        }
    }
    let init_cgroup = sys::read("/proc/1/cgroup").unwrap_or_default();
    let container: Option<String> = if let Some(c) = detected_container {
        Some(c)
    } else if Path::new("/.dockerenv").exists() {
        Some("docker".into())
    } else if Path::new("/run/.containerenv").exists() {
        Some("podman".into())
    } else {
        container_from_cgroup(&init_cgroup).map(String::from)
    };
    if let Some(c) = &container {
        facts.push(("container".into(), c.clone()));
    }
    let proc_version = sys::read_trim("/proc/version").unwrap_or_default();
    let wsl = proc_version.to_ascii_lowercase().contains("microsoft");
    if kind.is_none() && hypervisor_flag {
        kind = Some("virtual machine (hypervisor CPU flag)".into());
    }
    let mut o = if wsl {
        Outcome::warn("running under WSL: fine for development, not supported for production")
            .remediation("Run production Iggy nodes on a Linux host or VM, not under WSL.")
    } else {
        let what = describe_virt(kind.as_deref(), container.as_deref());
        Outcome::info(what)
    };
    for (k, v) in facts {
        o = o.fact(k, v);
    }
    o.fact("wsl", wsl)
}

/// The virtual machine and the container, each named: a container inside a VM is both.
pub fn describe_virt(vm: Option<&str>, container: Option<&str>) -> String {
    match (vm, container) {
        (Some(v), Some(c)) => format!("virtual machine: {v}; container: {c} (inside the VM)"),
        (Some(v), None) => format!("virtual machine: {v}; no container"),
        (None, Some(c)) => format!("container: {c} (no virtual machine detected)"),
        (None, None) => "bare metal (no virtualization detected)".to_owned(),
    }
}

fn clocksource(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let source = "/sys/devices/system/clocksource/clocksource0/current_clocksource";
    let Some(current) = sys::read_trim(source) else {
        return Outcome::skipped(format!("cannot read {source}"));
    };
    let available =
        sys::read_trim("/sys/devices/system/clocksource/clocksource0/available_clocksource")
            .unwrap_or_default();
    let (status, rule) = rules::clocksource(&current);
    let mut o = Outcome::new(status, format!("clock source {current}"))
        .fact("value", current)
        .fact("available", &available)
        .fact("rule", rule)
        .fact("source", source);
    if status == Status::Warn {
        let advice = if available.split_whitespace().any(|c| c == "tsc") {
            "Switch to tsc: `echo tsc > /sys/devices/system/clocksource/clocksource0/\
             current_clocksource`, and add `clocksource=tsc` to the kernel command line."
        } else {
            "This clock source makes time syscalls slow; on cloud VMs prefer an instance type \
             with a stable TSC or kvm-clock."
        };
        o = o.remediation(advice);
    }
    o
}

/// The zone name from an `/etc/localtime` link target such as
/// `/usr/share/zoneinfo/Europe/Berlin`.
pub fn zone_from_link(target: &str) -> Option<String> {
    let idx = target.find("zoneinfo/")?;
    let zone = &target[idx + "zoneinfo/".len()..];
    // Some distributions link into zoneinfo/posix/ or zoneinfo/right/.
    let zone = zone
        .strip_prefix("posix/")
        .or_else(|| zone.strip_prefix("right/"))
        .unwrap_or(zone);
    Some(zone.to_owned())
}

fn timezone(_ctx: &Ctx) -> Outcome {
    let tz_env = std::env::var("TZ").ok().filter(|s| !s.is_empty());
    let from_file = sys::read_trim("/etc/timezone").filter(|s| !s.is_empty());
    let from_link = std::fs::read_link("/etc/localtime")
        .ok()
        .and_then(|t| zone_from_link(&t.to_string_lossy()));
    let (zone, source) = match (from_link, from_file) {
        (Some(z), _) => (z, "/etc/localtime"),
        (None, Some(z)) => (z, "/etc/timezone"),
        // glibc uses UTC when /etc/localtime is absent.
        (None, None) => ("UTC".to_owned(), "default (no /etc/localtime)"),
    };
    let utc = matches!(
        zone.as_str(),
        "UTC" | "Etc/UTC" | "Etc/UCT" | "UCT" | "Zulu" | "Etc/Zulu"
    );
    let summary = if utc {
        format!("time zone {zone}")
    } else {
        format!("time zone {zone} (not UTC: comparing logs across nodes is easier in UTC)")
    };
    let mut o = Outcome::info(summary)
        .fact("timezone", zone)
        .fact("source", source);
    if let Some(tz) = tz_env {
        o = o.fact("tz_env", tz);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_in_a_vm_names_both() {
        let d = describe_virt(Some("kvm"), Some("docker"));
        assert_eq!(d, "virtual machine: kvm; container: docker (inside the VM)");
        assert!(describe_virt(None, None).starts_with("bare metal"));
    }

    /// Against the host: what `systemd-detect-virt --vm` and `--container` print is named.
    #[test]
    fn virtualization_agrees_with_systemd_detect_virt() {
        let run = |flag: &str| {
            std::process::Command::new("systemd-detect-virt")
                .arg(flag)
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .map_err(|e| format!("systemd-detect-virt: {e}"))
        };
        let Some(vm) = crate::test_skip::require_or_skip(run("--vm")) else {
            return;
        };
        let Some(ct) = crate::test_skip::require_or_skip(run("--container")) else {
            return;
        };
        let o = virtualization(&Ctx {
            iggy: Default::default(),
            extra_certs: Vec::new(),
            started: std::time::Instant::now(),
            host_name: "h".into(),
        });
        if vm != "none" {
            assert!(
                o.summary.contains(&format!("virtual machine: {vm}")),
                "{}",
                o.summary
            );
        }
        if ct != "none" {
            assert!(
                o.summary.contains(&format!("container: {ct}")),
                "{}",
                o.summary
            );
            assert!(
                !o.summary.contains(&format!("virtual machine: {ct}")),
                "{}",
                o.summary
            );
        }
    }

    #[test]
    fn pending_reboot_passes_only_when_it_could_compare() {
        let none: Vec<String> = Vec::new();
        assert_eq!(
            reboot_judgement("6.1.0-18-amd64", &none).status,
            Status::Info
        );
        let old = vec!["6.1.0-17-amd64".to_owned()];
        assert_eq!(
            reboot_judgement("6.1.0-18-amd64", &old).status,
            Status::Warn
        );
        let same = vec!["6.1.0-18-amd64".to_owned()];
        assert_eq!(
            reboot_judgement("6.1.0-18-amd64", &same).status,
            Status::Pass
        );
    }

    /// Against the host: `uname -r` and `/lib/modules/$(uname -r)` decide, as an admin would.
    #[test]
    fn pending_reboot_agrees_with_uname_and_lib_modules() {
        let Some(out) = crate::test_skip::require_or_skip(
            std::process::Command::new("uname")
                .arg("-r")
                .output()
                .map_err(|e| format!("uname: {e}")),
        ) else {
            return;
        };
        if Path::new("/var/run/reboot-required").exists() {
            return;
        }
        let release = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let o = pending_reboot(&Ctx {
            iggy: Default::default(),
            extra_certs: Vec::new(),
            started: std::time::Instant::now(),
            host_name: "h".into(),
        });
        let modules_dir = Path::new("/lib/modules");
        let any = std::fs::read_dir(modules_dir)
            .map(|r| r.count() > 0)
            .unwrap_or(false);
        let expected = if !any {
            Status::Info
        } else if modules_dir.join(&release).is_dir() {
            Status::Pass
        } else {
            Status::Warn
        };
        assert_eq!(o.status, expected, "{}", o.summary);
    }

    #[test]
    fn os_release_is_parsed() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
                    VERSION_ID=\"12\"\nID=debian\n# comment\nHOME_URL='https://www.debian.org/'\n";
        let kv = parse_os_release(text);
        assert!(kv.contains(&(
            "PRETTY_NAME".into(),
            "Debian GNU/Linux 12 (bookworm)".into()
        )));
        assert!(kv.contains(&("ID".into(), "debian".into())));
        assert!(kv.contains(&("VERSION_ID".into(), "12".into())));
        assert!(kv.contains(&("HOME_URL".into(), "https://www.debian.org/".into())));
        assert_eq!(kv.len(), 5);
    }

    #[test]
    fn zone_names_from_links() {
        let berlin = zone_from_link("/usr/share/zoneinfo/Europe/Berlin");
        assert_eq!(berlin.as_deref(), Some("Europe/Berlin"));
        let utc = zone_from_link("../usr/share/zoneinfo/Etc/UTC");
        assert_eq!(utc.as_deref(), Some("Etc/UTC"));
        let tokyo = zone_from_link("/usr/share/zoneinfo/posix/Asia/Tokyo");
        assert_eq!(tokyo.as_deref(), Some("Asia/Tokyo"));
        assert_eq!(zone_from_link("/etc/somewhere"), None);
    }

    #[test]
    fn container_hints() {
        assert_eq!(
            container_from_cgroup("0::/system.slice/docker-abc.scope"),
            Some("docker")
        );
        assert_eq!(
            container_from_cgroup("0::/kubepods/burstable/pod1/abc"),
            Some("kubernetes")
        );
        assert_eq!(container_from_cgroup("0::/init.scope"), None);
    }
}

//! A live `io_uring_setup(2)` probe: Iggy 0.9+ runs on io_uring, and a kernel that has it can
//! still refuse it (the `kernel.io_uring_disabled` sysctl, a container's seccomp profile, an
//! LSM). The probe sets up a 2-entry ring and drops it at once; the seccomp mode and the
//! sysctl say why when it is refused. The probe speaks for this collector's user and
//! sandbox: a server in another container or under another user can differ.

use snapdesk_report::Status;

use super::rules::{self, UringProbe};
use super::{CheckDef, Ctx, Outcome};
use crate::sys;

pub fn checks() -> Vec<CheckDef> {
    vec![CheckDef {
        id: "kernel.io_uring_probe",
        category: "kernel",
        title: "io_uring works (live io_uring_setup probe)",
        run: probe,
    }]
}

/// The `Seccomp:` mode of a `/proc/<pid>/status` text: 0 off, 1 strict, 2 filter.
pub fn parse_seccomp(status: &str) -> Option<u8> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Seccomp:"))
        .and_then(|v| v.trim().parse().ok())
}

/// What the kernel answered, with the error text.
#[cfg(target_os = "linux")]
fn setup_ring() -> (UringProbe, String) {
    match io_uring::IoUring::new(2) {
        Ok(ring) => {
            let p = ring.params();
            let mut features = Vec::new();
            if p.is_feature_nodrop() {
                features.push("nodrop");
            }
            if p.is_feature_fast_poll() {
                features.push("fast_poll");
            }
            if p.is_feature_ext_arg() {
                features.push("ext_arg");
            }
            drop(ring);
            (UringProbe::Works, features.join(", "))
        }
        Err(e) => {
            // EPERM and ENOSYS, as std maps them.
            let kind = match e.kind() {
                std::io::ErrorKind::PermissionDenied => UringProbe::Denied,
                std::io::ErrorKind::Unsupported => UringProbe::NoSyscall,
                _ => UringProbe::Other,
            };
            (kind, e.to_string())
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn setup_ring() -> (UringProbe, String) {
    (UringProbe::NoSyscall, "io_uring is Linux only".to_owned())
}

/// The outcome from the probe's answer and the kernel's settings.
pub fn judge(
    probe: UringProbe,
    detail: &str,
    disabled: Option<u64>,
    seccomp: Option<u8>,
) -> Outcome {
    let (status, rule) = rules::io_uring_probe(probe);
    let mut o = match probe {
        UringProbe::Works => Outcome::new(
            status,
            format!("io_uring_setup works (ring features: {detail})"),
        ),
        UringProbe::Denied | UringProbe::NoSyscall => {
            let why = rules::io_uring_refusal(disabled, seccomp);
            let o = Outcome::new(status, format!("io_uring_setup refused ({detail}): {why}"));
            let fix = match (disabled, seccomp) {
                (Some(1 | 2), _) => format!(
                    "`sysctl -w kernel.io_uring_disabled=0`, persisted with `echo \
                     'kernel.io_uring_disabled = 0' > {}`.",
                    super::kernel::sysctl_conf("kernel.io_uring_disabled")
                ),
                (_, Some(2)) => "Run the server with a seccomp profile that allows \
                                 io_uring_setup, io_uring_enter and io_uring_register (Docker: \
                                 `--security-opt seccomp=PROFILE.json`)."
                    .to_owned(),
                _ => "Check the LSM audit log (`ausearch -m avc`, `dmesg | grep apparmor`) \
                      for denied io_uring calls."
                    .to_owned(),
            };
            o.remediation(fix)
        }
        UringProbe::Other => Outcome::new(status, format!("io_uring_setup failed: {detail}"))
            .remediation(
                "ENOMEM here usually means a low locked-memory limit (RLIMIT_MEMLOCK) on a \
                 kernel before 5.12: raise LimitMEMLOCK for the server.",
            ),
    };
    o = o
        .fact(
            "io_uring_disabled",
            disabled.map_or("absent".to_owned(), |d| d.to_string()),
        )
        .fact(
            "seccomp",
            match seccomp {
                Some(0) => "0 (off)".to_owned(),
                Some(1) => "1 (strict)".to_owned(),
                Some(2) => "2 (filter)".to_owned(),
                Some(n) => n.to_string(),
                None => "unknown".to_owned(),
            },
        )
        .fact("rule", rule)
        .fact(
            "source",
            "io_uring_setup(2), /proc/sys/kernel/io_uring_disabled, /proc/self/status",
        );
    o
}

fn probe(_ctx: &Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let disabled = sys::sysctl_u64("kernel.io_uring_disabled");
    let seccomp = sys::read("/proc/self/status")
        .ok()
        .and_then(|s| parse_seccomp(&s));
    let (p, detail) = setup_ring();
    let o = judge(p, &detail, disabled, seccomp);
    if o.status == Status::Pass && disabled == Some(1) {
        // Allowed to us (root or the io_uring group) but maybe not to the server's user.
        return Outcome {
            status: Status::Warn,
            ..o
        };
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seccomp_modes() {
        assert_eq!(
            parse_seccomp("Name:\tx\nSeccomp:\t2\nSeccomp_filters:\t1\n"),
            Some(2)
        );
        assert_eq!(parse_seccomp("Seccomp:\t0\n"), Some(0));
        assert_eq!(parse_seccomp("Name:\tx\n"), None);
    }

    #[test]
    fn a_refused_probe_names_the_reason_and_its_fix() {
        let o = judge(UringProbe::Denied, "EPERM", Some(2), Some(0));
        assert_eq!(o.status, Status::Fail);
        assert!(o.summary.contains("io_uring_disabled = 2"), "{}", o.summary);
        assert!(o
            .remediation
            .unwrap()
            .contains("90-iggy-kernel-io_uring_disabled.conf"));
        let o = judge(UringProbe::Denied, "EPERM", Some(0), Some(2));
        assert!(o.summary.contains("seccomp"), "{}", o.summary);
        let o = judge(UringProbe::Works, "nodrop", Some(0), Some(0));
        assert_eq!(o.status, Status::Pass);
    }

    /// Against the kernel: with io_uring allowed and no seccomp filter, the probe works.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_probe_agrees_with_the_kernels_settings() {
        let disabled = sys::sysctl_u64("kernel.io_uring_disabled").unwrap_or(0);
        let seccomp = sys::read("/proc/self/status")
            .ok()
            .and_then(|s| parse_seccomp(&s));
        let (p, detail) = setup_ring();
        if disabled == 0 && seccomp == Some(0) {
            assert_eq!(p, UringProbe::Works, "{detail}");
        }
        if disabled == 2 {
            assert_ne!(p, UringProbe::Works);
        }
    }
}

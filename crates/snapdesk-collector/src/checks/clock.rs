//! Clock synchronisation, measured where the kernel keeps it: `adjtimex(2)` with `modes = 0`
//! (a read-only query, no privilege needed) gives the same flags `timedatectl` and `ntptime`
//! read, whatever disciplines the clock (chrony, ntpd, systemd-timesyncd, ptp4l) and whether
//! or not systemd runs. The daemons found running and the PTP clocks are reported beside it.

use snapdesk_report::Status;

use super::rules::{self, KernelClock};
use super::Outcome;
use crate::sys;

/// Time synchronisation daemons, by process name (`/proc/<pid>/comm`).
const DAEMONS: [&str; 7] = [
    "chronyd",
    "ntpd",
    "openntpd",
    "systemd-timesyn",
    "ptp4l",
    "phc2sys",
    "timemaster",
];

/// The kernel's clock state, or why it could not be read.
#[cfg(target_os = "linux")]
// `c_long` is `i64` here but `i32` on 32-bit targets: the conversion is not useless there.
#[allow(clippy::useless_conversion)]
pub fn read_kernel_clock() -> Result<KernelClock, String> {
    let mut tx = rtime_clock::adjtime::Timex::new();
    match rtime_clock::adjtime::adjtimex(&mut tx) {
        Ok(state) => Ok(KernelClock {
            state,
            status: tx.0.status,
            maxerror_us: i64::from(tx.0.maxerror),
            esterror_us: i64::from(tx.0.esterror),
        }),
        Err(e) => Err(format!("adjtimex(2) failed: {e}")),
    }
}

#[cfg(not(target_os = "linux"))]
pub fn read_kernel_clock() -> Result<KernelClock, String> {
    Err(format!(
        "adjtimex(2) is Linux only ({})",
        std::env::consts::OS
    ))
}

/// The names of the time daemons running, from `/proc/*/comm`.
fn running_daemons() -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return found;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Some(comm) = sys::read_trim(e.path().join("comm")) {
            if DAEMONS.contains(&comm.as_str()) && !found.contains(&comm) {
                found.push(comm);
            }
        }
    }
    found.sort();
    found
}

/// The PTP hardware clocks (`/sys/class/ptp/ptpN`) with their names.
fn ptp_clocks() -> Vec<String> {
    let Ok(rd) = std::fs::read_dir("/sys/class/ptp") else {
        return Vec::new();
    };
    let mut v: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| {
            let dev = e.file_name().to_string_lossy().into_owned();
            match sys::read_trim(e.path().join("clock_name")) {
                Some(n) => format!("{dev} ({n})"),
                None => dev,
            }
        })
        .collect();
    v.sort();
    v
}

/// Seconds, from microseconds, as people read them (`16 s`, `0.020 s`).
pub fn seconds(us: i64) -> String {
    if us % 1_000_000 == 0 {
        format!("{} s", us / 1_000_000)
    } else {
        format!("{:.3} s", us as f64 / 1e6)
    }
}

/// The outcome from the kernel's clock state and what else was found.
pub fn judge(k: &KernelClock, daemons: &[String], ptp: &[String]) -> Outcome {
    let (status, rule) = rules::clock_sync(k);
    let max = seconds(k.maxerror_us);
    let mut o = if k.synchronised() {
        Outcome::new(status, format!("synchronised, max error {max}"))
    } else {
        Outcome::new(status, format!("unsynchronised, max error {max}"))
    };
    if status != Status::Pass {
        let fix = if daemons.is_empty() {
            "No time daemon runs here: install and enable one (chrony, or systemd-timesyncd \
             with `timedatectl set-ntp true`) so message timestamps, retention and TLS \
             validity agree across nodes."
        } else {
            "A time daemon runs but has not synchronised the clock: check that it reaches its \
             servers (`chronyc sources`, `ntpq -p`) and that UDP 123 is open."
        };
        o = o.remediation(fix);
    }
    o.fact("synchronised", k.synchronised())
        .fact("max_error_us", k.maxerror_us)
        .fact("est_error_us", k.esterror_us)
        .fact("kernel_state", k.state)
        .fact("status_bits", format!("{:#06x}", k.status))
        .fact(
            "daemons",
            if daemons.is_empty() {
                "none running".to_owned()
            } else {
                daemons.join(", ")
            },
        )
        .fact(
            "ptp_clocks",
            if ptp.is_empty() {
                "none".to_owned()
            } else {
                ptp.join(", ")
            },
        )
        .fact("rule", rule)
        .fact("source", "adjtimex(2), /proc/*/comm, /sys/class/ptp")
}

pub fn time_sync(_ctx: &super::Ctx) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let daemons = running_daemons();
    let ptp = ptp_clocks();
    match read_kernel_clock() {
        Ok(k) => judge(&k, &daemons, &ptp),
        // Only a seccomp filter refuses a read-only adjtimex: say what else is known.
        Err(e) => Outcome::skipped(format!(
            "{e}; time daemons running: {}",
            if daemons.is_empty() {
                "none".to_owned()
            } else {
                daemons.join(", ")
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsynchronised_clock_says_so_with_its_max_error() {
        let k = KernelClock {
            state: rules::TIME_ERROR,
            status: rules::STA_UNSYNC,
            maxerror_us: 16_000_000,
            esterror_us: 16_000_000,
        };
        let o = judge(&k, &[], &[]);
        assert_eq!(o.status, Status::Warn);
        assert_eq!(o.summary, "unsynchronised, max error 16 s");
        assert!(o.remediation.unwrap().contains("No time daemon"));
        let synced = KernelClock {
            state: 0,
            status: 0x2001,
            maxerror_us: 20_600,
            esterror_us: 10,
        };
        let o = judge(&synced, &["chronyd".into()], &[]);
        assert_eq!(o.status, Status::Pass);
        assert_eq!(o.summary, "synchronised, max error 0.021 s");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_kernel_clock_is_readable_without_privilege() {
        let k = read_kernel_clock().unwrap();
        assert!(k.maxerror_us >= 0, "{k:?}");
    }
}

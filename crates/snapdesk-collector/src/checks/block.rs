//! The block device under the data directory: its queue settings (scheduler, depth,
//! rotational, read-ahead, write cache) and its average latency from `/proc/diskstats`; and
//! pressure stall information for CPU, memory and I/O (`/proc/pressure`).

use std::path::PathBuf;

use snapdesk_report::Status;

use super::rules::{self, BlockQueue, DiskStats, PressureLine};
use super::storage::{block_name, data_mount};
use super::{CheckDef, Ctx, Outcome};
use crate::sys;

pub fn checks() -> Vec<CheckDef> {
    vec![
        CheckDef {
            id: "storage.block_device",
            category: "storage",
            title: "Block device queue of the data directory",
            run: block_device,
        },
        CheckDef {
            id: "storage.disk_latency",
            category: "storage",
            title: "Disk latency of the data directory's device",
            run: disk_latency,
        },
        CheckDef {
            id: "cpu.pressure",
            category: "cpu",
            title: "CPU pressure stall",
            run: |_| pressure("cpu"),
        },
        CheckDef {
            id: "memory.pressure",
            category: "memory",
            title: "Memory pressure stall",
            run: |_| pressure("memory"),
        },
        CheckDef {
            id: "storage.io_pressure",
            category: "storage",
            title: "I/O pressure stall",
            run: |_| pressure("io"),
        },
    ]
}

/// The active scheduler of a `scheduler` file (`[none] mq-deadline kyber bfq`).
pub fn active_scheduler(text: &str) -> Option<String> {
    let t = text.trim();
    if let Some(start) = t.find('[') {
        let end = t[start..].find(']')? + start;
        return Some(t[start + 1..end].to_owned());
    }
    // Devices without a choice print just the one (`none`).
    (!t.is_empty() && !t.contains(' ')).then(|| t.to_owned())
}

/// The sysfs directory of a block device that has a `queue/` (a partition's parent disk).
fn queue_dir(kname: &str) -> Option<PathBuf> {
    let dir = std::fs::canonicalize(format!("/sys/class/block/{kname}")).ok()?;
    if dir.join("queue").is_dir() {
        return Some(dir);
    }
    let parent = dir.parent()?.to_path_buf();
    parent.join("queue").is_dir().then_some(parent)
}

pub fn read_queue(dir: &std::path::Path) -> BlockQueue {
    let q = dir.join("queue");
    let num = |f: &str| sys::read_trim(q.join(f)).and_then(|v| v.parse::<u64>().ok());
    BlockQueue {
        scheduler: sys::read(q.join("scheduler"))
            .ok()
            .and_then(|t| active_scheduler(&t)),
        nr_requests: num("nr_requests"),
        rotational: num("rotational").map(|r| r == 1),
        read_ahead_kb: num("read_ahead_kb"),
        write_cache: sys::read_trim(q.join("write_cache")),
    }
}

/// The data directory's device: its kernel name and the sysfs directory with its queue.
fn data_device(ctx: &Ctx) -> Result<(String, String, PathBuf), Outcome> {
    if !cfg!(target_os = "linux") {
        return Err(Outcome::unsupported_os());
    }
    let (real, note, m) = data_mount(ctx)?;
    let Some(kname) = block_name(&m.dev) else {
        return Err(Outcome::info(format!(
            "{} is on {} ({}), not a block device{note}",
            real.display(),
            m.source,
            m.fstype
        ))
        .fact("device", m.dev));
    };
    let Some(dir) = queue_dir(&kname) else {
        return Err(Outcome::skipped(format!(
            "no queue directory for {kname} in /sys/class/block"
        )));
    };
    Ok((kname, note, dir))
}

fn block_device(ctx: &Ctx) -> Outcome {
    let (kname, note, dir) = match data_device(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let disk = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| kname.clone());
    let q = read_queue(&dir);
    let (bad, (status, rule)) = rules::block_queue(&q);
    let opt = |v: Option<String>| v.unwrap_or_else(|| "unknown".to_owned());
    let summary = format!(
        "{disk}: scheduler {}, nr_requests {}, {}, read-ahead {} KiB, {}{note}",
        opt(q.scheduler.clone()),
        opt(q.nr_requests.map(|n| n.to_string())),
        match q.rotational {
            Some(true) => "rotational",
            Some(false) => "non-rotational",
            None => "rotational unknown",
        },
        opt(q.read_ahead_kb.map(|n| n.to_string())),
        opt(q.write_cache.clone()),
    );
    let mut o = Outcome::new(status, summary);
    if !bad.is_empty() {
        o.summary.push_str(&format!(" ({})", bad.join("; ")));
        let sysfs = format!("/sys/block/{disk}/queue");
        let mut fixes = Vec::new();
        if bad.iter().any(|b| b.contains("scheduler")) {
            fixes.push(format!("`echo mq-deadline > {sysfs}/scheduler`"));
        }
        if bad.iter().any(|b| b.contains("queue depth")) {
            fixes.push(format!("`echo 256 > {sysfs}/nr_requests`"));
        }
        if bad.iter().any(|b| b.contains("read-ahead")) {
            fixes.push(format!("`echo 128 > {sysfs}/read_ahead_kb`"));
        }
        o = o.remediation(format!(
            "Set {} now, and persist each with a udev rule (`/etc/udev/rules.d/60-iggy-{disk}.rules`, \
             `ACTION==\"add|change\", KERNEL==\"{disk}\", ATTR{{queue/...}}=\"...\"`).",
            fixes.join(", ")
        ));
    }
    o.fact("device", &kname)
        .fact("disk", &disk)
        .fact("scheduler", opt(q.scheduler))
        .fact("nr_requests", opt(q.nr_requests.map(|n| n.to_string())))
        .fact(
            "rotational",
            opt(q.rotational.map(|r| u8::from(r).to_string())),
        )
        .fact("read_ahead_kb", opt(q.read_ahead_kb.map(|n| n.to_string())))
        .fact("write_cache", opt(q.write_cache))
        .fact("rule", rule)
        .fact("source", dir.join("queue").display())
}

/// The latency counters of `name` in a `/proc/diskstats` text.
pub fn parse_diskstats(text: &str, name: &str) -> Option<DiskStats> {
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 14 || f[2] != name {
            continue;
        }
        let n = |i: usize| f[i].parse::<u64>().ok();
        return Some(DiskStats {
            reads: n(3)?,
            read_ms: n(6)?,
            writes: n(7)?,
            write_ms: n(10)?,
            in_flight: n(11)?,
        });
    }
    None
}

fn disk_latency(ctx: &Ctx) -> Outcome {
    let (kname, note, dir) = match data_device(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let Ok(text) = sys::read("/proc/diskstats") else {
        return Outcome::skipped("cannot read /proc/diskstats");
    };
    let Some(s) = parse_diskstats(&text, &kname) else {
        return Outcome::skipped(format!("{kname} is not in /proc/diskstats"));
    };
    let rotational = read_queue(&dir).rotational.unwrap_or(false);
    let (status, rule) = rules::disk_latency(&s, rotational);
    let ms = |v: Option<f64>| v.map_or("no I/O".to_owned(), |v| format!("{v:.2} ms"));
    let mut o = Outcome::new(
        status,
        format!(
            "{kname}: average read {}, write {} since boot{note}",
            ms(s.read_latency_ms()),
            ms(s.write_latency_ms())
        ),
    )
    .fact("device", &kname)
    .fact("reads", s.reads)
    .fact("read_ms", s.read_ms)
    .fact("writes", s.writes)
    .fact("write_ms", s.write_ms)
    .fact("in_flight", s.in_flight)
    .fact("rule", rule)
    .fact("source", "/proc/diskstats");
    if status != Status::Pass {
        o = o.remediation(
            "The device is slow for a log-structured server: check it now with `iostat -x 1` \
             (await, %util), the cloud volume's provisioned IOPS and throughput, and the \
             kernel log for I/O errors.",
        );
    }
    o
}

/// `/proc/pressure/<resource>`: the `some` line and the `full` line when there is one.
pub fn parse_pressure(text: &str) -> Option<(PressureLine, Option<PressureLine>)> {
    let mut some = None;
    let mut full = None;
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let kind = it.next()?;
        let mut p = PressureLine::default();
        for kv in it {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            match k {
                "avg10" => p.avg10 = v.parse().ok()?,
                "avg60" => p.avg60 = v.parse().ok()?,
                "avg300" => p.avg300 = v.parse().ok()?,
                "total" => p.total_us = v.parse().ok()?,
                _ => {}
            }
        }
        match kind {
            "some" => some = Some(p),
            "full" => full = Some(p),
            _ => {}
        }
    }
    Some((some?, full))
}

fn pressure(resource: &str) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    let source = format!("/proc/pressure/{resource}");
    let text = match sys::read(&source) {
        Ok(t) => t,
        Err(e) => {
            return Outcome::skipped(format!(
                "cannot read {source} ({e}): the kernel was built without PSI or booted with \
                 psi=0"
            ))
        }
    };
    let Some((some, full)) = parse_pressure(&text) else {
        return Outcome::error(format!("{source} is not in the PSI format"));
    };
    let (status, rule) = rules::pressure(&some, full.as_ref());
    let mut summary = format!(
        "some tasks stalled on {resource} {:.1}% of the last 60 s",
        some.avg60
    );
    if let Some(f) = &full {
        summary.push_str(&format!(", all tasks {:.1}%", f.avg60));
    }
    let mut o = Outcome::new(status, summary)
        .fact(
            "some",
            format!(
                "avg10={:.2} avg60={:.2} avg300={:.2}",
                some.avg10, some.avg60, some.avg300
            ),
        )
        .fact("rule", rule)
        .fact("source", &source)
        .evidence(&source, text.trim());
    if let Some(f) = &full {
        o = o.fact(
            "full",
            format!(
                "avg10={:.2} avg60={:.2} avg300={:.2}",
                f.avg10, f.avg60, f.avg300
            ),
        );
    }
    if status != Status::Pass {
        let why = match resource {
            "cpu" => {
                "CPU is contended: find the busiest processes (`top`), give Iggy dedicated \
                      cores or more CPUs."
            }
            "memory" => {
                "Tasks wait for memory reclaim: add memory or lower other workloads' \
                         use; see memory.available and memory.cgroup_usage."
            }
            _ => {
                "Tasks wait for the disk: see storage.disk_latency and `iostat -x 1`; a faster \
                  volume or fewer competing writers helps."
            }
        };
        o = o.remediation(why);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedulers() {
        assert_eq!(
            active_scheduler("[none] mq-deadline kyber bfq\n").as_deref(),
            Some("none")
        );
        assert_eq!(
            active_scheduler("none [mq-deadline]").as_deref(),
            Some("mq-deadline")
        );
        assert_eq!(active_scheduler("none\n").as_deref(), Some("none"));
        assert_eq!(active_scheduler(""), None);
    }

    #[test]
    fn diskstats_lines() {
        let text = " 254       0 vda 1405918 22531 64104050 2354003 140731 254337 172506816 \
                    1118897 0 135840 3502157 57200 27 76063984 28113 9076 1142\n";
        let s = parse_diskstats(text, "vda").unwrap();
        assert_eq!(s.reads, 1_405_918);
        assert_eq!(s.read_ms, 2_354_003);
        assert_eq!(s.writes, 140_731);
        assert_eq!(s.write_ms, 1_118_897);
        assert!(parse_diskstats(text, "vdb").is_none());
    }

    #[test]
    fn psi_lines() {
        let text = "some avg10=0.10 avg60=4.27 avg300=3.42 total=59028204\n\
                    full avg10=0.04 avg60=1.57 avg300=1.61 total=31661740\n";
        let (some, full) = parse_pressure(text).unwrap();
        assert!((some.avg60 - 4.27).abs() < 1e-9);
        assert_eq!(full.unwrap().total_us, 31_661_740);
        let cpu_old = "some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n";
        assert!(parse_pressure(cpu_old).unwrap().1.is_none());
    }
}

//! Logs: the last 2,000 lines of the Iggy server (journald and its log files) and of the
//! kernel, and checks that scan them for panics, disk errors, hung tasks and OOM kills.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use regex::Regex;
use snapdesk_report::LogSource;

use super::{CheckDef, Ctx, Outcome};
use crate::iggy;
use crate::sys::{self, CmdOutput};

pub fn checks() -> Vec<CheckDef> {
    vec![
        CheckDef {
            id: "logs.iggy_panics",
            category: "logs",
            title: "Panics and errors in the Iggy log",
            run: iggy_panics,
        },
        CheckDef {
            id: "logs.kernel_io_errors",
            category: "logs",
            title: "Disk I/O errors in the kernel log",
            run: kernel_io_errors,
        },
        CheckDef {
            id: "logs.hung_tasks",
            category: "logs",
            title: "Hung tasks in the kernel log",
            run: hung_tasks,
        },
        CheckDef {
            id: "logs.oom_kills",
            category: "logs",
            title: "OOM kills in the kernel log",
            run: oom_kills,
        },
    ]
}

/// Lines kept per log.
pub const MAX_LINES: usize = 2000;
/// journalctl can be slow on large journals; it still must not hold the collection up long.
const JOURNAL_TIMEOUT: Duration = Duration::from_secs(10);
/// Example lines put into a check's evidence.
const MAX_EXAMPLES: usize = 20;
/// The most read from the end of a log file while looking for [`MAX_LINES`] lines.
const MAX_TAIL_BYTES: u64 = 16 * 1024 * 1024;

/// The last `n` lines of a file, read backwards from its end in chunks so that a huge log
/// costs no more than its tail.
pub fn tail_lines(path: &Path, n: usize) -> std::io::Result<Vec<String>> {
    const CHUNK: u64 = 64 * 1024;
    let mut f = std::fs::File::open(path)?;
    let len = f.metadata()?.len();
    let mut pos = len;
    let mut buf: Vec<u8> = Vec::new();
    let mut newlines = 0usize;
    while pos > 0 && len - pos < MAX_TAIL_BYTES && newlines <= n {
        let step = CHUNK.min(pos);
        pos -= step;
        f.seek(SeekFrom::Start(pos))?;
        let mut chunk = vec![0u8; step as usize];
        f.read_exact(&mut chunk)?;
        newlines += chunk.iter().filter(|b| **b == b'\n').count();
        chunk.extend_from_slice(&buf);
        buf = chunk;
    }
    let text = String::from_utf8_lossy(&buf);
    let mut lines: Vec<&str> = text.lines().collect();
    // Stopped inside the file: the first line read is only the end of a line.
    if pos > 0 && !lines.is_empty() {
        lines.remove(0);
    }
    let start = lines.len().saturating_sub(n);
    Ok(lines[start..].iter().map(|s| (*s).to_owned()).collect())
}

/// Removes ANSI escape sequences (`ESC [ ... letter`) that tracing writes when colours are on.
pub fn strip_ansi(line: &str) -> String {
    if !line.contains('\u{1b}') {
        return line.to_owned();
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates up to the final letter.
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Output lines of journalctl, or `None` when it printed no entries.
fn journal_lines(out: &str) -> Option<Vec<String>> {
    let lines: Vec<String> = out
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("-- "))
        .map(str::to_owned)
        .collect();
    if lines.is_empty() {
        None
    } else {
        Some(lines)
    }
}

fn iggy_journal() -> Option<LogSource> {
    let n = MAX_LINES.to_string();
    let args = [
        "-u",
        "iggy-server",
        "-u",
        "iggy",
        "-n",
        n.as_str(),
        "--no-pager",
        "-o",
        "short-iso",
    ];
    let out = sys::run("journalctl", &args, JOURNAL_TIMEOUT).ok()?;
    let lines = journal_lines(&out)?;
    Some(LogSource {
        id: "iggy-journald".to_owned(),
        title: "Iggy server (journald)".to_owned(),
        source: format!("journalctl {}", args.join(" ")),
        lines,
    })
}

/// The directory the server writes its log files to: `system.logging.path` (default `logs`)
/// under the data directory.
pub fn iggy_log_dir(target: &iggy::IggyTarget) -> Option<PathBuf> {
    let data = target.data_dir.as_ref()?;
    let rel = target
        .config_value()
        .and_then(|c| iggy::lookup_str(c, "system.logging.path"))
        .unwrap_or("logs");
    let p = Path::new(rel);
    Some(if p.is_absolute() {
        p.to_path_buf()
    } else {
        data.join(p)
    })
}

/// The server's log file in a directory: the most recently written of those named like the
/// server's own (`iggy-server.log` and its rotations), else the most recently written `.log`
/// (compressed rotations are skipped). Other logs there (a TLS debug log, a connector's) must
/// not win by being touched last.
pub fn newest_log_file(dir: &Path) -> Option<PathBuf> {
    let rd = std::fs::read_dir(dir).ok()?;
    let mut best: Option<((bool, std::time::SystemTime), PathBuf)> = None;
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.contains(".log") || name.ends_with(".gz") || name.ends_with(".zst") {
            continue;
        }
        let Ok(meta) = e.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let mtime = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
        let rank = (name.starts_with("iggy"), mtime);
        let better = match &best {
            None => true,
            Some((r, _)) => rank > *r,
        };
        if better {
            best = Some((rank, e.path()));
        }
    }
    best.map(|(_, p)| p)
}

fn iggy_log_file(ctx: &Ctx) -> Option<LogSource> {
    let dir = iggy_log_dir(&ctx.iggy)?;
    let file = newest_log_file(&dir)?;
    let lines = tail_lines(&file, MAX_LINES).ok()?;
    Some(LogSource {
        id: "iggy-file".to_owned(),
        title: "Iggy server log file".to_owned(),
        source: file.display().to_string(),
        lines: lines.iter().map(|l| strip_ansi(l)).collect(),
    })
}

/// The kernel log, from journald or else `dmesg`; `Err` says why neither could be read.
fn kernel_log() -> Result<LogSource, String> {
    let n = MAX_LINES.to_string();
    let args = ["-k", "-n", n.as_str(), "--no-pager", "-o", "short-iso"];
    let journal_why = match sys::run("journalctl", &args, JOURNAL_TIMEOUT) {
        CmdOutput::Ok(out) => match journal_lines(&out) {
            Some(lines) => {
                return Ok(LogSource {
                    id: "kernel".to_owned(),
                    title: "Kernel log".to_owned(),
                    source: format!("journalctl {}", args.join(" ")),
                    lines,
                })
            }
            None => "journalctl -k shows no entries".to_owned(),
        },
        CmdOutput::Missing => "journalctl is not installed".to_owned(),
        CmdOutput::TimedOut => "journalctl -k timed out".to_owned(),
        CmdOutput::Failed { stderr, .. } => format!("journalctl -k failed: {}", stderr.trim()),
    };
    let dmesg_why = match sys::run("dmesg", &[], sys::CMD_TIMEOUT) {
        CmdOutput::Ok(out) => {
            let all: Vec<&str> = out.lines().collect();
            let start = all.len().saturating_sub(MAX_LINES);
            let lines: Vec<String> = all[start..].iter().map(|s| (*s).to_owned()).collect();
            if !lines.is_empty() {
                return Ok(LogSource {
                    id: "kernel".to_owned(),
                    title: "Kernel log".to_owned(),
                    source: "dmesg".to_owned(),
                    lines,
                });
            }
            "dmesg printed nothing".to_owned()
        }
        CmdOutput::Missing => "dmesg is not installed".to_owned(),
        CmdOutput::TimedOut => "dmesg timed out".to_owned(),
        CmdOutput::Failed { stderr, .. } => format!("dmesg failed: {}", stderr.trim()),
    };
    Err(format!(
        "kernel log not readable ({journal_why}; {dmesg_why}): needs root or the adm group"
    ))
}

/// Every log this machine offers about Iggy and the kernel, the last 2,000 lines of each.
pub fn collect_logs(ctx: &Ctx) -> Vec<LogSource> {
    let mut out = Vec::new();
    if cfg!(target_os = "linux") {
        if let Some(j) = iggy_journal() {
            out.push(j);
        }
    }
    if let Some(f) = iggy_log_file(ctx) {
        out.push(f);
    }
    if cfg!(target_os = "linux") {
        if let Ok(k) = kernel_log() {
            out.push(k);
        }
    }
    out
}

/// The lines that contain any of `needles`.
pub fn matching<'a>(lines: &'a [String], needles: &[&str]) -> Vec<&'a str> {
    lines
        .iter()
        .filter(|l| needles.iter().any(|n| l.contains(n)))
        .map(String::as_str)
        .collect()
}

fn examples(lines: &[&str]) -> String {
    let start = lines.len().saturating_sub(MAX_EXAMPLES);
    lines[start..].join("\n")
}

fn iggy_panics(ctx: &Ctx) -> Outcome {
    let mut sources: Vec<LogSource> = Vec::new();
    if cfg!(target_os = "linux") {
        if let Some(j) = iggy_journal() {
            sources.push(j);
        }
    }
    if let Some(f) = iggy_log_file(ctx) {
        sources.push(f);
    }
    if sources.is_empty() {
        return Outcome::skipped(
            "no Iggy logs found (no iggy journald unit, no log file under the data directory)",
        );
    }
    let mut panics: Vec<&str> = Vec::new();
    let mut errors: Vec<&str> = Vec::new();
    let mut scanned = 0usize;
    for s in &sources {
        scanned += s.lines.len();
        panics.extend(matching(&s.lines, &["panicked at"]));
        errors.extend(matching(&s.lines, &[" ERROR "]));
    }
    let names: Vec<&str> = sources.iter().map(|s| s.source.as_str()).collect();
    let rule = "fail on any panic, warn on ERROR lines, in the last 2000 lines of each log";
    let mut o = if !panics.is_empty() {
        Outcome::fail(format!(
            "{} panic(s) and {} ERROR line(s)",
            panics.len(),
            errors.len()
        ))
        .evidence("panics", examples(&panics))
        .remediation(
            "The server panicked: attach these lines and the server version to a bug \
                 report; check disk space and data directory integrity first.",
        )
    } else if !errors.is_empty() {
        Outcome::warn(format!("{} ERROR line(s)", errors.len()))
    } else {
        Outcome::pass(format!("no panics or errors in {scanned} lines"))
    };
    if !errors.is_empty() {
        o = o.evidence("errors", examples(&errors));
    }
    o.fact("panics", panics.len())
        .fact("errors", errors.len())
        .fact("lines_scanned", scanned)
        .fact("sources", names.join(", "))
        .fact("rule", rule)
}

/// Kernel log lines that report disk or filesystem errors.
pub fn io_error_lines(lines: &[String]) -> Vec<&str> {
    let xfs = Regex::new(r"XFS \([^)]*\):.*(?i:error|corrupt|shutting down|shutdown)").ok();
    lines
        .iter()
        .filter(|l| {
            l.contains("I/O error")
                || l.contains("blk_update_request")
                || l.contains("EXT4-fs error")
                || xfs.as_ref().is_some_and(|re| re.is_match(l))
        })
        .map(String::as_str)
        .collect()
}

fn kernel_check(scan: fn(&LogSource) -> Outcome) -> Outcome {
    if !cfg!(target_os = "linux") {
        return Outcome::unsupported_os();
    }
    match kernel_log() {
        Ok(k) => scan(&k)
            .fact("lines_scanned", k.lines.len())
            .fact("source", k.source),
        Err(why) => Outcome::skipped(why),
    }
}

fn kernel_io_errors(_ctx: &Ctx) -> Outcome {
    kernel_check(|k| {
        let hits = io_error_lines(&k.lines);
        let rule = "fail on I/O error, blk_update_request, EXT4-fs error or XFS error lines";
        if hits.is_empty() {
            Outcome::pass("no disk I/O errors in the kernel log").fact("rule", rule)
        } else {
            Outcome::fail(format!(
                "{} disk error line(s) in the kernel log",
                hits.len()
            ))
            .fact("matches", hits.len())
            .fact("rule", rule)
            .evidence("kernel log", examples(&hits))
            .remediation(
                "The disk or its filesystem reports errors: check SMART (`smartctl -a`), \
                     the cloud volume's health, and plan to move Iggy's data off this disk.",
            )
        }
    })
}

fn hung_tasks(_ctx: &Ctx) -> Outcome {
    kernel_check(|k| {
        let hits = matching(&k.lines, &["blocked for more than"]);
        let rule = "warn on 'blocked for more than' (hung task) lines";
        if hits.is_empty() {
            Outcome::pass("no hung tasks in the kernel log").fact("rule", rule)
        } else {
            Outcome::warn(format!("{} hung task report(s)", hits.len()))
                .fact("matches", hits.len())
                .fact("rule", rule)
                .evidence("kernel log", examples(&hits))
                .remediation(
                    "Tasks blocked on I/O for minutes: the storage is too slow or failing \
                     (check iostat, the volume's IOPS limits, and I/O errors).",
                )
        }
    })
}

/// Whether an OOM line names the Iggy server as the killed process.
pub fn oom_killed_iggy(line: &str) -> bool {
    line.contains("Killed process") && line.contains("(iggy-server)")
}

fn oom_kills(_ctx: &Ctx) -> Outcome {
    kernel_check(|k| {
        let hits = matching(&k.lines, &["Killed process", "oom-kill"]);
        let rule = "warn on OOM kills, fail when the killed process is iggy-server";
        if hits.is_empty() {
            return Outcome::pass("no OOM kills in the kernel log").fact("rule", rule);
        }
        let o = if hits.iter().any(|l| oom_killed_iggy(l)) {
            Outcome::fail("the OOM killer killed iggy-server")
        } else {
            Outcome::warn(format!("{} OOM kill line(s) in the kernel log", hits.len()))
        };
        o.fact("matches", hits.len())
            .fact("rule", rule)
            .evidence("kernel log", examples(&hits))
            .remediation(
                "Memory ran out: size Iggy's memory pool and caches to the machine, limit \
                 other workloads, and set OOMScoreAdjust=-500 on the Iggy unit.",
            )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn tail_reads_only_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.log");
        let mut f = std::fs::File::create(&p).unwrap();
        for i in 0..50_000 {
            writeln!(
                f,
                "line {i} with some padding to make it longer than a few bytes"
            )
            .unwrap();
        }
        drop(f);
        let lines = tail_lines(&p, 2000).unwrap();
        assert_eq!(lines.len(), 2000);
        assert_eq!(
            lines[0],
            "line 48000 with some padding to make it longer than a few bytes"
        );
        assert_eq!(
            lines[1999],
            "line 49999 with some padding to make it longer than a few bytes"
        );
        let small = dir.path().join("small.log");
        std::fs::write(&small, "a\nb\nc").unwrap();
        assert_eq!(tail_lines(&small, 2000).unwrap(), vec!["a", "b", "c"]);
        let empty = dir.path().join("empty.log");
        std::fs::write(&empty, "").unwrap();
        assert!(tail_lines(&empty, 10).unwrap().is_empty());
    }

    #[test]
    fn ansi_codes_are_removed() {
        assert_eq!(
            strip_ansi("\u{1b}[2m2024\u{1b}[0m \u{1b}[31mERROR\u{1b}[0m x"),
            "2024 ERROR x"
        );
        assert_eq!(strip_ansi("plain"), "plain");
    }

    #[test]
    fn journal_no_entries() {
        assert_eq!(journal_lines("-- No entries --\n"), None);
        assert_eq!(
            journal_lines("2024-01-01T00:00:00+0000 h k: x\n").map(|v| v.len()),
            Some(1)
        );
    }

    #[test]
    fn kernel_patterns() {
        let lines: Vec<String> = [
            "blk_update_request: I/O error, dev sda, sector 123",
            "XFS (sdb1): Mounting V5 Filesystem",
            "XFS (sdb1): metadata I/O error in \"xfs_trans_read_buf_map\"",
            "XFS (sdb1): Corruption detected. Unmount and run xfs_repair",
            "EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm ls",
            "Buffer I/O error on dev sda1, logical block 0",
            "eth0: link up",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let hits = io_error_lines(&lines);
        assert_eq!(hits.len(), 5);
        assert!(!hits.iter().any(|l| l.contains("Mounting")));
        assert!(oom_killed_iggy(
            "Out of memory: Killed process 4242 (iggy-server) total-vm:123kB, anon-rss:1kB"
        ));
        assert!(!oom_killed_iggy("Out of memory: Killed process 1 (java)"));
    }

    #[test]
    fn log_dir_and_newest_file() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        std::fs::write(logs.join("iggy-server.log.1.gz"), "x").unwrap();
        std::fs::write(logs.join("iggy-server.log"), "hello\n").unwrap();
        let t = iggy::IggyTarget {
            data_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        };
        assert_eq!(iggy_log_dir(&t), Some(logs.clone()));
        assert_eq!(newest_log_file(&logs), Some(logs.join("iggy-server.log")));
        // Another log written later does not take the server's place (the canary test
        // failed when its TLS debug log was written a clock tick after the server's).
        std::fs::write(logs.join("tls-debug.log"), "later\n").unwrap();
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(logs.join("tls-debug.log"))
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert_eq!(newest_log_file(&logs), Some(logs.join("iggy-server.log")));
        // Without a log named like the server's, the newest log is the one.
        std::fs::remove_file(logs.join("iggy-server.log")).unwrap();
        assert_eq!(newest_log_file(&logs), Some(logs.join("tls-debug.log")));
    }

    #[test]
    fn panics_are_found() {
        let lines: Vec<String> = vec![
            "2024-01-01 INFO server started".into(),
            "thread 'shard-0' panicked at core/server/src/x.rs:10:5:".into(),
            "2024-01-01 ERROR server::tcp: connection reset".into(),
        ];
        assert_eq!(matching(&lines, &["panicked at"]).len(), 1);
        assert_eq!(matching(&lines, &[" ERROR "]).len(), 1);
    }
}

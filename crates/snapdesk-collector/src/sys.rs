//! Small, bounded ways to ask the system: read a file, read a sysctl, run a command with a
//! timeout. A missing file or command is a normal answer here, not an error: the check that
//! asked turns it into `skipped` with the reason.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The largest amount read from one file or command output.
pub const MAX_READ: u64 = 4 * 1024 * 1024;

/// Reads a whole (small) file as text, at most [`MAX_READ`] bytes.
pub fn read(path: impl AsRef<Path>) -> std::io::Result<String> {
    let f = std::fs::File::open(path.as_ref())?;
    let mut s = Vec::new();
    f.take(MAX_READ).read_to_end(&mut s)?;
    Ok(String::from_utf8_lossy(&s).into_owned())
}

/// Reads a file and trims it; `None` when it cannot be read.
pub fn read_trim(path: impl AsRef<Path>) -> Option<String> {
    read(path).ok().map(|s| s.trim().to_owned())
}

/// Reads `/proc/sys/<name with dots as slashes>`, as `sysctl -n <name>` prints it
/// (whitespace runs folded to one tab, like sysctl does for multi-value keys).
pub fn sysctl(name: &str) -> Option<String> {
    let path = format!("/proc/sys/{}", name.replace('.', "/"));
    let raw = read_trim(path)?;
    Some(raw.split_whitespace().collect::<Vec<_>>().join("\t"))
}

/// A sysctl as an integer (the first field of multi-value keys).
pub fn sysctl_u64(name: &str) -> Option<u64> {
    sysctl(name)?.split('\t').next()?.parse().ok()
}

/// What running a command gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CmdOutput {
    /// It ran and exited 0.
    Ok(String),
    /// It ran and exited non-zero (stdout, stderr, code).
    Failed {
        stdout: String,
        stderr: String,
        code: Option<i32>,
    },
    /// The program is not installed.
    Missing,
    /// It did not finish in time and was killed.
    TimedOut,
}

impl CmdOutput {
    pub fn ok(self) -> Option<String> {
        match self {
            CmdOutput::Ok(s) => Some(s),
            _ => None,
        }
    }
}

/// Whether a program is on `PATH`.
pub fn has_program(name: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|d| d.join(name).is_file())
}

/// Runs a command with a timeout, capturing at most [`MAX_READ`] bytes of each stream.
pub fn run(program: &str, args: &[&str], timeout: Duration) -> CmdOutput {
    if !program.contains('/') && !has_program(program) {
        return CmdOutput::Missing;
    }
    let child = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .env("SYSTEMD_PAGER", "")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return CmdOutput::Missing,
        Err(e) => {
            return CmdOutput::Failed {
                stdout: String::new(),
                stderr: e.to_string(),
                code: None,
            }
        }
    };
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    let out_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.take(MAX_READ).read_to_end(&mut b);
        }
        b
    });
    let err_t = std::thread::spawn(move || {
        let mut b = Vec::new();
        if let Some(e) = err.as_mut() {
            let _ = e.take(MAX_READ).read_to_end(&mut b);
        }
        b
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap_or_default()).into_owned();
    match status {
        None => CmdOutput::TimedOut,
        Some(st) if st.success() => CmdOutput::Ok(stdout),
        Some(st) => CmdOutput::Failed {
            stdout,
            stderr,
            code: st.code(),
        },
    }
}

/// The first non-empty line of a command's output, trimmed.
pub fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_owned()
}

/// The default timeout for one command inside a check.
pub const CMD_TIMEOUT: Duration = Duration::from_secs(3);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_program_is_reported_as_missing() {
        assert_eq!(
            run("snapdesk-no-such-program", &[], CMD_TIMEOUT),
            CmdOutput::Missing
        );
    }

    #[test]
    fn slow_program_times_out() {
        let r = run("sleep", &["5"], Duration::from_millis(100));
        assert_eq!(r, CmdOutput::TimedOut);
    }

    #[test]
    fn exit_status_is_kept() {
        match run("sh", &["-c", "echo out; echo err >&2; exit 3"], CMD_TIMEOUT) {
            CmdOutput::Failed {
                stdout,
                stderr,
                code,
            } => {
                assert_eq!(stdout.trim(), "out");
                assert_eq!(stderr.trim(), "err");
                assert_eq!(code, Some(3));
            }
            other => panic!("{other:?}"),
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn sysctl_reads_proc_sys() {
        assert!(sysctl_u64("kernel.pid_max").is_some());
        assert!(sysctl("no.such.key").is_none());
    }
}

//! The one place that decides whether a test may skip.
//!
//! A test that cannot run here (no fixture folder, no root to mount a tmpfs, a tool that is
//! missing or fails, the desktop switch unset) calls [`require_or_skip`] or [`skip`]:
//! - under `CI=true` that is a failure (a panic naming the reason): CI has everything, so a
//!   test that does not run there proves nothing while looking green;
//! - elsewhere it prints `SKIPPED: <test>: <reason>` on standard error and the test returns
//!   early. `scripts/test` counts those lines per test binary, and fails under `CI=true` if
//!   it ever sees one.
//!
//! This file uses nothing but `std`, so that crates `snapdesk-tests` cannot be a dependency
//! of (the collector and the report crate, which it depends on itself) include this same
//! file with `#[path = ".../tests/src/skip.rs"] mod skip;` rather than keep a copy.

// Each including crate uses a different part of this module.
#![allow(dead_code)]

use std::fmt::Display;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The marker `scripts/test` looks for on standard error.
pub const MARKER: &str = "SKIPPED:";

/// Whether this run is CI: `CI` set to `true` or `1` (GitHub Actions, GitLab, `.ci/run`).
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v.eq_ignore_ascii_case("true") || v == "1")
        .unwrap_or(false)
}

/// The running test's name: libtest names each test's thread after the test.
fn test_name() -> String {
    std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .unwrap_or("<test>")
        .to_owned()
}

/// The line printed for a skip (also what the panic says under CI).
pub fn skip_line(reason: &dyn Display) -> String {
    format!("{MARKER} {}: {reason}", test_name())
}

/// Cannot run here: under CI this panics (the test fails); elsewhere it says so on stderr.
/// The caller returns right after (or skips the one comparison it was about to make).
#[track_caller]
pub fn skip(reason: impl Display) {
    // Straight to the process's stderr, not through `eprintln!`: libtest captures what the
    // print macros write and shows it only for failing tests, and this line must reach
    // `scripts/test` (and the person running the tests) for passing ones too.
    skip_as(in_ci(), &reason, &mut std::io::stderr());
}

/// [`skip`] with the CI decision and the output given (tests cannot set `CI` for one thread
/// only, and their own skip lines must not reach `scripts/test`).
#[track_caller]
fn skip_as(ci: bool, reason: &dyn Display, out: &mut dyn Write) {
    let line = skip_line(reason);
    if ci {
        panic!("{line} (under CI=true a test may not skip: install or fix what it needs)");
    }
    let _ = writeln!(out, "{line}");
}

/// `Some(value)` when what the test needs is there; otherwise [`skip`] and `None`.
#[track_caller]
pub fn require_or_skip<T, E: Display>(what: Result<T, E>) -> Option<T> {
    match what {
        Ok(v) => Some(v),
        Err(reason) => {
            skip(reason);
            None
        }
    }
}

/// The workspace root above `manifest_dir` (pass `env!("CARGO_MANIFEST_DIR")`): the nearest
/// directory whose `Cargo.toml` declares `[workspace]`.
pub fn workspace_root(manifest_dir: &str) -> PathBuf {
    let start = Path::new(manifest_dir);
    for dir in start.ancestors() {
        let toml = dir.join("Cargo.toml");
        if std::fs::read_to_string(&toml).is_ok_and(|t| t.contains("[workspace]")) {
            return dir.to_path_buf();
        }
    }
    start.to_path_buf()
}

/// Where the shared fixtures are: `../shared/fixtures` beside the checkout, found from the
/// crate's own directory, never from an absolute path.
pub fn shared_dir(manifest_dir: &str) -> PathBuf {
    workspace_root(manifest_dir).join("..").join("shared")
}

/// The shared fixtures folder, or a skip (a failure under CI) saying where it was looked for.
#[track_caller]
pub fn fixtures_or_skip(manifest_dir: &str) -> Option<PathBuf> {
    let p = shared_dir(manifest_dir).join("fixtures");
    require_or_skip(if p.is_dir() {
        Ok(p)
    } else {
        Err(format!(
            "the shared fixtures folder is absent (looked for {})",
            p.display()
        ))
    })
}

/// Counts the comparisons a test really made, so that a test whose every comparison was
/// skipped cannot pass: [`Comparisons::require_at_least`] fails below the minimum.
#[derive(Debug, Default)]
pub struct Comparisons {
    made: usize,
}

impl Comparisons {
    pub fn new() -> Self {
        Self::default()
    }

    /// Asserts `got == expected` and counts it.
    #[track_caller]
    pub fn eq<T: PartialEq + std::fmt::Debug + ?Sized>(
        &mut self,
        got: &T,
        expected: &T,
        what: &str,
    ) {
        assert_eq!(got, expected, "{what}");
        self.made += 1;
    }

    /// Asserts `ok` and counts it.
    #[track_caller]
    pub fn check(&mut self, ok: bool, what: impl Display) {
        assert!(ok, "{what}");
        self.made += 1;
    }

    pub fn made(&self) -> usize {
        self.made
    }

    #[track_caller]
    pub fn require_at_least(&self, min: usize) {
        assert!(
            self.made >= min,
            "only {} comparison(s) made, at least {min} needed: the test proved too little",
            self.made
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_skip_line_names_the_test_and_the_reason() {
        let line = skip_line(&"no tool");
        assert!(line.starts_with("SKIPPED: "), "{line}");
        assert!(
            line.contains("the_skip_line_names_the_test_and_the_reason"),
            "{line}"
        );
        assert!(line.ends_with(": no tool"), "{line}");
    }

    #[test]
    fn the_workspace_root_holds_the_workspace_manifest() {
        let root = workspace_root(env!("CARGO_MANIFEST_DIR"));
        let toml = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        assert!(toml.contains("[workspace]"));
        assert!(root.join("tests").join("src").join("skip.rs").is_file());
    }

    /// The panic message of `f`, or `None` when it returned.
    fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> Option<String> {
        let payload = std::panic::catch_unwind(f).err()?;
        Some(
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default(),
        )
    }

    #[test]
    fn a_skip_fails_under_ci_and_only_says_so_elsewhere() {
        let mut said = Vec::new();
        skip_as(false, &"no tmpfs", &mut said);
        let said = String::from_utf8(said).unwrap();
        assert!(
            said.starts_with("SKIPPED: ") && said.ends_with(": no tmpfs\n"),
            "{said}"
        );
        let msg = panic_message(|| skip_as(true, &"no tmpfs", &mut Vec::new()))
            .expect("a skip under CI panics");
        assert!(msg.starts_with("SKIPPED: "), "{msg}");
        assert!(msg.contains("no tmpfs") && msg.contains("CI=true"), "{msg}");
    }

    #[test]
    fn too_few_comparisons_fail() {
        let mut c = Comparisons::new();
        c.eq("a", "a", "same");
        c.require_at_least(1);
        let msg = panic_message(|| c.require_at_least(2)).expect("one comparison is not two");
        assert!(
            msg.contains("only 1 comparison(s) made, at least 2"),
            "{msg}"
        );
    }
}

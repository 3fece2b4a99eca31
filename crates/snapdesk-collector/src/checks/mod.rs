//! The checks. Each one is a [`CheckDef`]: a stable id, a category, a title and a function
//! from the shared [`Ctx`] to an [`Outcome`]. Probing (reading the system) and judging (the
//! rule, in `rules`) are kept apart so the rules can be unit-tested and reused by the
//! emulator's host profiles.
//!
//! A check never panics on purpose and never blocks past its own command timeouts; the
//! runner still guards against both (a panic or a hang becomes `error`).

use std::path::PathBuf;
use std::time::Instant;

use snapdesk_report::{Evidence, Fact, Status};

use crate::iggy::IggyTarget;

pub mod block;
pub mod certs;
pub mod clock;
pub mod cpu;
pub mod iggy_config;
pub mod iggy_process;
pub mod io_uring;
pub mod kernel;
pub mod logs;
pub mod memory;
pub mod memory_use;
pub mod net_host;
pub mod network;
pub mod os;
pub mod rules;
pub mod storage;

/// What every check can look at, found once before the checks run.
#[derive(Debug)]
pub struct Ctx {
    /// The Iggy server found on this machine (process, config, data directory), if any.
    pub iggy: IggyTarget,
    /// Extra certificate paths given with `--cert`, besides those named in the Iggy config.
    pub extra_certs: Vec<PathBuf>,
    /// When the collection started.
    pub started: Instant,
    /// The host name, as the kernel reports it.
    pub host_name: String,
}

/// The result of one check, before the runner adds id, title and duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub summary: String,
    pub facts: Vec<Fact>,
    pub evidence: Vec<Evidence>,
    pub remediation: Option<String>,
}

impl Outcome {
    pub fn new(status: Status, summary: impl Into<String>) -> Self {
        Self {
            status,
            summary: summary.into(),
            facts: Vec::new(),
            evidence: Vec::new(),
            remediation: None,
        }
    }
    pub fn pass(summary: impl Into<String>) -> Self {
        Self::new(Status::Pass, summary)
    }
    pub fn warn(summary: impl Into<String>) -> Self {
        Self::new(Status::Warn, summary)
    }
    pub fn fail(summary: impl Into<String>) -> Self {
        Self::new(Status::Fail, summary)
    }
    pub fn info(summary: impl Into<String>) -> Self {
        Self::new(Status::Info, summary)
    }
    pub fn error(summary: impl Into<String>) -> Self {
        Self::new(Status::Error, summary)
    }
    /// The check cannot run here; `reason` says why (missing command, no privilege, no Iggy).
    pub fn skipped(reason: impl Into<String>) -> Self {
        Self::new(Status::Skipped, reason)
    }
    pub fn unsupported_os() -> Self {
        Self::skipped(format!(
            "not supported on this OS ({})",
            std::env::consts::OS
        ))
    }
    #[must_use]
    pub fn fact(mut self, key: impl Into<String>, value: impl std::fmt::Display) -> Self {
        self.facts.push(Fact::new(key, value));
        self
    }
    #[must_use]
    pub fn evidence(mut self, source: impl Into<String>, excerpt: impl Into<String>) -> Self {
        self.evidence.push(Evidence::new(source, excerpt));
        self
    }
    #[must_use]
    pub fn remediation(mut self, text: impl Into<String>) -> Self {
        self.remediation = Some(text.into());
        self
    }
    /// Raises the status to `other` when `other` is worse (fail > error > warn > ...).
    pub fn worst(a: Status, b: Status) -> Status {
        if b.rank() < a.rank() {
            b
        } else {
            a
        }
    }
}

/// One check's definition.
#[derive(Clone, Copy)]
pub struct CheckDef {
    pub id: &'static str,
    pub category: &'static str,
    pub title: &'static str,
    pub run: fn(&Ctx) -> Outcome,
}

impl std::fmt::Debug for CheckDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckDef").field("id", &self.id).finish()
    }
}

/// Every check, in a stable order.
pub fn all() -> Vec<CheckDef> {
    let mut v = Vec::new();
    v.extend(os::checks());
    v.extend(cpu::checks());
    v.extend(memory::checks());
    v.extend(memory_use::checks());
    v.extend(kernel::checks());
    v.extend(io_uring::checks());
    v.extend(iggy_process::checks());
    v.extend(storage::checks());
    v.extend(block::checks());
    v.extend(network::checks());
    v.extend(net_host::checks());
    v.extend(certs::checks());
    v.extend(iggy_config::checks());
    v.extend(logs::checks());
    v
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    #[test]
    fn at_least_forty_checks_with_unique_dotted_ids() {
        let all = super::all();
        assert!(all.len() >= 40, "only {} checks", all.len());
        let mut seen = HashSet::new();
        for c in &all {
            assert!(seen.insert(c.id), "duplicate id {}", c.id);
            assert!(c.id.contains('.'), "id {} is not dotted", c.id);
            assert!(
                c.id.chars().all(|ch| ch.is_ascii_lowercase()
                    || ch.is_ascii_digit()
                    || ch == '.'
                    || ch == '_'),
                "id {}",
                c.id
            );
            assert!(!c.title.is_empty() && !c.category.is_empty());
        }
    }
}

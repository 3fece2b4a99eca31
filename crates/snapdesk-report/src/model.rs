//! The report model: what a collector finds on one node, as a person reads it and as a
//! machine reads it. The HTML report embeds exactly this as JSON.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Version of the report JSON and archive layout. Readers accept this and older.
pub const FORMAT_VERSION: u32 = 1;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Fail,
    Error,
    Warn,
    Info,
    Skipped,
    Pass,
}

impl Status {
    /// Every status in "failures first" order.
    pub const ALL: [Status; 6] = [
        Status::Fail,
        Status::Error,
        Status::Warn,
        Status::Info,
        Status::Skipped,
        Status::Pass,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Info => "info",
            Status::Error => "error",
            Status::Skipped => "skipped",
        }
    }

    /// Sort key: failures first, passes last.
    pub fn rank(self) -> u8 {
        match self {
            Status::Fail => 0,
            Status::Error => 1,
            Status::Warn => 2,
            Status::Info => 3,
            Status::Skipped => 4,
            Status::Pass => 5,
        }
    }

    /// Reads a status word as foreign reports write it (`ok`, `passed`, `warning`, ...).
    pub fn from_word(word: &str) -> Option<Status> {
        let w = word
            .trim()
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_ascii_lowercase();
        Some(match w.as_str() {
            "pass" | "passed" | "ok" | "success" | "good" | "healthy" => Status::Pass,
            "warn" | "warning" | "warnings" | "degraded" => Status::Warn,
            "fail" | "failed" | "failure" | "critical" | "crit" | "bad" => Status::Fail,
            "error" | "errored" | "err" => Status::Error,
            "info" | "information" | "informational" | "notice" => Status::Info,
            "skipped" | "skip" | "n/a" | "na" | "not applicable" => Status::Skipped,
            _ => return None,
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown status {s:?}"))
    }
}

/// One observed value, such as `vm.swappiness = 60`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Fact {
    pub key: String,
    pub value: String,
}

impl Fact {
    pub fn new(key: impl Into<String>, value: impl fmt::Display) -> Self {
        Self {
            key: key.into(),
            value: value.to_string(),
        }
    }
}

/// A raw excerpt that backs a result, with where it came from (a file or a command).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Evidence {
    pub source: String,
    pub excerpt: String,
}

impl Evidence {
    pub fn new(source: impl Into<String>, excerpt: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            excerpt: excerpt.into(),
        }
    }
}

/// One host check and its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Check {
    /// Stable dotted id, e.g. `kernel.vm_swappiness`.
    pub id: String,
    pub category: String,
    pub title: String,
    pub status: Status,
    pub summary: String,
    #[serde(default)]
    pub facts: Vec<Fact>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    /// What to do about a warn or fail.
    #[serde(default)]
    pub remediation: Option<String>,
    #[serde(default)]
    #[ts(type = "number")]
    pub duration_ms: u64,
}

/// The last lines of one log (a journald unit, a log file, the kernel log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct LogSource {
    pub id: String,
    pub title: String,
    /// Where the lines came from: a path or a command.
    pub source: String,
    pub lines: Vec<String>,
}

/// What produced a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Producer {
    pub name: String,
    pub version: String,
}

/// A whole report: one node at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Report {
    pub format_version: u32,
    pub title: String,
    pub snapshot_name: String,
    /// 64-bit ids travel as strings: JavaScript numbers cannot hold them.
    #[serde(default)]
    pub deployment_id: Option<String>,
    #[serde(default)]
    pub deployment_name: Option<String>,
    #[serde(default)]
    pub node_id: Option<String>,
    pub host_name: String,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    #[ts(type = "string | null")]
    pub completed_at: Option<DateTime<Utc>>,
    pub collector: Producer,
    pub redacted: bool,
    pub checks: Vec<Check>,
    #[serde(default)]
    pub logs: Vec<LogSource>,
}

/// Count of checks per status, in `Status::ALL` order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StatusCounts {
    pub pass: u32,
    pub warn: u32,
    pub fail: u32,
    pub info: u32,
    pub error: u32,
    pub skipped: u32,
}

impl StatusCounts {
    pub fn of(checks: &[Check]) -> Self {
        let mut c = Self::default();
        for check in checks {
            c.add(check.status);
        }
        c
    }

    pub fn add(&mut self, status: Status) {
        *self.slot(status) += 1;
    }

    pub fn get(&self, status: Status) -> u32 {
        match status {
            Status::Pass => self.pass,
            Status::Warn => self.warn,
            Status::Fail => self.fail,
            Status::Info => self.info,
            Status::Error => self.error,
            Status::Skipped => self.skipped,
        }
    }

    fn slot(&mut self, status: Status) -> &mut u32 {
        match status {
            Status::Pass => &mut self.pass,
            Status::Warn => &mut self.warn,
            Status::Fail => &mut self.fail,
            Status::Info => &mut self.info,
            Status::Error => &mut self.error,
            Status::Skipped => &mut self.skipped,
        }
    }

    pub fn total(&self) -> u32 {
        Status::ALL.iter().map(|s| self.get(*s)).sum()
    }
}

impl Report {
    pub fn counts(&self) -> StatusCounts {
        StatusCounts::of(&self.checks)
    }

    /// Checks in the order a person reads them: failures first, then by category and id.
    pub fn checks_failures_first(&self) -> Vec<&Check> {
        let mut v: Vec<&Check> = self.checks.iter().collect();
        v.sort_by(|a, b| {
            (a.status.rank(), &a.category, &a.id).cmp(&(b.status.rank(), &b.category, &b.id))
        });
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words_from_foreign_reports() {
        assert_eq!(Status::from_word("OK"), Some(Status::Pass));
        assert_eq!(Status::from_word(" Warning "), Some(Status::Warn));
        assert_eq!(Status::from_word("FAILED"), Some(Status::Fail));
        assert_eq!(Status::from_word("error:"), Some(Status::Error));
        assert_eq!(Status::from_word("eth0"), None);
    }

    #[test]
    fn status_round_trips_through_str() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().unwrap(), s);
        }
    }
}

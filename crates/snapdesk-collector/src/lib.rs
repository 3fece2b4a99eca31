//! The local collector: runs host checks in parallel, redacts secrets, bundles the Iggy data
//! directory and writes a snapshot archive in the same format the Supervisor produces.

pub mod archive_redact;
pub mod bundle;
pub mod checks;
pub mod collect;
pub mod iggy;
pub mod iggy_data;
pub mod redact;
pub mod runner;
pub mod sys;

pub use collect::{collect, CollectOptions, Collected, Progress};

// The suite's one skip-or-fail rule (a skip is a failure under `CI=true`), shared as a file:
// this crate cannot depend on `snapdesk-tests`, which depends on it through the emulator.
#[cfg(test)]
#[path = "../../../tests/src/skip.rs"]
pub(crate) mod test_skip;

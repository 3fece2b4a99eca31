//! Snapdesk core: what every host (CLI, desktop app, emulator) shares and nothing that knows
//! about Tauri. The [`Error`] type is the one shape errors take when they leave Rust, whether
//! across Tauri IPC or as `--json` output.

pub mod cancel;
pub mod error;
pub mod jobs;
pub mod logging;
pub mod paths;
pub mod secrets;

pub use cancel::{Cancel, Stop};
pub use error::{Error, ErrorCode, Result};
pub use paths::AppPaths;

/// Version of the Snapdesk workspace, shared by the CLI, the app and the collector.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Product name as shown to people.
pub const PRODUCT_NAME: &str = "Snapdesk";

/// User agent for every HTTP request Snapdesk makes.
pub fn user_agent() -> String {
    format!("snapdesk/{VERSION}")
}

pub mod info;
pub use info::AppInfo;

// The suite's one skip-or-fail rule (a skip is a failure under `CI=true`), shared as a file:
// this crate cannot depend on `snapdesk-tests`, which depends on it.
#[cfg(test)]
#[path = "../../../tests/src/skip.rs"]
pub(crate) mod test_skip;

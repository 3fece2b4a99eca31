//! Logging: a daily file under the log directory plus stderr.
//!
//! The filter comes from `SNAPDESK_LOG` (tracing's `EnvFilter` syntax, e.g. `debug` or
//! `snapdesk_api=trace`). Without it the file gets `info` and stderr gets `warn`, so a CLI
//! stays quiet on a terminal while the file keeps a record. Secrets are never logged: the
//! API client redacts keys and presigned URLs before they reach a span.

use std::io::IsTerminal;
use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter, Layer};

/// Environment variable with the log filter.
pub const LOG_ENV: &str = "SNAPDESK_LOG";
/// File name prefix of the daily log files (`snapdesk.log.YYYY-MM-DD`).
pub const LOG_FILE_PREFIX: &str = "snapdesk.log";

/// Keeps the file writer alive; logs are flushed when it is dropped.
#[must_use = "dropping the guard stops file logging"]
pub struct LogGuard {
    _file: Option<WorkerGuard>,
}

/// Installs the global subscriber. Safe to call more than once (later calls do nothing).
/// A log directory that cannot be created degrades to stderr only, with a warning.
pub fn init(log_dir: &Path, stderr_default: &str) -> LogGuard {
    let env = std::env::var(LOG_ENV).ok().filter(|s| !s.trim().is_empty());
    let stderr_filter = EnvFilter::new(env.as_deref().unwrap_or(stderr_default));
    let file_filter = EnvFilter::new(env.as_deref().unwrap_or("info"));

    // Colour codes only for a person at a terminal: in a pipe or a CI log they are noise.
    let stderr_layer = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_filter(stderr_filter);

    let (file_layer, guard, file_error) = match std::fs::create_dir_all(log_dir) {
        Ok(()) => {
            let appender = tracing_appender::rolling::daily(log_dir, LOG_FILE_PREFIX);
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = fmt::layer()
                .with_writer(writer)
                .with_ansi(false)
                .with_filter(file_filter);
            (Some(layer), Some(guard), None)
        }
        Err(e) => (None, None, Some(e)),
    };

    let installed = tracing_subscriber::registry()
        .with(stderr_layer)
        .with(file_layer)
        .try_init()
        .is_ok();
    if installed {
        if let Some(e) = file_error {
            tracing::warn!(
                "file logging disabled: cannot create {}: {e}",
                log_dir.display()
            );
        }
    }
    LogGuard { _file: guard }
}

//! Human or JSON output, and the one way errors are printed.

use std::io::Write;

use serde::Serialize;
use snapdesk_core::Error;

pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    pub fn json(&self) -> bool {
        self.json
    }

    /// Prints a value: as pretty JSON with `--json`, otherwise through `human`.
    pub fn print<T: Serialize>(
        &self,
        value: &T,
        human: impl FnOnce(&T) -> String,
    ) -> snapdesk_core::Result<()> {
        let text = if self.json {
            serde_json::to_string_pretty(value)?
        } else {
            human(value)
        };
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{text}").map_err(Error::from)
    }

    /// `error[code]: message` and a hint line on stderr; `{"error": {...}}` on stdout with
    /// `--json` so scripts read one stream.
    pub fn error(&self, err: &Error) {
        if self.json {
            let body = serde_json::json!({ "error": err });
            println!(
                "{}",
                serde_json::to_string_pretty(&body).unwrap_or_else(|_| body.to_string())
            );
            return;
        }
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "error[{}]: {}", err.code, err.message);
        if let Some(hint) = &err.hint {
            let _ = writeln!(stderr, "  hint: {hint}");
        }
    }
}

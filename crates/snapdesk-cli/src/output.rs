//! Human or JSON output, and the one way errors are printed.
//!
//! With `--json` standard output carries exactly one JSON document per run, whatever
//! happens: the result; or `{"error": {...}}` with, when there was one, the partial result
//! beside it as `"partial"`. Progress and prompts go to standard error.

use std::io::{IsTerminal, Write};

use serde::Serialize;
use snapdesk_core::{Error, ErrorCode};

pub struct Output {
    json: bool,
}

/// A failure, with whatever the command had done before it failed.
pub struct Failure {
    pub error: Error,
    pub partial: Option<Box<Partial>>,
}

/// A partial result, both ways.
pub struct Partial {
    pub json: Option<serde_json::Value>,
    /// The human rendering, printed before the error.
    pub text: String,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self {
            error,
            partial: None,
        }
    }
}

impl From<snapdesk_core::Stop> for Failure {
    fn from(s: snapdesk_core::Stop) -> Self {
        Error::from(s).into()
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Error::from(e).into()
    }
}

impl Failure {
    /// The error, with the partial result shown both ways.
    pub fn with_partial<T: Serialize>(error: Error, partial: &T, text: String) -> Self {
        Self {
            error,
            partial: Some(Box::new(Partial {
                json: serde_json::to_value(partial).ok(),
                text,
            })),
        }
    }
}

pub type CmdResult = Result<(), Failure>;

/// The exit code of an error: 2 for input a person must fix before anything runs (as clap's
/// own usage errors), 1 for every other failure.
pub fn exit_code(e: &Error) -> u8 {
    if e.code == ErrorCode::InvalidInput {
        2
    } else {
        1
    }
}

impl Output {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// Whether the run prints JSON.
    pub fn json(&self) -> bool {
        self.json
    }

    /// Progress bars and live lines: only for a person at a terminal.
    pub fn live(&self) -> bool {
        !self.json && std::io::stderr().is_terminal()
    }

    /// Prints a value: as pretty JSON with `--json`, otherwise through `human`.
    pub fn print<T: Serialize>(&self, value: &T, human: impl FnOnce(&T) -> String) -> CmdResult {
        let text = if self.json {
            serde_json::to_string_pretty(value).map_err(Error::from)?
        } else {
            human(value)
        };
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{text}").map_err(Error::from)?;
        Ok(())
    }

    /// A note for a person (stderr); nothing with `--json`, where the result carries it.
    pub fn note(&self, text: &str) {
        if !self.json {
            eprintln!("{text}");
        }
    }

    /// `error[code]: message` and a hint line on stderr (after any partial result on
    /// stdout); with `--json`, one document on stdout.
    pub fn fail(&self, f: &Failure) {
        let err = &f.error;
        if self.json {
            let mut body = serde_json::json!({ "error": err });
            if let Some(p) = f.partial.as_ref().and_then(|p| p.json.as_ref()) {
                body["partial"] = p.clone();
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&body).unwrap_or_else(|_| body.to_string())
            );
            return;
        }
        if let Some(p) = &f.partial {
            println!("{}", p.text);
        }
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "error[{}]: {}", err.code, err.message);
        if let Some(hint) = &err.hint {
            let _ = writeln!(stderr, "  hint: {hint}");
        }
    }
}

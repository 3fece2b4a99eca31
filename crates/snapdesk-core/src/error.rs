//! The boundary error: a stable machine code, a human message, an optional hint and details.
//!
//! Library crates keep their own `thiserror` enums and convert into this type at the edge.
//! It serialises as `{"code", "message", "hint", "details"}`; the code strings are a contract
//! with the UI and with scripts that read `--json`, so never rename one.

use std::fmt;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Stable error codes. Serialised in `snake_case`; add new ones, never rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A bug or an unexpected state inside Snapdesk.
    Internal,
    /// A file or directory could not be read or written.
    Io,
    /// The disk (or quota) is full.
    DiskFull,
    /// Input given by the user is not valid.
    InvalidInput,
    /// The thing asked for does not exist.
    NotFound,
    /// Configuration could not be read or is invalid.
    Config,
    /// The OS keyring could not be used.
    Keyring,
    /// A connection could not be made or broke.
    Network,
    /// An operation took longer than allowed.
    Timeout,
    /// The Supervisor API answered with an error not covered by a more precise code.
    Api,
    /// The API key is missing, unknown or expired (HTTP 401).
    Unauthorized,
    /// The API key lacks a permission (HTTP 403).
    Forbidden,
    /// The request conflicts with the current state (HTTP 409).
    Conflict,
    /// Too many requests (HTTP 429).
    RateLimited,
    /// The plan's snapshot limit is reached.
    LimitReached,
    /// A presigned download URL has expired or was refused.
    UrlExpired,
    /// A snapshot archive is malformed or not a snapshot.
    Archive,
    /// A report could not be rendered or parsed.
    Report,
    /// The collector failed as a whole (single checks fail inside the report instead).
    Collect,
    /// The user cancelled the operation.
    Cancelled,
    /// Not supported on this platform or in this build.
    Unsupported,
}

impl ErrorCode {
    /// The wire name of the code, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Internal => "internal",
            Self::Io => "io",
            Self::DiskFull => "disk_full",
            Self::InvalidInput => "invalid_input",
            Self::NotFound => "not_found",
            Self::Config => "config",
            Self::Keyring => "keyring",
            Self::Network => "network",
            Self::Timeout => "timeout",
            Self::Api => "api",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::Conflict => "conflict",
            Self::RateLimited => "rate_limited",
            Self::LimitReached => "limit_reached",
            Self::UrlExpired => "url_expired",
            Self::Archive => "archive",
            Self::Report => "report",
            Self::Collect => "collect",
            Self::Cancelled => "cancelled",
            Self::Unsupported => "unsupported",
        }
    }

    /// Every code, for tests and documentation.
    pub const ALL: [ErrorCode; 21] = [
        Self::Internal,
        Self::Io,
        Self::DiskFull,
        Self::InvalidInput,
        Self::NotFound,
        Self::Config,
        Self::Keyring,
        Self::Network,
        Self::Timeout,
        Self::Api,
        Self::Unauthorized,
        Self::Forbidden,
        Self::Conflict,
        Self::RateLimited,
        Self::LimitReached,
        Self::UrlExpired,
        Self::Archive,
        Self::Report,
        Self::Collect,
        Self::Cancelled,
        Self::Unsupported,
    ];
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error every host shows: `error[code]: message` in the CLI, a banner in the app.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize, TS)]
#[ts(rename = "AppError")]
#[error("{message}")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    /// What the person can do about it, when we know.
    pub hint: Option<String>,
    /// Structured context (HTTP status, request id, path, ...), never secrets.
    #[ts(type = "unknown | null")]
    pub details: Option<serde_json::Value>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            hint: None,
            details: None,
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidInput, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    #[must_use]
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// An I/O error about a specific path, with the path in the message and the details.
    pub fn io_at(err: std::io::Error, action: &str, path: &std::path::Path) -> Self {
        let mut e = Self::from(err);
        e.message = format!("cannot {action} {}: {}", path.display(), e.message);
        e.details = Some(serde_json::json!({ "path": path.display().to_string() }));
        e
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        use std::io::ErrorKind;
        match err.kind() {
            ErrorKind::NotFound => Self::new(ErrorCode::NotFound, err.to_string()),
            ErrorKind::PermissionDenied => Self::new(ErrorCode::Io, err.to_string())
                .with_hint("check the file permissions, or choose another location"),
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded => {
                Self::new(ErrorCode::DiskFull, err.to_string())
                    .with_hint("free some disk space and try again; nothing partial was kept")
            }
            ErrorKind::TimedOut => Self::new(ErrorCode::Timeout, err.to_string()),
            ErrorKind::Interrupted => Self::new(ErrorCode::Cancelled, err.to_string()),
            _ => Self::new(ErrorCode::Io, err.to_string()),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Self::new(ErrorCode::InvalidInput, format!("invalid JSON: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_code_message_hint_details() {
        let e = Error::new(ErrorCode::Unauthorized, "the API key was rejected")
            .with_hint("run `snapdesk context add` again with a valid key");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["code"], "unauthorized");
        assert_eq!(v["message"], "the API key was rejected");
        assert_eq!(
            v["hint"],
            "run `snapdesk context add` again with a valid key"
        );
        assert!(v["details"].is_null());
        let back: Error = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn every_code_serialises_to_its_as_str() {
        for code in ErrorCode::ALL {
            let v = serde_json::to_value(code).unwrap();
            assert_eq!(v, serde_json::Value::String(code.as_str().to_owned()));
            assert_eq!(code.to_string(), code.as_str());
        }
    }

    #[test]
    fn full_disk_maps_to_disk_full_with_a_hint() {
        let io = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let e = Error::from(io);
        assert_eq!(e.code, ErrorCode::DiskFull);
        assert!(e.hint.is_some());
    }

    #[test]
    fn io_at_names_the_path() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let e = Error::io_at(io, "open", std::path::Path::new("/nowhere/x.zip"));
        assert_eq!(e.code, ErrorCode::NotFound);
        assert!(e.message.contains("/nowhere/x.zip"), "{}", e.message);
        assert_eq!(e.details.unwrap()["path"], "/nowhere/x.zip");
    }
}

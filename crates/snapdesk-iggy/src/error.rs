//! Why an inspection could not start. Problems inside the data (torn segments, bad
//! checksums, unreadable files) are findings, not errors: the rest is still worth reading.

use std::io;
use std::path::PathBuf;

use snapdesk_core::{Error, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{label} is neither a directory nor a readable ZIP archive: {reason}")]
    NotZip {
        path: PathBuf,
        label: String,
        reason: String,
    },
    #[error("{path} is refused: {reason}")]
    Refused { path: PathBuf, reason: String },
    #[error("{label} holds no Iggy data directory{}", if *iggy_snapshot { " (it is Apache Iggy's own `iggy snapshot` ZIP: logs, config and process lists, no segments)" } else { "" })]
    NoData {
        path: PathBuf,
        label: String,
        iggy_snapshot: bool,
    },
    #[error(
        "unknown format: {label} is not an Iggy data directory of a known format era ({seen})"
    )]
    UnknownFormat { label: String, seen: String },
}

impl From<InspectError> for Error {
    fn from(e: InspectError) -> Self {
        let message = e.to_string();
        match &e {
            InspectError::Io { source, path, .. } => {
                let code = Error::from(io::Error::new(source.kind(), "")).code;
                Error::new(code, message)
                    .with_details(serde_json::json!({ "path": path.display().to_string() }))
                    .with_hint("check that the path exists and is readable")
            }
            InspectError::NotZip { .. } => Error::new(ErrorCode::Archive, message).with_hint(
                "give a data directory (the server's `system.path`), a snapshot ZIP or an \
                 iggy-data.zip",
            ),
            InspectError::Refused { .. } => Error::new(ErrorCode::Archive, message)
                .with_hint("the archive was not read to protect this machine"),
            InspectError::NoData { iggy_snapshot, .. } => Error::new(ErrorCode::NotFound, message)
                .with_hint(if *iggy_snapshot {
                    "Iggy's own snapshot carries no data; collect with `snapdesk collect` on the \
                     node, which bundles the data directory"
                } else {
                    "give a data directory, a snapshot that carries iggy-data.zip, or a bare \
                     iggy-data.zip"
                }),
            InspectError::UnknownFormat { .. } => Error::new(ErrorCode::InvalidInput, message)
                .with_hint(
                    "known eras: 0.8 (state/log, 64-byte message headers) and 0.9 \
                     (metadata/journal.wal, 256-byte batch headers)",
                ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_a_stable_code_and_a_hint() {
        let cases = [
            (
                InspectError::NoData {
                    path: "a.zip".into(),
                    label: "a.zip".into(),
                    iggy_snapshot: true,
                },
                ErrorCode::NotFound,
            ),
            (
                InspectError::UnknownFormat {
                    label: "d".into(),
                    seen: "x".into(),
                },
                ErrorCode::InvalidInput,
            ),
            (
                InspectError::Refused {
                    path: "a".into(),
                    reason: "r".into(),
                },
                ErrorCode::Archive,
            ),
            (
                InspectError::Io {
                    action: "read",
                    path: "nope".into(),
                    source: io::Error::from(io::ErrorKind::NotFound),
                },
                ErrorCode::NotFound,
            ),
        ];
        for (e, code) in cases {
            let err = Error::from(e);
            assert_eq!(err.code, code, "{}", err.message);
            assert!(err.hint.is_some());
        }
    }
}

//! The library's errors, converted to [`snapdesk_core::Error`] at the edge. Hints name no
//! command: the CLI and the app add their own.

use std::io;
use std::path::PathBuf;

use snapdesk_core::{Error, ErrorCode};
use snapdesk_report::archive::ArchiveError;

#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("the library catalog failed: {0}")]
    Db(#[from] rusqlite::Error),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("the Iggy data inside {path} is refused: {reason}")]
    Nested { path: PathBuf, reason: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("entry {id}'s archive was evicted to stay within the size budget")]
    Evicted { id: i64, downloadable: bool },
    #[error("the catalog was made by a newer Snapdesk (schema {found}, this one knows {known})")]
    TooNew { found: i64, known: i64 },
    #[error("stopped: {0}")]
    Stopped(#[from] snapdesk_core::Stop),
}

pub type Result<T, E = LibraryError> = std::result::Result<T, E>;

impl LibraryError {
    /// The same error naming `shown` wherever it named `tmp`: imports and downloads are
    /// read from a temp copy in the library, and a refusal names the file the user gave.
    pub fn renamed(self, tmp: &std::path::Path, shown: &std::path::Path) -> Self {
        let t =
            |text: String| text.replace(&tmp.display().to_string(), &shown.display().to_string());
        match self {
            LibraryError::Archive(a) => LibraryError::Archive(a.renamed(tmp, shown)),
            LibraryError::Nested { path, reason } => LibraryError::Nested {
                path: if path == tmp {
                    shown.to_path_buf()
                } else {
                    path
                },
                reason: t(reason),
            },
            LibraryError::Io {
                action,
                path,
                source,
            } if path == tmp => LibraryError::Io {
                action,
                // A failing temp copy is the library's own file: say which one, and whose.
                path: PathBuf::from(format!(
                    "{} (the library's copy of {})",
                    tmp.display(),
                    shown.display()
                )),
                source,
            },
            other => other,
        }
    }
}

pub(crate) fn io_err(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(io::Error) -> LibraryError {
    let path = path.into();
    move |source| LibraryError::Io {
        action,
        path,
        source,
    }
}

impl From<LibraryError> for Error {
    fn from(e: LibraryError) -> Self {
        let msg = e.to_string();
        match e {
            LibraryError::Io {
                source,
                path,
                action,
            } => Error::io_at(source, action, &path),
            LibraryError::Db(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DatabaseBusy
                    || f.code == rusqlite::ErrorCode::DatabaseLocked =>
            {
                Error::new(ErrorCode::Conflict, msg)
                    .with_hint("another Snapdesk process holds the library; try again")
            }
            LibraryError::Db(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DiskFull =>
            {
                Error::new(ErrorCode::DiskFull, msg).with_hint("free some disk space")
            }
            LibraryError::Db(_) => Error::internal(msg),
            LibraryError::Archive(a) => {
                let mut err = Error::from(a);
                err.hint =
                    Some("nothing was added to the library; the original file is untouched".into());
                err
            }
            LibraryError::Nested { .. } => Error::new(ErrorCode::Archive, msg)
                .with_hint("nothing was added to the library; the original file is untouched"),
            LibraryError::NotFound(_) => Error::not_found(msg),
            LibraryError::Invalid(_) => Error::invalid_input(msg),
            LibraryError::Evicted { downloadable, .. } => {
                Error::not_found(msg).with_hint(if downloadable {
                    "the Supervisor still keeps this snapshot: download it again"
                } else {
                    "the Supervisor no longer keeps it; import a copy if you have one"
                })
            }
            LibraryError::TooNew { .. } => {
                Error::new(ErrorCode::Config, msg).with_hint("use a newer Snapdesk")
            }
            LibraryError::Stopped(s) => Error::from(s),
        }
    }
}

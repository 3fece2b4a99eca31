//! The snapshot archive: one ZIP per node holding `report.html`, `manifest.json` and,
//! optionally, `iggy-data.zip`. See `docs/snapshot-format.md`.
//!
//! Writing is atomic: entries go to `<name>.partial` beside the target, which is renamed into
//! place only after the manifest is written and the file is synced, so a crash, a full disk
//! or a kill leaves no half-written archive under the real name.
//!
//! Reading treats every archive as hostile until proven otherwise (see [`read`]): budgets on
//! entries, bytes, ratio and time, no extraction, hashes checked against the manifest. It
//! accepts archives we did not write: any ZIP with an `.html` report at any depth, and Apache
//! Iggy's own `iggy snapshot` ZIP (text sections).

mod files;
mod read;
mod scan;
mod write;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::model::{Producer, StatusCounts, FORMAT_VERSION};
use crate::parse;

pub use files::{kind_of, list_files, read_file, ArchiveFile, FileBytes, FileKind};
pub use read::{
    check_zip, open, open_with, read_entry, verify, ArchiveKind, EntryInfo, Integrity,
    IntegrityState, Limits, OpenedArchive, TextSection, Truncation,
};
pub use scan::{escape_name, name_is_enclosed, scan, Scanned};
pub use write::{Abandonable, ArchiveWriter};

pub const REPORT_ENTRY: &str = "report.html";
pub const MANIFEST_ENTRY: &str = "manifest.json";
pub const IGGY_DATA_ENTRY: &str = "iggy-data.zip";

/// The largest report read into memory by default (see [`Limits`]).
pub const MAX_TEXT_ENTRY: u64 = 32 * 1024 * 1024;

/// The sections of Apache Iggy's `iggy snapshot` archive, with the title we show.
pub const IGGY_SECTIONS: [(&str, &str); 5] = [
    ("filesystem_overview.txt", "Filesystem overview"),
    ("process_list.txt", "Processes and /proc"),
    ("resource_usage.txt", "Resource usage (top)"),
    ("server_logs.txt", "Server logs"),
    ("server_config.txt", "Server configuration"),
];

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{path} is not a valid ZIP archive: {reason}")]
    NotZip { path: PathBuf, reason: String },
    #[error("{path} holds no report: no report.html, no .html file and no Iggy snapshot sections")]
    NoReport { path: PathBuf },
    #[error("{entry} in {path} is larger than {limit} bytes")]
    TooLarge {
        path: PathBuf,
        entry: String,
        limit: u64,
    },
    #[error("{entry} in {path} is not readable: {reason}")]
    BadEntry {
        path: PathBuf,
        entry: String,
        reason: String,
    },
    #[error("{path} is refused: {reason}")]
    Refused { path: PathBuf, reason: String },
    #[error("{entry} in {path} looks like a ZIP bomb: it expands more than {ratio} times")]
    Bomb {
        path: PathBuf,
        entry: String,
        ratio: u64,
    },
    #[error("{path} expands to more than {limit} bytes while opening")]
    OverBudget { path: PathBuf, limit: u64 },
    #[error("opening {path} stopped: {stop}")]
    Stopped {
        path: PathBuf,
        stop: snapdesk_core::Stop,
    },
    #[error("the manifest of {path} is not valid: {reason}")]
    BadManifest { path: PathBuf, reason: String },
    #[error("{path} is refused: entry {entry:?} names a place outside the archive")]
    UnsafeName { path: PathBuf, entry: String },
    #[error("{entry} in {path} is damaged: its bytes do not match its CRC-32")]
    Crc { path: PathBuf, entry: String },
    #[error("{entry} in {path} is refused: its bytes differ from its declared size of {declared}")]
    SizeLie {
        path: PathBuf,
        entry: String,
        declared: u64,
    },
    #[error("the report in {path} is not valid: {source}")]
    BadReport {
        path: PathBuf,
        source: parse::ParseError,
    },
}

impl ArchiveError {
    /// The same error naming `to` wherever it named `from`: an archive read from a temp copy
    /// is refused under the name its user knows (the temp file means nothing to a person).
    pub fn renamed(self, from: &Path, to: &Path) -> Self {
        let (from_s, to_s) = (from.display().to_string(), to.display().to_string());
        let p = |path: PathBuf| if path == from { to.to_path_buf() } else { path };
        let t = |text: String| text.replace(&from_s, &to_s);
        use ArchiveError as E;
        match self {
            E::Io {
                action,
                path,
                source,
            } => E::Io {
                action,
                path: p(path),
                source,
            },
            E::NotZip { path, reason } => E::NotZip {
                path: p(path),
                reason: t(reason),
            },
            E::NoReport { path } => E::NoReport { path: p(path) },
            E::TooLarge { path, entry, limit } => E::TooLarge {
                path: p(path),
                entry,
                limit,
            },
            E::BadEntry {
                path,
                entry,
                reason,
            } => E::BadEntry {
                path: p(path),
                entry,
                reason: t(reason),
            },
            E::Refused { path, reason } => E::Refused {
                path: p(path),
                reason: t(reason),
            },
            E::Bomb { path, entry, ratio } => E::Bomb {
                path: p(path),
                entry,
                ratio,
            },
            E::OverBudget { path, limit } => E::OverBudget {
                path: p(path),
                limit,
            },
            E::Stopped { path, stop } => E::Stopped {
                path: p(path),
                stop,
            },
            E::BadManifest { path, reason } => E::BadManifest {
                path: p(path),
                reason: t(reason),
            },
            E::UnsafeName { path, entry } => E::UnsafeName {
                path: p(path),
                entry,
            },
            E::Crc { path, entry } => E::Crc {
                path: p(path),
                entry,
            },
            E::SizeLie {
                path,
                entry,
                declared,
            } => E::SizeLie {
                path: p(path),
                entry,
                declared,
            },
            E::BadReport { path, source } => E::BadReport {
                path: p(path),
                source,
            },
        }
    }
}

impl From<ArchiveError> for snapdesk_core::Error {
    fn from(e: ArchiveError) -> Self {
        use snapdesk_core::{Error, ErrorCode};
        match &e {
            ArchiveError::Io {
                source,
                path,
                action,
            } => {
                let code = Error::from(io::Error::new(source.kind(), "")).code;
                let reading = matches!(*action, "open" | "read");
                Error::new(code, e.to_string())
                    .with_details(serde_json::json!({ "path": path.display().to_string() }))
                    .with_hint(if code == ErrorCode::DiskFull {
                        "free some disk space and try again; no partial archive was kept"
                    } else if reading {
                        "check that the path exists and is readable"
                    } else {
                        "check that the directory exists (or can be created) and is writable"
                    })
            }
            ArchiveError::NotZip { .. } => Error::new(ErrorCode::Archive, e.to_string())
                .with_hint("the file may be truncated or not a snapshot; download it again"),
            ArchiveError::NoReport { .. } => Error::new(ErrorCode::Archive, e.to_string())
                .with_hint("open a Snapdesk or Supervisor snapshot ZIP, or an iggy snapshot ZIP"),
            ArchiveError::Bomb { .. } | ArchiveError::OverBudget { .. } => {
                Error::new(ErrorCode::Archive, e.to_string()).with_hint(
                    "the archive was not opened to protect this machine; ask for a new snapshot",
                )
            }
            ArchiveError::Stopped { stop, .. } => {
                let mut err = Error::from(*stop);
                err.message = e.to_string();
                err
            }
            ArchiveError::BadReport { source, .. } => {
                if let parse::ParseError::Stopped(stop) = source {
                    let mut err = Error::from(*stop);
                    err.message = e.to_string();
                    err
                } else {
                    Error::new(ErrorCode::Report, e.to_string())
                }
            }
            _ => Error::new(ErrorCode::Archive, e.to_string()),
        }
    }
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> ArchiveError + 'a {
    move |source| ArchiveError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// One archive entry as listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ManifestEntry {
    pub name: String,
    #[ts(type = "number")]
    pub size: u64,
    pub sha256: String,
}

/// How secrets were handled: whether redaction ran, and how many values each rule replaced.
/// Never the values themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Redaction {
    pub redacted: bool,
    #[ts(type = "Record<string, number>")]
    pub counts: BTreeMap<String, u64>,
}

/// A file of the Iggy data directory that the bundle left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OmittedFile {
    pub path: String,
    #[ts(type = "number")]
    pub size: u64,
    pub reason: String,
}

/// What the Iggy data bundle holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct IggyBundle {
    pub source_dir: String,
    #[ts(type = "number")]
    pub files: u64,
    #[ts(type = "number")]
    pub bytes: u64,
    #[ts(type = "number")]
    pub cap_bytes: u64,
    pub omitted: Vec<OmittedFile>,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Manifest {
    pub format_version: u32,
    pub snapshot_name: String,
    /// 64-bit ids as strings: they exceed 2^53.
    pub deployment_id: Option<String>,
    pub deployment_name: Option<String>,
    pub node_id: Option<String>,
    pub host_name: String,
    #[ts(type = "string")]
    pub created_at: DateTime<Utc>,
    #[ts(type = "string | null")]
    pub completed_at: Option<DateTime<Utc>>,
    pub collector: Producer,
    pub redaction: Redaction,
    pub checks: StatusCounts,
    pub entries: Vec<ManifestEntry>,
    pub iggy_data: Option<IggyBundle>,
}

impl Manifest {
    pub fn new(snapshot_name: String, host_name: String, collector: Producer) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            snapshot_name,
            deployment_id: None,
            deployment_name: None,
            node_id: None,
            host_name,
            created_at: Utc::now(),
            completed_at: None,
            collector,
            redaction: Redaction::default(),
            checks: StatusCounts::default(),
            entries: Vec::new(),
            iggy_data: None,
        }
    }
}

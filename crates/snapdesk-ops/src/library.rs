//! The library-aware flows: downloads and collections land in the local library (and,
//! when asked, a copy on disk too), files are imported. Both hosts call these; the library
//! itself (`snapdesk-library`) is re-exported for the reading calls (list, search, compare).
//!
//! A download streams into the library's `tmp/` (resumable, as any download), then the
//! library hashes it, proves it sound, renames it into the store and catalogs it in one
//! transaction.

use std::path::{Path, PathBuf};

use serde::Serialize;
use snapdesk_core::{AppPaths, Cancel, Error, Result};
use ts_rs::TS;

pub use snapdesk_library::{
    parse_id, Browse, Change, CheckRow, Collected, Diff, Entry, EntryDetail, Hit, Imported,
    Library, LibraryError, Matrix, Origin, OriginRecord, Page, Query, Sort, Verified,
    DEFAULT_BUDGET,
};

use crate::download::{self, DownloadReport, NodeOutcome};
use crate::progress::ProgressFn;
use crate::target::Remote;
use crate::Selection;

/// The library of this data directory.
pub fn open(paths: &AppPaths) -> Result<Library> {
    Ok(Library::under(paths)?)
}

/// Imports a ZIP from disk (the original is only read).
pub fn import(lib: &Library, path: &Path, cancel: &Cancel) -> Result<Imported> {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    Ok(lib.import_file(
        path,
        Origin::File {
            path: abs.display().to_string(),
        },
        cancel,
    )?)
}

/// One node's place in the library after a download.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "stored", rename_all = "snake_case")]
pub enum Stored {
    Yes {
        entry: Imported,
        /// The copy written to the `--out` directory, when asked.
        #[ts(type = "string | null")]
        copy: Option<PathBuf>,
    },
    No {
        error: Error,
    },
}

/// A download into the library: the download report, and for each node what the library
/// did with its archive (in the same order; nodes that failed to download have none).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct LibraryDownload {
    #[serde(flatten)]
    pub download: DownloadReport,
    pub library: Vec<Stored>,
}

impl LibraryDownload {
    /// The run's error: a failed download first, else a failed store.
    pub fn error(&self) -> Option<Error> {
        self.download.error().or_else(|| {
            self.library.iter().find_map(|s| match s {
                Stored::No { error } => Some(error.clone()),
                Stored::Yes { .. } => None,
            })
        })
    }
}

/// Downloads the selected nodes into the library. With `out`, the archives are written
/// there as a plain download writes them (a file or directory, resumable in place) and the
/// library stores a copy; without it, they stream into the library's `tmp/` and are moved
/// into the store.
pub async fn download_into(
    remote: &Remote,
    lib: &Library,
    selection: &Selection,
    out: Option<&Path>,
    cancel: &Cancel,
    progress: ProgressFn<'_>,
) -> Result<LibraryDownload> {
    let tmp = lib.tmp_dir();
    let dest = out.unwrap_or(&tmp);
    let mut report = download::download(remote, selection, Some(dest), cancel, progress).await?;
    let mut library = Vec::new();
    let snapshot = report.snapshot.clone();
    for node in &mut report.nodes {
        let NodeOutcome::Downloaded { path, .. } = &mut node.outcome else {
            continue;
        };
        let origin = Origin::Remote {
            context: remote.target.context.clone(),
            supervisor_url: remote.target.url.clone(),
            deployment_id: remote.deployment().to_string(),
            deployment_name: None,
            snapshot_id: node.snapshot_id.to_string(),
            snapshot_name: Some(snapshot.clone()),
            node_id: Some(node.node_id.to_string()),
            expires_at: None,
        };
        let stored = if out.is_some() {
            lib.import_file(path, origin, cancel)
        } else {
            lib.import_owned(path, origin, cancel)
        };
        library.push(match stored {
            Ok(entry) => {
                let copy = out.map(|_| path.clone());
                // Without --out the node's file is now the stored archive.
                if out.is_none() {
                    *path = lib.stored_path(&entry.sha256);
                }
                Stored::Yes { entry, copy }
            }
            Err(e) => Stored::No { error: e.into() },
        });
    }
    Ok(LibraryDownload {
        download: report,
        library,
    })
}

/// What `collect` did with the library.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct CollectedInto {
    pub entry: Imported,
}

/// Collects this machine into the library: the collector writes into the library's `tmp/`,
/// the library stores and catalogs the archive.
pub fn collect_into(
    lib: &Library,
    mut opts: snapdesk_collector::CollectOptions,
    progress: &mut dyn FnMut(&snapdesk_collector::Progress),
    cancel: &Cancel,
) -> Result<(snapdesk_collector::Collected, CollectedInto)> {
    opts.out = Some(lib.tmp_dir());
    let collected = snapdesk_collector::collect(&opts, progress)?;
    let entry = lib.import_owned(&collected.path, Origin::Collected { path: None }, cancel)?;
    Ok((collected, CollectedInto { entry }))
}

/// Stores an archive a collection wrote elsewhere (`collect --out`): a copy, the file stays.
pub fn store_collected(lib: &Library, path: &Path, cancel: &Cancel) -> Result<Imported> {
    Ok(lib.import_file(
        path,
        Origin::Collected {
            path: Some(path.display().to_string()),
        },
        cancel,
    )?)
}

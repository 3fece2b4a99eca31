//! The library-aware flows: downloads and collections land in the local library (and,
//! when asked, a copy on disk too), files are imported. Both hosts call these; the library
//! itself (`snapdesk-library`) is re-exported for the reading calls (list, search, compare).
//!
//! A download streams into the library's `tmp/` (resumable, as any download), hashed as it
//! is written; then the library proves it sound, renames it into the store and catalogs it
//! in one transaction.

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
use crate::target::{Remote, Target};
use crate::Selection;

pub use snapdesk_report::archive::{ArchiveFile, FileBytes, FileKind, Limits};

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
        let NodeOutcome::Downloaded {
            path,
            bytes,
            sha256,
            ..
        } = &mut node.outcome
        else {
            continue;
        };
        let origin = Origin::Remote {
            context: remote.target.context.clone(),
            supervisor_url: remote.target.url.clone(),
            deployment_id: remote.deployment().to_string(),
            deployment_name: Some(node.deployment_name.clone()).filter(|n| !n.is_empty()),
            snapshot_id: node.snapshot_id.to_string(),
            snapshot_name: Some(snapshot.clone()),
            node_id: Some(node.node_id.to_string()),
            // The server's retention, counted from the snapshot's creation, when the plan is
            // known (the context records it; the API does not say).
            expires_at: remote
                .target
                .plan
                .map(|p| expiry_text(p.expiry(node.created_at))),
        };
        let stored = if out.is_some() {
            lib.import_file(path, origin, cancel)
        } else {
            // Hashed while it was downloaded: not read again for its hash.
            lib.import_hashed(path, sha256, *bytes, origin, cancel)
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

/// Collects this machine into the library: the collector writes into the library's `tmp/`
/// under a name owned by this process, the library stores and catalogs the archive.
pub fn collect_into(
    lib: &Library,
    mut opts: snapdesk_collector::CollectOptions,
    progress: &mut dyn FnMut(&snapdesk_collector::Progress),
    cancel: &Cancel,
) -> Result<(snapdesk_collector::Collected, CollectedInto)> {
    // A name owned by this process: a collection killed mid-write leaves a temp file the
    // next start removes (a plain name would wait out the 7 days of a download's resume file).
    opts.out = Some(lib.temp_file("collect.zip"));
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

/// A time as the catalog writes it (RFC 3339, milliseconds, `Z`): compared as text.
fn expiry_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Where an evicted entry can be downloaded again: the Supervisor, deployment and node
/// snapshot of its newest remote origin, with the key of that origin's context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadAgain {
    pub target: Target,
    pub snapshot_id: u64,
}

/// Finds where an entry came from, for [`download_again`]: refused for an entry whose
/// archive is still stored and for one that never came from a Supervisor. The context's
/// plan (for the new expiry) is read from `paths` when the context still exists.
pub fn download_again_target(paths: &AppPaths, lib: &Library, id: i64) -> Result<DownloadAgain> {
    let detail = lib.show(id)?;
    if detail.entry.evicted_at.is_none() {
        return Err(Error::new(
            snapdesk_core::ErrorCode::Conflict,
            format!("entry {id}'s archive is in the library: there is nothing to download again"),
        ));
    }
    let remote = detail.origins.iter().rev().find_map(|o| match &o.origin {
        Origin::Remote {
            context,
            supervisor_url,
            deployment_id,
            snapshot_id,
            ..
        } => Some((context, supervisor_url, deployment_id, snapshot_id)),
        _ => None,
    });
    let Some((context, url, deployment, snapshot)) = remote else {
        return Err(Error::not_found(format!(
            "entry {id} was not downloaded from a Supervisor: there is nowhere to download it from"
        ))
        .with_hint("import a copy of the archive if you have one"));
    };
    let parse = |what: &str, v: &str| {
        snapdesk_api::ids::parse_id(v)
            .map_err(|e| Error::internal(format!("entry {id}'s origin has a bad {what}: {e}")))
    };
    let deployment = parse("deployment id", deployment)?;
    let plan = snapdesk_api::contexts::Contexts::load(&paths.contexts_file())
        .ok()
        .and_then(|all| {
            all.contexts
                .get(context)
                .and_then(|c| c.plan_of(deployment))
        });
    Ok(DownloadAgain {
        target: Target {
            context: context.clone(),
            url: url.clone(),
            deployment,
            plan,
        },
        snapshot_id: parse("snapshot id", snapshot)?,
    })
}

/// Downloads an evicted entry's archive again from the Supervisor that still keeps it, into
/// the library (the entry gets its archive back; its rows, pin, note and tags stay). A
/// snapshot the server no longer keeps is a `not_found` error and the entry stays evicted.
pub async fn download_again(
    remote: &Remote,
    lib: &Library,
    id: i64,
    snapshot_id: u64,
    cancel: &Cancel,
    progress: ProgressFn<'_>,
) -> Result<LibraryDownload> {
    let before = lib.entry(id)?;
    let got = download_into(
        remote,
        lib,
        &Selection::Node(snapshot_id),
        None,
        cancel,
        progress,
    )
    .await
    .map_err(|e| {
        if e.code == snapdesk_core::ErrorCode::NotFound {
            Error::not_found(format!(
                "the Supervisor no longer keeps snapshot {snapshot_id} of entry {id}: {}",
                e.message
            ))
            .with_hint("its retention has passed; import a copy of the archive if you have one")
        } else {
            e
        }
    })?;
    // The same bytes give the entry its archive back; other bytes would be another entry.
    if let Some(Stored::Yes { entry, .. }) = got.library.first() {
        if entry.sha256 != before.sha256 {
            tracing::warn!(
                id,
                "the Supervisor's archive differs from the one stored before: kept as entry {}",
                entry.id
            );
        }
    }
    Ok(got)
}

/// The files of an entry's archive, nested `iggy-data.zip` included, listed in place
/// (`snapdesk_report::archive::list_files` on the stored archive, which counts as opened).
pub fn entry_files(lib: &Library, id: i64, cancel: &Cancel) -> Result<Vec<ArchiveFile>> {
    let path = lib.open_entry(id)?;
    Ok(snapdesk_report::archive::list_files(
        &path,
        &Limits::default(),
        cancel,
    )?)
}

/// At most `max_bytes` of one file of an entry's archive, by its display path as
/// [`entry_files`] lists it.
pub fn entry_file(
    lib: &Library,
    id: i64,
    file: &str,
    max_bytes: u64,
    cancel: &Cancel,
) -> Result<FileBytes> {
    let path = lib.open_entry(id)?;
    Ok(snapdesk_report::archive::read_file(
        &path,
        file,
        max_bytes,
        &Limits::default(),
        cancel,
    )?)
}

//! The app's multi-step jobs, each a few calls into core: a file from disk is imported into
//! the library and shown from there; a library entry is shown from its stored archive; a
//! collection of this machine lands in the library and is shown. Every path through here
//! reads the archive the library keeps (proven sound at import), never one it refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use snapdesk_core::{Cancel, Error};
use snapdesk_ops::desk::CollectRequest;
use snapdesk_ops::library::{self, Library};
use snapdesk_report::view::OpenedReport;

use crate::viewer::Viewer;

/// Imports `path` into the library (the file is only read) and opens the stored copy.
pub fn open_file(
    viewer: &Viewer,
    lib: &Library,
    path: &Path,
    cancel: &Cancel,
) -> Result<OpenedReport, Error> {
    if !path.is_file() {
        return Err(
            Error::not_found(format!("{} is not a file", path.display()))
                .with_hint("give the path of a snapshot ZIP"),
        );
    }
    let imported = library::import(lib, path, cancel)?;
    let mut opened = show_entry(viewer, lib, &imported.id, cancel)?;
    // The person opened their file: name it, not the store's copy.
    opened.summary.path = path.display().to_string();
    if let Some(name) = path.file_name() {
        opened.summary.file_name = name.to_string_lossy().into_owned();
    }
    Ok(opened)
}

/// Opens a library entry's stored archive (marking it opened).
pub fn show_entry(
    viewer: &Viewer,
    lib: &Library,
    id: &str,
    cancel: &Cancel,
) -> Result<OpenedReport, Error> {
    let n = library::parse_id(id)?;
    let entry = lib.entry(n)?;
    let stored: PathBuf = lib.open_entry(n)?;
    let mut opened = viewer.open_with(stored, cancel)?;
    opened.entry_id = Some(entry.id.clone());
    opened.summary.file_name = display_name(&entry);
    Ok(opened)
}

/// How an entry is named where a file name would be: `<snapshot>-<node>.zip` or its title.
fn display_name(e: &library::Entry) -> String {
    match (
        &e.snapshot_name,
        e.node_id.as_ref().or(e.host_name.as_ref()),
    ) {
        (Some(s), Some(n)) => format!("{s}-{n}.zip"),
        _ => e.title.clone(),
    }
}

/// Collects this machine into the library, reporting each step, and opens the result.
pub fn collect(
    viewer: &Viewer,
    lib: &Arc<Library>,
    request: &CollectRequest,
    progress: &mut dyn FnMut(&snapdesk_collector::Progress),
    cancel: &Cancel,
) -> Result<OpenedReport, Error> {
    let opts = request.options(cancel);
    let (_, into) = library::collect_into(lib, opts, progress, cancel)?;
    show_entry(viewer, lib, &into.entry.id, cancel)
}

//! The Iggy data-directory bundle, `iggy-data.zip`: the server's data directory as it is on
//! disk, under a size cap, with text files (configs, server logs) redacted.
//!
//! - Entry names are the paths relative to the data directory, with `/` separators and no
//!   prefix (`state/log`, `streams/0/topics/0/partitions/0/00000000000000000000.log`).
//!   Directories get their own entries, so that empty partitions still show.
//! - Symlinks are followed only when their target stays inside the data directory (a file
//!   is then bundled under the link's name, a directory walked under it); others are left
//!   out and listed in `omitted`. Directory loops are detected.
//! - Under the cap, every file that is not a segment (`streams/**/*.log`) goes first: state,
//!   metadata (0.9), runtime config, configs, indexes and offsets, then server logs (newest
//!   first). A file that does not fit is skipped and the next smaller ones still may fit.
//!   Segments follow, newest first (mtime, then start offset); the first segment that does
//!   not fit ends the segments, so that only the oldest are dropped.
//! - Memory stays bounded: files are streamed through one 256 KiB buffer. Text files to
//!   redact are read whole up to 64 MiB, and line by line beyond (a PEM block cut by a
//!   chunk boundary is then only partly recognised, which never happens in practice for a
//!   key in a log).
//! - Compression: Deflate, level 6 by default, the level of `zip -r` (`zip -6`), so that the
//!   benchmark compares like with like; `compression_level` matches `zip -1`..`-9`, and
//!   `store_segments` stores segments uncompressed (much faster on incompressible payloads).
//! - The ZIP is written to `<out>.partial` and renamed into place when complete; on error
//!   the partial file is removed.
//!
//! Binary files (`state/log`, `metadata/*`) are bundled as they are: they may hold hashed
//! passwords and hashed personal access tokens (Iggy stores hashes, not the values).

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use chrono::{Datelike, Timelike, Utc};
use snapdesk_report::archive::{IggyBundle, OmittedFile};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::redact::Redactor;

/// 1 GiB.
pub const DEFAULT_CAP_BYTES: u64 = 1024 * 1024 * 1024;
/// The largest text file redacted in memory; larger ones are redacted line by line.
pub const MAX_TEXT_IN_MEMORY: u64 = 64 * 1024 * 1024;

pub const REASON_OUTSIDE: &str = "symlink points outside the data directory";
pub const REASON_CAP: &str = "size cap reached";
pub const REASON_DANGLING: &str = "broken symlink";
pub const REASON_LOOP: &str = "symlink loop";
pub const REASON_SPECIAL: &str = "not a regular file";
pub const REASON_NAME: &str = "file name is not valid UTF-8";

const COPY_BUFFER: usize = 256 * 1024;
/// Deeper than any Iggy layout; a guard against pathological trees.
const MAX_DEPTH: usize = 64;

/// How to bundle.
#[derive(Debug, Clone)]
pub struct BundleOptions {
    /// The most source bytes to include (default 1 GiB).
    pub cap_bytes: u64,
    /// Redacts text files (configs, server logs) when set.
    pub redactor: Option<Arc<Redactor>>,
    /// Deflate level, 1 to 9 (default 6, as `zip -r`); 0 stores everything uncompressed.
    /// Levels above 9 are taken as 9.
    pub compression_level: i64,
    /// Stores segment files (`streams/**/*.log`) uncompressed whatever the level.
    pub store_segments: bool,
    /// Checked before each file: once set, the bundle stops and its partial file goes.
    pub cancel: snapdesk_core::Cancel,
}

impl Default for BundleOptions {
    fn default() -> Self {
        Self {
            cap_bytes: DEFAULT_CAP_BYTES,
            redactor: None,
            compression_level: 6,
            store_segments: false,
            cancel: snapdesk_core::Cancel::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("the Iggy data directory {path} does not exist")]
    DirMissing { path: PathBuf },
    #[error("the Iggy data directory {path} is not a directory")]
    NotADir { path: PathBuf },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("cannot write {path}: {reason}")]
    Zip { path: PathBuf, reason: String },
    #[error("the Iggy data bundle was cancelled")]
    Cancelled,
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> BundleError + 'a {
    move |source| BundleError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

impl From<BundleError> for snapdesk_core::Error {
    fn from(e: BundleError) -> Self {
        use snapdesk_core::{Error, ErrorCode};
        match &e {
            BundleError::Io { source, .. } if source.kind() == io::ErrorKind::StorageFull => {
                Error::new(ErrorCode::DiskFull, e.to_string())
                    .with_hint("free some disk space and try again; nothing partial was kept")
            }
            BundleError::Zip { reason, .. } if reason.contains("No space left") => {
                Error::new(ErrorCode::DiskFull, e.to_string())
                    .with_hint("free some disk space and try again; nothing partial was kept")
            }
            BundleError::DirMissing { .. } => Error::new(ErrorCode::NotFound, e.to_string()),
            BundleError::Cancelled => Error::new(ErrorCode::Cancelled, e.to_string()),
            _ => Error::new(ErrorCode::Collect, e.to_string()),
        }
    }
}

fn zip_err(path: &Path) -> impl FnOnce(zip::result::ZipError) -> BundleError + '_ {
    move |e| match e {
        zip::result::ZipError::Io(source) => BundleError::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        },
        other => BundleError::Zip {
            path: path.to_path_buf(),
            reason: other.to_string(),
        },
    }
}

/// A file found by the walk.
#[derive(Debug, Clone)]
struct Found {
    /// Entry name: relative path with `/`.
    rel: String,
    /// Where to read it (the target, for a symlink).
    actual: PathBuf,
    size: u64,
    mtime: SystemTime,
}

#[derive(Debug, Default)]
struct Walked {
    files: Vec<Found>,
    dirs: Vec<String>,
    omitted: Vec<OmittedFile>,
}

fn omit(list: &mut Vec<OmittedFile>, path: &str, size: u64, reason: impl Into<String>) {
    list.push(OmittedFile {
        path: path.to_owned(),
        size,
        reason: reason.into(),
    });
}

fn join_rel(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}/{name}")
    }
}

struct Pending {
    actual: PathBuf,
    rel: String,
    /// Canonical paths of the directories on the way here (loop detection).
    chain: Vec<PathBuf>,
}

/// Walks `root` (canonical) without following symlinks out of it. `skip` holds paths never
/// to include (the output ZIP when it lies inside the directory).
fn walk(root: &Path, skip: &[PathBuf]) -> Result<Walked, BundleError> {
    let mut out = Walked::default();
    let mut stack = vec![Pending {
        actual: root.to_path_buf(),
        rel: String::new(),
        chain: vec![],
    }];
    while let Some(dir) = stack.pop() {
        let read = match fs::read_dir(&dir.actual) {
            Ok(r) => r,
            Err(e) if dir.rel.is_empty() => return Err(io_err("read", root)(e)),
            Err(e) => {
                omit(
                    &mut out.omitted,
                    &dir.rel,
                    0,
                    format!("cannot read directory: {e}"),
                );
                continue;
            }
        };
        if !dir.rel.is_empty() {
            out.dirs.push(dir.rel.clone());
        }
        let mut chain = dir.chain.clone();
        chain.push(dir.actual.clone());
        let mut entries = Vec::new();
        for entry in read {
            match entry {
                Ok(e) => entries.push(e),
                Err(e) => {
                    let what = if dir.rel.is_empty() {
                        "."
                    } else {
                        dir.rel.as_str()
                    };
                    omit(
                        &mut out.omitted,
                        what,
                        0,
                        format!("cannot list an entry: {e}"),
                    );
                }
            }
        }
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name();
            let Some(name_str) = name.to_str() else {
                let rel = join_rel(&dir.rel, &name.to_string_lossy());
                omit(&mut out.omitted, &rel, 0, REASON_NAME);
                continue;
            };
            let rel = join_rel(&dir.rel, name_str);
            let actual = entry.path();
            if skip.contains(&actual) {
                continue;
            }
            let file_type = match entry.file_type() {
                Ok(t) => t,
                Err(e) => {
                    omit(&mut out.omitted, &rel, 0, format!("cannot read: {e}"));
                    continue;
                }
            };
            if file_type.is_symlink() {
                let target = match fs::canonicalize(&actual) {
                    Ok(t) => t,
                    Err(_) => {
                        omit(&mut out.omitted, &rel, 0, REASON_DANGLING);
                        continue;
                    }
                };
                if !target.starts_with(root) {
                    omit(&mut out.omitted, &rel, 0, REASON_OUTSIDE);
                    continue;
                }
                if skip.contains(&target) {
                    continue;
                }
                match fs::metadata(&target) {
                    Ok(m) if m.is_dir() => {
                        // A loop: the target holds this very directory.
                        if chain.iter().any(|d| d.starts_with(&target)) {
                            omit(&mut out.omitted, &rel, 0, REASON_LOOP);
                        } else if chain.len() >= MAX_DEPTH {
                            omit(&mut out.omitted, &rel, 0, "directory tree too deep");
                        } else {
                            stack.push(Pending {
                                actual: target,
                                rel,
                                chain: chain.clone(),
                            });
                        }
                    }
                    Ok(m) if m.is_file() => out.files.push(Found {
                        rel,
                        actual: target,
                        size: m.len(),
                        mtime: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    }),
                    Ok(_) => omit(&mut out.omitted, &rel, 0, REASON_SPECIAL),
                    Err(e) => omit(&mut out.omitted, &rel, 0, format!("cannot read: {e}")),
                }
            } else if file_type.is_dir() {
                if chain.len() >= MAX_DEPTH {
                    omit(&mut out.omitted, &rel, 0, "directory tree too deep");
                } else {
                    stack.push(Pending {
                        actual,
                        rel,
                        chain: chain.clone(),
                    });
                }
            } else if file_type.is_file() {
                match entry.metadata() {
                    Ok(m) => out.files.push(Found {
                        rel,
                        actual,
                        size: m.len(),
                        mtime: m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    }),
                    Err(e) => omit(&mut out.omitted, &rel, 0, format!("cannot read: {e}")),
                }
            } else {
                // Sockets, FIFOs, devices: never opened (a FIFO would block).
                omit(&mut out.omitted, &rel, 0, REASON_SPECIAL);
            }
        }
    }
    out.dirs.sort();
    Ok(out)
}

/// A message segment: `streams/**/<offset>.log`.
pub(crate) fn is_segment(rel: &str) -> bool {
    rel.starts_with("streams/") && rel.ends_with(".log")
}

fn segment_offset(rel: &str) -> u64 {
    let base = rel.rsplit('/').next().unwrap_or(rel);
    base.strip_suffix(".log")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn extension(rel: &str) -> String {
    let base = rel.rsplit('/').next().unwrap_or(rel);
    match base.rsplit_once('.') {
        Some((_, ext)) => ext.to_ascii_lowercase(),
        None => String::new(),
    }
}

/// Text that may hold secrets but is not configuration: key material and stray logs.
const OTHER_TEXT_EXTENSIONS: [&str; 7] = ["pem", "key", "crt", "cer", "txt", "log", "out"];
const CONFIG_EXTENSIONS: [&str; 9] = [
    "toml",
    "json",
    "yaml",
    "yml",
    "conf",
    "env",
    "ini",
    "properties",
    "cfg",
];
const COMPRESSED_EXTENSIONS: [&str; 7] = ["gz", "zst", "xz", "bz2", "zip", "lz4", "tgz"];

/// Text files redacted before bundling: configs anywhere, and server logs under `logs/`
/// (`iggy-server.log`, rotated `.log.N`). Never segments, never compressed logs.
pub(crate) fn is_text_to_redact(rel: &str) -> bool {
    if is_segment(rel) {
        return false;
    }
    let ext = extension(rel);
    if COMPRESSED_EXTENSIONS.contains(&ext.as_str()) {
        return false;
    }
    let base = rel.rsplit('/').next().unwrap_or(rel);
    rel.starts_with("logs/")
        || CONFIG_EXTENSIONS.contains(&ext.as_str())
        || OTHER_TEXT_EXTENSIONS.contains(&ext.as_str())
        || base == ".env"
}

/// Order of non-segment files: 0 state, metadata, runtime and configs; 1 indexes and
/// offsets; 2 server logs; 3 anything else.
fn tier(rel: &str) -> u8 {
    if rel.starts_with("state/")
        || rel.starts_with("metadata/")
        || rel.starts_with("runtime/")
        || CONFIG_EXTENSIONS.contains(&extension(rel).as_str())
    {
        0
    } else if rel.ends_with(".index") || rel.starts_with("offsets/") || rel.contains("/offsets/") {
        1
    } else if rel.starts_with("logs/") {
        2
    } else {
        3
    }
}

/// Sort key of a non-segment file: its tier, then (server logs) newest first.
fn other_key(f: &Found) -> (u8, Reverse<SystemTime>) {
    let t = tier(&f.rel);
    (
        t,
        Reverse(if t == 2 {
            f.mtime
        } else {
            SystemTime::UNIX_EPOCH
        }),
    )
}

/// Splits the found files into those included (in writing order) and those over the cap.
fn plan(files: Vec<Found>, cap: u64, omitted: &mut Vec<OmittedFile>) -> Vec<Found> {
    let (mut segments, mut others): (Vec<Found>, Vec<Found>) =
        files.into_iter().partition(|f| is_segment(&f.rel));
    others.sort_by(|a, b| {
        other_key(a)
            .cmp(&other_key(b))
            .then_with(|| a.rel.cmp(&b.rel))
    });
    segments.sort_by(|a, b| {
        (Reverse(a.mtime), Reverse(segment_offset(&a.rel)))
            .cmp(&(Reverse(b.mtime), Reverse(segment_offset(&b.rel))))
            .then_with(|| a.rel.cmp(&b.rel))
    });
    let mut bytes = 0u64;
    let mut included = Vec::new();
    for f in others {
        if bytes.saturating_add(f.size) <= cap {
            bytes += f.size;
            included.push(f);
        } else {
            omit(omitted, &f.rel, f.size, REASON_CAP);
        }
    }
    let mut full = false;
    for f in segments {
        if !full && bytes.saturating_add(f.size) <= cap {
            bytes += f.size;
            included.push(f);
        } else {
            full = true;
            omit(omitted, &f.rel, f.size, REASON_CAP);
        }
    }
    included
}

fn zip_time(t: SystemTime) -> Option<zip::DateTime> {
    let dt: chrono::DateTime<Utc> = t.into();
    zip::DateTime::from_date_and_time(
        u16::try_from(dt.year()).ok()?,
        u8::try_from(dt.month()).ok()?,
        u8::try_from(dt.day()).ok()?,
        u8::try_from(dt.hour()).ok()?,
        u8::try_from(dt.minute()).ok()?,
        u8::try_from(dt.second()).ok()?,
    )
    .ok()
}

fn entry_options(
    opts: &BundleOptions,
    rel: &str,
    size: u64,
    mtime: SystemTime,
) -> SimpleFileOptions {
    let level = opts.compression_level.clamp(0, 9);
    let mut o = SimpleFileOptions::default()
        .unix_permissions(0o644)
        // Redaction can make a text a little longer: keep a margin below 4 GiB.
        .large_file(size >= u64::from(u32::MAX) / 2);
    if let Some(t) = zip_time(mtime) {
        o = o.last_modified_time(t);
    }
    if level == 0 || (opts.store_segments && is_segment(rel)) {
        o.compression_method(CompressionMethod::Stored)
    } else {
        o.compression_method(CompressionMethod::Deflated)
            .compression_level(Some(level))
    }
}

/// Removes the partial file unless disarmed.
struct PartialGuard {
    path: PathBuf,
    armed: bool,
}

impl Drop for PartialGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// What went wrong while copying one file: reading the source (the file is left out) or
/// writing the ZIP (the bundle fails).
enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

/// Copies up to `limit` bytes; returns the bytes read.
fn copy_limited(
    src: &mut File,
    limit: u64,
    dst: &mut dyn Write,
    buf: &mut [u8],
    progress: &mut dyn FnMut(u64),
) -> Result<u64, CopyError> {
    let mut done = 0u64;
    while done < limit {
        let want = usize::try_from((limit - done).min(buf.len() as u64)).unwrap_or(buf.len());
        let n = match src.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        dst.write_all(&buf[..n]).map_err(CopyError::Write)?;
        done += n as u64;
        progress(n as u64);
    }
    Ok(done)
}

/// Copies a text file through the redactor; returns the source bytes read.
fn copy_redacted(
    src: File,
    limit: u64,
    dst: &mut dyn Write,
    redactor: &Redactor,
    counts: &mut BTreeMap<String, u64>,
) -> Result<u64, CopyError> {
    let mut reader = BufReader::with_capacity(COPY_BUFFER, src.take(limit));
    if limit <= MAX_TEXT_IN_MEMORY {
        let mut raw = Vec::with_capacity(usize::try_from(limit).unwrap_or(0));
        reader.read_to_end(&mut raw).map_err(CopyError::Read)?;
        write_redacted(&raw, dst, redactor, counts)?;
        return Ok(raw.len() as u64);
    }
    let mut done = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(CopyError::Read)?;
        if n == 0 {
            break;
        }
        write_redacted(&line, dst, redactor, counts)?;
        done += n as u64;
    }
    Ok(done)
}

fn write_redacted(
    raw: &[u8],
    dst: &mut dyn Write,
    redactor: &Redactor,
    counts: &mut BTreeMap<String, u64>,
) -> Result<(), CopyError> {
    // Invalid UTF-8 is replaced only when a secret was found; otherwise the bytes go as is.
    let text = String::from_utf8_lossy(raw);
    let redacted = redactor.redact_into(&text, counts);
    let bytes: &[u8] = match &redacted {
        Cow::Borrowed(_) => raw,
        Cow::Owned(s) => s.as_bytes(),
    };
    dst.write_all(bytes).map_err(CopyError::Write)
}

fn partial_path(out_zip: &Path) -> PathBuf {
    snapdesk_core::paths::partial_path(out_zip)
}

/// The canonical form of a path that may not exist yet (its parent must).
fn canonical_future(path: &Path) -> Option<PathBuf> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Some(fs::canonicalize(parent).ok()?.join(path.file_name()?))
}

/// Bundles the Iggy data directory `dir` into `out_zip`. `counts` gains the redactions per
/// rule; `progress` is told the bytes done and the bytes planned as files are copied.
pub fn bundle_data_dir(
    dir: &Path,
    out_zip: &Path,
    opts: &BundleOptions,
    counts: &mut BTreeMap<String, u64>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<IggyBundle, BundleError> {
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(BundleError::NotADir {
                path: dir.to_path_buf(),
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(BundleError::DirMissing {
                path: dir.to_path_buf(),
            })
        }
        Err(e) => return Err(io_err("read", dir)(e)),
    }
    let root = fs::canonicalize(dir).map_err(io_err("read", dir))?;

    if let Some(parent) = out_zip.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io_err("create directory", parent))?;
    }
    let partial = partial_path(out_zip);
    let skip: Vec<PathBuf> = [canonical_future(out_zip), canonical_future(&partial)]
        .into_iter()
        .flatten()
        .collect();

    let walked = walk(&root, &skip)?;
    let mut omitted = walked.omitted;
    let included = plan(walked.files, opts.cap_bytes, &mut omitted);
    let planned: u64 = included.iter().map(|f| f.size).sum();

    let file = File::create(&partial).map_err(io_err("create", &partial))?;
    let mut guard = PartialGuard {
        path: partial.clone(),
        armed: true,
    };
    // Gives up quietly after a write error (a full disk): the guard removes the partial file.
    let (writer, _abandon) =
        snapdesk_report::archive::Abandonable::new(BufWriter::with_capacity(1024 * 1024, file));
    let mut zip = ZipWriter::new(writer);

    for d in &walked.dirs {
        let o = SimpleFileOptions::default().unix_permissions(0o755);
        zip.add_directory(d.as_str(), o)
            .map_err(zip_err(&partial))?;
    }

    let mut buf = vec![0u8; COPY_BUFFER];
    let mut done = 0u64;
    let mut files = 0u64;
    let mut bytes = 0u64;
    progress(0, planned);
    for f in &included {
        if opts.cancel.is_cancelled() {
            return Err(BundleError::Cancelled);
        }
        let mut src = match File::open(&f.actual) {
            Ok(s) => s,
            Err(e) => {
                omit(&mut omitted, &f.rel, f.size, format!("cannot open: {e}"));
                done += f.size;
                progress(done, planned);
                continue;
            }
        };
        zip.start_file(f.rel.as_str(), entry_options(opts, &f.rel, f.size, f.mtime))
            .map_err(zip_err(&partial))?;
        let result = match opts.redactor.as_deref() {
            Some(r) if is_text_to_redact(&f.rel) => copy_redacted(src, f.size, &mut zip, r, counts),
            _ => {
                let mut running = done;
                let mut tick = |n: u64| {
                    running += n;
                    progress(running, planned);
                };
                copy_limited(&mut src, f.size, &mut zip, &mut buf, &mut tick)
            }
        };
        match result {
            Ok(n) => {
                files += 1;
                bytes += n;
            }
            Err(CopyError::Read(e)) => {
                zip.abort_file().map_err(zip_err(&partial))?;
                omit(&mut omitted, &f.rel, f.size, format!("read error: {e}"));
            }
            Err(CopyError::Write(e)) => {
                return Err(BundleError::Io {
                    action: "write",
                    path: partial.clone(),
                    source: e,
                })
            }
        }
        done += f.size;
        progress(done, planned);
    }

    let writer = zip.finish().map_err(zip_err(&partial))?.into_inner();
    let file = writer.into_inner().map_err(|e| BundleError::Io {
        action: "write",
        path: partial.clone(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io_err("sync", &partial))?;
    drop(file);
    fs::rename(&partial, out_zip).map_err(io_err("rename", &partial))?;
    guard.armed = false;

    Ok(IggyBundle {
        source_dir: dir.display().to_string(),
        files,
        bytes,
        cap_bytes: opts.cap_bytes,
        omitted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn write_file(path: &Path, data: &[u8], mtime: Option<SystemTime>) {
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(path, data).unwrap();
        if let Some(t) = mtime {
            File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(t)
                .unwrap();
        }
    }

    fn read_zip(path: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut zip = zip::ZipArchive::new(File::open(path).unwrap()).unwrap();
        let mut out = BTreeMap::new();
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).unwrap();
            if entry.is_dir() {
                continue;
            }
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            out.insert(entry.name().unwrap().into_owned(), data);
        }
        out
    }

    const SEG: &str = "streams/0/topics/0/partitions/0";

    /// A small data directory; returns its path (inside `tmp`).
    fn sample(tmp: &Path) -> PathBuf {
        let d = tmp.join("local_data");
        let old = SystemTime::now() - Duration::from_secs(3600);
        let new = SystemTime::now() - Duration::from_secs(60);
        write_file(
            &d.join(SEG).join("00000000000000000000.log"),
            &[1u8; 1000],
            Some(old),
        );
        write_file(
            &d.join(SEG).join("00000000000000000000.index"),
            &[2u8; 16],
            Some(old),
        );
        write_file(
            &d.join(SEG).join("00000000000000001000.log"),
            &[3u8; 1000],
            Some(new),
        );
        write_file(
            &d.join(SEG).join("00000000000000001000.index"),
            &[4u8; 16],
            Some(new),
        );
        write_file(&d.join(SEG).join("offsets/consumers/1"), &[5u8; 8], None);
        write_file(&d.join("state/log"), &[6u8; 100], None);
        write_file(&d.join("state/info"), b"state info", None);
        write_file(
            &d.join("logs/iggy-server.log"),
            b"INFO start\nWARN root password=hunter2\n",
            None,
        );
        write_file(
            &d.join("runtime/current_config.toml"),
            b"[http.jwt]\nencoding_secret = \"abc\"\nkey_file = \"/etc/iggy/key.pem\"\n",
            None,
        );
        fs::create_dir_all(d.join("streams/1/topics")).unwrap();
        d
    }

    fn total_non_segment(d: &Path) -> u64 {
        [
            format!("{SEG}/00000000000000000000.index"),
            format!("{SEG}/00000000000000001000.index"),
            format!("{SEG}/offsets/consumers/1"),
            "state/log".into(),
            "state/info".into(),
            "logs/iggy-server.log".into(),
            "runtime/current_config.toml".into(),
        ]
        .iter()
        .map(|r| fs::metadata(d.join(r)).unwrap().len())
        .sum()
    }

    fn with_redactor() -> BundleOptions {
        BundleOptions {
            redactor: Some(Arc::new(Redactor::new())),
            ..BundleOptions::default()
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_redaction_and_layout() {
        use std::os::unix::fs::symlink;
        let tmp = tempfile::tempdir().unwrap();
        let d = sample(tmp.path());
        let outside = tmp.path().join("outside.txt");
        fs::write(&outside, "not ours").unwrap();
        symlink(&outside, d.join("outside")).unwrap();
        symlink("/etc/passwd", d.join("passwd")).unwrap();
        symlink("../state/info", d.join("runtime/info-link")).unwrap();
        symlink(&d, d.join("streams/loop")).unwrap();
        symlink(tmp.path().join("missing"), d.join("dangling")).unwrap();

        let out = tmp.path().join("out/iggy-data.zip");
        let mut counts = BTreeMap::new();
        let mut last = (0, 0);
        let bundle = bundle_data_dir(&d, &out, &with_redactor(), &mut counts, &mut |a, b| {
            last = (a, b)
        })
        .unwrap();

        let reason = |p: &str| {
            bundle
                .omitted
                .iter()
                .find(|o| o.path == p)
                .map(|o| o.reason.clone())
        };
        assert_eq!(reason("outside").as_deref(), Some(REASON_OUTSIDE));
        assert!(matches!(
            reason("passwd").as_deref(),
            Some(REASON_OUTSIDE | REASON_DANGLING)
        ));
        assert_eq!(reason("streams/loop").as_deref(), Some(REASON_LOOP));
        assert_eq!(reason("dangling").as_deref(), Some(REASON_DANGLING));
        assert_eq!(bundle.omitted.len(), 4, "{:?}", bundle.omitted);

        let entries = read_zip(&out);
        assert_eq!(
            entries.get("runtime/info-link").map(Vec::as_slice),
            Some(&b"state info"[..])
        );
        assert_eq!(
            entries.get("logs/iggy-server.log").map(Vec::as_slice),
            Some(&b"INFO start\nWARN root password=[REDACTED]\n"[..])
        );
        assert_eq!(
            entries.get("runtime/current_config.toml").map(Vec::as_slice),
            Some(
                &b"[http.jwt]\nencoding_secret = \"[REDACTED]\"\nkey_file = \"/etc/iggy/key.pem\"\n"[..]
            )
        );
        assert_eq!(
            entries
                .get(&format!("{SEG}/00000000000000000000.log"))
                .map(Vec::as_slice),
            Some(&[1u8; 1000][..])
        );
        assert!(!entries.contains_key("outside"));
        assert_eq!(counts.get("secret_key_value"), Some(&2));
        assert_eq!(bundle.files, 10);
        assert_eq!(bundle.files, entries.len() as u64);
        assert_eq!(bundle.bytes, total_non_segment(&d) + 2000 + 10);
        assert_eq!(bundle.cap_bytes, DEFAULT_CAP_BYTES);
        assert_eq!(last.0, last.1);
        assert!(!partial_path(&out).exists());

        // The empty directory is kept as a directory entry.
        let mut zip = zip::ZipArchive::new(File::open(&out).unwrap()).unwrap();
        assert!(zip.by_name("streams/1/topics/").is_ok());
    }

    #[test]
    fn cap_keeps_metadata_and_drops_oldest_segments() {
        let tmp = tempfile::tempdir().unwrap();
        let d = sample(tmp.path());
        let meta = total_non_segment(&d);
        let opts = BundleOptions {
            cap_bytes: meta + 1500,
            ..with_redactor()
        };
        let out = tmp.path().join("iggy-data.zip");
        let mut counts = BTreeMap::new();
        let bundle = bundle_data_dir(&d, &out, &opts, &mut counts, &mut |_, _| {}).unwrap();
        assert_eq!(bundle.omitted.len(), 1, "{:?}", bundle.omitted);
        assert_eq!(
            bundle.omitted[0].path,
            format!("{SEG}/00000000000000000000.log")
        );
        assert_eq!(bundle.omitted[0].reason, REASON_CAP);
        assert_eq!(bundle.omitted[0].size, 1000);
        assert_eq!(bundle.bytes, meta + 1000);
        let entries = read_zip(&out);
        assert!(entries.contains_key(&format!("{SEG}/00000000000000001000.log")));
        assert!(entries.contains_key(&format!("{SEG}/00000000000000000000.index")));
        assert!(entries.contains_key("state/log"));

        // A metadata file larger than the cap is listed too.
        let opts = BundleOptions {
            cap_bytes: 50,
            ..BundleOptions::default()
        };
        let bundle = bundle_data_dir(&d, &out, &opts, &mut counts, &mut |_, _| {}).unwrap();
        let state = bundle
            .omitted
            .iter()
            .find(|o| o.path == "state/log")
            .unwrap();
        assert_eq!((state.size, state.reason.as_str()), (100, REASON_CAP));
        assert!(bundle.bytes <= 50);
    }

    #[test]
    fn segments_may_be_stored_and_output_inside_the_dir_is_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let d = sample(tmp.path());
        let out = d.join("iggy-data.zip");
        fs::write(&out, b"old bundle").unwrap();
        let opts = BundleOptions {
            store_segments: true,
            compression_level: 1,
            ..Default::default()
        };
        let mut counts = BTreeMap::new();
        let bundle = bundle_data_dir(&d, &out, &opts, &mut counts, &mut |_, _| {}).unwrap();
        let entries = read_zip(&out);
        assert!(!entries.contains_key("iggy-data.zip"));
        assert_eq!(bundle.files, entries.len() as u64);
        // No redactor: the log goes as it is.
        assert_eq!(
            entries.get("logs/iggy-server.log").map(Vec::as_slice),
            Some(&b"INFO start\nWARN root password=hunter2\n"[..])
        );
        let mut zip = zip::ZipArchive::new(File::open(&out).unwrap()).unwrap();
        let seg = zip
            .by_name(&format!("{SEG}/00000000000000000000.log"))
            .unwrap();
        assert_eq!(seg.compression(), CompressionMethod::Stored);
    }

    #[test]
    fn errors_name_the_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("o.zip");
        let mut counts = BTreeMap::new();
        let missing = tmp.path().join("nope");
        let e = bundle_data_dir(
            &missing,
            &out,
            &BundleOptions::default(),
            &mut counts,
            &mut |_, _| {},
        )
        .unwrap_err();
        assert!(matches!(e, BundleError::DirMissing { .. }));
        assert!(e.to_string().contains("nope"));
        let file = tmp.path().join("f");
        fs::write(&file, "x").unwrap();
        let e = bundle_data_dir(
            &file,
            &out,
            &BundleOptions::default(),
            &mut counts,
            &mut |_, _| {},
        )
        .unwrap_err();
        assert!(matches!(e, BundleError::NotADir { .. }));
        assert!(!out.exists());
        assert!(!partial_path(&out).exists());
    }

    /// Regular files under `dir`, recursively, by relative path (no symlinks in fixtures).
    fn regular_files(dir: &Path) -> Vec<(String, PathBuf)> {
        let mut out = Vec::new();
        let mut stack = vec![(dir.to_path_buf(), String::new())];
        while let Some((p, rel)) = stack.pop() {
            for e in fs::read_dir(&p).unwrap() {
                let e = e.unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                let r = join_rel(&rel, &name);
                let m = fs::symlink_metadata(e.path()).unwrap();
                if m.is_dir() {
                    stack.push((e.path(), r));
                } else if m.is_file() {
                    out.push((r, e.path()));
                }
            }
        }
        out.sort();
        out
    }

    /// What redaction must change in the real fixtures, written out by hand from the files
    /// (not by running the redactor under test): (version, file, original line, redacted
    /// line). Every other line of every file must come out byte for byte.
    const FIXTURE_REDACTIONS: &[(&str, &str, &str, &str)] = &[(
        "0.8.0",
        "logs/iggy-server.log",
        "2026-11-28T07:55:27.607089Z  INFO main iggy_server: Using default root credentials \
         (username: iggy, password: iggy) - FOR DEVELOPMENT ONLY! If root user already exists, \
         existing credentials will be reused.",
        "2026-11-28T07:55:27.607089Z  INFO main iggy_server: Using default root credentials \
         (username: iggy, password: [REDACTED]) - FOR DEVELOPMENT ONLY! If root user already \
         exists, existing credentials will be reused.",
    )];

    /// `original` with the hand-written redactions of `version`/`rel` applied, each of which
    /// must match exactly one whole line.
    fn expected_redacted(version: &str, rel: &str, original: &[u8]) -> Vec<u8> {
        let mut text = String::from_utf8(original.to_vec())
            .unwrap_or_else(|_| panic!("{version}: {rel} is text"));
        for (v, file, from, to) in FIXTURE_REDACTIONS {
            if *v != version || *file != rel {
                continue;
            }
            let hits = text.lines().filter(|l| l == from).count();
            assert_eq!(
                hits, 1,
                "{version}: {rel}: the line to redact, once: {from}"
            );
            text = text.replacen(from, to, 1);
        }
        text.into_bytes()
    }

    #[test]
    fn real_fixtures_round_trip_with_only_the_expected_lines_redacted() {
        let Some(fixtures) = crate::test_skip::fixtures_or_skip(env!("CARGO_MANIFEST_DIR")) else {
            return;
        };
        for version in ["0.8.0", "0.9.0-edge.5-cc269ef7"] {
            let tarball = fixtures
                .join("iggy")
                .join(version)
                .join("local_data.tar.gz");
            assert!(tarball.is_file(), "{} is missing", tarball.display());
            let tmp = tempfile::tempdir().unwrap();
            let status = std::process::Command::new("tar")
                .arg("-xzf")
                .arg(&tarball)
                .arg("-C")
                .arg(tmp.path())
                .status()
                .unwrap();
            assert!(status.success(), "tar failed for {version}");
            let dir = tmp.path().join("local_data");
            let opts = BundleOptions {
                redactor: Some(Arc::new(Redactor::new())),
                ..Default::default()
            };
            let out = tmp.path().join("iggy-data.zip");
            let mut counts = BTreeMap::new();
            let bundle = bundle_data_dir(&dir, &out, &opts, &mut counts, &mut |_, _| {}).unwrap();

            let files = regular_files(&dir);
            assert!(bundle.omitted.is_empty(), "{version}: {:?}", bundle.omitted);
            assert_eq!(bundle.files, files.len() as u64, "{version}");
            let total: u64 = files
                .iter()
                .map(|(_, p)| fs::metadata(p).unwrap().len())
                .sum();
            assert_eq!(bundle.bytes, total, "{version}");
            let entries = read_zip(&out);
            assert_eq!(entries.len(), files.len(), "{version}");
            let mut text_files = 0;
            for (rel, path) in &files {
                let original = fs::read(path).unwrap();
                let got = entries
                    .get(rel)
                    .unwrap_or_else(|| panic!("{version}: {rel} missing"));
                let expected = if is_text_to_redact(rel) {
                    text_files += 1;
                    expected_redacted(version, rel, &original)
                } else {
                    original
                };
                if *got != expected {
                    let got = String::from_utf8_lossy(got);
                    let want = String::from_utf8_lossy(&expected);
                    let diff: Vec<String> = got
                        .lines()
                        .zip(want.lines())
                        .filter(|(g, w)| g != w)
                        .take(5)
                        .map(|(g, w)| format!("\n  got:  {g}\n  want: {w}"))
                        .collect();
                    panic!("{version}: {rel} differs:{}", diff.concat());
                }
            }
            // The server log and the runtime config of each version went through redaction.
            assert_eq!(text_files, 2, "{version}");
            let expected_hits = FIXTURE_REDACTIONS.iter().filter(|r| r.0 == version).count() as u64;
            assert_eq!(
                counts.values().sum::<u64>(),
                expected_hits,
                "{version}: {counts:?}"
            );
        }
    }

    #[test]
    fn classification() {
        assert!(is_segment(
            "streams/0/topics/0/partitions/0/00000000000000000000.log"
        ));
        assert!(!is_segment("logs/iggy-server.log"));
        assert!(is_text_to_redact("logs/iggy-server.log"));
        assert!(is_text_to_redact("logs/iggy-server.log.1"));
        assert!(!is_text_to_redact("logs/iggy-server.log.gz"));
        assert!(is_text_to_redact("runtime/current_config.toml"));
        assert!(!is_text_to_redact(
            "streams/0/topics/0/partitions/0/00000000000000000000.log"
        ));
        assert!(!is_text_to_redact("state/log"));
        assert_eq!(
            segment_offset("streams/0/topics/1/partitions/0/00000000000000000300.log"),
            300
        );
        assert_eq!(tier("metadata/journal.wal"), 0);
        assert_eq!(
            tier("streams/0/topics/0/partitions/0/offsets/consumers/7"),
            1
        );
        assert_eq!(tier("logs/iggy-server.log"), 2);
    }
}

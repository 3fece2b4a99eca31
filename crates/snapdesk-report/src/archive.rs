//! The snapshot archive: one ZIP per node holding `report.html`, `manifest.json` and,
//! optionally, `iggy-data.zip`. See `docs/snapshot-format.md`.
//!
//! Writing is atomic: entries go to `<name>.partial` beside the target, which is renamed into
//! place only after the manifest is written and the file is synced, so a crash, a full disk
//! or a kill leaves no half-written archive under the real name.
//!
//! Reading accepts archives we did not write: any ZIP with an `.html` report at any depth,
//! and Apache Iggy's own `iggy snapshot` ZIP (text sections).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ts_rs::TS;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::model::{Producer, StatusCounts, FORMAT_VERSION};
use crate::parse::{self, ParsedReport};

pub const REPORT_ENTRY: &str = "report.html";
pub const MANIFEST_ENTRY: &str = "manifest.json";
pub const IGGY_DATA_ENTRY: &str = "iggy-data.zip";

/// The largest report or text section read into memory (a ZIP bomb stops here).
pub const MAX_TEXT_ENTRY: u64 = 256 * 1024 * 1024;
/// The largest manifest read.
const MAX_MANIFEST: u64 = 16 * 1024 * 1024;

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
    #[error("the manifest of {path} is not valid: {reason}")]
    BadManifest { path: PathBuf, reason: String },
    #[error("the report in {path} is not valid: {source}")]
    BadReport {
        path: PathBuf,
        source: parse::ParseError,
    },
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
            ArchiveError::BadReport { .. } => Error::new(ErrorCode::Report, e.to_string()),
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

/// Counts bytes and hashes them on the way to the ZIP.
struct Hashing<'a, W: Write> {
    inner: &'a mut W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A writer that can be abandoned: afterwards every write and seek succeeds without touching
/// the file. Dropping an unfinished `ZipWriter` makes it finalize (and print to stderr when
/// that fails, as on a full disk); abandoning first turns that into a no-op before the
/// partial file is deleted.
pub struct Abandonable<W> {
    inner: W,
    abandoned: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The logical position and length, kept so that seeks stay consistent once abandoned.
    pos: u64,
    len: u64,
}

impl<W> Abandonable<W> {
    /// The writer and the switch that abandons it.
    pub fn new(inner: W) -> (Self, std::sync::Arc<std::sync::atomic::AtomicBool>) {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        (
            Self {
                inner,
                abandoned: flag.clone(),
                pos: 0,
                len: 0,
            },
            flag,
        )
    }
    fn is_abandoned(&self) -> bool {
        self.abandoned.load(std::sync::atomic::Ordering::Relaxed)
    }
    fn give_up(&self) {
        self.abandoned
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }
    fn advance(&mut self, n: usize) {
        self.pos += n as u64;
        self.len = self.len.max(self.pos);
    }
    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for Abandonable<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.is_abandoned() {
            self.advance(buf.len());
            return Ok(buf.len());
        }
        // After the first failure (a full disk) the archive is lost anyway: give up, so the
        // zip writer's second attempt in its destructor neither writes nor complains.
        match self.inner.write(buf) {
            Ok(n) => {
                self.advance(n);
                Ok(n)
            }
            Err(e) => {
                self.give_up();
                Err(e)
            }
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        if self.is_abandoned() {
            return Ok(());
        }
        self.inner.flush().inspect_err(|_| self.give_up())
    }
}

impl<W: Seek> Seek for Abandonable<W> {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        if !self.is_abandoned() {
            // A seek flushes the buffer below: it can be where the disk turns out to be full.
            match self.inner.seek(pos) {
                Ok(p) => {
                    self.pos = p;
                    self.len = self.len.max(p);
                    return Ok(p);
                }
                Err(e) => {
                    self.give_up();
                    return Err(e);
                }
            }
        }
        let target = match pos {
            io::SeekFrom::Start(n) => n as i128,
            io::SeekFrom::Current(d) => self.pos as i128 + d as i128,
            io::SeekFrom::End(d) => self.len as i128 + d as i128,
        };
        self.pos = target.max(0) as u64;
        self.len = self.len.max(self.pos);
        Ok(self.pos)
    }
}

/// Writes a snapshot archive atomically.
pub struct ArchiveWriter {
    final_path: PathBuf,
    partial_path: PathBuf,
    zip: Option<ZipWriter<Abandonable<BufWriter<File>>>>,
    abandon: std::sync::Arc<std::sync::atomic::AtomicBool>,
    entries: Vec<ManifestEntry>,
    /// Set once the archive has its final name; until then dropping removes the partial file.
    done: bool,
}

impl ArchiveWriter {
    pub fn create(final_path: &Path) -> Result<Self, ArchiveError> {
        let partial_path = snapdesk_core::paths::partial_path(final_path);
        if let Some(dir) = final_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
        }
        let file = File::create(&partial_path).map_err(io_err("create", &partial_path))?;
        let (writer, abandon) = Abandonable::new(BufWriter::with_capacity(256 * 1024, file));
        Ok(Self {
            abandon,
            final_path: final_path.to_path_buf(),
            partial_path,
            zip: Some(ZipWriter::new(writer)),
            done: false,
            entries: Vec::new(),
        })
    }

    fn options(compress: bool, size_hint: u64) -> SimpleFileOptions {
        use chrono::{Datelike, Timelike};
        let now = Utc::now();
        let mut o = SimpleFileOptions::default();
        if let Ok(t) = zip::DateTime::from_date_and_time(
            now.year().clamp(1980, 2107) as u16,
            now.month() as u8,
            now.day() as u8,
            now.hour() as u8,
            now.minute() as u8,
            now.second() as u8,
        ) {
            o = o.last_modified_time(t);
        }
        let o = o
            .unix_permissions(0o644)
            .large_file(size_hint >= u32::MAX as u64 / 2);
        if compress {
            o.compression_method(CompressionMethod::Deflated)
                .compression_level(Some(6))
        } else {
            o.compression_method(CompressionMethod::Stored)
        }
    }

    /// Streams an entry from a reader; the manifest records its size and sha256.
    pub fn add_reader(
        &mut self,
        name: &str,
        reader: &mut dyn Read,
        compress: bool,
        size_hint: u64,
    ) -> Result<&ManifestEntry, ArchiveError> {
        let path = self.partial_path.clone();
        let zip = self.zip.as_mut().ok_or_else(|| ArchiveError::BadEntry {
            path: path.clone(),
            entry: name.to_owned(),
            reason: "archive already finished".into(),
        })?;
        zip.start_file(name, Self::options(compress, size_hint))
            .map_err(|e| zip_write(&path, e))?;
        let mut h = Hashing {
            inner: zip,
            hasher: Sha256::new(),
            bytes: 0,
        };
        io::copy(reader, &mut h).map_err(io_err("write", &path))?;
        let entry = ManifestEntry {
            name: name.to_owned(),
            size: h.bytes,
            sha256: hex::encode(h.hasher.finalize()),
        };
        self.entries.push(entry);
        Ok(self.entries.last().expect("just pushed"))
    }

    pub fn add_bytes(
        &mut self,
        name: &str,
        data: &[u8],
        compress: bool,
    ) -> Result<(), ArchiveError> {
        self.add_reader(name, &mut &data[..], compress, data.len() as u64)?;
        Ok(())
    }

    /// Writes `manifest.json` (with the entries filled in), syncs, and renames into place.
    pub fn finish(mut self, manifest: &mut Manifest) -> Result<PathBuf, ArchiveError> {
        manifest.entries = self.entries.clone();
        let json = serde_json::to_vec_pretty(manifest).map_err(|e| ArchiveError::BadManifest {
            path: self.final_path.clone(),
            reason: e.to_string(),
        })?;
        let path = self.partial_path.clone();
        let mut zip = self.zip.take().ok_or_else(|| ArchiveError::BadEntry {
            path: path.clone(),
            entry: MANIFEST_ENTRY.into(),
            reason: "archive already finished".into(),
        })?;
        zip.start_file(MANIFEST_ENTRY, Self::options(true, json.len() as u64))
            .map_err(|e| zip_write(&path, e))?;
        zip.write_all(&json).map_err(io_err("write", &path))?;
        let buf = zip.finish().map_err(|e| zip_write(&path, e))?.into_inner();
        let file = buf.into_inner().map_err(|e| ArchiveError::Io {
            action: "write",
            path: path.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(io_err("sync", &path))?;
        drop(file);
        std::fs::rename(&path, &self.final_path).map_err(io_err("rename", &path))?;
        self.done = true;
        Ok(self.final_path.clone())
    }
}

impl Drop for ArchiveWriter {
    fn drop(&mut self) {
        // Not finished: never leave a partial file behind (and no finalize noise on stderr).
        if self.done {
            return;
        }
        self.abandon
            .store(true, std::sync::atomic::Ordering::Relaxed);
        drop(self.zip.take());
        let _ = std::fs::remove_file(&self.partial_path);
    }
}

fn zip_write(path: &Path, e: zip::result::ZipError) -> ArchiveError {
    match e {
        zip::result::ZipError::Io(source) => ArchiveError::Io {
            action: "write",
            path: path.to_path_buf(),
            source,
        },
        other => ArchiveError::BadEntry {
            path: path.to_path_buf(),
            entry: String::new(),
            reason: other.to_string(),
        },
    }
}

/// Which kind of archive was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveKind {
    /// Our format: `report.html` + `manifest.json`.
    Snapdesk,
    /// A ZIP with some other HTML report inside.
    Html,
    /// Apache Iggy's `iggy snapshot` ZIP: text sections.
    IggySnapshot,
}

/// A text file shown as a section (Iggy's own snapshot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TextSection {
    pub name: String,
    pub title: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EntryInfo {
    pub name: String,
    #[ts(type = "number")]
    pub size: u64,
    #[ts(type = "number")]
    pub compressed_size: u64,
}

/// An archive, read.
#[derive(Debug, Clone)]
pub struct OpenedArchive {
    pub path: PathBuf,
    pub kind: ArchiveKind,
    pub manifest: Option<Manifest>,
    /// The report's entry name, when it has an HTML report.
    pub html_entry: Option<String>,
    pub parsed: Option<ParsedReport>,
    pub sections: Vec<TextSection>,
    pub entries: Vec<EntryInfo>,
}

fn open_zip(path: &Path) -> Result<ZipArchive<BufReader<File>>, ArchiveError> {
    let file = File::open(path).map_err(io_err("open", path))?;
    ZipArchive::new(BufReader::new(file)).map_err(|e| ArchiveError::NotZip {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn read_limited<R: Read + Seek>(
    zip: &mut ZipArchive<R>,
    path: &Path,
    name: &str,
    limit: u64,
) -> Result<Vec<u8>, ArchiveError> {
    let bad = |reason: String| ArchiveError::BadEntry {
        path: path.to_path_buf(),
        entry: name.to_owned(),
        reason,
    };
    let entry = zip.by_name(name).map_err(|e| bad(e.to_string()))?;
    if entry.size() > limit {
        return Err(ArchiveError::TooLarge {
            path: path.to_path_buf(),
            entry: name.into(),
            limit,
        });
    }
    let mut buf = Vec::with_capacity(entry.size() as usize);
    // The declared size can lie: read one byte past the limit to notice.
    entry
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| bad(e.to_string()))?;
    if buf.len() as u64 > limit {
        return Err(ArchiveError::TooLarge {
            path: path.to_path_buf(),
            entry: name.into(),
            limit,
        });
    }
    Ok(buf)
}

/// A quick structural check of a downloaded file: a ZIP whose central directory reads and
/// that holds at least one entry (a truncated or non-ZIP body fails here).
pub fn check_zip(path: &Path) -> Result<(), ArchiveError> {
    let zip = open_zip(path)?;
    if zip.is_empty() {
        return Err(ArchiveError::NoReport {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

/// Reads one entry whole (bounded by `limit`).
pub fn read_entry(path: &Path, name: &str, limit: u64) -> Result<Vec<u8>, ArchiveError> {
    let mut zip = open_zip(path)?;
    read_limited(&mut zip, path, name, limit)
}

fn html_preference(name: &str) -> (u8, usize, String) {
    let base = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    let rank = match base.as_str() {
        "report.html" => 0,
        "index.html" => 1,
        _ => 2,
    };
    (rank, name.matches('/').count(), name.to_owned())
}

/// Opens any snapshot ZIP and reads what it says.
pub fn open(path: &Path) -> Result<OpenedArchive, ArchiveError> {
    let mut zip = open_zip(path)?;
    let mut entries = Vec::new();
    for i in 0..zip.len() {
        let e = zip.by_index_raw(i).map_err(|e| ArchiveError::NotZip {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        if !e.is_dir() {
            entries.push(EntryInfo {
                name: e
                    .name()
                    .map(|n| n.into_owned())
                    .unwrap_or_else(|_| String::from_utf8_lossy(e.name_raw()).into_owned()),
                size: e.size(),
                compressed_size: e.compressed_size(),
            });
        }
    }
    let has = |n: &str| entries.iter().any(|e| e.name == n);

    if has(REPORT_ENTRY) && has(MANIFEST_ENTRY) {
        let raw = read_limited(&mut zip, path, MANIFEST_ENTRY, MAX_MANIFEST)?;
        let manifest: Manifest =
            serde_json::from_slice(&raw).map_err(|e| ArchiveError::BadManifest {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        let html = read_limited(&mut zip, path, REPORT_ENTRY, MAX_TEXT_ENTRY)?;
        let parsed = parse::parse(&String::from_utf8_lossy(&html)).map_err(|source| {
            ArchiveError::BadReport {
                path: path.to_path_buf(),
                source,
            }
        })?;
        return Ok(OpenedArchive {
            path: path.to_path_buf(),
            kind: ArchiveKind::Snapdesk,
            manifest: Some(manifest),
            html_entry: Some(REPORT_ENTRY.to_owned()),
            parsed: Some(parsed),
            sections: Vec::new(),
            entries,
        });
    }

    let mut htmls: Vec<&EntryInfo> = entries
        .iter()
        .filter(|e| {
            let n = e.name.to_ascii_lowercase();
            (n.ends_with(".html") || n.ends_with(".htm")) && !n.contains("__macosx/")
        })
        .collect();
    htmls.sort_by_key(|e| html_preference(&e.name));
    if let Some(first) = htmls.first() {
        let name = first.name.clone();
        let html = read_limited(&mut zip, path, &name, MAX_TEXT_ENTRY)?;
        let parsed = parse::parse(&String::from_utf8_lossy(&html)).map_err(|source| {
            ArchiveError::BadReport {
                path: path.to_path_buf(),
                source,
            }
        })?;
        return Ok(OpenedArchive {
            path: path.to_path_buf(),
            kind: ArchiveKind::Html,
            manifest: None,
            html_entry: Some(name),
            parsed: Some(parsed),
            sections: Vec::new(),
            entries,
        });
    }

    let is_iggy = IGGY_SECTIONS
        .iter()
        .any(|(n, _)| entries.iter().any(|e| base(&e.name) == *n));
    if is_iggy {
        let mut names: Vec<String> = entries
            .iter()
            .filter(|e| e.name.to_ascii_lowercase().ends_with(".txt"))
            .map(|e| e.name.clone())
            .collect();
        // Known sections in Iggy's order first, then any others by name.
        names.sort_by_key(|n| {
            (
                IGGY_SECTIONS
                    .iter()
                    .position(|(s, _)| *s == base(n))
                    .unwrap_or(usize::MAX),
                n.clone(),
            )
        });
        let mut sections = Vec::new();
        for name in names {
            let raw = read_limited(&mut zip, path, &name, MAX_TEXT_ENTRY)?;
            let title = IGGY_SECTIONS
                .iter()
                .find(|(s, _)| *s == base(&name))
                .map(|(_, t)| (*t).to_owned())
                .unwrap_or_else(|| base(&name).trim_end_matches(".txt").replace('_', " "));
            sections.push(TextSection {
                name: name.clone(),
                title,
                text: String::from_utf8_lossy(&raw).into_owned(),
            });
        }
        return Ok(OpenedArchive {
            path: path.to_path_buf(),
            kind: ArchiveKind::IggySnapshot,
            manifest: None,
            html_entry: None,
            parsed: None,
            sections,
            entries,
        });
    }
    Err(ArchiveError::NoReport {
        path: path.to_path_buf(),
    })
}

fn base(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// Recomputes every entry's sha256 and size; returns the names that do not match the manifest.
pub fn verify(path: &Path, manifest: &Manifest) -> Result<Vec<String>, ArchiveError> {
    let mut zip = open_zip(path)?;
    let mut bad = Vec::new();
    for entry in &manifest.entries {
        let mut f = match zip.by_name(&entry.name) {
            Ok(f) => f,
            Err(_) => {
                bad.push(entry.name.clone());
                continue;
            }
        };
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut size = 0u64;
        loop {
            let n = f.read(&mut buf).map_err(io_err("read", path))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            size += n as u64;
        }
        if size != entry.size || hex::encode(h.finalize()) != entry.sha256 {
            bad.push(entry.name.clone());
        }
    }
    Ok(bad)
}

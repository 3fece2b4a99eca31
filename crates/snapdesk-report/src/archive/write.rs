//! Writing a snapshot archive: atomic (`.partial` + rename), every entry hashed into the
//! manifest, and quiet on a full disk.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use chrono::Utc;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::{io_err, ArchiveError, Manifest, ManifestEntry, MANIFEST_ENTRY};

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

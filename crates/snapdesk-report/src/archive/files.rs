//! The files of an archive, listed and read in place, including those of a nested
//! `iggy-data.zip`: what a "files" view shows (a tree with sizes, a text, JSON or hex view,
//! an export), with nothing extracted to disk.
//!
//! Paths are display paths: a name with control characters or bytes that are not UTF-8 is
//! shown escaped ([`super::escape_name`]); a nested file is `iggy-data.zip/<its name>`. A
//! display path names one file only: names holding a backslash are refused, so an escaped
//! name (which holds one) cannot equal a plain one, and an archive where an outer name and
//! a nested path would read the same is refused.
//!
//! The reading budgets of [`Limits`] apply: entries (outer, and nested up to
//! `max_nested_entries`), duplicate names, names that leave the archive, the ratio past
//! `ratio_floor` (nested files too), bytes kept (`max_kept_bytes`), a compressed nested
//! archive inflated in memory only up to `max_nested_in_memory`, and the caller's
//! [`Cancel`]. A file read to its end must hold its declared size and match its CRC-32.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Serialize};
use snapdesk_core::Cancel;
use ts_rs::TS;
use zip::{CompressionMethod, ZipArchive};

use super::read::{open_zip, Limits};
use super::scan::{escape_name, name_is_enclosed};
use super::{io_err, ArchiveError, IGGY_DATA_ENTRY};

/// What a file looks like, from its name (nothing is read to list it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Text,
    Json,
    Html,
    Zip,
    Binary,
}

/// One file of an archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ArchiveFile {
    /// The display path: control characters and bytes that are not UTF-8 escaped; a nested
    /// file as `iggy-data.zip/<name>`. [`read_file`] takes it back.
    pub path: String,
    /// Declared (inflated) size.
    #[ts(type = "number")]
    pub size: u64,
    #[ts(type = "number")]
    pub compressed: u64,
    /// Inside the nested `iggy-data.zip`.
    pub nested: bool,
    pub kind: FileKind,
}

/// The bytes of one file: at most the `max_bytes` asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct FileBytes {
    pub bytes: Vec<u8>,
    /// The file's declared size (the whole, when `truncated`).
    #[ts(type = "number")]
    pub total: u64,
    /// Only the first `bytes.len()` bytes are here.
    pub truncated: bool,
}

/// The kind of a file by its name. Iggy's segment files end in `.log` but hold messages,
/// not text.
pub fn kind_of(name: &str) -> FileKind {
    let lower = name.to_ascii_lowercase();
    let base = lower.rsplit('/').next().unwrap_or(&lower);
    let ext = base.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let segment = lower.starts_with("streams/") || lower.contains("/streams/");
    match ext {
        "json" => FileKind::Json,
        "html" | "htm" => FileKind::Html,
        "zip" => FileKind::Zip,
        "log" if segment => FileKind::Binary,
        "txt" | "log" | "toml" | "yaml" | "yml" | "md" | "csv" | "conf" | "cfg" | "ini" | "xml"
        | "pem" | "crt" | "env" | "properties" | "service" | "sh" => FileKind::Text,
        _ => FileKind::Binary,
    }
}

/// A name as shown: as it is when it is UTF-8 without control characters, else escaped.
fn display(raw: &[u8]) -> String {
    match std::str::from_utf8(raw) {
        Ok(n) if !n.chars().any(char::is_control) => n.to_owned(),
        _ => escape_name(raw),
    }
}

fn is_nested_archive(name: &str) -> bool {
    name == IGGY_DATA_ENTRY || name.ends_with(&format!("/{IGGY_DATA_ENTRY}"))
}

/// A byte range of a file seen as a whole file, buffered (a central directory of 100,000
/// entries is read in small pieces).
struct Window {
    /// Positioned at the window's start plus `pos`.
    inner: BufReader<File>,
    len: u64,
    pos: u64,
}

impl Read for Window {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        if left == 0 {
            return Ok(0);
        }
        let want = (buf.len() as u64).min(left) as usize;
        let n = self.inner.read(&mut buf[..want])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Window {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        // Relative seeks keep the buffer when the target is inside it.
        let delta = target as i64 - self.pos as i64;
        self.inner.seek_relative(delta)?;
        self.pos = target;
        Ok(target)
    }
}

/// The nested archive's bytes: in place in the outer file (stored), or inflated in memory.
enum Nested {
    File(Window),
    Memory(Cursor<Vec<u8>>),
}

impl Read for Nested {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Nested::File(w) => w.read(buf),
            Nested::Memory(c) => c.read(buf),
        }
    }
}

impl Seek for Nested {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            Nested::File(w) => w.seek(pos),
            Nested::Memory(c) => c.seek(pos),
        }
    }
}

type Outer = ZipArchive<BufReader<File>>;

fn refused(path: &Path, reason: String) -> ArchiveError {
    ArchiveError::Refused {
        path: path.to_path_buf(),
        reason,
    }
}

fn stopped(path: &Path) -> impl Fn(snapdesk_core::Stop) -> ArchiveError + '_ {
    move |stop| ArchiveError::Stopped {
        path: path.to_path_buf(),
        stop,
    }
}

/// The outer archive, within the entry budget and without duplicate names.
fn outer(path: &Path, limits: &Limits) -> Result<Outer, ArchiveError> {
    let zip = open_zip(path)?;
    if zip.len() > limits.max_entries {
        return Err(refused(
            path,
            format!(
                "it has {} entries, more than the {} allowed",
                zip.len(),
                limits.max_entries
            ),
        ));
    }
    if zip.has_duplicate_names() {
        return Err(refused(
            path,
            "two entries share one name, so readers could disagree on its content".into(),
        ));
    }
    Ok(zip)
}

/// Opens the nested archive at outer entry `index` (named `shown`).
fn open_nested(
    path: &Path,
    zip: &mut Outer,
    index: usize,
    shown: &str,
    limits: &Limits,
    cancel: &Cancel,
) -> Result<ZipArchive<Nested>, ArchiveError> {
    let (method, start, size, compressed) = {
        let e = zip.by_index_raw(index).map_err(|e| ArchiveError::NotZip {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        (
            e.compression(),
            e.data_start(),
            e.size(),
            e.compressed_size(),
        )
    };
    let backing = match method {
        CompressionMethod::Stored => {
            let start = start.ok_or_else(|| ArchiveError::BadEntry {
                path: path.to_path_buf(),
                entry: shown.to_owned(),
                reason: "no data offset".into(),
            })?;
            let mut inner = BufReader::with_capacity(
                64 * 1024,
                File::open(path).map_err(io_err("open", path))?,
            );
            inner
                .seek(SeekFrom::Start(start))
                .map_err(io_err("read", path))?;
            Nested::File(Window {
                inner,
                len: size,
                pos: 0,
            })
        }
        _ => {
            if size > limits.max_nested_in_memory {
                return Err(refused(
                    path,
                    format!(
                        "{shown} is compressed and {size} bytes: more than the {} MiB read into \
                         memory (a stored one is read in place at any size)",
                        limits.max_nested_in_memory / (1024 * 1024)
                    ),
                ));
            }
            let mut bytes = Vec::with_capacity(size as usize);
            read_entry_into(
                path,
                zip,
                index,
                shown,
                compressed,
                size,
                u64::MAX,
                limits,
                cancel,
                &mut bytes,
            )?;
            Nested::Memory(Cursor::new(bytes))
        }
    };
    let nested = ZipArchive::new(backing).map_err(|e| ArchiveError::NotZip {
        path: path.to_path_buf(),
        reason: format!("{shown}: {e}"),
    })?;
    if nested.len() > limits.max_nested_entries {
        return Err(refused(
            path,
            format!(
                "{shown} has {} entries, more than the {} allowed",
                nested.len(),
                limits.max_nested_entries
            ),
        ));
    }
    if nested.has_duplicate_names() {
        return Err(refused(
            path,
            format!("two entries of {shown} share one name, so readers could disagree"),
        ));
    }
    Ok(nested)
}

/// Every file of the archive at `path`, outer entries first in the archive's order, then
/// the files of each nested `iggy-data.zip` (directories are left out). Nothing is inflated:
/// sizes are the declared ones.
pub fn list_files(
    path: &Path,
    limits: &Limits,
    cancel: &Cancel,
) -> Result<Vec<ArchiveFile>, ArchiveError> {
    let mut zip = outer(path, limits)?;
    let mut files = Vec::with_capacity(zip.len());
    let mut nested_at = Vec::new();
    for i in 0..zip.len() {
        let e = zip.by_index_raw(i).map_err(|e| ArchiveError::NotZip {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let shown = display(e.name_raw());
        if !name_is_enclosed(e.name_raw()) {
            return Err(ArchiveError::UnsafeName {
                path: path.to_path_buf(),
                entry: escape_name(e.name_raw()),
            });
        }
        if e.is_dir() {
            continue;
        }
        if is_nested_archive(&shown) {
            nested_at.push((i, shown.clone()));
        }
        files.push(ArchiveFile {
            kind: kind_of(&shown),
            path: shown,
            size: e.size(),
            compressed: e.compressed_size(),
            nested: false,
        });
    }
    for (index, outer_name) in nested_at {
        cancel.check().map_err(stopped(path))?;
        let mut nested = match open_nested(path, &mut zip, index, &outer_name, limits, cancel) {
            Ok(n) => n,
            // Bytes named like a data bundle that are no ZIP (the emulator pads with noise):
            // listed as the one file they are.
            Err(ArchiveError::NotZip { .. }) => continue,
            Err(e) => return Err(e),
        };
        files.reserve(nested.len());
        for i in 0..nested.len() {
            if i % 4096 == 0 {
                cancel.check().map_err(stopped(path))?;
            }
            let e = nested.by_index_raw(i).map_err(|e| ArchiveError::NotZip {
                path: path.to_path_buf(),
                reason: format!("{outer_name}: {e}"),
            })?;
            if !name_is_enclosed(e.name_raw()) {
                return Err(ArchiveError::UnsafeName {
                    path: path.to_path_buf(),
                    entry: format!("{outer_name}/{}", escape_name(e.name_raw())),
                });
            }
            if e.is_dir() {
                continue;
            }
            let inner = display(e.name_raw());
            files.push(ArchiveFile {
                kind: kind_of(&inner),
                path: format!("{outer_name}/{inner}"),
                size: e.size(),
                compressed: e.compressed_size(),
                nested: true,
            });
        }
    }
    let mut seen = HashSet::with_capacity(files.len());
    for f in &files {
        if !seen.insert(f.path.as_str()) {
            return Err(refused(
                path,
                format!(
                    "two files read as {:?} (one of them inside a nested archive)",
                    f.path
                ),
            ));
        }
    }
    Ok(files)
}

/// The index of the entry whose display name is `shown`.
fn find<R: Read + Seek>(zip: &mut ZipArchive<R>, shown: &str) -> Option<usize> {
    // A name without a backslash is shown as it is: its bytes are the raw name.
    // (A raw name with control characters is shown escaped: asked for raw, it is no match.)
    if !shown.contains('\\') {
        let i = zip.index_for_name_raw(shown.as_bytes())?;
        let same = zip
            .by_index_raw(i)
            .is_ok_and(|e| display(e.name_raw()) == shown);
        return same.then_some(i);
    }
    (0..zip.len()).find(|i| {
        zip.by_index_raw(*i)
            .is_ok_and(|e| display(e.name_raw()) == shown)
    })
}

/// Reads at most `max_bytes` of entry `index` into `out` (also held to the ratio and, when
/// read to its end, to its declared size and CRC-32). Returns whether the end was reached.
#[allow(clippy::too_many_arguments)]
fn read_entry_into<R: Read + Seek>(
    path: &Path,
    zip: &mut ZipArchive<R>,
    index: usize,
    shown: &str,
    compressed: u64,
    declared: u64,
    max_bytes: u64,
    limits: &Limits,
    cancel: &Cancel,
    out: &mut Vec<u8>,
) -> Result<bool, ArchiveError> {
    let bad = |reason: String| ArchiveError::BadEntry {
        path: path.to_path_buf(),
        entry: shown.to_owned(),
        reason,
    };
    let mut entry = zip.by_index(index).map_err(|e| {
        let reason = e.to_string();
        if reason.contains("assword") {
            bad("it is encrypted".into())
        } else {
            bad(reason)
        }
    })?;
    if entry.is_symlink() {
        return Err(bad("it is a symbolic link".into()));
    }
    let allowed = compressed
        .max(1)
        .saturating_mul(limits.max_ratio)
        .max(limits.ratio_floor);
    let mut buf = vec![0u8; 64 * 1024];
    let mut n_out = 0u64;
    loop {
        cancel.check().map_err(stopped(path))?;
        let room = max_bytes.saturating_sub(out.len() as u64);
        // One byte past what is wanted tells a cut from an end.
        let want = (buf.len() as u64).min(room.saturating_add(1)) as usize;
        let n = match entry.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.to_string().contains("Invalid checksum") => {
                return Err(ArchiveError::Crc {
                    path: path.to_path_buf(),
                    entry: shown.to_owned(),
                })
            }
            Err(e) => return Err(bad(e.to_string())),
        };
        n_out += n as u64;
        if n_out > allowed {
            return Err(ArchiveError::Bomb {
                path: path.to_path_buf(),
                entry: shown.to_owned(),
                ratio: limits.max_ratio,
            });
        }
        if n_out > declared {
            return Err(ArchiveError::SizeLie {
                path: path.to_path_buf(),
                entry: shown.to_owned(),
                declared,
            });
        }
        if n as u64 > room {
            out.extend_from_slice(&buf[..room as usize]);
            return Ok(false);
        }
        out.extend_from_slice(&buf[..n]);
    }
    if n_out != declared {
        return Err(ArchiveError::SizeLie {
            path: path.to_path_buf(),
            entry: shown.to_owned(),
            declared,
        });
    }
    Ok(true)
}

/// Reads the file `file` (a display path from [`list_files`]) of the archive at `path`: at
/// most `max_bytes` (and at most `limits.max_kept_bytes`) from its start.
pub fn read_file(
    path: &Path,
    file: &str,
    max_bytes: u64,
    limits: &Limits,
    cancel: &Cancel,
) -> Result<FileBytes, ArchiveError> {
    let max_bytes = max_bytes.min(limits.max_kept_bytes);
    let not_found = || ArchiveError::BadEntry {
        path: path.to_path_buf(),
        entry: file.to_owned(),
        reason: "no such file in the archive".into(),
    };
    let mut zip = outer(path, limits)?;
    if let Some(i) = find(&mut zip, file) {
        let (compressed, declared, dir) = {
            let e = zip.by_index_raw(i).map_err(|e| ArchiveError::NotZip {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
            if !name_is_enclosed(e.name_raw()) {
                return Err(ArchiveError::UnsafeName {
                    path: path.to_path_buf(),
                    entry: escape_name(e.name_raw()),
                });
            }
            (e.compressed_size(), e.size(), e.is_dir())
        };
        if dir {
            return Err(not_found());
        }
        let mut bytes = Vec::with_capacity(declared.min(max_bytes) as usize);
        let whole = read_entry_into(
            path, &mut zip, i, file, compressed, declared, max_bytes, limits, cancel, &mut bytes,
        )?;
        return Ok(FileBytes {
            bytes,
            total: declared,
            truncated: !whole,
        });
    }
    // A nested file: `<nested archive>/<its name>`.
    let nested_names: Vec<(usize, String)> = (0..zip.len())
        .filter_map(|i| {
            let e = zip.by_index_raw(i).ok()?;
            let shown = display(e.name_raw());
            is_nested_archive(&shown).then_some((i, shown))
        })
        .collect();
    for (index, outer_name) in nested_names {
        let Some(inner) = file
            .strip_prefix(outer_name.as_str())
            .and_then(|r| r.strip_prefix('/'))
        else {
            continue;
        };
        let mut nested = open_nested(path, &mut zip, index, &outer_name, limits, cancel)?;
        let Some(i) = find(&mut nested, inner) else {
            continue;
        };
        let (compressed, declared, dir) = {
            let e = nested.by_index_raw(i).map_err(|e| ArchiveError::NotZip {
                path: path.to_path_buf(),
                reason: format!("{outer_name}: {e}"),
            })?;
            if !name_is_enclosed(e.name_raw()) {
                return Err(ArchiveError::UnsafeName {
                    path: path.to_path_buf(),
                    entry: file.to_owned(),
                });
            }
            (e.compressed_size(), e.size(), e.is_dir())
        };
        if dir {
            return Err(not_found());
        }
        let mut bytes = Vec::with_capacity(declared.min(max_bytes) as usize);
        let whole = read_entry_into(
            path,
            &mut nested,
            i,
            file,
            compressed,
            declared,
            max_bytes,
            limits,
            cancel,
            &mut bytes,
        )?;
        return Ok(FileBytes {
            bytes,
            total: declared,
            truncated: !whole,
        });
    }
    Err(not_found())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;

    use super::*;

    fn zip_bytes(entries: &[(&[u8], &[u8], CompressionMethod)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data, method) in entries {
            let o = SimpleFileOptions::default().compression_method(*method);
            // Raw names (control characters, bytes that are not UTF-8) as they are.
            let name = unsafe_name(name);
            w.start_file(name, o).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// The zip writer takes `&str`; bytes that are not UTF-8 are patched in afterwards.
    fn unsafe_name(raw: &[u8]) -> String {
        String::from_utf8_lossy(raw).into_owned()
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn snapshot(dir: &Path, nested: CompressionMethod) -> std::path::PathBuf {
        use CompressionMethod::{Deflated, Stored};
        let inner = zip_bytes(&[
            (b"metadata/journal.wal", b"\x00\x01wal", Stored),
            (
                b"streams/1/topics/1/partitions/1/00000000000000000000.log",
                &[7u8; 5000],
                Deflated,
            ),
            (
                b"runtime/current_config.toml",
                b"[system]\npath = \"local_data\"\n",
                Deflated,
            ),
        ]);
        let outer = zip_bytes(&[
            (b"report.html", b"<html><body>r</body></html>", Deflated),
            (b"manifest.json", b"{}", Deflated),
            (b"notes/a\x1b[31m.txt", b"red", Stored),
            (b"iggy-data.zip", &inner, nested),
        ]);
        write(dir, &format!("snap-{nested:?}.zip"), &outer)
    }

    #[test]
    fn files_are_listed_with_nested_ones_and_read_back_by_their_display_path() {
        let tmp = tempfile::tempdir().unwrap();
        let (limits, cancel) = (Limits::default(), Cancel::new());
        for method in [CompressionMethod::Stored, CompressionMethod::Deflated] {
            let p = snapshot(tmp.path(), method);
            let files = list_files(&p, &limits, &cancel).unwrap();
            let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
            assert_eq!(
                paths,
                [
                    "report.html",
                    "manifest.json",
                    "notes/a\\u{1b}[31m.txt",
                    "iggy-data.zip",
                    "iggy-data.zip/metadata/journal.wal",
                    "iggy-data.zip/streams/1/topics/1/partitions/1/00000000000000000000.log",
                    "iggy-data.zip/runtime/current_config.toml",
                ]
            );
            let kinds: Vec<FileKind> = files.iter().map(|f| f.kind).collect();
            use FileKind::*;
            assert_eq!(kinds, [Html, Json, Text, Zip, Binary, Binary, Text]);
            assert_eq!(files.iter().filter(|f| f.nested).count(), 3);
            assert_eq!(files[5].size, 5000);
            assert!(files[5].compressed < 5000);
            // Every listed path reads back, whole, with its declared size.
            for f in &files {
                let got = read_file(&p, &f.path, u64::MAX, &limits, &cancel).unwrap();
                assert_eq!(got.total, f.size, "{}", f.path);
                assert_eq!(got.bytes.len() as u64, f.size, "{}", f.path);
                assert!(!got.truncated);
            }
            let red = read_file(&p, "notes/a\\u{1b}[31m.txt", 100, &limits, &cancel).unwrap();
            assert_eq!(red.bytes, b"red");
            let cfg = read_file(
                &p,
                "iggy-data.zip/runtime/current_config.toml",
                8,
                &limits,
                &cancel,
            )
            .unwrap();
            assert_eq!(
                (cfg.bytes.as_slice(), cfg.total, cfg.truncated),
                (&b"[system]"[..], 29, true)
            );
            for missing in [
                "nope",
                "iggy-data.zip/nope",
                "notes/a\u{1b}[31m.txt",
                "notes",
            ] {
                let err = read_file(&p, missing, 10, &limits, &cancel).unwrap_err();
                assert!(err.to_string().contains("no such file"), "{missing}: {err}");
            }
        }
    }

    #[test]
    fn names_that_are_not_utf8_round_trip_escaped() {
        let tmp = tempfile::tempdir().unwrap();
        let mut bytes = zip_bytes(&[
            (b"index.html", b"<p>x", CompressionMethod::Stored),
            (b"caf#.txt", b"latin-1", CompressionMethod::Stored),
        ]);
        // Make the name's '#' a byte that is not UTF-8, in both headers.
        let mut i = 0;
        while i + 8 <= bytes.len() {
            if &bytes[i..i + 8] == b"caf#.txt" {
                bytes[i + 3] = 0xe9;
            }
            i += 1;
        }
        let p = write(tmp.path(), "latin.zip", &bytes);
        let files = list_files(&p, &Limits::default(), &Cancel::new()).unwrap();
        assert_eq!(files[1].path, "caf\\xe9.txt");
        let got = read_file(&p, "caf\\xe9.txt", 100, &Limits::default(), &Cancel::new()).unwrap();
        assert_eq!(got.bytes, b"latin-1");
    }

    #[test]
    fn nested_bombs_traversals_collisions_and_crowds_are_refused() {
        use CompressionMethod::{Deflated, Stored};
        let tmp = tempfile::tempdir().unwrap();
        let (limits, cancel) = (Limits::default(), Cancel::new());
        // A nested file of 24 MiB of zeros: listed, refused when read past the ratio.
        let inner = zip_bytes(&[(b"state/log", &vec![0u8; 24 << 20], Deflated)]);
        let p = write(
            tmp.path(),
            "bomb.zip",
            &zip_bytes(&[
                (b"index.html", b"<p>", Stored),
                (b"iggy-data.zip", &inner, Stored),
            ]),
        );
        assert_eq!(list_files(&p, &limits, &cancel).unwrap().len(), 3);
        let err = read_file(&p, "iggy-data.zip/state/log", u64::MAX, &limits, &cancel).unwrap_err();
        assert!(matches!(err, ArchiveError::Bomb { .. }), "{err}");
        // A name that leaves the nested archive.
        let inner = zip_bytes(&[(b"../../evil", b"x", Stored)]);
        let p = write(
            tmp.path(),
            "trav.zip",
            &zip_bytes(&[
                (b"index.html", b"<p>", Stored),
                (b"iggy-data.zip", &inner, Stored),
            ]),
        );
        let err = list_files(&p, &limits, &cancel).unwrap_err();
        assert!(matches!(err, ArchiveError::UnsafeName { .. }), "{err}");
        // An outer name that reads as a nested path.
        let inner = zip_bytes(&[(b"x", b"inner", Stored)]);
        let p = write(
            tmp.path(),
            "clash.zip",
            &zip_bytes(&[
                (b"iggy-data.zip/x", b"outer", Stored),
                (b"iggy-data.zip", &inner, Stored),
            ]),
        );
        let err = list_files(&p, &limits, &cancel).unwrap_err();
        assert!(err.to_string().contains("two files read as"), "{err}");
        // More nested entries than allowed.
        let names: Vec<String> = (0..50).map(|i| format!("state/{i}")).collect();
        let entries: Vec<(&[u8], &[u8], CompressionMethod)> = names
            .iter()
            .map(|n| (n.as_bytes(), &b""[..], Stored))
            .collect();
        let inner = zip_bytes(&entries);
        let p = write(
            tmp.path(),
            "crowd.zip",
            &zip_bytes(&[(b"iggy-data.zip", &inner, Stored)]),
        );
        let small = Limits {
            max_nested_entries: 49,
            ..Limits::default()
        };
        let err = list_files(&p, &small, &cancel).unwrap_err();
        assert!(err.to_string().contains("50 entries"), "{err}");
        // A compressed nested archive larger than the memory budget.
        let p = write(
            tmp.path(),
            "big.zip",
            &zip_bytes(&[(
                b"iggy-data.zip",
                &zip_bytes(&[(b"state/log", &[1u8; 5000], Stored)]),
                Deflated,
            )]),
        );
        let tight = Limits {
            max_nested_in_memory: 1000,
            ..Limits::default()
        };
        let err = list_files(&p, &tight, &cancel).unwrap_err();
        assert!(err.to_string().contains("read into memory"), "{err}");
    }

    #[test]
    fn a_damaged_file_is_refused_when_read_to_its_end() {
        let tmp = tempfile::tempdir().unwrap();
        let mut bytes = zip_bytes(&[(b"a.txt", b"hello crc world", CompressionMethod::Stored)]);
        let at = bytes.windows(5).position(|w| w == b"hello").unwrap();
        bytes[at] = b'H';
        let p = write(tmp.path(), "crc.zip", &bytes);
        let (limits, cancel) = (Limits::default(), Cancel::new());
        let err = read_file(&p, "a.txt", u64::MAX, &limits, &cancel).unwrap_err();
        assert!(matches!(err, ArchiveError::Crc { .. }), "{err}");
        // A cut read does not reach the CRC: the first bytes, said to be cut.
        let head = read_file(&p, "a.txt", 5, &limits, &cancel).unwrap();
        assert_eq!(
            (head.bytes.as_slice(), head.truncated),
            (&b"Hello"[..], true)
        );
        // The bytes kept are held to the open's budget whatever is asked.
        let kept = Limits {
            max_kept_bytes: 3,
            ..Limits::default()
        };
        assert_eq!(
            read_file(&p, "a.txt", 100, &kept, &cancel)
                .unwrap()
                .bytes
                .len(),
            3
        );
        let stop = Cancel::new();
        stop.cancel();
        assert!(matches!(
            list_files(
                &snapshot(tmp.path(), CompressionMethod::Stored),
                &limits,
                &stop
            ),
            Err(ArchiveError::Stopped { .. })
        ));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Damage anywhere in an archive with a nested one ends in a typed result: listing
        /// and reading every listed file never panic.
        #[test]
        fn damaged_nested_archives_never_panic_the_file_reader(
            flips in proptest::collection::vec((0usize..4096, 1u8..=255), 0..6),
            cut in proptest::option::of(0usize..4096),
        ) {
            let tmp = tempfile::tempdir().unwrap();
            let p = snapshot(tmp.path(), CompressionMethod::Stored);
            let mut bytes = std::fs::read(&p).unwrap();
            let len = bytes.len();
            for (at, x) in flips {
                bytes[at % len] ^= x;
            }
            if let Some(c) = cut {
                bytes.truncate(c % (len + 1));
            }
            std::fs::write(&p, &bytes).unwrap();
            let (limits, cancel) = (Limits::default(), Cancel::new());
            if let Ok(files) = list_files(&p, &limits, &cancel) {
                for f in files {
                    let _ = read_file(&p, &f.path, 1 << 20, &limits, &cancel);
                    proptest::prop_assert!(!f.path.chars().any(char::is_control));
                }
            }
        }
    }
}

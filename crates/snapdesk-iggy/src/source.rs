//! Where the data directory's bytes come from: a directory on disk, a bare `iggy-data.zip`,
//! or a snapshot ZIP that carries `iggy-data.zip` inside. Nothing is extracted to disk.
//!
//! Every file is opened as its own independent reader (a fresh file handle positioned on the
//! entry's bytes), so a segment's `.log` and `.index` are read side by side in one pass, in
//! constant memory, whatever the source.
//!
//! Archives are hostile until read (the budgets of `snapdesk-report`'s archive reader, sized
//! for data rather than reports):
//!
//! | budget | value | what it stops |
//! |---|---|---|
//! | entries | 200,000, names enclosed (no `..`, no absolute path), no duplicates | huge central directories; two entries of one name |
//! | output per entry | its declared size, exactly | an entry that inflates past what it claims |
//! | ratio | 200x past the first 1 MiB of an entry | ZIP bombs |
//! | nested `iggy-data.zip` | stored: read in place through the outer file; compressed: at most 256 MiB inflated in memory | a nested archive that cannot be seeked in place |

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zip::{CompressionMethod, ZipArchive};

use crate::error::InspectError;

pub const MAX_ENTRIES: usize = 200_000;
pub const MAX_RATIO: u64 = 200;
pub const RATIO_FLOOR: u64 = 1024 * 1024;
pub const MAX_NESTED_IN_MEMORY: u64 = 256 * 1024 * 1024;
/// The entry a Snapdesk snapshot stores the data directory under.
pub const NESTED_ENTRY: &str = "iggy-data.zip";

/// One file of the data directory.
#[derive(Debug, Clone, Copy)]
pub struct FileMeta {
    pub size: u64,
}

/// The bytes of a ZIP: a window of a file on disk (the whole file, or a stored entry of an
/// outer ZIP), or memory (a compressed nested ZIP, inflated under a budget).
#[derive(Debug, Clone)]
enum Backing {
    File { path: PathBuf, start: u64, len: u64 },
    Memory(Arc<[u8]>),
}

/// A seekable reader over a [`Backing`].
enum BackingReader {
    File(Window),
    Memory(Cursor<Arc<[u8]>>),
}

impl Read for BackingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            BackingReader::File(w) => w.read(buf),
            BackingReader::Memory(c) => c.read(buf),
        }
    }
}

impl Seek for BackingReader {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            BackingReader::File(w) => w.seek(pos),
            BackingReader::Memory(c) => c.seek(pos),
        }
    }
}

impl Backing {
    fn open(&self) -> io::Result<BackingReader> {
        match self {
            Backing::File { path, start, len } => {
                let mut file = File::open(path)?;
                file.seek(SeekFrom::Start(*start))?;
                Ok(BackingReader::File(Window {
                    file,
                    start: *start,
                    len: *len,
                    pos: 0,
                }))
            }
            Backing::Memory(bytes) => Ok(BackingReader::Memory(Cursor::new(bytes.clone()))),
        }
    }
}

/// A byte range of a file seen as a whole file.
struct Window {
    file: File,
    start: u64,
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
        let n = self.file.read(&mut buf[..want])?;
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
        };
        let target = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.file.seek(SeekFrom::Start(self.start + target))?;
        self.pos = target;
        Ok(target)
    }
}

/// Where one ZIP entry's bytes are.
#[derive(Debug, Clone, Copy)]
struct EntryLoc {
    data_start: u64,
    compressed: u64,
    size: u64,
    deflated: bool,
}

/// The files of a data directory and how to open each.
#[derive(Debug)]
pub struct Tree {
    /// Shown in the result: the directory, the ZIP, or `outer.zip!iggy-data.zip`.
    pub label: String,
    /// Relative path with `/` → size.
    pub files: BTreeMap<String, FileMeta>,
    /// Every directory, including those only implied by a file's path.
    pub dirs: BTreeSet<String>,
    /// Symlinks and special files left out of a directory walk.
    pub skipped: Vec<(String, &'static str)>,
    opener: Opener,
}

#[derive(Debug)]
enum Opener {
    Dir(PathBuf),
    Zip {
        backing: Backing,
        /// Prefix of the data directory inside the ZIP (`local_data/`), or empty.
        prefix: String,
        entries: BTreeMap<String, EntryLoc>,
    },
}

impl Tree {
    /// A reader of one file, independent of every other reader.
    pub fn open(&self, rel: &str) -> io::Result<Box<dyn Read + Send>> {
        match &self.opener {
            Opener::Dir(root) => Ok(Box::new(File::open(root.join(rel))?)),
            Opener::Zip {
                backing,
                prefix,
                entries,
            } => {
                let name = format!("{prefix}{rel}");
                let loc = entries
                    .get(&name)
                    .copied()
                    .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, name.clone()))?;
                let mut r = backing.open()?;
                r.seek(SeekFrom::Start(loc.data_start))?;
                let raw = r.take(loc.compressed);
                if loc.deflated {
                    Ok(Box::new(Budgeted::new(
                        flate2::read::DeflateDecoder::new(raw),
                        loc.size,
                        loc.compressed,
                    )))
                } else {
                    Ok(Box::new(raw))
                }
            }
        }
    }

    pub fn has_file(&self, rel: &str) -> bool {
        self.files.contains_key(rel)
    }

    pub fn has_dir(&self, rel: &str) -> bool {
        self.dirs.contains(rel)
    }
}

/// Inflated output held to the entry's declared size and to the ratio budget.
struct Budgeted<R> {
    inner: R,
    declared: u64,
    compressed: u64,
    out: u64,
}

impl<R: Read> Budgeted<R> {
    fn new(inner: R, declared: u64, compressed: u64) -> Self {
        Self {
            inner,
            declared,
            compressed,
            out: 0,
        }
    }
}

impl<R: Read> Read for Budgeted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        if self.out > self.declared {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the entry inflates past its declared size of {} bytes",
                    self.declared
                ),
            ));
        }
        if self.out > RATIO_FLOOR && self.out > self.compressed.saturating_mul(MAX_RATIO) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the entry expands more than {MAX_RATIO} times: a ZIP bomb"),
            ));
        }
        Ok(n)
    }
}

/// Opens what `path` names: a directory, or a ZIP (bare data ZIP or snapshot).
pub fn open(path: &Path) -> Result<Tree, InspectError> {
    let meta = std::fs::metadata(path).map_err(|source| InspectError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        return open_dir(path);
    }
    let backing = Backing::File {
        path: path.to_path_buf(),
        start: 0,
        len: meta.len(),
    };
    let label = path.display().to_string();
    let listing = list_zip(&backing, path, &label)?;
    // A snapshot that carries the data directory as a nested ZIP.
    let nested = listing
        .entries
        .keys()
        .filter(|n| *n == NESTED_ENTRY || n.ends_with(&format!("/{NESTED_ENTRY}")))
        .min_by_key(|n| n.len())
        .cloned();
    if let Some(name) = nested {
        let loc = listing.entries[&name];
        let inner_label = format!("{label}!{name}");
        let inner = if loc.deflated {
            if loc.size > MAX_NESTED_IN_MEMORY {
                return Err(InspectError::Refused {
                    path: path.to_path_buf(),
                    reason: format!(
                        "{name} is compressed and {} bytes: more than the {} MiB read into \
                         memory (a stored one is read in place at any size)",
                        loc.size,
                        MAX_NESTED_IN_MEMORY / (1024 * 1024)
                    ),
                });
            }
            let mut bytes = Vec::with_capacity(loc.size as usize);
            let mut r = backing.open().map_err(io_at(path))?;
            r.seek(SeekFrom::Start(loc.data_start))
                .map_err(io_at(path))?;
            Budgeted::new(
                flate2::read::DeflateDecoder::new(r.take(loc.compressed)),
                loc.size,
                loc.compressed,
            )
            .read_to_end(&mut bytes)
            .map_err(|e| InspectError::Refused {
                path: path.to_path_buf(),
                reason: format!("{name}: {e}"),
            })?;
            Backing::Memory(bytes.into())
        } else {
            Backing::File {
                path: path.to_path_buf(),
                start: loc.data_start,
                len: loc.size,
            }
        };
        let listing = list_zip(&inner, path, &inner_label)?;
        return listing.into_tree(inner, inner_label, path);
    }
    listing.into_tree(backing, label, path)
}

fn io_at(path: &Path) -> impl Fn(io::Error) -> InspectError + '_ {
    move |source| InspectError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    }
}

struct Listing {
    entries: BTreeMap<String, EntryLoc>,
    dirs: BTreeSet<String>,
}

fn list_zip(backing: &Backing, path: &Path, label: &str) -> Result<Listing, InspectError> {
    let reader = backing.open().map_err(io_at(path))?;
    let mut zip = ZipArchive::new(reader).map_err(|e| InspectError::NotZip {
        path: path.to_path_buf(),
        label: label.to_owned(),
        reason: e.to_string(),
    })?;
    if zip.len() > MAX_ENTRIES {
        return Err(InspectError::Refused {
            path: path.to_path_buf(),
            reason: format!("{label} has {} entries, over {MAX_ENTRIES}", zip.len()),
        });
    }
    let mut entries = BTreeMap::new();
    let mut dirs = BTreeSet::new();
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(|e| InspectError::NotZip {
            path: path.to_path_buf(),
            label: label.to_owned(),
            reason: e.to_string(),
        })?;
        let name = f
            .name()
            .map_err(|e| InspectError::NotZip {
                path: path.to_path_buf(),
                label: label.to_owned(),
                reason: e.to_string(),
            })?
            .into_owned();
        if f.enclosed_name().is_none() || name.contains('\\') {
            return Err(InspectError::Refused {
                path: path.to_path_buf(),
                reason: format!("{label} holds an entry named {name:?} outside the archive"),
            });
        }
        if f.is_dir() {
            dirs.insert(name.trim_end_matches('/').to_owned());
            continue;
        }
        let deflated = match f.compression() {
            CompressionMethod::Stored => false,
            CompressionMethod::Deflated => true,
            other => {
                return Err(InspectError::Refused {
                    path: path.to_path_buf(),
                    reason: format!(
                        "{label}: entry {name} uses {other}, only stored and deflated are read"
                    ),
                })
            }
        };
        if f.encrypted() {
            return Err(InspectError::Refused {
                path: path.to_path_buf(),
                reason: format!("{label}: entry {name} is encrypted"),
            });
        }
        let data_start = f.data_start().ok_or_else(|| InspectError::NotZip {
            path: path.to_path_buf(),
            label: label.to_owned(),
            reason: format!("no data offset for {name}"),
        })?;
        let loc = EntryLoc {
            data_start,
            compressed: f.compressed_size(),
            size: f.size(),
            deflated,
        };
        if entries.insert(name.clone(), loc).is_some() {
            return Err(InspectError::Refused {
                path: path.to_path_buf(),
                reason: format!("{label} holds two entries named {name}"),
            });
        }
    }
    Ok(Listing { entries, dirs })
}

/// The data directory's place inside a ZIP: the shortest prefix under which `state/`,
/// `metadata/` or `streams/` appear (our bundle has none; a zipped `local_data/` has one).
fn data_prefix(names: impl Iterator<Item = String>) -> Option<String> {
    let mut best: Option<String> = None;
    for name in names {
        for marker in ["state/", "metadata/", "streams/"] {
            let found = if name.starts_with(marker) {
                Some(0)
            } else {
                name.find(&format!("/{marker}")).map(|i| i + 1)
            };
            if let Some(i) = found {
                let p = name[..i].to_owned();
                if best.as_ref().is_none_or(|b| p.len() < b.len()) {
                    best = Some(p);
                }
            }
        }
    }
    best
}

impl Listing {
    fn into_tree(self, backing: Backing, label: String, path: &Path) -> Result<Tree, InspectError> {
        let names = self
            .entries
            .keys()
            .cloned()
            .chain(self.dirs.iter().map(|d| format!("{d}/")));
        let Some(prefix) = data_prefix(names) else {
            let iggy_snapshot = snapdesk_iggy_sections()
                .iter()
                .all(|s| self.entries.contains_key(*s));
            return Err(InspectError::NoData {
                path: path.to_path_buf(),
                label,
                iggy_snapshot,
            });
        };
        let mut files = BTreeMap::new();
        let mut dirs = BTreeSet::new();
        for (name, loc) in &self.entries {
            if let Some(rel) = name.strip_prefix(&prefix) {
                files.insert(rel.to_owned(), FileMeta { size: loc.size });
                add_parents(rel, &mut dirs);
            }
        }
        for d in &self.dirs {
            if let Some(rel) = format!("{d}/").strip_prefix(&prefix) {
                let rel = rel.trim_end_matches('/');
                if !rel.is_empty() {
                    dirs.insert(rel.to_owned());
                    add_parents(rel, &mut dirs);
                }
            }
        }
        Ok(Tree {
            label,
            files,
            dirs,
            skipped: Vec::new(),
            opener: Opener::Zip {
                backing,
                prefix,
                entries: self.entries,
            },
        })
    }
}

/// The text sections of Apache Iggy's own `iggy snapshot` ZIP (logs, config, process
/// lists: no data directory).
fn snapdesk_iggy_sections() -> [&'static str; 3] {
    ["server_logs.txt", "server_config.txt", "process_list.txt"]
}

fn add_parents(rel: &str, dirs: &mut BTreeSet<String>) {
    let mut cur = rel;
    while let Some(i) = cur.rfind('/') {
        cur = &cur[..i];
        if !dirs.insert(cur.to_owned()) {
            break;
        }
    }
}

/// Deeper than any Iggy layout; a guard against pathological trees.
const MAX_DEPTH: usize = 32;

fn open_dir(root: &Path) -> Result<Tree, InspectError> {
    // The tarballs of a data directory unpack into `local_data/`: accept its parent too.
    let has_marker = |p: &Path| {
        ["state", "metadata", "streams"]
            .iter()
            .any(|m| p.join(m).is_dir())
    };
    let root = if !has_marker(root) && has_marker(&root.join("local_data")) {
        root.join("local_data")
    } else {
        root.to_path_buf()
    };
    let mut files = BTreeMap::new();
    let mut dirs = BTreeSet::new();
    let mut skipped = Vec::new();
    let mut stack = vec![(root.clone(), String::new(), 0usize)];
    while let Some((dir, rel, depth)) = stack.pop() {
        let read = std::fs::read_dir(&dir).map_err(|source| InspectError::Io {
            action: "read",
            path: dir.clone(),
            source,
        })?;
        for entry in read {
            let entry = entry.map_err(|source| InspectError::Io {
                action: "read",
                path: dir.clone(),
                source,
            })?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                skipped.push((
                    format!("{rel}{}", entry.file_name().to_string_lossy()),
                    "file name is not valid UTF-8",
                ));
                continue;
            };
            let child = format!("{rel}{name}");
            let ft = entry.file_type().map_err(|source| InspectError::Io {
                action: "read",
                path: entry.path(),
                source,
            })?;
            if ft.is_dir() {
                dirs.insert(child.clone());
                if depth < MAX_DEPTH {
                    stack.push((entry.path(), format!("{child}/"), depth + 1));
                }
            } else if ft.is_file() {
                let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                files.insert(child, FileMeta { size });
            } else if ft.is_symlink() {
                skipped.push((child, "symlink, not followed"));
            } else {
                skipped.push((child, "not a regular file"));
            }
        }
    }
    Ok(Tree {
        label: root.display().to_string(),
        files,
        dirs,
        skipped,
        opener: Opener::Dir(root),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    fn zip_bytes(entries: &[(&str, &[u8], CompressionMethod)]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data, method) in entries {
            w.start_file(
                *name,
                SimpleFileOptions::default().compression_method(*method),
            )
            .unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn data_prefix_is_the_shortest_that_holds_a_marker() {
        let names = [
            "a/local_data/state/log",
            "a/local_data/streams/0/x",
            "b.txt",
        ];
        assert_eq!(
            data_prefix(names.iter().map(|s| s.to_string())),
            Some("a/local_data/".into())
        );
        assert_eq!(
            data_prefix(["state/log".to_string()].into_iter()),
            Some(String::new())
        );
        assert_eq!(data_prefix(["x/y".to_string()].into_iter()), None);
    }

    #[test]
    fn a_deflated_entry_that_inflates_past_its_size_is_cut() {
        // A bomb: 8 MiB of zeros declared as such, read under a ratio of 200x.
        let zeros = vec![0u8; 8 * 1024 * 1024];
        let bytes = zip_bytes(&[("state/log", &zeros, CompressionMethod::Deflated)]);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bomb.zip");
        std::fs::write(&p, bytes).unwrap();
        let tree = open(&p).unwrap();
        let mut out = Vec::new();
        let err = tree
            .open("state/log")
            .unwrap()
            .read_to_end(&mut out)
            .unwrap_err();
        assert!(err.to_string().contains("ZIP bomb"), "{err}");
    }

    #[test]
    fn an_entry_outside_the_archive_is_refused() {
        let bytes = zip_bytes(&[("../state/log", b"x", CompressionMethod::Stored)]);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("evil.zip");
        std::fs::write(&p, bytes).unwrap();
        let err = open(&p).unwrap_err();
        assert!(matches!(err, InspectError::Refused { .. }), "{err}");
    }

    #[test]
    fn nested_stored_and_deflated_zips_read_the_same_bytes() {
        let inner = zip_bytes(&[
            ("state/log", b"abc", CompressionMethod::Stored),
            ("streams/0/x", b"hello world", CompressionMethod::Deflated),
        ]);
        for method in [CompressionMethod::Stored, CompressionMethod::Deflated] {
            let outer = zip_bytes(&[
                ("report.html", b"<html></html>", CompressionMethod::Deflated),
                (NESTED_ENTRY, &inner, method),
            ]);
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("snap.zip");
            std::fs::write(&p, outer).unwrap();
            let tree = open(&p).unwrap();
            assert!(
                tree.label.ends_with("snap.zip!iggy-data.zip"),
                "{}",
                tree.label
            );
            let mut s = String::new();
            tree.open("streams/0/x")
                .unwrap()
                .read_to_string(&mut s)
                .unwrap();
            assert_eq!(s, "hello world");
            assert!(tree.has_dir("streams/0"));
            // Two readers at once, each on its own bytes.
            let mut a = tree.open("state/log").unwrap();
            let mut b = tree.open("streams/0/x").unwrap();
            let (mut x, mut y) = ([0u8; 3], [0u8; 5]);
            a.read_exact(&mut x).unwrap();
            b.read_exact(&mut y).unwrap();
            assert_eq!((&x, &y), (b"abc", b"hello"));
        }
    }
}

//! Reading an archive nobody vouched for. Support engineers open ZIPs from customers' hosts
//! all day, so every read is budgeted (a security review turned a 41 KB archive into 8 GB of
//! memory before these limits existed):
//!
//! | budget | default | what it stops |
//! |---|---|---|
//! | entries | 10,000, no duplicate names | huge central directories; two entries of one name, where a checker and a viewer could read different ones |
//! | report bytes | 32 MiB | a report too large to parse or render |
//! | ratio | 200x past the first 1 MiB of an entry | ZIP bombs (deflate reaches about 1,000x) |
//! | bytes kept | 64 MiB over the whole open | many medium entries adding up |
//! | sections | 24, 1 MiB shown each, 4 MiB in all | Iggy text sections (the bomb of finding 2), and WebKit laying out a page of many MiB (seconds of a frozen UI); a cut is shown, never silent |
//! | time | the caller's [`Cancel`] deadline, checked every 64 KiB | anything slow the other budgets let through |
//! | nested files | 200,000 in an `iggy-data.zip`; a compressed one inflated in memory up to 256 MiB | a data bundle's central directory bomb (see [`super::list_files`]) |
//!
//! Nothing is extracted to disk; entries are read in place. Our own archives are checked
//! against their manifest's sha256 values on open, and the result travels with the archive
//! ([`Integrity`]) so a viewer can say what holds and what the archive only claims.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use snapdesk_core::Cancel;
use ts_rs::TS;
use zip::ZipArchive;

use super::{io_err, ArchiveError, Manifest, IGGY_SECTIONS, MANIFEST_ENTRY, REPORT_ENTRY};
use crate::parse::{self, ParseLimits, ParsedReport};

/// Budgets for one open. See the module table for why each exists.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_entries: usize,
    pub max_report_bytes: u64,
    pub max_manifest_bytes: u64,
    /// Past `ratio_floor` bytes, an entry may expand at most this many times its compressed size.
    pub max_ratio: u64,
    pub ratio_floor: u64,
    /// Everything held in memory after an open (report, manifest, sections).
    pub max_kept_bytes: u64,
    pub max_sections: usize,
    pub max_section_bytes: u64,
    pub max_sections_bytes: u64,
    /// How far a log section is read to find its end (the newest lines are at the end).
    pub max_log_scan_bytes: u64,
    /// Files of a nested `iggy-data.zip` listed or read ([`super::list_files`]): a data
    /// directory holds many more files than a report archive.
    pub max_nested_entries: usize,
    /// A compressed nested archive is inflated in memory up to this (a stored one is read in
    /// place at any size).
    pub max_nested_in_memory: u64,
    pub parse: ParseLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_entries: 10_000,
            max_report_bytes: super::MAX_TEXT_ENTRY,
            max_manifest_bytes: 1024 * 1024,
            max_ratio: 200,
            ratio_floor: 1024 * 1024,
            max_kept_bytes: 64 * 1024 * 1024,
            max_sections: 24,
            max_section_bytes: 1024 * 1024,
            max_sections_bytes: 4 * 1024 * 1024,
            max_log_scan_bytes: 64 * 1024 * 1024,
            max_nested_entries: 200_000,
            max_nested_in_memory: 256 * 1024 * 1024,
            parse: ParseLimits::default(),
        }
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

/// How much of a text section is shown, when not all of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Truncation {
    #[ts(type = "number")]
    pub shown_bytes: u64,
    /// The entry's real size, when it was read to the end.
    #[ts(type = "number | null")]
    pub total_bytes: Option<u64>,
    /// True when the end is shown (logs: the newest lines), false for the beginning.
    pub from_end: bool,
}

/// A text file shown as a section (Iggy's own snapshot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TextSection {
    pub name: String,
    pub title: String,
    pub text: String,
    pub truncated: Option<Truncation>,
    /// Why the section is not shown at all (a bomb, or the budget ran out).
    pub left_out: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct EntryInfo {
    pub name: String,
    #[ts(type = "number")]
    pub size: u64,
    #[ts(type = "number")]
    pub compressed_size: u64,
}

/// Whether the archive's entries are what its manifest says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum IntegrityState {
    /// Every entry the manifest lists has its size and sha256, and nothing else is inside.
    Verified,
    /// Some entry differs from, is missing from or is not listed in the manifest.
    Mismatch,
    /// No manifest to check against (foreign and Iggy archives).
    Unverifiable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Integrity {
    pub state: IntegrityState,
    /// Listed entries whose bytes differ (or that could not be read to the end).
    pub mismatched: Vec<String>,
    /// Listed entries that are not in the ZIP.
    pub missing: Vec<String>,
    /// Entries in the ZIP that the manifest does not list.
    pub unlisted: Vec<String>,
}

impl Integrity {
    fn unverifiable() -> Self {
        Self {
            state: IntegrityState::Unverifiable,
            mismatched: Vec::new(),
            missing: Vec::new(),
            unlisted: Vec::new(),
        }
    }
}

/// An archive, read once: what a viewer shows comes from here, never from a second read of
/// the file (which could have changed since it was checked).
#[derive(Clone)]
pub struct OpenedArchive {
    pub path: PathBuf,
    pub kind: ArchiveKind,
    pub size_bytes: u64,
    pub manifest: Option<Manifest>,
    /// The report's entry name, when it has an HTML report.
    pub html_entry: Option<String>,
    /// The report's bytes as read and checked at open.
    pub html: Option<Arc<[u8]>>,
    pub parsed: Option<ParsedReport>,
    pub sections: Vec<TextSection>,
    /// Text entries beyond the section cap.
    pub sections_left_out: usize,
    pub entries: Vec<EntryInfo>,
    pub integrity: Integrity,
}

impl std::fmt::Debug for OpenedArchive {
    // The report's bytes (up to 32 MiB) are summarised, not dumped.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedArchive")
            .field("path", &self.path)
            .field("kind", &self.kind)
            .field("size_bytes", &self.size_bytes)
            .field("html_entry", &self.html_entry)
            .field("html_bytes", &self.html.as_ref().map(|h| h.len()))
            .field("checks", &self.parsed.as_ref().map(|p| p.checks.len()))
            .field("sections", &self.sections.len())
            .field("entries", &self.entries.len())
            .field("integrity", &self.integrity)
            .finish_non_exhaustive()
    }
}

/// Reads entries of one ZIP within the budgets.
struct Reader<'a> {
    path: &'a Path,
    zip: ZipArchive<BufReader<File>>,
    limits: &'a Limits,
    cancel: &'a Cancel,
    kept: u64,
}

/// What [`Reader::pump`] tells its sink after each chunk.
enum Flow {
    More,
    Enough,
}

impl<'a> Reader<'a> {
    fn new(path: &'a Path, limits: &'a Limits, cancel: &'a Cancel) -> Result<Self, ArchiveError> {
        let zip = open_zip(path)?;
        if zip.len() > limits.max_entries {
            return Err(ArchiveError::Refused {
                path: path.to_path_buf(),
                reason: format!(
                    "it has {} entries, more than the {} allowed",
                    zip.len(),
                    limits.max_entries
                ),
            });
        }
        if zip.has_duplicate_names() {
            return Err(ArchiveError::Refused {
                path: path.to_path_buf(),
                reason: "two entries share one name, so readers could disagree on its content"
                    .into(),
            });
        }
        Ok(Self {
            path,
            zip,
            limits,
            cancel,
            kept: 0,
        })
    }

    fn stopped(&self, stop: snapdesk_core::Stop) -> ArchiveError {
        ArchiveError::Stopped {
            path: self.path.to_path_buf(),
            stop,
        }
    }

    fn bad(&self, name: &str, reason: impl Into<String>) -> ArchiveError {
        ArchiveError::BadEntry {
            path: self.path.to_path_buf(),
            entry: name.to_owned(),
            reason: reason.into(),
        }
    }

    /// Every file entry (directories left out), in the archive's order.
    fn list(&mut self) -> Result<Vec<EntryInfo>, ArchiveError> {
        let mut entries = Vec::with_capacity(self.zip.len());
        for i in 0..self.zip.len() {
            let e = self.zip.by_index_raw(i).map_err(|e| ArchiveError::NotZip {
                path: self.path.to_path_buf(),
                reason: e.to_string(),
            })?;
            // A name that leaves the archive is refused, whoever extracts it later.
            if !super::scan::name_is_enclosed(e.name_raw()) {
                return Err(ArchiveError::UnsafeName {
                    path: self.path.to_path_buf(),
                    entry: super::scan::escape_name(e.name_raw()),
                });
            }
            if e.is_dir() {
                continue;
            }
            entries.push(EntryInfo {
                // Control characters and bytes that are not UTF-8 are shown escaped.
                name: match e.name() {
                    Ok(n) if !n.chars().any(char::is_control) => n.into_owned(),
                    _ => super::scan::escape_name(e.name_raw()),
                },
                size: e.size(),
                compressed_size: e.compressed_size(),
            });
        }
        Ok(entries)
    }

    /// Streams an entry through `sink` in 64 KiB chunks, enforcing the ratio and the deadline.
    /// Returns how many bytes came out.
    fn pump(
        &mut self,
        name: &str,
        mut sink: impl FnMut(&[u8]) -> Flow,
    ) -> Result<u64, ArchiveError> {
        let index = self
            .zip
            .index_for_name(name)
            .ok_or_else(|| self.bad(name, "no such entry"))?;
        let (limits, cancel, path) = (self.limits, self.cancel, self.path);
        let mut entry = match self.zip.by_index(index) {
            Ok(e) => e,
            Err(e) => {
                let reason = e.to_string();
                return Err(ArchiveError::BadEntry {
                    path: path.to_path_buf(),
                    entry: name.to_owned(),
                    reason: if reason.contains("assword") {
                        "it is encrypted".into()
                    } else {
                        reason
                    },
                });
            }
        };
        if entry.is_symlink() {
            return Err(ArchiveError::BadEntry {
                path: path.to_path_buf(),
                entry: name.to_owned(),
                reason: "it is a symbolic link".into(),
            });
        }
        let allowed = entry
            .compressed_size()
            .max(1)
            .saturating_mul(limits.max_ratio)
            .max(limits.ratio_floor);
        let mut buf = vec![0u8; 64 * 1024];
        let mut out = 0u64;
        loop {
            cancel.check().map_err(|stop| ArchiveError::Stopped {
                path: path.to_path_buf(),
                stop,
            })?;
            let n = match entry.read(&mut buf) {
                Ok(0) => return Ok(out),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(ArchiveError::BadEntry {
                        path: path.to_path_buf(),
                        entry: name.to_owned(),
                        reason: e.to_string(),
                    })
                }
            };
            out += n as u64;
            if out > allowed {
                return Err(ArchiveError::Bomb {
                    path: path.to_path_buf(),
                    entry: name.to_owned(),
                    ratio: limits.max_ratio,
                });
            }
            if let Flow::Enough = sink(&buf[..n]) {
                return Ok(out);
            }
        }
    }

    /// Counts bytes that stay in memory against the open's budget.
    fn keep(&mut self, bytes: u64) -> Result<(), ArchiveError> {
        self.kept += bytes;
        if self.kept > self.limits.max_kept_bytes {
            return Err(ArchiveError::OverBudget {
                path: self.path.to_path_buf(),
                limit: self.limits.max_kept_bytes,
            });
        }
        Ok(())
    }

    /// Reads an entry whole (at most `limit` bytes, more is an error) with its sha256.
    fn read_whole(&mut self, name: &str, limit: u64) -> Result<(Vec<u8>, String), ArchiveError> {
        let mut data = Vec::new();
        let mut hasher = Sha256::new();
        let mut over = false;
        self.pump(name, |chunk| {
            if data.len() as u64 + chunk.len() as u64 > limit {
                over = true;
                return Flow::Enough;
            }
            hasher.update(chunk);
            data.extend_from_slice(chunk);
            Flow::More
        })?;
        if over {
            return Err(ArchiveError::TooLarge {
                path: self.path.to_path_buf(),
                entry: name.to_owned(),
                limit,
            });
        }
        self.keep(data.len() as u64)?;
        Ok((data, hex::encode(hasher.finalize())))
    }

    /// The size and sha256 of an entry, streamed (nothing kept).
    fn hash(&mut self, name: &str) -> Result<(u64, String), ArchiveError> {
        let mut hasher = Sha256::new();
        let size = self.pump(name, |chunk| {
            hasher.update(chunk);
            Flow::More
        })?;
        Ok((size, hex::encode(hasher.finalize())))
    }

    /// At most `keep` bytes of a text entry: its beginning, or for logs its end (read through
    /// at most `max_log_scan_bytes`).
    fn read_part(
        &mut self,
        name: &str,
        keep: u64,
        from_end: bool,
    ) -> Result<(Vec<u8>, Option<Truncation>), ArchiveError> {
        let keep = keep as usize;
        let scan_limit = self.limits.max_log_scan_bytes;
        let mut data: Vec<u8> = Vec::new();
        let mut cut = false;
        let mut scanned = 0u64;
        let total = self.pump(name, |chunk| {
            scanned += chunk.len() as u64;
            if from_end {
                data.extend_from_slice(chunk);
                if data.len() > 2 * keep {
                    data.drain(..data.len() - keep);
                    cut = true;
                }
                if scanned >= scan_limit {
                    return Flow::Enough;
                }
                Flow::More
            } else {
                let room = keep.saturating_sub(data.len());
                data.extend_from_slice(&chunk[..room.min(chunk.len())]);
                if chunk.len() > room {
                    cut = true;
                    return Flow::Enough;
                }
                Flow::More
            }
        })?;
        if data.len() > keep {
            data.drain(..data.len() - keep);
            cut = true;
        }
        // A scan that stopped early, or a head that was cut, does not know the real size.
        let reached_end = (from_end || !cut) && scanned < scan_limit;
        let truncation = (cut || !reached_end).then(|| Truncation {
            shown_bytes: data.len() as u64,
            total_bytes: reached_end.then_some(total),
            from_end,
        });
        self.keep(data.len() as u64)?;
        Ok((data, truncation))
    }
}

pub(super) fn open_zip(path: &Path) -> Result<ZipArchive<BufReader<File>>, ArchiveError> {
    let file = File::open(path).map_err(io_err("open", path))?;
    ZipArchive::new(BufReader::new(file)).map_err(|e| ArchiveError::NotZip {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
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

/// Reads one entry whole, at most `limit` bytes (default budgets otherwise).
pub fn read_entry(path: &Path, name: &str, limit: u64) -> Result<Vec<u8>, ArchiveError> {
    let limits = Limits {
        max_kept_bytes: limit,
        ..Limits::default()
    };
    let cancel = Cancel::new();
    let mut reader = Reader::new(path, &limits, &cancel)?;
    Ok(reader.read_whole(name, limit)?.0)
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

fn base(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// Opens any snapshot ZIP with the default budgets and no deadline.
pub fn open(path: &Path) -> Result<OpenedArchive, ArchiveError> {
    open_with(path, &Limits::default(), &Cancel::new())
}

/// Opens any snapshot ZIP within `limits`, stopping when `cancel` says so.
pub fn open_with(
    path: &Path,
    limits: &Limits,
    cancel: &Cancel,
) -> Result<OpenedArchive, ArchiveError> {
    let size_bytes = std::fs::metadata(path).map_err(io_err("open", path))?.len();
    let mut reader = Reader::new(path, limits, cancel)?;
    let entries = reader.list()?;
    let has = |n: &str| entries.iter().any(|e| e.name == n);

    let parse_html = |reader: &Reader<'_>, html: &[u8]| {
        parse::parse_with(&String::from_utf8_lossy(html), &limits.parse, cancel).map_err(|source| {
            match source {
                parse::ParseError::Stopped(stop) => reader.stopped(stop),
                source => ArchiveError::BadReport {
                    path: path.to_path_buf(),
                    source,
                },
            }
        })
    };

    if has(REPORT_ENTRY) && has(MANIFEST_ENTRY) {
        let (raw, _) = reader.read_whole(MANIFEST_ENTRY, limits.max_manifest_bytes)?;
        let manifest: Manifest =
            serde_json::from_slice(&raw).map_err(|e| ArchiveError::BadManifest {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        let (html, html_sha) = reader.read_whole(REPORT_ENTRY, limits.max_report_bytes)?;
        let integrity = check_integrity(&mut reader, &manifest, &entries, &html, &html_sha)?;
        let parsed = parse_html(&reader, &html)?;
        return Ok(OpenedArchive {
            path: path.to_path_buf(),
            kind: ArchiveKind::Snapdesk,
            size_bytes,
            manifest: Some(manifest),
            html_entry: Some(REPORT_ENTRY.to_owned()),
            html: Some(html.into()),
            parsed: Some(parsed),
            sections: Vec::new(),
            sections_left_out: 0,
            entries,
            integrity,
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
        let (html, _) = reader.read_whole(&name, limits.max_report_bytes)?;
        let parsed = parse_html(&reader, &html)?;
        return Ok(OpenedArchive {
            path: path.to_path_buf(),
            kind: ArchiveKind::Html,
            size_bytes,
            manifest: None,
            html_entry: Some(name),
            html: Some(html.into()),
            parsed: Some(parsed),
            sections: Vec::new(),
            sections_left_out: 0,
            entries,
            integrity: Integrity::unverifiable(),
        });
    }

    let is_iggy = IGGY_SECTIONS
        .iter()
        .any(|(n, _)| entries.iter().any(|e| base(&e.name) == *n));
    if is_iggy {
        let (sections, sections_left_out) = read_sections(&mut reader, &entries)?;
        return Ok(OpenedArchive {
            path: path.to_path_buf(),
            kind: ArchiveKind::IggySnapshot,
            size_bytes,
            manifest: None,
            html_entry: None,
            html: None,
            parsed: None,
            sections,
            sections_left_out,
            entries,
            integrity: Integrity::unverifiable(),
        });
    }
    Err(ArchiveError::NoReport {
        path: path.to_path_buf(),
    })
}

/// Compares every entry with the manifest: the report by the hash taken while reading it,
/// the others (the Iggy data bundle) streamed. Entries that are not listed count too: a
/// manifest that vouches for part of an archive does not vouch for the rest.
fn check_integrity(
    reader: &mut Reader<'_>,
    manifest: &Manifest,
    entries: &[EntryInfo],
    html: &[u8],
    html_sha: &str,
) -> Result<Integrity, ArchiveError> {
    let present: BTreeSet<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    let listed: BTreeSet<&str> = manifest.entries.iter().map(|e| e.name.as_str()).collect();
    let mut mismatched = Vec::new();
    let mut missing = Vec::new();
    for listed_entry in &manifest.entries {
        let name = listed_entry.name.as_str();
        if !present.contains(name) {
            missing.push(name.to_owned());
            continue;
        }
        let (size, sha) = if name == REPORT_ENTRY {
            (html.len() as u64, html_sha.to_owned())
        } else {
            match reader.hash(name) {
                Ok(v) => v,
                // A bomb or a broken entry cannot match what the manifest vouches for.
                Err(ArchiveError::Bomb { .. } | ArchiveError::BadEntry { .. }) => {
                    mismatched.push(name.to_owned());
                    continue;
                }
                Err(e) => return Err(e),
            }
        };
        if size != listed_entry.size || !sha.eq_ignore_ascii_case(&listed_entry.sha256) {
            mismatched.push(name.to_owned());
        }
    }
    if !listed.contains(REPORT_ENTRY) {
        missing.push(REPORT_ENTRY.to_owned());
    }
    let unlisted: Vec<String> = present
        .iter()
        .filter(|n| **n != MANIFEST_ENTRY && !listed.contains(*n))
        .map(|n| (*n).to_owned())
        .collect();
    let state = if mismatched.is_empty() && missing.is_empty() && unlisted.is_empty() {
        IntegrityState::Verified
    } else {
        IntegrityState::Mismatch
    };
    Ok(Integrity {
        state,
        mismatched,
        missing,
        unlisted,
    })
}

/// Iggy's text sections, known ones first, within the section budgets. A section that would
/// break a budget is shown cut or left out with the reason, never silently.
fn read_sections(
    reader: &mut Reader<'_>,
    entries: &[EntryInfo],
) -> Result<(Vec<TextSection>, usize), ArchiveError> {
    let limits = reader.limits;
    let mut names: Vec<&str> = entries
        .iter()
        .filter(|e| e.name.to_ascii_lowercase().ends_with(".txt"))
        .map(|e| e.name.as_str())
        .collect();
    names.sort_by_key(|n| {
        (
            IGGY_SECTIONS
                .iter()
                .position(|(s, _)| *s == base(n))
                .unwrap_or(usize::MAX),
            *n,
        )
    });
    let left_out = names.len().saturating_sub(limits.max_sections);
    names.truncate(limits.max_sections);
    let mut sections = Vec::new();
    let mut shown = 0u64;
    for name in names {
        let title = IGGY_SECTIONS
            .iter()
            .find(|(s, _)| *s == base(name))
            .map(|(_, t)| (*t).to_owned())
            .unwrap_or_else(|| base(name).trim_end_matches(".txt").replace('_', " "));
        let room = limits
            .max_section_bytes
            .min(limits.max_sections_bytes.saturating_sub(shown));
        let mut section = TextSection {
            name: name.to_owned(),
            title,
            text: String::new(),
            truncated: None,
            left_out: None,
        };
        if room == 0 {
            section.left_out = Some(format!(
                "not shown: the sections before it already use the {} MiB shown per archive",
                limits.max_sections_bytes / (1024 * 1024)
            ));
            sections.push(section);
            continue;
        }
        let from_end = base(name).contains("log");
        match reader.read_part(name, room, from_end) {
            Ok((raw, truncated)) => {
                shown += raw.len() as u64;
                section.text = String::from_utf8_lossy(&raw).into_owned();
                section.truncated = truncated;
            }
            Err(ArchiveError::Bomb { ratio, .. }) => {
                section.left_out = Some(format!(
                    "not shown: it expands more than {ratio} times its compressed size, as a ZIP bomb does"
                ));
            }
            Err(ArchiveError::BadEntry { reason, .. }) => {
                section.left_out = Some(format!("not readable: {reason}"));
            }
            Err(e) => return Err(e),
        }
        sections.push(section);
    }
    Ok((sections, left_out))
}

/// Recomputes every entry's sha256 and size; returns the names that do not match the manifest.
pub fn verify(path: &Path, manifest: &Manifest) -> Result<Vec<String>, ArchiveError> {
    let limits = Limits::default();
    let cancel = Cancel::new();
    let mut reader = Reader::new(path, &limits, &cancel)?;
    let mut bad = Vec::new();
    for entry in &manifest.entries {
        match reader.hash(&entry.name) {
            Ok((size, sha)) if size == entry.size && sha == entry.sha256 => {}
            Ok(_) | Err(ArchiveError::BadEntry { .. } | ArchiveError::Bomb { .. }) => {
                bad.push(entry.name.clone())
            }
            Err(e) => return Err(e),
        }
    }
    Ok(bad)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;
    use zip::CompressionMethod;

    use super::*;

    fn zip_of(dir: &Path, name: &str, entries: &[(&str, &[u8])]) -> PathBuf {
        let path = dir.join(name);
        let mut w = zip::ZipWriter::new(File::create(&path).unwrap());
        // Level 9 for the bombs' ratio; incompressible noise would take seconds at it.
        let o = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(if name.contains("bomb") { 9 } else { 1 }));
        for (n, data) in entries {
            w.start_file(*n, o).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
        path
    }

    /// Letters that deflate about 1.6 times, like real text and unlike a bomb.
    fn noise(len: usize) -> Vec<u8> {
        let mut x: u32 = 2_463_534_242;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                b'a' + (x % 26) as u8
            })
            .collect()
    }

    fn code_of(e: ArchiveError) -> (snapdesk_core::ErrorCode, String) {
        let e = snapdesk_core::Error::from(e);
        (e.code, e.message)
    }

    #[test]
    fn a_bomb_in_iggy_sections_is_left_out_and_the_rest_stays_within_budget() {
        // Finding 2 of the review, smaller: sections of 20 MB of `<` (the review's were 200 MB;
        // the desktop end-to-end test opens that one).
        let tmp = tempfile::tempdir().unwrap();
        let lt = vec![b'<'; 20 * 1024 * 1024];
        let path = zip_of(
            tmp.path(),
            "bomb.zip",
            &[
                ("filesystem_overview.txt", &lt),
                ("process_list.txt", &lt),
                ("server_logs.txt", &lt),
                ("server_config.txt", b"[http]\nenabled = true\n"),
            ],
        );
        assert!(std::fs::metadata(&path).unwrap().len() < 256 * 1024);
        let o = open(&path).unwrap();
        assert_eq!(o.kind, ArchiveKind::IggySnapshot);
        let by = |n: &str| o.sections.iter().find(|s| s.name == n).unwrap();
        for n in [
            "filesystem_overview.txt",
            "process_list.txt",
            "server_logs.txt",
        ] {
            let s = by(n);
            // The head fits the section cap before the ratio is reached; the log's tail
            // is what needs reading through, which the ratio stops.
            if n == "server_logs.txt" {
                assert!(s.left_out.as_deref().unwrap().contains("ZIP bomb"), "{s:?}");
                assert!(s.text.is_empty());
            } else {
                assert_eq!(s.text.len(), 1024 * 1024, "{n}");
                assert_eq!(
                    s.truncated,
                    Some(Truncation {
                        shown_bytes: 1024 * 1024,
                        total_bytes: None,
                        from_end: false
                    })
                );
            }
        }
        assert_eq!(by("server_config.txt").truncated, None);
        let kept: usize = o.sections.iter().map(|s| s.text.len()).sum();
        assert!(kept <= 4 * 1024 * 1024, "{kept}");
    }

    #[test]
    fn sections_are_capped_in_number_and_in_total() {
        let tmp = tempfile::tempdir().unwrap();
        let big = noise(3 * 1024 * 1024);
        let mut files: Vec<(String, Vec<u8>)> = vec![("server_logs.txt".into(), big.clone())];
        for i in 0..40 {
            // Three more large ones fill the 4 MiB; the rest are small.
            let data = if i < 4 {
                big.clone()
            } else {
                b"small".to_vec()
            };
            files.push((format!("extra_{i:02}.txt"), data));
        }
        let refs: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        let path = zip_of(tmp.path(), "many.zip", &refs);
        let o = open(&path).unwrap();
        assert_eq!(o.sections.len(), 24);
        assert_eq!(o.sections_left_out, 17);
        let logs = &o.sections[0];
        assert_eq!(logs.name, "server_logs.txt");
        // Logs keep their end: the newest lines.
        assert_eq!(
            logs.truncated,
            Some(Truncation {
                shown_bytes: 1024 * 1024,
                total_bytes: Some(3 * 1024 * 1024),
                from_end: true
            })
        );
        let shown: usize = o.sections.iter().map(|s| s.text.len()).sum();
        assert_eq!(shown, 4 * 1024 * 1024);
        let empty = o.sections.iter().filter(|s| s.left_out.is_some()).count();
        assert_eq!(empty, 24 - 4, "4 sections of 1 MiB fill the 4 MiB");
    }

    #[test]
    fn a_bomb_report_is_refused_with_an_archive_error() {
        let tmp = tempfile::tempdir().unwrap();
        let mut html = b"<html><body>".to_vec();
        html.resize(30 * 1024 * 1024, b' ');
        let path = zip_of(tmp.path(), "bomb-report.zip", &[("index.html", &html)]);
        let (code, msg) = code_of(open(&path).unwrap_err());
        assert_eq!(code, snapdesk_core::ErrorCode::Archive);
        assert!(msg.contains("ZIP bomb"), "{msg}");
    }

    #[test]
    fn duplicate_names_and_too_many_entries_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("dup.zip");
        let mut w = zip::ZipWriter::new(File::create(&path).unwrap());
        // The writer refuses duplicates, so write two names and patch the second into the first.
        for n in ["index.html", "indey.html"] {
            w.start_file(n, SimpleFileOptions::default()).unwrap();
            w.write_all(b"<h1>x</h1>").unwrap();
        }
        w.finish().unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let from = b"indey.html";
        let mut i = 0;
        while i + from.len() <= bytes.len() {
            if &bytes[i..i + from.len()] == from {
                bytes[i..i + from.len()].copy_from_slice(b"index.html");
            }
            i += 1;
        }
        std::fs::write(&path, bytes).unwrap();
        let (code, msg) = code_of(open(&path).unwrap_err());
        assert_eq!(code, snapdesk_core::ErrorCode::Archive);
        assert!(msg.contains("share one name"), "{msg}");

        let files: Vec<(String, Vec<u8>)> = (0..30)
            .map(|i| (format!("f{i}.html"), b"<p>".to_vec()))
            .collect();
        let refs: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        let many = zip_of(tmp.path(), "many.zip", &refs);
        let limits = Limits {
            max_entries: 20,
            ..Limits::default()
        };
        let err = open_with(&many, &limits, &Cancel::new()).unwrap_err();
        assert!(code_of(err).1.contains("30 entries"));
    }

    #[test]
    fn the_kept_budget_bounds_the_whole_open() {
        let tmp = tempfile::tempdir().unwrap();
        let html = noise(2 * 1024 * 1024);
        let path = zip_of(tmp.path(), "r.zip", &[("index.html", &html)]);
        let limits = Limits {
            max_kept_bytes: 1024 * 1024,
            ..Limits::default()
        };
        let (code, msg) = code_of(open_with(&path, &limits, &Cancel::new()).unwrap_err());
        assert_eq!(code, snapdesk_core::ErrorCode::Archive);
        assert!(msg.contains("more than 1048576 bytes"), "{msg}");
    }

    /// One of our archives: a report with `checks` checks and an Iggy data entry.
    fn ours(dir: &Path) -> PathBuf {
        let path = dir.join("ours.zip");
        let report = crate::sample::sample_report(7, 3);
        let mut w = crate::archive::ArchiveWriter::create(&path).unwrap();
        w.add_bytes(
            REPORT_ENTRY,
            crate::render::render(&report).as_bytes(),
            true,
        )
        .unwrap();
        w.add_bytes(super::super::IGGY_DATA_ENTRY, &noise(4096), false)
            .unwrap();
        let mut m = Manifest::new("s".into(), "h".into(), report.collector.clone());
        m.checks = crate::model::StatusCounts::of(&report.checks);
        w.finish(&mut m).unwrap();
        path
    }

    /// A copy of `src` with `report.html` replaced and `extra` entries added, the manifest
    /// kept as it was (what someone editing an archive by hand produces).
    fn tampered(src: &Path, dst: &Path, report: &[u8], extra: &[(&str, &[u8])]) {
        let mut input = ZipArchive::new(File::open(src).unwrap()).unwrap();
        let mut w = zip::ZipWriter::new(File::create(dst).unwrap());
        for i in 0..input.len() {
            let f = input.by_index_raw(i).unwrap();
            if f.name().map(|n| n == REPORT_ENTRY).unwrap_or(false) {
                continue;
            }
            w.raw_copy_file(f).unwrap();
        }
        w.start_file(REPORT_ENTRY, SimpleFileOptions::default())
            .unwrap();
        w.write_all(report).unwrap();
        for (n, d) in extra {
            w.start_file(*n, SimpleFileOptions::default()).unwrap();
            w.write_all(d).unwrap();
        }
        w.finish().unwrap();
    }

    #[test]
    fn our_archives_are_verified_and_an_edited_one_names_what_changed() {
        let tmp = tempfile::tempdir().unwrap();
        let good = ours(tmp.path());
        let o = open(&good).unwrap();
        assert_eq!(
            o.integrity.state,
            IntegrityState::Verified,
            "{:?}",
            o.integrity
        );

        let bad = tmp.path().join("bad.zip");
        let original = read_entry(&good, REPORT_ENTRY, 1 << 24).unwrap();
        let mut edited = original.clone();
        edited.extend_from_slice(b"<!-- edited -->");
        tampered(&good, &bad, &edited, &[("evil.js", b"alert(1)")]);
        let o = open(&bad).unwrap();
        assert_eq!(o.integrity.state, IntegrityState::Mismatch);
        assert_eq!(o.integrity.mismatched, ["report.html"]);
        assert_eq!(o.integrity.unlisted, ["evil.js"]);
        assert!(o.integrity.missing.is_empty());
        // The page served is the bytes that were checked, edit included.
        assert_eq!(o.html.as_deref().unwrap(), &edited[..]);

        // Same bytes, different order or nothing added: verified again.
        let same = tmp.path().join("same.zip");
        tampered(&good, &same, &original, &[]);
        assert_eq!(
            open(&same).unwrap().integrity.state,
            IntegrityState::Verified
        );
    }

    #[test]
    fn a_cancelled_open_stops_with_the_cancelled_code() {
        let tmp = tempfile::tempdir().unwrap();
        let path = zip_of(tmp.path(), "r.zip", &[("index.html", b"<h1>x</h1>")]);
        let cancel = Cancel::new();
        cancel.cancel();
        let (code, _) = code_of(open_with(&path, &Limits::default(), &cancel).unwrap_err());
        assert_eq!(code, snapdesk_core::ErrorCode::Cancelled);
    }
}

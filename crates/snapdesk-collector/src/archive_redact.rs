//! A redacted copy of a snapshot archive of ours: the report (every string a person can see,
//! and the Iggy data section it embeds), the logs and configs beside it, and every text file
//! of the nested `iggy-data.zip`, through the same [`Redactor`] a collection uses. The input
//! is only read; the output is written atomically (a partial file renamed when whole).
//!
//! Kept as they are: message segments (`streams/**/*.log`: binary records, never redacted
//! by a collection either), and binary files (not UTF-8, or holding NUL bytes).
//!
//! The input is proven sound first (`archive::scan`: names, CRC, sizes, ratio); nested
//! entries are read under the same rules (their declared size exactly, 200x past 1 MiB).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use snapdesk_core::{Cancel, Error, ErrorCode};
use snapdesk_report::archive::{
    self, ArchiveKind, ArchiveWriter, Limits, IGGY_DATA_ENTRY, MANIFEST_ENTRY, REPORT_ENTRY,
};
use snapdesk_report::{iggy_data, render, StatusCounts};
use ts_rs::TS;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::bundle::{is_segment, is_text_to_redact, MAX_TEXT_IN_MEMORY};
use crate::redact::Redactor;

/// The most an input may inflate to, nested data included.
pub const MAX_INFLATED: u64 = 64 * 1024 * 1024 * 1024;
const MAX_RATIO: u64 = 200;
const RATIO_FLOOR: u64 = 1024 * 1024;

/// What a redacted copy did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct RedactedCopy {
    #[ts(type = "string")]
    pub input: PathBuf,
    #[ts(type = "string")]
    pub output: PathBuf,
    /// Values replaced in this copy, per rule.
    #[ts(type = "Record<string, number>")]
    pub counts: BTreeMap<String, u64>,
    #[ts(type = "number")]
    pub total: u64,
    /// Entries of the archive, and files of its nested data, that had something replaced.
    pub changed: Vec<String>,
    /// Whether the input said it was redacted already.
    pub input_was_redacted: bool,
}

fn archive_err(msg: String) -> Error {
    Error::new(ErrorCode::Archive, msg)
        .with_hint("the input is untouched; nothing was written at the output")
}

fn io_at<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> Error + 'a {
    move |e| Error::io_at(e, action, path)
}

/// Writes a redacted copy of `input` (an archive of ours) at `output`.
pub fn redact_archive(
    input: &Path,
    output: &Path,
    redactor: &Redactor,
    cancel: &Cancel,
) -> Result<RedactedCopy, Error> {
    if same_file(input, output) {
        return Err(Error::invalid_input(format!(
            "the output {} is the input: a redacted copy never replaces its original",
            output.display()
        ))
        .with_hint("name another output file"));
    }
    let limits = Limits::default();
    archive::scan(input, &limits, MAX_INFLATED, cancel)?;
    let opened = archive::open_with(input, &limits, cancel)?;
    if opened.kind != ArchiveKind::Snapdesk {
        return Err(Error::invalid_input(format!(
            "{} is not a Snapdesk snapshot (no manifest.json beside report.html): only archives \
             of ours can be redacted",
            input.display()
        )));
    }
    let mut manifest = opened
        .manifest
        .clone()
        .ok_or_else(|| archive_err(format!("{} has no manifest", input.display())))?;
    let mut report = opened
        .parsed
        .as_ref()
        .and_then(|p| p.report.clone())
        .ok_or_else(|| {
            archive_err(format!(
                "the report in {} carries no embedded data",
                input.display()
            ))
        })?;
    let html = opened
        .html
        .as_ref()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .unwrap_or_default();

    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut changed = Vec::new();
    let file = File::open(input).map_err(io_at("open", input))?;
    let mut zip = ZipArchive::new(BufReader::new(file))
        .map_err(|e| archive_err(format!("{}: {e}", input.display())))?;
    let mut w = ArchiveWriter::create(output)?;
    for i in 0..zip.len() {
        cancel.check()?;
        let mut entry = zip
            .by_index(i)
            .map_err(|e| archive_err(format!("{}: {e}", input.display())))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry
            .name()
            .map_err(|e| archive_err(format!("{}: {e}", input.display())))?
            .into_owned();
        let size = entry.size();
        let compress = entry.compression() != CompressionMethod::Stored;
        if name == MANIFEST_ENTRY {
            continue;
        }
        let before: u64 = counts.values().sum();
        if name == REPORT_ENTRY {
            redactor.redact_report(&mut report, &mut counts);
            report.redacted = true;
            let section = iggy_data::extract(&html).and_then(|s| {
                let json = serde_json::to_string(&s).ok()?;
                let red = redactor.redact_into(&json, &mut counts);
                serde_json::from_str(&red).ok()
            });
            let page = render::render_with(&report, section.as_ref());
            w.add_bytes(&name, page.as_bytes(), true)?;
        } else if name == IGGY_DATA_ENTRY || name.ends_with("/iggy-data.zip") {
            let nested = redact_nested(
                &mut entry,
                &name,
                output,
                redactor,
                &mut counts,
                &mut changed,
                cancel,
            )?;
            let mut f = File::open(nested.path()).map_err(io_at("read", nested.path()))?;
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            w.add_reader(&name, &mut f, false, len)?;
        } else if size > MAX_TEXT_IN_MEMORY {
            // Too large to hold: line by line through a temp file beside the output.
            let mut r = Bounded::new(&mut entry, size, &name);
            let mut tmp = tempfile::NamedTempFile::new_in(parent(output))
                .map_err(io_at("write", parent(output)))?;
            if is_segment(&name) {
                io::copy(&mut r, tmp.as_file_mut())
                    .map_err(|e| archive_err(format!("{name}: {e}")))?;
            } else {
                stream_redacted(&mut r, tmp.as_file_mut(), redactor, &mut counts)
                    .map_err(|e| archive_err(format!("{name}: {e}")))?;
            }
            let mut f = File::open(tmp.path()).map_err(io_at("read", tmp.path()))?;
            w.add_reader(&name, &mut f, compress, size)?;
        } else {
            let mut r = Bounded::new(&mut entry, size, &name);
            let bytes = redact_small(&mut r, &name, redactor, &mut counts)?;
            w.add_bytes(&name, &bytes, compress)?;
        }
        if counts.values().sum::<u64>() > before {
            changed.push(name);
        }
    }
    let input_was_redacted = manifest.redaction.redacted;
    for (k, v) in &counts {
        *manifest.redaction.counts.entry(k.clone()).or_insert(0) += v;
    }
    manifest.redaction.redacted = true;
    manifest.checks = StatusCounts::of(&report.checks);
    let written = w.finish(&mut manifest)?;
    Ok(RedactedCopy {
        input: input.to_path_buf(),
        output: written,
        total: counts.values().sum(),
        counts,
        changed,
        input_was_redacted,
    })
}

fn parent(p: &Path) -> &Path {
    p.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// A small entry: text (UTF-8 without NUL) through the redactor; binary files and segments
/// as they are.
fn redact_small(
    r: &mut dyn Read,
    name: &str,
    redactor: &Redactor,
    counts: &mut BTreeMap<String, u64>,
) -> Result<Vec<u8>, Error> {
    let mut raw = Vec::new();
    r.read_to_end(&mut raw)
        .map_err(|e| archive_err(format!("{name}: {e}")))?;
    if is_segment(name) || raw.contains(&0) {
        return Ok(raw);
    }
    Ok(match std::str::from_utf8(&raw) {
        Ok(text) => match redactor.redact_into(text, counts) {
            std::borrow::Cow::Borrowed(_) => raw,
            std::borrow::Cow::Owned(s) => s.into_bytes(),
        },
        Err(_) => raw,
    })
}

/// Line by line, for text too large to hold.
fn stream_redacted(
    r: &mut dyn Read,
    out: &mut File,
    redactor: &Redactor,
    counts: &mut BTreeMap<String, u64>,
) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(256 * 1024, r);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        match redactor.redact_into(&text, counts) {
            std::borrow::Cow::Borrowed(_) => out.write_all(&line)?,
            std::borrow::Cow::Owned(s) => out.write_all(s.as_bytes())?,
        }
    }
    out.flush()
}

/// The nested data ZIP, redacted, as a temp file beside the output (removed when dropped).
fn redact_nested(
    entry: &mut dyn Read,
    outer_name: &str,
    output: &Path,
    redactor: &Redactor,
    counts: &mut BTreeMap<String, u64>,
    changed: &mut Vec<String>,
    cancel: &Cancel,
) -> Result<tempfile::NamedTempFile, Error> {
    let dir = parent(output);
    let mut raw = tempfile::NamedTempFile::new_in(dir).map_err(io_at("write", dir))?;
    io::copy(entry, raw.as_file_mut()).map_err(|e| archive_err(format!("{outer_name}: {e}")))?;
    let src = File::open(raw.path()).map_err(io_at("read", raw.path()))?;
    let mut inner = match ZipArchive::new(BufReader::new(src)) {
        Ok(z) => z,
        // Not a ZIP (an emulator's padding): opaque bytes, copied as they are.
        Err(_) => return Ok(raw),
    };
    let out = tempfile::NamedTempFile::new_in(dir).map_err(io_at("write", dir))?;
    let out_file = out.reopen().map_err(io_at("write", out.path()))?;
    let mut zw = ZipWriter::new(io::BufWriter::new(out_file));
    for i in 0..inner.len() {
        cancel.check()?;
        let mut e = inner
            .by_index(i)
            .map_err(|e| archive_err(format!("{outer_name}: {e}")))?;
        if !archive::name_is_enclosed(e.name_raw()) {
            let shown = archive::escape_name(e.name_raw());
            return Err(archive_err(format!(
                "{outer_name} is refused: entry {shown} names a place outside the archive"
            )));
        }
        let name = e
            .name()
            .map_err(|err| archive_err(format!("{outer_name}: {err}")))?
            .into_owned();
        if name.is_empty() {
            return Err(archive_err(format!(
                "{outer_name} is refused: an entry has no name"
            )));
        }
        let opts = SimpleFileOptions::default()
            .compression_method(e.compression())
            .large_file(e.size() >= u32::MAX as u64 / 2);
        if e.is_dir() {
            zw.add_directory(name.trim_end_matches('/'), opts)
                .map_err(|e| archive_err(format!("{outer_name}: {e}")))?;
            continue;
        }
        let size = e.size();
        let compressed = e.compressed_size();
        zw.start_file(&name, opts)
            .map_err(|e| archive_err(format!("{outer_name}: {e}")))?;
        let mut r = Bounded::new(&mut e, size, &name).with_ratio(compressed);
        let before: u64 = counts.values().sum();
        // Segments and large files that are not text by name go as they are; small files
        // are redacted when their bytes are text; large text files line by line.
        let wrote = if is_segment(&name) || (size > MAX_TEXT_IN_MEMORY && !is_text_to_redact(&name))
        {
            io::copy(&mut r, &mut zw).map(|_| ())
        } else if size <= MAX_TEXT_IN_MEMORY {
            let mut buf = Vec::new();
            match r.read_to_end(&mut buf) {
                Ok(_) => {
                    let text_ok = !buf.contains(&0) && std::str::from_utf8(&buf).is_ok();
                    if text_ok {
                        let text = String::from_utf8_lossy(&buf);
                        let red = redactor.redact_into(&text, counts);
                        zw.write_all(red.as_bytes())
                    } else {
                        zw.write_all(&buf)
                    }
                }
                Err(e) => Err(e),
            }
        } else {
            let mut reader = BufReader::with_capacity(256 * 1024, &mut r);
            let mut line = Vec::new();
            let mut res = Ok(());
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&line);
                        let red = redactor.redact_into(&text, counts);
                        if let Err(e) = zw.write_all(red.as_bytes()) {
                            res = Err(e);
                            break;
                        }
                    }
                    Err(e) => {
                        res = Err(e);
                        break;
                    }
                }
            }
            res
        };
        wrote.map_err(|e| archive_err(format!("{outer_name}!{name}: {e}")))?;
        if counts.values().sum::<u64>() > before {
            changed.push(format!("{outer_name}!{name}"));
        }
    }
    let buf = zw
        .finish()
        .map_err(|e| archive_err(format!("{outer_name}: {e}")))?;
    buf.into_inner()
        .map_err(|e| Error::io_at(e.into_error(), "write", out.path()))?
        .sync_all()
        .map_err(io_at("write", out.path()))?;
    drop(raw);
    Ok(out)
}

/// An entry's bytes held to its declared size and, when known, to the ratio budget.
struct Bounded<'a> {
    inner: &'a mut dyn Read,
    declared: u64,
    compressed: Option<u64>,
    out: u64,
    name: String,
}

impl<'a> Bounded<'a> {
    fn new(inner: &'a mut dyn Read, declared: u64, name: &str) -> Self {
        Self {
            inner,
            declared,
            compressed: None,
            out: 0,
            name: name.to_owned(),
        }
    }

    fn with_ratio(mut self, compressed: u64) -> Self {
        self.compressed = Some(compressed);
        self
    }
}

impl Read for Bounded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        if self.out > self.declared {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} inflates past its declared size of {} bytes",
                    self.name, self.declared
                ),
            ));
        }
        if let Some(c) = self.compressed {
            if self.out > RATIO_FLOOR && self.out > c.saturating_mul(MAX_RATIO) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} expands more than {MAX_RATIO} times: a ZIP bomb",
                        self.name
                    ),
                ));
            }
        }
        if n == 0 && self.out < self.declared {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} holds {} bytes, not the {} it declares",
                    self.name, self.out, self.declared
                ),
            ));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::MARKER;
    use snapdesk_report::{parse, sample};

    fn report_html(zip_path: &Path) -> String {
        let mut zip = ZipArchive::new(File::open(zip_path).unwrap()).unwrap();
        let mut html = String::new();
        zip.by_name(REPORT_ENTRY)
            .unwrap()
            .read_to_string(&mut html)
            .unwrap();
        html
    }

    #[test]
    fn secrets_in_log_lines_only_the_embedded_data_holds_are_redacted() {
        // A report's markup shows the first 200 lines of a log; the rest live only in its
        // JSON data (rendered by the page's script). Both must come out redacted.
        let dir = tempfile::tempdir().unwrap();
        let mut report = sample::sample_report(2, 500);
        report.redacted = false;
        report.logs[0].lines[5] = "WARN auth: password=in-markup-CANARY05".into();
        report.logs[0].lines[450] = "WARN auth: password=data-only-CANARY450".into();
        let input = sample::write_archive(&dir.path().join("in.zip"), &report, None).unwrap();
        let before = report_html(&input);
        assert!(before.contains("in-markup-CANARY05") && before.contains("data-only-CANARY450"));
        assert_eq!(
            before.matches("data-only-CANARY450").count(),
            1,
            "data only"
        );

        let out = dir.path().join("out.zip");
        let copy = redact_archive(&input, &out, &Redactor::new(), &Cancel::new()).unwrap();
        let html = report_html(&copy.output);
        assert!(!html.contains("CANARY05"), "the markup kept a secret");
        assert!(
            !html.contains("CANARY450"),
            "the embedded data kept a secret"
        );
        let lines = parse::parse(&html).unwrap().report.unwrap().logs[0]
            .lines
            .clone();
        assert_eq!(lines.len(), 500);
        assert_eq!(lines[450], format!("WARN auth: password={MARKER}"));
        assert_eq!(lines[5], format!("WARN auth: password={MARKER}"));
        assert!(
            copy.changed.iter().any(|c| c == REPORT_ENTRY),
            "{:?}",
            copy.changed
        );
        assert_eq!(copy.counts.get("secret_key_value"), Some(&2));
    }
}

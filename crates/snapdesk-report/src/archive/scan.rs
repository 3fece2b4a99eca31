//! A whole pass over an archive before it is kept: every entry read to its end, in place,
//! nothing extracted. [`super::open_with`] reads what a viewer shows; [`scan`] proves the rest
//! of the file is sound too, which a library must know before it stores an archive:
//!
//! | refused | why |
//! |---|---|
//! | a name with `..` past the root, an absolute name, a drive or a backslash | an extractor (ours or the user's `unzip`) would write outside its directory |
//! | a symbolic link entry | it points anywhere once extracted |
//! | an encrypted entry | it cannot be checked |
//! | an entry whose bytes differ from its CRC-32 | corrupted, or edited by hand |
//! | an entry that inflates past (or short of) its declared size | size fields that lie, which budgets rely on |
//! | an entry past the ratio, the whole past `max_total` | ZIP bombs |
//!
//! Names are shown escaped ([`escape_name`]): control characters and bytes that are not
//! UTF-8 never reach a terminal or a page as they are.

use std::io::{self, Read};
use std::path::Path;

use snapdesk_core::Cancel;

use super::read::{open_zip, EntryInfo, Limits};
use super::ArchiveError;

/// What a whole pass found: every file entry, and the bytes they inflate to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scanned {
    pub entries: Vec<EntryInfo>,
    pub total_bytes: u64,
}

/// A name fit to show: printable characters as they are, control characters as `\u{..}`,
/// bytes that are not UTF-8 as `\xNN`.
pub fn escape_name(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Whether a raw entry name stays inside the directory it would be extracted to.
pub fn name_is_enclosed(raw: &[u8]) -> bool {
    let Ok(name) = std::str::from_utf8(raw) else {
        // Not UTF-8: judged on its bytes, which is what an extractor would write.
        return !raw.contains(&0)
            && !raw.starts_with(b"/")
            && !raw.contains(&b'\\')
            && !raw.split(|b| *b == b'/').any(|p| p == b"..");
    };
    if name.contains('\0') || name.starts_with('/') || name.contains('\\') {
        return false;
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return false;
    }
    let mut depth: i64 = 0;
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => depth += 1,
        }
    }
    true
}

/// Reads every entry of `path` to its end within `limits` (entries, ratio) and `max_total`
/// inflated bytes, and refuses what the module table lists.
pub fn scan(
    path: &Path,
    limits: &Limits,
    max_total: u64,
    cancel: &Cancel,
) -> Result<Scanned, ArchiveError> {
    let refused = |reason: String| ArchiveError::Refused {
        path: path.to_path_buf(),
        reason,
    };
    let mut zip = open_zip(path)?;
    if zip.len() > limits.max_entries {
        return Err(refused(format!(
            "it has {} entries, more than the {} allowed",
            zip.len(),
            limits.max_entries
        )));
    }
    if zip.has_duplicate_names() {
        return Err(refused(
            "two entries share one name, so readers could disagree on its content".into(),
        ));
    }
    let mut entries = Vec::with_capacity(zip.len());
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..zip.len() {
        let (shown, declared, compressed) = {
            let e = zip.by_index_raw(i).map_err(|e| ArchiveError::NotZip {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
            let shown = escape_name(e.name_raw());
            if !name_is_enclosed(e.name_raw()) {
                return Err(ArchiveError::UnsafeName {
                    path: path.to_path_buf(),
                    entry: shown,
                });
            }
            if e.is_symlink() {
                return Err(refused(format!("entry {shown} is a symbolic link")));
            }
            if e.encrypted() {
                return Err(refused(format!("entry {shown} is encrypted")));
            }
            if e.is_dir() {
                continue;
            }
            (shown, e.size(), e.compressed_size())
        };
        let mut entry = zip.by_index(i).map_err(|e| {
            let reason = e.to_string();
            if reason.contains("assword") {
                refused(format!("entry {shown} is encrypted"))
            } else {
                ArchiveError::BadEntry {
                    path: path.to_path_buf(),
                    entry: shown.clone(),
                    reason,
                }
            }
        })?;
        let allowed = compressed
            .max(1)
            .saturating_mul(limits.max_ratio)
            .max(limits.ratio_floor);
        let mut out = 0u64;
        loop {
            cancel.check().map_err(|stop| ArchiveError::Stopped {
                path: path.to_path_buf(),
                stop,
            })?;
            let n = match entry.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.to_string().contains("Invalid checksum") => {
                    return Err(ArchiveError::Crc {
                        path: path.to_path_buf(),
                        entry: shown,
                    })
                }
                Err(e) => {
                    return Err(ArchiveError::BadEntry {
                        path: path.to_path_buf(),
                        entry: shown,
                        reason: e.to_string(),
                    })
                }
            };
            out += n as u64;
            if out > allowed {
                return Err(ArchiveError::Bomb {
                    path: path.to_path_buf(),
                    entry: shown,
                    ratio: limits.max_ratio,
                });
            }
            if out > declared {
                break;
            }
        }
        if out != declared {
            return Err(ArchiveError::SizeLie {
                path: path.to_path_buf(),
                entry: shown,
                declared,
            });
        }
        total += out;
        if total > max_total {
            return Err(ArchiveError::OverBudget {
                path: path.to_path_buf(),
                limit: max_total,
            });
        }
        entries.push(EntryInfo {
            name: shown,
            size: declared,
            compressed_size: compressed,
        });
    }
    Ok(Scanned {
        entries,
        total_bytes: total,
    })
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::io::Write;

    use zip::write::SimpleFileOptions;

    use super::*;

    fn zip_of(path: &Path, entries: &[(&str, &[u8])]) {
        let mut w = zip::ZipWriter::new(File::create(path).unwrap());
        for (n, d) in entries {
            w.start_file(*n, SimpleFileOptions::default()).unwrap();
            w.write_all(d).unwrap();
        }
        w.finish().unwrap();
    }

    fn patch(path: &Path, from: &[u8], to: &[u8]) {
        let mut bytes = std::fs::read(path).unwrap();
        let mut i = 0;
        let mut hits = 0;
        while i + from.len() <= bytes.len() {
            if &bytes[i..i + from.len()] == from {
                bytes[i..i + from.len()].copy_from_slice(to);
                hits += 1;
            }
            i += 1;
        }
        assert!(hits > 0);
        std::fs::write(path, bytes).unwrap();
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Any damage to a valid archive (bytes flipped anywhere, the file cut anywhere)
        /// ends in a typed result, never a panic, and what passes the scan opens.
        #[test]
        fn damaged_archives_never_panic_the_reader(
            flips in proptest::collection::vec((0usize..4096, 1u8..=255), 0..6),
            cut in proptest::option::of(0usize..4096),
        ) {
            let tmp = tempfile::tempdir().unwrap();
            let p = tmp.path().join("p.zip");
            zip_of(&p, &[("index.html", b"<h1>t</h1><table><tr><td>a</td><td>FAIL</td></tr></table>"), ("b.txt", b"bbbbbbbbbbbbbbbbbbbb")]);
            let mut bytes = std::fs::read(&p).unwrap();
            let len = bytes.len();
            for (at, x) in flips {
                bytes[at % len] ^= x;
            }
            if let Some(c) = cut {
                bytes.truncate(c % (len + 1));
            }
            std::fs::write(&p, &bytes).unwrap();
            if scan(&p, &Limits::default(), u64::MAX, &Cancel::new()).is_ok() {
                let _ = super::super::open(&p);
            }
            let name: Vec<u8> = bytes.iter().take(64).copied().collect();
            let shown = escape_name(&name);
            proptest::prop_assert!(!shown.chars().any(char::is_control));
        }
    }

    #[test]
    fn names_with_controls_and_bad_bytes_are_escaped() {
        assert_eq!(escape_name(b"a\x1b[31mb"), "a\\u{1b}[31mb");
        assert_eq!(escape_name(b"ok\xff.txt"), "ok\\xff.txt");
        assert_eq!(
            escape_name("caf\u{e9}/r.html".as_bytes()),
            "caf\u{e9}/r.html"
        );
    }

    #[test]
    fn only_enclosed_names_pass() {
        for bad in [
            &b"../x"[..],
            b"a/../../x",
            b"/etc/passwd",
            b"C:/x",
            b"a\\..\\x",
            b"\xff/../../x",
        ] {
            assert!(!name_is_enclosed(bad), "{}", escape_name(bad));
        }
        for good in [&b"a/../b"[..], b"report.html", b"./x", b"a/b/c.txt"] {
            assert!(name_is_enclosed(good), "{}", escape_name(good));
        }
    }

    #[test]
    fn a_crc_mismatch_is_its_own_error() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("crc.zip");
        // Stored (level 0 is not asked; the default deflates) text with one byte changed.
        let mut w = zip::ZipWriter::new(File::create(&p).unwrap());
        let o = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        w.start_file("index.html", o).unwrap();
        w.write_all(b"<h1>hello crc world</h1>").unwrap();
        w.finish().unwrap();
        patch(&p, b"hello crc world", b"hellO crc world");
        let err = scan(&p, &Limits::default(), u64::MAX, &Cancel::new()).unwrap_err();
        assert!(matches!(err, ArchiveError::Crc { .. }), "{err}");
    }

    #[test]
    fn a_traversal_name_is_refused_before_anything_is_read() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("t.zip");
        zip_of(&p, &[("index.html", b"<p>x"), ("a/../../evil", b"x")]);
        let err = scan(&p, &Limits::default(), u64::MAX, &Cancel::new()).unwrap_err();
        assert!(matches!(err, ArchiveError::UnsafeName { .. }), "{err}");
        let ok = tmp.path().join("ok.zip");
        zip_of(&ok, &[("index.html", b"<p>x"), ("b.txt", b"yy")]);
        let s = scan(&ok, &Limits::default(), u64::MAX, &Cancel::new()).unwrap();
        assert_eq!(s.total_bytes, 6);
        assert_eq!(s.entries.len(), 2);
    }
}

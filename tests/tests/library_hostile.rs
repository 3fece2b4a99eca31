//! The hostile corpus: every kind of archive the library must refuse, each refused through
//! the real `snapdesk library import` with its own error and the library left unchanged
//! (no entry, no stored file, no temp file). Controls: our archive, a foreign HTML report
//! and Apache Iggy's own snapshot ZIP are accepted and searchable.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use snapdesk_tests::cli::{snapdesk, stdout};
use snapdesk_tests::skip;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

fn zip_of(path: &Path, entries: &[(&str, &[u8], CompressionMethod)]) -> PathBuf {
    let mut w = zip::ZipWriter::new(File::create(path).unwrap());
    for (n, d, m) in entries {
        let o = SimpleFileOptions::default()
            .compression_method(*m)
            .compression_level(if *m == CompressionMethod::Deflated {
                Some(9)
            } else {
                None
            });
        w.start_file(*n, o).unwrap();
        w.write_all(d).unwrap();
    }
    w.finish().unwrap();
    path.to_path_buf()
}

/// Replaces every occurrence of `from` by `to` (same length) in the file.
fn patch(path: &Path, from: &[u8], to: &[u8]) {
    let mut bytes = std::fs::read(path).unwrap();
    let mut hits = 0;
    for i in 0..=bytes.len().saturating_sub(from.len()) {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            hits += 1;
        }
    }
    assert!(hits > 0, "nothing to patch in {}", path.display());
    std::fs::write(path, bytes).unwrap();
}

/// Sets a 16-bit field at `offset` past every header with `signature`.
fn patch_headers(path: &Path, signature: &[u8; 4], offset: usize, f: impl Fn(u16) -> u16) {
    let mut bytes = std::fs::read(path).unwrap();
    let mut i = 0;
    while i + 4 <= bytes.len() {
        if &bytes[i..i + 4] == signature {
            let v = u16::from_le_bytes([bytes[i + offset], bytes[i + offset + 1]]);
            bytes[i + offset..i + offset + 2].copy_from_slice(&f(v).to_le_bytes());
        }
        i += 1;
    }
    std::fs::write(path, bytes).unwrap();
}

/// Sets a 32-bit field at `offset` past every header with `signature`.
fn patch_u32(path: &Path, signature: &[u8; 4], offset: usize, f: impl Fn(u32) -> u32) {
    let mut bytes = std::fs::read(path).unwrap();
    let mut i = 0;
    while i + 4 <= bytes.len() {
        if &bytes[i..i + 4] == signature {
            let s = &bytes[i + offset..i + offset + 4];
            let v = u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
            bytes[i + offset..i + offset + 4].copy_from_slice(&f(v).to_le_bytes());
        }
        i += 1;
    }
    std::fs::write(path, bytes).unwrap();
}

const LOCAL: &[u8; 4] = b"PK\x03\x04";
const CENTRAL: &[u8; 4] = b"PK\x01\x02";
const HTML: &[u8] =
    b"<html><body><h1>Report</h1><table><tr><td>disk</td><td>FAIL</td></tr></table></body></html>";

/// (name, file, error code, what the message must say)
fn corpus(dir: &Path) -> Vec<(&'static str, PathBuf, &'static str, &'static str)> {
    use CompressionMethod::{Deflated, Stored};
    let mut v = Vec::new();
    let p = |n: &str| dir.join(n);

    v.push((
        "path traversal",
        zip_of(
            &p("traversal.zip"),
            &[
                ("index.html", HTML, Deflated),
                ("../../evil.sh", b"x", Stored),
            ],
        ),
        "archive",
        "outside the archive",
    ));
    v.push((
        "absolute name",
        zip_of(
            &p("absolute.zip"),
            &[
                ("index.html", HTML, Deflated),
                ("/etc/cron.d/evil", b"x", Stored),
            ],
        ),
        "archive",
        "outside the archive",
    ));
    // A control character in a name that also escapes: shown escaped, never raw.
    v.push((
        "control characters in a traversal name",
        zip_of(
            &p("control.zip"),
            &[
                ("index.html", HTML, Deflated),
                ("\x1b[2J/../../x", b"x", Stored),
            ],
        ),
        "archive",
        "\\u{1b}[2J",
    ));
    {
        let path = p("symlink.zip");
        let mut w = zip::ZipWriter::new(File::create(&path).unwrap());
        w.start_file("index.html", SimpleFileOptions::default())
            .unwrap();
        w.write_all(HTML).unwrap();
        w.add_symlink("link", "/etc/passwd", SimpleFileOptions::default())
            .unwrap();
        w.finish().unwrap();
        v.push(("symlink entry", path, "archive", "symbolic link"));
    }
    {
        let path = zip_of(&p("encrypted.zip"), &[("index.html", HTML, Stored)]);
        // General purpose bit 0: encrypted (local header +6, central header +8).
        patch_headers(&path, LOCAL, 6, |f| f | 1);
        patch_headers(&path, CENTRAL, 8, |f| f | 1);
        v.push(("encrypted entry", path, "archive", "encrypted"));
    }
    v.push((
        "zip bomb (ratio)",
        zip_of(
            &p("bomb.zip"),
            &[
                ("index.html", HTML, Deflated),
                ("data.bin", &vec![0u8; 24 << 20], Deflated),
            ],
        ),
        "archive",
        "ZIP bomb",
    ));
    {
        let names: Vec<String> = (0..10_001).map(|i| format!("f{i}.txt")).collect();
        let entries: Vec<(&str, &[u8], CompressionMethod)> = names
            .iter()
            .map(|n| (n.as_str(), &b"x"[..], Stored))
            .collect();
        v.push((
            "too many entries (total limit)",
            zip_of(&p("many.zip"), &entries),
            "archive",
            "10001 entries",
        ));
    }
    {
        let inner = std::io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(inner);
        let o = SimpleFileOptions::default()
            .compression_method(Deflated)
            .compression_level(Some(9));
        w.start_file("streams/1/topics/1/partitions/1/0.log", o)
            .unwrap();
        w.write_all(&vec![0u8; 24 << 20]).unwrap();
        let inner = w.finish().unwrap().into_inner();
        v.push((
            "nested bomb in iggy-data.zip",
            zip_of(
                &p("nested.zip"),
                &[
                    ("index.html", HTML, Deflated),
                    ("iggy-data.zip", &inner, Stored),
                ],
            ),
            "archive",
            "ZIP bomb",
        ));
    }
    {
        let path = zip_of(
            &p("dup.zip"),
            &[
                ("index.html", HTML, Deflated),
                ("indey.html", HTML, Deflated),
            ],
        );
        patch(&path, b"indey.html", b"index.html");
        v.push(("duplicate names", path, "archive", "share one name"));
    }
    {
        let path = zip_of(
            &p("size.zip"),
            &[
                ("index.html", HTML, Stored),
                ("notes.txt", b"twelve bytes", Stored),
            ],
        );
        // Uncompressed size: local header +22, central header +24; claim 4 bytes more.
        patch_u32(&path, LOCAL, 22, |s| if s == 12 { 16 } else { s });
        patch_u32(&path, CENTRAL, 24, |s| if s == 12 { 16 } else { s });
        v.push(("size fields that lie", path, "archive", "declared size"));
    }
    {
        let path = zip_of(&p("crc.zip"), &[("index.html", HTML, Stored)]);
        patch(&path, b"<h1>Report</h1>", b"<h1>RepOrt</h1>");
        v.push(("CRC mismatch", path, "archive", "CRC-32"));
    }
    {
        let good = zip_of(&p("whole.zip"), &[("index.html", HTML, Deflated)]);
        let bytes = std::fs::read(&good).unwrap();
        let path = p("truncated.zip");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        std::fs::remove_file(good).unwrap();
        v.push(("truncated ZIP", path, "archive", "not a valid ZIP"));
    }
    {
        let path = p("not-a-zip.zip");
        std::fs::write(&path, b"%PDF-1.7 this is not a zip at all").unwrap();
        v.push(("not a ZIP", path, "archive", "not a valid ZIP"));
    }
    {
        let path = p("empty.zip");
        std::fs::write(&path, b"").unwrap();
        v.push(("empty file", path, "archive", "not a valid ZIP"));
    }
    v.push((
        "missing report",
        zip_of(&p("noreport.zip"), &[("data.bin", b"just data", Deflated)]),
        "archive",
        "holds no report",
    ));
    v.push((
        "manifest that is not JSON",
        zip_of(
            &p("badmanifest.zip"),
            &[
                ("report.html", HTML, Deflated),
                ("manifest.json", b"{not json", Deflated),
            ],
        ),
        "archive",
        "manifest",
    ));
    v
}

fn library_files(home: &Path) -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
    }
    let mut out = Vec::new();
    for sub in ["archives", "tmp"] {
        walk(&home.join("data/library").join(sub), &mut out);
    }
    out
}

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

#[test]
fn every_hostile_archive_is_refused_with_its_error_and_the_library_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let corpus_dir = tmp.path().join("corpus");
    std::fs::create_dir_all(&corpus_dir).unwrap();
    let corpus = corpus(&corpus_dir);
    assert!(corpus.len() >= 14, "{} kinds", corpus.len());
    for (kind, path, code, says) in &corpus {
        let before = std::fs::read(path).unwrap();
        let o = snapdesk(&home)
            .args(["--json", "library", "import"])
            .arg(path)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{kind}: {}", stdout(&o));
        let v = json(&o);
        assert_eq!(v["error"]["code"], *code, "{kind}: {v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(says), "{kind}: {msg:?} should say {says:?}");
        // The user's file, never the library's temp copy of it.
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(msg.contains(&name), "{kind}: {msg:?} should name {name}");
        assert!(
            !msg.contains(".partial") && !msg.contains("library/tmp"),
            "{kind}: {msg:?} names the temp copy"
        );
        assert!(
            !msg.contains('\x1b'),
            "{kind}: a raw control character: {msg:?}"
        );
        assert_eq!(
            std::fs::read(path).unwrap(),
            before,
            "{kind}: the original changed"
        );
        assert!(
            library_files(&home).is_empty(),
            "{kind}: {:?}",
            library_files(&home)
        );
        let list = json(
            &snapdesk(&home)
                .args(["--json", "library", "list"])
                .output()
                .unwrap(),
        );
        assert_eq!(list["items"].as_array().unwrap().len(), 0, "{kind}: {list}");
    }
    let v = snapdesk(&home)
        .args(["--json", "library", "verify"])
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
}

#[test]
fn our_archives_foreign_reports_and_iggy_snapshots_are_imported_and_searchable() {
    let Some(fixtures) = skip::fixtures_or_skip(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let html = zip_of(
        &tmp.path().join("foreign.zip"),
        &[("out/index.html", HTML, CompressionMethod::Deflated)],
    );
    let mut report = snapdesk_report::sample::sample_report(8, 2);
    report.node_id = Some("610809900976570889".into());
    let ours = snapdesk_report::sample::write_archive(&tmp.path().join("ours.zip"), &report, None)
        .unwrap();
    let iggy = fixtures.join("iggy/0.8.0/iggy-snapshot.zip");
    let o = snapdesk(&home)
        .args(["--json", "library", "import"])
        .arg(&ours)
        .arg(&html)
        .arg(&iggy)
        .arg(&ours)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v = json(&o);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    assert_eq!(items[3]["deduplicated"], true);
    assert_eq!(items[3]["id"], items[0]["id"]);
    assert!(items[0]["id"].is_string(), "ids are strings: {v}");

    let list = json(
        &snapdesk(&home)
            .args(["--json", "library", "list"])
            .output()
            .unwrap(),
    );
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["iggy_snapshot", "html", "snapdesk"]);
    assert!(list["items"][2]["node_id"].is_string());

    // The foreign report's table row became a failing check; Iggy's sections are checks too.
    let hits = json(
        &snapdesk(&home)
            .args(["--json", "library", "search", "disk", "status:fail"])
            .output()
            .unwrap(),
    );
    assert_eq!(hits["items"].as_array().unwrap().len(), 1, "{hits}");
    let hits = json(
        &snapdesk(&home)
            .args(["--json", "library", "search", "category:iggy-snapshot"])
            .output()
            .unwrap(),
    );
    assert!(hits["items"].as_array().unwrap().len() >= 3, "{hits}");
    let v = snapdesk(&home)
        .args(["library", "verify"])
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(0), "{}", stdout(&v));
}

//! The inspector against real data directories written by Iggy servers 0.8.0 and
//! 0.9.0-edge.5 (`../shared/fixtures/iggy/`), their torn copies and snapshot ZIPs. The 0.8
//! numbers are the fixture's published ground truth; the 0.9 numbers follow from the layout
//! in Iggy's source (see `seg.rs`): a batch is 256 bytes plus 48 + payload + headers per
//! message, and every checksum is recomputed, so a misread field cannot pass.
//!
//! Test code only: `lib.rs` declares this module under `#[cfg(test)]`.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

use crate::model::{ConsumerKind, FindingKind, Format, Inspection, Severity};
use crate::{inspect, InspectError};

const V08: &str = "0.8.0";
const V09: &str = "0.9.0-edge.5-cc269ef7";

fn fixtures() -> Option<PathBuf> {
    crate::test_skip::fixtures_or_skip(env!("CARGO_MANIFEST_DIR")).map(|p| p.join("iggy"))
}

/// Unpacks `<version>/<name>` into a temp dir; returns the dir and the data directory in it.
fn unpack(version: &str, name: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    let src = fixtures()?.join(version).join(name);
    let tmp = tempfile::tempdir().unwrap();
    let gz = flate2::read::GzDecoder::new(File::open(&src).unwrap());
    tar::Archive::new(gz).unpack(tmp.path()).unwrap();
    let data = tmp.path().join("local_data");
    assert!(data.is_dir(), "{} has no local_data/", src.display());
    Some((tmp, data))
}

fn quiet(ins: &Inspection) -> bool {
    ins.findings.iter().all(|f| f.severity == Severity::Info)
}

/// (segments, messages, first, last, log bytes, index bytes, payload bytes, messages with
/// headers, header bytes) of `streams/s/topics/t/partitions/p`.
type Row = (
    u32,
    u32,
    u32,
    usize,
    u64,
    Option<u64>,
    Option<u64>,
    u64,
    u64,
    u64,
    u64,
    u64,
);

fn check_rows(ins: &Inspection, rows: &[Row]) {
    for &(s, t, p, segs, msgs, first, last, log, index, payload, wh, hb) in rows {
        let part = ins
            .partition(s, t, p)
            .unwrap_or_else(|| panic!("no partition {s}/{t}/{p}"));
        let got = (
            part.segments.len(),
            part.messages,
            part.first_offset,
            part.last_offset,
            part.log_bytes,
            part.index_bytes,
            part.payload_bytes,
            part.messages_with_headers,
            part.header_bytes,
        );
        assert_eq!(
            got,
            (segs, msgs, first, last, log, index, payload, wh, hb),
            "partition {s}/{t}/{p}"
        );
    }
}

/// (stream id, name, [(topic id, name)]).
type Names = Vec<(u32, String, Vec<(u32, String)>)>;

fn names(ins: &Inspection) -> Names {
    ins.streams
        .iter()
        .map(|s| {
            (
                s.id,
                s.name.clone().unwrap_or_default(),
                s.topics
                    .iter()
                    .map(|t| (t.id, t.name.clone().unwrap_or_default()))
                    .collect(),
            )
        })
        .collect()
}

fn consumers(ins: &Inspection) -> Vec<(String, u64, u64, Option<u64>)> {
    let mut v = Vec::new();
    for s in &ins.streams {
        for t in &s.topics {
            for p in &t.partitions {
                for c in &p.consumers {
                    assert_eq!(c.kind, ConsumerKind::Consumer);
                    v.push((format!("{}/{}/{}", s.id, t.id, p.id), c.id, c.offset, c.lag));
                }
            }
        }
    }
    v
}

fn expected_names() -> Names {
    vec![
        (
            0,
            "orders".into(),
            vec![(0, "events".into()), (1, "audit".into())],
        ),
        (1, "metrics".into(), vec![(0, "cpu".into())]),
    ]
}

fn expected_consumers() -> Vec<(String, u64, u64, Option<u64>)> {
    vec![
        ("0/0/0".into(), 2476224984, 41, Some(58)),
        ("0/0/1".into(), 2476224984, 9, Some(50)),
        ("1/0/0".into(), 1792609233, 25, Some(24)),
    ]
}

#[test]
fn v08_reproduces_every_number_of_the_ground_truth() {
    let Some((_tmp, data)) = unpack(V08, "local_data.tar.gz") else {
        return;
    };
    let ins = inspect(&data).unwrap();
    assert_eq!(ins.format, Format::V08);
    assert!(quiet(&ins), "{:#?}", ins.findings);
    check_rows(
        &ins,
        &[
            (0, 0, 0, 1, 100, Some(0), Some(99), 11200, 1600, 4800, 0, 0),
            (0, 0, 1, 1, 60, Some(0), Some(59), 6720, 960, 2880, 0, 0),
            (0, 0, 2, 1, 40, Some(0), Some(39), 4480, 640, 1920, 0, 0),
            (
                0,
                1,
                0,
                2,
                325,
                Some(0),
                Some(324),
                1320800,
                5200,
                1300000,
                0,
                0,
            ),
            (1, 0, 0, 1, 50, Some(0), Some(49), 7400, 800, 1600, 50, 2600),
            (1, 0, 1, 1, 50, Some(0), Some(49), 5300, 800, 1600, 25, 500),
        ],
    );
    let t = &ins.totals;
    assert_eq!(
        (
            t.streams,
            t.topics,
            t.partitions,
            t.segments,
            t.messages,
            t.log_bytes
        ),
        (2, 3, 6, 7, 625, 1_355_900)
    );
    assert_eq!(t.consumer_groups, 1);
    // Per segment: messages, offsets, bytes and index entries.
    let audit = ins.partition(0, 1, 0).unwrap();
    let segs: Vec<_> = audit
        .segments
        .iter()
        .map(|s| {
            (
                s.start_offset,
                s.messages,
                s.first_offset,
                s.last_offset,
                s.log_bytes,
                s.index_bytes,
                s.index_entries,
            )
        })
        .collect();
    assert_eq!(
        segs,
        [
            (0, 300, Some(0), Some(299), 1_219_200, 4800, 300),
            (300, 25, Some(300), Some(324), 101_600, 400, 25),
        ]
    );
    assert!(audit.batches.is_none(), "0.8 has no batches");
    assert_eq!(names(&ins), expected_names());
    assert_eq!(consumers(&ins), expected_consumers());
    let events = &ins.streams[0].topics[0];
    assert_eq!(events.consumer_groups.len(), 1);
    assert_eq!(
        (
            events.consumer_groups[0].id,
            events.consumer_groups[0].name.as_str()
        ),
        (0, "cg-events")
    );
    assert_eq!(events.partitions_count, Some(3));
    // Topic totals as `iggy topic get` printed them: 200, 325 and 100 messages.
    let topic_msgs: Vec<u64> = ins
        .streams
        .iter()
        .flat_map(|s| s.topics.iter().map(|t| t.totals.messages))
        .collect();
    assert_eq!(topic_msgs, [200, 325, 100]);
}

#[test]
fn v08_torn_segment_is_found_with_the_last_whole_offset_and_the_bytes_cut() {
    let Some((_tmp, data)) = unpack(V08, "local_data-torn.tar.gz") else {
        return;
    };
    let ins = inspect(&data).unwrap();
    let log = "streams/0/topics/1/partitions/0/00000000000000000300.log";
    let torn: Vec<_> = ins
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::TornSegment)
        .collect();
    assert_eq!(torn.len(), 1, "{:#?}", ins.findings);
    let f = torn[0];
    assert_eq!((f.severity, f.path.as_str()), (Severity::Error, log));
    // Ten whole messages of 4064 bytes: the cut message starts at 40,640.
    assert_eq!(f.byte_offset, Some(40_640));
    assert!(
        f.message.contains("last whole message is offset 309"),
        "{}",
        f.message
    );
    assert!(
        f.message
            .contains("offset 310 is cut after 2064 of its 4064 bytes"),
        "{}",
        f.message
    );
    assert!(f.message.contains("2000 bytes missing"), "{}", f.message);
    // Its index still has 25 entries: 10..24 point past the 42,704 bytes left.
    let past: Vec<_> = ins
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::IndexPastLog)
        .collect();
    assert_eq!(past.len(), 1, "{:#?}", ins.findings);
    assert_eq!(past[0].path, log.replace(".log", ".index"));
    assert_eq!(past[0].byte_offset, Some(10 * 16));
    assert!(
        past[0].message.starts_with("15 index entries"),
        "{}",
        past[0].message
    );
    let seg = &ins.partition(0, 1, 0).unwrap().segments[1];
    assert_eq!(
        (
            seg.messages,
            seg.first_offset,
            seg.last_offset,
            seg.log_bytes
        ),
        (10, Some(300), Some(309), 42_704)
    );
    // Nothing else is wrong.
    assert_eq!(ins.count(Severity::Error), 2, "{:#?}", ins.findings);
    assert_eq!(ins.count(Severity::Warning), 0, "{:#?}", ins.findings);
}

#[test]
fn v09_numbers_follow_from_the_layout_in_iggys_source_and_every_checksum_holds() {
    let Some((_tmp, data)) = unpack(V09, "local_data.tar.gz") else {
        return;
    };
    let ins = inspect(&data).unwrap();
    assert_eq!(ins.format, Format::V09);
    // Every message, batch and offset checksum recomputed and equal: no finding at all.
    assert!(quiet(&ins), "{:#?}", ins.findings);
    // A batch is 256 bytes + (48 + payload + headers) per message; the index holds one
    // 24-byte entry per disk write.
    let b = |n: u64, per: u64| 256 + n * per;
    check_rows(
        &ins,
        &[
            (
                0,
                0,
                0,
                1,
                100,
                Some(0),
                Some(99),
                2 * b(50, 96),
                24,
                4800,
                0,
                0,
            ),
            (0, 0, 1, 1, 60, Some(0), Some(59), b(60, 96), 24, 2880, 0, 0),
            (0, 0, 2, 1, 40, Some(0), Some(39), b(40, 96), 24, 1920, 0, 0),
            (
                0,
                1,
                0,
                2,
                300,
                Some(0),
                Some(299),
                12 * b(25, 4048),
                48,
                1_200_000,
                0,
                0,
            ),
            // Three headers (core, host, hot) take 52 bytes per message.
            (
                1,
                0,
                0,
                1,
                50,
                Some(0),
                Some(49),
                b(50, 48 + 32 + 52),
                24,
                1600,
                50,
                2600,
            ),
            // 25 without headers, then 25 with `host:string:node-b` (20 bytes).
            (
                1,
                0,
                1,
                1,
                50,
                Some(0),
                Some(49),
                b(25, 80) + b(25, 100),
                24,
                1600,
                25,
                500,
            ),
        ],
    );
    let batches: Vec<Option<u64>> = [
        (0, 0, 0),
        (0, 0, 1),
        (0, 0, 2),
        (0, 1, 0),
        (1, 0, 0),
        (1, 0, 1),
    ]
    .iter()
    .map(|&(s, t, p)| ins.partition(s, t, p).unwrap().batches)
    .collect();
    // One batch per `message send`: 2, 1, 1, 12, 1, 2.
    assert_eq!(
        batches,
        [Some(2), Some(1), Some(1), Some(12), Some(1), Some(2)]
    );
    let audit = ins.partition(0, 1, 0).unwrap();
    let segs: Vec<_> = audit
        .segments
        .iter()
        .map(|s| {
            (
                s.start_offset,
                s.messages,
                s.last_offset,
                s.log_bytes,
                s.batches,
            )
        })
        .collect();
    // The 1 MiB segment size rolls after 11 batches (275 messages).
    assert_eq!(
        segs,
        [
            (0, 275, Some(274), 11 * b(25, 4048), Some(11)),
            (275, 25, Some(299), b(25, 4048), Some(1)),
        ]
    );
    assert_eq!(names(&ins), expected_names());
    assert_eq!(consumers(&ins), expected_consumers());
    let orders = &ins.streams[0];
    assert_eq!(orders.topics[1].segment_size, Some(1024 * 1024));
    assert_eq!(orders.topics[0].partitions_count, Some(3));
    assert_eq!(
        orders.topics[0]
            .consumer_groups
            .iter()
            .map(|g| (g.id, g.name.as_str()))
            .collect::<Vec<_>>(),
        [(0, "cg-events")]
    );
    let t = &ins.totals;
    assert_eq!(
        (
            t.streams,
            t.topics,
            t.partitions,
            t.segments,
            t.messages,
            t.batches
        ),
        (2, 3, 6, 7, 600, 19)
    );
}

#[test]
fn v09_torn_segment_is_found_inside_its_batch() {
    let Some((_tmp, data)) = unpack(V09, "local_data-torn.tar.gz") else {
        return;
    };
    let ins = inspect(&data).unwrap();
    let log = "streams/0/topics/1/partitions/0/00000000000000000275.log";
    let errors: Vec<_> = ins
        .findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .collect();
    assert_eq!(errors.len(), 1, "{:#?}", ins.findings);
    let f = errors[0];
    assert_eq!((f.kind, f.path.as_str()), (FindingKind::TornSegment, log));
    // Batch header + ten whole 4048-byte frames.
    assert_eq!(f.byte_offset, Some(256 + 10 * 4048));
    assert!(
        f.message.contains("last whole message is offset 284"),
        "{}",
        f.message
    );
    // 101,456 - 42,784 bytes of the batch are gone.
    assert!(
        f.message.contains("58672 bytes of it are missing"),
        "{}",
        f.message
    );
    let seg = &ins.partition(0, 1, 0).unwrap().segments[1];
    assert_eq!(
        (
            seg.messages,
            seg.first_offset,
            seg.last_offset,
            seg.log_bytes
        ),
        (10, Some(275), Some(284), 42_784)
    );
}

#[test]
fn iggys_own_snapshot_zips_say_they_hold_no_data() {
    let Some(fx) = fixtures() else {
        return;
    };
    for v in [V08, V09] {
        let err = inspect(&fx.join(v).join("iggy-snapshot.zip")).unwrap_err();
        assert!(
            matches!(
                err,
                InspectError::NoData {
                    iggy_snapshot: true,
                    ..
                }
            ),
            "{v}: {err}"
        );
        assert!(err.to_string().contains("Apache Iggy's own"), "{err}");
    }
}

/// Zips a directory: entries relative to it, directories included.
fn zip_dir(dir: &Path, method: CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(method);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap()).collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if e.file_type().unwrap().is_dir() {
                w.add_directory(rel, opts).unwrap();
                stack.push(e.path());
            } else {
                w.start_file(rel, opts).unwrap();
                w.write_all(&std::fs::read(e.path()).unwrap()).unwrap();
            }
        }
    }
    w.finish().unwrap().into_inner()
}

fn snapshot_zip(inner: &[u8], method: CompressionMethod) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = SimpleFileOptions::default();
    w.start_file("report.html", o).unwrap();
    w.write_all(b"<html><body>report</body></html>").unwrap();
    w.start_file("manifest.json", o).unwrap();
    w.write_all(b"{}").unwrap();
    w.start_file("iggy-data.zip", o.compression_method(method))
        .unwrap();
    w.write_all(inner).unwrap();
    w.finish().unwrap().into_inner()
}

#[test]
fn snapshot_zips_and_bare_data_zips_read_in_place_give_the_directorys_result() {
    for (version, tarball) in [
        (V08, "local_data.tar.gz"),
        (V09, "local_data.tar.gz"),
        (V08, "local_data-torn.tar.gz"),
        (V09, "local_data-torn.tar.gz"),
    ] {
        let Some((tmp, data)) = unpack(version, tarball) else {
            return;
        };
        let mut want = inspect(&data).unwrap();
        want.source.clear();
        for (inner_method, outer_method) in [
            (CompressionMethod::Stored, CompressionMethod::Stored),
            (CompressionMethod::Deflated, CompressionMethod::Stored),
            (CompressionMethod::Deflated, CompressionMethod::Deflated),
        ] {
            let inner = zip_dir(&data, inner_method);
            let bare = tmp.path().join("iggy-data.zip");
            std::fs::write(&bare, &inner).unwrap();
            let snap = tmp.path().join("snapshot.zip");
            std::fs::write(&snap, snapshot_zip(&inner, outer_method)).unwrap();
            for p in [&bare, &snap] {
                let mut got = inspect(p).unwrap();
                assert!(got.source.starts_with(&p.display().to_string()));
                got.source.clear();
                assert_eq!(
                    got,
                    want,
                    "{version} {tarball} {} {inner_method:?}/{outer_method:?}",
                    p.display()
                );
            }
        }
        // The tarball's own layout zipped with its `local_data/` prefix reads the same.
        let prefixed = zip_dir(data.parent().unwrap(), CompressionMethod::Deflated);
        let p = tmp.path().join("prefixed.zip");
        std::fs::write(&p, prefixed).unwrap();
        let mut got = inspect(&p).unwrap();
        got.source.clear();
        assert_eq!(got, want, "{version} prefixed");
    }
}

fn rewrite(path: &Path, at: usize, bytes: &[u8]) {
    let mut all = std::fs::read(path).unwrap();
    all[at..at + bytes.len()].copy_from_slice(bytes);
    std::fs::write(path, all).unwrap();
}

#[test]
fn damage_is_found_where_it_is() {
    let Some((_tmp, data)) = unpack(V08, "local_data.tar.gz") else {
        return;
    };
    let p0 = data.join("streams/0/topics/0/partitions/0");
    // One flipped payload byte in the message at offset 7 (112 bytes a message).
    let log = p0.join("00000000000000000000.log");
    let mut all = std::fs::read(&log).unwrap();
    all[7 * 112 + 64 + 5] ^= 0x20;
    std::fs::write(&log, &all).unwrap();
    // The message at offset 50 claims offset 60, with a checksum that matches the lie.
    let m = 50 * 112;
    all[m + 24..m + 32].copy_from_slice(&60u64.to_le_bytes());
    let sum = twox_hash::XxHash3_64::oneshot(&all[m + 8..m + 112]);
    all[m..m + 8].copy_from_slice(&sum.to_le_bytes());
    std::fs::write(&log, &all).unwrap();
    // A consumer offset past the end, and a stray file.
    rewrite(
        &p0.join("offsets/consumers/2476224984"),
        0,
        &500u64.to_le_bytes(),
    );
    std::fs::write(p0.join("notes.txt"), b"hello").unwrap();

    let ins = inspect(&data).unwrap();
    let log_rel = "streams/0/topics/0/partitions/0/00000000000000000000.log";
    let find = |kind: FindingKind| {
        ins.findings
            .iter()
            .find(|f| f.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} in {:#?}", ins.findings))
    };
    let sum = find(FindingKind::ChecksumMismatch);
    assert_eq!(
        (sum.path.as_str(), sum.byte_offset),
        (log_rel, Some(7 * 112))
    );
    assert!(sum.message.contains("offset 7"), "{}", sum.message);
    let gap = find(FindingKind::OffsetGap);
    assert_eq!(gap.byte_offset, Some(50 * 112));
    assert!(
        gap.message.contains("offsets 50..59 are missing"),
        "{}",
        gap.message
    );
    let overlap = find(FindingKind::OffsetOverlap);
    assert_eq!(overlap.byte_offset, Some(51 * 112));
    let idx = find(FindingKind::IndexMismatch);
    assert_eq!(idx.byte_offset, Some(50 * 16));
    let beyond = find(FindingKind::ConsumerOffsetBeyondEnd);
    assert!(
        beyond
            .message
            .contains("500 is beyond the partition's last offset 99"),
        "{}",
        beyond.message
    );
    let c = &ins.partition(0, 0, 0).unwrap().consumers[0];
    assert_eq!((c.offset, c.lag), (500, Some(0)));
    let unknown = find(FindingKind::UnknownFile);
    assert_eq!(unknown.path, "streams/0/topics/0/partitions/0/notes.txt");
    assert_eq!(unknown.severity, Severity::Info);
}

#[test]
fn v09_damaged_offset_and_journal_checksums_are_found() {
    let Some((_tmp, data)) = unpack(V09, "local_data.tar.gz") else {
        return;
    };
    let off = data.join("streams/1/topics/0/partitions/0/offsets/consumers/1792609233");
    rewrite(&off, 0, &26u64.to_le_bytes());
    // The body of the first CreateStream (`orders`, op 2 at byte 256) loses a letter.
    rewrite(&data.join("metadata/journal.wal"), 256 + 256 + 1, b"O");
    let ins = inspect(&data).unwrap();
    let sums: Vec<_> = ins
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::ChecksumMismatch)
        .map(|f| (f.path.as_str(), f.byte_offset))
        .collect();
    assert_eq!(
        sums,
        [
            ("metadata/journal.wal", Some(256)),
            (
                "streams/1/topics/0/partitions/0/offsets/consumers/1792609233",
                Some(8)
            ),
        ]
    );
}

#[test]
fn anything_else_is_an_unknown_format() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("random")).unwrap();
    std::fs::write(tmp.path().join("random/file.bin"), b"x").unwrap();
    let err = inspect(tmp.path()).unwrap_err();
    assert!(matches!(err, InspectError::UnknownFormat { .. }), "{err}");
    assert!(err.to_string().starts_with("unknown format"), "{err}");
    assert!(err.to_string().contains("found random"), "{err}");
}

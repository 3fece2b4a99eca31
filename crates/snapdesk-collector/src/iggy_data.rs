//! The Iggy data directory as the collector reports it: the inspector (`snapdesk-iggy`) runs
//! over the directory being bundled, its findings become checks (one per kind of problem,
//! so a report's filters and totals count them), and its tree becomes the report's "Iggy
//! data" section.
//!
//! One judgement is the collector's own: on a host where the server is running, a torn tail
//! on the newest segment of a partition may be a write in flight, not damage, so it warns
//! rather than fails (the same tear on a stopped server, or on an older segment, fails).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use snapdesk_core::Error;
use snapdesk_iggy::text::{bytes, thousands};
use snapdesk_iggy::{ConsumerKind, Finding, FindingKind, Inspection, Severity};
use snapdesk_report::iggy_data::{IggyDataFinding, IggyDataRow, IggyDataSection};
use snapdesk_report::{Check, Evidence, Fact, Status};

pub const CATEGORY: &str = "Iggy data";
/// Findings quoted per check; the section lists them all.
const MAX_EVIDENCE: usize = 20;

/// What one inspection gave, with how long it took.
#[derive(Debug)]
pub struct DataInspection {
    pub result: Result<Inspection, Error>,
    pub duration_ms: u64,
}

/// Inspects the data directory.
pub fn inspect(dir: &Path) -> DataInspection {
    let started = Instant::now();
    let result = snapdesk_iggy::inspect(dir).map_err(Error::from);
    DataInspection {
        result,
        duration_ms: started.elapsed().as_millis() as u64,
    }
}

struct Group {
    id: &'static str,
    title: &'static str,
    kinds: &'static [FindingKind],
    clean: &'static str,
    remediation: &'static str,
}

const GROUPS: [Group; 7] = [
    Group {
        id: "iggy_data.segments_whole",
        title: "Segments end on a whole message",
        kinds: &[FindingKind::TornSegment],
        clean: "every segment ends on a whole message or batch",
        remediation: "Stop the server and keep a copy of the data directory before anything \
                      rewrites it. 0.8 serves a torn segment silently short; 0.9 refuses to \
                      start (RecoveredSegmentSizeDivergence). Messages after the last whole one \
                      are lost on this node: recover them from a replica or the producers, then \
                      truncate the segment at the byte offset given.",
    },
    Group {
        id: "iggy_data.indexes",
        title: "Indexes agree with their logs",
        kinds: &[
            FindingKind::IndexPastLog,
            FindingKind::IndexMismatch,
            FindingKind::IndexMissing,
        ],
        clean: "every index entry points at the message or batch it names",
        remediation: "An index out of step with its log sends reads to the wrong bytes: with \
                      the server stopped, move the bad .index aside so the server rebuilds it, \
                      after fixing any torn segment it points past.",
    },
    Group {
        id: "iggy_data.offsets",
        title: "Offsets continuous within and across segments",
        kinds: &[FindingKind::OffsetGap, FindingKind::OffsetOverlap],
        clean: "offsets run without gaps or overlaps",
        remediation: "Gaps mean messages are missing on this node, overlaps that a segment was \
                      copied or restored twice: compare with a replica before consumers read \
                      across the gap.",
    },
    Group {
        id: "iggy_data.checksums",
        title: "Checksums and encodings hold",
        kinds: &[FindingKind::ChecksumMismatch, FindingKind::Malformed],
        clean: "every message, batch, metadata entry and stored offset matches its checksum",
        remediation: "Bytes changed after they were written (disk, memory or a copy): check \
                      the disk (SMART, dmesg) and restore the damaged files from a replica.",
    },
    Group {
        id: "iggy_data.consumer_offsets",
        title: "Stored consumer offsets within their partitions",
        kinds: &[FindingKind::ConsumerOffsetBeyondEnd],
        clean: "every stored consumer and group offset is at or before its partition's last offset",
        remediation: "An offset beyond the end makes the consumer skip the next messages: \
                      reset it (`iggy consumer-offset set`) to the offset it really processed.",
    },
    Group {
        id: "iggy_data.metadata",
        title: "Metadata matches the directories",
        kinds: &[FindingKind::MetadataMismatch],
        clean: "every stream, topic and partition in the metadata has its directory, and the other way round",
        remediation: "A partition missing on disk loses its messages; a directory the metadata \
                      does not know is left over from a deletion: check before removing it.",
    },
    Group {
        id: "iggy_data.files",
        title: "No unknown or unreadable files",
        kinds: &[FindingKind::UnknownFile, FindingKind::Unreadable],
        clean: "every file belongs to the format and could be read",
        remediation: "Unreadable files cannot be checked; unknown files are not Iggy's: find \
                      out what put them there.",
    },
];

fn status_of(f: &Finding, in_flight: &BTreeSet<String>) -> Status {
    match f.severity {
        Severity::Error if f.kind == FindingKind::TornSegment && in_flight.contains(&f.path) => {
            Status::Warn
        }
        Severity::Error if f.kind == FindingKind::Unreadable => Status::Error,
        Severity::Error => Status::Fail,
        Severity::Warning => Status::Warn,
        Severity::Info => Status::Info,
    }
}

fn line(f: &Finding) -> String {
    let at = f.byte_offset.map(|b| format!(" @{b}")).unwrap_or_default();
    format!("{} {}{at}: {}", f.severity, f.path, f.message)
}

fn check(id: &str, title: &str, status: Status, summary: String, duration_ms: u64) -> Check {
    Check {
        id: id.to_owned(),
        category: CATEGORY.to_owned(),
        title: title.to_owned(),
        status,
        summary,
        facts: Vec::new(),
        evidence: Vec::new(),
        remediation: None,
        duration_ms,
    }
}

/// The newest segment of every partition: where a running server may be writing.
fn newest_segments(ins: &Inspection) -> BTreeSet<String> {
    ins.streams
        .iter()
        .flat_map(|s| &s.topics)
        .flat_map(|t| &t.partitions)
        .filter_map(|p| p.segments.last().map(|s| s.path.clone()))
        .collect()
}

/// The checks: one that says what was read, then one per kind of problem.
pub fn checks(d: &DataInspection, server_running: bool) -> Vec<Check> {
    let ins = match &d.result {
        Ok(ins) => ins,
        Err(e) => {
            let status = if e.code == snapdesk_core::ErrorCode::InvalidInput {
                Status::Warn
            } else {
                Status::Error
            };
            let mut c = check(
                "iggy_data.inspection",
                "Iggy data directory read",
                status,
                e.message.clone(),
                d.duration_ms,
            );
            c.remediation = e.hint.clone();
            return vec![c];
        }
    };
    let t = &ins.totals;
    let mut head = check(
        "iggy_data.inspection",
        "Iggy data directory read",
        Status::Info,
        format!(
            "format {}: {} streams, {} topics, {} partitions, {} segments, {} messages, {} of segments",
            ins.format,
            t.streams,
            t.topics,
            t.partitions,
            thousands(t.segments),
            thousands(t.messages),
            bytes(t.log_bytes)
        ),
        d.duration_ms,
    );
    head.facts = totals_facts(ins);
    head.facts.push(Fact::new("source", &ins.source));
    let in_flight = if server_running {
        newest_segments(ins)
    } else {
        BTreeSet::new()
    };
    let mut out = vec![head];
    for g in &GROUPS {
        let found: Vec<&Finding> = ins
            .findings
            .iter()
            .filter(|f| g.kinds.contains(&f.kind))
            .collect();
        if found.is_empty() {
            out.push(check(g.id, g.title, Status::Pass, g.clean.to_owned(), 0));
            continue;
        }
        let status = found
            .iter()
            .map(|f| status_of(f, &in_flight))
            .fold(Status::Pass, |a, b| if b.rank() < a.rank() { b } else { a });
        let mut summary = format!(
            "{} finding{}: {}",
            found.len(),
            if found.len() == 1 { "" } else { "s" },
            line(found[0])
        );
        if found
            .iter()
            .any(|f| f.kind == FindingKind::TornSegment && in_flight.contains(&f.path))
        {
            summary.push_str(
                " (the server is running: a tear at the end of the newest segment may be a write in flight; collect again to tell)",
            );
        }
        let mut c = check(g.id, g.title, status, summary, 0);
        c.facts.push(Fact::new("findings", found.len()));
        c.evidence.push(Evidence::new(
            "iggy data inspector",
            found
                .iter()
                .take(MAX_EVIDENCE)
                .map(|f| line(f))
                .collect::<Vec<_>>()
                .join("\n"),
        ));
        if matches!(status, Status::Fail | Status::Warn | Status::Error) {
            c.remediation = Some(g.remediation.to_owned());
        }
        out.push(c);
    }
    out
}

fn totals_facts(ins: &Inspection) -> Vec<Fact> {
    let t = &ins.totals;
    vec![
        Fact::new("format", ins.format),
        Fact::new("streams", t.streams),
        Fact::new("topics", t.topics),
        Fact::new("partitions", t.partitions),
        Fact::new("segments", t.segments),
        Fact::new("messages", t.messages),
        Fact::new(".log bytes", t.log_bytes),
        Fact::new(".index bytes", t.index_bytes),
        Fact::new("consumer groups", t.consumer_groups),
        Fact::new("stored offsets", t.consumers),
    ]
}

fn offsets(first: Option<u64>, last: Option<u64>) -> String {
    match (first, last) {
        (Some(f), Some(l)) => format!("{f}..{l}"),
        _ => "empty".to_owned(),
    }
}

fn named(kind: &str, id: u32, name: &Option<String>) -> String {
    match name {
        Some(n) => format!("{kind} {id} {n}"),
        None => format!("{kind} {id} (not in metadata)"),
    }
}

/// The report's "Iggy data" section.
pub fn section(d: &DataInspection) -> IggyDataSection {
    let ins = match &d.result {
        Ok(ins) => ins,
        Err(e) => {
            return IggyDataSection {
                note: Some(e.message.clone()),
                ..IggyDataSection::default()
            }
        }
    };
    let mut rows = Vec::new();
    let row = |depth: u8, kind: &str, label: String| IggyDataRow {
        depth,
        kind: kind.to_owned(),
        label,
        messages: None,
        offsets: None,
        log_bytes: None,
        index_bytes: None,
        lag: None,
    };
    for s in &ins.streams {
        let mut r = row(0, "stream", named("stream", s.id, &s.name));
        r.messages = Some(s.totals.messages);
        r.log_bytes = Some(s.totals.log_bytes);
        r.index_bytes = Some(s.totals.index_bytes);
        rows.push(r);
        for t in &s.topics {
            let mut r = row(1, "topic", named("topic", t.id, &t.name));
            r.messages = Some(t.totals.messages);
            r.log_bytes = Some(t.totals.log_bytes);
            r.index_bytes = Some(t.totals.index_bytes);
            rows.push(r);
            for g in &t.consumer_groups {
                rows.push(row(
                    2,
                    "group",
                    format!("consumer group {} {}", g.id, g.name),
                ));
            }
            for p in &t.partitions {
                let mut r = row(2, "partition", format!("partition {}", p.id));
                r.messages = Some(p.messages);
                r.offsets = Some(offsets(p.first_offset, p.last_offset));
                r.log_bytes = Some(p.log_bytes);
                r.index_bytes = Some(p.index_bytes);
                rows.push(r);
                for sg in &p.segments {
                    let mut r = row(3, "segment", format!("segment {:020}", sg.start_offset));
                    r.messages = Some(sg.messages);
                    r.offsets = Some(offsets(sg.first_offset, sg.last_offset));
                    r.log_bytes = Some(sg.log_bytes);
                    r.index_bytes = Some(sg.index_bytes);
                    rows.push(r);
                }
                for c in &p.consumers {
                    let who = match c.kind {
                        ConsumerKind::Consumer => format!("consumer {}", c.id),
                        ConsumerKind::ConsumerGroup => format!(
                            "group {}{}",
                            c.id,
                            c.name.as_ref().map(|n| format!(" {n}")).unwrap_or_default()
                        ),
                    };
                    let mut r = row(3, "consumer", format!("{who}: offset {}", c.offset));
                    r.lag = c.lag;
                    rows.push(r);
                }
            }
        }
    }
    IggyDataSection {
        format: ins.format.to_string(),
        source: ins.source.clone(),
        note: None,
        totals: totals_facts(ins),
        rows,
        findings: ins
            .findings
            .iter()
            .map(|f| IggyDataFinding {
                severity: f.severity.to_string(),
                kind: f.kind.as_str().to_owned(),
                path: f.path.clone(),
                message: f.message.clone(),
                byte_offset: f.byte_offset,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use snapdesk_iggy::Format;

    fn with(findings: Vec<Finding>) -> DataInspection {
        let mut part = snapdesk_iggy::Partition::default();
        part.segments.push(snapdesk_iggy::Segment {
            path: "streams/0/topics/0/partitions/0/00000000000000000300.log".into(),
            ..Default::default()
        });
        let topic = snapdesk_iggy::Topic {
            partitions: vec![part],
            ..Default::default()
        };
        let stream = snapdesk_iggy::Stream {
            topics: vec![topic],
            ..Default::default()
        };
        DataInspection {
            result: Ok(Inspection {
                format: Format::V08,
                source: "d".into(),
                streams: vec![stream],
                totals: Default::default(),
                findings,
            }),
            duration_ms: 1,
        }
    }

    fn torn(path: &str) -> Finding {
        Finding {
            severity: Severity::Error,
            kind: FindingKind::TornSegment,
            path: path.into(),
            message: "torn segment".into(),
            byte_offset: Some(40640),
        }
    }

    fn status(checks: &[Check], id: &str) -> Status {
        checks.iter().find(|c| c.id == id).unwrap().status
    }

    #[test]
    fn a_torn_segment_fails_unless_a_running_server_may_be_writing_it() {
        let newest = "streams/0/topics/0/partitions/0/00000000000000000300.log";
        let d = with(vec![torn(newest)]);
        assert_eq!(
            status(&checks(&d, false), "iggy_data.segments_whole"),
            Status::Fail
        );
        let running = checks(&d, true);
        let c = running
            .iter()
            .find(|c| c.id == "iggy_data.segments_whole")
            .unwrap();
        assert_eq!(c.status, Status::Warn);
        assert!(c.summary.contains("write in flight"), "{}", c.summary);
        // An older segment torn is damage whatever the server does.
        let d = with(vec![torn(
            "streams/0/topics/0/partitions/0/00000000000000000000.log",
        )]);
        assert_eq!(
            status(&checks(&d, true), "iggy_data.segments_whole"),
            Status::Fail
        );
        // The other kinds pass, and every id is a dotted id of the data category.
        let all = checks(&d, false);
        assert_eq!(all.len(), 1 + GROUPS.len());
        assert_eq!(status(&all, "iggy_data.indexes"), Status::Pass);
        assert!(all
            .iter()
            .all(|c| c.id.starts_with("iggy_data.") && c.category == CATEGORY));
    }

    #[test]
    fn an_unknown_format_warns_and_says_so() {
        let d = DataInspection {
            result: Err(snapdesk_iggy::InspectError::UnknownFormat {
                label: "x".into(),
                seen: "y".into(),
            }
            .into()),
            duration_ms: 0,
        };
        let c = checks(&d, false);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].status, Status::Warn);
        assert!(
            c[0].summary.starts_with("unknown format"),
            "{}",
            c[0].summary
        );
        assert!(section(&d).note.is_some());
    }

    /// A whole collection over the torn 0.8 fixture: checks, the report's section, and the
    /// snapshot itself read back by the inspector through its nested `iggy-data.zip`.
    #[test]
    fn collect_turns_the_torn_fixture_into_failing_checks_and_a_section() {
        let Some(fixtures) = crate::test_skip::fixtures_or_skip(env!("CARGO_MANIFEST_DIR")) else {
            return;
        };
        let tarball = fixtures.join("iggy/0.8.0/local_data-torn.tar.gz");
        let tmp = tempfile::tempdir().unwrap();
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(&tarball).unwrap());
        tar::Archive::new(gz).unpack(tmp.path()).unwrap();
        let data = tmp.path().join("local_data");
        let out = tmp.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let opts = crate::CollectOptions {
            out: Some(out.clone()),
            iggy: crate::iggy::IggyHints {
                config_path: None,
                data_dir: Some(data.clone()),
            },
            ..Default::default()
        };
        let collected = crate::collect(&opts, &mut |_| {}).unwrap();
        let by_id = |id: &str| {
            collected
                .report
                .checks
                .iter()
                .find(|c| c.id == id)
                .unwrap_or_else(|| panic!("no check {id}"))
                .clone()
        };
        let torn = by_id("iggy_data.segments_whole");
        // No Iggy server runs here: the tear is damage.
        assert_eq!(torn.status, Status::Fail, "{}", torn.summary);
        assert!(
            torn.summary.contains("00000000000000000300.log @40640"),
            "{}",
            torn.summary
        );
        assert_eq!(by_id("iggy_data.indexes").status, Status::Fail);
        assert_eq!(by_id("iggy_data.checksums").status, Status::Pass);
        let head = by_id("iggy_data.inspection");
        assert!(
            head.summary.starts_with(
                "format 0.8: 2 streams, 3 topics, 6 partitions, 7 segments, 610 messages"
            ),
            "{}",
            head.summary
        );
        // The manifest counts the data checks with the others.
        assert_eq!(collected.manifest.checks, collected.report.counts());

        let html =
            snapdesk_report::archive::read_entry(&collected.path, "report.html", 64 << 20).unwrap();
        let html = String::from_utf8(html).unwrap();
        let section = snapdesk_report::iggy_data::extract(&html).expect("an Iggy data section");
        assert_eq!(section.format, "0.8");
        assert!(html.contains("<h2 id=\"iggy-data-h\">Iggy data</h2>"));
        assert!(section
            .rows
            .iter()
            .any(|r| r.kind == "consumer" && r.lag == Some(58)));
        assert!(section
            .findings
            .iter()
            .any(|f| f.kind == "torn_segment" && f.byte_offset == Some(40640)));

        // The snapshot, read in place by the inspector, says what the directory says.
        let from_zip = snapdesk_iggy::inspect(&collected.path).unwrap();
        let from_dir = snapdesk_iggy::inspect(&data).unwrap();
        assert!(
            from_zip.source.ends_with("!iggy-data.zip"),
            "{}",
            from_zip.source
        );
        assert_eq!(
            (from_zip.streams, from_zip.findings),
            (from_dir.streams, from_dir.findings)
        );
    }
}

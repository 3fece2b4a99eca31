//! The inspection: detect the era, replay the metadata, walk
//! `streams/<s>/topics/<t>/partitions/<p>/`, scan every segment, read every stored offset,
//! and compare what the metadata says with what is on disk.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::error::InspectError;
use crate::meta::{self, Metadata};
use crate::model::{
    ConsumerGroup, ConsumerKind, ConsumerOffset, Finding, FindingKind, Format, Inspection,
    Partition, Severity, Stream, Topic, Totals,
};
use crate::seg::{self, Mark, SegmentFiles};
use crate::source::{self, Tree};

/// Inspects a data directory, a bare `iggy-data.zip`, or a snapshot ZIP that carries one.
pub fn inspect(path: &Path) -> Result<Inspection, InspectError> {
    let tree = source::open(path)?;
    inspect_tree(&tree)
}

/// The era, from the files present.
pub fn detect(tree: &Tree) -> Option<Format> {
    if tree.has_file("metadata/journal.wal") {
        Some(Format::V09)
    } else if tree.has_file("state/log") || tree.has_file("state/info") {
        Some(Format::V08)
    } else {
        None
    }
}

#[derive(Default)]
struct PartFiles {
    /// start offset → (`.log`, `.index`)
    segments: BTreeMap<u64, (Option<String>, Option<String>)>,
    offsets: Vec<(ConsumerKind, u64, String)>,
}

type Layout = BTreeMap<u32, BTreeMap<u32, BTreeMap<u32, PartFiles>>>;

fn finding(severity: Severity, kind: FindingKind, path: &str, message: String) -> Finding {
    Finding {
        severity,
        kind,
        path: path.to_owned(),
        message,
        byte_offset: None,
    }
}

fn unknown(path: &str, why: &str) -> Finding {
    finding(
        Severity::Info,
        FindingKind::UnknownFile,
        path,
        format!("unknown file: {why}"),
    )
}

/// Files outside `streams/` that each era has.
fn known_outside_streams(format: Format, rel: &str) -> bool {
    if rel.starts_with("logs/") || rel.starts_with("runtime/") {
        return true;
    }
    match format {
        Format::V08 => matches!(rel, "state/info" | "state/log"),
        // 0.9 keeps an empty legacy `state/log`.
        Format::V09 => matches!(rel, "metadata/journal.wal" | "state/log"),
    }
}

fn segment_name(name: &str) -> Option<(u64, bool)> {
    let (stem, ext) = name.rsplit_once('.')?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let start = stem.parse().ok()?;
    match ext {
        "log" => Some((start, true)),
        "index" => Some((start, false)),
        _ => None,
    }
}

/// Sorts every file of the tree into the layout, or into a finding.
fn layout(tree: &Tree, format: Format, out: &mut Vec<Finding>) -> Layout {
    let mut l = Layout::new();
    // Directories first, so that empty partitions show.
    for d in &tree.dirs {
        let parts: Vec<&str> = d.split('/').collect();
        let num = |s: &str| s.parse::<u32>().ok();
        match parts.as_slice() {
            ["streams", s] => {
                if let Some(s) = num(s) {
                    l.entry(s).or_default();
                }
            }
            ["streams", s, "topics", t] => {
                if let (Some(s), Some(t)) = (num(s), num(t)) {
                    l.entry(s).or_default().entry(t).or_default();
                }
            }
            ["streams", s, "topics", t, "partitions", p] => {
                if let (Some(s), Some(t), Some(p)) = (num(s), num(t), num(p)) {
                    l.entry(s)
                        .or_default()
                        .entry(t)
                        .or_default()
                        .entry(p)
                        .or_default();
                }
            }
            _ => {}
        }
    }
    for rel in tree.files.keys() {
        let parts: Vec<&str> = rel.split('/').collect();
        if parts.first() != Some(&"streams") {
            if !known_outside_streams(format, rel) {
                out.push(unknown(rel, "not part of this format's layout"));
            }
            continue;
        }
        let ids = |i: usize| parts.get(i).and_then(|s| s.parse::<u32>().ok());
        let shape = parts.len() >= 7
            && parts[2] == "topics"
            && parts[4] == "partitions"
            && ids(1).is_some()
            && ids(3).is_some()
            && ids(5).is_some();
        if !shape {
            out.push(unknown(
                rel,
                "outside streams/<id>/topics/<id>/partitions/<id>/",
            ));
            continue;
        }
        let (s, t, p) = (
            ids(1).unwrap_or(0),
            ids(3).unwrap_or(0),
            ids(5).unwrap_or(0),
        );
        let part = l
            .entry(s)
            .or_default()
            .entry(t)
            .or_default()
            .entry(p)
            .or_default();
        match &parts[6..] {
            [name] => match segment_name(name) {
                Some((start, true)) => {
                    part.segments.entry(start).or_default().0 = Some(rel.clone())
                }
                Some((start, false)) => {
                    part.segments.entry(start).or_default().1 = Some(rel.clone())
                }
                None if format == Format::V09 && *name == "purge.gen" => {}
                None => out.push(unknown(
                    rel,
                    "not a segment (<20-digit offset>.log or .index)",
                )),
            },
            ["offsets", kind @ ("consumers" | "groups"), id] => match id.parse::<u64>() {
                Ok(id) => {
                    let kind = if *kind == "consumers" {
                        ConsumerKind::Consumer
                    } else {
                        ConsumerKind::ConsumerGroup
                    };
                    part.offsets.push((kind, id, rel.clone()));
                }
                Err(_) => out.push(unknown(rel, "an offset file not named by a numeric id")),
            },
            _ => out.push(unknown(rel, "not a segment, index or offset file")),
        }
    }
    for (rel, why) in &tree.skipped {
        out.push(unknown(rel, why));
    }
    l
}

/// Reads a stored offset: 8 bytes (0.8, and 0.9 before checksums), or 8 bytes and their
/// XXH3-64 (0.9, `core/partitions/src/offset_storage.rs`).
fn read_offset(tree: &Tree, rel: &str, format: Format, out: &mut Vec<Finding>) -> Option<u64> {
    let mut bytes = Vec::with_capacity(17);
    let read = tree
        .open(rel)
        .and_then(|r| r.take(17).read_to_end(&mut bytes));
    if let Err(e) = read {
        out.push(finding(
            Severity::Error,
            FindingKind::Unreadable,
            rel,
            format!("cannot read the stored offset: {e}"),
        ));
        return None;
    }
    let malformed = |out: &mut Vec<Finding>, why: String| {
        out.push(Finding {
            severity: Severity::Error,
            kind: FindingKind::Malformed,
            path: rel.to_owned(),
            message: why,
            byte_offset: Some(0),
        });
    };
    if bytes.len() < 8 {
        malformed(
            out,
            format!(
                "the stored offset is torn: {} bytes where 8 are needed; the server reads it as absent",
                bytes.len()
            ),
        );
        return None;
    }
    let mut v = [0u8; 8];
    v.copy_from_slice(&bytes[..8]);
    let offset = u64::from_le_bytes(v);
    match (format, bytes.len()) {
        (_, 8) => Some(offset),
        (Format::V09, 16) => {
            let mut s = [0u8; 8];
            s.copy_from_slice(&bytes[8..16]);
            let stored = u64::from_le_bytes(s);
            let computed = twox_hash::XxHash3_64::oneshot(&bytes[..8]);
            if stored != computed {
                out.push(Finding {
                    severity: Severity::Error,
                    kind: FindingKind::ChecksumMismatch,
                    path: rel.to_owned(),
                    message: format!(
                        "the stored offset {offset} fails its checksum (stored {stored:#018x}, \
                         computed {computed:#018x}); the server discards it and the consumer \
                         may see redelivery"
                    ),
                    byte_offset: Some(8),
                });
                return None;
            }
            Some(offset)
        }
        (_, n) => {
            malformed(
                out,
                format!(
                    "the offset file has {n}{} bytes; this format writes {}",
                    if n > 16 { "+" } else { "" },
                    if format == Format::V09 {
                        "16 (offset and checksum)"
                    } else {
                        "8"
                    }
                ),
            );
            Some(offset)
        }
    }
}

fn read_metadata(tree: &Tree, format: Format, out: &mut Vec<Finding>) -> Metadata {
    let rel = match format {
        Format::V08 => "state/log",
        Format::V09 => "metadata/journal.wal",
    };
    let Some(meta) = tree.files.get(rel) else {
        out.push(finding(
            Severity::Warning,
            FindingKind::MetadataMismatch,
            rel,
            "the metadata file is missing: stream, topic and group names are unknown".into(),
        ));
        return Metadata::default();
    };
    match tree.open(rel) {
        Ok(r) => match format {
            Format::V08 => meta::read_state_log(r, rel, meta.size, out),
            Format::V09 => meta::read_journal(r, rel, meta.size, out),
        },
        Err(e) => {
            out.push(finding(
                Severity::Error,
                FindingKind::Unreadable,
                rel,
                format!("cannot read the metadata: {e}"),
            ));
            Metadata::default()
        }
    }
}

fn scan_partition(
    tree: &Tree,
    format: Format,
    id: u32,
    files: &PartFiles,
    groups: &BTreeMap<u32, String>,
    out: &mut Vec<Finding>,
    visit: seg::Visit<'_>,
) -> Partition {
    let mut part = Partition {
        id,
        batches: (format == Format::V09).then_some(0),
        ..Partition::default()
    };
    let mut prev_last: Option<(u64, String)> = None;
    for (start, (log, index)) in &files.segments {
        let Some(log) = log else {
            if let Some(ix) = index {
                out.push(finding(
                    Severity::Warning,
                    FindingKind::IndexMissing,
                    ix,
                    format!("an index for offset {start} with no .log beside it"),
                ));
            }
            continue;
        };
        if index.is_none() {
            out.push(finding(
                Severity::Warning,
                FindingKind::IndexMissing,
                log,
                "the segment has no .index: the server rebuilds it or reads without".into(),
            ));
        }
        let index_bytes = index
            .as_ref()
            .and_then(|i| tree.files.get(i))
            .map(|m| m.size)
            .unwrap_or(0);
        let sf = SegmentFiles {
            log_path: log,
            index_path: index.as_deref(),
            start_offset: *start,
            index_bytes,
        };
        let log_reader = match tree.open(log) {
            Ok(r) => r,
            Err(e) => {
                out.push(finding(
                    Severity::Error,
                    FindingKind::Unreadable,
                    log,
                    format!("cannot read the segment: {e}"),
                ));
                continue;
            }
        };
        let index_reader = match index.as_ref().map(|i| (i, tree.open(i))) {
            Some((_, Ok(r))) => Some(r),
            Some((i, Err(e))) => {
                out.push(finding(
                    Severity::Error,
                    FindingKind::Unreadable,
                    i,
                    format!("cannot read the index: {e}"),
                ));
                None
            }
            None => None,
        };
        let segment = match format {
            Format::V08 => seg::scan_v08(log_reader, index_reader, &sf, out, &mut *visit),
            Format::V09 => seg::scan_v09(log_reader, index_reader, &sf, out, &mut *visit),
        };
        // Between segments: the next one starts right after the last offset before it.
        if let (Some((last, prev_path)), Some(first)) = (&prev_last, segment.first_offset) {
            let want = last + 1;
            if first > want {
                out.push(finding(
                    Severity::Warning,
                    FindingKind::OffsetGap,
                    log,
                    format!(
                        "offsets {want}..{} are in no segment: {prev_path} ends at {last}, this one starts at {first}",
                        first - 1
                    ),
                ));
            } else if first < want {
                out.push(finding(
                    Severity::Warning,
                    FindingKind::OffsetOverlap,
                    log,
                    format!(
                        "offsets {first}..{last} are in two segments: {prev_path} ends at {last}, this one starts at {first}"
                    ),
                ));
            }
        }
        if let Some(last) = segment.last_offset {
            prev_last = Some((last, log.clone()));
        }
        part.messages += segment.messages;
        part.log_bytes += segment.log_bytes;
        part.index_bytes += segment.index_bytes;
        part.payload_bytes += segment.payload_bytes;
        part.messages_with_headers += segment.messages_with_headers;
        part.header_bytes += segment.header_bytes;
        if let (Some(b), Some(sb)) = (part.batches.as_mut(), segment.batches) {
            *b += sb;
        }
        if part.first_offset.is_none() {
            part.first_offset = segment.first_offset;
        }
        if segment.last_offset.is_some() {
            part.last_offset = segment.last_offset;
        }
        part.segments.push(segment);
    }
    for (kind, cid, rel) in &files.offsets {
        let Some(offset) = read_offset(tree, rel, format, out) else {
            continue;
        };
        let name = match kind {
            ConsumerKind::ConsumerGroup => u32::try_from(*cid)
                .ok()
                .and_then(|g| groups.get(&g).cloned()),
            ConsumerKind::Consumer => None,
        };
        if kind == &ConsumerKind::ConsumerGroup && name.is_none() {
            out.push(finding(
                Severity::Warning,
                FindingKind::MetadataMismatch,
                rel,
                format!("an offset for consumer group {cid}, which the metadata does not have"),
            ));
        }
        let lag = part.last_offset.map(|last| last.saturating_sub(offset));
        let beyond = match part.last_offset {
            Some(last) => offset > last,
            None => true,
        };
        if beyond {
            out.push(Finding {
                severity: Severity::Warning,
                kind: FindingKind::ConsumerOffsetBeyondEnd,
                path: rel.clone(),
                message: match part.last_offset {
                    Some(last) => format!(
                        "the stored offset {offset} is beyond the partition's last offset {last}: \
                         the consumer will not see the next {} messages",
                        offset - last
                    ),
                    None => format!(
                        "the stored offset {offset} is beyond the partition, which holds no message"
                    ),
                },
                byte_offset: Some(0),
            });
        }
        part.consumers.push(ConsumerOffset {
            kind: *kind,
            id: *cid,
            name,
            offset,
            lag,
            path: rel.clone(),
        });
    }
    part.consumers.sort_by_key(|c| (c.kind as u8, c.id));
    part
}

/// Inspects an opened tree.
pub fn inspect_tree(tree: &Tree) -> Result<Inspection, InspectError> {
    inspect_tree_with(tree, &mut |_, _| {})
}

/// Inspects an opened tree, handing every whole message to `visit` with its partition's
/// directory (`streams/<s>/topics/<t>/partitions/<p>`), in log order per partition. The
/// inspection itself is what [`inspect_tree`] returns.
pub fn inspect_tree_with(
    tree: &Tree,
    visit: &mut dyn FnMut(&str, Mark),
) -> Result<Inspection, InspectError> {
    let Some(format) = detect(tree) else {
        let mut top: Vec<&str> = tree
            .files
            .keys()
            .chain(tree.dirs.iter())
            .map(|p| p.split('/').next().unwrap_or(p))
            .collect();
        top.sort_unstable();
        top.dedup();
        let seen = if top.is_empty() {
            "it is empty".to_owned()
        } else {
            format!(
                "no state/log and no metadata/journal.wal; found {}",
                top.iter().take(12).copied().collect::<Vec<_>>().join(", ")
            )
        };
        return Err(InspectError::UnknownFormat {
            label: tree.label.clone(),
            seen,
        });
    };
    let mut findings = Vec::new();
    let md = read_metadata(tree, format, &mut findings);
    let layout = layout(tree, format, &mut findings);
    let mut streams = Vec::new();
    let mut totals = Totals::default();
    let meta_known = md.entries > 0;
    for (sid, topics) in &layout {
        let ms = md.streams.get(sid);
        if ms.is_none() && meta_known {
            findings.push(finding(
                Severity::Warning,
                FindingKind::MetadataMismatch,
                &format!("streams/{sid}"),
                format!("stream directory {sid} has no stream in the metadata (deleted, or the metadata is behind)"),
            ));
        }
        let mut stream = Stream {
            id: *sid,
            name: ms.map(|s| s.name.clone()),
            ..Stream::default()
        };
        for (tid, parts) in topics {
            let mt = ms.and_then(|s| s.topics.get(tid));
            let tdir = format!("streams/{sid}/topics/{tid}");
            if mt.is_none() && ms.is_some() {
                findings.push(finding(
                    Severity::Warning,
                    FindingKind::MetadataMismatch,
                    &tdir,
                    format!("topic directory {tid} has no topic in the metadata"),
                ));
            }
            let empty = BTreeMap::new();
            let groups = mt.map(|t| &t.groups).unwrap_or(&empty);
            let mut topic = Topic {
                id: *tid,
                name: mt.map(|t| t.name.clone()),
                partitions_count: mt.map(|t| t.partitions),
                segment_size: mt.and_then(|t| t.segment_size),
                consumer_groups: groups
                    .iter()
                    .map(|(id, name)| ConsumerGroup {
                        id: *id,
                        name: name.clone(),
                    })
                    .collect(),
                ..Topic::default()
            };
            if let Some(t) = mt {
                for p in 0..t.partitions {
                    if !parts.contains_key(&p) {
                        findings.push(finding(
                            Severity::Error,
                            FindingKind::MetadataMismatch,
                            &format!("{tdir}/partitions/{p}"),
                            format!(
                                "partition {p} of topic {} is in the metadata but not on disk",
                                t.name
                            ),
                        ));
                    }
                }
            }
            for (pid, files) in parts {
                let pdir = format!("{tdir}/partitions/{pid}");
                let mut per = |m: Mark| visit(&pdir, m);
                let part =
                    scan_partition(tree, format, *pid, files, groups, &mut findings, &mut per);
                let t = &mut topic.totals;
                t.partitions += 1;
                t.segments += part.segments.len() as u64;
                t.messages += part.messages;
                t.batches += part.batches.unwrap_or(0);
                t.log_bytes += part.log_bytes;
                t.index_bytes += part.index_bytes;
                t.payload_bytes += part.payload_bytes;
                t.messages_with_headers += part.messages_with_headers;
                t.consumers += part.consumers.len() as u32;
                topic.partitions.push(part);
            }
            topic.totals.topics = 1;
            topic.totals.consumer_groups = topic.consumer_groups.len() as u32;
            stream.totals.add(&topic.totals);
            stream.topics.push(topic);
        }
        stream.totals.streams = 1;
        totals.add(&stream.totals);
        streams.push(stream);
    }
    for (sid, s) in &md.streams {
        if !layout.contains_key(sid) {
            findings.push(finding(
                Severity::Error,
                FindingKind::MetadataMismatch,
                &format!("streams/{sid}"),
                format!(
                    "stream {} ({sid}) is in the metadata but has no directory",
                    s.name
                ),
            ));
        }
    }
    findings.sort_by(|a, b| {
        (a.severity, &a.path, a.byte_offset).cmp(&(b.severity, &b.path, b.byte_offset))
    });
    Ok(Inspection {
        format,
        source: tree.label.clone(),
        streams,
        totals,
        findings,
    })
}

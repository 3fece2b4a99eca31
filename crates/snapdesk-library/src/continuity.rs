//! Data continuity between two snapshots that carry Iggy data: what happened to each
//! partition between the one before (`a`) and the one after (`b`).
//!
//! Both data directories are read in place through `snapdesk-iggy` (a nested
//! `iggy-data.zip` is never extracted), every whole message seen with its offset, id,
//! stored checksum and timestamp. Per partition:
//!
//! | kind | when |
//! |---|---|
//! | `messages_lost` | the offset frontier moved backwards: `b` ends before `a` did |
//! | `partition_gone` | `a` had the partition, `b` has no directory for it |
//! | `offsets_reissued` | an offset both hold names a different message (id or checksum) |
//! | `new_gap` | offsets missing inside `b`'s range that `a` held, or that `a` never reached |
//! | `segments_gone` | a segment of `a` missing in `b` that retention does not explain (it removes the oldest segments first: a segment is explained when everything `b` holds starts after it) |
//! | `consumer_rewound` | a consumer's (or group's) stored offset moved backwards |
//!
//! Lag is reported as a trend per consumer (`growing`, `stalled`, `rewound`, `shrinking`,
//! `steady`) with, where the messages' timestamps are known, the lag in time: the server
//! timestamp of the partition's last message minus that of the consumer's stored offset.
//!
//! Memory: 40 bytes per message, up to [`MAX_MARKS`] per side; beyond that, partitions are
//! compared by their ranges and segments only (said in `notes`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use snapdesk_core::Cancel;
use snapdesk_iggy::{ConsumerKind, InspectError, Inspection, Mark, Partition};
use ts_rs::TS;

use crate::compare::Diff;
use crate::error::{LibraryError, Result};
use crate::store::Library;

/// Messages remembered per side for the message-by-message comparison (about 80 MiB).
pub const MAX_MARKS: usize = 2_000_000;

/// What happened to a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ContinuityKind {
    MessagesLost,
    PartitionGone,
    OffsetsReissued,
    NewGap,
    SegmentsGone,
    ConsumerRewound,
}

impl ContinuityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContinuityKind::MessagesLost => "messages_lost",
            ContinuityKind::PartitionGone => "partition_gone",
            ContinuityKind::OffsetsReissued => "offsets_reissued",
            ContinuityKind::NewGap => "new_gap",
            ContinuityKind::SegmentsGone => "segments_gone",
            ContinuityKind::ConsumerRewound => "consumer_rewound",
        }
    }
}

/// One continuity problem of one partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ContinuityFinding {
    /// `streams/<s>/topics/<t>/partitions/<p>`, relative to the data directory.
    pub partition: String,
    /// `stream/topic/partition` by name where the metadata names them.
    pub label: String,
    pub kind: ContinuityKind,
    /// Messages concerned (lost, re-issued, missing, in the gone segments, rewound over).
    #[ts(type = "number")]
    pub messages: u64,
    /// The first and last offsets concerned, when they are a range.
    #[ts(type = "number | null")]
    pub first_offset: Option<u64>,
    #[ts(type = "number | null")]
    pub last_offset: Option<u64>,
    /// The consumer (`consumer 7`, `group 3 (billing)`), for consumer findings.
    pub consumer: Option<String>,
    pub message: String,
}

/// A consumer's lag between the two snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LagTrend {
    Growing,
    /// The stored offset did not move while messages were behind it.
    Stalled,
    /// The stored offset moved backwards.
    Rewound,
    Shrinking,
    Steady,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConsumerLag {
    pub partition: String,
    pub label: String,
    pub consumer: String,
    pub trend: LagTrend,
    #[ts(type = "number")]
    pub offset_before: u64,
    #[ts(type = "number")]
    pub offset_after: u64,
    #[ts(type = "number | null")]
    pub lag_before: Option<u64>,
    #[ts(type = "number | null")]
    pub lag_after: Option<u64>,
    /// Lag in time (ms): the last message's timestamp minus the stored offset's.
    #[ts(type = "number | null")]
    pub lag_ms_before: Option<u64>,
    #[ts(type = "number | null")]
    pub lag_ms_after: Option<u64>,
}

/// Two data directories compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Continuity {
    pub before: String,
    pub after: String,
    pub partitions_compared: u32,
    /// Worst first: lost, gone, re-issued, gaps, segments, consumers; by partition.
    pub findings: Vec<ContinuityFinding>,
    pub lags: Vec<ConsumerLag>,
    /// What could not be compared, and why.
    pub notes: Vec<String>,
}

/// One side: the inspection and every message seen, per partition directory.
struct Side {
    ins: Inspection,
    marks: BTreeMap<String, Vec<Mark>>,
    capped: bool,
}

fn read_side(path: &Path, cancel: &Cancel) -> Result<Side> {
    let tree = snapdesk_iggy::source::open(path).map_err(|e| nested(path, e))?;
    let mut marks: BTreeMap<String, Vec<Mark>> = BTreeMap::new();
    let mut total = 0usize;
    let mut capped = false;
    let mut stop = None;
    let ins = snapdesk_iggy::inspect_tree_with(&tree, &mut |pdir, m| {
        if stop.is_none() {
            stop = cancel.check().err();
        }
        if total >= MAX_MARKS {
            capped = true;
            return;
        }
        total += 1;
        match marks.get_mut(pdir) {
            Some(v) => v.push(m),
            None => {
                marks.insert(pdir.to_owned(), vec![m]);
            }
        }
    })
    .map_err(|e| nested(path, e))?;
    if let Some(s) = stop {
        return Err(s.into());
    }
    for v in marks.values_mut() {
        v.sort_by_key(|m| m.offset);
    }
    Ok(Side { ins, marks, capped })
}

fn nested(path: &Path, e: InspectError) -> LibraryError {
    LibraryError::Nested {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Every partition of an inspection by directory, with its label.
fn partitions(ins: &Inspection) -> BTreeMap<String, (String, &Partition)> {
    let mut m = BTreeMap::new();
    for s in &ins.streams {
        for t in &s.topics {
            for p in &t.partitions {
                let dir = format!("streams/{}/topics/{}/partitions/{}", s.id, t.id, p.id);
                let label = format!(
                    "{}/{}/{}",
                    s.name.clone().unwrap_or_else(|| s.id.to_string()),
                    t.name.clone().unwrap_or_else(|| t.id.to_string()),
                    p.id
                );
                m.insert(dir, (label, p));
            }
        }
    }
    m
}

fn consumer_name(kind: ConsumerKind, id: u64, name: &Option<String>) -> String {
    match (kind, name) {
        (ConsumerKind::ConsumerGroup, Some(n)) => format!("group {id} ({n})"),
        (ConsumerKind::ConsumerGroup, None) => format!("group {id}"),
        (ConsumerKind::Consumer, _) => format!("consumer {id}"),
    }
}

/// Offsets in `first..=last` that `marks` (sorted) lacks, as ranges.
fn holes(marks: &[Mark]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for w in marks.windows(2) {
        if w[1].offset > w[0].offset + 1 {
            out.push((w[0].offset + 1, w[1].offset - 1));
        }
    }
    out
}

fn find(marks: &[Mark], offset: u64) -> Option<&Mark> {
    marks
        .binary_search_by_key(&offset, |m| m.offset)
        .ok()
        .map(|i| &marks[i])
}

/// Lag in ms: the last message's timestamp minus the stored offset's.
fn lag_ms(marks: Option<&Vec<Mark>>, offset: u64) -> Option<u64> {
    let marks = marks?;
    let last = marks.last()?;
    let at = find(marks, offset)?;
    Some(last.timestamp.saturating_sub(at.timestamp) / 1000)
}

/// Compares the Iggy data of two snapshots (archives that carry it, bare data ZIPs or data
/// directories): `a` before, `b` after.
pub fn compare_data(a: &Path, b: &Path, cancel: &Cancel) -> Result<Continuity> {
    let sa = read_side(a, cancel)?;
    let sb = read_side(b, cancel)?;
    let mut c = Continuity {
        before: sa.ins.source.clone(),
        after: sb.ins.source.clone(),
        partitions_compared: 0,
        findings: Vec::new(),
        lags: Vec::new(),
        notes: Vec::new(),
    };
    for (s, which) in [(&sa, "before"), (&sb, "after")] {
        if s.capped {
            c.notes.push(format!(
                "the {which} data holds more than {MAX_MARKS} messages: past them, partitions are \
                 compared by their ranges and segments only"
            ));
        }
    }
    let pa = partitions(&sa.ins);
    let pb = partitions(&sb.ins);
    for (dir, (label, a)) in &pa {
        cancel.check()?;
        let Some((_, b)) = pb.get(dir) else {
            if a.messages > 0 || !a.segments.is_empty() {
                c.findings.push(ContinuityFinding {
                    partition: dir.clone(),
                    label: label.clone(),
                    kind: ContinuityKind::PartitionGone,
                    messages: a.messages,
                    first_offset: a.first_offset,
                    last_offset: a.last_offset,
                    consumer: None,
                    message: format!(
                        "partition {label} is gone: it held {} messages before",
                        a.messages
                    ),
                });
            }
            continue;
        };
        c.partitions_compared += 1;
        let ma = sa.marks.get(dir).filter(|_| !sa.capped);
        let mb = sb.marks.get(dir).filter(|_| !sb.capped);
        compare_partition(&mut c, dir, label, a, b, ma, mb);
    }
    c.findings
        .sort_by(|x, y| (x.kind, &x.partition).cmp(&(y.kind, &y.partition)));
    Ok(c)
}

fn compare_partition(
    c: &mut Continuity,
    dir: &str,
    label: &str,
    a: &Partition,
    b: &Partition,
    ma: Option<&Vec<Mark>>,
    mb: Option<&Vec<Mark>>,
) {
    let push = |c: &mut Continuity,
                kind,
                messages,
                first: Option<u64>,
                last: Option<u64>,
                consumer: Option<String>,
                message: String| {
        c.findings.push(ContinuityFinding {
            partition: dir.to_owned(),
            label: label.to_owned(),
            kind,
            messages,
            first_offset: first,
            last_offset: last,
            consumer,
            message,
        })
    };
    // The frontier.
    if let Some(la) = a.last_offset {
        let next_b = b.last_offset.map(|l| l + 1).unwrap_or(0);
        if next_b <= la {
            let lost = la + 1 - next_b;
            push(
                c,
                ContinuityKind::MessagesLost,
                lost,
                Some(next_b),
                Some(la),
                None,
                match b.last_offset {
                    Some(lb) => format!(
                        "{label}: the last offset went back from {la} to {lb}: offsets {next_b}..{la} \
                         ({lost} messages) are lost"
                    ),
                    None => format!(
                        "{label}: the partition ended at offset {la} and now holds no message: \
                         {lost} messages are lost"
                    ),
                },
            );
        }
    }
    // Message by message where both were remembered.
    if let (Some(ma), Some(mb)) = (ma, mb) {
        let mut reissued = 0u64;
        let mut range: Option<(u64, u64)> = None;
        for m in mb {
            if let Some(x) = find(ma, m.offset) {
                if x.id != m.id || x.checksum != m.checksum {
                    reissued += 1;
                    range = Some(match range {
                        None => (m.offset, m.offset),
                        Some((f, _)) => (f, m.offset),
                    });
                }
            }
        }
        if reissued > 0 {
            let (f, l) = range.unwrap_or_default();
            push(
                c,
                ContinuityKind::OffsetsReissued,
                reissued,
                Some(f),
                Some(l),
                None,
                format!(
                    "{label}: {reissued} offsets between {f} and {l} now hold a different message \
                     (another id or checksum): offsets were handed out twice"
                ),
            );
        }
        // Holes of `b` that were not holes of `a`: missing offsets `a` held or never reached.
        let before: BTreeSet<(u64, u64)> = holes(ma).into_iter().collect();
        let mut new = 0u64;
        let mut first_new: Option<(u64, u64)> = None;
        for h in holes(mb) {
            if before.contains(&h) {
                continue;
            }
            let count = (h.0..=h.1)
                .filter(|o| find(ma, *o).is_some() || a.last_offset.is_none_or(|la| *o > la))
                .count() as u64;
            if count > 0 {
                new += count;
                first_new.get_or_insert(h);
            }
        }
        if new > 0 {
            let (f, l) = first_new.unwrap_or_default();
            push(
                c,
                ContinuityKind::NewGap,
                new,
                Some(f),
                Some(l),
                None,
                format!(
                    "{label}: {new} offsets inside the partition's range are missing now that were \
                     not before (the first hole: {f}..{l})"
                ),
            );
        }
    } else {
        // Ranges only: a hole between segments of `b` that `a` did not have.
        let gaps = |p: &Partition| -> BTreeSet<(u64, u64)> {
            let mut out = BTreeSet::new();
            let mut prev: Option<u64> = None;
            for s in &p.segments {
                if let (Some(pl), Some(f)) = (prev, s.first_offset) {
                    if f > pl + 1 {
                        out.insert((pl + 1, f - 1));
                    }
                }
                if s.last_offset.is_some() {
                    prev = s.last_offset;
                }
            }
            out
        };
        let ga = gaps(a);
        for (f, l) in gaps(b).difference(&ga) {
            push(
                c,
                ContinuityKind::NewGap,
                l - f + 1,
                Some(*f),
                Some(*l),
                None,
                format!("{label}: offsets {f}..{l} are in no segment now"),
            );
        }
    }
    // Segments gone: retention removes the oldest first, so a gone segment is explained only
    // when every segment `b` still has starts after it and `b`'s data begins past its end.
    let starts_b: BTreeSet<u64> = b.segments.iter().map(|s| s.start_offset).collect();
    let min_b = starts_b.first().copied();
    let mut gone = 0u64;
    let mut gone_msgs = 0u64;
    let mut gone_range: Option<(u64, u64)> = None;
    for s in &a.segments {
        if starts_b.contains(&s.start_offset) {
            continue;
        }
        let explained = match (min_b, b.first_offset) {
            (Some(mb), Some(fb)) => s.start_offset < mb && s.last_offset.is_none_or(|l| l < fb),
            // `b` holds nothing: the frontier finding says what was lost.
            _ => false,
        };
        // Past `b`'s end: the frontier finding already counts those messages as lost.
        let past_end = match (s.first_offset, b.last_offset) {
            (Some(f), Some(lb)) => f > lb,
            _ => false,
        };
        if explained || past_end {
            continue;
        }
        gone += 1;
        gone_msgs += s.messages;
        let (f, l) = (s.first_offset.unwrap_or(s.start_offset), s.last_offset);
        gone_range = Some(match gone_range {
            None => (f, l.unwrap_or(f)),
            Some((gf, _)) => (gf, l.unwrap_or(f)),
        });
    }
    if gone > 0 && min_b.is_some() {
        let (f, l) = gone_range.unwrap_or_default();
        push(
            c,
            ContinuityKind::SegmentsGone,
            gone_msgs,
            Some(f),
            Some(l),
            None,
            format!(
                "{label}: {gone} segments ({gone_msgs} messages, offsets {f}..{l}) are gone while \
                 older data is still there: retention does not remove them in that order"
            ),
        );
    }
    // Consumers.
    for ca in &a.consumers {
        let Some(cb) = b
            .consumers
            .iter()
            .find(|x| x.kind == ca.kind && x.id == ca.id)
        else {
            continue;
        };
        let who = consumer_name(ca.kind, ca.id, &cb.name.clone().or(ca.name.clone()));
        if cb.offset < ca.offset {
            let n = ca.offset - cb.offset;
            push(
                c,
                ContinuityKind::ConsumerRewound,
                n,
                Some(cb.offset),
                Some(ca.offset),
                Some(who.clone()),
                format!(
                    "{label}: {who}'s stored offset went back from {} to {}: {n} messages will be \
                     delivered again",
                    ca.offset, cb.offset
                ),
            );
        }
        let trend = if cb.offset < ca.offset {
            LagTrend::Rewound
        } else if cb.offset == ca.offset && cb.lag.unwrap_or(0) > 0 {
            LagTrend::Stalled
        } else if cb.lag > ca.lag {
            LagTrend::Growing
        } else if cb.lag < ca.lag {
            LagTrend::Shrinking
        } else {
            LagTrend::Steady
        };
        c.lags.push(ConsumerLag {
            partition: dir.to_owned(),
            label: label.to_owned(),
            consumer: who,
            trend,
            offset_before: ca.offset,
            offset_after: cb.offset,
            lag_before: ca.lag,
            lag_after: cb.lag,
            lag_ms_before: lag_ms(ma, ca.offset),
            lag_ms_after: lag_ms(mb, cb.offset),
        });
    }
}

/// A comparison of two entries with, when both carry Iggy data, their data's continuity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct DataDiff {
    #[serde(flatten)]
    pub diff: Diff,
    pub continuity: Option<Continuity>,
    /// Why there is no continuity (no Iggy data, another deployment, an evicted archive).
    pub continuity_note: Option<String>,
}

impl Library {
    /// [`Library::diff`] plus the continuity of the two entries' Iggy data (`a` before, `b`
    /// after). Reads both archives in place.
    pub fn diff_with_data(&self, a: i64, b: i64, cancel: &Cancel) -> Result<DataDiff> {
        let diff = self.diff(a, b)?;
        let (ea, eb) = (&diff.a, &diff.b);
        let note = if !ea.has_iggy || !eb.has_iggy {
            Some("continuity needs Iggy data in both snapshots".to_owned())
        } else if ea.deployment_id.is_some()
            && eb.deployment_id.is_some()
            && ea.deployment_id != eb.deployment_id
        {
            Some("the two snapshots are of different deployments".to_owned())
        } else if ea.evicted_at.is_some() || eb.evicted_at.is_some() {
            Some("an archive was evicted for the size budget: its data cannot be read".to_owned())
        } else {
            None
        };
        if note.is_some() {
            return Ok(DataDiff {
                diff,
                continuity: None,
                continuity_note: note,
            });
        }
        let pa = self.stored_path(&ea.sha256);
        let pb = self.stored_path(&eb.sha256);
        let continuity = compare_data(&pa, &pb, cancel)?;
        Ok(DataDiff {
            diff,
            continuity: Some(continuity),
            continuity_note: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(version: &str, name: &str) -> Option<(tempfile::TempDir, PathBuf)> {
        let dir = crate::test_skip::fixtures_or_skip(env!("CARGO_MANIFEST_DIR"))?;
        let file = std::fs::File::open(dir.join("iggy").join(version).join(name)).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        tar::Archive::new(flate2::read::GzDecoder::new(file))
            .unpack(tmp.path())
            .unwrap();
        let data = tmp.path().join("local_data");
        Some((tmp, data))
    }

    #[test]
    fn the_torn_copy_loses_the_audit_messages_after_the_cut_and_nothing_else() {
        // From the fixtures' MANIFEST.md: 0.8 cuts the message at offset 310 of 0..324,
        // 0.9 the one at 285 of 0..299.
        for (version, cut, last) in [
            ("0.8.0", 310u64, 324u64),
            ("0.9.0-edge.5-cc269ef7", 285, 299),
        ] {
            let Some((_t1, clean)) = fixture(version, "local_data.tar.gz") else {
                return;
            };
            let Some((_t2, torn)) = fixture(version, "local_data-torn.tar.gz") else {
                return;
            };
            let c = compare_data(&clean, &torn, &Cancel::new()).unwrap();
            assert_eq!(c.partitions_compared, 6, "{version}");
            assert_eq!(c.findings.len(), 1, "{version}: {:#?}", c.findings);
            let f = &c.findings[0];
            assert_eq!(f.partition, "streams/0/topics/1/partitions/0");
            assert_eq!(f.label, "orders/audit/0");
            assert_eq!(f.kind, ContinuityKind::MessagesLost);
            assert_eq!(f.messages, last - cut + 1, "{version}");
            assert_eq!((f.first_offset, f.last_offset), (Some(cut), Some(last)));
            // The other way round nothing is lost: the frontier moved forward.
            let back = compare_data(&torn, &clean, &Cancel::new()).unwrap();
            assert!(back.findings.is_empty(), "{version}: {:#?}", back.findings);
            // The same data twice: no finding, every lag steady.
            let same = compare_data(&clean, &clean, &Cancel::new()).unwrap();
            assert!(same.findings.is_empty());
            assert!(
                !same.lags.is_empty(),
                "{version}: the fixtures have consumers"
            );
            assert!(same
                .lags
                .iter()
                .all(|l| matches!(l.trend, LagTrend::Steady | LagTrend::Stalled)));
        }
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let t = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy_dir(&e.path(), &t);
            } else {
                std::fs::copy(e.path(), &t).unwrap();
            }
        }
    }

    fn rewrite(path: &Path, at: usize, bytes: &[u8]) {
        let mut all = std::fs::read(path).unwrap();
        all[at..at + bytes.len()].copy_from_slice(bytes);
        std::fs::write(path, all).unwrap();
    }

    #[test]
    fn a_reissued_offset_a_rewound_consumer_and_retention_are_told_apart() {
        let Some((tmp, clean)) = fixture("0.8.0", "local_data.tar.gz") else {
            return;
        };
        let audit = "streams/0/topics/1/partitions/0";
        let events = "streams/0/topics/0/partitions/0";
        let consumer = format!("{events}/offsets/consumers/2476224984");
        // After: message 5 of audit carries another id (0.8: 4064-byte messages, id at +8),
        // and the events consumer's stored offset went back to 10.
        let after = tmp.path().join("after");
        copy_dir(&clean, &after);
        rewrite(
            &after.join(audit).join("00000000000000000000.log"),
            5 * 4064 + 8,
            &[0xAB; 4],
        );
        let before_offset = snapdesk_iggy::inspect(&clean).unwrap();
        let stored = before_offset.partition(0, 0, 0).unwrap().consumers[0].offset;
        assert!(stored > 10, "the fixture's consumer is past offset 10");
        std::fs::write(after.join(&consumer), 10u64.to_le_bytes()).unwrap();
        let c = compare_data(&clean, &after, &Cancel::new()).unwrap();
        let kinds: Vec<_> = c
            .findings
            .iter()
            .map(|f| (f.kind, f.partition.as_str(), f.messages))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (ContinuityKind::OffsetsReissued, audit, 1),
                (ContinuityKind::ConsumerRewound, events, stored - 10),
            ]
        );
        assert_eq!(c.findings[0].first_offset, Some(5));
        let lag = c.lags.iter().find(|l| l.partition == events).unwrap();
        assert_eq!(lag.trend, LagTrend::Rewound);
        assert_eq!(lag.lag_after, Some(99 - 10));
        assert!(
            lag.lag_ms_after.is_some(),
            "timestamps give the lag in time"
        );

        // Retention: the oldest audit segment gone, the newest kept: nothing to report.
        let kept = tmp.path().join("retention");
        copy_dir(&clean, &kept);
        for f in ["00000000000000000000.log", "00000000000000000000.index"] {
            std::fs::remove_file(kept.join(audit).join(f)).unwrap();
        }
        let c = compare_data(&clean, &kept, &Cancel::new()).unwrap();
        assert!(c.findings.is_empty(), "{:#?}", c.findings);

        // The newest segment gone: its messages are lost (counted once, as lost).
        let cut = tmp.path().join("cut");
        copy_dir(&clean, &cut);
        for f in ["00000000000000000300.log", "00000000000000000300.index"] {
            std::fs::remove_file(cut.join(audit).join(f)).unwrap();
        }
        let c = compare_data(&clean, &cut, &Cancel::new()).unwrap();
        let kinds: Vec<_> = c.findings.iter().map(|f| (f.kind, f.messages)).collect();
        assert_eq!(kinds, vec![(ContinuityKind::MessagesLost, 25)]);
    }

    fn seg(first: u64, last: u64) -> snapdesk_iggy::Segment {
        snapdesk_iggy::Segment {
            path: format!("{first:020}.log"),
            start_offset: first,
            first_offset: Some(first),
            last_offset: Some(last),
            messages: last - first + 1,
            ..Default::default()
        }
    }

    fn part(segs: Vec<snapdesk_iggy::Segment>) -> Partition {
        Partition {
            first_offset: segs.first().and_then(|s| s.first_offset),
            last_offset: segs.last().and_then(|s| s.last_offset),
            messages: segs.iter().map(|s| s.messages).sum(),
            segments: segs,
            ..Default::default()
        }
    }

    fn marks(ranges: &[(u64, u64)]) -> Vec<Mark> {
        ranges
            .iter()
            .flat_map(|(f, l)| *f..=*l)
            .map(|o| Mark {
                offset: o,
                id: u128::from(o) * 7,
                checksum: o * 13,
                timestamp: 1_000_000 * o,
            })
            .collect()
    }

    #[test]
    fn a_segment_gone_from_the_middle_is_a_hole_retention_does_not_explain() {
        let a = part(vec![seg(0, 99), seg(100, 199), seg(200, 299)]);
        let b = part(vec![seg(0, 99), seg(200, 299)]);
        let (ma, mb) = (marks(&[(0, 299)]), marks(&[(0, 99), (200, 299)]));
        let mut c = Continuity {
            before: "a".into(),
            after: "b".into(),
            partitions_compared: 1,
            findings: Vec::new(),
            lags: Vec::new(),
            notes: Vec::new(),
        };
        compare_partition(&mut c, "p", "s/t/0", &a, &b, Some(&ma), Some(&mb));
        let kinds: Vec<_> = c
            .findings
            .iter()
            .map(|f| (f.kind, f.messages, f.first_offset, f.last_offset))
            .collect();
        assert_eq!(
            kinds,
            vec![
                (ContinuityKind::NewGap, 100, Some(100), Some(199)),
                (ContinuityKind::SegmentsGone, 100, Some(100), Some(199)),
            ]
        );
        // Without the messages (over the memory cap), the segments still show the hole.
        let mut c2 = Continuity {
            findings: Vec::new(),
            ..c.clone()
        };
        compare_partition(&mut c2, "p", "s/t/0", &a, &b, None, None);
        assert_eq!(c2.findings.len(), 2, "{:#?}", c2.findings);
        assert_eq!(c2.findings[0].kind, ContinuityKind::NewGap);
        assert_eq!(c2.findings[0].messages, 100);
    }
}

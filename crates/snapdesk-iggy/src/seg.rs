//! One segment, read once front to back: its `.log` message by message (0.8) or batch by
//! batch (0.9), its `.index` side by side with it, every checksum recomputed.
//!
//! Layouts, from Apache Iggy's source:
//! - 0.8 (`core/common/src/types/message/` at server-0.8.0): each message is a 64-byte
//!   header (`checksum u64 @0`, `id u128 @8`, `offset u64 @24`, `timestamp @32`,
//!   `origin_timestamp @40`, `user_headers_length u32 @48`, `payload_length u32 @52`,
//!   `reserved u64 @56`), the payload, the user headers; the checksum is XXH3-64 of every
//!   byte after it. The index is dense: one 16-byte entry per message (`relative_offset
//!   u32`, `position u32` = the byte just past the message, `timestamp u64`).
//! - 0.9 (`core/binary_protocol/src/batch.rs`, `core/partitions/src/iggy_index.rs`): each
//!   batch is a 256-byte header (`partition_id @0`, `base_offset @8`, `base_timestamp @16`,
//!   `origin_timestamp @24`, `batch_length @32` (header included), `batch_checksum @40`,
//!   `message_count u32 @48`, zeros to 256) and frames of a 48-byte header (`checksum u64
//!   @0`, `id u128 @8`, `offset_delta u32 @24`, `timestamp_delta u32 @28`,
//!   `user_headers_length u32 @32`, `payload_length u32 @36`, `reserved u64 @40` = 0),
//!   payload, user headers. A frame's checksum is XXH3-64 of its bytes after the checksum;
//!   the batch checksum is XXH3-64 over the header fields (`message_count` as u32) and each
//!   frame's checksum. The index is sparse: 24-byte entries (`offset u64` absolute,
//!   `timestamp u64`, `position u64` = where a batch starts), one per disk write.

use std::hash::Hasher;
use std::io::Read;

use twox_hash::XxHash3_64;

use crate::model::{Finding, FindingKind, Segment, Severity};
use crate::wire::{u128_at, u32_at, u64_at, Chunked};

/// One whole message as a scan meets it: what continuity across snapshots compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub offset: u64,
    /// The message id the producer (or the server) gave it.
    pub id: u128,
    /// The checksum stored in the message header.
    pub checksum: u64,
    /// The server's timestamp, in microseconds since the epoch.
    pub timestamp: u64,
}

/// Called once per whole message, in log order.
pub type Visit<'a> = &'a mut dyn FnMut(Mark);

/// What the scan of one segment needs to know.
pub struct SegmentFiles<'a> {
    pub log_path: &'a str,
    pub index_path: Option<&'a str>,
    pub start_offset: u64,
    pub index_bytes: u64,
}

/// Findings of one kind in one file, reported once with the first place and a count.
#[derive(Default)]
struct Tally {
    count: u64,
    first_at: Option<u64>,
    first: Option<String>,
}

impl Tally {
    fn hit(&mut self, at: u64, what: impl FnOnce() -> String) {
        self.count += 1;
        if self.first.is_none() {
            self.first_at = Some(at);
            self.first = Some(what());
        }
    }

    fn emit(
        self,
        out: &mut Vec<Finding>,
        severity: Severity,
        kind: FindingKind,
        path: &str,
        noun: &str,
    ) {
        if let Some(first) = self.first {
            let message = if self.count == 1 {
                first
            } else {
                format!("{} {noun}; the first: {first}", self.count)
            };
            out.push(Finding {
                severity,
                kind,
                path: path.to_owned(),
                message,
                byte_offset: self.first_at,
            });
        }
    }
}

/// Offsets as they come: each message must be the one after the previous.
struct Sequence {
    expected: u64,
    gaps: Tally,
    overlaps: Tally,
}

impl Sequence {
    fn new(start: u64) -> Self {
        Self {
            expected: start,
            gaps: Tally::default(),
            overlaps: Tally::default(),
        }
    }

    fn see(&mut self, offset: u64, at: u64, first: bool) {
        let exp = self.expected;
        if offset > exp {
            self.gaps.hit(at, || {
                if first {
                    format!("the segment is named for offset {exp} but starts at offset {offset}: offsets {exp}..{} are missing", offset - 1)
                } else {
                    format!("offset {offset} follows {}: offsets {exp}..{} are missing", exp.wrapping_sub(1), offset - 1)
                }
            });
        } else if offset < exp {
            self.overlaps.hit(at, || {
                if first {
                    format!("the segment is named for offset {exp} but starts at offset {offset}")
                } else {
                    format!("offset {offset} comes again after {}", exp.wrapping_sub(1))
                }
            });
        }
        self.expected = offset.wrapping_add(1);
    }

    fn emit(self, out: &mut Vec<Finding>, path: &str) {
        self.gaps.emit(
            out,
            Severity::Warning,
            FindingKind::OffsetGap,
            path,
            "offset gaps",
        );
        self.overlaps.emit(
            out,
            Severity::Warning,
            FindingKind::OffsetOverlap,
            path,
            "offset overlaps",
        );
    }
}

/// Counts one message into the segment.
fn count_message(seg: &mut Segment, offset: u64, payload: u64, headers: u64) {
    if seg.first_offset.is_none() {
        seg.first_offset = Some(offset);
    }
    seg.last_offset = Some(offset);
    seg.messages += 1;
    seg.payload_bytes += payload;
    if headers > 0 {
        seg.messages_with_headers += 1;
        seg.header_bytes += headers;
    }
}

/// Hashes bytes `8..total` of the record at the reader's position and consumes it. A record
/// that fits the buffer is hashed in one call; a larger one streams through the hasher.
/// Returns the hash, or how many bytes of the record the file still had when it ended.
fn hash_record<R: Read>(
    c: &mut Chunked<R>,
    total: u64,
    mut also: impl FnMut(&[u8]),
) -> std::io::Result<Result<u64, u64>> {
    if total <= (c.capacity() / 2) as u64 {
        let n = total as usize;
        if !c.fill(n)? {
            return Ok(Err(c.peek().len() as u64));
        }
        let rec = &c.peek()[..n];
        also(&rec[..8]);
        let h = XxHash3_64::oneshot(&rec[8..]);
        c.consume(n);
        return Ok(Ok(h));
    }
    // Larger than half the buffer: the header is there (checked by the caller).
    let mut hasher = XxHash3_64::new();
    let head = &c.peek()[..8];
    also(head);
    c.consume(8);
    let got = c.feed(total - 8, |s| hasher.write(s))?;
    if got < total - 8 {
        return Ok(Err(8 + got));
    }
    Ok(Ok(hasher.finish()))
}

pub const V08_HEADER: usize = 64;
pub const V08_INDEX: usize = 16;
pub const V09_BATCH: usize = 256;
pub const V09_FRAME: usize = 48;
pub const V09_INDEX: usize = 24;

/// Scans a 0.8 segment.
pub fn scan_v08(
    log: impl Read,
    index: Option<Box<dyn Read + Send>>,
    files: &SegmentFiles<'_>,
    out: &mut Vec<Finding>,
    visit: Visit<'_>,
) -> Segment {
    let path = files.log_path;
    let mut seg = Segment {
        path: path.to_owned(),
        start_offset: files.start_offset,
        index_bytes: files.index_bytes,
        index_entries: files.index_bytes / V08_INDEX as u64,
        ..Segment::default()
    };
    let mut c = Chunked::new(log);
    let mut idx = index.map(|r| Chunked::with_capacity(r, 64 * 1024));
    let mut seq = Sequence::new(files.start_offset);
    let mut checksums = Tally::default();
    let mut idx_mismatch = Tally::default();
    let mut idx_short = 0u64;
    loop {
        let at = c.pos();
        match c.fill(V08_HEADER) {
            Ok(true) => {}
            Ok(false) => {
                let left = c.peek().len() as u64;
                if left > 0 {
                    out.push(torn(
                        path,
                        at,
                        seg.last_offset,
                        left,
                        None,
                        "message header",
                    ));
                    c.consume(left as usize);
                }
                break;
            }
            Err(e) => {
                out.push(read_error(path, at, &e));
                break;
            }
        }
        let h = c.peek();
        let stored = u64_at(h, 0);
        let id = u128_at(h, 8);
        let offset = u64_at(h, 24);
        let timestamp = u64_at(h, 32);
        let headers = u32_at(h, 48) as u64;
        let payload = u32_at(h, 52) as u64;
        let total = V08_HEADER as u64 + payload + headers;
        let hashed = match hash_record(&mut c, total, |_| {}) {
            Ok(r) => r,
            Err(e) => {
                out.push(read_error(path, at, &e));
                break;
            }
        };
        let computed = match hashed {
            Ok(h) => h,
            Err(have) => {
                out.push(torn(
                    path,
                    at,
                    seg.last_offset,
                    have,
                    Some((offset, total)),
                    "message",
                ));
                break;
            }
        };
        if computed != stored {
            checksums.hit(at, || {
                format!("message at offset {offset} fails its checksum (stored {stored:#018x}, computed {computed:#018x})")
            });
        }
        seq.see(offset, at, seg.messages == 0);
        count_message(&mut seg, offset, payload, headers);
        visit(Mark {
            offset,
            id,
            checksum: stored,
            timestamp,
        });
        if let Some(ix) = idx.as_mut() {
            let entry_at = ix.pos();
            if ix.fill(V08_INDEX).unwrap_or(false) {
                let e = ix.peek();
                let (rel, pos) = (u32_at(e, 0) as u64, u32_at(e, 4) as u64);
                let want_rel = offset.wrapping_sub(files.start_offset);
                let end = at + total;
                if rel != want_rel || pos != end {
                    idx_mismatch.hit(entry_at, || {
                        format!("index entry {} says (relative offset {rel}, end {pos}) where the log has (relative offset {want_rel}, end {end})", entry_at / V08_INDEX as u64)
                    });
                }
                ix.consume(V08_INDEX);
            } else {
                idx_short += 1;
            }
        }
    }
    // Past a tear or damage the rest is only counted: the log's size is what is on disk.
    let _ = c.drain();
    seg.log_bytes = c.pos();
    checksums.emit(
        out,
        Severity::Error,
        FindingKind::ChecksumMismatch,
        path,
        "messages fail their checksum",
    );
    seq.emit(out, path);
    if let (Some(ix), Some(ipath)) = (idx.as_mut(), files.index_path) {
        let mut past = Tally::default();
        loop {
            let entry_at = ix.pos();
            if !ix.fill(V08_INDEX).unwrap_or(false) {
                break;
            }
            let e = ix.peek();
            let (rel, pos) = (u32_at(e, 0), u32_at(e, 4) as u64);
            if pos > seg.log_bytes {
                past.hit(entry_at, || {
                    format!("index entry {} (relative offset {rel}) ends at byte {pos}, past the end of the log ({} bytes)", entry_at / V08_INDEX as u64, seg.log_bytes)
                });
            } else {
                idx_mismatch.hit(entry_at, || {
                    format!("index entry {} (relative offset {rel}, end {pos}) has no message in the log", entry_at / V08_INDEX as u64)
                });
            }
            ix.consume(V08_INDEX);
        }
        past.emit(
            out,
            Severity::Error,
            FindingKind::IndexPastLog,
            ipath,
            "index entries point past the log",
        );
        if idx_short > 0 {
            out.push(Finding {
                severity: Severity::Warning,
                kind: FindingKind::IndexMismatch,
                path: ipath.to_owned(),
                message: format!(
                    "the index has {} entries for {} messages: the last {idx_short} messages are not indexed",
                    seg.index_entries, seg.messages
                ),
                byte_offset: Some(seg.index_bytes),
            });
        }
        idx_mismatch.emit(
            out,
            Severity::Warning,
            FindingKind::IndexMismatch,
            ipath,
            "index entries disagree with the log",
        );
    }
    seg
}

/// Scans a 0.9 segment.
pub fn scan_v09(
    log: impl Read,
    index: Option<Box<dyn Read + Send>>,
    files: &SegmentFiles<'_>,
    out: &mut Vec<Finding>,
    visit: Visit<'_>,
) -> Segment {
    let path = files.log_path;
    let mut seg = Segment {
        path: path.to_owned(),
        start_offset: files.start_offset,
        index_bytes: files.index_bytes,
        index_entries: files.index_bytes / V09_INDEX as u64,
        batches: Some(0),
        ..Segment::default()
    };
    let mut c = Chunked::new(log);
    let mut idx = index.map(|r| Chunked::with_capacity(r, 64 * 1024));
    let mut seq = Sequence::new(files.start_offset);
    let mut checksums = Tally::default();
    let mut batch_sums = Tally::default();
    let mut idx_mismatch = Tally::default();
    let mut malformed = Tally::default();
    let mut batches = 0u64;
    // The next index entry not yet matched to a batch: (offset, position, entry's byte).
    let mut pending: Option<(u64, u64, u64)> = None;
    let next_entry = |ix: &mut Chunked<Box<dyn Read + Send>>| -> Option<(u64, u64, u64)> {
        let at = ix.pos();
        if !ix.fill(V09_INDEX).unwrap_or(false) {
            return None;
        }
        let e = ix.peek();
        let r = (u64_at(e, 0), u64_at(e, 16), at);
        ix.consume(V09_INDEX);
        Some(r)
    };
    if let Some(ix) = idx.as_mut() {
        pending = next_entry(ix);
    }
    'batches: loop {
        let at = c.pos();
        match c.fill(V09_BATCH) {
            Ok(true) => {}
            Ok(false) => {
                let left = c.peek().len() as u64;
                if left > 0 {
                    out.push(torn(path, at, seg.last_offset, left, None, "batch header"));
                    c.consume(left as usize);
                }
                break;
            }
            Err(e) => {
                out.push(read_error(path, at, &e));
                break;
            }
        }
        let h = c.peek();
        let base = u64_at(h, 8);
        let base_ts = u64_at(h, 16);
        let length = u64_at(h, 32);
        let stored_batch = u64_at(h, 40);
        let count = u32_at(h, 48);
        if length < V09_BATCH as u64 || h[52..V09_BATCH].iter().any(|b| *b != 0) {
            malformed.hit(at, || {
                format!("no valid batch header at byte {at} (batch_length {length}); the rest of the segment is not read")
            });
            break;
        }
        let mut batch_hash = XxHash3_64::new();
        for field in [0usize, 8, 16, 24, 32] {
            batch_hash.write(&h[field..field + 8]);
        }
        batch_hash.write(&h[48..52]);
        // Index entries up to this batch: each must point at a batch start with its offset.
        if let Some(ix) = idx.as_mut() {
            while let Some((off, pos, eat)) = pending {
                if pos > at {
                    break;
                }
                if pos < at {
                    idx_mismatch.hit(eat, || format!("index entry {} (offset {off}) points at byte {pos}, inside a batch, not at its start", eat / V09_INDEX as u64));
                } else if off != base {
                    idx_mismatch.hit(eat, || format!("index entry {} says offset {off} for the batch at byte {pos}, whose base offset is {base}", eat / V09_INDEX as u64));
                }
                pending = next_entry(ix);
            }
        }
        c.consume(V09_BATCH);
        let mut left = length - V09_BATCH as u64;
        let mut frames = 0u32;
        while left > 0 {
            let fat = c.pos();
            if left < V09_FRAME as u64 {
                malformed.hit(fat, || {
                    format!("batch at byte {at} ends with {left} bytes that are not a frame")
                });
                if c.feed(left, |_| {}).unwrap_or(0) < left {
                    break 'batches;
                }
                break;
            }
            match c.fill(V09_FRAME) {
                Ok(true) => {}
                Ok(false) => {
                    let have = c.peek().len() as u64;
                    c.consume(have as usize);
                    out.push(torn_batch(
                        path,
                        fat,
                        seg.last_offset,
                        have,
                        left,
                        at,
                        length,
                        frames,
                        count,
                    ));
                    seg.batches = Some(batches);
                    break 'batches;
                }
                Err(e) => {
                    out.push(read_error(path, fat, &e));
                    break 'batches;
                }
            }
            let f = c.peek();
            let stored = u64_at(f, 0);
            let id = u128_at(f, 8);
            let delta = u32_at(f, 24) as u64;
            let ts_delta = u32_at(f, 28) as u64;
            let headers = u32_at(f, 32) as u64;
            let payload = u32_at(f, 36) as u64;
            let reserved = u64_at(f, 40);
            let total = V09_FRAME as u64 + payload + headers;
            if total > left || reserved != 0 {
                malformed.hit(fat, || {
                    format!("frame at byte {fat} in the batch at byte {at} does not decode (length {total}, {left} bytes left in the batch, reserved {reserved})")
                });
                if c.feed(left, |_| {}).unwrap_or(0) < left {
                    break 'batches;
                }
                break;
            }
            let offset = base + delta;
            let hashed = match hash_record(&mut c, total, |s| batch_hash.write(s)) {
                Ok(r) => r,
                Err(e) => {
                    out.push(read_error(path, fat, &e));
                    break 'batches;
                }
            };
            match hashed {
                Ok(computed) => {
                    if computed != stored {
                        checksums.hit(fat, || format!("message at offset {offset} fails its checksum (stored {stored:#018x}, computed {computed:#018x})"));
                    }
                }
                Err(have) => {
                    out.push(torn_batch(
                        path,
                        fat,
                        seg.last_offset,
                        have,
                        left,
                        at,
                        length,
                        frames,
                        count,
                    ));
                    seg.batches = Some(batches);
                    break 'batches;
                }
            }
            seq.see(offset, fat, seg.messages == 0);
            count_message(&mut seg, offset, payload, headers);
            visit(Mark {
                offset,
                id,
                checksum: stored,
                timestamp: base_ts.saturating_add(ts_delta),
            });
            frames += 1;
            left -= total;
        }
        batches += 1;
        seg.batches = Some(batches);
        if frames != count {
            malformed.hit(at, || {
                format!("the batch at byte {at} says {count} messages and holds {frames}")
            });
        }
        let computed = batch_hash.finish();
        if left == 0 && frames == count && computed != stored_batch {
            batch_sums.hit(at, || format!("the batch at byte {at} (base offset {base}) fails its checksum (stored {stored_batch:#018x}, computed {computed:#018x})"));
        }
    }
    let _ = c.drain();
    seg.log_bytes = c.pos();
    checksums.emit(
        out,
        Severity::Error,
        FindingKind::ChecksumMismatch,
        path,
        "messages fail their checksum",
    );
    batch_sums.emit(
        out,
        Severity::Error,
        FindingKind::ChecksumMismatch,
        path,
        "batches fail their checksum",
    );
    malformed.emit(
        out,
        Severity::Error,
        FindingKind::Malformed,
        path,
        "places do not decode",
    );
    seq.emit(out, path);
    if let (Some(ix), Some(ipath)) = (idx.as_mut(), files.index_path) {
        let mut past = Tally::default();
        while let Some((off, pos, eat)) = pending {
            if pos >= seg.log_bytes {
                past.hit(eat, || format!("index entry {} (offset {off}) points at byte {pos}, past the end of the log ({} bytes)", eat / V09_INDEX as u64, seg.log_bytes));
            } else {
                idx_mismatch.hit(eat, || {
                    format!(
                        "index entry {} (offset {off}) points at byte {pos}, where no batch starts",
                        eat / V09_INDEX as u64
                    )
                });
            }
            pending = next_entry(ix);
        }
        past.emit(
            out,
            Severity::Error,
            FindingKind::IndexPastLog,
            ipath,
            "index entries point past the log",
        );
        idx_mismatch.emit(
            out,
            Severity::Warning,
            FindingKind::IndexMismatch,
            ipath,
            "index entries disagree with the log",
        );
    }
    seg
}

fn read_error(path: &str, at: u64, e: &std::io::Error) -> Finding {
    Finding {
        severity: Severity::Error,
        kind: FindingKind::Unreadable,
        path: path.to_owned(),
        message: format!("cannot read past byte {at}: {e}"),
        byte_offset: Some(at),
    }
}

fn last_whole(last: Option<u64>) -> String {
    match last {
        Some(o) => format!("the last whole message is offset {o}"),
        None => "no whole message precedes it".to_owned(),
    }
}

/// A 0.8 segment (or a 0.9 one between batches) that ends inside a record.
fn torn(
    path: &str,
    at: u64,
    last: Option<u64>,
    have: u64,
    record: Option<(u64, u64)>,
    what: &str,
) -> Finding {
    let message = match record {
        Some((offset, total)) => format!(
            "torn segment: {}, ending at byte {at}; the message at offset {offset} is cut after \
             {have} of its {total} bytes ({} bytes missing)",
            last_whole(last),
            total - have
        ),
        None => format!(
            "torn segment: {}, ending at byte {at}; {have} bytes of a cut {what} follow",
            last_whole(last)
        ),
    };
    Finding {
        severity: Severity::Error,
        kind: FindingKind::TornSegment,
        path: path.to_owned(),
        message,
        byte_offset: Some(at),
    }
}

/// A 0.9 segment that ends inside a batch.
#[allow(clippy::too_many_arguments)]
fn torn_batch(
    path: &str,
    frame_at: u64,
    last: Option<u64>,
    have: u64,
    left: u64,
    batch_at: u64,
    length: u64,
    frames: u32,
    count: u32,
) -> Finding {
    Finding {
        severity: Severity::Error,
        kind: FindingKind::TornSegment,
        path: path.to_owned(),
        message: format!(
            "torn segment: {}, ending at byte {frame_at}; the batch at byte {batch_at} \
             ({length} bytes, {count} messages) is cut after {frames} whole messages and {have} \
             more bytes: {} bytes of it are missing, and its checksum cannot be verified",
            last_whole(last),
            left - have
        ),
        byte_offset: Some(frame_at),
    }
}

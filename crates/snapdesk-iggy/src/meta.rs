//! Names and structure from the server's metadata: the 0.8 command log `state/log` and the
//! 0.9 VSR journal `metadata/journal.wal`. Both are replayed the way the server replays them
//! (creations, renames and deletions of streams, topics and consumer groups); users, tokens
//! and everything else are skipped without being decoded.
//!
//! Layouts, from Apache Iggy's source:
//! - 0.8 (`core/server/src/state/file.rs`, `entry.rs`): per entry `index u64, term u64,
//!   leader_id u32, version u32, flags u64, timestamp u64, user_id u32, checksum u64,
//!   context_len u32, context, code u32, command_len u32, command`; the checksum is XXH3-64
//!   over every field but itself. Commands carry their ids (`CreateStreamWithId`, ...).
//! - 0.9 (`core/journal/src/prepare_journal.rs`, `binary_protocol/src/consensus/header.rs`):
//!   back-to-back entries of a 256-byte `PrepareHeader` (`size u32 @48`, `command u8 @60`,
//!   `op u64 @176`, `operation u8 @208`, `checksum_body u128 @16` = XXH3-64 of the body, 0
//!   when unsealed) and `size - 256` body bytes. Ids are not in the commands: streams and
//!   topics take the lowest free slab key, groups a per-topic counter (`core/metadata/src/stm`).

use std::collections::BTreeMap;
use std::hash::Hasher;
use std::io::Read;

use twox_hash::XxHash3_64;

use crate::model::{Finding, FindingKind, Severity};
use crate::wire::{u128_at, u32_at, u64_at, Chunked, Cursor, Ident};

#[derive(Debug, Clone, Default)]
pub struct MetaTopic {
    pub name: String,
    pub partitions: u32,
    pub segment_size: Option<u64>,
    pub groups: BTreeMap<u32, String>,
    /// The next group id (0.9 hands them out from a per-topic counter).
    next_group: u32,
}

#[derive(Debug, Clone, Default)]
pub struct MetaStream {
    pub name: String,
    pub topics: BTreeMap<u32, MetaTopic>,
    /// Keys handed out so far (the slab's length): a new topic takes the lowest free key below.
    topic_slab_len: u32,
}

#[derive(Debug, Clone, Default)]
pub struct Metadata {
    pub streams: BTreeMap<u32, MetaStream>,
    stream_slab_len: u32,
    /// Entries read.
    pub entries: u64,
    /// Entries that were encrypted (0.8 with encryption on): their commands are not read.
    pub encrypted: u64,
}

/// The lowest key of `0..len` not in `used`, else `len` (Iggy's `IdSlab::vacant_key`).
fn vacant<V>(used: &BTreeMap<u32, V>, len: u32) -> u32 {
    (0..len).find(|k| !used.contains_key(k)).unwrap_or(len)
}

impl Metadata {
    fn stream_id(&self, ident: &Ident) -> Option<u32> {
        match ident {
            Ident::Numeric(n) => self.streams.contains_key(n).then_some(*n),
            Ident::Name(name) => self
                .streams
                .iter()
                .find(|(_, s)| &s.name == name)
                .map(|(id, _)| *id),
        }
    }

    fn topic_id(&self, stream: u32, ident: &Ident) -> Option<u32> {
        let s = self.streams.get(&stream)?;
        match ident {
            Ident::Numeric(n) => s.topics.contains_key(n).then_some(*n),
            Ident::Name(name) => s
                .topics
                .iter()
                .find(|(_, t)| &t.name == name)
                .map(|(id, _)| *id),
        }
    }

    fn topic_mut(&mut self, stream: &Ident, topic: &Ident) -> Option<&mut MetaTopic> {
        let sid = self.stream_id(stream)?;
        let tid = self.topic_id(sid, topic)?;
        self.streams.get_mut(&sid)?.topics.get_mut(&tid)
    }

    fn add_stream(&mut self, id: u32, name: String) {
        self.streams.insert(
            id,
            MetaStream {
                name,
                ..MetaStream::default()
            },
        );
        self.stream_slab_len = self.stream_slab_len.max(id + 1);
    }

    fn add_topic(&mut self, stream: u32, id: u32, topic: MetaTopic) {
        if let Some(s) = self.streams.get_mut(&stream) {
            s.topics.insert(id, topic);
            s.topic_slab_len = s.topic_slab_len.max(id + 1);
        }
    }
}

fn finding(severity: Severity, kind: FindingKind, path: &str, at: u64, msg: String) -> Finding {
    Finding {
        severity,
        kind,
        path: path.to_owned(),
        message: msg,
        byte_offset: Some(at),
    }
}

// 0.8 command codes (`core/binary_protocol/src/codes.rs` at server-0.8.0).
const CREATE_STREAM: u32 = 202;
const DELETE_STREAM: u32 = 203;
const UPDATE_STREAM: u32 = 204;
const CREATE_TOPIC: u32 = 302;
const DELETE_TOPIC: u32 = 303;
const CREATE_CONSUMER_GROUP: u32 = 602;
const DELETE_CONSUMER_GROUP: u32 = 603;

const STATE_HEADER: usize = 56;

/// Replays the 0.8 `state/log`.
pub fn read_state_log(r: impl Read, path: &str, size: u64, out: &mut Vec<Finding>) -> Metadata {
    let mut md = Metadata::default();
    let mut c = Chunked::with_capacity(r, 4 * 1024 * 1024);
    let cap = c.capacity();
    let mut expected_index: Option<u64> = None;
    loop {
        let at = c.pos();
        match c.fill(STATE_HEADER) {
            Ok(true) => {}
            Ok(false) => {
                let left = c.peek().len();
                if left > 0 {
                    out.push(finding(
                        Severity::Error,
                        FindingKind::TornSegment,
                        path,
                        at,
                        format!(
                            "the metadata log ends inside an entry header: {left} bytes after \
                             the last whole entry (entry {}) are cut",
                            md.entries
                        ),
                    ));
                }
                break;
            }
            Err(e) => {
                out.push(unreadable(path, at, &e));
                break;
            }
        }
        let h = &c.peek()[..STATE_HEADER];
        let index = u64_at(h, 0);
        let stored = u64_at(h, 44);
        let ctx_len = u32_at(h, 52) as usize;
        let mut hasher = XxHash3_64::new();
        hasher.write(&h[..44]);
        hasher.write(&h[52..56]);
        // The rest of the entry must fit the buffer: metadata commands are small, and a
        // length beyond it is damage, not data.
        let need_ctx = STATE_HEADER + ctx_len + 8;
        if need_ctx > cap {
            out.push(finding(
                Severity::Error,
                FindingKind::Malformed,
                path,
                at,
                format!(
                    "entry {index} claims a {ctx_len}-byte context: the log cannot be read past it"
                ),
            ));
            break;
        }
        let whole = |c: &mut Chunked<_>, n: usize| c.fill(n).unwrap_or(false);
        if !whole(&mut c, need_ctx) {
            out.push(torn_entry(path, at, index, c.peek().len() as u64, size));
            break;
        }
        let cmd_len = u32_at(c.peek(), STATE_HEADER + ctx_len + 4) as usize;
        let total = need_ctx + cmd_len;
        if total > cap {
            out.push(finding(
                Severity::Error,
                FindingKind::Malformed,
                path,
                at,
                format!(
                    "entry {index} claims a {cmd_len}-byte command: the log cannot be read past it"
                ),
            ));
            break;
        }
        if !whole(&mut c, total) {
            out.push(torn_entry(path, at, index, c.peek().len() as u64, size));
            break;
        }
        let e = &c.peek()[..total];
        hasher.write(&e[STATE_HEADER..]);
        if hasher.finish() != stored {
            out.push(finding(
                Severity::Error,
                FindingKind::ChecksumMismatch,
                path,
                at,
                format!(
                    "metadata entry {index} fails its checksum (stored {stored:#018x}, computed \
                     {:#018x}); the server refuses to start on it",
                    hasher.finish()
                ),
            ));
        }
        if let Some(exp) = expected_index {
            if index != exp {
                out.push(finding(
                    Severity::Error,
                    FindingKind::Malformed,
                    path,
                    at,
                    format!(
                        "metadata entry index {index} follows {}: entries are missing or repeated",
                        exp - 1
                    ),
                ));
            }
        }
        expected_index = Some(index + 1);
        let code = u32_at(e, STATE_HEADER + ctx_len);
        let cmd = &e[STATE_HEADER + ctx_len + 8..];
        md.entries += 1;
        if apply_v08(&mut md, code, cmd).is_none() {
            // A command we replay whose body does not decode: most likely encrypted.
            md.encrypted += 1;
        }
        c.consume(total);
    }
    if md.encrypted > 0 {
        out.push(Finding {
            severity: Severity::Info,
            kind: FindingKind::Malformed,
            path: path.to_owned(),
            message: format!(
                "{} stream/topic/group commands did not decode (encrypted state?): names may be missing",
                md.encrypted
            ),
            byte_offset: None,
        });
    }
    md
}

fn torn_entry(path: &str, at: u64, index: u64, have: u64, size: u64) -> Finding {
    finding(
        Severity::Error,
        FindingKind::TornSegment,
        path,
        at,
        format!(
            "the metadata log is torn: entry {index} at byte {at} is cut after {have} bytes \
             (file size {size}); the entries before it are whole"
        ),
    )
}

fn unreadable(path: &str, at: u64, e: &std::io::Error) -> Finding {
    finding(
        Severity::Error,
        FindingKind::Unreadable,
        path,
        at,
        format!("cannot read past byte {at}: {e}"),
    )
}

/// Applies one 0.8 command; `None` when a command we replay does not decode.
fn apply_v08(md: &mut Metadata, code: u32, cmd: &[u8]) -> Option<()> {
    let mut c = Cursor::new(cmd);
    match code {
        CREATE_STREAM => {
            let id = c.u32()?;
            let _len = c.u32()?;
            let name = c.name8()?;
            md.add_stream(id, name);
        }
        DELETE_STREAM => {
            let sid = md.stream_id(&c.identifier()?)?;
            md.streams.remove(&sid);
        }
        UPDATE_STREAM => {
            let sid = md.stream_id(&c.identifier()?)?;
            let name = c.name8()?;
            md.streams.get_mut(&sid)?.name = name;
        }
        CREATE_TOPIC => {
            let id = c.u32()?;
            let _len = c.u32()?;
            let sid = md.stream_id(&c.identifier()?)?;
            let partitions = c.u32()?;
            let _compression = c.u8()?;
            let _expiry = c.u64()?;
            let _max_size = c.u64()?;
            let _replication = c.u8()?;
            let name = c.name8()?;
            md.add_topic(
                sid,
                id,
                MetaTopic {
                    name,
                    partitions,
                    ..MetaTopic::default()
                },
            );
        }
        DELETE_TOPIC => {
            let sid = md.stream_id(&c.identifier()?)?;
            let tid = md.topic_id(sid, &c.identifier()?)?;
            md.streams.get_mut(&sid)?.topics.remove(&tid);
        }
        CREATE_CONSUMER_GROUP => {
            let id = c.u32()?;
            let _len = c.u32()?;
            let s = c.identifier()?;
            let t = c.identifier()?;
            let name = c.name8()?;
            let topic = md.topic_mut(&s, &t)?;
            topic.groups.insert(id, name);
            topic.next_group = topic.next_group.max(id + 1);
        }
        DELETE_CONSUMER_GROUP => {
            let s = c.identifier()?;
            let t = c.identifier()?;
            let g = c.identifier()?;
            let topic = md.topic_mut(&s, &t)?;
            let gid = match g {
                Ident::Numeric(n) => n,
                Ident::Name(name) => *topic.groups.iter().find(|(_, n)| **n == name)?.0,
            };
            topic.groups.remove(&gid);
        }
        _ => {}
    }
    Some(())
}

// 0.9 (`core/binary_protocol/src/consensus`): the prepare command and the operations replayed.
const PREPARE_HEADER: usize = 256;
const COMMAND_PREPARE: u8 = 6;
const MAX_ENTRY: u64 = 64 * 1024 * 1024;
const OP_CREATE_TOPIC_WITH_ASSIGNMENTS: u8 = 64;
const OP_CREATE_STREAM: u8 = 128;
const OP_UPDATE_STREAM: u8 = 129;
const OP_DELETE_STREAM: u8 = 130;
const OP_DELETE_TOPIC: u8 = 134;
const OP_CREATE_CONSUMER_GROUP: u8 = 139;
const OP_DELETE_CONSUMER_GROUP: u8 = 140;

/// Replays the 0.9 `metadata/journal.wal`.
pub fn read_journal(r: impl Read, path: &str, size: u64, out: &mut Vec<Finding>) -> Metadata {
    let mut md = Metadata::default();
    let mut c = Chunked::new(r);
    let cap = c.capacity();
    loop {
        let at = c.pos();
        match c.fill(PREPARE_HEADER) {
            Ok(true) => {}
            Ok(false) => {
                let left = c.peek().len();
                if left > 0 {
                    out.push(finding(
                        Severity::Warning,
                        FindingKind::TornSegment,
                        path,
                        at,
                        format!(
                            "the metadata journal ends inside an entry header ({left} bytes after \
                             op {}); the server truncates such a tail on start",
                            md.entries
                        ),
                    ));
                }
                break;
            }
            Err(e) => {
                out.push(unreadable(path, at, &e));
                break;
            }
        }
        let h = &c.peek()[..PREPARE_HEADER];
        let body_sum = u128_at(h, 16);
        let entry = u32_at(h, 48) as u64;
        let command = h[60];
        let op = u64_at(h, 176);
        let operation = h[208];
        if command != COMMAND_PREPARE || entry < PREPARE_HEADER as u64 || entry > MAX_ENTRY {
            out.push(finding(
                Severity::Error,
                FindingKind::Malformed,
                path,
                at,
                format!(
                    "no valid prepare entry at byte {at} (command {command}, size {entry}); \
                     the {} bytes after it are not read",
                    size.saturating_sub(at)
                ),
            ));
            break;
        }
        c.consume(PREPARE_HEADER);
        let body_len = entry - PREPARE_HEADER as u64;
        // Small bodies (every metadata command) are decoded in place; larger ones only hashed.
        let body: Option<Vec<u8>>;
        let mut hasher = XxHash3_64::new();
        if (body_len as usize) <= cap {
            if !c.fill(body_len as usize).unwrap_or(false) {
                let have = c.peek().len();
                out.push(finding(
                    Severity::Warning,
                    FindingKind::TornSegment,
                    path,
                    at,
                    format!(
                        "the metadata journal is torn: op {op} at byte {at} is cut after {} of \
                         {entry} bytes; the server truncates such a tail on start",
                        PREPARE_HEADER + have
                    ),
                ));
                break;
            }
            let b = &c.peek()[..body_len as usize];
            hasher.write(b);
            body = Some(b.to_vec());
            c.consume(body_len as usize);
        } else {
            let got = match c.feed(body_len, |s| hasher.write(s)) {
                Ok(n) => n,
                Err(e) => {
                    out.push(unreadable(path, at, &e));
                    break;
                }
            };
            if got < body_len {
                out.push(finding(
                    Severity::Warning,
                    FindingKind::TornSegment,
                    path,
                    at,
                    format!("the metadata journal is torn: op {op} at byte {at} is cut"),
                ));
                break;
            }
            body = None;
        }
        md.entries += 1;
        if body_sum != 0 && u128::from(hasher.finish()) != body_sum {
            out.push(finding(
                Severity::Error,
                FindingKind::ChecksumMismatch,
                path,
                at,
                format!(
                    "journal op {op} (operation {operation}) fails its body checksum; the server \
                     refuses to start on interior damage"
                ),
            ));
            continue;
        }
        if let Some(b) = body {
            let _ = apply_v09(&mut md, operation, &b);
        }
    }
    md
}

/// Topic options are encoded as user headers: key kind u8, key len u32, key, value kind u8,
/// value len u32, value. Returns `segment_size` when it is there as a u64.
fn segment_size_option(opts: &[u8]) -> Option<u64> {
    let mut c = Cursor::new(opts);
    while !c.rest().is_empty() {
        let _kk = c.u8()?;
        let kl = c.u32()? as usize;
        let key = c.bytes(kl)?;
        let vk = c.u8()?;
        let vl = c.u32()? as usize;
        let v = c.bytes(vl)?;
        if key == b"segment_size" && vk == 12 && vl == 8 {
            return Some(u64_at(v, 0));
        }
    }
    None
}

fn apply_v09(md: &mut Metadata, operation: u8, body: &[u8]) -> Option<()> {
    let mut c = Cursor::new(body);
    match operation {
        OP_CREATE_STREAM => {
            let name = c.name8()?;
            if md.streams.values().any(|s| s.name == name) {
                return None;
            }
            let id = vacant(&md.streams, md.stream_slab_len);
            md.add_stream(id, name);
        }
        OP_UPDATE_STREAM => {
            let sid = md.stream_id(&c.identifier()?)?;
            let name = c.name8()?;
            md.streams.get_mut(&sid)?.name = name;
        }
        OP_DELETE_STREAM => {
            let sid = md.stream_id(&c.identifier()?)?;
            md.streams.remove(&sid);
        }
        OP_CREATE_TOPIC_WITH_ASSIGNMENTS => {
            let req_len = c.u32()? as usize;
            let req = c.bytes(req_len)?;
            let derived_len = c.u32()? as usize;
            let derived = c.bytes(derived_len)?;
            let partitions = c.u32()?;
            let mut r = Cursor::new(req);
            let sid = md.stream_id(&r.identifier()?)?;
            let _count = r.u32()?;
            let name = r.name8()?;
            let segment_size =
                segment_size_option(r.rest()).or_else(|| segment_size_option(derived));
            let s = md.streams.get(&sid)?;
            if s.topics.values().any(|t| t.name == name) {
                return None;
            }
            let id = vacant(&s.topics, s.topic_slab_len);
            md.add_topic(
                sid,
                id,
                MetaTopic {
                    name,
                    partitions,
                    segment_size,
                    ..MetaTopic::default()
                },
            );
        }
        OP_DELETE_TOPIC => {
            let sid = md.stream_id(&c.identifier()?)?;
            let tid = md.topic_id(sid, &c.identifier()?)?;
            md.streams.get_mut(&sid)?.topics.remove(&tid);
        }
        OP_CREATE_CONSUMER_GROUP => {
            let s = c.identifier()?;
            let t = c.identifier()?;
            let name = c.name8()?;
            let topic = md.topic_mut(&s, &t)?;
            if topic.groups.values().any(|g| *g == name) {
                return None;
            }
            let id = topic.next_group;
            topic.next_group += 1;
            topic.groups.insert(id, name);
        }
        OP_DELETE_CONSUMER_GROUP => {
            let s = c.identifier()?;
            let t = c.identifier()?;
            let g = c.identifier()?;
            let topic = md.topic_mut(&s, &t)?;
            let gid = match g {
                Ident::Numeric(n) => n,
                Ident::Name(name) => *topic.groups.iter().find(|(_, n)| **n == name)?.0,
            };
            topic.groups.remove(&gid);
        }
        _ => {}
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vacant_takes_the_lowest_free_key() {
        let mut m: BTreeMap<u32, ()> = BTreeMap::new();
        assert_eq!(vacant(&m, 0), 0);
        m.insert(0, ());
        m.insert(2, ());
        assert_eq!(vacant(&m, 3), 1);
        m.insert(1, ());
        assert_eq!(vacant(&m, 3), 3);
    }

    #[test]
    fn v09_streams_reuse_a_deleted_key_as_the_server_does() {
        let mut md = Metadata::default();
        apply_v09(&mut md, OP_CREATE_STREAM, b"\x01a").unwrap();
        apply_v09(&mut md, OP_CREATE_STREAM, b"\x01b").unwrap();
        apply_v09(&mut md, OP_DELETE_STREAM, b"\x02\x01a").unwrap();
        apply_v09(&mut md, OP_CREATE_STREAM, b"\x01c").unwrap();
        let names: Vec<_> = md
            .streams
            .iter()
            .map(|(id, s)| (*id, s.name.as_str()))
            .collect();
        assert_eq!(names, [(0, "c"), (1, "b")]);
    }
}

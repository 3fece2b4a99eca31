//! What an inspection found: the tree of streams, topics, partitions and segments, totals,
//! consumer offsets with their lag, and findings. One document for the CLI's `--json`, the
//! collector's checks and report section, and the app (hence `Serialize` and `ts_rs::TS`).

use std::fmt;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The on-disk format era of a data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub enum Format {
    /// Iggy server 0.8 and the 0.7/0.8 line: bare messages with a 64-byte header, a dense
    /// 16-byte index, metadata in the `state/log` command log.
    #[serde(rename = "0.8")]
    V08,
    /// Iggy server 0.9: 256-byte batch headers and 48-byte frames, a sparse 24-byte index,
    /// metadata in the VSR journal `metadata/journal.wal`.
    #[serde(rename = "0.9")]
    V09,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::V08 => "0.8",
            Format::V09 => "0.9",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Data is lost or unreadable, or the server may refuse to start.
    Error,
    /// Something is inconsistent but no data is known to be lost.
    Warning,
    /// Worth knowing (an unknown file, a legacy encoding).
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What kind of problem a finding is: a stable id for checks and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A segment (or the metadata log) ends inside a message or batch.
    TornSegment,
    /// Index entries that point past the end of the log.
    IndexPastLog,
    /// Index entries that do not match the message or batch at their position.
    IndexMismatch,
    /// A `.log` without its `.index` or the other way round.
    IndexMissing,
    /// Offsets missing between (or inside) segments.
    OffsetGap,
    /// Offsets present twice between (or inside) segments.
    OffsetOverlap,
    /// A stored checksum that does not match the bytes.
    ChecksumMismatch,
    /// Bytes that do not decode as the format says (bad lengths, reserved bytes set).
    Malformed,
    /// A stored consumer or group offset beyond the partition's last offset.
    ConsumerOffsetBeyondEnd,
    /// A file the format does not have.
    UnknownFile,
    /// Metadata and directories disagree (a partition on disk that no topic has, ...).
    MetadataMismatch,
    /// A file that could not be read (I/O error, refused archive entry).
    Unreadable,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::TornSegment => "torn_segment",
            FindingKind::IndexPastLog => "index_past_log",
            FindingKind::IndexMismatch => "index_mismatch",
            FindingKind::IndexMissing => "index_missing",
            FindingKind::OffsetGap => "offset_gap",
            FindingKind::OffsetOverlap => "offset_overlap",
            FindingKind::ChecksumMismatch => "checksum_mismatch",
            FindingKind::Malformed => "malformed",
            FindingKind::ConsumerOffsetBeyondEnd => "consumer_offset_beyond_end",
            FindingKind::UnknownFile => "unknown_file",
            FindingKind::MetadataMismatch => "metadata_mismatch",
            FindingKind::Unreadable => "unreadable",
        }
    }
}

/// One consistency problem, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Finding {
    pub severity: Severity,
    pub kind: FindingKind,
    /// The file, relative to the data directory, with `/`.
    pub path: String,
    pub message: String,
    /// Where in the file, when the problem has a place.
    #[ts(type = "number | null")]
    pub byte_offset: Option<u64>,
}

/// Who a stored offset belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ConsumerKind {
    Consumer,
    ConsumerGroup,
}

/// A stored consumer or consumer-group offset of one partition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConsumerOffset {
    pub kind: ConsumerKind,
    /// The file name: the numeric id (for a consumer, the id the server derives from its name).
    #[ts(type = "number")]
    pub id: u64,
    /// The group's name from the metadata; consumers' names are not on disk.
    pub name: Option<String>,
    #[ts(type = "number")]
    pub offset: u64,
    /// The partition's last offset minus the stored offset (0 when beyond it); `None` when
    /// the partition holds no message.
    #[ts(type = "number | null")]
    pub lag: Option<u64>,
    pub path: String,
}

/// One segment: a `.log` and its `.index`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Segment {
    /// The `.log` path.
    pub path: String,
    /// The start offset in the file name.
    #[ts(type = "number")]
    pub start_offset: u64,
    #[ts(type = "number | null")]
    pub first_offset: Option<u64>,
    #[ts(type = "number | null")]
    pub last_offset: Option<u64>,
    /// Whole messages (a torn tail is not counted).
    #[ts(type = "number")]
    pub messages: u64,
    /// Batches (0.9 only).
    #[ts(type = "number | null")]
    pub batches: Option<u64>,
    #[ts(type = "number")]
    pub log_bytes: u64,
    #[ts(type = "number")]
    pub index_bytes: u64,
    #[ts(type = "number")]
    pub index_entries: u64,
    #[ts(type = "number")]
    pub payload_bytes: u64,
    /// Messages that carry user headers, and the bytes of those headers.
    #[ts(type = "number")]
    pub messages_with_headers: u64,
    #[ts(type = "number")]
    pub header_bytes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Partition {
    pub id: u32,
    pub segments: Vec<Segment>,
    #[ts(type = "number")]
    pub messages: u64,
    #[ts(type = "number | null")]
    pub first_offset: Option<u64>,
    #[ts(type = "number | null")]
    pub last_offset: Option<u64>,
    #[ts(type = "number | null")]
    pub batches: Option<u64>,
    #[ts(type = "number")]
    pub log_bytes: u64,
    #[ts(type = "number")]
    pub index_bytes: u64,
    #[ts(type = "number")]
    pub payload_bytes: u64,
    #[ts(type = "number")]
    pub messages_with_headers: u64,
    #[ts(type = "number")]
    pub header_bytes: u64,
    pub consumers: Vec<ConsumerOffset>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ConsumerGroup {
    pub id: u32,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Topic {
    pub id: u32,
    /// From the metadata; `None` when the metadata does not know this directory.
    pub name: Option<String>,
    /// Partitions the metadata says the topic has.
    pub partitions_count: Option<u32>,
    /// The topic's segment size option (0.9), in bytes.
    #[ts(type = "number | null")]
    pub segment_size: Option<u64>,
    pub partitions: Vec<Partition>,
    pub consumer_groups: Vec<ConsumerGroup>,
    pub totals: Totals,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Stream {
    pub id: u32,
    pub name: Option<String>,
    pub topics: Vec<Topic>,
    pub totals: Totals,
}

/// Sums over a topic, a stream or the whole directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Totals {
    pub streams: u32,
    pub topics: u32,
    pub partitions: u32,
    #[ts(type = "number")]
    pub segments: u64,
    #[ts(type = "number")]
    pub messages: u64,
    #[ts(type = "number")]
    pub batches: u64,
    #[ts(type = "number")]
    pub log_bytes: u64,
    #[ts(type = "number")]
    pub index_bytes: u64,
    #[ts(type = "number")]
    pub payload_bytes: u64,
    #[ts(type = "number")]
    pub messages_with_headers: u64,
    pub consumer_groups: u32,
    pub consumers: u32,
}

impl Totals {
    pub fn add(&mut self, o: &Totals) {
        self.streams += o.streams;
        self.topics += o.topics;
        self.partitions += o.partitions;
        self.segments += o.segments;
        self.messages += o.messages;
        self.batches += o.batches;
        self.log_bytes += o.log_bytes;
        self.index_bytes += o.index_bytes;
        self.payload_bytes += o.payload_bytes;
        self.messages_with_headers += o.messages_with_headers;
        self.consumer_groups += o.consumer_groups;
        self.consumers += o.consumers;
    }
}

/// The whole result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Inspection {
    pub format: Format,
    /// What was read: a directory, a ZIP, or `outer.zip!iggy-data.zip`.
    pub source: String,
    pub streams: Vec<Stream>,
    pub totals: Totals,
    /// Errors first, then warnings, then information; by path within each.
    pub findings: Vec<Finding>,
}

impl Inspection {
    /// The number of findings of a severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// The partition at `streams/<s>/topics/<t>/partitions/<p>`.
    pub fn partition(&self, stream: u32, topic: u32, partition: u32) -> Option<&Partition> {
        self.streams
            .iter()
            .find(|s| s.id == stream)?
            .topics
            .iter()
            .find(|t| t.id == topic)?
            .partitions
            .iter()
            .find(|p| p.id == partition)
    }
}

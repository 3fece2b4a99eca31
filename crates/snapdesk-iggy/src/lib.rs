//! The Iggy data inspector: reads an Apache Iggy data directory (a directory, a bare
//! `iggy-data.zip`, or a snapshot ZIP that carries one, read in place), detects its format
//! era (0.8 or 0.9) from the files present, and reports streams, topics, partitions and
//! segments with their offsets and sizes, consumer offsets with their lag, and consistency
//! findings (torn segments, index entries past or out of step with the log, offset gaps and
//! overlaps, checksum mismatches, offsets beyond the end, unknown files).
//!
//! Memory is constant in the data's size: each file is streamed through one buffer, and a
//! segment's log and index are read side by side.

pub mod error;
pub mod inspect;
mod meta;
pub mod model;
mod seg;
pub mod source;
pub mod text;
mod wire;

pub use error::InspectError;
pub use inspect::{inspect, inspect_tree, inspect_tree_with};
pub use model::{
    ConsumerGroup, ConsumerKind, ConsumerOffset, Finding, FindingKind, Format, Inspection,
    Partition, Segment, Severity, Stream, Topic, Totals,
};
pub use seg::Mark;

// The suite's one skip-or-fail rule, shared as a file: this crate cannot depend on
// `snapdesk-tests`.
#[cfg(test)]
#[path = "../../../tests/src/skip.rs"]
pub(crate) mod test_skip;

#[cfg(test)]
mod fixture_tests;

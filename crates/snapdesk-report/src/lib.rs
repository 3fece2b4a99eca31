//! The snapshot format: the contract between the Supervisor, the collector, the library and
//! the viewer. [`model`] is what a report says, [`render`] turns it into a self-contained
//! interactive HTML page, [`parse`] reads any HTML report back, and [`archive`] writes and
//! reads the per-node ZIP.

pub mod archive;
pub mod file_view;
pub mod iggy_data;
pub mod model;
pub mod parse;
pub mod render;
pub mod sample;
pub mod view;

pub use model::{Check, Evidence, Fact, LogSource, Producer, Report, Status, StatusCounts};

//! The Supervisor API client: create, list, download and delete snapshots, with typed models,
//! typed errors, safe retries and resumable downloads; plus named contexts.
//!
//! Contract: `shared/spec/supervisor-snapshots-api.txt` and `supervisor-conventions.md`.

pub mod client;
pub mod contexts;
pub mod curl;
pub mod error;
pub mod ids;
pub mod models;
pub mod retry;

pub use client::{Client, ClientOptions, DownloadProgress};
pub use error::{ApiError, Permission};
pub use models::{
    CreateSnapshot, Page, Plan, Snapshot, SnapshotItem, SnapshotState, SnapshotStatus,
};

//! Shared helpers for Snapdesk's cross-crate and end-to-end tests.

pub mod bindings;
pub mod cli;
pub mod e2e;
pub mod emu;
pub mod hostile;
pub mod skip;
pub mod wait;
pub mod workspace;

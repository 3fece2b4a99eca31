//! Locations inside the repository and the build, for tests.

use std::path::{Path, PathBuf};

/// The repository root (the workspace directory).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The cargo target directory used by this build.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// A binary built by this workspace in the debug profile.
pub fn debug_bin(name: &str) -> PathBuf {
    target_dir()
        .join("debug")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// The shared fixtures folder beside the checkout (`../shared/fixtures`); when it is absent,
/// a skip outside CI and a failure under `CI=true` (see [`crate::skip`]).
#[track_caller]
pub fn shared_fixtures_or_skip() -> Option<PathBuf> {
    crate::skip::fixtures_or_skip(env!("CARGO_MANIFEST_DIR"))
}

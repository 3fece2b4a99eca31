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

/// The shared fixtures folder beside the checkout, if present.
pub fn shared_fixtures() -> Option<PathBuf> {
    let p = root().join("..").join("shared").join("fixtures");
    p.is_dir().then_some(p)
}

//! Paths of the repository and of the build outputs.

use std::path::PathBuf;

/// The repository root (this crate lives in `<root>/tests`).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default()
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// Where end-to-end screenshots are written.
pub fn shots_dir() -> PathBuf {
    let dir = root().join("target").join("e2e-shots");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

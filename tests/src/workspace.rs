//! Paths of the repository and of the build outputs.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (this crate lives in `<root>/tests`).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default()
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// The `opsdeck` CLI binary of this build (scripts/test.sh builds it first).
pub fn cli_bin() -> PathBuf {
    target_dir().join("debug/opsdeck")
}

/// The CLI on a data directory and a keychain service of the test's own.
pub fn cli(data: &Path, keychain_service: &str) -> Command {
    let mut c = Command::new(cli_bin());
    c.env("OPSDECK_DATA_DIR", data).env("OPSDECK_KEYCHAIN_SERVICE", keychain_service);
    c
}

/// Where end-to-end screenshots are written.
pub fn shots_dir() -> PathBuf {
    let dir = root().join("target").join("e2e-shots");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

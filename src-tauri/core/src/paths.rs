//! Where Opsdeck keeps its files, per OS conventions (XDG on Linux,
//! Application Support on macOS, AppData on Windows). `OPSDECK_DATA_DIR`
//! overrides it (tests, portable installs).

use std::path::PathBuf;

use crate::error::{Error, Result};

pub const DATA_DIR_ENV: &str = "OPSDECK_DATA_DIR";

pub fn data_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("dev", "Opsdeck", "opsdeck")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| Error::Storage(format!("cannot determine a home directory: set {DATA_DIR_ENV}")))
}

pub fn database_file(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("opsdeck.db")
}

pub fn log_dir(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("logs")
}

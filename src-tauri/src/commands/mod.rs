//! Tauri commands, one file per area. Each validates its input, calls the
//! backend, and returns serialisable data or a [`crate::error::UiError`].

pub mod app;
pub mod audit;
pub mod bluegreen;
pub mod clusters;
pub mod config;
pub mod config_ops;
pub mod connections;
pub mod images;
pub mod notify;
pub mod overview;
pub mod registries;
pub mod rollout;
pub mod showback;
pub mod vms;
pub mod vms_delegation;
pub mod vms_utilisation;
pub mod watches;

use crate::error::{UiError, UiResult};

/// IDs from the UI must be UUIDs (anything else never reaches the database).
pub fn check_id(id: &str) -> UiResult<()> {
    uuid::Uuid::parse_str(id).map(|_| ()).map_err(|_| UiError::invalid("id: not a connection id"))
}

/// Paths from the UI: non-empty, bounded, no NUL.
pub fn check_path(path: &str) -> UiResult<()> {
    if path.trim().is_empty() || path.len() > 4096 || path.contains('\0') {
        return Err(UiError::invalid("path: expected a file path"));
    }
    Ok(())
}

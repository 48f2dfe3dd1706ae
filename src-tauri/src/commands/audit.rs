use opsdeck_core::cache::audit::{AuditFilter, AuditPage};
use opsdeck_core::Backend;
use tauri::State;

use crate::error::{UiError, UiResult};

#[tauri::command]
pub async fn audit_list(backend: State<'_, Backend>, filter: AuditFilter) -> UiResult<AuditPage> {
    if filter.text.as_ref().is_some_and(|t| t.len() > 256) {
        return Err(UiError::invalid("search text: at most 256 characters"));
    }
    Ok(backend.audit_log(&filter).await?)
}

use opsdeck_core::cache::audit::{AuditFilter, AuditPage};
use opsdeck_core::Backend;
use tauri::State;

use crate::error::{UiError, UiResult};

#[tauri::command]
#[specta::specta]
pub async fn audit_list(backend: State<'_, Backend>, filter: AuditFilter) -> UiResult<AuditPage> {
    if filter.text.as_ref().is_some_and(|t| t.len() > 256) {
        return Err(UiError::invalid("search text: at most 256 characters"));
    }
    Ok(backend.audit_log(&filter).await?)
}

/// The team's audit trail in its etcd (the team store of the VM settings),
/// verified whole, then filtered; breaks are always all of them.
#[tauri::command]
#[specta::specta]
pub async fn audit_team(
    backend: State<'_, Backend>,
    filter: opsdeck_core::team::trail::TrailFilter,
) -> UiResult<opsdeck_core::team::trail::TrailReport> {
    for (field, v) in [
        ("user", &filter.user),
        ("platform", &filter.platform),
        ("target", &filter.target),
        ("since", &filter.since),
        ("until", &filter.until),
    ] {
        if v.as_ref().is_some_and(|t| t.len() > 256) {
            return Err(UiError::invalid(format!("{field}: at most 256 characters")));
        }
    }
    Ok(backend.team_trail(None, &filter).await?)
}

//! Utilisation of a vCenter (hosts, clusters, idle VMs) and the reclaim of
//! an idle VM through the lease path.

use opsdeck_core::vms::model::VmRequest;
use opsdeck_core::vms::utilisation::{IdleRules, UtilisationReport};
use opsdeck_core::Backend;
use tauri::State;

use super::check_id;
use super::vms::check_request_id;
use crate::error::{UiError, UiResult};

/// Host and cluster CPU/memory usage and the idle verdict on every
/// powered-on VM of a vCenter, with `rules` (or the saved ones).
#[tauri::command]
#[specta::specta]
pub async fn vms_utilisation(backend: State<'_, Backend>, connection_id: String, rules: Option<IdleRules>) -> UiResult<UtilisationReport> {
    check_id(&connection_id)?;
    Ok(backend.vm_utilisation(&connection_id, rules).await?)
}

/// Files the reclaim of request `id`'s VM: its lease to end on `lease_end`
/// (YYYY-MM-DD), decided by the department's manager.
#[tauri::command]
#[specta::specta]
pub async fn vms_reclaim(backend: State<'_, Backend>, id: String, lease_end: String, reason: String) -> UiResult<VmRequest> {
    check_request_id(&id)?;
    if reason.len() > 4096 {
        return Err(UiError::invalid("reason: at most 500 characters"));
    }
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_reclaim(store.as_ref(), &id, &lease_end, &reason).await?)
}

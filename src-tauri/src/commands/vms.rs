//! VMs workspace commands (thin: validate the input shape, call the
//! backend). The request store is the one chosen in the VM settings.
//! Provisioning streams its steps on a Channel.

use opsdeck_core::backend::VmSettings;
use opsdeck_core::cache::snapshots::Snapshot;
use opsdeck_core::vms::compliance::{self, Finding};
use opsdeck_core::vms::inventory::Inventory;
use opsdeck_core::vms::lifecycle::{self, Action};
use opsdeck_core::vms::live::{LiveHandle, VmEventBatch};
use opsdeck_core::vms::model::{DepartmentQuota, Quota, RequestSpec, Stage, VmRequest};
use opsdeck_core::vms::provision::{Progress, ProvisionOptions};
use opsdeck_core::Backend;
use tauri::ipc::Channel;
use tauri::State;

use super::check_id;
use super::watches::Watches;
use crate::error::{UiError, UiResult};

/// Request ids are `r` + date + `-` + hex (see `vms::workflow::new_id`).
pub(crate) fn check_request_id(id: &str) -> UiResult<()> {
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(UiError::invalid("request id: letters, digits and '-'"));
    }
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn vms_settings(backend: State<'_, Backend>) -> UiResult<VmSettings> {
    Ok(backend.vm_settings().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn vms_set_settings(backend: State<'_, Backend>, settings: VmSettings) -> UiResult<()> {
    Ok(backend.set_vm_settings(&settings).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn vms_inventory(backend: State<'_, Backend>, connection_id: String) -> UiResult<Inventory> {
    check_id(&connection_id)?;
    Ok(backend.vm_inventory(&connection_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn vms_cached(backend: State<'_, Backend>, connection_id: String) -> UiResult<Option<Snapshot<Inventory>>> {
    check_id(&connection_id)?;
    Ok(backend.cached_vm_inventory(&connection_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn vms_requests(backend: State<'_, Backend>) -> UiResult<Vec<VmRequest>> {
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_requests(store.as_ref()).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn vms_submit(backend: State<'_, Backend>, connection_id: String, spec: RequestSpec) -> UiResult<VmRequest> {
    check_id(&connection_id)?;
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_submit(store.as_ref(), &connection_id, spec).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn vms_decide(
    backend: State<'_, Backend>,
    connection_id: String,
    id: String,
    stage: Stage,
    approved: bool,
    comment: String,
) -> UiResult<VmRequest> {
    check_id(&connection_id)?;
    check_request_id(&id)?;
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_decide(store.as_ref(), Some(&connection_id), &id, stage, approved, &comment).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn vms_provision(
    backend: State<'_, Backend>,
    connection_id: String,
    id: String,
    on_progress: Channel<Progress>,
) -> UiResult<VmRequest> {
    check_id(&connection_id)?;
    check_request_id(&id)?;
    let store = backend.vm_default_store().await?;
    let on = move |p: Progress| {
        let _ = on_progress.send(p);
    };
    Ok(backend.vm_provision(store.as_ref(), &connection_id, &id, &ProvisionOptions::default(), &on).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn vms_lifecycle(backend: State<'_, Backend>, connection_id: String) -> UiResult<Vec<Action>> {
    check_id(&connection_id)?;
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_lifecycle(store.as_ref(), &connection_id, time::OffsetDateTime::now_utc()).await?)
}

/// What a lifecycle pass at `at` would do on the vCenter — the VMs it would
/// snapshot, warn, power off or destroy — and the capacity each department
/// would get back; nothing is changed (`opsdeck vm lifecycle --dry-run`).
/// `at`: a day (noon UTC) or an RFC 3339 time; now when empty.
#[tauri::command]
#[specta::specta]
pub async fn vms_lifecycle_plan(backend: State<'_, Backend>, connection_id: String, at: Option<String>) -> UiResult<lifecycle::Plan> {
    check_id(&connection_id)?;
    let now = match at.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => lifecycle::parse_at(a)?,
        None => time::OffsetDateTime::now_utc(),
    };
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_lifecycle_plan(store.as_ref(), &connection_id, now).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn vms_compliance(backend: State<'_, Backend>, connection_id: String) -> UiResult<Vec<Finding>> {
    check_id(&connection_id)?;
    Ok(backend.vm_compliance(&connection_id, time::OffsetDateTime::now_utc()).await?)
}

/// The compliance report as CSV or JSON text (the UI copies or saves it).
#[tauri::command]
#[specta::specta]
pub async fn vms_compliance_export(backend: State<'_, Backend>, connection_id: String, format: String) -> UiResult<String> {
    check_id(&connection_id)?;
    let findings = backend.vm_compliance(&connection_id, time::OffsetDateTime::now_utc()).await?;
    Ok(match format.as_str() {
        "csv" => compliance::to_csv(&findings)?,
        "json" => compliance::to_json(&findings)?,
        _ => return Err(UiError::invalid("format: csv or json")),
    })
}

#[tauri::command]
#[specta::specta]
pub async fn vms_quotas(backend: State<'_, Backend>, connection_id: Option<String>) -> UiResult<Vec<DepartmentQuota>> {
    if let Some(c) = &connection_id {
        check_id(c)?;
    }
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_quotas(store.as_ref(), connection_id.as_deref()).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn vms_set_quota(backend: State<'_, Backend>, department: String, quota: Quota) -> UiResult<()> {
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_set_quota(store.as_ref(), &department, &quota).await?)
}

/// Open live VM watches by id (dropping a handle stops its long-poll).
pub type VmWatches = Watches<LiveHandle>;

/// Live VM updates while the view is open, a batch per vCenter update set
/// (up to 100 VMs each on vCenter); stop with `vms_unwatch`.
#[tauri::command]
#[specta::specta]
pub async fn vms_watch(
    backend: State<'_, Backend>,
    watches: State<'_, VmWatches>,
    connection_id: String,
    on_events: Channel<VmEventBatch>,
) -> UiResult<u32> {
    check_id(&connection_id)?;
    let handle = backend
        .vm_watch(&connection_id, move |events| {
            let _ = on_events.send(VmEventBatch { events });
        })
        .await?;
    watches.add(handle)
}

#[tauri::command]
#[specta::specta]
pub fn vms_unwatch(watches: State<'_, VmWatches>, watch_id: u32) -> UiResult<()> {
    watches.remove(watch_id);
    Ok(())
}

/// What the chosen request store proves (personal, shared, shared without
/// auth) and the records it skipped as malformed or misplaced.
#[derive(serde::Serialize, specta::Type)]
pub struct StoreStatus {
    trust: opsdeck_core::vms::store::Trust,
    problems: Vec<opsdeck_core::vms::store::StoreProblem>,
}

#[tauri::command]
#[specta::specta]
pub async fn vms_store_status(backend: State<'_, Backend>) -> UiResult<StoreStatus> {
    let store = backend.vm_default_store().await?;
    let (_, problems) = backend.vm_requests_checked(store.as_ref()).await?;
    Ok(StoreStatus { trust: store.trust(), problems })
}

#[tauri::command]
#[specta::specta]
pub async fn vms_withdraw(backend: State<'_, Backend>, id: String, comment: String) -> UiResult<VmRequest> {
    check_request_id(&id)?;
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_withdraw(store.as_ref(), &id, &comment).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn vms_extend(backend: State<'_, Backend>, id: String, lease_end: String, reason: String) -> UiResult<VmRequest> {
    check_request_id(&id)?;
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_extend(store.as_ref(), &id, &lease_end, &reason).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn vms_decide_extension(backend: State<'_, Backend>, id: String, n: u32, approved: bool, comment: String) -> UiResult<VmRequest> {
    check_request_id(&id)?;
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_decide_extension(store.as_ref(), &id, n, approved, &comment).await?)
}

/// The requester changes their request (checked against the vCenter's inventory); decisions start again.
#[tauri::command]
#[specta::specta]
pub async fn vms_edit(backend: State<'_, Backend>, connection_id: String, id: String, spec: RequestSpec) -> UiResult<VmRequest> {
    check_id(&connection_id)?;
    check_request_id(&id)?;
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_edit(store.as_ref(), &connection_id, &id, spec).await?)
}

//! Delegation and approval timeouts (thin: validate the input shape, call
//! the backend, which audits). The request store is the one chosen in the
//! VM settings.

use opsdeck_core::vms::delegation::{Delegation, DelegationInput, DelegationView, Via};
use opsdeck_core::vms::escalation::{EscalationPolicy, EscalationStep};
use opsdeck_core::vms::model::{Stage, VmRequest};
use opsdeck_core::Backend;
use tauri::State;

use super::check_id;
use super::vms::check_request_id;
use crate::error::{UiError, UiResult};

fn check_delegation_id(id: &str) -> UiResult<()> {
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(UiError::invalid("delegation id: letters and digits"));
    }
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn vms_delegations(backend: State<'_, Backend>) -> UiResult<Vec<DelegationView>> {
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_delegations(store.as_ref()).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn vms_delegate(backend: State<'_, Backend>, input: DelegationInput) -> UiResult<Delegation> {
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_delegate(store.as_ref(), input).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn vms_revoke_delegation(backend: State<'_, Backend>, id: String) -> UiResult<Delegation> {
    check_delegation_id(&id)?;
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_revoke_delegation(store.as_ref(), &id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn vms_escalation_policies(backend: State<'_, Backend>) -> UiResult<Vec<EscalationPolicy>> {
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_escalation_policies(store.as_ref()).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn vms_set_escalation_policy(backend: State<'_, Backend>, policy: EscalationPolicy) -> UiResult<EscalationPolicy> {
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_set_escalation_policy(store.as_ref(), policy).await?)
}

/// One escalation pass now (the app also runs one every 10 minutes).
#[tauri::command]
#[specta::specta]
pub async fn vms_escalate(backend: State<'_, Backend>, dry_run: bool) -> UiResult<Vec<EscalationStep>> {
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_escalate(store.as_ref(), time::OffsetDateTime::now_utc(), dry_run).await?)
}

/// How I may decide request `id` besides as myself (delegations, escalation).
#[tauri::command]
#[specta::specta]
pub async fn vms_decision_ways(backend: State<'_, Backend>, id: String) -> UiResult<Vec<Via>> {
    check_request_id(&id)?;
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_decision_ways(store.as_ref(), &id).await?)
}

/// Decides a step through a delegation or as the escalation delegate.
#[tauri::command]
#[specta::specta]
pub async fn vms_decide_via(
    backend: State<'_, Backend>,
    connection_id: String,
    id: String,
    stage: Stage,
    approved: bool,
    comment: String,
    via: Via,
) -> UiResult<VmRequest> {
    check_id(&connection_id)?;
    check_request_id(&id)?;
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_decide_via(store.as_ref(), Some(&connection_id), &id, stage, approved, &comment, &via).await?)
}

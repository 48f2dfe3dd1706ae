//! Showback commands: the price list (team store or local settings), the
//! estimate on the request form, and the monthly cost report (JSON for the
//! charts, CSV for export). The request store is the one chosen in the VM
//! settings; the price list lives with it.

use opsdeck_core::showback::{self, CostEstimate, PriceList, Showback, StoredPriceList};
use opsdeck_core::vms::model::RequestSpec;
use opsdeck_core::Backend;
use tauri::State;

use super::check_id;
use crate::error::{UiError, UiResult};

#[tauri::command]
#[specta::specta]
pub async fn vms_price_list(backend: State<'_, Backend>) -> UiResult<StoredPriceList> {
    let store = backend.vm_default_store().await?;
    Ok(backend.price_list(store.as_ref()).await?)
}

/// Sets the price list if valid (no negative, non-numeric or absurd price)
/// and, in the team store, unchanged since `expected_revision`. Audited.
#[tauri::command]
#[specta::specta]
pub async fn vms_set_price_list(backend: State<'_, Backend>, list: PriceList, expected_revision: Option<i64>) -> UiResult<StoredPriceList> {
    let store = backend.vm_default_store().await?;
    Ok(backend.set_price_list(store.as_ref(), &list, expected_revision).await?)
}

/// The monthly cost of a request's size at today's prices (before filing).
#[tauri::command]
#[specta::specta]
pub async fn vms_estimate(backend: State<'_, Backend>, spec: RequestSpec) -> UiResult<CostEstimate> {
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_estimate(store.as_ref(), &spec).await?)
}

fn check_department(d: &Option<String>) -> UiResult<()> {
    match d {
        Some(d) if d.is_empty() || d.len() > 128 => Err(UiError::invalid("department: 1 to 128 characters")),
        _ => Ok(()),
    }
}

/// The showback report of a vCenter's cached inventory and the store's
/// requests and quotas (one department when named).
#[tauri::command]
#[specta::specta]
pub async fn vms_showback(backend: State<'_, Backend>, connection_id: Option<String>, department: Option<String>) -> UiResult<Showback> {
    if let Some(c) = &connection_id {
        check_id(c)?;
    }
    check_department(&department)?;
    let store = backend.vm_default_store().await?;
    Ok(backend.vm_showback(store.as_ref(), connection_id.as_deref(), false, department.as_deref()).await?)
}

/// The same report as CSV, one line per VM.
#[tauri::command]
#[specta::specta]
pub async fn vms_showback_csv(backend: State<'_, Backend>, connection_id: Option<String>, department: Option<String>) -> UiResult<String> {
    if let Some(c) = &connection_id {
        check_id(c)?;
    }
    check_department(&department)?;
    let store = backend.vm_default_store().await?;
    let report = backend.vm_showback(store.as_ref(), connection_id.as_deref(), false, department.as_deref()).await?;
    Ok(showback::to_csv(&report))
}

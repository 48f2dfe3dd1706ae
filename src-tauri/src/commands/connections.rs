use opsdeck_core::connections::{Connection, ConnectionInput, TestOutcome};
use opsdeck_core::connectors::{kube, vsphere};
use opsdeck_core::Backend;
use tauri::State;

use super::{check_id, check_path};
use crate::error::UiResult;

#[tauri::command]
#[specta::specta]
pub async fn connections_list(backend: State<'_, Backend>) -> UiResult<Vec<Connection>> {
    Ok(backend.connections().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn connection_save(backend: State<'_, Backend>, input: ConnectionInput) -> UiResult<Connection> {
    if let Some(id) = &input.id {
        check_id(id)?;
    }
    Ok(backend.save_connection(input).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn connection_delete(backend: State<'_, Backend>, id: String) -> UiResult<()> {
    check_id(&id)?;
    Ok(backend.delete_connection(&id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn connection_test(backend: State<'_, Backend>, id: String) -> UiResult<TestOutcome> {
    check_id(&id)?;
    Ok(backend.test_connection(&id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn kube_contexts(path: String) -> UiResult<Vec<String>> {
    check_path(&path)?;
    Ok(tauri::async_runtime::spawn_blocking(move || kube::contexts(&path))
        .await
        .map_err(|e| opsdeck_core::Error::Internal(e.to_string()))??)
}

/// The vCenter's certificate thumbprint, for the user to compare and pin.
#[tauri::command]
#[specta::specta]
pub async fn vsphere_thumbprint(url: String) -> UiResult<String> {
    if url.len() > 2048 {
        return Err(crate::error::UiError::invalid("url: too long"));
    }
    opsdeck_core::connections::validate::validate_spec(opsdeck_core::connections::ConnectionSpec::Vsphere {
        url: url.clone(),
        username: "-".into(),
        thumbprint: None,
    })?;
    Ok(vsphere::fetch_thumbprint(&url).await?)
}

//! Registry connections of the Images workspace: add/remove/test, browse
//! repositories and tags, scan a tag (progress on a Channel). The logic is in
//! opsdeck-core (`Backend::*registry*`), shared with `opsdeck registry`.

use opsdeck_core::connections::TestOutcome;
use opsdeck_core::scanner::registry::saved::{validate_repository, validate_tag, RegistryConnection, RegistryInput, RegistryListing};
use opsdeck_core::scanner::scan::Progress;
use opsdeck_core::Backend;
use tauri::ipc::Channel;
use tauri::State;

use super::check_id;
use super::images::{cancellable, check_task, ScanResult, ScanTasks};
use crate::error::UiResult;

/// The saved registry connections.
#[tauri::command]
#[specta::specta]
pub async fn registry_list(backend: State<'_, Backend>) -> UiResult<Vec<RegistryConnection>> {
    Ok(backend.registry_connections().await?)
}

/// Adds (`id: null`) or updates a registry connection; the password goes to the keychain.
#[tauri::command]
#[specta::specta]
pub async fn registry_save(backend: State<'_, Backend>, input: RegistryInput) -> UiResult<RegistryConnection> {
    if let Some(id) = &input.id {
        check_id(id)?;
    }
    Ok(backend.save_registry_connection(input).await?)
}

/// Removes a registry connection and its keychain password.
#[tauri::command]
#[specta::specta]
pub async fn registry_remove(backend: State<'_, Backend>, id: String) -> UiResult<()> {
    check_id(&id)?;
    Ok(backend.delete_registry_connection(&id).await?)
}

/// Tests a connection as edited (before saving): `/v2/` and the catalog's first page.
#[tauri::command]
#[specta::specta]
pub async fn registry_test(backend: State<'_, Backend>, input: RegistryInput) -> UiResult<TestOutcome> {
    if let Some(id) = &input.id {
        check_id(id)?;
    }
    Ok(backend.test_registry_connection(input).await?)
}

/// The repositories of a saved registry (the catalog, all pages).
#[tauri::command]
#[specta::specta]
pub async fn registry_repositories(backend: State<'_, Backend>, id: String) -> UiResult<RegistryListing> {
    check_id(&id)?;
    Ok(backend.registry_repositories(&id, None).await?)
}

/// The tags of one repository of a saved registry (all pages).
#[tauri::command]
#[specta::specta]
pub async fn registry_tags(backend: State<'_, Backend>, id: String, repository: String) -> UiResult<RegistryListing> {
    check_id(&id)?;
    validate_repository(&repository)?;
    Ok(backend.registry_tags(&id, &repository, None).await?)
}

/// Scans `repository:tag` of a saved registry, as `opsdeck scan` would, with
/// the connection's platform; progress on `on_progress`. Kept in the history.
/// Cancelled by `images_cancel(task)` (the drawer closed, the view left): the
/// download stops at once and nothing of the layer in flight is cached.
#[tauri::command]
#[specta::specta]
pub async fn registry_scan(
    backend: State<'_, Backend>,
    tasks: State<'_, ScanTasks>,
    id: String,
    repository: String,
    tag: String,
    task: String,
    on_progress: Channel<Progress>,
) -> UiResult<ScanResult> {
    check_id(&id)?;
    validate_repository(&repository)?;
    validate_tag(&tag)?;
    check_task(&task)?;
    let backend = backend.inner().clone();
    cancellable(&tasks, task, async move {
        let (id, report) = Box::pin(backend.scan_registry_tag(&id, &repository, &tag, None, &|p| {
            let _ = on_progress.send(p);
        }))
        .await?;
        Ok(ScanResult { id, report })
    })
    .await
}

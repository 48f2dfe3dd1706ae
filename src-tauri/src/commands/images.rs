//! Images workspace commands. Long scans stream progress on a Channel and
//! can be cancelled by their task id (the view cancels on unmount).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use opsdeck_core::backend::{AdvisoryUpdate, ImageOutcome, ImageProgress};
use opsdeck_core::cache::snapshots::Snapshot;
use opsdeck_core::scanner::engine::EngineInventory;
use opsdeck_core::scanner::fleet::FleetImage;
use opsdeck_core::scanner::history::ScanSummary;
use opsdeck_core::scanner::policy::Policy;
use opsdeck_core::scanner::rematch::{RematchNote, Rematched};
use opsdeck_core::scanner::reports::Format;
use opsdeck_core::scanner::scan::{Progress, ScanReport};
use opsdeck_core::Backend;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;
use tokio::task::AbortHandle;

use super::{check_id, check_path};
use crate::error::{UiError, UiResult};

/// Running scans by the task id the UI chose, so they can be cancelled.
#[derive(Default)]
pub struct ScanTasks {
    running: Mutex<HashMap<String, AbortHandle>>,
}

pub(super) fn check_task(task: &str) -> UiResult<()> {
    if task.is_empty() || task.len() > 64 || !task.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(UiError::invalid("task: 1 to 64 letters, digits or '-'"));
    }
    Ok(())
}

fn check_image(image: &str) -> UiResult<()> {
    if image.trim().is_empty() || image.len() > 512 || image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UiError::invalid("image: a name:tag, name@digest or image id"));
    }
    Ok(())
}

/// Runs `work` as a cancellable task registered under `task`.
pub(super) async fn cancellable<T: Send + 'static>(
    tasks: &ScanTasks,
    task: String,
    work: impl std::future::Future<Output = opsdeck_core::Result<T>> + Send + 'static,
) -> UiResult<T> {
    let handle = tokio::spawn(work);
    tasks.running.lock().map_err(|_| UiError::invalid("task registry unavailable"))?.insert(task.clone(), handle.abort_handle());
    let result = handle.await;
    if let Ok(mut running) = tasks.running.lock() {
        running.remove(&task);
    }
    match result {
        Ok(r) => Ok(r?),
        Err(e) if e.is_cancelled() => Err(opsdeck_core::Error::Cancelled("scan cancelled: nothing was recorded".into()).into()),
        Err(e) => Err(opsdeck_core::Error::Internal(format!("the scan task stopped unexpectedly: {e}")).into()),
    }
}

#[tauri::command]
#[specta::specta]
pub async fn images_inventory(backend: State<'_, Backend>, connection_id: String) -> UiResult<EngineInventory> {
    check_id(&connection_id)?;
    Ok(backend.image_inventory(&connection_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn images_cached(backend: State<'_, Backend>, connection_id: String) -> UiResult<Option<Snapshot<EngineInventory>>> {
    check_id(&connection_id)?;
    Ok(backend.cached_image_inventory(&connection_id).await?)
}

#[derive(Serialize, specta::Type)]
pub struct ScanResult {
    pub id: i64,
    pub report: ScanReport,
}

#[tauri::command]
#[specta::specta]
pub async fn images_scan(
    backend: State<'_, Backend>,
    tasks: State<'_, ScanTasks>,
    connection_id: String,
    image: String,
    task: String,
    on_progress: Channel<Progress>,
) -> UiResult<ScanResult> {
    check_id(&connection_id)?;
    check_image(&image)?;
    check_task(&task)?;
    let backend = backend.inner().clone();
    cancellable(&tasks, task, async move {
        let engine = backend.engine(&connection_id).await?;
        let (id, report) = backend
            .scan(&engine, &image, &|p| {
                let _ = on_progress.send(p);
            })
            .await?;
        Ok(ScanResult { id, report })
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn images_scan_running(
    backend: State<'_, Backend>,
    tasks: State<'_, ScanTasks>,
    connection_id: String,
    task: String,
    on_progress: Channel<ImageProgress>,
) -> UiResult<Vec<ImageOutcome>> {
    check_id(&connection_id)?;
    check_task(&task)?;
    let backend = backend.inner().clone();
    cancellable(&tasks, task, async move {
        let engine = backend.engine(&connection_id).await?;
        backend
            .scan_running(
                &engine,
                Arc::new(move |p| {
                    let _ = on_progress.send(p);
                }),
            )
            .await
    })
    .await
}

/// Scans every image of the engine, two at a time (the Fleet view's "Scan
/// all"); cancelled by `images_cancel(task)` when the view is left.
#[tauri::command]
#[specta::specta]
pub async fn images_scan_all(
    backend: State<'_, Backend>,
    tasks: State<'_, ScanTasks>,
    connection_id: String,
    task: String,
    on_progress: Channel<ImageProgress>,
) -> UiResult<Vec<ImageOutcome>> {
    check_id(&connection_id)?;
    check_task(&task)?;
    let backend = backend.inner().clone();
    cancellable(&tasks, task, async move {
        let engine = backend.engine(&connection_id).await?;
        backend
            .scan_all(
                &engine,
                Arc::new(move |p| {
                    let _ = on_progress.send(p);
                }),
            )
            .await
    })
    .await
}

/// Every scanned image's newest decision (the Fleet view).
#[tauri::command]
#[specta::specta]
pub async fn images_fleet(backend: State<'_, Backend>) -> UiResult<Vec<FleetImage>> {
    Ok(backend.fleet_images().await?)
}

/// What the re-matches after advisory imports and policy changes changed, newest first.
#[tauri::command]
#[specta::specta]
pub async fn images_rematch_notes(backend: State<'_, Backend>) -> UiResult<Vec<RematchNote>> {
    Ok(backend.rematch_notes().await?)
}

#[tauri::command]
#[specta::specta]
pub fn images_cancel(tasks: State<'_, ScanTasks>, task: String) -> UiResult<()> {
    check_task(&task)?;
    if let Some(handle) = tasks.running.lock().ok().and_then(|mut r| r.remove(&task)) {
        handle.abort(); // drops the scan: the Docker stream closes, the reader stops
    }
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn images_history(backend: State<'_, Backend>, image_id: Option<String>, limit: Option<i64>) -> UiResult<Vec<ScanSummary>> {
    if image_id.as_ref().is_some_and(|i| i.len() > 128) {
        return Err(UiError::invalid("imageId: too long"));
    }
    Ok(backend.scan_history(image_id.as_deref(), limit.unwrap_or(200)).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn images_report(backend: State<'_, Backend>, id: i64) -> UiResult<ScanReport> {
    Ok(backend.scan_report(id).await?)
}

/// A stored report rendered as json, sarif or cyclonedx (the UI saves it).
#[tauri::command]
#[specta::specta]
pub async fn images_export(backend: State<'_, Backend>, id: i64, format: Format) -> UiResult<String> {
    Ok(backend.render_report(id, format).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn advisories_import(backend: State<'_, Backend>, path: String) -> UiResult<AdvisoryUpdate> {
    check_path(&path)?;
    Ok(backend.import_advisories(std::path::Path::new(&path)).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn images_policy(backend: State<'_, Backend>) -> UiResult<Policy> {
    Ok(backend.image_policy().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn images_set_policy(backend: State<'_, Backend>, policy: Policy) -> UiResult<Rematched> {
    Ok(backend.set_image_policy(policy).await?)
}

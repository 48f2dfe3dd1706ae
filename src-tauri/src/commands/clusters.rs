//! Clusters workspace commands.

use opsdeck_core::cache::snapshots::Snapshot;
use opsdeck_core::clusters::apply::ApplyResult;
use opsdeck_core::clusters::capacity::ClusterCapacity;
use opsdeck_core::clusters::details::ClusterDetails;
use opsdeck_core::clusters::fleet::FleetReport;
use opsdeck_core::clusters::history::HealthTransition;
use opsdeck_core::clusters::live::LiveHandle;
use opsdeck_core::clusters::review::ClusterReview;
use opsdeck_core::clusters::ClusterHealth;
use opsdeck_core::Backend;
use tauri::ipc::Channel;
use tauri::State;

use super::check_id;
use super::watches::Watches;
use crate::error::{UiError, UiResult};

/// Checks a Kubernetes connection's contexts now (and caches the result).
#[tauri::command]
#[specta::specta]
pub async fn clusters_health(backend: State<'_, Backend>, connection_id: String) -> UiResult<Vec<ClusterHealth>> {
    check_id(&connection_id)?;
    Ok(backend.cluster_health(&connection_id).await?)
}

/// The last cached health of a connection, shown at start with its age.
#[tauri::command]
#[specta::specta]
pub async fn clusters_cached(backend: State<'_, Backend>, connection_id: String) -> UiResult<Option<Snapshot<Vec<ClusterHealth>>>> {
    check_id(&connection_id)?;
    Ok(backend.cached_cluster_health(&connection_id).await?)
}

/// Open live cluster watches by id.
pub type ClusterWatches = Watches<LiveHandle>;

/// Live health of a connection's contexts, streamed on `on_event`.
#[tauri::command]
#[specta::specta]
pub async fn clusters_watch(
    backend: State<'_, Backend>,
    watches: State<'_, ClusterWatches>,
    connection_id: String,
    on_event: Channel<ClusterHealth>,
) -> UiResult<u32> {
    check_id(&connection_id)?;
    let handle = backend
        .cluster_watch(&connection_id, move |h| {
            let _ = on_event.send(h);
        })
        .await?;
    watches.add(handle)
}

#[tauri::command]
#[specta::specta]
pub fn clusters_unwatch(watches: State<'_, ClusterWatches>, watch_id: u32) -> UiResult<()> {
    watches.remove(watch_id);
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn clusters_details(backend: State<'_, Backend>, connection_id: String, context: String) -> UiResult<ClusterDetails> {
    check_id(&connection_id)?;
    Ok(backend.cluster_details(&connection_id, &context).await?)
}

/// The same Deployment across a connection's contexts, image and replica
/// drift and missing contexts flagged (an unreadable context is an error entry).
#[tauri::command]
#[specta::specta]
pub async fn clusters_fleet_workloads(
    backend: State<'_, Backend>,
    connection_id: String,
    namespace: Option<String>,
) -> UiResult<FleetReport> {
    check_id(&connection_id)?;
    let namespace = namespace.filter(|n| !n.trim().is_empty());
    Ok(backend.cluster_fleet_workloads(&connection_id, namespace.as_deref()).await?)
}

/// Requests against allocatable (Ready, schedulable nodes) per context of a connection.
#[tauri::command]
#[specta::specta]
pub async fn clusters_capacity(backend: State<'_, Backend>, connection_id: String) -> UiResult<Vec<ClusterCapacity>> {
    check_id(&connection_id)?;
    Ok(backend.cluster_capacity(&connection_id).await?)
}

/// Verdict changes of a connection's contexts (or one of them), newest first,
/// each with its findings and those that appeared or cleared since the
/// previous change; `since` is an RFC 3339 time or an age (`24h`, `7d`).
#[tauri::command]
#[specta::specta]
pub async fn clusters_history(
    backend: State<'_, Backend>,
    connection_id: String,
    context: Option<String>,
    since: Option<String>,
) -> UiResult<Vec<HealthTransition>> {
    check_id(&connection_id)?;
    let since_ms = since.as_deref().map(opsdeck_core::clusters::history::parse_since).transpose()?;
    Ok(backend.cluster_health_history(&connection_id, context.as_deref(), since_ms).await?)
}

/// Server-side applies a manifest to contexts of a connection after a review
/// of every one (permissions, dry run, conflicts); refuses, writing nothing,
/// unless all are clean. `force_reason` forces field conflicts (audited with it).
#[tauri::command]
#[specta::specta]
pub async fn clusters_apply(
    backend: State<'_, Backend>,
    connection_id: String,
    contexts: Vec<String>,
    manifest: String,
    force_reason: Option<String>,
) -> UiResult<Vec<ApplyResult>> {
    check_id(&connection_id)?;
    check_contexts(&contexts)?;
    Ok(backend.cluster_apply_with(&connection_id, &contexts, &manifest, force_reason.as_deref()).await?)
}

/// Reviews an apply without writing: per context, the permission pre-check,
/// the server-side dry run's diff and the field conflicts with their managers.
#[tauri::command]
#[specta::specta]
pub async fn clusters_apply_review(
    backend: State<'_, Backend>,
    connection_id: String,
    contexts: Vec<String>,
    manifest: String,
) -> UiResult<Vec<ClusterReview>> {
    check_id(&connection_id)?;
    check_contexts(&contexts)?;
    Ok(backend.cluster_apply_review(&connection_id, &contexts, &manifest).await?)
}

fn check_contexts(contexts: &[String]) -> UiResult<()> {
    if contexts.len() > 200 {
        return Err(UiError::invalid("contexts: at most 200"));
    }
    Ok(())
}

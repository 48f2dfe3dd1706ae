//! Clusters workspace commands.

use opsdeck_core::cache::snapshots::Snapshot;
use opsdeck_core::clusters::ClusterHealth;
use opsdeck_core::Backend;
use tauri::State;

use super::check_id;
use crate::error::UiResult;

/// Checks a Kubernetes connection's contexts now (and caches the result).
#[tauri::command]
pub async fn clusters_health(backend: State<'_, Backend>, connection_id: String) -> UiResult<Vec<ClusterHealth>> {
    check_id(&connection_id)?;
    Ok(backend.cluster_health(&connection_id).await?)
}

/// The last cached health of a connection, shown at start with its age.
#[tauri::command]
pub async fn clusters_cached(backend: State<'_, Backend>, connection_id: String) -> UiResult<Option<Snapshot<Vec<ClusterHealth>>>> {
    check_id(&connection_id)?;
    Ok(backend.cached_cluster_health(&connection_id).await?)
}

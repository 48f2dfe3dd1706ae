//! Config workspace commands for the cluster view, prefix moves and
//! bookmarks (etcd). Thin: validate, call the backend (which audits).

use opsdeck_core::backend::{Bookmark, ClusterSettings};
use opsdeck_core::config::cluster::ClusterView;
use opsdeck_core::config::promote::PromotePlan;
use opsdeck_core::config::relocate::{MoveProgress, MoveReport};
use opsdeck_core::Backend;
use tauri::ipc::Channel;
use tauri::State;

use super::check_id;
use crate::error::{UiError, UiResult};

/// The cluster behind an etcd connection: members, leader, raft, DB size
/// vs the backend quota, alarms, and the etcdctl commands that fix each
/// warning. `quota`: bytes for this call (else the connection's setting,
/// else etcd's default 2 GiB).
#[tauri::command]
#[specta::specta]
pub async fn config_cluster(backend: State<'_, Backend>, connection_id: String, quota: Option<f64>) -> UiResult<ClusterView> {
    check_id(&connection_id)?;
    let quota = match quota {
        Some(q) if !(1.0..=1e15).contains(&q) => return Err(UiError::invalid("quota: a number of bytes")),
        Some(q) => Some(q as u64),
        None => None,
    };
    Ok(backend.config_cluster(&connection_id, quota).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_cluster_settings(backend: State<'_, Backend>, connection_id: String) -> UiResult<ClusterSettings> {
    check_id(&connection_id)?;
    Ok(backend.config_cluster_settings(&connection_id).await?)
}

/// Saves the connection's backend quota (what etcd before 3.6 does not report).
#[tauri::command]
#[specta::specta]
pub async fn config_set_cluster_settings(backend: State<'_, Backend>, connection_id: String, settings: ClusterSettings) -> UiResult<()> {
    check_id(&connection_id)?;
    Ok(backend.config_set_cluster_settings(&connection_id, &settings).await?)
}

/// Plans moving every key under `from` to `to` (reads only).
#[tauri::command]
#[specta::specta]
pub async fn config_move_plan(backend: State<'_, Backend>, connection_id: String, from: String, to: String) -> UiResult<PromotePlan> {
    check_id(&connection_id)?;
    let s = backend.etcd_session(&connection_id).await?;
    Ok(backend.config_move_plan(&s, &from, &to).await?)
}

/// Applies a move plan (guarded copy + delete batches, audited as
/// `config.move`), progress on `on_progress`; the report says what moved,
/// what did not and which keys changed; `error` why it stopped.
#[tauri::command]
#[specta::specta]
pub async fn config_move_apply(
    backend: State<'_, Backend>,
    connection_id: String,
    plan: PromotePlan,
    overwrite: bool,
    comment: String,
    on_progress: Channel<MoveProgress>,
) -> UiResult<MoveReport> {
    check_id(&connection_id)?;
    let s = backend.etcd_session(&connection_id).await?;
    let outcome = backend
        .config_move_apply(&s, &plan, overwrite, &comment, move |_, p| {
            let _ = on_progress.send(p);
        })
        .await?;
    Ok(outcome.report)
}

#[tauri::command]
#[specta::specta]
pub async fn config_bookmarks(backend: State<'_, Backend>, connection_id: String) -> UiResult<Vec<Bookmark>> {
    check_id(&connection_id)?;
    Ok(backend.config_bookmarks(&connection_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_bookmark_add(backend: State<'_, Backend>, connection_id: String, key: String) -> UiResult<Vec<Bookmark>> {
    check_id(&connection_id)?;
    Ok(backend.config_bookmark_add(&connection_id, &key).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_bookmark_remove(backend: State<'_, Backend>, connection_id: String, key: String) -> UiResult<Vec<Bookmark>> {
    check_id(&connection_id)?;
    Ok(backend.config_bookmark_remove(&connection_id, &key).await?)
}

//! Progressive rollouts across the clusters of a connection (docs/rollouts.md):
//! the plan of waves, the run (its steps streamed on a Channel, stoppable by
//! the task id the UI chose) and the rollback of a failed or stopped run.
//! Thin: the backend reviews, applies, waits, soaks, rolls back and audits.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use opsdeck_core::backend::{RolloutEvent, RolloutOptions, RolloutReport};
use opsdeck_core::clusters::rollout::{CancellationToken, Restored, Wave};
use opsdeck_core::Backend;
use tauri::ipc::Channel;
use tauri::State;

use super::check_id;
use crate::error::{UiError, UiResult};

/// Running rollouts by the task id the UI chose, so they can be stopped.
static RUNNING: Mutex<Option<HashMap<String, CancellationToken>>> = Mutex::new(None);

fn check_task(task: &str) -> UiResult<()> {
    if task.is_empty() || task.len() > 64 || !task.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(UiError::invalid("task: 1 to 64 letters, digits or '-'"));
    }
    Ok(())
}

fn check_contexts(contexts: &[String]) -> UiResult<()> {
    if contexts.is_empty() || contexts.len() > 200 {
        return Err(UiError::invalid("contexts: 1 to 200"));
    }
    Ok(())
}

/// The waves a rollout of `contexts` would run (`waves`: e.g. `ctx-a,25%,rest`); contacts nothing.
#[tauri::command]
#[specta::specta]
pub fn clusters_rollout_plan(backend: State<'_, Backend>, contexts: Vec<String>, waves: String) -> UiResult<Vec<Wave>> {
    check_contexts(&contexts)?;
    Ok(backend.cluster_rollout_plan(&contexts, &waves)?)
}

/// Rolls `manifest` out to contexts of a connection wave by wave: every
/// cluster reviewed and health-checked first (nothing written unless all
/// pass), then per cluster apply, rollout wait and soak; each step on
/// `on_event`. Stop with `clusters_rollout_stop(task)`.
#[tauri::command]
#[specta::specta]
#[allow(clippy::too_many_arguments)]
pub async fn clusters_rollout(
    backend: State<'_, Backend>,
    connection_id: String,
    contexts: Vec<String>,
    manifest: String,
    options: RolloutOptions,
    task: String,
    on_event: Channel<RolloutEvent>,
) -> UiResult<RolloutReport> {
    check_id(&connection_id)?;
    check_contexts(&contexts)?;
    check_task(&task)?;
    let stop = CancellationToken::new();
    {
        let mut running = RUNNING.lock().map_err(|_| UiError::invalid("task registry unavailable"))?;
        let map = running.get_or_insert_with(HashMap::new);
        if map.contains_key(&task) {
            return Err(UiError::invalid("task: a rollout with this id is running"));
        }
        map.insert(task.clone(), stop.clone());
    }
    let result = backend
        .cluster_rollout(&connection_id, &contexts, &manifest, &options, stop, move |e| {
            let _ = on_event.send(e);
        })
        .await;
    if let Ok(mut running) = RUNNING.lock() {
        if let Some(map) = running.as_mut() {
            map.remove(&task);
        }
    }
    Ok(result?)
}

/// Stops a running rollout at its next safe point (what is in flight ends;
/// no new cluster starts); false when no rollout runs under `task`.
#[tauri::command]
#[specta::specta]
pub fn clusters_rollout_stop(task: String) -> UiResult<bool> {
    check_task(&task)?;
    let running = RUNNING.lock().map_err(|_| UiError::invalid("task registry unavailable"))?;
    Ok(match running.as_ref().and_then(|m| m.get(&task)) {
        Some(stop) => {
            stop.cancel();
            true
        }
        None => false,
    })
}

/// Rolls back the clusters rollout `id` changed to the objects saved before
/// it applied (those not rolled back yet); each cluster on `on_event`.
#[tauri::command]
#[specta::specta]
pub async fn clusters_rollout_rollback(
    backend: State<'_, Backend>,
    id: String,
    on_event: Channel<RolloutEvent>,
) -> UiResult<BTreeMap<String, Vec<Restored>>> {
    Ok(backend
        .cluster_rollout_rollback(&id, None, move |e| {
            let _ = on_event.send(e);
        })
        .await?)
}

//! Overview commands: every tile from the cache in one call, then each tile
//! live on its own. A live read belongs to a run (one visit of the
//! Overview); `overview_cancel` stops the run's reads when the user leaves.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use opsdeck_core::overview::{CancellationToken, Overview, TileName, TileUpdate};
use opsdeck_core::Backend;
use tauri::State;

use crate::error::UiResult;

/// The cancellation token of each open run.
fn runs() -> &'static Mutex<HashMap<u32, CancellationToken>> {
    static RUNS: OnceLock<Mutex<HashMap<u32, CancellationToken>>> = OnceLock::new();
    RUNS.get_or_init(Mutex::default)
}

fn token(run: u32) -> CancellationToken {
    let mut m = runs().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Bounded: a UI that never cancels does not grow this forever.
    if m.len() > 256 {
        m.retain(|_, t| !t.is_cancelled());
        if m.len() > 256 {
            m.clear();
        }
    }
    m.entry(run).or_default().clone()
}

/// Every tile from this machine's cache (no network: instant, offline too).
#[tauri::command]
#[specta::specta]
pub async fn overview_cached(backend: State<'_, Backend>) -> UiResult<Overview> {
    Ok(backend.overview_cached().await?)
}

/// One tile read live (within the backend's deadline), for run `run_id`.
#[tauri::command]
#[specta::specta]
pub async fn overview_tile(backend: State<'_, Backend>, tile: TileName, run_id: u32) -> UiResult<TileUpdate> {
    let cancel = token(run_id);
    Ok(Box::pin(backend.overview_tile(tile, &cancel)).await?)
}

/// Stops every live read of run `run_id` (the Overview was left).
#[tauri::command]
#[specta::specta]
pub fn overview_cancel(run_id: u32) -> UiResult<()> {
    let t = runs().lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&run_id);
    if let Some(t) = t {
        t.cancel();
    }
    Ok(())
}

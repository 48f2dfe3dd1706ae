use opsdeck_core::backend::AppInfo;
use opsdeck_core::cache::settings::Settings;
use opsdeck_core::Backend;
use tauri::State;

use crate::error::UiResult;

#[tauri::command]
#[specta::specta]
pub fn app_info(backend: State<'_, Backend>) -> AppInfo {
    backend.info()
}

#[tauri::command]
#[specta::specta]
pub async fn settings_get(backend: State<'_, Backend>) -> UiResult<Settings> {
    Ok(backend.settings().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn settings_set(backend: State<'_, Backend>, settings: Settings) -> UiResult<Settings> {
    Ok(backend.set_settings(settings).await?)
}

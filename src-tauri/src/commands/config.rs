//! Config workspace commands (etcd). Thin: validate, open the session, call
//! the backend. Watches stream over a Tauri channel and stop on `config_unwatch`
//! or when the window goes away.

use opsdeck_core::config::format::{self, Validation, ValueFormat};
use opsdeck_core::config::promote::{PromotePlan, PromoteProgress, PromoteReport, PromoteSelection};
use opsdeck_core::config::search::{SearchEvent, SearchHandle, SearchMode};
use opsdeck_core::config::transfer::DocFormat;
use opsdeck_core::config::watch::{WatchEvent, WatchHandle};
use opsdeck_core::config::MAX_TXN_OPS;
use opsdeck_core::config::{
    CopyItem, CopyReport, DeletePreview, History, ImportPlan, ImportReport, KeyValue, PrefixDiff, TreeEntry, TreePage, WriteResult,
};
use opsdeck_core::Backend;
use tauri::ipc::Channel;
use tauri::State;

use super::check_id;
use super::watches::Watches;
use crate::error::{UiError, UiResult};

/// A config stream the window has open: a watch or a value search. Dropping
/// it stops it.
#[allow(dead_code)] // the handles are held for their Drop, never read
pub enum ConfigStream {
    Watch(WatchHandle),
    Search(SearchHandle),
}

/// Open config watches and searches by id.
pub type ConfigWatches = Watches<ConfigStream>;

const VALUE_MAX: usize = 16 * 1024 * 1024;

fn check_value_len(value: &str) -> UiResult<()> {
    if value.len() > VALUE_MAX {
        return Err(UiError::invalid("value: larger than 16 MiB"));
    }
    Ok(())
}

async fn session(backend: &Backend, connection_id: &str) -> UiResult<opsdeck_core::backend::EtcdSession> {
    check_id(connection_id)?;
    Ok(backend.etcd_session(connection_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_tree(
    backend: State<'_, Backend>,
    connection_id: String,
    prefix: String,
    cursor: Option<String>,
    limit: i64,
) -> UiResult<TreePage> {
    let s = session(&backend, &connection_id).await?;
    Ok(backend.config_tree(&s, &prefix, cursor.as_deref(), limit).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_count(backend: State<'_, Backend>, connection_id: String, prefix: String) -> UiResult<i64> {
    let s = session(&backend, &connection_id).await?;
    Ok(backend.config_count(&s, &prefix).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_search(
    backend: State<'_, Backend>,
    connection_id: String,
    prefix: String,
    text: String,
    limit: usize,
) -> UiResult<Vec<TreeEntry>> {
    let s = session(&backend, &connection_id).await?;
    Ok(backend.config_search(&s, &prefix, &text, limit).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_get(backend: State<'_, Backend>, connection_id: String, key: String) -> UiResult<KeyValue> {
    let s = session(&backend, &connection_id).await?;
    Ok(backend.config_get(&s, &key).await?)
}

/// The JSON Schema that governs `key` (the longest prefix with one in the
/// team store), if any: the value panel shows it; a save that fails it is
/// refused with the failing path.
#[tauri::command]
#[specta::specta]
pub async fn config_schema_for(
    backend: State<'_, Backend>,
    connection_id: String,
    key: String,
) -> UiResult<Option<opsdeck_core::config::schema::SchemaInfo>> {
    let s = session(&backend, &connection_id).await?;
    Ok(backend.config_schema_for(&s, &key).await?)
}

#[tauri::command]
#[specta::specta]
pub fn config_validate(value: String, format: Option<ValueFormat>) -> UiResult<Validation> {
    check_value_len(&value)?;
    Ok(format::validate(&value, format))
}

#[tauri::command]
#[specta::specta]
#[allow(clippy::too_many_arguments)]
pub async fn config_put(
    backend: State<'_, Backend>,
    connection_id: String,
    key: String,
    value: String,
    expected_mod_revision: i64,
    format: ValueFormat,
    allow_invalid: bool,
    comment: String,
) -> UiResult<WriteResult> {
    check_value_len(&value)?;
    let s = session(&backend, &connection_id).await?;
    Ok(backend.config_put(&s, &key, &value, expected_mod_revision, format, allow_invalid, &comment).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_delete(
    backend: State<'_, Backend>,
    connection_id: String,
    key: String,
    expected_mod_revision: i64,
    comment: String,
) -> UiResult<WriteResult> {
    let s = session(&backend, &connection_id).await?;
    Ok(backend.config_delete(&s, &key, expected_mod_revision, &comment).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_delete_preview(backend: State<'_, Backend>, connection_id: String, prefix: String) -> UiResult<DeletePreview> {
    let s = session(&backend, &connection_id).await?;
    Ok(backend.config_delete_preview(&s, &prefix).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_delete_prefix(
    backend: State<'_, Backend>,
    connection_id: String,
    prefix: String,
    expected_count: i64,
    comment: String,
) -> UiResult<PrefixDeleted> {
    let s = session(&backend, &connection_id).await?;
    let deleted = backend.config_delete_prefix(&s, &prefix, expected_count, &comment).await?;
    Ok(PrefixDeleted { deleted })
}

/// How many keys a prefix delete removed.
#[derive(serde::Serialize, specta::Type)]
pub struct PrefixDeleted {
    pub deleted: i64,
}

#[tauri::command]
#[specta::specta]
pub async fn config_history(backend: State<'_, Backend>, connection_id: String, key: String, limit: usize) -> UiResult<History> {
    let s = session(&backend, &connection_id).await?;
    Ok(backend.config_history(&s, &key, limit).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_rollback(
    backend: State<'_, Backend>,
    connection_id: String,
    key: String,
    to_revision: i64,
    expected_mod_revision: i64,
    comment: String,
) -> UiResult<WriteResult> {
    let s = session(&backend, &connection_id).await?;
    Ok(backend.config_rollback(&s, &key, to_revision, expected_mod_revision, &comment).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_compare(backend: State<'_, Backend>, connection_id: String, left: String, right: String) -> UiResult<PrefixDiff> {
    let s = session(&backend, &connection_id).await?;
    Ok(backend.config_compare(&s, &left, &right).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_copy(
    backend: State<'_, Backend>,
    connection_id: String,
    from: String,
    to: String,
    items: Vec<CopyItem>,
    comment: String,
) -> UiResult<CopyReport> {
    let s = session(&backend, &connection_id).await?;
    Ok(backend.config_copy(&s, &from, &to, &items, &comment).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_export(backend: State<'_, Backend>, connection_id: String, prefix: String, format: DocFormat) -> UiResult<String> {
    let s = session(&backend, &connection_id).await?;
    Ok(backend.config_export(&s, &prefix, format).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_import_preview(
    backend: State<'_, Backend>,
    connection_id: String,
    prefix: String,
    document: String,
) -> UiResult<ImportPlan> {
    let s = session(&backend, &connection_id).await?;
    Ok(backend.config_import_preview(&s, &prefix, &document).await?)
}

/// Imports `document` under `prefix` in guarded batches (each audited as
/// `config.import`), or continues the import `previous` reports. A run a
/// fault stopped part-way returns its report (committed batches, the batch
/// whose outcome is unknown, the keys not written) with `error` set; give
/// that report back as `previous` to resume.
#[tauri::command]
#[specta::specta]
pub async fn config_import(
    backend: State<'_, Backend>,
    connection_id: String,
    prefix: String,
    document: String,
    comment: String,
    previous: Option<ImportReport>,
) -> UiResult<ImportReport> {
    let s = session(&backend, &connection_id).await?;
    let outcome = backend.config_import_run(&s, &prefix, &document, previous.as_ref(), MAX_TXN_OPS, &comment, None, |_| {}).await?;
    let mut report = outcome.report;
    if let Some(e) = outcome.error {
        report.error = Some(e.to_string());
    }
    Ok(report)
}

#[tauri::command]
#[specta::specta]
pub async fn config_watch(
    backend: State<'_, Backend>,
    watches: State<'_, ConfigWatches>,
    connection_id: String,
    prefix: String,
    on_event: Channel<WatchEvent>,
) -> UiResult<u32> {
    let s = session(&backend, &connection_id).await?;
    let handle = backend
        .config_watch(&s, &prefix, move |ev| {
            // A closed channel (window gone) is not an error worth a log line.
            let _ = on_event.send(ev);
        })
        .await?;
    watches.add(ConfigStream::Watch(handle))
}

/// Searches key names and values under `prefix` for `text` (`substring`:
/// ASCII case ignored; `fuzzy`: letters in order with gaps), scanning in pages; hits stream on the channel as found, then
/// `done` (or `error`). Stop it early with `config_value_search_stop`.
#[allow(clippy::too_many_arguments)] // each argument is an IPC field
#[tauri::command]
#[specta::specta]
pub async fn config_value_search(
    backend: State<'_, Backend>,
    watches: State<'_, ConfigWatches>,
    connection_id: String,
    prefix: String,
    text: String,
    mode: SearchMode,
    limit: u32,
    on_event: Channel<SearchEvent>,
) -> UiResult<u32> {
    let s = session(&backend, &connection_id).await?;
    let handle = backend.config_value_search(&s, &prefix, &text, mode, limit as usize, move |ev| {
        let _ = on_event.send(ev);
    })?;
    watches.add(ConfigStream::Search(handle))
}

#[tauri::command]
#[specta::specta]
pub fn config_value_search_stop(watches: State<'_, ConfigWatches>, search_id: u32) -> UiResult<()> {
    watches.remove(search_id);
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub fn config_unwatch(watches: State<'_, ConfigWatches>, watch_id: u32) -> UiResult<()> {
    watches.remove(watch_id);
    Ok(())
}

// ---- change requests on protected prefixes (the team store in this etcd) ----

use opsdeck_core::backend::ChangeList;
use opsdeck_core::team::changes::ChangeView;

/// Change ids are `c` + 10 hex digits (see `Backend::change_propose`).
fn check_change_id(id: &str) -> UiResult<()> {
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(UiError::invalid("change id: letters and digits"));
    }
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn config_changes(backend: State<'_, Backend>, connection_id: String) -> UiResult<ChangeList> {
    let s = session(&backend, &connection_id).await?;
    let root = backend.team_root_for(&connection_id).await?;
    Ok(Box::pin(backend.change_overview(&s, &root)).await?)
}

/// Proposes one key's new value (`None` deletes it) as a change request.
#[tauri::command]
#[specta::specta]
pub async fn config_change_propose(
    backend: State<'_, Backend>,
    connection_id: String,
    key: String,
    value: Option<String>,
    comment: String,
) -> UiResult<ChangeView> {
    if let Some(v) = &value {
        check_value_len(v)?;
    }
    let s = session(&backend, &connection_id).await?;
    let root = backend.team_root_for(&connection_id).await?;
    Ok(Box::pin(backend.change_propose(&s, &root, &[(key, value)], &comment)).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_change_review(
    backend: State<'_, Backend>,
    connection_id: String,
    id: String,
    approved: bool,
    comment: String,
) -> UiResult<ChangeView> {
    check_change_id(&id)?;
    let s = session(&backend, &connection_id).await?;
    let root = backend.team_root_for(&connection_id).await?;
    Ok(backend.change_review(&s, &root, &id, approved, &comment).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn config_change_publish(backend: State<'_, Backend>, connection_id: String, id: String) -> UiResult<ChangeView> {
    check_change_id(&id)?;
    let s = session(&backend, &connection_id).await?;
    let root = backend.team_root_for(&connection_id).await?;
    Ok(backend.change_publish(&s, &root, &id).await?)
}

/// Plans a promotion of `from_prefix` on one etcd connection to `to_prefix`
/// on another (usually another cluster): adds, changes and removes with the
/// values and the revisions seen on both sides, for review. Reads only.
#[tauri::command]
#[specta::specta]
pub async fn config_promote_plan(
    backend: State<'_, Backend>,
    from_connection_id: String,
    from_prefix: String,
    to_connection_id: String,
    to_prefix: String,
) -> UiResult<PromotePlan> {
    let from = session(&backend, &from_connection_id).await?;
    let to = session(&backend, &to_connection_id).await?;
    Ok(backend.config_promote_plan(&from, &from_prefix, &to, &to_prefix).await?)
}

/// Applies a reviewed promotion plan exactly (the selected items, guarded on
/// both sides, in transactions within etcd's operation limit); progress after
/// each committed batch on `on_progress`. Give back the report of an earlier
/// run as `previous` to resume after what landed. The report lists the
/// committed batches, what was not applied and the keys that changed since
/// the review; `error` says why a run stopped otherwise.
#[allow(clippy::too_many_arguments)]
#[tauri::command]
#[specta::specta]
pub async fn config_promote_apply(
    backend: State<'_, Backend>,
    from_connection_id: String,
    to_connection_id: String,
    plan: PromotePlan,
    selection: PromoteSelection,
    previous: Option<PromoteReport>,
    comment: String,
    on_progress: Channel<PromoteProgress>,
) -> UiResult<PromoteReport> {
    let from = session(&backend, &from_connection_id).await?;
    let to = session(&backend, &to_connection_id).await?;
    let outcome =
        Box::pin(backend.config_promote_apply(&from, &to, &plan, &selection, previous.as_ref(), MAX_TXN_OPS, &comment, move |_, p| {
            let _ = on_progress.send(p);
        }))
        .await?;
    let mut report = outcome.report;
    if let Some(e) = outcome.error {
        report.error = Some(e.to_string());
    }
    Ok(report)
}

/// The protected prefixes (of the target's team store) the selected items of
/// `plan` would write under: non-empty, the promotion is filed as a change
/// request (`config_promote_propose`) instead of applied.
#[tauri::command]
#[specta::specta]
pub async fn config_promote_protected(
    backend: State<'_, Backend>,
    to_connection_id: String,
    plan: PromotePlan,
    selection: PromoteSelection,
) -> UiResult<Vec<String>> {
    let to = session(&backend, &to_connection_id).await?;
    Ok(backend.config_promote_protected(&to, &plan, &selection).await?)
}

/// Files the reviewed plan (its selected items) into a protected prefix as a
/// change request carrying the reviewed values and target revisions; another
/// person approves it and a publisher publishes it (config_change_*).
#[tauri::command]
#[specta::specta]
pub async fn config_promote_propose(
    backend: State<'_, Backend>,
    from_connection_id: String,
    to_connection_id: String,
    plan: PromotePlan,
    selection: PromoteSelection,
    comment: String,
) -> UiResult<ChangeView> {
    let from = session(&backend, &from_connection_id).await?;
    let to = session(&backend, &to_connection_id).await?;
    Ok(backend.config_promote_propose(&from, &to, &plan, &selection, &comment).await?)
}

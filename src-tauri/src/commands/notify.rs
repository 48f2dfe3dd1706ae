//! Notifications: channels (the SMTP password goes to the keychain),
//! subscriptions, the outbox and its retry. The sender itself runs in the
//! backend for as long as the app is open (lib.rs).

use opsdeck_core::notify::{Channel, ChannelInput, NotifySettings, OutboxCounts, OutboxEntry, Subscription, SubscriptionInput};
use opsdeck_core::Backend;
use tauri::State;

use crate::error::{UiError, UiResult};

/// The outbox page and its counts by state.
#[derive(Debug, Clone, serde::Serialize, specta::Type)]
pub struct OutboxView {
    pub entries: Vec<OutboxEntry>,
    pub counts: OutboxCounts,
}

/// Channels, subscriptions and the retry policy (never a password).
#[tauri::command]
#[specta::specta]
pub async fn notify_settings(backend: State<'_, Backend>) -> UiResult<NotifySettings> {
    Ok(backend.notify_settings().await?)
}

/// Creates or updates a channel; a password given goes to the keychain.
#[tauri::command]
#[specta::specta]
pub async fn notify_save_channel(backend: State<'_, Backend>, input: ChannelInput) -> UiResult<Channel> {
    if input.password.as_ref().is_some_and(|p| p.len() > 1024) {
        return Err(UiError::invalid("password: at most 1024 characters"));
    }
    Ok(backend.notify_save_channel(input).await?)
}

/// Removes a channel, its password and its subscriptions.
#[tauri::command]
#[specta::specta]
pub async fn notify_delete_channel(backend: State<'_, Backend>, id: String) -> UiResult<()> {
    super::check_id(&id)?;
    Ok(backend.notify_delete_channel(&id).await?)
}

/// Sends a test message through a channel now (`to`: the address, for e-mail).
#[tauri::command]
#[specta::specta]
pub async fn notify_test(backend: State<'_, Backend>, id: String, to: Option<String>) -> UiResult<()> {
    super::check_id(&id)?;
    Ok(backend.notify_test(&id, to.as_deref()).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn notify_subscribe(backend: State<'_, Backend>, input: SubscriptionInput) -> UiResult<Subscription> {
    Ok(backend.notify_subscribe(input).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn notify_unsubscribe(backend: State<'_, Backend>, id: String) -> UiResult<()> {
    if id.len() > 64 {
        return Err(UiError::invalid("id: not a subscription id"));
    }
    Ok(backend.notify_unsubscribe(&id).await?)
}

/// The outbox, newest first (`state`: pending, sending, sent, failed; none = all).
#[tauri::command]
#[specta::specta]
pub async fn notify_outbox(backend: State<'_, Backend>, state: Option<String>, limit: u32) -> UiResult<OutboxView> {
    let entries = backend.notify_outbox(state.as_deref(), limit.clamp(1, 1000)).await?;
    Ok(OutboxView { entries, counts: backend.notify_counts().await? })
}

/// Puts a failed notification back in line; the sender takes it at once.
#[tauri::command]
#[specta::specta]
pub async fn notify_retry(backend: State<'_, Backend>, id: i64) -> UiResult<OutboxEntry> {
    Ok(backend.notify_retry(id).await?)
}

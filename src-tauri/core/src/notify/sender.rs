//! The sender: drains the outbox (each due row claimed, delivered through
//! its channel with a deadline, then marked sent, pending again after the
//! backoff, or failed), once (`opsdeck notify send`, for cron or CI) or as a
//! loop in the app's backend that wakes when a notification is enqueued and
//! when the next retry is due.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::Notify;

use super::channels::{self, Channel, ChannelSpec, Outgoing, SendError};
use super::outbox::{self, Claimed};
use super::settings::{self, password_account};
use crate::cache::Db;
use crate::error::Result;
use crate::secrets::{Keychain, Secret};

/// Rows one drain sends at most (the next drain takes the rest).
pub const DRAIN_MAX: usize = 500;
/// The loop looks at the outbox at least this often (another process may have enqueued).
pub const IDLE_POLL: Duration = Duration::from_secs(30);

/// What one try of one notification did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Delivery {
    pub id: i64,
    pub event: String,
    pub channel_id: String,
    pub recipient: String,
    /// `sent`, `pending` (retried later) or `failed`.
    pub state: String,
    pub error: Option<String>,
}

/// One drain of the outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, specta::Type)]
pub struct DrainReport {
    pub deliveries: Vec<Delivery>,
    pub sent: u32,
    pub retrying: u32,
    pub failed: u32,
}

/// Delivers one message through `channel`; `secret` is its SMTP password or webhook URL.
pub async fn deliver(channel: &Channel, secret: Option<&Secret>, out: &Outgoing<'_>) -> std::result::Result<(), SendError> {
    match &channel.spec {
        spec @ ChannelSpec::Smtp { .. } => channels::smtp::send(spec, secret, out).await,
        spec @ ChannelSpec::Webhook { .. } => channels::webhook::send(spec, secret.map(Secret::expose), out).await,
    }
}

/// A channel's secret from the keychain: the password of an SMTP channel
/// with a user, or a webhook's URL.
pub async fn secret_of(keychain: &Keychain, channel: &Channel) -> Result<Option<Secret>> {
    match &channel.spec {
        ChannelSpec::Smtp { username: Some(_), .. } | ChannelSpec::Webhook { .. } if channel.has_password => {
            keychain.get(&password_account(&channel.id)).await
        }
        _ => Ok(None),
    }
}

async fn try_one(db: &Db, keychain: &Keychain, c: &Claimed) -> std::result::Result<(), SendError> {
    // Read for every row: a channel changed meanwhile (a fixed password, a new URL) applies at once.
    let s = settings::load(db).await.map_err(|e| SendError::Transient(format!("reading the notification settings: {e}")))?;
    let channel = s.channel(&c.channel_id).map_err(|_| {
        SendError::Permanent(format!("the channel {} no longer exists (removed after this notification was queued)", c.channel_id))
    })?;
    let password = secret_of(keychain, channel)
        .await
        .map_err(|e| SendError::Transient(format!("reading the channel's secret from the keychain: {e}")))?;
    let out = Outgoing { event: &c.event, title: &c.title, body: &c.body, payload: &c.payload, recipient: &c.recipient };
    deliver(channel, password.as_ref(), &out).await
}

/// Sends every due row once (at most [`DRAIN_MAX`]).
pub async fn drain_once(db: &Db, keychain: &Keychain) -> Result<DrainReport> {
    let mut report = DrainReport::default();
    for _ in 0..DRAIN_MAX {
        let Some(c) = outbox::claim(db).await? else { break };
        let outcome = try_one(db, keychain, &c).await;
        let (state, error) = match outcome {
            Ok(()) => {
                outbox::mark_sent(db, c.id).await?;
                report.sent += 1;
                ("sent", None)
            }
            Err(e) => {
                let retry = settings::load(db).await.map(|s| s.retry).unwrap_or_default();
                let state = outbox::mark_failed(db, &c, e.message(), matches!(e, SendError::Permanent(_)), &retry).await?;
                if state == "failed" {
                    report.failed += 1;
                    tracing::warn!(id = c.id, event = %c.event, error = %e, "notification failed");
                } else {
                    report.retrying += 1;
                    tracing::info!(id = c.id, event = %c.event, error = %e, "notification will be retried");
                }
                (state, Some(e.message().to_string()))
            }
        };
        report.deliveries.push(Delivery {
            id: c.id,
            event: c.event.clone(),
            channel_id: c.channel_id.clone(),
            recipient: c.recipient.clone(),
            state: state.to_string(),
            error,
        });
    }
    Ok(report)
}

/// Drains the outbox until the process ends: again when `wake` is notified
/// (a notification enqueued, a retry asked), when the next retry is due, and
/// at least every [`IDLE_POLL`].
pub async fn run(db: Db, keychain: Keychain, wake: Arc<Notify>) {
    loop {
        if let Err(e) = drain_once(&db, &keychain).await {
            tracing::warn!(error = %e, "draining the notification outbox failed");
        }
        let wait = match outbox::next_due_ms(&db).await {
            Ok(Some(due)) => Duration::from_millis((due - outbox::now_ms()).clamp(0, IDLE_POLL.as_millis() as i64) as u64),
            _ => IDLE_POLL,
        };
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

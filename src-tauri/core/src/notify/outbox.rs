//! The outbox: every notification is a row in SQLite from the moment its
//! event is decided until it is sent (or has failed every try), so nothing
//! is lost while offline, while the receiver is down, or across a restart.
//! A sender claims a due row (`sending`, with a lease, so the app and a CLI
//! run never send the same row at once; a row whose sender died is claimed
//! again when its lease ends), then records the outcome.

use serde::Serialize;
use sqlx::Row;

use super::event::Event;
use super::settings::{NotifySettings, RetryPolicy};
use crate::cache::db::now_rfc3339;
use crate::cache::Db;
use crate::error::{Error, Result};

/// How long a claimed row is kept from other senders (longer than any delivery's deadline).
pub const CLAIM_MS: i64 = 10 * 60 * 1000;

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn ms_rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// One notification as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct OutboxEntry {
    pub id: i64,
    pub event: String,
    pub title: String,
    pub subscriber: String,
    pub channel_id: String,
    pub recipient: String,
    /// `pending`, `sending`, `sent` or `failed`.
    pub state: String,
    pub attempts: u32,
    pub max_attempts: u32,
    /// When the next try is due (pending), RFC 3339.
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

/// A claimed row, to send.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub event: String,
    pub title: String,
    pub body: String,
    pub payload: serde_json::Value,
    pub channel_id: String,
    pub recipient: String,
    pub attempts: u32,
    pub max_attempts: u32,
}

/// Counts by state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, specta::Type)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
}

/// Writes one row per subscription `event` matches (one per channel and
/// address), in one transaction; returns their ids (none: nobody subscribed).
pub async fn enqueue(db: &Db, settings: &NotifySettings, event: &Event) -> Result<Vec<i64>> {
    let mut targets: Vec<(&str, &str, String)> = Vec::new();
    for s in settings.subscriptions.iter().filter(|s| s.matches(event)) {
        if !settings.channels.iter().any(|c| c.id == s.channel) {
            tracing::warn!(subscription = %s.id, channel = %s.channel, "a subscription names a channel that no longer exists");
            continue;
        }
        let recipient = s.address.clone().unwrap_or_default();
        if !targets.iter().any(|(_, c, r)| *c == s.channel && *r == recipient) {
            targets.push((s.user.as_str(), s.channel.as_str(), recipient));
        }
    }
    insert(db, &settings.retry, event, &targets).await
}

/// Writes one row for `event` to each (subscriber, channel id, recipient).
pub async fn insert(db: &Db, retry: &RetryPolicy, event: &Event, targets: &[(&str, &str, String)]) -> Result<Vec<i64>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let payload = serde_json::to_string(event).map_err(|e| Error::Internal(format!("event JSON: {e}")))?;
    let (now, at) = (now_ms(), now_rfc3339());
    let mut tx = db.pool().begin().await?;
    let mut ids = Vec::with_capacity(targets.len());
    for (user, channel, recipient) in targets {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO notify_outbox (event, title, body, payload, subscriber, channel_id, recipient, state, attempts, max_attempts, next_attempt_ms, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?) RETURNING id",
        )
        .bind(event.kind.as_str())
        .bind(&event.title)
        .bind(&event.text)
        .bind(&payload)
        .bind(user)
        .bind(channel)
        .bind(recipient)
        .bind(i64::from(retry.max_attempts))
        .bind(now)
        .bind(&at)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?;
        ids.push(id);
    }
    tx.commit().await?;
    Ok(ids)
}

/// Claims the next due row (pending and due, or sending with an expired claim).
pub async fn claim(db: &Db) -> Result<Option<Claimed>> {
    let now = now_ms();
    let row = sqlx::query(
        "UPDATE notify_outbox SET state = 'sending', claimed_until_ms = ?1, updated_at = ?2
         WHERE id = (SELECT id FROM notify_outbox
                     WHERE (state = 'pending' AND next_attempt_ms <= ?3) OR (state = 'sending' AND claimed_until_ms < ?3)
                     ORDER BY next_attempt_ms, id LIMIT 1)
         RETURNING id, event, title, body, payload, channel_id, recipient, attempts, max_attempts",
    )
    .bind(now + CLAIM_MS)
    .bind(now_rfc3339())
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let payload: String = r.try_get("payload")?;
    Ok(Some(Claimed {
        id: r.try_get("id")?,
        event: r.try_get("event")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        channel_id: r.try_get("channel_id")?,
        recipient: r.try_get("recipient")?,
        attempts: r.try_get::<i64, _>("attempts")?.max(0) as u32,
        max_attempts: r.try_get::<i64, _>("max_attempts")?.max(1) as u32,
    }))
}

/// The claimed row was delivered.
pub async fn mark_sent(db: &Db, id: i64) -> Result<()> {
    let at = now_rfc3339();
    sqlx::query("UPDATE notify_outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, updated_at = ?, claimed_until_ms = NULL WHERE id = ?")
        .bind(&at)
        .bind(&at)
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The claimed row's try failed: `pending` again after the backoff, or
/// `failed` when it was permanent or the last try. Returns the new state.
pub async fn mark_failed(db: &Db, c: &Claimed, error: &str, permanent: bool, retry: &RetryPolicy) -> Result<&'static str> {
    let attempts = c.attempts + 1;
    let state = if permanent || attempts >= c.max_attempts { "failed" } else { "pending" };
    let next = now_ms() + retry.backoff_ms(attempts) as i64;
    sqlx::query(
        "UPDATE notify_outbox SET state = ?, attempts = ?, last_error = ?, next_attempt_ms = ?, updated_at = ?, claimed_until_ms = NULL WHERE id = ?",
    )
    .bind(state)
    .bind(i64::from(attempts))
    .bind(error)
    .bind(next)
    .bind(now_rfc3339())
    .bind(c.id)
    .execute(db.pool())
    .await?;
    Ok(state)
}

/// Puts a failed (or pending) notification back in line now, with a fresh
/// count of tries; a sent one is not sent twice.
pub async fn retry(db: &Db, id: i64, retry: &RetryPolicy) -> Result<OutboxEntry> {
    let done = sqlx::query(
        "UPDATE notify_outbox SET state = 'pending', attempts = 0, max_attempts = ?, next_attempt_ms = ?, updated_at = ?
         WHERE id = ? AND state IN ('failed', 'pending')",
    )
    .bind(i64::from(retry.max_attempts))
    .bind(now_ms())
    .bind(now_rfc3339())
    .bind(id)
    .execute(db.pool())
    .await?;
    let entry = get(db, id).await?;
    if done.rows_affected() == 0 {
        return Err(Error::Conflict(format!("notification {id} is {}: only a failed or pending one is retried", entry.state)));
    }
    Ok(entry)
}

fn entry(r: &sqlx::sqlite::SqliteRow) -> Result<OutboxEntry> {
    Ok(OutboxEntry {
        id: r.try_get("id")?,
        event: r.try_get("event")?,
        title: r.try_get("title")?,
        subscriber: r.try_get("subscriber")?,
        channel_id: r.try_get("channel_id")?,
        recipient: r.try_get("recipient")?,
        state: r.try_get("state")?,
        attempts: r.try_get::<i64, _>("attempts")?.max(0) as u32,
        max_attempts: r.try_get::<i64, _>("max_attempts")?.max(0) as u32,
        next_attempt_at: ms_rfc3339(r.try_get("next_attempt_ms")?),
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        sent_at: r.try_get("sent_at")?,
    })
}

macro_rules! select_entries {
    ($rest:literal) => {
        concat!(
            "SELECT id, event, title, subscriber, channel_id, recipient, state, attempts, max_attempts, next_attempt_ms, last_error, created_at, sent_at FROM notify_outbox ",
            $rest
        )
    };
}

pub async fn get(db: &Db, id: i64) -> Result<OutboxEntry> {
    let r = sqlx::query(select_entries!("WHERE id = ?"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .ok_or_else(|| Error::NotFound(format!("no notification {id} in the outbox")))?;
    entry(&r)
}

/// Newest first; `state` filters (`pending`, `sending`, `sent`, `failed`).
pub async fn list(db: &Db, state: Option<&str>, limit: u32) -> Result<Vec<OutboxEntry>> {
    if let Some(s) = state {
        if !matches!(s, "pending" | "sending" | "sent" | "failed") {
            return Err(Error::invalid("state: pending, sending, sent or failed"));
        }
    }
    let rows = sqlx::query(select_entries!("WHERE (?1 IS NULL OR state = ?1) ORDER BY id DESC LIMIT ?2"))
        .bind(state)
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(entry).collect()
}

pub async fn counts(db: &Db) -> Result<OutboxCounts> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT state, COUNT(*) FROM notify_outbox GROUP BY state").fetch_all(db.pool()).await?;
    let mut c = OutboxCounts::default();
    for (s, n) in rows {
        match s.as_str() {
            "pending" => c.pending = n,
            "sending" => c.sending = n,
            "sent" => c.sent = n,
            "failed" => c.failed = n,
            _ => {}
        }
    }
    Ok(c)
}

/// When the next pending row is due (Unix ms), if any.
pub async fn next_due_ms(db: &Db) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT MIN(next_attempt_ms) FROM notify_outbox WHERE state = 'pending'").fetch_one(db.pool()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::channels::{Channel, ChannelSpec, WebhookFormat};
    use crate::notify::event::EventKind;
    use crate::notify::subscriptions::Subscription;

    async fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("o.db")).await.unwrap();
        (dir, db)
    }

    fn settings(max_attempts: u32) -> NotifySettings {
        let ch = |id: &str| Channel {
            id: id.into(),
            name: id.into(),
            spec: ChannelSpec::Webhook {
                url: "http://127.0.0.1:1/".into(),
                format: WebhookFormat::Generic,
                ca_file: None,
                timeout_secs: 1,
            },
            has_password: false,
        };
        let sub = |user: &str, channel: &str| Subscription {
            id: format!("{user}-{channel}"),
            user: user.into(),
            events: vec![],
            channel: channel.into(),
            address: None,
            departments: vec![],
        };
        NotifySettings {
            channels: vec![ch("a"), ch("b")],
            // Two users on channel a: one message to it; a dangling channel is skipped.
            subscriptions: vec![sub("u1", "a"), sub("u2", "a"), sub("u1", "b"), sub("u3", "gone")],
            retry: RetryPolicy { max_attempts, backoff_base_ms: 10, backoff_max_ms: 20 },
        }
    }

    #[tokio::test]
    async fn enqueue_claim_retry_and_fail() {
        let (_d, db) = db().await;
        let s = settings(2);
        let e = Event::cluster("k", "ctx", None, crate::clusters::model::Verdict::Degraded, &[]).unwrap();
        assert_eq!(e.kind, EventKind::ClusterDegraded);
        let ids = enqueue(&db, &s, &e).await.unwrap();
        assert_eq!(ids.len(), 2, "one row per channel and recipient");

        let c = claim(&db).await.unwrap().unwrap();
        assert_eq!(get(&db, c.id).await.unwrap().state, "sending");
        assert_eq!(mark_failed(&db, &c, "refused", false, &s.retry).await.unwrap(), "pending");
        let other = claim(&db).await.unwrap().unwrap();
        assert_ne!(other.id, c.id, "the failed row waits out its backoff");
        mark_sent(&db, other.id).await.unwrap();
        assert!(claim(&db).await.unwrap().is_none(), "nothing else is due yet");

        // After the backoff the row is due again; its second failure is the last try.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let again = loop {
            if let Some(x) = claim(&db).await.unwrap() {
                break x;
            }
            assert!(std::time::Instant::now() < deadline, "row never due again");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        };
        assert_eq!((again.id, again.attempts), (c.id, 1));
        assert_eq!(mark_failed(&db, &again, "refused again", false, &s.retry).await.unwrap(), "failed");
        let failed = get(&db, c.id).await.unwrap();
        assert_eq!((failed.attempts, failed.last_error.as_deref()), (2, Some("refused again")));
        assert_eq!(counts(&db).await.unwrap(), OutboxCounts { pending: 0, sending: 0, sent: 1, failed: 1 });

        // By hand: back in line with fresh tries; a sent one is refused.
        let r = retry(&db, c.id, &s.retry).await.unwrap();
        assert_eq!((r.state.as_str(), r.attempts), ("pending", 0));
        assert!(matches!(retry(&db, other.id, &s.retry).await, Err(Error::Conflict(_))));
        assert_eq!(list(&db, Some("pending"), 10).await.unwrap().len(), 1);
        assert!(list(&db, Some("bogus"), 10).await.is_err());
    }

    #[tokio::test]
    async fn a_claim_whose_sender_died_is_taken_again_after_its_lease() {
        let (_d, db) = db().await;
        let e = Event::test("a", "me");
        let ids = insert(&db, &RetryPolicy::default(), &e, &[("me", "a", String::new())]).await.unwrap();
        claim(&db).await.unwrap().unwrap();
        assert!(claim(&db).await.unwrap().is_none(), "claimed rows are not handed out twice");
        sqlx::query("UPDATE notify_outbox SET claimed_until_ms = 0 WHERE id = ?").bind(ids[0]).execute(db.pool()).await.unwrap();
        assert_eq!(claim(&db).await.unwrap().unwrap().id, ids[0]);
    }
}

//! Writes whose answer was lost. A guarded write (compare the key's
//! mod_revision, then put or delete) that was sent and then met a timeout or
//! a cut connection may or may not have been applied: etcd may have committed
//! it before the answer was lost. Once etcd answers again, the key's history
//! tells, because the guard makes our transaction the only possible *first*
//! change after the revision it was guarded by: if that first change is our
//! value (or, for a delete, a deletion), it landed; if someone else's change
//! came first, it did not.
//!
//! A key still at the guarded revision proves nothing by itself: the lost
//! request may still be on its way (queued in a frozen server, or in a
//! socket buffer) and land after the read. So the read-back fences it: a
//! put guarded by the same revision that keeps the value and the lease
//! (`ignore_value`, `ignore_lease`) moves the key's mod_revision on, after
//! which the lost request's guard can no longer hold. Whichever of the two
//! etcd orders first wins, and the history then says which. A create (guard
//! "absent") cannot be fenced without creating the key, so a key still absent
//! leaves the outcome unknown.

use std::time::Duration;

use etcd_client::{Client, Compare, CompareOp, EventType, GetOptions, PutOptions, Txn, TxnOp, WatchOptions};

use super::etcd_err;
use super::model::{KeyMeta, WriteResult};
pub use crate::connectors::errors::answer_lost;
use crate::error::{Error, ErrorCode, Result};

/// Read-back attempts after a lost answer (etcd may still be frozen or restarting).
pub const READ_BACK_ATTEMPTS: u32 = 5;
/// Environment variable that overrides [`READ_BACK_ATTEMPTS`] (tests make it 1).
pub const READ_BACK_ATTEMPTS_ENV: &str = "OPSDECK_READ_BACK_ATTEMPTS";
/// Deadline of one read-back attempt.
pub const READ_BACK_TIMEOUT: Duration = Duration::from_secs(3);
/// First pause between attempts; doubled each time, at most [`READ_BACK_PAUSE_MAX`].
const READ_BACK_PAUSE: Duration = Duration::from_millis(500);
const READ_BACK_PAUSE_MAX: Duration = Duration::from_secs(4);

/// What the lost write meant to do.
#[derive(Debug, Clone, Copy)]
pub enum Intent<'a> {
    Put(&'a [u8]),
    Delete,
}

/// What reading the key back found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Our write is in etcd's history: the first change after the guard,
    /// at `revision`. `meta` is the key now (None when it is gone).
    Applied { revision: i64, meta: Option<KeyMeta>, why: String },
    /// Not applied: someone else's change came first (so our guard could not
    /// have held), or the key was still as the guard saw it and the read-back
    /// fenced it: `fenced` is then the revision at which etcd rewrote the key
    /// unchanged (same value and lease), the guard a retry must use.
    NotApplied { why: String, fenced: Option<i64> },
    /// A create whose key is still absent: not applied so far, but the lost
    /// request may still land (a create cannot be fenced without creating the
    /// key). Writing it again under the same guard is safe (of the two, one
    /// applies); telling the user "not applied" is not.
    StillAbsent { why: String },
    /// Reading back could not tell (etcd still silent, history compacted).
    Unknown { why: String },
}

fn attempts() -> u32 {
    std::env::var(READ_BACK_ATTEMPTS_ENV).ok().and_then(|v| v.trim().parse::<u32>().ok()).filter(|n| *n > 0).unwrap_or(READ_BACK_ATTEMPTS)
}

/// Reads `key` back after a write guarded by `expected` lost its answer:
/// bounded attempts, each with its own deadline, pausing between them.
pub async fn read_back(client: &mut Client, key: &str, intent: Intent<'_>, expected: i64) -> Found {
    let attempts = attempts();
    let mut pause = READ_BACK_PAUSE;
    let mut last = String::new();
    for attempt in 1..=attempts {
        match tokio::time::timeout(READ_BACK_TIMEOUT, examine(client, key, intent, expected)).await {
            Ok(Ok(found)) => return found,
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = format!("no answer within {} s", READ_BACK_TIMEOUT.as_secs()),
        }
        if attempt < attempts {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(READ_BACK_PAUSE_MAX);
        }
    }
    Found::Unknown { why: format!("reading {key} back failed {attempts} times (last: {last})") }
}

/// One look at the key and, when it moved on, at the first change after the guard.
async fn examine(client: &mut Client, key: &str, intent: Intent<'_>, expected: i64) -> Result<Found> {
    let resp = client.get(key, None).await.map_err(etcd_err)?;
    let at = resp.header().map(|h| h.revision()).unwrap_or(0);
    let now = resp.kvs().first();
    if let Some(kv) = now {
        if expected > 0 && kv.mod_revision() == expected {
            if let Some(fenced) = fence(client, key, expected).await? {
                return Ok(Found::NotApplied {
                    why: format!(
                        "{key} was still at mod_revision {expected} (read at revision {at}); Opsdeck then rewrote it unchanged (same value and lease) at revision {fenced}, so the lost request can no longer apply"
                    ),
                    fenced: Some(fenced),
                });
            }
            // The key moved between the read and the fence: the history tells by whom.
            let now = client.get(key, None).await.map_err(etcd_err)?;
            let meta = now.kvs().first().map(KeyMeta::of);
            return first_change_after(client, key, intent, expected, meta).await;
        }
    }
    if expected == 0 {
        // A create: ours if this incarnation of the key began with our value.
        let Some(kv) = now else {
            return Ok(Found::StillAbsent {
                why: format!(
                    "{key} does not exist yet (read at revision {at}), but the lost request may still be on its way to etcd, and a create cannot be fenced without creating the key"
                ),
            });
        };
        let first = client.get(key, Some(GetOptions::new().with_revision(kv.create_revision()))).await.map_err(etcd_err)?;
        let ours = matches!(intent, Intent::Put(v) if first.kvs().first().is_some_and(|f| f.value() == v));
        return Ok(if ours {
            Found::Applied {
                revision: kv.create_revision(),
                meta: Some(KeyMeta::of(kv)),
                why: format!("{key} was created with our value at revision {}", kv.create_revision()),
            }
        } else {
            Found::NotApplied { why: format!("someone else created {key} first, at revision {}", kv.create_revision()), fenced: None }
        });
    }
    let meta = now.map(KeyMeta::of);
    first_change_after(client, key, intent, expected, meta).await
}

/// Moves `key` on from `expected` without changing it: a put guarded by the
/// same revision that keeps the value and the lease. Some(revision) when it
/// held (the lost request, guarded alike, can no longer apply); None when the
/// key had moved on already.
async fn fence(client: &mut Client, key: &str, expected: i64) -> Result<Option<i64>> {
    let txn = Txn::new().when([Compare::mod_revision(key, CompareOp::Equal, expected)]).and_then([TxnOp::put(
        key,
        Vec::<u8>::new(),
        Some(PutOptions::new().with_ignore_value().with_ignore_lease()),
    )]);
    let resp = client.txn(txn).await.map_err(etcd_err)?;
    Ok(resp.succeeded().then(|| resp.header().map(|h| h.revision()).unwrap_or(0)))
}

/// The first change of `key` after revision `expected`, from etcd's history
/// (a watch that starts there replays it).
async fn first_change_after(client: &mut Client, key: &str, intent: Intent<'_>, expected: i64, meta: Option<KeyMeta>) -> Result<Found> {
    // Fragmented: a replay of several big values can exceed the 4 MiB the client accepts.
    let opts = WatchOptions::new().with_start_revision(expected + 1).with_fragment();
    let mut stream = client.watch(key, Some(opts)).await.map_err(etcd_err)?;
    while let Some(resp) = stream.message().await.map_err(etcd_err)? {
        if resp.compact_revision() > 0 {
            return Ok(Found::Unknown {
                why: format!("etcd compacted the history of {key} past revision {expected} (to {})", resp.compact_revision()),
            });
        }
        if resp.canceled() {
            return Ok(Found::Unknown { why: format!("etcd refused to replay the history of {key}: {}", resp.cancel_reason()) });
        }
        let Some(event) = resp.events().first() else { continue };
        let revision = event.kv().map(|kv| kv.mod_revision()).unwrap_or(0);
        let ours = match (intent, event.event_type()) {
            (Intent::Put(v), EventType::Put) => event.kv().is_some_and(|kv| kv.value() == v),
            (Intent::Delete, EventType::Delete) => true,
            _ => false,
        };
        let later = match &meta {
            Some(m) if m.mod_revision != revision => format!("; changed since, now at mod_revision {}", m.mod_revision),
            None if matches!(intent, Intent::Put(_)) => "; deleted since".to_string(),
            _ => String::new(),
        };
        return Ok(if ours {
            let what = if matches!(intent, Intent::Delete) { "deleted" } else { "written with our value" };
            Found::Applied {
                revision,
                meta,
                why: format!("{key} was {what} at revision {revision}, the first change after {expected}{later}"),
            }
        } else {
            Found::NotApplied {
                why: format!(
                    "someone else changed {key} first, at revision {revision}, so our guard (mod_revision {expected}) failed{later}"
                ),
                fenced: None,
            }
        });
    }
    Ok(Found::Unknown { why: format!("the history of {key} after revision {expected} ended without a change") })
}

/// Settles a guarded write of `key` that failed with `e`: when its answer may
/// have been lost, reads the key back and reports what it found — written
/// (a [`WriteResult::Written`] saying so), not applied (the error, saying it
/// is safe to retry) or still unknown ([`ErrorCode::OutcomeUnknown`]).
pub async fn settle(client: &mut Client, key: &str, intent: Intent<'_>, expected: i64, e: Error) -> Result<WriteResult> {
    if !answer_lost(&e) {
        return Err(e);
    }
    tracing::warn!(key, error = %e, "the answer to a write was lost; reading the key back to learn whether it was applied");
    match read_back(client, key, intent, expected).await {
        Found::Applied { revision, meta, why } => {
            let meta = meta.filter(|m| m.mod_revision == revision).unwrap_or(KeyMeta {
                key: key.to_string(),
                create_revision: 0,
                mod_revision: revision,
                version: 0,
                lease: 0,
            });
            Ok(WriteResult::Written { meta, revision, recovered: Some(format!("the answer was lost ({e}); read back: applied: {why}")) })
        }
        Found::NotApplied { why, fenced } => {
            let retry = match fenced {
                Some(r) => format!("the value is as before: retry against mod_revision {r}"),
                None => "retrying is safe".to_string(),
            };
            Err(e.and(&format!("read back: not applied: {why}; nothing was written by this request, {retry}")))
        }
        Found::Unknown { why } | Found::StillAbsent { why } => {
            let message = format!(
                "outcome unknown: the write of {key} was sent, then {e}; whether etcd applied it is unknown ({why}). Read the key (`opsdeck config get {key} --format json`): a mod_revision above {expected} means it changed since your guard"
            );
            Err(Error::Remote { code: ErrorCode::OutcomeUnknown, message, source: Box::new(e) })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_fault_after_sending_may_hide_a_write() {
        use std::io::{Error as IoError, ErrorKind};
        let refused = crate::connectors::errors::transport("etcd", IoError::new(ErrorKind::ConnectionRefused, "refused"));
        assert!(!answer_lost(&refused), "nothing was sent to a refused connection");
        let reset = crate::connectors::errors::transport("etcd", IoError::new(ErrorKind::ConnectionReset, "reset"));
        assert!(answer_lost(&reset));
        let slow = crate::connectors::errors::transport("etcd", IoError::new(ErrorKind::TimedOut, "slow"));
        assert!(answer_lost(&slow));
        assert!(!answer_lost(&Error::Forbidden("no".into())), "an answer is an outcome");
    }
}

//! Watching a prefix, and keeping the watch alive. Events are delivered to a
//! callback from a background task; dropping the [`WatchHandle`] (or calling
//! `stop`) cancels the watch, so a view that closes stops its stream.
//!
//! Recovery: when the stream breaks (etcd restarted, network gone) the watch
//! says so ([`WatchEvent::Reconnecting`]) and re-creates itself with a capped
//! exponential backoff, from the revision after the last one it delivered, so
//! nothing written during the outage is missed ([`WatchEvent::Resumed`]). When
//! etcd compacted that revision away, the missed events cannot be replayed:
//! the watch restarts from now and reports what may have been missed, the
//! keys changed since ([`WatchEvent::Gap`]); deletions in the gap cannot be
//! known, so a view reloads. A quiet stream is probed with a progress request:
//! no answer within a deadline (a frozen server keeps its sockets open) counts
//! as a broken stream.

use std::time::Duration;

use etcd_client::{Client, EventType, GetOptions, WatchOptions, WatchResponse, WatchStream};
use serde::Serialize;

use super::etcd_err;
use super::keys::{check_key, prefix_end};
use super::model::KeyMeta;
use crate::error::{Error, ErrorCode, Result};

/// At most this many changed keys are named in a [`WatchEvent::Gap`].
pub const GAP_KEYS_MAX: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WatchEvent {
    Put {
        key: String,
        meta: KeyMeta,
        /// `None` when the value is not UTF-8 text.
        value: Option<String>,
    },
    Delete {
        key: String,
        mod_revision: i64,
    },
    /// The stream broke or stopped answering; the watch tries again in
    /// `retry_in_ms` (attempt `attempt`), resuming after `last_revision`.
    Reconnecting {
        attempt: u32,
        retry_in_ms: u64,
        last_revision: i64,
        reason: String,
    },
    /// Back after an outage: every change after `last_revision` is delivered
    /// (those made during the outage come next), nothing was missed.
    Resumed {
        last_revision: i64,
    },
    /// etcd compacted its history past `last_revision` (everything before
    /// `compact_revision` is gone; `None` when etcd did not say where), so
    /// changes in between cannot be replayed.
    /// The watch continues after `revision`; `changed` names keys modified
    /// since `last_revision` (at most 100, `more_changed` when there are
    /// more); keys deleted meanwhile cannot be named. Reload the view.
    Gap {
        last_revision: i64,
        compact_revision: Option<i64>,
        revision: i64,
        changed: Vec<String>,
        more_changed: bool,
    },
    /// The watch stopped for good (etcd refused it: permission, auth); fix the
    /// cause and watch again.
    Error {
        message: String,
    },
}

/// Timing of the recovery (the defaults suit the app; tests shorten them).
#[derive(Debug, Clone, Copy)]
pub struct WatchTuning {
    /// No message for this long: ask etcd for a progress notification.
    pub idle: Duration,
    /// A progress request unanswered this long: the stream is dead.
    pub answer_deadline: Duration,
    /// First reconnect delay, doubled per failed attempt...
    pub backoff_first: Duration,
    /// ...up to this.
    pub backoff_max: Duration,
    /// Deadline of one attempt to (re)create the watch.
    pub attempt_timeout: Duration,
}

impl Default for WatchTuning {
    fn default() -> Self {
        WatchTuning {
            idle: Duration::from_secs(15),
            answer_deadline: Duration::from_secs(5),
            backoff_first: Duration::from_millis(250),
            backoff_max: Duration::from_secs(15),
            attempt_timeout: Duration::from_secs(5),
        }
    }
}

impl WatchTuning {
    /// The delay before reconnect attempt `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.saturating_sub(1).min(20)).unwrap_or(u32::MAX);
        self.backoff_first.saturating_mul(factor).min(self.backoff_max)
    }
}

pub struct WatchHandle {
    task: tokio::task::JoinHandle<()>,
}

impl WatchHandle {
    pub fn stop(self) {}
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Watches every key under `prefix` from now on, recovering with the default tuning.
pub async fn watch(client: &mut Client, prefix: &str, on_event: impl Fn(WatchEvent) + Send + Sync + 'static) -> Result<WatchHandle> {
    watch_with(client, prefix, WatchTuning::default(), on_event).await
}

/// Why a running stream stopped.
enum Stop {
    /// Retry after a backoff.
    Broken(String),
    /// History after the last revision is gone (compacted at, when known).
    Compacted(Option<i64>),
    /// Do not retry.
    Fatal(String),
}

/// Errors etcd will repeat on every attempt: stop rather than retry.
fn fatal(e: &Error) -> bool {
    matches!(e.code(), ErrorCode::Forbidden | ErrorCode::Auth | ErrorCode::InvalidInput)
}

struct Watcher<F> {
    client: Client,
    prefix: String,
    tuning: WatchTuning,
    on_event: F,
    /// Every event up to this revision was delivered.
    last: i64,
}

/// Like [`watch`], with explicit recovery timing. The first watch is created
/// before this returns (an unreachable etcd or a denied prefix is an error
/// here); later failures are recovered from in the background.
pub async fn watch_with(
    client: &mut Client,
    prefix: &str,
    tuning: WatchTuning,
    on_event: impl Fn(WatchEvent) + Send + Sync + 'static,
) -> Result<WatchHandle> {
    check_key(prefix, "prefix")?;
    let mut w = Watcher { client: client.clone(), prefix: prefix.to_string(), tuning, on_event, last: 0 };
    let (stream, created) = Box::pin(w.open(0)).await?;
    w.last = created;
    let task = tokio::spawn(async move { w.run(stream).await });
    Ok(WatchHandle { task })
}

impl<F: Fn(WatchEvent) + Send + Sync + 'static> Watcher<F> {
    /// Creates the watch from `start` (0 = now) and waits for etcd to confirm
    /// it; returns the stream and the revision it was created at.
    async fn open(&mut self, start: i64) -> Result<(WatchStream, i64)> {
        let what = format!("etcd watch of {}", self.prefix);
        let prefix = self.prefix.clone();
        let mut client = self.client.clone();
        crate::error::with_timeout(what, self.tuning.attempt_timeout, async move {
            // Fragments: a replay after an outage can be more than the 4 MiB
            // the client accepts in one response (big values); etcd splits it.
            let mut opts = WatchOptions::new().with_prefix().with_progress_notify().with_fragment();
            if start > 0 {
                opts = opts.with_start_revision(start);
            }
            let mut stream = client.watch(prefix.as_str(), Some(opts)).await.map_err(etcd_err)?;
            match stream.message().await.map_err(etcd_err)? {
                Some(resp) if resp.canceled() && resp.compact_revision() == 0 => {
                    Err(Error::invalid(format!("etcd refused the watch of {prefix}: {}", resp.cancel_reason())))
                }
                Some(resp) => Ok((stream, resp.header().map(|h| h.revision()).unwrap_or(0))),
                None => Err(Error::Unreachable(format!("etcd closed the watch of {prefix} as it was created"))),
            }
        })
        .await
    }

    async fn run(mut self, mut stream: WatchStream) {
        loop {
            let compacted = match self.pump(&mut stream).await {
                Stop::Fatal(message) => return (self.on_event)(WatchEvent::Error { message }),
                Stop::Compacted(c) => Some(c),
                Stop::Broken(reason) => {
                    (self.on_event)(self.reconnecting(1, &reason));
                    tokio::time::sleep(self.tuning.backoff(1)).await;
                    None
                }
            };
            match self.reopen(compacted).await {
                Some(s) => stream = s,
                None => return,
            }
        }
    }

    fn reconnecting(&self, attempt: u32, reason: &str) -> WatchEvent {
        let retry_in_ms = u64::try_from(self.tuning.backoff(attempt).as_millis()).unwrap_or(u64::MAX);
        WatchEvent::Reconnecting { attempt, retry_in_ms, last_revision: self.last, reason: reason.to_string() }
    }

    /// Re-creates the watch until it works (backing off) or fails for good
    /// (`None`, after an `Error` event). `compacted`: the last revision is
    /// known to be compacted.
    async fn reopen(&mut self, mut compacted: Option<Option<i64>>) -> Option<WatchStream> {
        let mut attempt = 1;
        loop {
            let outcome = match compacted {
                None => self.resume().await,
                Some(c) => self.reload(c).await,
            };
            match outcome {
                Ok(stream) => return Some(stream),
                Err(Stop::Compacted(c)) => compacted = Some(c),
                Err(Stop::Fatal(message)) => {
                    (self.on_event)(WatchEvent::Error { message });
                    return None;
                }
                Err(Stop::Broken(reason)) => {
                    attempt += 1;
                    (self.on_event)(self.reconnecting(attempt, &reason));
                    tokio::time::sleep(self.tuning.backoff(attempt)).await;
                }
            }
        }
    }

    fn stop_of(e: Error) -> Stop {
        if fatal(&e) {
            Stop::Fatal(e.to_string())
        } else {
            Stop::Broken(e.to_string())
        }
    }

    /// Re-creates the watch after the last delivered revision, unless etcd
    /// compacted it (then the caller reloads instead).
    async fn resume(&mut self) -> std::result::Result<WatchStream, Stop> {
        let from = self.last + 1;
        // Is `from` still in etcd's history? A read at it says "compacted" if
        // not, "future revision" if nothing was written since (also fine).
        let probe = tokio::time::timeout(
            self.tuning.attempt_timeout,
            self.client.get(self.prefix.as_str(), Some(GetOptions::new().with_revision(from).with_count_only())),
        )
        .await
        .map_err(|_| Stop::Broken(format!("etcd did not answer within {} s", self.tuning.attempt_timeout.as_secs_f32())))?;
        if let Err(e) = probe {
            let text = e.to_string();
            if text.contains("compacted") {
                return Err(Stop::Compacted(None));
            }
            if !text.contains("future revision") {
                return Err(Self::stop_of(etcd_err(e)));
            }
        }
        let (stream, _) = self.open(from).await.map_err(Self::stop_of)?;
        (self.on_event)(WatchEvent::Resumed { last_revision: self.last });
        Ok(stream)
    }

    /// The history after `last` is gone: find the keys changed since, then
    /// watch from the revision of that read.
    async fn reload(&mut self, compact_revision: Option<i64>) -> std::result::Result<WatchStream, Stop> {
        let end = prefix_end(self.prefix.as_bytes());
        let opts = GetOptions::new().with_range(end).with_keys_only().with_min_mod_revision(self.last + 1).with_limit(GAP_KEYS_MAX as i64);
        let resp = tokio::time::timeout(self.tuning.attempt_timeout, self.client.get(self.prefix.as_str(), Some(opts)))
            .await
            .map_err(|_| Stop::Broken(format!("etcd did not answer within {} s", self.tuning.attempt_timeout.as_secs_f32())))?
            .map_err(|e| Self::stop_of(etcd_err(e)))?;
        let revision = resp.header().map(|h| h.revision()).unwrap_or(0);
        let changed: Vec<String> = resp.kvs().iter().map(|kv| super::keys::key_text(kv.key())).collect();
        let more_changed = resp.more();
        let (stream, _) = self.open(revision + 1).await.map_err(Self::stop_of)?;
        (self.on_event)(WatchEvent::Gap { last_revision: self.last, compact_revision, revision, changed, more_changed });
        self.last = revision;
        Ok(stream)
    }

    /// Delivers events until the stream stops; probes a quiet stream.
    async fn pump(&mut self, stream: &mut WatchStream) -> Stop {
        let mut probing = false;
        loop {
            let wait = if probing { self.tuning.answer_deadline } else { self.tuning.idle };
            match tokio::time::timeout(wait, stream.message()).await {
                Err(_) if probing => {
                    return Stop::Broken(format!(
                        "etcd did not answer a progress request within {} s (frozen or cut off)",
                        self.tuning.answer_deadline.as_secs_f32()
                    ))
                }
                Err(_) => {
                    if let Err(e) = stream.request_progress().await {
                        return Stop::Broken(format!("the watch stream is closed: {e}"));
                    }
                    probing = true;
                }
                Ok(Ok(Some(resp))) => {
                    probing = false;
                    if let Some(stop) = self.deliver(&resp) {
                        return stop;
                    }
                }
                Ok(Ok(None)) => return Stop::Broken("etcd ended the watch stream".into()),
                Ok(Err(e)) => return Self::stop_of(etcd_err(e)),
            }
        }
    }

    fn deliver(&mut self, resp: &WatchResponse) -> Option<Stop> {
        if resp.compact_revision() > 0 {
            return Some(Stop::Compacted(Some(resp.compact_revision())));
        }
        if resp.canceled() {
            return Some(Stop::Fatal(format!("etcd cancelled the watch of {}: {}", self.prefix, resp.cancel_reason())));
        }
        if resp.events().is_empty() {
            // A progress notification of this watcher: everything up to the
            // header's revision was delivered. (etcd 3.4 answers a progress
            // *request* with watch id -1 and the store's revision, which does
            // not promise that: not counted.)
            if resp.watch_id() >= 0 {
                if let Some(h) = resp.header() {
                    self.last = self.last.max(h.revision());
                }
            }
            return None;
        }
        let mut newest = 0;
        for ev in resp.events() {
            let Some(kv) = ev.kv() else { continue };
            let key = super::keys::key_text(kv.key());
            match ev.event_type() {
                EventType::Put => (self.on_event)(WatchEvent::Put {
                    value: std::str::from_utf8(kv.value()).ok().map(String::from),
                    meta: KeyMeta::of(kv),
                    key,
                }),
                EventType::Delete => (self.on_event)(WatchEvent::Delete { key, mod_revision: kv.mod_revision() }),
            }
            newest = newest.max(kv.mod_revision());
        }
        // A fragment may end inside a revision (one transaction's events split
        // across responses): that revision counts as delivered only with the
        // last fragment, so a resume replays it rather than skip its rest.
        let delivered = if resp.0.fragment { newest - 1 } else { newest };
        self.last = self.last.max(delivered);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let t = WatchTuning { backoff_first: Duration::from_millis(250), backoff_max: Duration::from_secs(15), ..Default::default() };
        let ms: Vec<u128> = (1..=9).map(|a| t.backoff(a).as_millis()).collect();
        assert_eq!(ms, [250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
        assert_eq!(t.backoff(u32::MAX), Duration::from_secs(15));
    }
}

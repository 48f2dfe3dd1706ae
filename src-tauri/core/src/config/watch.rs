//! Watching a prefix. Events are delivered to a callback from a background
//! task; dropping the [`WatchHandle`] (or calling `stop`) cancels the watch,
//! so a view that closes stops its stream.

use etcd_client::{Client, EventType, WatchOptions};
use serde::Serialize;

use super::model::KeyMeta;
use super::{etcd_err, keys::check_key};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WatchEvent {
    Put { key: String, meta: KeyMeta, value: Option<String> },
    Delete { key: String, mod_revision: i64 },
    Error { message: String },
    Compacted { compact_revision: i64 },
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

/// Watches every key under `prefix` from now on.
pub async fn watch(client: &mut Client, prefix: &str, on_event: impl Fn(WatchEvent) + Send + Sync + 'static) -> Result<WatchHandle> {
    check_key(prefix, "prefix")?;
    let mut stream = client.watch(prefix, Some(WatchOptions::new().with_prefix())).await.map_err(etcd_err)?;
    let task = tokio::spawn(async move {
        loop {
            match stream.message().await {
                Ok(Some(resp)) => {
                    if resp.compact_revision() > 0 {
                        on_event(WatchEvent::Compacted { compact_revision: resp.compact_revision() });
                    }
                    if resp.canceled() {
                        on_event(WatchEvent::Error { message: format!("etcd cancelled the watch: {}", resp.cancel_reason()) });
                        return;
                    }
                    for ev in resp.events() {
                        let Some(kv) = ev.kv() else { continue };
                        let key = super::keys::key_text(kv.key());
                        match ev.event_type() {
                            EventType::Put => on_event(WatchEvent::Put {
                                value: std::str::from_utf8(kv.value()).ok().map(String::from),
                                meta: KeyMeta::of(kv),
                                key,
                            }),
                            EventType::Delete => on_event(WatchEvent::Delete { key, mod_revision: kv.mod_revision() }),
                        }
                    }
                }
                Ok(None) => {
                    on_event(WatchEvent::Error { message: "the watch stream ended".into() });
                    return;
                }
                Err(e) => {
                    on_event(WatchEvent::Error { message: etcd_err(e).to_string() });
                    return;
                }
            }
        }
    });
    Ok(WatchHandle { task })
}

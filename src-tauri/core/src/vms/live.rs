//! Live VM updates while the view is open: one WaitForUpdatesEx long-poll on
//! a property collector of its own (so it never competes with the calls the
//! workflows make on the session's default collector), over a container view
//! of every VM. Each change becomes an event with the VM's new row, and the
//! events of one update set are delivered as one batch. The server pages an
//! update set (vim_rs asks for at most 256 objects; vCenter and vcsim stop at
//! 100), so the 1,104 VMs of the Overview benchmark's vCenter open the view
//! in about 12 messages to the UI instead of 1,104 (each of which re-rendered
//! the inventory). Dropping the handle stops the poll and destroys the
//! collector's filters.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use vim_rs::core::client::Client;
use vim_rs::core::pc_cache::{CacheAction, CacheManager, ObjectCache, ObjectCacheListener};
use vim_rs::mo::PropertyCollector;
use vim_rs::vim_updatable;

use super::inventory::{vm_properties, vm_row, VmRow};
use super::vsphere::call_error;

vm_properties!(vim_updatable, VmLive);

impl VmLive {
    fn row(&self) -> VmRow {
        vm_row!(self)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VmEvent {
    /// A VM appeared or changed: its whole row.
    Upsert {
        vm: Box<VmRow>,
    },
    Removed {
        id: String,
    },
    /// The long-poll failed; it is retried (with back-off) until stopped.
    Error {
        message: String,
    },
}

/// The events of one update set, in order: one message to the UI.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct VmEventBatch {
    pub events: Vec<VmEvent>,
}

/// Receives the events of one update set at a time, in order.
type Sink = Arc<dyn Fn(Vec<VmEvent>) + Send + Sync>;

/// The events of the update set being applied, sent as one batch after it.
#[derive(Clone, Default)]
struct Pending(Arc<Mutex<Vec<VmEvent>>>);

impl Pending {
    fn push(&self, e: VmEvent) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(e);
    }

    /// Sends what the last update set changed (nothing when it changed nothing).
    fn flush(&self, sink: &Sink) {
        let batch = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        if !batch.is_empty() {
            sink(batch);
        }
    }
}

struct Listener {
    pending: Pending,
}

impl ObjectCacheListener<VmLive> for Listener {
    fn on_new(&mut self, obj: &VmLive) -> CacheAction {
        self.pending.push(VmEvent::Upsert { vm: Box::new(obj.row()) });
        CacheAction::Keep
    }
    fn on_update(&mut self, obj: &VmLive) -> CacheAction {
        self.pending.push(VmEvent::Upsert { vm: Box::new(obj.row()) });
        CacheAction::Keep
    }
    fn on_remove(&mut self, obj: VmLive) {
        self.pending.push(VmEvent::Removed { id: obj.id.value });
    }
}

/// Stops the live updates when dropped.
pub struct LiveHandle {
    stop: CancellationToken,
}

impl Drop for LiveHandle {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Starts live VM updates: first an `Upsert` per existing VM (in batches of
/// one server page, up to 100 on vCenter), then a batch per update set that
/// changed something.
pub fn watch(client: Arc<Client>, on_events: impl Fn(Vec<VmEvent>) + Send + Sync + 'static) -> LiveHandle {
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    let sink: Sink = Arc::new(on_events);
    tokio::spawn(async move {
        let mut backoff = Duration::from_secs(1);
        while !stopped.is_cancelled() {
            match run(&client, &sink, &stopped).await {
                Ok(()) => break,
                Err(message) => {
                    sink(vec![VmEvent::Error { message }]);
                    tokio::select! {
                        _ = stopped.cancelled() => break,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    });
    LiveHandle { stop }
}

async fn run(client: &Arc<Client>, sink: &Sink, stopped: &CancellationToken) -> Result<(), String> {
    let default_pc = PropertyCollector::new(client.clone(), &client.service_content().property_collector.value);
    let own = default_pc.create_property_collector().await.map_err(|e| call_error("live VM updates", e).to_string())?;
    let pc = PropertyCollector::new(client.clone(), &own.value);
    let mut manager = CacheManager::new_with_property_collector(client.clone(), pc.clone()).map_err(|e| e.to_string())?;
    manager.set_cancel_wait_on_filter_change(true);
    let pending = Pending::default();
    let cache = ObjectCache::<VmLive>::new_with_listener(Box::new(Listener { pending: pending.clone() }));
    let result = async {
        manager.add_container_cache(Box::new(cache), &client.service_content().root_folder).await.map_err(|e| e.to_string())?;
        pending.flush(sink);
        let mut monitor = manager.create_monitor().map_err(|e| e.to_string())?;
        loop {
            tokio::select! {
                _ = stopped.cancelled() => return Ok(()),
                r = monitor.wait_updates(20) => match r {
                    Ok(Some(updates)) => {
                        let applied = manager.apply_updates(updates).map_err(|e| e.to_string());
                        pending.flush(sink);
                        applied?
                    }
                    Ok(None) => {}
                    Err(e) => return Err(format!("live VM updates stopped: {e}")),
                }
            }
        }
    }
    .await;
    let _ = manager.destroy().await;
    let _ = pc.destroy_property_collector().await;
    result
}

#[cfg(test)]
mod tests {
    use vim_rs::core::pc_helpers::Queriable;

    #[test]
    fn live_rows_read_the_same_properties_as_the_inventory() {
        assert_eq!(super::VmLive::prop_spec().path_set, super::super::inventory::VmProps::prop_spec().path_set);
    }
}

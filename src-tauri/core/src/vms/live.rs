//! Live VM updates while the view is open: one WaitForUpdatesEx long-poll on
//! a property collector of its own (so it never competes with the calls the
//! workflows make on the session's default collector), over a container view
//! of every VM. Each change becomes an event with the VM's new row; dropping
//! the handle stops the poll and destroys the collector's filters.

use std::sync::Arc;
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

type Sink = Arc<dyn Fn(VmEvent) + Send + Sync>;

struct Listener {
    sink: Sink,
}

impl ObjectCacheListener<VmLive> for Listener {
    fn on_new(&mut self, obj: &VmLive) -> CacheAction {
        (self.sink)(VmEvent::Upsert { vm: Box::new(obj.row()) });
        CacheAction::Keep
    }
    fn on_update(&mut self, obj: &VmLive) -> CacheAction {
        (self.sink)(VmEvent::Upsert { vm: Box::new(obj.row()) });
        CacheAction::Keep
    }
    fn on_remove(&mut self, obj: VmLive) {
        (self.sink)(VmEvent::Removed { id: obj.id.value });
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

/// Starts live VM updates: first one `Upsert` per existing VM, then changes.
pub fn watch(client: Arc<Client>, on_event: impl Fn(VmEvent) + Send + Sync + 'static) -> LiveHandle {
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    let sink: Sink = Arc::new(on_event);
    tokio::spawn(async move {
        let mut backoff = Duration::from_secs(1);
        while !stopped.is_cancelled() {
            match run(&client, &sink, &stopped).await {
                Ok(()) => break,
                Err(message) => {
                    sink(VmEvent::Error { message });
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
    let cache = ObjectCache::<VmLive>::new_with_listener(Box::new(Listener { sink: sink.clone() }));
    let result = async {
        manager.add_container_cache(Box::new(cache), &client.service_content().root_folder).await.map_err(|e| e.to_string())?;
        let mut monitor = manager.create_monitor().map_err(|e| e.to_string())?;
        loop {
            tokio::select! {
                _ = stopped.cancelled() => return Ok(()),
                r = monitor.wait_updates(20) => match r {
                    Ok(Some(updates)) => manager.apply_updates(updates).map_err(|e| e.to_string())?,
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

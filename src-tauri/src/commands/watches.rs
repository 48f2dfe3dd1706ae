//! The live watches a window has open (config keys, cluster health, VM
//! updates), by id: the `*_watch` command registers a handle, `*_unwatch`
//! drops it, which stops the watch. One registry per handle type.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use crate::error::{UiError, UiResult};

pub struct Watches<H> {
    next: AtomicU32,
    open: Mutex<HashMap<u32, H>>,
}

impl<H> Default for Watches<H> {
    fn default() -> Self {
        Watches { next: AtomicU32::new(0), open: Mutex::new(HashMap::new()) }
    }
}

impl<H> Watches<H> {
    /// Keeps `handle` open; returns the id to stop it with.
    pub fn add(&self, handle: H) -> UiResult<u32> {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.open.lock().map_err(|_| UiError::invalid("watch registry unavailable"))?.insert(id, handle);
        Ok(id)
    }

    /// Drops the handle of watch `id` (stopping it); an unknown id is ignored.
    pub fn remove(&self, id: u32) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(&id);
        }
    }
}

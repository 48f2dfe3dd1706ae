//! The Images workspace's fleet: every scanned image's newest decision,
//! "scan all" of an engine (a bounded number at once), and the notes the
//! re-matches after advisory or policy updates left.

use std::sync::Arc;

use super::images::{Engine, ImageOutcome, ImageProgress};
use super::Backend;
use crate::error::Result;
use crate::scanner::engine;
use crate::scanner::fleet::{self, FleetImage};
use crate::scanner::rematch::{self, RematchNote};

impl Backend {
    /// The newest scan (or re-match) of every scanned image.
    pub async fn fleet_images(&self) -> Result<Vec<FleetImage>> {
        fleet::latest(&self.db).await
    }

    /// The kept re-match notes, newest first.
    pub async fn rematch_notes(&self) -> Result<Vec<RematchNote>> {
        rematch::notes(&self.db).await
    }

    /// Scans every image of the engine (by its first tag, else its id), at
    /// most [`super::images::SCAN_CONCURRENCY`] at once; one failing image
    /// does not stop the others. Shared layers are read once.
    pub async fn scan_all(&self, engine: &Engine, progress: Arc<dyn Fn(ImageProgress) + Send + Sync>) -> Result<Vec<ImageOutcome>> {
        let inv = engine::inventory(&engine.docker, &engine.host).await?;
        let images = inv.images.iter().map(|i| (i.tags.first().cloned().unwrap_or_else(|| i.id.clone()), Vec::new())).collect();
        Ok(self.scan_many(engine, images, progress).await)
    }
}

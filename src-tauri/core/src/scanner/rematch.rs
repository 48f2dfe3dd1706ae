//! Re-assessing every scanned image from the layer cache, without Docker:
//! after a new advisory database is imported, or the policy changed.

use super::assess::assess;
use super::history;
use super::image::overlay::Root;
use super::layer_cache;
use super::packages::Inventory;
use super::policy::Policy;
use super::provenance;
use crate::cache::db::{now_rfc3339, Db};
use crate::error::Result;

/// What a re-match did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, specta::Type)]
pub struct Rematched {
    /// Images re-assessed (a new history entry each).
    pub images: usize,
    /// Images whose layers are no longer all cached (scan them again).
    pub skipped: usize,
    /// Images whose decision changed, as `image: OLD → NEW`.
    pub changed: Vec<String>,
}

pub async fn rematch_all(db: &Db, policy: &Policy) -> Result<Rematched> {
    let mut out = Rematched::default();
    for (connection_id, mut report) in history::latest_per_image(db).await? {
        let digests: Vec<String> = report.layers.iter().map(|l| l.digest.clone()).collect();
        let cached = layer_cache::get_many(db, &digests).await?;
        let Some(records) = digests.iter().map(|d| cached.get(d)).collect::<Option<Vec<_>>>() else {
            out.skipped += 1;
            continue;
        };
        let mut inventory = Inventory::of(&Root::build(records.iter().copied()));
        // The layers keep the instructions and base boundary the scan found.
        let instructions: Vec<Option<String>> = report.layers.iter().map(|l| l.created_by.clone()).collect();
        let base = report.layers.iter().filter(|l| l.base).count();
        provenance::attribute(&records, &instructions, base, &mut inventory);
        report.packages = inventory.packages.clone();
        let before = report.assessment.verdict.decision;
        report.assessment = assess(db, &inventory, &report.config, policy).await?;
        report.layers.iter_mut().for_each(|l| l.from_cache = true);
        report.scanned_at = now_rfc3339();
        report.duration_ms = 0;
        if before != report.assessment.verdict.decision {
            out.changed.push(format!("{}: {} → {}", report.image, before.as_str(), report.assessment.verdict.decision.as_str()));
        }
        history::save(db, connection_id.as_deref(), &report).await?;
        out.images += 1;
    }
    Ok(out)
}

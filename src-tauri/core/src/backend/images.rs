//! The Images workspace on the backend: engine inventories (cached), scans
//! with progress and history, reports, the advisory database and the
//! policy. Imports and policy changes are audited.

use std::path::Path;
use std::sync::Arc;

use bollard::Docker;
use futures::stream::{self, StreamExt};
use serde::Serialize;

use super::Backend;
use crate::cache::snapshots::{self, Snapshot};
use crate::connections::ConnectionSpec;
use crate::connectors::docker;
use crate::error::{Error, Result};
use crate::scanner::advisories::{self, ImportReport};
use crate::scanner::engine::{self, EngineInventory};
use crate::scanner::history::{self, ScanSummary};
use crate::scanner::image::oci::Platform;
use crate::scanner::policy::Policy;
use crate::scanner::policy_store;
use crate::scanner::rematch::{rematch_all, Rematched};
use crate::scanner::reports::{self, Format};
use crate::scanner::scan::{scan_image, Progress, ScanReport};
use crate::scanner::{input, registry};

/// Cache scope of an engine's inventory.
pub const INVENTORY_SCOPE: &str = "image-inventory";
/// Images scanned at once by "scan all running" (each streams a whole image).
pub const SCAN_CONCURRENCY: usize = 2;

/// A connected engine.
pub struct Engine {
    pub docker: Docker,
    pub host: String,
    pub connection_id: Option<String>,
}

/// Progress of one image within a multi-image scan.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ImageProgress {
    pub image: String,
    pub index: usize,
    pub total: usize,
    #[serde(flatten)]
    pub progress: Progress,
}

/// The outcome of scanning one image among several.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct ImageOutcome {
    pub image: String,
    /// Containers running it (for "scan all running").
    pub containers: Vec<String>,
    pub scan: Option<ScanSummary>,
    pub error: Option<String>,
}

/// An advisory import and the re-match of cached images it caused.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AdvisoryUpdate {
    pub import: ImportReport,
    pub rematched: Rematched,
    /// What changed, as text (kept with the structured note, see `image_rematch_notes`).
    pub note: Vec<String>,
}

impl Backend {
    /// Connects to a Docker connection profile's engine.
    pub async fn engine(&self, connection_id: &str) -> Result<Engine> {
        let c = self.connection(connection_id).await?;
        let ConnectionSpec::Docker { host, tls, .. } = &c.spec else {
            return Err(Error::invalid(format!("connection \"{}\" is not a Docker connection", c.name)));
        };
        let docker = docker::connect(host, tls.as_ref()).await?;
        Ok(Engine { docker, host: host.clone(), connection_id: Some(c.id) })
    }

    /// Images and containers of an engine now; cached for the next start.
    pub async fn image_inventory(&self, connection_id: &str) -> Result<EngineInventory> {
        let e = self.engine(connection_id).await?;
        let inv = engine::inventory(&e.docker, &e.host).await?;
        snapshots::put(&self.db, connection_id, INVENTORY_SCOPE, &inv).await?;
        Ok(inv)
    }

    pub async fn cached_image_inventory(&self, connection_id: &str) -> Result<Option<Snapshot<EngineInventory>>> {
        snapshots::get(&self.db, connection_id, INVENTORY_SCOPE).await
    }

    /// Scans one image with the stored policy and keeps the report in the history.
    pub async fn scan(&self, engine: &Engine, image: &str, progress: &(dyn Fn(Progress) + Send + Sync)) -> Result<(i64, ScanReport)> {
        let policy = policy_store::load(&self.db).await?;
        let mut report = scan_image(&engine.docker, &engine.host, &self.db, image, &policy, progress).await?;
        // The team's accepted risks, as CI applies them (issue 15 item 4),
        // before the report is kept: the history, the Fleet and a later
        // re-match see the decision the user saw.
        Box::pin(self.apply_team_suppressions(&mut report, &policy)).await;
        self.keep_scan(engine.connection_id.as_deref(), report).await
    }

    /// Scans one image with a given policy (the CLI's `--policy FILE`).
    pub async fn scan_with(
        &self,
        engine: &Engine,
        image: &str,
        policy: &Policy,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<(i64, ScanReport)> {
        let report = scan_image(&engine.docker, &engine.host, &self.db, image, policy, progress).await?;
        self.keep_scan(engine.connection_id.as_deref(), report).await
    }

    /// Scans several images, at most [`SCAN_CONCURRENCY`] at once; one
    /// failing image does not stop the others.
    pub async fn scan_many(
        &self,
        engine: &Engine,
        images: Vec<(String, Vec<String>)>,
        progress: Arc<dyn Fn(ImageProgress) + Send + Sync>,
    ) -> Vec<ImageOutcome> {
        let total = images.len();
        stream::iter(images.into_iter().enumerate())
            .map(|(index, (image, containers))| {
                let progress = progress.clone();
                async move {
                    let name = image.clone();
                    let report = |p: Progress| progress(ImageProgress { image: name.clone(), index, total, progress: p });
                    match Box::pin(self.scan(engine, &image, &report)).await {
                        Ok((id, r)) => ImageOutcome { scan: Some(summary(id, engine, &r)), error: None, image, containers },
                        Err(e) => ImageOutcome { scan: None, error: Some(e.to_string()), image, containers },
                    }
                }
            })
            .buffered(SCAN_CONCURRENCY)
            .collect()
            .await
    }

    /// Scans the image of every running container of the engine.
    pub async fn scan_running(&self, engine: &Engine, progress: Arc<dyn Fn(ImageProgress) + Send + Sync>) -> Result<Vec<ImageOutcome>> {
        let inv = engine::inventory(&engine.docker, &engine.host).await?;
        Ok(self.scan_many(engine, engine::running_images(&inv), progress).await)
    }

    /// Scans an image file: a `docker save` tarball, an OCI layout folder or
    /// a tarball of one; kept in the history like an engine's scans.
    pub async fn scan_input(
        &self,
        path: &Path,
        platform: &Platform,
        policy: &Policy,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<(i64, ScanReport)> {
        let report = input::scan_path(&self.db, path, platform, policy, progress).await?;
        self.keep_scan(None, report).await
    }

    /// Scans an image on a registry (`client` from [`registry::Client::new`]).
    pub async fn scan_registry_image(
        &self,
        client: &registry::Client,
        connection_id: Option<&str>,
        reference: &registry::Reference,
        platform: &Platform,
        policy: &Policy,
        progress: &(dyn Fn(Progress) + Send + Sync),
    ) -> Result<(i64, ScanReport)> {
        let report = registry::scan_reference(&self.db, client, reference, platform, policy, progress).await?;
        self.keep_scan(connection_id, report).await
    }

    async fn keep_scan(&self, connection_id: Option<&str>, report: ScanReport) -> Result<(i64, ScanReport)> {
        let id = history::save(&self.db, connection_id, &report).await?;
        self.notify_scan(id, &report).await;
        Ok((id, report))
    }

    pub async fn scan_history(&self, image_id: Option<&str>, limit: i64) -> Result<Vec<ScanSummary>> {
        history::list(&self.db, image_id, limit).await
    }

    pub async fn scan_report(&self, id: i64) -> Result<ScanReport> {
        history::get(&self.db, id).await
    }

    pub async fn render_report(&self, id: i64, format: Format) -> Result<String> {
        reports::render(&history::get(&self.db, id).await?, format)
    }

    /// Imports OSV advisories (zip or folder), then re-matches every cached image.
    pub async fn import_advisories(&self, path: &Path) -> Result<AdvisoryUpdate> {
        let shown = path.display().to_string();
        let outcome = async {
            let import = advisories::import_path(&self.db, path).await?;
            let cause = format!("advisories imported from {shown} ({} records)", import.records);
            let note = rematch_all(&self.db, &policy_store::load(&self.db).await?, &cause).await?;
            Ok(AdvisoryUpdate { import, note: note.lines(), rematched: note.rematched })
        }
        .await;
        let detail = outcome.as_ref().map(|u: &AdvisoryUpdate| {
            format!(
                "{} records imported; {} images re-matched, {} changed",
                u.import.records,
                u.rematched.images,
                u.rematched.changes.len()
            )
        });
        self.audit("images", &shown, "advisories.import", detail).await;
        outcome
    }

    pub async fn image_policy(&self) -> Result<Policy> {
        policy_store::load(&self.db).await
    }

    /// Stores the policy and re-assesses cached images with it.
    pub async fn set_image_policy(&self, policy: Policy) -> Result<Rematched> {
        let outcome = async {
            policy_store::store(&self.db, &policy).await?;
            Ok(rematch_all(&self.db, &policy, "image policy changed").await?.rematched)
        }
        .await;
        let detail = outcome.as_ref().map(|r| format!("policy saved; {} images re-assessed", r.images));
        self.audit("images", "image policy", "policy.update", detail).await;
        outcome
    }
}

fn summary(id: i64, engine: &Engine, r: &ScanReport) -> ScanSummary {
    ScanSummary {
        id,
        connection_id: engine.connection_id.clone(),
        image: r.image.clone(),
        image_id: r.image_id.clone(),
        scanned_at: r.scanned_at.clone(),
        decision: r.assessment.verdict.decision.as_str().to_string(),
        risk_score: i64::from(r.assessment.verdict.risk_score),
    }
}

//! Scanning one image on a Docker engine: inspect it, read the layers the
//! cache does not hold from a streamed `docker save`, merge them, list the
//! packages, match advisories, apply the policies, keep the report.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bollard::Docker;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::assess::{assess, Assessment};
use super::image::overlay::Root;
use super::image::save_archive;
use super::layer_cache::{self, LayerRecord};
use super::packages::{Inventory, OsRelease, Package};
use super::policy::{ImageConfig, Policy};
use crate::cache::db::{now_rfc3339, Db};
use crate::connectors::docker::classify;
use crate::connectors::stream::{idle_hint, idle_timeout, stalled, stream_idle, STREAM_IDLE};
use crate::error::{Error, Result};

/// Where a scan is, for progress bars.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename = "ScanProgress", rename_all = "snake_case", tag = "stage")] // ScanProgress in the IPC contract
pub enum Progress {
    Inspecting,
    /// Reading layers from Docker: bytes so far of about `total`.
    Reading {
        bytes: u64,
        total: u64,
        layers_to_read: usize,
        layers_cached: usize,
    },
    Matching {
        packages: usize,
    },
    Done,
}

/// A layer of the image and whether this scan had to read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct LayerUse {
    pub digest: String,
    pub from_cache: bool,
}

/// Everything a scan found; also the stored history entry and the JSON report.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type)]
pub struct ScanReport {
    /// The reference the user asked for (`myapp:1.2`).
    pub image: String,
    pub image_id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub created: Option<String>,
    pub size: Option<i64>,
    pub os: Option<OsRelease>,
    pub config: ImageConfig,
    pub layers: Vec<LayerUse>,
    pub packages: Vec<Package>,
    #[serde(flatten)]
    pub assessment: Assessment,
    /// What the user should know: unreadable databases, refused tar members.
    pub notes: Vec<String>,
    pub scanned_at: String,
    pub duration_ms: u64,
}

/// Scans `image` (name, tag, digest or id) on `docker`.
pub async fn scan_image(
    docker: &Docker,
    host: &str,
    db: &Db,
    image: &str,
    policy: &Policy,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<ScanReport> {
    let started = Instant::now();
    progress(Progress::Inspecting);
    let info = docker.inspect_image(image).await.map_err(|e| match classify(e, host) {
        Error::NotFound(_) => Error::NotFound(format!("image {image} is not on Docker at {host} (docker images lists what is there)")),
        e => e,
    })?;
    let image_id = info.id.clone().unwrap_or_default();
    let digests: Vec<String> = info.root_fs.as_ref().and_then(|r| r.layers.clone()).unwrap_or_default();
    let mut cached = layer_cache::get_many(db, &digests).await?;
    let known: HashSet<String> = cached.keys().cloned().collect();
    let missing = digests.iter().filter(|d| !known.contains(*d)).count();
    let total = info.size.unwrap_or(0).max(0) as u64;
    if missing > 0 {
        progress(Progress::Reading { bytes: 0, total, layers_to_read: missing, layers_cached: known.len() });
        for layer in read_from_docker(docker, host, image, known.clone(), total, missing, progress).await? {
            let record = layer_cache::record_of(layer).await;
            layer_cache::put(db, &record).await?;
            cached.insert(record.digest.clone(), record);
        }
    }
    let mut records: Vec<&LayerRecord> = Vec::with_capacity(digests.len());
    for digest in &digests {
        let record =
            cached.get(digest).ok_or_else(|| Error::Internal(format!("Docker's export of {image} did not contain its layer {digest}")))?;
        records.push(record);
    }
    let mut inventory = Inventory::of(&Root::build(records.iter().copied()));
    for record in &records {
        for r in &record.rejected {
            inventory.notes.push(format!("layer {}: member {:?} refused: {}", short(&record.digest), r.path, r.reason));
        }
    }
    progress(Progress::Matching { packages: inventory.packages.len() });
    let config = image_config(&info);
    let assessment = assess(db, &inventory, &config, policy).await?;
    let report = ScanReport {
        image: image.to_string(),
        image_id,
        repo_tags: info.repo_tags.clone().unwrap_or_default(),
        repo_digests: info.repo_digests.clone().unwrap_or_default(),
        created: info.created.as_ref().map(|c| c.to_string()),
        size: info.size,
        os: inventory.os,
        config,
        layers: digests.iter().map(|d| LayerUse { digest: d.clone(), from_cache: known.contains(d) }).collect(),
        packages: inventory.packages,
        assessment,
        notes: inventory.notes,
        scanned_at: now_rfc3339(),
        duration_ms: started.elapsed().as_millis() as u64,
    };
    progress(Progress::Done);
    Ok(report)
}

/// Streams `docker save` through the layer reader on a blocking thread; the
/// stream is read as it arrives, never held whole. Dropping the future
/// (the user navigated away) closes the stream and ends the thread.
async fn read_from_docker(
    docker: &Docker,
    host: &str,
    image: &str,
    known: HashSet<String>,
    total: u64,
    missing: usize,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Vec<super::image::layer::LayerFiles>> {
    let read = Arc::new(AtomicU64::new(0));
    let counter = read.clone();
    let layers_cached = known.len();
    let cancel = CancelOnDrop(Arc::new(AtomicBool::new(false)));
    let host_owned = host.to_string();
    // The stream's own failure (a cut connection, a stall), kept typed: the
    // tar reader only sees an io::Error, and would call it a corrupt archive.
    let fault: Arc<Mutex<Option<Error>>> = Arc::default();
    let slot = fault.clone();
    let idle = stream_idle();
    let what = format!("Docker at {host}, exporting {image} (docker save)");
    let exported = docker.export_image(image).map_err(move |e| classify(e, &host_owned));
    let stream = idle_timeout(exported, idle, move || {
        let advice = format!(
            "is dockerd frozen, overloaded or waiting on its disk? Check `docker info` on that engine, then scan again {}",
            idle_hint(STREAM_IDLE)
        );
        stalled(what, idle, advice)
    })
    .inspect_ok(move |chunk| {
        counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
    })
    .map_err(move |e: Error| {
        let text = e.to_string();
        if let Ok(mut s) = slot.lock() {
            s.get_or_insert(e);
        }
        std::io::Error::other(text)
    });
    let reader = Cancellable { inner: SyncIoBridge::new(StreamReader::new(Box::pin(stream))), cancelled: cancel.0.clone() };
    let mut task = tokio::task::spawn_blocking(move || save_archive::read_layers(reader, &known));
    loop {
        tokio::select! {
            done = &mut task => {
                let read = done.map_err(|e| Error::Internal(format!("the layer reader stopped: {e}")))?;
                // A remote fault is what went wrong, not the archive it cut short.
                let remote = fault.lock().ok().and_then(|mut s| s.take());
                return read.map_err(|e| remote.unwrap_or(e));
            }
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {
                progress(Progress::Reading { bytes: read.load(Ordering::Relaxed), total, layers_to_read: missing, layers_cached });
            }
        }
    }
}

/// Set when the scan's future is dropped, so the blocking reader stops.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

struct Cancellable<R> {
    inner: R,
    cancelled: Arc<AtomicBool>,
}

impl<R: std::io::Read> std::io::Read for Cancellable<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("scan cancelled"));
        }
        self.inner.read(buf)
    }
}

fn image_config(info: &bollard::models::ImageInspect) -> ImageConfig {
    let c = info.config.as_ref();
    ImageConfig {
        user: c.and_then(|c| c.user.clone()),
        healthcheck: c.and_then(|c| c.healthcheck.as_ref()).and_then(|h| h.test.clone()),
        labels: c.and_then(|c| c.labels.clone()).unwrap_or_default().into_iter().collect(),
    }
}

fn short(digest: &str) -> &str {
    let hex = digest.trim_start_matches("sha256:");
    &hex[..hex.len().min(12)]
}

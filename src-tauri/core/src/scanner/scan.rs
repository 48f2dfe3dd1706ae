//! Scanning one image on a Docker engine: inspect it, read the layers the
//! cache does not hold from a streamed `docker save`, merge them, list the
//! packages, match advisories, apply the policies, keep the report.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bollard::Docker;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::assess::{assess, Assessment};
use super::image::overlay::Root;
use super::image::save_archive;
use super::layer_cache::{self, LayerRecord};
use super::packages::{Inventory, OsRelease, Package};
use super::policy::{ImageConfig, Policy};
use super::provenance::{self, HistoryEntry};
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
    /// The Dockerfile instruction that made it (image history), when known.
    #[serde(default)]
    pub created_by: Option<String>,
    /// Whether it belongs to the base image (see [`provenance`](super::provenance)).
    #[serde(default)]
    pub base: bool,
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

/// What is known of an image before its layers are read: the report's
/// header and its layers' digests (`diff_id`s, uncompressed), bottom first.
/// Every input (an engine, an archive, a layout, a registry) gives one.
#[derive(Debug, Clone, Default)]
pub struct ImageMeta {
    /// The reference the user asked for.
    pub image: String,
    pub image_id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub created: Option<String>,
    pub size: Option<i64>,
    pub config: ImageConfig,
    pub diff_ids: Vec<String>,
    /// The image history, bottom first (an image config's `history`:
    /// `created_by` and `empty_layer`); empty when unknown. Gives each
    /// layer its Dockerfile instruction and the base image boundary.
    pub history: Vec<HistoryEntry>,
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
    let meta = ImageMeta {
        image: image.to_string(),
        image_id: info.id.clone().unwrap_or_default(),
        repo_tags: info.repo_tags.clone().unwrap_or_default(),
        repo_digests: info.repo_digests.clone().unwrap_or_default(),
        created: info.created.as_ref().map(|c| c.to_string()),
        size: info.size,
        config: image_config(&info),
        diff_ids: info.root_fs.as_ref().and_then(|r| r.layers.clone()).unwrap_or_default(),
        history: Vec::new(),
    };
    let meta = ImageMeta { history: engine_history(docker, image, meta.diff_ids.len()).await, ..meta };
    let total = info.size.unwrap_or(0).max(0) as u64;
    let source = format!("Docker's export of {image}");
    assemble(db, meta, &source, policy, progress, started, |known, missing| async move {
        read_from_docker(db, EngineImage { docker, host, image }, known, total, missing, progress).await
    })
    .await
}

/// The rest of a scan once the image's layers are known: the layers the
/// cache lacks are read by `read` (given the cached digests and how many
/// are missing), which caches them ([`store`]) and returns what it read; it
/// may return more layers than asked, or fewer when another scan cached
/// them meanwhile. Then the layers are merged, packages listed, advisories
/// matched, policies applied. `source` names where layers come from. A
/// layer counts as read by this scan (not `from_cache`) when `read` parsed
/// it, cached before or not.
pub async fn assemble<F, Fut>(
    db: &Db,
    meta: ImageMeta,
    source: &str,
    policy: &Policy,
    progress: &(dyn Fn(Progress) + Send + Sync),
    started: Instant,
    read: F,
) -> Result<ScanReport>
where
    F: FnOnce(HashSet<String>, usize) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<LayerRecord>>>,
{
    let digests = &meta.diff_ids;
    let mut cached = layer_cache::get_many(db, digests).await?;
    let known: HashSet<String> = cached.keys().cloned().collect();
    let missing = digests.iter().filter(|d| !known.contains(*d)).count();
    let mut read_now: HashSet<String> = HashSet::new();
    if missing > 0 {
        progress(Progress::Reading {
            bytes: 0,
            total: meta.size.unwrap_or(0).max(0) as u64,
            layers_to_read: missing,
            layers_cached: known.len(),
        });
        for record in read(known.clone(), missing).await? {
            read_now.insert(record.digest.clone());
            cached.insert(record.digest.clone(), record);
        }
        // Layers another scan cached while this one waited for them.
        let absent: Vec<String> = digests.iter().filter(|d| !cached.contains_key(*d)).cloned().collect();
        if !absent.is_empty() {
            cached.extend(layer_cache::get_many(db, &absent).await?);
        }
    }
    let mut records: Vec<&LayerRecord> = Vec::with_capacity(digests.len());
    for digest in digests {
        let record = cached.get(digest).ok_or_else(|| Error::invalid(format!("{source} did not contain the image's layer {digest}")))?;
        records.push(record);
    }
    let mut inventory = Inventory::of(&Root::build(records.iter().copied()));
    let instructions = provenance::instructions(&meta.history, digests.len());
    let base = provenance::base_layers(&meta.history).min(digests.len());
    provenance::attribute(&records, &instructions, base, &mut inventory);
    for record in &records {
        for r in &record.rejected {
            inventory.notes.push(format!("layer {}: member {:?} refused: {}", short(&record.digest), r.path, r.reason));
        }
    }
    progress(Progress::Matching { packages: inventory.packages.len() });
    let assessment = assess(db, &inventory, &meta.config, policy).await?;
    let report = ScanReport {
        layers: digests
            .iter()
            .enumerate()
            .map(|(i, d)| LayerUse {
                digest: d.clone(),
                // Honest about re-reads: a cached layer an input could not
                // skip (parsed again from its stream) counts as read.
                from_cache: !read_now.contains(d),
                created_by: instructions[i].clone(),
                base: i < base,
            })
            .collect(),
        image: meta.image,
        image_id: meta.image_id,
        repo_tags: meta.repo_tags,
        repo_digests: meta.repo_digests,
        created: meta.created,
        size: meta.size,
        os: inventory.os,
        config: meta.config,
        packages: inventory.packages,
        assessment,
        notes: inventory.notes,
        scanned_at: now_rfc3339(),
        duration_ms: started.elapsed().as_millis() as u64,
    };
    progress(Progress::Done);
    Ok(report)
}

/// An image on a Docker engine: the client, the engine's address (for
/// messages) and the image's name.
struct EngineImage<'a> {
    docker: &'a Docker,
    host: &'a str,
    image: &'a str,
}

/// Streams `docker save` through the layer reader on a blocking thread; the
/// stream is read as it arrives, never held whole. Dropping the future
/// (the user navigated away) closes the stream and ends the thread.
///
/// Docker ≤ 24 exports the legacy layout, whose `<v1 id>/layer.tar` names
/// no digest, so a cached layer cannot be told by its name; each folder
/// read is remembered with the layer it held ([`layer_cache::add_legacy_alias`])
/// and a later export only hashes a remembered folder of a cached layer
/// instead of parsing it again. A folder whose bytes are another layer is
/// forgotten and the export read once more without it.
async fn read_from_docker(
    db: &Db,
    engine: EngineImage<'_>,
    known: HashSet<String>,
    total: u64,
    missing: usize,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Vec<LayerRecord>> {
    let mut known = known;
    let mut read = Vec::new();
    // A wrong folder is forgotten on each pass, so a second one finds none.
    for _ in 0..3 {
        let cached: Vec<String> = known.iter().cloned().collect();
        let aliases = layer_cache::legacy_aliases(db, &cached).await?;
        let archive = export_pass(&engine, known.clone(), aliases.clone(), total, missing, progress).await?;
        read.extend(store(db, archive.layers).await?);
        for (folder, digest) in &archive.legacy_read {
            layer_cache::add_legacy_alias(db, digest, folder).await?;
        }
        if archive.legacy_mismatched.is_empty() {
            return Ok(read);
        }
        for folder in &archive.legacy_mismatched {
            if let Some(digest) = aliases.get(folder) {
                layer_cache::remove_legacy_alias(db, digest, folder).await?;
            }
        }
        // Once more for the layers those folders hold, now read in full.
        known.extend(read.iter().map(|r| r.digest.clone()));
    }
    Err(Error::Internal(format!("the export of {} kept naming its layers differently: scan again", engine.image)))
}

/// One streamed `docker save` of the image: the layers not `known` read
/// (a folder in `aliases` only hashed).
async fn export_pass(
    EngineImage { docker, host, image }: &EngineImage<'_>,
    known: HashSet<String>,
    aliases: save_archive::LegacyAliases,
    total: u64,
    missing: usize,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<save_archive::Archive> {
    let layers_cached = known.len();
    let host_owned = host.to_string();
    let idle = stream_idle();
    let what = format!("Docker at {host}, exporting {image} (docker save)");
    let exported = docker.export_image(image).map_err(move |e| classify(e, &host_owned));
    let stream = idle_timeout(exported, idle, move || {
        let advice = format!(
            "is dockerd frozen, overloaded or waiting on its disk? Check `docker info` on that engine, then scan again {}",
            idle_hint(STREAM_IDLE)
        );
        stalled(what, idle, advice)
    });
    let tick = |bytes: u64| progress(Progress::Reading { bytes, total, layers_to_read: missing, layers_cached });
    read_blocking(stream, &tick, move |reader| {
        save_archive::read_archive_reusing(reader, "the image archive from Docker", &|d: &str| known.contains(d), &aliases)
    })
    .await
}

/// Parses freshly read layers for the cache and stores them.
pub async fn store(db: &Db, layers: Vec<super::image::layer::LayerFiles>) -> Result<Vec<LayerRecord>> {
    let mut records = Vec::with_capacity(layers.len());
    for layer in layers {
        let record = layer_cache::record_of(layer).await;
        layer_cache::put(db, &record).await?;
        records.push(record);
    }
    Ok(records)
}

/// Feeds `stream` to `read` on a blocking thread as it arrives (never held
/// whole), calling `tick` with the bytes read so far every 200 ms. A fault
/// of the stream (a cut connection, a stall) is the error, not the
/// truncated data `read` saw. Dropping the future stops the thread.
pub async fn read_blocking<S, B, T>(
    stream: S,
    tick: &(dyn Fn(u64) + Send + Sync),
    read: impl FnOnce(Box<dyn std::io::Read + Send>) -> Result<T> + Send + 'static,
) -> Result<T>
where
    S: futures::Stream<Item = Result<B>> + Send + 'static,
    B: tokio_util::bytes::Buf + Send + 'static,
    T: Send + 'static,
{
    let read_bytes = Arc::new(AtomicU64::new(0));
    let counter = read_bytes.clone();
    let cancel = CancelOnDrop(Arc::new(AtomicBool::new(false)), tokio_util::sync::CancellationToken::new());
    // Dropping the scan (cancelled in the app, Ctrl-C) ends the stream even
    // while the reader waits on a stalled peer: the reader sees its end,
    // stops, and drops the connection (it would wait for the idle timeout).
    let ended = cancel.1.clone();
    let stream = stream.take_until(async move { ended.cancelled_owned().await });
    // The stream's own failure, kept typed: the reader only sees an
    // io::Error, and would call it a corrupt archive.
    let fault: Arc<Mutex<Option<Error>>> = Arc::default();
    let slot = fault.clone();
    let stream = stream
        .inspect_ok(move |chunk| {
            counter.fetch_add(chunk.remaining() as u64, Ordering::Relaxed);
        })
        .map_err(move |e: Error| {
            let text = e.to_string();
            if let Ok(mut s) = slot.lock() {
                s.get_or_insert(e);
            }
            std::io::Error::other(text)
        });
    let reader = Cancellable { inner: SyncIoBridge::new(StreamReader::new(Box::pin(stream))), cancelled: cancel.0.clone() };
    let mut task = tokio::task::spawn_blocking(move || {
        // One budget for everything this scan reads (issue 15 item 9).
        let _budget = super::budget::Scope::enter();
        read(Box::new(reader))
    });
    loop {
        tokio::select! {
            done = &mut task => {
                let read = done.map_err(|e| Error::Internal(format!("the layer reader stopped: {e}")))?;
                // A remote fault is what went wrong, not the archive it cut short.
                let remote = fault.lock().ok().and_then(|mut s| s.take());
                return read.map_err(|e| remote.unwrap_or(e));
            }
            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => tick(read_bytes.load(Ordering::Relaxed)),
        }
    }
}

/// Set when the scan's future is dropped, so the blocking reader stops:
/// the flag fails its next read, the token ends the stream it waits on.
struct CancelOnDrop(Arc<AtomicBool>, tokio_util::sync::CancellationToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
        self.1.cancel();
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

/// The engine's image history (`docker history`) as entries bottom first;
/// empty when the engine does not answer in time (the report then names no
/// instructions, which is all that is lost).
async fn engine_history(docker: &Docker, image: &str, layers: usize) -> Vec<HistoryEntry> {
    match tokio::time::timeout(std::time::Duration::from_secs(30), docker.image_history(image)).await {
        Ok(Ok(items)) => {
            let newest_first: Vec<(Option<String>, i64)> =
                items.into_iter().map(|h| (Some(h.created_by).filter(|c| !c.is_empty()), h.size)).collect();
            provenance::from_engine(&newest_first, layers)
        }
        _ => Vec::new(),
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

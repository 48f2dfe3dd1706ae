//! Scanning an image that is not on an engine: a `docker save` tarball, an
//! OCI image layout directory or a tarball of one (`opsdeck scan --input`).
//! A tarball is read in one streamed pass like the engine's export (layers
//! the cache holds under their digest skipped, never held whole); a layout
//! directory is read blob by blob, only the layers the cache lacks, each
//! checked against its digest. The layers then go the one scan path
//! ([`scan::assemble`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Instant;

use futures::TryStreamExt;
use sha2::{Digest, Sha256};

use super::image::digest::DigestReader;
use super::image::layer::{self, LayerFiles};
use super::image::oci::{self, ConfigDoc, Descriptor, Document, Platform, SaveEntry, MAX_DOCUMENT};
use super::image::save_archive::{self, Archive};
use super::layer_cache;
use super::layer_cache::LayerRecord;
use super::policy::Policy;
use super::registry::client::BlobStream;
use super::scan::{assemble, read_blocking, store, ImageMeta, Progress, ScanReport};
use crate::cache::db::Db;
use crate::error::{Error, ErrorCode, Result};

/// Index nesting followed before giving up (an index of indexes is legal; a loop is not).
const MAX_INDEX_DEPTH: usize = 4;

/// Scans the image in `path`: a tarball (`docker save`, or an OCI layout
/// tarred) or an OCI layout directory. `platform` picks from a multi-platform index.
pub async fn scan_path(
    db: &Db,
    path: &Path,
    platform: &Platform,
    policy: &Policy,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<ScanReport> {
    let started = Instant::now();
    progress(Progress::Inspecting);
    let meta = tokio::fs::metadata(path).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::NotFound(format!("{} does not exist", path.display())),
        _ => Error::invalid(format!("{}: {e}", path.display())),
    })?;
    if meta.is_dir() {
        scan_layout(db, path, platform, policy, progress, started).await
    } else if meta.is_file() {
        scan_tarball(db, path, meta.len(), platform, policy, progress, started).await
    } else {
        Err(Error::invalid(format!("{} is neither a file (an image tarball) nor a folder (an OCI layout)", path.display())))
    }
}

async fn scan_tarball(
    db: &Db,
    path: &Path,
    size: u64,
    platform: &Platform,
    policy: &Policy,
    progress: &(dyn Fn(Progress) + Send + Sync),
    started: Instant,
) -> Result<ScanReport> {
    let shown = path.display().to_string();
    let file = tokio::fs::File::open(path).await.map_err(|e| Error::invalid(format!("{shown}: {e}")))?;
    // Whether a blob named by its digest is cached, asked from the reader's
    // blocking thread (a layer known by the cache is not read).
    let handle = tokio::runtime::Handle::current();
    let cache = db.clone();
    let known = move |digest: &str| {
        let digests = [digest.to_string()];
        handle.block_on(layer_cache::get_many(&cache, &digests)).map(|m| !m.is_empty()).unwrap_or(false)
    };
    let what = format!("the image archive {shown}");
    let tick = |bytes: u64| progress(Progress::Reading { bytes, total: size, layers_to_read: 0, layers_cached: 0 });
    let reading = what.clone();
    let Archive { layers, documents, .. } = if is_plain_tar(path).await {
        // Seekable: the layers the cache holds are seeked over, not read (a
        // legacy `docker save` names them by no digest: see read_archive_file).
        let file = file.into_std().await;
        let read = tokio::task::spawn_blocking(move || {
            let _budget = super::budget::Scope::enter();
            save_archive::read_archive_file(std::io::BufReader::with_capacity(1 << 16, file), &reading, &known)
        });
        let archive = read.await.map_err(|e| Error::Internal(format!("the archive reader stopped: {e}")))??;
        tick(size);
        archive
    } else {
        let name = shown.clone();
        let stream = tokio_util::io::ReaderStream::new(file).map_err(move |e| Error::invalid(format!("reading {name}: {e}")));
        read_blocking(stream, &tick, move |r| save_archive::read_archive(r, &reading, &known)).await?
    };
    let mut meta = resolve_archive(&documents, platform, &what)?;
    meta.image = shown;
    meta.size = Some(i64::try_from(size).unwrap_or(i64::MAX));
    let source = what.clone();
    let wanted: HashSet<String> = meta.diff_ids.iter().cloned().collect();
    // A layer of the archive that is none of the config's is a corrupt or
    // substituted one when a config's layer is then missing.
    let stray: Vec<String> = layers.iter().map(|l| l.digest.clone()).filter(|d| !wanted.contains(d)).collect();
    let report = assemble(db, meta, &source, policy, progress, started, |_, _| async move { store(db, layers).await }).await;
    match report {
        Err(e) if !stray.is_empty() && e.code() == ErrorCode::InvalidInput => Err(Error::invalid(format!(
            "digest mismatch: {what} holds layers ({}) that are not the ones its config lists: the archive is corrupt or was altered ({e})",
            stray.join(", ")
        ))),
        other => other,
    }
}

/// Whether the file at `path` starts with a tar header (`ustar` magic at
/// byte 257): an uncompressed archive, which can be read by seeking.
async fn is_plain_tar(path: &Path) -> bool {
    use tokio::io::AsyncReadExt;
    let mut header = [0u8; 512];
    match tokio::fs::File::open(path).await {
        Ok(mut f) => f.read_exact(&mut header).await.is_ok() && header[257..262] == *b"ustar",
        Err(_) => false,
    }
}

/// The image of an archive: `manifest.json` (what `docker save` writes) or
/// else `index.json` (an OCI layout).
fn resolve_archive(docs: &BTreeMap<String, Vec<u8>>, platform: &Platform, what: &str) -> Result<ImageMeta> {
    if let Some(bytes) = docs.get("manifest.json") {
        let entries: Vec<SaveEntry> =
            serde_json::from_slice(bytes).map_err(|e| Error::invalid(format!("manifest.json of {what} is not docker save's: {e}")))?;
        let Some(entry) = entries.first() else {
            return Err(Error::invalid(format!("manifest.json of {what} lists no image")));
        };
        let config_path = entry.config.trim_start_matches("./");
        let config = docs
            .get(config_path)
            .ok_or_else(|| Error::invalid(format!("{what} lacks the image config {config_path} its manifest.json names")))?;
        let mut meta = meta_of(config, &format!("{config_path} of {what}"))?;
        meta.repo_tags = entry.repo_tags.clone().unwrap_or_default();
        return Ok(meta);
    }
    let index = docs.get("index.json").ok_or_else(|| {
        Error::invalid(format!("{what} is not an image archive: it has neither manifest.json (docker save) nor index.json (OCI layout)"))
    })?;
    let blob = |d: &Descriptor| -> Result<Vec<u8>> {
        let hex = d.digest.strip_prefix("sha256:").filter(|_| oci::is_sha256(&d.digest));
        hex.and_then(|h| docs.get(&format!("blobs/sha256/{h}")))
            .cloned()
            .ok_or_else(|| Error::invalid(format!("{what} lacks the blob {} its index names", d.digest)))
    };
    let (manifest, tags) = pick_manifest(index, platform, what, &blob)?;
    let config_desc = manifest.config.as_ref().ok_or_else(|| Error::invalid(format!("the manifest in {what} has no config")))?;
    let mut meta = meta_of(&blob(config_desc)?, &format!("the config {} of {what}", config_desc.digest))?;
    meta.repo_tags = tags;
    Ok(meta)
}

/// Follows an index (nested at most [`MAX_INDEX_DEPTH`] deep) to the
/// manifest for `platform`; also the reference names the index gives it.
fn pick_manifest(
    top: &[u8],
    platform: &Platform,
    what: &str,
    blob: &dyn Fn(&Descriptor) -> Result<Vec<u8>>,
) -> Result<(Document, Vec<String>)> {
    let mut doc = Document::parse(top, &format!("index.json of {what}"))?;
    let mut tags = Vec::new();
    for _ in 0..MAX_INDEX_DEPTH {
        let Some(entries) = &doc.manifests else {
            return Ok((doc, tags));
        };
        let entry = match entries.as_slice() {
            [only] if only.platform.is_none() => only,
            _ => oci::choose(entries, platform, what)?,
        };
        if let Some(name) = entry.annotations.get("org.opencontainers.image.ref.name").or(entry.annotations.get("io.containerd.image.name"))
        {
            tags.push(name.clone());
        }
        doc = Document::parse(&blob(entry)?, &format!("the manifest {} of {what}", entry.digest))?;
    }
    Err(Error::invalid(format!("{what}: indexes nested more than {MAX_INDEX_DEPTH} deep")))
}

/// The report header from an image config's bytes (its digest is the image id).
pub fn meta_of(config: &[u8], what: &str) -> Result<ImageMeta> {
    let doc = ConfigDoc::parse(config, what)?;
    Ok(ImageMeta {
        image_id: format!("sha256:{}", hex::encode(Sha256::digest(config))),
        created: doc.created.clone(),
        config: doc.image_config(),
        diff_ids: doc.rootfs.diff_ids.clone(),
        history: doc
            .history
            .iter()
            .map(|h| super::provenance::HistoryEntry { created_by: h.created_by.clone(), empty_layer: h.empty_layer })
            .collect(),
        ..ImageMeta::default()
    })
}

async fn scan_layout(
    db: &Db,
    dir: &Path,
    platform: &Platform,
    policy: &Policy,
    progress: &(dyn Fn(Progress) + Send + Sync),
    started: Instant,
) -> Result<ScanReport> {
    let what = format!("the OCI layout {}", dir.display());
    let layout = read_small(&dir.join("oci-layout"), &what).await?;
    let version: serde_json::Value =
        serde_json::from_slice(&layout).map_err(|e| Error::invalid(format!("oci-layout of {what} is not JSON: {e}")))?;
    if version["imageLayoutVersion"] != "1.0.0" {
        return Err(Error::Unsupported(format!("{what} has imageLayoutVersion {}; 1.0.0 is read", version["imageLayoutVersion"])));
    }
    let index = read_small(&dir.join("index.json"), &what).await?;
    // Manifests and configs are small: read them first, then the layers.
    let mut blobs: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut wanted: Vec<Descriptor> = Vec::new();
    let mut top = Document::parse(&index, &format!("index.json of {what}"))?;
    for _ in 0..=MAX_INDEX_DEPTH {
        match &top.manifests {
            Some(entries) => {
                let entry = match entries.as_slice() {
                    [only] if only.platform.is_none() => only.clone(),
                    _ => oci::choose(entries, platform, &what)?.clone(),
                };
                let bytes = read_small(&blob_path(dir, &entry.digest, &what)?, &what).await?;
                DigestReader::new(&bytes[..]).check_all(&entry.digest, &format!("the manifest {} of {what}", entry.digest))?;
                top = Document::parse(&bytes, &format!("the manifest {} of {what}", entry.digest))?;
                blobs.insert(entry.digest.clone(), bytes);
            }
            None => {
                wanted = top.layers.clone().unwrap_or_default();
                break;
            }
        }
    }
    let config_desc =
        top.config.clone().ok_or_else(|| Error::invalid(format!("{what}: indexes nested too deep or a manifest without config")))?;
    let config = read_small(&blob_path(dir, &config_desc.digest, &what)?, &what).await?;
    DigestReader::new(&config[..]).check_all(&config_desc.digest, &format!("the config {} of {what}", config_desc.digest))?;
    let mut meta = meta_of(&config, &format!("the config of {what}"))?;
    meta.image = dir.display().to_string();
    meta.size = Some(wanted.iter().map(|l| l.size.max(0)).sum());
    if wanted.len() != meta.diff_ids.len() {
        return Err(Error::invalid(format!(
            "{what}: the manifest lists {} layers and the config {}: not one image",
            wanted.len(),
            meta.diff_ids.len()
        )));
    }
    let layers: Vec<(Descriptor, String)> = wanted.into_iter().zip(meta.diff_ids.clone()).collect();
    let total = meta.size.unwrap_or(0).max(0) as u64;
    let source = what.clone();
    let open = |d: Descriptor| {
        let path = blob_path(dir, &d.digest, &what);
        async move {
            let path = path?;
            let file = tokio::fs::File::open(&path).await.map_err(|e| Error::invalid(format!("blob {}: {e}", path.display())))?;
            let shown = path.display().to_string();
            let stream: BlobStream =
                Box::pin(tokio_util::io::ReaderStream::new(file).map_err(move |e| Error::invalid(format!("reading blob {shown}: {e}"))));
            Ok(stream)
        }
    };
    let read = |known: HashSet<String>, missing: usize| async move {
        read_blob_layers(db, layers, &known, missing, total, &open, ErrorCode::InvalidInput, progress).await
    };
    assemble(db, meta, &source, policy, progress, started, read).await
}

/// Layers being read now, by `diff_id`: a second scan wanting one waits for
/// the first to cache it instead of reading it again (fleet scans).
static IN_FLIGHT: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = LazyLock::new(Mutex::default);

/// Reads the layers (descriptor, config `diff_id`) the cache lacks, one
/// after the other, each streamed from `open` and checked against both
/// digests (a mismatch is of class `code`), and caches each as soon as it is
/// read; returns what it read.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn read_blob_layers<O, Fut>(
    db: &Db,
    layers: Vec<(Descriptor, String)>,
    known: &HashSet<String>,
    missing: usize,
    total: u64,
    open: &O,
    code: ErrorCode,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Vec<LayerRecord>>
where
    O: Fn(Descriptor) -> Fut,
    Fut: std::future::Future<Output = Result<BlobStream>>,
{
    let mut done: u64 = 0;
    let mut read = Vec::new();
    for (desc, diff_id) in layers.into_iter().filter(|(_, d)| !known.contains(d)) {
        if let Some(media) = &desc.media_type {
            if media.contains("zstd") {
                return Err(Error::Unsupported(format!(
                    "layer {} is zstd-compressed ({media}); gzip and plain tar layers are read",
                    desc.digest
                )));
            }
        }
        let gate = {
            let mut map = IN_FLIGHT.lock().map_err(|_| Error::Internal("layer lock poisoned".into()))?;
            map.entry(diff_id.clone()).or_default().clone()
        };
        let reading = gate.lock().await;
        if layer_cache::get_many(db, std::slice::from_ref(&diff_id)).await?.is_empty() {
            let stream = open(desc.clone()).await?;
            let before = done;
            let tick = |bytes: u64| {
                progress(Progress::Reading { bytes: before + bytes, total, layers_to_read: missing, layers_cached: known.len() })
            };
            let what = format!("layer {}", desc.digest);
            let (digest, id) = (desc.digest.clone(), diff_id.clone());
            let layer = read_blocking(stream, &tick, move |r| verified_layer(r, &digest, &id, &what, code)).await?;
            read.extend(store(db, vec![layer]).await?);
            done += desc.size.max(0) as u64;
        }
        drop(reading);
        if let Ok(mut map) = IN_FLIGHT.lock() {
            if map.get(&diff_id).is_some_and(|g| Arc::strong_count(g) <= 2) {
                map.remove(&diff_id);
            }
        }
    }
    Ok(read)
}

/// Reads one layer blob, checking it against its descriptor's digest (the
/// compressed bytes) and the config's `diff_id` (the tar inside). A
/// mismatch is an error of class `code`, and the layer is not kept.
pub fn verified_layer(reader: impl std::io::Read, digest: &str, diff_id: &str, what: &str, code: ErrorCode) -> Result<LayerFiles> {
    let mut raw = DigestReader::new(reader);
    let layer = layer::read(&mut raw, what);
    // The rest of the blob either way: a blob that is not what it is named is
    // the cause, whatever its bytes did to the tar or gzip reader.
    let drained = std::io::copy(&mut raw, &mut std::io::sink());
    if let Some(m) = raw.mismatch(digest, what) {
        return Err(m.into_error(code));
    }
    let layer = layer?;
    drained.map_err(|e| Error::invalid(format!("{what} is truncated: {e}")))?;
    if layer.digest != diff_id {
        let m = super::image::digest::DigestMismatch {
            what: format!("the uncompressed tar of {what} (the config's diff_id)"),
            expected: diff_id.to_string(),
            actual: layer.digest.clone(),
            bytes: raw.read_count(),
        };
        return Err(m.into_error(code));
    }
    Ok(layer)
}

/// The file of blob `digest` in layout `dir`; only a sha256 digest names one
/// (anything else could be a path out of the layout).
fn blob_path(dir: &Path, digest: &str, what: &str) -> Result<PathBuf> {
    if !oci::is_sha256(digest) {
        return Err(Error::invalid(format!("{what} names a blob {digest:?}: only sha256:<64 hex digits> is read")));
    }
    Ok(dir.join("blobs/sha256").join(digest.trim_start_matches("sha256:")))
}

/// A JSON file of the layout, at most [`MAX_DOCUMENT`] bytes.
async fn read_small(path: &Path, what: &str) -> Result<Vec<u8>> {
    let meta = tokio::fs::symlink_metadata(path).await.map_err(|e| Error::invalid(format!("{what}: {}: {e}", path.display())))?;
    if !meta.is_file() || meta.len() > MAX_DOCUMENT {
        return Err(Error::invalid(format!("{what}: {} is not a regular file of at most {MAX_DOCUMENT} bytes", path.display())));
    }
    tokio::fs::read(path).await.map_err(|e| Error::invalid(format!("{what}: {}: {e}", path.display())))
}

impl<R: std::io::Read> DigestReader<R> {
    /// Reads to the end and checks the digest (for documents held in memory).
    fn check_all(mut self, expected: &str, what: &str) -> Result<()> {
        std::io::copy(&mut self, &mut std::io::sink()).map_err(|e| Error::invalid(format!("{what}: {e}")))?;
        self.check(expected, what)
    }
}

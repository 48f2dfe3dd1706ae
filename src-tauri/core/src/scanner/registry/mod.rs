//! Images on a registry speaking the Distribution (v2) API: the manifest
//! (an index followed to the platform asked for), the config, and only the
//! layers the cache lacks, each streamed and checked against its digest.

pub mod client;
pub mod reference;
pub mod saved;

use std::collections::HashSet;
use std::time::Instant;

pub use client::{Client, Endpoint};
pub use reference::Reference;

use super::image::oci::{self, Descriptor, Document, Platform, MAX_DOCUMENT};
use super::input::{meta_of, read_blob_layers};
use super::policy::Policy;
use super::scan::{assemble, Progress, ScanReport};
use crate::cache::db::Db;
use crate::error::{Error, ErrorCode, Result};

/// Index nesting followed before giving up.
const MAX_INDEX_DEPTH: usize = 4;

/// The manifest of `reference` for `platform`, and its digest.
pub async fn resolve(client: &Client, reference: &Reference, platform: &Platform) -> Result<(Document, String)> {
    let mut at = reference.manifest_ref().to_string();
    for _ in 0..=MAX_INDEX_DEPTH {
        let (bytes, _, digest) = client.manifest(&reference.repository, &at).await?;
        let doc = Document::parse(&bytes, &format!("the manifest {}@{digest}", reference.repository))?;
        match &doc.manifests {
            None => return Ok((doc, digest)),
            Some(entries) => {
                let entry = oci::choose(entries, platform, &reference.to_string())?;
                if !oci::is_sha256(&entry.digest) {
                    return Err(Error::Unsupported(format!("{reference}: index entry digest {} is not sha256", entry.digest)));
                }
                at = entry.digest.clone();
            }
        }
    }
    Err(Error::invalid(format!("{reference}: indexes nested more than {MAX_INDEX_DEPTH} deep")))
}

/// Scans `reference` on the registry of `client`.
pub async fn scan_reference(
    db: &Db,
    client: &Client,
    reference: &Reference,
    platform: &Platform,
    policy: &Policy,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<ScanReport> {
    let started = Instant::now();
    progress(Progress::Inspecting);
    let (manifest, manifest_digest) = resolve(client, reference, platform).await?;
    let config_desc = manifest.config.clone().ok_or_else(|| Error::invalid(format!("the manifest of {reference} has no config")))?;
    if !oci::is_sha256(&config_desc.digest) {
        return Err(Error::Unsupported(format!("{reference}: config digest {} is not sha256", config_desc.digest)));
    }
    let config = client.small_blob(&reference.repository, &config_desc.digest, MAX_DOCUMENT).await?;
    let mut meta = meta_of(&config, &format!("the config of {reference}"))?;
    let wanted: Vec<Descriptor> = manifest.layers.clone().unwrap_or_default();
    if wanted.len() != meta.diff_ids.len() {
        return Err(Error::invalid(format!(
            "{reference}: the manifest lists {} layers and the config {}: not one image",
            wanted.len(),
            meta.diff_ids.len()
        )));
    }
    if let Some(bad) = wanted.iter().find(|d| !oci::is_sha256(&d.digest)) {
        return Err(Error::Unsupported(format!("{reference}: layer digest {} is not sha256", bad.digest)));
    }
    meta.image = reference.to_string();
    meta.repo_tags = reference.tag.iter().map(|t| format!("{}/{}:{t}", reference.registry, reference.repository)).collect();
    meta.repo_digests = vec![format!("{}/{}@{manifest_digest}", reference.registry, reference.repository)];
    meta.size = Some(wanted.iter().map(|l| l.size.max(0)).sum());
    let total = meta.size.unwrap_or(0).max(0) as u64;
    let layers: Vec<(Descriptor, String)> = wanted.into_iter().zip(meta.diff_ids.clone()).collect();
    let repository = reference.repository.clone();
    let open = |d: Descriptor| {
        let repository = repository.clone();
        async move { client.blob(&repository, &d.digest).await }
    };
    let read = |known: HashSet<String>, missing: usize| async move {
        read_blob_layers(db, layers, &known, missing, total, &open, ErrorCode::Protocol, progress).await
    };
    let source = format!("the registry's {reference}");
    assemble(db, meta, &source, policy, progress, started, read).await
}

//! Layers already read, by digest: their wanted files parsed (OS, packages),
//! whiteouts and refused members. A rescan, or another image sharing layers,
//! finds them here instead of reading them from Docker again; a new advisory
//! database re-matches from here without Docker at all.

use std::collections::HashMap;

use super::image::layer::LayerFiles;
use super::packages::Parsed;
use crate::cache::db::{now_rfc3339, Db};
use crate::error::{Error, Result};

/// A cached layer.
pub type LayerRecord = LayerFiles<Parsed>;

/// The cached records among `digests` (missing ones are absent from the map;
/// a record that no longer parses counts as missing and is read again).
pub async fn get_many(db: &Db, digests: &[String]) -> Result<HashMap<String, LayerRecord>> {
    let mut found = HashMap::new();
    for digest in digests {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT record_json FROM layer_cache WHERE digest = ?").bind(digest).fetch_optional(db.pool()).await?;
        let record = row.and_then(|(json,)| serde_json::from_str::<LayerRecord>(&json).ok());
        // A layer read before language packages were catalogued is read again.
        if let Some(record) = record.filter(|r| r.catalogue >= super::image::layer::CATALOGUE) {
            found.insert(digest.clone(), record);
        }
    }
    Ok(found)
}

pub async fn put(db: &Db, record: &LayerRecord) -> Result<()> {
    let json = serde_json::to_string(record).map_err(|e| Error::Internal(format!("cannot serialise layer {}: {e}", record.digest)))?;
    sqlx::query("INSERT OR REPLACE INTO layer_cache (digest, record_json, cached_at) VALUES (?, ?, ?)")
        .bind(&record.digest)
        .bind(json)
        .bind(now_rfc3339())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Legacy `docker save` folders kept per cached layer (a layer in many
/// images' exports has one folder per image it tops, and one below them).
const MAX_LEGACY_ALIASES: usize = 32;

/// The legacy export folders known for the cached layers among `digests`
/// (folder → diff_id; see [`LegacyAliases`](super::image::save_archive::LegacyAliases)).
/// They live in the layer's row beside its record (`$.legacy_folders`,
/// which reading the record ignores), so they go when the layer goes.
pub async fn legacy_aliases(db: &Db, digests: &[String]) -> Result<HashMap<String, String>> {
    let mut aliases = HashMap::new();
    for digest in digests {
        for folder in legacy_folders(db, digest).await? {
            aliases.insert(folder, digest.clone());
        }
    }
    Ok(aliases)
}

async fn legacy_folders(db: &Db, digest: &str) -> Result<Vec<String>> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT json_extract(record_json, '$.legacy_folders') FROM layer_cache WHERE digest = ?")
            .bind(digest)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.and_then(|(json,)| json).and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default())
}

async fn set_legacy_folders(db: &Db, digest: &str, folders: &[String]) -> Result<()> {
    let json = serde_json::to_string(folders).map_err(|e| Error::Internal(format!("legacy folders of {digest}: {e}")))?;
    sqlx::query("UPDATE layer_cache SET record_json = json_set(record_json, '$.legacy_folders', json(?)) WHERE digest = ?")
        .bind(json)
        .bind(digest)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Remembers that the legacy export folder `folder` held layer `digest`
/// (its bytes were read and hashed to it); the oldest goes past the cap.
pub async fn add_legacy_alias(db: &Db, digest: &str, folder: &str) -> Result<()> {
    let mut folders = legacy_folders(db, digest).await?;
    if folders.iter().any(|f| f == folder) {
        return Ok(());
    }
    folders.push(folder.to_string());
    let from = folders.len().saturating_sub(MAX_LEGACY_ALIASES);
    set_legacy_folders(db, digest, &folders[from..]).await
}

/// Forgets `folder` as a name of `digest` (its bytes were another layer's).
pub async fn remove_legacy_alias(db: &Db, digest: &str, folder: &str) -> Result<()> {
    let folders: Vec<String> = legacy_folders(db, digest).await?.into_iter().filter(|f| f != folder).collect();
    set_legacy_folders(db, digest, &folders).await
}

/// Number of cached layers (shown in the UI, used by tests).
pub async fn count(db: &Db) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM layer_cache").fetch_one(db.pool()).await?)
}

/// Parses the raw wanted files of a freshly read layer for the cache.
pub async fn record_of(layer: LayerFiles) -> LayerRecord {
    use super::image::layer::Node;
    let mut nodes = std::collections::BTreeMap::new();
    for (path, node) in layer.nodes {
        let parsed = match node {
            Node::File(bytes) => Node::File(super::packages::parse_file(&path, &bytes).await),
            Node::Symlink(t) => Node::Symlink(t),
        };
        nodes.insert(path, parsed);
    }
    LayerFiles {
        digest: layer.digest,
        nodes,
        whiteouts: layer.whiteouts,
        opaque_dirs: layer.opaque_dirs,
        replaced: layer.replaced,
        rejected: layer.rejected,
        lang: layer.lang,
        catalogue: layer.catalogue,
    }
}

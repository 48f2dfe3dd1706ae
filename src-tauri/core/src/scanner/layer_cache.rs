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

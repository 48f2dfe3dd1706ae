//! Cached inventory snapshots: the last payload fetched per connection and
//! scope, with its fetch time, so a view can render before the network answers.

use serde::{de::DeserializeOwned, Serialize};

use super::db::{now_rfc3339, Db};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct Snapshot<T> {
    pub fetched_at: String,
    pub payload: T,
}

pub async fn put<T: Serialize>(db: &Db, connection_id: &str, scope: &str, payload: &T) -> Result<()> {
    let json = serde_json::to_string(payload).map_err(|e| Error::Internal(format!("cannot serialise the {scope} snapshot: {e}")))?;
    sqlx::query(
        "INSERT INTO inventory_snapshots (connection_id, scope, fetched_at, payload_json)
         VALUES (?, ?, ?, ?)
         ON CONFLICT(connection_id, scope) DO UPDATE
         SET fetched_at = excluded.fetched_at, payload_json = excluded.payload_json",
    )
    .bind(connection_id)
    .bind(scope)
    .bind(now_rfc3339())
    .bind(json)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The cached snapshot, or `None` when there is none or it no longer parses
/// (a cache is never a reason to fail).
pub async fn get<T: DeserializeOwned>(db: &Db, connection_id: &str, scope: &str) -> Result<Option<Snapshot<T>>> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT fetched_at, payload_json FROM inventory_snapshots WHERE connection_id = ? AND scope = ?")
            .bind(connection_id)
            .bind(scope)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.and_then(|(fetched_at, json)| serde_json::from_str(&json).ok().map(|payload| Snapshot { fetched_at, payload })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_replaces_and_cascade_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("s.db")).await.unwrap();
        sqlx::query("INSERT INTO connections (id, name, kind, spec_json, created_at, updated_at) VALUES ('c1','n','etcd','{}','t','t')")
            .execute(db.pool())
            .await
            .unwrap();
        put(&db, "c1", "inventory", &vec![1, 2]).await.unwrap();
        put(&db, "c1", "inventory", &vec![3]).await.unwrap();
        let s: Snapshot<Vec<i32>> = get(&db, "c1", "inventory").await.unwrap().unwrap();
        assert_eq!(s.payload, vec![3]);
        assert!(get::<Vec<String>>(&db, "c1", "inventory").await.unwrap().is_none(), "type mismatch is a miss");
        sqlx::query("DELETE FROM connections WHERE id='c1'").execute(db.pool()).await.unwrap();
        assert!(get::<Vec<i32>>(&db, "c1", "inventory").await.unwrap().is_none());
    }
}

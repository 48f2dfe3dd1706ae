//! SQLite persistence of connection profiles (no secrets: only a keychain reference).

use sqlx::Row;

use super::model::{Connection, ConnectionSpec, TestOutcome};
use crate::cache::db::{now_rfc3339, Db};
use crate::error::{Error, Result};

/// A stored profile plus the keychain reference the UI never sees.
#[derive(Debug, Clone)]
pub struct StoredConnection {
    pub connection: Connection,
    pub secret_ref: Option<String>,
}

macro_rules! select_connections {
    ($rest:literal) => {
        concat!("SELECT id, name, spec_json, secret_ref, created_at, updated_at, last_test_json FROM connections ", $rest)
    };
}

fn from_row(r: sqlx::sqlite::SqliteRow) -> Result<StoredConnection> {
    let id: String = r.get(0);
    let spec_json: String = r.get(2);
    let spec: ConnectionSpec =
        serde_json::from_str(&spec_json).map_err(|e| Error::Storage(format!("connection {id} has an unreadable profile: {e}")))?;
    let secret_ref: Option<String> = r.get(3);
    let last_test: Option<String> = r.get(6);
    Ok(StoredConnection {
        connection: Connection {
            id,
            name: r.get(1),
            spec,
            has_secret: secret_ref.is_some(),
            created_at: r.get(4),
            updated_at: r.get(5),
            last_test: last_test.and_then(|j| serde_json::from_str(&j).ok()),
        },
        secret_ref,
    })
}

pub async fn list(db: &Db) -> Result<Vec<StoredConnection>> {
    let rows = sqlx::query(select_connections!("ORDER BY name COLLATE NOCASE")).fetch_all(db.pool()).await?;
    rows.into_iter().map(from_row).collect()
}

pub async fn get(db: &Db, id: &str) -> Result<StoredConnection> {
    let row = sqlx::query(select_connections!("WHERE id = ?")).bind(id).fetch_optional(db.pool()).await?;
    match row {
        Some(r) => from_row(r),
        None => Err(Error::NotFound(format!("no connection with id {id}"))),
    }
}

pub async fn find_by_name(db: &Db, name: &str) -> Result<StoredConnection> {
    let row = sqlx::query(select_connections!("WHERE name = ? COLLATE NOCASE")).bind(name).fetch_optional(db.pool()).await?;
    match row {
        Some(r) => from_row(r),
        None => Err(Error::NotFound(format!("no connection named \"{name}\""))),
    }
}

fn map_unique(e: sqlx::Error, name: &str) -> Error {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            Error::invalid(format!("name: a connection named \"{name}\" already exists"))
        }
        _ => e.into(),
    }
}

pub async fn insert(db: &Db, id: &str, name: &str, spec: &ConnectionSpec, secret_ref: Option<&str>) -> Result<()> {
    let now = now_rfc3339();
    let spec_json = serde_json::to_string(spec).map_err(|e| Error::Internal(e.to_string()))?;
    sqlx::query(
        "INSERT INTO connections (id, name, kind, spec_json, secret_ref, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(name)
    .bind(spec.kind().as_str())
    .bind(spec_json)
    .bind(secret_ref)
    .bind(&now)
    .bind(&now)
    .execute(db.pool())
    .await
    .map_err(|e| map_unique(e, name))?;
    Ok(())
}

/// Updates the profile; a changed spec clears the last test result (it tested something else).
pub async fn update(db: &Db, id: &str, name: &str, spec: &ConnectionSpec, secret_ref: Option<&str>) -> Result<()> {
    let spec_json = serde_json::to_string(spec).map_err(|e| Error::Internal(e.to_string()))?;
    let done = sqlx::query(
        "UPDATE connections SET name = ?, kind = ?, spec_json = ?, secret_ref = ?, updated_at = ?,
             last_test_json = CASE WHEN spec_json = ? THEN last_test_json ELSE NULL END
         WHERE id = ?",
    )
    .bind(name)
    .bind(spec.kind().as_str())
    .bind(&spec_json)
    .bind(secret_ref)
    .bind(now_rfc3339())
    .bind(&spec_json)
    .bind(id)
    .execute(db.pool())
    .await
    .map_err(|e| map_unique(e, name))?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("no connection with id {id}")));
    }
    Ok(())
}

pub async fn set_last_test(db: &Db, id: &str, outcome: &TestOutcome) -> Result<()> {
    let json = serde_json::to_string(outcome).map_err(|e| Error::Internal(e.to_string()))?;
    sqlx::query("UPDATE connections SET last_test_json = ? WHERE id = ?").bind(json).bind(id).execute(db.pool()).await?;
    Ok(())
}

pub async fn delete(db: &Db, id: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM connections WHERE id = ?").bind(id).execute(db.pool()).await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("no connection with id {id}")));
    }
    Ok(())
}

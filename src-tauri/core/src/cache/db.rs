//! The local SQLite database: one file in the data directory, WAL journal,
//! migrations embedded in the binary and applied at open.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::error::{Error, Result};

/// Makes the data directory readable by its owner only (0700): it holds the
/// audit log, the cache and the connection profiles.
/// A shared directory (sticky bit, like /tmp) given as the data directory
/// is left alone, with a warning.
#[cfg(unix)]
fn private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir)
        .map_err(|e| Error::Storage(format!("cannot read the data directory {}: {e}", dir.display())))?
        .permissions()
        .mode();
    if mode & 0o1000 != 0 {
        tracing::warn!(dir = %dir.display(), "the data directory is a shared directory (sticky bit): not made private; choose a directory of your own");
        return Ok(());
    }
    if mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Error::Storage(format!("cannot make the data directory {} private (0700): {e}", dir.display())))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_dir(_dir: &Path) -> Result<()> {
    Ok(())
}

/// A handle on the local database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: SqlitePool,
    path: PathBuf,
}

impl Db {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub async fn open(path: &Path) -> Result<Db> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::Storage(format!("cannot create the data directory {}: {e}", dir.display())))?;
            private_dir(dir)?;
        }
        // Processes opening the database at once (the app and the CLI, or two
        // CLI calls) take turns, under an exclusive file lock next to it, for
        // what must happen once: creating the file, switching it to WAL (SQLite
        // answers "database is locked" there without waiting for the busy
        // timeout) and running the migrations. The lock is held for the open only.
        let lock_path = path.with_extension("migrate-lock");
        let lock = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
            let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path)?;
            f.lock()?;
            Ok(f)
        })
        .await
        .map_err(|e| Error::Storage(format!("waiting for the database lock: {e}")))?
        .map_err(|e| Error::Storage(format!("cannot lock {} to open it: {e}", path.display())))?;
        let url = format!("sqlite://{}", path.display());
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| Error::Storage(format!("cannot open {}: {e}", path.display())))?;
        let migrated = sqlx::migrate!("./migrations").run(&pool).await;
        drop(lock);
        migrated?;
        Ok(Db { pool, path: path.to_path_buf() })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the WAL into the main file (used before copying or inspecting the file).
    pub async fn checkpoint(&self) -> Result<()> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Current time as RFC 3339 (UTC), the format of every timestamp column.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_with_wal_and_migrations() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("sub/opsdeck.db")).await.unwrap();
        let mode: (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(db.pool()).await.unwrap();
        assert_eq!(mode.0, "wal");
        let tables: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").fetch_all(db.pool()).await.unwrap();
        let names: Vec<&str> = tables.iter().map(|t| t.0.as_str()).collect();
        for t in ["audit_log", "connections", "inventory_snapshots", "settings"] {
            assert!(names.contains(&t), "missing table {t} in {names:?}");
        }
        // Re-opening an existing database applies no migration twice.
        db.close().await;
        Db::open(&dir.path().join("sub/opsdeck.db")).await.unwrap();
    }
}

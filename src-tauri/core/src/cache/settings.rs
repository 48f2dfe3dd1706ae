//! User settings (theme, language), one row per key; and the settings rows
//! that hold one JSON document each (the image policy, the VM workspace's
//! settings).

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::db::Db;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Settings {
    /// `system`, `light` or `dark`.
    pub theme: String,
    /// `en` or `zh-CN`.
    pub language: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { theme: "system".into(), language: "en".into() }
    }
}

impl Settings {
    pub fn validate(&self) -> Result<()> {
        if !matches!(self.theme.as_str(), "system" | "light" | "dark") {
            return Err(Error::invalid("theme: system, light or dark"));
        }
        if !matches!(self.language.as_str(), "en" | "zh-CN") {
            return Err(Error::invalid("language: en or zh-CN"));
        }
        Ok(())
    }
}

pub async fn load(db: &Db) -> Result<Settings> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT key, value FROM settings").fetch_all(db.pool()).await?;
    let mut s = Settings::default();
    for (k, v) in rows {
        match k.as_str() {
            "theme" => s.theme = v,
            "language" => s.language = v,
            _ => {}
        }
    }
    // A value written by a newer version that this one does not know falls back.
    if s.validate().is_err() {
        s = Settings::default();
    }
    Ok(s)
}

pub async fn store(db: &Db, s: &Settings) -> Result<()> {
    s.validate()?;
    let mut tx = db.pool().begin().await?;
    for (k, v) in [("theme", &s.theme), ("language", &s.language)] {
        sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(k)
            .bind(v)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The JSON document in settings row `key`; `None` when there is none or it
/// no longer parses (written by another version), so the caller's defaults apply.
pub async fn load_json<T: DeserializeOwned>(db: &Db, key: &str) -> Result<Option<T>> {
    let json: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = ?").bind(key).fetch_optional(db.pool()).await?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

/// Writes `value` as the JSON document of settings row `key`; returns the JSON written.
pub async fn store_json<T: Serialize>(db: &Db, key: &str, value: &T) -> Result<String> {
    let json = serde_json::to_string(value).map_err(|e| Error::Internal(format!("settings {key}: {e}")))?;
    sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(&json)
        .execute(db.pool())
        .await?;
    Ok(json)
}

//! The image policy, stored as one settings row (`image_policy`, JSON).

use super::policy::Policy;
use crate::cache::db::Db;
use crate::error::Result;

const KEY: &str = "image_policy";

/// The stored policy, or the defaults (also when a stored one no longer parses).
pub async fn load(db: &Db) -> Result<Policy> {
    let json: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = ?").bind(KEY).fetch_optional(db.pool()).await?;
    Ok(json.and_then(|j| serde_json::from_str::<Policy>(&j).ok()).filter(|p| p.validate().is_ok()).unwrap_or_default())
}

pub async fn store(db: &Db, policy: &Policy) -> Result<()> {
    policy.validate()?;
    let json = serde_json::to_string(policy).map_err(|e| crate::error::Error::Internal(format!("policy: {e}")))?;
    sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").bind(KEY).bind(json).execute(db.pool()).await?;
    Ok(())
}

//! The image policy, stored as one settings row (`image_policy`, JSON).

use super::policy::Policy;
use crate::cache::db::Db;
use crate::cache::settings;
use crate::error::Result;

const KEY: &str = "image_policy";

/// The stored policy, or the defaults (also when a stored one no longer parses).
pub async fn load(db: &Db) -> Result<Policy> {
    Ok(settings::load_json::<Policy>(db, KEY).await?.filter(|p| p.validate().is_ok()).unwrap_or_default())
}

pub async fn store(db: &Db, policy: &Policy) -> Result<()> {
    policy.validate()?;
    settings::store_json(db, KEY, policy).await?;
    Ok(())
}

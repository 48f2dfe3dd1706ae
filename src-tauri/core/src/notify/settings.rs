//! The notification settings: one settings row (JSON) with the channels,
//! the subscriptions and the retry policy. No secret: an SMTP password is in
//! the keychain, under [`password_account`].

use serde::{Deserialize, Serialize};

use super::channels::Channel;
use super::subscriptions::Subscription;
use crate::cache::{settings, Db};
use crate::error::{Error, Result};

const KEY: &str = "notify_settings";

/// How often and how long a notification is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RetryPolicy {
    /// Deliveries tried before the notification is `failed`.
    pub max_attempts: u32,
    /// Wait after the first failure; doubled after each next one.
    pub backoff_base_ms: u64,
    /// The longest wait between two tries.
    pub backoff_max_ms: u64,
}

impl Default for RetryPolicy {
    /// 30 s, 1, 2, 4 … minutes up to an hour between tries; 12 tries span about 6 hours.
    fn default() -> Self {
        RetryPolicy { max_attempts: 12, backoff_base_ms: 30_000, backoff_max_ms: 3_600_000 }
    }
}

impl RetryPolicy {
    /// The wait before try `attempts + 1`, after `attempts` failed ones.
    pub fn backoff_ms(&self, attempts: u32) -> u64 {
        let shift = attempts.saturating_sub(1).min(30);
        self.backoff_base_ms.saturating_mul(1u64 << shift).min(self.backoff_max_ms)
    }

    pub fn validate(&self) -> Result<()> {
        if !(1..=100).contains(&self.max_attempts) {
            return Err(Error::invalid("retry: 1 to 100 attempts"));
        }
        if self.backoff_base_ms < 10 || self.backoff_max_ms < self.backoff_base_ms || self.backoff_max_ms > 86_400_000 {
            return Err(Error::invalid("retry: backoff from 10 ms, the longest wait at least the first and at most a day"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, specta::Type)]
pub struct NotifySettings {
    #[serde(default)]
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub subscriptions: Vec<Subscription>,
    #[serde(default)]
    pub retry: RetryPolicy,
}

impl NotifySettings {
    pub fn channel(&self, id_or_name: &str) -> Result<&Channel> {
        self.channels
            .iter()
            .find(|c| c.id == id_or_name)
            .or_else(|| self.channels.iter().find(|c| c.name == id_or_name))
            .ok_or_else(|| Error::NotFound(format!("no notification channel \"{id_or_name}\" (opsdeck notify channels)")))
    }
}

/// The keychain account of a channel's password.
pub fn password_account(channel_id: &str) -> String {
    format!("notify/{channel_id}")
}

pub async fn load(db: &Db) -> Result<NotifySettings> {
    Ok(settings::load_json(db, KEY).await?.unwrap_or_default())
}

pub async fn store(db: &Db, s: &NotifySettings) -> Result<()> {
    s.retry.validate()?;
    settings::store_json(db, KEY, s).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy { max_attempts: 10, backoff_base_ms: 100, backoff_max_ms: 1000 };
        let waits: Vec<u64> = (1..=6).map(|n| p.backoff_ms(n)).collect();
        assert_eq!(waits, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(RetryPolicy::default().backoff_ms(100), 3_600_000, "no overflow far out");
        assert!(RetryPolicy { max_attempts: 0, ..p }.validate().is_err());
        assert!(RetryPolicy { backoff_max_ms: 50, ..p }.validate().is_err());
    }
}

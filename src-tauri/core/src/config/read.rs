//! Reading one key: value as text (or base64 when it is not UTF-8), detected
//! format, and the remaining TTL of its lease.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use etcd_client::{Client, GetOptions};

use super::etcd_err;
use super::format::{detect, ValueFormat};
use super::keys::check_key;
use super::model::{KeyMeta, KeyValue};
use crate::error::{Error, Result};

/// A value as text for display: itself when it is UTF-8, else base64 (never
/// to be written back as the value: write the bytes).
pub fn value_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => STANDARD.encode(bytes),
    }
}

/// Builds a [`KeyValue`] from an etcd key-value (TTL filled in by [`get`]).
pub fn key_value(kv: &etcd_client::KeyValue, revision: i64) -> KeyValue {
    let bytes = kv.value();
    let format = detect(bytes);
    let value = match format {
        ValueFormat::Binary => STANDARD.encode(bytes),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    };
    KeyValue { meta: KeyMeta::of(kv), value, format, size: bytes.len(), lease_ttl: None, revision }
}

/// The value of `key` now (or at `revision` when given).
pub async fn get_at(client: &mut Client, key: &str, revision: Option<i64>) -> Result<Option<KeyValue>> {
    check_key(key, "key")?;
    let mut opts = GetOptions::new();
    if let Some(r) = revision {
        opts = opts.with_revision(r);
    }
    let resp = client.get(key, Some(opts)).await.map_err(etcd_err)?;
    let rev = resp.header().map(|h| h.revision()).unwrap_or(0);
    let Some(kv) = resp.kvs().first() else { return Ok(None) };
    let mut out = key_value(kv, rev);
    if kv.lease() != 0 && revision.is_none() {
        // The TTL is informative: a lease we may not read is not an error.
        if let Ok(ttl) = client.lease_time_to_live(kv.lease(), None).await {
            out.lease_ttl = Some(ttl.ttl());
        }
    }
    Ok(Some(out))
}

/// The current value of `key`; `NotFound` when absent.
pub async fn get(client: &mut Client, key: &str) -> Result<KeyValue> {
    get_at(client, key, None).await?.ok_or_else(|| Error::NotFound(format!("key {key} does not exist (any more)")))
}

/// The current bytes of `key`, exactly as stored; `NotFound` when absent.
pub async fn get_bytes(client: &mut Client, key: &str) -> Result<Vec<u8>> {
    check_key(key, "key")?;
    let resp = client.get(key, None).await.map_err(etcd_err)?;
    resp.kvs().first().map(|kv| kv.value().to_vec()).ok_or_else(|| Error::NotFound(format!("key {key} does not exist (any more)")))
}

//! Guarded writes. Every write is one etcd transaction that compares the
//! key's `mod_revision` with the one the user saw: if someone changed the key
//! meanwhile, nothing is written and the caller gets their value back.

use etcd_client::{Client, Compare, CompareOp, DeleteOptions, GetOptions, PutOptions, Txn, TxnOp, TxnOpResponse};

use super::etcd_err;
use super::format::{validate, ValueFormat};
use super::keys::{check_key, prefix_end};
use super::model::{DeletePreview, KeyMeta, WriteResult};
use super::outcome::Intent;
use super::read::key_value;
use crate::error::{Error, Result};

/// Refuses a value that does not parse as its declared structured format
/// (unless the user explicitly saves it as plain text).
pub fn check_value(value: &str, format: ValueFormat, allow_invalid: bool) -> Result<()> {
    if allow_invalid {
        return Ok(());
    }
    let v = validate(value, Some(format));
    if v.ok {
        return Ok(());
    }
    let at = match (v.line, v.column) {
        (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
        _ => String::new(),
    };
    Err(Error::invalid(format!("{}{at}: fix it, or save it explicitly as plain text", v.error.unwrap_or_else(|| "invalid value".into()))))
}

/// What the failure branch of a guarded transaction read back.
fn conflict_from(responses: Vec<TxnOpResponse>, revision: i64) -> WriteResult {
    let current = responses.into_iter().find_map(|r| match r {
        TxnOpResponse::Get(g) => g.kvs().first().map(|kv| key_value(kv, revision)),
        _ => None,
    });
    WriteResult::Conflict { current }
}

/// Puts `value` (bytes, written as given) at `key` if its mod_revision is
/// still `expected` (0 = the key must not exist: create only). An existing key
/// keeps its lease.
pub async fn put(client: &mut Client, key: &str, value: impl AsRef<[u8]>, expected: i64) -> Result<WriteResult> {
    check_key(key, "key")?;
    if expected < 0 {
        return Err(Error::invalid("expected revision: 0 (create) or the mod_revision you read"));
    }
    let opts = if expected == 0 { None } else { Some(PutOptions::new().with_ignore_lease()) };
    let txn = Txn::new()
        .when([Compare::mod_revision(key, CompareOp::Equal, expected)])
        .and_then([TxnOp::put(key, value.as_ref(), opts), TxnOp::get(key, None)])
        .or_else([TxnOp::get(key, None)]);
    let resp = match client.txn(txn).await {
        Ok(r) => r,
        // Sent, then the answer lost: read back whether it landed.
        Err(e) => return super::outcome::settle(client, key, Intent::Put(value.as_ref()), expected, etcd_err(e)).await,
    };
    let revision = resp.header().map(|h| h.revision()).unwrap_or(0);
    if !resp.succeeded() {
        return Ok(conflict_from(resp.op_responses(), revision));
    }
    let meta = resp
        .op_responses()
        .into_iter()
        .find_map(|r| match r {
            TxnOpResponse::Get(g) => g.kvs().first().map(KeyMeta::of),
            _ => None,
        })
        .ok_or_else(|| Error::Internal(format!("{key}: written, but reading it back returned nothing")))?;
    Ok(WriteResult::Written { meta, revision, recovered: None })
}

/// Deletes `key` if its mod_revision is still `expected`.
pub async fn delete(client: &mut Client, key: &str, expected: i64) -> Result<WriteResult> {
    check_key(key, "key")?;
    if expected <= 0 {
        return Err(Error::invalid("expected revision: the mod_revision you read"));
    }
    let txn = Txn::new()
        .when([Compare::mod_revision(key, CompareOp::Equal, expected)])
        .and_then([TxnOp::get(key, None), TxnOp::delete(key, None)])
        .or_else([TxnOp::get(key, None)]);
    let resp = match client.txn(txn).await {
        Ok(r) => r,
        Err(e) => return super::outcome::settle(client, key, Intent::Delete, expected, etcd_err(e)).await,
    };
    let revision = resp.header().map(|h| h.revision()).unwrap_or(0);
    if !resp.succeeded() {
        return Ok(conflict_from(resp.op_responses(), revision));
    }
    let mut meta = resp
        .op_responses()
        .into_iter()
        .find_map(|r| match r {
            TxnOpResponse::Get(g) => g.kvs().first().map(KeyMeta::of),
            _ => None,
        })
        .ok_or_else(|| Error::Internal(format!("{key}: deleted, but it had no previous value")))?;
    meta.mod_revision = revision;
    Ok(WriteResult::Written { meta, revision, recovered: None })
}

/// How many keys a prefix delete would remove, with a sample of them.
pub async fn delete_preview(client: &mut Client, prefix: &str) -> Result<(DeletePreview, i64)> {
    check_prefix_for_delete(prefix)?;
    let end = prefix_end(prefix.as_bytes());
    let resp = client.get(prefix, Some(GetOptions::new().with_range(end).with_keys_only().with_limit(20))).await.map_err(etcd_err)?;
    let revision = resp.header().map(|h| h.revision()).unwrap_or(0);
    let sample = resp.kvs().iter().map(|kv| super::keys::key_text(kv.key())).collect();
    Ok((DeletePreview { count: resp.count(), sample }, revision))
}

fn check_prefix_for_delete(prefix: &str) -> Result<()> {
    check_key(prefix, "prefix")?;
    if prefix.is_empty() || prefix == "/" {
        return Err(Error::invalid("prefix: refusing to delete the whole key space; name a narrower prefix"));
    }
    Ok(())
}

/// Deletes every key under `prefix`, only if there are still `expected_count`
/// of them and none changed since the count was taken.
pub async fn delete_prefix(client: &mut Client, prefix: &str, expected_count: i64) -> Result<i64> {
    let (preview, revision) = delete_preview(client, prefix).await?;
    if preview.count != expected_count {
        return Err(Error::invalid(format!(
            "{prefix} now holds {} keys, not the {expected_count} you confirmed: preview again",
            preview.count
        )));
    }
    let end = prefix_end(prefix.as_bytes());
    // No key in the range modified (or created) after the count.
    let txn = Txn::new()
        .when([Compare::mod_revision(prefix, CompareOp::Less, revision + 1).with_range(end.clone())])
        .and_then([TxnOp::delete(prefix, Some(DeleteOptions::new().with_range(end)))]);
    let resp = client.txn(txn).await.map_err(etcd_err)?;
    if !resp.succeeded() {
        return Err(Error::invalid(format!("keys under {prefix} changed since the preview: nothing deleted, preview again")));
    }
    let deleted = resp
        .op_responses()
        .into_iter()
        .find_map(|r| match r {
            TxnOpResponse::Delete(d) => Some(d.deleted()),
            _ => None,
        })
        .unwrap_or(0);
    Ok(deleted)
}

//! A key's previous values, read from etcd's MVCC revisions: each value's
//! `mod_revision - 1` is the revision just before it was written, where the
//! previous value still stands. Walking stops at the key's creation, at the
//! limit, or where etcd compacted its history (and says so).

use etcd_client::{Client, GetOptions};

use super::etcd_err;
use super::keys::check_key;
use super::model::{History, HistoryEntry};
use super::read::{get_at, key_value};
use crate::error::Result;

pub const HISTORY_MAX: usize = 500;

pub async fn history(client: &mut Client, key: &str, limit: usize) -> Result<History> {
    let limit = limit.clamp(1, HISTORY_MAX);
    let mut entries = Vec::new();
    let mut compacted_at = None;
    let mut truncated = false;
    let Some(current) = get_at(client, key, None).await? else {
        return Ok(History { key: key.into(), entries, compacted_at, truncated, audit: vec![] });
    };
    let created = current.meta.create_revision;
    let mut rev = current.meta.mod_revision - 1;
    entries.push(HistoryEntry {
        mod_revision: current.meta.mod_revision,
        version: current.meta.version,
        value: Some(current.value),
        format: current.format,
    });
    while rev >= created {
        if entries.len() == limit {
            truncated = true;
            break;
        }
        let resp = match client.get(key, Some(GetOptions::new().with_revision(rev))).await {
            Ok(r) => r,
            Err(e) if e.to_string().contains("compacted") => {
                compacted_at = Some(rev + 1);
                break;
            }
            Err(e) => return Err(etcd_err(e)),
        };
        let Some(kv) = resp.kvs().first() else { break };
        let kvv = key_value(kv, rev);
        entries.push(HistoryEntry { mod_revision: kv.mod_revision(), version: kv.version(), value: Some(kvv.value), format: kvv.format });
        rev = kv.mod_revision() - 1;
    }
    Ok(History { key: key.into(), entries, compacted_at, truncated, audit: vec![] })
}

/// The bytes `key` had at `revision` (for a rollback: written back as they were).
pub async fn value_at(client: &mut Client, key: &str, revision: i64) -> Result<Option<Vec<u8>>> {
    check_key(key, "key")?;
    match client.get(key, Some(GetOptions::new().with_revision(revision))).await {
        Ok(resp) => Ok(resp.kvs().first().map(|kv| kv.value().to_vec())),
        Err(e) if e.to_string().contains("compacted") => {
            Err(crate::error::Error::invalid(format!("revision {revision} of {key} was compacted by etcd: it can no longer be read")))
        }
        Err(e) => Err(etcd_err(e)),
    }
}

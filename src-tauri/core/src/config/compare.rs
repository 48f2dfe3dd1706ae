//! Comparing two prefixes (dev vs prod) and copying selected differences from
//! one to the other in one transaction, guarded against concurrent changes.

use std::collections::BTreeMap;

use etcd_client::{Client, Compare, CompareOp, Txn, TxnOp};

use super::keys::{check_key, key_text, prefix_end};
use super::model::{CopyItem, CopyReport, DiffItem, PrefixDiff};
use super::paging::{self, PageSize};
use super::read::value_text;
use super::{etcd_err, MAX_TXN_OPS};
use crate::error::{Error, Result};

/// Upper bound of keys read under one prefix for a comparison or export.
pub const SCAN_MAX: usize = 200_000;
/// Keys a page at most (fewer where values are big: [`super::paging`]).
const SCAN_PAGE: i64 = 1000;

/// Every key under `prefix` → (value bytes, mod_revision), keyed relative to the prefix.
pub async fn scan(client: &mut Client, prefix: &str) -> Result<(BTreeMap<String, (Vec<u8>, i64)>, i64)> {
    let mut out = BTreeMap::new();
    let (revision, _) = scan_each(client, prefix, |kv| {
        out.insert(key_text(&kv.key()[prefix.len()..]), (kv.value().to_vec(), kv.mod_revision()));
        if out.len() > SCAN_MAX {
            return Err(Error::invalid(format!("{prefix} holds more than {SCAN_MAX} keys: narrow the prefix")));
        }
        Ok(())
    })
    .await?;
    Ok((out, revision))
}

/// Pages through every key under `prefix`, all pages at the revision of the
/// first (a consistent snapshot), calling `each` per key; returns that
/// revision and the cluster id.
pub async fn scan_each(
    client: &mut Client,
    prefix: &str,
    mut each: impl FnMut(&etcd_client::KeyValue) -> Result<()>,
) -> Result<(i64, u64)> {
    check_key(prefix, "prefix")?;
    let end = prefix_end(prefix.as_bytes());
    let mut start = prefix.as_bytes().to_vec();
    let (mut revision, mut cluster) = (0, 0);
    let mut size = PageSize::new(SCAN_PAGE);
    let what = format!("reading {prefix}");
    loop {
        let (resp, _) = paging::get_page(client, &what, &start, &end, revision, &mut size).await?;
        if revision == 0 {
            revision = resp.header().map(|h| h.revision()).unwrap_or(0);
            cluster = resp.header().map(|h| h.cluster_id()).unwrap_or(0);
        }
        for kv in resp.kvs() {
            each(kv)?;
        }
        match (resp.more(), resp.kvs().last()) {
            (true, Some(last)) => {
                start = last.key().to_vec();
                start.push(0);
            }
            _ => return Ok((revision, cluster)),
        }
    }
}

/// One side of a difference, for display: text, or base64 when binary.
fn side(value: Option<&[u8]>) -> (Option<String>, bool) {
    match value {
        None => (None, false),
        Some(bytes) => {
            let binary = std::str::from_utf8(bytes).is_err();
            (Some(value_text(bytes)), binary)
        }
    }
}

fn item(rel: &str, left: Option<(&[u8], i64)>, right: Option<(&[u8], i64)>) -> DiffItem {
    let (l, left_binary) = side(left.map(|v| v.0));
    let (r, right_binary) = side(right.map(|v| v.0));
    DiffItem {
        rel: rel.to_string(),
        left: l,
        right: r,
        left_binary,
        right_binary,
        left_mod_revision: left.map(|v| v.1).unwrap_or(0),
        right_mod_revision: right.map(|v| v.1).unwrap_or(0),
    }
}

/// Compares the values under two prefixes byte for byte.
pub async fn compare(client: &mut Client, left: &str, right: &str) -> Result<PrefixDiff> {
    let (l, _) = scan(client, left).await?;
    let (r, _) = scan(client, right).await?;
    let mut diff = PrefixDiff { left: left.into(), right: right.into(), only_left: vec![], only_right: vec![], different: vec![], same: 0 };
    for (rel, (lv, lrev)) in &l {
        match r.get(rel) {
            None => diff.only_left.push(item(rel, Some((lv, *lrev)), None)),
            Some((rv, rrev)) if rv != lv => diff.different.push(item(rel, Some((lv, *lrev)), Some((rv, *rrev)))),
            Some(_) => diff.same += 1,
        }
    }
    for (rel, (rv, rrev)) in &r {
        if !l.contains_key(rel) {
            diff.only_right.push(item(rel, None, Some((rv, *rrev))));
        }
    }
    Ok(diff)
}

/// Copies `items` from `from` to `to` in ONE transaction, written only if
/// every source and target key is still at the revision the user compared
/// (so nothing the user did not see is copied or overwritten).
pub async fn copy(client: &mut Client, from: &str, to: &str, items: &[CopyItem]) -> Result<CopyReport> {
    check_key(to, "prefix")?;
    if items.is_empty() {
        return Err(Error::invalid("select at least one key to copy"));
    }
    if items.len() > MAX_TXN_OPS / 2 {
        return Err(Error::invalid(format!(
            "select at most {} keys per copy (one etcd transaction); copy the rest in another step",
            MAX_TXN_OPS / 2
        )));
    }
    let (src, _) = scan(client, from).await?;
    let mut compares = Vec::new();
    let mut puts = Vec::new();
    let mut conflicts = Vec::new();
    for item in items {
        let rel = &item.rel;
        match src.get(rel) {
            Some((value, rev)) if *rev == item.left_mod_revision => {
                compares.push(Compare::mod_revision(format!("{from}{rel}"), CompareOp::Equal, item.left_mod_revision));
                compares.push(Compare::mod_revision(format!("{to}{rel}"), CompareOp::Equal, item.right_mod_revision));
                puts.push(TxnOp::put(format!("{to}{rel}"), value.as_slice(), None));
            }
            _ => conflicts.push(rel.clone()),
        }
    }
    if !conflicts.is_empty() {
        return Ok(CopyReport { copied: 0, conflicts });
    }
    let resp = client.txn(Txn::new().when(compares).and_then(puts)).await.map_err(etcd_err)?;
    if resp.succeeded() {
        return Ok(CopyReport { copied: items.len(), conflicts: vec![] });
    }
    // Name what moved (nothing was written).
    let (src2, _) = scan(client, from).await?;
    let (dst2, _) = scan(client, to).await?;
    let conflicts = items
        .iter()
        .filter(|i| {
            src2.get(&i.rel).map(|v| v.1).unwrap_or(0) != i.left_mod_revision
                || dst2.get(&i.rel).map(|v| v.1).unwrap_or(0) != i.right_mod_revision
        })
        .map(|i| i.rel.clone())
        .collect();
    Ok(CopyReport { copied: 0, conflicts })
}

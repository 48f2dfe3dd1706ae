//! The key tree: immediate children of a prefix, paged, keys only. A child
//! "directory" costs one entry however many keys it holds: when a page ends
//! inside a directory, the next page starts after the directory's range.
//! Pages read through key windows ([`super::window`]): each request costs
//! about the keys it returns, not the rest of the prefix. A first visit of a
//! prefix streams its first page where the server can ([`super::stream`],
//! etcd 3.7+): no request over the whole prefix at all.

use etcd_client::{Client, GetOptions};

use super::etcd_err;
use super::keys::{check_key, key_text, prefix_end};
use super::model::{KeyMeta, TreeEntry, TreePage};
use super::stream;
use super::window::{decode_window_cursor, encode_window_cursor, narrowed, next_end, widened, FirstScreen};
use crate::error::{with_timeout, Error, Result};

pub const PAGE_MAX: i64 = 1000;
/// One page read of the tree.
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn range_end(prefix: &[u8]) -> Vec<u8> {
    prefix_end(prefix)
}

/// Children of `prefix` (dirs and leaves, in key order), at most `limit`,
/// starting at `cursor` (from a previous page).
pub async fn children(client: &mut Client, prefix: &str, cursor: Option<&str>, limit: i64) -> Result<TreePage> {
    Ok(children_from(client, prefix, cursor, limit, None).await?.0)
}

/// [`children`] whose first page (no `cursor`) reads `[prefix, screen.end)`
/// first — where the first page ended last time — instead of the whole
/// prefix. Also returns where this first page ended, for the next visit.
pub async fn children_from(
    client: &mut Client,
    prefix: &str,
    cursor: Option<&str>,
    limit: i64,
    screen: Option<FirstScreen>,
) -> Result<(TreePage, Option<FirstScreen>)> {
    check_key(prefix, "prefix")?;
    if !(1..=PAGE_MAX).contains(&limit) {
        return Err(Error::invalid(format!("limit: 1..={PAGE_MAX}")));
    }
    let p = prefix.as_bytes();
    let end = range_end(p);
    let (mut start, mut depth, mut hint) = match cursor {
        Some(c) => {
            let (key, depth) = decode_window_cursor(c)?;
            (key, depth, None)
        }
        None => (p.to_vec(), screen.as_ref().and_then(|s| s.depth), screen.map(|s| s.end)),
    };
    if !start.starts_with(p) && start.as_slice() < p {
        return Err(Error::invalid("cursor: not within this prefix"));
    }
    let page = |entries, next: Option<(&[u8], Option<usize>)>, revision, total| {
        let next_cursor = next.map(|(key, depth)| encode_window_cursor(key, depth));
        let screen = match (cursor, next) {
            (None, Some((key, depth))) => {
                let mut end = key.to_vec();
                end.push(0);
                Some(FirstScreen { end, depth })
            }
            _ => None,
        };
        (TreePage { prefix: prefix.into(), entries, next_cursor, revision, total }, screen)
    };
    let mut entries: Vec<TreeEntry> = Vec::new();
    let mut revision = 0;
    // The first page's first request over the whole prefix counts every key under it.
    let mut total = None;
    let mut first_request = cursor.is_none();
    // A first visit streams where the server can (a return visit reads up to
    // where the first page ended: about a page).
    if cursor.is_none() && hint.is_none() {
        match streamed(client, prefix, limit).await? {
            Streamed::Unsupported => {}
            Streamed::Page { entries, next, revision } => return Ok(page(entries, next.as_deref().map(|k| (k, None)), revision, None)),
            Streamed::Passed { entries: so_far, after, depth: d, revision: r } => {
                (entries, start, depth, revision, first_request) = (so_far, after, Some(d), r, false);
            }
        }
    }
    loop {
        // One more than we can still take: seeing it tells us a next page exists.
        let want = limit + 1 - entries.len() as i64;
        // The remembered end of the first screen, if it is still ahead; else a window.
        let wend = match hint.take() {
            Some(h) if h.as_slice() > start.as_slice() && (end == [0] || h.as_slice() <= end.as_slice()) => h,
            _ => next_end(&start, depth, &end),
        };
        let opts = GetOptions::new().with_range(wend.clone()).with_keys_only().with_limit(want);
        let resp = with_timeout(format!("etcd tree under {prefix}"), READ_TIMEOUT, async {
            client.get(start.clone(), Some(opts)).await.map_err(etcd_err)
        })
        .await?;
        revision = resp.header().map(|h| h.revision()).unwrap_or(revision);
        let held = resp.count();
        if std::mem::take(&mut first_request) && start.as_slice() == p && wend == end {
            total = Some(held);
        }
        let first = resp.kvs().first().map(|kv| kv.key().to_vec()).unwrap_or_default();
        for kv in resp.kvs() {
            let key = kv.key();
            let (entry, skip_to) = match dir_of(key, p.len()) {
                Some(dir) => {
                    if entries.last().is_some_and(|e| e.is_dir && e.key.as_bytes() == dir) {
                        // More keys of the dir we already listed: jump past it.
                        start = prefix_end(dir);
                        continue;
                    }
                    (dir_entry(dir, p.len()), prefix_end(dir))
                }
                None => (leaf_entry(kv, p.len()), [key, &[0]].concat()),
            };
            if entries.len() as i64 == limit {
                let depth = narrowed(depth, p.len(), held, want, &first, key);
                return Ok(page(entries, Some((key, depth)), revision, total));
            }
            entries.push(entry);
            start = skip_to;
        }
        let past_end = start >= end && end != [0];
        if resp.more() && !past_end && start < wend {
            // The window holds more: go on inside it, narrower if it is big.
            let last = resp.kvs().last().map(|kv| kv.key()).unwrap_or_default();
            depth = narrowed(depth, p.len(), held, want, &first, last);
            continue;
        }
        // The window is read (or jumped over): the next starts at its end.
        if wend == end || past_end {
            return Ok(page(entries, None, revision, total));
        }
        if start < wend {
            start = wend;
        }
        depth = widened(depth, p.len(), held, want);
    }
}

/// The directory right under the prefix (of `prefix_len` bytes) that `key`
/// is in, slash included; `None` for a key directly under the prefix.
fn dir_of(key: &[u8], prefix_len: usize) -> Option<&[u8]> {
    key[prefix_len..].iter().position(|b| *b == b'/').map(|i| &key[..prefix_len + i + 1])
}

/// The tree entry of directory `dir` (from [`dir_of`]).
fn dir_entry(dir: &[u8], prefix_len: usize) -> TreeEntry {
    TreeEntry { name: key_text(&dir[prefix_len..dir.len() - 1]), key: key_text(dir), is_dir: true, meta: None }
}

/// The tree entry of a key directly under the prefix.
fn leaf_entry(kv: &etcd_client::KeyValue, prefix_len: usize) -> TreeEntry {
    TreeEntry { name: key_text(&kv.key()[prefix_len..]), key: key_text(kv.key()), is_dir: false, meta: Some(KeyMeta::of(kv)) }
}

/// What a stream read of a first page gave.
enum Streamed {
    /// The server has no `RangeStream`, or sent a chunk bigger than the client accepts.
    Unsupported,
    /// The whole page; `next`: the first key not taken (the next page starts there).
    Page { entries: Vec<TreeEntry>, next: Option<Vec<u8>>, revision: i64 },
    /// The page so far, up to a directory of more than [`DIR_SKIP`] keys:
    /// the rest is read through windows from `after` (the directory's end).
    Passed { entries: Vec<TreeEntry>, after: Vec<u8>, depth: usize, revision: i64 },
}

/// Keys of an already listed directory the stream may pass before the page
/// goes on through windows after it (a directory of a million keys is not
/// sent whole).
const DIR_SKIP: usize = 256;

/// The first page of children of `prefix`, read from one stream at one
/// revision, dropped once the page is full (hyper counts every stream the
/// client drops against a limit per connection, so only first pages stream;
/// later pages read through windows).
async fn streamed(client: &mut Client, prefix: &str, limit: i64) -> Result<Streamed> {
    let p = prefix.as_bytes();
    let end = range_end(p);
    let what = format!("etcd tree under {prefix}");
    let at = stream::read_point(client, &what, p).await?;
    let Some(mut reader) = stream::open(client, &what, p, &end, at, true).await? else {
        return Ok(Streamed::Unsupported);
    };
    let mut entries: Vec<TreeEntry> = Vec::new();
    let mut last_dir: Option<Vec<u8>> = None;
    let mut skipped = 0;
    loop {
        let kvs = match reader.next_chunk().await {
            Ok(Some(kvs)) => kvs,
            Ok(None) => break,
            // Chunks grow towards the server's request size, which may be
            // more than the client accepts: the page is read through windows.
            Err(_) if reader.refused_as_too_large() => return Ok(Streamed::Unsupported),
            Err(e) => return Err(e),
        };
        for kv in &kvs {
            let key = kv.key();
            if !key.starts_with(p) {
                continue;
            }
            if let Some(dir) = &last_dir {
                if key.starts_with(dir) {
                    skipped += 1;
                    if skipped > DIR_SKIP {
                        let after = prefix_end(dir);
                        if after == [0] {
                            // The directory reaches the end of the key space.
                            return Ok(Streamed::Page { entries, next: None, revision: at.revision });
                        }
                        return Ok(Streamed::Passed { entries, after, depth: dir.len(), revision: at.revision });
                    }
                    continue;
                }
            }
            if entries.len() as i64 == limit {
                return Ok(Streamed::Page { entries, next: Some(key.to_vec()), revision: at.revision });
            }
            match dir_of(key, p.len()) {
                Some(dir) => {
                    entries.push(dir_entry(dir, p.len()));
                    last_dir = Some(dir.to_vec());
                    skipped = 0;
                }
                None => {
                    entries.push(leaf_entry(kv, p.len()));
                    last_dir = None;
                }
            }
        }
    }
    Ok(Streamed::Page { entries, next: None, revision: at.revision })
}

/// Number of keys under `prefix`, all depths.
pub async fn count(client: &mut Client, prefix: &str) -> Result<i64> {
    check_key(prefix, "prefix")?;
    let resp = client
        .get(prefix.as_bytes(), Some(GetOptions::new().with_range(range_end(prefix.as_bytes())).with_count_only()))
        .await
        .map_err(etcd_err)?;
    Ok(resp.count())
}

/// Leaf keys under `prefix` whose key contains `text` (case-insensitive).
pub async fn search(client: &mut Client, prefix: &str, text: &str, limit: usize) -> Result<Vec<TreeEntry>> {
    check_key(prefix, "prefix")?;
    let needle = text.trim().to_lowercase();
    if needle.is_empty() {
        return Err(Error::invalid("search: type part of a key"));
    }
    let limit = limit.clamp(1, 1000);
    let end = range_end(prefix.as_bytes());
    let mut start = prefix.as_bytes().to_vec();
    let mut out = Vec::new();
    loop {
        let resp = client
            .get(start.clone(), Some(GetOptions::new().with_range(end.clone()).with_keys_only().with_limit(5000)))
            .await
            .map_err(etcd_err)?;
        for kv in resp.kvs() {
            let key = key_text(kv.key());
            if key[prefix.len().min(key.len())..].to_lowercase().contains(&needle) {
                let name = key.rsplit('/').next().unwrap_or(&key).to_string();
                out.push(TreeEntry { name, key, is_dir: false, meta: Some(KeyMeta::of(kv)) });
                if out.len() == limit {
                    return Ok(out);
                }
            }
        }
        match (resp.more(), resp.kvs().last()) {
            (true, Some(last)) => {
                start = last.key().to_vec();
                start.push(0);
            }
            _ => return Ok(out),
        }
    }
}

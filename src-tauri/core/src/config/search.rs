//! Searching inside a prefix: keys and values that contain a text
//! (case-insensitive for ASCII letters; any other byte matches exactly, so a
//! binary value is searched too). The scan reads the prefix in pages of
//! [`PAGE`] keys, every page at the revision of the first (one consistent
//! snapshot), holding one page in memory at a time; hits are delivered as
//! they are found, and dropping the [`SearchHandle`] stops the scan.

use etcd_client::{Client, GetOptions};
use serde::Serialize;

use super::etcd_err;
use super::keys::{check_key, key_text, prefix_end};
use super::model::KeyMeta;
use crate::error::{Error, ErrorCode, Result};

/// Keys read per request.
pub const PAGE: i64 = 200;
/// Characters of context each side of a match in a value.
const CONTEXT: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum MatchIn {
    Key,
    Value,
}

/// One match: the text around it split so a view can highlight `matched`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct SearchHit {
    pub key: String,
    pub meta: KeyMeta,
    pub found_in: MatchIn,
    pub before: String,
    pub matched: String,
    pub after: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SearchEvent {
    Hit {
        hit: SearchHit,
    },
    /// Keys scanned so far (sent after each page).
    Progress {
        scanned: u64,
    },
    /// The scan ended: every key was scanned, or `limit` hits were found (`truncated`).
    Done {
        scanned: u64,
        hits: u64,
        truncated: bool,
        revision: i64,
    },
    /// The scan stopped on an error (hits before it were delivered).
    Error {
        code: ErrorCode,
        message: String,
    },
}

pub struct SearchHandle {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SearchHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SearchHandle {
    /// Waits for the scan to end (after its `Done` or `Error` event).
    pub async fn finished(mut self) {
        let _ = (&mut self.task).await;
    }
}

/// Where `needle` (already ASCII-lowercased) starts in `hay`, ignoring ASCII case.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w.iter().zip(needle).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

/// Text of `bytes` for display (lossy: a snippet, never written back).
fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace(['\n', '\r', '\t'], " ")
}

/// The snippet around a match at `at..at+len` of `hay`, `context` bytes each side
/// (widened to whole UTF-8 characters).
fn snippet(hay: &[u8], at: usize, len: usize, context: usize) -> (String, String, String) {
    let mut from = at.saturating_sub(context);
    while from > 0 && from < hay.len() && (hay[from] & 0xC0) == 0x80 {
        from -= 1;
    }
    let mut to = (at + len + context).min(hay.len());
    while to < hay.len() && (hay[to] & 0xC0) == 0x80 {
        to += 1;
    }
    let mut before = show(&hay[from..at]);
    if from > 0 {
        before.insert(0, '…');
    }
    let mut after = show(&hay[at + len..to]);
    if to < hay.len() {
        after.push('…');
    }
    (before, show(&hay[at..at + len]), after)
}

/// The hit for one key-value, if it matches (its key first, else its value).
pub fn hit_of(kv: &etcd_client::KeyValue, prefix_len: usize, needle: &[u8]) -> Option<SearchHit> {
    let key = kv.key();
    let rel = &key[prefix_len.min(key.len())..];
    if let Some(at) = find(rel, needle) {
        let at = at + prefix_len.min(key.len());
        let (before, matched, after) = snippet(key, at, needle.len(), usize::MAX / 4);
        return Some(SearchHit { key: key_text(key), meta: KeyMeta::of(kv), found_in: MatchIn::Key, before, matched, after });
    }
    let at = find(kv.value(), needle)?;
    let (before, matched, after) = snippet(kv.value(), at, needle.len(), CONTEXT);
    Some(SearchHit { key: key_text(key), meta: KeyMeta::of(kv), found_in: MatchIn::Value, before, matched, after })
}

/// Starts a search of keys and values under `prefix` for `text`; at most
/// `limit` hits (1–10,000). Events arrive on `on_event`, ending with `Done`
/// or `Error`.
pub fn search(
    client: &Client,
    prefix: &str,
    text: &str,
    limit: usize,
    on_event: impl Fn(SearchEvent) + Send + Sync + 'static,
) -> Result<SearchHandle> {
    check_key(prefix, "prefix")?;
    let needle = text.trim().to_ascii_lowercase().into_bytes();
    if needle.is_empty() {
        return Err(Error::invalid("search: type part of a key or value"));
    }
    if needle.len() > 1024 {
        return Err(Error::invalid("search: at most 1024 bytes of text"));
    }
    let limit = limit.clamp(1, 10_000);
    let mut client = client.clone();
    let prefix = prefix.to_string();
    let task = tokio::spawn(async move {
        match scan(&mut client, &prefix, &needle, limit, &on_event).await {
            Ok(done) => on_event(done),
            Err(e) => on_event(SearchEvent::Error { code: e.code(), message: e.to_string() }),
        }
    });
    Ok(SearchHandle { task })
}

async fn scan(client: &mut Client, prefix: &str, needle: &[u8], limit: usize, on_event: &impl Fn(SearchEvent)) -> Result<SearchEvent> {
    let end = prefix_end(prefix.as_bytes());
    let mut start = prefix.as_bytes().to_vec();
    let mut revision = 0;
    let mut scanned = 0u64;
    let mut hits = 0u64;
    loop {
        let mut opts = GetOptions::new().with_range(end.clone()).with_limit(PAGE);
        if revision > 0 {
            opts = opts.with_revision(revision);
        }
        let resp = crate::error::with_timeout(format!("etcd search under {prefix}"), std::time::Duration::from_secs(30), async {
            client.get(start.clone(), Some(opts)).await.map_err(etcd_err)
        })
        .await?;
        if revision == 0 {
            revision = resp.header().map(|h| h.revision()).unwrap_or(0);
        }
        for kv in resp.kvs() {
            scanned += 1;
            if let Some(hit) = hit_of(kv, prefix.len(), needle) {
                on_event(SearchEvent::Hit { hit });
                hits += 1;
                if hits as usize >= limit {
                    return Ok(SearchEvent::Done { scanned, hits, truncated: true, revision });
                }
            }
        }
        on_event(SearchEvent::Progress { scanned });
        match (resp.more(), resp.kvs().last()) {
            (true, Some(last)) => {
                start = last.key().to_vec();
                start.push(0);
            }
            _ => return Ok(SearchEvent::Done { scanned, hits, truncated: false, revision }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_ignoring_ascii_case_and_in_bytes() {
        assert_eq!(find(b"Hello World", b"world"), Some(6));
        assert_eq!(find(b"\xff\x00PASSWORD\x00", b"password"), Some(2));
        assert_eq!(find(b"abc", b"abcd"), None);
        assert_eq!(find("中文配置".as_bytes(), "配置".as_bytes()), Some(6));
    }

    #[test]
    fn snippets_keep_whole_characters_and_mark_cuts() {
        let hay = "前文前文前文 needle 后文后文后文".as_bytes();
        let at = find(hay, b"needle").unwrap();
        let (b, m, a) = snippet(hay, at, 6, 4);
        assert_eq!(m, "needle");
        assert!(b.starts_with('…') && a.ends_with('…'), "{b}|{a}");
        assert!(!b.contains('\u{fffd}') && !a.contains('\u{fffd}'), "{b}|{a}");
        let (b, _, a) = snippet(b"x\nneedle\ty", 2, 6, 40);
        assert_eq!((b.as_str(), a.as_str()), ("x ", " y"));
    }
}

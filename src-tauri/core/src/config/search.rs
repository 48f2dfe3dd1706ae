//! Searching inside a prefix: keys and values that contain a text
//! (case-insensitive for ASCII letters; any other byte matches exactly, so a
//! binary value is searched too). The scan reads the prefix in pages of
//! [`PAGE`] keys, every page at the revision of the first (one consistent
//! snapshot), holding one page in memory at a time; hits are delivered as
//! they are found, and dropping the [`SearchHandle`] stops the scan.
//! A server with `RangeStream` (etcd 3.7+) is read from one stream instead
//! ([`super::stream`]): chunks at one revision, no request over the rest of
//! the prefix. [`SearchMode::Fuzzy`] runs the same scan with a fuzzy matcher
//! ([`super::fuzzy`]): letters in order with gaps, every matched character
//! marked in the hit's `parts`.

use etcd_client::Client;
use serde::{Deserialize, Serialize};

use super::fuzzy::{parts_of, Fuzzy, HitPart};
use super::keys::{check_key, key_text, prefix_end};
use super::model::KeyMeta;
use super::paging::{self, PageSize};
use super::split::split;
use super::stream;
use super::window::{narrowed, next_end, widened};
use crate::error::{Error, ErrorCode, Result};
use futures::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Keys read per request at most: fewer where values are big ([`super::paging`]).
/// 2,500 measured best on etcd 3.4 (a million keys: the whole scan 3.6 s at
/// 200, 2.0 s at 1,000, 1.5 s at 2,500, 1.4 s at 5,000; BENCHMARKS.md).
pub const PAGE: i64 = 2500;
/// Characters of context each side of a match in a value.
const CONTEXT: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum MatchIn {
    Key,
    Value,
}

/// How the text is matched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    /// The text as typed, anywhere (ASCII case ignored).
    #[default]
    Substring,
    /// The typed words' letters in order, gaps allowed (case and accents ignored).
    Fuzzy,
}

/// One match: the text around it split so a view can highlight `matched`.
/// `parts` is the same text as runs with every matched run marked (one for a
/// substring match, several for a fuzzy one, where `matched` spans from the
/// first to the last matched character).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct SearchHit {
    pub key: String,
    pub meta: KeyMeta,
    pub found_in: MatchIn,
    pub before: String,
    pub matched: String,
    pub after: String,
    pub parts: Vec<HitPart>,
    /// Fuzzy: how close the match is (higher is closer).
    pub score: Option<u32>,
}

impl SearchHit {
    fn substring(kv: &etcd_client::KeyValue, found_in: MatchIn, (before, matched, after): (String, String, String)) -> SearchHit {
        let parts = parts_of(&before, &matched, &after);
        SearchHit { key: key_text(kv.key()), meta: KeyMeta::of(kv), found_in, before, matched, after, parts, score: None }
    }

    fn fuzzy(kv: &etcd_client::KeyValue, found_in: MatchIn, parts: Vec<HitPart>, score: u32) -> SearchHit {
        let first = parts.iter().position(|p| p.hit).unwrap_or(parts.len());
        let last = parts.iter().rposition(|p| p.hit).map_or(first, |i| i + 1);
        let join = |ps: &[HitPart]| ps.iter().map(|p| p.text.as_str()).collect::<String>();
        SearchHit {
            key: key_text(kv.key()),
            meta: KeyMeta::of(kv),
            found_in,
            before: join(&parts[..first]),
            matched: join(&parts[first..last.max(first)]),
            after: join(&parts[last.max(first)..]),
            parts,
            score: Some(score),
        }
    }
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

/// The text a substring search looks for: ASCII case ignored, any other byte
/// exact (an Aho-Corasick searcher, built once per search: a million values
/// are scanned in about the time etcd takes to send them).
#[derive(Clone)]
pub struct Needle {
    finder: aho_corasick::AhoCorasick,
    len: usize,
}

impl Needle {
    /// `None` for an empty text.
    pub fn new(text: &[u8]) -> Option<Needle> {
        if text.is_empty() {
            return None;
        }
        let finder = aho_corasick::AhoCorasick::builder().ascii_case_insensitive(true).build([text]).ok()?;
        Some(Needle { finder, len: text.len() })
    }

    /// Where the text first starts in `hay`.
    pub fn find(&self, hay: &[u8]) -> Option<usize> {
        self.finder.find(hay).map(|m| m.start())
    }
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
pub fn hit_of(kv: &etcd_client::KeyValue, prefix_len: usize, needle: &Needle) -> Option<SearchHit> {
    let key = kv.key();
    let rel = &key[prefix_len.min(key.len())..];
    if let Some(at) = needle.find(rel) {
        let at = at + prefix_len.min(key.len());
        return Some(SearchHit::substring(kv, MatchIn::Key, snippet(key, at, needle.len, usize::MAX / 4)));
    }
    let at = needle.find(kv.value())?;
    Some(SearchHit::substring(kv, MatchIn::Value, snippet(kv.value(), at, needle.len, CONTEXT)))
}

/// The fuzzy hit for one key-value, if it matches (its key below the prefix
/// first, else its value's best line).
pub fn fuzzy_hit_of(kv: &etcd_client::KeyValue, prefix_len: usize, fuzzy: &mut Fuzzy) -> Option<SearchHit> {
    let key = kv.key();
    let cut = prefix_len.min(key.len());
    if let Some(m) = fuzzy.match_key(&key_text(&key[cut..])) {
        let mut parts = parts_of(&key_text(&key[..cut]), "", "");
        parts.extend(m.parts);
        return Some(SearchHit::fuzzy(kv, MatchIn::Key, parts, m.score));
    }
    let m = fuzzy.match_value(kv.value())?;
    Some(SearchHit::fuzzy(kv, MatchIn::Value, m.parts, m.score))
}

/// The matcher of one search.
enum Matching {
    Substring(Needle),
    Fuzzy(Box<Fuzzy>),
}

impl Matching {
    fn hit(&mut self, kv: &etcd_client::KeyValue, prefix_len: usize) -> Option<SearchHit> {
        match self {
            Matching::Substring(needle) => hit_of(kv, prefix_len, needle),
            Matching::Fuzzy(f) => fuzzy_hit_of(kv, prefix_len, f),
        }
    }
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
    search_with(client, prefix, text, SearchMode::Substring, limit, on_event)
}

/// [`search`] with a [`SearchMode`].
pub fn search_with(
    client: &Client,
    prefix: &str,
    text: &str,
    mode: SearchMode,
    limit: usize,
    on_event: impl Fn(SearchEvent) + Send + Sync + 'static,
) -> Result<SearchHandle> {
    check_key(prefix, "prefix")?;
    let typed = text.trim().as_bytes();
    if typed.len() > 1024 {
        return Err(Error::invalid("search: at most 1024 bytes of text"));
    }
    let Some(needle) = Needle::new(typed) else {
        return Err(Error::invalid("search: type part of a key or value"));
    };
    if mode == SearchMode::Fuzzy && Fuzzy::new(text).is_none() {
        return Err(Error::invalid("search: type part of a key or value"));
    }
    let text = text.to_string();
    // One matcher per scanner (a fuzzy matcher keeps scratch space).
    let matcher = move || match mode {
        SearchMode::Fuzzy => match Fuzzy::new(&text) {
            Some(f) => Matching::Fuzzy(Box::new(f)),
            None => Matching::Substring(needle.clone()),
        },
        SearchMode::Substring => Matching::Substring(needle.clone()),
    };
    let limit = limit.clamp(1, 10_000);
    let mut client = client.clone();
    let prefix = prefix.to_string();
    let task = tokio::spawn(async move {
        match scan(&mut client, &prefix, &matcher, limit, &on_event).await {
            Ok(done) => on_event(done),
            Err(e) => on_event(SearchEvent::Error { code: e.code(), message: e.to_string() }),
        }
    });
    Ok(SearchHandle { task })
}

/// A prefix holding more keys than this is split and read by [`SCANNERS`] at once.
pub const SPLIT_ABOVE: i64 = 50_000;
/// Windows of a split prefix read at once (requests in flight on the server).
pub const SCANNERS: usize = 8;

/// What one search has found so far (shared by its scanners).
struct Tally {
    scanned: AtomicU64,
    hits: AtomicU64,
    limit: u64,
}

impl Tally {
    fn full(&self) -> bool {
        self.hits.load(Ordering::Relaxed) >= self.limit
    }

    /// Delivers `kv`'s hit, if it matches, while the hits are under the limit.
    fn match_one(
        &self,
        kv: &etcd_client::KeyValue,
        matching: &mut Matching,
        prefix_len: usize,
        on_event: &(impl Fn(SearchEvent) + ?Sized),
    ) {
        if let Some(hit) = matching.hit(kv, prefix_len) {
            if self.hits.fetch_add(1, Ordering::Relaxed) < self.limit {
                on_event(SearchEvent::Hit { hit });
            }
        }
    }

    fn done(&self, revision: i64) -> SearchEvent {
        let hits = self.hits.load(Ordering::Relaxed);
        SearchEvent::Done {
            scanned: self.scanned.load(Ordering::Relaxed),
            hits: hits.min(self.limit),
            truncated: hits >= self.limit,
            revision,
        }
    }
}

/// How a scan of a range ended.
enum Flow {
    /// Read to its end.
    Read,
    /// `limit` hits found.
    Full,
    /// The first page showed a range of `held` keys (more than asked to split at); read on from `next`.
    Big { next: Vec<u8>, held: i64 },
}

/// One scan of `[start, end)` as seen at `revision` (0: now, set by the first
/// response), through key windows that start at `depth` (see [`super::window`]).
struct Range<'a> {
    prefix: &'a str,
    start: Vec<u8>,
    end: Vec<u8>,
    depth: Option<usize>,
}

/// The scanner that reads on from the first page while the rest of a big
/// prefix is being split: where it has read to, and where it must stop once
/// the split hands the keys from there on to other scanners.
struct Head {
    /// Every key below this was read by the head scanner.
    read_to: Vec<u8>,
    /// Keys from here on are another scanner's.
    stop: Option<Vec<u8>>,
}

#[allow(clippy::too_many_arguments)]
async fn scan_range(
    client: &mut Client,
    mut r: Range<'_>,
    revision: &mut i64,
    split_above: Option<i64>,
    matching: &mut Matching,
    tally: &Tally,
    on_event: &(impl Fn(SearchEvent) + ?Sized),
    head: Option<&std::sync::Mutex<Head>>,
) -> Result<Flow> {
    let plen = r.prefix.len();
    let what = format!("etcd search under {}", r.prefix);
    let mut size = PageSize::new(PAGE);
    loop {
        let wend = next_end(&r.start, r.depth, &r.end);
        let (resp, want) = crate::error::with_timeout(what.clone(), std::time::Duration::from_secs(30), async {
            paging::get_page(client, &what, &r.start, &wend, *revision, &mut size).await
        })
        .await?;
        if *revision == 0 {
            *revision = resp.header().map(|h| h.revision()).unwrap_or(0);
        }
        // The head scanner takes the page under its lock: a split that lands
        // meanwhile sees where it has read to, and the keys past the stop it
        // sets are left to their window's scanner (read once, never twice).
        let mut head_state = head.map(|h| h.lock().unwrap_or_else(|e| e.into_inner()));
        let stop = head_state.as_ref().and_then(|h| h.stop.clone());
        for kv in resp.kvs() {
            if stop.as_deref().is_some_and(|stop| kv.key() >= stop) {
                return Ok(Flow::Read);
            }
            tally.scanned.fetch_add(1, Ordering::Relaxed);
            if tally.full() {
                return Ok(Flow::Full);
            }
            tally.match_one(kv, matching, plen, on_event);
        }
        on_event(SearchEvent::Progress { scanned: tally.scanned.load(Ordering::Relaxed) });
        if tally.full() {
            return Ok(Flow::Full);
        }
        if let (Some(h), Some(last)) = (head_state.as_mut(), resp.kvs().last()) {
            h.read_to = [last.key(), &[0]].concat();
        }
        drop(head_state);
        let held = resp.count();
        match (resp.more(), resp.kvs().last()) {
            (true, Some(last)) => {
                // The window holds more: go on inside it, narrower if it is big
                // (at least to the bytes this page's keys share).
                r.start = last.key().to_vec();
                r.start.push(0);
                if split_above.is_some_and(|n| held > n) {
                    return Ok(Flow::Big { next: r.start, held });
                }
                let first = resp.kvs().first().map(|kv| kv.key()).unwrap_or_default();
                r.depth = narrowed(r.depth, plen, held, want, first, last.key());
            }
            _ if wend == r.end => {
                if let Some(h) = head {
                    h.lock().unwrap_or_else(|e| e.into_inner()).read_to = r.end.clone();
                }
                return Ok(Flow::Read);
            }
            _ => {
                // The window is read: the next one starts at its end, wider if it was small.
                if let Some(h) = head {
                    let mut h = h.lock().unwrap_or_else(|e| e.into_inner());
                    if h.stop.as_deref().is_some_and(|stop| wend.as_slice() >= stop) {
                        return Ok(Flow::Read);
                    }
                    h.read_to = wend.clone();
                }
                r.start = wend;
                r.depth = widened(r.depth, plen, held, want);
            }
        }
    }
}

/// Reads the prefix page by page through key windows (etcd counts the whole
/// range of every request, so a request over the rest of a million keys costs
/// as much as reading them; a window costs what it holds). The first request,
/// over the whole prefix, tells how many keys it holds: above
/// [`SPLIT_ABOVE`], the rest is split into windows ([`super::split`]) read by
/// [`SCANNERS`] at once, in key order as scanners free up; hits then arrive
/// in the order they are found, not in key order.
async fn scan(
    client: &mut Client,
    prefix: &str,
    matcher: &(dyn Fn() -> Matching + Send + Sync),
    limit: usize,
    on_event: &(dyn Fn(SearchEvent) + Send + Sync),
) -> Result<SearchEvent> {
    let end = prefix_end(prefix.as_bytes());
    let tally = Tally { scanned: AtomicU64::new(0), hits: AtomicU64::new(0), limit: limit as u64 };
    let what = format!("etcd search under {prefix}");
    let at = stream::read_point(client, &what, prefix.as_bytes()).await?;
    if let Some(reader) = stream::open(client, &what, prefix.as_bytes(), &end, at, false).await? {
        let mut matching = matcher();
        if let Some(start) = scan_stream(reader, prefix.as_bytes(), &mut matching, &tally, on_event).await? {
            // A chunk too big for the client: the rest is read in pages at
            // the stream's revision (a value too big even alone is named).
            let mut revision = at.revision;
            let rest = Range { prefix, start, end, depth: None };
            scan_range(client, rest, &mut revision, None, &mut matching, &tally, on_event, None).await?;
        }
        return Ok(tally.done(at.revision));
    }
    let mut revision = at.revision;
    let whole = Range { prefix, start: prefix.as_bytes().to_vec(), end: end.clone(), depth: None };
    let mut matching = matcher();
    let flow = scan_range(client, whole, &mut revision, Some(SPLIT_ABOVE), &mut matching, &tally, on_event, None).await?;
    if let Flow::Big { next, held } = flow {
        // The split costs a few walks of the prefix on the server: the head
        // scanner reads on from the first page meanwhile (a hit near the start
        // is not held back by it), and hands the rest over when it lands.
        let target = (held / SCANNERS as i64).max(4 * PAGE);
        let tally = &tally;
        let client: &Client = client;
        let head = std::sync::Mutex::new(Head { read_to: next.clone(), stop: None });
        let head_scan = async {
            let mut client = client.clone();
            let r = Range { prefix, start: next.clone(), end: end.clone(), depth: None };
            let mut rev = revision;
            scan_range(&mut client, r, &mut rev, None, &mut matching, tally, on_event, Some(&head)).await
        };
        let rest_scan = async {
            let windows = split(client, next.clone(), end.clone(), held, prefix.len(), target, revision).await?;
            let rest = hand_over(&head, windows);
            let mut scans = futures::stream::iter(rest.into_iter().map(|w| {
                let mut client = client.clone();
                let mut matching = matcher();
                async move {
                    let r = Range { prefix, start: w.from, end: w.to, depth: None };
                    let mut rev = revision;
                    scan_range(&mut client, r, &mut rev, None, &mut matching, tally, on_event, None).await
                }
            }))
            .buffer_unordered(SCANNERS - 1);
            while let Some(flow) = scans.next().await {
                if matches!(flow?, Flow::Full) {
                    return Ok(Flow::Full);
                }
            }
            Result::<Flow>::Ok(Flow::Read)
        };
        tokio::pin!(head_scan, rest_scan);
        let (mut head_done, mut rest_done) = (false, false);
        while !(head_done && rest_done) {
            let flow = tokio::select! {
                flow = &mut head_scan, if !head_done => { head_done = true; flow? }
                flow = &mut rest_scan, if !rest_done => { rest_done = true; flow? }
            };
            if matches!(flow, Flow::Full) {
                break;
            }
        }
    }
    Ok(tally.done(revision))
}

/// Reads the whole prefix from one stream (etcd 3.7+): no windows, no split,
/// one chunk in memory at a time. Returns where the rest starts when the
/// client refused a chunk as too big ([`stream::RangeReader::refused_as_too_large`]).
async fn scan_stream(
    mut reader: stream::RangeReader,
    prefix: &[u8],
    matching: &mut Matching,
    tally: &Tally,
    on_event: &(dyn Fn(SearchEvent) + Send + Sync),
) -> Result<Option<Vec<u8>>> {
    let mut read_to = prefix.to_vec();
    loop {
        let kvs = match reader.next_chunk().await {
            Ok(Some(kvs)) => kvs,
            Ok(None) => return Ok(None),
            Err(_) if reader.refused_as_too_large() => return Ok(Some(read_to)),
            Err(e) => return Err(e),
        };
        for kv in &kvs {
            if tally.full() {
                return Ok(None);
            }
            tally.scanned.fetch_add(1, Ordering::Relaxed);
            tally.match_one(kv, matching, prefix.len(), on_event);
        }
        if let Some(last) = kvs.last() {
            read_to = [last.key(), &[0]].concat();
        }
        on_event(SearchEvent::Progress { scanned: tally.scanned.load(Ordering::Relaxed) });
    }
}

/// Once the split has landed: the head scanner keeps the window it is in
/// (it stops at that window's end) and every window after it goes to the
/// other scanners; windows it has already read past are dropped.
fn hand_over(head: &std::sync::Mutex<Head>, windows: Vec<super::split::Window>) -> Vec<super::split::Window> {
    let mut h = head.lock().unwrap_or_else(|e| e.into_inner());
    // `[0]` is "no end" (the prefix reaches the end of the key space).
    let before_end = |key: &[u8], end: &[u8]| end == [0] || key < end;
    let mut rest = Vec::new();
    for w in windows {
        if !before_end(&h.read_to, &w.to) {
            continue; // read by the head scanner already
        }
        if h.stop.is_none() {
            if w.from.as_slice() <= h.read_to.as_slice() {
                // The head is inside this window: it reads it to its end (the last window: to the prefix's end).
                if w.to == [0] {
                    break;
                }
                h.stop = Some(w.to.clone());
                continue;
            }
            h.stop = Some(w.from.clone());
        }
        rest.push(w);
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_landing_split_leaves_the_head_its_window_and_hands_over_the_rest() {
        use super::super::split::Window;
        let w = |a: &[u8], b: &[u8]| Window { from: a.to_vec(), to: b.to_vec(), keys: 1 };
        let windows = || vec![w(b"/p/a", b"/p/c"), w(b"/p/c", b"/p/e"), w(b"/p/e", b"/p0")];
        let at = |read_to: &[u8]| std::sync::Mutex::new(Head { read_to: read_to.to_vec(), stop: None });
        let stop = |h: &std::sync::Mutex<Head>| h.lock().unwrap().stop.clone();
        // Inside the first window: it keeps that window and stops at its end.
        let head = at(b"/p/b");
        assert_eq!(hand_over(&head, windows()), windows()[1..]);
        assert_eq!(stop(&head), Some(b"/p/c".to_vec()));
        // Already past the first window: the second is its, only the third is handed over.
        let head = at(b"/p/d");
        assert_eq!(hand_over(&head, windows()), windows()[2..]);
        assert_eq!(stop(&head), Some(b"/p/e".to_vec()));
        // Exactly at a window's start: that window is its.
        let head = at(b"/p/c");
        assert_eq!(hand_over(&head, windows()), windows()[2..]);
        // Read to the prefix's end already: nothing to hand over.
        let head = at(b"/p0");
        assert_eq!(hand_over(&head, windows()), vec![]);
        // In a last window without an end ([0]): it reads on to the end, no stop.
        let head = at(b"/q");
        assert_eq!(hand_over(&head, vec![w(b"/a", b"/b"), w(b"/b", &[0])]), vec![]);
        assert_eq!(stop(&head), None);
    }

    #[test]
    fn finds_ignoring_ascii_case_and_in_bytes() {
        let find = |hay: &[u8], text: &[u8]| Needle::new(text).unwrap().find(hay);
        assert_eq!(find(b"Hello World", b"world"), Some(6));
        assert_eq!(find(b"Hello World", b"WoRlD"), Some(6));
        assert_eq!(find(b"\xff\x00PASSWORD\x00", b"password"), Some(2));
        assert_eq!(find(b"abc", b"abcd"), None);
        assert_eq!(find("中文配置".as_bytes(), "配置".as_bytes()), Some(6));
        assert_eq!(find("ÄB".as_bytes(), "äb".as_bytes()), None, "only ASCII case is ignored");
        assert!(Needle::new(b"").is_none());
    }

    #[test]
    fn snippets_keep_whole_characters_and_mark_cuts() {
        let hay = "前文前文前文 needle 后文后文后文".as_bytes();
        let at = Needle::new(b"needle").unwrap().find(hay).unwrap();
        let (b, m, a) = snippet(hay, at, 6, 4);
        assert_eq!(m, "needle");
        assert!(b.starts_with('…') && a.ends_with('…'), "{b}|{a}");
        assert!(!b.contains('\u{fffd}') && !a.contains('\u{fffd}'), "{b}|{a}");
        let (b, _, a) = snippet(b"x\nneedle\ty", 2, 6, 40);
        assert_eq!((b.as_str(), a.as_str()), ("x ", " y"));
    }
}

//! Streamed reads of a key range: etcd's `RangeStream` (v3.7 and later).
//!
//! A `Range` request makes etcd walk and count its whole range, even one
//! limited to a page ([`super::window`] works around that for older servers).
//! `RangeStream` sends the range in chunks (10 keys first, then growing
//! towards the server's request size) and counts nothing when no limit is
//! given, so the first keys of a million arrive in about the time of ten.
//! A reader here asks for no limit and stops reading (dropping the stream
//! cancels it on the server) once it has what it needs.
//!
//! Dropping a stream resets it, and the HTTP/2 client (h2) remembers at most
//! [`H2_RESETS_KEPT`] reset streams for 30 s: frames the server had already
//! sent for a stream it no longer remembers each count against a limit of
//! 1,024 per connection, and then h2 closes the connection (GOAWAY
//! ENHANCE_YOUR_CALM) with every call on it, watches included. So streams
//! serve reads that end early rarely (the first page of a prefix, a search),
//! and while [`DROPS_ALLOWED`] streams were dropped on a member in the last
//! [`DROP_WINDOW`], [`open`] returns `None` (the caller reads through windows).
//!
//! An older server answers `Unimplemented`; [`open`] then returns `None`
//! and the caller reads through windows. What a server answered is
//! remembered per cluster member for [`RECHECK`], so a 3.4 server costs one
//! refused call per [`RECHECK`], not one per page.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use etcd_client::{Client, GetOptions, GetStreamResponse, KeyValue};

use super::etcd_err;
use crate::connectors::etcd::response_too_large;
use crate::error::{with_timeout, Result};

/// Longest wait for one chunk (a server that stops sending is an error, not a hang).
const CHUNK_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a member's "no RangeStream" answer is trusted (a server may be upgraded).
pub const RECHECK: Duration = Duration::from_secs(600);

/// Reset streams h2 remembers per connection (`max_concurrent_reset_streams`).
pub const H2_RESETS_KEPT: usize = 10;
/// For how long h2 remembers a reset stream (`reset_stream_duration`).
pub const DROP_WINDOW: Duration = Duration::from_secs(30);
/// Streams dropped on a member within [`DROP_WINDOW`] before streams are
/// refused for a while (room left for other calls dropped meanwhile).
pub const DROPS_ALLOWED: usize = 6;

/// The member a request was answered by, and the revision it answered at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadPoint {
    pub revision: i64,
    member: (u64, u64),
}

/// Members that answered `Unimplemented`, and when.
fn refused() -> &'static Mutex<HashMap<(u64, u64), Instant>> {
    static REFUSED: OnceLock<Mutex<HashMap<(u64, u64), Instant>>> = OnceLock::new();
    REFUSED.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Whether `member` answered `Unimplemented` within [`RECHECK`] before `now`.
fn known_unsupported(member: (u64, u64), now: Instant) -> bool {
    let Ok(mut m) = refused().lock() else { return false };
    match m.get(&member) {
        Some(at) if now.saturating_duration_since(*at) < RECHECK => true,
        Some(_) => {
            m.remove(&member);
            false
        }
        None => false,
    }
}

fn note_unsupported(member: (u64, u64)) {
    if let Ok(mut m) = refused().lock() {
        m.insert(member, Instant::now());
    }
}

/// The current revision, from a read of the single key `key` (one index
/// lookup, whatever the prefix under it holds), and who answered.
pub async fn read_point(client: &mut Client, what: &str, key: &[u8]) -> Result<ReadPoint> {
    // etcd refuses an empty key: the whole key space starts at "\0".
    let key = if key.is_empty() { &[0u8][..] } else { key };
    let resp = with_timeout(what.to_string(), CHUNK_TIMEOUT, async {
        client.get(key, Some(GetOptions::new().with_count_only())).await.map_err(etcd_err)
    })
    .await?;
    let h = resp.header();
    Ok(ReadPoint { revision: h.map(|h| h.revision()).unwrap_or(0), member: h.map(|h| (h.cluster_id(), h.member_id())).unwrap_or((0, 0)) })
}

/// When streams were dropped unfinished, per member (the last [`DROP_WINDOW`]).
type Drops = Mutex<HashMap<(u64, u64), VecDeque<Instant>>>;

fn drops() -> &'static Drops {
    static DROPS: OnceLock<Drops> = OnceLock::new();
    DROPS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Whether a stream on `member` may be dropped at `now` without risking h2's limit.
fn may_drop(member: (u64, u64), now: Instant) -> bool {
    let Ok(mut m) = drops().lock() else { return false };
    let Some(q) = m.get_mut(&member) else { return true };
    while q.front().is_some_and(|at| now.saturating_duration_since(*at) >= DROP_WINDOW) {
        q.pop_front();
    }
    q.len() < DROPS_ALLOWED
}

fn note_drop(member: (u64, u64)) {
    if let Ok(mut m) = drops().lock() {
        m.entry(member).or_default().push_back(Instant::now());
    }
}

fn is_unimplemented(e: &etcd_client::Error) -> bool {
    matches!(e, etcd_client::Error::GRpcStatus(s) if s.code() == tonic::Code::Unimplemented)
}

/// An open stream of `[start, end)` at one revision. Dropped before its end,
/// it is noted against its member (see the module's notes).
pub struct RangeReader {
    stream: GetStreamResponse,
    what: String,
    member: (u64, u64),
    /// Read to its end, or ended by an error (nothing left to reset).
    ended: bool,
    /// Ended by a chunk the client refused as over [`RESPONSE_MAX`](crate::connectors::etcd::RESPONSE_MAX).
    too_large: bool,
}

impl RangeReader {
    /// The next chunk's key-values, in key order; `None` once the range is read.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<KeyValue>>> {
        let stream = &mut self.stream;
        let msg = with_timeout(self.what.clone(), CHUNK_TIMEOUT, async { Ok(stream.message().await) }).await;
        match msg {
            Ok(Ok(Some(mut m))) => Ok(Some(m.take_kvs())),
            Ok(Ok(None)) => {
                self.ended = true;
                Ok(None)
            }
            Ok(Err(e)) => {
                self.ended = true;
                self.too_large = response_too_large(&e);
                Err(etcd_err(e))
            }
            // A timeout leaves the stream open: dropping it resets it.
            Err(e) => Err(e),
        }
    }

    /// Whether the stream ended on a chunk the client refused as bigger than
    /// [`RESPONSE_MAX`](crate::connectors::etcd::RESPONSE_MAX) (a value that big, or several big ones in one chunk):
    /// the keys after the last chunk read can still be read in pages
    /// ([`super::paging`], which names a value too big to be read at all).
    pub fn refused_as_too_large(&self) -> bool {
        self.too_large
    }
}

impl Drop for RangeReader {
    fn drop(&mut self) {
        if !self.ended {
            note_drop(self.member);
        }
    }
}

/// Opens a stream of `[start, end)` (`end` `[0]`: to the end of the key
/// space) at `at.revision`; `None` when the server has no `RangeStream`, or
/// while [`DROPS_ALLOWED`] streams were dropped on the member lately.
pub async fn open(client: &Client, what: &str, start: &[u8], end: &[u8], at: ReadPoint, keys_only: bool) -> Result<Option<RangeReader>> {
    let now = Instant::now();
    if known_unsupported(at.member, now) || !may_drop(at.member, now) {
        return Ok(None);
    }
    let mut opts = GetOptions::new().with_range(end.to_vec()).with_revision(at.revision);
    if keys_only {
        opts = opts.with_keys_only();
    }
    let mut kv = client.kv_client();
    let opened = with_timeout(what.to_string(), CHUNK_TIMEOUT, async { Ok(kv.get_stream(start.to_vec(), Some(opts)).await) }).await?;
    match opened {
        Ok(stream) => Ok(Some(RangeReader { stream, what: what.to_string(), member: at.member, ended: false, too_large: false })),
        Err(e) if is_unimplemented(&e) => {
            note_unsupported(at.member);
            Ok(None)
        }
        Err(e) => Err(etcd_err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_remembered_per_member_until_rechecked() {
        let (a, b) = ((7, 1), (7, 2));
        let now = Instant::now();
        assert!(!known_unsupported(a, now));
        note_unsupported(a);
        assert!(known_unsupported(a, Instant::now()));
        assert!(!known_unsupported(b, Instant::now()), "another member of the cluster is asked itself");
        let later = Instant::now() + RECHECK + Duration::from_secs(1);
        assert!(!known_unsupported(a, later), "asked again after RECHECK");
        assert!(!refused().lock().unwrap().contains_key(&a));
    }

    #[test]
    fn streams_wait_while_too_many_were_dropped_lately() {
        let m = (9, 9);
        for _ in 0..DROPS_ALLOWED {
            assert!(may_drop(m, Instant::now()));
            note_drop(m);
        }
        assert!(!may_drop(m, Instant::now()), "{DROPS_ALLOWED} drops within {DROP_WINDOW:?}");
        assert!(may_drop((9, 10), Instant::now()), "another member has its own count");
        assert!(may_drop(m, Instant::now() + DROP_WINDOW), "the drops are past the window");
        const { assert!(DROPS_ALLOWED < H2_RESETS_KEPT) };
    }

    #[test]
    fn only_unimplemented_means_no_range_stream() {
        assert!(is_unimplemented(&etcd_client::Error::GRpcStatus(tonic::Status::unimplemented("unknown method RangeStream"))));
        assert!(!is_unimplemented(&etcd_client::Error::GRpcStatus(tonic::Status::permission_denied("no"))));
        assert!(!is_unimplemented(&etcd_client::Error::InvalidArgs("x".into())));
    }
}

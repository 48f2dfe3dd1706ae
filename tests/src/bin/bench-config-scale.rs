//! Config at scale (issue 17, item 4): one prefix of 1,000,000 keys in a real
//! etcd, side by side with etcdctl in the same run.
//!
//!   cargo build -p opsdeck-tests --bin bench-config-scale
//!   $CARGO_TARGET_DIR/debug/bench-config-scale [KEYS] [--first-screen]    # default 1000000
//!   OPSDECK_ETCD_NEWEST=1 $CARGO_TARGET_DIR/debug/bench-config-scale ...    # on etcd 3.7 (RangeStream)
//!
//! (`--first-screen`: stop after the first-screen rows.)
//!
//! Loads KEYS keys under `/scale/` once (transactions of 128 puts, 8 in
//! flight), then measures through the backend calls the app makes:
//! - first screen of the tree: the first 500 children (what the tree renders;
//!   the key count arrives beside it and is measured apart), p50 over 15 runs
//!   (a return visit: the first read ends where the first screen ended last
//!   time), after a restart (that bound from the local cache) and on a first
//!   visit ever (a new connection: nothing known; each followed by etcdctl's
//!   same page, and counted in etcd's Range and RangeStream calls), vs
//!   `etcdctl get --prefix --keys-only --limit 500`;
//! - value search: time to the first hit of a text found in one value near
//!   the start (key 1,000), at 45 % (key KEYS*9/20: inside a split window),
//!   in the middle (key KEYS/2: where a split window starts), and a whole scan with
//!   no hit (substring and fuzzy), vs `etcdctl get --prefix` (every value,
//!   what a grep needs) — and `etcdctl get --prefix --limit 500`;
//! - a full scroll: every page of the tree (1,000 a page, as the app asks while
//!   scrolling), with this process's resident memory sampled before and after
//!   (the backend holds one page at a time).

use std::time::{Duration, Instant};

use opsdeck_core::config::search::{SearchEvent, SearchMode};
use opsdeck_core::connections::ConnectionSpec;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::bench::scale::{key, load, PREFIX};
use opsdeck_tests::bench::{etcd_grpc_requests, etcd_range_requests, etcdctl, median};
use opsdeck_tests::Service;

const RUNS: usize = 15;
/// The 95th percentile, ms.
fn p95(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[(v.len() * 95 / 100).min(v.len() - 1)].as_secs_f64() * 1000.0
}

/// Resident and peak resident memory of this process, KiB.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|n| n.parse().ok()).unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Time to the first hit and to the end of a search (hits, keys scanned).
async fn search(
    t: &TestBackend,
    s: &opsdeck_core::backend::EtcdSession,
    text: &str,
    mode: SearchMode,
) -> (Option<Duration>, Duration, u64, u64) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let started = Instant::now();
    let _h = t
        .backend
        .config_value_search(s, PREFIX, text, mode, 10, move |ev| {
            let _ = tx.send((started.elapsed(), ev));
        })
        .unwrap();
    let mut first = None;
    while let Some((at, ev)) = rx.recv().await {
        match ev {
            SearchEvent::Hit { .. } => {
                first.get_or_insert(at);
            }
            SearchEvent::Done { scanned, hits, .. } => return (first, at, hits, scanned),
            SearchEvent::Error { message, .. } => panic!("{message}"),
            SearchEvent::Progress { .. } => {}
        }
    }
    panic!("the search ended without done");
}

#[tokio::main]
async fn main() {
    let keys: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let etcd = Service::start("etcd", &[]);
    let endpoint = etcd.get("ETCD_ENDPOINT").to_string();
    load(&endpoint, keys).await;
    let t = TestBackend::new().await;
    let c = t
        .add("scale", ConnectionSpec::Etcd { endpoints: vec![endpoint.clone()], tls: None, username: None, allow_plaintext: false }, None)
        .await;
    let s = t.backend.etcd_session(&c.id).await.unwrap();
    let version = etcd_client::Client::connect([endpoint.as_str()], None)
        .await
        .expect("etcd")
        .status()
        .await
        .map(|st| st.version().to_string())
        .unwrap_or_else(|e| format!("unknown ({e})"));
    println!("etcd server {version}, {keys} keys under {PREFIX}");

    // First screen: the first 500 children; the count apart. A first visit
    // knows nothing of the prefix; a return visit reads first up to where the
    // first screen ended last time.
    // Each first visit is followed at once by etcdctl's same page (side by
    // side, in turn), and counted in etcd's Range requests (its /metrics).
    let mut first_visit = Vec::new();
    let mut first_visit_theirs = Vec::new();
    let mut first_visit_calls = Vec::new();
    let mut first_visit_totals = Vec::new();
    let calls = || (etcd_range_requests(&endpoint), etcd_grpc_requests(&endpoint, "RangeStream"));
    for i in 0..7 {
        // A connection never opened: nothing remembered, nothing cached.
        let spec = ConnectionSpec::Etcd { endpoints: vec![endpoint.clone()], tls: None, username: None, allow_plaintext: false };
        let fresh = t.add(&format!("scale-new-{i}"), spec, None).await;
        let fresh = t.backend.etcd_session(&fresh.id).await.unwrap();
        let (r0, s0) = calls();
        let t0 = Instant::now();
        let page = t.backend.config_tree(&fresh, PREFIX, None, 500).await.unwrap();
        first_visit.push(t0.elapsed());
        let (r1, s1) = calls();
        first_visit_calls.push((r1 - r0, s1 - s0));
        first_visit_totals.push(page.total);
        assert_eq!(page.entries.len(), 500);
        first_visit_theirs.push(etcdctl(&endpoint, &["get", "--prefix", "--keys-only", "--limit", "500", PREFIX]));
    }
    // etcd 3.4-3.6: the page's one walk of the prefix counted it; 3.7: nothing walked it (the count is its own request).
    let streamed = first_visit_calls.iter().any(|(_, streams)| *streams > 0);
    let counted = first_visit_totals.iter().filter(|t| t.is_some()).count();
    assert!(first_visit_totals.iter().flatten().all(|n| *n == keys as i64), "a first visit's count is the prefix's");
    assert!(streamed || counted == first_visit_totals.len(), "each windowed first visit's request counted the prefix");
    let _ = t.backend.config_tree(&s, PREFIX, None, 500).await.unwrap();
    let mut restarted = Vec::new();
    for _ in 0..5 {
        // As after a restart: only the local cache knows where the first screen ended.
        opsdeck_core::config::window::forget_all();
        let t0 = Instant::now();
        let page = t.backend.config_tree(&s, PREFIX, None, 500).await.unwrap();
        restarted.push(t0.elapsed());
        assert_eq!(page.entries.len(), 500);
    }
    let mut first = Vec::new();
    for _ in 0..RUNS {
        let t0 = Instant::now();
        let page = t.backend.config_tree(&s, PREFIX, None, 500).await.unwrap();
        first.push(t0.elapsed());
        assert_eq!(page.entries.len(), 500);
        assert_eq!(page.entries[499].key, key(499));
    }
    let mut count = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        assert_eq!(t.backend.config_count(&s, PREFIX).await.unwrap() as usize, keys);
        count.push(t0.elapsed());
    }
    let theirs_first: Vec<Duration> =
        (0..RUNS).map(|_| etcdctl(&endpoint, &["get", "--prefix", "--keys-only", "--limit", "500", PREFIX])).collect();
    let theirs_first_values: Vec<Duration> = (0..5).map(|_| etcdctl(&endpoint, &["get", "--prefix", "--limit", "500", PREFIX])).collect();

    println!("| measurement ({keys} keys under {PREFIX}) | Opsdeck | etcdctl |");
    println!("| --- | --- | --- |");
    println!(
        "| first screen, return visit: first 500 children of the tree (p50 / p95, {RUNS} runs) | {:.1} / {:.1} ms | {:.1} / {:.1} ms `get --prefix --keys-only --limit 500` ({:.1} ms with values) |",
        median(first.clone()),
        p95(first),
        median(theirs_first.clone()),
        p95(theirs_first),
        median(theirs_first_values)
    );
    println!(
        "| first screen after a restart (the bound read from the local SQLite cache; p50 / p95, 5 runs) | {:.1} / {:.1} ms | same |",
        median(restarted.clone()),
        p95(restarted)
    );
    println!(
        "| first screen, first visit ever (a connection never opened; p50 / p95, 7 runs, each followed by etcdctl's) | {:.1} / {:.1} ms; etcd calls per visit (Range, RangeStream): {:?}; the key count came with {counted} of {} (a streamed visit walks nothing: the count is its own request, next row) | {:.1} / {:.1} ms, 1 request |",
        median(first_visit.clone()),
        p95(first_visit),
        first_visit_calls,
        first_visit_totals.len(),
        median(first_visit_theirs.clone()),
        p95(first_visit_theirs)
    );
    println!("| key count of the prefix (p50, 5 runs; shown beside the tree) | {:.1} ms | – |", median(count));
    if std::env::args().any(|a| a == "--first-screen") {
        return; // the first-screen rows only
    }

    // Value search. Streams dropped by the first visits above keep further
    // streams off for a while on this member (config::stream's guard, as
    // after a user opened seven big prefixes within 30 s): wait that out,
    // so the searches read as they would at a user's pace.
    if streamed {
        tokio::time::sleep(opsdeck_core::config::stream::DROP_WINDOW).await;
    }
    let (sr0, ss0) = calls();
    let early = search(&t, &s, "early-needle", SearchMode::Substring).await;
    let middle = search(&t, &s, "middle-needle", SearchMode::Substring).await;
    let inner = search(&t, &s, "inner-needle", SearchMode::Substring).await;
    let fuzzy_early = search(&t, &s, "erlyndl", SearchMode::Fuzzy).await;
    let none = search(&t, &s, "no-such-text-anywhere", SearchMode::Substring).await;
    let (sr1, ss1) = calls();
    println!("etcd calls of the 5 searches: Range {}, RangeStream {}", sr1 - sr0, ss1 - ss0);
    let theirs_all: Vec<Duration> = (0..3).map(|_| etcdctl(&endpoint, &["get", "--prefix", PREFIX])).collect();
    let theirs_keys: Vec<Duration> = (0..3).map(|_| etcdctl(&endpoint, &["get", "--prefix", "--keys-only", PREFIX])).collect();

    // A full scroll through the tree, 1,000 a page.
    let before = rss();
    let t0 = Instant::now();
    let mut cursor = None;
    let mut n = 0;
    let mut pages = 0;
    let mut each = Vec::new();
    loop {
        let p0 = Instant::now();
        let page = t.backend.config_tree(&s, PREFIX, cursor.as_deref(), 1000).await.unwrap();
        each.push(p0.elapsed());
        n += page.entries.len();
        pages += 1;
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let scroll = t0.elapsed();
    let after = rss();
    assert_eq!(n, keys);

    let hit = |r: &(Option<Duration>, Duration, u64, u64)| match r.0 {
        Some(d) => format!("first hit {:.0} ms, whole scan {:.0} ms ({} keys)", ms(d), ms(r.1), r.3),
        None => format!("no hit; whole scan {:.0} ms ({} keys)", ms(r.1), r.3),
    };
    println!(
        "| value search, text in key 1,000 | {} | {:.0} ms `get --prefix` (every value, what a grep reads; p50 of 3) |",
        hit(&early),
        median(theirs_all)
    );
    println!("| value search, text in key {} | {} | same |", keys * 9 / 20, hit(&inner));
    println!("| value search, text in key {} | {} | same |", keys / 2, hit(&middle));
    println!("| fuzzy search (`erlyndl`), match in key 1,000 | {} | – |", hit(&fuzzy_early));
    println!("| value search, no hit (whole scan) | {} | {:.0} ms `get --prefix --keys-only` |", hit(&none), median(theirs_keys));
    let worst = each.iter().max().copied().unwrap_or_default();
    println!(
        "| full scroll: {pages} pages of 1,000 | {:.1} s (page p50 / p95 {:.1} / {:.1} ms, slowest {:.0} ms); RSS {} → {} MiB, peak {} MiB | – |",
        scroll.as_secs_f64(),
        median(each.clone()),
        p95(each),
        ms(worst),
        before.0 / 1024,
        after.0 / 1024,
        after.1 / 1024
    );
}

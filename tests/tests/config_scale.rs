//! The Config workspace at scale against a real etcd (issue 17, item 4), on
//! both kinds of server: Debian's etcd 3.4 (no RangeStream: the tree's pages
//! read through key windows; a value search over a big prefix is split and
//! read by several scanners at once) and etcd 3.7 (pages and searches read
//! streams). Either way pages, and a first page that starts from where it
//! ended on the last visit, stay exact when keys come and go; a search finds
//! every hit exactly once, scans every key once, and stops at its limit.
//! (The timings are in bench-config-scale.)

use std::collections::BTreeSet;
use std::time::Duration;

use etcd_client::{Client, GetOptions, Txn, TxnOp};
use opsdeck_core::backend::EtcdSession;
use opsdeck_core::config::search::{SearchEvent, SearchMode, SPLIT_ABOVE};
use opsdeck_core::config::TreePage;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::bench::etcd_grpc_requests;
use opsdeck_tests::Service;
use tokio::sync::mpsc::unbounded_channel;

/// Keys of uneven spread: a dense run, a directory, a sparse tail, one key at
/// the prefix's first byte; every 7,919th value holds the needle.
fn keys() -> Vec<String> {
    let mut k: Vec<String> = (0..40_000).map(|i| format!("/z/a{i:05}")).collect();
    k.extend((0..15_000).map(|i| format!("/z/b/{:03}/x{i:05}", i % 300)));
    k.extend((0..5_000).map(|i| format!("/z/c{:x}", i * 7919)));
    k.push("/z/\u{1}".into());
    k.push("/z/~last".into());
    k
}

fn value(i: usize) -> String {
    if i % 7919 == 3 {
        format!("host: needle-{i}.internal")
    } else {
        format!("value {i}")
    }
}

async fn put_all(c: &mut Client, keys: &[String]) {
    let mut pending = Vec::new();
    for chunk in keys.iter().enumerate().collect::<Vec<_>>().chunks(128) {
        let ops: Vec<TxnOp> = chunk.iter().map(|(i, k)| TxnOp::put(k.as_str(), value(*i), None)).collect();
        let mut c = c.clone();
        pending.push(tokio::spawn(async move { c.txn(Txn::new().and_then(ops)).await.unwrap() }));
        if pending.len() == 8 {
            for p in pending.drain(..) {
                p.await.unwrap();
            }
        }
    }
    for p in pending {
        p.await.unwrap();
    }
}

/// The children of `/z/` as etcd holds them now (dirs collapsed), from one full read.
async fn expected_children(c: &mut Client) -> Vec<String> {
    let all = c.get("/z/", Some(GetOptions::new().with_prefix().with_keys_only())).await.unwrap();
    let mut out: Vec<String> = Vec::new();
    for kv in all.kvs() {
        let rel = &kv.key_str().unwrap()[3..];
        let child = match rel.find('/') {
            Some(i) => format!("/z/{}", &rel[..=i]),
            None => format!("/z/{rel}"),
        };
        if out.last() != Some(&child) {
            out.push(child);
        }
    }
    out
}

fn page_keys(p: &TreePage) -> Vec<String> {
    p.entries.iter().map(|e| e.key.clone()).collect()
}

/// Debian's etcd 3.4 (`newest` false: no RangeStream) or the newest etcd
/// built by scripts/setup/build-etcd.sh (3.7: RangeStream).
fn etcd(newest: bool) -> Service {
    Service::start("etcd", if newest { &[("OPSDECK_ETCD_NEWEST", "1")] } else { &[] })
}

/// An etcd holding [`keys`], a client to it, and a backend session on it.
async fn loaded(newest: bool) -> (Service, Client, Vec<String>, TestBackend, EtcdSession) {
    let etcd = etcd(newest);
    let mut o = Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    let all = keys();
    put_all(&mut o, &all).await;
    let t = TestBackend::new().await;
    let s = t.etcd_session("scale", etcd.get("ETCD_ENDPOINT")).await;
    (etcd, o, all, t, s)
}

/// Every child key of `prefix` from `cursor` to the end, `limit` a page.
async fn scroll(t: &TestBackend, s: &EtcdSession, prefix: &str, mut cursor: Option<String>, limit: i64) -> Vec<String> {
    let mut got = Vec::new();
    loop {
        let page = t.backend.config_tree(s, prefix, cursor.as_deref(), limit).await.unwrap();
        got.extend(page_keys(&page));
        cursor = page.next_cursor;
        if cursor.is_none() {
            return got;
        }
    }
}

#[tokio::test]
async fn tree_pages_through_windows_and_a_remembered_first_screen_stay_exact() {
    tree_pages_stay_exact(false).await;
}

#[tokio::test]
async fn tree_pages_through_streams_and_a_remembered_first_screen_stay_exact() {
    tree_pages_stay_exact(true).await;
}

async fn tree_pages_stay_exact(newest: bool) {
    let (etcd, mut o, _, t, s) = loaded(newest).await;
    let streams = || etcd_grpc_requests(etcd.get("ETCD_ENDPOINT"), "RangeStream");

    // A whole scroll, 500 a page: every child once, in order (the dir once).
    let want = expected_children(&mut o).await;
    assert_eq!(want.len(), 40_000 + 1 + 5_000 + 2);
    let got = scroll(&t, &s, "/z/", None, 500).await;
    assert_eq!(got.len(), want.len());
    assert!(got == want, "the scroll differs from etcd's keys");
    // A stream for the first page on 3.7, none on 3.4.
    let opened = streams();
    assert_eq!(opened > 0, newest, "RangeStream calls: {opened}");

    // A return visit reads first up to where the first screen ended: keys
    // deleted and added before that end, and a cursor of an older page, still
    // give etcd's keys exactly.
    let first = t.backend.config_tree(&s, "/z/", None, 500).await.unwrap();
    assert_eq!(page_keys(&first), want[..500].to_vec());
    o.delete("/z/a00010", Some(etcd_client::DeleteOptions::new().with_range("/z/a00400"))).await.unwrap();
    o.put("/z/a00005x", "new", None).await.unwrap();
    o.put("/z/0-first", "new", None).await.unwrap();
    let want = expected_children(&mut o).await;
    let again = t.backend.config_tree(&s, "/z/", None, 500).await.unwrap();
    assert_eq!(page_keys(&again), want[..500].to_vec(), "a first screen past the remembered end");
    let next = t.backend.config_tree(&s, "/z/", again.next_cursor.as_deref(), 500).await.unwrap();
    assert_eq!(page_keys(&next), want[500..1000].to_vec());
    // Everything under the remembered end deleted: the page goes on past it.
    o.delete("/z/", Some(etcd_client::DeleteOptions::new().with_range("/z/a01000"))).await.unwrap();
    let want = expected_children(&mut o).await;
    let after = t.backend.config_tree(&s, "/z/", None, 500).await.unwrap();
    assert_eq!(page_keys(&after), want[..500].to_vec());
    // A cursor made by an earlier version (no window depth) still reads.
    let old_cursor = opsdeck_core::config::keys::encode_cursor(want[500].as_bytes());
    let page = t.backend.config_tree(&s, "/z/", Some(&old_cursor), 3).await.unwrap();
    assert_eq!(page_keys(&page), want[500..503].to_vec());
}

/// On etcd 3.4 a first visit of a prefix is one walk of it, and etcd's
/// count of that request is the key count shown beside the tree (no second
/// walk of a million keys); a return visit reads up to the remembered bound,
/// also one request, and brings no count (it counted only the bound's keys).
/// (Each read also asks etcd for the revision: one single-key read.)
#[tokio::test]
async fn a_first_visit_is_one_range_request_that_also_counts_the_prefix() {
    let etcd = etcd(false);
    let endpoint = etcd.get("ETCD_ENDPOINT");
    let mut o = Client::connect([endpoint], None).await.unwrap();
    let mut all: Vec<String> = (0..3_000).map(|i| format!("/y/k{i:05}")).collect();
    all.extend((0..100).map(|i| format!("/y/w/{i:03}")));
    all.extend(["/x/before".to_string(), "/y0".to_string(), "/z/after".to_string()]);
    all.extend((0..10).map(|i| format!("/small/{i}")));
    put_all(&mut o, &all).await;
    let t = TestBackend::new().await;
    let s = t.etcd_session("first-visit", endpoint).await;
    let ranges = |f: u64| opsdeck_tests::bench::etcd_range_requests(endpoint) - f;

    let before = ranges(0);
    let first = t.backend.config_tree(&s, "/y/", None, 500).await.unwrap();
    assert_eq!(ranges(before), 2, "a first visit: the revision, then the first screen in one request");
    assert_eq!(first.total, Some(3_100), "and that request counted every key under the prefix, all depths");
    assert_eq!(page_keys(&first)[..2], ["/y/k00000".to_string(), "/y/k00001".to_string()]);
    assert_eq!(first.entries.len(), 500);
    assert_eq!(t.backend.config_count(&s, "/y/").await.unwrap(), 3_100);
    assert_eq!(etcd_grpc_requests(endpoint, "RangeStream"), 0, "etcd 3.4 has no RangeStream");

    let before = ranges(0);
    let again = t.backend.config_tree(&s, "/y/", None, 500).await.unwrap();
    assert_eq!(ranges(before), 1, "a return visit: one request up to the remembered bound");
    assert_eq!(page_keys(&again), page_keys(&first));
    assert_eq!(again.total, None, "a read up to the bound counted only the bound's keys");
    let next = t.backend.config_tree(&s, "/y/", again.next_cursor.as_deref(), 500).await.unwrap();
    assert_eq!(next.total, None, "a later page does not count the prefix");

    // A prefix smaller than a page: complete in the one request, counted too.
    let before = ranges(0);
    let small = t.backend.config_tree(&s, "/small/", None, 500).await.unwrap();
    assert_eq!(ranges(before), 2);
    assert_eq!((small.entries.len(), small.next_cursor.as_deref(), small.total), (10, None, Some(10)));
}

/// On etcd 3.7 a first visit streams the first screen and never walks the
/// prefix: one single-key read for the revision, one RangeStream read as far
/// as the page needs (dropped there, so etcd counts nothing); the key count
/// beside the tree is its own request. After a directory of many keys the
/// page goes on through windows.
#[tokio::test]
async fn a_first_visit_on_etcd_3_7_streams_the_first_screen_without_walking_the_prefix() {
    let etcd = etcd(true);
    let endpoint = etcd.get("ETCD_ENDPOINT");
    let mut o = Client::connect([endpoint], None).await.unwrap();
    let mut all: Vec<String> = (0..3_000).map(|i| format!("/y/k{i:05}")).collect();
    all.extend((0..2_000).map(|i| format!("/d/a/{i:05}")));
    all.extend(["/d/b".to_string(), "/d/c/1".to_string(), "/d/c/2".to_string(), "/d/e".to_string(), "/y0".to_string()]);
    put_all(&mut o, &all).await;
    let t = TestBackend::new().await;
    let s = t.etcd_session("first-visit", endpoint).await;
    let calls = || (opsdeck_tests::bench::etcd_range_requests(endpoint), etcd_grpc_requests(endpoint, "RangeStream"));

    let (r0, s0) = calls();
    let first = t.backend.config_tree(&s, "/y/", None, 500).await.unwrap();
    let (r1, s1) = calls();
    assert_eq!((r1 - r0, s1 - s0), (1, 1), "one single-key read for the revision, one stream");
    assert_eq!(first.entries.len(), 500);
    assert_eq!(page_keys(&first), (0..500).map(|i| format!("/y/k{i:05}")).collect::<Vec<_>>());
    assert_eq!(first.total, None, "nothing counted the prefix");
    assert!(first.revision > 0);
    assert_eq!(t.backend.config_count(&s, "/y/").await.unwrap(), 3_000);
    // Later pages read through windows from the cursor; the last ends the prefix.
    let rest = scroll(&t, &s, "/y/", first.next_cursor.clone(), 1000).await;
    assert_eq!(rest.first().map(String::as_str), Some("/y/k00500"));
    assert_eq!(500 + rest.len(), 3_000);

    // A 2,000-key directory first: listed once, the page goes on through
    // windows after it (the stream is not read through the directory).
    let (_, s0) = calls();
    let d = t.backend.config_tree(&s, "/d/", None, 500).await.unwrap();
    let (_, s1) = calls();
    assert_eq!(page_keys(&d), ["/d/a/", "/d/b", "/d/c/", "/d/e"]);
    assert_eq!(d.next_cursor, None);
    assert_eq!(s1 - s0, 1, "one stream");
    // A page that ends on a directory: the cursor starts at it.
    let d2 = t.backend.config_tree(&s, "/d/", None, 2).await.unwrap();
    assert_eq!(page_keys(&d2), ["/d/a/", "/d/b"]);
    let rest = t.backend.config_tree(&s, "/d/", d2.next_cursor.as_deref(), 2).await.unwrap();
    assert_eq!(page_keys(&rest), ["/d/c/", "/d/e"]);
    assert_eq!(rest.next_cursor, None);
}

#[tokio::test]
async fn a_split_value_search_finds_every_hit_once_and_scans_every_key_once() {
    value_search_finds_every_hit_once(false).await;
}

#[tokio::test]
async fn a_streamed_value_search_finds_every_hit_once_and_scans_every_key_once() {
    value_search_finds_every_hit_once(true).await;
}

async fn value_search_finds_every_hit_once(newest: bool) {
    let (etcd, _, all, t, s) = loaded(newest).await;
    assert!(all.len() as i64 > SPLIT_ABOVE, "big enough to be split");

    let search = |limit: usize| {
        let (tx, mut rx) = unbounded_channel();
        let h = t
            .backend
            .config_value_search(&s, "/z/", "NEEDLE", SearchMode::Substring, limit, move |ev| {
                let _ = tx.send(ev);
            })
            .unwrap();
        async move {
            let mut hits = Vec::new();
            loop {
                match tokio::time::timeout(Duration::from_secs(60), rx.recv()).await.expect("an event within 60 s") {
                    Some(SearchEvent::Hit { hit }) => hits.push(hit.key),
                    Some(SearchEvent::Progress { .. }) => {}
                    Some(done @ SearchEvent::Done { .. }) => {
                        drop(h);
                        return (hits, done);
                    }
                    Some(SearchEvent::Error { message, .. }) => panic!("{message}"),
                    None => panic!("the search ended without done"),
                }
            }
        }
    };
    let want: BTreeSet<String> = all.iter().enumerate().filter(|(i, _)| i % 7919 == 3).map(|(_, k)| k.clone()).collect();
    assert!(want.len() > 5);
    let (hits, done) = search(1000).await;
    let got: BTreeSet<String> = hits.iter().cloned().collect();
    assert_eq!(got.len(), hits.len(), "a hit delivered twice: {hits:?}");
    assert_eq!(got, want);
    let SearchEvent::Done { scanned, hits: n, truncated, .. } = done else { unreachable!() };
    assert_eq!((scanned, n as usize, truncated), (all.len() as u64, want.len(), false), "every key scanned once");
    let streams = etcd_grpc_requests(etcd.get("ETCD_ENDPOINT"), "RangeStream");
    assert_eq!(streams, u64::from(newest), "one stream on 3.7, none on 3.4");

    // A limit stops every scanner: exactly that many hits.
    let (hits, done) = search(3).await;
    let SearchEvent::Done { hits: n, truncated, .. } = done else { unreachable!() };
    assert_eq!((hits.len(), n, truncated), (3, 3, true));
    assert!(hits.iter().all(|h| want.contains(h)));
}

/// Every first visit of a big prefix drops its stream once the page is full,
/// and the HTTP/2 client (h2) remembers only 10 reset streams for 30 s:
/// frames still arriving for a dropped stream it forgot count against a
/// limit of 1,024 per connection, and then it closes the connection (with
/// every call on it). 1,500 first visits in a row on one connection (without
/// the guard in config::stream the connection broke at visit 1,217–1,318):
/// every visit answers, the first few streamed, the rest read through windows.
#[tokio::test]
async fn many_dropped_streams_do_not_break_the_connection() {
    use opsdeck_core::config::stream::DROPS_ALLOWED;
    let etcd = etcd(true);
    let endpoint = etcd.get("ETCD_ENDPOINT");
    let mut o = Client::connect([endpoint], None).await.unwrap();
    let all: Vec<String> = (0..5_000).map(|i| format!("/m/k{i:05}")).collect();
    put_all(&mut o, &all).await;
    // One connection, as the app holds one per etcd connection.
    let mut c = Client::connect([endpoint], None).await.unwrap();
    let s0 = etcd_grpc_requests(endpoint, "RangeStream");
    for i in 0..1_500 {
        // No remembered first screen: a first visit each time.
        let page = opsdeck_core::config::tree::children(&mut c, "/m/", None, 20).await.unwrap_or_else(|e| panic!("first visit {i}: {e}"));
        assert_eq!(page_keys(&page), all[..20].to_vec());
    }
    let streamed = etcd_grpc_requests(endpoint, "RangeStream") - s0;
    assert!((1..=DROPS_ALLOWED as u64).contains(&streamed), "{streamed} streams in 30 s");
    assert_eq!(opsdeck_core::config::tree::count(&mut c, "/m/").await.unwrap(), 5_000);
}

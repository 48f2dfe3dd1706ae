//! The Config workspace at scale against a real etcd (issue 17, item 4): the
//! tree's pages read through key windows and a first page that starts from
//! where it ended on the last visit stay exact when keys come and go; a value
//! search over a prefix big enough to be split and read by several scanners
//! at once finds every hit exactly once, scans every key once, and stops at
//! its limit. (The timings are in bench-config-scale.)

use std::collections::BTreeSet;
use std::time::Duration;

use etcd_client::{Client, GetOptions, Txn, TxnOp};
use opsdeck_core::config::search::{SearchEvent, SearchMode, SPLIT_ABOVE};
use opsdeck_core::config::TreePage;
use opsdeck_tests::backend::TestBackend;
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

#[tokio::test]
async fn tree_pages_through_windows_and_a_remembered_first_screen_stay_exact() {
    let etcd = Service::start("etcd", &[]);
    let mut o = Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    let all = keys();
    put_all(&mut o, &all).await;
    let t = TestBackend::new().await;
    let s = t.etcd_session("scale", etcd.get("ETCD_ENDPOINT")).await;

    // A whole scroll, 500 a page: every child once, in order (the dir once).
    let want = expected_children(&mut o).await;
    assert_eq!(want.len(), 40_000 + 1 + 5_000 + 2);
    let mut got = Vec::new();
    let mut cursor = None;
    loop {
        let page = t.backend.config_tree(&s, "/z/", cursor.as_deref(), 500).await.unwrap();
        got.extend(page_keys(&page));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(got.len(), want.len());
    assert!(got == want, "the scroll differs from etcd's keys");

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

/// A first visit of a prefix is one range request, and etcd's count of that
/// request is the key count shown beside the tree (no second walk of a
/// million keys); a return visit reads up to the remembered bound, also one
/// request, and brings no count (it counted only the bound's keys).
#[tokio::test]
async fn a_first_visit_is_one_range_request_that_also_counts_the_prefix() {
    let etcd = Service::start("etcd", &[]);
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
    assert_eq!(ranges(before), 1, "a first visit reads the first screen in one request");
    assert_eq!(first.total, Some(3_100), "and that request counted every key under the prefix, all depths");
    assert_eq!(page_keys(&first)[..2], ["/y/k00000".to_string(), "/y/k00001".to_string()]);
    assert_eq!(first.entries.len(), 500);
    assert_eq!(t.backend.config_count(&s, "/y/").await.unwrap(), 3_100);

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
    assert_eq!(ranges(before), 1);
    assert_eq!((small.entries.len(), small.next_cursor.as_deref(), small.total), (10, None, Some(10)));
}

#[tokio::test]
async fn a_split_value_search_finds_every_hit_once_and_scans_every_key_once() {
    let etcd = Service::start("etcd", &[]);
    let mut o = Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    let all = keys();
    assert!(all.len() as i64 > SPLIT_ABOVE, "big enough to be split");
    put_all(&mut o, &all).await;
    let t = TestBackend::new().await;
    let s = t.etcd_session("scale", etcd.get("ETCD_ENDPOINT")).await;

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

    // A limit stops every scanner: exactly that many hits.
    let (hits, done) = search(3).await;
    let SearchEvent::Done { hits: n, truncated, .. } = done else { unreachable!() };
    assert_eq!((hits.len(), n, truncated), (3, 3, true));
    assert!(hits.iter().all(|h| want.contains(h)));
}

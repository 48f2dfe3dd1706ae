//! Searching inside a prefix against a real etcd: key names and values
//! (binary ones too), paged at one revision, hits streamed before the scan
//! ends, a limit, and a search stopped by dropping its handle. The CLI's
//! `opsdeck config search` prints the same hits.

use std::time::{Duration, Instant};

use etcd_client::{Client, Txn, TxnOp};
use opsdeck_core::backend::EtcdSession;
use opsdeck_core::config::search::{MatchIn, SearchEvent, SearchHandle, SearchMode, PAGE};
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::{workspace, Service};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

async fn seed(c: &mut Client, n: usize) {
    let all: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| {
            let key = format!("/s/app{:02}/k{i:05}", i % 50);
            let value = match i {
                1234 => br#"{"db": {"password": "Hunter2-Secret"}}"#.to_vec(),
                4321 => b"\xff\x00binary SECRET inside\xfe".to_vec(),
                _ => format!("value {i} of a config").into_bytes(),
            };
            (key, value)
        })
        .chain([("/s/secret-name".to_string(), b"plain".to_vec()), ("/other/secret".to_string(), b"secret".to_vec())])
        .collect();
    for chunk in all.chunks(100) {
        let ops: Vec<TxnOp> = chunk.iter().map(|(k, v)| TxnOp::put(k.as_str(), v.clone(), None)).collect();
        c.txn(Txn::new().and_then(ops)).await.unwrap();
    }
}

async fn next(rx: &mut UnboundedReceiver<SearchEvent>) -> Option<SearchEvent> {
    tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.expect("an event within 30 s")
}

#[tokio::test]
async fn search_finds_keys_and_values_streams_hits_and_stops() {
    let etcd = Service::start("etcd", &[]);
    let mut o = Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    seed(&mut o, 15000).await;
    let t = TestBackend::new().await;
    let s = t.etcd_session("s", etcd.get("ETCD_ENDPOINT")).await;

    let (tx, mut rx) = unbounded_channel();
    let started = Instant::now();
    let _h = t
        .backend
        .config_value_search(&s, "/s/", "secret", SearchMode::Substring, 100, move |ev| {
            let _ = tx.send(ev);
        })
        .unwrap();
    let mut hits = Vec::new();
    let mut progress = Vec::new();
    let mut first_hit_after_pages = None;
    let done = loop {
        match next(&mut rx).await.expect("the search ends with done") {
            SearchEvent::Hit { hit } => {
                if first_hit_after_pages.is_none() {
                    first_hit_after_pages = Some((progress.len(), started.elapsed()));
                }
                hits.push(hit);
            }
            SearchEvent::Progress { scanned } => progress.push(scanned),
            d @ SearchEvent::Done { .. } => break d,
            SearchEvent::Error { message, .. } => panic!("{message}"),
        }
    };
    let SearchEvent::Done { scanned, hits: n, truncated, .. } = done else { unreachable!() };
    assert_eq!(scanned, 15001, "every key under /s/ (not /other/)");
    assert_eq!((n, truncated), (3, false));
    let found: Vec<(&str, MatchIn, &str)> = hits.iter().map(|h| (h.key.as_str(), h.found_in, h.matched.as_str())).collect();
    assert_eq!(
        found,
        [
            ("/s/app21/k04321", MatchIn::Value, "SECRET"),
            ("/s/app34/k01234", MatchIn::Value, "Secret"),
            ("/s/secret-name", MatchIn::Key, "secret")
        ],
        "in key order; ASCII case ignored; inside a binary value too"
    );
    assert_eq!(hits[1].before, r#"{"db": {"password": "Hunter2-"#);
    assert_eq!(hits[1].after, r#""}}"#);
    assert_eq!(hits[0].before, "\u{fffd}\0binary ", "binary bytes shown lossily, for reading only");
    // Paged: progress after each request of at most PAGE keys (windows that
    // hold fewer add requests), the first hit streamed long before the end.
    assert!(progress.len() >= 15001usize.div_ceil(PAGE as usize), "{progress:?}");
    assert!(progress.windows(2).all(|w| w[0] <= w[1] && w[1] - w[0] <= PAGE as u64), "{progress:?}");
    assert_eq!(progress.last(), Some(&15001));
    let (pages_before_first, _) = first_hit_after_pages.unwrap();
    assert!(
        pages_before_first + 1 < progress.len(),
        "first hit after {pages_before_first} pages of {}: not before the last",
        progress.len()
    );

    // A limit stops the scan early.
    let (tx, mut rx) = unbounded_channel();
    let _h2 = t.backend.config_value_search(&s, "/s/", "config", SearchMode::Substring, 5, move |ev| {
        let _ = tx.send(ev);
    });
    let mut n = 0;
    loop {
        match next(&mut rx).await.unwrap() {
            SearchEvent::Hit { .. } => n += 1,
            SearchEvent::Done { hits, truncated, scanned, .. } => {
                assert_eq!((hits, truncated, n), (5, true, 5));
                assert!(scanned < PAGE as u64 + 1, "stopped in the first page: {scanned}");
                break;
            }
            SearchEvent::Progress { .. } => {}
            SearchEvent::Error { message, .. } => panic!("{message}"),
        }
    }

    // Dropping the handle stops the scan: the events end without `done`.
    let (tx, mut rx) = unbounded_channel();
    let h3 = t.backend.config_value_search(&s, "/s/", "no such text anywhere", SearchMode::Substring, 10, move |ev| {
        let _ = tx.send(ev);
    });
    drop(h3);
    let mut got_done = false;
    while let Some(ev) = next(&mut rx).await {
        got_done |= matches!(ev, SearchEvent::Done { .. });
    }
    assert!(!got_done, "a stopped search does not finish");

    // Bad input.
    assert!(t.backend.config_value_search(&s, "/s/", "   ", SearchMode::Substring, 10, |_| {}).is_err());

    // The CLI: the same hits, exit 1 when nothing matches.
    let data = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        workspace::cli(data.path(), "opsdeck-cli-search")
            .args(["config", "--endpoints", etcd.get("ETCD_ENDPOINT"), "search"])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["/s/", "SECRET"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains("/s/app34/k01234\tvalue\t") && text.contains("[Secret]"), "{text}");
    let out = run(&["/s/", "nothing-like-this"]);
    assert_eq!(out.status.code(), Some(1));
}

/// Collects a search's hits until its `done` (panics on `error`).
async fn collect(rx: &mut UnboundedReceiver<SearchEvent>) -> (Vec<opsdeck_core::config::search::SearchHit>, SearchEvent) {
    let mut hits = Vec::new();
    loop {
        match next(rx).await.expect("the search ends with done") {
            SearchEvent::Hit { hit } => hits.push(hit),
            SearchEvent::Progress { .. } => {}
            d @ SearchEvent::Done { .. } => return (hits, d),
            SearchEvent::Error { message, .. } => panic!("{message}"),
        }
    }
}

/// The matched runs of a hit in [brackets], the rest as shown.
fn marked(hit: &opsdeck_core::config::search::SearchHit) -> String {
    hit.parts.iter().map(|p| if p.hit { format!("[{}]", p.text) } else { p.text.clone() }).collect()
}

#[tokio::test]
async fn fuzzy_search_finds_letters_in_order_in_keys_and_values_and_marks_them() {
    let etcd = Service::start("etcd", &[]);
    let mut o = Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    seed(&mut o, 3000).await;
    for (k, v) in [
        ("/s/zz/db/password", b"x".to_vec()),
        ("/s/zz/passdb", b"wrong order".to_vec()),
        ("/s/zz/conf.yaml", b"server:\n  listen: 8080\n  tls_cert_file: /etc/certs/srv.pem\n".to_vec()),
        ("/s/zz/blob", b"\xff\xfe\x00 DB-PASSWD \x01".to_vec()),
        ("/s/zz/scattered", b"the database is fine, please wait".to_vec()),
        ("/s/zz/配置/数据库", "主机 = 数据库服务器".as_bytes().to_vec()),
    ] {
        o.put(k, v, None).await.unwrap();
    }
    let t = TestBackend::new().await;
    let s = t.etcd_session("s", etcd.get("ETCD_ENDPOINT")).await;
    let search = |text: &str, limit: usize| {
        let (tx, rx) = unbounded_channel();
        let h = t
            .backend
            .config_value_search(&s, "/s/", text, SearchMode::Fuzzy, limit, move |ev| {
                let _ = tx.send(ev);
            })
            .unwrap();
        (h, rx)
    };

    // Letters in order with gaps, in keys (below the prefix) and values, every
    // matched run marked; a key that has the letters in another order, and a
    // value whose letters are scattered over a sentence, do not match.
    let (_h, mut rx) = search("dbpass", 100);
    let (hits, done) = collect(&mut rx).await;
    let SearchEvent::Done { scanned, truncated, .. } = done else { unreachable!() };
    assert_eq!((scanned, truncated), (3007, false), "every key under /s/");
    let found: Vec<(&str, MatchIn, String)> = hits.iter().map(|h| (h.key.as_str(), h.found_in, marked(h))).collect();
    assert_eq!(
        found,
        [
            ("/s/app34/k01234", MatchIn::Value, r#"{"[db]": {"[pass]word": "Hunter2-Secret"}}"#.to_string()),
            ("/s/zz/blob", MatchIn::Value, "\u{fffd}\u{fffd}\0 [DB]-[PASS]WD \u{1}".to_string()),
            ("/s/zz/db/password", MatchIn::Key, "/s/zz/[db]/[pass]word".to_string()),
        ],
        "in key order"
    );
    assert!(hits.iter().all(|h| h.score.is_some_and(|s| s > 0)), "fuzzy hits carry a score");
    assert_eq!(hits[2].matched, "db/pass", "matched spans first to last marked character");

    // A value's best line, cut around the match; words each match; CJK.
    let (_h, mut rx) = search("tls cert", 100);
    let (hits, _) = collect(&mut rx).await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    let shown = marked(&hits[0]);
    assert!(shown.starts_with("  [tls]_") && shown.contains("cert]") && shown.ends_with("srv.pem"), "the whole line: {shown}");
    let (_h, mut rx) = search("配置 数据库", 100);
    let (hits, _) = collect(&mut rx).await;
    assert_eq!(hits.iter().map(marked).collect::<Vec<_>>(), ["/s/zz/[配置]/[数据库]"]);

    // The same paged scan: a limit stops it in the first page, dropping the
    // handle stops it without `done`.
    let (_h, mut rx) = search("value cfg", 3);
    let (hits, done) = collect(&mut rx).await;
    let SearchEvent::Done { scanned, truncated, .. } = done else { unreachable!() };
    assert_eq!((hits.len(), truncated), (3, true));
    assert!(scanned <= PAGE as u64, "{scanned}");
    let (h, mut rx) = search("qqqqzzzz", 10);
    drop(h);
    while let Some(ev) = next(&mut rx).await {
        assert!(!matches!(ev, SearchEvent::Done { .. }), "a stopped search does not finish");
    }

    // Bad input: nothing typed.
    assert!(t.backend.config_value_search(&s, "/s/", "  \t ", SearchMode::Fuzzy, 10, |_| {}).is_err());

    // The CLI: --fuzzy prints each matched run in brackets; exit 1 for none.
    let data = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        workspace::cli(data.path(), "opsdeck-cli-fuzzy")
            .args(["config", "--endpoints", etcd.get("ETCD_ENDPOINT"), "search", "--fuzzy"])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["/s/zz/", "dbpass"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/s/zz/db/password\tkey\t/s/zz/[db]/[pass]word"), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
    let out = run(&["/s/zz/", "qqqqzzzz"]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&["--format", "json", "/s/zz/", "tlscert"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(r#""found_in":"value""#) && text.contains(r#""hit":true"#), "{text}");
}

/// The backend's substring search of `text` under `prefix`, its events on a channel.
fn searching(t: &TestBackend, s: &EtcdSession, prefix: &str, text: &str) -> (SearchHandle, UnboundedReceiver<SearchEvent>) {
    let (tx, rx) = unbounded_channel();
    let h = t
        .backend
        .config_value_search(s, prefix, text, SearchMode::Substring, 10, move |ev| {
            let _ = tx.send(ev);
        })
        .unwrap();
    (h, rx)
}

/// Values too big for a page of the usual key count: the client refuses a
/// response over 4 MiB, so a search or a comparison reads fewer keys a
/// request where values are big, and still reads every key once (a search on
/// etcd 3.4 through windows, on the newest etcd through one stream).
async fn big_values_are_all_searched(newest: bool) {
    let etcd = Service::start("etcd", if newest { &[("OPSDECK_ETCD_NEWEST", "1")] } else { &[] });
    let mut o = Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    // 600 values of 48 KiB (28 MiB in all), a few of 1 MiB among them, small
    // ones after; the text is in the last big value and in the last key.
    let big = |i: usize| {
        let mut v = vec![b'x'; if i % 150 == 7 { 1 << 20 } else { 48 << 10 }];
        if i == 599 {
            v.extend_from_slice(b" needle-at-the-end");
        }
        v
    };
    for i in 0..600 {
        o.put(format!("/big/k{i:04}"), big(i), None).await.unwrap();
    }
    for i in 600..3000 {
        let v = if i == 2999 { "small needle-at-the-end".to_string() } else { format!("small {i}") };
        o.put(format!("/big/k{i:04}"), v, None).await.unwrap();
    }
    let t = TestBackend::new().await;
    let s = t.etcd_session("big", etcd.get("ETCD_ENDPOINT")).await;
    let (_h, mut rx) = searching(&t, &s, "/big/", "needle-at-the-end");
    let (hits, done) = collect(&mut rx).await;
    let mut keys: Vec<&str> = hits.iter().map(|h| h.key.as_str()).collect();
    keys.sort();
    assert_eq!(keys, ["/big/k0599", "/big/k2999"], "{done:?}");
    match done {
        SearchEvent::Done { scanned, hits, truncated, .. } => {
            assert_eq!((scanned, hits, truncated), (3000, 2, false));
        }
        other => panic!("{other:?}"),
    }
    // A comparison (and so an export or a promotion: the same paged read)
    // carries every value, byte for byte.
    let diff = t.backend.config_compare(&s, "/big/", "/none/").await.unwrap();
    assert_eq!((diff.only_left.len(), diff.only_right.len(), diff.different.len()), (3000, 0, 0));
    for (i, item) in diff.only_left.iter().enumerate() {
        assert_eq!(item.rel, format!("k{i:04}"));
        let want = if i < 600 {
            String::from_utf8(big(i)).unwrap()
        } else if i == 2999 {
            "small needle-at-the-end".into()
        } else {
            format!("small {i}")
        };
        assert!(item.left.as_deref() == Some(want.as_str()), "k{i:04}: {} bytes", item.left.as_ref().map_or(0, |v| v.len()));
    }
}

#[tokio::test]
async fn a_value_search_over_big_values_scans_every_key_on_etcd_3_4() {
    big_values_are_all_searched(false).await;
}

#[tokio::test]
async fn a_value_search_over_big_values_scans_every_key_on_the_newest_etcd() {
    big_values_are_all_searched(true).await;
}

/// A value bigger than the 4 MiB a response may carry (possible on a server
/// started with a larger `--max-request-bytes`): a search and a comparison
/// stop with an error naming its key, after the keys before it were read.
/// On the newest etcd the search streams, and that server's chunks grow
/// towards its request size (6 MiB here), so even the 64 KiB values before
/// it may come in a chunk the client refuses: the rest is read in pages.
async fn a_value_over_what_a_response_carries_is_named(newest: bool) {
    let newest_env: &[(&str, &str)] = if newest { &[("OPSDECK_ETCD_NEWEST", "1")] } else { &[] };
    let etcd = Service::start_with_args("etcd", &["--max-request-bytes=6291456"], newest_env);
    let mut o = Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    o.put("/huge/a", "small needle", None).await.unwrap();
    o.put("/huge/b", vec![b'x'; 5 << 20], None).await.unwrap();
    o.put("/huge/c", "small", None).await.unwrap();
    for i in 0..120 {
        let mut v = vec![b'y'; 64 << 10];
        if i == 119 {
            v.extend_from_slice(b" needle");
        }
        o.put(format!("/huge/a{i:03}"), v, None).await.unwrap();
    }
    let t = TestBackend::new().await;
    let s = t.etcd_session("huge", etcd.get("ETCD_ENDPOINT")).await;
    let (_h, mut rx) = searching(&t, &s, "/huge/", "needle");
    let mut hits = Vec::new();
    let message = loop {
        match next(&mut rx).await.expect("the search ends") {
            SearchEvent::Hit { hit } => hits.push(hit.key),
            SearchEvent::Progress { .. } => {}
            SearchEvent::Error { message, .. } => break message,
            done @ SearchEvent::Done { .. } => panic!("a 5 MiB value cannot be read, yet: {done:?}"),
        }
    };
    assert_eq!(hits, ["/huge/a", "/huge/a119"], "the keys before it were searched");
    assert!(message.contains("/huge/b") && message.contains("4 MiB"), "{message}");
    let err = t.backend.config_compare(&s, "/huge/", "/none/").await.unwrap_err().to_string();
    assert!(err.contains("/huge/b") && err.contains("4 MiB"), "{err}");
}

#[tokio::test]
async fn a_value_over_what_a_response_carries_is_named_on_etcd_3_4() {
    a_value_over_what_a_response_carries_is_named(false).await;
}

#[tokio::test]
async fn a_value_over_what_a_response_carries_is_named_on_the_newest_etcd() {
    a_value_over_what_a_response_carries_is_named(true).await;
}

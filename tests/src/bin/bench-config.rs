//! Config workspace benchmark against a real etcd, side by side with etcdctl.
//!
//!   cargo run --release -p opsdeck-tests --bin bench-config [-- KEYS]
//!
//! Seeds KEYS (default 100,000) keys under one prefix, then measures:
//! - first screen of the tree (count + first page of 500 children) vs
//!   `etcdctl get --prefix --keys-only --limit 500`;
//! - the whole listing, paged by 1,000, vs `etcdctl get --prefix --keys-only`;
//! - guarded-write latency (one transaction comparing mod_revision), p50/p99,
//!   next to a plain unguarded put from the same client.

use std::time::{Duration, Instant};

use etcd_client::{Client, Txn, TxnOp};
use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::config::format::ValueFormat;
use opsdeck_core::config::WriteResult;
use opsdeck_core::connections::ConnectionSpec;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::bench::etcdctl;
use opsdeck_tests::Service;

const RUNS: usize = 15;

fn stats(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pct = |p: f64| ms(samples[((samples.len() as f64 - 1.0) * p).round() as usize]);
    (pct(0.5), pct(0.99), ms(samples[0]))
}

#[tokio::main]
async fn main() {
    let keys: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let etcd = Service::start("etcd", &[]);
    let endpoint = etcd.get("ETCD_ENDPOINT").to_string();
    let t = TestBackend::new().await;
    let c = t
        .add("bench", ConnectionSpec::Etcd { endpoints: vec![endpoint.clone()], tls: None, username: None, allow_plaintext: false }, None)
        .await;
    let s = t.backend.etcd_session(&c.id).await.unwrap();

    let mut raw = Client::connect([endpoint.as_str()], None).await.unwrap();
    let seed_started = Instant::now();
    let names: Vec<String> = (0..keys).map(|i| format!("/bench/keys/svc-{:03}/k{i:06}", i % 50)).collect();
    let flat: Vec<String> = (0..keys).map(|i| format!("/bench/flat/k{i:06}")).collect();
    for chunk in names.chunks(128).chain(flat.chunks(128)) {
        let ops: Vec<TxnOp> = chunk.iter().map(|k| TxnOp::put(k.as_str(), "value", None)).collect();
        raw.txn(Txn::new().and_then(ops)).await.unwrap();
    }
    eprintln!("seeded {} keys in {:?}", 2 * keys, seed_started.elapsed());

    let prefix = "/bench/flat/";
    // First screen: count + first page, as the Config view does on open.
    let mut ours = Vec::new();
    for _ in 0..RUNS {
        let t0 = Instant::now();
        let n = t.backend.config_count(&s, prefix).await.unwrap();
        let page = t.backend.config_tree(&s, prefix, None, 500).await.unwrap();
        ours.push(t0.elapsed());
        assert_eq!((n as usize, page.entries.len()), (keys, 500));
    }
    let theirs: Vec<Duration> =
        (0..RUNS).map(|_| etcdctl(&endpoint, &["get", "--prefix", "--keys-only", "--limit", "500", prefix])).collect();

    // Whole listing.
    let mut ours_all = Vec::new();
    for _ in 0..5 {
        let t0 = Instant::now();
        let mut cursor = None;
        let mut n = 0;
        loop {
            let page = t.backend.config_tree(&s, prefix, cursor.as_deref(), 1000).await.unwrap();
            n += page.entries.len();
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        ours_all.push(t0.elapsed());
        assert_eq!(n, keys);
    }
    let theirs_all: Vec<Duration> = (0..5).map(|_| etcdctl(&endpoint, &["get", "--prefix", "--keys-only", prefix])).collect();

    // Tree of 50 dirs holding `keys` keys: the dir view costs one entry per dir.
    let mut ours_dirs = Vec::new();
    for _ in 0..RUNS {
        let t0 = Instant::now();
        let page = t.backend.config_tree(&s, "/bench/keys/", None, 500).await.unwrap();
        ours_dirs.push(t0.elapsed());
        assert_eq!(page.entries.len(), 50);
    }

    // Guarded writes (audited: each also appends to the local SQLite audit log).
    let mut guarded = Vec::new();
    let mut rev = 0;
    for i in 0..1000 {
        let t0 = Instant::now();
        match t.backend.config_put(&s, "/bench/guarded", &format!("v{i}"), rev, ValueFormat::Plain, false, "").await.unwrap() {
            WriteResult::Written { meta, .. } => rev = meta.mod_revision,
            WriteResult::Conflict { .. } => panic!("unexpected conflict"),
        }
        guarded.push(t0.elapsed());
    }
    let mut plain = Vec::new();
    for i in 0..1000 {
        let t0 = Instant::now();
        raw.put("/bench/plain", format!("v{i}"), None).await.unwrap();
        plain.push(t0.elapsed());
    }
    let audited =
        t.backend.audit_log(&AuditFilter { target: Some("/bench/guarded".into()), limit: 1, ..Default::default() }).await.unwrap().total;
    assert_eq!(audited, 1000);

    let (a50, a99, amin) = stats(ours);
    let (b50, b99, bmin) = stats(theirs);
    let (c50, _, cmin) = stats(ours_all);
    let (d50, _, dmin) = stats(theirs_all);
    let (e50, e99, _) = stats(ours_dirs);
    let (g50, g99, _) = stats(guarded);
    let (p50, p99, _) = stats(plain);
    println!("| measurement ({keys} keys under one prefix) | Opsdeck | etcdctl / raw client |");
    println!("| --- | --- | --- |");
    println!("| first screen: count + first 500 keys (p50 / p99 / min, {RUNS} runs) | {a50:.1} / {a99:.1} / {amin:.1} ms | {b50:.1} / {b99:.1} / {bmin:.1} ms (`etcdctl get --prefix --keys-only --limit 500`, incl. process start) |");
    println!("| whole listing, paged by 1,000 (p50 / min, 5 runs) | {c50:.0} / {cmin:.0} ms | {d50:.0} / {dmin:.0} ms (`etcdctl get --prefix --keys-only`) |");
    println!("| tree of 50 dirs over {keys} keys, first page (p50 / p99) | {e50:.1} / {e99:.1} ms | – |");
    println!("| guarded write, txn on mod_revision + audit row (p50 / p99, 1,000 writes) | {g50:.2} / {g99:.2} ms | {p50:.2} / {p99:.2} ms (unguarded put, same client) |");
}

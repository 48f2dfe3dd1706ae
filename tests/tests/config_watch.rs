//! Watches that recover, against a real etcd this test starts (so it may kill,
//! restart and freeze it): the watch reaches etcd through a TCP relay the
//! test can cut, so "the outage" is under the test's control while etcd
//! itself stays writable. Writes made during an outage are delivered once the
//! watch resumes; when etcd compacted past the last revision the watch saw,
//! it says what may have been missed; a frozen (SIGSTOPped) etcd is noticed.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use etcd_client::{Client, CompactionOptions};
use opsdeck_core::config::format::ValueFormat;
use opsdeck_core::config::watch::{watch_with, WatchEvent, WatchTuning};
use opsdeck_core::connections::{ConnectionSpec, TlsFiles};
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::faults::etcd_process::{kill_and_restart, reconnect};
use opsdeck_tests::Service;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tokio::task::{JoinHandle, JoinSet};

/// A loopback TCP relay to etcd that the test can take down (every
/// connection cut, new ones refused) and bring back on the same port.
struct Relay {
    addr: SocketAddr,
    target: String,
    task: Option<JoinHandle<()>>,
}

impl Relay {
    async fn start(target: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut r = Relay { addr, target: target.to_string(), task: None };
        r.serve(listener);
        r
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn serve(&mut self, listener: TcpListener) {
        let target = self.target.clone();
        self.task = Some(tokio::spawn(async move {
            // Dropping the set (when this task is aborted) aborts every connection.
            let mut conns = JoinSet::new();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { return };
                let target = target.clone();
                conns.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
    }

    /// Cuts every connection and refuses new ones, until `up`.
    async fn down(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }

    async fn up(&mut self) {
        let listener = TcpListener::bind(self.addr).await.expect("rebind the relay's port");
        self.serve(listener);
    }
}

/// The next event matching `want`, skipping others (`Reconnecting` repeats
/// while an outage lasts); panics naming `what` after 30 s.
async fn wait_for(rx: &mut UnboundedReceiver<WatchEvent>, what: &str, want: impl Fn(&WatchEvent) -> bool) -> WatchEvent {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut skipped = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(ev)) if want(&ev) => return ev,
            Ok(Some(ev)) => skipped.push(ev),
            Ok(None) => panic!("{what}: the watch stopped; events before: {skipped:#?}"),
            Err(_) => panic!("{what}: not within 30 s; events meanwhile: {skipped:#?}"),
        }
    }
}

/// The next change event (put or delete): recovery events are skipped, but
/// another change arriving first is an error (order and completeness).
async fn next_change(rx: &mut UnboundedReceiver<WatchEvent>, what: &str) -> WatchEvent {
    wait_for(rx, what, |e| !matches!(e, WatchEvent::Reconnecting { .. } | WatchEvent::Resumed { .. })).await
}

fn put_of(ev: &WatchEvent) -> (&str, Option<&str>) {
    match ev {
        WatchEvent::Put { key, value, .. } => (key.as_str(), value.as_deref()),
        other => panic!("expected a put, got {other:?}"),
    }
}

async fn rev_of_put(c: &mut Client, key: &str, value: &str) -> i64 {
    c.put(key, value, None).await.unwrap().header().unwrap().revision()
}

/// The app's path through a relay: etcd, a relay to it, a saved connection
/// to the relay and the backend's watch of `/w/` (default timing).
struct Relayed {
    etcd: Service,
    relay: Relay,
    rx: UnboundedReceiver<WatchEvent>,
    _watch: opsdeck_core::config::watch::WatchHandle,
    _t: TestBackend,
}

async fn relayed_watch_of_w() -> Relayed {
    let etcd = Service::start("etcd", &[]);
    let endpoint = etcd.get("ETCD_ENDPOINT").trim_start_matches("http://").to_string();
    let relay = Relay::start(&endpoint).await;
    let t = TestBackend::new().await;
    let s = t.etcd_session("relayed", &relay.endpoint()).await;
    let (tx, rx) = unbounded_channel();
    let watch = t
        .backend
        .config_watch(&s, "/w/", move |ev| {
            let _ = tx.send(ev);
        })
        .await
        .unwrap();
    Relayed { etcd, relay, rx, _watch: watch, _t: t }
}

#[tokio::test]
async fn a_watch_resumes_after_etcd_restarts_and_reports_a_compacted_gap() {
    let Relayed { etcd, mut relay, mut rx, _watch, _t } = relayed_watch_of_w().await;
    let mut o = Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    let seen = rev_of_put(&mut o, "/w/a", "1").await;
    assert_eq!(put_of(&next_change(&mut rx, "put /w/a").await), ("/w/a", Some("1")));

    // Outage 1: the connection is cut and etcd is killed and restarted; the
    // writes are made while the watch cannot reach it.
    relay.down().await;
    let ev = wait_for(&mut rx, "reconnecting", |e| matches!(e, WatchEvent::Reconnecting { .. })).await;
    let WatchEvent::Reconnecting { last_revision, .. } = ev else { unreachable!() };
    assert_eq!(last_revision, seen, "it will resume after the last revision it delivered");
    let mut restarted = kill_and_restart(&etcd);
    let mut o = reconnect(&etcd).await;
    o.put("/w/b", "2", None).await.unwrap();
    o.put("/w/c", vec![0xffu8, 0x00], None).await.unwrap();
    o.put("/elsewhere", "x", None).await.unwrap();
    let last = o.delete("/w/a", None).await.unwrap().header().unwrap().revision();
    relay.up().await;
    let ev = wait_for(&mut rx, "resumed", |e| matches!(e, WatchEvent::Resumed { .. } | WatchEvent::Gap { .. })).await;
    assert_eq!(ev, WatchEvent::Resumed { last_revision: seen }, "resumed without a gap");
    assert_eq!(put_of(&next_change(&mut rx, "put /w/b (written during the outage)").await), ("/w/b", Some("2")));
    assert_eq!(put_of(&next_change(&mut rx, "put /w/c").await), ("/w/c", None), "binary: no text");
    let ev = next_change(&mut rx, "delete /w/a").await;
    assert!(matches!(&ev, WatchEvent::Delete { key, mod_revision } if key == "/w/a" && *mod_revision == last), "{ev:?}");

    // Outage 2: writes, then etcd compacts its history past the last
    // revision the watch saw: the watch cannot replay them and says so.
    relay.down().await;
    wait_for(&mut rx, "reconnecting (2)", |e| matches!(e, WatchEvent::Reconnecting { .. })).await;
    o.put("/w/d", "4", None).await.unwrap();
    o.put("/w/e", "5", None).await.unwrap();
    o.delete("/w/b", None).await.unwrap();
    let compact_at = rev_of_put(&mut o, "/elsewhere", "y").await;
    o.compact(compact_at, Some(CompactionOptions::new().with_physical())).await.unwrap();
    relay.up().await;
    let ev = wait_for(&mut rx, "the gap", |e| matches!(e, WatchEvent::Resumed { .. } | WatchEvent::Gap { .. })).await;
    let WatchEvent::Gap { last_revision, revision, changed, more_changed, .. } = ev else { panic!("expected a gap, got {ev:?}") };
    assert_eq!(last_revision, last);
    assert!(revision >= compact_at, "continues from now: {revision} < {compact_at}");
    assert_eq!(changed, ["/w/d", "/w/e"], "keys changed in the gap are named");
    assert!(!more_changed);
    // And it is live again.
    o.put("/w/f", "6", None).await.unwrap();
    assert_eq!(put_of(&next_change(&mut rx, "put /w/f after the gap").await), ("/w/f", Some("6")));

    drop(etcd);
    let _ = restarted.wait();
}

#[tokio::test]
async fn a_frozen_etcd_is_noticed_and_the_watch_resumes_when_it_thaws() {
    let etcd = Service::start("etcd", &[]);
    let pid: i32 = etcd.get("ETCD_PID").parse().unwrap();
    let mut client = Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    let tuning = WatchTuning {
        idle: Duration::from_secs(1),
        answer_deadline: Duration::from_secs(1),
        backoff_first: Duration::from_millis(200),
        backoff_max: Duration::from_secs(2),
        attempt_timeout: Duration::from_secs(2),
    };
    let (tx, mut rx) = unbounded_channel();
    let _watch = watch_with(&mut client, "/f/", tuning, move |ev| {
        let _ = tx.send(ev);
    })
    .await
    .unwrap();
    let mut o = Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    let seen = rev_of_put(&mut o, "/f/a", "1").await;
    assert_eq!(put_of(&next_change(&mut rx, "put /f/a").await), ("/f/a", Some("1")));
    // Quiet, but alive: progress requests are answered, nothing is reported.
    let quiet = tokio::time::timeout(Duration::from_secs(3), rx.recv()).await;
    assert!(quiet.is_err(), "a quiet, healthy watch reports nothing: {quiet:?}");

    let frozen_at = Instant::now();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0, "freeze etcd");
    let ev = wait_for(&mut rx, "a frozen etcd noticed", |e| matches!(e, WatchEvent::Reconnecting { .. })).await;
    let noticed = frozen_at.elapsed();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0, "thaw etcd");
    let WatchEvent::Reconnecting { reason, last_revision, .. } = ev else { unreachable!() };
    assert!(reason.contains("did not answer"), "{reason}");
    assert_eq!(last_revision, seen);
    assert!(noticed < Duration::from_secs(5), "noticed after {noticed:?} (idle 1 s + answer deadline 1 s)");
    o.put("/f/b", "2", None).await.unwrap();
    let ev = wait_for(&mut rx, "resumed after the thaw", |e| matches!(e, WatchEvent::Resumed { .. } | WatchEvent::Gap { .. })).await;
    assert_eq!(ev, WatchEvent::Resumed { last_revision: seen });
    assert_eq!(put_of(&next_change(&mut rx, "put /f/b").await), ("/f/b", Some("2")));
}

#[tokio::test]
async fn a_watch_with_tls_and_auth_resumes_after_etcd_restarts() {
    let etcd = Service::start("etcd-tls", &[]);
    let t = TestBackend::new().await;
    let spec = ConnectionSpec::Etcd {
        endpoints: vec![etcd.get("ETCD_ENDPOINT").into()],
        tls: Some(TlsFiles { ca_file: Some(etcd.get("ETCD_TLS_CA").into()), cert_file: None, key_file: None }),
        username: Some("alice".into()),
        allow_plaintext: false,
    };
    let c = t.add("alice", spec, Some(etcd.get("ETCD_PASSWORD"))).await;
    let s = t.backend.etcd_session(&c.id).await.unwrap();
    let (tx, mut rx) = unbounded_channel();
    let _watch = t
        .backend
        .config_watch(&s, "/app/w/", move |ev| {
            let _ = tx.send(ev);
        })
        .await
        .unwrap();
    t.backend.config_put(&s, "/app/w/a", "1", 0, ValueFormat::Plain, false, "").await.unwrap();
    assert_eq!(put_of(&next_change(&mut rx, "put /app/w/a").await), ("/app/w/a", Some("1")));

    // etcd restarts: its login tokens are gone; the watch and the writes log in again.
    let mut restarted = kill_and_restart(&etcd);
    wait_for(&mut rx, "reconnecting", |e| matches!(e, WatchEvent::Reconnecting { .. })).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match t.backend.config_put(&s, "/app/w/b", "2", 0, ValueFormat::Plain, false, "").await {
            Ok(_) => break,
            Err(e) => assert!(Instant::now() < deadline, "etcd not writable 30 s after its restart: {e}"),
        }
    }
    let ev =
        wait_for(&mut rx, "resumed", |e| matches!(e, WatchEvent::Resumed { .. } | WatchEvent::Gap { .. } | WatchEvent::Error { .. })).await;
    assert!(matches!(ev, WatchEvent::Resumed { .. }), "{ev:?}");
    assert_eq!(put_of(&next_change(&mut rx, "put /app/w/b").await), ("/app/w/b", Some("2")));

    drop(etcd);
    let _ = restarted.wait();
}

/// Writes of big values during an outage: etcd replays them in one response
/// when the watch resumes unless asked to fragment it, and the client refuses
/// a response over 4 MiB — so without fragments the watch would fail again
/// on every reconnect. Every write arrives, in order, once.
#[tokio::test]
async fn a_watch_resumes_over_more_big_values_than_one_response_can_carry() {
    let Relayed { etcd, mut relay, mut rx, _watch, _t } = relayed_watch_of_w().await;
    let mut o = Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    rev_of_put(&mut o, "/w/first", "1").await;
    assert_eq!(put_of(&next_change(&mut rx, "put /w/first").await).0, "/w/first");

    relay.down().await;
    wait_for(&mut rx, "reconnecting", |e| matches!(e, WatchEvent::Reconnecting { .. })).await;
    // 10 values of 1 MiB: 10 MiB to replay.
    let big = |i: usize| format!("{i}:{}", "v".repeat(1 << 20));
    for i in 0..10 {
        o.put(format!("/w/big{i}"), big(i), None).await.unwrap();
    }
    relay.up().await;
    for i in 0..10 {
        let ev = next_change(&mut rx, &format!("put /w/big{i} (written during the outage)")).await;
        let (key, value) = put_of(&ev);
        assert_eq!(key, format!("/w/big{i}"));
        assert!(value.is_some_and(|v| v == big(i)), "/w/big{i}: {} bytes", value.map_or(0, str::len));
    }
    o.put("/w/after", "2", None).await.unwrap();
    assert_eq!(put_of(&next_change(&mut rx, "put /w/after").await), ("/w/after", Some("2")));
}

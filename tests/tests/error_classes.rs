//! Each class of remote failure, produced by a real server, gets its own code
//! and keeps the library's error as its cause (the "details" the UI and the
//! CLI show): refused, timeout (a frozen etcd), TLS mismatch, wrong password,
//! permission denied.

use std::time::{Duration, Instant};

use opsdeck_core::config::format::ValueFormat;
use opsdeck_core::connections::{ConnectionSpec, TlsFiles};
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::Service;

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn etcd_spec(endpoint: String, tls: Option<TlsFiles>, user: Option<&str>) -> ConnectionSpec {
    ConnectionSpec::Etcd { endpoints: vec![endpoint], tls, username: user.map(Into::into), allow_plaintext: false }
}

#[tokio::test]
async fn refused_is_unreachable_with_its_cause() {
    let t = TestBackend::new().await;
    let port = closed_port();
    let etcd = t.add("etcd nobody", etcd_spec(format!("http://127.0.0.1:{port}"), None, None), None).await;
    let docker = t
        .add("docker nobody", ConnectionSpec::Docker { host: format!("tcp://127.0.0.1:{port}"), tls: None, allow_plaintext: false }, None)
        .await;
    for c in [etcd, docker] {
        let outcome = t.backend.test_connection(&c.id).await.unwrap();
        assert_eq!(outcome.error_code, Some(ErrorCode::Unreachable), "{}: {outcome:?}", c.name);
        assert!(outcome.message.contains("refused"), "{}: {}", c.name, outcome.message);
        assert!(!outcome.details.is_empty(), "{}: the library's error is kept as details: {outcome:?}", c.name);
    }
    t.cleanup().await;
}

#[tokio::test]
async fn a_frozen_etcd_is_a_timeout_not_unreachable() {
    let etcd = Service::start("etcd", &[]);
    let pid: i32 = etcd.get("ETCD_PID").parse().unwrap();
    let endpoint = etcd.get("ETCD_ENDPOINT").to_string();
    // Connected first, then frozen: the request is sent and never answered.
    let options = etcd_client::ConnectOptions::new().with_timeout(Duration::from_millis(800)).with_connect_timeout(Duration::from_secs(2));
    let mut client = etcd_client::Client::connect([endpoint.as_str()], Some(options)).await.unwrap();
    client.get("warm-up", None).await.unwrap();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0, "freeze etcd");
    let started = Instant::now();
    let result = client.get("anything", None).await;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0, "thaw etcd");
    let e = opsdeck_core::connectors::etcd::classify(result.expect_err("a frozen etcd cannot answer"), &endpoint, None);
    assert!(started.elapsed() < Duration::from_secs(5), "bounded by the client's timeout: {:?}", started.elapsed());
    assert_eq!(e.code(), ErrorCode::Timeout, "{e}");
    assert!(e.to_string().contains("did not answer in time"), "{e}");
    assert!(!opsdeck_core::error::causes(&e).is_empty(), "{e}: the library's error is kept");
    // Thawed, the same client answers again.
    client.get("after", None).await.unwrap();
}

#[tokio::test]
async fn tls_mismatch_wrong_password_and_permission_denied() {
    let etcd = Service::start("etcd-tls", &[]);
    let endpoint = etcd.get("ETCD_ENDPOINT").to_string();
    let ca = || Some(TlsFiles { ca_file: Some(etcd.get("ETCD_TLS_CA").into()), cert_file: None, key_file: None });
    let t = TestBackend::new().await;

    // No CA: the server's self-signed certificate is not trusted.
    let no_ca = t.add("no ca", etcd_spec(endpoint.clone(), None, Some("alice")), Some(etcd.get("ETCD_PASSWORD"))).await;
    let outcome = t.backend.test_connection(&no_ca.id).await.unwrap();
    assert_eq!(outcome.error_code, Some(ErrorCode::Tls), "{outcome:?}");
    assert!(!outcome.details.is_empty(), "{outcome:?}");

    let wrong = t.add("wrong pw", etcd_spec(endpoint.clone(), ca(), Some("alice")), Some("not-the-password")).await;
    let outcome = t.backend.test_connection(&wrong.id).await.unwrap();
    assert_eq!(outcome.error_code, Some(ErrorCode::Auth), "{outcome:?}");

    // alice may write under /app/ only (etcd role app-rw).
    let alice = t.add("alice", etcd_spec(endpoint, ca(), Some("alice")), Some(etcd.get("ETCD_PASSWORD"))).await;
    let s = t.backend.etcd_session(&alice.id).await.unwrap();
    let e = t.backend.config_put(&s, "/other/key", "x", 0, ValueFormat::Plain, false, "").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    assert!(e.to_string().contains("alice"), "names the user: {e}");
    t.cleanup().await;
}

// ---- Issue 19: remote faults made the way they happen (a web server where
// etcd should be, an export that stalls or is cut mid-stream, a frozen etcd
// during a guarded write, a rejected token) are classified unreachable /
// timeout / auth / protocol / outcome unknown, and the CLI's exit code says so.

mod faults {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Output, Stdio};
    use std::time::{Duration, Instant};

    use opsdeck_core::ErrorCode;
    use opsdeck_tests::faults::{After, PlainHttp, Relay, Trip, Upstream};
    use opsdeck_tests::images::{import, Rootfs};
    use opsdeck_tests::service::shared;
    use opsdeck_tests::{workspace, Service};

    /// Exit codes of src-tauri/cli/src/exit.rs (the table in the README).
    const UNREACHABLE: i32 = 4;
    const TIMEOUT: i32 = 5;
    const PROTOCOL: i32 = 7;
    const OUTCOME_UNKNOWN: i32 = 8;

    fn cli(data: &std::path::Path) -> Command {
        let mut c = Command::new(workspace::cli_bin());
        c.env("OPSDECK_DATA_DIR", data).env_remove("DOCKER_HOST").env_remove("OPSDECK_STREAM_IDLE_SECS");
        c
    }

    fn text(o: &Output) -> (String, String) {
        (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
    }

    /// The newest local audit entry, through `opsdeck audit`.
    fn last_audit(data: &std::path::Path) -> serde_json::Value {
        let o = cli(data).args(["audit", "--format", "json", "--limit", "1"]).output().unwrap();
        let page: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {:?}", text(&o)));
        page["entries"][0].clone()
    }

    #[tokio::test]
    async fn a_web_server_where_etcd_should_be_is_a_protocol_error() {
        let web = PlainHttp::start();
        let t = opsdeck_tests::backend::TestBackend::new().await;
        let c = t
            .add(
                "etcd is a web server",
                opsdeck_core::connections::ConnectionSpec::Etcd {
                    endpoints: vec![web.url()],
                    tls: None,
                    username: None,
                    allow_plaintext: true,
                },
                None,
            )
            .await;
        let outcome = t.backend.test_connection(&c.id).await.unwrap();
        assert_eq!(outcome.error_code, Some(ErrorCode::Protocol), "{outcome:?}");
        assert!(outcome.message.contains("not the expected protocol"), "{}", outcome.message);
        t.cleanup().await;

        let data = tempfile::tempdir().unwrap();
        let o = cli(data.path()).args(["config", "--endpoints", &web.url(), "--allow-plaintext", "get", "/x"]).output().unwrap();
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(PROTOCOL), "{err}");
        assert!(err.contains("error (protocol)") && err.contains("not the expected protocol"), "{err}");
    }

    /// An image on the shared dockerd, and the engine's socket path.
    async fn image() -> (&'static str, std::path::PathBuf) {
        let host = shared("dockerd").get("DOCKER_HOST");
        let docker = opsdeck_core::connectors::docker::connect(host, None).await.unwrap();
        import(&docker, Rootfs::Busybox, "opsdeck-faults/busybox:1").await;
        ("opsdeck-faults/busybox:1", host.trim_start_matches("unix://").into())
    }

    /// `opsdeck scan IMAGE` through `relay`, with an idle limit of 2 s: its
    /// output, standard error and duration.
    fn scan_through(relay: &Relay, image: &str) -> (Output, String, Duration) {
        let data = tempfile::tempdir().unwrap();
        let started = Instant::now();
        let o = cli(data.path())
            .args(["scan", image, "--docker-host", &relay.docker_host()])
            .env("OPSDECK_STREAM_IDLE_SECS", "2")
            .output()
            .unwrap();
        let err = text(&o).1;
        (o, err, started.elapsed())
    }

    #[tokio::test]
    async fn an_export_that_stalls_mid_stream_is_a_timeout_naming_it() {
        let (image, socket) = image().await;
        // The path to dockerd forwards 64 KiB of answers (version, inspect,
        // the start of the export), then nothing, holding the connection open.
        let relay = Relay::start(Upstream::Unix(socket), 64 * 1024, After::Stall);
        let (o, err, took) = scan_through(&relay, image);
        assert_eq!(o.status.code(), Some(TIMEOUT), "{err}");
        assert!(relay.tripped.load(std::sync::atomic::Ordering::SeqCst) >= 1, "the stall happened mid-answer");
        assert!(err.contains("error (timeout)"), "{err}");
        assert!(err.contains(&format!("exporting {image} (docker save) stalled: nothing received for 2 s")), "names what stalled: {err}");
        assert!(err.contains("OPSDECK_STREAM_IDLE_SECS"), "says what the limit is: {err}");
        assert!(!err.contains("corrupt"), "{err}");
        assert!(took < Duration::from_secs(30), "bounded by the idle limit: {took:?}");
    }

    #[tokio::test]
    async fn an_export_that_stalls_right_after_its_headers_is_a_timeout() {
        let (image, socket) = image().await;
        // The answer to `GET /images/…/get` sends its headers, then nothing.
        let relay = Relay::start_with(Upstream::Unix(socket), Trip::HeadersOf("/get"), After::Stall);
        let (o, err, took) = scan_through(&relay, image);
        assert_eq!(relay.tripped.load(std::sync::atomic::Ordering::SeqCst), 1, "stalled after the export's headers: {err}");
        assert_eq!(o.status.code(), Some(TIMEOUT), "{err}");
        assert!(err.contains(&format!("exporting {image} (docker save) stalled: nothing received for 2 s")), "{err}");
        assert!(took < Duration::from_secs(30), "{took:?}");
    }

    #[tokio::test]
    async fn an_export_cut_mid_stream_is_unreachable_not_a_corrupt_archive() {
        let (image, socket) = image().await;
        let relay = Relay::start(Upstream::Unix(socket), 64 * 1024, After::Cut);
        let data = tempfile::tempdir().unwrap();
        let o = cli(data.path()).args(["scan", image, "--docker-host", &relay.docker_host()]).output().unwrap();
        let (_, err) = text(&o);
        assert!(relay.tripped.load(std::sync::atomic::Ordering::SeqCst) >= 1, "the cut happened mid-answer: {err}");
        assert_eq!(o.status.code(), Some(UNREACHABLE), "{err}");
        assert!(err.contains("error (unreachable)") && err.contains("closed the connection"), "{err}");
        assert!(!err.contains("invalid_input") && !err.contains("corrupt"), "{err}");
    }

    #[tokio::test]
    async fn a_rejected_kube_token_is_auth_not_unreachable() {
        let api = shared("kube-apiserver");
        let wrong = opsdeck_core::secrets::Secret::new("not-a-token".to_string());
        let h = opsdeck_core::clusters::health::check_all(api.get("KUBECONFIG"), &["admin".into()], Some(&wrong), Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(h[0].error_code, Some(ErrorCode::Auth), "{:?}", h[0].findings);
        assert_eq!(h[0].findings[0].kind, "auth", "{:?}", h[0].findings);
        assert!(h[0].findings[0].message.contains("401"), "{:?}", h[0].findings);
        let probe = opsdeck_core::connectors::kube::probe(api.get("KUBECONFIG"), &["admin".into()], Some(&wrong), Duration::from_secs(10))
            .await
            .unwrap_err();
        assert_eq!(probe.code(), ErrorCode::Auth, "{probe}");
    }

    /// etcd with one key written; its endpoint and pid, and the key's mod_revision.
    async fn etcd_with_key(key: &str) -> (Service, String, i32, i64) {
        let etcd = Service::start("etcd", &[]);
        let endpoint = etcd.get("ETCD_ENDPOINT").to_string();
        let pid: i32 = etcd.get("ETCD_PID").parse().unwrap();
        let mut client = etcd_client::Client::connect([endpoint.as_str()], None).await.unwrap();
        let put = client.put(key, "v1", None).await.unwrap();
        let rev = put.header().unwrap().revision();
        (etcd, endpoint, pid, rev)
    }

    async fn value_of(endpoint: &str, key: &str) -> (String, i64) {
        let mut client = etcd_client::Client::connect([endpoint], None).await.unwrap();
        let r = client.get(key, None).await.unwrap();
        let kv = &r.kvs()[0];
        (String::from_utf8_lossy(kv.value()).into_owned(), kv.mod_revision())
    }

    /// `opsdeck config put KEY v2 --if-revision REV` on a plain-http etcd.
    fn guarded_put(data: &std::path::Path, endpoint: &str, key: &str, rev: i64) -> Command {
        let mut c = cli(data);
        c.args(["config", "--endpoints", endpoint, "--allow-plaintext", "put", key, "v2", "--if-revision", &rev.to_string()]);
        c
    }

    /// A relay in front of etcd that freezes it (SIGSTOP) when the first
    /// request carrying `key` arrives, before passing it on: the CLI's reads
    /// before the write (the team's config schemas) are answered, the write
    /// is sent and its answer lost. Its endpoint.
    fn freeze_on_write(endpoint: &str, key: &'static str, pid: i32) -> (Relay, String) {
        let addr = endpoint.trim_start_matches("http://").to_string();
        let relay = Relay::start_with(Upstream::Tcp(addr), Trip::FreezeOn(key, pid), After::Stall);
        let url = format!("http://127.0.0.1:{}", relay.port);
        (relay, url)
    }

    #[tokio::test]
    async fn a_guarded_put_to_an_etcd_frozen_throughout_is_outcome_unknown() {
        let (etcd, endpoint, pid, rev) = etcd_with_key("/faults/frozen").await;
        let data = tempfile::tempdir().unwrap();
        let (_relay, via) = freeze_on_write(&endpoint, "/faults/frozen", pid);
        let o = guarded_put(data.path(), &via, "/faults/frozen", rev).env("OPSDECK_READ_BACK_ATTEMPTS", "1").output().unwrap();
        assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0, "thaw etcd");
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(OUTCOME_UNKNOWN), "{err}");
        assert!(err.contains("error (outcome_unknown)") && err.contains("whether etcd applied it is unknown"), "{err}");
        assert!(err.contains(&format!("above {rev}")), "says how to tell: {err}");
        let entry = last_audit(data.path());
        assert_eq!(entry["action"], "config.put", "{entry}");
        assert_eq!(entry["result"], "error", "{entry}");
        assert!(entry["detail"].as_str().unwrap().contains("outcome unknown"), "{entry}");
        drop(etcd);
    }

    #[tokio::test]
    async fn a_guarded_put_whose_answer_was_lost_is_read_back_once_etcd_answers() {
        let (etcd, endpoint, pid, rev) = etcd_with_key("/faults/thawed").await;
        let data = tempfile::tempdir().unwrap();
        let (_relay, via) = freeze_on_write(&endpoint, "/faults/thawed", pid);
        let mut child =
            guarded_put(data.path(), &via, "/faults/thawed", rev).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // Thawed when the CLI says the answer was lost and it reads the key back.
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        let mut line = String::new();
        while stderr.read_line(&mut line).unwrap() > 0 {
            seen.push_str(&line);
            if line.contains("reading the key back") {
                break;
            }
            line.clear();
        }
        assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0, "thaw etcd");
        assert!(seen.contains("reading the key back"), "{seen}");
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        let status = child.wait().unwrap();
        let err = format!("{seen}{rest}");
        // Whatever etcd did with the request, the report matches what it holds.
        let (value, mod_rev) = value_of(&endpoint, "/faults/thawed").await;
        let entry = last_audit(data.path());
        let detail = entry["detail"].as_str().unwrap().to_string();
        eprintln!("etcd after the thaw: {value} at mod_revision {mod_rev}; the CLI: {status}");
        if value == "v2" {
            assert_eq!(status.code(), Some(0), "{err}");
            assert!(err.contains("note: the answer was lost") && err.contains("read back: applied"), "{err}");
            assert_eq!(entry["result"], "ok", "{entry}");
            assert!(detail.contains(&format!("→ {mod_rev}")) && detail.contains("read back: applied"), "{entry}");
        } else {
            // The read-back fenced the key (rewrote it unchanged), so the lost
            // put, however late it reached etcd, found its guard broken.
            assert_eq!((value.as_str(), mod_rev), ("v1", rev + 1), "only the fence wrote: {err}");
            assert_eq!(status.code(), Some(TIMEOUT), "{err}");
            assert!(err.contains("read back: not applied") && err.contains(&format!("still at mod_revision {rev}")), "{err}");
            assert!(err.contains(&format!("rewrote it unchanged (same value and lease) at revision {mod_rev}")), "{err}");
            assert!(err.contains(&format!("retry against mod_revision {mod_rev}")), "{err}");
            assert_eq!(entry["result"], "error", "{entry}");
            assert!(detail.contains("read back: not applied"), "{entry}");
        }
        drop(etcd);
    }

    /// The race the test above cannot force either way: the lost request
    /// reaches etcd only after the read-back looked. The fence makes it fail.
    #[tokio::test]
    async fn a_lost_put_that_arrives_after_the_read_back_cannot_apply() {
        use etcd_client::{Compare, CompareOp, LeaseGrantOptions, PutOptions, Txn, TxnOp};
        use opsdeck_core::config::outcome::{read_back, Found, Intent};
        let (etcd, endpoint, _, _) = etcd_with_key("/faults/late").await;
        let mut client = etcd_client::Client::connect([endpoint.as_str()], None).await.unwrap();
        let lease = client.lease_grant(600, None::<LeaseGrantOptions>).await.unwrap().id();
        let rev = client.put("/faults/late", "v1", Some(PutOptions::new().with_lease(lease))).await.unwrap().header().unwrap().revision();

        let found = read_back(&mut client, "/faults/late", Intent::Put(b"v2"), rev).await;
        let Found::NotApplied { fenced: Some(fenced), why } = found else { panic!("a key still at its guard is fenced: {found:?}") };
        assert!(fenced > rev && why.contains(&format!("at revision {fenced}")), "{why}");
        let late = Txn::new().when([Compare::mod_revision("/faults/late", CompareOp::Equal, rev)]).and_then([TxnOp::put(
            "/faults/late",
            "v2",
            None,
        )]);
        assert!(!client.txn(late).await.unwrap().succeeded(), "the late request's guard no longer holds");
        let now = client.get("/faults/late", None).await.unwrap();
        let kv = &now.kvs()[0];
        assert_eq!((kv.value(), kv.mod_revision(), kv.lease()), (&b"v1"[..], fenced, lease), "value and lease kept");

        // A guard someone else broke first is told apart from a fence.
        client.put("/faults/late", "theirs", None).await.unwrap();
        let found = read_back(&mut client, "/faults/late", Intent::Put(b"v2"), fenced).await;
        assert!(matches!(&found, Found::NotApplied { fenced: None, why } if why.contains("someone else changed")), "{found:?}");
        // A create cannot be fenced without creating the key: still absent, not "not applied".
        let found = read_back(&mut client, "/faults/never", Intent::Put(b"v2"), 0).await;
        assert!(matches!(&found, Found::StillAbsent { why } if why.contains("may still be on its way")), "{found:?}");
        assert_eq!(client.get("/faults/never", None).await.unwrap().count(), 0, "the read-back created nothing");
        drop(etcd);
    }
}

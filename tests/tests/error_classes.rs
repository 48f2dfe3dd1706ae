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

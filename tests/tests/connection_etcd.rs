//! "Test connection" against a real etcd: plain, and TLS with role-based auth.

use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::connections::{ConnectionSpec, TlsFiles};
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::Service;

#[tokio::test]
async fn plain_etcd_reports_its_version() {
    let etcd = Service::start("etcd", &[]);
    let t = TestBackend::new().await;
    let c = t
        .add(
            "local etcd",
            ConnectionSpec::Etcd { endpoints: vec![etcd.get("ETCD_ENDPOINT").into()], tls: None, username: None, allow_plaintext: false },
            None,
        )
        .await;
    let outcome = t.backend.test_connection(&c.id).await.unwrap();
    assert!(outcome.ok, "{outcome:?}");
    assert!(outcome.version.as_deref().unwrap().starts_with("etcd 3."), "{outcome:?}");
    // The outcome is stored with the profile and audited.
    let again = t.backend.connection(&c.id).await.unwrap();
    assert_eq!(again.last_test.unwrap().version, outcome.version);
    let audit = t.backend.audit_log(&AuditFilter { limit: 100, ..Default::default() }).await.unwrap();
    assert!(audit.entries.iter().any(|e| e.action == "connection.test" && e.result == "ok" && e.target == "local etcd"));
}

fn tls_spec(etcd: &Service, user: Option<&str>) -> ConnectionSpec {
    ConnectionSpec::Etcd {
        endpoints: vec![etcd.get("ETCD_ENDPOINT").into()],
        tls: Some(TlsFiles { ca_file: Some(etcd.get("ETCD_TLS_CA").into()), cert_file: None, key_file: None }),
        username: user.map(Into::into),
        allow_plaintext: false,
    }
}

#[tokio::test]
async fn tls_and_auth_right_and_wrong_password() {
    let etcd = Service::start("etcd-tls", &[]);
    let t = TestBackend::new().await;

    let good = t.add("etcd tls alice", tls_spec(&etcd, Some("alice")), Some(etcd.get("ETCD_PASSWORD"))).await;
    let ok = t.backend.test_connection(&good.id).await.unwrap();
    assert!(ok.ok, "{ok:?}");
    assert!(ok.message.contains("as alice"), "{ok:?}");

    let bad = t.add("etcd tls wrong pw", tls_spec(&etcd, Some("alice")), Some("not-the-password")).await;
    let failed = t.backend.test_connection(&bad.id).await.unwrap();
    assert!(!failed.ok);
    assert_eq!(failed.error_code, Some(ErrorCode::Auth), "{failed:?}");
    assert!(failed.message.contains("wrong password"), "message should say what is wrong: {}", failed.message);

    // No credentials at all against an auth-enabled cluster: told to add them.
    let anon = t.add("etcd tls anonymous", tls_spec(&etcd, None), None).await;
    let anon = t.backend.test_connection(&anon.id).await.unwrap();
    assert_eq!(anon.error_code, Some(ErrorCode::Auth), "{anon:?}");

    // Without the CA the self-signed server certificate is refused.
    let no_ca = t
        .add(
            "etcd tls no ca",
            ConnectionSpec::Etcd { endpoints: vec![etcd.get("ETCD_ENDPOINT").into()], tls: None, username: None, allow_plaintext: false },
            None,
        )
        .await;
    let no_ca = t.backend.test_connection(&no_ca.id).await.unwrap();
    assert!(!no_ca.ok);
    assert_eq!(no_ca.error_code, Some(ErrorCode::Tls), "{no_ca:?}");
    t.cleanup().await;
}

#[tokio::test]
async fn unreachable_endpoint_is_a_clear_error() {
    // A port nobody listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let t = TestBackend::new().await;
    let c = t
        .add(
            "nobody",
            ConnectionSpec::Etcd { endpoints: vec![format!("http://127.0.0.1:{port}")], tls: None, username: None, allow_plaintext: false },
            None,
        )
        .await;
    let outcome = t.backend.test_connection(&c.id).await.unwrap();
    assert!(!outcome.ok);
    assert!(matches!(outcome.error_code, Some(ErrorCode::Unreachable) | Some(ErrorCode::Timeout)), "{outcome:?}");
    assert!(outcome.message.contains(&port.to_string()), "names the endpoint: {}", outcome.message);
}

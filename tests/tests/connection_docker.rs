//! "Test connection" against a real dockerd (Debian docker.io).

use opsdeck_core::connections::ConnectionSpec;
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::service::shared;

#[tokio::test]
async fn local_socket_reports_engine_version() {
    let dockerd = shared("dockerd");
    let t = TestBackend::new().await;
    let c = t.add("local docker", ConnectionSpec::Docker { host: dockerd.get("DOCKER_HOST").into(), tls: None }, None).await;
    let outcome = t.backend.test_connection(&c.id).await.unwrap();
    assert!(outcome.ok, "{outcome:?}");
    assert!(outcome.version.as_deref().unwrap().starts_with("Docker "), "{outcome:?}");
    assert!(outcome.message.contains("API 1."), "{outcome:?}");
}

#[tokio::test]
async fn missing_socket_says_so() {
    let t = TestBackend::new().await;
    let dir = tempfile::tempdir().unwrap();
    let host = format!("unix://{}/docker.sock", dir.path().display());
    let c = t.add("no docker", ConnectionSpec::Docker { host, tls: None }, None).await;
    let outcome = t.backend.test_connection(&c.id).await.unwrap();
    assert_eq!(outcome.error_code, Some(ErrorCode::Unreachable), "{outcome:?}");
    assert!(outcome.message.contains("is dockerd running"), "{}", outcome.message);
}

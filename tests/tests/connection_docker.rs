//! "Test connection" against a real dockerd (Debian docker.io).

use opsdeck_core::connections::{ConnectionSpec, TlsFiles};
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::service::shared;
use opsdeck_tests::Service;

#[tokio::test]
async fn local_socket_reports_engine_version() {
    let dockerd = shared("dockerd");
    let t = TestBackend::new().await;
    let c = t
        .add("local docker", ConnectionSpec::Docker { host: dockerd.get("DOCKER_HOST").into(), tls: None, allow_plaintext: false }, None)
        .await;
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
    let c = t.add("no docker", ConnectionSpec::Docker { host, tls: None, allow_plaintext: false }, None).await;
    let outcome = t.backend.test_connection(&c.id).await.unwrap();
    assert_eq!(outcome.error_code, Some(ErrorCode::Unreachable), "{outcome:?}");
    assert!(outcome.message.contains("is dockerd running"), "{}", outcome.message);
}

fn tls_files(dir: &str) -> TlsFiles {
    TlsFiles {
        ca_file: Some(format!("{dir}/ca.pem")),
        cert_file: Some(format!("{dir}/cert.pem")),
        key_file: Some(format!("{dir}/key.pem")),
    }
}

#[tokio::test]
async fn tcp_with_mutual_tls_and_a_foreign_client_certificate() {
    let dockerd = Service::start_with_args("dockerd", &["--tls"], &[]);
    let host = dockerd.get("DOCKER_TLS_HOST").to_string();
    let t = TestBackend::new().await;

    let good = t
        .add(
            "docker tls",
            ConnectionSpec::Docker { host: host.clone(), tls: Some(tls_files(dockerd.get("DOCKER_CERT_PATH"))), allow_plaintext: false },
            None,
        )
        .await;
    let ok = t.backend.test_connection(&good.id).await.unwrap();
    assert!(ok.ok, "{ok:?}");

    // A client certificate from another CA: the daemon refuses the handshake.
    let other = tempfile::tempdir().unwrap();
    let d = other.path().display().to_string();
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=intruder",
        ])
        .args(["-keyout", &format!("{d}/key.pem"), "-out", &format!("{d}/cert.pem")])
        .output()
        .unwrap();
    assert!(status.status.success());
    let foreign = TlsFiles { ca_file: Some(format!("{}/ca.pem", dockerd.get("DOCKER_CERT_PATH"))), ..tls_files(&d) };
    let bad =
        t.add("docker tls intruder", ConnectionSpec::Docker { host: host.clone(), tls: Some(foreign), allow_plaintext: false }, None).await;
    let refused = t.backend.test_connection(&bad.id).await.unwrap();
    assert!(!refused.ok, "{refused:?}");
    assert_eq!(refused.error_code, Some(ErrorCode::Tls), "{refused:?}");
    assert!(refused.message.contains("rejected the client certificate"), "{}", refused.message);
    assert!(refused.message.contains(&host), "names the host: {}", refused.message);

    // Plain TCP to the TLS port is not silently accepted.
    let plain = t.add("docker plain to tls port", ConnectionSpec::Docker { host, tls: None, allow_plaintext: false }, None).await;
    assert!(!t.backend.test_connection(&plain.id).await.unwrap().ok);
}

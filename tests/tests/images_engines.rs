//! Engines: a Docker profile over TCP with mutual TLS (its own dockerd), the
//! inventory of images and containers (cached for the next start), and
//! "scan all running containers" against a really running container.

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{CreateContainerOptions, RemoveContainerOptions};
use opsdeck_core::connections::{ConnectionSpec, TlsFiles};
use opsdeck_core::scanner::policy::Decision;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::images::{import, Rootfs};
use opsdeck_tests::Service;

#[tokio::test]
async fn tls_engine_inventory_and_scan_of_running_containers() {
    let dockerd = Service::start_with_args("dockerd", &["--tls"], &[]);
    let local = opsdeck_core::connectors::docker::connect(dockerd.get("DOCKER_HOST"), None).await.unwrap();
    import(&local, Rootfs::Busybox, "opsdeck-run/busybox:1").await;
    import(&local, Rootfs::Alpine, "opsdeck-run/alpine:idle").await;
    let body = ContainerCreateBody {
        image: Some("opsdeck-run/busybox:1".into()),
        cmd: Some(vec!["/bin/sh".into(), "-c".into(), "sleep 300".into()]),
        host_config: Some(HostConfig { network_mode: Some("none".into()), ..Default::default() }),
        ..Default::default()
    };
    local
        .create_container(Some(CreateContainerOptions { name: Some("web-1".into()), ..Default::default() }), body)
        .await
        .expect("create container");
    local.start_container("web-1", None).await.expect("start container (runc)");

    let certs = dockerd.get("DOCKER_CERT_PATH");
    let tls = TlsFiles {
        ca_file: Some(format!("{certs}/ca.pem")),
        cert_file: Some(format!("{certs}/cert.pem")),
        key_file: Some(format!("{certs}/key.pem")),
    };
    let t = TestBackend::new().await;
    let c = t
        .add(
            "docker over tls",
            ConnectionSpec::Docker { host: dockerd.get("DOCKER_TLS_HOST").into(), tls: Some(tls), allow_plaintext: false },
            None,
        )
        .await;

    let inv = t.backend.image_inventory(&c.id).await.unwrap();
    let tags: Vec<&str> = inv.images.iter().flat_map(|i| i.tags.iter().map(String::as_str)).collect();
    assert!(tags.contains(&"opsdeck-run/busybox:1") && tags.contains(&"opsdeck-run/alpine:idle"), "{tags:?}");
    let web = inv.containers.iter().find(|x| x.name == "web-1").expect("container listed");
    assert_eq!(web.state, "running");
    assert_eq!(inv.images.iter().find(|i| i.tags.contains(&"opsdeck-run/busybox:1".to_string())).unwrap().containers, 1);
    let cached = t.backend.cached_image_inventory(&c.id).await.unwrap().expect("cached for the next start");
    assert_eq!(cached.payload, inv);

    // Only the running container's image is scanned (not the idle alpine one).
    let engine = t.backend.engine(&c.id).await.unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let outcomes = t.backend.scan_running(&engine, std::sync::Arc::new(move |p| log.lock().unwrap().push(p.image.clone()))).await.unwrap();
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    assert_eq!(outcomes[0].containers, ["web-1"]);
    let summary = outcomes[0].scan.as_ref().expect("scanned");
    assert_eq!(summary.decision, Decision::Block.as_str(), "bare busybox breaks the default policy");
    assert!(!seen.lock().unwrap().is_empty(), "progress was reported");
    let history = t.backend.scan_history(None, 10).await.unwrap();
    assert_eq!(history[0].connection_id.as_deref(), Some(c.id.as_str()));

    local.remove_container("web-1", Some(RemoveContainerOptions { force: true, ..Default::default() })).await.unwrap();
    t.cleanup().await;
}

//! Secrets live only in the real OS keychain (Secret Service via gnome-keyring
//! under dbus-run-session in CI), and never reach SQLite, logs or exports.

use std::io::Write;
use std::sync::{Arc, Mutex};

use opsdeck_core::connections::{ConnectionInput, ConnectionSpec, TlsFiles};
use opsdeck_core::secrets::Keychain;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::Service;

/// Everything logged by this test binary, at every level and target.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt().with_max_level(tracing::Level::TRACE).with_ansi(false).with_writer(move || writer.clone()).init();
    captured
}

#[tokio::test]
async fn keychain_round_trip_on_the_real_secret_service() {
    let kc = Keychain::new(format!("opsdeck-test-{}", uuid::Uuid::new_v4()));
    assert_eq!(kc.get("connection/x").await.unwrap(), None);
    kc.set("connection/x", "s3cr3t-ä").await.unwrap();
    assert_eq!(kc.get("connection/x").await.unwrap().unwrap().expose(), "s3cr3t-ä");
    kc.set("connection/x", "rotated").await.unwrap();
    assert_eq!(kc.get("connection/x").await.unwrap().unwrap().expose(), "rotated");
    kc.delete("connection/x").await.unwrap();
    assert_eq!(kc.get("connection/x").await.unwrap(), None);
    kc.delete("connection/x").await.expect("deleting a missing secret is fine");
}

fn files_contain(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    hits.push(p.display().to_string());
                }
            }
        }
    }
    hits
}

#[tokio::test]
async fn secrets_never_reach_sqlite_logs_or_exports() {
    let logs = capture_logs();
    let etcd = Service::start("etcd-tls", &[]);
    let t = TestBackend::new().await;
    let etcd_pw = etcd.get("ETCD_PASSWORD").to_string();
    let kube_token = format!("tok-{}", uuid::Uuid::new_v4());
    let rotated = format!("rotated-{}", uuid::Uuid::new_v4());

    let spec = ConnectionSpec::Etcd {
        endpoints: vec![etcd.get("ETCD_ENDPOINT").into()],
        tls: Some(TlsFiles { ca_file: Some(etcd.get("ETCD_TLS_CA").into()), cert_file: None, key_file: None }),
        username: Some("alice".into()),
        allow_plaintext: false,
    };
    let e = t.add("etcd with password", spec.clone(), Some(&etcd_pw)).await;
    assert!(e.has_secret);
    assert!(t.backend.test_connection(&e.id).await.unwrap().ok, "the stored password works");

    // A kubeconfig whose server is down: the token still goes through the client.
    let kubeconfig = t.dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\ncontexts:\n- name: ctx\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {}\ncurrent-context: ctx\n",
    )
    .unwrap();
    let k = t
        .add(
            "kube with token",
            ConnectionSpec::Kubernetes { kubeconfig: kubeconfig.display().to_string(), contexts: vec!["ctx".into()] },
            Some(&kube_token),
        )
        .await;
    assert!(!t.backend.test_connection(&k.id).await.unwrap().ok);

    // Pointing the profile at another host without entering the secret again
    // is refused: the stored password must not follow it to a new target.
    let mut moved = spec.clone();
    if let ConnectionSpec::Etcd { endpoints, .. } = &mut moved {
        *endpoints = vec!["https://203.0.113.7:2379".into()];
    }
    let e2 = t
        .backend
        .save_connection(ConnectionInput {
            id: Some(e.id.clone()),
            name: e.name.clone(),
            spec: moved.clone(),
            secret: None,
            clear_secret: false,
        })
        .await
        .unwrap_err();
    assert_eq!(e2.code(), opsdeck_core::ErrorCode::InvalidInput);
    assert!(e2.to_string().contains("enter its password or token again"), "{e2}");
    assert_eq!(t.backend.connection(&e.id).await.unwrap().spec, spec, "nothing changed");
    // The same edit without moving the target keeps the secret.
    t.backend
        .save_connection(ConnectionInput {
            id: Some(e.id.clone()),
            name: format!("{} (renamed)", e.name),
            spec: spec.clone(),
            secret: None,
            clear_secret: false,
        })
        .await
        .unwrap();
    assert_eq!(t.backend.connection_secret(&e.id).await.unwrap().unwrap().expose(), etcd_pw);

    // Rotate the etcd password through an update; then remove the kube token.
    let updated = t
        .backend
        .save_connection(ConnectionInput {
            id: Some(e.id.clone()),
            name: e.name.clone(),
            spec,
            secret: Some(rotated.clone()),
            clear_secret: false,
        })
        .await
        .unwrap();
    assert!(updated.has_secret);
    assert_eq!(t.backend.connection_secret(&e.id).await.unwrap().unwrap().expose(), rotated);
    let cleared = t
        .backend
        .save_connection(ConnectionInput {
            id: Some(k.id.clone()),
            name: k.name.clone(),
            spec: k.spec.clone(),
            secret: None,
            clear_secret: true,
        })
        .await
        .unwrap();
    assert!(!cleared.has_secret);
    assert!(t.backend.connection_secret(&k.id).await.unwrap().is_none(), "cleared from the keychain");

    let export = t.backend.export_connections().await.unwrap();
    let log_text = String::from_utf8_lossy(&logs.0.lock().unwrap()).to_string();
    t.backend.db().checkpoint().await.unwrap();
    for secret in [&etcd_pw, &kube_token, &rotated] {
        assert!(!export.contains(secret.as_str()), "export leaks a secret");
        assert!(!log_text.contains(secret.as_str()), "logs leak a secret");
        let hits = files_contain(t.dir.path(), secret.as_bytes());
        assert!(hits.is_empty(), "secret found in {hits:?}");
    }
    assert!(log_text.len() > 100, "the capture saw the client libraries' logs");
    assert!(export.contains("\"has_secret\": true"), "{export}");

    // Deleting the profile deletes its keychain entry.
    let keychain = t.backend.keychain().clone();
    t.backend.delete_connection(&e.id).await.unwrap();
    assert!(keychain.get(&format!("connection/{}", e.id)).await.unwrap().is_none());
    t.cleanup().await;
}

//! A real backend in a throw-away data directory, with its own keychain
//! service name so tests never touch the user's secrets and never collide.

use opsdeck_core::backend::EtcdSession;
use opsdeck_core::connections::{Connection, ConnectionInput, ConnectionSpec};
use opsdeck_core::{Backend, BackendOptions};
use tempfile::TempDir;

pub struct TestBackend {
    pub backend: Backend,
    pub dir: TempDir,
}

impl TestBackend {
    pub async fn new() -> TestBackend {
        let dir = tempfile::tempdir().expect("temp dir");
        let options = BackendOptions {
            data_dir: dir.path().to_path_buf(),
            keychain_service: format!("opsdeck-test-{}", uuid::Uuid::new_v4()),
            actor: "tester".into(),
        };
        let backend = Backend::open(options).await.expect("open backend");
        TestBackend { backend, dir }
    }

    /// Saves a new profile, panicking on failure (setup, not the thing tested).
    pub async fn add(&self, name: &str, spec: ConnectionSpec, secret: Option<&str>) -> Connection {
        self.backend
            .save_connection(ConnectionInput { id: None, name: name.into(), spec, secret: secret.map(Into::into), clear_secret: false })
            .await
            .unwrap_or_else(|e| panic!("saving connection {name}: {e}"))
    }

    /// Saves a plain etcd connection named `name` to `endpoint` and opens its
    /// session (what the app's config commands use).
    pub async fn etcd_session(&self, name: &str, endpoint: &str) -> EtcdSession {
        let spec = ConnectionSpec::Etcd { endpoints: vec![endpoint.into()], tls: None, username: None, allow_plaintext: false };
        let c = self.add(name, spec, None).await;
        self.backend.etcd_session(&c.id).await.unwrap_or_else(|e| panic!("etcd session {name}: {e}"))
    }

    /// Removes every stored connection, so their keychain entries go too.
    pub async fn cleanup(&self) {
        if let Ok(list) = self.backend.connections().await {
            for c in list {
                let _ = self.backend.delete_connection(&c.id).await;
            }
        }
    }
}

//! Connection profiles: what the user saved to reach one platform endpoint.
//! Profiles hold no secrets; a password or token lives in the OS keychain and the
//! profile only knows whether one is stored (`has_secret`).

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;

/// The four platform kinds Opsdeck connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Vsphere,
    Docker,
    Kubernetes,
    Etcd,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Vsphere, Kind::Docker, Kind::Kubernetes, Kind::Etcd];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Vsphere => "vsphere",
            Kind::Docker => "docker",
            Kind::Kubernetes => "kubernetes",
            Kind::Etcd => "etcd",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Paths of PEM files for TLS. All optional: a CA alone verifies the server; a
/// cert/key pair adds client authentication.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct TlsFiles {
    #[serde(default)]
    pub ca_file: Option<String>,
    #[serde(default)]
    pub cert_file: Option<String>,
    #[serde(default)]
    pub key_file: Option<String>,
}

/// Where and how to reach one endpoint, per platform kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ConnectionSpec {
    /// vCenter or ESXi. `url` is `https://host[:port]/sdk`; `thumbprint` pins the
    /// server certificate (SHA-256 of its DER) instead of CA verification.
    Vsphere {
        url: String,
        username: String,
        #[serde(default)]
        thumbprint: Option<String>,
    },
    /// Docker Engine: `unix:///path`, `tcp://host:port` or `https://host:port`.
    Docker {
        host: String,
        #[serde(default)]
        tls: Option<TlsFiles>,
        /// Accept `tcp://`/`http://` without TLS to another machine (the API
        /// is root on that host for anyone on the path). Off unless opted in.
        #[serde(default)]
        allow_plaintext: bool,
    },
    /// A kubeconfig file, or several separated like `KUBECONFIG` (merged the
    /// way kubectl merges them), and the contexts to use (empty = all).
    Kubernetes {
        kubeconfig: String,
        #[serde(default)]
        contexts: Vec<String>,
    },
    /// etcd v3 endpoints (`http(s)://host:port`).
    Etcd {
        endpoints: Vec<String>,
        #[serde(default)]
        tls: Option<TlsFiles>,
        #[serde(default)]
        username: Option<String>,
        /// Accept sending the password over `http://` to another machine.
        /// Off unless opted in.
        #[serde(default)]
        allow_plaintext: bool,
    },
}

impl ConnectionSpec {
    pub fn kind(&self) -> Kind {
        match self {
            ConnectionSpec::Vsphere { .. } => Kind::Vsphere,
            ConnectionSpec::Docker { .. } => Kind::Docker,
            ConnectionSpec::Kubernetes { .. } => Kind::Kubernetes,
            ConnectionSpec::Etcd { .. } => Kind::Etcd,
        }
    }

    /// A short human description of the target, used in the audit log.
    /// When credentials (or root on a Docker host) cross the network in
    /// clear text because the user opted in: the warning to show.
    pub fn plaintext_warning(&self) -> Option<String> {
        match self {
            ConnectionSpec::Docker { host, tls: None, allow_plaintext: true }
                if (host.starts_with("tcp://") || host.starts_with("http://")) && !super::validate::is_loopback(host) =>
            {
                Some(format!("WARNING: the Docker API at {host} is used without TLS: anyone on the network path can control that engine"))
            }
            ConnectionSpec::Etcd { endpoints, username: Some(u), allow_plaintext: true, .. }
                if endpoints.iter().any(|e| e.starts_with("http://") && !super::validate::is_loopback(e)) =>
            {
                Some(format!("WARNING: the password of etcd user \"{u}\" goes over http:// in clear text"))
            }
            _ => None,
        }
    }

    pub fn target(&self) -> String {
        match self {
            ConnectionSpec::Vsphere { url, .. } => url.clone(),
            ConnectionSpec::Docker { host, .. } => host.clone(),
            ConnectionSpec::Kubernetes { kubeconfig, contexts } if contexts.is_empty() => kubeconfig.clone(),
            ConnectionSpec::Kubernetes { kubeconfig, contexts } => {
                format!("{kubeconfig} [{}]", contexts.join(", "))
            }
            ConnectionSpec::Etcd { endpoints, .. } => endpoints.join(","),
        }
    }
}

/// The result of "test connection".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct TestOutcome {
    pub ok: bool,
    pub version: Option<String>,
    pub message: String,
    pub error_code: Option<ErrorCode>,
    pub latency_ms: u64,
    pub tested_at: String,
    /// The causes under `message` (the library's error chain), for "details".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

/// A saved connection profile as the UI and CLI see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Connection {
    pub id: String,
    pub name: String,
    pub spec: ConnectionSpec,
    pub has_secret: bool,
    pub created_at: String,
    pub updated_at: String,
    pub last_test: Option<TestOutcome>,
}

/// What the UI sends to create (`id: None`) or update a profile.
#[derive(Clone, Deserialize, specta::Type)]
pub struct ConnectionInput {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub spec: ConnectionSpec,
    /// `None` keeps the stored secret; `Some(s)` stores `s` in the keychain.
    #[serde(default)]
    pub secret: Option<String>,
    /// Deletes the stored secret.
    #[serde(default)]
    pub clear_secret: bool,
}

// Manual Debug so a secret can never end up in a log line through `{:?}`.
impl std::fmt::Debug for ConnectionInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionInput")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("spec", &self.spec)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("clear_secret", &self.clear_secret)
            .finish()
    }
}

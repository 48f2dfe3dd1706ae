//! One connector per platform. Each knows how to open a client from a
//! connection profile (plus its keychain secret) and how to probe the server.

pub mod docker;
pub mod errors;
pub mod etcd;
pub mod kube;
pub mod stream;
pub mod tls;
pub mod vsphere;

use std::time::Duration;

use crate::connections::ConnectionSpec;
use crate::error::{with_timeout, Result};
use crate::secrets::Secret;

/// What a successful probe learned about the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// Product and version, e.g. "etcd 3.4.23".
    pub version: String,
    /// What was checked, for the user.
    pub message: String,
}

/// Default deadline of a connection test.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Probes the server a profile points at: reachability, TLS, authentication, version.
pub async fn probe(spec: &ConnectionSpec, secret: Option<&Secret>, limit: Duration) -> Result<Probe> {
    // Boxed: a probe's future is ~20 KB (TLS and client setup); callers hold a pointer.
    Box::pin(probe_inner(spec, secret, limit)).await
}

async fn probe_inner(spec: &ConnectionSpec, secret: Option<&Secret>, limit: Duration) -> Result<Probe> {
    let target = spec.target();
    let fut = async {
        match spec {
            ConnectionSpec::Etcd { endpoints, tls, username, .. } => {
                etcd::probe(&etcd::EtcdTarget::new(endpoints, tls.as_ref(), username.as_deref(), secret)).await
            }
            ConnectionSpec::Docker { host, tls, .. } => docker::probe(host, tls.as_ref()).await,
            ConnectionSpec::Kubernetes { kubeconfig, contexts } => kube::probe(kubeconfig, contexts, secret, limit).await,
            ConnectionSpec::Vsphere { url, username, thumbprint } => vsphere::probe(url, username, secret, thumbprint.as_deref()).await,
        }
    };
    let mut probe = with_timeout(target, limit, Box::pin(fut)).await?;
    // Said on every test of a profile that opted in to clear text.
    if let Some(w) = spec.plaintext_warning() {
        probe.message = format!("{w}; {}", probe.message);
    }
    Ok(probe)
}

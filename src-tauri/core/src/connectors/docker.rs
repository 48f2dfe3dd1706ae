//! Docker Engine connector (bollard): local unix socket, plain TCP, or TCP with TLS.

use std::path::Path;

use bollard::{Docker, API_DEFAULT_VERSION};

use super::errors::{chain, summarize, transport};
use super::Probe;
use crate::connections::TlsFiles;
use crate::error::{Error, ErrorCode, Result};

/// Seconds bollard waits for one request.
pub const REQUEST_TIMEOUT_SECS: u64 = 30;

/// Opens a client for `host` (`unix://`, `tcp://`, `http(s)://`) and negotiates
/// the API version with the daemon (older engines speak older API versions).
pub async fn connect(host: &str, tls: Option<&TlsFiles>) -> Result<Docker> {
    let docker = if let Some(path) = host.strip_prefix("unix://") {
        if !Path::new(path).exists() {
            return Err(Error::Unreachable(format!(
                "no Docker socket at {path}: is dockerd running, and is this the socket it listens on?"
            )));
        }
        Docker::connect_with_unix(host, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION)
    } else if let Some(tls) = tls {
        let (Some(ca), Some(cert), Some(key)) = (&tls.ca_file, &tls.cert_file, &tls.key_file) else {
            return Err(Error::invalid(
                "Docker over TLS needs the CA, the client certificate and the client key files (dockerd --tlsverify)",
            ));
        };
        Docker::connect_with_ssl(host, Path::new(key), Path::new(cert), Path::new(ca), REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION)
    } else {
        Docker::connect_with_http(host, REQUEST_TIMEOUT_SECS, API_DEFAULT_VERSION)
    }
    .map_err(|e| classify(e, host))?;
    docker.negotiate_version().await.map_err(|e| classify(e, host))
}

/// Maps a bollard error to an actionable error.
pub fn classify(e: bollard::errors::Error, host: &str) -> Error {
    use bollard::errors::Error as B;
    let target = format!("Docker at {host}");
    if matches!(e, B::JsonDataError { .. } | B::JsonSerdeError { .. }) {
        let message = format!(
            "{target} answered something that is not the Docker Engine API: is that address dockerd itself, not another service or a proxy's page? ({})",
            summarize(&chain(&e))
        );
        return Error::Remote { code: ErrorCode::Protocol, message, source: Box::new(e) };
    }
    match &e {
        B::SocketNotFoundError(p) => Error::Unreachable(format!("no Docker socket at {p}: is dockerd running?")),
        B::DockerResponseServerError { status_code: 401, message } => Error::Auth(format!("{target} rejected the client: {message}")),
        B::DockerResponseServerError { status_code: 403, message } => {
            Error::Forbidden(format!("{target} refused the operation: {message}"))
        }
        B::DockerResponseServerError { status_code: 404, message } => Error::NotFound(format!("{target}: {message}")),
        B::DockerResponseServerError { status_code, message } => {
            Error::Internal(format!("{target} answered HTTP {status_code}: {message}"))
        }
        B::RequestTimeoutError => Error::Timeout { what: target, secs: REQUEST_TIMEOUT_SECS },
        B::CertPathError { .. } | B::CertParseError { .. } | B::CertMultipleKeys { .. } => {
            Error::invalid(format!("{target}: TLS files: {}", chain(&e)))
        }
        _ => transport(&target, e),
    }
}

/// Asks the daemon for its version.
pub async fn probe(host: &str, tls: Option<&TlsFiles>) -> Result<Probe> {
    let docker = connect(host, tls).await?;
    let v = docker.version().await.map_err(|e| classify(e, host))?;
    let version = format!("Docker {}", v.version.as_deref().unwrap_or("?"));
    Ok(Probe {
        message: format!(
            "connected to {host}; API {}, {}/{}",
            v.api_version.as_deref().unwrap_or("?"),
            v.os.as_deref().unwrap_or("?"),
            v.arch.as_deref().unwrap_or("?")
        ),
        version,
    })
}

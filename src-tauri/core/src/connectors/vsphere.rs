//! vSphere connector (vim_rs over SOAP, which both vCenter and vcsim speak).
//! TLS is verified against the system roots by default, or pinned to the
//! SHA-256 thumbprint the user accepted once; never "accept anything".

use std::sync::{Arc, Mutex};
use std::time::Duration;

use url::Url;
use vim_rs::core::client::{Client, ClientBuilder, TransportMode};

use super::errors::{chain, summarize, transport};
use super::tls::{display_thumbprint, install_crypto_provider, pinned_config, recording_config};
use super::Probe;
use crate::error::{Error, Result};
use crate::secrets::Secret;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// `host[:port]` of a vSphere URL, as vim_rs wants it.
pub fn server_address(url: &str) -> Result<String> {
    let u = Url::parse(url).map_err(|e| Error::invalid(format!("vSphere URL {url}: {e}")))?;
    let host = u.host_str().ok_or_else(|| Error::invalid(format!("vSphere URL {url}: no host")))?;
    Ok(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    })
}

fn http_client(thumbprint: Option<&str>) -> Result<reqwest::Client> {
    install_crypto_provider();
    let mut b = reqwest::Client::builder().cookie_store(true).connect_timeout(CONNECT_TIMEOUT).timeout(REQUEST_TIMEOUT);
    if let Some(tp) = thumbprint {
        b = b.tls_backend_preconfigured(pinned_config(tp));
    }
    b.build().map_err(|e| Error::Internal(format!("cannot build the HTTP client: {}", chain(&e))))
}

/// Logs in and returns a session. Close it with `client.close()`.
pub async fn connect(url: &str, username: &str, password: Option<&Secret>, thumbprint: Option<&str>) -> Result<Arc<Client>> {
    let Some(password) = password else {
        return Err(Error::Auth(format!("no password is stored for {username} on {url}: edit the connection and enter it")));
    };
    let address = server_address(url)?;
    ClientBuilder::new(&address)
        .http_client(http_client(thumbprint)?)
        .basic_authn(username, password.expose())
        .app_details("opsdeck", env!("CARGO_PKG_VERSION"))
        .transport(TransportMode::Soap)
        .build()
        .await
        .map_err(|e| classify(e, url, username, thumbprint.is_some()))
}

/// Maps a vim_rs error to an actionable error.
pub fn classify(e: vim_rs::core::client::Error, url: &str, username: &str, pinned: bool) -> Error {
    use vim_rs::core::client::Error as V;
    let target = format!("vSphere at {url}");
    match &e {
        V::MethodFault(f) => {
            let kind = format!("{:?}", f.type_);
            if kind.contains("InvalidLogin") {
                Error::Auth(format!("{target} rejected the login of \"{username}\": wrong user name or password"))
            } else if kind.contains("NoPermission") || kind.contains("NotAuthenticated") {
                Error::Forbidden(format!("{target}: \"{username}\" lacks the permission: {kind}"))
            } else {
                Error::Internal(format!("{target} returned a fault: {kind}"))
            }
        }
        V::ReqwestError(r) if r.status().is_some() => {
            Error::Internal(format!("{target} answered HTTP {}: is this the SDK URL (…/sdk)?", r.status().map(|s| s.as_u16()).unwrap_or(0)))
        }
        V::ParseError(m) if m.contains("InvalidLogin") || m.contains("incorrect user name or password") => {
            Error::Auth(format!("{target} rejected the login of \"{username}\": wrong user name or password"))
        }
        _ => {
            let detail = summarize(&chain(&e));
            match transport(&target, e) {
                Error::Remote { code: crate::ErrorCode::Tls, source, .. } if !pinned => Error::Remote {
                    code: crate::ErrorCode::Tls,
                    message: format!(
                        "{target}: the server certificate is not trusted by this system ({detail}). If this is your vCenter's self-signed certificate, fetch its thumbprint, compare it with the one vCenter shows, and pin it in the connection."
                    ),
                    source,
                },
                other => other,
            }
        }
    }
}

/// The SHA-256 thumbprint of the certificate the server presents, formatted
/// `AB:CD:…`, for the user to compare and pin. Sends no credentials.
pub async fn fetch_thumbprint(url: &str) -> Result<String> {
    install_crypto_provider();
    let seen = Arc::new(Mutex::new(None));
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(recording_config(seen.clone()))
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::Internal(chain(&e)))?;
    let u = Url::parse(url).map_err(|e| Error::invalid(format!("vSphere URL {url}: {e}")))?;
    let probe_url = format!("https://{}/", server_address(u.as_str())?);
    // The answer does not matter; the handshake has recorded the certificate.
    let result = client.get(&probe_url).send().await;
    let recorded = seen.lock().ok().and_then(|s| s.clone());
    match (recorded, result) {
        (Some(tp), _) => Ok(display_thumbprint(&tp)),
        (None, Err(e)) => Err(transport(&format!("vSphere at {url}"), e)),
        (None, Ok(_)) => Err(Error::Tls(format!("{url} did not present a certificate"))),
    }
}

/// Logs in, reads the product name and version, logs out.
pub async fn probe(url: &str, username: &str, password: Option<&Secret>, thumbprint: Option<&str>) -> Result<Probe> {
    let client = connect(url, username, password, thumbprint).await?;
    let about = &client.service_content().about;
    let probe = Probe {
        version: format!("{} {}", about.name, about.version),
        message: format!(
            "logged in to {url} as {username}; {} (build {}){}",
            about.full_name,
            about.build,
            if thumbprint.is_some() { "; certificate pinned by thumbprint" } else { "" }
        ),
    };
    let _ = client.close().await;
    Ok(probe)
}

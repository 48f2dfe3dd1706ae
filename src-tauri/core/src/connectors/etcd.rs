//! etcd v3 connector (etcd-client over gRPC).

use std::time::Duration;

use etcd_client::{Certificate, Client, ConnectOptions, GetOptions, Identity, TlsOptions};
use tonic::Code;

use super::errors::{chain, transport};
use super::tls::read_pem;
use super::Probe;
use crate::connections::TlsFiles;
use crate::error::{Error, Result};
use crate::secrets::Secret;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Everything needed to open an etcd client.
#[derive(Debug, Clone)]
pub struct EtcdTarget<'a> {
    pub endpoints: &'a [String],
    pub tls: Option<&'a TlsFiles>,
    pub username: Option<&'a str>,
    pub password: Option<&'a Secret>,
}

impl<'a> EtcdTarget<'a> {
    pub fn new(endpoints: &'a [String], tls: Option<&'a TlsFiles>, username: Option<&'a str>, password: Option<&'a Secret>) -> Self {
        EtcdTarget { endpoints, tls, username, password }
    }

    fn describe(&self) -> String {
        format!("etcd at {}", self.endpoints.join(","))
    }

    /// Opens a client. With a username this also authenticates, so a wrong
    /// password fails here.
    pub async fn connect(&self) -> Result<Client> {
        let mut opts = ConnectOptions::new().with_connect_timeout(CONNECT_TIMEOUT).with_timeout(REQUEST_TIMEOUT);
        if let Some(user) = self.username {
            let Some(pw) = self.password else {
                return Err(Error::Auth(format!("no password is stored for etcd user \"{user}\": edit the connection and enter it")));
            };
            opts = opts.with_user(user, pw.expose());
        }
        if let Some(tls) = self.tls {
            opts = opts.with_tls(tls_options(tls, self.endpoints).await?);
        }
        Client::connect(self.endpoints, Some(opts)).await.map_err(|e| classify(e, &self.describe(), self.username))
    }
}

async fn tls_options(files: &TlsFiles, endpoints: &[String]) -> Result<TlsOptions> {
    let mut tls = TlsOptions::new();
    if let Some(ca) = &files.ca_file {
        tls = tls.ca_certificate(Certificate::from_pem(read_pem(ca, "CA").await?));
    }
    if let (Some(cert), Some(key)) = (&files.cert_file, &files.key_file) {
        tls = tls.identity(Identity::from_pem(read_pem(cert, "client certificate").await?, read_pem(key, "client key").await?));
    }
    if let Some(host) = endpoints.first().and_then(|e| url::Url::parse(e).ok()).and_then(|u| u.host_str().map(String::from)) {
        tls = tls.domain_name(host);
    }
    Ok(tls)
}

/// The largest response the etcd client accepts (tonic's default decoding limit).
pub const RESPONSE_MAX: usize = 4 << 20;

/// Whether a status is the client refusing a response over [`RESPONSE_MAX`].
fn is_too_large(status: &tonic::Status) -> bool {
    status.message().contains("message length too large")
}

/// Whether the client refused a response as bigger than [`RESPONSE_MAX`].
pub fn response_too_large(e: &etcd_client::Error) -> bool {
    matches!(e, etcd_client::Error::GRpcStatus(s) if is_too_large(s))
}

/// Maps an etcd-client error to an actionable error.
pub fn classify(e: etcd_client::Error, target: &str, user: Option<&str>) -> Error {
    let status = match e {
        etcd_client::Error::GRpcStatus(status) => status,
        etcd_client::Error::TransportError(_) | etcd_client::Error::IoError(_) => return transport(target, e),
        etcd_client::Error::InvalidArgs(m) | etcd_client::Error::EndpointError(m) => return Error::invalid(format!("{target}: {m}")),
        etcd_client::Error::InvalidUri(u) => return Error::invalid(format!("{target}: invalid endpoint URI: {u}")),
        other => return Error::Internal(format!("{target}: {}", chain(&other))),
    };
    let msg = status.message();
    if msg.contains("authentication failed") || status.code() == Code::Unauthenticated {
        Error::Auth(format!("{target} rejected the credentials of user \"{}\": wrong password or unknown user", user.unwrap_or("")))
    } else if msg.contains("user name is empty") || msg.contains("invalid auth token") {
        Error::Auth(format!("{target} requires authentication: set a username and password on the connection"))
    } else if msg.contains("permission denied") || status.code() == Code::PermissionDenied {
        let who = user.map(|u| format!("user \"{u}\"")).unwrap_or_else(|| "this connection's user".into());
        Error::Forbidden(format!("{target}: {who} is not allowed to do this (etcd role permissions): {msg}"))
    } else if is_too_large(&status) {
        let mib = RESPONSE_MAX >> 20;
        Error::invalid(format!("{target} sent more than the {mib} MiB the client accepts in one response (a value over {mib} MiB?): {msg}"))
    } else if msg.contains("request is too large") || msg.contains("larger than max") {
        Error::invalid(format!("{target} refused the request as too large: {msg}"))
    } else if msg.contains("authentication is not enabled") {
        Error::invalid(format!("{target} has authentication disabled: remove the username and password from the connection"))
    } else if matches!(status.code(), Code::Unavailable | Code::Unknown | Code::DeadlineExceeded | Code::Cancelled)
        || msg.starts_with("h2 protocol error")
    {
        // No answer, a cut one, or bytes that are not HTTP/2 (tonic reports a
        // broken HTTP/2 connection as INTERNAL): the status keeps the cause.
        transport(target, status)
    } else {
        Error::Internal(format!("{target}: {msg}"))
    }
}

/// Connects, authenticates, reads the server status and checks that reads are
/// possible (a restricted user's "permission denied" still proves the login).
pub async fn probe(target: &EtcdTarget<'_>) -> Result<Probe> {
    let who = target.describe();
    let mut client = target.connect().await?;
    let status = client.status().await.map_err(|e| classify(e, &who, target.username))?;
    let version = format!("etcd {}", status.version());
    let read =
        client.get("/", Some(GetOptions::new().with_keys_only().with_limit(1))).await.map_err(|e| classify(e, &who, target.username));
    let access = match read {
        Ok(_) => "reads allowed".to_string(),
        Err(Error::Forbidden(_)) => "authenticated; this user may not read the key space root (role-limited)".to_string(),
        Err(e) => return Err(e),
    };
    let user = target.username.map(|u| format!(" as {u}")).unwrap_or_default();
    Ok(Probe {
        message: format!("connected to {}{user}; {access}; database {} KiB", target.endpoints.join(","), status.db_size() / 1024),
        version,
    })
}

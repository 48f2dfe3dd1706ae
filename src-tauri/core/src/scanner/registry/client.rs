//! A Distribution (v2) registry client: anonymous, basic and bearer-token
//! auth (the realm named by `WWW-Authenticate`), TLS verified with the
//! system roots and an optional CA file (never skipped), plain HTTP only
//! when the endpoint says so. Every small request has a deadline; blob
//! bodies are streams that fail when they stall.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use futures::Stream;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use tokio_util::bytes::Bytes;

use crate::connectors::errors::{chain, transport};
use crate::connectors::stream::{idle_hint, idle_timeout, stalled, stream_idle, STREAM_IDLE};
use crate::connectors::tls::install_crypto_provider;
use crate::error::{Error, Result};
use crate::secrets::Secret;

/// Deadline of one small request (a manifest, a token, a page of tags).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest page of a catalog or tag list read.
const MAX_PAGE: u64 = 4 * 1024 * 1024;

/// How to reach one registry.
#[derive(Clone, Default)]
pub struct Endpoint {
    /// `host[:port]`.
    pub registry: String,
    /// `http://` instead of `https://` (a local test registry); off by default.
    pub plain_http: bool,
    /// PEM file of CAs trusted besides the system's.
    pub ca_file: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Deadline of each small request (default [`REQUEST_TIMEOUT`]).
    pub timeout: Option<Duration>,
}

/// The auth scheme a registry asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Challenge {
    Basic,
    Bearer { realm: String, service: Option<String> },
}

pub type BlobStream = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

pub struct Client {
    http: reqwest::Client,
    base: String,
    registry: String,
    username: Option<String>,
    password: Option<Secret>,
    timeout: Duration,
    challenge: Mutex<Option<Challenge>>,
    /// Bearer tokens by scope.
    tokens: Mutex<HashMap<String, String>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

impl Client {
    pub fn new(ep: &Endpoint) -> Result<Client> {
        install_crypto_provider();
        if ep.registry.is_empty() || ep.registry.contains('/') {
            return Err(Error::invalid(format!("registry {:?}: give host[:port] only", ep.registry)));
        }
        let mut b = reqwest::Client::builder()
            .connect_timeout(ep.timeout.unwrap_or(REQUEST_TIMEOUT))
            .user_agent(concat!("opsdeck/", env!("CARGO_PKG_VERSION")))
            // A blob may redirect to storage; Authorization is not sent to another host.
            .redirect(reqwest::redirect::Policy::limited(5));
        if let Some(path) = &ep.ca_file {
            let pem = std::fs::read(path).map_err(|e| Error::invalid(format!("the registry CA file {path}: {e}")))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| Error::invalid(format!("the registry CA file {path} holds no PEM certificate: {e}")))?;
            if certs.is_empty() {
                return Err(Error::invalid(format!("the registry CA file {path} holds no PEM certificate")));
            }
            b = b.tls_certs_merge(certs);
        }
        let http = b.build().map_err(|e| Error::Internal(format!("cannot build the HTTP client: {}", chain(&e))))?;
        let scheme = if ep.plain_http { "http" } else { "https" };
        Ok(Client {
            http,
            base: format!("{scheme}://{}", ep.registry),
            registry: ep.registry.clone(),
            username: ep.username.clone().filter(|u| !u.is_empty()),
            password: ep.password.clone(),
            timeout: ep.timeout.unwrap_or(REQUEST_TIMEOUT),
            challenge: Mutex::new(None),
            tokens: Mutex::new(HashMap::new()),
        })
    }

    pub fn registry(&self) -> &str {
        &self.registry
    }

    fn target(&self) -> String {
        format!("the registry at {}", self.base)
    }

    /// Sends a GET of `path` (from `/v2/…`) for `scope`, answering auth
    /// challenges once. `deadline`: the request's own (none for a blob body).
    async fn get(&self, path: &str, scope: &str, accept: Option<&str>, deadline: Option<Duration>) -> Result<reqwest::Response> {
        let url = format!("{}{path}", self.base);
        let mut answered = false;
        loop {
            let mut req = self.http.request(Method::GET, &url);
            if let Some(a) = accept {
                req = req.header(ACCEPT, a);
            }
            if let Some(limit) = deadline {
                req = req.timeout(limit);
            }
            if let Some(h) = self.auth_header(scope) {
                req = req.header(AUTHORIZATION, h);
            }
            let resp = req.send().await.map_err(|e| transport(&self.target(), e))?;
            if resp.status() != StatusCode::UNAUTHORIZED {
                return self.check_status(resp, path).await;
            }
            let challenge = parse_challenge(resp.headers())
                .ok_or_else(|| Error::Auth(format!("{} answered 401 without a usable WWW-Authenticate challenge", self.target())))?;
            if answered {
                return Err(self.refused());
            }
            answered = true;
            if let Challenge::Bearer { realm, service } = &challenge {
                let token = self.fetch_token(realm, service.as_deref(), scope).await?;
                if let Ok(mut t) = self.tokens.lock() {
                    t.insert(scope.to_string(), token);
                }
            } else if self.username.is_none() {
                return Err(Error::Auth(format!(
                    "{} asks for a user name and password (basic auth): give them to the registry connection",
                    self.target()
                )));
            }
            if let Ok(mut c) = self.challenge.lock() {
                *c = Some(challenge);
            }
        }
    }

    fn refused(&self) -> Error {
        match &self.username {
            Some(u) => Error::Auth(format!("{} refused the credentials of user {u:?}: check the user name and password", self.target())),
            None => Error::Auth(format!("{} does not allow anonymous access: give a user name and password", self.target())),
        }
    }

    fn auth_header(&self, scope: &str) -> Option<HeaderValue> {
        let challenge = self.challenge.lock().ok()?.clone()?;
        let value = match challenge {
            Challenge::Basic => basic(self.username.as_deref()?, self.password.as_ref().map(Secret::expose).unwrap_or("")),
            Challenge::Bearer { .. } => format!("Bearer {}", self.tokens.lock().ok()?.get(scope)?),
        };
        let mut v = HeaderValue::from_str(&value).ok()?;
        v.set_sensitive(true);
        Some(v)
    }

    /// The token flow: GET realm?service=…&scope=…, with basic credentials when there are some.
    async fn fetch_token(&self, realm: &str, service: Option<&str>, scope: &str) -> Result<String> {
        let mut url = url::Url::parse(realm)
            .map_err(|e| Error::Auth(format!("{} names a token realm {realm:?} that is not a URL: {e}", self.target())))?;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]" | "::1"));
        match url.scheme() {
            "https" => {}
            "http" if loopback || self.base.starts_with("http://") => {}
            other => {
                return Err(Error::Tls(format!(
                    "{} names a token realm over {other}:// ({realm}): credentials are sent only over https",
                    self.target()
                )))
            }
        }
        {
            let mut q = url.query_pairs_mut();
            if let Some(s) = service {
                q.append_pair("service", s);
            }
            if !scope.is_empty() {
                q.append_pair("scope", scope);
            }
        }
        let mut req = self.http.get(url.clone()).timeout(self.timeout);
        if let Some(u) = &self.username {
            req = req.header(AUTHORIZATION, basic(u, self.password.as_ref().map(Secret::expose).unwrap_or("")));
        }
        let what = format!("the token service {realm} of {}", self.registry);
        let resp = req.send().await.map_err(|e| transport(&what, e))?;
        match resp.status() {
            s if s.is_success() => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(match &self.username {
                    Some(u) => Error::Auth(format!("{what} refused the credentials of user {u:?}: check the user name and password")),
                    None => Error::Auth(format!("{what} gives no anonymous token: give a user name and password")),
                })
            }
            s => return Err(protocol(&what, &format!("answered {s} to a token request"))),
        }
        let body = read_capped(resp, MAX_PAGE, &what).await?;
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| protocol(&what, &format!("answered no token: {e}")))?;
        answer.token.or(answer.access_token).filter(|t| !t.is_empty()).ok_or_else(|| protocol(&what, "answered an empty token"))
    }

    async fn check_status(&self, resp: reqwest::Response, path: &str) -> Result<reqwest::Response> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body = read_capped(resp, 4096, &self.target()).await.unwrap_or_default();
        let detail = String::from_utf8_lossy(&body).chars().take(300).collect::<String>();
        Err(match status {
            StatusCode::NOT_FOUND => Error::NotFound(format!("{} has no {path}: {}", self.target(), detail.trim())),
            StatusCode::FORBIDDEN => Error::Forbidden(format!("{} denies {path} to {}: {}", self.target(), self.who(), detail.trim())),
            StatusCode::TOO_MANY_REQUESTS => {
                Error::Unreachable(format!("{} is rate-limiting requests (429): try again later", self.target()))
            }
            s if s.is_server_error() => Error::Unreachable(format!("{} failed with {s} on {path}: {}", self.target(), detail.trim())),
            s => protocol(&self.target(), &format!("answered {s} to {path}: {}", detail.trim())),
        })
    }

    fn who(&self) -> String {
        self.username.as_ref().map(|u| format!("user {u:?}")).unwrap_or_else(|| "anonymous users".into())
    }

    /// Checks that the registry speaks v2 and the credentials work (GET /v2/).
    pub async fn ping(&self) -> Result<()> {
        let resp = self.get("/v2/", "", None, Some(self.timeout)).await?;
        let version = resp.headers().get("docker-distribution-api-version").and_then(|v| v.to_str().ok()).unwrap_or("");
        if !version.starts_with("registry/2") {
            return Err(protocol(
                &self.target(),
                "answered /v2/ without Docker-Distribution-API-Version: registry/2.0 (is it a registry?)",
            ));
        }
        Ok(())
    }

    /// A manifest or index: its bytes, media type and digest (checked
    /// against the digest asked for, or the one the registry states).
    pub async fn manifest(&self, repository: &str, reference: &str) -> Result<(Vec<u8>, Option<String>, String)> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let resp = self.get(&path, &pull_scope(repository), Some(crate::scanner::image::oci::ACCEPT), Some(self.timeout)).await?;
        let media = resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(|s| s.to_string());
        let stated = resp.headers().get("docker-content-digest").and_then(|v| v.to_str().ok()).map(|s| s.to_string());
        let what = format!("the manifest {repository}:{reference} from {}", self.registry);
        let bytes = read_capped(resp, crate::scanner::image::oci::MAX_DOCUMENT, &what).await?;
        let mut r = crate::scanner::image::digest::DigestReader::new(&bytes[..]);
        std::io::copy(&mut r, &mut std::io::sink()).map_err(|e| Error::Internal(e.to_string()))?;
        let expected =
            if reference.starts_with("sha256:") { Some(reference.to_string()) } else { stated.filter(|s| s.starts_with("sha256:")) };
        if let Some(expected) = expected {
            if let Some(m) = r.mismatch(&expected, &what) {
                return Err(m.into_error(crate::error::ErrorCode::Protocol));
            }
        }
        let digest = r.digest();
        Ok((bytes, media, digest))
    }

    /// A small blob (a config) read whole, at most `cap` bytes, digest checked.
    pub async fn small_blob(&self, repository: &str, digest: &str, cap: u64) -> Result<Vec<u8>> {
        let resp = self.get(&format!("/v2/{repository}/blobs/{digest}"), &pull_scope(repository), None, Some(self.timeout)).await?;
        let what = format!("the blob {digest} of {repository} from {}", self.registry);
        let bytes = read_capped(resp, cap, &what).await?;
        let mut r = crate::scanner::image::digest::DigestReader::new(&bytes[..]);
        std::io::copy(&mut r, &mut std::io::sink()).map_err(|e| Error::Internal(e.to_string()))?;
        if let Some(m) = r.mismatch(digest, &what) {
            return Err(m.into_error(crate::error::ErrorCode::Protocol));
        }
        Ok(bytes)
    }

    /// A blob's body as a stream; it fails when nothing comes for the idle period.
    pub async fn blob(&self, repository: &str, digest: &str) -> Result<BlobStream> {
        let resp = self.get(&format!("/v2/{repository}/blobs/{digest}"), &pull_scope(repository), None, None).await?;
        let target = self.target();
        let body = futures::stream::unfold(Some(resp), move |resp| {
            let target = target.clone();
            async move {
                let mut resp = resp?;
                match resp.chunk().await {
                    Ok(Some(chunk)) => Some((Ok(chunk), Some(resp))),
                    Ok(None) => None,
                    Err(e) => Some((Err(transport(&target, e)), None)),
                }
            }
        });
        let idle = stream_idle();
        let what = format!("{}, sending blob {digest} of {repository}", self.target());
        Ok(Box::pin(idle_timeout(body, idle, move || {
            stalled(what, idle, format!("is the registry or its storage overloaded? Scan again {}", idle_hint(STREAM_IDLE)))
        })))
    }

    /// One page of the registry's repositories after `last` (`/v2/_catalog`),
    /// and whether there is a next page.
    pub async fn catalog_page(&self, last: Option<&str>, n: u32) -> Result<(Vec<String>, bool)> {
        #[derive(Deserialize)]
        struct Catalog {
            #[serde(default)]
            repositories: Vec<String>,
        }
        let mut path = format!("/v2/_catalog?n={n}");
        if let Some(l) = last {
            path.push_str(&format!("&last={}", urlencode(l)));
        }
        let resp = self.get(&path, "registry:catalog:*", None, Some(self.timeout)).await?;
        let more = has_next(resp.headers());
        let body = read_capped(resp, MAX_PAGE, &self.target()).await?;
        let page: Catalog =
            serde_json::from_slice(&body).map_err(|e| protocol(&self.target(), &format!("answered a catalog that is not JSON: {e}")))?;
        Ok((page.repositories, more))
    }

    /// One page of a repository's tags after `last`, and whether there is a next page.
    pub async fn tags_page(&self, repository: &str, last: Option<&str>, n: u32) -> Result<(Vec<String>, bool)> {
        #[derive(Deserialize)]
        struct Tags {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut path = format!("/v2/{repository}/tags/list?n={n}");
        if let Some(l) = last {
            path.push_str(&format!("&last={}", urlencode(l)));
        }
        let resp = self.get(&path, &pull_scope(repository), None, Some(self.timeout)).await?;
        let more = has_next(resp.headers());
        let body = read_capped(resp, MAX_PAGE, &self.target()).await?;
        let page: Tags =
            serde_json::from_slice(&body).map_err(|e| protocol(&self.target(), &format!("answered a tag list that is not JSON: {e}")))?;
        Ok((page.tags.unwrap_or_default(), more))
    }

    /// Every tag of `repository`, page by page, at most `limit`.
    pub async fn all_tags(&self, repository: &str, limit: usize) -> Result<Vec<String>> {
        all_pages(limit, |last| async move { self.tags_page(repository, last.as_deref(), 100).await }).await
    }

    /// Every repository, page by page, at most `limit`.
    pub async fn all_repositories(&self, limit: usize) -> Result<Vec<String>> {
        all_pages(limit, |last| async move { self.catalog_page(last.as_deref(), 100).await }).await
    }
}

/// Follows `page` (given the last name so far) until it says there is no
/// more, or `limit` names are listed.
async fn all_pages<F, Fut>(limit: usize, page: F) -> Result<Vec<String>>
where
    F: Fn(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<String>, bool)>>,
{
    let mut all: Vec<String> = Vec::new();
    loop {
        let (names, more) = page(all.last().cloned()).await?;
        let got = names.len();
        all.extend(names);
        if !more || got == 0 || all.len() >= limit {
            break;
        }
    }
    all.truncate(limit);
    Ok(all)
}

fn pull_scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

fn protocol(target: &str, what: &str) -> Error {
    Error::Remote {
        code: crate::error::ErrorCode::Protocol,
        message: format!("{target} {what}"),
        source: Box::new(std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string())),
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Whether a `Link: <…>; rel="next"` header is present.
fn has_next(h: &HeaderMap) -> bool {
    h.get_all(reqwest::header::LINK).iter().filter_map(|v| v.to_str().ok()).any(|v| v.contains("rel=\"next\""))
}

/// The body, refused when it is over `cap` bytes.
async fn read_capped(mut resp: reqwest::Response, cap: u64, what: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                if out.len() as u64 + c.len() as u64 > cap {
                    return Err(protocol(what, &format!("sent more than {cap} bytes where a small document was expected")));
                }
                out.extend_from_slice(&c);
            }
            Ok(None) => return Ok(out),
            Err(e) => return Err(transport(what, e)),
        }
    }
}

/// The first challenge of `WWW-Authenticate` that this client answers.
fn parse_challenge(h: &HeaderMap) -> Option<Challenge> {
    for v in h.get_all(WWW_AUTHENTICATE).iter().filter_map(|v| v.to_str().ok()) {
        let (scheme, params) = v.trim().split_once(' ').unwrap_or((v.trim(), ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Some(Challenge::Basic);
        }
        if scheme.eq_ignore_ascii_case("bearer") {
            let p = auth_params(params);
            let realm = p.get("realm")?.clone();
            return Some(Challenge::Bearer { realm, service: p.get("service").cloned() });
        }
    }
    None
}

/// `key="value", key2=value2` (commas inside quotes kept).
fn auth_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else { break };
        let key = key.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(end) => (q[..end].to_string(), &q[end + 1..]),
                None => (q.to_string(), ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (after[..end].trim().to_string(), &after[end..]),
                None => (after.trim().to_string(), ""),
            }
        };
        out.insert(key, value);
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_parsed() {
        let mut h = HeaderMap::new();
        h.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="https://auth.example/token",service="reg.example",scope="repository:a/b:pull,push""#),
        );
        assert_eq!(
            parse_challenge(&h),
            Some(Challenge::Bearer { realm: "https://auth.example/token".into(), service: Some("reg.example".into()) })
        );
        h.insert(WWW_AUTHENTICATE, HeaderValue::from_static(r#"Basic realm="x""#));
        assert_eq!(parse_challenge(&h), Some(Challenge::Basic));
        h.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Negotiate"));
        assert_eq!(parse_challenge(&h), None);
        h.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer service=x"));
        assert_eq!(parse_challenge(&h), None, "a bearer challenge needs a realm");
    }

    #[test]
    fn link_headers_say_when_there_is_more() {
        let mut h = HeaderMap::new();
        assert!(!has_next(&h));
        h.insert(reqwest::header::LINK, HeaderValue::from_static(r#"</v2/_catalog?last=b&n=2>; rel="next""#));
        assert!(has_next(&h));
    }
}

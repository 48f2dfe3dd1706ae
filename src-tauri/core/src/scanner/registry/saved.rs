//! Saved registry connections (issue 15 item 2): a registry the Images
//! workspace browses (repositories, tags) and scans from. The profile holds
//! the URL, the auth kind, the user name, a CA file and a default platform;
//! the password lives only in the OS keychain (`secret_ref` names its entry).
//! Listing follows the Distribution API's paging (`n`, `Link: rel="next"`)
//! with a deadline on every request; errors say what to change.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::Row;
use url::Url;

use super::client::{Client, Endpoint};
use crate::cache::db::{now_rfc3339, Db};
use crate::connections::validate::{is_loopback, validate_name};
use crate::error::{Error, ErrorCode, Result};
use crate::scanner::image::oci::Platform;
use crate::secrets::Secret;

/// Deadline of one request while browsing (a page of repositories or tags, `/v2/`).
pub const BROWSE_TIMEOUT: Duration = Duration::from_secs(15);
/// Page size asked of the registry by default (`n`).
pub const DEFAULT_PAGE: u32 = 100;
/// Largest page size accepted.
pub const MAX_PAGE: u32 = 1000;
/// Most names one listing returns (the rest is reported as truncated).
pub const MAX_LISTED: usize = 10_000;
const SECRET_MAX: usize = 4096;

/// How the registry wants clients to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum RegistryAuth {
    /// No credentials.
    Anonymous,
    /// HTTP basic auth (htpasswd) on every request.
    Basic,
    /// A token service (`WWW-Authenticate: Bearer realm=…`) that takes the user and password.
    Token,
}

/// Where the registry is and how to reach it. No secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RegistrySpec {
    /// `https://host[:port]` (or `http://` for a registry without TLS).
    pub url: String,
    pub auth: RegistryAuth,
    #[serde(default)]
    pub username: Option<String>,
    /// PEM file of the CA(s) that sign the registry's certificate, besides the system's.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Platform scanned from a multi-platform image (`os/arch[/variant]`); default: this machine's.
    #[serde(default)]
    pub platform: Option<String>,
}

impl RegistrySpec {
    /// `host[:port]` of the URL: the registry part of image references.
    pub fn host(&self) -> String {
        host_of(&self.url).unwrap_or_default()
    }
}

/// A saved registry connection as the UI and CLI see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct RegistryConnection {
    pub id: String,
    pub name: String,
    pub spec: RegistrySpec,
    /// `host[:port]`, the prefix of its image references.
    pub host: String,
    /// Whether a password is stored in the keychain.
    pub has_secret: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// What the UI or CLI sends to create (`id: None`) or update a registry
/// connection, or to test one before saving it.
#[derive(Clone, Deserialize, specta::Type)]
pub struct RegistryInput {
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    pub spec: RegistrySpec,
    /// `None` keeps the stored password (an update) ; `Some` stores it in the keychain.
    #[serde(default)]
    pub secret: Option<String>,
}

// Manual Debug so the password never reaches a log line through `{:?}`.
impl std::fmt::Debug for RegistryInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryInput")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("spec", &self.spec)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Names listed from a registry (repositories or tags), in the registry's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RegistryListing {
    pub names: Vec<String>,
    /// Pages read.
    pub pages: u32,
    /// More names than [`MAX_LISTED`] (or the limit asked): the list stops there.
    pub truncated: bool,
}

// ---- validation ----------------------------------------------------------------

fn opt(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn host_of(url: &str) -> Option<String> {
    let u = Url::parse(url).ok()?;
    let host = u.host_str()?;
    Some(match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    })
}

/// Checks the URL, the auth fields, the CA file and the platform; returns the spec normalised.
pub fn validate_spec(spec: RegistrySpec) -> Result<RegistrySpec> {
    let raw = spec.url.trim();
    let raw = if raw.contains("://") { raw.to_string() } else { format!("https://{raw}") };
    let url = Url::parse(&raw)
        .map_err(|e| Error::invalid(format!("URL: \"{}\" is not a URL ({e}); expected https://registry.example:5000", spec.url.trim())))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(Error::invalid(format!("URL: \"{raw}\" must start with https:// (or http:// for a registry without TLS)")));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid("URL: no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid("URL: put the user in the user field and the password in the password field, not in the URL"));
    }
    if !matches!(url.path(), "" | "/" | "/v2" | "/v2/") || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid(format!(
            "URL: \"{raw}\": give the registry's address only (https://host[:port]), without a path; repositories are browsed"
        )));
    }
    let plain = url.scheme() == "http";
    let host = host_of(url.as_str()).ok_or_else(|| Error::invalid("URL: no host"))?;
    let url = format!("{}://{host}", url.scheme());
    let username = opt(spec.username);
    match (spec.auth, &username) {
        (RegistryAuth::Anonymous, Some(_)) => {
            return Err(Error::invalid("user: an anonymous connection takes no user; choose basic or token auth"))
        }
        (RegistryAuth::Basic | RegistryAuth::Token, None) => return Err(Error::invalid("user: required for basic and token auth")),
        _ => {}
    }
    if let Some(u) = &username {
        if u.len() > 256 || u.chars().any(|c| c.is_control() || c == ':') {
            return Err(Error::invalid("user: at most 256 characters, no ':' and no control characters"));
        }
    }
    if plain && spec.auth != RegistryAuth::Anonymous && !is_loopback(&url) {
        return Err(Error::invalid(format!("URL: {url} is http://: the password would cross the network in clear text; use https://")));
    }
    let ca_file = opt(spec.ca_file);
    if let Some(ca) = &ca_file {
        if plain {
            return Err(Error::invalid("CA file: applies to https:// registries only"));
        }
        let path = std::path::Path::new(ca);
        if !path.is_absolute() {
            return Err(Error::invalid(format!("CA file: \"{ca}\" must be an absolute path")));
        }
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() && m.len() <= 1024 * 1024 => {}
            Ok(m) if m.is_file() => return Err(Error::invalid(format!("CA file: {ca} is over 1 MiB: not a PEM bundle"))),
            Ok(_) => return Err(Error::invalid(format!("CA file: {ca} is not a regular file"))),
            Err(e) => return Err(Error::invalid(format!("CA file: {ca}: {e}"))),
        }
    }
    let platform = opt(spec.platform);
    if let Some(p) = &platform {
        Platform::parse(p).map_err(|e| Error::invalid(format!("platform: {e}")))?;
    }
    Ok(RegistrySpec { url, auth: spec.auth, username, ca_file, platform })
}

/// Checks an input (name, spec, password rules); returns it normalised.
pub fn validate_input(mut input: RegistryInput) -> Result<RegistryInput> {
    input.name = validate_name(&input.name)?;
    input.spec = validate_spec(input.spec)?;
    if let Some(s) = &input.secret {
        if input.spec.auth == RegistryAuth::Anonymous {
            return Err(Error::invalid("password: an anonymous connection takes no password"));
        }
        if s.is_empty() {
            return Err(Error::invalid("password: empty; leave it out to keep the stored one"));
        }
        if s.len() > SECRET_MAX {
            return Err(Error::invalid(format!("password: at most {SECRET_MAX} bytes")));
        }
    }
    Ok(input)
}

/// A repository name per the distribution reference grammar: path components
/// of `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` separated by `/`, 255 characters at most.
pub fn validate_repository(name: &str) -> Result<()> {
    let bad = |why: &str| {
        Error::invalid(format!(
            "repository {name:?}: {why} (lowercase letters and digits, separated by '.', '_', '__' or '-', components joined by '/')"
        ))
    };
    if name.is_empty() || name.len() > 255 {
        return Err(bad("1 to 255 characters"));
    }
    for component in name.split('/') {
        if !valid_component(component) {
            return Err(bad(&format!("the component {component:?} is not valid")));
        }
    }
    Ok(())
}

fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator: '.', '_', '__' or one or more '-', followed by an alphanumeric.
        let start = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => i += if b.get(i + 1) == Some(&b'_') { 2 } else { 1 },
            b'-' => {
                while b.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
        if i == start || !b.get(i).is_some_and(|x| alnum(*x)) {
            return false;
        }
    }
    true
}

/// A tag per the grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<()> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && !tag.starts_with(['.', '-']);
    if !ok {
        return Err(Error::invalid(format!("tag {tag:?}: 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'")));
    }
    Ok(())
}

// ---- client -------------------------------------------------------------------

/// The registry client of a spec with its password.
pub fn client(spec: &RegistrySpec, password: Option<Secret>, timeout: Duration) -> Result<Client> {
    Client::new(&Endpoint {
        registry: spec.host(),
        plain_http: spec.url.starts_with("http://"),
        ca_file: spec.ca_file.clone(),
        username: spec.username.clone(),
        password,
        timeout: Some(timeout),
    })
}

/// Adds what to change to an error of the registry of connection `name`.
pub fn explain(e: Error, name: &str) -> Error {
    match e {
        Error::Remote { code: ErrorCode::Tls, message, source } => Error::Remote {
            code: ErrorCode::Tls,
            message: format!(
                "{message} Set the CA file of registry connection \"{name}\" to the PEM of the CA that signed the registry's certificate."
            ),
            source,
        },
        Error::Tls(m) => Error::Tls(format!("{m} (registry connection \"{name}\")")),
        Error::Auth(m) => Error::Auth(format!("{m} (registry connection \"{name}\": check user/password)")),
        other => other,
    }
}

/// Follows `page` (given the last name so far and the page size) until the
/// registry says there is no more or `limit` names are listed.
async fn listing<F, Fut>(limit: usize, page: F) -> Result<RegistryListing>
where
    F: Fn(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<String>, bool)>>,
{
    let mut names: Vec<String> = Vec::new();
    let mut pages = 0u32;
    let mut truncated = false;
    loop {
        let last = names.last().cloned();
        let (got, more) = page(last.clone()).await?;
        pages += 1;
        // A registry answering the same page again would be paged forever.
        let stuck = got.is_empty() || got.last() == last.as_ref();
        names.extend(got.into_iter().filter(|n| !n.is_empty() && Some(n) != last.as_ref()));
        if names.len() >= limit {
            truncated = more || names.len() > limit;
            names.truncate(limit);
            break;
        }
        if !more || stuck {
            break;
        }
    }
    Ok(RegistryListing { names, pages, truncated })
}

/// Every repository of the registry (`/v2/_catalog`), `page_size` at a time.
pub async fn repositories(client: &Client, page_size: u32, limit: usize) -> Result<RegistryListing> {
    let n = page_size.clamp(1, MAX_PAGE);
    listing(limit, |last| async move { client.catalog_page(last.as_deref(), n).await }).await
}

/// Every tag of `repository` (`/v2/<name>/tags/list`), `page_size` at a time.
pub async fn tags(client: &Client, repository: &str, page_size: u32, limit: usize) -> Result<RegistryListing> {
    validate_repository(repository)?;
    let n = page_size.clamp(1, MAX_PAGE);
    listing(limit, |last| async move { client.tags_page(repository, last.as_deref(), n).await }).await
}

// ---- store --------------------------------------------------------------------

/// A stored connection plus its keychain reference, which the UI never sees.
#[derive(Debug, Clone)]
pub struct Stored {
    pub connection: RegistryConnection,
    pub secret_ref: Option<String>,
}

macro_rules! select {
    ($rest:literal) => {
        concat!("SELECT id, name, spec_json, secret_ref, created_at, updated_at FROM registry_connections ", $rest)
    };
}

fn from_row(r: sqlx::sqlite::SqliteRow) -> Result<Stored> {
    let id: String = r.get(0);
    let spec_json: String = r.get(2);
    let spec: RegistrySpec =
        serde_json::from_str(&spec_json).map_err(|e| Error::Storage(format!("registry connection {id} has an unreadable profile: {e}")))?;
    let secret_ref: Option<String> = r.get(3);
    Ok(Stored {
        connection: RegistryConnection {
            id,
            name: r.get(1),
            host: spec.host(),
            spec,
            has_secret: secret_ref.is_some(),
            created_at: r.get(4),
            updated_at: r.get(5),
        },
        secret_ref,
    })
}

pub async fn list(db: &Db) -> Result<Vec<Stored>> {
    let rows = sqlx::query(select!("ORDER BY name COLLATE NOCASE")).fetch_all(db.pool()).await?;
    rows.into_iter().map(from_row).collect()
}

/// By id, or else by name (case-insensitive).
pub async fn find(db: &Db, id_or_name: &str) -> Result<Stored> {
    let row = sqlx::query(select!("WHERE id = ? OR name = ? COLLATE NOCASE ORDER BY id = ? DESC LIMIT 1"))
        .bind(id_or_name)
        .bind(id_or_name)
        .bind(id_or_name)
        .fetch_optional(db.pool())
        .await?;
    match row {
        Some(r) => from_row(r),
        None => Err(Error::NotFound(format!("no registry connection {id_or_name:?} (opsdeck registry list shows them)"))),
    }
}

fn map_unique(e: sqlx::Error, name: &str) -> Error {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            Error::invalid(format!("name: a registry connection named \"{name}\" already exists"))
        }
        _ => e.into(),
    }
}

pub async fn insert(db: &Db, id: &str, name: &str, spec: &RegistrySpec, secret_ref: Option<&str>) -> Result<()> {
    let now = now_rfc3339();
    let spec_json = serde_json::to_string(spec).map_err(|e| Error::Internal(e.to_string()))?;
    sqlx::query("INSERT INTO registry_connections (id, name, spec_json, secret_ref, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(id)
        .bind(name)
        .bind(spec_json)
        .bind(secret_ref)
        .bind(&now)
        .bind(&now)
        .execute(db.pool())
        .await
        .map_err(|e| map_unique(e, name))?;
    Ok(())
}

pub async fn update(db: &Db, id: &str, name: &str, spec: &RegistrySpec, secret_ref: Option<&str>) -> Result<()> {
    let spec_json = serde_json::to_string(spec).map_err(|e| Error::Internal(e.to_string()))?;
    let done = sqlx::query("UPDATE registry_connections SET name = ?, spec_json = ?, secret_ref = ?, updated_at = ? WHERE id = ?")
        .bind(name)
        .bind(spec_json)
        .bind(secret_ref)
        .bind(now_rfc3339())
        .bind(id)
        .execute(db.pool())
        .await
        .map_err(|e| map_unique(e, name))?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("no registry connection with id {id}")));
    }
    Ok(())
}

pub async fn delete(db: &Db, id: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM registry_connections WHERE id = ?").bind(id).execute(db.pool()).await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound(format!("no registry connection with id {id}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(url: &str, auth: RegistryAuth, user: Option<&str>) -> RegistrySpec {
        RegistrySpec { url: url.into(), auth, username: user.map(Into::into), ca_file: None, platform: None }
    }

    #[test]
    fn urls_are_normalised_and_checked() {
        let s = validate_spec(spec(" https://reg.example:5000/ ", RegistryAuth::Anonymous, None)).unwrap();
        assert_eq!(s.url, "https://reg.example:5000");
        assert_eq!(s.host(), "reg.example:5000");
        assert_eq!(validate_spec(spec("reg.example", RegistryAuth::Anonymous, None)).unwrap().url, "https://reg.example");
        assert!(validate_spec(spec("ftp://reg.example", RegistryAuth::Anonymous, None)).is_err());
        assert!(validate_spec(spec("https://u:p@reg.example", RegistryAuth::Anonymous, None)).is_err());
        assert!(validate_spec(spec("https://reg.example/some/repo", RegistryAuth::Anonymous, None)).is_err());
        assert!(validate_spec(spec("https://", RegistryAuth::Anonymous, None)).is_err());
        assert_eq!(validate_spec(spec("http://[::1]:5000", RegistryAuth::Anonymous, None)).unwrap().host(), "[::1]:5000");
    }

    #[test]
    fn auth_fields_go_together() {
        assert!(validate_spec(spec("https://r.example", RegistryAuth::Basic, None)).is_err());
        assert!(validate_spec(spec("https://r.example", RegistryAuth::Anonymous, Some("bob"))).is_err());
        assert!(validate_spec(spec("https://r.example", RegistryAuth::Token, Some("bob"))).is_ok());
        assert!(validate_spec(spec("https://r.example", RegistryAuth::Basic, Some("a:b"))).is_err());
        let e = validate_spec(spec("http://r.example", RegistryAuth::Basic, Some("bob"))).unwrap_err();
        assert!(e.to_string().contains("clear text"), "{e}");
        assert!(validate_spec(spec("http://127.0.0.1:5000", RegistryAuth::Basic, Some("bob"))).is_ok(), "loopback");
        let input = |auth, user: Option<&str>, secret: Option<&str>| RegistryInput {
            id: None,
            name: "r".into(),
            spec: spec("https://r.example", auth, user),
            secret: secret.map(Into::into),
        };
        assert!(validate_input(input(RegistryAuth::Anonymous, None, Some("pw"))).is_err());
        assert!(validate_input(input(RegistryAuth::Basic, Some("bob"), Some(""))).is_err());
        assert!(validate_input(input(RegistryAuth::Basic, Some("bob"), Some("pw"))).is_ok());
        let dbg = format!("{:?}", input(RegistryAuth::Basic, Some("bob"), Some("hunter2")));
        assert!(!dbg.contains("hunter2"), "{dbg}");
    }

    #[test]
    fn ca_file_and_platform_are_checked() {
        let mut s = spec("https://r.example", RegistryAuth::Anonymous, None);
        s.ca_file = Some("relative.pem".into());
        assert!(validate_spec(s.clone()).is_err());
        s.ca_file = Some("/nonexistent/ca.pem".into());
        assert!(validate_spec(s.clone()).is_err());
        s.ca_file = Some("/".into());
        assert!(validate_spec(s.clone()).unwrap_err().to_string().contains("not a regular file"));
        s.ca_file = None;
        s.platform = Some("linux/arm64/v8".into());
        assert!(validate_spec(s.clone()).is_ok());
        s.platform = Some("linux".into());
        assert!(validate_spec(s).is_err());
    }

    #[test]
    fn repository_names_follow_the_reference_grammar() {
        for ok in ["app", "team/app", "a.b_c__d---e/f0", "library/alpine", "x"] {
            assert!(validate_repository(ok).is_ok(), "{ok}");
        }
        for bad in ["", "App", "a..b", "a___b", "-a", "a-", "a//b", "/a", "a/", "a b", "a:b", "a@b", &"a".repeat(256)] {
            assert!(validate_repository(bad).is_err(), "{bad}");
        }
        for ok in ["1", "latest", "v1.2.3-rc_1", "_x", &"t".repeat(128)] {
            assert!(validate_tag(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".x", "-x", "a/b", "a:b", &"t".repeat(129)] {
            assert!(validate_tag(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn listing_follows_pages_and_stops_at_the_limit() {
        let all: Vec<String> = (0..7).map(|i| format!("r{i}")).collect();
        let page = |last: Option<String>| {
            let all = all.clone();
            async move {
                let start = last.map_or(0, |l| all.iter().position(|n| *n == l).map_or(all.len(), |p| p + 1));
                let got: Vec<String> = all.iter().skip(start).take(3).cloned().collect();
                Ok((got, start + 3 < all.len()))
            }
        };
        let l = listing(100, page).await.unwrap();
        assert_eq!((l.names.len(), l.pages, l.truncated), (7, 3, false));
        let l = listing(5, page).await.unwrap();
        assert_eq!((l.names, l.truncated), (all[..5].to_vec(), true));
        // A registry that says "more" but repeats itself stops.
        let stuck = |_| async { Ok((vec!["same".to_string()], true)) };
        let l = listing(100, stuck).await.unwrap();
        assert_eq!((l.names.len(), l.pages), (1, 2));
    }
}

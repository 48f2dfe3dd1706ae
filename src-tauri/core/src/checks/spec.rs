//! `checks.yaml`: targets (a saved connection, or an inline target with its
//! secret in an environment variable — never in the file) and the checks to
//! run against them, each with a timeout.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::connections::ConnectionSpec;
use crate::error::{Error, Result};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_CONCURRENCY: usize = 4;

#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct CheckFile {
    /// Checks running at once (1-32).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Default timeout of a check, e.g. "30s", "2m".
    #[serde(default)]
    pub timeout: Option<String>,
    pub targets: BTreeMap<String, TargetSpec>,
    pub checks: Vec<CheckSpec>,
    /// Environment variables a `secret_env` may name besides `OPSDECK_*`
    /// (given on the command line, never by the file itself).
    #[serde(skip)]
    pub allowed_env: Vec<String>,
}

/// Variables every checks file may read a secret from.
pub const SECRET_ENV_PREFIX: &str = "OPSDECK_";

fn default_concurrency() -> usize {
    DEFAULT_CONCURRENCY
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// A saved connection profile (name or id); its secret comes from the keychain.
    #[serde(default)]
    pub connection: Option<String>,
    /// Or an inline target, shaped like a connection profile (`kind: etcd`, ...).
    /// Strict: an unknown field (a typo) or a secret in it is refused.
    #[serde(default, deserialize_with = "strict_spec")]
    pub spec: Option<ConnectionSpec>,
    /// Environment variable holding the password or token (overrides the keychain's).
    #[serde(default)]
    pub secret_env: Option<String>,
}

/// Words that mark a field as a secret: such a field is refused in an inline
/// `spec`, whatever its name's exact spelling (`password`, `api_token`, ...).
const SECRET_WORDS: &[&str] = &["password", "passwd", "token", "secret", "passphrase", "credential"];

/// An inline target spec, read strictly: `ConnectionSpec` itself tolerates
/// unknown fields (stored profiles stay readable across versions), but in a
/// checks file a misspelt field would silently fall back to a default and a
/// `password:` would sit in a file that is committed to a repository. Every
/// field the spec does not read is an error naming its path.
fn strict_spec<'de, D>(d: D) -> std::result::Result<Option<ConnectionSpec>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error as _;
    let Some(raw) = Option::<serde_json::Value>::deserialize(d)? else { return Ok(None) };
    let mut secrets = Vec::new();
    secret_fields(&raw, "spec", &mut secrets);
    if let Some(path) = secrets.first() {
        return Err(D::Error::custom(format!(
            "{path}: secrets never go in the checks file (the password or token comes from secret_env or a saved connection's keychain entry)"
        )));
    }
    let spec: ConnectionSpec = serde_json::from_value(raw.clone()).map_err(|e| D::Error::custom(format!("spec: {e}")))?;
    let read = serde_json::to_value(&spec).map_err(|e| D::Error::custom(format!("spec: {e}")))?;
    let mut unknown = Vec::new();
    unknown_fields(&raw, &read, "spec", &mut unknown);
    if let Some((path, expected)) = unknown.first() {
        return Err(D::Error::custom(format!("unknown field {path}, expected one of: {expected}")));
    }
    Ok(Some(spec))
}

/// Paths of fields whose name says they hold a secret.
fn secret_fields(v: &serde_json::Value, at: &str, out: &mut Vec<String>) {
    if let serde_json::Value::Object(m) = v {
        for (k, v) in m {
            let path = format!("{at}.{k}");
            let lower = k.to_ascii_lowercase();
            if SECRET_WORDS.iter().any(|w| lower.contains(w)) {
                out.push(path.clone());
            }
            secret_fields(v, &path, out);
        }
    }
}

/// Fields present in `given` but not in `read` (what the spec kept), with the
/// fields that were expected at that level.
fn unknown_fields(given: &serde_json::Value, read: &serde_json::Value, at: &str, out: &mut Vec<(String, String)>) {
    let (serde_json::Value::Object(g), serde_json::Value::Object(r)) = (given, read) else { return };
    for (k, v) in g {
        let path = format!("{at}.{k}");
        match r.get(k) {
            Some(kept) => unknown_fields(v, kept, &path, out),
            None => out.push((path, r.keys().map(String::as_str).collect::<Vec<_>>().join(", "))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    /// The server answers (TLS verified); a refused login still counts as reachable.
    Connectivity,
    /// The credentials are accepted.
    Auth,
    /// The server's version is at least `min_version`.
    Version,
    /// A list operation works (etcd keys under `prefix`, images, namespaces, VMs).
    List,
    /// Create, read and remove a throw-away object, cleaning up after itself.
    Roundtrip,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Connectivity => "connectivity",
            CheckKind::Auth => "auth",
            CheckKind::Version => "version",
            CheckKind::List => "list",
            CheckKind::Roundtrip => "roundtrip",
        }
    }
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    pub name: String,
    pub target: String,
    pub kind: CheckKind,
    #[serde(default)]
    pub timeout: Option<String>,
    /// version: the minimum, e.g. "3.4" or "v1.30".
    #[serde(default)]
    pub min_version: Option<String>,
    /// etcd list/roundtrip: the key prefix (a roundtrip writes one key under it).
    #[serde(default)]
    pub prefix: Option<String>,
    /// docker roundtrip: a local image to run.
    #[serde(default)]
    pub image: Option<String>,
    /// kubernetes roundtrip: the namespace of the test ConfigMap (default "default").
    #[serde(default)]
    pub namespace: Option<String>,
    /// kubernetes: the context (default: the kubeconfig's current one).
    #[serde(default)]
    pub context: Option<String>,
    /// vsphere roundtrip: the template to clone.
    #[serde(default)]
    pub template: Option<String>,
}

/// "30s", "2m", "1500ms", or a bare number of seconds.
pub fn parse_duration(field: &str, s: &str) -> Result<Duration> {
    let t = s.trim();
    let (num, unit) = t.find(|c: char| !c.is_ascii_digit()).map(|i| t.split_at(i)).unwrap_or((t, "s"));
    let n: u64 = num.parse().map_err(|_| Error::invalid(format!("{field} \"{s}\": use e.g. 30s, 2m or 1500ms")))?;
    let d = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        _ => return Err(Error::invalid(format!("{field} \"{s}\": use e.g. 30s, 2m or 1500ms"))),
    };
    if d.is_zero() || d > Duration::from_secs(3600) {
        return Err(Error::invalid(format!("{field} \"{s}\": between 1 ms and 60 m")));
    }
    Ok(d)
}

impl CheckFile {
    /// Parses and validates a checks file; errors name the check and field.
    pub fn parse(text: &str) -> Result<CheckFile> {
        let f: CheckFile = serde_norway::from_str(text).map_err(|e| {
            let m = e.to_string();
            let hint = if !m.contains("secrets never go") && ["password", "token", "secret:"].iter().any(|w| m.contains(w)) {
                " (secrets never go in the checks file: use secret_env or a saved connection)"
            } else {
                ""
            };
            Error::invalid(format!("checks file: {m}{hint}"))
        })?;
        f.validate()?;
        Ok(f)
    }

    /// A checks file may read secrets only from `OPSDECK_*` variables or
    /// those allowed on the command line: a file from an untrusted branch
    /// must not send, say, a cloud token from the CI environment to a host of
    /// its choosing.
    pub fn check_secret_env(&self) -> Result<()> {
        for (name, t) in &self.targets {
            if let Some(var) = &t.secret_env {
                if !var.starts_with(SECRET_ENV_PREFIX) && !self.allowed_env.iter().any(|a| a == var) {
                    return Err(Error::invalid(format!(
                        "target \"{name}\": secret_env {var} is not allowed: name an {SECRET_ENV_PREFIX}* variable, or allow this one with --allow-env {var}"
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn default_timeout(&self) -> Result<Duration> {
        self.timeout.as_deref().map(|t| parse_duration("timeout", t)).transpose().map(|t| t.unwrap_or(DEFAULT_TIMEOUT))
    }

    fn validate(&self) -> Result<()> {
        if !(1..=32).contains(&self.concurrency) {
            return Err(Error::invalid("concurrency: 1-32"));
        }
        self.default_timeout()?;
        for (name, t) in &self.targets {
            match (&t.connection, &t.spec) {
                (Some(_), None) | (None, Some(_)) => {}
                _ => {
                    return Err(Error::invalid(format!("target \"{name}\": give either `connection` (a saved profile) or `spec` (inline)")))
                }
            }
        }
        if self.checks.is_empty() {
            return Err(Error::invalid("checks: the file lists no check"));
        }
        let mut names = std::collections::HashSet::new();
        for c in &self.checks {
            let at = |what: &str| Error::invalid(format!("check \"{}\": {what}", c.name));
            if c.name.trim().is_empty() {
                return Err(Error::invalid("a check has no name"));
            }
            if !names.insert(c.name.as_str()) {
                return Err(at("the name is used twice"));
            }
            if !self.targets.contains_key(&c.target) {
                return Err(at(&format!("target \"{}\" is not defined under targets", c.target)));
            }
            if let Some(t) = &c.timeout {
                parse_duration(&format!("check \"{}\" timeout", c.name), t)?;
            }
            if c.kind == CheckKind::Version && c.min_version.is_none() {
                return Err(at("a version check needs min_version"));
            }
        }
        Ok(())
    }
}

/// Compares dotted numeric versions ("v1.37.2" >= "1.30"); text after the
/// numbers ("-rc1", "+dfsg") is ignored.
pub fn version_at_least(have: &str, min: &str) -> Option<bool> {
    fn parts(s: &str) -> Option<Vec<u64>> {
        let start = s.find(|c: char| c.is_ascii_digit())?;
        let nums: Vec<u64> = s[start..]
            .split(|c: char| !c.is_ascii_digit() && c != '.')
            .next()?
            .split('.')
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        (!nums.is_empty()).then_some(nums)
    }
    let (h, m) = (parts(have)?, parts(min)?);
    for i in 0..h.len().max(m.len()) {
        let (a, b) = (h.get(i).copied().unwrap_or(0), m.get(i).copied().unwrap_or(0));
        if a != b {
            return Some(a > b);
        }
    }
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
concurrency: 2
timeout: 20s
targets:
  etcd-main:
    spec: { kind: etcd, endpoints: ["http://127.0.0.1:2379"], username: root }
    secret_env: OPSDECK_ETCD_PASSWORD
  vc:
    connection: lab-vc
checks:
  - { name: etcd up, target: etcd-main, kind: connectivity }
  - { name: etcd version, target: etcd-main, kind: version, min_version: "3.4" }
  - { name: vc clone, target: vc, kind: roundtrip, template: t1, timeout: 2m }
"#;

    #[test]
    fn a_valid_file_parses() {
        let f = CheckFile::parse(FILE).unwrap();
        assert_eq!((f.concurrency, f.checks.len()), (2, 3));
        assert_eq!(f.default_timeout().unwrap(), Duration::from_secs(20));
        assert_eq!(f.checks[2].kind, CheckKind::Roundtrip);
    }

    #[test]
    fn a_secret_or_a_typo_inside_an_inline_spec_is_refused_with_its_path() {
        for (field, expect) in [
            ("password: hunter2", "spec.password: secrets never go in the checks file"),
            ("api_token: abc", "spec.api_token: secrets never go in the checks file"),
            ("tls: { ca_file: /ca.pem, client_secret: x }", "spec.tls.client_secret: secrets never go"),
            ("endpionts: [x]", "unknown field spec.endpionts, expected one of: "),
            ("tls: { ca_fil: /ca.pem }", "unknown field spec.tls.ca_fil, expected one of: ca_file, cert_file, key_file"),
        ] {
            let bad = FILE.replace("username: root }", &format!("username: root, {field} }}"));
            let e = CheckFile::parse(&bad).unwrap_err().to_string();
            assert!(e.contains(expect), "{field}: {e}");
        }
        // What the spec does read still parses, nested TLS files included.
        let ok = FILE.replace("username: root }", "username: root, tls: { ca_file: /ca.pem }, allow_plaintext: false }");
        let f = CheckFile::parse(&ok).unwrap();
        assert!(
            matches!(&f.targets["etcd-main"].spec, Some(ConnectionSpec::Etcd { tls: Some(t), .. }) if t.ca_file.as_deref() == Some("/ca.pem"))
        );
    }

    #[test]
    fn secrets_in_the_file_are_refused_with_a_hint() {
        let bad = FILE.replace("secret_env: OPSDECK_ETCD_PASSWORD", "password: hunter2");
        let e = CheckFile::parse(&bad).unwrap_err().to_string();
        assert!(e.contains("secrets never go in the checks file"), "{e}");
    }

    #[test]
    fn mistakes_name_the_check() {
        let e = CheckFile::parse(&FILE.replace("target: vc,", "target: nope,")).unwrap_err().to_string();
        assert!(e.contains("check \"vc clone\": target \"nope\" is not defined"), "{e}");
        let e = CheckFile::parse(&FILE.replace(", min_version: \"3.4\"", "")).unwrap_err().to_string();
        assert!(e.contains("needs min_version"), "{e}");
        let e = CheckFile::parse(&FILE.replace("timeout: 2m", "timeout: 2h")).unwrap_err().to_string();
        assert!(e.contains("timeout"), "{e}");
    }

    #[test]
    fn the_documented_example_parses() {
        let f = CheckFile::parse(include_str!("../../../../docs/examples/checks.yaml")).unwrap();
        assert_eq!(f.targets.len(), 4);
        assert!(f.checks.iter().any(|c| c.kind == CheckKind::Roundtrip && c.template.as_deref() == Some("ci-template")));
    }

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(version_at_least("etcd 3.4.23", "3.4"), Some(true));
        assert_eq!(version_at_least("v1.37.2", "v1.38"), Some(false));
        assert_eq!(version_at_least("20.10.24+dfsg1", "20.10.9"), Some(true));
        assert_eq!(version_at_least("VMware vCenter Server 8.0.3", "7.0"), Some(true));
        assert_eq!(version_at_least("unknown", "1.0"), None);
    }

    #[test]
    fn secret_env_reads_only_opsdeck_variables_or_those_allowed() {
        let mut f = CheckFile::parse(FILE).unwrap();
        assert!(f.check_secret_env().is_ok());
        let mut stolen = CheckFile::parse(&FILE.replace("OPSDECK_ETCD_PASSWORD", "AWS_SECRET_ACCESS_KEY")).unwrap();
        let e = stolen.check_secret_env().unwrap_err();
        assert!(e.to_string().contains("--allow-env AWS_SECRET_ACCESS_KEY"), "{e}");
        stolen.allowed_env = vec!["AWS_SECRET_ACCESS_KEY".into()];
        assert!(stolen.check_secret_env().is_ok());
        f.allowed_env = vec!["OTHER".into()];
        assert!(f.check_secret_env().is_ok());
    }
}

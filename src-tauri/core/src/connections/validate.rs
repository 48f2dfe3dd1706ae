//! Validation and normalisation of connection profiles. Every rule names the
//! field and says what a valid value looks like.

use url::Url;

use super::model::{ConnectionInput, ConnectionSpec, Kind, TlsFiles};
use crate::error::{Error, Result};

pub const NAME_MAX: usize = 64;
pub const SECRET_MAX: usize = 4096;
pub const ETCD_ENDPOINTS_MAX: usize = 16;

/// Checks `input` and returns it normalised (trimmed, empty optionals as `None`).
pub fn validate_input(mut input: ConnectionInput) -> Result<ConnectionInput> {
    input.name = validate_name(&input.name)?;
    input.spec = validate_spec(input.spec)?;
    if let Some(secret) = &input.secret {
        validate_secret(input.spec.kind(), secret)?;
        if input.clear_secret {
            return Err(Error::invalid("a new secret and \"remove stored secret\" were both given: choose one"));
        }
    }
    if let ConnectionSpec::Kubernetes { contexts, .. } = &input.spec {
        crate::connectors::kube::token_bound(contexts, input.secret.is_some())?;
    }
    if let ConnectionSpec::Etcd { username: None, .. } = &input.spec {
        if input.secret.is_some() {
            return Err(Error::invalid("an etcd password needs a username"));
        }
    }
    Ok(input)
}

pub fn validate_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name: required"));
    }
    if name.chars().count() > NAME_MAX {
        return Err(Error::invalid(format!("name: at most {NAME_MAX} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid("name: control characters are not allowed"));
    }
    Ok(name.to_string())
}

fn validate_secret(kind: Kind, secret: &str) -> Result<()> {
    if kind == Kind::Docker {
        return Err(Error::invalid("Docker connections take no password: use TLS client certificate files"));
    }
    if secret.is_empty() {
        return Err(Error::invalid("secret: empty; leave it out to keep the stored one, or remove the stored secret"));
    }
    if secret.len() > SECRET_MAX {
        return Err(Error::invalid(format!("secret: at most {SECRET_MAX} bytes")));
    }
    Ok(())
}

/// Whether `url` (`scheme://host[:port]…`) names this machine: plain text
/// to loopback never crosses a network.
pub fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn opt(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn validate_tls(tls: Option<TlsFiles>) -> Result<Option<TlsFiles>> {
    let Some(tls) = tls else { return Ok(None) };
    let tls = TlsFiles { ca_file: opt(tls.ca_file), cert_file: opt(tls.cert_file), key_file: opt(tls.key_file) };
    if tls.cert_file.is_some() != tls.key_file.is_some() {
        return Err(Error::invalid("TLS: a client certificate and its key go together: give both files or neither"));
    }
    if tls == TlsFiles::default() {
        return Ok(None);
    }
    Ok(Some(tls))
}

/// Parses `http(s)://host:port` (no path, no credentials).
pub fn parse_endpoint(raw: &str, field: &str) -> Result<Url> {
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::invalid(format!("{field}: \"{raw}\" is not a URL ({e}); expected http(s)://host:port")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid(format!("{field}: \"{raw}\" must start with http:// or https://")));
    }
    if url.host_str().is_none() || url.port_or_known_default().is_none() {
        return Err(Error::invalid(format!("{field}: \"{raw}\" has no host")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(format!("{field}: put credentials in the user and password fields, not in the URL")));
    }
    Ok(url)
}

/// Normalises a SHA-256 certificate thumbprint to lowercase hex without separators.
pub fn normalize_thumbprint(raw: &str) -> Result<String> {
    let hex: String = raw.chars().filter(|c| !matches!(c, ':' | ' ' | '-')).collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::invalid(
            "thumbprint: expected the SHA-256 fingerprint of the server certificate (64 hex digits, colons allowed)",
        ));
    }
    Ok(hex.to_ascii_lowercase())
}

pub fn validate_spec(spec: ConnectionSpec) -> Result<ConnectionSpec> {
    match spec {
        ConnectionSpec::Vsphere { url, username, thumbprint } => {
            let parsed = Url::parse(url.trim())
                .map_err(|e| Error::invalid(format!("URL: \"{url}\" is not a URL ({e}); expected https://vcenter.example.com/sdk")))?;
            if parsed.scheme() != "https" {
                return Err(Error::invalid("URL: vSphere connections use https:// (the password would travel in clear text)"));
            }
            if parsed.host_str().is_none() {
                return Err(Error::invalid("URL: no host"));
            }
            let username = username.trim().to_string();
            if username.is_empty() {
                return Err(Error::invalid("username: required for vSphere"));
            }
            let thumbprint = opt(thumbprint).map(|t| normalize_thumbprint(&t)).transpose()?;
            Ok(ConnectionSpec::Vsphere { url: parsed.to_string(), username, thumbprint })
        }
        ConnectionSpec::Docker { host, tls, allow_plaintext } => {
            let host = host.trim().to_string();
            let tls = validate_tls(tls)?;
            if let Some(path) = host.strip_prefix("unix://") {
                if !path.starts_with('/') {
                    return Err(Error::invalid("Docker host: a socket path must be absolute, e.g. unix:///var/run/docker.sock"));
                }
                if tls.is_some() {
                    return Err(Error::invalid("Docker host: TLS files apply to tcp:// or https:// hosts only"));
                }
            } else if let Some(rest) = host.strip_prefix("tcp://") {
                parse_endpoint(&format!("http://{rest}"), "Docker host")?;
            } else if host.starts_with("https://") || host.starts_with("http://") {
                parse_endpoint(&host, "Docker host")?;
                if host.starts_with("http://") && tls.is_some() {
                    return Err(Error::invalid("Docker host: use https:// or tcp:// with TLS files"));
                }
            } else {
                return Err(Error::invalid("Docker host: expected unix:///path/docker.sock, tcp://host:port or https://host:port"));
            }
            if (host.starts_with("tcp://") || host.starts_with("http://")) && tls.is_none() && !is_loopback(&host) && !allow_plaintext {
                return Err(Error::invalid(format!(
                    "Docker host {host}: the Docker API without TLS gives control of that engine to anyone on the network path: use TLS (https://, or tcp:// with TLS files), or opt in explicitly (--allow-plaintext, or the checkbox)"
                )));
            }
            Ok(ConnectionSpec::Docker { host, tls, allow_plaintext })
        }
        ConnectionSpec::Kubernetes { kubeconfig, contexts } => {
            let kubeconfig = kubeconfig.trim().to_string();
            if kubeconfig.is_empty() {
                return Err(Error::invalid("kubeconfig: the path of a kubeconfig file is required"));
            }
            let mut out = Vec::new();
            for c in contexts {
                let c = c.trim().to_string();
                if c.is_empty() {
                    return Err(Error::invalid("contexts: empty context name"));
                }
                if !out.contains(&c) {
                    out.push(c);
                }
            }
            Ok(ConnectionSpec::Kubernetes { kubeconfig, contexts: out })
        }
        ConnectionSpec::Etcd { endpoints, tls, username, allow_plaintext } => {
            let endpoints: Vec<String> = endpoints
                .iter()
                .flat_map(|e| e.split([',', '\n', ' ']))
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(String::from)
                .collect();
            if endpoints.is_empty() {
                return Err(Error::invalid("endpoints: at least one, e.g. http://127.0.0.1:2379"));
            }
            if endpoints.len() > ETCD_ENDPOINTS_MAX {
                return Err(Error::invalid(format!("endpoints: at most {ETCD_ENDPOINTS_MAX}")));
            }
            let mut schemes = Vec::new();
            for e in &endpoints {
                schemes.push(parse_endpoint(e, "endpoint")?.scheme().to_string());
            }
            schemes.dedup();
            if schemes.len() > 1 {
                return Err(Error::invalid("endpoints: mix of http:// and https://; use one scheme"));
            }
            let tls = validate_tls(tls)?;
            if tls.is_some() && schemes[0] == "http" {
                return Err(Error::invalid("endpoints: TLS files given but the endpoints are http://; use https://"));
            }
            let username = opt(username);
            if username.is_some() && schemes[0] == "http" && endpoints.iter().any(|e| !is_loopback(e)) && !allow_plaintext {
                return Err(Error::invalid(
                    "endpoints: the etcd password would go over http:// in clear text: use https://, or opt in explicitly (--allow-plaintext, or the checkbox)",
                ));
            }
            Ok(ConnectionSpec::Etcd { endpoints, tls, username, allow_plaintext })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn etcd(endpoints: &[&str]) -> ConnectionSpec {
        ConnectionSpec::Etcd {
            endpoints: endpoints.iter().map(|s| s.to_string()).collect(),
            tls: None,
            username: None,
            allow_plaintext: false,
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(validate_name("  prod etcd ").unwrap(), "prod etcd");
        assert!(validate_name("   ").is_err());
        assert!(validate_name(&"x".repeat(65)).is_err());
        assert!(validate_name(&"数".repeat(64)).is_ok());
        assert!(validate_name("a\nb").is_err());
    }

    #[test]
    fn etcd_endpoints_split_and_checked() {
        let spec = validate_spec(etcd(&["http://a:2379, http://b:2379\nhttp://c:2379"])).unwrap();
        let ConnectionSpec::Etcd { endpoints, .. } = spec else { panic!() };
        assert_eq!(endpoints, ["http://a:2379", "http://b:2379", "http://c:2379"]);
        assert!(validate_spec(etcd(&[])).is_err());
        assert!(validate_spec(etcd(&["a:2379"])).is_err());
        assert!(validate_spec(etcd(&["http://a:2379", "https://b:2379"])).is_err());
        assert!(validate_spec(etcd(&["http://root:pw@a:2379"])).is_err());
    }

    #[test]
    fn tls_files_need_https_and_pairs() {
        let with_tls = |ep: &str, cert: Option<&str>, key: Option<&str>| ConnectionSpec::Etcd {
            endpoints: vec![ep.into()],
            tls: Some(TlsFiles { ca_file: Some("/ca.pem".into()), cert_file: cert.map(Into::into), key_file: key.map(Into::into) }),
            username: None,
            allow_plaintext: false,
        };
        assert!(validate_spec(with_tls("https://a:2379", None, None)).is_ok());
        assert!(validate_spec(with_tls("http://a:2379", None, None)).is_err());
        assert!(validate_spec(with_tls("https://a:2379", Some("/c.pem"), None)).is_err());
    }

    #[test]
    fn docker_hosts() {
        let d = |h: &str| validate_spec(ConnectionSpec::Docker { host: h.into(), tls: None, allow_plaintext: false });
        assert!(d("unix:///var/run/docker.sock").is_ok());
        assert!(d("unix://relative.sock").is_err());
        assert!(d("tcp://127.0.0.1:2376").is_ok());
        assert!(d("tcp://10.0.0.5:2376").is_err(), "no TLS to another machine without an opt-in");
        assert!(d("https://docker.example:2376").is_ok());
        assert!(d("docker.example:2376").is_err());
    }

    #[test]
    fn vsphere_requires_https_and_a_sha256_thumbprint() {
        let v = |url: &str, tp: Option<&str>| {
            validate_spec(ConnectionSpec::Vsphere { url: url.into(), username: "admin".into(), thumbprint: tp.map(Into::into) })
        };
        assert!(v("http://vc/sdk", None).is_err());
        let tp = "AB:".repeat(31) + "AB";
        let ok = v("https://vc.example/sdk", Some(&tp)).unwrap();
        let ConnectionSpec::Vsphere { thumbprint, .. } = ok else { panic!() };
        assert_eq!(thumbprint.unwrap(), "ab".repeat(32));
        assert!(v("https://vc/sdk", Some("AB:CD")).is_err());
    }

    #[test]
    fn secrets_rules() {
        let input = |spec: ConnectionSpec, secret: Option<&str>, clear: bool| ConnectionInput {
            id: None,
            name: "x".into(),
            spec,
            secret: secret.map(Into::into),
            clear_secret: clear,
        };
        let etcd_user = ConnectionSpec::Etcd {
            endpoints: vec!["https://a:2379".into()],
            tls: None,
            username: Some("alice".into()),
            allow_plaintext: false,
        };
        assert!(validate_input(input(etcd_user.clone(), Some("pw"), false)).is_ok());
        assert!(validate_input(input(etcd_user.clone(), Some(""), false)).is_err());
        assert!(validate_input(input(etcd_user, Some("pw"), true)).is_err());
        assert!(validate_input(input(etcd(&["http://a:2379"]), Some("pw"), false)).is_err());
        let docker = ConnectionSpec::Docker { host: "unix:///d.sock".into(), tls: None, allow_plaintext: false };
        assert!(validate_input(input(docker, Some("pw"), false)).is_err());
    }

    #[test]
    fn plaintext_credentials_to_another_machine_need_an_opt_in() {
        let etcd = |ep: &str, allow: bool| {
            validate_spec(ConnectionSpec::Etcd {
                endpoints: vec![ep.into()],
                tls: None,
                username: Some("ops".into()),
                allow_plaintext: allow,
            })
        };
        assert!(etcd("http://127.0.0.1:2379", false).is_ok(), "loopback never crosses a network");
        assert!(etcd("http://[::1]:2379", false).is_ok());
        assert!(etcd("http://localhost:2379", false).is_ok());
        let e = etcd("http://10.0.0.5:2379", false).unwrap_err();
        assert!(e.to_string().contains("clear text"), "{e}");
        assert!(etcd("http://10.0.0.5:2379", true).unwrap().plaintext_warning().is_some());
        assert!(etcd("https://10.0.0.5:2379", false).is_ok());
        let docker = |h: &str, allow: bool| validate_spec(ConnectionSpec::Docker { host: h.into(), tls: None, allow_plaintext: allow });
        assert!(docker("tcp://127.0.0.1:2375", false).is_ok());
        assert!(docker("tcp://build-host:2375", false).unwrap_err().to_string().contains("without TLS"));
        assert!(docker("tcp://build-host:2375", true).unwrap().plaintext_warning().is_some());
        assert!(docker("unix:///var/run/docker.sock", false).unwrap().plaintext_warning().is_none());
        assert!(is_loopback("127.8.9.1") && !is_loopback("tcp://127.example.com:1"));
    }
}

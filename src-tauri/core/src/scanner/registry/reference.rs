//! Image references of a registry: `host[:port]/repository[:tag|@digest]`.

use std::fmt;

use crate::error::{Error, Result};

/// A reference to an image (or a repository, without tag and digest) on a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]`.
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl Reference {
    /// Parses `host[:port]/repo[/more][:tag|@sha256:…]`. The first component
    /// must name a registry (a dot, a port or `localhost`), as Docker reads it:
    /// `app:1.4` alone is an image on an engine, not on a registry.
    pub fn parse(s: &str) -> Result<Reference> {
        let s = s.trim();
        let bad = |why: &str| Error::invalid(format!("registry reference {s:?}: {why} (write host[:port]/repository[:tag|@sha256:…])"));
        let s = s.strip_prefix("docker://").unwrap_or(s);
        let (registry, rest) = s.split_once('/').ok_or_else(|| bad("no registry host"))?;
        if !is_registry_host(registry) {
            return Err(bad(&format!("{registry:?} is not a registry host (it needs a dot, a port or to be localhost)")));
        }
        let (name, digest) = match rest.split_once('@') {
            Some((n, d)) => (n, Some(d.to_string())),
            None => (rest, None),
        };
        // A tag follows the last ':' after the last '/'.
        let last = name.rsplit('/').next().unwrap_or(name);
        let (repository, tag) = match last.rsplit_once(':') {
            Some((_, t)) => (&name[..name.len() - t.len() - 1], Some(t.to_string())),
            None => (name, None),
        };
        if repository.is_empty() || !repository.split('/').all(valid_component) {
            return Err(bad("the repository name may hold only lowercase letters, digits and . _ - separated by /"));
        }
        if let Some(t) = &tag {
            let ok = !t.is_empty()
                && t.len() <= 128
                && t.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
                && !t.starts_with(['.', '-']);
            if !ok {
                return Err(bad(&format!("tag {t:?} is not valid")));
            }
        }
        if let Some(d) = &digest {
            if !crate::scanner::image::oci::is_sha256(d) {
                return Err(bad(&format!("digest {d:?} is not sha256:<64 hex digits>")));
            }
        }
        Ok(Reference { registry: registry.to_string(), repository: repository.to_string(), tag, digest })
    }

    /// Whether `s` names a registry image rather than an engine's (its first
    /// component is a registry host).
    pub fn looks_like_registry(s: &str) -> bool {
        s.split_once('/').is_some_and(|(host, _)| is_registry_host(host))
    }

    /// What to ask the registry's manifest endpoint for: the digest, else the tag, else `latest`.
    pub fn manifest_ref(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("latest")
    }

    /// The same repository at `tag`.
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference { tag: Some(tag.to_string()), digest: None, ..self.clone() }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

pub fn is_registry_host(host: &str) -> bool {
    !host.is_empty()
        && (host.contains('.') || host.contains(':') || host == "localhost")
        && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
}

fn valid_component(c: &str) -> bool {
    !c.is_empty()
        && c.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch))
        && c.starts_with(|ch: char| ch.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_registry_references_and_refuses_engine_names() {
        let r = Reference::parse("registry.example:5000/team/app:1.4").unwrap();
        assert_eq!((r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()), ("registry.example:5000", "team/app", Some("1.4")));
        assert_eq!(r.to_string(), "registry.example:5000/team/app:1.4");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse(&format!("127.0.0.1:5000/app@{d}")).unwrap();
        assert_eq!((r.tag, r.digest.as_deref()), (None, Some(d.as_str())));
        let r = Reference::parse("localhost/app").unwrap();
        assert_eq!(r.manifest_ref(), "latest");
        assert!(Reference::parse("app:1.4").is_err());
        assert!(Reference::parse("library/app:1").is_err(), "library is not a host");
        assert!(Reference::parse("reg.example/App:1").is_err(), "uppercase repository");
        assert!(Reference::parse("reg.example/app:-x").is_err());
        assert!(Reference::parse("reg.example/app@sha256:../../x").is_err());
        assert!(Reference::parse("reg.example/../x:1").is_err());
        assert!(Reference::looks_like_registry("127.0.0.1:5000/app:1"));
        assert!(!Reference::looks_like_registry("team/app:1"));
        assert!(!Reference::looks_like_registry("app"));
    }
}

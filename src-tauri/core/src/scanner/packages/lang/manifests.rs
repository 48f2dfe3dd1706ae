//! Text manifests and lock files: npm's package.json and package-lock.json,
//! Python's METADATA / PKG-INFO, RubyGems' installed gemspecs, Cargo.lock.

use super::{package, Package};
use crate::scanner::versions::Scheme;

type Parsed = Result<Vec<Package>, String>;

/// An installed npm package's own package.json: its `name` and `version`.
pub fn npm_package(bytes: &[u8]) -> Parsed {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| format!("package.json is not JSON: {e}"))?;
    match (v["name"].as_str(), v["version"].as_str()) {
        (Some(n), Some(ver)) if !n.is_empty() && !ver.is_empty() => Ok(vec![package(Scheme::Npm, n, ver)]),
        _ => Ok(Vec::new()),
    }
}

/// package-lock.json: v2/v3 `packages` (keys `node_modules/…/NAME`), or v1
/// `dependencies` (nested). Linked (workspace) entries and the root are left out.
pub fn npm_lock(bytes: &[u8]) -> Parsed {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| format!("package-lock.json is not JSON: {e}"))?;
    let mut out = Vec::new();
    if let Some(packages) = v["packages"].as_object() {
        for (key, entry) in packages {
            let Some((_, name)) = key.rsplit_once("node_modules/") else { continue };
            if entry["link"].as_bool() == Some(true) {
                continue;
            }
            let name = entry["name"].as_str().unwrap_or(name);
            if let Some(ver) = entry["version"].as_str() {
                out.push(package(Scheme::Npm, name, ver));
            }
        }
    } else if let Some(deps) = v["dependencies"].as_object() {
        let mut stack: Vec<&serde_json::Map<String, serde_json::Value>> = vec![deps];
        while let Some(deps) = stack.pop() {
            for (name, entry) in deps {
                if let Some(ver) = entry["version"].as_str().filter(|v| !v.starts_with("file:") && !v.contains("://")) {
                    out.push(package(Scheme::Npm, name, ver));
                }
                if let Some(inner) = entry["dependencies"].as_object() {
                    stack.push(inner);
                }
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.version.cmp(&b.version)));
    out.dedup();
    Ok(out)
}

/// Core metadata (RFC 822 headers up to the first blank line): `Name`, `Version`.
pub fn python_metadata(bytes: &[u8]) -> Parsed {
    let text = String::from_utf8_lossy(bytes);
    let (mut name, mut version) = (None, None);
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name.get_or_insert(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("Version:") {
            version.get_or_insert(v.trim().to_string());
        }
    }
    match (name, version) {
        (Some(n), Some(v)) if !n.is_empty() && !v.is_empty() => Ok(vec![package(Scheme::PyPI, &n, &v)]),
        _ => Err("no Name and Version in the package metadata".into()),
    }
}

/// An installed gem's specification (`specifications/NAME-VERSION.gemspec`,
/// Ruby written by RubyGems): `s.name = "rack".freeze`, `s.version = "2.2.8"`.
pub fn gemspec(bytes: &[u8]) -> Parsed {
    let text = String::from_utf8_lossy(bytes);
    let quoted = |line: &str| -> Option<String> {
        let start = line.find(['"', '\''])?;
        let quote = line[start..].chars().next()?;
        let rest = &line[start + 1..];
        rest.find(quote).map(|end| rest[..end].to_string())
    };
    let (mut name, mut version) = (None, None);
    for line in text.lines() {
        let t = line.trim();
        let Some((_, attr)) = t.split_once('.') else { continue };
        let attr = attr.trim_start();
        if name.is_none() && (attr.starts_with("name =") || attr.starts_with("name=")) {
            name = quoted(attr);
        } else if version.is_none() && (attr.starts_with("version =") || attr.starts_with("version=")) {
            version = quoted(attr);
        }
    }
    match (name, version) {
        (Some(n), Some(v)) => Ok(vec![package(Scheme::RubyGems, &n, &v)]),
        _ => Err("no name and version in the gem specification".into()),
    }
}

/// Cargo.lock: the `[[package]]` entries from crates.io (workspace and git
/// crates are not crates.io packages).
pub fn cargo_lock(bytes: &[u8]) -> Parsed {
    #[derive(serde::Deserialize)]
    struct Lock {
        #[serde(default)]
        package: Vec<Entry>,
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        name: String,
        version: String,
        source: Option<String>,
    }
    let text = std::str::from_utf8(bytes).map_err(|e| format!("Cargo.lock is not UTF-8: {e}"))?;
    let lock: Lock = toml::from_str(text).map_err(|e| format!("Cargo.lock is not a lock file: {e}"))?;
    Ok(lock
        .package
        .into_iter()
        .filter(|p| p.source.as_deref().is_some_and(is_crates_io))
        .map(|p| package(Scheme::Cargo, &p.name, &p.version))
        .collect())
}

pub(crate) fn is_crates_io(source: &str) -> bool {
    source == "crates.io" || source.contains("github.com/rust-lang/crates.io-index") || source.contains("index.crates.io")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nv(r: Parsed) -> Vec<(String, String)> {
        r.unwrap().into_iter().map(|p| (p.name, p.version)).collect()
    }

    #[test]
    fn npm_files() {
        assert_eq!(nv(npm_package(br#"{"name":"lodash","version":"4.17.20","main":"lodash.js"}"#)), [("lodash".into(), "4.17.20".into())]);
        assert!(npm_package(b"{\"private\":true}").unwrap().is_empty());
        assert!(npm_package(b"not json").is_err());
        let v3 = br#"{"lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/a":{"version":"1.0.0"},
            "node_modules/a/node_modules/@s/b":{"version":"2.0.0"},"node_modules/w":{"resolved":"packages/w","link":true}}}"#;
        assert_eq!(nv(npm_lock(v3)), [("@s/b".into(), "2.0.0".into()), ("a".into(), "1.0.0".into())]);
        let v1 = br#"{"lockfileVersion":1,"dependencies":{"a":{"version":"1.0.0","dependencies":{"b":{"version":"0.1.0"}}},"l":{"version":"file:../l"}}}"#;
        assert_eq!(nv(npm_lock(v1)), [("a".into(), "1.0.0".into()), ("b".into(), "0.1.0".into())]);
    }

    #[test]
    fn python_gem_cargo() {
        let meta = b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nSummary: x\n\nName: not-this\n";
        assert_eq!(nv(python_metadata(meta)), [("requests".into(), "2.31.0".into())]);
        assert!(python_metadata(b"Summary: none\n").is_err());
        let spec = b"# -*- encoding: utf-8 -*-\nGem::Specification.new do |s|\n  s.name = \"rack\".freeze\n  s.version = \"2.2.8\"\n  s.required_rubygems_version = Gem::Requirement.new(\">= 0\".freeze)\nend\n";
        assert_eq!(nv(gemspec(spec)), [("rack".into(), "2.2.8".into())]);
        let lock = b"version = 3\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        assert_eq!(nv(cargo_lock(lock)), [("smallvec".into(), "1.6.0".into())]);
    }
}

//! OCI and Docker image documents: indexes (manifest lists), manifests and
//! image configs, as an OCI layout, a `docker save` archive and a
//! Distribution (v2) registry hold them; the platform a user asks for
//! (`linux/amd64`) and its choice from an index.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::scanner::policy::ImageConfig;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Every manifest type a scan reads, for a registry's `Accept` header.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// Largest manifest, index or config read (they are JSON of a few KiB).
pub const MAX_DOCUMENT: u64 = 4 * 1024 * 1024;

/// A pointer to a blob or manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: Option<String>,
    pub digest: String,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub platform: Option<Platform>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// A manifest or an index: which one is told by the fields present.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    #[serde(default)]
    pub schema_version: Option<i64>,
    #[serde(default)]
    pub media_type: Option<String>,
    /// An index's (manifest list's) entries.
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
    /// A manifest's config and layers.
    #[serde(default)]
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Option<Vec<Descriptor>>,
}

impl Document {
    pub fn parse(bytes: &[u8], what: &str) -> Result<Document> {
        let doc: Document =
            serde_json::from_slice(bytes).map_err(|e| Error::invalid(format!("{what} is not an image manifest or index: {e}")))?;
        if doc.schema_version == Some(1) {
            return Err(Error::Unsupported(format!(
                "{what} is a schema 1 manifest (Docker before 1.10): push the image again with a current client"
            )));
        }
        if doc.manifests.is_none() && doc.config.is_none() {
            return Err(Error::invalid(format!("{what} is neither an image index (no manifests) nor a manifest (no config)")));
        }
        Ok(doc)
    }

    pub fn is_index(&self) -> bool {
        self.manifests.is_some()
    }
}

/// `os/architecture[/variant]`, as `docker --platform` writes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl Platform {
    pub fn parse(s: &str) -> Result<Platform> {
        let parts: Vec<&str> = s.trim().split('/').collect();
        let bad = || Error::invalid(format!("platform {s:?}: write it os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8"));
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => {
                Ok(Platform { os: os.to_string(), architecture: normalize_arch(arch).to_string(), variant: None })
            }
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => {
                Ok(Platform { os: os.to_string(), architecture: normalize_arch(arch).to_string(), variant: Some(variant.to_string()) })
            }
            _ => Err(bad()),
        }
    }

    /// This machine's platform (the default when none is asked for).
    pub fn host() -> Platform {
        Platform { os: "linux".into(), architecture: normalize_arch(std::env::consts::ARCH).to_string(), variant: None }
    }

    /// Whether an index entry of platform `self` is what `wanted` asks for:
    /// same OS and architecture, and the variant when one is asked for
    /// (arm64's `v8` is its only variant, so a missing one matches it).
    pub fn satisfies(&self, wanted: &Platform) -> bool {
        if self.os != wanted.os || normalize_arch(&self.architecture) != wanted.architecture {
            return false;
        }
        match (&wanted.variant, &self.variant) {
            (None, _) => true,
            (Some(w), Some(v)) => w == v,
            (Some(w), None) => wanted.architecture == "arm64" && w == "v8",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

fn normalize_arch(a: &str) -> &str {
    match a {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        "i386" | "i686" | "x86" => "386",
        other => other,
    }
}

/// The entry of `index` for `wanted`; an error listing the index's
/// platforms when none matches. Entries without a platform, and
/// attestation manifests (`unknown/unknown`), are never chosen.
pub fn choose<'a>(index: &'a [Descriptor], wanted: &Platform, what: &str) -> Result<&'a Descriptor> {
    let candidates: Vec<&Descriptor> = index.iter().filter(|d| d.platform.as_ref().is_some_and(|p| p.satisfies(wanted))).collect();
    // Without a variant asked for, prefer an entry without one, then the first.
    let best = candidates.iter().find(|d| d.platform.as_ref().is_some_and(|p| p.variant.is_none())).or(candidates.first());
    match best {
        Some(d) => Ok(d),
        None => {
            let offered: Vec<String> = index.iter().filter_map(|d| d.platform.as_ref()).map(|p| p.to_string()).collect();
            Err(Error::NotFound(format!(
                "{what} has no image for platform {wanted}; it offers {}: pass --platform with one of them",
                if offered.is_empty() { "no platform at all".to_string() } else { offered.join(", ") }
            )))
        }
    }
}

/// The image config blob (`application/vnd.oci.image.config.v1+json`).
#[derive(Debug, Clone, Deserialize)]
pub struct ConfigDoc {
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub config: Option<ContainerConfig>,
    pub rootfs: RootFs,
    /// The build history: each layer's instruction (issue 15 item 6).
    #[serde(default)]
    pub history: Vec<HistoryItem>,
}

/// One entry of a config's `history`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HistoryItem {
    #[serde(default)]
    pub created_by: Option<String>,
    /// The instruction made no layer (ENV, CMD, …).
    #[serde(default)]
    pub empty_layer: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub healthcheck: Option<Healthcheck>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    #[serde(default)]
    pub test: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RootFs {
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

impl ConfigDoc {
    pub fn parse(bytes: &[u8], what: &str) -> Result<ConfigDoc> {
        let doc: ConfigDoc = serde_json::from_slice(bytes).map_err(|e| Error::invalid(format!("{what} is not an image config: {e}")))?;
        if let Some(bad) = doc.rootfs.diff_ids.iter().find(|d| !is_sha256(d)) {
            return Err(Error::invalid(format!("{what} lists a layer digest {bad:?} that is not sha256:<64 hex digits>")));
        }
        Ok(doc)
    }

    /// What the policies look at.
    pub fn image_config(&self) -> ImageConfig {
        let c = self.config.clone().unwrap_or_default();
        ImageConfig {
            user: c.user.filter(|u| !u.is_empty()),
            healthcheck: c.healthcheck.and_then(|h| h.test),
            labels: c.labels.unwrap_or_default(),
        }
    }
}

/// `sha256:` and 64 lowercase hex digits: the only digest a scan accepts
/// (a blob name is a file name in a layout, so nothing else may pass).
pub fn is_sha256(d: &str) -> bool {
    d.strip_prefix("sha256:").is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// The `docker save` manifest (`manifest.json`): one entry per image.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SaveEntry {
    pub config: String,
    #[serde(default)]
    pub repo_tags: Option<Vec<String>>,
    #[serde(default)]
    pub layers: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(platform: Option<(&str, &str, Option<&str>)>, digest: &str) -> Descriptor {
        Descriptor {
            media_type: Some(OCI_MANIFEST.into()),
            digest: digest.into(),
            size: 1,
            platform: platform.map(|(os, a, v)| Platform { os: os.into(), architecture: a.into(), variant: v.map(Into::into) }),
            annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn platforms_parse_and_choose_from_an_index() {
        assert_eq!(Platform::parse("linux/x86_64").unwrap().to_string(), "linux/amd64");
        assert_eq!(Platform::parse("linux/arm64/v8").unwrap().variant.as_deref(), Some("v8"));
        assert!(Platform::parse("amd64").is_err());
        assert!(Platform::parse("linux//").is_err());
        let index = vec![
            entry(Some(("linux", "amd64", None)), "sha256:a"),
            entry(Some(("linux", "arm", Some("v6"))), "sha256:b"),
            entry(Some(("linux", "arm", Some("v7"))), "sha256:c"),
            entry(Some(("linux", "arm64", None)), "sha256:d"),
            entry(Some(("unknown", "unknown", None)), "sha256:e"),
        ];
        assert_eq!(choose(&index, &Platform::parse("linux/amd64").unwrap(), "x").unwrap().digest, "sha256:a");
        assert_eq!(choose(&index, &Platform::parse("linux/arm/v7").unwrap(), "x").unwrap().digest, "sha256:c");
        assert_eq!(choose(&index, &Platform::parse("linux/arm64/v8").unwrap(), "x").unwrap().digest, "sha256:d");
        let err = choose(&index, &Platform::parse("linux/s390x").unwrap(), "app:1").unwrap_err();
        assert_eq!(err.code(), crate::error::ErrorCode::NotFound);
        assert!(err.to_string().contains("offers linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64, unknown/unknown"), "{err}");
    }

    #[test]
    fn documents_and_configs_are_checked() {
        assert!(Document::parse(br#"{"schemaVersion":1,"fsLayers":[]}"#, "m").unwrap_err().to_string().contains("schema 1"));
        assert!(Document::parse(br#"{"schemaVersion":2}"#, "m").is_err());
        assert!(Document::parse(br#"{"schemaVersion":2,"manifests":[]}"#, "m").unwrap().is_index());
        let bad = br#"{"rootfs":{"type":"layers","diff_ids":["sha256:../../etc/passwd"]}}"#;
        assert!(ConfigDoc::parse(bad, "c").unwrap_err().to_string().contains("not sha256"));
        let good = format!(
            r#"{{"architecture":"amd64","os":"linux","config":{{"User":"1000","Labels":{{"version":"1"}},"Healthcheck":{{"Test":["CMD","true"]}}}},"rootfs":{{"type":"layers","diff_ids":["sha256:{}"]}}}}"#,
            "a".repeat(64)
        );
        let c = ConfigDoc::parse(good.as_bytes(), "c").unwrap().image_config();
        assert_eq!(c.user.as_deref(), Some("1000"));
        assert_eq!(c.labels["version"], "1");
        assert_eq!(c.healthcheck.unwrap(), ["CMD", "true"]);
    }
}

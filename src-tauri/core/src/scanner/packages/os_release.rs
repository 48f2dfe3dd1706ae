//! `/etc/os-release` (os-release(5)): the distribution and its release.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The fields a scan uses; the rest stay in `fields`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct OsRelease {
    /// `debian`, `ubuntu`, `alpine`, `rhel`, `rocky`, `almalinux`, …
    pub id: String,
    pub version_id: Option<String>,
    pub id_like: Vec<String>,
    pub pretty_name: Option<String>,
}

/// Parses the file; lines that are not assignments are ignored, as the spec says.
pub fn parse(text: &str) -> OsRelease {
    let fields: BTreeMap<&str, String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), unquote(v.trim())))
        .collect();
    let get = |k: &str| fields.get(k).filter(|v| !v.is_empty()).cloned();
    OsRelease {
        id: get("ID").unwrap_or_else(|| "linux".into()).to_lowercase(),
        version_id: get("VERSION_ID"),
        id_like: get("ID_LIKE").map(|v| v.split_whitespace().map(str::to_lowercase).collect()).unwrap_or_default(),
        pretty_name: get("PRETTY_NAME"),
    }
}

/// Removes shell-style quotes and backslash escapes.
fn unquote(value: &str) -> String {
    let quoted = value.len() >= 2 && (value.starts_with('"') && value.ends_with('"') || value.starts_with('\'') && value.ends_with('\''));
    let inner = if quoted { &value[1..value.len() - 1] } else { value };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_and_bare_values() {
        let os = parse("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n# comment\nnot an assignment\n");
        assert_eq!(os.id, "debian");
        assert_eq!(os.version_id.as_deref(), Some("12"));
        assert_eq!(os.pretty_name.as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
        let os = parse("ID='rocky'\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"Say \\\"hi\\\"\"\n");
        assert_eq!(os.id_like, ["rhel", "centos", "fedora"]);
        assert_eq!(os.pretty_name.as_deref(), Some("Say \"hi\""));
        assert_eq!(parse("").id, "linux", "the spec's default ID");
    }
}

//! Paths inside an image: normalisation that refuses to leave the root, and
//! the few files a scan reads.

/// Files a scan keeps from a layer (relative to the root), including where
/// they really live when the usual path is a link (merged /usr, Fedora's
/// /var/lib/rpm → /usr/lib/sysimage/rpm).
const FILES: [&str; 8] = [
    "etc/os-release",
    "usr/lib/os-release",
    "var/lib/dpkg/status",
    "lib/apk/db/installed",
    "usr/lib/apk/db/installed",
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
];

/// Folders whose every file a scan keeps (distroless dpkg databases).
const DIRS: [&str; 1] = ["var/lib/dpkg/status.d"];

/// Normalises a tar member path to `a/b/c` relative to the root. Absolute
/// paths and `..` that climbs out of the root are refused with the reason.
pub fn normalize(raw: &str) -> Result<String, &'static str> {
    if raw.starts_with('/') {
        return Err("absolute path");
    }
    join("", raw).ok_or("path climbs out of the image root with ..")
}

/// Resolves `rel` against folder `base` (both normalised), or `None` when it
/// climbs above the root. An absolute `rel` starts again from the root.
pub fn join(base: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = if rel.starts_with('/') { Vec::new() } else { base.split('/').filter(|p| !p.is_empty()).collect() };
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The folder holding `path` ("" for the root).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map(|(p, _)| p).unwrap_or("")
}

/// Whether a scan keeps this file's content.
pub fn is_wanted(path: &str) -> bool {
    FILES.contains(&path) || DIRS.iter().any(|d| parent(path) == *d)
}

/// Whether `path` is a folder on the way to a wanted file (a symlink or a
/// whiteout there changes what the wanted files resolve to).
pub fn leads_to_wanted(path: &str) -> bool {
    let prefix = format!("{path}/");
    path.is_empty() || FILES.iter().chain(DIRS.iter()).any(|f| f.starts_with(&prefix) || *f == path)
}

/// Whether anything at `path` matters to a scan.
pub fn is_relevant(path: &str) -> bool {
    is_wanted(path) || leads_to_wanted(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_refuses_escapes_and_keeps_the_rest() {
        assert_eq!(normalize("./etc/os-release"), Ok("etc/os-release".into()));
        assert_eq!(normalize("etc//./apt/../os-release"), Ok("etc/os-release".into()));
        assert_eq!(normalize("/etc/passwd"), Err("absolute path"));
        assert!(normalize("../../etc/passwd").is_err());
        assert!(normalize("etc/../../x").is_err());
        assert_eq!(normalize("./"), Ok(String::new()));
    }

    #[test]
    fn joins_relative_and_absolute_link_targets() {
        assert_eq!(join("etc", "../usr/lib/os-release").as_deref(), Some("usr/lib/os-release"));
        assert_eq!(join("etc", "/usr/lib/os-release").as_deref(), Some("usr/lib/os-release"));
        assert_eq!(join("etc", "../../../outside"), None);
    }

    #[test]
    fn wanted_files_and_the_folders_leading_to_them() {
        assert!(is_wanted("var/lib/dpkg/status"));
        assert!(is_wanted("var/lib/dpkg/status.d/libc6"));
        assert!(!is_wanted("var/lib/dpkg/status.d/x/y"));
        assert!(!is_wanted("var/lib/dpkg/available"));
        assert!(leads_to_wanted("var/lib") && leads_to_wanted("lib") && leads_to_wanted("var/lib/dpkg/status.d"));
        assert!(!leads_to_wanted("usr/share") && !leads_to_wanted("va"));
    }
}

//! dpkg's database: `/var/lib/dpkg/status` and distroless `status.d/*`
//! files, both RFC 822-style paragraphs.

use super::{Package, Scheme};

/// Installed packages of a status file. Paragraphs whose `Status` says the
/// package is not installed (removed, config-files only) are skipped;
/// `status.d` files have no `Status` and count as installed.
pub fn parse(text: &str) -> Vec<Package> {
    paragraphs(text).filter_map(|fields| package(&fields)).collect()
}

fn package(fields: &[(&str, String)]) -> Option<Package> {
    let get = |name: &str| fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    if let Some(status) = get("Status") {
        if status.split_whitespace().last() != Some("installed") {
            return None;
        }
    }
    let name = get("Package")?.to_string();
    let version = get("Version")?.to_string();
    // "Source: openssl" or "Source: openssl (3.0.11-1~deb12u1)"
    let (source_name, source_version) = match get("Source") {
        Some(source) => match source.split_once(' ') {
            Some((n, v)) => (Some(n.to_string()), Some(v.trim().trim_start_matches('(').trim_end_matches(')').to_string())),
            None => (Some(source.to_string()), None),
        },
        None => (None, None),
    };
    Some(Package {
        name,
        version,
        source_name,
        source_version,
        arch: get("Architecture").map(str::to_string),
        scheme: Scheme::Dpkg,
        path: None,
        layer: None,
    })
}

/// Splits the text into paragraphs of (field, value), joining continuation lines.
fn paragraphs(text: &str) -> impl Iterator<Item = Vec<(&str, String)>> {
    text.split("\n\n").map(|para| {
        let mut fields: Vec<(&str, String)> = Vec::new();
        for line in para.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some((_, v)) = fields.last_mut() {
                    v.push('\n');
                    v.push_str(line.trim());
                }
            } else if let Some((k, v)) = line.split_once(':') {
                fields.push((k.trim(), v.trim().to_string()));
            }
        }
        fields
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Package: libssl3\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nSource: openssl (3.0.11-1~deb12u1)\nVersion: 3.0.11-1~deb12u1+b1\nDescription: Secure Sockets Layer toolkit\n shared libraries\n .\n more\n\nPackage: old-tool\nStatus: deinstall ok config-files\nVersion: 1.0\n\nPackage: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n";

    #[test]
    fn installed_packages_with_their_source() {
        let pkgs = parse(STATUS);
        assert_eq!(pkgs.len(), 2, "config-files only is not installed: {pkgs:?}");
        assert_eq!(pkgs[0].name, "libssl3");
        assert_eq!(pkgs[0].version, "3.0.11-1~deb12u1+b1");
        assert_eq!(pkgs[0].source_name.as_deref(), Some("openssl"));
        assert_eq!(pkgs[0].source_version.as_deref(), Some("3.0.11-1~deb12u1"));
        assert_eq!(pkgs[1].name, "bash");
        assert_eq!(pkgs[1].source_name, None);
    }

    #[test]
    fn distroless_status_d_entries_have_no_status_field() {
        let pkgs = parse("Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n");
        assert_eq!(pkgs.len(), 1);
        assert_eq!(pkgs[0].version, "12.4+deb12u5");
    }

    #[test]
    fn garbage_gives_no_packages_rather_than_an_error() {
        assert!(parse("\u{0}\u{1}binary junk\n\nno colon here").is_empty());
    }
}

//! Package URLs (purl) of installed OS packages: `pkg:deb/debian/openssl@…`,
//! `pkg:apk/alpine/musl@…`, `pkg:rpm/rocky/bash@…`.

use purl::GenericPurlBuilder;

use crate::scanner::packages::{OsRelease, Package};
use crate::scanner::versions::Scheme;

pub fn of(package: &Package, os: Option<&OsRelease>) -> Option<String> {
    let kind = match package.scheme {
        Scheme::Dpkg => "deb",
        Scheme::Apk => "apk",
        Scheme::Rpm => "rpm",
        _ => return language(package),
    };
    let mut b = GenericPurlBuilder::new(kind.to_string(), package.name.as_str()).with_version(package.version.as_str());
    if let Some(os) = os {
        b = b.with_namespace(os.id.as_str());
        if let Some(v) = &os.version_id {
            b = b.with_qualifier("distro", format!("{}-{v}", os.id)).ok()?;
        }
    }
    if let Some(arch) = &package.arch {
        b = b.with_qualifier("arch", arch.as_str()).ok()?;
    }
    if let Some(src) = package.source_name.as_ref().filter(|s| **s != package.name) {
        b = b.with_qualifier("upstream", src.as_str()).ok()?;
    }
    b.build().ok().map(|p| p.to_string())
}

/// `pkg:npm/%40scope/name@v`, `pkg:pypi/name@v`, `pkg:golang/github.com/a/b@v`,
/// `pkg:maven/group/artifact@v`, `pkg:cargo/name@v`, `pkg:gem/name@v`.
fn language(package: &Package) -> Option<String> {
    let name = package.name.as_str();
    let (kind, namespace, name) = match package.scheme {
        Scheme::Npm => match name.strip_prefix('@').and_then(|n| n.split_once('/')) {
            Some((scope, n)) => ("npm", Some(format!("@{scope}")), n.to_string()),
            None => ("npm", None, name.to_string()),
        },
        Scheme::PyPI => ("pypi", None, name.to_lowercase()),
        Scheme::Go => match name.rsplit_once('/') {
            Some((ns, n)) => ("golang", Some(ns.to_string()), n.to_string()),
            None => ("golang", None, name.to_string()),
        },
        Scheme::Maven => match name.split_once(':') {
            Some((g, a)) => ("maven", Some(g.to_string()), a.to_string()),
            None => ("maven", None, name.to_string()),
        },
        Scheme::Cargo => ("cargo", None, name.to_string()),
        Scheme::RubyGems => ("gem", None, name.to_string()),
        Scheme::Dpkg | Scheme::Apk | Scheme::Rpm => return None,
    };
    let mut b = GenericPurlBuilder::new(kind.to_string(), name).with_version(package.version.as_str());
    if let Some(ns) = namespace {
        b = b.with_namespace(ns);
    }
    b.build().ok().map(|p| p.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_package_with_source_and_distro() {
        let p = Package {
            name: "libssl3".into(),
            version: "3.0.11-1~deb12u2".into(),
            source_name: Some("openssl".into()),
            source_version: None,
            arch: Some("amd64".into()),
            scheme: Scheme::Dpkg,
            path: None,
            layer: None,
        };
        let os = OsRelease { id: "debian".into(), version_id: Some("12".into()), ..Default::default() };
        assert_eq!(of(&p, Some(&os)).unwrap(), "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl");
        let rpm = Package {
            name: "bash".into(),
            version: "1:5.1.8-6.el9".into(),
            source_name: None,
            source_version: None,
            arch: None,
            scheme: Scheme::Rpm,
            path: None,
            layer: None,
        };
        assert_eq!(of(&rpm, None).unwrap(), "pkg:rpm/bash@1:5.1.8-6.el9");
    }
}

//! OSV ecosystems of the distributions Opsdeck matches, and the one an
//! image belongs to from its os-release.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::scanner::packages::OsRelease;
use crate::scanner::versions::Scheme;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type)]
pub enum Family {
    Debian,
    Ubuntu,
    Alpine,
    RedHat,
    Rocky,
    Alma,
    // Language ecosystems: one per OSV ecosystem, no releases.
    Npm,
    PyPI,
    Go,
    Maven,
    CratesIo,
    RubyGems,
}

impl Family {
    /// The name OSV uses before the first `:`.
    pub fn osv_name(self) -> &'static str {
        match self {
            Family::Debian => "Debian",
            Family::Ubuntu => "Ubuntu",
            Family::Alpine => "Alpine",
            Family::RedHat => "Red Hat",
            Family::Rocky => "Rocky Linux",
            Family::Alma => "AlmaLinux",
            Family::Npm => "npm",
            Family::PyPI => "PyPI",
            Family::Go => "Go",
            Family::Maven => "Maven",
            Family::CratesIo => "crates.io",
            Family::RubyGems => "RubyGems",
        }
    }

    pub fn scheme(self) -> Scheme {
        match self {
            Family::Debian | Family::Ubuntu => Scheme::Dpkg,
            Family::Alpine => Scheme::Apk,
            Family::RedHat | Family::Rocky | Family::Alma => Scheme::Rpm,
            Family::Npm => Scheme::Npm,
            Family::PyPI => Scheme::PyPI,
            Family::Go => Scheme::Go,
            Family::Maven => Scheme::Maven,
            Family::CratesIo => Scheme::Cargo,
            Family::RubyGems => Scheme::RubyGems,
        }
    }

    /// The language ecosystem whose packages use `scheme`; `None` for OS packages.
    pub fn of_language(scheme: Scheme) -> Option<Family> {
        Self::LANGUAGES.into_iter().find(|f| f.scheme() == scheme)
    }

    pub const LANGUAGES: [Family; 6] = [Family::Npm, Family::PyPI, Family::Go, Family::Maven, Family::CratesIo, Family::RubyGems];

    /// The name an advisory and a package are matched by: PyPI names
    /// normalised as PEP 503 says (`Foo_Bar` = `foo-bar`), others as is.
    pub fn package_key(self, name: &str) -> String {
        match self {
            Family::PyPI => {
                let mut out = String::with_capacity(name.len());
                for c in name.trim().chars() {
                    let c = c.to_ascii_lowercase();
                    if matches!(c, '-' | '_' | '.') {
                        if !out.ends_with('-') {
                            out.push('-');
                        }
                    } else {
                        out.push(c);
                    }
                }
                out
            }
            _ => name.to_string(),
        }
    }

    fn from_osv_name(name: &str) -> Option<Family> {
        [Family::Debian, Family::Ubuntu, Family::Alpine, Family::RedHat, Family::Rocky, Family::Alma]
            .into_iter()
            .chain(Self::LANGUAGES)
            .find(|f| f.osv_name() == name)
    }
}

/// An ecosystem family and release (`""` = all releases).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ecosystem {
    pub family: Family,
    pub release: String,
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.release.is_empty() {
            f.write_str(self.family.osv_name())
        } else {
            write!(f, "{}:{}", self.family.osv_name(), self.release)
        }
    }
}

/// Parses an OSV ecosystem string; `None` for ecosystems Opsdeck does not
/// match (Hex, NuGet, …). The release is normalised so records and images
/// meet: `Ubuntu:22.04:LTS` and `Ubuntu:Pro:22.04:LTS` → 22.04,
/// `Red Hat:enterprise_linux:9::appstream` → 9, `Alpine:v3.20` → v3.20.
pub fn parse(ecosystem: &str) -> Option<Ecosystem> {
    let (name, rest) = ecosystem.split_once(':').unwrap_or((ecosystem, ""));
    let family = Family::from_osv_name(name.trim())?;
    let release = match family {
        Family::Ubuntu => rest.split(':').find(|p| p.chars().next().is_some_and(|c| c.is_ascii_digit())).unwrap_or("").to_string(),
        Family::RedHat => rest.split(':').find(|p| p.chars().next().is_some_and(|c| c.is_ascii_digit())).map(major).unwrap_or_default(),
        Family::Rocky | Family::Alma => major(rest),
        Family::Debian | Family::Alpine => rest.to_string(),
        // `Maven:https://repo…` names a repository, not a release.
        _ => String::new(),
    };
    Some(Ecosystem { family, release })
}

fn major(version: &str) -> String {
    version.split(['.', ':']).next().unwrap_or("").to_string()
}

/// The ecosystem an image belongs to, from its os-release (`ID`, then `ID_LIKE`).
pub fn ecosystem_of(os: &OsRelease) -> Option<Ecosystem> {
    let version = os.version_id.clone().unwrap_or_default();
    let ids = std::iter::once(os.id.as_str()).chain(os.id_like.iter().map(String::as_str));
    for id in ids {
        let (family, release) = match id {
            "debian" => (Family::Debian, major(&version)),
            "ubuntu" => (Family::Ubuntu, version.clone()),
            "alpine" => (Family::Alpine, format!("v{}", version.split('.').take(2).collect::<Vec<_>>().join("."))),
            "rhel" | "redhat" => (Family::RedHat, major(&version)),
            "rocky" => (Family::Rocky, major(&version)),
            "almalinux" => (Family::Alma, major(&version)),
            _ => continue,
        };
        return Some(Ecosystem { family, release });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(id: &str, version: &str, like: &[&str]) -> OsRelease {
        OsRelease {
            id: id.into(),
            version_id: Some(version.into()),
            id_like: like.iter().map(|s| s.to_string()).collect(),
            pretty_name: None,
        }
    }

    #[test]
    fn osv_ecosystem_strings() {
        let p = |s: &str| parse(s).map(|e| e.to_string());
        assert_eq!(p("Debian:12").as_deref(), Some("Debian:12"));
        assert_eq!(p("Debian").as_deref(), Some("Debian"));
        assert_eq!(p("Ubuntu:22.04:LTS").as_deref(), Some("Ubuntu:22.04"));
        assert_eq!(p("Ubuntu:Pro:18.04:LTS").as_deref(), Some("Ubuntu:18.04"));
        assert_eq!(p("Alpine:v3.20").as_deref(), Some("Alpine:v3.20"));
        assert_eq!(p("Red Hat:enterprise_linux:9::appstream").as_deref(), Some("Red Hat:9"));
        assert_eq!(p("Red Hat:rhel_eus:9.2::baseos").as_deref(), Some("Red Hat:9"));
        assert_eq!(p("Rocky Linux:9").as_deref(), Some("Rocky Linux:9"));
        assert_eq!(p("AlmaLinux:9").as_deref(), Some("AlmaLinux:9"));
        assert_eq!(p("npm").as_deref(), Some("npm"));
        assert_eq!(p("PyPI").as_deref(), Some("PyPI"));
        assert_eq!(p("crates.io").as_deref(), Some("crates.io"));
        assert_eq!(p("Maven:https://repo.maven.apache.org/maven2/").as_deref(), Some("Maven"));
        assert_eq!(p("Hex"), None);
        assert_eq!(Family::PyPI.package_key("Foo__Bar.baz"), "foo-bar-baz");
    }

    #[test]
    fn image_os_to_ecosystem() {
        let e = |o: OsRelease| ecosystem_of(&o).map(|e| e.to_string());
        assert_eq!(e(os("debian", "12", &[])).as_deref(), Some("Debian:12"));
        assert_eq!(e(os("ubuntu", "22.04", &["debian"])).as_deref(), Some("Ubuntu:22.04"));
        assert_eq!(e(os("alpine", "3.20.3", &[])).as_deref(), Some("Alpine:v3.20"));
        assert_eq!(e(os("rocky", "9.3", &["rhel", "centos", "fedora"])).as_deref(), Some("Rocky Linux:9"));
        assert_eq!(e(os("almalinux", "9.4", &["rhel"])).as_deref(), Some("AlmaLinux:9"));
        assert_eq!(e(os("rhel", "9.4", &["fedora"])).as_deref(), Some("Red Hat:9"));
        assert_eq!(e(os("raspbian", "12", &["debian"])).as_deref(), Some("Debian:12"), "ID_LIKE decides");
        assert_eq!(e(os("arch", "", &[])), None);
    }
}

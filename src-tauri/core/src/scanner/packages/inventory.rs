//! From an image's wanted files to its OS and packages. Each layer's files
//! are parsed once ([`parse_file`]) and kept parsed in the layer cache; the
//! merged root then gives the image's [`Inventory`].

use serde::{Deserialize, Serialize};

use super::{apk, dpkg, os_release, rpmdb, OsRelease, Package};
use crate::scanner::image::overlay::Root;

/// A wanted file, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Parsed {
    OsRelease {
        os: OsRelease,
    },
    Packages {
        packages: Vec<Package>,
    },
    /// Present but not readable by Opsdeck (with why), e.g. a BerkeleyDB rpm database.
    Unreadable {
        reason: String,
    },
}

/// Parses one wanted file by its path.
pub async fn parse_file(path: &str, bytes: &[u8]) -> Parsed {
    let text = || String::from_utf8_lossy(bytes).into_owned();
    match path.rsplit('/').next().unwrap_or("") {
        "os-release" => Parsed::OsRelease { os: os_release::parse(&text()) },
        "installed" => Parsed::Packages { packages: apk::parse(&text()) },
        "rpmdb.sqlite" => match rpmdb::parse(bytes).await {
            Ok(packages) => Parsed::Packages { packages },
            Err(e) => Parsed::Unreadable { reason: e.to_string() },
        },
        "Packages" => Parsed::Unreadable {
            reason:
                "BerkeleyDB rpm database (RHEL/CentOS 7–8 era): not supported, no maintained reader; packages of this image are not listed"
                    .into(),
        },
        // var/lib/dpkg/status and status.d/*
        _ => Parsed::Packages { packages: dpkg::parse(&text()) },
    }
}

/// What an image is and holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Inventory {
    pub os: Option<OsRelease>,
    pub packages: Vec<Package>,
    /// Things the user should know (unreadable databases, refused links).
    pub notes: Vec<String>,
    /// Package databases present but not readable (also in `notes`).
    #[serde(default)]
    pub unreadable: Vec<String>,
}

impl Inventory {
    /// Reads the merged root the way the package managers would.
    pub fn of(root: &Root<Parsed>) -> Inventory {
        let mut inv = Inventory::default();
        let take = |path: &str, inv: &mut Inventory| match root.get(path) {
            Ok(Some((_, Parsed::OsRelease { os }))) if inv.os.is_none() => inv.os = Some(os.clone()),
            Ok(Some((_, Parsed::Packages { packages }))) => inv.packages.extend(packages.iter().cloned()),
            Ok(Some((at, Parsed::Unreadable { reason }))) => {
                inv.notes.push(format!("/{at}: {reason}"));
                inv.unreadable.push(format!("/{at}: {reason}"));
            }
            Ok(_) => {}
            Err(rejected) => inv.notes.push(format!("/{}: {}", rejected.path, rejected.reason)),
        };
        for path in ["etc/os-release", "usr/lib/os-release", "var/lib/dpkg/status", "lib/apk/db/installed"] {
            take(path, &mut inv);
        }
        for (_, parsed) in root.list("var/lib/dpkg/status.d") {
            if let Parsed::Packages { packages } = parsed {
                inv.packages.extend(packages.iter().cloned());
            }
        }
        // The first rpm database found, as rpm would use one.
        let rpm = ["usr/lib/sysimage/rpm/rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite", "var/lib/rpm/Packages"]
            .into_iter()
            .find(|p| matches!(root.get(p), Ok(Some(_))));
        if let Some(path) = rpm {
            take(path, &mut inv);
        }
        inv.packages.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.version.cmp(&b.version)));
        inv.packages.dedup();
        inv
    }
}

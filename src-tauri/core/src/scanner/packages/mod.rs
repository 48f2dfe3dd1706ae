//! Installed packages of an image's root filesystem: the OS from
//! `/etc/os-release` and the package databases of dpkg, apk and rpm.

pub mod apk;
pub mod dpkg;
pub mod inventory;
pub mod os_release;
pub mod rpmdb;

use serde::{Deserialize, Serialize};

pub use inventory::{parse_file, Inventory, Parsed};
pub use os_release::OsRelease;

use super::versions::Scheme;

/// One installed package, as its package manager records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Package {
    /// Binary package name (`libssl3`).
    pub name: String,
    /// Installed version in the manager's own syntax (`3.0.11-1~deb12u2`, `1:2.3-4.el9`).
    pub version: String,
    /// Source package (`openssl`), when the database records one; Debian and
    /// Ubuntu advisories are filed by source package.
    pub source_name: Option<String>,
    /// Source version when it differs from `version` (dpkg `Source: name (ver)`).
    pub source_version: Option<String>,
    pub arch: Option<String>,
    /// Which manager's database it came from, and so which ordering applies.
    pub scheme: Scheme,
}

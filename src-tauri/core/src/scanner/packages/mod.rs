//! Installed packages of an image's root filesystem: the OS from
//! `/etc/os-release` and the package databases of dpkg, apk and rpm.

pub mod apk;
pub mod dpkg;
pub mod inventory;
pub mod lang;
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
    /// The file it was found in (no leading `/`): a language package's
    /// manifest, lock file, archive or binary; an OS package's database.
    #[serde(default)]
    pub path: Option<String>,
    /// The layer that introduced it, with its Dockerfile instruction.
    #[serde(default)]
    pub layer: Option<LayerRef>,
}

/// A layer of the image, as a package or finding names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
pub struct LayerRef {
    /// Position in the image, 0 = the bottom layer.
    pub index: u32,
    /// `sha256:…` of the uncompressed layer (the image's `diff_id`).
    pub digest: String,
    /// The instruction that made it, from the image history (`created_by`:
    /// `RUN pip install …`, `COPY app.jar /app/`), when the history says.
    pub created_by: Option<String>,
    /// Whether the layer belongs to the base image the Dockerfile started
    /// FROM (see docs/image-ecosystems.md for how that is decided).
    pub base: bool,
}

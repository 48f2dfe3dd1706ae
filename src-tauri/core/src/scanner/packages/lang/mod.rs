//! Language packages catalogued from an image's files, layer by layer, as
//! the layer streams past (nothing but the file at hand is held, each file
//! under a size cap): npm, PyPI, Go binaries, Java archives, Rust
//! (cargo-auditable binaries, Cargo.lock) and RubyGems. See
//! docs/image-ecosystems.md for what is read from where and the limits.

pub mod binary;
pub mod java;
pub mod manifests;

use std::io::Read;

use serde::{Deserialize, Serialize};

use super::Package;
use crate::scanner::versions::Scheme;

/// Largest manifest read (package.json, METADATA, gemspec).
pub const MAX_MANIFEST: u64 = 4 << 20;
/// Largest lock file read (package-lock.json, Cargo.lock).
pub const MAX_LOCK: u64 = 64 << 20;
/// Largest Java archive or executable examined (spooled to a temporary file
/// beyond 16 MiB, never held whole in memory).
pub const MAX_SPOOLED: u64 = 2 << 30;

/// What kind of language file a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    NpmPackage,
    NpmLock,
    PythonMetadata,
    Gemspec,
    CargoLock,
    JavaArchive,
    /// Any other regular file: read on only when it starts as an ELF executable.
    MaybeBinary,
}

/// The packages one file records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Found {
    /// The file (no leading `/`).
    pub path: String,
    pub packages: Vec<Package>,
    /// Why the file could not be read, or was read only in part.
    pub note: Option<String>,
}

/// The kind of `path` (normalised, no leading `/`), if a language file.
pub fn kind_of(path: &str) -> Option<Kind> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let dir = super::super::image::paths::parent(path);
    let lower = name.to_ascii_lowercase();
    if name == "package.json" && parent_is_node_module(dir) {
        return Some(Kind::NpmPackage);
    }
    if name == "package-lock.json" && !dir.split('/').any(|c| c == "node_modules") {
        return Some(Kind::NpmLock);
    }
    if (name == "METADATA" && dir.ends_with(".dist-info"))
        || (name == "PKG-INFO" && dir.ends_with(".egg-info"))
        || name.ends_with(".egg-info")
    {
        return Some(Kind::PythonMetadata);
    }
    if name.ends_with(".gemspec") && dir.rsplit('/').next() == Some("specifications") {
        return Some(Kind::Gemspec);
    }
    if name == "Cargo.lock" {
        return Some(Kind::CargoLock);
    }
    if [".jar", ".war", ".ear", ".jpi", ".hpi"].iter().any(|e| lower.ends_with(e)) {
        return Some(Kind::JavaArchive);
    }
    // Shared libraries, kernel modules, objects and debug files are not
    // programs; everything else might be one.
    let not_programs = [".so", ".ko", ".o", ".a", ".debug"];
    if lower.contains(".so.") || not_programs.iter().any(|e| lower.ends_with(e)) || path.starts_with("usr/lib/debug/") {
        return None;
    }
    Some(Kind::MaybeBinary)
}

/// `…/node_modules/NAME` or `…/node_modules/@SCOPE/NAME`.
fn parent_is_node_module(dir: &str) -> bool {
    let mut parts = dir.rsplit('/');
    let (last, before) = (parts.next(), parts.next());
    match (last, before) {
        (Some(_), Some("node_modules")) => true,
        (Some(_), Some(scope)) if scope.starts_with('@') => parts.next() == Some("node_modules"),
        _ => false,
    }
}

/// Reads the language file at `path` (`size` bytes) from `data`; `None`
/// when it holds nothing to catalogue (not an executable, no packages).
pub fn read(kind: Kind, path: &str, size: u64, data: &mut dyn Read) -> Option<Found> {
    let result = match kind {
        Kind::NpmPackage => capped(data, size, MAX_MANIFEST).and_then(|b| manifests::npm_package(&b)),
        Kind::NpmLock => capped(data, size, MAX_LOCK).and_then(|b| manifests::npm_lock(&b)),
        Kind::PythonMetadata => capped(data, size, MAX_MANIFEST).and_then(|b| manifests::python_metadata(&b)),
        Kind::Gemspec => capped(data, size, MAX_MANIFEST).and_then(|b| manifests::gemspec(&b)),
        Kind::CargoLock => capped(data, size, MAX_LOCK).and_then(|b| manifests::cargo_lock(&b)),
        Kind::JavaArchive => java::archive(path, size, data),
        Kind::MaybeBinary => binary::executable(size, data)?,
    };
    let found = match result {
        Ok(packages) => Found { path: path.to_string(), packages, note: None },
        Err(note) => Found { path: path.to_string(), packages: Vec::new(), note: Some(note) },
    };
    let found = Found { packages: found.packages.into_iter().map(|p| Package { path: Some(path_of(path, &p)), ..p }).collect(), ..found };
    (!found.packages.is_empty() || found.note.is_some()).then_some(found)
}

/// A package's own path: the file, or `file!/inner.jar` for nested archives
/// (the Java reader puts the inner path in `path` already).
fn path_of(file: &str, p: &Package) -> String {
    match &p.path {
        Some(inner) => format!("{file}!/{inner}"),
        None => file.to_string(),
    }
}

/// The whole of a file no larger than `cap`.
pub(crate) fn capped(data: &mut dyn Read, size: u64, cap: u64) -> Result<Vec<u8>, String> {
    if size > cap {
        return Err(format!("{size} bytes is over the {cap}-byte limit for this kind of file; not read"));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    data.take(cap).read_to_end(&mut bytes).map_err(|e| format!("reading: {e}"))?;
    Ok(bytes)
}

/// A language package with no location yet (the layer reader adds it).
pub(crate) fn package(scheme: Scheme, name: &str, version: &str) -> Package {
    Package {
        name: name.trim().to_string(),
        version: version.trim().to_string(),
        source_name: None,
        source_version: None,
        arch: None,
        scheme,
        path: None,
        layer: None,
    }
}

/// Whether the file is a lock file (its packages may also be installed).
pub fn is_lock_file(path: &str) -> bool {
    path.ends_with("package-lock.json") || path.ends_with("Cargo.lock")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_path() {
        assert_eq!(kind_of("app/node_modules/lodash/package.json"), Some(Kind::NpmPackage));
        assert_eq!(kind_of("app/node_modules/@babel/core/package.json"), Some(Kind::NpmPackage));
        assert_eq!(kind_of("app/node_modules/lodash/fp/package.json"), Some(Kind::MaybeBinary));
        assert_eq!(kind_of("app/package-lock.json"), Some(Kind::NpmLock));
        assert_eq!(kind_of("app/node_modules/.package-lock.json"), Some(Kind::MaybeBinary));
        assert_eq!(kind_of("usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA"), Some(Kind::PythonMetadata));
        assert_eq!(kind_of("usr/lib/python3/site-packages/six-1.16.0.egg-info/PKG-INFO"), Some(Kind::PythonMetadata));
        assert_eq!(kind_of("usr/lib/python3/dist-packages/six-1.16.0.egg-info"), Some(Kind::PythonMetadata));
        assert_eq!(kind_of("usr/lib/ruby/gems/3.1.0/specifications/rack-2.2.8.gemspec"), Some(Kind::Gemspec));
        assert_eq!(kind_of("srv/Cargo.lock"), Some(Kind::CargoLock));
        assert_eq!(kind_of("opt/app/app.WAR"), Some(Kind::JavaArchive));
        assert_eq!(kind_of("usr/lib/x86_64-linux-gnu/libc.so.6"), None);
        assert_eq!(kind_of("usr/local/bin/app"), Some(Kind::MaybeBinary));
    }
}

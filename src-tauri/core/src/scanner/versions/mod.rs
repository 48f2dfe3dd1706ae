//! Version ordering per packaging ecosystem. Advisory ranges are compared with
//! the ordering of the package manager that installed the package, never with
//! semver or string order.

use std::cmp::Ordering;

/// The version ordering a package manager uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Debian, Ubuntu: `[epoch:]upstream[-revision]`, `~` sorts before anything.
    Dpkg,
    /// Alpine: apk-tools ordering (`_rc`, `_p`, `-rN`, …).
    Apk,
    /// Red Hat, Rocky, AlmaLinux, Fedora: rpm's EVR ordering (rpmvercmp).
    Rpm,
}

/// Compares two versions with the scheme's ordering. Versions the scheme
/// cannot parse still get a total, deterministic order (never a panic).
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Ordering {
    let _ = (scheme, a, b);
    todo!("versions::compare — being written")
}

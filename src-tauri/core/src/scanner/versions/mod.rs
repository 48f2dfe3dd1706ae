//! Version ordering per packaging ecosystem. Advisory ranges are compared with
//! the ordering of the package manager that installed the package, never with
//! semver or string order.

pub mod apk;
pub mod dpkg;
pub mod gem;
pub mod maven;
pub mod pep440;
pub mod rpm;
pub mod semverish;

use std::cmp::Ordering;

/// The version ordering a package manager uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Debian, Ubuntu: `[epoch:]upstream[-revision]`, `~` sorts before anything.
    Dpkg,
    /// Alpine: apk-tools ordering (`_rc`, `_p`, `-rN`, …).
    Apk,
    /// Red Hat, Rocky, AlmaLinux, Fedora: rpm's EVR ordering (rpmvercmp).
    Rpm,
    /// npm packages: SemVer 2.0 precedence.
    Npm,
    /// Python packages: PEP 440.
    #[serde(rename = "pypi")]
    PyPI,
    /// Go modules (and the Go standard library): SemVer with a `v` prefix.
    Go,
    /// Java artifacts (`group:artifact`): Maven's ComparableVersion.
    Maven,
    /// Rust crates from crates.io: SemVer 2.0 precedence.
    Cargo,
    /// Ruby gems: `Gem::Version`.
    #[serde(rename = "rubygems")]
    RubyGems,
}

impl Scheme {
    /// Whether packages of this scheme come from a language ecosystem (found
    /// anywhere in the image's files), not from the OS package database.
    pub fn is_language(self) -> bool {
        !matches!(self, Scheme::Dpkg | Scheme::Apk | Scheme::Rpm)
    }
}

/// Compares two versions with the scheme's ordering. Versions the scheme
/// cannot parse still get a total, deterministic order (never a panic).
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Ordering {
    match scheme {
        Scheme::Dpkg => dpkg::compare(a, b),
        Scheme::Apk => apk::compare(a, b),
        Scheme::Rpm => rpm::compare(a, b),
        Scheme::Npm | Scheme::Cargo | Scheme::Go => semverish::compare(a, b),
        Scheme::PyPI => pep440::compare(a, b),
        Scheme::Maven => maven::compare(a, b),
        Scheme::RubyGems => gem::compare(a, b),
    }
}

/// Compares two runs of ASCII digits as numbers of any length.
pub(crate) fn cmp_digits(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Checks `a <op> b` for each case, and the reverse.
    pub fn check(scheme: Scheme, cases: &[(&str, char, &str)]) {
        for (a, op, b) in cases {
            let want = match op {
                '<' => Ordering::Less,
                '=' => Ordering::Equal,
                '>' => Ordering::Greater,
                _ => unreachable!(),
            };
            assert_eq!(compare(scheme, a, b), want, "{scheme:?}: {a} {op} {b}");
            assert_eq!(compare(scheme, b, a), want.reverse(), "{scheme:?}: {b} vs {a}");
        }
    }

    /// Checks `data` (`a<TAB>b<TAB>-1|0|1` lines from a reference
    /// implementation, `#` comments) against the scheme: at least `min`
    /// pairs, all agreeing.
    pub fn check_reference(scheme: Scheme, data: &str, min: usize) {
        let mut n = 0;
        let mut wrong = Vec::new();
        for line in data.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
            let mut f = line.split('\t');
            let (Some(a), Some(b), Some(want)) = (f.next(), f.next(), f.next()) else { continue };
            let want = match want {
                "-1" => Ordering::Less,
                "0" => Ordering::Equal,
                _ => Ordering::Greater,
            };
            n += 1;
            if compare(scheme, a, b) != want {
                wrong.push(format!("{a} vs {b}: reference {want:?}"));
            }
        }
        assert!(n >= min, "only {n} pairs");
        assert!(wrong.is_empty(), "{} of {n} disagree: {:?}", wrong.len(), &wrong[..wrong.len().min(20)]);
    }

    /// Sorting gives a consistent total order: every earlier item is ≤ every later one.
    pub fn check_total_order(scheme: Scheme, versions: &[&str]) {
        let mut v = versions.to_vec();
        v.sort_by(|a, b| compare(scheme, a, b));
        for i in 0..v.len() {
            for j in i..v.len() {
                assert_ne!(compare(scheme, v[i], v[j]), Ordering::Greater, "{scheme:?}: {} > {} after sorting {v:?}", v[i], v[j]);
            }
        }
    }

    #[test]
    fn digit_runs_of_any_length() {
        assert_eq!(cmp_digits("0010", "9"), Ordering::Greater);
        assert_eq!(cmp_digits("99999999999999999999999999", "99999999999999999999999998"), Ordering::Greater);
        assert_eq!(cmp_digits("000", ""), Ordering::Equal);
    }
}

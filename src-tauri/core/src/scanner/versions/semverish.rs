//! SemVer 2.0 precedence for npm, crates.io and Go module versions, with the
//! `semver` crate. Build metadata does not count (`+incompatible` in Go,
//! `+build.1` in npm), as in npm's `semver` and Go's `x/mod/semver`. A
//! leading `v` (Go) or `=` (npm) is dropped. A version that is not SemVer
//! (`1.2`, `(devel)`) falls back to comparing its dot-separated parts, so
//! the order stays total and never panics.

use std::cmp::Ordering;

use super::cmp_digits;

pub fn parse(v: &str) -> Option<semver::Version> {
    let t = v.trim().trim_start_matches(['v', '=']);
    semver::Version::parse(t).ok()
}

pub fn compare(a: &str, b: &str) -> Ordering {
    match (parse(a), parse(b)) {
        (Some(x), Some(y)) => x.cmp_precedence(&y),
        // A well-formed version sorts after a malformed one, so that a
        // range's "0"-like bounds behave.
        (Some(_), None) => loose(a, b).then(Ordering::Greater),
        (None, Some(_)) => loose(a, b).then(Ordering::Less),
        (None, None) => loose(a, b),
    }
}

/// Dot/dash separated parts, numbers as numbers: `1.2` < `1.10`.
pub(crate) fn loose(a: &str, b: &str) -> Ordering {
    let split = |s: &str| s.trim().trim_start_matches(['v', '=']).split(['.', '-', '+']).map(str::to_string).collect::<Vec<_>>();
    let (x, y) = (split(a), split(b));
    for i in 0..x.len().max(y.len()) {
        let (p, q) = (x.get(i).map(String::as_str).unwrap_or("0"), y.get(i).map(String::as_str).unwrap_or("0"));
        let num = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
        let o = match (num(p), num(q)) {
            (true, true) => cmp_digits(p, q),
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => p.cmp(q),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, check_total_order};
    use super::super::Scheme;

    #[test]
    fn semver_precedence_npm_cargo_go() {
        for s in [Scheme::Npm, Scheme::Cargo, Scheme::Go] {
            check(
                s,
                &[
                    ("1.0.0-alpha", '<', "1.0.0-alpha.1"),
                    ("1.0.0-alpha.1", '<', "1.0.0-alpha.beta"),
                    ("1.0.0-alpha.beta", '<', "1.0.0-beta"),
                    ("1.0.0-beta.2", '<', "1.0.0-beta.11"),
                    ("1.0.0-rc.1", '<', "1.0.0"),
                    ("1.0.0+build.1", '=', "1.0.0"),
                    ("v1.2.3", '=', "1.2.3"),
                    ("1.9.0", '<', "1.10.0"),
                    ("4.17.20", '<', "4.17.21"),
                ],
            );
        }
        check(Scheme::Go, &[("v0.0.0-20210101000000-abcdef123456", '<', "v0.0.1"), ("v2.0.0+incompatible", '=', "2.0.0")]);
        check_total_order(Scheme::Npm, &["1.2", "(devel)", "1.2.3", "0", "1.10", "v1.0.0-rc.1", "junk-1"]);
    }
}

//! PyPI ordering: PEP 440 with the `pep440_rs` crate (the parser uv uses).
//! A version that is not PEP 440 (legacy `LegacyVersion`s, long gone from
//! pip) sorts before every valid one and among its kind by parts.

use std::cmp::Ordering;
use std::str::FromStr;

use pep440_rs::Version;

pub fn compare(a: &str, b: &str) -> Ordering {
    match (Version::from_str(a.trim()), Version::from_str(b.trim())) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => Ordering::Greater,
        (Err(_), Ok(_)) => Ordering::Less,
        (Err(_), Err(_)) => super::semverish::loose(a, b),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::check;
    use super::super::Scheme;

    #[test]
    fn pep440_ordering() {
        check(
            Scheme::PyPI,
            &[
                ("1.0.dev0", '<', "1.0a1"),
                ("1.0a1", '<', "1.0b1"),
                ("1.0b1", '<', "1.0rc1"),
                ("1.0rc1", '<', "1.0"),
                ("1.0", '<', "1.0.post1"),
                ("1.0", '=', "1.0.0"),
                ("1!0.1", '>', "2.0"),
                ("2.31.0", '<', "2.32.0"),
                ("1.0+local", '>', "1.0"),
                ("1.26.18", '<', "1.26.19"),
            ],
        );
    }
}

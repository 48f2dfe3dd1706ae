//! dpkg's ordering (deb-version(7)), by the `debversion` crate: the epoch
//! numerically, then upstream version and Debian revision by alternating
//! non-digit parts (letters before non-letters, `~` before everything, even
//! the end) and numeric parts. A string that is not a Debian version is
//! ordered after every valid one, then bytewise.

use std::cmp::Ordering;
use std::str::FromStr;

use debversion::Version;

pub fn compare(a: &str, b: &str) -> Ordering {
    match (Version::from_str(a.trim()), Version::from_str(b.trim())) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, check_total_order};
    use super::super::Scheme::Dpkg;

    #[test]
    fn epochs_tildes_and_revisions() {
        check(
            Dpkg,
            &[
                ("1.0", '=', "1.0"),
                ("0:1.0", '=', "1.0"),
                ("1:1.0", '>', "2.0"),
                ("1:3.8-4", '>', "3.9-1"),
                ("1.0~rc1", '<', "1.0"),
                ("1.0~~", '<', "1.0~"),
                ("1.0~~a", '<', "1.0~"),
                ("1.0~", '<', "1.0"),
                ("1.0", '<', "1.0+b1"),
                ("1.0-1", '<', "1.0-1.1"),
                ("1.0-1", '<', "1.0-2"),
                ("1.0-10", '>', "1.0-9"),
                ("1.10", '>', "1.9"),
                ("1.0a", '>', "1.0"),
                ("1.0a", '<', "1.0+"),
                ("1.0.", '>', "1.0"),
                ("3.0.11-1~deb12u2", '<', "3.0.11-1~deb12u3"),
                ("3.0.11-1~deb12u3", '<', "3.0.11-1"),
                ("3.0.11-1~deb12u2+b1", '>', "3.0.11-1~deb12u2"),
                ("2.36-9+deb12u14", '<', "2.36-9+deb12u99"),
                ("2.36-9+deb12u14", '>', "2.36-9+deb12u9"),
                ("252.39-1~deb12u2", '>', "252.39-1~deb12u1"),
                ("5.4.1-1+deb12u1", '<', "5.4.1-1+deb12u2"),
                ("7.88.1-10+deb12u5", '<', "7.88.1-10+deb12u12"),
                ("1.2.3-1ubuntu0.1", '<', "1.2.3-1ubuntu0.2"),
                ("1.2.3-1ubuntu1", '>', "1.2.3-1build1"),
                ("2:1.0", '>', "1:9.9"),
                ("1.0-1-2", '>', "1.0-1-1"),
                ("00001.0", '=', "1.0"),
            ],
        );
    }

    #[test]
    fn garbage_is_ordered_not_fatal() {
        check(Dpkg, &[("1.0", '<', "not a version!"), ("", '>', "1.0"), ("?", '=', "?")]);
        assert_eq!(super::compare("99999999999999999999999999999:1", "1:1"), std::cmp::Ordering::Greater);
        check_total_order(Dpkg, &["1.0", "1.0~rc1", "1:0.1", "1.0-1", "1.0+b1", "0.9", "1.0~", "bad version", "2.0~~", "2.0"]);
    }
}

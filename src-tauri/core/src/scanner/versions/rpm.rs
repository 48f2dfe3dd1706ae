//! rpm's ordering: `[epoch:]version[-release]`, the epoch numerically
//! (missing = 0), then version and release by rpmvercmp (rpm's
//! lib/rpmvercmp.c): runs of digits or letters compared in turn, other
//! characters only separate; digits beat letters; `~` sorts before
//! everything, even the end; `^` sorts after the end but before anything
//! else. Implemented from the algorithm (no maintained light crate has it).

use std::cmp::Ordering;

use super::cmp_digits;

/// Epoch, version and release of an EVR string.
fn split(evr: &str) -> (&str, &str, Option<&str>) {
    let evr = evr.trim();
    let (epoch, rest) = match evr.split_once(':') {
        Some((e, rest)) if e.chars().all(|c| c.is_ascii_digit()) => (e, rest),
        _ => ("0", evr),
    };
    match rest.rsplit_once('-') {
        Some((v, r)) => (epoch, v, Some(r)),
        None => (epoch, rest, None),
    }
}

pub fn compare(a: &str, b: &str) -> Ordering {
    let (ea, va, ra) = split(a);
    let (eb, vb, rb) = split(b);
    cmp_digits(ea, eb).then_with(|| rpmvercmp(va, vb)).then_with(|| match (ra, rb) {
        (Some(x), Some(y)) => rpmvercmp(x, y),
        // A version without a release matches any release of it (as rpm does).
        _ => Ordering::Equal,
    })
}

/// rpm's segment comparison of one version or release string.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut one, mut two) = (a.as_bytes(), b.as_bytes());
    let separator = |c: &u8| !c.is_ascii_alphanumeric() && *c != b'~' && *c != b'^';
    loop {
        while one.first().is_some_and(separator) {
            one = &one[1..];
        }
        while two.first().is_some_and(separator) {
            two = &two[1..];
        }
        match (one.first(), two.first()) {
            (Some(b'~'), Some(b'~')) => {
                one = &one[1..];
                two = &two[1..];
                continue;
            }
            (Some(b'~'), _) => return Ordering::Less,
            (_, Some(b'~')) => return Ordering::Greater,
            (Some(b'^'), Some(b'^')) => {
                one = &one[1..];
                two = &two[1..];
                continue;
            }
            (None, Some(b'^')) => return Ordering::Less,
            (Some(b'^'), None) => return Ordering::Greater,
            (Some(b'^'), _) => return Ordering::Less,
            (_, Some(b'^')) => return Ordering::Greater,
            (None, _) | (_, None) => break,
            _ => {}
        }
        let numeric = one[0].is_ascii_digit();
        let run = |s: &[u8]| s.iter().take_while(|c| if numeric { c.is_ascii_digit() } else { c.is_ascii_alphabetic() }).count();
        let (n1, n2) = (run(one), run(two));
        if n2 == 0 {
            // A digit run against letters: the number is newer.
            return if numeric { Ordering::Greater } else { Ordering::Less };
        }
        let (s1, s2) = (ascii(&one[..n1]), ascii(&two[..n2]));
        let order = if numeric { cmp_digits(s1, s2) } else { s1.cmp(s2) };
        if order != Ordering::Equal {
            return order;
        }
        one = &one[n1..];
        two = &two[n2..];
    }
    match (one.is_empty(), two.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}

fn ascii(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, check_total_order};
    use super::super::Scheme::Rpm;
    use super::*;

    /// Cases from rpm's own test suite (tests/rpmvercmp.at).
    #[test]
    fn rpmvercmp_cases_from_rpm() {
        let cases: &[(&str, char, &str)] = &[
            ("1.0", '=', "1.0"),
            ("1.0", '<', "2.0"),
            ("2.0.1", '=', "2.0.1"),
            ("2.0", '<', "2.0.1"),
            ("2.0.1a", '>', "2.0.1"),
            ("5.5p1", '<', "5.5p2"),
            ("5.5p10", '>', "5.5p1"),
            ("10xyz", '<', "10.1xyz"),
            ("xyz10", '<', "xyz10.1"),
            ("xyz.4", '<', "8"),
            ("xyz.4", '<', "2"),
            ("5.5p2", '<', "5.6p1"),
            ("5.6p1", '<', "6.5p1"),
            ("6.0.rc1", '>', "6.0"),
            ("10b2", '>', "10a1"),
            ("1.0aa", '>', "1.0a"),
            ("10.0001", '=', "10.1"),
            ("10.0001", '<', "10.0039"),
            ("4.999.9", '<', "5.0"),
            ("20101121", '>', "20101120"),
            ("1.0~rc1", '<', "1.0"),
            ("1.0~rc1", '<', "1.0~rc2"),
            ("1.0~rc1~git123", '<', "1.0~rc1"),
            ("1.0^", '>', "1.0"),
            ("1.0^git1", '>', "1.0"),
            ("1.0^git1", '<', "1.0^git2"),
            ("1.0^git1", '<', "1.01"),
            ("1.0^20160101", '<', "1.0.1"),
            ("1.0^20160101^git1", '<', "1.0^20160102"),
            ("1.0~rc1^git1", '>', "1.0~rc1"),
            ("1.0^git1~pre", '<', "1.0^git1"),
            ("a+", '=', "a_"),
            ("+a", '=', "_a"),
            ("1.0", '=', "1_0"),
        ];
        for (a, op, b) in cases {
            let want = match op {
                '<' => Ordering::Less,
                '=' => Ordering::Equal,
                _ => Ordering::Greater,
            };
            assert_eq!(rpmvercmp(a, b), want, "{a} {op} {b}");
            assert_eq!(rpmvercmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn epoch_version_release() {
        check(
            Rpm,
            &[
                ("1:3.0.7-24.el9", '>', "3.0.8-1.el9"),
                ("0:3.0.7-24.el9", '=', "3.0.7-24.el9"),
                ("1:3.0.7-24.el9", '<', "1:3.0.7-25.el9"),
                ("2.34-100.el9", '<', "2.34-100.el9_4.2"),
                ("2.34-100.el9_4.2", '<', "2.34-101.el9"),
                ("5.1.8-6.el9", '=', "5.1.8-6.el9"),
                ("5.1.8", '=', "5.1.8-6.el9"),
                ("4.18.0-513.5.1.el8_9", '>', "4.18.0-513.el8"),
                ("10:1.0-1", '>', "9:9.0-1"),
            ],
        );
        check_total_order(Rpm, &["1.0-1", "1.0~rc1-1", "1:0.1-1", "1.0^git1-1", "1.0-1.el9", "1.0-1.el9_1", "0.9-9", "", "garbage!!"]);
    }
}

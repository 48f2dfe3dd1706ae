//! apk-tools' ordering (src/version.c): `digits{.digits}[letter]{_suffix[N]}[-rN]`.
//! Tokens are compared in turn; `_alpha` < `_beta` < `_pre` < `_rc` < (none)
//! < `_cvs` < `_svn` < `_git` < `_hg` < `_p`; a longer version is newer
//! unless what follows is a pre-release suffix; `-rN` is the package
//! revision. A zero-led component (`1.02`) sorts below plain numbers. Implemented
//! from apk-tools' algorithm (no maintained crate has it).

use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Token {
    Invalid,
    DigitOrZero,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    RevisionNo,
    End,
}

const PRE: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

struct Cursor<'a> {
    s: &'a [u8],
    token: Token,
}

impl Cursor<'_> {
    /// Decides what the next token is (apk's next_token).
    fn advance(&mut self) {
        let prev = self.token;
        let mut n = Token::Invalid;
        match self.s.first() {
            None | Some(0) => n = Token::End,
            Some(c) if matches!(prev, Token::Digit | Token::DigitOrZero) && c.is_ascii_lowercase() => n = Token::Letter,
            Some(c) if prev == Token::Letter && c.is_ascii_digit() => n = Token::Digit,
            Some(c) if prev == Token::Suffix && c.is_ascii_digit() => n = Token::SuffixNo,
            Some(c) => {
                match c {
                    b'.' => n = Token::DigitOrZero,
                    b'_' => n = Token::Suffix,
                    b'-' if self.s.get(1) == Some(&b'r') => {
                        n = Token::RevisionNo;
                        self.s = &self.s[1..];
                    }
                    _ => {}
                }
                self.s = &self.s[1..];
            }
        }
        if n < prev
            && !((n == Token::DigitOrZero && prev == Token::Digit)
                || (n == Token::Suffix && prev == Token::SuffixNo)
                || (n == Token::Digit && prev == Token::Letter))
        {
            n = Token::Invalid;
        }
        self.token = n;
    }

    /// Reads the value of the current token (apk's get_token).
    fn value(&mut self) -> i128 {
        if self.s.is_empty() {
            self.token = Token::End;
            return 0;
        }
        let mut i = 0;
        let mut v: i128 = 0;
        let mut next = Token::Invalid;
        match self.token {
            // A zero-led component with more digits after the zeros ("1.02")
            // sorts below any plain number; "1.0" is plain zero.
            Token::DigitOrZero if self.s[0] == b'0' && self.s.iter().find(|c| **c != b'0').is_some_and(u8::is_ascii_digit) => {
                while i < self.s.len() && self.s[i] == b'0' {
                    i += 1;
                }
                next = Token::Digit;
                v = -(i as i128);
            }
            Token::DigitOrZero | Token::Digit | Token::SuffixNo | Token::RevisionNo => {
                while i < self.s.len() && self.s[i].is_ascii_digit() {
                    v = v.saturating_mul(10).saturating_add(i128::from(self.s[i] - b'0'));
                    i += 1;
                }
            }
            Token::Letter => {
                v = i128::from(self.s[0]);
                i = 1;
            }
            Token::Suffix => {
                let rest = self.s;
                if let Some(k) = PRE.iter().position(|p| rest.starts_with(p.as_bytes())) {
                    i = PRE[k].len();
                    v = k as i128 - PRE.len() as i128;
                } else if let Some(k) = POST.iter().position(|p| rest.starts_with(p.as_bytes())) {
                    i = POST[k].len();
                    v = k as i128;
                } else {
                    self.token = Token::Invalid;
                    return -1;
                }
            }
            _ => {
                self.token = Token::Invalid;
                return -1;
            }
        }
        self.s = &self.s[i..];
        if self.s.is_empty() {
            self.token = Token::End;
        } else if next != Token::Invalid {
            self.token = next;
        } else {
            self.advance();
        }
        v
    }
}

pub fn compare(a: &str, b: &str) -> Ordering {
    let mut x = Cursor { s: a.trim().as_bytes(), token: Token::Digit };
    let mut y = Cursor { s: b.trim().as_bytes(), token: Token::Digit };
    let (mut av, mut bv) = (0i128, 0i128);
    while x.token == y.token && x.token != Token::End && x.token != Token::Invalid && av == bv {
        av = x.value();
        bv = y.value();
    }
    if av != bv {
        return av.cmp(&bv);
    }
    if x.token == y.token {
        return Ordering::Equal;
    }
    // Equal so far: the longer one is newer unless it goes on with a pre-release suffix.
    if x.token == Token::Suffix && (Cursor { s: x.s, token: Token::Suffix }).value() < 0 {
        return Ordering::Less;
    }
    if y.token == Token::Suffix && (Cursor { s: y.s, token: Token::Suffix }).value() < 0 {
        return Ordering::Greater;
    }
    // A later token kind (e.g. end) is older than an earlier one (e.g. a digit).
    y.token.cmp(&x.token)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, check_total_order};
    use super::super::Scheme::Apk;

    #[test]
    fn apk_tools_orderings() {
        check(
            Apk,
            &[
                ("1.0", '=', "1.0"),
                ("1.0", '<', "1.1"),
                ("1.10", '>', "1.9"),
                ("1.2.3", '>', "1.2"),
                ("1.2.3-r0", '<', "1.2.3-r1"),
                ("1.2.3-r9", '<', "1.2.3-r10"),
                ("1.2.3", '<', "1.2.3-r1"),
                ("1.2.3", '<', "1.2.3-r0"),
                ("1.36.1-r29", '<', "1.36.1-r30"),
                ("1.2.5_rc1-r0", '<', "1.2.5-r0"),
                ("1.2.5_rc1", '<', "1.2.5_rc2"),
                ("1.0_alpha", '<', "1.0_beta"),
                ("1.0_beta", '<', "1.0_pre"),
                ("1.0_pre", '<', "1.0_rc"),
                ("1.0_rc1", '<', "1.0"),
                ("1.0", '<', "1.0_cvs"),
                ("1.0_git20240101", '<', "1.0_p1"),
                ("1.3.1-r1", '<', "1.3.1_p1-r0"),
                ("1.3.1_p1", '<', "1.3.1_p2"),
                ("1.3.1_p1", '<', "1.3.2"),
                ("3.3.0-r2", '<', "3.3.0-r3"),
                ("1.2a", '>', "1.2"),
                ("1.2a", '<', "1.2b"),
                ("1.2a", '<', "1.3"),
                ("2.0", '>', "1.99999999999999999999999999999999"),
                ("1.02", '<', "1.1"),
            ],
        );
    }

    #[test]
    fn invalid_versions_are_ordered_not_fatal() {
        for (a, b) in [("", "1.0"), ("abc", "1.0"), ("1.0-x", "1.0"), ("1..0", "1.0"), ("1.0_bogus", "1.0")] {
            let _ = super::compare(a, b);
            let _ = super::compare(b, a);
        }
        check_total_order(Apk, &["1.0", "1.0-r1", "1.0_rc1", "1.0_p1", "0.9", "1.0a", "2.0_alpha", "1.10"]);
    }
}

//! RubyGems ordering (`Gem::Version#<=>`): a version is its runs of digits
//! (numbers) and of letters (strings, a pre-release); `-` means `.pre.`;
//! trailing zeros of the numeric part and of the string part are dropped;
//! a string sorts before a number (`1.0.a` < `1.0`), strings in byte order.
//! No maintained Rust crate implements it; this follows rubygems'
//! `lib/rubygems/version.rb` and is checked against RubyGems itself on real
//! version pairs (`versions/testdata/gem-pairs.tsv`, made by
//! `scripts/versions/gem-reference.sh`).

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Num(String),
    Str(String),
}

fn canonical(v: &str) -> Vec<Seg> {
    let v = v.trim().replace('-', ".pre.");
    let mut segs = Vec::new();
    let mut cur = String::new();
    let mut digit = false;
    let flush = |cur: &mut String, digit: bool, segs: &mut Vec<Seg>| {
        if !cur.is_empty() {
            let s = std::mem::take(cur);
            segs.push(if digit { Seg::Num(s.trim_start_matches('0').to_string()) } else { Seg::Str(s) });
        }
    };
    for c in v.chars() {
        if c.is_ascii_digit() {
            if !digit {
                flush(&mut cur, digit, &mut segs);
            }
            digit = true;
            cur.push(c);
        } else if c.is_ascii_alphabetic() {
            if digit {
                flush(&mut cur, digit, &mut segs);
            }
            digit = false;
            cur.push(c);
        } else {
            flush(&mut cur, digit, &mut segs);
        }
    }
    flush(&mut cur, digit, &mut segs);
    // Numeric part, then the rest from the first string; each without trailing zeros.
    let split = segs.iter().position(|s| matches!(s, Seg::Str(_))).unwrap_or(segs.len());
    let (mut numeric, mut rest) = (segs[..split].to_vec(), segs[split..].to_vec());
    let zero = |s: &Seg| matches!(s, Seg::Num(d) if d.is_empty());
    while numeric.last().is_some_and(zero) {
        numeric.pop();
    }
    while rest.last().is_some_and(zero) {
        rest.pop();
    }
    numeric.extend(rest);
    numeric
}

pub fn compare(a: &str, b: &str) -> Ordering {
    let (l, r) = (canonical(a), canonical(b));
    let zero = Seg::Num(String::new());
    for i in 0..l.len().max(r.len()) {
        let (x, y) = (l.get(i).unwrap_or(&zero), r.get(i).unwrap_or(&zero));
        let o = match (x, y) {
            (Seg::Num(p), Seg::Num(q)) => cmp_digits(p, q),
            (Seg::Str(_), Seg::Num(_)) => Ordering::Less,
            (Seg::Num(_), Seg::Str(_)) => Ordering::Greater,
            (Seg::Str(p), Seg::Str(q)) => p.as_bytes().cmp(q.as_bytes()),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, check_reference};
    use super::super::Scheme;

    #[test]
    fn rubygems_ordering() {
        check(
            Scheme::RubyGems,
            &[
                ("1.0", '=', "1"),
                ("1.0.0", '=', "1.0"),
                ("1.0.a", '<', "1.0"),
                ("1.0.a", '<', "1.0.b"),
                ("1.0.a10", '>', "1.0.a9"),
                ("1.0-pre", '=', "1.0.pre.pre"),
                ("1.0.rc1", '<', "1.0"),
                ("1.0.rc1", '>', "1.0.beta2"),
                ("2.2.8", '<', "2.2.8.1"),
                ("3.0.0.beta1", '<', "3.0.0"),
                ("1.9", '<', "1.10"),
                ("7.0.4.3", '>', "7.0.4"),
            ],
        );
    }

    /// Pairs ordered by RubyGems' `Gem::Version#<=>` (RubyGems 3.3, Debian's
    /// ruby), from real version strings of Maven Central and PyPI packages.
    #[test]
    fn agrees_with_rubygems_on_real_pairs() {
        check_reference(Scheme::RubyGems, include_str!("testdata/gem-pairs.tsv"), 6000);
    }
}

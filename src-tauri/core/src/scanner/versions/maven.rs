//! Maven version ordering: `org.apache.maven.artifact.versioning.ComparableVersion`
//! (Maven 3.8), which OSV's Maven ranges use. No maintained Rust crate
//! implements it, so this is a transcription of its algorithm, checked
//! against the reference jar on real version pairs
//! (`versions/testdata/maven-pairs.tsv`, made by
//! `scripts/versions/maven-reference.sh` from Maven's own class).
//!
//! A version is split at `.` and `-` and at digit/letter changes into a
//! tree of items: numbers, qualifiers (`alpha` < `beta` < `milestone` <
//! `rc` < `snapshot` < release < `sp` < any other word, words in byte
//! order) and sub-lists (each `-` or letter→digit change opens one);
//! trailing zeros and release qualifiers are dropped from every list.

use std::cmp::Ordering;

use super::cmp_digits;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// Digits without leading zeros (any length).
    Int(String),
    /// A qualifier, already aliased (`ga`, `final`, `release` → ``, `cr` → `rc`).
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

fn qualifier_rank(q: &str) -> String {
    match QUALIFIERS.iter().position(|x| *x == q) {
        Some(i) => i.to_string(),
        None => format!("{}-{q}", QUALIFIERS.len()),
    }
}

const RELEASE: &str = "5";

fn string_item(value: &str, followed_by_digit: bool) -> Item {
    let mut v = value.to_string();
    if followed_by_digit && v.len() == 1 {
        v = match v.as_str() {
            "a" => "alpha".into(),
            "b" => "beta".into(),
            "m" => "milestone".into(),
            _ => v,
        };
    }
    let v = match v.as_str() {
        "ga" | "final" | "release" => String::new(),
        "cr" => "rc".into(),
        _ => v,
    };
    Item::Str(v)
}

fn parse_item(is_digit: bool, buf: &str) -> Item {
    if is_digit {
        Item::Int(buf.trim_start_matches('0').to_string())
    } else {
        string_item(buf, false)
    }
}

fn is_null(item: &Item) -> bool {
    match item {
        Item::Int(d) => d.is_empty(),
        Item::Str(s) => qualifier_rank(s) == RELEASE,
        Item::List(l) => l.is_empty(),
    }
}

/// Parses into the item tree. Lists are built as a path of indices from the
/// root (the Java code keeps a stack of references).
fn parse(version: &str) -> Item {
    let version = version.to_lowercase();
    let chars: Vec<char> = version.chars().collect();
    // Arena of lists: each list's items; a child list is referenced by index.
    let mut lists: Vec<Vec<Node>> = vec![Vec::new()];
    let mut current = 0usize;
    let mut stack = vec![0usize];
    let mut is_digit = false;
    let mut start = 0usize;
    let sub = |s: usize, e: usize| chars[s..e].iter().collect::<String>();
    let open = |lists: &mut Vec<Vec<Node>>, current: &mut usize, stack: &mut Vec<usize>| {
        lists.push(Vec::new());
        let id = lists.len() - 1;
        lists[*current].push(Node::List(id));
        *current = id;
        stack.push(id);
    };
    for (i, &c) in chars.iter().enumerate() {
        if c == '.' || c == '-' {
            if i == start {
                lists[current].push(Node::Item(Item::Int(String::new())));
            } else {
                lists[current].push(Node::Item(parse_item(is_digit, &sub(start, i))));
            }
            start = i + 1;
            if c == '-' {
                open(&mut lists, &mut current, &mut stack);
            }
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                lists[current].push(Node::Item(string_item(&sub(start, i), true)));
                start = i;
                open(&mut lists, &mut current, &mut stack);
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                lists[current].push(Node::Item(parse_item(true, &sub(start, i))));
                start = i;
                open(&mut lists, &mut current, &mut stack);
            }
            is_digit = false;
        }
    }
    if chars.len() > start {
        lists[current].push(Node::Item(parse_item(is_digit, &sub(start, chars.len()))));
    }
    // Normalise innermost first (the order the Java stack pops).
    let mut built: Vec<Option<Vec<Item>>> = vec![None; lists.len()];
    while let Some(id) = stack.pop() {
        let mut items: Vec<Item> = lists[id]
            .iter()
            .map(|n| match n {
                Node::Item(it) => it.clone(),
                Node::List(child) => Item::List(built[*child].take().unwrap_or_default()),
            })
            .collect();
        let mut i = items.len();
        while i > 0 {
            i -= 1;
            if is_null(&items[i]) {
                items.remove(i);
            } else if !matches!(items[i], Item::List(_)) {
                break;
            }
        }
        built[id] = Some(items);
    }
    Item::List(built[0].take().unwrap_or_default())
}

#[derive(Debug, Clone)]
enum Node {
    Item(Item),
    List(usize),
}

fn cmp(a: &Item, b: Option<&Item>) -> Ordering {
    match (a, b) {
        (Item::Int(x), None) => {
            if x.is_empty() {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        (Item::Int(x), Some(Item::Int(y))) => cmp_digits(x, y),
        (Item::Int(_), Some(_)) => Ordering::Greater,
        (Item::Str(s), None) => qualifier_rank(s).cmp(&RELEASE.to_string()),
        (Item::Str(_), Some(Item::Int(_))) => Ordering::Less,
        (Item::Str(s), Some(Item::Str(t))) => qualifier_rank(s).cmp(&qualifier_rank(t)),
        (Item::Str(_), Some(Item::List(_))) => Ordering::Less,
        (Item::List(l), None) => match l.first() {
            None => Ordering::Equal,
            Some(first) => cmp(first, None),
        },
        (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
        (Item::List(_), Some(Item::Str(_))) => Ordering::Greater,
        (Item::List(l), Some(Item::List(r))) => {
            for i in 0..l.len().max(r.len()) {
                let o = match (l.get(i), r.get(i)) {
                    (None, None) => Ordering::Equal,
                    (None, Some(r)) => cmp(r, None).reverse(),
                    (Some(l), r) => cmp(l, r),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        }
    }
}

pub fn compare(a: &str, b: &str) -> Ordering {
    cmp(&parse(a), Some(&parse(b)))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check, check_reference};
    use super::super::Scheme;

    #[test]
    fn maven_documented_examples() {
        check(
            Scheme::Maven,
            &[
                ("1", '=', "1.0.0"),
                ("1-alpha", '<', "1-beta"),
                ("1.0-alpha-1", '<', "1.0"),
                ("1.0-rc1", '<', "1.0"),
                ("1.0-cr1", '=', "1.0-rc1"),
                ("1.0-SNAPSHOT", '<', "1.0"),
                ("1.0", '=', "1.0-ga"),
                ("1.0", '=', "1.0-final"),
                ("1.0", '<', "1.0-sp1"),
                ("1.0-sp1", '<', "1.0-foo"),
                ("1.0.RELEASE", '=', "1.0"),
                ("2.12.7.1", '>', "2.12.7"),
                ("1.9", '<', "1.10"),
                ("1a1", '=', "1-alpha-1"),
                ("5.3.20", '<', "5.3.21"),
                ("2.0.0-M1", '<', "2.0.0"),
            ],
        );
    }

    /// Pairs ordered by Maven's own ComparableVersion (3.8.7, the jar that
    /// Debian's maven ships), from real versions of Maven Central artifacts.
    #[test]
    fn agrees_with_the_reference_jar_on_real_pairs() {
        check_reference(Scheme::Maven, include_str!("testdata/maven-pairs.tsv"), 6000);
    }
}

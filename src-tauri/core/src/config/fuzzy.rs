//! Fuzzy matching for the config search (nucleo-matcher, the matcher of the
//! Helix editor): the typed words must appear in order, each word's
//! characters in order with gaps allowed ("dbpw" finds `db/password`),
//! ignoring case and accents. A key name is matched as a whole (relative to
//! the searched prefix); a value line by line (the first
//! [`LINE_MAX`] characters of each of its first [`LINES_MAX`] lines), so a
//! long value does not match by scattering the letters across it. A word
//! whose letters are spread too thin (over more than twice its length plus
//! [`SLACK`] characters) is not a match: "secret" finds `secrt_secret` and
//! `s_e_c_r_e_t`, not "some event came right out of the tree". Binary values
//! are matched over their lossy text (for finding them, never written back).

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use serde::Serialize;

/// Characters of a value line matched (the rest of a longer line is not).
pub const LINE_MAX: usize = 2048;
/// Lines of a value matched.
pub const LINES_MAX: usize = 10_000;
/// A typed word of n characters matches within at most 2n + SLACK characters.
pub const SLACK: usize = 2;
/// Characters of context each side of a value match.
const CONTEXT: usize = 40;

/// A run of the shown text, `hit` when it is a matched part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct HitPart {
    pub text: String,
    pub hit: bool,
}

/// A fuzzy match of one text: the parts to show (matched runs marked), and
/// the score (higher is closer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuzzyMatch {
    pub parts: Vec<HitPart>,
    pub score: u32,
}

pub struct Fuzzy {
    pattern: Pattern,
    matcher: Matcher,
    chars: Vec<char>,
    indices: Vec<u32>,
    word: Vec<u32>,
}

impl Fuzzy {
    /// A matcher for `text` (words separated by spaces; no special syntax).
    /// `None` when `text` has no word.
    pub fn new(text: &str) -> Option<Fuzzy> {
        let pattern = Pattern::new(text, CaseMatching::Ignore, Normalization::Smart, AtomKind::Fuzzy);
        if pattern.atoms.is_empty() {
            return None;
        }
        Some(Fuzzy { pattern, matcher: Matcher::new(Config::DEFAULT), chars: Vec::new(), indices: Vec::new(), word: Vec::new() })
    }

    /// Matches one line of text (shown whole, or `context` characters each side
    /// of the match when `Some`).
    fn match_line(&mut self, line: &str, context: Option<usize>) -> Option<FuzzyMatch> {
        self.chars.clear();
        self.chars.extend(line.chars().take(LINE_MAX));
        self.indices.clear();
        let hay = if self.chars.iter().all(char::is_ascii) {
            Utf32Str::Ascii(&line.as_bytes()[..self.chars.len()])
        } else {
            Utf32Str::Unicode(&self.chars)
        };
        let mut score = 0u32;
        for atom in &self.pattern.atoms {
            self.word.clear();
            score += u32::from(atom.indices(hay, &mut self.matcher, &mut self.word)?);
            let (lo, hi) = (self.word.iter().min()?, self.word.iter().max()?);
            if (hi - lo + 1) as usize > 2 * atom.needle_text().len() + SLACK {
                return None;
            }
            self.indices.extend_from_slice(&self.word);
        }
        self.indices.sort_unstable();
        self.indices.dedup();
        let first = *self.indices.first()? as usize;
        let last = *self.indices.last()? as usize;
        let (from, to) = match context {
            Some(c) => (first.saturating_sub(c), (last + 1 + c).min(self.chars.len())),
            None => (0, self.chars.len()),
        };
        let mut parts: Vec<HitPart> = Vec::new();
        if from > 0 {
            parts.push(HitPart { text: "…".into(), hit: false });
        }
        let mut marks = self.indices.iter().map(|i| *i as usize).peekable();
        for (i, c) in self.chars[from..to].iter().enumerate() {
            let hit = marks.peek() == Some(&(from + i));
            if hit {
                marks.next();
            }
            let c = if matches!(c, '\n' | '\r' | '\t') { ' ' } else { *c };
            match parts.last_mut() {
                Some(p) if p.hit == hit && p.text != "…" => p.text.push(c),
                _ => parts.push(HitPart { text: c.to_string(), hit }),
            }
        }
        if to < self.chars.len() || line.chars().nth(LINE_MAX).is_some() {
            parts.push(HitPart { text: "…".into(), hit: false });
        }
        Some(FuzzyMatch { parts, score })
    }

    /// Matches a key (shown whole).
    pub fn match_key(&mut self, key: &str) -> Option<FuzzyMatch> {
        self.match_line(key, None)
    }

    /// Matches a value: its best-scoring line, shown with context around the match.
    pub fn match_value(&mut self, value: &[u8]) -> Option<FuzzyMatch> {
        let text = String::from_utf8_lossy(value);
        let mut best: Option<FuzzyMatch> = None;
        for line in text.split('\n').take(LINES_MAX) {
            if let Some(m) = self.match_line(line, Some(CONTEXT)) {
                if best.as_ref().is_none_or(|b| m.score > b.score) {
                    best = Some(m);
                }
            }
        }
        best
    }
}

/// The parts of a substring match: before, matched, after (empty ones left out).
pub fn parts_of(before: &str, matched: &str, after: &str) -> Vec<HitPart> {
    [(before, false), (matched, true), (after, false)]
        .into_iter()
        .filter(|(t, _)| !t.is_empty())
        .map(|(t, hit)| HitPart { text: t.to_string(), hit })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked(m: &FuzzyMatch) -> String {
        m.parts.iter().map(|p| if p.hit { format!("[{}]", p.text) } else { p.text.clone() }).collect()
    }

    #[test]
    fn letters_in_order_with_gaps_marked() {
        let mut f = Fuzzy::new("dbpass").unwrap();
        let m = f.match_key("app/db/password").unwrap();
        assert_eq!(marked(&m), "app/[db]/[pass]word");
        assert!(f.match_key("app/passdb").is_none(), "order matters");
        // Case and accents ignored.
        let mut f = Fuzzy::new("CAFE").unwrap();
        assert_eq!(marked(&f.match_key("menu/café").unwrap()), "menu/[café]");
    }

    #[test]
    fn words_each_match_and_unicode_positions_are_characters() {
        let mut f = Fuzzy::new("配置 prod").unwrap();
        let m = f.match_key("prod/数据库配置").unwrap();
        assert_eq!(marked(&m), "[prod]/数据库[配置]");
        assert!(f.match_key("staging/数据库配置").is_none());
    }

    #[test]
    fn scattered_letters_are_not_a_match() {
        let mut f = Fuzzy::new("secret").unwrap();
        assert!(f.match_value(b"some event came right out of the tree").is_none(), "letters spread over a sentence");
        assert!(f.match_value(b"the scrt is here").is_none());
        assert!(f.match_value(b"s_e_c_r_e_t").is_some(), "within twice its length and two");
        let m = f.match_value(b"line one\n  \"secrt_key\": \"x\", \"secret\": 1").unwrap();
        assert!(marked(&m).contains("[secret]"), "the best place in the best line: {}", marked(&m));
        let mut f = Fuzzy::new("config").unwrap();
        assert!(f.match_value(b"can only fix it great").is_none());
    }

    #[test]
    fn value_snippets_are_cut_around_the_match_and_binary_is_shown_lossily() {
        let long = format!("{}needle{}", "a".repeat(100), "b".repeat(100));
        let mut f = Fuzzy::new("needle").unwrap();
        let m = f.match_value(long.as_bytes()).unwrap();
        let s = marked(&m);
        assert!(s.starts_with('…') && s.ends_with('…') && s.contains("[needle]"), "{s}");
        assert_eq!(s.chars().count(), 1 + 40 + 8 + 40 + 1, "{s}");
        let m = f.match_value(b"\xff\x00nEEdle\tx").unwrap();
        assert_eq!(marked(&m), "\u{fffd}\0[nEEdle] x");
    }

    #[test]
    fn nothing_typed_is_no_matcher() {
        assert!(Fuzzy::new("   ").is_none());
        assert_eq!(parts_of("", "a", "b"), vec![HitPart { text: "a".into(), hit: true }, HitPart { text: "b".into(), hit: false }]);
    }
}

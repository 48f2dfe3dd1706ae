//! Key windows: etcd (3.4 and later) walks and counts the whole requested
//! range on every request, even one limited to a page, so a request over the
//! rest of a million-key prefix costs as much as reading it. Reads therefore
//! go through windows — the keys sharing the first `depth` bytes of where the
//! read is — which cost what they hold. A window narrows when it holds many
//! pages and widens when it holds less than half of one.
//!
//! The first page of a prefix has no place to start from: where it ended on
//! the last visit ([`FirstScreen`]) is remembered per connection and prefix,
//! so the next visit's first request reads about one screen of keys.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use super::keys::{decode_cursor, encode_cursor, prefix_end};
use crate::error::Result;

/// The end of the window that starts at `start`: the keys sharing its first
/// `depth` bytes, never past `end` (the prefix's end; `[0]`: no end).
pub fn window_end(start: &[u8], depth: usize, end: &[u8]) -> Vec<u8> {
    let w = prefix_end(&start[..depth.min(start.len())]);
    if w == [0] || (end != [0] && w.as_slice() > end) {
        end.to_vec()
    } else {
        w
    }
}

/// The next window's end: `depth` bytes shared with `start`, or the whole rest (`None`).
pub fn next_end(start: &[u8], depth: Option<usize>, end: &[u8]) -> Vec<u8> {
    match depth {
        Some(d) => window_end(start, d, end),
        None => end.to_vec(),
    }
}

/// The depth after a response whose window held `held` keys when `want` were
/// asked: deeper (at least to the bytes `first` and `last` share) when the
/// window holds more than four requests' worth, else unchanged.
pub fn narrowed(depth: Option<usize>, prefix_len: usize, held: i64, want: i64, first: &[u8], last: &[u8]) -> Option<usize> {
    if held <= 4 * want {
        return depth;
    }
    let shared = first.iter().zip(last).take_while(|(a, b)| a == b).count();
    let d = depth.unwrap_or(prefix_len).max(prefix_len);
    Some(shared.max(d + 1))
}

/// The depth after a window that was read to its end holding `held` keys:
/// one byte shallower (wider) when it held less than half of `want`.
pub fn widened(depth: Option<usize>, prefix_len: usize, held: i64, want: i64) -> Option<usize> {
    if held < want / 2 {
        depth.map(|d| d.saturating_sub(1).max(prefix_len))
    } else {
        depth
    }
}

/// A paging cursor that carries the window depth (`KEY.DEPTH`; a cursor
/// without a depth, as earlier versions made, still reads).
pub fn encode_window_cursor(key: &[u8], depth: Option<usize>) -> String {
    match depth {
        Some(d) => format!("{}.{d}", encode_cursor(key)),
        None => encode_cursor(key),
    }
}

pub fn decode_window_cursor(cursor: &str) -> Result<(Vec<u8>, Option<usize>)> {
    match cursor.split_once('.') {
        Some((key, depth)) => {
            // A depth that does not parse is only a lost hint.
            Ok((decode_cursor(key)?, depth.parse().ok().filter(|d| *d <= 4096)))
        }
        None => Ok((decode_cursor(cursor)?, None)),
    }
}

/// Where the first page of a prefix ended: its first request next time reads
/// `[prefix, end)` (a hint only: fewer keys there than a page, and the read
/// goes on from `end`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FirstScreen {
    pub end: Vec<u8>,
    pub depth: Option<usize>,
}

/// Remembered first screens, at most this many (then forgotten all at once).
const REMEMBERED: usize = 4096;

fn screens() -> &'static Mutex<HashMap<(String, String), FirstScreen>> {
    static SCREENS: OnceLock<Mutex<HashMap<(String, String), FirstScreen>>> = OnceLock::new();
    SCREENS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The first screen of `prefix` on connection `scope` from the last visit.
pub fn recall(scope: &str, prefix: &str) -> Option<FirstScreen> {
    screens().lock().ok()?.get(&(scope.to_string(), prefix.to_string())).cloned()
}

pub fn remember(scope: &str, prefix: &str, screen: Option<FirstScreen>) {
    let Ok(mut m) = screens().lock() else { return };
    let k = (scope.to_string(), prefix.to_string());
    match screen {
        Some(s) => {
            if m.len() >= REMEMBERED && !m.contains_key(&k) {
                m.clear();
            }
            m.insert(k, s);
        }
        None => {
            m.remove(&k);
        }
    }
}

/// Forgets every remembered first screen (a benchmark's first visit).
pub fn forget_all() {
    if let Ok(mut m) = screens().lock() {
        m.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_stay_inside_the_prefix() {
        let end = prefix_end(b"/s/");
        assert_eq!(window_end(b"/s/k0001", 7, &end), b"/s/k001".to_vec());
        assert_eq!(window_end(b"/s/k0001", 3, &end), end, "at the prefix's depth: the whole rest");
        assert_eq!(window_end(b"/s/k", 9, &end), b"/s/l".to_vec(), "deeper than the key: the key's own range");
        assert_eq!(window_end(b"/s/\xff\xff", 5, &end), end, "no end of its own: the prefix's");
        assert_eq!(window_end(b"a", 1, &[0]), b"b".to_vec());
        assert_eq!(next_end(b"/s/k", None, &end), end);
    }

    #[test]
    fn depth_narrows_on_big_windows_and_widens_on_small_ones() {
        assert_eq!(narrowed(None, 3, 1_000_000, 501, b"/s/k0000000", b"/s/k0000500"), Some(8));
        assert_eq!(narrowed(None, 3, 1000, 501, b"/s/k0000000", b"/s/k0000500"), None, "a small window stays");
        assert_eq!(narrowed(Some(8), 3, 1_000_000, 501, b"/s/a", b"/s/b"), Some(9), "at least one byte deeper");
        assert_eq!(widened(Some(8), 3, 10, 501), Some(7));
        assert_eq!(widened(Some(3), 3, 10, 501), Some(3), "never above the prefix");
        assert_eq!(widened(Some(8), 3, 400, 501), Some(8));
    }

    #[test]
    fn cursors_carry_the_depth_and_old_ones_still_read() {
        let k = b"/s/\xe4\xb8\xad\xff".to_vec();
        assert_eq!(decode_window_cursor(&encode_window_cursor(&k, Some(7))).unwrap(), (k.clone(), Some(7)));
        assert_eq!(decode_window_cursor(&encode_window_cursor(&k, None)).unwrap(), (k.clone(), None));
        assert_eq!(decode_window_cursor(&encode_cursor(&k)).unwrap(), (k.clone(), None));
        assert_eq!(decode_window_cursor(&format!("{}.x", encode_cursor(&k))).unwrap(), (k, None));
        assert!(decode_window_cursor("not base64!").is_err());
    }

    #[test]
    fn first_screens_are_remembered_per_connection_and_prefix() {
        let s = FirstScreen { end: b"/w/k0500\0".to_vec(), depth: Some(6) };
        remember("conn-a-test", "/w/", Some(s.clone()));
        assert_eq!(recall("conn-a-test", "/w/"), Some(s));
        assert_eq!(recall("conn-b-test", "/w/"), None);
        remember("conn-a-test", "/w/", None);
        assert_eq!(recall("conn-a-test", "/w/"), None);
    }
}

//! Byte-level helpers for etcd key ranges and opaque paging cursors.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::{Error, Result};

/// The smallest key greater than every key starting with `prefix` (etcd's
/// "range end" of a prefix). An empty result means "to the end of the key space"
/// and is returned as `[0]`, etcd's convention for that.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// Encodes a key as an opaque cursor (keys are bytes; cursors travel as text).
pub fn encode_cursor(key: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

pub fn decode_cursor(cursor: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(cursor).map_err(|_| Error::invalid("cursor: not a cursor returned by a previous page"))
}

/// Validates a key or prefix typed by a user.
pub fn check_key(key: &str, what: &str) -> Result<()> {
    if key.is_empty() && what == "key" {
        return Err(Error::invalid("key: required"));
    }
    if key.len() > 4096 {
        return Err(Error::invalid(format!("{what}: at most 4096 bytes")));
    }
    if key.contains('\0') {
        return Err(Error::invalid(format!("{what}: NUL characters are not allowed")));
    }
    Ok(())
}

/// Key text for display (etcd keys are bytes; non-UTF-8 bytes are replaced).
pub fn key_text(key: &[u8]) -> String {
    String::from_utf8_lossy(key).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_increments_the_last_byte() {
        assert_eq!(prefix_end(b"/app/"), b"/app0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff\xff"), vec![0]);
        assert_eq!(prefix_end(b""), vec![0]);
    }

    #[test]
    fn cursors_round_trip_any_bytes() {
        let k = b"/app/\xe4\xb8\xad\xff".to_vec();
        assert_eq!(decode_cursor(&encode_cursor(&k)).unwrap(), k);
        assert!(decode_cursor("not base64!").is_err());
    }
}

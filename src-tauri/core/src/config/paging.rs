//! How many key-values to ask for in one page of a read that carries values
//! (a search, a comparison, an export). The client refuses a response over
//! [`RESPONSE_MAX`] bytes ("decoded message length too large"), and etcd
//! has no byte limit on a Range, only a key limit: a fixed key count that is
//! fast on small values (thousands of keys a request) fails on big ones
//! (a thousand values of 5 KiB). So the key limit follows the values seen:
//! each next page aims at [`PAGE_BYTES`], and a refused response is asked
//! again with half the keys.

use etcd_client::{Client, GetOptions, GetResponse, KeyValue};

use super::keys::key_text;
use crate::connectors::etcd::{response_too_large, RESPONSE_MAX};
use crate::error::{Error, Result};

/// Bytes a page aims at (keys and values): well under [`RESPONSE_MAX`], so a
/// page of values bigger than those seen before still fits.
pub const PAGE_BYTES: usize = 1 << 20;

/// The key limit of the next page of one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize {
    limit: i64,
    max: i64,
}

impl PageSize {
    /// Starts at `max` keys a page (the fastest for small values) and never asks for more.
    pub fn new(max: i64) -> PageSize {
        let max = max.max(1);
        PageSize { limit: max, max }
    }

    /// The key limit of the next request.
    pub fn limit(&self) -> i64 {
        self.limit
    }

    /// After a page: the next aims at [`PAGE_BYTES`] at the bytes per key seen in it.
    pub fn after(&mut self, kvs: &[KeyValue]) {
        let bytes = kvs.iter().map(|kv| kv.key().len() + kv.value().len()).sum();
        self.after_bytes(kvs.len(), bytes);
    }

    /// [`PageSize::after`] from a page's key count and bytes.
    pub fn after_bytes(&mut self, keys: usize, bytes: usize) {
        if keys == 0 {
            return;
        }
        let per_key = (bytes / keys).max(1);
        self.limit = ((PAGE_BYTES / per_key) as i64).clamp(1, self.max);
    }

    /// After a response refused as too large: half as many keys; false when
    /// one key was asked for already (its value alone is over the limit).
    pub fn shrink(&mut self) -> bool {
        if self.limit <= 1 {
            return false;
        }
        self.limit = (self.limit / 2).max(1);
        true
    }
}

/// One page of `[start, end)` at `revision` (0: now): asks for `size`'s
/// limit, asks again with half the keys while the client refuses the
/// response as too large, and names the value that is too large alone.
/// Returns the response and the key limit it was asked with; `size` then
/// follows the bytes per key of that page.
pub async fn get_page(
    client: &mut Client,
    what: &str,
    start: &[u8],
    end: &[u8],
    revision: i64,
    size: &mut PageSize,
) -> Result<(GetResponse, i64)> {
    loop {
        let want = size.limit();
        let mut opts = GetOptions::new().with_range(end.to_vec()).with_limit(want);
        if revision > 0 {
            opts = opts.with_revision(revision);
        }
        match client.get(start.to_vec(), Some(opts)).await {
            Ok(resp) => {
                size.after(resp.kvs());
                return Ok((resp, want));
            }
            Err(e) if response_too_large(&e) => {
                if !size.shrink() {
                    return Err(value_too_large(client, what, start, end).await);
                }
            }
            Err(e) => return Err(super::etcd_err(e)),
        }
    }
}

/// The error for the value at or after `start` (below `end`) that the
/// client cannot receive even alone; a keys-only read names its key.
async fn value_too_large(client: &mut Client, what: &str, start: &[u8], end: &[u8]) -> Error {
    let opts = GetOptions::new().with_range(end.to_vec()).with_keys_only().with_limit(1);
    let named = match client.get(start.to_vec(), Some(opts)).await {
        Ok(resp) => resp.kvs().first().map(|kv| key_text(kv.key())),
        Err(_) => None,
    };
    let key = named.unwrap_or_else(|| format!("a key from {}", key_text(start)));
    Error::invalid(format!(
        "{what}: the value of {key} is bigger than the {} MiB a response may carry; read it with etcdctl",
        RESPONSE_MAX >> 20
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_the_bytes_per_key() {
        let mut p = PageSize::new(2500);
        assert_eq!(p.limit(), 2500);
        // Small values: the most keys a page.
        p.after_bytes(10, 10 * 67);
        assert_eq!(p.limit(), 2500);
        // 48 KiB values: 21 keys make a 1 MiB page.
        p.after_bytes(10, 10 * (48 << 10));
        assert_eq!(p.limit(), 21);
        // An empty page changes nothing; small values again: back to the most.
        p.after(&[]);
        assert_eq!(p.limit(), 21);
        p.after_bytes(10, 670);
        assert_eq!(p.limit(), 2500);
        // Values over 1 MiB: one key at a time.
        p.after_bytes(2, 2 * (3 << 20));
        assert_eq!(p.limit(), 1);
    }

    #[test]
    fn a_refused_page_is_asked_again_with_half_the_keys_down_to_one() {
        let mut p = PageSize::new(1000);
        let mut limits = Vec::new();
        while p.shrink() {
            limits.push(p.limit());
        }
        assert_eq!(limits, [500, 250, 125, 62, 31, 15, 7, 3, 1]);
        assert!(!p.shrink());
        assert_eq!(PageSize::new(0).limit(), 1);
    }
}

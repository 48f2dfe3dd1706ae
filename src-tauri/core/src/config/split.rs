//! Splitting a big key range into windows of at most a given number of keys,
//! in key order, so several scanners can read it at once (a value search over
//! a million keys). etcd has no key-distribution API: the split counts byte
//! buckets (`count_only`, at one revision), descending one byte where a bucket
//! is still too big. A count costs what its range holds and an empty range
//! costs a round trip, so a split costs about one walk of the range per
//! level it descends plus a few dozen small requests; probes are capped.

use std::time::Duration;

use etcd_client::{Client, GetOptions};
use futures::{StreamExt, TryStreamExt};

use super::etcd_err;
use super::keys::prefix_end;
use crate::error::{with_timeout, Result};

/// Count requests in flight while splitting.
const PROBES_IN_FLIGHT: usize = 8;
/// Count requests of one split at most (then the windows stay as they are).
const PROBES_MAX: usize = 1024;
const COUNT_TIMEOUT: Duration = Duration::from_secs(30);

/// `end` of a range: `[0]` means no end.
fn below(key: &[u8], end: &[u8]) -> bool {
    end == [0] || key < end
}

fn min_end(a: Vec<u8>, b: &[u8]) -> Vec<u8> {
    if b == [0] || (a != [0] && a.as_slice() < b) {
        a
    } else {
        b.to_vec()
    }
}

/// One window of the result: `[from, to)` holding about `keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub from: Vec<u8>,
    pub to: Vec<u8>,
    pub keys: i64,
}

enum Item {
    Done(Window),
    /// A window whose keys all share its first `depth` bytes, to split at byte `depth`.
    Split(Window, usize),
}

struct Counter<'a> {
    client: &'a Client,
    revision: i64,
    probes: usize,
}

impl Counter<'_> {
    async fn count(&self, from: Vec<u8>, to: Vec<u8>) -> Result<i64> {
        let mut client = self.client.clone();
        let opts = GetOptions::new().with_range(to).with_count_only().with_revision(self.revision);
        let resp =
            with_timeout("etcd key count (search split)", COUNT_TIMEOUT, async { client.get(from, Some(opts)).await.map_err(etcd_err) })
                .await?;
        Ok(resp.count())
    }

    /// Counts of several ranges, some at once, in their order.
    async fn counts(&mut self, ranges: Vec<(Vec<u8>, Vec<u8>)>) -> Result<Vec<i64>> {
        self.probes += ranges.len();
        let this = &*self;
        futures::stream::iter(ranges.into_iter().map(|(a, b)| this.count(a, b))).buffered(PROBES_IN_FLIGHT).try_collect().await
    }
}

/// The buckets of `w` at byte `depth` (its keys share `w.from[..depth]`):
/// the ranges of keys with each next byte, clipped to `w`, non-empty ones only.
fn buckets(w: &Window, depth: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    let shared = &w.from[..depth.min(w.from.len())];
    let first = w.from.get(depth).copied().unwrap_or(0);
    let mut out = Vec::new();
    for x in first..=0xff {
        let mut lo = shared.to_vec();
        lo.push(x);
        if !below(&lo, &w.to) {
            break;
        }
        let lo = if x == first { w.from.clone() } else { lo };
        let hi = min_end(prefix_end(&[shared, &[x]].concat()), &w.to);
        out.push((lo, hi));
    }
    out
}

/// Splits `[from, to)`, whose keys share their first `depth` bytes and which
/// holds about `keys`, into windows of at most `target` keys where the
/// distribution allows it, in key order (the windows tile the range).
pub async fn split(
    client: &Client,
    from: Vec<u8>,
    to: Vec<u8>,
    keys: i64,
    depth: usize,
    target: i64,
    revision: i64,
) -> Result<Vec<Window>> {
    let whole_to = to.clone();
    let mut counter = Counter { client, revision, probes: 0 };
    let mut out: Vec<Window> = Vec::new();
    let mut stack = vec![Item::Split(Window { from, to, keys }, depth)];
    while let Some(item) = stack.pop() {
        let (w, depth) = match item {
            Item::Split(w, d) if w.keys > target && counter.probes < PROBES_MAX && d < 4096 => (w, d),
            Item::Split(w, _) | Item::Done(w) => {
                // Neighbours that fit together read as one window.
                match out.last_mut() {
                    Some(last) if last.keys + w.keys <= target => {
                        last.to = w.to;
                        last.keys += w.keys;
                    }
                    _ => out.push(w),
                }
                continue;
            }
        };
        if w.from.len() == depth {
            // The key `shared` itself sorts before every bucket.
            let mut after = w.from.clone();
            after.push(0);
            let n = counter.counts(vec![(w.from.clone(), after.clone())]).await?[0];
            stack.push(Item::Split(Window { from: after.clone(), to: w.to, keys: w.keys - n }, depth));
            stack.push(Item::Done(Window { from: w.from, to: after, keys: n }));
            continue;
        }
        let all = buckets(&w, depth);
        let Some((first_lo, first_hi)) = all.first().cloned() else { continue };
        // The other buckets in groups of 16 next bytes (an empty group costs a
        // round trip), then one by one in the groups too big for one window.
        let groups: Vec<&[(Vec<u8>, Vec<u8>)]> = all[1..].chunks(16).collect();
        let ranges = groups.iter().map(|g| (g[0].0.clone(), g[g.len() - 1].1.clone())).collect();
        let counts = counter.counts(ranges).await?;
        let tail: i64 = counts.iter().sum();
        let mut items = vec![Item::Split(Window { from: first_lo, to: first_hi, keys: (w.keys - tail).max(0) }, depth + 1)];
        for (g, n) in groups.into_iter().zip(counts) {
            if n == 0 {
                continue;
            }
            let (from, to) = (g[0].0.clone(), g[g.len() - 1].1.clone());
            if g.len() == 1 {
                items.push(Item::Split(Window { from, to, keys: n }, depth + 1));
            } else if n <= target {
                items.push(Item::Done(Window { from, to, keys: n }));
            } else {
                let each = counter.counts(g.to_vec()).await?;
                for ((from, to), n) in g.iter().cloned().zip(each) {
                    if n > 0 {
                        items.push(Item::Split(Window { from, to, keys: n }, depth + 1));
                    }
                }
            }
        }
        stack.extend(items.into_iter().rev());
    }
    // The windows must tile the range: close the gaps left by empty buckets.
    for i in 1..out.len() {
        let from = out[i].from.clone();
        out[i - 1].to = from;
    }
    if let Some(last) = out.last_mut() {
        last.to = whole_to;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_the_window_by_next_byte() {
        let w = Window { from: b"/s/k5".to_vec(), to: b"/s/l".to_vec(), keys: 0 };
        let b = buckets(&w, 3);
        assert_eq!(b.len(), 1, "only k: {b:?}");
        assert_eq!(b[0], (b"/s/k5".to_vec(), b"/s/l".to_vec()));
        let w = Window { from: b"/s/k05".to_vec(), to: b"/s/k1".to_vec(), keys: 0 };
        let b = buckets(&w, 5);
        assert_eq!(b[0], (b"/s/k05".to_vec(), b"/s/k06".to_vec()));
        assert_eq!(b[1], (b"/s/k06".to_vec(), b"/s/k07".to_vec()));
        assert_eq!(b.last().unwrap().1, b"/s/k1".to_vec());
        let w = Window { from: b"\xff".to_vec(), to: vec![0], keys: 0 };
        assert_eq!(buckets(&w, 0), vec![(b"\xff".to_vec(), vec![0])], "no end: to the end of the key space");
    }
}

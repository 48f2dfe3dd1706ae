//! The hash chain of an audit trail: each entry carries its position, the
//! hash of the entry before it and its own hash, so an entry removed,
//! altered, inserted or moved breaks the chain at that point. Used by the
//! team trail on etcd ([`super::trail`]) and the local SQLite audit log.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry of a chained trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ChainEntry {
    /// Position in the chain, from 1, without gaps.
    pub seq: u64,
    /// `hash` of entry `seq - 1` ([`GENESIS`] for the first).
    pub prev: String,
    pub at: String,
    /// Who acted: the etcd user in the team trail, the OS user locally.
    pub user: String,
    pub platform: String,
    pub target: String,
    pub action: String,
    /// `ok` or `error`.
    pub result: String,
    pub detail: String,
    pub hash: String,
}

impl ChainEntry {
    /// Builds entry `seq` after `prev`, with its hash.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        seq: u64,
        prev: &str,
        at: &str,
        user: &str,
        platform: &str,
        target: &str,
        action: &str,
        result: &str,
        detail: &str,
    ) -> ChainEntry {
        let mut e = ChainEntry {
            seq,
            prev: prev.into(),
            at: at.into(),
            user: user.into(),
            platform: platform.into(),
            target: target.into(),
            action: action.into(),
            result: result.into(),
            detail: detail.into(),
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        e
    }

    /// SHA-256 over every field but `hash`, each length-prefixed so no two
    /// different entries share an encoding.
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.seq.to_be_bytes());
        for field in [&self.prev, &self.at, &self.user, &self.platform, &self.target, &self.action, &self.result, &self.detail] {
            h.update((field.len() as u64).to_be_bytes());
            h.update(field.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// Where and why a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Break {
    /// The position at which the break shows.
    pub seq: u64,
    pub reason: String,
}

/// Checks entries already sorted by `seq`: the positions run 1, 2, 3, …;
/// each hash is the entry's own; each `prev` is the hash before it.
pub fn verify(entries: &[ChainEntry]) -> Vec<Break> {
    let mut breaks = Vec::new();
    let mut expected_seq = 1u64;
    let mut prev_hash = GENESIS.to_string();
    for e in entries {
        if e.seq < expected_seq {
            breaks.push(Break { seq: e.seq, reason: format!("entry {} appears twice or out of order", e.seq) });
            continue;
        }
        if e.seq > expected_seq {
            let missing = if e.seq - expected_seq == 1 {
                format!("entry {expected_seq} is missing")
            } else {
                format!("entries {expected_seq} to {} are missing", e.seq - 1)
            };
            breaks.push(Break { seq: expected_seq, reason: missing });
        } else if e.prev != prev_hash {
            breaks.push(Break {
                seq: e.seq,
                reason: format!("entry {} does not follow entry {}: the entry before it was changed or replaced", e.seq, e.seq - 1),
            });
        }
        if e.compute_hash() != e.hash {
            breaks.push(Break {
                seq: e.seq,
                reason: format!("entry {} was altered after it was written (its hash does not match its content)", e.seq),
            });
        }
        expected_seq = e.seq + 1;
        prev_hash = e.hash.clone();
    }
    breaks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<ChainEntry> {
        let mut out: Vec<ChainEntry> = Vec::new();
        for seq in 1..=n {
            let prev = out.last().map_or(GENESIS.to_string(), |e| e.hash.clone());
            out.push(ChainEntry::new(
                seq,
                &prev,
                "2026-12-04T10:00:00Z",
                "alice",
                "etcd",
                "/app/db",
                "config.put",
                "ok",
                &format!("change {seq}"),
            ));
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert!(verify(&chain(5)).is_empty());
        assert!(verify(&[]).is_empty());
    }

    #[test]
    fn every_kind_of_tampering_breaks_it_where_it_happened() {
        let mut altered = chain(5);
        altered[2].detail = "nothing to see".into();
        assert_eq!(
            verify(&altered),
            vec![Break { seq: 3, reason: "entry 3 was altered after it was written (its hash does not match its content)".into() }]
        );

        // Altered and re-hashed: the next entry no longer follows it.
        let mut rehashed = chain(5);
        rehashed[2].user = "bob".into();
        rehashed[2].hash = rehashed[2].compute_hash();
        assert_eq!(verify(&rehashed).iter().map(|b| b.seq).collect::<Vec<_>>(), [4]);

        let mut removed = chain(5);
        removed.remove(1);
        assert_eq!(verify(&removed)[0], Break { seq: 2, reason: "entry 2 is missing".into() });

        let mut swapped = chain(5);
        swapped.swap(1, 2);
        assert!(!verify(&swapped).is_empty());

        let mut dup = chain(3);
        dup.insert(2, dup[1].clone());
        assert!(verify(&dup).iter().any(|b| b.reason.contains("twice")));
    }

    #[test]
    fn field_boundaries_are_part_of_the_hash() {
        let a = ChainEntry::new(1, GENESIS, "t", "ab", "c", "", "", "ok", "");
        let b = ChainEntry::new(1, GENESIS, "t", "a", "bc", "", "", "ok", "");
        assert_ne!(a.hash, b.hash);
    }
}

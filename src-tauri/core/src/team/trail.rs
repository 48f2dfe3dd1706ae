//! The team's audit trail in its etcd: one hash chain for the whole team,
//! each entry stored under its author's own key path, so it is attributable
//! (etcd lets only `<user>` write `audit/<user>/`) and tamper-evident:
//!
//! - `audit/<user>/<seq>`: entry `seq` (20 digits), written once;
//! - `audit/head`: `{seq, hash}` of the newest entry, moved in the same
//!   transaction as each append (so appends are serialised, and of two
//!   writers at once one retries).
//!
//! Verification ([`read`]) finds: an entry missing, altered, re-hashed or
//! moved (the chain), an entry whose key path is not its user's, an entry
//! key written more than once (etcd's per-key `version`), and a head that
//! was rewritten or recreated (its `version` counts the appends, its
//! `create_revision` must precede the first entry's). What a user can still
//! do with their own keys and what a root user can do is in
//! docs/team-trust.md.

use std::time::Duration;

use etcd_client::{Compare, CompareOp, GetOptions, Txn, TxnOp};
use serde::{Deserialize, Serialize};

use super::chain::{self, Break, ChainEntry, GENESIS};
use super::TeamStore;
use crate::error::{with_timeout, Error, Result};

const TIMEOUT: Duration = Duration::from_secs(10);
/// Appends racing for the head retry this often before giving up.
const APPEND_TRIES: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
struct Head {
    seq: u64,
    hash: String,
}

/// What to append (the trail adds position, time, user and hashes).
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub platform: &'a str,
    pub target: &'a str,
    pub action: &'a str,
    pub ok: bool,
    pub detail: &'a str,
}

/// An entry as read, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct TrailEntry {
    #[serde(flatten)]
    pub entry: ChainEntry,
    pub key: String,
}

/// The whole trail, verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct TrailReport {
    /// Oldest first.
    pub entries: Vec<TrailEntry>,
    /// Empty when the chain is intact.
    pub breaks: Vec<Break>,
}

impl TrailReport {
    pub fn intact(&self) -> bool {
        self.breaks.is_empty()
    }
}

fn prefix(team: &TeamStore) -> String {
    format!("{}audit/", team.root())
}

fn head_key(team: &TeamStore) -> String {
    format!("{}audit/head", team.root())
}

fn err(team: &TeamStore, what: &str, e: etcd_client::Error) -> Error {
    team.etcd_error(what, e, "every team member needs the role opsdeck-audit and their own opsdeck-user role (opsdeck vm roles --member …)")
}

/// Appends one entry as the store's user; returns its position.
pub async fn append(team: &TeamStore, e: NewEntry<'_>, at: &str) -> Result<u64> {
    let Some(user) = team.user() else {
        return Err(Error::invalid("the team trail needs an authenticated etcd user: without one, entries could not be attributed"));
    };
    let head_key = head_key(team);
    let mut c = team.client();
    for _ in 0..APPEND_TRIES {
        let r = with_timeout("etcd (read the audit trail head)", TIMEOUT, async {
            c.get(head_key.as_str(), None).await.map_err(|x| err(team, "reading the audit trail head", x))
        })
        .await?;
        let (head, guard) = match r.kvs().first() {
            None => (Head { seq: 0, hash: GENESIS.into() }, Compare::create_revision(head_key.as_str(), CompareOp::Equal, 0)),
            Some(kv) => {
                let head: Head = serde_json::from_slice(kv.value()).map_err(|x| {
                    Error::Storage(format!("the team audit trail's head ({head_key}) is not valid ({x}): run opsdeck audit verify"))
                })?;
                (head, Compare::mod_revision(head_key.as_str(), CompareOp::Equal, kv.mod_revision()))
            }
        };
        let entry = ChainEntry::new(
            head.seq + 1,
            &head.hash,
            at,
            user,
            e.platform,
            e.target,
            e.action,
            if e.ok { "ok" } else { "error" },
            e.detail,
        );
        let key = format!("{}{user}/{:020}", prefix(team), entry.seq);
        let next = Head { seq: entry.seq, hash: entry.hash.clone() };
        let txn = Txn::new()
            .when([guard, Compare::create_revision(key.as_str(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key.as_str(), json(&entry)?, None), TxnOp::put(head_key.as_str(), json(&next)?, None)]);
        let ok = with_timeout("etcd (append to the audit trail)", TIMEOUT, async {
            c.txn(txn).await.map_err(|x| err(team, "appending to the team audit trail", x))
        })
        .await?
        .succeeded();
        if ok {
            return Ok(entry.seq);
        }
    }
    Err(Error::Conflict(format!("the team audit trail is busy: {APPEND_TRIES} appends in a row lost the race for its head")))
}

fn json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    super::to_json(v, "an audit entry")
}

/// Reads the whole trail and verifies it.
pub async fn read(team: &TeamStore) -> Result<TrailReport> {
    let p = prefix(team);
    let head_key = head_key(team);
    let mut c = team.client();
    let r = with_timeout("etcd (read the audit trail)", TIMEOUT, async {
        c.get(p.as_str(), Some(GetOptions::new().with_prefix())).await.map_err(|x| err(team, "reading the team audit trail", x))
    })
    .await?;
    let mut breaks = Vec::new();
    let mut entries: Vec<(TrailEntry, i64)> = Vec::new();
    let mut head: Option<(Head, i64, i64)> = None;
    for kv in r.kvs() {
        let key = String::from_utf8_lossy(kv.key()).into_owned();
        if key == head_key {
            match serde_json::from_slice::<Head>(kv.value()) {
                Ok(h) => head = Some((h, kv.version(), kv.create_revision())),
                Err(_) => breaks.push(Break { seq: 0, reason: format!("{key} is not a valid head: it was overwritten around Opsdeck") }),
            }
            continue;
        }
        let rest = &key[p.len()..];
        let parsed = serde_json::from_slice::<ChainEntry>(kv.value());
        let Some((user, seq)) = rest.split_once('/') else {
            breaks.push(Break { seq: 0, reason: format!("{key}: not an audit entry key") });
            continue;
        };
        let Ok(entry) = parsed else {
            breaks.push(Break {
                seq: seq.parse().unwrap_or(0),
                reason: format!("{key} does not hold an audit entry: it was overwritten around Opsdeck"),
            });
            continue;
        };
        if entry.user != user {
            breaks.push(Break {
                seq: entry.seq,
                reason: format!("entry {} claims user \"{}\" but was written under \"{user}\"", entry.seq, entry.user),
            });
        }
        if seq.parse::<u64>().ok() != Some(entry.seq) {
            breaks.push(Break { seq: entry.seq, reason: format!("{key} holds entry {}: moved", entry.seq) });
        }
        if kv.version() != 1 {
            breaks.push(Break {
                seq: entry.seq,
                reason: format!("entry {} was rewritten after it was appended ({} writes to {key})", entry.seq, kv.version()),
            });
        }
        entries.push((TrailEntry { entry, key }, kv.create_revision()));
    }
    entries.sort_by_key(|(e, _)| e.entry.seq);
    let chained: Vec<ChainEntry> = entries.iter().map(|(e, _)| e.entry.clone()).collect();
    breaks.extend(chain::verify(&chained));
    let last = chained.last();
    match (&head, last) {
        (None, None) => {}
        (None, Some(l)) => breaks.push(Break { seq: l.seq, reason: "the trail's head is missing: it was deleted around Opsdeck".into() }),
        (Some((h, version, created)), last) => {
            let (last_seq, last_hash) = last.map_or((0, GENESIS.to_string()), |l| (l.seq, l.hash.clone()));
            if h.seq != last_seq || h.hash != last_hash {
                breaks.push(Break {
                    seq: h.seq.max(last_seq),
                    reason: format!(
                        "the head names entry {} but the newest entry is {last_seq}: entries at the end were removed or replaced",
                        h.seq
                    ),
                });
            }
            if *version as u64 != h.seq {
                breaks.push(Break {
                    seq: h.seq,
                    reason: format!(
                        "the head was written {version} times for {} entries: it was rewritten or recreated around Opsdeck",
                        h.seq
                    ),
                });
            }
            if let Some((_, first_created)) = entries.first() {
                if created > first_created {
                    breaks.push(Break {
                        seq: h.seq,
                        reason: "the head was deleted and recreated after the first entry: the trail was reset around Opsdeck".into(),
                    });
                }
            }
        }
    }
    breaks.sort_by_key(|b| b.seq);
    Ok(TrailReport { entries: entries.into_iter().map(|(e, _)| e).collect(), breaks })
}

/// Which entries to show (the chain is always verified whole).
#[derive(Debug, Clone, Default, Serialize, Deserialize, specta::Type)]
pub struct TrailFilter {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub platform: Option<String>,
    /// Substring of the target.
    #[serde(default)]
    pub target: Option<String>,
    /// RFC 3339 bounds (inclusive), compared as UTC timestamps.
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
}

impl TrailFilter {
    pub fn matches(&self, e: &ChainEntry) -> bool {
        let at = |s: &str| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok();
        let when = at(&e.at);
        self.user.as_deref().is_none_or(|u| u == e.user)
            && self.platform.as_deref().is_none_or(|p| p == e.platform)
            && self.target.as_deref().is_none_or(|t| e.target.contains(t))
            && self.since.as_deref().and_then(at).is_none_or(|s| when.is_some_and(|w| w >= s))
            && self.until.as_deref().and_then(at).is_none_or(|u| when.is_some_and(|w| w <= u))
    }
}

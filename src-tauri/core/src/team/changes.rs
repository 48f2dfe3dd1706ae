//! Config change requests on protected prefixes (Apollo's edit → review →
//! publish), in the team store. A protected prefix is writable only by the
//! publisher role (etcd RBAC); anyone proposes a change, another person
//! approves it, and a publisher publishes it as one guarded transaction
//! against the revisions the change was made on.
//!
//! | key under the root             | what                               | written by               |
//! |--------------------------------|------------------------------------|--------------------------|
//! | `config/protected/<hex>`       | a protected prefix                 | an etcd root user        |
//! | `config/changes/<user>/<id>`   | a change request                   | its author only          |
//! | `config/reviews/<user>/<id>`   | an approval or a rejection         | that reviewer only       |
//! | `config/published/<id>`        | the publication                    | the publisher role       |
//!
//! The view is composed by every reader the same way as VM requests: a
//! review counts only from its key's user, on the current revision of the
//! change, and never by the change's author; a change whose keys moved since
//! it was made is stale and cannot be published.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use etcd_client::{Compare, CompareOp, GetOptions, Permission, Txn, TxnOp};
use serde::{Deserialize, Serialize};

use super::TeamStore;
use crate::error::{with_timeout, Error, Result};
use crate::vms::store::StoreProblem;

const TIMEOUT: Duration = Duration::from_secs(10);
pub const ROLE_PUBLISHER: &str = "opsdeck-publisher";

/// One key the change writes (`value`) or deletes (`None`), and the
/// mod_revision it had when the change was made (0 = absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ChangeOp {
    pub key: String,
    pub value: Option<String>,
    pub base_revision: i64,
    /// The value at `base_revision` (what the reviewer compares against).
    #[serde(default)]
    pub base_value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ChangeRecord {
    pub id: String,
    pub author: String,
    pub created_at: String,
    pub comment: String,
    pub ops: Vec<ChangeOp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ReviewRecord {
    pub reviewer: String,
    pub approved: bool,
    pub at: String,
    #[serde(default)]
    pub comment: String,
    /// The change revision reviewed: a change edited since needs a new review.
    pub change_revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct PublishRecord {
    pub publisher: String,
    pub at: String,
    pub change_revision: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ChangeState {
    Pending,
    Approved,
    Rejected,
    /// A key moved since the change was made: it cannot be published.
    Stale,
    Published,
}

/// A change request as everyone sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ChangeView {
    pub id: String,
    pub author: String,
    pub created_at: String,
    pub comment: String,
    pub ops: Vec<ChangeOp>,
    pub state: ChangeState,
    pub review: Option<ReviewRecord>,
    pub published: Option<PublishRecord>,
    /// Keys that moved since the change was made (why it is stale).
    pub moved: Vec<String>,
    /// Records ignored while composing (a self-approval, a forged reviewer).
    pub notes: Vec<String>,
    pub revision: i64,
}

fn err(team: &TeamStore, what: &str, e: etcd_client::Error) -> Error {
    team.etcd_error(what, e, "change requests need the reviewer or publisher duty (opsdeck vm roles --member USER=reviewer|publisher)")
}

fn json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    super::to_json(v, "a change record")
}

fn me(team: &TeamStore) -> Result<String> {
    team.user()
        .map(String::from)
        .ok_or_else(|| Error::invalid("change requests need an authenticated etcd user: the author and the reviewer must be provable"))
}

fn key(team: &TeamStore, rest: &str) -> String {
    format!("{}config/{rest}", team.root())
}

/// The protected prefixes of the team store.
pub async fn protected(team: &TeamStore) -> Result<Vec<String>> {
    let p = key(team, "protected/");
    let mut c = team.client();
    let r = with_timeout("etcd (protected prefixes)", TIMEOUT, async {
        c.get(p.as_str(), Some(GetOptions::new().with_prefix())).await.map_err(|e| err(team, "reading protected prefixes", e))
    })
    .await?;
    Ok(r.kvs()
        .iter()
        .filter_map(|kv| serde_json::from_slice::<serde_json::Value>(kv.value()).ok()?.get("prefix")?.as_str().map(String::from))
        .collect())
}

/// The protected prefix `k` falls under, if any.
pub async fn protection_of(team: &TeamStore, k: &str) -> Result<Option<String>> {
    Ok(protected(team).await?.into_iter().find(|p| k.starts_with(p.as_str())))
}

/// Protects `prefix` (as an etcd root user): records it, gives the
/// publisher role write on it and every member (`opsdeck-reader`) read. Roles that could write there before keep
/// their grants: `opsdeck vm roles` never grants a config prefix, others
/// are the administrator's to revoke.
pub async fn protect(team: &TeamStore, prefix: &str, at: &str) -> Result<()> {
    crate::config::keys::check_key(prefix, "prefix")?;
    let mut c = team.client();
    let id = hex::encode(prefix.as_bytes());
    if let Err(e) = c.role_add(ROLE_PUBLISHER).await {
        if !e.to_string().contains("already exists") {
            return Err(err(team, "creating the publisher role", e));
        }
    }
    for perm in [Permission::read_write(prefix).with_prefix(), Permission::read_write(key(team, "published/")).with_prefix()] {
        c.role_grant_permission(ROLE_PUBLISHER, perm).await.map_err(|e| err(team, "granting the publisher role", e))?;
    }
    // Every member reads it: a change is proposed and reviewed against what is there.
    c.role_grant_permission(super::roles::ROLE_READER, Permission::read(prefix).with_prefix())
        .await
        .map_err(|e| err(team, "letting the team read the prefix", e))?;
    let rec = serde_json::json!({ "prefix": prefix, "by": team.user().unwrap_or("root"), "at": at });
    c.put(key(team, &format!("protected/{id}")), json(&rec)?, None).await.map_err(|e| err(team, "protecting the prefix", e))?;
    Ok(())
}

/// Files a change of `ops` (each `(key, new value or None to delete)`)
/// against the keys' current revisions. Every key must be protected.
pub async fn propose(team: &TeamStore, id: &str, ops: &[(String, Option<String>)], comment: &str, at: &str) -> Result<ChangeView> {
    me(team)?;
    check_ops(team, ops.iter().map(|(k, _)| k.as_str())).await?;
    let mut c = team.client();
    let mut out = Vec::new();
    for (k, value) in ops {
        let r = c.get(k.as_str(), None).await.map_err(|e| err(team, "reading the key to change", e))?;
        let kv = r.kvs().first();
        out.push(ChangeOp {
            key: k.clone(),
            value: value.clone(),
            base_revision: kv.map_or(0, |kv| kv.mod_revision()),
            base_value: kv.map(|kv| String::from_utf8_lossy(kv.value()).into_owned()),
        });
    }
    Box::pin(file(team, id, out, comment, at)).await
}

/// Refuses a change of no key, of more than 100, or of a key not protected.
async fn check_ops(team: &TeamStore, keys: impl ExactSizeIterator<Item = &str>) -> Result<()> {
    if keys.len() == 0 || keys.len() > 100 {
        return Err(Error::invalid("a change holds 1 to 100 keys"));
    }
    let prefixes = protected(team).await?;
    for k in keys {
        crate::config::keys::check_key(k, "key")?;
        if !prefixes.iter().any(|p| k.starts_with(p.as_str())) {
            return Err(Error::invalid(format!(
                "{k} is not under a protected prefix: write it directly (protected: {})",
                prefixes.join(", ")
            )));
        }
    }
    Ok(())
}

/// Files a change of `ops` exactly as given, base revisions included (a
/// reviewed promotion plan: publishing it is guarded by the revisions its
/// reviewer saw, not by those at filing time).
pub async fn propose_reviewed(team: &TeamStore, id: &str, ops: Vec<ChangeOp>, comment: &str, at: &str) -> Result<ChangeView> {
    me(team)?;
    check_ops(team, ops.iter().map(|o| o.key.as_str())).await?;
    Box::pin(file(team, id, ops, comment, at)).await
}

async fn file(team: &TeamStore, id: &str, out: Vec<ChangeOp>, comment: &str, at: &str) -> Result<ChangeView> {
    let author = me(team)?;
    let mut c = team.client();
    let rec = ChangeRecord { id: id.into(), author: author.clone(), created_at: at.into(), comment: comment.into(), ops: out };
    let k = key(team, &format!("changes/{author}/{id}"));
    let txn =
        Txn::new().when([Compare::create_revision(k.as_str(), CompareOp::Equal, 0)]).and_then([TxnOp::put(k.as_str(), json(&rec)?, None)]);
    let ok = with_timeout("etcd (propose a change)", TIMEOUT, async { c.txn(txn).await.map_err(|e| err(team, "proposing a change", e)) })
        .await?
        .succeeded();
    if !ok {
        return Err(Error::Conflict(format!("change {id} already exists")));
    }
    get(team, id).await
}

/// Every change request, and what was skipped as malformed or misplaced.
pub async fn list(team: &TeamStore) -> Result<(Vec<ChangeView>, Vec<StoreProblem>)> {
    let p = key(team, "");
    let mut c = team.client();
    let r = with_timeout("etcd (read change requests)", TIMEOUT, async {
        c.get(p.as_str(), Some(GetOptions::new().with_prefix())).await.map_err(|e| err(team, "reading change requests", e))
    })
    .await?;
    #[derive(Default)]
    struct Parts {
        change: Option<(ChangeRecord, i64)>,
        reviews: Vec<(ReviewRecord, String, i64)>,
        published: Option<PublishRecord>,
    }
    let mut by_id: BTreeMap<String, Parts> = BTreeMap::new();
    let mut problems = Vec::new();
    for kv in r.kvs() {
        let k = String::from_utf8_lossy(kv.key()).into_owned();
        let segs: Vec<&str> = k[p.len()..].split('/').collect();
        let bad = |why: String| StoreProblem { key: k.clone(), reason: why };
        match segs.as_slice() {
            ["changes", user, id] => match serde_json::from_slice::<ChangeRecord>(kv.value()) {
                Ok(rec) if rec.author != *user || rec.id != *id => {
                    problems.push(bad(format!("names author {} / id {} but sits under {user}/{id}: skipped", rec.author, rec.id)))
                }
                Ok(rec) => by_id.entry(id.to_string()).or_default().change = Some((rec, kv.mod_revision())),
                Err(e) => problems.push(bad(format!("not a change record ({e}): skipped"))),
            },
            ["reviews", user, id] => match serde_json::from_slice::<ReviewRecord>(kv.value()) {
                Ok(rec) => by_id.entry(id.to_string()).or_default().reviews.push((rec, user.to_string(), kv.mod_revision())),
                Err(e) => problems.push(bad(format!("not a review ({e}): skipped"))),
            },
            ["published", id] => match serde_json::from_slice::<PublishRecord>(kv.value()) {
                Ok(rec) => by_id.entry(id.to_string()).or_default().published = Some(rec),
                Err(e) => problems.push(bad(format!("not a publication ({e}): skipped"))),
            },
            ["protected", _] => {}
            _ => problems.push(bad("not a key of the change-request store: skipped".into())),
        }
    }
    // The keys' current revisions tell a stale change: read once for every
    // unpublished change (a published one is published whatever moved since).
    let keys: BTreeSet<&str> = by_id
        .values()
        .filter(|p| p.published.is_none())
        .filter_map(|p| p.change.as_ref())
        .flat_map(|(rec, _)| rec.ops.iter().map(|o| o.key.as_str()))
        .collect();
    let current = current_revisions(team, keys).await?;
    let mut out = Vec::new();
    for (_, parts) in by_id {
        let Some((rec, rev)) = parts.change else { continue };
        let moved = if parts.published.is_some() {
            Vec::new()
        } else {
            rec.ops
                .iter()
                .filter(|op| current.get(op.key.as_str()).copied().unwrap_or(0) != op.base_revision)
                .map(|op| op.key.clone())
                .collect()
        };
        out.push(compose(rec, rev, parts.reviews, parts.published, moved));
    }
    out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
    Ok((out, problems))
}

/// The mod_revision of each key (absent keys are left out), in transactions
/// of keys-only reads well under etcd's default limit of 128 operations.
async fn current_revisions(team: &TeamStore, keys: BTreeSet<&str>) -> Result<BTreeMap<String, i64>> {
    let keys: Vec<&str> = keys.into_iter().collect();
    let mut out = BTreeMap::new();
    let mut c = team.client();
    for chunk in keys.chunks(64) {
        let txn = Txn::new().and_then(chunk.iter().map(|k| TxnOp::get(*k, Some(GetOptions::new().with_keys_only()))).collect::<Vec<_>>());
        let r = with_timeout("etcd (read changed keys)", TIMEOUT, async {
            c.txn(txn).await.map_err(|e| err(team, "reading the changed keys", e))
        })
        .await?;
        for op in r.op_responses() {
            if let etcd_client::TxnOpResponse::Get(g) = op {
                out.extend(g.kvs().iter().map(|kv| (String::from_utf8_lossy(kv.key()).into_owned(), kv.mod_revision())));
            }
        }
    }
    Ok(out)
}

fn compose(
    rec: ChangeRecord,
    revision: i64,
    mut reviews: Vec<(ReviewRecord, String, i64)>,
    published: Option<PublishRecord>,
    moved: Vec<String>,
) -> ChangeView {
    let mut notes = Vec::new();
    reviews.sort_by_key(|(_, _, r)| *r);
    let mut review = None;
    for (r, writer, _) in reviews {
        if r.reviewer != writer {
            notes.push(format!("a review written by \"{writer}\" claims to be by \"{}\": ignored", r.reviewer));
        } else if writer == rec.author {
            notes.push(format!("{writer} cannot review their own change: their review is ignored"));
        } else if r.change_revision != revision {
            notes.push(format!("the review by {writer} was of an earlier version of the change: it no longer applies"));
        } else if review.is_none() {
            review = Some(r);
        }
    }
    let published = published.filter(|p| p.change_revision == revision);
    let state = match (&published, &review) {
        (Some(_), _) => ChangeState::Published,
        (None, Some(r)) if !r.approved => ChangeState::Rejected,
        _ if !moved.is_empty() => ChangeState::Stale,
        (None, Some(_)) => ChangeState::Approved,
        (None, None) => ChangeState::Pending,
    };
    ChangeView {
        id: rec.id,
        author: rec.author,
        created_at: rec.created_at,
        comment: rec.comment,
        ops: rec.ops,
        state,
        review,
        published,
        moved,
        notes,
        revision,
    }
}

pub async fn get(team: &TeamStore, id: &str) -> Result<ChangeView> {
    list(team).await?.0.into_iter().find(|c| c.id == id).ok_or_else(|| Error::NotFound(format!("change {id} does not exist")))
}

/// Approves or rejects change `id` (as someone other than its author).
pub async fn review(team: &TeamStore, id: &str, approved: bool, comment: &str, at: &str) -> Result<ChangeView> {
    let who = me(team)?;
    let change = get(team, id).await?;
    if change.author == who {
        return Err(Error::Forbidden(format!("{who} wrote change {id} and cannot review it: another person must")));
    }
    if !approved && comment.trim().is_empty() {
        return Err(Error::invalid("a rejection needs a reason in the comment"));
    }
    if change.state != ChangeState::Pending {
        return Err(Error::Conflict(format!("change {id} is {:?}: it is not waiting for a review", change.state).to_lowercase()));
    }
    let rec =
        ReviewRecord { reviewer: who.clone(), approved, at: at.into(), comment: comment.trim().into(), change_revision: change.revision };
    let change_key = key(team, &format!("changes/{}/{id}", change.author));
    let txn = Txn::new().when([Compare::mod_revision(change_key.as_str(), CompareOp::Equal, change.revision)]).and_then([TxnOp::put(
        key(team, &format!("reviews/{who}/{id}")),
        json(&rec)?,
        None,
    )]);
    let mut c = team.client();
    if !with_timeout("etcd (review a change)", TIMEOUT, async { c.txn(txn).await.map_err(|e| err(team, "reviewing a change", e)) })
        .await?
        .succeeded()
    {
        return Err(Error::Conflict(format!("change {id} was edited meanwhile: review it again")));
    }
    get(team, id).await
}

/// Publishes approved change `id`: one transaction writing every key only
/// if none moved since the change was made (else nothing is written and the
/// change is stale).
pub async fn publish(team: &TeamStore, id: &str, at: &str) -> Result<ChangeView> {
    let who = me(team)?;
    let change = get(team, id).await?;
    match change.state {
        ChangeState::Approved => {}
        ChangeState::Stale => {
            return Err(Error::Conflict(format!(
                "change {id} is stale: {} changed since it was made; nothing written — propose it again",
                change.moved.join(", ")
            )))
        }
        s => return Err(Error::Conflict(format!("change {id} is {s:?}: only an approved change is published").to_lowercase())),
    }
    let change_key = key(team, &format!("changes/{}/{id}", change.author));
    let published_key = key(team, &format!("published/{id}"));
    let mut guards = vec![
        Compare::mod_revision(change_key.as_str(), CompareOp::Equal, change.revision),
        Compare::create_revision(published_key.as_str(), CompareOp::Equal, 0),
    ];
    let mut ops = Vec::new();
    for op in &change.ops {
        guards.push(Compare::mod_revision(op.key.as_str(), CompareOp::Equal, op.base_revision));
        ops.push(match &op.value {
            Some(v) => TxnOp::put(op.key.as_str(), v.as_str(), None),
            None => TxnOp::delete(op.key.as_str(), None),
        });
    }
    ops.push(TxnOp::put(
        published_key.as_str(),
        json(&PublishRecord { publisher: who, at: at.into(), change_revision: change.revision })?,
        None,
    ));
    let mut c = team.client();
    let ok = with_timeout("etcd (publish a change)", TIMEOUT, async {
        c.txn(Txn::new().when(guards).and_then(ops)).await.map_err(|e| err(team, "publishing a change", e))
    })
    .await?
    .succeeded();
    if !ok {
        let now = get(team, id).await?;
        return Err(Error::Conflict(format!(
            "change {id} went stale before it was published ({}); nothing written — propose it again",
            if now.moved.is_empty() {
                "it was changed or published meanwhile".to_string()
            } else {
                format!("{} changed", now.moved.join(", "))
            }
        )));
    }
    get(team, id).await
}

//! Promotion between two etcd connections (dev → staging → prod, usually
//! separate clusters): a reviewable plan of what differs under a prefix of
//! each, then the exact application of that plan.
//!
//! The plan records, per key, the value to write (bytes, with the export
//! marker for binary values) and the `mod_revision` seen on BOTH sides. Apply
//! writes only what the plan says: before each batch the source keys are read
//! again (a key that moved since the review stops the promotion), and the
//! batch is one etcd transaction on the target guarded by every target
//! key's reviewed `mod_revision` (0 = must not exist). Deletes happen only when
//! chosen. Batches stay within etcd's operation limit per transaction, each
//! committed batch is recorded in the report, and a later run given that
//! report skips what already landed.

use std::collections::{BTreeMap, BTreeSet};

use etcd_client::{Client, Compare, CompareOp, GetOptions, PutOptions, Txn, TxnOp, TxnOpResponse};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::compare::scan_each;
use super::etcd_err;
use super::keys::check_key;
use super::outcome::{answer_lost, read_back, Found, Intent};
use super::transfer::DocValue;
use crate::error::{Error, ErrorCode, Result};

/// What a plan file says it is.
pub const PLAN_KIND: &str = "opsdeck.config.promote.plan";
pub const PLAN_VERSION: u32 = 1;
/// What a report file says it is.
pub const REPORT_KIND: &str = "opsdeck.config.promote.report";
/// Upper bound of keys and value bytes under one prefix for a plan.
pub const PLAN_MAX_KEYS: usize = 200_000;
/// Bytes of keys and values per transaction (etcd's default request limit
/// is 1.5 MiB; the rest is headroom for the guards).
pub const MAX_TXN_BYTES: usize = 1024 * 1024;

/// One side of a promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct PromoteSide {
    /// The connection's name (as the CLI and the app list it).
    pub connection: String,
    pub prefix: String,
    /// etcd's cluster id (hex), checked at apply: a plan made on another
    /// cluster is refused even when a connection of that name exists.
    pub cluster_id: String,
    /// The revision the prefix was read at.
    pub revision: i64,
}

impl PromoteSide {
    pub fn label(&self) -> String {
        format!("{}:{}", self.connection, self.prefix)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum PromoteAction {
    /// Only in the source: created in the target (which must not have it).
    Add,
    /// In both, with different bytes: the target gets the source's value.
    Change,
    /// Only in the target: deleted there, only when chosen.
    Remove,
}

/// One reviewed difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct PromoteItem {
    /// Key relative to both prefixes.
    pub rel: String,
    pub action: PromoteAction,
    /// mod_revision of the source key at review (0: absent, for a remove).
    pub source_mod_revision: i64,
    /// mod_revision of the target key at review (0: absent, for an add).
    pub target_mod_revision: i64,
    /// The value to write (the source's bytes); absent for a remove.
    #[specta(type = Option<PlanValue>)]
    pub value: Option<DocValue>,
    /// The target's value at review (what is replaced or deleted).
    #[specta(type = Option<PlanValue>)]
    pub current: Option<DocValue>,
}

/// A value as plans and exports carry it: text, or `{base64: "…"}` for bytes
/// that are not plain text (for the TypeScript side; Rust uses [`DocValue`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(untagged)]
pub enum PlanValue {
    Text(String),
    Binary { base64: String },
}

/// A reviewable promotion plan (the `--plan` file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct PromotePlan {
    pub kind: String,
    pub version: u32,
    pub created_at: String,
    pub from: PromoteSide,
    pub to: PromoteSide,
    /// Keys equal on both sides (not in `items`).
    pub unchanged: usize,
    pub items: Vec<PromoteItem>,
    /// sha256 of the plan without this field: an edited plan is refused.
    pub checksum: String,
}

impl PromotePlan {
    pub(crate) fn digest(&self) -> String {
        let mut copy = self.clone();
        copy.checksum = String::new();
        let bytes = serde_json::to_vec(&copy).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }

    /// Parses a plan file and checks that it is one, unedited.
    pub fn parse(text: &str) -> Result<PromotePlan> {
        if text.len() > 512 * 1024 * 1024 {
            return Err(Error::invalid("plan: larger than 512 MiB"));
        }
        let plan: PromotePlan = serde_json::from_str(text).map_err(|e| {
            Error::invalid(format!(
                "not an Opsdeck promotion plan ({e}); make one with `opsdeck config promote --from … --to … --plan FILE`"
            ))
        })?;
        plan.check()?;
        Ok(plan)
    }

    /// Refuses a plan of another kind or version, or one edited since it was made.
    pub fn check(&self) -> Result<()> {
        if self.kind != PLAN_KIND || self.version != PLAN_VERSION {
            return Err(Error::invalid(format!(
                "plan: kind \"{}\" version {} is not a promotion plan this version reads ({PLAN_KIND} version {PLAN_VERSION}); plan again",
                self.kind, self.version
            )));
        }
        if self.digest() != self.checksum {
            return Err(Error::invalid(
                "plan: its checksum does not match its content (edited by hand or truncated); plan again, and choose keys with --select instead of editing the file",
            ));
        }
        Ok(())
    }

    fn item(&self, key: &str) -> Option<&PromoteItem> {
        let rel = key.strip_prefix(&self.to.prefix).or_else(|| key.strip_prefix(&self.from.prefix)).unwrap_or(key);
        self.items.iter().find(|i| i.rel == rel).or_else(|| self.items.iter().find(|i| i.rel == key))
    }
}

/// Which items of a plan to apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct PromoteSelection {
    /// Exactly these keys (relative, or full source or target keys); none:
    /// every add and change (and every remove with `with_removes`).
    #[serde(default)]
    pub keys: Vec<String>,
    /// Without `keys`: also delete the target keys the source does not have.
    #[serde(default)]
    pub with_removes: bool,
}

/// A committed transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct PromoteBatch {
    /// 1-based, in the order batches were committed (across resumed runs).
    pub index: usize,
    /// The target's revision of the commit.
    pub revision: i64,
    pub committed_at: String,
    pub adds: usize,
    pub changes: usize,
    pub removes: usize,
    /// Relative keys written or deleted.
    pub keys: Vec<String>,
    /// Set when the commit's answer was lost and reading back found it applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum PromoteSideName {
    Source,
    Target,
}

/// A key that changed since the review (so its batch was not written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct MovedKey {
    pub rel: String,
    pub side: PromoteSideName,
    /// The full key on that side.
    pub key: String,
    pub reviewed_mod_revision: i64,
    /// 0: the key does not exist now.
    pub mod_revision_now: i64,
}

/// What an apply did (the report file; give it back to resume).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct PromoteReport {
    pub kind: String,
    pub plan_checksum: String,
    pub from: String,
    pub to: String,
    /// Selected items (including those an earlier run applied).
    pub selected: usize,
    /// Every committed transaction, earlier runs first.
    pub batches: Vec<PromoteBatch>,
    /// Items skipped in this run because an earlier run committed them.
    pub already_applied: usize,
    /// Selected keys (relative) not written.
    pub not_applied: Vec<String>,
    /// Keys that changed since the review: the promotion stopped before their batch.
    pub changed_since_review: Vec<MovedKey>,
    /// Plan items left out by the selection (removes unless chosen).
    pub not_selected: Vec<String>,
    /// Every selected item is applied.
    pub complete: bool,
    /// Why the run stopped early, when not because of `changed_since_review`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl PromoteReport {
    /// Parses a report file (of the plan with `checksum`).
    pub fn parse(text: &str, plan: &PromotePlan) -> Result<PromoteReport> {
        let r: PromoteReport = serde_json::from_str(text)
            .map_err(|e| Error::invalid(format!("not an Opsdeck promotion report ({e}); remove it to start over")))?;
        if r.kind != REPORT_KIND {
            return Err(Error::invalid(format!("report: kind \"{}\" is not {REPORT_KIND}", r.kind)));
        }
        if r.plan_checksum != plan.checksum {
            return Err(Error::invalid(
                "report: it belongs to another plan (its plan checksum differs); give the report of this plan, or none",
            ));
        }
        Ok(r)
    }

    /// Relative keys committed by the batches of this report.
    pub fn landed(&self) -> BTreeSet<String> {
        self.batches.iter().flat_map(|b| b.keys.iter().cloned()).collect()
    }
}

/// Every key under `prefix` → (bytes, mod_revision), relative to the prefix,
/// with the read revision and the cluster id.
pub(crate) async fn scan(client: &mut Client, prefix: &str) -> Result<(BTreeMap<String, (Vec<u8>, i64)>, i64, u64)> {
    if prefix.is_empty() {
        return Err(Error::invalid("prefix: required (e.g. /app/); promoting the whole key space is refused"));
    }
    let mut out = BTreeMap::new();
    let (revision, cluster) = scan_each(client, prefix, |kv| {
        let rel = std::str::from_utf8(&kv.key()[prefix.len()..]).map_err(|_| {
            Error::invalid(format!(
                "{prefix}: the key {} is not UTF-8; promotion carries text key names only: rename it or narrow the prefix",
                String::from_utf8_lossy(kv.key())
            ))
        })?;
        out.insert(rel.to_string(), (kv.value().to_vec(), kv.mod_revision()));
        if out.len() > PLAN_MAX_KEYS {
            return Err(Error::invalid(format!("{prefix} holds more than {PLAN_MAX_KEYS} keys: narrow the prefix")));
        }
        Ok(())
    })
    .await?;
    Ok((out, revision, cluster))
}

pub(crate) fn cluster_hex(id: u64) -> String {
    format!("{id:016x}")
}

/// The cluster id of the etcd behind `client`.
/// The cluster id `client` reaches, from the header of a keys-only read of
/// `key` (the plan's prefix: a user whose role covers only that prefix may
/// read it, where a read elsewhere is denied).
async fn cluster_of(client: &mut Client, key: &str) -> Result<u64> {
    let key = if key.is_empty() { "\0" } else { key };
    let resp = client.get(key, Some(GetOptions::new().with_keys_only())).await.map_err(etcd_err)?;
    Ok(resp.header().map(|h| h.cluster_id()).unwrap_or(0))
}

/// Compares `from_prefix` on `source` with `to_prefix` on `target` and plans
/// what would make the target equal to the source.
pub async fn plan(source: &mut Client, from: (&str, &str), target: &mut Client, to: (&str, &str)) -> Result<PromotePlan> {
    let (src, src_rev, src_cluster) = scan(source, from.1).await?;
    let (dst, dst_rev, dst_cluster) = scan(target, to.1).await?;
    if src_cluster == dst_cluster && from.1 == to.1 {
        return Err(Error::invalid(format!("--from and --to are the same prefix {} of the same cluster: nothing to promote", from.1)));
    }
    let mut items = Vec::new();
    let mut unchanged = 0;
    for (rel, (value, rev)) in &src {
        check_key(&format!("{}{rel}", to.1), "key")?;
        match dst.get(rel) {
            None => items.push(PromoteItem {
                rel: rel.clone(),
                action: PromoteAction::Add,
                source_mod_revision: *rev,
                target_mod_revision: 0,
                value: Some(DocValue::of(value)),
                current: None,
            }),
            Some((theirs, trev)) if theirs != value => items.push(PromoteItem {
                rel: rel.clone(),
                action: PromoteAction::Change,
                source_mod_revision: *rev,
                target_mod_revision: *trev,
                value: Some(DocValue::of(value)),
                current: Some(DocValue::of(theirs)),
            }),
            Some(_) => unchanged += 1,
        }
    }
    for (rel, (theirs, trev)) in &dst {
        if !src.contains_key(rel) {
            items.push(PromoteItem {
                rel: rel.clone(),
                action: PromoteAction::Remove,
                source_mod_revision: 0,
                target_mod_revision: *trev,
                value: None,
                current: Some(DocValue::of(theirs)),
            });
        }
    }
    items.sort_by(|a, b| a.rel.cmp(&b.rel));
    let mut plan = PromotePlan {
        kind: PLAN_KIND.into(),
        version: PLAN_VERSION,
        created_at: crate::cache::db::now_rfc3339(),
        from: PromoteSide { connection: from.0.into(), prefix: from.1.into(), cluster_id: cluster_hex(src_cluster), revision: src_rev },
        to: PromoteSide { connection: to.0.into(), prefix: to.1.into(), cluster_id: cluster_hex(dst_cluster), revision: dst_rev },
        unchanged,
        items,
        checksum: String::new(),
    };
    plan.checksum = plan.digest();
    Ok(plan)
}

/// The items `selection` picks, in plan order; an unknown key is an error.
pub fn select<'p>(plan: &'p PromotePlan, selection: &PromoteSelection) -> Result<(Vec<&'p PromoteItem>, Vec<String>)> {
    if selection.keys.is_empty() {
        let (picked, left): (Vec<&PromoteItem>, Vec<&PromoteItem>) =
            plan.items.iter().partition(|i| i.action != PromoteAction::Remove || selection.with_removes);
        return Ok((picked, left.into_iter().map(|i| i.rel.clone()).collect()));
    }
    let mut chosen = BTreeSet::new();
    let mut unknown = Vec::new();
    for key in &selection.keys {
        match plan.item(key) {
            Some(i) => {
                chosen.insert(i.rel.as_str());
            }
            None => unknown.push(key.as_str()),
        }
    }
    if !unknown.is_empty() {
        return Err(Error::invalid(format!(
            "not in the plan: {} (a key equal on both sides, or not under {} / {}); the plan lists {} items",
            unknown.join(", "),
            plan.from.prefix,
            plan.to.prefix,
            plan.items.len()
        )));
    }
    let (picked, left): (Vec<&PromoteItem>, Vec<&PromoteItem>) = plan.items.iter().partition(|i| chosen.contains(i.rel.as_str()));
    Ok((picked, left.into_iter().map(|i| i.rel.clone()).collect()))
}

/// Splits items into transactions of at most `max_ops` operations and about
/// [`MAX_TXN_BYTES`] of keys and values (a larger value goes alone).
pub fn batches<'p>(plan: &PromotePlan, items: &[&'p PromoteItem], max_ops: usize) -> Result<Vec<Vec<&'p PromoteItem>>> {
    batches_under(&plan.to.prefix, items, max_ops)
}

/// [`batches`] of items written under `prefix` (an import's batches too).
pub fn batches_under<'p>(prefix: &str, items: &[&'p PromoteItem], max_ops: usize) -> Result<Vec<Vec<&'p PromoteItem>>> {
    let max_ops = max_ops.max(1);
    let mut out: Vec<Vec<&PromoteItem>> = Vec::new();
    let mut bytes = 0;
    for item in items {
        let size = prefix.len() + item.rel.len() + value_bytes(item)?.map(|v| v.len()).unwrap_or(0);
        match out.last_mut() {
            Some(last) if last.len() < max_ops && bytes + size <= MAX_TXN_BYTES => {
                last.push(item);
                bytes += size;
            }
            _ => {
                out.push(vec![item]);
                bytes = size;
            }
        }
    }
    Ok(out)
}

fn value_bytes(item: &PromoteItem) -> Result<Option<Vec<u8>>> {
    item.value.as_ref().map(|v| v.bytes(&item.rel)).transpose()
}

/// Checks that the clients reach the clusters the plan was made on.
pub async fn check_clusters(plan: &PromotePlan, source: &mut Client, target: &mut Client) -> Result<()> {
    for (side, client, name) in [(&plan.from, source, "source"), (&plan.to, target, "target")] {
        let now = cluster_hex(cluster_of(client, &side.prefix).await?);
        if now != side.cluster_id {
            return Err(Error::invalid(format!(
                "plan: its {name} is etcd cluster {} but connection \"{}\" now reaches cluster {now}: the plan was made for another etcd; plan again against this one",
                side.cluster_id, side.connection
            )));
        }
    }
    Ok(())
}

/// Which of `items` moved on one side since the review (read in one
/// read-only transaction per `max_ops` keys).
pub async fn moved(
    client: &mut Client,
    plan: &PromotePlan,
    side: PromoteSideName,
    items: &[&PromoteItem],
    max_ops: usize,
) -> Result<Vec<MovedKey>> {
    let prefix = match side {
        PromoteSideName::Source => &plan.from.prefix,
        PromoteSideName::Target => &plan.to.prefix,
    };
    moved_under(client, prefix, side, items, max_ops).await
}

/// [`moved`] for items under `prefix` (the `side` says which reviewed revision counts).
pub async fn moved_under(
    client: &mut Client,
    prefix: &str,
    side: PromoteSideName,
    items: &[&PromoteItem],
    max_ops: usize,
) -> Result<Vec<MovedKey>> {
    let mut out = Vec::new();
    for chunk in items.chunks(max_ops.max(1)) {
        let gets: Vec<TxnOp> =
            chunk.iter().map(|i| TxnOp::get(format!("{prefix}{}", i.rel), Some(GetOptions::new().with_keys_only()))).collect();
        let resp = client.txn(Txn::new().and_then(gets)).await.map_err(etcd_err)?;
        let responses = resp.op_responses();
        for (item, r) in chunk.iter().zip(responses) {
            let now = match r {
                TxnOpResponse::Get(g) => g.kvs().first().map(|kv| kv.mod_revision()).unwrap_or(0),
                _ => 0,
            };
            let reviewed = match side {
                PromoteSideName::Source => item.source_mod_revision,
                PromoteSideName::Target => item.target_mod_revision,
            };
            if now != reviewed {
                out.push(MovedKey {
                    rel: item.rel.clone(),
                    side,
                    key: format!("{prefix}{}", item.rel),
                    reviewed_mod_revision: reviewed,
                    mod_revision_now: now,
                });
            }
        }
    }
    Ok(out)
}

/// Progress of an apply, after each committed batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct PromoteProgress {
    /// Batches of this run committed so far, of `batches`.
    pub batch: usize,
    pub batches: usize,
    /// Items of this run written so far, of `items`.
    pub applied: usize,
    pub items: usize,
}

/// The end of an apply: the report (always: it lists what landed) and,
/// when the run stopped on an error rather than on keys that moved, that error.
#[derive(Debug)]
pub struct PromoteOutcome {
    pub report: PromoteReport,
    pub error: Option<Error>,
}

/// What applying one batch came to.
#[derive(Debug)]
pub enum BatchOutcome {
    Committed(PromoteBatch),
    /// Nothing of the batch was written: these keys moved since the review.
    Moved(Vec<MovedKey>),
}

/// Applies one batch: the source keys are read again (any moved: nothing
/// written), then one target transaction guarded by every reviewed target
/// revision. A lost answer is settled by reading the first key back (the
/// transaction is atomic: that key tells for the whole batch).
pub async fn apply_batch(
    source: &mut Client,
    target: &mut Client,
    plan: &PromotePlan,
    batch: &[&PromoteItem],
    index: usize,
) -> Result<BatchOutcome> {
    let moved_src = moved(source, plan, PromoteSideName::Source, batch, batch.len()).await?;
    if !moved_src.is_empty() {
        return Ok(BatchOutcome::Moved(moved_src));
    }
    commit_batch(target, &plan.to.prefix, batch, index).await
}

/// Writes one batch under `prefix` on `target` in one transaction guarded by
/// every item's reviewed target revision (an import's batches too). A lost
/// answer is settled by reading the first key back (the transaction is
/// atomic: that key tells for the whole batch); still unknown, the error is
/// [`ErrorCode::OutcomeUnknown`].
pub async fn commit_batch(target: &mut Client, prefix: &str, batch: &[&PromoteItem], index: usize) -> Result<BatchOutcome> {
    let Some(first) = batch.first() else {
        return Err(Error::Internal(format!("batch {index} is empty")));
    };
    let mut compares = Vec::with_capacity(batch.len());
    let mut ops = Vec::with_capacity(batch.len());
    let (mut adds, mut changes, mut removes) = (0, 0, 0);
    for item in batch {
        let key = format!("{prefix}{}", item.rel);
        compares.push(Compare::mod_revision(key.as_str(), CompareOp::Equal, item.target_mod_revision));
        match (item.action, value_bytes(item)?) {
            (PromoteAction::Remove, _) => {
                removes += 1;
                ops.push(TxnOp::delete(key, None));
            }
            (action, Some(v)) => {
                // An existing key keeps its lease, as a guarded put does.
                let opts = (action == PromoteAction::Change).then(|| PutOptions::new().with_ignore_lease());
                if action == PromoteAction::Add {
                    adds += 1;
                } else {
                    changes += 1;
                }
                ops.push(TxnOp::put(key, v, opts));
            }
            (_, None) => return Err(Error::invalid(format!("plan: {} has no value to write; plan again", item.rel))),
        }
    }
    let committed = |revision: i64, recovered: Option<String>| PromoteBatch {
        index,
        revision,
        committed_at: crate::cache::db::now_rfc3339(),
        adds,
        changes,
        removes,
        keys: batch.iter().map(|i| i.rel.clone()).collect(),
        recovered,
    };
    match target.txn(Txn::new().when(compares).and_then(ops)).await.map_err(etcd_err) {
        Ok(resp) if resp.succeeded() => Ok(BatchOutcome::Committed(committed(resp.header().map(|h| h.revision()).unwrap_or(0), None))),
        Ok(_) => Ok(BatchOutcome::Moved(moved_under(target, prefix, PromoteSideName::Target, batch, batch.len()).await?)),
        Err(e) if answer_lost(&e) => {
            let key = format!("{prefix}{}", first.rel);
            let value = value_bytes(first)?;
            let intent = match &value {
                Some(v) => Intent::Put(v),
                None => Intent::Delete,
            };
            match read_back(target, &key, intent, first.target_mod_revision).await {
                Found::Applied { revision, why, .. } => Ok(BatchOutcome::Committed(committed(
                    revision,
                    Some(format!("the answer was lost ({e}); read back: applied: {why}")),
                ))),
                Found::NotApplied { why, fenced: None } => {
                    Err(e.and(&format!("read back: batch {index} was not applied ({why}); nothing of it was written: run again with the report to resume")))
                }
                Found::NotApplied { why, fenced: Some(_) } => Err(e.and(&format!(
                    "read back: batch {index} was not applied ({why}); nothing of it was written, but {key} now has a new mod_revision, so a resume stops on it as changed since the review: plan the promotion again"
                ))),
                Found::Unknown { why } | Found::StillAbsent { why } => Err(Error::Remote {
                    code: ErrorCode::OutcomeUnknown,
                    message: format!(
                        "outcome unknown: batch {index} ({} keys) was sent, then {e}; whether etcd applied it is unknown ({why}). Check {key}: at mod_revision {} the batch did not land",
                        batch.len(),
                        first.target_mod_revision
                    ),
                    source: Box::new(e),
                }),
            }
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MAX_TXN_OPS;

    fn sample() -> PromotePlan {
        let item = |rel: &str, action, value: Option<&[u8]>| PromoteItem {
            rel: rel.into(),
            action,
            source_mod_revision: if value.is_some() { 5 } else { 0 },
            target_mod_revision: if action == PromoteAction::Add { 0 } else { 9 },
            value: value.map(DocValue::of),
            current: None,
        };
        let side =
            |c: &str, p: &str| PromoteSide { connection: c.into(), prefix: p.into(), cluster_id: "00000000000000aa".into(), revision: 3 };
        let mut plan = PromotePlan {
            kind: PLAN_KIND.into(),
            version: PLAN_VERSION,
            created_at: String::new(),
            from: side("dev", "/app/"),
            to: side("prod", "/app/"),
            unchanged: 0,
            items: vec![
                item("a", PromoteAction::Add, Some(b"1")),
                item("b", PromoteAction::Change, Some(b"\xff\x00")),
                item("c", PromoteAction::Remove, None),
            ],
            checksum: String::new(),
        };
        plan.checksum = plan.digest();
        plan
    }

    #[test]
    fn a_plan_round_trips_and_an_edited_one_is_refused() {
        let plan = sample();
        let text = serde_json::to_string_pretty(&plan).unwrap();
        assert!(text.contains("\"base64\": \"/wA=\""), "{text}");
        assert_eq!(PromotePlan::parse(&text).unwrap(), plan);
        let edited = text.replace("\"target_mod_revision\": 9", "\"target_mod_revision\": 10");
        let e = PromotePlan::parse(&edited).unwrap_err().to_string();
        assert!(e.contains("checksum"), "{e}");
        let e = PromotePlan::parse("{\"keys\": {}}").unwrap_err().to_string();
        assert!(e.contains("not an Opsdeck promotion plan"), "{e}");
    }

    #[test]
    fn removes_only_when_chosen_and_unknown_keys_refused() {
        let plan = sample();
        let (picked, left) = select(&plan, &PromoteSelection::default()).unwrap();
        assert_eq!(picked.iter().map(|i| i.rel.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(left, ["c"]);
        let all = select(&plan, &PromoteSelection { keys: vec![], with_removes: true }).unwrap().0;
        assert_eq!(all.len(), 3);
        let (picked, _) = select(&plan, &PromoteSelection { keys: vec!["/app/c".into(), "b".into()], with_removes: false }).unwrap();
        assert_eq!(picked.iter().map(|i| i.rel.as_str()).collect::<Vec<_>>(), ["b", "c"]);
        let e = select(&plan, &PromoteSelection { keys: vec!["zz".into()], with_removes: false }).unwrap_err().to_string();
        assert!(e.contains("not in the plan: zz"), "{e}");
    }

    #[test]
    fn batches_respect_the_operation_limit() {
        let mut plan = sample();
        plan.items = (0..300)
            .map(|i| PromoteItem {
                rel: format!("k{i:03}"),
                action: PromoteAction::Add,
                source_mod_revision: 1,
                target_mod_revision: 0,
                value: Some(DocValue::Text("v".into())),
                current: None,
            })
            .collect();
        let items: Vec<&PromoteItem> = plan.items.iter().collect();
        let b = batches(&plan, &items, MAX_TXN_OPS).unwrap();
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [128, 128, 44]);
        let b = batches(&plan, &items, 100).unwrap();
        assert_eq!(b.len(), 3);
    }
}

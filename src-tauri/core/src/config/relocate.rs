//! Renaming (moving) a prefix within one etcd: every key under FROM is
//! copied to the same relative key under TO and deleted from FROM.
//!
//! The plan is a promotion plan ([`PromotePlan`]) of the connection onto
//! itself: each item carries the value's bytes, the source key's
//! `mod_revision` at plan time and the target key's (0: absent). Apply
//! commits it in transactions of at most [`MAX_TXN_OPS`] compares and
//! operations (etcd's `--max-txn-ops`; two per key, so 64 keys a batch,
//! fewer when the values are large): each transaction compares every source
//! key with its planned revision AND every target key with its planned one,
//! then puts the targets and deletes the sources — atomically, so a batch is
//! either moved entirely or not at all. A key someone else changed meanwhile
//! fails its batch's compare: the move stops there, the report lists the
//! batches committed before it, the keys not moved, and which keys changed.
//!
//! A target key that already exists refuses the move unless overwriting was
//! asked for (then it is replaced, guarded by its planned revision).
//! Leases of the source keys are not carried over.

use etcd_client::{Client, Compare, CompareOp, PutOptions, Txn, TxnOp};
use serde::{Deserialize, Serialize};

use super::outcome::{answer_lost, read_back, Found, Intent};
use super::promote::{self, cluster_hex, PromoteAction, PromoteBatch, PromoteItem, PromotePlan, PromoteSide, PromoteSideName};
use super::transfer::DocValue;
use super::{etcd_err, MAX_TXN_OPS};
use crate::error::{Error, ErrorCode, Result};

/// What a move plan says it is (a promotion plan's `kind`).
pub const MOVE_KIND: &str = "opsdeck.config.move.plan";

/// Keys per transaction: a compare for the source and one for the target,
/// a put and a delete per key, each list within etcd's limit.
pub const MOVE_BATCH_KEYS: usize = MAX_TXN_OPS / 2;

/// Progress after each committed batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct MoveProgress {
    pub batch: usize,
    pub batches: usize,
    pub moved: usize,
    pub keys: usize,
}

/// What a move did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct MoveReport {
    pub from: String,
    pub to: String,
    /// Keys the plan moves.
    pub total: usize,
    /// Keys moved (copied and deleted from the source).
    pub moved: usize,
    /// Every committed transaction.
    pub batches: Vec<PromoteBatch>,
    /// Keys (relative) still under the source: not moved.
    pub not_moved: Vec<String>,
    /// Keys someone else changed since the plan: the move stopped before their batch.
    pub changed_since_plan: Vec<promote::MovedKey>,
    pub complete: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The end of a move: the report, and the error that stopped it (if any).
#[derive(Debug)]
pub struct MoveOutcome {
    pub report: MoveReport,
    pub error: Option<Error>,
}

fn check_prefixes(from: &str, to: &str) -> Result<()> {
    for (p, name) in [(from, "FROM_PREFIX"), (to, "TO_PREFIX")] {
        if p.is_empty() || p == "/" {
            return Err(Error::invalid(format!("{name}: name a prefix narrower than the whole key space (e.g. /app/)")));
        }
        super::keys::check_key(p, name)?;
    }
    if from == to {
        return Err(Error::invalid(format!("FROM_PREFIX and TO_PREFIX are the same ({from}): nothing to move")));
    }
    if to.starts_with(from) || from.starts_with(to) {
        return Err(Error::invalid(format!(
            "{from} and {to} overlap (one is under the other): the keys moved would be read again; move via a third prefix"
        )));
    }
    Ok(())
}

/// Plans moving every key under `from` to `to` on the connection `connection`.
pub async fn plan(client: &mut Client, connection: &str, from: &str, to: &str) -> Result<PromotePlan> {
    check_prefixes(from, to)?;
    let (src, src_rev, cluster) = promote::scan(client, from).await?;
    if src.is_empty() {
        return Err(Error::NotFound(format!("no key under {from} (at revision {src_rev}): nothing to move")));
    }
    let (dst, dst_rev, _) = promote::scan(client, to).await?;
    let mut items = Vec::with_capacity(src.len());
    for (rel, (value, rev)) in &src {
        super::keys::check_key(&format!("{to}{rel}"), "key")?;
        let existing = dst.get(rel);
        items.push(PromoteItem {
            rel: rel.clone(),
            action: if existing.is_some() { PromoteAction::Change } else { PromoteAction::Add },
            source_mod_revision: *rev,
            target_mod_revision: existing.map(|e| e.1).unwrap_or(0),
            value: Some(DocValue::of(value)),
            current: existing.map(|e| DocValue::of(&e.0)),
        });
    }
    let side = |prefix: &str, revision| PromoteSide {
        connection: connection.into(),
        prefix: prefix.into(),
        cluster_id: cluster_hex(cluster),
        revision,
    };
    let mut plan = PromotePlan {
        kind: MOVE_KIND.into(),
        version: promote::PLAN_VERSION,
        created_at: crate::cache::db::now_rfc3339(),
        from: side(from, src_rev),
        to: side(to, dst_rev),
        unchanged: 0,
        items,
        checksum: String::new(),
    };
    plan.checksum = plan.digest();
    Ok(plan)
}

/// Target keys (relative) that exist already.
pub fn existing_targets(plan: &PromotePlan) -> Vec<String> {
    plan.items.iter().filter(|i| i.target_mod_revision != 0).map(|i| i.rel.clone()).collect()
}

fn check_plan(plan: &PromotePlan, overwrite: bool) -> Result<()> {
    if plan.kind != MOVE_KIND || plan.digest() != plan.checksum || plan.from.cluster_id != plan.to.cluster_id {
        return Err(Error::invalid("not an unedited Opsdeck move plan: plan the move again"));
    }
    check_prefixes(&plan.from.prefix, &plan.to.prefix)?;
    let existing = existing_targets(plan);
    if !overwrite && !existing.is_empty() {
        let sample: Vec<String> = existing.iter().take(10).map(|r| format!("{}{r}", plan.to.prefix)).collect();
        return Err(Error::Conflict(format!(
            "{} target key(s) exist already ({}{}): nothing moved; move to another prefix, or overwrite them explicitly",
            existing.len(),
            sample.join(", "),
            if existing.len() > sample.len() { ", …" } else { "" }
        )));
    }
    Ok(())
}

/// Applies a move plan: batches of at most [`MOVE_BATCH_KEYS`] keys, each
/// one transaction guarded on both sides. `Err` only when nothing was
/// attempted (a bad plan, existing targets without `overwrite`, another
/// cluster); otherwise the outcome, with what was moved and what was not.
pub async fn apply(
    client: &mut Client,
    plan: &PromotePlan,
    overwrite: bool,
    on_batch: impl FnMut(&PromoteBatch, MoveProgress),
) -> Result<MoveOutcome> {
    apply_with(client, plan, overwrite, MOVE_BATCH_KEYS, on_batch).await
}

/// [`apply`] with another batch size (tests use a small one).
pub async fn apply_with(
    client: &mut Client,
    plan: &PromotePlan,
    overwrite: bool,
    batch_keys: usize,
    mut on_batch: impl FnMut(&PromoteBatch, MoveProgress),
) -> Result<MoveOutcome> {
    check_plan(plan, overwrite)?;
    let mut other = client.clone();
    promote::check_clusters(plan, client, &mut other).await?;
    let items: Vec<&PromoteItem> = plan.items.iter().collect();
    let batches = promote::batches(plan, &items, batch_keys.clamp(1, MOVE_BATCH_KEYS))?;
    let mut report = MoveReport {
        from: plan.from.prefix.clone(),
        to: plan.to.prefix.clone(),
        total: items.len(),
        moved: 0,
        batches: vec![],
        not_moved: vec![],
        changed_since_plan: vec![],
        complete: false,
        error: None,
    };
    let mut error = None;
    for (n, batch) in batches.iter().enumerate() {
        match move_batch(client, plan, batch, n + 1).await {
            Ok(Some(b)) => {
                report.moved += b.keys.len();
                on_batch(&b, MoveProgress { batch: n + 1, batches: batches.len(), moved: report.moved, keys: items.len() });
                report.batches.push(b);
            }
            Ok(None) => {
                // Name every key still to move that changed, not only this batch's.
                let rest: Vec<&PromoteItem> = batches[n..].iter().flatten().copied().collect();
                let mut changed = promote::moved(client, plan, PromoteSideName::Source, &rest, MAX_TXN_OPS).await.unwrap_or_default();
                changed.extend(promote::moved(client, plan, PromoteSideName::Target, &rest, MAX_TXN_OPS).await.unwrap_or_default());
                changed.sort_by(|a, b| a.rel.cmp(&b.rel));
                let keys: Vec<&str> = changed.iter().map(|m| m.key.as_str()).collect();
                let e = Error::Conflict(format!(
                    "move of {} to {} stopped before batch {}: changed since the plan: {}; {} of {} keys moved in {} batch(es) before it, nothing of that batch written",
                    plan.from.prefix,
                    plan.to.prefix,
                    n + 1,
                    keys.join(", "),
                    report.moved,
                    items.len(),
                    report.batches.len()
                ));
                report.changed_since_plan = changed;
                report.error = Some(e.to_string());
                error = Some(e);
                break;
            }
            Err(e) => {
                report.error = Some(e.to_string());
                error = Some(e);
                break;
            }
        }
    }
    let done: std::collections::BTreeSet<&str> = report.batches.iter().flat_map(|b| b.keys.iter().map(String::as_str)).collect();
    report.not_moved = items.iter().filter(|i| !done.contains(i.rel.as_str())).map(|i| i.rel.clone()).collect();
    report.complete = report.not_moved.is_empty();
    Ok(MoveOutcome { report, error })
}

/// One guarded transaction: `Some(batch)` when committed, `None` when a
/// compare failed (nothing written).
async fn move_batch(client: &mut Client, plan: &PromotePlan, batch: &[&PromoteItem], index: usize) -> Result<Option<PromoteBatch>> {
    let (from, to) = (&plan.from.prefix, &plan.to.prefix);
    let mut compares = Vec::with_capacity(batch.len() * 2);
    let mut ops = Vec::with_capacity(batch.len() * 2);
    let mut changes = 0;
    for item in batch {
        let (src, dst) = (format!("{from}{}", item.rel), format!("{to}{}", item.rel));
        let value = item
            .value
            .as_ref()
            .map(|v| v.bytes(&item.rel))
            .transpose()?
            .ok_or_else(|| Error::invalid(format!("plan: {} has no value to write; plan again", item.rel)))?;
        compares.push(Compare::mod_revision(src.as_str(), CompareOp::Equal, item.source_mod_revision));
        compares.push(Compare::mod_revision(dst.as_str(), CompareOp::Equal, item.target_mod_revision));
        let opts = (item.target_mod_revision != 0).then(|| PutOptions::new().with_ignore_lease());
        changes += usize::from(item.target_mod_revision != 0);
        ops.push(TxnOp::put(dst, value, opts));
        ops.push(TxnOp::delete(src, None));
    }
    let committed = |revision: i64, recovered: Option<String>| PromoteBatch {
        index,
        revision,
        committed_at: crate::cache::db::now_rfc3339(),
        adds: batch.len() - changes,
        changes,
        removes: batch.len(),
        keys: batch.iter().map(|i| i.rel.clone()).collect(),
        recovered,
    };
    match client.txn(Txn::new().when(compares).and_then(ops)).await.map_err(etcd_err) {
        Ok(resp) if resp.succeeded() => Ok(Some(committed(resp.header().map(|h| h.revision()).unwrap_or(0), None))),
        Ok(_) => Ok(None),
        Err(e) if answer_lost(&e) => {
            // The batch is atomic: its first source key tells for all of it
            // (deleted by us as the first change after its planned revision).
            let first = batch[0];
            let key = format!("{from}{}", first.rel);
            match read_back(client, &key, Intent::Delete, first.source_mod_revision).await {
                Found::Applied { revision, why, .. } => {
                    Ok(Some(committed(revision, Some(format!("the answer was lost ({e}); read back: applied: {why}")))))
                }
                Found::NotApplied { why, .. } => Err(e.and(&format!("read back: batch {index} was not applied ({why}); plan the move again"))),
                Found::Unknown { why } | Found::StillAbsent { why } => Err(Error::Remote {
                    code: ErrorCode::OutcomeUnknown,
                    message: format!(
                        "outcome unknown: move batch {index} ({} keys) was sent, then {e}; whether etcd applied it is unknown ({why}). Check {key}: if it is gone, the batch landed",
                        batch.len()
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

    #[test]
    fn overlapping_or_root_prefixes_are_refused() {
        assert!(check_prefixes("/a/", "/b/").is_ok());
        for (from, to) in [("/a/", "/a/b/"), ("/a/b/", "/a/"), ("/a/", "/a/"), ("/", "/b/"), ("/a/", "")] {
            assert!(check_prefixes(from, to).is_err(), "{from} -> {to}");
        }
        assert!(check_prefixes("/a", "/a-new/").unwrap_err().to_string().contains("overlap"));
    }

    fn plan_of(existing: &[bool]) -> PromotePlan {
        let side = |prefix: &str| PromoteSide {
            connection: "c".into(),
            prefix: prefix.into(),
            cluster_id: "00000000000000aa".into(),
            revision: 3,
        };
        let items = existing
            .iter()
            .enumerate()
            .map(|(i, e)| PromoteItem {
                rel: format!("k{i:03}"),
                action: if *e { PromoteAction::Change } else { PromoteAction::Add },
                source_mod_revision: 5,
                target_mod_revision: if *e { 9 } else { 0 },
                value: Some(DocValue::of(&[0xff, 0, i as u8])),
                current: None,
            })
            .collect();
        let mut plan = PromotePlan {
            kind: MOVE_KIND.into(),
            version: promote::PLAN_VERSION,
            created_at: String::new(),
            from: side("/a/"),
            to: side("/b/"),
            unchanged: 0,
            items,
            checksum: String::new(),
        };
        plan.checksum = plan.digest();
        plan
    }

    #[test]
    fn existing_targets_need_overwrite_and_an_edited_plan_is_refused() {
        assert!(check_plan(&plan_of(&[false, false]), false).is_ok());
        let with = plan_of(&[false, true, true]);
        let e = check_plan(&with, false).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Conflict);
        assert!(e.to_string().starts_with("2 target key(s) exist already (/b/k001, /b/k002)"), "{e}");
        assert!(check_plan(&with, true).is_ok());
        let mut edited = plan_of(&[false]);
        edited.items[0].source_mod_revision = 6;
        assert!(check_plan(&edited, true).unwrap_err().to_string().contains("unedited"));
        let mut promotion = plan_of(&[false]);
        promotion.kind = promote::PLAN_KIND.into();
        promotion.checksum = promotion.digest();
        assert!(check_plan(&promotion, true).is_err(), "a promotion plan is not a move plan");
    }

    #[test]
    fn batches_stay_within_the_operation_limit() {
        assert_eq!(MOVE_BATCH_KEYS * 2, MAX_TXN_OPS);
        let plan = plan_of(&[false; 300]);
        let items: Vec<&PromoteItem> = plan.items.iter().collect();
        let sizes: Vec<usize> = promote::batches(&plan, &items, MOVE_BATCH_KEYS).unwrap().iter().map(Vec::len).collect();
        assert_eq!(sizes, [64, 64, 64, 64, 44]);
    }
}

//! Auto-approval rules in the team's etcd: `vms/rules/<department>/<name>/<generation>`,
//! written by IT admins only (role `opsdeck-vm-admin`), read by everyone. A
//! rule generation is written once, and once more when it is removed (the
//! record then names who removed it; its key's mod revision is when). The
//! filing of an auto-approved request is one transaction that also compares
//! the rule key, the department's quota and every request key as read.

use async_trait::async_trait;
use etcd_client::{Compare, CompareOp, Txn, TxnOp};

use super::etcd::{json, parse, EtcdStore, Kv};
use super::{Records, RequestRecord, RequestStore};
use crate::cache::db::now_rfc3339;
use crate::error::{Error, Result};
use crate::vms::rules::{describe, ApprovalRule, AutoGuard, RuleRecord, RuleRemoval, RuleStore, RuleVersion};

/// A rule generation from its key segments after `rules/` (`[dept, name, gen]`)
/// and value; the record must say what its key says.
pub(super) fn rule_of(segs: &[&str], value: &[u8], revision: i64, created: i64) -> std::result::Result<RuleVersion, String> {
    let [dept, name, gen] = segs else {
        return Err("not a key of the Opsdeck VM store (rules/<department>/<name>/<generation>)".into());
    };
    let record: RuleRecord = parse(value)?;
    if record.rule.department != *dept || record.rule.name != *name || record.generation.to_string() != *gen {
        return Err(format!(
            "holds rule {}/{} generation {} under another key",
            record.rule.department, record.rule.name, record.generation
        ));
    }
    Ok(RuleVersion { record, created, revision })
}

impl EtcdStore {
    fn rule_key(&self, department: &str, name: &str, generation: u32) -> String {
        self.key(&["rules", department, name, &generation.to_string()])
    }

    /// Every generation of `name` in `department` as read (a malformed one is skipped).
    async fn generations(&self, department: &str, name: &str) -> Result<Vec<RuleVersion>> {
        let prefix = self.key(&["rules", department, name, ""]);
        let kvs = self.range(&prefix, true).await?;
        Ok(versions(&self.key(&["rules", ""]), kvs))
    }

    async fn put_removed(&self, v: &RuleVersion, by: &str) -> Result<(Compare, TxnOp, RuleRecord)> {
        let r = &v.record;
        let key = self.rule_key(&r.rule.department, &r.rule.name, r.generation);
        let mut record = r.clone();
        record.removed = Some(RuleRemoval { by: by.to_string(), at: now_rfc3339() });
        Ok((Compare::mod_revision(key.as_str(), CompareOp::Equal, v.revision), TxnOp::put(key, json(&record)?, None), record))
    }
}

fn versions(rules_prefix: &str, kvs: Vec<Kv>) -> Vec<RuleVersion> {
    kvs.into_iter()
        .filter_map(|(k, v, rev, created)| {
            let segs: Vec<&str> = k[rules_prefix.len().min(k.len())..].split('/').collect();
            match rule_of(&segs, &v, rev, created) {
                Ok(r) => Some(r),
                Err(e) => {
                    tracing::warn!(key = %k, "skipping a malformed approval rule: {e}");
                    None
                }
            }
        })
        .collect()
}

#[async_trait]
impl RuleStore for EtcdStore {
    async fn approval_rules(&self, department: Option<&str>) -> Result<Vec<RuleVersion>> {
        let prefix = match department {
            Some(d) => self.key(&["rules", d, ""]),
            None => self.key(&["rules", ""]),
        };
        let kvs = self.range(&prefix, true).await?;
        Ok(versions(&self.key(&["rules", ""]), kvs))
    }

    async fn put_approval_rule(&self, rule: &ApprovalRule, by: &str, replace: bool) -> Result<RuleVersion> {
        let existing = self.generations(&rule.department, &rule.name).await?;
        let generation = existing.iter().map(|v| v.record.generation).max().unwrap_or(0) + 1;
        let key = self.rule_key(&rule.department, &rule.name, generation);
        let mut guards = vec![Compare::create_revision(key.as_str(), CompareOp::Equal, 0)];
        let mut ops = Vec::new();
        for live in existing.iter().filter(|v| v.live()) {
            if !replace {
                return Err(Error::Conflict(format!(
                    "department {} already has a rule \"{}\" ({}): remove it first or replace it",
                    rule.department,
                    rule.name,
                    describe(&live.record.rule)
                )));
            }
            let (guard, op, _) = self.put_removed(live, by).await?;
            guards.push(guard);
            ops.push(op);
        }
        let record = RuleRecord { rule: rule.clone(), generation, added_by: by.to_string(), added_at: now_rfc3339(), removed: None };
        ops.push(TxnOp::put(key.as_str(), json(&record)?, None));
        if !self.txn("saving an approval rule", Txn::new().when(guards).and_then(ops)).await? {
            return Err(Error::Conflict(format!(
                "rule \"{}\" of department {} was changed by someone else meanwhile: list the rules and try again",
                rule.name, rule.department
            )));
        }
        self.generations(&rule.department, &rule.name)
            .await?
            .into_iter()
            .find(|v| v.record.generation == generation)
            .ok_or_else(|| Error::Conflict(format!("rule \"{}\" was removed again right after it was saved", rule.name)))
    }

    async fn remove_approval_rule(&self, department: &str, name: &str, by: &str) -> Result<RuleVersion> {
        let existing = self.generations(department, name).await?;
        let Some(live) = existing.iter().find(|v| v.live()) else {
            return Err(Error::NotFound(format!("department {department} has no approval rule \"{name}\"")));
        };
        let (guard, op, record) = self.put_removed(live, by).await?;
        if !self.txn("removing an approval rule", Txn::new().when([guard]).and_then([op])).await? {
            return Err(Error::Conflict(format!(
                "rule \"{name}\" of department {department} was changed by someone else meanwhile: list the rules and try again"
            )));
        }
        let after = self.generations(department, name).await?;
        Ok(after.into_iter().find(|v| v.record.generation == record.generation).unwrap_or(RuleVersion { record, ..live.clone() }))
    }

    async fn create_auto_approved(&self, record: &RequestRecord, guard: &AutoGuard) -> Result<Option<Records>> {
        let (mut guards, ops) = match self.filing(record).await {
            Ok(f) => f,
            Err(Error::Conflict(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let rule = &guard.rule.record;
        let requests = self.key(&["requests", ""]);
        guards.extend([
            // The rule generation as read: still there, not removed since.
            Compare::mod_revision(
                self.rule_key(&rule.rule.department, &rule.rule.name, rule.generation),
                CompareOp::Equal,
                guard.rule.revision,
            ),
            // The quota as checked.
            Compare::value(self.key(&["quotas", &rule.rule.department]), CompareOp::Equal, json(&guard.quota)?),
            // No request filed, edited or withdrawn since they were read.
            Compare::mod_revision(requests.as_str(), CompareOp::Less, guard.listing_at.saturating_add(1)).with_prefix(),
        ]);
        if !self.txn("submitting an auto-approved VM request", Txn::new().when(guards).and_then(ops)).await? {
            return Ok(None);
        }
        self.get(&record.id).await.map(Some)
    }
}

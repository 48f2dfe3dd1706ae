//! Auto-approval rules per department: a request that fits a rule of its
//! department (at most so many vCPU, GB of memory and GB of disk, optionally
//! only some templates and networks) and is within the department's quota
//! skips the manager. The manager step is then approved by the actor
//! `policy:<rule name>` in the same transaction that files the request.
//!
//! - The filing transaction is guarded by what the decision was made from:
//!   the rule as read (unchanged, not removed), the department's quota as
//!   read, and every request as read (none filed or changed since). Two
//!   filings racing for the last of a quota: one is auto-approved, the
//!   other is evaluated again against the new use (over quota: not
//!   auto-approved). After [`ATTEMPTS`] lost races the request is filed for
//!   the manager as usual.
//! - A request records the rule by name and generation; every reader checks
//!   the claim ([`verify`]) against the stored rule version: it must have
//!   existed (added before the request, not removed before it), and the
//!   request must fit it and be within quota. A rule added, widened or
//!   removed later never changes a request already filed.
//! - Rules are versioned: replacing or removing one keeps the old version
//!   (a tombstone) so the requests it approved can still be checked.
//! - The admin step is unchanged (and re-runs the quota check).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::inventory::Inventory;
use super::model::{Decision, Quota, RequestSpec, Stage, VmRequest};
use super::store::{Records, RequestRecord, RequestStore};
use super::{quota, validate};
use crate::error::{Error, Result};

/// The actor of a manager step approved by a rule: `policy:<rule name>`.
pub const POLICY_PREFIX: &str = "policy:";
/// Filing attempts while other requests keep moving, before the request is
/// filed for the manager.
pub const ATTEMPTS: usize = 8;

/// What a request may be at most to skip the manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ApprovalRule {
    pub name: String,
    pub department: String,
    pub max_cpu: u32,
    pub max_memory_gb: u32,
    pub max_disk_gb: u32,
    /// Only these templates (empty: any).
    #[serde(default)]
    pub templates: Vec<String>,
    /// Only these networks (empty: any, the template's own included).
    #[serde(default)]
    pub networks: Vec<String>,
}

/// A rule as stored: one generation of a name; replacing or removing it
/// marks it removed and keeps it, so what it approved stays checkable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RuleRecord {
    pub rule: ApprovalRule,
    pub generation: u32,
    pub added_by: String,
    pub added_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<RuleRemoval>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RuleRemoval {
    pub by: String,
    pub at: String,
}

/// A rule generation as read, with the store revisions it was added at and
/// last written at (the removal, once removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RuleVersion {
    pub record: RuleRecord,
    pub created: i64,
    pub revision: i64,
}

impl RuleVersion {
    pub fn live(&self) -> bool {
        self.record.removed.is_none()
    }

    /// The store revision of the removal, if removed.
    pub fn removed_at(&self) -> Option<i64> {
        self.record.removed.as_ref().map(|_| self.revision)
    }
}

/// What a request records when a rule approved its manager step as filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AutoApproval {
    pub rule: String,
    pub generation: u32,
}

/// What an auto-approval was decided from; the filing transaction is
/// refused when any of it moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoGuard {
    /// The revision the requests were read at: none may have changed since.
    pub listing_at: i64,
    /// The rule generation (its last write must still be this one).
    pub rule: RuleVersion,
    /// The department's quota as checked.
    pub quota: Quota,
}

/// Where rules are kept: the request store itself (both kinds).
#[async_trait]
pub trait RuleStore: Send + Sync {
    /// Every generation of every rule (of `department`, or all), removed ones too.
    async fn approval_rules(&self, department: Option<&str>) -> Result<Vec<RuleVersion>>;
    /// Adds `rule` as the next generation of its name; refused with
    /// Conflict if a live one exists and `replace` is false (with it, the
    /// live one is marked removed in the same transaction).
    async fn put_approval_rule(&self, rule: &ApprovalRule, by: &str, replace: bool) -> Result<RuleVersion>;
    /// Marks the live rule `name` of `department` removed (kept for checking).
    async fn remove_approval_rule(&self, department: &str, name: &str, by: &str) -> Result<RuleVersion>;
    /// Stores a new request whose manager step `record.auto_approval`
    /// approves, if nothing in `guard` moved; `None` when something did (or
    /// the name was taken meanwhile): evaluate again.
    async fn create_auto_approved(&self, record: &RequestRecord, guard: &AutoGuard) -> Result<Option<Records>>;
}

fn bad(what: String) -> Error {
    Error::invalid(what)
}

/// Checks and normalises a rule from the CLI or the app.
pub fn validate(mut r: ApprovalRule) -> Result<ApprovalRule> {
    r.name = r.name.trim().to_string();
    let n = &r.name;
    if n.is_empty()
        || n.len() > 40
        || !n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' || c == '.')
        || n.starts_with(['-', '.'])
    {
        return Err(bad(format!("rule name \"{n}\": 1-40 lowercase letters, digits, '-', '_' or '.' (it names store keys)")));
    }
    r.department = validate::department(&r.department)?;
    for (what, v, max) in [("max vCPU", r.max_cpu, 128), ("max memory GB", r.max_memory_gb, 4096), ("max disk GB", r.max_disk_gb, 65536)] {
        if v == 0 || v > max {
            return Err(bad(format!("{what}: {v} is not allowed (1 to {max}; a rule bounds every resource)")));
        }
    }
    for (what, list) in [("templates", &mut r.templates), ("networks", &mut r.networks)] {
        let mut out: Vec<String> = Vec::new();
        for s in list.iter().map(|s| s.trim()) {
            if s.is_empty() || s.len() > 200 || s.chars().any(char::is_control) {
                return Err(bad(format!("{what}: \"{s}\" is not a name (1-200 printable characters)")));
            }
            if !out.iter().any(|o| o == s) {
                out.push(s.to_string());
            }
        }
        if out.len() > 50 {
            return Err(bad(format!("{what}: at most 50 names ({} given)", out.len())));
        }
        *list = out;
    }
    Ok(r)
}

/// Why `spec` does not fit `rule` (None: it fits).
pub fn misfit(rule: &ApprovalRule, spec: &RequestSpec) -> Option<String> {
    if spec.department != rule.department {
        return Some(format!("the request is for department {}, the rule for {}", spec.department, rule.department));
    }
    for (what, v, max) in
        [("vCPU", spec.cpu, rule.max_cpu), ("GB memory", spec.memory_gb, rule.max_memory_gb), ("GB disk", spec.disk_gb, rule.max_disk_gb)]
    {
        if v > max {
            return Some(format!("{v} {what} is over the rule's {max}"));
        }
    }
    if !rule.templates.is_empty() && !rule.templates.contains(&spec.template) {
        return Some(format!("template \"{}\" is not one the rule allows", spec.template));
    }
    if !rule.networks.is_empty() && !rule.networks.contains(&spec.network) {
        return Some(format!("network \"{}\" is not one the rule allows", spec.network));
    }
    None
}

/// The rule in words: `≤ 2 vCPU, ≤ 4 GB memory, ≤ 50 GB disk; templates a, b`.
pub fn describe(r: &ApprovalRule) -> String {
    let mut s = format!("≤ {} vCPU, ≤ {} GB memory, ≤ {} GB disk", r.max_cpu, r.max_memory_gb, r.max_disk_gb);
    if !r.templates.is_empty() {
        s.push_str(&format!("; templates {}", r.templates.join(", ")));
    }
    if !r.networks.is_empty() {
        s.push_str(&format!("; networks {}", r.networks.join(", ")));
    }
    s
}

/// The live rule of the spec's department that `spec` fits (the first by name).
pub fn pick<'a>(spec: &RequestSpec, rules: &'a [RuleVersion]) -> Option<&'a RuleVersion> {
    let mut live: Vec<&RuleVersion> = rules.iter().filter(|r| r.live() && r.record.rule.department == spec.department).collect();
    live.sort_by(|a, b| a.record.rule.name.cmp(&b.record.rule.name));
    live.into_iter().find(|r| misfit(&r.record.rule, spec).is_none())
}

/// The rule a request's manager step was approved by, from a decision's actor.
pub fn approved_by(req: &VmRequest) -> Option<&str> {
    req.decisions.iter().find(|d| d.stage == Stage::Manager && d.approved).and_then(|d| d.actor.strip_prefix(POLICY_PREFIX))
}

/// The manager's approval a request's auto-approval claim stands for, if it
/// holds against the stored rule generation; otherwise a note says why not.
pub fn verify(r: &Records, notes: &mut Vec<String>) -> Option<Decision> {
    let req = &r.request.value;
    let claim = req.auto_approval.as_ref()?;
    let why_not = match &r.rule {
        None => Some(format!("no rule \"{}\" generation {} exists in department {}", claim.rule, claim.generation, req.spec.department)),
        Some(v)
            if v.record.rule.name != claim.rule
                || v.record.generation != claim.generation
                || v.record.rule.department != req.spec.department =>
        {
            Some("the stored rule is another one".to_string())
        }
        Some(v) if v.created >= r.request.revision => Some("the rule was added after the request was filed".into()),
        Some(v) if v.removed_at().is_some_and(|at| at <= r.request.revision) => {
            Some("the rule was removed before the request was filed".into())
        }
        Some(_) if !req.quota.ok => Some("the request was over quota".into()),
        Some(v) => misfit(&v.record.rule, &req.spec),
    };
    match (why_not, &r.rule) {
        (None, Some(v)) => Some(Decision {
            stage: Stage::Manager,
            approved: true,
            actor: format!("{POLICY_PREFIX}{}", claim.rule),
            at: req.edited_at.clone().unwrap_or_else(|| req.created_at.clone()),
            comment: format!("auto-approved by rule {} ({}) within the department's quota", claim.rule, describe(&v.record.rule)),
            on_behalf_of: None,
            escalated: false,
        }),
        (why, _) => {
            notes.push(format!(
                "the auto-approval by rule \"{}\" does not hold ({}): the department's manager must decide",
                claim.rule,
                why.unwrap_or_default()
            ));
            None
        }
    }
}

/// Stores `record` (validated, quota-checked by the caller): approved at
/// the manager step by a rule when one fits and the department's quota
/// holds it, in one guarded transaction; otherwise filed for the manager.
pub async fn file(store: &dyn RequestStore, mut record: RequestRecord, inventory: Option<&Inventory>) -> Result<VmRequest> {
    let dept = record.spec.department.clone();
    for _ in 0..ATTEMPTS {
        let rules = store.approval_rules(Some(&dept)).await?;
        if pick(&record.spec, &rules).is_none() {
            break;
        }
        let listing = store.list().await?;
        let requests: Vec<VmRequest> = listing.records.iter().map(|r| r.compose()).collect();
        let quotas = store.quotas().await?;
        // Only within a quota: a department without one is never auto-approved.
        let Some(q) = quotas.into_iter().find(|(d, _)| *d == dept).map(|(_, q)| q) else {
            break;
        };
        record.quota = quota::check(&record.spec, Some(&q), quota::usage(&dept, &requests, inventory, None));
        if !record.quota.ok {
            break;
        }
        // The rules may have moved since the first read: pick from these.
        let Some(rule) = pick(&record.spec, &rules).cloned() else {
            break;
        };
        record.auto_approval = Some(AutoApproval { rule: rule.record.rule.name.clone(), generation: rule.record.generation });
        let guard = AutoGuard { listing_at: listing.at, rule, quota: q };
        if let Some(r) = store.create_auto_approved(&record, &guard).await? {
            return Ok(r.compose());
        }
        record.auto_approval = None;
    }
    record.auto_approval = None;
    Ok(store.create(&record).await?.compose())
}

/// The rule that would approve `spec` if it were filed now (for the form),
/// with the quota check; `None` when none would.
pub async fn preview(store: &dyn RequestStore, spec: &RequestSpec, inventory: Option<&Inventory>) -> Result<Option<ApprovalRule>> {
    let rules = store.approval_rules(Some(&spec.department)).await?;
    let Some(rule) = pick(spec, &rules) else {
        return Ok(None);
    };
    let requests: Vec<VmRequest> = store.list().await?.records.iter().map(|r| r.compose()).collect();
    let quotas = store.quotas().await?;
    let Some(q) = quotas.iter().find(|(d, _)| *d == spec.department).map(|(_, q)| q) else {
        return Ok(None);
    };
    let ok = quota::check(spec, Some(q), quota::usage(&spec.department, &requests, inventory, None)).ok;
    Ok(ok.then(|| rule.record.rule.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vms::model::{QuotaCheck, SnapshotSchedule};
    use crate::vms::store::{Trust, Versioned};

    fn rule(name: &str) -> ApprovalRule {
        ApprovalRule {
            name: name.into(),
            department: "qa".into(),
            max_cpu: 2,
            max_memory_gb: 4,
            max_disk_gb: 50,
            templates: vec![],
            networks: vec![],
        }
    }

    fn spec(cpu: u32) -> RequestSpec {
        RequestSpec {
            name: "vm-1".into(),
            template: "t".into(),
            cpu,
            memory_gb: 4,
            disk_gb: 20,
            network: String::new(),
            folder: String::new(),
            resource_pool: String::new(),
            department: "qa".into(),
            purpose: "p".into(),
            lease_end: "2027-01-31".into(),
            snapshot_schedule: SnapshotSchedule::None,
            customization_script: String::new(),
        }
    }

    fn version(r: ApprovalRule, created: i64, removed_at: Option<i64>) -> RuleVersion {
        let removed = removed_at.map(|_| RuleRemoval { by: "carol".into(), at: "t".into() });
        let record = RuleRecord { rule: r, generation: 1, added_by: "carol".into(), added_at: "t".into(), removed };
        RuleVersion { record, created, revision: removed_at.unwrap_or(created) }
    }

    fn records(cpu: u32, rule: Option<RuleVersion>, quota_ok: bool) -> Records {
        let request = RequestRecord {
            id: "r1".into(),
            spec: spec(cpu),
            requester: "alice".into(),
            created_at: "t0".into(),
            quota: QuotaCheck { ok: quota_ok, lines: vec![] },
            withdrawn: None,
            edited_at: None,
            estimate: None,
            auto_approval: Some(AutoApproval { rule: "small".into(), generation: 1 }),
        };
        Records {
            request: Versioned { value: request, revision: 10, writer: Some("alice".into()) },
            decisions: vec![],
            run: None,
            turn: 0,
            trust: Trust::Shared,
            extensions: vec![],
            max_lease_days: 0,
            rule,
            delegation: Default::default(),
        }
    }

    #[test]
    fn validation_names_the_field() {
        assert!(validate(rule("small")).is_ok());
        let e = validate(ApprovalRule { max_cpu: 0, ..rule("small") }).unwrap_err().to_string();
        assert!(e.contains("max vCPU"), "{e}");
        let e = validate(rule("Small/x")).unwrap_err().to_string();
        assert!(e.contains("rule name"), "{e}");
        let e = validate(ApprovalRule { templates: vec!["  ".into()], ..rule("small") }).unwrap_err().to_string();
        assert!(e.contains("templates"), "{e}");
        let r = validate(ApprovalRule { templates: vec![" a ".into(), "a".into()], ..rule("small") }).unwrap();
        assert_eq!(r.templates, vec!["a".to_string()]);
    }

    #[test]
    fn fits_within_every_bound_and_allow_list() {
        assert_eq!(misfit(&rule("s"), &spec(2)), None);
        assert!(misfit(&rule("s"), &spec(3)).unwrap().contains("3 vCPU"));
        let only = ApprovalRule { templates: vec!["other".into()], ..rule("s") };
        assert!(misfit(&only, &spec(1)).unwrap().contains("template"));
        let nets = ApprovalRule { networks: vec!["VM Network".into()], ..rule("s") };
        assert!(misfit(&nets, &spec(1)).unwrap().contains("network"));
    }

    #[test]
    fn pick_takes_live_rules_of_the_department_by_name() {
        let big = ApprovalRule { max_cpu: 8, ..rule("b-big") };
        let rules = vec![version(rule("a-small"), 1, Some(5)), version(big, 2, None), version(rule("c-small"), 3, None)];
        assert_eq!(pick(&spec(2), &rules).map(|r| r.record.rule.name.as_str()), Some("b-big"));
        assert_eq!(pick(&spec(16), &rules), None);
    }

    #[test]
    fn a_claim_holds_only_against_the_rule_as_it_was_when_filed() {
        let mut notes = vec![];
        let ok = verify(&records(2, Some(version(rule("small"), 5, None)), true), &mut notes).unwrap();
        assert_eq!((ok.actor.as_str(), ok.approved), ("policy:small", true));
        assert!(notes.is_empty(), "{notes:?}");
        for (r, why) in [
            (records(2, None, true), "no rule"),
            (records(2, Some(version(rule("small"), 12, None)), true), "added after"),
            (records(2, Some(version(rule("small"), 5, Some(8))), true), "removed before"),
            (records(2, Some(version(rule("small"), 5, None)), false), "over quota"),
            (records(4, Some(version(rule("small"), 5, None)), true), "4 vCPU"),
            (records(2, Some(version(rule("other"), 5, None)), true), "another one"),
        ] {
            let mut notes = vec![];
            assert_eq!(verify(&r, &mut notes), None, "{why}");
            assert!(notes[0].contains(why), "{why}: {notes:?}");
        }
        // Removed after the request was filed: the approval stands.
        assert!(verify(&records(2, Some(version(rule("small"), 5, Some(11))), true), &mut notes).is_some());
    }
}

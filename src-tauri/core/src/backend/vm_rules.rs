//! Auto-approval rules per department on the backend (see
//! [`crate::vms::rules`]): list, add or replace, remove — each change
//! audited (refusals too) — and the form's preview of the rule that would
//! approve a request.

use super::Backend;
use crate::error::Result;
use crate::vms::model::RequestSpec;
use crate::vms::rules::{self, ApprovalRule, RuleVersion};
use crate::vms::store::RequestStore;

impl Backend {
    /// Every rule generation (of `department`, or all), removed ones with
    /// `removed` set; live ones first, then by department and name.
    pub async fn vm_rules(&self, store: &dyn RequestStore, department: Option<&str>, all: bool) -> Result<Vec<RuleVersion>> {
        let mut out = store.approval_rules(department).await?;
        out.retain(|r| all || r.live());
        out.sort_by(|a, b| {
            (!a.live(), &a.record.rule.department, &a.record.rule.name, a.record.generation).cmp(&(
                !b.live(),
                &b.record.rule.department,
                &b.record.rule.name,
                b.record.generation,
            ))
        });
        Ok(out)
    }

    /// Adds a rule (or replaces the live one of that name when `replace`).
    /// In a shared store only IT admins may (etcd refuses others).
    pub async fn vm_add_rule(&self, store: &dyn RequestStore, rule: ApprovalRule, replace: bool) -> Result<RuleVersion> {
        let target = format!("{}/{}", rule.department.trim(), rule.name.trim());
        let by = self.actor_for(store);
        let result = match rules::validate(rule) {
            Ok(rule) => store.put_approval_rule(&rule, &by, replace).await,
            Err(e) => Err(e),
        };
        let summary = result.as_ref().map(|v| {
            format!(
                "approval rule {} of {} (generation {}){}: {}",
                v.record.rule.name,
                v.record.rule.department,
                v.record.generation,
                if v.record.generation > 1 && replace { ", replacing the previous one" } else { "" },
                rules::describe(&v.record.rule)
            )
        });
        self.audit_as(store, &target, "vm.rule.add", summary).await;
        result
    }

    /// Removes the live rule `name` of `department` (kept as removed, so the
    /// requests it approved stay checkable). Requests already filed keep
    /// their approval.
    pub async fn vm_remove_rule(&self, store: &dyn RequestStore, department: &str, name: &str) -> Result<RuleVersion> {
        let by = self.actor_for(store);
        let result = store.remove_approval_rule(department.trim(), name.trim(), &by).await;
        let summary = result.as_ref().map(|v| {
            format!("approval rule {} of {} (generation {}) removed", v.record.rule.name, v.record.rule.department, v.record.generation)
        });
        self.audit_as(store, &format!("{}/{}", department.trim(), name.trim()), "vm.rule.remove", summary).await;
        result
    }

    /// The rule that would approve `spec`'s manager step if it were filed
    /// now (the form shows it; filing decides again).
    pub async fn vm_rule_preview(
        &self,
        store: &dyn RequestStore,
        vcenter: Option<&str>,
        spec: &RequestSpec,
    ) -> Result<Option<ApprovalRule>> {
        let inv = match vcenter {
            Some(c) => self.cached_vm_inventory(c).await?.map(|s| s.payload),
            None => None,
        };
        rules::preview(store, spec, inv.as_ref()).await
    }
}

//! Delegation and approval timeouts (see `vms::delegation`,
//! `vms::escalation`): every change audited; an escalation tells the
//! escalation delegate through the notification outbox.

use time::OffsetDateTime;

use super::Backend;
use crate::cache::db::now_rfc3339;
use crate::error::Result;
use crate::notify::Event;
use crate::vms::delegation::{self, Delegation, DelegationInput, DelegationView};
use crate::vms::escalation::{self, EscalationPolicy, EscalationStep};
use crate::vms::store::RequestStore;

impl Backend {
    /// The acting approver names a delegate for a date range.
    pub async fn vm_delegate(&self, store: &dyn RequestStore, input: DelegationInput) -> Result<Delegation> {
        let target = input.delegate.clone();
        let result = delegation::delegate(store, input, &self.actor).await;
        let summary = result.as_ref().map(|d| {
            format!(
                "{} delegates the {} step{} to {} from {} to {}: {}",
                d.approver,
                d.stage.as_str(),
                d.department.as_deref().map(|x| format!(" of {x}")).unwrap_or_default(),
                d.delegate,
                d.start,
                d.end,
                d.reason
            )
        });
        self.audit_as(store, &target, "vm.delegation.create", summary).await;
        result
    }

    /// The approver revokes their delegation `id`.
    pub async fn vm_revoke_delegation(&self, store: &dyn RequestStore, id: &str) -> Result<Delegation> {
        let result = delegation::revoke(store, id, &self.actor).await;
        let summary = result.as_ref().map(|d| format!("delegation {id} of {} to {} revoked", d.approver, d.delegate));
        self.audit_as(store, id, "vm.delegation.revoke", summary).await;
        result
    }

    /// Every delegation, each marked in force now or not.
    pub async fn vm_delegations(&self, store: &dyn RequestStore) -> Result<Vec<DelegationView>> {
        delegation::list(store, &now_rfc3339()).await
    }

    pub async fn vm_escalation_policies(&self, store: &dyn RequestStore) -> Result<Vec<EscalationPolicy>> {
        store.escalation_policies().await
    }

    /// Sets a department's approval timeout and escalation delegate.
    pub async fn vm_set_escalation_policy(&self, store: &dyn RequestStore, p: EscalationPolicy) -> Result<EscalationPolicy> {
        let target = p.department.clone();
        let result = escalation::set_policy(store, p).await;
        let summary = result
            .as_ref()
            .map(|p| format!("department {}: a step waiting over {} h goes to {}", p.department, p.timeout_hours, p.escalate_to));
        self.audit_as(store, &target, "vm.escalation.policy", summary).await;
        result
    }

    pub async fn vm_remove_escalation_policy(&self, store: &dyn RequestStore, department: &str) -> Result<()> {
        let result = store.remove_escalation_policy(department).await;
        let summary = result.as_ref().map(|()| format!("department {department}: no approval timeout"));
        self.audit_as(store, department, "vm.escalation.policy.remove", summary).await;
        result
    }

    /// One escalation pass at `now` (dry: what it would escalate, nothing
    /// written). Each escalation is audited and queued for its delegate.
    pub async fn vm_escalate(&self, store: &dyn RequestStore, now: OffsetDateTime, dry_run: bool) -> Result<Vec<EscalationStep>> {
        let by = self.actor_for(store);
        let (steps, escalated) = escalation::run(store, now, &by, dry_run).await?;
        for s in steps.iter().filter(|s| s.outcome == "escalated") {
            let line = format!(
                "request {} ({}): the {} step waited since {} (due {}); escalated to {}",
                s.request,
                s.vm,
                s.stage.as_str(),
                s.waiting_since,
                s.due_at,
                s.to
            );
            self.audit_as(store, &s.request, "vm.escalate", Ok(line)).await;
            if let Some(r) = escalated.iter().find(|r| r.id == s.request) {
                self.notify(Event::vm_escalated(r, s.stage.as_str(), &s.to, &s.waiting_since, s.timeout_hours)).await;
            }
        }
        Ok(steps)
    }

    /// The pass the app runs periodically, on the store of its settings.
    pub async fn vm_escalate_default(&self, now: OffsetDateTime) -> Result<Vec<EscalationStep>> {
        let store = self.vm_default_store().await?;
        self.vm_escalate(store.as_ref(), now, false).await
    }
}

impl Backend {
    /// How the acting user may decide request `id` besides as themselves:
    /// on behalf of each approver whose delegation to them is in force now,
    /// and as the escalation delegate of an escalated step.
    pub async fn vm_decision_ways(&self, store: &dyn RequestStore, id: &str) -> Result<Vec<delegation::Via>> {
        let req = store.get(id).await?.compose();
        let now = now_rfc3339();
        let all = delegation::list(store, &now).await?;
        Ok(delegation::ways_for(&req, &all, &self.actor_for(store), &now))
    }
}

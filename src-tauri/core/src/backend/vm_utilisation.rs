//! Utilisation on the backend: host and cluster usage and idle VMs of a
//! vCenter (a read: not audited), idle VMs in the compliance report, and
//! the reclaim of an idle VM through the lease path (audited, notified).

use super::Backend;
use crate::error::{Error, Result};
use crate::vms::compliance::Finding;
use crate::vms::model::VmRequest;
use crate::vms::reclaim;
use crate::vms::store::RequestStore;
use crate::vms::utilisation::{self, IdleRules, IdleVerdict, UtilisationReport};

impl Backend {
    /// Host and cluster usage and the verdict on every powered-on VM of
    /// `vcenter`, with `rules` (or the saved ones).
    pub async fn vm_utilisation(&self, vcenter: &str, rules: Option<IdleRules>) -> Result<UtilisationReport> {
        let rules = match rules {
            Some(r) => r,
            None => self.vm_settings().await?.idle,
        };
        rules.validate()?;
        let inv = self.vm_inventory(vcenter).await?;
        let vim = self.vim(vcenter).await?;
        let result = utilisation::report(&vim.client, &inv, &rules).await;
        if result.is_err() {
            // A dead session is dropped so the next call logs in again.
            if let Ok(mut m) = self.vim_sessions.lock() {
                m.remove(vcenter);
            }
        }
        result
    }

    /// The compliance findings of idle VMs (rule `idle`), beside the
    /// powered-off rule: the saved idle rules over `vcenter`.
    pub async fn vm_idle_findings(&self, vcenter: &str) -> Result<Vec<Finding>> {
        let report = self.vm_utilisation(vcenter, None).await?;
        Ok(report
            .vms
            .iter()
            .filter(|v| v.verdict == IdleVerdict::Idle)
            .map(|v| Finding {
                vm: v.name.clone(),
                vm_id: v.vm_id.clone(),
                rule: "idle".into(),
                detail: format!("idle over the last {} h: {}", report.rules.window_hours, v.detail.trim_start_matches("idle: ")),
                owner: v.owner.clone(),
                department: v.department.clone(),
            })
            .collect())
    }

    /// Files the reclaim of request `id`'s VM (its lease to end on
    /// `lease_end`), decided by the department's manager. Audited
    /// (`vm.reclaim`, refusals too) and queued for the managers.
    pub async fn vm_reclaim(&self, store: &dyn RequestStore, id: &str, lease_end: &str, reason: &str) -> Result<VmRequest> {
        let result = reclaim::request_reclaim(store, id, lease_end, reason, &self.actor).await;
        let summary: Result<String, &Error> = result.as_ref().map(|r| {
            format!(
                "request {id} ({}): reclaim asked, lease to end {lease_end} instead of {}: {}",
                r.spec.name,
                r.spec.lease_end,
                reason.trim()
            )
        });
        self.audit_as(store, id, "vm.reclaim", summary).await;
        if let Ok(r) = &result {
            let n = r.extensions.iter().map(|e| e.n).max().unwrap_or(0);
            self.notify(reclaim::waiting_event(r, n, &crate::vms::workflow::actor(store, &self.actor))).await;
        }
        result
    }
}

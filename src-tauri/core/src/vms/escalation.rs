//! Approval timeouts: per department, a request that waits for a step longer
//! than the department's timeout is escalated to the department's named
//! escalation delegate, who may then decide that step (see
//! [`super::delegation::authorises`]). The escalation is recorded with the
//! request (the time, the step, to whom) and the delegate is told through
//! the notification outbox.
//!
//! [`run`] is one idempotent pass (the app runs it periodically, the CLI as
//! `opsdeck vm escalate [--dry-run] [--at TIME]`): each escalation is written
//! once per step and request revision, created only if absent (etcd: a
//! transaction on the key's create revision; SQLite: the row's primary key),
//! so of two passes at once exactly one escalates and notifies. An edit of
//! the request voids its escalations: the wait starts again.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::delegation::{instant, user_name};
use super::model::{Stage, State, VmRequest};
use super::store::{Records, RequestStore};
use crate::error::{Error, Result};

/// A department's approval timeout and the person a late step goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct EscalationPolicy {
    pub department: String,
    /// Hours a step may wait before it is escalated (1 to 8760).
    pub timeout_hours: u32,
    /// The named escalation delegate (a user name).
    pub escalate_to: String,
}

/// One escalation as stored (etcd: `vms/escalations/<stage>/<id>`; SQLite:
/// `vm_escalations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct EscalationRecord {
    pub stage: Stage,
    pub to: String,
    /// When the pass escalated it (its `--at` time when one was given).
    pub at: String,
    /// Since when the step waited.
    pub waiting_since: String,
    pub timeout_hours: u32,
    /// Who ran the pass.
    pub by: String,
    /// The request revision it is about (an edit voids it).
    pub request_revision: i64,
}

/// An escalation as shown on the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Escalation {
    pub stage: Stage,
    pub to: String,
    pub at: String,
    pub waiting_since: String,
    pub timeout_hours: u32,
}

/// What a pass did (or, dry, would do) for one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct EscalationStep {
    pub request: String,
    pub vm: String,
    pub department: String,
    pub stage: Stage,
    pub to: String,
    pub waiting_since: String,
    /// When the step became late (waiting since + timeout).
    pub due_at: String,
    pub timeout_hours: u32,
    /// `escalated`, `would_escalate`, `already_escalated` (another pass was
    /// first), or `skipped` (the delegate may not decide it; see `detail`).
    pub outcome: String,
    pub detail: String,
}

pub fn validate_policy(p: EscalationPolicy) -> Result<EscalationPolicy> {
    let department = p.department.trim().to_string();
    if department.is_empty() || department.contains('/') || department.len() > 64 {
        return Err(Error::invalid(format!("department \"{}\": 1-64 characters, no '/'", p.department)));
    }
    if p.timeout_hours == 0 || p.timeout_hours > 8760 {
        return Err(Error::invalid(format!("timeout: {} hours is outside 1-8760 hours", p.timeout_hours)));
    }
    let escalate_to = user_name("escalate to", &p.escalate_to)?;
    Ok(EscalationPolicy { department, timeout_hours: p.timeout_hours, escalate_to })
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Since when the open step of `req` waits: its filing or last edit (manager
/// step), the manager's approval (admin step).
pub fn waiting_since(r: &Records, req: &VmRequest) -> Option<(Stage, String)> {
    match req.state {
        State::PendingManager => {
            let rec = &r.request.value;
            Some((Stage::Manager, rec.edited_at.clone().unwrap_or_else(|| rec.created_at.clone())))
        }
        State::PendingAdmin => req.decisions.iter().find(|d| d.stage == Stage::Manager && d.approved).map(|d| (Stage::Admin, d.at.clone())),
        _ => None,
    }
}

/// Whether an escalation was written once its step was late by the
/// department's policy (the readers' check of a stored one).
pub fn due_by_policy(e: &EscalationRecord, p: &EscalationPolicy) -> bool {
    match (instant(&e.waiting_since), instant(&e.at)) {
        (Some(since), Some(at)) => at >= since + time::Duration::hours(i64::from(p.timeout_hours)),
        _ => false,
    }
}

/// The escalations of the request's current revision, as shown on it.
pub fn shown(r: &Records) -> Vec<Escalation> {
    let mut out: Vec<Escalation> = r
        .delegation
        .escalations
        .iter()
        .filter(|e| e.value.request_revision == r.request.revision)
        .map(|e| Escalation {
            stage: e.value.stage,
            to: e.value.to.clone(),
            at: e.value.at.clone(),
            waiting_since: e.value.waiting_since.clone(),
            timeout_hours: e.value.timeout_hours,
        })
        .collect();
    out.sort_by_key(|e| e.stage == Stage::Admin);
    out
}

/// What escalating `r` at `now` would be: `None` when it is not late, not
/// waiting, its department has no policy, or its step is already escalated.
fn step_for(r: &Records, policies: &[EscalationPolicy], now: OffsetDateTime) -> Option<(EscalationStep, EscalationRecord)> {
    let req = r.compose();
    let (stage, since) = waiting_since(r, &req)?;
    let p = policies.iter().find(|p| p.department == req.spec.department)?;
    let due = instant(&since)? + time::Duration::hours(i64::from(p.timeout_hours));
    if now < due {
        return None;
    }
    let already = r.delegation.escalations.iter().any(|e| e.value.stage == stage && e.value.request_revision == r.request.revision);
    if already {
        return None;
    }
    let manager = req.decisions.iter().find(|d| d.stage == Stage::Manager && d.approved);
    let skip = if p.escalate_to == req.requester {
        format!(
            "{} filed this request: it cannot be escalated to them; name another escalation delegate for {}",
            p.escalate_to, p.department
        )
    } else if stage == Stage::Admin
        && manager.is_some_and(|m| m.actor == p.escalate_to || m.on_behalf_of.as_deref() == Some(&p.escalate_to))
    {
        format!("{} approved the manager step: the admin step needs a third person", p.escalate_to)
    } else {
        String::new()
    };
    let step = EscalationStep {
        request: req.id.clone(),
        vm: req.spec.name.clone(),
        department: req.spec.department.clone(),
        stage,
        to: p.escalate_to.clone(),
        waiting_since: since.clone(),
        due_at: rfc3339(due),
        timeout_hours: p.timeout_hours,
        outcome: if skip.is_empty() { "would_escalate".into() } else { "skipped".into() },
        detail: skip,
    };
    let rec = EscalationRecord {
        stage,
        to: p.escalate_to.clone(),
        at: rfc3339(now),
        waiting_since: since,
        timeout_hours: p.timeout_hours,
        by: String::new(),
        request_revision: r.request.revision,
    };
    Some((step, rec))
}

/// One pass at `now`: every late step escalated once (dry: listed only).
/// Returns each step with its outcome, and the requests escalated by this
/// pass (for the notifications).
pub async fn run(store: &dyn RequestStore, now: OffsetDateTime, by: &str, dry_run: bool) -> Result<(Vec<EscalationStep>, Vec<VmRequest>)> {
    let policies = store.escalation_policies().await?;
    if policies.is_empty() {
        return Ok((vec![], vec![]));
    }
    let listing = store.list().await?;
    let mut steps = Vec::new();
    let mut escalated = Vec::new();
    for r in &listing.records {
        let Some((mut step, mut rec)) = step_for(r, &policies, now) else { continue };
        if dry_run || step.outcome == "skipped" {
            steps.push(step);
            continue;
        }
        rec.by = by.to_string();
        match store.put_escalation(r, &rec).await {
            Ok(Some(after)) => {
                step.outcome = "escalated".into();
                escalated.push(after.compose());
            }
            Ok(None) => step.outcome = "already_escalated".into(),
            // The request moved meanwhile (decided, edited): the next pass sees it as it is now.
            Err(Error::Conflict(why)) => {
                step.outcome = "already_escalated".into();
                step.detail = why;
            }
            Err(e) => return Err(e),
        }
        steps.push(step);
    }
    steps.sort_by(|a, b| a.request.cmp(&b.request).then_with(|| a.stage.as_str().cmp(b.stage.as_str())));
    Ok((steps, escalated))
}

pub async fn set_policy(store: &dyn RequestStore, p: EscalationPolicy) -> Result<EscalationPolicy> {
    let p = validate_policy(p)?;
    store.set_escalation_policy(&p).await?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_are_checked() {
        let p = |d: &str, h: u32, to: &str| EscalationPolicy { department: d.into(), timeout_hours: h, escalate_to: to.into() };
        assert!(validate_policy(p("qa", 48, "eve")).is_ok());
        assert!(validate_policy(p("qa", 0, "eve")).unwrap_err().to_string().contains("1-8760"));
        assert!(validate_policy(p("qa", 9000, "eve")).is_err());
        assert!(validate_policy(p("", 48, "eve")).is_err());
        assert!(validate_policy(p("qa", 48, "")).is_err());
        assert!(validate_policy(p("q/a", 48, "eve")).is_err());
    }

    #[test]
    fn an_escalation_counts_only_once_the_step_was_late() {
        let p = EscalationPolicy { department: "qa".into(), timeout_hours: 48, escalate_to: "eve".into() };
        let rec = |at: &str| EscalationRecord {
            stage: Stage::Manager,
            to: "eve".into(),
            at: at.into(),
            waiting_since: "2026-12-01T10:00:00Z".into(),
            timeout_hours: 48,
            by: "x".into(),
            request_revision: 1,
        };
        assert!(due_by_policy(&rec("2026-12-03T10:00:00Z"), &p));
        assert!(!due_by_policy(&rec("2026-12-03T09:59:59Z"), &p));
        assert!(!due_by_policy(&rec("garbage"), &p));
    }
}

//! The approval chain: submission with the automatic quota check, then the
//! department manager, then the IT admin. Each step is one compare-and-set
//! in the store, so of two approvers acting at once exactly one wins.
//!
//! In a shared store the three are different people: the requester cannot
//! decide their own request and the admin cannot be the manager who
//! approved it. Checked here before anything is written, and again by
//! [`super::store::compose`] on every read (a decision written around
//! Opsdeck does not count). Only the requester may edit or withdraw their
//! request; an edit voids every decision made on it.

use super::inventory::Inventory;
use super::model::{Decision, QuotaCheck, RequestSpec, Stage, State, VmRequest};
use super::store::{RequestRecord, RequestStore, StoreProblem, Withdrawal};
use super::{quota, validate};
use crate::cache::db::now_rfc3339;
use crate::error::{Error, Result};

/// Who is acting: the identity the store authenticates wins over the app's.
pub fn actor(store: &dyn RequestStore, app_actor: &str) -> String {
    store.authenticated_user().unwrap_or_else(|| app_actor.to_string())
}

pub fn new_id() -> String {
    let day = time::OffsetDateTime::now_utc().date();
    let fmt = time::macros::format_description!("[year][month][day]");
    let rand = uuid::Uuid::new_v4().simple().to_string();
    format!("r{}-{}", day.format(&fmt).unwrap_or_default(), &rand[..8])
}

pub async fn list(store: &dyn RequestStore) -> Result<Vec<VmRequest>> {
    Ok(list_with_problems(store).await?.0)
}

/// Every request (newest first), and the store keys skipped as malformed or misplaced.
pub async fn list_with_problems(store: &dyn RequestStore) -> Result<(Vec<VmRequest>, Vec<StoreProblem>)> {
    let listing = store.list().await?;
    let mut out: Vec<VmRequest> = listing.records.iter().map(|r| r.compose()).collect();
    out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
    Ok((out, listing.problems))
}

/// Validates the form (against the inventory when one is given), runs the
/// quota check and stores the request: `PendingManager`, or `Rejected`
/// with the quota lines when the department would go over its quota.
pub async fn submit(
    store: &dyn RequestStore,
    spec: RequestSpec,
    inventory: Option<&Inventory>,
    limits: &validate::Limits,
    app_actor: &str,
    estimate: Option<crate::showback::CostEstimate>,
) -> Result<VmRequest> {
    let spec = validate::spec(spec, limits, validate::today())?;
    let requests = list(store).await?;
    if let Some(inv) = inventory {
        validate::against_inventory(&spec, inv, &requests, None)?;
    }
    let check = quota_check(store, &spec, &requests, inventory, None).await?;
    let record = RequestRecord {
        id: new_id(),
        spec,
        requester: actor(store, app_actor),
        created_at: now_rfc3339(),
        quota: check,
        withdrawn: None,
        edited_at: None,
        estimate,
        auto_approval: None,
    };
    super::rules::file(store, record, inventory).await
}

async fn quota_check(
    store: &dyn RequestStore,
    spec: &RequestSpec,
    requests: &[VmRequest],
    inventory: Option<&Inventory>,
    except: Option<&str>,
) -> Result<QuotaCheck> {
    let quotas = store.quotas().await?;
    let q = quotas.iter().find(|(d, _)| *d == spec.department).map(|(_, q)| q);
    Ok(quota::check(spec, q, quota::usage(&spec.department, requests, inventory, except)))
}

/// Records a manager's or an admin's decision. A rejection needs a reason.
/// The admin step re-runs the quota check (quotas and use change while a
/// request waits) and refuses to approve over quota.
pub async fn decide(
    store: &dyn RequestStore,
    id: &str,
    stage: Stage,
    approved: bool,
    comment: &str,
    inventory: Option<&Inventory>,
    app_actor: &str,
) -> Result<VmRequest> {
    decide_via(store, id, stage, approved, comment, inventory, app_actor, &super::delegation::Via::Own).await
}

/// [`decide`] as a delegate of an approver or as the department's
/// escalation delegate (see [`super::delegation`]): refused unless that
/// delegation or escalation is in force now; recorded "on behalf of".
#[allow(clippy::too_many_arguments)]
pub async fn decide_via(
    store: &dyn RequestStore,
    id: &str,
    stage: Stage,
    approved: bool,
    comment: &str,
    inventory: Option<&Inventory>,
    app_actor: &str,
    via: &super::delegation::Via,
) -> Result<VmRequest> {
    let comment = comment.trim();
    if comment.chars().count() > 1000 {
        return Err(Error::invalid("comment: at most 1000 characters"));
    }
    if !approved && comment.is_empty() {
        return Err(Error::invalid("a rejection needs a reason in the comment"));
    }
    let current = store.get(id).await?;
    let req = current.compose();
    let expected = match stage {
        Stage::Manager => State::PendingManager,
        Stage::Admin => State::PendingAdmin,
    };
    if req.state != expected {
        return Err(Error::Conflict(format!(
            "request {id} is {}: the {} step is not open (it needs {})",
            req.state.as_str(),
            stage.as_str(),
            expected.as_str()
        )));
    }
    let me = actor(store, app_actor);
    if store.trust().proves_identity() {
        separate_duties(&req, stage, &me)?;
    }
    super::delegation::check_decision(store, &current, &req, stage, &me, via).await?;
    if approved && stage == Stage::Admin {
        let requests = list(store).await?;
        let check = quota_check(store, &req.spec, &requests, inventory, Some(id)).await?;
        if !check.ok {
            return Err(Error::invalid(format!(
                "approving would exceed the quota of {}: {}; reject it or raise the quota",
                req.spec.department,
                check.lines.join("; ")
            )));
        }
    }
    let mut decision =
        Decision { stage, approved, actor: me, at: now_rfc3339(), comment: comment.to_string(), on_behalf_of: None, escalated: false };
    via.stamp(&mut decision);
    Ok(store.decide(&current, stage, &decision).await?.compose())
}

/// Requester, manager approver and admin approver are three people.
fn separate_duties(req: &VmRequest, stage: Stage, me: &str) -> Result<()> {
    if req.requester == me {
        return Err(Error::Forbidden(format!("{me} filed request {} and cannot decide it: another {} must", req.id, stage.as_str())));
    }
    if stage == Stage::Admin {
        if let Some(m) = req.decisions.iter().find(|d| d.stage == Stage::Manager && d.actor == me) {
            return Err(Error::Forbidden(format!(
                "{} approved request {} as manager: the admin step needs another person",
                m.actor, req.id
            )));
        }
    }
    Ok(())
}

/// States in which the requester may still change or withdraw a request:
/// no VM exists for it and none is being built.
fn changeable(state: State) -> bool {
    matches!(state, State::PendingManager | State::PendingAdmin | State::Approved | State::Rejected | State::Failed)
}

/// The requester changes their request: validated and quota-checked again;
/// every decision made on it no longer applies (it needs approving again).
pub async fn edit(
    store: &dyn RequestStore,
    id: &str,
    spec: RequestSpec,
    inventory: Option<&Inventory>,
    limits: &validate::Limits,
    app_actor: &str,
    estimate: Option<crate::showback::CostEstimate>,
) -> Result<VmRequest> {
    let current = store.get(id).await?;
    let req = current.compose();
    owned_and_changeable(store, &req, app_actor, "edit")?;
    let spec = validate::spec(spec, limits, validate::today())?;
    if spec.name != req.spec.name {
        return Err(Error::invalid(format!(
            "the VM name cannot change (it is reserved as \"{}\"): withdraw this request and file a new one",
            req.spec.name
        )));
    }
    let requests = list(store).await?;
    if let Some(inv) = inventory {
        validate::against_inventory(&spec, inv, &requests, Some(id))?;
    }
    let check = quota_check(store, &spec, &requests, inventory, Some(id)).await?;
    let mut record = current.request.value.clone();
    record.spec = spec;
    record.quota = check;
    record.edited_at = Some(now_rfc3339());
    record.estimate = estimate;
    // An edited request goes to the manager: a rule approves only as filed.
    record.auto_approval = None;
    Ok(store.update(&current, &record).await?.compose())
}

/// The requester withdraws their request (kept, with the reason, in history).
pub async fn withdraw(store: &dyn RequestStore, id: &str, comment: &str, app_actor: &str) -> Result<VmRequest> {
    let comment = comment.trim();
    if comment.chars().count() > 1000 {
        return Err(Error::invalid("comment: at most 1000 characters"));
    }
    let current = store.get(id).await?;
    let req = current.compose();
    owned_and_changeable(store, &req, app_actor, "withdraw")?;
    let mut record = current.request.value.clone();
    record.withdrawn = Some(Withdrawal { at: now_rfc3339(), comment: comment.to_string() });
    Ok(store.update(&current, &record).await?.compose())
}

fn owned_and_changeable(store: &dyn RequestStore, req: &VmRequest, app_actor: &str, what: &str) -> Result<()> {
    let me = actor(store, app_actor);
    if store.trust() != super::store::Trust::Personal && req.requester != me {
        return Err(Error::Forbidden(format!("request {} is {}'s: only they can {what} it (you are {me})", req.id, req.requester)));
    }
    if !changeable(req.state) {
        return Err(Error::Conflict(format!(
            "request {} is {}: it can no longer be changed or withdrawn{}",
            req.id,
            req.state.as_str(),
            if req.state.holds_vm() { "; its VM exists (a lease extension or reclaim goes through an admin)" } else { "" }
        )));
    }
    Ok(())
}

/// The requester asks to extend the lease of their provisioned VM: its own
/// small request, which the department's manager approves. Within the
/// department's longest total lease (its quota), counted from the request.
pub async fn request_extension(store: &dyn RequestStore, id: &str, lease_end: &str, reason: &str, app_actor: &str) -> Result<VmRequest> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Error::invalid("reason: say why the VM is needed longer (at most 500 characters)"));
    }
    let end = validate::parse_date("lease end", lease_end)?;
    let current = store.get(id).await?;
    let req = current.compose();
    let me = actor(store, app_actor);
    if store.trust() != super::store::Trust::Personal && req.requester != me {
        return Err(Error::Forbidden(format!("request {id} is {}'s: only they can ask to extend its lease", req.requester)));
    }
    if req.state != State::Provisioned {
        return Err(Error::Conflict(format!("request {id} is {}: only a provisioned VM's lease can be extended", req.state.as_str())));
    }
    if end.to_string() <= req.spec.lease_end {
        return Err(Error::invalid(format!("lease end {end}: must be after the current one ({})", req.spec.lease_end)));
    }
    if req.extensions.iter().any(|e| e.state == super::model::ExtensionState::Pending) {
        return Err(Error::Conflict(format!("request {id} already has an extension waiting for the manager")));
    }
    if current.max_lease_days > 0 {
        let days = super::store::compose::total_lease_days(&req.created_at, &end.to_string()).unwrap_or(i64::MAX);
        if days > i64::from(current.max_lease_days) {
            return Err(Error::invalid(format!(
                "a lease to {end} is {days} days in all: {} allows at most {} days",
                req.spec.department, current.max_lease_days
            )));
        }
    }
    let n = req.extensions.iter().map(|e| e.n).max().unwrap_or(0) + 1;
    let ext = super::store::ExtensionRecord { n, lease_end: end.to_string(), reason: reason.to_string(), at: now_rfc3339() };
    Ok(store.put_extension(&current, &ext).await?.compose())
}

/// The department's manager approves or rejects extension `n` (never the requester).
pub async fn decide_extension(
    store: &dyn RequestStore,
    id: &str,
    n: u32,
    approved: bool,
    comment: &str,
    app_actor: &str,
) -> Result<VmRequest> {
    let comment = comment.trim();
    if !approved && comment.is_empty() {
        return Err(Error::invalid("a rejection needs a reason in the comment"));
    }
    let current = store.get(id).await?;
    let req = current.compose();
    let me = actor(store, app_actor);
    if store.trust().proves_identity() && req.requester == me {
        return Err(Error::Forbidden(format!("{me} asked for this extension and cannot decide it: the department's manager must")));
    }
    match req.extensions.iter().find(|e| e.n == n) {
        Some(e) if e.state == super::model::ExtensionState::Pending => {}
        Some(e) => return Err(Error::Conflict(format!("extension {n} of request {id} is already {:?}", e.state).to_lowercase())),
        None => return Err(Error::NotFound(format!("request {id} has no extension {n}"))),
    }
    let decision = Decision {
        stage: Stage::Manager,
        approved,
        actor: me,
        at: now_rfc3339(),
        comment: comment.to_string(),
        on_behalf_of: None,
        escalated: false,
    };
    Ok(store.decide_extension(&current, n, &decision).await?.compose())
}

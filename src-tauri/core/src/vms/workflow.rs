//! The approval chain: submission with the automatic quota check, then the
//! department manager, then the IT admin. Each step is one compare-and-set
//! in the store, so of two approvers acting at once exactly one wins.

use super::inventory::Inventory;
use super::model::{Decision, QuotaCheck, RequestSpec, Stage, State, VmRequest};
use super::store::{RequestRecord, RequestStore};
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
    let mut out: Vec<VmRequest> = store.list().await?.iter().map(|r| r.compose()).collect();
    out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
    Ok(out)
}

/// Validates the form (against the inventory when one is given), runs the
/// quota check and stores the request: `PendingManager`, or `Rejected`
/// with the quota lines when the department would go over its quota.
pub async fn submit(store: &dyn RequestStore, spec: RequestSpec, inventory: Option<&Inventory>, limits: &validate::Limits, app_actor: &str) -> Result<VmRequest> {
    let spec = validate::spec(spec, limits, validate::today())?;
    let requests = list(store).await?;
    if let Some(inv) = inventory {
        validate::against_inventory(&spec, inv, &requests, None)?;
    }
    let check = quota_check(store, &spec, &requests, inventory, None).await?;
    let record = RequestRecord { id: new_id(), spec, requester: actor(store, app_actor), created_at: now_rfc3339(), quota: check };
    Ok(store.create(&record).await?.compose())
}

async fn quota_check(store: &dyn RequestStore, spec: &RequestSpec, requests: &[VmRequest], inventory: Option<&Inventory>, except: Option<&str>) -> Result<QuotaCheck> {
    let quotas = store.quotas().await?;
    let q = quotas.iter().find(|(d, _)| *d == spec.department).map(|(_, q)| q);
    Ok(quota::check(spec, q, quota::usage(&spec.department, requests, inventory, except)))
}

/// Records a manager's or an admin's decision. A rejection needs a reason.
/// The admin step re-runs the quota check (quotas and use change while a
/// request waits) and refuses to approve over quota.
pub async fn decide(store: &dyn RequestStore, id: &str, stage: Stage, approved: bool, comment: &str, inventory: Option<&Inventory>, app_actor: &str) -> Result<VmRequest> {
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
    if approved && stage == Stage::Admin {
        let requests = list(store).await?;
        let check = quota_check(store, &req.spec, &requests, inventory, Some(id)).await?;
        if !check.ok {
            return Err(Error::invalid(format!("approving would exceed the quota of {}: {}; reject it or raise the quota", req.spec.department, check.lines.join("; "))));
        }
    }
    let decision = Decision { stage, approved, actor: actor(store, app_actor), at: now_rfc3339(), comment: comment.to_string() };
    Ok(store.decide(&current, stage, &decision).await?.compose())
}

//! Reclaiming an idle VM through the lease path: a request to bring the
//! lease of a provisioned VM forward, filed as a lease change beside the
//! requester's extensions (the same record, the same compare-and-set, the
//! same decision by the department's manager — never by whoever filed it).
//! Once approved the lease in force ends on the new date and the lifecycle
//! does the rest: warning, power-off at the end, destroy after the grace
//! period (`docs/vm-leases.md`). Nothing is powered off or destroyed here.

use super::model::{ExtensionState, State, VmRequest};
use super::store::{ExtensionRecord, RequestStore, Trust};
use super::validate;
use super::workflow::actor;
use crate::cache::db::now_rfc3339;
use crate::error::{Error, Result};

/// Prefix of the reason of a lease change that brings the lease forward
/// (how the app and the notifications tell it from an extension).
pub const RECLAIM_PREFIX: &str = "Reclaim: ";

/// Whether extension record `reason` is a reclaim (lease brought forward).
pub fn is_reclaim(reason: &str) -> bool {
    reason.starts_with(RECLAIM_PREFIX)
}

/// Files a reclaim of request `id`'s VM: its lease to end on `lease_end`
/// (today or later, before the lease in force), with `reason` (the idle
/// figures). In a shared store only the VM's requester can write beside
/// their request (etcd roles), so anyone else is told whom to ask.
pub async fn request_reclaim(store: &dyn RequestStore, id: &str, lease_end: &str, reason: &str, app_actor: &str) -> Result<VmRequest> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(Error::invalid("reason: say why the VM can go (e.g. the idle figures; at most 500 characters)"));
    }
    let end = validate::parse_date("lease end", lease_end)?;
    let today = time::OffsetDateTime::now_utc().date();
    if end < today {
        return Err(Error::invalid(format!("lease end {end}: must be today ({today}) or later")));
    }
    let current = store.get(id).await?;
    let req = current.compose();
    let me = actor(store, app_actor);
    if req.state != State::Provisioned {
        return Err(Error::Conflict(format!(
            "request {id} is {}: only a provisioned VM's lease can be brought forward",
            req.state.as_str()
        )));
    }
    if end.to_string() >= req.spec.lease_end {
        return Err(Error::invalid(format!(
            "lease end {end}: a reclaim brings the lease forward, so it must be before the current end ({})",
            req.spec.lease_end
        )));
    }
    if store.trust() != Trust::Personal && req.requester != me {
        return Err(Error::Forbidden(format!(
            "request {id} is {}'s: in the team store only they can file a lease change beside it (you are {me}); \
             ask them to hand the VM back with `opsdeck vm reclaim {id}`, or their manager to let the lease run out",
            req.requester
        )));
    }
    if req.extensions.iter().any(|e| e.state == ExtensionState::Pending) {
        return Err(Error::Conflict(format!("request {id} already has a lease change waiting for the manager")));
    }
    let n = req.extensions.iter().map(|e| e.n).max().unwrap_or(0) + 1;
    let ext = ExtensionRecord { n, lease_end: end.to_string(), reason: format!("{RECLAIM_PREFIX}{reason}"), at: now_rfc3339() };
    Ok(store.put_extension(&current, &ext).await?.compose())
}

/// The notification of a filed reclaim, to the department's managers.
pub fn waiting_event(r: &VmRequest, n: u32, filed_by: &str) -> crate::notify::Event {
    let mut e = crate::notify::Event::vm_extension(r, n, crate::notify::EventKind::VmRequestWaitingManager, "");
    let ext = r.extensions.iter().find(|x| x.n == n);
    let until = ext.map_or("", |x| x.lease_end.as_str());
    let why = ext.map_or("", |x| x.reason.trim_start_matches(RECLAIM_PREFIX));
    e.title = format!("Reclaim of idle VM {} waits for your approval (manager of {})", r.spec.name, r.spec.department);
    e.text = format!(
        "{filed_by} asks to end the lease of VM {} (request {}, {}'s) on {until} instead of {}: {why}\n\
         Approve: opsdeck vm decide-extension {} {n} --comment …; once approved the lifecycle warns, powers it off on {until} and destroys it after the grace period.",
        r.spec.name, r.id, r.requester, r.spec.lease_end, r.id
    );
    e
}

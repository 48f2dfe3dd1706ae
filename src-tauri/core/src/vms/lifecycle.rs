//! Lifecycle of provisioned VMs, run while the app is open and from
//! `opsdeck vm lifecycle` (cron, systemd timers):
//! - scheduled snapshots (daily/weekly) named `Scheduled-YYYYMMDD-HHMM`,
//!   removed after the retention period (the `Initial-` snapshot is kept);
//! - lease expiry: a warning `warn_days` before, power-off at expiry
//!   (`Expired`), destroy after `grace_days` (`Reclaimed`).
//!
//! Each step is done once (recorded on the request) and reported for the
//! audit log. `now` is a parameter so schedules are testable.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::inventory::{self, parse_time};
use super::model::{Asset, State, Transition, VmRequest};
use super::provision::record_run;
use super::store::{Records, RequestStore};
use super::validate::parse_date;
use super::vsphere::Vim;
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct LifecyclePolicy {
    pub retention_days: i64,
    pub warn_days: i64,
    pub grace_days: i64,
}

impl Default for LifecyclePolicy {
    fn default() -> Self {
        LifecyclePolicy { retention_days: 7, warn_days: 3, grace_days: 7 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Action {
    pub request: String,
    pub vm: String,
    /// `snapshot`, `snapshot_removed`, `lease_warning`, `power_off`, `reclaim`, `vm_missing`.
    pub action: String,
    pub ok: bool,
    pub detail: String,
}

pub const SCHEDULED_PREFIX: &str = "Scheduled-";

fn snapshot_name(now: OffsetDateTime) -> String {
    let fmt = time::macros::format_description!("[year][month][day]-[hour][minute]");
    format!("{SCHEDULED_PREFIX}{}", now.format(&fmt).unwrap_or_default())
}

fn stamp(now: OffsetDateTime) -> String {
    now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn moved(now: OffsetDateTime, from: State, to: State, actor: &str, comment: String) -> Transition {
    Transition { at: stamp(now), actor: actor.into(), from: Some(from), to, comment }
}

/// One pass over every provisioned or expired request. A request whose
/// step fails (vCenter refuses, the store write conflicts) is reported as a
/// failed action and the pass goes on with the others.
pub async fn run(store: &dyn RequestStore, vim: &Vim, now: OffsetDateTime, policy: &LifecyclePolicy, actor: &str) -> Result<Vec<Action>> {
    // Boxed: the inventory load is a large future (eight retrievals at once).
    let inv = Box::pin(inventory::load(&vim.client)).await?;
    let instance = format!("lifecycle-{}-{}", crate::backend::os_user(), std::process::id());
    let mut actions = Vec::new();
    for recs in store.list().await?.records {
        let req = recs.compose();
        if !req.state.holds_vm() {
            continue;
        }
        let Some(asset) = req.asset.clone() else { continue };
        let failed = |e: crate::Error| Action {
            request: req.id.clone(),
            vm: asset.name.clone(),
            action: "error".into(),
            ok: false,
            detail: e.to_string(),
        };
        // One actor per request at a time: two app instances and a timer
        // running passes at once never both snapshot or power off one VM.
        let lock = match store.lock(&req.id, &instance).await {
            Ok(Some(l)) => l,
            Ok(None) => {
                actions.push(Action {
                    request: req.id.clone(),
                    vm: asset.name.clone(),
                    action: "skipped".into(),
                    ok: true,
                    detail: "another Opsdeck instance is acting on this request now".into(),
                });
                continue;
            }
            Err(e) => {
                actions.push(failed(e));
                continue;
            }
        };
        // The records again, under the lock: another pass may have just acted.
        let step = async {
            let recs = store.get(&req.id).await?;
            let req = recs.compose();
            let Some(asset) = req.asset.clone().filter(|_| req.state.holds_vm()) else {
                return Ok(());
            };
            // Boxed: a large future (every vSphere call inlined); keeps callers' stacks small.
            Box::pin(one(store, vim, &inv, recs, &req, &asset, now, policy, actor, &mut actions)).await
        };
        let result = step.await;
        lock.release().await;
        if let Err(e) = result {
            actions.push(failed(e));
        }
    }
    Ok(actions)
}

#[allow(clippy::too_many_arguments)]
async fn one(
    store: &dyn RequestStore,
    vim: &Vim,
    inv: &inventory::Inventory,
    mut recs: Records,
    req: &VmRequest,
    asset: &Asset,
    now: OffsetDateTime,
    policy: &LifecyclePolicy,
    actor: &str,
    actions: &mut Vec<Action>,
) -> Result<()> {
    {
        let mut act = |action: &str, ok: bool, detail: String| {
            actions.push(Action { request: req.id.clone(), vm: asset.name.clone(), action: action.into(), ok, detail })
        };
        let Some(vm) = inv.vms.iter().find(|v| v.id == asset.vm_id) else {
            let comment = format!("VM {} ({}) no longer exists in vCenter", asset.name, asset.vm_id);
            let state = req.state;
            record_run(store, &mut recs, |r| {
                r.state = State::Reclaimed;
                if let Some(a) = r.asset.as_mut() {
                    a.reclaimed_at = Some(stamp(now));
                }
                r.history.push(moved(now, state, State::Reclaimed, actor, comment.clone()));
            })
            .await?;
            act("vm_missing", true, comment);
            Box::pin(release_ip(store, req, &mut act)).await;
            return Ok(());
        };
        let lease: Date = parse_date("lease end", &req.spec.lease_end)?;
        let today = now.date();

        if req.state == State::Provisioned {
            if let Some(every) = req.spec.snapshot_schedule.interval_days() {
                // Due when the newest snapshot, or the newest one begun, is `every` days old.
                let newest = vm
                    .snapshots
                    .iter()
                    .filter_map(|s| parse_time(&s.created))
                    .chain(asset.snapshot_begun_at.as_deref().and_then(parse_time))
                    .max();
                let due = newest.is_none_or(|t| (now - t).whole_days() >= every);
                if due {
                    record_run(store, &mut recs, |r| {
                        if let Some(a) = r.asset.as_mut() {
                            a.snapshot_begun_at = Some(stamp(now));
                        }
                    })
                    .await?;
                }
                snapshots(vim, vm, now, due, policy.retention_days, &mut act).await;
            }
            if today > lease {
                let r = vim.ensure_off(&vm.id).await;
                let ok = r.is_ok();
                act(
                    "power_off",
                    ok,
                    match &r {
                        Ok(()) => format!("lease ended {lease}: powered off; destroyed after {} more days", policy.grace_days),
                        Err(e) => format!("lease ended {lease}: power-off failed: {e}"),
                    },
                );
                if ok {
                    record_run(store, &mut recs, |r| {
                        r.state = State::Expired;
                        if let Some(a) = r.asset.as_mut() {
                            a.powered_off_at = Some(stamp(now));
                        }
                        r.history.push(moved(now, State::Provisioned, State::Expired, actor, format!("lease ended {lease}: powered off")));
                    })
                    .await?;
                }
            } else if (lease - today).whole_days() <= policy.warn_days && asset.lease_warned_at.is_none() {
                let days = (lease - today).whole_days();
                act("lease_warning", true, format!("lease ends {lease} (in {days} days): the VM is powered off then; ask to extend it"));
                record_run(store, &mut recs, |r| {
                    if let Some(a) = r.asset.as_mut() {
                        a.lease_warned_at = Some(stamp(now));
                    }
                })
                .await?;
            }
        } else if req.state == State::Expired {
            let off_since = asset.powered_off_at.as_deref().and_then(parse_time).unwrap_or(now);
            if (now - off_since).whole_days() >= policy.grace_days {
                match vim.ensure_off(&vm.id).await {
                    Ok(()) => {}
                    Err(e) => {
                        act("reclaim", false, format!("power-off before destroy failed: {e}"));
                        return Ok(());
                    }
                }
                match vim.destroy(&vm.id).await {
                    Ok(()) => {
                        act("reclaim", true, format!("destroyed {} days after the lease ended", (today - lease).whole_days()));
                        record_run(store, &mut recs, |r| {
                            r.state = State::Reclaimed;
                            if let Some(a) = r.asset.as_mut() {
                                a.reclaimed_at = Some(stamp(now));
                            }
                            r.history.push(moved(
                                now,
                                State::Expired,
                                State::Reclaimed,
                                actor,
                                format!("grace period of {} days over: VM destroyed", policy.grace_days),
                            ));
                        })
                        .await?;
                        Box::pin(release_ip(store, req, &mut act)).await;
                    }
                    Err(e) => act("reclaim", false, format!("destroy failed: {e}")),
                }
            }
        }
    }
    Ok(())
}

/// Gives back the IP address of a request whose VM is gone (an action when it held one).
async fn release_ip(store: &dyn RequestStore, req: &VmRequest, act: &mut impl FnMut(&str, bool, String)) {
    let released = super::provision::release(store, &req.id).await;
    if let Some(detail) = released.strip_prefix("; ") {
        act("ip_release", !detail.starts_with("RELEASING"), detail.to_string());
    }
}

/// Takes a scheduled snapshot when `due`, and removes scheduled snapshots
/// older than the retention.
async fn snapshots(
    vim: &Vim,
    vm: &inventory::VmRow,
    now: OffsetDateTime,
    due: bool,
    retention_days: i64,
    act: &mut impl FnMut(&str, bool, String),
) {
    if due {
        let name = snapshot_name(now);
        match vim.snapshot(&vm.id, &name, "Scheduled by Opsdeck", &|_| {}).await {
            Ok(_) => act("snapshot", true, format!("took {name}")),
            Err(e) => act("snapshot", false, format!("snapshot {name} failed: {e}")),
        }
    }
    for s in vm.snapshots.iter().filter(|s| s.name.starts_with(SCHEDULED_PREFIX)) {
        let Some(t) = parse_time(&s.created) else { continue };
        let age = (now - t).whole_days();
        if age > retention_days {
            match vim.remove_snapshot(&s.id).await {
                Ok(()) => act("snapshot_removed", true, format!("removed {} ({age} days old, keeping {retention_days})", s.name)),
                Err(e) => act("snapshot_removed", false, format!("removing {} failed: {e}", s.name)),
            }
        }
    }
}

/// Days until the lease ends (negative once it has ended).
pub fn lease_days_left(lease_end: &str, now: OffsetDateTime) -> Option<i64> {
    parse_date("lease end", lease_end).ok().map(|d| (d - now.date()).whole_days())
}

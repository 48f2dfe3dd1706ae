//! Lifecycle of provisioned VMs, run while the app is open and from
//! `opsdeck vm lifecycle` (cron, systemd timers):
//! - scheduled snapshots (daily/weekly) named `Scheduled-YYYYMMDD-HHMM`,
//!   removed after the retention period (the `Initial-` snapshot is kept);
//! - lease expiry: a warning `warn_days` before, power-off at expiry
//!   (`Expired`), destroy after `grace_days` (`Reclaimed`).
//!
//! A pass is two halves: [`plan`] works out, from the store and one
//! inventory read, every step due at `now` and the capacity each department
//! gets back; [`execute`] does those steps. `opsdeck vm lifecycle --dry-run`
//! prints the plan and stops, so what it lists is what a real pass at the
//! same time does. Under each request's execution lock the plan of that
//! request is worked out again from fresh records: a step another pass has
//! just done is skipped, never done twice.
//!
//! Each step is done once (recorded on the request) and reported for the
//! audit log. `now` is a parameter so schedules are testable (`--at`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::inventory::{self, parse_time};
use super::model::{State, Transition, VmRequest};
use super::provision::record_run;
use super::store::{Records, RequestStore};
use super::validate::parse_date;
use super::vsphere::Vim;
use crate::error::Result;
use crate::vms::ipam::IpLease;

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
    /// `snapshot`, `snapshot_removed`, `lease_warning`, `power_off`, `reclaim`, `vm_missing`,
    /// `ip_release`, `skipped`, `error`.
    pub action: String,
    pub ok: bool,
    pub detail: String,
}

/// What a step gives back: VMs, vCPU, memory and disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename = "LifecycleCapacity")] // one name in the app's IPC types (clusters have a Capacity)
pub struct Capacity {
    pub vms: u32,
    pub vcpu: u32,
    pub memory_mb: u32,
    pub disk_gb: u32,
}

impl Capacity {
    fn add(&mut self, o: Capacity) {
        self.vms += o.vms;
        self.vcpu += o.vcpu;
        self.memory_mb += o.memory_mb;
        self.disk_gb += o.disk_gb;
    }

    pub fn is_zero(&self) -> bool {
        *self == Capacity::default()
    }
}

/// One step a pass does: the same action names as [`Action`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename = "LifecycleStep")] // its name in the app's IPC types
pub struct Step {
    pub request: String,
    pub vm: String,
    /// Managed object id in vCenter (empty for `vm_missing`).
    pub vm_id: String,
    pub department: String,
    /// `snapshot`, `snapshot_removed`, `lease_warning`, `power_off`, `reclaim`, `vm_missing`, `ip_release`.
    pub action: String,
    /// What and why, in words.
    pub detail: String,
    /// The snapshot a `snapshot_removed` step removes (its managed object id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// Running capacity back on the hosts (a power-off: the VM's vCPU and memory).
    pub frees_running: Capacity,
    /// Quota back to the department (a destroy: what its request counted).
    pub frees_quota: Capacity,
}

/// What one department gets back from a pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct DepartmentReturn {
    pub department: String,
    /// vCPU and memory no longer running (VMs powered off at their lease end).
    pub powered_off: Capacity,
    /// Quota freed (VMs destroyed after the grace period, or found gone).
    pub reclaimed: Capacity,
}

/// Every step due at `at`, in the order a pass does them, and the capacity
/// each department gets back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename = "LifecyclePlan")] // its name in the app's IPC types
pub struct Plan {
    pub at: String,
    pub steps: Vec<Step>,
    pub departments: Vec<DepartmentReturn>,
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

/// The plan of a pass at `now` over `records`, given one inventory read and
/// the IP addresses held. Pure: nothing is read or written.
pub fn plan(records: &[Records], inv: &inventory::Inventory, leases: &[IpLease], now: OffsetDateTime, policy: &LifecyclePolicy) -> Plan {
    let mut steps = Vec::new();
    for recs in records {
        steps.extend(plan_request(&recs.compose(), inv, leases, now, policy));
    }
    let mut by_dept: BTreeMap<String, DepartmentReturn> = BTreeMap::new();
    for s in &steps {
        if s.frees_running.is_zero() && s.frees_quota.is_zero() {
            continue;
        }
        let d = by_dept.entry(s.department.clone()).or_insert_with(|| DepartmentReturn {
            department: s.department.clone(),
            powered_off: Capacity::default(),
            reclaimed: Capacity::default(),
        });
        d.powered_off.add(s.frees_running);
        d.reclaimed.add(s.frees_quota);
    }
    Plan { at: stamp(now), steps, departments: by_dept.into_values().collect() }
}

/// The steps due for one request at `now` (none unless it holds a VM).
fn plan_request(
    req: &VmRequest,
    inv: &inventory::Inventory,
    leases: &[IpLease],
    now: OffsetDateTime,
    policy: &LifecyclePolicy,
) -> Vec<Step> {
    let mut out = Vec::new();
    let Some(asset) = req.asset.as_ref().filter(|_| req.state.holds_vm()) else {
        return out;
    };
    let quota_back = Capacity { vms: 1, vcpu: req.spec.cpu, memory_mb: req.spec.memory_gb * 1024, disk_gb: req.spec.disk_gb };
    let mut step = |action: &str, detail: String, snapshot: Option<String>, running: Capacity, quota: Capacity| {
        out.push(Step {
            request: req.id.clone(),
            vm: asset.name.clone(),
            vm_id: asset.vm_id.clone(),
            department: req.spec.department.clone(),
            action: action.into(),
            detail,
            snapshot,
            frees_running: running,
            frees_quota: quota,
        })
    };
    // The static addresses it holds, released once its VM is gone.
    let held: Vec<String> = leases.iter().filter(|l| l.request == req.id).map(|l| format!("{} ({})", l.address, l.network)).collect();
    let ip_release = (!held.is_empty()).then(|| format!("release IP {}", held.join(", ")));
    let Some(vm) = inv.vms.iter().find(|v| v.id == asset.vm_id) else {
        let running = if req.state == State::Provisioned {
            Capacity { vms: 1, vcpu: req.spec.cpu, memory_mb: req.spec.memory_gb * 1024, disk_gb: 0 }
        } else {
            Capacity::default()
        };
        step("vm_missing", format!("VM {} ({}) no longer exists in vCenter", asset.name, asset.vm_id), None, running, quota_back);
        if let Some(detail) = ip_release {
            step("ip_release", detail, None, Capacity::default(), Capacity::default());
        }
        return out;
    };
    let Ok(lease) = parse_date("lease end", &req.spec.lease_end) else {
        step(
            "error",
            format!("lease end {:?} is not a date: nothing done", req.spec.lease_end),
            None,
            Capacity::default(),
            Capacity::default(),
        );
        return out;
    };
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
            if newest.is_none_or(|t| (now - t).whole_days() >= every) {
                step("snapshot", format!("take {}", snapshot_name(now)), None, Capacity::default(), Capacity::default());
            }
            for s in vm.snapshots.iter().filter(|s| s.name.starts_with(SCHEDULED_PREFIX)) {
                let Some(t) = parse_time(&s.created) else { continue };
                let age = (now - t).whole_days();
                if age > policy.retention_days {
                    let detail = format!("remove {} ({age} days old, keeping {})", s.name, policy.retention_days);
                    step("snapshot_removed", detail, Some(s.id.clone()), Capacity::default(), Capacity::default());
                }
            }
        }
        if today > lease {
            let running =
                if vm.powered_on() { Capacity { vms: 1, vcpu: vm.cpu, memory_mb: vm.memory_mb, disk_gb: 0 } } else { Capacity::default() };
            let detail = format!("lease ended {lease}: power off; destroyed after {} more days", policy.grace_days);
            step("power_off", detail, None, running, Capacity::default());
        } else if (lease - today).whole_days() <= policy.warn_days && asset.lease_warned_at.is_none() {
            let days = (lease - today).whole_days();
            let detail = format!("lease ends {lease} (in {days} days): the VM is powered off then; ask to extend it");
            step("lease_warning", detail, None, Capacity::default(), Capacity::default());
        }
    } else if req.state == State::Expired {
        let off_since = asset.powered_off_at.as_deref().and_then(parse_time).unwrap_or(now);
        if (now - off_since).whole_days() >= policy.grace_days {
            let running =
                if vm.powered_on() { Capacity { vms: 1, vcpu: vm.cpu, memory_mb: vm.memory_mb, disk_gb: 0 } } else { Capacity::default() };
            let detail = format!("destroy: {} days after the lease ended {lease}", (today - lease).whole_days());
            step("reclaim", detail, None, running, quota_back);
            if let Some(detail) = ip_release {
                step("ip_release", detail, None, Capacity::default(), Capacity::default());
            }
        }
    }
    out
}

/// A planned pass: the plan and what it was worked out from.
pub struct Pass {
    pub plan: Plan,
    inv: inventory::Inventory,
    leases: Vec<IpLease>,
}

/// Reads the store, the inventory and the IP addresses held once, and plans the pass at `now`.
pub async fn prepare(store: &dyn RequestStore, vim: &Vim, now: OffsetDateTime, policy: &LifecyclePolicy) -> Result<Pass> {
    // Boxed: the inventory load is a large future (eight retrievals at once).
    let inv = Box::pin(inventory::load(&vim.client)).await?;
    let records = store.list().await?.records;
    let leases = store.ip_leases(None).await?;
    let plan = plan(&records, &inv, &leases, now, policy);
    Ok(Pass { plan, inv, leases })
}

/// One pass: [`prepare`] then [`execute`].
pub async fn run(store: &dyn RequestStore, vim: &Vim, now: OffsetDateTime, policy: &LifecyclePolicy, actor: &str) -> Result<Vec<Action>> {
    let pass = prepare(store, vim, now, policy).await?;
    Ok(execute(store, vim, &pass, now, policy, actor).await)
}

/// Does the steps of `pass`, request by request, each under the request's
/// execution lock. A request whose step fails (vCenter refuses, the store
/// write conflicts) is reported as a failed action and the pass goes on
/// with the others.
pub async fn execute(
    store: &dyn RequestStore,
    vim: &Vim,
    pass: &Pass,
    now: OffsetDateTime,
    policy: &LifecyclePolicy,
    actor: &str,
) -> Vec<Action> {
    let instance = format!("lifecycle-{}-{}", crate::backend::os_user(), std::process::id());
    let mut groups: Vec<Vec<&Step>> = Vec::new();
    for s in &pass.plan.steps {
        match groups.last_mut() {
            Some(g) if g[0].request == s.request => g.push(s),
            _ => groups.push(vec![s]),
        }
    }
    let mut actions = Vec::new();
    for steps in groups {
        let (id, vm) = (steps[0].request.clone(), steps[0].vm.clone());
        let failed =
            |e: crate::Error| Action { request: id.clone(), vm: vm.clone(), action: "error".into(), ok: false, detail: e.to_string() };
        // One actor per request at a time: two app instances and a timer
        // running passes at once never both snapshot or power off one VM.
        let lock = match store.lock(&id, &instance).await {
            Ok(Some(l)) => l,
            Ok(None) => {
                actions.push(Action {
                    request: id.clone(),
                    vm: vm.clone(),
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
        // Boxed: a large future (every vSphere call inlined); keeps callers' stacks small.
        let result = Box::pin(execute_request(store, vim, pass, &steps, now, policy, actor, &mut actions)).await;
        lock.release().await;
        if let Err(e) = result {
            actions.push(failed(e));
        }
    }
    actions
}

/// The planned steps of one request, under its lock: the records read again
/// (another pass may have just acted) and only the steps still due done.
#[allow(clippy::too_many_arguments)]
async fn execute_request(
    store: &dyn RequestStore,
    vim: &Vim,
    pass: &Pass,
    steps: &[&Step],
    now: OffsetDateTime,
    policy: &LifecyclePolicy,
    actor: &str,
    actions: &mut Vec<Action>,
) -> Result<()> {
    let mut recs = store.get(&steps[0].request).await?;
    let req = recs.compose();
    let still_due = plan_request(&req, &pass.inv, &pass.leases, now, policy);
    let mut gone = false;
    for s in steps {
        let mut act = |action: &str, ok: bool, detail: String| {
            actions.push(Action { request: s.request.clone(), vm: s.vm.clone(), action: action.into(), ok, detail })
        };
        if !still_due.iter().any(|f| f.action == s.action && f.snapshot == s.snapshot) {
            act("skipped", true, format!("{} no longer due: another pass has just acted on this request", s.action));
            continue;
        }
        let lease = &req.spec.lease_end;
        match s.action.as_str() {
            "vm_missing" => {
                let comment = s.detail.clone();
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
                gone = true;
            }
            "snapshot" => {
                record_run(store, &mut recs, |r| {
                    if let Some(a) = r.asset.as_mut() {
                        a.snapshot_begun_at = Some(stamp(now));
                    }
                })
                .await?;
                let name = snapshot_name(now);
                match vim.snapshot(&s.vm_id, &name, "Scheduled by Opsdeck", &|_| {}).await {
                    Ok(_) => act("snapshot", true, format!("took {name}")),
                    Err(e) => act("snapshot", false, format!("snapshot {name} failed: {e}")),
                }
            }
            "snapshot_removed" => {
                let Some(id) = s.snapshot.as_deref() else { continue };
                let what = s.detail.trim_start_matches("remove ");
                match vim.remove_snapshot(id).await {
                    Ok(()) => act("snapshot_removed", true, format!("removed {what}")),
                    Err(e) => act("snapshot_removed", false, format!("removing {what} failed: {e}")),
                }
            }
            "power_off" => match vim.ensure_off(&s.vm_id).await {
                Ok(()) => {
                    act("power_off", true, format!("lease ended {lease}: powered off; destroyed after {} more days", policy.grace_days));
                    record_run(store, &mut recs, |r| {
                        r.state = State::Expired;
                        if let Some(a) = r.asset.as_mut() {
                            a.powered_off_at = Some(stamp(now));
                        }
                        r.history.push(moved(now, State::Provisioned, State::Expired, actor, format!("lease ended {lease}: powered off")));
                    })
                    .await?;
                }
                Err(e) => act("power_off", false, format!("lease ended {lease}: power-off failed: {e}")),
            },
            "lease_warning" => {
                act("lease_warning", true, s.detail.clone());
                record_run(store, &mut recs, |r| {
                    if let Some(a) = r.asset.as_mut() {
                        a.lease_warned_at = Some(stamp(now));
                    }
                })
                .await?;
            }
            "reclaim" => {
                if let Err(e) = vim.ensure_off(&s.vm_id).await {
                    act("reclaim", false, format!("power-off before destroy failed: {e}"));
                    continue;
                }
                match vim.destroy(&s.vm_id).await {
                    Ok(()) => {
                        let days = lease_days_left(lease, now).map_or(0, |d| -d);
                        act("reclaim", true, format!("destroyed {days} days after the lease ended"));
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
                        gone = true;
                    }
                    Err(e) => act("reclaim", false, format!("destroy failed: {e}")),
                }
            }
            "ip_release" if gone => {
                let released = super::provision::release(store, &req.id).await;
                match released.strip_prefix("; ") {
                    Some(detail) => act("ip_release", !detail.starts_with("RELEASING"), detail.to_string()),
                    None => act("ip_release", true, "nothing held any more".into()),
                }
            }
            "ip_release" => act("skipped", true, "ip_release: the VM is not gone, its address stays held".into()),
            other => act(other, false, s.detail.clone()),
        }
    }
    Ok(())
}

/// Days until the lease ends (negative once it has ended).
pub fn lease_days_left(lease_end: &str, now: OffsetDateTime) -> Option<i64> {
    parse_date("lease end", lease_end).ok().map(|d| (d - now.date()).whole_days())
}

/// The time of a pass as a person gives it (`--at`, the app's preview): a
/// day (noon UTC) or an RFC 3339 time.
pub fn parse_at(raw: &str) -> Result<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    let raw = raw.trim();
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(t);
    }
    let day = parse_date("the time of the pass", raw)
        .map_err(|_| crate::error::Error::invalid(format!("the time of the pass \"{raw}\": use YYYY-MM-DD or an RFC 3339 time")))?;
    Ok(day.with_hms(12, 0, 0).map_err(|e| crate::error::Error::invalid(e.to_string()))?.assume_utc())
}

#[cfg(test)]
mod parse_at_tests {
    use super::parse_at;

    #[test]
    fn a_day_is_noon_utc_a_time_is_kept_and_anything_else_refused() {
        assert_eq!(parse_at("2027-03-31").unwrap().to_string(), "2027-03-31 12:00:00.0 +00:00:00");
        assert_eq!(parse_at(" 2027-03-31T08:30:00+08:00 ").unwrap().to_string(), "2027-03-31 8:30:00.0 +08:00:00");
        for bad in ["", "tomorrow", "2027-02-30", "31/03/2027", "2027-03-31T25:00:00Z"] {
            let e = parse_at(bad).unwrap_err().to_string();
            assert!(e.contains("YYYY-MM-DD"), "{bad:?}: {e}");
        }
    }
}

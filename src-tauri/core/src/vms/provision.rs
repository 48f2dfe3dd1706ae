//! Provisioning an approved request on vSphere:
//! lock -> look up by request id -> place -> clone -> configure -> power on
//! -> `Initial-YYYYMMDD` snapshot -> asset recorded.
//!
//! Exactly one app instance executes a request (the store's execution lock).
//! A failure removes what this attempt built and marks the request failed
//! with the reason; a retry first looks for a VM tagged with the request id,
//! so it never makes a second VM.
//!
//! Interrupted ([`ProvisionOptions::stop`]: SIGINT/SIGTERM in the CLI), an
//! attempt stops at its next safe point: a vSphere call that starts a task
//! is let finish (so the task's id is known), a task being waited on is left
//! running in vCenter. The run record keeps what was in flight
//! ([`Interruption`]), the request stays `provisioning` and the lock is
//! released. The next attempt follows that task to its end, then adopts the
//! VM made for the request (its annotation, or, before the annotation is
//! written, its `opsdeck.request` extra configuration key) or destroys it
//! when the clone failed half-way, and carries on.

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::inventory::{self, Inventory, ANNOTATION_HEADER};
use super::model::{Asset, State, Transition, VmRequest};
use super::placement::{self, DEFAULT_MAX_VMS_PER_HOST};
use super::store::compose::approval_pin;
use super::store::{Interruption, Records, RequestStore, RunRecord};
use super::vsphere::{config_spec, config_spec_with, device_changes, TaskEnd, Vim};
use crate::cache::db::now_rfc3339;
use crate::error::{Error, Result};

/// The steps, in order, as reported to progress listeners.
pub const STEPS: [&str; 6] = ["lock", "place", "clone", "configure", "power_on", "snapshot"];

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
#[serde(rename = "ProvisionProgress")] // its name in the IPC contract (a scan has Progress too)
pub struct Progress {
    pub request: String,
    pub step: &'static str,
    /// 0-100 within the step.
    pub percent: u8,
}

#[derive(Debug, Clone)]
pub struct ProvisionOptions {
    /// Names this app instance in the execution lock.
    pub instance: String,
    pub max_vms_per_host: u32,
    /// Test hook: fail right after this step (after its side effects), to
    /// prove the cleanup against a real server. Never set in the product.
    pub fail_after: Option<&'static str>,
    /// Cancelled to interrupt (SIGINT/SIGTERM, a closed view): each attempt
    /// stops at its next safe point and records what was in flight; requests
    /// not started yet are not started.
    pub stop: CancellationToken,
    /// Cancelled to stop at once (a second signal): the attempt is dropped
    /// wherever it is, the run record gets what is known, the lock is released.
    pub abort: CancellationToken,
}

impl Default for ProvisionOptions {
    fn default() -> Self {
        ProvisionOptions {
            instance: format!("{}-{}", crate::backend::os_user(), std::process::id()),
            max_vms_per_host: DEFAULT_MAX_VMS_PER_HOST,
            fail_after: None,
            stop: CancellationToken::new(),
            abort: CancellationToken::new(),
        }
    }
}

/// The extra configuration key a clone carries from its first moment (the
/// annotation, written too, may be applied only by the reconfiguration
/// after the clone: vcsim does so); its value is the request id.
pub const REQUEST_KEY: &str = "opsdeck.request";

/// The annotation written on the VM; [`inventory::tag`] reads it back.
pub fn annotation(req: &VmRequest) -> String {
    format!(
        "{ANNOTATION_HEADER}\nrequest: {}\nowner: {}\ndepartment: {}\nlease: {}\npurpose: {}",
        req.id,
        req.requester,
        req.spec.department,
        req.spec.lease_end,
        req.spec.purpose.replace('\n', " ")
    )
}

pub fn initial_snapshot_name(now: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!("[year][month][day]");
    format!("Initial-{}", now.date().format(&fmt).unwrap_or_default())
}

/// The VM made for `request_id`, if any (looked up by its annotation tag).
pub fn find_vm<'a>(inv: &'a Inventory, request_id: &str) -> Option<&'a inventory::VmRow> {
    inv.vms.iter().find(|v| !v.template && v.tag("request") == Some(request_id))
}

/// One provisioning attempt: what it made so far, and when it must stop.
struct Attempt<'a> {
    vm: Option<String>,
    /// The step under way, and the vSphere task it waits for (if any).
    step: &'static str,
    task: Option<String>,
    /// The call starting a task while it is out (`cloning NAME`, ...).
    calling: Option<String>,
    opts: &'a ProvisionOptions,
    /// Cancelled when the execution lock is lost.
    lost: &'a CancellationToken,
}

impl Attempt<'_> {
    /// A safe point between two steps: stop here if the execution lock was
    /// lost (another instance may take over; what this attempt made is
    /// cleaned up), if the attempt is interrupted (what it made is kept for
    /// the next attempt), or if a test asked to fail after `step`.
    fn checkpoint(&self, step: &str) -> Result<()> {
        if self.lost.is_cancelled() {
            return Err(Error::Conflict(format!("stopped after step {step}: this instance lost the execution lock (etcd lease revoked or expired), so another may take over")));
        }
        if self.opts.stop.is_cancelled() {
            return Err(Error::Cancelled(format!("interrupted after step {step}")));
        }
        if self.opts.fail_after == Some(step) {
            return Err(Error::Internal(format!("injected failure after step {step}")));
        }
        Ok(())
    }

    /// Makes the call `start` that starts a task (`what`), never cut off by
    /// an interruption (only by an abort), then follows the task.
    async fn run_task(
        &mut self,
        vim: &Vim,
        what: String,
        start: impl std::future::Future<Output = Result<String>>,
        report: &(dyn Fn(&'static str, u8) + Send + Sync),
    ) -> Result<Option<String>> {
        self.calling = Some(what.clone());
        let task = start.await?;
        self.calling = None;
        self.follow(vim, &what, task, report).await
    }

    /// Follows vSphere task `task` of the current step until it ends (its
    /// result object id) or the attempt is interrupted (the task stays
    /// recorded as in flight).
    async fn follow(
        &mut self,
        vim: &Vim,
        what: &str,
        task: String,
        report: &(dyn Fn(&'static str, u8) + Send + Sync),
    ) -> Result<Option<String>> {
        let step = self.step;
        self.task = Some(task.clone());
        let end = vim.follow_task(what, &task, &|p| report(step, p.min(99)), &self.opts.stop).await?;
        self.task = None;
        match end {
            TaskEnd::Succeeded(r) => Ok(r),
            TaskEnd::Failed(why) => Err(Error::Internal(format!("{what}: vCenter reported {why}"))),
            TaskEnd::Forgotten => Err(Error::NotFound(format!("{what}: vCenter no longer knows task {task}"))),
        }
    }

    fn interruption(&self, vm_name: &str) -> Interruption {
        Interruption {
            at: now_rfc3339(),
            by: self.opts.instance.clone(),
            step: self.step.to_string(),
            task: self.task.clone(),
            vm_name: vm_name.to_string(),
            vm: self.vm.clone(),
            cut_off: self.calling.clone(),
        }
    }
}

/// What an interrupted attempt says: what was in flight, how to resume.
pub fn interrupted_message(id: &str, i: &Interruption) -> String {
    let vm = match &i.vm {
        Some(vm) => format!("VM {} ({vm})", i.vm_name),
        None => format!("VM {}", i.vm_name),
    };
    let task = match (&i.task, &i.cut_off) {
        (Some(t), _) => format!("vSphere task {t} ({} step) was in flight and keeps running in vCenter", i.step),
        (None, Some(call)) => format!("the call starting {call} was cut off before vCenter answered: vCenter may run it anyway"),
        (None, None) => "no vSphere task was in flight".to_string(),
    };
    format!(
        "request {id} interrupted in step {} of {vm}: {task}; the request stays provisioning and its lock is released. \
         Resume with `opsdeck vm provision {id}`: it waits for that task, adopts the VM made for this request (or removes a half-made one) and carries on",
        i.step
    )
}

fn transition(from: State, to: State, actor: &str, comment: String) -> Transition {
    Transition { at: now_rfc3339(), actor: actor.into(), from: Some(from), to, comment }
}

/// Provisions request `id`. Returns the request in its final state:
/// `Provisioned`, or `Failed` with the reason (and what was cleaned up).
pub async fn provision(
    store: &dyn RequestStore,
    vim: &Vim,
    id: &str,
    actor: &str,
    opts: &ProvisionOptions,
    on: &(dyn Fn(Progress) + Send + Sync),
) -> Result<VmRequest> {
    let report = |step: &'static str, percent: u8| on(Progress { request: id.to_string(), step, percent });
    if opts.stop.is_cancelled() || opts.abort.is_cancelled() {
        return Err(Error::Cancelled(format!("request {id}: not started (interrupted before its turn)")));
    }
    report("lock", 0);
    let Some(lock) = store.lock(id, &opts.instance).await? else {
        return Err(Error::Conflict(format!("request {id} is being provisioned by another Opsdeck instance")));
    };
    let result = provision_locked(store, vim, id, actor, opts, &report, &lock.lost()).await;
    lock.release().await;
    result
}

async fn provision_locked(
    store: &dyn RequestStore,
    vim: &Vim,
    id: &str,
    actor: &str,
    opts: &ProvisionOptions,
    report: &(dyn Fn(&'static str, u8) + Send + Sync),
    lost: &CancellationToken,
) -> Result<VmRequest> {
    let recs = store.get(id).await?;
    let req = recs.compose();
    // Provisioning here means a previous executor died holding it: its lock
    // expired, so this instance takes over.
    if !matches!(req.state, State::Approved | State::Failed | State::Provisioning) {
        return Err(Error::Conflict(format!(
            "request {id} is {}: only approved or failed requests can be provisioned",
            req.state.as_str()
        )));
    }
    let mut run = recs.run.as_ref().map(|r| r.value.clone()).unwrap_or(RunRecord {
        state: req.state,
        history: vec![],
        asset: None,
        failure: None,
        attempts: 0,
        approved: None,
        interrupted: None,
    });
    // What is built is exactly what was approved: a freshly approved request
    // pins its revision and spec now; a retry or a takeover keeps the pin
    // (the store's view already refuses a pin the request moved away from).
    // (A personal store's request failed before pins existed gets one now.)
    if req.state == State::Approved || (run.approved.is_none() && !store.trust().proves_identity()) {
        run.approved = Some(
            approval_pin(&recs, &req)
                .ok_or_else(|| Error::Conflict(format!("request {id} shows no manager and admin approval to execute")))?,
        );
    }
    if run.approved.is_none() {
        return Err(Error::Conflict(format!("request {id} has no approval pinned to execute: it must be approved again")));
    }
    run.attempts += 1;
    run.history.push(transition(req.state, State::Provisioning, actor, format!("attempt {} by {}", run.attempts, opts.instance)));
    run.state = State::Provisioning;
    run.failure = None;
    let recs = store.put_run(&recs, &run).await?;
    report("lock", 100);

    // What an interrupted attempt left in flight: this one resumes from it
    // (kept in the record until this attempt ends, in case it dies too).
    let prior = run.interrupted.clone();
    let mut attempt = Attempt { vm: None, step: "lock", task: None, calling: None, opts, lost };
    // Boxed: the build future is large (every vSphere call inlined), and
    // callers polling it on a small stack (a test thread) would overflow.
    let built = tokio::select! {
        r = Box::pin(build(vim, &req, prior.as_ref(), report, &mut attempt)) => r,
        _ = opts.abort.cancelled() => Err(Error::Cancelled("aborted".into())),
    };
    run.interrupted = None;
    match built {
        Err(Error::Cancelled(why)) => {
            let i = attempt.interruption(&req.spec.name);
            let msg = interrupted_message(id, &i);
            run.history.push(transition(State::Provisioning, State::Provisioning, actor, format!("{why}: {msg}")));
            run.failure = Some(msg.clone());
            run.interrupted = Some(i);
            match store.put_run(&recs, &run).await {
                Ok(_) => Err(Error::Cancelled(msg)),
                Err(e) => Err(Error::Cancelled(format!("{msg} (recording this in the request store failed: {e})"))),
            }
        }
        Ok(asset) => {
            run.history.push(transition(
                State::Provisioning,
                State::Provisioned,
                actor,
                format!("{} on {} / {}", asset.vm_id, asset.host, asset.datastore),
            ));
            run.state = State::Provisioned;
            run.asset = Some(asset);
            Ok(store.put_run(&recs, &run).await?.compose())
        }
        Err(e) => {
            let cleanup = cleanup(vim, &attempt).await;
            let reason = format!("{e}{cleanup}");
            run.history.push(transition(State::Provisioning, State::Failed, actor, reason.clone()));
            run.state = State::Failed;
            run.failure = Some(reason);
            Ok(store.put_run(&recs, &run).await?.compose())
        }
    }
}

/// Removes the VM this attempt made (or adopted): power off, destroy.
async fn cleanup(vim: &Vim, attempt: &Attempt<'_>) -> String {
    let Some(vm) = &attempt.vm else {
        return String::new();
    };
    if let Err(e) = vim.ensure_off(vm).await {
        return format!("; CLEANUP FAILED, remove VM {vm} by hand: {e}");
    }
    match vim.destroy(vm).await {
        Ok(()) => format!("; cleaned up: destroyed the half-made VM {vm}"),
        Err(e) => format!("; CLEANUP FAILED, remove VM {vm} by hand: {e}"),
    }
}

/// Follows the task an interrupted attempt left in flight to its end.
/// Returns the VM its clone made, or the fault it failed with.
async fn resume(
    vim: &Vim,
    prior: &Interruption,
    report: &(dyn Fn(&'static str, u8) + Send + Sync),
    attempt: &mut Attempt<'_>,
) -> Result<(Option<String>, Option<String>)> {
    let Some(task) = &prior.task else {
        return Ok((prior.vm.clone(), None));
    };
    attempt.step = STEPS.iter().copied().find(|s| *s == prior.step).unwrap_or("place");
    let step = attempt.step;
    report(step, 0);
    attempt.task = Some(task.clone());
    let what = format!("the {step} task {task} of the interrupted attempt");
    let end = vim.follow_task(&what, task, &|p| report(step, p.min(99)), &attempt.opts.stop).await?;
    attempt.task = None;
    tracing::info!(task = %task, step, "resumed: {end:?}");
    Ok(match end {
        TaskEnd::Succeeded(made) if step == "clone" => (made, None),
        TaskEnd::Failed(why) if step == "clone" => (None, Some(why)),
        _ => (prior.vm.clone(), None),
    })
}

/// The VM made for this request, if any: tagged by its annotation, or
/// (a clone whose annotation is not written yet) named as asked and made by
/// the interrupted attempt's clone or carrying the request id in its extra
/// configuration. A VM of that name made otherwise is refused, never touched.
async fn own_vm(vim: &Vim, inv: &Inventory, req: &VmRequest, made: Option<&str>) -> Result<Option<inventory::VmRow>> {
    if let Some(vm) = find_vm(inv, &req.id) {
        return Ok(Some(vm.clone()));
    }
    let Some(other) = inv.vm_by_name(&req.spec.name).filter(|v| !v.template) else {
        return Ok(None);
    };
    if made == Some(other.id.as_str()) || vim.extra_config(&other.id, REQUEST_KEY).await?.as_deref() == Some(req.id.as_str()) {
        return Ok(Some(other.clone()));
    }
    Err(Error::Conflict(format!(
        "a VM named {} ({}) already exists and was not made for request {}; rename the request",
        req.spec.name, other.id, req.id
    )))
}

async fn build(
    vim: &Vim,
    req: &VmRequest,
    prior: Option<&Interruption>,
    report: &(dyn Fn(&'static str, u8) + Send + Sync),
    attempt: &mut Attempt<'_>,
) -> Result<Asset> {
    let opts = attempt.opts;
    let s = &req.spec;
    let (made, clone_failed) = match prior {
        Some(p) => resume(vim, p, report, attempt).await?,
        None => (None, None),
    };
    attempt.step = "place";
    report("place", 0);
    let inv = inventory::load(&vim.client).await?;
    let mut existing = own_vm(vim, &inv, req, made.as_deref()).await?;
    if let (Some(vm), Some(why)) = (&existing, &clone_failed) {
        // The interrupted clone failed and left this VM behind: half-made, removed.
        tracing::info!(request = %req.id, vm = %vm.id, "removing the VM the failed clone left ({why})");
        vim.ensure_off(&vm.id).await?;
        vim.destroy(&vm.id).await?;
        existing = None;
    }
    let template = inv
        .templates()
        .find(|t| t.name == s.template)
        .ok_or_else(|| Error::NotFound(format!("template \"{}\" does not exist in vCenter", s.template)))?;
    let placed = match &existing {
        Some(vm) => placement::Placement {
            host: vm.host.clone(),
            host_name: vm.host.clone(),
            score: 0.0,
            datastore: vm.datastores.first().cloned().unwrap_or_default(),
            datastore_name: String::new(),
            notes: vec![],
        },
        None => placement::place(&inv, s, opts.max_vms_per_host)?,
    };
    let folder = if s.folder.is_empty() {
        template.folder.clone()
    } else {
        inv.folder(&s.folder).map(|f| f.id.clone()).ok_or_else(|| Error::NotFound(format!("folder \"{}\" does not exist", s.folder)))?
    };
    let pool = if s.resource_pool.is_empty() {
        inv.root_pool_of_host(&placed.host)
            .map(String::from)
            .ok_or_else(|| Error::NotFound(format!("no resource pool for host {}", placed.host_name)))?
    } else {
        inv.pool(&s.resource_pool)
            .map(|p| p.id.clone())
            .ok_or_else(|| Error::NotFound(format!("resource pool \"{}\" does not exist", s.resource_pool)))?
    };
    report("place", 100);
    attempt.checkpoint("place")?;

    let note = annotation(req);
    let mut config = config_spec(s.cpu, s.memory_gb, &note);
    config["extraConfig"] = serde_json::json!([
        {"_typeName": "OptionValue", "key": REQUEST_KEY, "value": {"_typeName": "string", "_value": req.id}}
    ]);
    attempt.step = "clone";
    let vm = match &existing {
        Some(vm) => {
            report("clone", 100);
            vm.id.clone()
        }
        None => {
            report("clone", 0);
            // Not interrupted while the call is out: its answer names the task.
            let what = format!("cloning {}", s.name);
            let start = vim.start_clone(&template.id, &folder, &s.name, &placed.host, &pool, &placed.datastore, &config);
            let id = attempt
                .run_task(vim, what.clone(), start, report)
                .await?
                .ok_or_else(|| Error::Internal(format!("{what}: the task returned no object")))?;
            report("clone", 100);
            id
        }
    };
    attempt.vm = Some(vm.clone());
    attempt.checkpoint("clone")?;

    attempt.step = "configure";
    report("configure", 0);
    // CPU, memory, annotation, and the devices: disk grown to the size asked,
    // network card on the network asked (standard port groups).
    let network = if s.network.is_empty() {
        None
    } else {
        let n = inv
            .networks
            .iter()
            .find(|n| n.name == s.network)
            .ok_or_else(|| Error::NotFound(format!("network \"{}\" does not exist in vCenter", s.network)))?;
        Some((n.name.as_str(), n.id.as_str()))
    };
    let devices = vim.devices(&vm).await?;
    let (changes, notes) = device_changes(&devices, s.disk_gb, network);
    for n in &notes {
        tracing::info!(request = %req.id, "{n}");
    }
    let config = config_spec_with(s.cpu, s.memory_gb, &note, changes);
    attempt.run_task(vim, format!("reconfiguring {vm}"), vim.start_reconfigure(&vm, &config), report).await?;
    report("configure", 100);
    attempt.checkpoint("configure")?;

    let now = time::OffsetDateTime::now_utc();
    // One property read, not a second inventory load: a fresh clone has no
    // snapshots, and an adopted VM's snapshots were read with the inventory.
    attempt.step = "power_on";
    if !vim.is_powered_on(&vm).await? {
        report("power_on", 0);
        attempt.run_task(vim, format!("powering on {vm}"), vim.start_power_on(&vm), report).await?;
    }
    report("power_on", 100);
    attempt.checkpoint("power_on")?;

    let snap_name = initial_snapshot_name(now);
    let snapshot = match existing.as_ref().and_then(|r| r.snapshots.iter().find(|x| x.name.starts_with("Initial-"))) {
        Some(existing) => existing.name.clone(),
        None => {
            attempt.step = "snapshot";
            report("snapshot", 0);
            let description = format!("Taken by Opsdeck after provisioning request {}", req.id);
            let start = vim.start_snapshot(&vm, &snap_name, &description);
            attempt.run_task(vim, format!("snapshot {snap_name} of {vm}"), start, report).await?;
            snap_name
        }
    };
    report("snapshot", 100);
    attempt.checkpoint("snapshot")?;

    Ok(Asset {
        vm_id: vm,
        name: s.name.clone(),
        host: inv.host(&placed.host).map(|h| h.name.clone()).unwrap_or(placed.host_name),
        datastore: inv.datastore(&placed.datastore).map(|d| d.name.clone()).unwrap_or(placed.datastore),
        snapshot,
        provisioned_at: now_rfc3339(),
        lease_warned_at: None,
        powered_off_at: None,
        reclaimed_at: None,
        snapshot_begun_at: None,
    })
}

/// Provisions every request in `ids` with at most `concurrency` at once.
pub async fn provision_many(
    store: &dyn RequestStore,
    vim: &Vim,
    ids: &[String],
    actor: &str,
    opts: &ProvisionOptions,
    concurrency: usize,
    on: &(dyn Fn(Progress) + Send + Sync),
) -> Vec<(String, Result<VmRequest>)> {
    use futures::StreamExt;
    futures::stream::iter(ids.iter().cloned())
        .map(|id| async move {
            let r = provision(store, vim, &id, actor, opts, on).await;
            (id, r)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// Records a state change made outside provisioning (lifecycle), as one
/// compare-and-set; `recs` becomes the records written.
pub async fn record_run(store: &dyn RequestStore, recs: &mut Records, update: impl FnOnce(&mut RunRecord)) -> Result<()> {
    let mut run = recs
        .run
        .as_ref()
        .map(|r| r.value.clone())
        .ok_or_else(|| Error::Conflict(format!("request {} was never provisioned", recs.request.value.id)))?;
    update(&mut run);
    *recs = store.put_run(recs, &run).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interruption(task: Option<&str>, vm: Option<&str>, cut_off: Option<&str>) -> Interruption {
        Interruption {
            at: "2026-12-04T23:00:00Z".into(),
            by: "op-1".into(),
            step: "clone".into(),
            task: task.map(Into::into),
            vm_name: "int-01".into(),
            vm: vm.map(Into::into),
            cut_off: cut_off.map(Into::into),
        }
    }

    #[test]
    fn the_message_says_what_was_in_flight_and_how_to_resume() {
        let m = interrupted_message("r1", &interruption(Some("task-9"), None, None));
        assert!(m.starts_with("request r1 interrupted in step clone of VM int-01: vSphere task task-9 (clone step) was in flight"), "{m}");
        assert!(m.contains("its lock is released") && m.contains("`opsdeck vm provision r1`"), "{m}");
        let m = interrupted_message("r1", &interruption(None, Some("vm-42"), Some("cloning int-01")));
        assert!(m.contains("of VM int-01 (vm-42): the call starting cloning int-01 was cut off"), "{m}");
        let m = interrupted_message("r1", &interruption(None, None, None));
        assert!(m.contains("no vSphere task was in flight"), "{m}");
    }

    #[test]
    fn run_records_without_an_interruption_read_and_write_as_before() {
        // A record written before interruptions were recorded parses, and
        // one without an interruption is written without the field.
        let old = r#"{"state":"failed","history":[],"asset":null,"failure":"x","attempts":1,"approved":null}"#;
        let run: RunRecord = serde_json::from_str(old).expect("an older run record parses");
        assert_eq!(run.interrupted, None);
        assert!(!serde_json::to_string(&run).unwrap().contains("interrupted"));
        let with = RunRecord { interrupted: Some(interruption(Some("task-9"), None, None)), ..run };
        let back: RunRecord = serde_json::from_str(&serde_json::to_string(&with).unwrap()).unwrap();
        assert_eq!(back, with);
    }
}

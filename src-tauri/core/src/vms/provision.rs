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

use super::guest::{self, Identity};
use super::inventory::{self, Inventory, ANNOTATION_HEADER};
use super::ipam::{self, Addressing, IpLease, IpMode};
use super::model::{Asset, State, Transition, VmRequest};
use super::placement::{self, DEFAULT_MAX_VMS_PER_HOST};
use super::store::compose::approval_pin;
use super::store::{Interruption, Records, RequestStore, RunRecord};
use super::vsphere::{config_spec, config_spec_with, device_changes, CloneTarget, TaskEnd, Vim};
use crate::cache::db::now_rfc3339;
use crate::error::{Error, Result};

/// The steps, in order, as reported to progress listeners (`guest`: waiting
/// for the guest to report its customized host name and address; done at
/// once for a network without IP settings).
pub const STEPS: [&str; 7] = ["lock", "place", "clone", "configure", "power_on", "guest", "snapshot"];

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
    /// How long the guest may take to report its host name and address
    /// after power-on ([`guest::guest_wait_from_env`] by default).
    pub guest_timeout: std::time::Duration,
    /// Test hook: called with the VM id right after power-on, before the
    /// guest wait (to play a guest that misbehaves against a real server).
    /// Never set in the product.
    pub after_power_on: Option<StepHook>,
}

/// A test hook of [`ProvisionOptions`].
#[derive(Clone)]
pub struct StepHook(pub std::sync::Arc<dyn Fn(String) -> futures::future::BoxFuture<'static, ()> + Send + Sync>);

impl std::fmt::Debug for StepHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StepHook")
    }
}

impl Default for ProvisionOptions {
    fn default() -> Self {
        ProvisionOptions {
            instance: format!("{}-{}", crate::backend::os_user(), std::process::id()),
            max_vms_per_host: DEFAULT_MAX_VMS_PER_HOST,
            fail_after: None,
            stop: CancellationToken::new(),
            abort: CancellationToken::new(),
            guest_timeout: guest::guest_wait_from_env(),
            after_power_on: None,
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
    // The guest's address: taken from the network's pool in the same store
    // transaction that moves the request to provisioning. A pool with no
    // free address (or settings that cannot work) fails the request here,
    // before anything is made.
    // Boxed, like the build below: these futures hold an inventory load.
    let addressing = match Box::pin(addressing(store, vim, &req)).await {
        Ok(a) => a,
        Err(e) => {
            let reason = format!("{e}");
            run.history.push(transition(req.state, State::Failed, actor, reason.clone()));
            run.state = State::Failed;
            run.failure = Some(reason);
            run.interrupted = None;
            return Ok(store.put_run(&recs, &run).await?.compose());
        }
    };
    run.history.push(transition(
        req.state,
        State::Provisioning,
        actor,
        format!("attempt {} by {}{}", run.attempts, opts.instance, addressing.as_ref().map_or(String::new(), describe_addressing)),
    ));
    run.state = State::Provisioning;
    run.failure = None;
    let recs = match &addressing {
        Some(a) => Box::pin(claim(store, vim, &req, &recs, &mut run, a)).await,
        None => store.put_run(&recs, &run).await,
    };
    let recs = match recs {
        Ok(r) => r,
        Err(e @ Error::Conflict(_)) if e.to_string().contains("exhausted") => {
            let current = store.get(id).await?;
            let reason = format!("{e}");
            if let Some(last) = run.history.last_mut() {
                last.to = State::Failed;
                last.comment = reason.clone();
            }
            run.state = State::Failed;
            run.failure = Some(reason);
            return Ok(store.put_run(&current, &run).await?.compose());
        }
        Err(e) => return Err(e),
    };
    // The address the store now holds for this request.
    let addressing = match addressing {
        Some(mut a) if a.pool.mode == IpMode::Static => {
            let held = store.ip_leases(Some(&a.network)).await?.into_iter().find(|l| l.request == req.id);
            a.address = held.and_then(|l| l.address.parse().ok());
            if a.address.is_none() {
                return Err(Error::Storage(format!("request {id}: the address taken on network \"{}\" is not in the store", a.network)));
            }
            Some(a)
        }
        other => other,
    };
    report("lock", 100);

    // What an interrupted attempt left in flight: this one resumes from it
    // (kept in the record until this attempt ends, in case it dies too).
    let prior = run.interrupted.clone();
    let mut attempt = Attempt { vm: None, step: "lock", task: None, calling: None, opts, lost };
    // Boxed: the build future is large (every vSphere call inlined), and
    // callers polling it on a small stack (a test thread) would overflow.
    let built = tokio::select! {
        r = Box::pin(build(vim, &req, prior.as_ref(), addressing.as_ref(), report, &mut attempt)) => r,
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
            let (cleanup, removed) = cleanup(vim, &attempt).await;
            // The address goes back once no VM of this attempt can be using it.
            let released = if removed { release(store, id).await } else { String::new() };
            let reason = format!("{e}{cleanup}{released}");
            run.history.push(transition(State::Provisioning, State::Failed, actor, reason.clone()));
            run.state = State::Failed;
            run.failure = Some(reason);
            Ok(store.put_run(&recs, &run).await?.compose())
        }
    }
}

/// Removes the VM this attempt made (or adopted): power off, destroy.
/// Returns what was done, and whether no VM of the attempt is left.
async fn cleanup(vim: &Vim, attempt: &Attempt<'_>) -> (String, bool) {
    let Some(vm) = &attempt.vm else {
        return (String::new(), true);
    };
    if let Err(e) = vim.ensure_off(vm).await {
        return (format!("; CLEANUP FAILED, remove VM {vm} by hand (its IP address stays held): {e}"), false);
    }
    match vim.destroy(vm).await {
        Ok(()) => (format!("; cleaned up: destroyed the half-made VM {vm}"), true),
        Err(e) => (format!("; CLEANUP FAILED, remove VM {vm} by hand (its IP address stays held): {e}"), false),
    }
}

/// Gives back the addresses request `id` holds; what to add to its history.
pub async fn release(store: &dyn RequestStore, id: &str) -> String {
    match store.release_ips(id).await {
        Ok(l) if l.is_empty() => String::new(),
        Ok(l) => format!("; released IP {}", l.iter().map(|l| format!("{} ({})", l.address, l.network)).collect::<Vec<_>>().join(", ")),
        Err(e) => format!("; RELEASING ITS IP ADDRESS FAILED (`opsdeck vm ip-pool list` shows it held): {e}"),
    }
}

fn describe_addressing(a: &Addressing) -> String {
    match a.pool.mode {
        IpMode::Dhcp => format!("; network {}: DHCP", a.network),
        IpMode::Static => format!("; network {}: static address from {}", a.network, a.pool.cidr),
    }
}

/// The network the request's VM is on: the one asked, else the template's
/// first network card's (a standard port group by its name, a distributed
/// one by its key).
async fn request_network(vim: &Vim, req: &VmRequest) -> Result<Option<String>> {
    if !req.spec.network.is_empty() {
        return Ok(Some(req.spec.network.clone()));
    }
    let inv = inventory::load(&vim.client).await?;
    let Some(template) = inv.templates().find(|t| t.name == req.spec.template) else {
        return Ok(None);
    };
    let devices = vim.devices(&template.id).await?;
    let Some(backing) = devices.iter().find(|d| guest::nic_count(std::slice::from_ref(d)) == 1).and_then(|d| d.get("backing")) else {
        return Ok(None);
    };
    let name = |id: &str| inv.networks.iter().find(|n| n.id == id).map(|n| n.name.clone());
    Ok(match backing.get("port").and_then(|p| p.get("portgroupKey")).and_then(|k| k.as_str()) {
        Some(key) => name(key),
        None => backing
            .get("network")
            .and_then(|n| n.get("value"))
            .and_then(|v| v.as_str())
            .and_then(name)
            .or_else(|| backing.get("deviceName").and_then(|n| n.as_str()).map(String::from)),
    })
}

/// The IP settings of the request's network (None: it has none, and the
/// VM keeps the template's identity). Refuses a customization script that
/// no customization would carry.
async fn addressing(store: &dyn RequestStore, vim: &Vim, req: &VmRequest) -> Result<Option<Addressing>> {
    let pools = store.ip_pools().await?;
    let script = !req.spec.customization_script.trim().is_empty();
    if pools.is_empty() && !script {
        return Ok(None);
    }
    let network = request_network(vim, req).await?;
    let pool = network.as_ref().and_then(|n| pools.into_iter().find(|p| p.network == *n));
    let Some(pool) = pool else {
        if script {
            let net = network.as_deref().unwrap_or("(the template's: none found on its network cards)");
            return Err(Error::invalid(format!(
                "the request has a customization script, which runs through guest customization, but network \"{net}\" has no IP settings: \
                 add them (`opsdeck vm ip-pool add --network \"{net}\" --dhcp`, or a static pool) or edit the request to remove the script; nothing was cloned"
            )));
        }
        return Ok(None);
    };
    let prefix = if pool.mode == IpMode::Static { ipam::parse_cidr(&pool.cidr)?.1 } else { 0 };
    Ok(Some(Addressing { network: pool.network.clone(), pool, address: None, prefix }))
}

/// Moves the request to provisioning and, for a static pool, takes a free
/// address in the same transaction: the one the request already holds (an
/// interrupted attempt), else the first neither held nor reported by
/// vCenter for a running guest. Another request taking the same address at
/// the same moment makes one transaction fail: the loser picks again.
async fn claim(
    store: &dyn RequestStore,
    vim: &Vim,
    req: &VmRequest,
    recs: &Records,
    run: &mut RunRecord,
    a: &Addressing,
) -> Result<Records> {
    if a.pool.mode == IpMode::Dhcp {
        return store.put_run(recs, run).await;
    }
    let in_use = guest::addresses_in_use(vim).await?;
    let mut taken_meanwhile = std::collections::BTreeSet::new();
    for _ in 0..16 {
        let leases = store.ip_leases(Some(&a.network)).await?;
        let address = match leases.iter().find(|l| l.request == req.id) {
            Some(mine) => mine.address.parse().map_err(|_| Error::Storage(format!("held address \"{}\" is not IPv4", mine.address)))?,
            None => {
                let mut leased: std::collections::BTreeSet<std::net::Ipv4Addr> =
                    leases.iter().filter_map(|l| l.address.parse().ok()).collect();
                leased.extend(taken_meanwhile.iter().copied());
                match ipam::first_free(&a.pool, &leased, &in_use)? {
                    Some(ip) => ip,
                    None => {
                        let elsewhere = in_use.iter().filter(|ip| !leased.contains(ip)).count();
                        return Err(ipam::exhausted(&a.pool, leases.len(), elsewhere));
                    }
                }
            }
        };
        let lease = IpLease { network: a.network.clone(), address: address.to_string(), request: req.id.clone() };
        if let Some(last) = run.history.last_mut() {
            if !last.comment.contains(&lease.address) {
                last.comment = format!("{}; address {address}", last.comment.split("; address ").next().unwrap_or(""));
            }
        }
        match store.put_run_claiming(recs, run, &lease).await {
            Ok(r) => return Ok(r),
            Err(Error::Conflict(why)) => {
                // Lost the address to another request: pick again. Anything
                // else that moved (the request itself) is a real conflict.
                let holder = store.ip_leases(Some(&a.network)).await?.into_iter().find(|l| l.address == lease.address);
                match holder {
                    Some(h) if h.request != req.id => {
                        tracing::info!(request = %req.id, address = %lease.address, "address taken meanwhile by {}; picking another", h.request);
                        taken_meanwhile.insert(address);
                    }
                    _ => return Err(Error::Conflict(why)),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::Conflict(format!("network \"{}\": every address tried was taken by another request meanwhile; try again", a.network)))
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
    addressing: Option<&Addressing>,
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
    // Who the guest becomes, by the template's guest OS (checked before the clone).
    let identity = match addressing {
        Some(a) => {
            let (guest_id, os) = guest::template_os(vim, &template.id).await?;
            let os = os.ok_or_else(|| {
                Error::invalid(format!(
                    "template \"{}\" has guest OS id \"{guest_id}\", neither Linux nor Windows: guest customization needs it; set the template's guest OS in vCenter",
                    s.template
                ))
            })?;
            let nics = guest::nic_count(&vim.devices(&template.id).await?);
            let id = Identity { os, hostname: s.name.clone(), addressing: a.clone(), nics, script: s.customization_script.clone() };
            guest::check(&id)?;
            Some(id)
        }
        None => None,
    };
    report("place", 100);
    attempt.checkpoint("place")?;

    let note = annotation(req);
    let mut config = config_spec(s.cpu, s.memory_gb, &note);
    let mut extra =
        vec![serde_json::json!({"_typeName": "OptionValue", "key": REQUEST_KEY, "value": {"_typeName": "string", "_value": req.id}})];
    if let Some(id) = &identity {
        extra.extend(guest::cloud_init_extra_config(id, &req.id));
    }
    config["extraConfig"] = serde_json::Value::Array(extra);
    let customization = identity.as_ref().map(guest::customization_spec);
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
            let target = CloneTarget {
                template: &template.id,
                folder: &folder,
                name: &s.name,
                host: &placed.host,
                pool: &pool,
                datastore: &placed.datastore,
            };
            let start = vim.start_clone(&target, &config, customization.as_ref());
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

    // Only a guest that reports the host name and address it was given counts as provisioned.
    attempt.step = "guest";
    report("guest", 0);
    if let Some(hook) = &opts.after_power_on {
        (hook.0)(vm.clone()).await;
    }
    let reported = match &identity {
        Some(id) => Some(guest::wait_for_identity(vim, &vm, id, opts.guest_timeout, &opts.stop).await?),
        None => None,
    };
    report("guest", 100);
    attempt.checkpoint("guest")?;

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
        hostname: reported.as_ref().map(|r| r.hostname.clone()),
        ip_address: reported.as_ref().map(|r| r.address.to_string()),
        guest_os: identity.as_ref().map(|i| i.os.as_str().to_string()),
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

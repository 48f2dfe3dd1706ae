//! The VM request flow against a real vcsim (SOAP via vim_rs), with the local
//! request store: request -> quota check -> manager -> admin -> provision
//! -> scheduled snapshots -> lease warning -> power-off -> reclaim; quota
//! refusal; placement under load; failures that clean up and retries that
//! never make a second VM.

use std::sync::{Arc, Mutex};

use opsdeck_core::backend::{StoreChoice, VmSettings};
use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::vms::model::{Quota, RequestSpec, Stage, State};
use opsdeck_core::vms::placement;
use opsdeck_core::vms::provision::{ProvisionOptions, STEPS};
use opsdeck_core::vms::vsphere::CloneTarget;
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::{count_named, form, vcsim_with_template};
use time::{Duration, OffsetDateTime};

fn approve_all() -> ProvisionOptions {
    ProvisionOptions { instance: "test-instance".into(), ..Default::default() }
}

#[tokio::test]
async fn request_to_reclaim_on_vcsim() {
    let t = TestBackend::new().await;
    let (_vcsim, vc) = vcsim_with_template(&t, &[]).await;
    let store = t.backend.vm_store(&StoreChoice::Local).await.unwrap();
    let store = store.as_ref();
    t.backend.vm_set_quota(store, "qa", &Quota { vms: 5, vcpu: 16, memory_gb: 64, disk_gb: 500, ..Default::default() }).await.unwrap();

    let r = t
        .backend
        .vm_submit(store, &vc.id, RequestSpec { network: "VM Network".into(), disk_gb: 40, ..form("build-01", "qa") })
        .await
        .unwrap();
    assert_eq!(r.state, State::PendingManager, "{r:?}");
    assert!(r.quota.ok && r.quota.lines.iter().any(|l| l.starts_with("vCPU 2 of 16")), "{:?}", r.quota);

    // The admin cannot go first; a rejection needs a reason.
    let e = t.backend.vm_decide(store, Some(&vc.id), &r.id, Stage::Admin, true, "").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
    let e = t.backend.vm_decide(store, Some(&vc.id), &r.id, Stage::Manager, false, " ").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");

    let r = t.backend.vm_decide(store, Some(&vc.id), &r.id, Stage::Manager, true, "ok for the sprint").await.unwrap();
    assert_eq!(r.state, State::PendingAdmin);
    let r = t.backend.vm_decide(store, Some(&vc.id), &r.id, Stage::Admin, true, "").await.unwrap();
    assert_eq!(r.state, State::Approved);

    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let r = t
        .backend
        .vm_provision(store, &vc.id, &r.id, &approve_all(), &move |p| log.lock().unwrap().push((p.step, p.percent)))
        .await
        .unwrap();
    assert_eq!(r.state, State::Provisioned, "{:?}", r.failure);
    let steps: Vec<&str> = seen.lock().unwrap().iter().filter(|(_, p)| *p == 100).map(|(s, _)| *s).collect();
    assert_eq!(steps, STEPS, "every step reported its completion, in order");

    let asset = r.asset.clone().unwrap();
    let inv = t.backend.vm_inventory(&vc.id).await.unwrap();
    let vm = inv.vm_by_name("build-01").expect("the VM exists in vCenter");
    assert_eq!(asset.vm_id, vm.id);
    assert!(vm.powered_on(), "{vm:?}");
    assert_eq!((vm.cpu, vm.memory_mb), (2, 1024), "CPU and memory set from the request");
    let devices = t.backend.vim(&vc.id).await.unwrap().devices(&vm.id).await.unwrap();
    let disk = devices.iter().find(|d| d["_typeName"] == "VirtualDisk").expect("a disk");
    assert_eq!(disk["capacityInKB"], 40 * 1024 * 1024, "disk grown to the 40 GB asked: {disk}");
    let nic = devices.iter().find(|d| d["backing"]["_typeName"] == "VirtualEthernetCardNetworkBackingInfo").expect("a network card");
    assert_eq!(nic["backing"]["deviceName"], "VM Network", "{nic}");
    let today = OffsetDateTime::now_utc();
    assert_eq!(
        vm.snapshots.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        [opsdeck_core::vms::provision::initial_snapshot_name(today)]
    );
    assert_eq!(vm.tag("request"), Some(r.id.as_str()));
    assert_eq!(vm.tag("owner"), Some("tester"));
    assert_eq!(vm.tag("lease"), Some(r.spec.lease_end.as_str()));
    assert_eq!(inv.host(&vm.host).map(|h| h.name.as_str()), Some(asset.host.as_str()));
    let history: Vec<(Option<State>, State, &str)> = r.history.iter().map(|h| (h.from, h.to, h.actor.as_str())).collect();
    assert_eq!(
        history,
        [
            (None, State::PendingManager, "tester"),
            (Some(State::PendingManager), State::PendingAdmin, "tester"),
            (Some(State::PendingAdmin), State::Approved, "tester"),
            (Some(State::Approved), State::Provisioning, "tester"),
            (Some(State::Provisioning), State::Provisioned, "tester"),
        ]
    );

    // Provisioning again is refused (never a second VM).
    let e = t.backend.vm_provision(store, &vc.id, &r.id, &approve_all(), &|_| {}).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict);

    // Lifecycle: nothing due today; a daily snapshot tomorrow.
    let actions = t.backend.vm_lifecycle(store, &vc.id, today).await.unwrap();
    assert!(actions.is_empty(), "{actions:?}");
    let actions = t.backend.vm_lifecycle(store, &vc.id, today + Duration::days(1)).await.unwrap();
    assert_eq!(actions.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(), ["snapshot"], "{actions:?}");
    let snaps = t.backend.vm_inventory(&vc.id).await.unwrap().vm_by_name("build-01").unwrap().snapshots.len();
    assert_eq!(snaps, 2);
    // Nine days on: the scheduled snapshot (taken "now" by vcsim) is past the 7-day retention.
    let actions = t.backend.vm_lifecycle(store, &vc.id, today + Duration::days(9)).await.unwrap();
    let kinds: Vec<&str> = actions.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(kinds, ["snapshot", "snapshot_removed"], "{actions:?}");

    // Lease: warned 3 days before (once), powered off after, destroyed after the grace period.
    let lease = opsdeck_core::vms::validate::parse_date("lease", &r.spec.lease_end).unwrap();
    let at = |d: time::Date| d.with_hms(12, 0, 0).unwrap().assume_utc();
    let warn = t.backend.vm_lifecycle(store, &vc.id, at(lease - Duration::days(2))).await.unwrap();
    assert!(warn.iter().any(|a| a.action == "lease_warning" && a.detail.contains("in 2 days")), "{warn:?}");
    let again = t.backend.vm_lifecycle(store, &vc.id, at(lease - Duration::days(1))).await.unwrap();
    assert!(!again.iter().any(|a| a.action == "lease_warning"), "warned once: {again:?}");
    let off = t.backend.vm_lifecycle(store, &vc.id, at(lease + Duration::days(1))).await.unwrap();
    assert!(off.iter().any(|a| a.action == "power_off" && a.ok), "{off:?}");
    let r2 = t.backend.vm_request(store, &r.id).await.unwrap();
    assert_eq!(r2.state, State::Expired);
    assert!(!t.backend.vm_inventory(&vc.id).await.unwrap().vm_by_name("build-01").unwrap().powered_on());
    // The grace period counts from the power-off, recorded at lease+1 (simulated clock).
    let early = t.backend.vm_lifecycle(store, &vc.id, at(lease + Duration::days(3))).await.unwrap();
    assert!(!early.iter().any(|a| a.action == "reclaim"), "{early:?}");
    let gone = t.backend.vm_lifecycle(store, &vc.id, at(lease + Duration::days(8))).await.unwrap();
    assert!(gone.iter().any(|a| a.action == "reclaim" && a.ok), "{gone:?}");
    assert_eq!(count_named(&t.backend.vm_inventory(&vc.id).await.unwrap(), "build-01"), 0, "destroyed in vCenter");
    assert_eq!(t.backend.vm_request(store, &r.id).await.unwrap().state, State::Reclaimed);

    // Every step is in the audit log.
    let audit = t.backend.audit_log(&AuditFilter { platform: Some("vsphere".into()), limit: 200, ..Default::default() }).await.unwrap();
    let actions: Vec<&str> = audit.entries.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "vm.quota",
        "vm.request",
        "vm.manager.approve",
        "vm.admin.approve",
        "vm.provision",
        "vm.lifecycle.snapshot",
        "vm.lifecycle.lease_warning",
        "vm.lifecycle.power_off",
        "vm.lifecycle.reclaim",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    t.cleanup().await;
}

#[tokio::test]
async fn quota_refusal_counts_pending_requests() {
    let t = TestBackend::new().await;
    let (_vcsim, vc) = vcsim_with_template(&t, &[]).await;
    let store = t.backend.vm_store(&StoreChoice::Local).await.unwrap();
    let store = store.as_ref();
    t.backend.vm_set_quota(store, "qa", &Quota { vcpu: 6, ..Default::default() }).await.unwrap();

    let first = t.backend.vm_submit(store, &vc.id, RequestSpec { cpu: 4, ..form("q-1", "qa") }).await.unwrap();
    assert_eq!(first.state, State::PendingManager);
    // 4 pending + 4 asked > 6: refused at once, with the numbers.
    let second = t.backend.vm_submit(store, &vc.id, RequestSpec { cpu: 4, ..form("q-2", "qa") }).await.unwrap();
    assert_eq!(second.state, State::Rejected);
    assert!(second.quota.lines.iter().any(|l| l == "vCPU 8 of 6 (in use or pending 4, this request 4): over quota"), "{:?}", second.quota);
    assert!(second.history[0].comment.contains("quota exceeded"), "{:?}", second.history[0]);
    // Another department is not affected.
    let other = t.backend.vm_submit(store, &vc.id, RequestSpec { cpu: 4, ..form("q-3", "dev") }).await.unwrap();
    assert_eq!(other.state, State::PendingManager);

    // The quota shrinks while the first waits: the admin cannot approve it.
    t.backend.vm_decide(store, Some(&vc.id), &first.id, Stage::Manager, true, "").await.unwrap();
    t.backend.vm_set_quota(store, "qa", &Quota { vcpu: 2, ..Default::default() }).await.unwrap();
    let e = t.backend.vm_decide(store, Some(&vc.id), &first.id, Stage::Admin, true, "").await.unwrap_err();
    assert!(e.to_string().contains("exceed the quota of qa"), "{e}");
    let quotas = t.backend.vm_quotas(store, Some(&vc.id)).await.unwrap();
    let qa = quotas.iter().find(|q| q.department == "qa").unwrap();
    assert_eq!((qa.quota.vcpu, qa.usage.vcpu, qa.usage.vms), (2, 4, 1), "the rejected request uses nothing");

    // Form validation against vCenter.
    let e = t.backend.vm_submit(store, &vc.id, RequestSpec { template: "no-such-template".into(), ..form("q-4", "qa") }).await.unwrap_err();
    assert!(e.to_string().contains("template \"no-such-template\" does not exist"), "{e}");
    let e = t.backend.vm_submit(store, &vc.id, form("q-1", "dev")).await.unwrap_err();
    assert!(e.to_string().contains("already asked for by request"), "{e}");
    let e = t.backend.vm_submit(store, &vc.id, RequestSpec { name: "dc0-h0-vm1".into(), ..form("x", "qa") }).await;
    assert!(e.is_ok(), "a free name is accepted");
    t.cleanup().await;
}

#[tokio::test]
async fn placement_follows_host_load() {
    let t = TestBackend::new().await;
    let (_vcsim, vc) = vcsim_with_template(&t, &[]).await;
    let store = t.backend.vm_store(&StoreChoice::Local).await.unwrap();
    let store = store.as_ref();
    let vim = t.backend.vim(&vc.id).await.unwrap();

    let inv = t.backend.vm_inventory(&vc.id).await.unwrap();
    let first = placement::place(&inv, &form("p", "qa"), placement::DEFAULT_MAX_VMS_PER_HOST).unwrap();
    // Load the preferred host with VMs cloned straight onto it.
    let template = inv.vm_by_name(opsdeck_tests::vms::TEMPLATE).unwrap().clone();
    let host = inv.host(&first.host).unwrap().clone();
    let pool = inv.root_pool_of_host(&host.id).unwrap().to_string();
    let config = opsdeck_core::vms::vsphere::config_spec(1, 1, "load");
    for i in 0..6 {
        vim.clone_vm(
            &CloneTarget {
                template: &template.id,
                folder: &template.folder,
                name: &format!("load-{i}"),
                host: &host.id,
                pool: &pool,
                datastore: &first.datastore,
            },
            &config,
            &|_| {},
        )
        .await
        .unwrap();
    }
    let inv = t.backend.vm_inventory(&vc.id).await.unwrap();
    assert_eq!(inv.host(&host.id).unwrap().vm_count, host.vm_count + 6);
    let best = inv
        .hosts
        .iter()
        .filter(|h| h.connected && !h.maintenance)
        .max_by(|a, b| placement::score(a, 100).total_cmp(&placement::score(b, 100)).then_with(|| b.name.cmp(&a.name)))
        .unwrap();
    assert_ne!(best.id, host.id, "the loaded host no longer scores best");

    let r = t.backend.vm_submit(store, &vc.id, form("placed-1", "qa")).await.unwrap();
    t.backend.vm_decide(store, Some(&vc.id), &r.id, Stage::Manager, true, "").await.unwrap();
    t.backend.vm_decide(store, Some(&vc.id), &r.id, Stage::Admin, true, "").await.unwrap();
    let r = t.backend.vm_provision(store, &vc.id, &r.id, &approve_all(), &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Provisioned, "{:?}", r.failure);
    let vm = t.backend.vm_inventory(&vc.id).await.unwrap().vm_by_name("placed-1").unwrap().clone();
    assert_eq!(vm.host, best.id, "placed on {} (score {:.3}), not on the loaded {}", best.name, placement::score(best, 100), host.name);
    t.cleanup().await;
}

#[tokio::test]
async fn failures_clean_up_and_a_retry_makes_one_vm() {
    let t = TestBackend::new().await;
    let (_vcsim, vc) = vcsim_with_template(&t, &[]).await;
    let store = t.backend.vm_store(&StoreChoice::Local).await.unwrap();
    let store = store.as_ref();
    let mut settings = VmSettings::default();
    settings.limits.max_disk_gb = 1_000_000;
    t.backend.set_vm_settings(&settings).await.unwrap();
    let approved = |spec: RequestSpec| {
        let t = &t;
        let vc = vc.id.clone();
        async move {
            let r = t.backend.vm_submit(store, &vc, spec).await.unwrap();
            t.backend.vm_decide(store, Some(&vc), &r.id, Stage::Manager, true, "").await.unwrap();
            t.backend.vm_decide(store, Some(&vc), &r.id, Stage::Admin, true, "").await.unwrap()
        }
    };

    // Datastore full: no datastore has 900 TB; nothing is created.
    let r = approved(RequestSpec { disk_gb: 900_000, ..form("huge-1", "qa") }).await;
    let r = t.backend.vm_provision(store, &vc.id, &r.id, &approve_all(), &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Failed);
    assert!(r.failure.as_deref().unwrap().contains("no datastore with 900000 GB free"), "{:?}", r.failure);
    assert_eq!(count_named(&t.backend.vm_inventory(&vc.id).await.unwrap(), "huge-1"), 0);

    // A failure after the clone (injected after power-on): the half-made VM is destroyed.
    let r = approved(form("half-1", "qa")).await;
    let opts = ProvisionOptions { fail_after: Some("power_on"), ..approve_all() };
    let r = t.backend.vm_provision(store, &vc.id, &r.id, &opts, &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Failed);
    let why = r.failure.clone().unwrap();
    assert!(why.contains("injected failure after step power_on") && why.contains("cleaned up: destroyed the half-made VM"), "{why}");
    assert_eq!(count_named(&t.backend.vm_inventory(&vc.id).await.unwrap(), "half-1"), 0, "nothing left behind");
    // The retry succeeds with exactly one VM.
    let r = t.backend.vm_provision(store, &vc.id, &r.id, &approve_all(), &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Provisioned, "{:?}", r.failure);
    assert_eq!(r.attempts, 2);
    assert_eq!(count_named(&t.backend.vm_inventory(&vc.id).await.unwrap(), "half-1"), 1);

    // An earlier attempt died right after its clone (the VM exists, tagged
    // with the request id): provisioning adopts it instead of cloning again.
    let r = approved(form("crash-1", "qa")).await;
    let vim = t.backend.vim(&vc.id).await.unwrap();
    let inv = t.backend.vm_inventory(&vc.id).await.unwrap();
    let template = inv.vm_by_name(opsdeck_tests::vms::TEMPLATE).unwrap().clone();
    let placed = placement::place(&inv, &r.spec, placement::DEFAULT_MAX_VMS_PER_HOST).unwrap();
    let pool = inv.root_pool_of_host(&placed.host).unwrap().to_string();
    let note = opsdeck_core::vms::provision::annotation(&r);
    let spec = opsdeck_core::vms::vsphere::config_spec(1, 1, &note);
    let orphan = vim
        .clone_vm(
            &CloneTarget {
                template: &template.id,
                folder: &template.folder,
                name: "crash-1",
                host: &placed.host,
                pool: &pool,
                datastore: &placed.datastore,
            },
            &spec,
            &|_| {},
        )
        .await
        .unwrap();
    // vcsim ignores the clone spec's config (vCenter applies it with the clone); set it as vCenter would have.
    vim.reconfigure(&orphan, &spec, &|_| {}).await.unwrap();
    let r = t.backend.vm_provision(store, &vc.id, &r.id, &approve_all(), &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Provisioned, "{:?}", r.failure);
    assert_eq!(r.asset.unwrap().vm_id, orphan, "the VM of the dead attempt was adopted");
    assert_eq!(count_named(&t.backend.vm_inventory(&vc.id).await.unwrap(), "crash-1"), 1);

    // A VM of the same name not made for the request is never taken over.
    let r = approved(form("taken-1", "qa")).await;
    vim.clone_vm(
        &CloneTarget {
            template: &template.id,
            folder: &template.folder,
            name: "taken-1",
            host: &placed.host,
            pool: &pool,
            datastore: &placed.datastore,
        },
        &opsdeck_core::vms::vsphere::config_spec(1, 1, "someone else's"),
        &|_| {},
    )
    .await
    .unwrap();
    let r = t.backend.vm_provision(store, &vc.id, &r.id, &approve_all(), &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Failed);
    assert!(r.failure.as_deref().unwrap().contains("already exists and was not made for request"), "{:?}", r.failure);
    assert_eq!(count_named(&t.backend.vm_inventory(&vc.id).await.unwrap(), "taken-1"), 1, "the other VM is untouched");

    // Template removed after approval: failed with the reason, nothing made.
    let r = approved(form("orphan-1", "qa")).await;
    let template = t.backend.vm_inventory(&vc.id).await.unwrap().vm_by_name(opsdeck_tests::vms::TEMPLATE).unwrap().id.clone();
    vim.destroy(&template).await.unwrap();
    let r = t.backend.vm_provision(store, &vc.id, &r.id, &approve_all(), &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Failed);
    assert!(r.failure.as_deref().unwrap().contains("does not exist in vCenter"), "{:?}", r.failure);
    assert_eq!(count_named(&t.backend.vm_inventory(&vc.id).await.unwrap(), "orphan-1"), 0);
    t.cleanup().await;
}

/// Compliance's "powered off for N days" needs when each VM was first seen
/// off (vCenter keeps no power-off time): kept across inventory loads,
/// cleared when the VM is powered on or removed, never for templates.
#[tokio::test]
async fn first_sighting_of_powered_off_vms() {
    let t = TestBackend::new().await;
    let (_vcsim, vc) = vcsim_with_template(&t, &[]).await;
    let vim = t.backend.vim(&vc.id).await.unwrap();
    let inv = t.backend.vm_inventory(&vc.id).await.unwrap();
    let off_vm = inv.vm_by_name("DC0_C0_RP0_VM0").expect("vcsim VM").id.clone();
    let gone_vm = inv.vm_by_name("DC0_C0_RP0_VM1").expect("vcsim VM").id.clone();
    let template = inv.vm_by_name(opsdeck_tests::vms::TEMPLATE).unwrap().id.clone();
    vim.power_off(&off_vm).await.unwrap();
    vim.power_off(&gone_vm).await.unwrap();

    t.backend.vm_inventory(&vc.id).await.unwrap();
    let first = t.backend.powered_off_since(&vc.id).await.unwrap();
    assert!(first.contains_key(&off_vm) && first.contains_key(&gone_vm), "{first:?}");
    assert!(!first.contains_key(&template), "templates are always off: not a finding");
    assert_eq!(first.len(), 2, "only the VMs that are off: {first:?}");

    vim.destroy(&gone_vm).await.unwrap();
    t.backend.vm_inventory(&vc.id).await.unwrap();
    let second = t.backend.powered_off_since(&vc.id).await.unwrap();
    assert_eq!(second.get(&off_vm), first.get(&off_vm), "the first sighting is kept across loads");
    assert!(!second.contains_key(&gone_vm), "a removed VM is forgotten");

    vim.power_on(&off_vm, &|_| {}).await.unwrap();
    t.backend.vm_inventory(&vc.id).await.unwrap();
    assert!(t.backend.powered_off_since(&vc.id).await.unwrap().is_empty(), "powered on again: forgotten");
    t.cleanup().await;
}

/// A task vCenter fails carries its fault to the user: powering on a VM that
/// is already on is refused by vcsim with `InvalidPowerState` (the fault's
/// type used to be lost: "invalid property type for 'info.error'").
#[tokio::test]
async fn a_failed_vsphere_task_reports_vcenter_s_fault() {
    let t = TestBackend::new().await;
    let (_vcsim, vc) = vcsim_with_template(&t, &[]).await;
    let vim = t.backend.vim(&vc.id).await.unwrap();
    let inv = t.backend.vm_inventory(&vc.id).await.unwrap();
    let running = inv.vms.iter().find(|v| v.powered_on() && !v.template).expect("a running vcsim VM");
    let e = vim.power_on(&running.id, &|_| {}).await.expect_err("a running VM cannot be powered on again");
    let text = e.to_string();
    assert!(text.contains("InvalidPowerState"), "{text}");
    assert!(text.contains(&format!("powering on {}", running.id)), "{text}");
    assert!(!text.contains("invalid property type"), "{text}");
}

//! Showback and the Overview against real services: VMs provisioned on vcsim
//! priced with a price list kept locally or in the team's etcd (IT admins
//! only, guarded against lost updates, audited, bad prices refused with
//! nothing saved); the Overview from the cache with one platform connected,
//! then live, and a live tile stopped when its caller cancels.

use opsdeck_core::backend::StoreChoice;
use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::overview::{CancellationToken, TileName, TileUpdate};
use opsdeck_core::showback::{self, DiskTier, PriceList, UNASSIGNED};
use opsdeck_core::team::DEFAULT_ROOT;
use opsdeck_core::vms::model::{Quota, RequestSpec, Stage, State};
use opsdeck_core::vms::provision::ProvisionOptions;
use opsdeck_core::vms::store::RequestStore;
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::{etcd_connection, etcd_with_vm_roles, form, vcsim_with_template};

fn prices() -> PriceList {
    PriceList {
        currency: "CNY".into(),
        vcpu: 50.0,
        memory_gb: 20.0,
        disk_gb: 0.5,
        tiers: vec![DiskTier { name: "local".into(), disk_gb: 1.5, datastores: vec!["LocalDS_*".into()] }],
    }
}

/// Files, approves and provisions `name` for `dept` (local store: one operator).
async fn provisioned(t: &TestBackend, store: &dyn RequestStore, vc: &str, spec: RequestSpec) -> opsdeck_core::vms::VmRequest {
    let r = t.backend.vm_submit(store, vc, spec).await.unwrap();
    t.backend.vm_decide(store, Some(vc), &r.id, Stage::Manager, true, "").await.unwrap();
    t.backend.vm_decide(store, Some(vc), &r.id, Stage::Admin, true, "").await.unwrap();
    let opts = ProvisionOptions { instance: "showback-test".into(), ..Default::default() };
    let r = t.backend.vm_provision(store, vc, &r.id, &opts, &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Provisioned, "{:?}", r.failure);
    r
}

#[tokio::test]
async fn vms_on_vcsim_priced_by_department_owner_and_tier_bad_prices_refused() {
    let t = TestBackend::new().await;
    let (_vcsim, vc) = vcsim_with_template(&t, &[]).await;
    let store = t.backend.vm_store(&StoreChoice::Local).await.unwrap();
    let store = store.as_ref();

    // Never set: zero prices, said so.
    let p = t.backend.price_list(store).await.unwrap();
    assert_eq!((p.source.as_str(), p.list.vcpu, p.updated_at.clone()), ("local", 0.0, None));

    // Bad prices: a clear error each, nothing saved, the refusal audited.
    for (bad, says) in [
        (PriceList { vcpu: -3.0, ..prices() }, "vCPU price is negative"),
        (PriceList { memory_gb: f64::NAN, ..prices() }, "memory price (per GB) is not a number"),
        (PriceList { disk_gb: 2_000_000.0, ..prices() }, "check the decimal point"),
        (PriceList { currency: "yuan".into(), ..prices() }, "3-letter ISO code"),
    ] {
        let e = t.backend.set_price_list(store, &bad, None).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
        assert!(e.to_string().contains(says), "{e}");
    }
    assert_eq!(t.backend.price_list(store).await.unwrap().updated_at, None, "nothing was saved");
    let audit = t.backend.audit_log(&AuditFilter { text: Some("vm.price_list".into()), limit: 100, ..Default::default() }).await.unwrap();
    assert_eq!(audit.entries.iter().filter(|e| e.result == "error").count(), 4, "{:?}", audit.entries);

    let saved = t.backend.set_price_list(store, &prices(), None).await.unwrap();
    assert_eq!((saved.source.as_str(), saved.updated_by.as_deref()), ("local", Some("tester")));
    let audit = t
        .backend
        .audit_log(&AuditFilter { text: Some("vm.price_list".into()), result: Some("ok".into()), limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert!(audit.entries[0].detail.contains("50/vCPU") && audit.entries[0].detail.contains("local 1.5/GB"), "{:?}", audit.entries[0]);

    // The form's estimate: the size at today's prices, disk at the default price.
    let spec = RequestSpec { cpu: 2, memory_gb: 1, disk_gb: 40, ..form("sb-web", "qa") };
    let est = t.backend.vm_estimate(store, &spec).await.unwrap();
    assert_eq!(est.cost.monthly, (2 * 50 + 20) * 100 + 40 * 50, "{est:?}");
    assert!(est.note.contains("chosen at provisioning"), "{est:?}");

    t.backend.vm_set_quota(store, "qa", &Quota { vms: 5, vcpu: 10, memory_gb: 10, disk_gb: 200, ..Default::default() }).await.unwrap();
    let web = provisioned(&t, store, &vc.id, spec).await;
    let kept = web.estimate.clone().expect("the estimate is kept on the request");
    assert_eq!((kept.cost.monthly, kept.currency.as_str()), (est.cost.monthly, "CNY"));
    let pending =
        t.backend.vm_submit(store, &vc.id, RequestSpec { cpu: 1, memory_gb: 1, disk_gb: 10, ..form("sb-next", "qa") }).await.unwrap();
    assert_eq!(pending.state, State::PendingManager);

    let report = t.backend.vm_showback(store, Some(&vc.id), true, None).await.unwrap();
    let vm = report.vms.iter().find(|v| v.vm == "sb-web").expect("the provisioned VM is priced");
    let asset = web.asset.clone().unwrap();
    assert_eq!((vm.vm_id.as_str(), vm.department.as_str(), vm.owner.as_str()), (asset.vm_id.as_str(), "qa", "tester"));
    assert_eq!(vm.basis, "inventory");
    assert_eq!(vm.datastore, asset.datastore, "its datastore as vCenter reports it");
    assert_eq!(vm.cost.tier.as_deref(), Some("local"), "vcsim's LocalDS_* datastores are the 'local' tier: {vm:?}");
    assert_eq!(vm.cost.vcpu, 2 * 50 * 100);
    assert_eq!(vm.cost.memory, 20 * 100, "1 GB of memory as vCenter reports it");
    // vcsim's own VMs carry no Opsdeck annotation: unassigned, still priced.
    assert!(report.vms.iter().any(|v| v.department == UNASSIGNED && v.cost.monthly > 0), "{:?}", report.vms);
    let qa = report.departments.iter().find(|d| d.department == "qa").unwrap();
    assert_eq!((qa.vms, qa.monthly), (1, vm.cost.monthly));
    assert_eq!((qa.pending, qa.pending_monthly), (1, (50 + 20) * 100 + 10 * 50));
    assert_eq!(qa.quota_monthly, Some((10 * 50 + 10 * 20) * 100 + 200 * 50));
    assert_eq!(report.monthly, report.vms.iter().map(|v| v.cost.monthly).sum::<i64>());
    assert!(report.owners.iter().any(|o| o.owner == "tester" && o.vms == 1));

    // One department; CSV with a line per VM.
    let only = t.backend.vm_showback(store, Some(&vc.id), false, Some("qa")).await.unwrap();
    assert_eq!((only.vms.len(), only.departments.len()), (1, 1));
    let csv = showback::to_csv(&only);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].starts_with(&format!("sb-web,{},qa,tester,{},2,", asset.vm_id, web.id)), "{csv}");
    assert!(lines[1].ends_with(&format!(",{},CNY", showback::money(vm.cost.monthly))), "{csv}");
    t.cleanup().await;
}

#[tokio::test]
async fn the_team_price_list_is_the_admins_guarded_and_shared() {
    let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    let t = TestBackend::new().await;
    let choice = |c: &str| StoreChoice::Etcd { connection_id: c.into(), prefix: DEFAULT_ROOT.into(), allow_no_auth: false };
    let alice = t.backend.vm_store(&choice(&etcd_connection(&t, &etcd, "alice").await.id)).await.unwrap();
    let carol = t.backend.vm_store(&choice(&etcd_connection(&t, &etcd, "carol").await.id)).await.unwrap();

    let p = t.backend.price_list(alice.as_ref()).await.unwrap();
    assert_eq!((p.source.as_str(), p.revision), ("team", 0));

    // A requester cannot set the team's prices (etcd refuses it).
    let e = t.backend.set_price_list(alice.as_ref(), &prices(), Some(0)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    assert!(e.to_string().contains("opsdeck-vm-admin"), "{e}");

    // The IT admin sets it; everyone reads the same list.
    let saved = t.backend.set_price_list(carol.as_ref(), &prices(), Some(0)).await.unwrap();
    assert_eq!((saved.source.as_str(), saved.updated_by.as_deref()), ("team", Some("carol")));
    let seen = t.backend.price_list(alice.as_ref()).await.unwrap();
    assert_eq!((seen.list.clone(), seen.revision), (saved.list.clone(), saved.revision));

    // A change made meanwhile is not overwritten: the stale revision is refused.
    let newer = t.backend.set_price_list(carol.as_ref(), &PriceList { vcpu: 60.0, ..prices() }, Some(saved.revision)).await.unwrap();
    let e = t.backend.set_price_list(carol.as_ref(), &PriceList { vcpu: 70.0, ..prices() }, Some(saved.revision)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
    assert_eq!(t.backend.price_list(alice.as_ref()).await.unwrap().list.vcpu, 60.0, "{newer:?}");

    // A list written around Opsdeck with a negative price is refused on reading, not used.
    let mut raw = opsdeck_tests::vms::raw_etcd(&etcd, "carol").await;
    raw.put(
        format!("{DEFAULT_ROOT}showback/prices"),
        serde_json::json!({"list": {"currency": "CNY", "vcpu": -5.0, "memory_gb": 1.0, "disk_gb": 1.0}, "updated_at": "t", "updated_by": "carol"})
            .to_string(),
        None,
    )
    .await
    .unwrap();
    let e = t.backend.price_list(alice.as_ref()).await.unwrap_err();
    assert!(e.to_string().contains("negative"), "{e}");

    // The team trail has the admin's change.
    let trail = t.backend.team_trail(Some(&choice(&etcd_connection(&t, &etcd, "bob").await.id)), &Default::default()).await.unwrap();
    assert!(trail.entries.iter().any(|e| e.entry.action == "vm.price_list" && e.entry.user == "carol" && e.entry.result == "ok"));
    t.cleanup().await;
}

#[tokio::test]
async fn overview_with_one_platform_from_cache_then_live_and_cancelled() {
    let t = TestBackend::new().await;
    let (_vcsim, vc) = vcsim_with_template(&t, &[]).await;
    let store = t.backend.vm_store(&StoreChoice::Local).await.unwrap();
    let store = store.as_ref();

    // The inventory read while setting up is in the cache; the others ask for a connection.
    let o = t.backend.overview_cached().await.unwrap();
    assert_eq!((o.vms.status.connections, o.vms.status.source.as_str()), (1, "cache"));
    assert!(o.vms.status.as_of.is_some() && o.vms.status.problems.is_empty(), "{:?}", o.vms.status);
    for (name, s) in [("clusters", &o.clusters.status), ("images", &o.images.status), ("config", &o.config.status)] {
        assert_eq!((s.connections, s.source.as_str()), (0, "none"), "{name}: {s:?}");
        assert!(s.problems.is_empty(), "{name}: an unconnected platform is no error: {s:?}");
    }

    // A request waiting for a decision, filed by someone else than "me".
    let lease_soon = (time::OffsetDateTime::now_utc() + time::Duration::days(3)).date().to_string();
    let r = provisioned(&t, store, &vc.id, RequestSpec { lease_end: lease_soon.clone(), ..form("ov-soon", "qa") }).await;
    assert_eq!(r.spec.lease_end, lease_soon);

    let live = t.backend.overview_tile(TileName::Vms, &CancellationToken::new()).await.unwrap();
    let TileUpdate::Vms(v) = live else { panic!("{live:?}") };
    assert_eq!(v.status.source, "live");
    assert!(v.vms >= 1 && v.powered_on >= 1, "{v:?}");
    assert_eq!(v.leases_ending, 1, "{v:?}");
    assert_eq!((v.lease_items[0].name.as_str(), v.lease_items[0].days_left), ("ov-soon", 3));

    // The cache now has the inventory: the next start shows it at once.
    let o = t.backend.overview_cached().await.unwrap();
    assert_eq!((o.vms.vms, o.vms.leases_ending, o.vms.status.source.as_str()), (v.vms, 1, "cache"));
    assert!(o.vms.status.as_of.is_some() && o.vms.status.problems.is_empty(), "{:?}", o.vms.status);
    assert!(o.activity.items.iter().any(|a| a.action == "vm.provision"), "{:?}", o.activity.items);

    // A tile whose caller left: stopped, typed as cancelled.
    let cancel = CancellationToken::new();
    cancel.cancel();
    let e = t.backend.overview_tile(TileName::Vms, &cancel).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Cancelled, "{e}");
    t.cleanup().await;
}

//! `opsdeck vm lifecycle --dry-run` against a real vcsim and the local
//! request store: the plan lists exactly what a real pass at the same time
//! then does (snapshot, lease warning, power-off, destroy), with the
//! capacity each department gets back, and changes nothing itself.

use opsdeck_core::backend::StoreChoice;
use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::vms::lifecycle::{Capacity, Plan};
use opsdeck_core::vms::model::{Quota, RequestSpec, Stage, State};
use opsdeck_core::vms::provision::ProvisionOptions;
use opsdeck_core::vms::store::RequestStore;
use opsdeck_core::{Backend, BackendOptions};
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::{count_named, form, vcsim_with_template};
use opsdeck_tests::workspace;
use time::{Date, Duration, OffsetDateTime};

fn noon(d: Date) -> OffsetDateTime {
    d.with_hms(12, 0, 0).unwrap().assume_utc()
}

/// Files, approves and provisions `spec` (as one operator: the local store).
async fn provisioned(t: &TestBackend, store: &dyn RequestStore, vc: &str, spec: RequestSpec) -> String {
    let r = t.backend.vm_submit(store, vc, spec).await.unwrap();
    t.backend.vm_decide(store, Some(vc), &r.id, Stage::Manager, true, "").await.unwrap();
    t.backend.vm_decide(store, Some(vc), &r.id, Stage::Admin, true, "").await.unwrap();
    let opts = ProvisionOptions { instance: "plan-test".into(), ..Default::default() };
    let r = t.backend.vm_provision(store, vc, &r.id, &opts, &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Provisioned, "{:?}", r.failure);
    r.id
}

/// The (request, action) pairs of a plan.
fn planned(plan: &Plan) -> Vec<(String, String)> {
    plan.steps.iter().map(|s| (s.request.clone(), s.action.clone())).collect()
}

async fn lifecycle_audit_count(b: &Backend) -> usize {
    let audit = b.audit_log(&AuditFilter { platform: Some("vsphere".into()), limit: 1000, ..Default::default() }).await.unwrap();
    audit.entries.iter().filter(|e| e.action.starts_with("vm.lifecycle.")).count()
}

#[tokio::test]
async fn the_dry_run_lists_exactly_what_the_real_pass_then_does() {
    // A backend whose data directory and keychain the CLI shares.
    let dir = tempfile::tempdir().unwrap();
    let keychain = format!("opsdeck-test-{}", uuid::Uuid::new_v4());
    let options = BackendOptions { data_dir: dir.path().to_path_buf(), keychain_service: keychain.clone(), actor: "tester".into() };
    let t = TestBackend { backend: Backend::open(options).await.unwrap(), dir };
    let (_vcsim, vc) = vcsim_with_template(&t, &[]).await;
    let store = t.backend.vm_store(&StoreChoice::Local).await.unwrap();
    let store = store.as_ref();
    for dept in ["qa", "dev"] {
        t.backend.vm_set_quota(store, dept, &Quota { vms: 5, vcpu: 16, memory_gb: 16, disk_gb: 500, ..Default::default() }).await.unwrap();
    }
    let today = OffsetDateTime::now_utc().date();
    let lease = today + Duration::days(30);
    let qa = provisioned(&t, store, &vc.id, RequestSpec { disk_gb: 30, ..form("plan-qa", "qa") }).await;
    let dev = provisioned(&t, store, &vc.id, form("plan-dev", "dev")).await;
    let later = (lease + Duration::days(10)).to_string();
    let long = provisioned(&t, store, &vc.id, RequestSpec { lease_end: later, ..form("plan-long", "qa") }).await;

    // The day after the lease: qa's and dev's VMs are powered off, every VM gets its daily snapshot.
    let t1 = noon(lease + Duration::days(1));
    let audited = lifecycle_audit_count(&t.backend).await;
    let plan = t.backend.vm_lifecycle_plan(store, &vc.id, t1).await.unwrap();
    let mut expected = vec![
        (qa.clone(), "snapshot".to_string()),
        (qa.clone(), "power_off".into()),
        (dev.clone(), "snapshot".into()),
        (dev.clone(), "power_off".into()),
        (long.clone(), "snapshot".into()),
    ];
    let mut got = planned(&plan);
    got.sort();
    expected.sort();
    assert_eq!(got, expected, "{plan:#?}");
    let running = |vcpu, memory_mb| Capacity { vms: 1, vcpu, memory_mb, disk_gb: 0 };
    let back: Vec<_> = plan.departments.iter().map(|d| (d.department.as_str(), d.powered_off, d.reclaimed)).collect();
    assert_eq!(back, [("dev", running(2, 1024), Capacity::default()), ("qa", running(2, 1024), Capacity::default())]);
    // The dry run changed nothing: no state, no VM, no audit entry.
    assert_eq!(t.backend.vm_request(store, &qa).await.unwrap().state, State::Provisioned);
    assert!(t.backend.vm_inventory(&vc.id).await.unwrap().vm_by_name("plan-qa").unwrap().powered_on());
    assert_eq!(lifecycle_audit_count(&t.backend).await, audited);
    // The same plan from the CLI, looking ahead with --at.
    let at = (lease + Duration::days(1)).to_string();
    let out = workspace::cli(t.dir.path(), &keychain)
        .args(["vm", "--store", "local", "lifecycle", "--dry-run", "--at", &at, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let cli_plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli_plan, serde_json::to_value(&plan).unwrap());
    let bad = workspace::cli(t.dir.path(), &keychain).args(["vm", "lifecycle", "--dry-run", "--at", "next week"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", String::from_utf8_lossy(&bad.stderr));

    // The real pass at the same time does exactly that.
    let done = t.backend.vm_lifecycle(store, &vc.id, t1).await.unwrap();
    assert!(done.iter().all(|a| a.ok), "{done:?}");
    let did: Vec<(String, String)> = done.iter().map(|a| (a.request.clone(), a.action.clone())).collect();
    assert_eq!(did, planned(&plan), "{done:?}");
    assert_eq!(t.backend.vm_request(store, &qa).await.unwrap().state, State::Expired);
    assert!(!t.backend.vm_inventory(&vc.id).await.unwrap().vm_by_name("plan-qa").unwrap().powered_on());

    // After the grace period: destroyed, quota back; the long lease is warned and its old snapshot removed.
    let t2 = noon(lease + Duration::days(8));
    let plan = t.backend.vm_lifecycle_plan(store, &vc.id, t2).await.unwrap();
    let kinds: Vec<(&str, &str)> = plan.steps.iter().map(|s| (s.vm.as_str(), s.action.as_str())).collect();
    for step in [("plan-qa", "reclaim"), ("plan-dev", "reclaim"), ("plan-long", "snapshot"), ("plan-long", "lease_warning")] {
        assert!(kinds.contains(&step), "{step:?} not planned: {kinds:?}");
    }
    assert!(kinds.contains(&("plan-long", "snapshot_removed")), "the scheduled snapshot of t1 is past the retention: {kinds:?}");
    let reclaimed: Vec<_> = plan.departments.iter().map(|d| (d.department.as_str(), d.reclaimed)).collect();
    assert_eq!(
        reclaimed,
        [
            ("dev", Capacity { vms: 1, vcpu: 2, memory_mb: 1024, disk_gb: 20 }),
            ("qa", Capacity { vms: 1, vcpu: 2, memory_mb: 1024, disk_gb: 30 })
        ]
    );
    let done = t.backend.vm_lifecycle(store, &vc.id, t2).await.unwrap();
    assert!(done.iter().all(|a| a.ok), "{done:?}");
    let did: Vec<(String, String)> = done.iter().map(|a| (a.request.clone(), a.action.clone())).collect();
    assert_eq!(did, planned(&plan), "{done:?}");
    let inv = t.backend.vm_inventory(&vc.id).await.unwrap();
    assert_eq!((count_named(&inv, "plan-qa"), count_named(&inv, "plan-dev"), count_named(&inv, "plan-long")), (0, 0, 1));
    // Nothing else is due at t2 (vcsim dates the snapshot it just took today, so at the
    // simulated t2 it is already past the retention).
    let plan = t.backend.vm_lifecycle_plan(store, &vc.id, t2).await.unwrap();
    assert!(plan.steps.iter().all(|s| s.action == "snapshot_removed") && plan.departments.is_empty(), "{plan:?}");
    t.cleanup().await;
}

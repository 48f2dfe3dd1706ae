//! The shared request store in a real etcd with auth on: etcd users and
//! roles decide who may approve, transactions let exactly one of two
//! concurrent approvers win, and the execution lock makes 20 requests
//! provisioned by two app instances at once end with exactly 20 VMs.

use std::collections::HashSet;

use opsdeck_core::backend::StoreChoice;
use opsdeck_core::team::DEFAULT_ROOT as DEFAULT_PREFIX;
use opsdeck_core::vms::model::{Quota, Stage, State};
use opsdeck_core::vms::provision::ProvisionOptions;
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::{count_named, etcd_connection, etcd_with_vm_roles, form, vcsim_connection, vcsim_with_template};

fn etcd_store(connection_id: &str) -> StoreChoice {
    StoreChoice::Etcd { connection_id: connection_id.into(), prefix: DEFAULT_PREFIX.into(), allow_no_auth: false }
}

#[tokio::test]
async fn roles_decide_who_approves_and_one_of_two_approvers_wins() {
    let etcd = etcd_with_vm_roles(DEFAULT_PREFIX).await;
    let t = TestBackend::new().await;
    let (_vcsim, vc) = vcsim_with_template(&t, &[]).await;
    let mut stores = std::collections::HashMap::new();
    for user in ["alice", "bob", "bert", "carol", "dave"] {
        let c = etcd_connection(&t, &etcd, user).await;
        stores.insert(user, t.backend.vm_store(&etcd_store(&c.id)).await.unwrap());
    }
    let s = |u: &str| stores[u].as_ref();

    // Quotas are the admin's: a requester cannot raise its own.
    let e = t.backend.vm_set_quota(s("alice"), "qa", &Quota { vms: 100, ..Default::default() }).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    t.backend
        .vm_set_quota(s("carol"), "qa", &Quota { vms: 10, vcpu: 40, memory_gb: 100, disk_gb: 1000, ..Default::default() })
        .await
        .unwrap();

    let r = t.backend.vm_submit(s("alice"), &vc.id, form("shared-1", "qa")).await.unwrap();
    assert_eq!((r.state, r.requester.as_str()), (State::PendingManager, "alice"), "the requester is the etcd user");

    // The requester cannot approve; nor can another department's manager; nor the admin first.
    let e = t.backend.vm_decide(s("alice"), Some(&vc.id), &r.id, Stage::Manager, true, "self-approval").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    assert!(e.to_string().contains("alice filed request"), "{e}");
    let e = t.backend.vm_decide(s("dave"), Some(&vc.id), &r.id, Stage::Manager, true, "").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "dev's manager cannot approve for qa: {e}");
    let e = t.backend.vm_decide(s("bob"), Some(&vc.id), &r.id, Stage::Admin, true, "").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");

    // Two managers at once: exactly one decision lands.
    let (a, b) = tokio::join!(
        t.backend.vm_decide(s("bob"), Some(&vc.id), &r.id, Stage::Manager, true, "bob says yes"),
        t.backend.vm_decide(s("bert"), Some(&vc.id), &r.id, Stage::Manager, false, "bert says no"),
    );
    let loser = match (a, b) {
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
        other => panic!("exactly one approver wins: {other:?}"),
    };
    assert_eq!(loser.code(), ErrorCode::Conflict, "{loser}");
    let now = t.backend.vm_request(s("carol"), &r.id).await.unwrap();
    assert_eq!(now.decisions.len(), 1);

    // Same again for a fresh request, where both approve: still one decision.
    let r2 = t.backend.vm_submit(s("alice"), &vc.id, form("shared-2", "qa")).await.unwrap();
    let (a, b) = tokio::join!(
        t.backend.vm_decide(s("bob"), Some(&vc.id), &r2.id, Stage::Manager, true, ""),
        t.backend.vm_decide(s("bert"), Some(&vc.id), &r2.id, Stage::Manager, true, ""),
    );
    assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|w| **w).count(), 1);
    let r2 = t.backend.vm_decide(s("carol"), Some(&vc.id), &r2.id, Stage::Admin, true, "capacity ok").await.unwrap();
    assert_eq!(r2.state, State::Approved);
    let actors: Vec<&str> = r2.history.iter().map(|h| h.actor.as_str()).collect();
    assert_eq!(actors[0], "alice");
    assert!(actors[1] == "bob" || actors[1] == "bert", "{actors:?}");
    assert_eq!(actors[2], "carol");

    // Only the admin role may execute (write runs/ and locks/).
    let e = t.backend.vm_provision(s("bob"), &vc.id, &r2.id, &ProvisionOptions::default(), &|_| {}).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    let done = t.backend.vm_provision(s("carol"), &vc.id, &r2.id, &ProvisionOptions::default(), &|_| {}).await.unwrap();
    assert_eq!(done.state, State::Provisioned, "{:?}", done.failure);

    // A request edited behind the approvers' back (etcdctl) voids their decisions.
    let mut raw = etcd_client::Client::connect(
        [etcd.get("ETCD_ENDPOINT")],
        Some(etcd_client::ConnectOptions::new().with_user("alice", opsdeck_tests::vms::ETCD_PASSWORD)),
    )
    .await
    .unwrap();
    let r3 = t.backend.vm_submit(s("alice"), &vc.id, form("shared-3", "qa")).await.unwrap();
    t.backend.vm_decide(s("bob"), Some(&vc.id), &r3.id, Stage::Manager, true, "").await.unwrap();
    let key = format!("{DEFAULT_PREFIX}vms/requests/alice/{}", r3.id);
    let stored = raw.get(key.as_str(), None).await.unwrap().kvs()[0].value().to_vec();
    let mut v: serde_json::Value = serde_json::from_slice(&stored).unwrap();
    v["spec"]["cpu"] = serde_json::json!(16);
    raw.put(key.as_str(), serde_json::to_vec(&v).unwrap(), None).await.unwrap();
    let r3 = t.backend.vm_request(s("carol"), &r3.id).await.unwrap();
    assert_eq!(r3.state, State::PendingManager, "the manager must look again at 16 vCPU");
    let e = t.backend.vm_decide(s("carol"), Some(&vc.id), &r3.id, Stage::Admin, true, "").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
    t.cleanup().await;
}

#[tokio::test]
async fn twenty_requests_two_instances_no_duplicate_vm() {
    let etcd = etcd_with_vm_roles(DEFAULT_PREFIX).await;
    let t = TestBackend::new().await;
    let other = TestBackend::new().await;
    let (vcsim, vc) = vcsim_with_template(&t, &[]).await;
    let alice = etcd_connection(&t, &etcd, "alice").await;
    let bob = etcd_connection(&t, &etcd, "bob").await;
    let carol = etcd_connection(&t, &etcd, "carol").await;
    let requester = t.backend.vm_store(&etcd_store(&alice.id)).await.unwrap();
    let manager = t.backend.vm_store(&etcd_store(&bob.id)).await.unwrap();
    let admin = t.backend.vm_store(&etcd_store(&carol.id)).await.unwrap();

    let mut ids = Vec::new();
    for i in 0..20 {
        let r = t.backend.vm_submit(requester.as_ref(), &vc.id, form(&format!("fleet-{i:02}"), "qa")).await.unwrap();
        t.backend.vm_decide(manager.as_ref(), Some(&vc.id), &r.id, Stage::Manager, true, "").await.unwrap();
        t.backend.vm_decide(admin.as_ref(), Some(&vc.id), &r.id, Stage::Admin, true, "").await.unwrap();
        ids.push(r.id);
    }

    // A second app instance (its own database, the same etcd and vCenter).
    let carol2 = etcd_connection(&other, &etcd, "carol").await;
    let vc2 = vcsim_connection(&other, &vcsim).await;
    let admin2 = other.backend.vm_store(&etcd_store(&carol2.id)).await.unwrap();
    let one = ProvisionOptions { instance: "instance-1".into(), ..Default::default() };
    let two = ProvisionOptions { instance: "instance-2".into(), ..Default::default() };
    let (a, b) = tokio::join!(
        t.backend.vm_provision_approved(admin.as_ref(), &vc.id, &one, &|_| {}),
        other.backend.vm_provision_approved(admin2.as_ref(), &vc2.id, &two, &|_| {}),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let provisioned: Vec<&String> =
        a.iter().chain(b.iter()).filter(|(_, r)| r.as_ref().is_ok_and(|r| r.state == State::Provisioned)).map(|(id, _)| id).collect();
    let unique: HashSet<&&String> = provisioned.iter().collect();
    assert_eq!(unique.len(), 20, "every request provisioned once: {a:?} {b:?}");
    assert_eq!(provisioned.len(), 20, "no request provisioned twice");
    for (_, r) in a.iter().chain(b.iter()) {
        if let Err(e) = r {
            assert_eq!(e.code(), ErrorCode::Conflict, "the only refusals are the lock or the state: {e}");
        }
    }
    let inv = t.backend.vm_inventory(&vc.id).await.unwrap();
    for i in 0..20 {
        assert_eq!(count_named(&inv, &format!("fleet-{i:02}")), 1, "fleet-{i:02}");
    }
    let all = t.backend.vm_requests(admin.as_ref()).await.unwrap();
    assert!(
        all.iter().all(|r| r.state == State::Provisioned && r.attempts == 1),
        "{:?}",
        all.iter().map(|r| (&r.spec.name, r.state, r.attempts)).collect::<Vec<_>>()
    );
    t.cleanup().await;
    other.cleanup().await;
}

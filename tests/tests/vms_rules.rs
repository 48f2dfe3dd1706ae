//! Auto-approval rules per department, in both request stores (local SQLite
//! and the team etcd with auth), against a real vcsim: a request within a
//! rule and the department's quota is filed with its manager step approved
//! by `policy:<rule>`; over the rule or over quota it needs the manager; a
//! rule removed between the form and the filing approves nothing; a rule
//! change never re-approves a filed request; the filing transaction is
//! refused when the rule or the requests moved after they were read;
//! concurrent filings racing for the last of a quota never auto-approve
//! past it. In the team store: only IT admins edit rules, and a claim
//! written around Opsdeck is ignored by every reader.

use opsdeck_core::backend::StoreChoice;
use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::team::DEFAULT_ROOT;
use opsdeck_core::vms::model::{Quota, QuotaCheck, Stage, State};
use opsdeck_core::vms::rules::{self, ApprovalRule, AutoApproval, AutoGuard};
use opsdeck_core::vms::store::{RequestRecord, RequestStore};
use opsdeck_core::vms::VmRequest;
use opsdeck_core::{Backend, ErrorCode};
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::{etcd_connection, etcd_with_vm_roles, form, raw_etcd, vcsim_with_template};
use std::sync::Arc;

/// One person at their desk: their backend, store and vCenter connection.
struct Desk {
    t: TestBackend,
    store: Arc<dyn RequestStore>,
    vc: String,
}

impl Desk {
    fn b(&self) -> &Backend {
        &self.t.backend
    }

    fn s(&self) -> &dyn RequestStore {
        self.store.as_ref()
    }

    async fn file(&self, name: &str, dept: &str, cpu: u32) -> VmRequest {
        let spec = opsdeck_core::vms::model::RequestSpec { cpu, ..form(name, dept) };
        self.b().vm_submit(self.s(), &self.vc, spec).await.expect("file a request")
    }
}

fn rule(name: &str, dept: &str, max_cpu: u32) -> ApprovalRule {
    ApprovalRule {
        name: name.into(),
        department: dept.into(),
        max_cpu,
        max_memory_gb: 4,
        max_disk_gb: 50,
        templates: vec![],
        networks: vec![],
    }
}

fn quota(vcpu: u32) -> Quota {
    Quota { vms: 0, vcpu, memory_gb: 64, disk_gb: 2000, max_lease_days: 0 }
}

/// The same story in either store: `me` files, `admin` keeps the rules and quotas.
async fn story(me: &Desk, admin: &Desk, dept: &str) {
    admin.b().vm_set_quota(admin.s(), dept, &quota(6)).await.unwrap();
    // Bad rules: refused with the field named, nothing stored.
    let e = admin.b().vm_add_rule(admin.s(), rule("small", dept, 0), false).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
    assert!(e.to_string().contains("max vCPU"), "{e}");
    let e = admin.b().vm_add_rule(admin.s(), rule("Bad/Name", dept, 2), false).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
    assert!(admin.b().vm_rules(admin.s(), Some(dept), true).await.unwrap().is_empty());
    let small = admin.b().vm_add_rule(admin.s(), rule("small", dept, 2), false).await.unwrap();
    assert_eq!(small.record.generation, 1);
    let e = admin.b().vm_add_rule(admin.s(), rule("small", dept, 4), false).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");

    // Within the rule and the quota: the manager step is approved by the rule as filed.
    let auto = me.file(&format!("{dept}-auto-1"), dept, 2).await;
    assert_eq!(auto.state, State::PendingAdmin, "{auto:#?}");
    assert_eq!(rules::approved_by(&auto), Some("small"));
    let d = &auto.decisions[0];
    assert_eq!((d.stage, d.actor.as_str(), d.approved), (Stage::Manager, "policy:small", true));
    assert!(d.comment.contains("≤ 2 vCPU"), "{d:?}");
    assert!(auto.history.iter().any(|t| t.actor == "policy:small" && t.to == State::PendingAdmin), "{:?}", auto.history);
    assert!(auto.notes.is_empty(), "{:?}", auto.notes);

    // Over the rule: the manager decides.
    let big = me.file(&format!("{dept}-big"), dept, 4).await;
    assert_eq!((big.state, rules::approved_by(&big)), (State::PendingManager, None));
    // Within the rule but over quota (2 + 4 of 6 vCPU used): never auto-approved.
    let over = me.file(&format!("{dept}-over"), dept, 2).await;
    assert_eq!((over.state, rules::approved_by(&over)), (State::Rejected, None), "{over:#?}");
    assert!(!over.quota.ok);

    // The form showed the rule; it is removed before the filing: the manager decides.
    admin.b().vm_set_quota(admin.s(), dept, &quota(40)).await.unwrap();
    let spec = opsdeck_core::vms::model::RequestSpec { cpu: 1, ..form(&format!("{dept}-late"), dept) };
    let shown = me.b().vm_rule_preview(me.s(), None, &spec).await.unwrap();
    assert_eq!(shown.map(|r| r.name), Some("small".to_string()));
    admin.b().vm_remove_rule(admin.s(), dept, "small").await.unwrap();
    let late = me.b().vm_submit(me.s(), &me.vc, spec).await.unwrap();
    assert_eq!((late.state, rules::approved_by(&late)), (State::PendingManager, None));
    // What the removed rule approved stays approved (it was in force when filed).
    let kept = me.b().vm_request(me.s(), &auto.id).await.unwrap();
    assert_eq!((kept.state, rules::approved_by(&kept)), (State::PendingAdmin, Some("small")), "{:?}", kept.notes);

    // A wider rule never re-approves a request already filed.
    admin.b().vm_add_rule(admin.s(), rule("wide", dept, 8), false).await.unwrap();
    for id in [&big.id, &late.id] {
        let r = me.b().vm_request(me.s(), id).await.unwrap();
        assert_eq!((r.state, rules::approved_by(&r)), (State::PendingManager, None), "{id}");
    }
    let listed = me.b().vm_rules(me.s(), Some(dept), true).await.unwrap();
    assert_eq!(listed.iter().map(|v| (v.record.rule.name.as_str(), v.live())).collect::<Vec<_>>(), [("wide", true), ("small", false)]);

    // The filing transaction is guarded: requests filed or a rule removed after
    // the read refuse it (the workflow then evaluates again).
    let guard = |listing_at, rule| AutoGuard { listing_at, rule, quota: quota(40) };
    let wide = me.s().approval_rules(Some(dept)).await.unwrap().into_iter().find(|v| v.live()).unwrap();
    let at = me.s().list().await.unwrap().at;
    let record = |n: &str| RequestRecord {
        id: format!("r-guard-{dept}-{n}"),
        spec: form(&format!("{dept}-guard-{n}"), dept),
        requester: auto.requester.clone(),
        created_at: "2026-12-05T09:00:00Z".into(),
        quota: QuotaCheck { ok: true, lines: vec![] },
        withdrawn: None,
        edited_at: None,
        estimate: None,
        auto_approval: Some(AutoApproval { rule: "wide".into(), generation: 1 }),
    };
    let other = me.file(&format!("{dept}-meanwhile"), dept, 2).await;
    assert_eq!(rules::approved_by(&other), Some("wide"));
    assert!(me.s().create_auto_approved(&record("1"), &guard(at, wide.clone())).await.unwrap().is_none(), "requests moved");
    let at = me.s().list().await.unwrap().at;
    admin.b().vm_add_rule(admin.s(), rule("wide", dept, 8), true).await.unwrap();
    assert!(me.s().create_auto_approved(&record("2"), &guard(at, wide)).await.unwrap().is_none(), "the rule was replaced");
    for n in ["1", "2"] {
        assert_eq!(me.s().get(&format!("r-guard-{dept}-{n}")).await.unwrap_err().code(), ErrorCode::NotFound);
    }

    // The admin step is still a person's, and re-checks the quota.
    let approved = admin.b().vm_decide(admin.s(), Some(&admin.vc), &auto.id, Stage::Admin, true, "ok").await.unwrap();
    assert_eq!(approved.state, State::Approved, "{:?}", approved.notes);

    // Rule edits are audited, refusals too.
    let audit = admin.b().audit_log(&AuditFilter { platform: Some("vsphere".into()), limit: 500, ..Default::default() }).await.unwrap();
    let rule_entries: Vec<(&str, bool)> = audit
        .entries
        .iter()
        .filter(|e| e.action.starts_with("vm.rule.") && e.target.starts_with(dept))
        .map(|e| (e.action.as_str(), e.result == "ok"))
        .collect();
    assert!(rule_entries.contains(&("vm.rule.add", false)), "{rule_entries:?}");
    assert!(rule_entries.contains(&("vm.rule.add", true)), "{rule_entries:?}");
    assert!(rule_entries.contains(&("vm.rule.remove", true)), "{rule_entries:?}");
}

/// Six filings at once within the rule, with room in the quota for two:
/// never more auto-approved than the quota holds, and at least one.
async fn race(desks: &[&Desk], admin: &Desk, dept: &str) {
    admin.b().vm_set_quota(admin.s(), dept, &quota(4)).await.unwrap();
    admin.b().vm_add_rule(admin.s(), rule("small", dept, 2), false).await.unwrap();
    let filings = (0..6).map(|i| {
        let d = desks[i % desks.len()];
        async move { d.file(&format!("{dept}-race-{i}"), dept, 2).await }
    });
    let filed = futures::future::join_all(filings).await;
    let auto: Vec<&VmRequest> = filed.iter().filter(|r| rules::approved_by(r).is_some()).collect();
    assert!(!auto.is_empty() && auto.len() <= 2, "auto-approved: {:?}", auto.iter().map(|r| &r.spec.name).collect::<Vec<_>>());
    let all = admin.b().vm_requests(admin.s()).await.unwrap();
    let auto_now: Vec<&VmRequest> = all.iter().filter(|r| r.spec.department == dept && rules::approved_by(r).is_some()).collect();
    assert_eq!(auto_now.len(), auto.len(), "every reader sees the same approvals");
    assert!(auto_now.iter().map(|r| r.spec.cpu).sum::<u32>() <= 4);
    assert_eq!(all.iter().filter(|r| r.spec.department == dept).count(), 6, "every filing is stored");
}

#[tokio::test]
async fn auto_approval_rules_in_the_local_store() {
    let t = TestBackend::new().await;
    let (_vcsim, vc) = vcsim_with_template(&t, &[]).await;
    let store = t.backend.vm_store(&StoreChoice::Local).await.unwrap();
    let desk = Desk { t, store, vc: vc.id };
    story(&desk, &desk, "qa").await;
    race(&[&desk], &desk, "race").await;
    desk.t.cleanup().await;
}

async fn desk(etcd: &opsdeck_tests::Service, vcsim: &opsdeck_tests::Service, user: &str) -> Desk {
    let t = TestBackend::new().await;
    let c = etcd_connection(&t, etcd, user).await;
    let vc = opsdeck_tests::vms::vcsim_connection(&t, vcsim).await;
    let choice = StoreChoice::Etcd { connection_id: c.id, prefix: DEFAULT_ROOT.into(), allow_no_auth: false };
    let store = t.backend.vm_store(&choice).await.expect("open the team store");
    Desk { t, store, vc: vc.id }
}

#[tokio::test]
async fn auto_approval_rules_in_the_team_store() {
    let prep = TestBackend::new().await;
    let (vcsim, _) = vcsim_with_template(&prep, &[]).await;
    let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    let (alice, amy, bob, carol) = (
        desk(&etcd, &vcsim, "alice").await,
        desk(&etcd, &vcsim, "amy").await,
        desk(&etcd, &vcsim, "bob").await,
        desk(&etcd, &vcsim, "carol").await,
    );

    // Only IT admins edit rules: etcd refuses the others, and the refusal is audited.
    let e = alice.b().vm_add_rule(alice.s(), rule("mine", "qa", 64), false).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    story(&alice, &carol, "qa").await;

    // The manager step of an auto-approved request is closed to the manager.
    carol.b().vm_add_rule(carol.s(), rule("tiny", "dev", 1), false).await.unwrap();
    carol.b().vm_set_quota(carol.s(), "dev", &quota(10)).await.unwrap();
    let a = alice.file("dev-auto", "dev", 1).await;
    assert_eq!(rules::approved_by(&a), Some("tiny"));
    let e = bob.b().vm_decide(bob.s(), Some(&bob.vc), &a.id, Stage::Manager, false, "no").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");

    // Around Opsdeck: alice writes her own request claiming the rule for 16 vCPU,
    // and one naming a rule that never existed. Every reader ignores both claims.
    let mut raw = raw_etcd(&etcd, "alice").await;
    for (id, cpu, rule_name) in [("r-forged-1", 16, "tiny"), ("r-forged-2", 1, "nosuch")] {
        let rec = RequestRecord {
            id: id.into(),
            spec: opsdeck_core::vms::model::RequestSpec { cpu, ..form(id, "dev") },
            requester: "alice".into(),
            created_at: "2026-12-05T09:00:00Z".into(),
            quota: QuotaCheck { ok: true, lines: vec![] },
            withdrawn: None,
            edited_at: None,
            estimate: None,
            auto_approval: Some(AutoApproval { rule: rule_name.into(), generation: 1 }),
        };
        raw.put(format!("{DEFAULT_ROOT}vms/requests/alice/{id}"), serde_json::to_vec(&rec).unwrap(), None).await.unwrap();
        for reader in [&bob, &carol] {
            let v = reader.b().vm_request(reader.s(), id).await.unwrap();
            assert_eq!((v.state, rules::approved_by(&v)), (State::PendingManager, None), "{id}");
            assert!(v.notes.iter().any(|n| n.contains("does not hold")), "{id}: {:?}", v.notes);
        }
    }
    // A requester cannot write a rule around Opsdeck either.
    let e = raw
        .put(format!("{DEFAULT_ROOT}vms/rules/dev/tiny/9"), serde_json::to_vec(&rule("tiny", "dev", 64)).unwrap(), None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("permission denied"), "{e}");

    // Two requesters race for the last of a quota.
    race(&[&alice, &amy], &carol, "race").await;

    for d in [alice, amy, bob, carol] {
        d.t.cleanup().await;
    }
    prep.cleanup().await;
}

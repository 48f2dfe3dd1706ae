//! Delegation with start and end dates, and approval timeouts escalated to a
//! named delegate (docs/vm-delegation.md), on both request stores:
//! - the team store on a real etcd with auth, each member with their own
//!   etcd credentials, through Opsdeck and around it (raw etcd writes);
//! - the local SQLite store, with a real vcsim for the whole flow (a
//!   delegate's approval, an escalation, provisioning).
//!
//! Adversarial: self-delegation, loops, the requester through a
//! delegation, outside the window, after a revocation, forged records,
//! passes racing each other (exactly one escalates and notifies).

use opsdeck_core::backend::StoreChoice;
use opsdeck_core::notify::{ChannelInput, ChannelSpec, EventKind, SubscriptionInput, WebhookFormat};
use opsdeck_core::team::DEFAULT_ROOT;
use opsdeck_core::vms::delegation::{self, DelegationInput, Via};
use opsdeck_core::vms::escalation::EscalationPolicy;
use opsdeck_core::vms::model::{Stage, State, VmRequest};
use opsdeck_core::vms::store::RequestStore;
use opsdeck_core::vms::{validate, workflow};
use opsdeck_core::{Backend, ErrorCode};
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::{etcd_connection, etcd_with_vm_roles, form, raw_etcd, vcsim_with_template};
use time::{Duration, OffsetDateTime};

fn day(offset: i64) -> String {
    (OffsetDateTime::now_utc().date() + Duration::days(offset)).to_string()
}

fn manager_of(dept: &str, to: &str, start: i64, end: i64) -> DelegationInput {
    DelegationInput {
        delegate: to.into(),
        stage: Stage::Manager,
        department: Some(dept.into()),
        start: day(start),
        end: day(end),
        reason: "away".into(),
    }
}

/// Files a request as `who` (no inventory check: the flow with vcsim is the local test's).
async fn file(store: &dyn RequestStore, who: &str, name: &str) -> VmRequest {
    workflow::submit(store, form(name, "qa"), None, &validate::Limits::default(), who, None).await.expect("submit")
}

async fn decide(store: &dyn RequestStore, who: &str, id: &str, stage: Stage, via: Via) -> opsdeck_core::Result<VmRequest> {
    workflow::decide_via(store, id, stage, true, "ok", None, who, &via).await
}

/// A subscription of `user` to escalations through a webhook nobody listens
/// on: what is queued stays in this backend's outbox.
async fn follow_escalations(b: &Backend, user: &str) {
    let spec =
        ChannelSpec::Webhook { url: "http://127.0.0.1:9/hook".into(), format: WebhookFormat::Generic, ca_file: None, timeout_secs: 5 };
    let ch =
        b.notify_save_channel(ChannelInput { id: None, name: "hook".into(), spec, password: None, clear_password: false }).await.unwrap();
    let sub = SubscriptionInput {
        id: None,
        user: user.into(),
        events: vec![EventKind::VmRequestEscalated],
        channel: ch.id,
        address: None,
        departments: vec![],
    };
    b.notify_subscribe(sub).await.unwrap();
}

async fn escalations_queued(b: &Backend, to: &str, id: &str) -> usize {
    let outbox = b.notify_outbox(None, 200).await.unwrap();
    outbox.iter().filter(|e| e.event == "vm.request.escalated" && e.subscriber == to && e.title.contains(id)).count()
}

struct Team {
    etcd: opsdeck_tests::Service,
    users: std::collections::HashMap<&'static str, (TestBackend, std::sync::Arc<dyn RequestStore>)>,
}

impl Team {
    async fn start(who: &[&'static str]) -> Team {
        let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
        let mut users = std::collections::HashMap::new();
        for &u in who {
            let t = TestBackend::new().await;
            let c = etcd_connection(&t, &etcd, u).await;
            let choice = StoreChoice::Etcd { connection_id: c.id, prefix: DEFAULT_ROOT.into(), allow_no_auth: false };
            let store = t.backend.vm_store(&choice).await.expect("open the shared store");
            users.insert(u, (t, store));
        }
        Team { etcd, users }
    }

    fn b(&self, u: &str) -> &Backend {
        &self.users[u].0.backend
    }

    fn s(&self, u: &str) -> &dyn RequestStore {
        self.users[u].1.as_ref()
    }

    async fn cleanup(&self) {
        for (t, _) in self.users.values() {
            t.cleanup().await;
        }
    }
}

#[tokio::test]
async fn a_delegation_in_the_team_store_counts_inside_its_window_until_revoked() {
    let team = Team::start(&["alice", "amy", "bob", "bert", "carol", "dave"]).await;
    let (bob, amy) = (team.s("bob"), team.s("amy"));

    // Refused before anything is written: self, a bad window, a loop.
    let e = team.b("bob").vm_delegate(bob, manager_of("qa", "bob", 0, 3)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
    let e = team.b("bob").vm_delegate(bob, manager_of("qa", "amy", 3, 1)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
    team.b("bob").vm_delegate(bob, manager_of("qa", "bert", 0, 5)).await.expect("bob -> bert");
    let e = team.b("bert").vm_delegate(team.s("bert"), manager_of("qa", "bob", 2, 2)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
    assert!(e.to_string().contains("loop"), "{e}");
    // Only a manager of the department can delegate its step: etcd refuses the key.
    let e = team.b("dave").vm_delegate(team.s("dave"), manager_of("qa", "amy", 0, 3)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");

    // bob is away: amy decides the qa manager step for him, today.
    let d = team.b("bob").vm_delegate(bob, manager_of("qa", "amy", 0, 3)).await.expect("bob -> amy");
    let r1 = file(team.s("alice"), "alice", "dlg-one").await;
    let after = decide(amy, "amy", &r1.id, Stage::Manager, Via::OnBehalfOf("bob".into())).await.expect("amy for bob");
    assert_eq!(after.state, State::PendingAdmin, "{:?}", after.notes);
    let m = &after.decisions[0];
    assert_eq!((m.actor.as_str(), m.on_behalf_of.as_deref()), ("amy", Some("bob")));
    assert!(after.history.iter().any(|h| h.actor == "amy on behalf of bob"), "{:?}", after.history);
    // Every reader sees the same (carol, the admin).
    assert_eq!(team.b("carol").vm_request(team.s("carol"), &r1.id).await.unwrap().state, State::PendingAdmin);

    // Not for a step bob does not hold, not for someone who delegated nothing to amy.
    let r2 = file(team.s("alice"), "alice", "dlg-two").await;
    let e = decide(amy, "amy", &r2.id, Stage::Manager, Via::OnBehalfOf("bert".into())).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    let e = decide(amy, "amy", &r1.id, Stage::Admin, Via::OnBehalfOf("bob".into())).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");

    // The requester never decides their own request through a delegation.
    team.b("bob").vm_delegate(bob, manager_of("qa", "alice", 0, 1)).await.unwrap();
    let e = decide(team.s("alice"), "alice", &r2.id, Stage::Manager, Via::OnBehalfOf("bob".into())).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    assert!(e.to_string().contains("alice filed"), "{e}");

    // Outside the window (it starts tomorrow): refused.
    team.b("bert").vm_delegate(team.s("bert"), manager_of("qa", "amy", 1, 4)).await.unwrap();
    let e = decide(amy, "amy", &r2.id, Stage::Manager, Via::OnBehalfOf("bert".into())).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");

    // Revoked: only by bob; amy's next decision is refused, the one made before stays.
    let e = team.b("amy").vm_revoke_delegation(amy, &d.id).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    team.b("bob").vm_revoke_delegation(bob, &d.id).await.expect("revoke");
    let e = team.b("bob").vm_revoke_delegation(bob, &d.id).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
    let e = decide(amy, "amy", &r2.id, Stage::Manager, Via::OnBehalfOf("bob".into())).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    assert_eq!(team.b("carol").vm_request(team.s("carol"), &r1.id).await.unwrap().state, State::PendingAdmin);
    let listed = team.b("carol").vm_delegations(team.s("carol")).await.unwrap();
    let revoked = listed.iter().find(|v| v.delegation.id == d.id).expect("listed");
    assert!(!revoked.active && revoked.delegation.revoked.is_some(), "{revoked:?}");

    // Around Opsdeck: amy writes a decision "on behalf of bob" after the
    // revocation, backdated into the window: every reader ignores it.
    let mut raw = raw_etcd(&team.etcd, "amy").await;
    let req_key = format!("{DEFAULT_ROOT}vms/requests/alice/{}", r2.id);
    let rev = raw.get(req_key.as_str(), None).await.unwrap().kvs()[0].mod_revision();
    let forged = serde_json::json!({"decision": {"stage": "manager", "approved": true, "actor": "amy", "at": format!("{}T00:00:01Z", day(0)),
        "comment": "forged", "on_behalf_of": "bob", "escalated": false}, "request_revision": rev});
    raw.put(format!("{DEFAULT_ROOT}vms/decisions/delegate/amy/{}", r2.id), serde_json::to_vec(&forged).unwrap(), None).await.unwrap();
    let seen = team.b("carol").vm_request(team.s("carol"), &r2.id).await.unwrap();
    assert_eq!(seen.state, State::PendingManager, "{:?}", seen.notes);
    assert!(seen.notes.iter().any(|n| n.contains("on behalf of bob")), "{:?}", seen.notes);
    // ... and cannot write a delegation in bob's name (etcd refuses the key).
    let fake = serde_json::to_vec(&d).unwrap();
    assert!(raw.put(format!("{DEFAULT_ROOT}vms/decisions/manager/qa/bob/delegation.x1"), fake, None).await.is_err());

    // Audited in the team trail.
    let filter = opsdeck_core::cache::audit::AuditFilter { platform: Some("vsphere".into()), limit: 200, ..Default::default() };
    let audit = team.b("bob").audit_log(&filter).await.unwrap();
    let actions: Vec<&str> = audit.entries.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"vm.delegation.create") && actions.contains(&"vm.delegation.revoke"), "{actions:?}");
    team.cleanup().await;
}

#[tokio::test]
async fn an_escalation_in_the_team_store_is_written_once_by_racing_passes_and_lets_the_delegate_decide() {
    let team = Team::start(&["alice", "amy", "bob", "bert", "carol"]).await;
    let policy = EscalationPolicy { department: "qa".into(), timeout_hours: 48, escalate_to: "amy".into() };
    // Only an IT admin sets it (etcd refuses anyone else).
    let e = team.b("bob").vm_set_escalation_policy(team.s("bob"), policy.clone()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    team.b("carol").vm_set_escalation_policy(team.s("carol"), policy).await.expect("policy");
    let bad = EscalationPolicy { department: "qa".into(), timeout_hours: 0, escalate_to: "amy".into() };
    assert_eq!(team.b("carol").vm_set_escalation_policy(team.s("carol"), bad).await.unwrap_err().code(), ErrorCode::InvalidInput);

    let r = file(team.s("alice"), "alice", "esc-one").await;
    let now = OffsetDateTime::now_utc();
    // Not late yet: nothing, even dry.
    assert!(team.b("bob").vm_escalate(team.s("bob"), now + Duration::hours(47), true).await.unwrap().is_empty());
    // --at in the future, dry: listed, nothing written.
    let dry = team.b("bob").vm_escalate(team.s("bob"), now + Duration::hours(49), true).await.unwrap();
    assert_eq!(dry.iter().map(|s| (s.request.as_str(), s.outcome.as_str())).collect::<Vec<_>>(), [(r.id.as_str(), "would_escalate")]);
    assert!(team.b("bob").vm_request(team.s("bob"), &r.id).await.unwrap().escalations.is_empty());

    // Two passes at once, from two members' apps: exactly one escalates and notifies.
    follow_escalations(team.b("bob"), "amy").await;
    follow_escalations(team.b("bert"), "amy").await;
    let at = now + Duration::hours(49);
    let (p1, p2) = tokio::join!(team.b("bob").vm_escalate(team.s("bob"), at, false), team.b("bert").vm_escalate(team.s("bert"), at, false));
    let outcomes: Vec<String> = p1.unwrap().into_iter().chain(p2.unwrap()).map(|s| s.outcome).collect();
    assert_eq!(outcomes.iter().filter(|o| *o == "escalated").count(), 1, "{outcomes:?}");
    let queued = escalations_queued(team.b("bob"), "amy", &r.id).await + escalations_queued(team.b("bert"), "amy", &r.id).await;
    assert_eq!(queued, 1, "one notification to amy");
    let seen = team.b("carol").vm_request(team.s("carol"), &r.id).await.unwrap();
    assert_eq!(seen.escalations.len(), 1, "{seen:?}");
    assert_eq!((seen.escalations[0].stage, seen.escalations[0].to.as_str()), (Stage::Manager, "amy"));
    // A later pass: already done.
    assert!(team.b("bob").vm_escalate(team.s("bob"), at + Duration::hours(1), false).await.unwrap().is_empty());

    // Only the named delegate decides as escalation delegate.
    let e = decide(team.s("bert"), "bert", &r.id, Stage::Manager, Via::Escalation).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    let after = decide(team.s("amy"), "amy", &r.id, Stage::Manager, Via::Escalation).await.expect("amy decides");
    assert_eq!(after.state, State::PendingAdmin, "{:?}", after.notes);
    assert!(after.decisions[0].escalated);
    assert_eq!(team.b("carol").vm_request(team.s("carol"), &r.id).await.unwrap().state, State::PendingAdmin);

    // The admin step goes late too, but amy approved the manager step: not escalated to her (a third person).
    let later = OffsetDateTime::now_utc() + Duration::hours(49);
    let steps = team.b("bob").vm_escalate(team.s("bob"), later, false).await.unwrap();
    assert_eq!(steps.iter().map(|s| (s.stage, s.outcome.as_str())).collect::<Vec<_>>(), [(Stage::Admin, "skipped")], "{steps:?}");

    // Around Opsdeck: bert writes an escalation naming himself; nobody counts his decision.
    let r2 = file(team.s("alice"), "alice", "esc-two").await;
    let mut raw = raw_etcd(&team.etcd, "bert").await;
    let req_rev = raw.get(format!("{DEFAULT_ROOT}vms/requests/alice/{}", r2.id), None).await.unwrap().kvs()[0].mod_revision();
    let fake = serde_json::json!({"stage": "manager", "to": "bert", "at": "2099-01-01T00:00:00Z", "waiting_since": "2000-01-01T00:00:00Z",
        "timeout_hours": 1, "by": "bert", "request_revision": req_rev});
    raw.put(format!("{DEFAULT_ROOT}vms/escalations/manager/{}", r2.id), serde_json::to_vec(&fake).unwrap(), None).await.unwrap();
    let forged = serde_json::json!({"decision": {"stage": "manager", "approved": true, "actor": "bert", "at": "2099-01-01T00:00:01Z",
        "comment": "forged", "escalated": true}, "request_revision": req_rev});
    raw.put(format!("{DEFAULT_ROOT}vms/decisions/delegate/bert/{}", r2.id), serde_json::to_vec(&forged).unwrap(), None).await.unwrap();
    let seen = team.b("carol").vm_request(team.s("carol"), &r2.id).await.unwrap();
    assert_eq!(seen.state, State::PendingManager, "{:?}", seen.notes);
    assert!(seen.notes.iter().any(|n| n.contains("escalates to amy")), "{:?}", seen.notes);
    team.cleanup().await;
}

#[tokio::test]
async fn delegation_and_escalation_in_the_local_store_through_to_a_provisioned_vm() {
    let t = TestBackend::new().await;
    let b = &t.backend;
    let (_vcsim, vc) = vcsim_with_template(&t, &[]).await;
    let store = b.vm_store(&StoreChoice::Local).await.unwrap();
    let store = store.as_ref();

    // Filed by the app's user ("tester"), through the vcsim inventory.
    let r = b.vm_submit(store, &vc.id, form("dlg-local", "qa")).await.unwrap();
    // bob delegates the qa manager step to eve; self and loops refused the same way as in etcd.
    assert_eq!(delegation::delegate(store, manager_of("qa", "bob", 0, 2), "bob").await.unwrap_err().code(), ErrorCode::InvalidInput);
    let d = delegation::delegate(store, manager_of("qa", "eve", 0, 2), "bob").await.unwrap();
    let e = delegation::delegate(store, manager_of("qa", "bob", 1, 1), "eve").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
    // Outside the window: a delegation from tomorrow does not count today.
    delegation::delegate(store, manager_of("qa", "eve", 1, 2), "zoe").await.unwrap();
    let e = decide(store, "eve", &r.id, Stage::Manager, Via::OnBehalfOf("zoe".into())).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    // The requester through a delegation: never.
    delegation::delegate(store, manager_of("qa", "tester", 0, 1), "bob").await.unwrap();
    let e = decide(store, "tester", &r.id, Stage::Manager, Via::OnBehalfOf("bob".into())).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");

    // Two deciding at once (eve for bob, and bob himself): exactly one wins.
    let (a1, a2) = tokio::join!(
        decide(store, "eve", &r.id, Stage::Manager, Via::OnBehalfOf("bob".into())),
        decide(store, "bob", &r.id, Stage::Manager, Via::Own)
    );
    assert_eq!([&a1, &a2].iter().filter(|x| x.is_ok()).count(), 1, "{a1:?} {a2:?}");
    let now = b.vm_request(store, &r.id).await.unwrap();
    assert_eq!(now.state, State::PendingAdmin, "{:?}", now.notes);

    // Revoked: eve can no longer decide for bob.
    delegation::revoke(store, &d.id, "bob").await.unwrap();
    let r2 = b.vm_submit(store, &vc.id, form("dlg-local-2", "qa")).await.unwrap();
    let e = decide(store, "eve", &r2.id, Stage::Manager, Via::OnBehalfOf("bob".into())).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");

    // The admin step waits past qa's 24 h: escalated once to ivy even with two passes at once.
    b.vm_set_escalation_policy(store, EscalationPolicy { department: "qa".into(), timeout_hours: 24, escalate_to: "ivy".into() })
        .await
        .unwrap();
    follow_escalations(b, "ivy").await;
    let at = OffsetDateTime::now_utc() + Duration::hours(25);
    let (p1, p2) = tokio::join!(b.vm_escalate(store, at, false), b.vm_escalate(store, at, false));
    let steps: Vec<_> = p1.unwrap().into_iter().chain(p2.unwrap()).filter(|s| s.request == r.id).collect();
    assert_eq!(steps.iter().filter(|s| s.outcome == "escalated").count(), 1, "{steps:?}");
    assert_eq!(escalations_queued(b, "ivy", &r.id).await, 1);
    let escalated = b.vm_request(store, &r.id).await.unwrap();
    assert_eq!((escalated.escalations.len(), escalated.escalations[0].stage), (1, Stage::Admin), "{escalated:?}");

    // ivy approves the admin step as escalation delegate; the VM is built.
    let approved = decide(store, "ivy", &r.id, Stage::Admin, Via::Escalation).await.expect("ivy approves");
    assert_eq!(approved.state, State::Approved, "{:?}", approved.notes);
    assert!(approved.history.iter().any(|h| h.actor == "ivy (escalation delegate)"), "{:?}", approved.history);
    let opts = opsdeck_core::vms::provision::ProvisionOptions { instance: "dlg-test".into(), ..Default::default() };
    let built = b.vm_provision(store, &vc.id, &r.id, &opts, &|_| {}).await.unwrap();
    assert_eq!(built.state, State::Provisioned, "{:?}", built.failure);
    t.cleanup().await;
}

/// `opsdeck vm escalate [--dry-run] [--at TIME]` on the local store: time
/// travel lists the late step without writing, two passes at once (two
/// processes) escalate it once, a later pass finds nothing to do.
#[tokio::test]
async fn the_cli_escalate_pass_travels_in_time_and_escalates_once_when_two_run_at_once() {
    let t = TestBackend::new().await;
    let store = t.backend.vm_store(&StoreChoice::Local).await.unwrap();
    let r = file(store.as_ref(), "alice", "esc-cli").await;
    let keychain = format!("opsdeck-esc-cli-{}", std::process::id());
    let cli = |args: &[&str]| opsdeck_tests::workspace::cli(t.dir.path(), &keychain).args(args).output().expect("run opsdeck");
    let ok = |o: std::process::Output| {
        assert_eq!(o.status.code(), Some(0), "{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // Bad input: a timeout of 0 hours is refused by clap (exit 2).
    assert_eq!(
        cli(&["vm", "--store", "local", "escalation-policy", "set", "qa", "--timeout-hours", "0", "--to", "eve"]).status.code(),
        Some(2)
    );
    ok(cli(&["vm", "--store", "local", "escalation-policy", "set", "qa", "--timeout-hours", "48", "--to", "eve"]));
    let fmt = |d: OffsetDateTime| d.format(&time::format_description::well_known::Rfc3339).unwrap();
    let later = fmt(OffsetDateTime::now_utc() + Duration::hours(49));
    let soon = fmt(OffsetDateTime::now_utc() + Duration::hours(47));

    let none: serde_json::Value =
        serde_json::from_str(&ok(cli(&["vm", "--store", "local", "escalate", "--dry-run", "--at", &soon, "--format", "json"]))).unwrap();
    assert_eq!(none, serde_json::json!([]));
    let dry: serde_json::Value =
        serde_json::from_str(&ok(cli(&["vm", "--store", "local", "escalate", "--dry-run", "--at", &later, "--format", "json"]))).unwrap();
    assert_eq!(
        (dry[0]["request"].as_str(), dry[0]["outcome"].as_str(), dry[0]["to"].as_str()),
        (Some(r.id.as_str()), Some("would_escalate"), Some("eve"))
    );
    assert!(store.get(&r.id).await.unwrap().compose().escalations.is_empty(), "a dry run writes nothing");

    // Two processes at once.
    let args = ["vm", "--store", "local", "escalate", "--at", later.as_str(), "--format", "json"];
    let spawn = || opsdeck_tests::workspace::cli(t.dir.path(), &keychain).args(args).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let (a, b) = (spawn(), spawn());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let mut escalated = 0;
    for o in outs {
        let v: serde_json::Value = serde_json::from_str(&ok(o)).unwrap();
        escalated += v.as_array().unwrap().iter().filter(|s| s["outcome"] == "escalated").count();
    }
    assert_eq!(escalated, 1);
    let esc = store.get(&r.id).await.unwrap().compose().escalations;
    assert_eq!((esc.len(), esc[0].to.as_str()), (1, "eve"), "{esc:?}");
    let again: serde_json::Value = serde_json::from_str(&ok(cli(&args))).unwrap();
    assert_eq!(again, serde_json::json!([]));
    t.cleanup().await;
}

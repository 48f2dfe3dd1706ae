//! Team trust, played adversarially against a real etcd with auth and a
//! real vcsim: each team member acts with their own etcd credentials,
//! through Opsdeck and around it (raw etcd writes, as with etcdctl), and
//! every forbidden move is refused by etcd or detected and ignored by every
//! reader — and nothing is provisioned that was not approved as reviewed.

use opsdeck_core::backend::StoreChoice;
use opsdeck_core::team::DEFAULT_ROOT;
use opsdeck_core::vms::model::{Quota, Stage, State};
use opsdeck_core::vms::provision::ProvisionOptions;
use opsdeck_core::vms::store::{RequestStore, Trust};
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::{count_named, etcd_connection, etcd_with_vm_roles, form, raw_etcd, vcsim_with_template};
use opsdeck_tests::Service;

fn shared(connection_id: &str) -> StoreChoice {
    StoreChoice::Etcd { connection_id: connection_id.into(), prefix: DEFAULT_ROOT.into(), allow_no_auth: false }
}

/// One backend (app instance) per user, as each sits at their own desk,
/// over one etcd with the team's roles and one vcsim with a template.
struct Team {
    etcd: Service,
    users: std::collections::HashMap<&'static str, (TestBackend, std::sync::Arc<dyn RequestStore>, String)>,
    /// Prepared the vcsim template; its connection is cleaned up last.
    prep: TestBackend,
    _vcsim: Service,
}

impl Team {
    /// `vcsim_args`: extra vcsim flags (e.g. method delays).
    async fn start(who: &[&'static str], vcsim_args: &[&str]) -> Team {
        let prep = TestBackend::new().await;
        let (vcsim, _) = vcsim_with_template(&prep, vcsim_args).await;
        let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
        let mut users = std::collections::HashMap::new();
        for &u in who {
            let t = TestBackend::new().await;
            let c = etcd_connection(&t, &etcd, u).await;
            let vc = t
                .add(
                    "vcsim",
                    opsdeck_core::connections::ConnectionSpec::Vsphere {
                        url: vcsim.get("VCSIM_SDK_URL").into(),
                        username: vcsim.get("VCSIM_USER").into(),
                        thumbprint: Some(vcsim.get("VCSIM_THUMBPRINT_SHA256").into()),
                    },
                    Some(vcsim.get("VCSIM_PASSWORD")),
                )
                .await;
            let store = t.backend.vm_store(&shared(&c.id)).await.expect("open the shared store");
            assert_eq!(store.trust(), Trust::Shared);
            users.insert(u, (t, store, vc.id));
        }
        Team { etcd, users, prep, _vcsim: vcsim }
    }

    fn b(&self, u: &str) -> &opsdeck_core::Backend {
        &self.users[u].0.backend
    }

    fn s(&self, u: &str) -> &dyn RequestStore {
        self.users[u].1.as_ref()
    }

    fn vc(&self, u: &str) -> &str {
        &self.users[u].2
    }

    async fn submit(&self, u: &str, name: &str) -> String {
        self.b(u).vm_submit(self.s(u), self.vc(u), form(name, "qa")).await.expect("submit").id
    }

    async fn decide(&self, u: &str, id: &str, stage: Stage) -> opsdeck_core::Result<opsdeck_core::vms::VmRequest> {
        self.b(u).vm_decide(self.s(u), Some(self.vc(u)), id, stage, true, "looks fine").await
    }

    async fn view(&self, u: &str, id: &str) -> opsdeck_core::vms::VmRequest {
        self.b(u).vm_request(self.s(u), id).await.expect("read the request")
    }

    async fn provision(&self, id: &str) -> opsdeck_core::Result<opsdeck_core::vms::VmRequest> {
        self.b("carol").vm_provision(self.s("carol"), self.vc("carol"), id, &ProvisionOptions::default(), &|_| {}).await
    }

    async fn raw(&self, u: &str) -> etcd_client::Client {
        raw_etcd(&self.etcd, u).await
    }

    async fn cleanup(&self) {
        for (t, _, _) in self.users.values() {
            t.cleanup().await;
        }
        self.prep.cleanup().await;
    }
}

fn key(rest: &str) -> String {
    format!("{DEFAULT_ROOT}{rest}")
}

async fn raw_value(c: &mut etcd_client::Client, k: &str) -> serde_json::Value {
    let r = c.get(k, None).await.expect("raw get");
    serde_json::from_slice(r.kvs().first().unwrap_or_else(|| panic!("{k} is absent")).value()).expect("json")
}

/// Writes an approving decision by hand, as etcdctl would: `stage` by
/// `actor` into `at` (a key under the root), on the current revision of the
/// request at `request` — what Opsdeck itself would write, around its checks.
async fn forge_decision(
    raw: &mut etcd_client::Client,
    request: &str,
    at: &str,
    stage: &str,
    actor: &str,
) -> Result<etcd_client::PutResponse, etcd_client::Error> {
    let rev = raw.get(key(request), None).await?.kvs()[0].mod_revision();
    let d = serde_json::json!({"decision": {"stage": stage, "approved": true, "actor": actor, "at": "2026-12-04T00:00:00Z", "comment": "forged"}, "request_revision": rev});
    raw.put(key(at), serde_json::to_vec(&d).unwrap(), None).await
}

fn is_permission_denied(e: etcd_client::Error) -> bool {
    e.to_string().contains("permission denied")
}

async fn quota(team: &Team) {
    team.b("carol")
        .vm_set_quota(team.s("carol"), "qa", &Quota { vms: 50, vcpu: 200, memory_gb: 200, disk_gb: 5000, max_lease_days: 120 })
        .await
        .expect("quota");
}

#[tokio::test]
async fn nobody_approves_twice_or_their_own_and_forged_decisions_do_not_count() {
    let team = Team::start(&["alice", "bob", "bert", "carol", "mia", "dave"], &[]).await;
    quota(&team).await;

    // A manager files a request in their own department: they cannot approve it.
    let own = team.submit("bob", "sod-own").await;
    let e = team.decide("bob", &own, Stage::Manager).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    // Around Opsdeck: bob writes the decision into his own (writable) key.
    let mut bob = team.raw("bob").await;
    forge_decision(&mut bob, &format!("vms/requests/bob/{own}"), &format!("vms/decisions/manager/qa/bob/{own}"), "manager", "bob")
        .await
        .expect("bob may write his own key");
    for reader in ["bob", "bert", "carol"] {
        let v = team.view(reader, &own).await;
        assert_eq!(v.state, State::PendingManager, "{reader} sees the self-approval ignored");
        assert!(v.notes.iter().any(|n| n.contains("cannot approve their own request")), "{:?}", v.notes);
    }
    // ... and the admin cannot build on it.
    let e = team.decide("carol", &own, Stage::Admin).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");

    // A decision claiming another person, written in the claimant's place: etcd refuses.
    let mut alice = team.raw("alice").await;
    let id = team.submit("alice", "sod-alice").await;
    let as_bert =
        forge_decision(&mut alice, &format!("vms/requests/alice/{id}"), &format!("vms/decisions/manager/qa/bert/{id}"), "manager", "bert")
            .await;
    assert!(is_permission_denied(as_bert.unwrap_err()));
    // Another department's manager cannot decide for qa (etcd refuses their write).
    assert_eq!(team.decide("dave", &id, Stage::Manager).await.unwrap_err().code(), ErrorCode::Forbidden);

    // The admin skipping the manager: refused before, and a raw admin decision does not count.
    assert_eq!(team.decide("carol", &id, Stage::Admin).await.unwrap_err().code(), ErrorCode::Conflict);
    let mut carol = team.raw("carol").await;
    forge_decision(&mut carol, &format!("vms/requests/alice/{id}"), &format!("vms/decisions/admin/carol/{id}"), "admin", "carol")
        .await
        .unwrap();
    let req_rev = carol.get(key(&format!("vms/requests/alice/{id}")), None).await.unwrap().kvs()[0].mod_revision();
    let v = team.view("alice", &id).await;
    assert_eq!(v.state, State::PendingManager);
    assert!(v.notes.iter().any(|n| n.contains("without a manager's approval")), "{:?}", v.notes);
    // ... nor does a run record the executor writes as if it had been approved.
    let spec = serde_json::to_value(&v.spec).unwrap();
    let sha = opsdeck_core::vms::store::spec_sha256(&v.spec);
    let run = serde_json::json!({"state": "provisioned", "history": [], "attempts": 1, "asset": {"vm_id": "vm-1", "name": "sod-alice", "host": "h", "datastore": "d", "provisioned_at": "2026-12-04T00:00:00Z"},
        "approved": {"request_revision": req_rev, "spec": spec, "spec_sha256": sha, "requester": "alice", "manager": "bert", "admin": "carol"}});
    carol.put(key(&format!("vms/runs/{id}")), serde_json::to_vec(&run).unwrap(), None).await.unwrap();
    let v = team.view("bert", &id).await;
    assert_eq!(v.state, State::PendingManager, "a forged run record is ignored");
    assert!(v.notes.iter().any(|n| n.contains("claims an approval that the decisions do not show")), "{:?}", v.notes);
    carol.delete(key(&format!("vms/runs/{id}")), None).await.unwrap();
    carol.delete(key(&format!("vms/decisions/admin/carol/{id}")), None).await.unwrap();

    // The same person as manager and admin (mia holds both roles): refused, and ignored when forced.
    team.decide("mia", &id, Stage::Manager).await.expect("mia approves as manager");
    let e = team.decide("mia", &id, Stage::Admin).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    assert!(e.to_string().contains("needs another person"), "{e}");
    let mut mia = team.raw("mia").await;
    forge_decision(&mut mia, &format!("vms/requests/alice/{id}"), &format!("vms/decisions/admin/mia/{id}"), "admin", "mia").await.unwrap();
    let v = team.view("carol", &id).await;
    assert_eq!(v.state, State::PendingAdmin);
    assert!(v.notes.iter().any(|n| n.contains("already approved as manager")), "{:?}", v.notes);
    assert_eq!(team.provision(&id).await.unwrap_err().code(), ErrorCode::Conflict, "nothing to provision");

    // The legitimate chain: requester, manager, admin — three people.
    let v = team.decide("carol", &id, Stage::Admin).await.expect("carol approves as admin");
    assert_eq!(v.state, State::Approved);
    assert_eq!(v.decisions.iter().map(|d| d.actor.as_str()).collect::<Vec<_>>(), ["mia", "carol"]);
    let inv = team.b("carol").vm_inventory(team.vc("carol")).await.unwrap();
    assert_eq!(count_named(&inv, "sod-own"), 0);
    assert_eq!(count_named(&inv, "sod-alice"), 0, "nothing built before the real approval");
    team.cleanup().await;
}

#[tokio::test]
async fn what_runs_is_what_was_approved() {
    let team = Team::start(&["alice", "bob", "carol"], &[]).await;
    quota(&team).await;
    let mut alice = team.raw("alice").await;

    // Approved, then changed around Opsdeck before provisioning: the decisions lapse, nothing is built.
    let id = team.submit("alice", "pin-edit").await;
    team.decide("bob", &id, Stage::Manager).await.unwrap();
    team.decide("carol", &id, Stage::Admin).await.unwrap();
    let k = key(&format!("vms/requests/alice/{id}"));
    let mut v = raw_value(&mut alice, &k).await;
    v["spec"]["cpu"] = serde_json::json!(4);
    alice.put(k.as_str(), serde_json::to_vec(&v).unwrap(), None).await.unwrap();
    assert_eq!(team.view("carol", &id).await.state, State::PendingManager);
    assert_eq!(team.provision(&id).await.unwrap_err().code(), ErrorCode::Conflict);

    // Failed, then enlarged through Opsdeck: needs approving again; a retry builds nothing.
    let failing = team.submit("alice", "pin-failed").await;
    team.decide("bob", &failing, Stage::Manager).await.unwrap();
    team.decide("carol", &failing, Stage::Admin).await.unwrap();
    let opts = ProvisionOptions { fail_after: Some("clone"), ..Default::default() };
    let r = team.b("carol").vm_provision(team.s("carol"), team.vc("carol"), &failing, &opts, &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Failed);
    // (vcsim's hosts have 2 CPU threads and 4 GB: the bigger size is memory.)
    let mut bigger = r.spec.clone();
    bigger.memory_gb = 2;
    let r =
        team.b("alice").vm_edit(team.s("alice"), team.vc("alice"), &failing, bigger).await.expect("the requester edits a failed request");
    assert_eq!(r.state, State::PendingManager, "{:?}", r.notes);
    assert!(r.notes.iter().any(|n| n.contains("needs approving again")), "{:?}", r.notes);
    assert_eq!(team.provision(&failing).await.unwrap_err().code(), ErrorCode::Conflict);
    let inv = team.b("carol").vm_inventory(team.vc("carol")).await.unwrap();
    assert_eq!(count_named(&inv, "pin-edit") + count_named(&inv, "pin-failed"), 0, "nothing unapproved was built");
    // Approved again, the new size is what gets built.
    team.decide("bob", &failing, Stage::Manager).await.unwrap();
    team.decide("carol", &failing, Stage::Admin).await.unwrap();
    let done = team.provision(&failing).await.unwrap();
    assert_eq!(done.state, State::Provisioned, "{:?}", done.failure);
    let inv = team.b("carol").vm_inventory(team.vc("carol")).await.unwrap();
    let vm = inv.vms.iter().find(|v| v.name == "pin-failed" && !v.template).expect("built");
    assert_eq!(vm.memory_mb, 2048, "the size approved the second time");

    // Provisioned, then the lease pushed a year out around Opsdeck: the approved lease stays in force.
    let approved_lease = done.spec.lease_end.clone();
    let k = key(&format!("vms/requests/alice/{failing}"));
    let mut v = raw_value(&mut alice, &k).await;
    v["spec"]["lease_end"] = serde_json::json!("2099-12-31");
    alice.put(k.as_str(), serde_json::to_vec(&v).unwrap(), None).await.unwrap();
    let v = team.view("carol", &failing).await;
    assert_eq!((v.state, v.spec.lease_end.as_str()), (State::Provisioned, approved_lease.as_str()));
    assert!(v.notes.iter().any(|n| n.contains("changed after it was approved")), "{:?}", v.notes);
    // The lifecycle uses that lease: at the approved lease end + 1 day the VM is powered off.
    let end = time::Date::parse(&approved_lease, time::macros::format_description!("[year]-[month]-[day]")).unwrap();
    let after = end.midnight().assume_utc() + time::Duration::days(1);
    let actions = team.b("carol").vm_lifecycle(team.s("carol"), team.vc("carol"), after).await.unwrap();
    assert!(actions.iter().any(|a| a.action == "power_off" && a.ok && a.request == failing), "{actions:?}");
    team.cleanup().await;
}

#[tokio::test]
async fn requesters_touch_only_their_own_and_bad_records_never_break_the_list() {
    let team = Team::start(&["alice", "amy", "bob"], &[]).await;
    let id = team.submit("alice", "own-1").await;
    let mut amy = team.raw("amy").await;
    let k = key(&format!("vms/requests/alice/{id}"));

    // Another requester can neither change nor delete alice's request, nor touch another's run or lock.
    assert!(is_permission_denied(amy.put(k.as_str(), "{}", None).await.unwrap_err()));
    assert!(is_permission_denied(amy.delete(k.as_str(), None).await.unwrap_err()));
    assert!(is_permission_denied(amy.put(key(&format!("vms/runs/{id}")), "{}", None).await.unwrap_err()));
    let e = team.b("amy").vm_withdraw(team.s("amy"), &id, "not mine").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    let mut spec = team.view("amy", &id).await.spec;
    spec.cpu = 1;
    assert_eq!(team.b("amy").vm_edit(team.s("amy"), team.vc("amy"), &id, spec).await.unwrap_err().code(), ErrorCode::Forbidden);

    // Records amy can write, in her own space, that try to pass as others': skipped and listed.
    let mut copy = raw_value(&mut amy, &k).await;
    amy.put(key(&format!("vms/requests/amy/{id}")), serde_json::to_vec(&copy).unwrap(), None).await.unwrap();
    copy["requester"] = serde_json::json!("amy");
    amy.put(key("vms/requests/amy/r-dup"), serde_json::to_vec(&copy).unwrap(), None).await.unwrap();
    amy.put(key("vms/requests/amy/garbage"), "{not json", None).await.unwrap();
    let (list, problems) = team.b("bob").vm_requests_checked(team.s("bob")).await.expect("the list still loads");
    assert_eq!(list.iter().filter(|r| r.id == id).count(), 1);
    assert_eq!(list.iter().find(|r| r.id == id).unwrap().requester, "alice");
    let reasons: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.key, p.reason)).collect();
    assert!(
        reasons.iter().any(|r| r.contains(&format!("requests/amy/{id}")) && r.contains("as requester but sits under user \"amy\"")),
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("requests/amy/r-dup") && r.contains("under the id r-dup")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("requests/amy/garbage") && r.contains("not an Opsdeck VM record")), "{reasons:?}");

    // The owner can withdraw; the withdrawn request frees nothing it did not hold and stays in history.
    let w = team.b("alice").vm_withdraw(team.s("alice"), &id, "not needed").await.unwrap();
    assert_eq!(w.state, State::Withdrawn);
    assert_eq!(team.decide("bob", &id, Stage::Manager).await.unwrap_err().code(), ErrorCode::Conflict);
    team.cleanup().await;
}

#[tokio::test]
async fn an_etcd_without_auth_is_refused_unless_opted_in() {
    let etcd = Service::start("etcd", &[]);
    let t = TestBackend::new().await;
    let c = t
        .add(
            "open etcd",
            opsdeck_core::connections::ConnectionSpec::Etcd {
                endpoints: vec![etcd.get("ETCD_ENDPOINT").into()],
                tls: None,
                username: None,
                allow_plaintext: false,
            },
            None,
        )
        .await;
    let e = t.backend.vm_store(&shared(&c.id)).await.err().expect("refused");
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    assert!(e.to_string().contains("needs etcd authentication") && e.to_string().contains("--allow-no-auth"), "{e}");
    let s = t
        .backend
        .vm_store(&StoreChoice::Etcd { connection_id: c.id.clone(), prefix: DEFAULT_ROOT.into(), allow_no_auth: true })
        .await
        .expect("opted in");
    assert_eq!(s.trust(), Trust::SharedNoAuth);
    t.cleanup().await;
}

#[tokio::test]
async fn locks_hold_a_lost_lock_stops_the_build_and_two_passes_act_once() {
    // Every clone takes 3 s in vCenter: time to lose the lock in the middle of one.
    let team = Team::start(&["alice", "bob", "carol"], &["-method-delay", "CloneVM_Task:3000"]).await;
    quota(&team).await;
    let id = team.submit("alice", "lock-lost").await;
    team.decide("bob", &id, Stage::Manager).await.unwrap();
    team.decide("carol", &id, Stage::Admin).await.unwrap();

    // The lock's lease is revoked while the clone runs (an etcd outage or an
    // operator's revoke): the build stops at its next safe point and cleans up.
    let (cloning, mut started) = tokio::sync::mpsc::unbounded_channel();
    let on = move |p: opsdeck_core::vms::provision::Progress| {
        if p.step == "clone" && p.percent == 0 {
            let _ = cloning.send(());
        }
    };
    let opts = ProvisionOptions::default();
    let provisioning = team.b("carol").vm_provision(team.s("carol"), team.vc("carol"), &id, &opts, &on);
    let revoke = async {
        started.recv().await.expect("the clone starts");
        let mut raw = team.raw("carol").await;
        let lock = raw.get(key(&format!("vms/locks/{id}")), None).await.unwrap();
        raw.lease_revoke(lock.kvs()[0].lease()).await.expect("revoke the lock's lease");
    };
    let (r, ()) = tokio::join!(provisioning, revoke);
    let r = r.expect("a failed attempt is recorded");
    assert_eq!(r.state, State::Failed);
    let why = r.failure.clone().unwrap_or_default();
    assert!(why.contains("lost the execution lock") && why.contains("cleaned up"), "{why}");
    let inv = team.b("carol").vm_inventory(team.vc("carol")).await.unwrap();
    assert_eq!(count_named(&inv, "lock-lost"), 0, "the half-made VM is gone");

    // Retried, it is built once; then two lifecycle passes at once take one scheduled snapshot.
    let done = team.provision(&id).await.unwrap();
    assert_eq!(done.state, State::Provisioned, "{:?}", done.failure);
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(2);
    let b = team.b("carol");
    let (a1, a2) =
        tokio::join!(b.vm_lifecycle(team.s("carol"), team.vc("carol"), later), b.vm_lifecycle(team.s("carol"), team.vc("carol"), later));
    let all: Vec<_> = a1.unwrap().into_iter().chain(a2.unwrap()).collect();
    assert_eq!(all.iter().filter(|a| a.action == "snapshot" && a.ok).count(), 1, "{all:?}");
    let inv = team.b("carol").vm_inventory(team.vc("carol")).await.unwrap();
    let vm = inv.vms.iter().find(|v| v.name == "lock-lost" && !v.template).unwrap();
    assert_eq!(vm.snapshots.iter().filter(|s| s.name.starts_with("Scheduled-")).count(), 1);
    // A third pass on the same day has nothing to do.
    let again = b.vm_lifecycle(team.s("carol"), team.vc("carol"), later).await.unwrap();
    assert!(!again.iter().any(|a| a.action == "snapshot"), "{again:?}");
    team.cleanup().await;
}

#[tokio::test]
async fn a_lease_extension_needs_the_managers_approval_within_the_department_maximum() {
    let team = Team::start(&["alice", "bob", "carol"], &[]).await;
    quota(&team).await; // qa: at most 120 days of lease in all
    let id = team.submit("alice", "ext-1").await;
    team.decide("bob", &id, Stage::Manager).await.unwrap();
    team.decide("carol", &id, Stage::Admin).await.unwrap();
    let built = team.provision(&id).await.unwrap();
    assert_eq!(built.state, State::Provisioned, "{:?}", built.failure);
    let lease = built.spec.lease_end.clone();
    let day = |d: i64| (time::OffsetDateTime::now_utc().date() + time::Duration::days(d)).to_string();

    // Over the department's maximum: refused before anything is written.
    let e = team.b("alice").vm_extend(team.s("alice"), &id, &day(200), "long project").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
    assert!(e.to_string().contains("at most 120 days"), "{e}");
    // Within it: a pending extension, the lease in force unchanged.
    let r = team.b("alice").vm_extend(team.s("alice"), &id, &day(60), "the sprint runs late").await.unwrap();
    assert_eq!((r.spec.lease_end.as_str(), r.extensions.len()), (lease.as_str(), 1));
    // Neither the requester nor an admin who is not the manager decides it.
    assert_eq!(team.b("alice").vm_decide_extension(team.s("alice"), &id, 1, true, "").await.unwrap_err().code(), ErrorCode::Forbidden);
    assert_eq!(team.b("carol").vm_decide_extension(team.s("carol"), &id, 1, true, "").await.unwrap_err().code(), ErrorCode::Forbidden);
    // An extension written around Opsdeck with no decision moves nothing.
    let mut alice = team.raw("alice").await;
    let forged = serde_json::json!({"n": 2, "lease_end": "2099-12-31", "reason": "forever", "at": "2026-12-04T00:00:00Z"});
    alice.put(key(&format!("vms/requests/alice/{id}.ext-2")), serde_json::to_vec(&forged).unwrap(), None).await.unwrap();
    assert_eq!(team.view("carol", &id).await.spec.lease_end, lease);

    // The manager approves extension 1: the lifecycle keeps the VM past the old lease end.
    let r = team.b("bob").vm_decide_extension(team.s("bob"), &id, 1, true, "ok").await.unwrap();
    assert_eq!(r.spec.lease_end, day(60));
    let old_end = time::Date::parse(&lease, time::macros::format_description!("[year]-[month]-[day]")).unwrap();
    let after_old = old_end.midnight().assume_utc() + time::Duration::days(1);
    let actions = team.b("carol").vm_lifecycle(team.s("carol"), team.vc("carol"), after_old).await.unwrap();
    assert!(!actions.iter().any(|a| a.action == "power_off"), "{actions:?}");
    let after_new = after_old + time::Duration::days(31);
    let actions = team.b("carol").vm_lifecycle(team.s("carol"), team.vc("carol"), after_new).await.unwrap();
    assert!(actions.iter().any(|a| a.action == "power_off" && a.ok), "{actions:?}");
    team.cleanup().await;
}

//! The team audit trail in a real etcd with auth: every change made through
//! Opsdeck by any member lands in one hash chain, attributed to the etcd
//! user who made it; a member forging, rewriting or deleting entries with
//! their own credentials is refused by etcd or found by `opsdeck audit verify`.

use opsdeck_core::backend::{StoreChoice, VmSettings};
use opsdeck_core::team::trail::TrailFilter;
use opsdeck_core::team::DEFAULT_ROOT;
use opsdeck_core::vms::model::Quota;
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::{etcd_connection, etcd_with_vm_roles, raw_etcd};
use opsdeck_tests::workspace;

/// A member's own app, with the shared etcd chosen as the team store.
async fn member(etcd: &opsdeck_tests::Service, user: &str) -> (TestBackend, String) {
    let t = TestBackend::new().await;
    let c = etcd_connection(&t, etcd, user).await;
    let settings = VmSettings {
        store: StoreChoice::Etcd { connection_id: c.id.clone(), prefix: DEFAULT_ROOT.into(), allow_no_auth: false },
        ..Default::default()
    };
    t.backend.set_vm_settings(&settings).await.expect("choose the team store");
    (t, c.name)
}

fn verify_cli(t: &TestBackend, connection: &str) -> (Option<i32>, String) {
    let o = workspace::cli(t.dir.path(), t.backend.keychain().service())
        .args(["audit", "verify", "--etcd", connection])
        .output()
        .expect("run opsdeck");
    (o.status.code(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

#[tokio::test]
async fn every_members_changes_form_one_attributed_chain_and_tampering_is_found() {
    let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    let (carol, carol_conn) = member(&etcd, "carol").await;
    let (alice, _) = member(&etcd, "alice").await;
    let carol_store = carol.backend.vm_default_store().await.unwrap();
    let alice_store = alice.backend.vm_default_store().await.unwrap();

    // Changes through Opsdeck: a quota set by the admin, a quota refused to a requester.
    carol.backend.vm_set_quota(carol_store.as_ref(), "qa", &Quota { vms: 5, ..Default::default() }).await.unwrap();
    let e = alice.backend.vm_set_quota(alice_store.as_ref(), "qa", &Quota { vms: 500, ..Default::default() }).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden);
    carol.backend.vm_set_quota(carol_store.as_ref(), "dev", &Quota { vms: 3, ..Default::default() }).await.unwrap();

    let report = carol.backend.team_trail(None, &TrailFilter::default()).await.unwrap();
    assert!(report.intact(), "{:?}", report.breaks);
    let quota: Vec<(&str, &str, &str)> = report
        .entries
        .iter()
        .filter(|e| e.entry.action == "vm.quota")
        .map(|e| (e.entry.user.as_str(), e.entry.target.as_str(), e.entry.result.as_str()))
        .collect();
    assert_eq!(quota, [("carol", "qa", "ok"), ("alice", "qa", "error"), ("carol", "dev", "ok")], "attributed to the etcd user, in order");
    let by_alice = carol.backend.team_trail(None, &TrailFilter { user: Some("alice".into()), ..Default::default() }).await.unwrap();
    assert!(by_alice.entries.iter().all(|e| e.entry.user == "alice") && !by_alice.entries.is_empty());
    assert_eq!(verify_cli(&carol, &carol_conn).0, Some(0));

    // Forging an entry in another member's place: etcd refuses.
    let mut raw = raw_etcd(&etcd, "alice").await;
    let carol_entry = report.entries.iter().find(|e| e.entry.user == "carol").unwrap();
    let e = raw.put(carol_entry.key.as_str(), "{}", None).await.unwrap_err();
    assert!(e.to_string().contains("permission denied"), "{e}");
    assert!(raw.delete(carol_entry.key.as_str(), None).await.unwrap_err().to_string().contains("permission denied"));

    // Rewriting one's own entry (even re-hashed): found.
    let own = report.entries.iter().find(|e| e.entry.user == "alice").unwrap();
    let mut forged = own.entry.clone();
    forged.result = "ok".into();
    forged.detail = "nothing happened".into();
    forged.hash = forged.compute_hash();
    raw.put(own.key.as_str(), serde_json::to_vec(&forged).unwrap(), None).await.unwrap();
    let broken = alice.backend.team_trail(None, &TrailFilter::default()).await.unwrap();
    assert!(!broken.intact());
    assert!(
        broken.breaks.iter().any(|b| b.seq == own.entry.seq && b.reason.contains("rewritten after it was appended")),
        "{:?}",
        broken.breaks
    );
    assert!(broken.breaks.iter().any(|b| b.seq == own.entry.seq + 1 && b.reason.contains("does not follow")), "{:?}", broken.breaks);
    let (code, out) = verify_cli(&carol, &carol_conn);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("team audit trail: BROKEN at entry"), "{out}");

    // Deleting one's own entry: found as missing (and the head still names the newest).
    raw.delete(own.key.as_str(), None).await.unwrap();
    let broken = carol.backend.team_trail(None, &TrailFilter::default()).await.unwrap();
    assert!(broken.breaks.iter().any(|b| b.reason == format!("entry {} is missing", own.entry.seq)), "{:?}", broken.breaks);

    // Moving the head back to hide the end: found (the head counts its writes).
    let head_key = format!("{DEFAULT_ROOT}audit/head");
    let last = report.entries.last().unwrap();
    let prev = &report.entries[report.entries.len() - 2].entry;
    raw.put(head_key.as_str(), serde_json::to_vec(&serde_json::json!({"seq": prev.seq, "hash": prev.hash})).unwrap(), None).await.unwrap();
    let broken = carol.backend.team_trail(None, &TrailFilter::default()).await.unwrap();
    assert!(broken.breaks.iter().any(|b| b.reason.contains("the head was written")), "{:?}", broken.breaks);
    assert!(broken.breaks.iter().any(|b| b.reason.contains(&format!("newest entry is {}", last.entry.seq))), "{:?}", broken.breaks);
    carol.cleanup().await;
    alice.cleanup().await;
}

#[tokio::test]
async fn concurrent_appends_from_two_members_keep_one_chain() {
    let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    let (carol, _) = member(&etcd, "carol").await;
    let (mia, _) = member(&etcd, "mia").await;
    let (cs, ms) = (carol.backend.vm_default_store().await.unwrap(), mia.backend.vm_default_store().await.unwrap());
    let a = async {
        for i in 0..10 {
            carol.backend.vm_set_quota(cs.as_ref(), &format!("c{i}"), &Quota::default()).await.unwrap();
        }
    };
    let b = async {
        for i in 0..10 {
            mia.backend.vm_set_quota(ms.as_ref(), &format!("m{i}"), &Quota::default()).await.unwrap();
        }
    };
    tokio::join!(a, b);
    let report = carol.backend.team_trail(None, &TrailFilter { platform: Some("vsphere".into()), ..Default::default() }).await.unwrap();
    assert!(report.intact(), "{:?}", report.breaks);
    let quota = report.entries.iter().filter(|e| e.entry.action == "vm.quota").count();
    assert_eq!(quota, 20);
    carol.cleanup().await;
    mia.cleanup().await;
}

#[tokio::test]
async fn with_the_team_etcd_down_changes_still_happen_and_say_what_missed_the_trail() {
    let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    let (carol, _) = member(&etcd, "carol").await;
    drop(etcd); // the team's etcd goes away
    for theme in ["dark", "light"] {
        let mut s = carol.backend.settings().await.unwrap();
        s.theme = theme.into();
        carol.backend.set_settings(s).await.expect("the change itself does not depend on the team trail");
    }
    let missed = carol
        .backend
        .audit_log(&opsdeck_core::cache::audit::AuditFilter { text: Some("audit.team_trail".into()), limit: 10, ..Default::default() })
        .await
        .unwrap();
    let details: Vec<&str> = missed.entries.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(details.len(), 2, "{details:?}");
    assert!(details.iter().all(|d| d.contains("did not reach the team audit trail")), "{details:?}");
    // The second did not wait for the etcd again.
    assert!(details[0].contains("not retried for a minute"), "{details:?}");
    let settings_entries = carol
        .backend
        .audit_log(&opsdeck_core::cache::audit::AuditFilter {
            text: Some("settings.update".into()),
            result: Some("ok".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(settings_entries.total, 2, "both changes are in the local log");
    assert!(carol.backend.audit_verify_local().await.unwrap().is_empty());
    carol.cleanup().await;
}

//! Team suppressions (issue 15 item 4) in a real etcd with auth: added with
//! `opsdeck scan suppress add` by one member, seen by another member's app
//! and applied by its scans' gate; the author is the etcd user; a member
//! can neither remove nor forge another's; every change is in the team
//! audit trail.

use opsdeck_core::backend::{StoreChoice, VmSettings};
use opsdeck_core::team::suppressions::NewSuppression;
use opsdeck_core::team::trail::TrailFilter;
use opsdeck_core::team::DEFAULT_ROOT;
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::{etcd_connection, etcd_with_vm_roles, raw_etcd};
use opsdeck_tests::workspace;

/// A member's app with the shared etcd as its team store.
async fn app_of(etcd: &opsdeck_tests::Service, user: &str) -> TestBackend {
    let t = TestBackend::new().await;
    let c = etcd_connection(&t, etcd, user).await;
    let store = StoreChoice::Etcd { connection_id: c.id.clone(), prefix: DEFAULT_ROOT.into(), allow_no_auth: false };
    t.backend.set_vm_settings(&VmSettings { store, ..Default::default() }).await.expect("team store");
    t
}

fn cli(t: &TestBackend, args: &[&str]) -> (Option<i32>, String, String) {
    let o = workspace::cli(t.dir.path(), t.backend.keychain().service()).args(args).output().expect("run opsdeck");
    (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[tokio::test]
async fn suppressions_are_shared_attributed_guarded_and_audited() {
    let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    let alice = app_of(&etcd, "alice").await;
    let carol = app_of(&etcd, "carol").await;

    // Alice accepts a risk from the CLI (as CI would).
    let (code, id, err) = cli(
        &alice,
        &["scan", "suppress", "add", "CVE-2024-6387", "--reason", "sshd is not exposed", "--expires", "2099-12-31", "--package", "openssh"],
    );
    assert_eq!(code, Some(0), "{err}");
    let id = id.trim().to_string();
    assert!(id.starts_with('s'), "{id}");

    // Carol's app sees it, authored by alice (the etcd user), and lists it from the CLI.
    let (list, problems) = carol.backend.team_suppressions().await.unwrap().expect("a team store is set");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(list.len(), 1);
    let s = &list[0].suppression;
    assert_eq!(
        (s.id.as_str(), s.package.as_deref(), s.author.as_str(), s.expires.as_str()),
        ("CVE-2024-6387", Some("openssh"), "alice", "2099-12-31")
    );
    let (code, table, _) = cli(&carol, &["scan", "suppress", "list"]);
    assert_eq!(code, Some(0));
    assert!(table.contains(&id) && table.contains("sshd is not exposed") && table.contains("alice"), "{table}");

    // Refused: a past expiry, a blank reason; nothing written.
    let past = NewSuppression { vulnerability: "CVE-1".into(), reason: "r".into(), expires: "2020-01-01".into(), ..Default::default() };
    assert_eq!(alice.backend.suppress_add(&past).await.unwrap_err().code(), ErrorCode::InvalidInput);
    let (code, _, err) = cli(&alice, &["scan", "suppress", "add", "CVE-1", "--reason", " ", "--expires", "2099-01-01"]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(carol.backend.team_suppressions().await.unwrap().unwrap().0.len(), 1);

    // Carol cannot remove alice's, through Opsdeck or around it.
    assert_eq!(carol.backend.suppress_remove(&id).await.unwrap_err().code(), ErrorCode::Forbidden);
    let mut raw = raw_etcd(&etcd, "carol").await;
    let alices_key = format!("{DEFAULT_ROOT}images/suppressions/alice/{id}");
    assert!(raw.delete(alices_key.as_str(), None).await.unwrap_err().to_string().contains("permission denied"));
    // A record carol writes under her own key claiming alice as author is not applied.
    let forged = serde_json::json!({"id": "sforged", "created_at": "2026-12-05T00:00:00Z", "suppression": {
        "id": "CVE-2024-9999", "package": null, "image": null, "reason": "forged", "author": "alice", "expires": "2099-12-31"}});
    raw.put(format!("{DEFAULT_ROOT}images/suppressions/carol/sforged"), serde_json::to_vec(&forged).unwrap(), None).await.unwrap();
    let (list, problems) = alice.backend.team_suppressions().await.unwrap().unwrap();
    assert_eq!(list.len(), 1, "the forged record is not a suppression");
    assert!(problems.iter().any(|p| p.contains("carol/sforged")), "{problems:?}");

    // Audited in the team trail, attributed.
    let trail = carol.backend.team_trail(None, &TrailFilter::default()).await.unwrap();
    let adds: Vec<(&str, &str, &str)> = trail
        .entries
        .iter()
        .filter(|e| e.entry.action.starts_with("image.suppression"))
        .map(|e| (e.entry.user.as_str(), e.entry.action.as_str(), e.entry.result.as_str()))
        .collect();
    assert!(adds.contains(&("alice", "image.suppression.add", "ok")), "{adds:?}");
    assert!(adds.contains(&("alice", "image.suppression.add", "error")), "the refused one too: {adds:?}");
    assert!(adds.contains(&("carol", "image.suppression.remove", "error")), "{adds:?}");

    // Alice removes hers; the list is empty for everyone.
    let (code, _, err) = cli(&alice, &["scan", "suppress", "remove", &id]);
    assert_eq!(code, Some(0), "{err}");
    assert!(carol.backend.team_suppressions().await.unwrap().unwrap().0.is_empty());
    let (code, _, _) = cli(&alice, &["scan", "suppress", "remove", &id]);
    assert_eq!(code, Some(2), "gone: not found (exit 2)");
}

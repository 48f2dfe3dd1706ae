//! Config change requests on a protected prefix, in a real etcd with auth:
//! nobody writes the prefix directly but the publisher role; a change is
//! proposed by one person, approved by another, and published as one
//! guarded transaction — or refused as stale, with nothing written.

use opsdeck_core::backend::EtcdSession;
use opsdeck_core::team::changes::ChangeState;
use opsdeck_core::team::DEFAULT_ROOT;
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::{etcd_connection, etcd_with_vm_roles, raw_etcd};

async fn session(t: &TestBackend, etcd: &opsdeck_tests::Service, user: &str) -> EtcdSession {
    let c = etcd_connection(t, etcd, user).await;
    t.backend.etcd_session(&c.id).await.expect("etcd session")
}

async fn value(etcd: &opsdeck_tests::Service, key: &str) -> String {
    let mut root = raw_etcd(etcd, "root").await;
    String::from_utf8_lossy(root.get(key, None).await.unwrap().kvs()[0].value()).into_owned()
}

#[tokio::test]
async fn a_protected_prefix_changes_only_as_reviewed() {
    let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    let t = TestBackend::new().await;
    let root = session(&t, &etcd, "root").await;
    let (alice, rita, paul) = (session(&t, &etcd, "alice").await, session(&t, &etcd, "rita").await, session(&t, &etcd, "paul").await);
    let b = &t.backend;
    let key = "/app/prod/db";
    raw_etcd(&etcd, "root").await.put(key, r#"{"pool": 10}"#, None).await.unwrap();
    b.config_protect(&root, DEFAULT_ROOT, "/app/prod/").await.expect("root protects the prefix");

    // Around the review: a direct write is refused by etcd, even for the reviewer.
    for who in ["alice", "rita"] {
        let e = raw_etcd(&etcd, who).await.put(key, r#"{"pool": 99}"#, None).await.unwrap_err();
        assert!(e.to_string().contains("permission denied"), "{who}: {e}");
    }
    // Unprotected keys are not change requests.
    assert_eq!(
        b.change_propose(&alice, DEFAULT_ROOT, &[("/app/dev/db".into(), Some("x".into()))], "dev").await.unwrap_err().code(),
        ErrorCode::InvalidInput
    );

    let c = b.change_propose(&alice, DEFAULT_ROOT, &[(key.into(), Some(r#"{"pool": 20}"#.into()))], "raise the pool").await.unwrap();
    assert_eq!((c.state, c.author.as_str()), (ChangeState::Pending, "alice"));
    assert_eq!(c.ops[0].base_value.as_deref(), Some(r#"{"pool": 10}"#));
    // Publishing before approval, and approving one's own change: refused.
    assert_eq!(b.change_publish(&paul, DEFAULT_ROOT, &c.id).await.unwrap_err().code(), ErrorCode::Conflict);
    let e = b.change_review(&alice, DEFAULT_ROOT, &c.id, true, "lgtm").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    // A reviewer's own change, self-approved around Opsdeck: ignored by every reader.
    let own = b.change_propose(&rita, DEFAULT_ROOT, &[(key.into(), Some(r#"{"pool": 50}"#.into()))], "mine").await.unwrap();
    let self_review = serde_json::json!({"reviewer": "rita", "approved": true, "at": "2026-12-04T00:00:00Z", "comment": "", "change_revision": own.revision});
    raw_etcd(&etcd, "rita")
        .await
        .put(format!("{DEFAULT_ROOT}config/reviews/rita/{}", own.id), serde_json::to_vec(&self_review).unwrap(), None)
        .await
        .unwrap();
    let seen = b.change_get(&paul, DEFAULT_ROOT, &own.id).await.unwrap();
    assert_eq!(seen.state, ChangeState::Pending);
    assert!(seen.notes.iter().any(|n| n.contains("cannot review their own change")), "{:?}", seen.notes);
    assert_eq!(b.change_publish(&paul, DEFAULT_ROOT, &own.id).await.unwrap_err().code(), ErrorCode::Conflict);
    assert_eq!(value(&etcd, key).await, r#"{"pool": 10}"#, "nothing unapproved was written");

    // Approved, but the key moved since it was proposed: stale, nothing written.
    assert_eq!(b.change_review(&rita, DEFAULT_ROOT, &c.id, true, "ok").await.unwrap().state, ChangeState::Approved);
    raw_etcd(&etcd, "root").await.put(key, r#"{"pool": 12}"#, None).await.unwrap();
    assert_eq!(b.change_get(&paul, DEFAULT_ROOT, &c.id).await.unwrap().state, ChangeState::Stale);
    let e = b.change_publish(&paul, DEFAULT_ROOT, &c.id).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict);
    assert!(e.to_string().contains("stale") && e.to_string().contains(key), "{e}");
    assert_eq!(value(&etcd, key).await, r#"{"pool": 12}"#);

    // Proposed again, approved, published: exactly the reviewed value, in one transaction.
    let c2 =
        b.change_propose(&alice, DEFAULT_ROOT, &[(key.into(), Some(r#"{"pool": 20}"#.into()))], "raise the pool, again").await.unwrap();
    b.change_review(&rita, DEFAULT_ROOT, &c2.id, true, "").await.unwrap();
    let done = b.change_publish(&paul, DEFAULT_ROOT, &c2.id).await.unwrap();
    assert_eq!(done.state, ChangeState::Published);
    assert_eq!(value(&etcd, key).await, r#"{"pool": 20}"#);
    assert_eq!(b.change_publish(&paul, DEFAULT_ROOT, &c2.id).await.unwrap_err().code(), ErrorCode::Conflict, "published once");

    // Every step is in the team trail, attributed to its etcd user.
    let trail = opsdeck_core::team::trail::read(
        &opsdeck_core::team::TeamStore::new(raw_etcd(&etcd, "root").await, DEFAULT_ROOT, Some("root".into()), "root", false).unwrap(),
    )
    .await
    .unwrap();
    assert!(trail.breaks.is_empty(), "{:?}", trail.breaks);
    let steps: Vec<(&str, &str)> = trail
        .entries
        .iter()
        .filter(|e| e.entry.action.starts_with("config.change.") && e.entry.result == "ok")
        .map(|e| (e.entry.user.as_str(), e.entry.action.as_str()))
        .collect();
    assert!(
        steps.ends_with(&[("alice", "config.change.propose"), ("rita", "config.change.approve"), ("paul", "config.change.publish")]),
        "{steps:?}"
    );

    // The same from the CLI: the list, a review with its diff, a refused self-approval (exit 1).
    let cli = |args: &[&str]| {
        opsdeck_tests::workspace::cli(t.dir.path(), t.backend.keychain().service()).args(args).output().expect("run opsdeck")
    };
    let out = cli(&["config", "--connection", "etcd as rita", "changes", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let states: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["id"].as_str().unwrap().to_string(), c["state"].as_str().unwrap().to_string()))
        .collect();
    assert!(states.contains(&(c2.id.clone(), "published".into())) && states.contains(&(c.id.clone(), "stale".into())), "{states:?}");
    let c3 = cli(&["config", "--connection", "etcd as alice", "propose", &format!("{key}={{\"pool\": 30}}"), "--comment", "from the cli"]);
    assert_eq!(c3.status.code(), Some(0), "{}", String::from_utf8_lossy(&c3.stderr));
    let id3 = String::from_utf8_lossy(&c3.stdout).trim().to_string();
    let shown = String::from_utf8_lossy(&cli(&["config", "--connection", "etcd as rita", "review", &id3]).stdout).into_owned();
    assert!(shown.contains(r#"-{"pool": 20}"#) && shown.contains(r#"+{"pool": 30}"#), "{shown}");
    let own = cli(&["config", "--connection", "etcd as alice", "approve", &id3]);
    assert_eq!(own.status.code(), Some(1), "{}", String::from_utf8_lossy(&own.stderr));
    assert!(String::from_utf8_lossy(&own.stderr).contains("cannot review it"));
    t.cleanup().await;
}

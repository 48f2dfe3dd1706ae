//! The Config workspace against a real etcd: tree paging, guarded writes and
//! conflicts, validation, history and rollback, prefix delete, compare/copy,
//! export/import, watch, RBAC and size limits, and the audit trail.

use std::time::Duration;

use etcd_client::{Client, Txn, TxnOp};
use opsdeck_core::backend::EtcdSession;
use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::config::format::ValueFormat;
use opsdeck_core::config::transfer::DocFormat;
use opsdeck_core::config::watch::WatchEvent;
use opsdeck_core::config::{CopyItem, WriteResult};
use opsdeck_core::connections::{ConnectionSpec, TlsFiles};
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::Service;

async fn session(t: &TestBackend, etcd: &Service) -> EtcdSession {
    let c = t
        .add(
            "cfg",
            ConnectionSpec::Etcd { endpoints: vec![etcd.get("ETCD_ENDPOINT").into()], tls: None, username: None, allow_plaintext: false },
            None,
        )
        .await;
    t.backend.etcd_session(&c.id).await.unwrap()
}

/// A second, independent client: "someone else" changing things.
async fn other(etcd: &Service) -> Client {
    Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap()
}

async fn seed(c: &mut Client, keys: impl IntoIterator<Item = (String, String)>) {
    let all: Vec<(String, String)> = keys.into_iter().collect();
    for chunk in all.chunks(100) {
        let ops: Vec<TxnOp> = chunk.iter().map(|(k, v)| TxnOp::put(k.as_str(), v.as_str(), None)).collect();
        c.txn(Txn::new().and_then(ops)).await.unwrap();
    }
}

fn written(r: WriteResult) -> (i64, i64) {
    match r {
        WriteResult::Written { meta, revision, .. } => (meta.mod_revision, revision),
        WriteResult::Conflict { current } => panic!("unexpected conflict: {current:?}"),
    }
}

#[tokio::test]
async fn tree_pages_dirs_and_leaves() {
    let etcd = Service::start("etcd", &[]);
    let t = TestBackend::new().await;
    let s = session(&t, &etcd).await;
    let mut o = other(&etcd).await;
    seed(&mut o, (0..2500).map(|i| (format!("/t/big/k{i:05}"), "v".to_string()))).await;
    seed(
        &mut o,
        [("/t/a/x", "1"), ("/t/a/y", "2"), ("/t/b/deep/z", "3"), ("/t/leaf", "4"), ("/u/other", "5")]
            .map(|(k, v)| (k.to_string(), v.to_string())),
    )
    .await;

    let root = t.backend.config_tree(&s, "/t/", None, 100).await.unwrap();
    let names: Vec<(&str, bool)> = root.entries.iter().map(|e| (e.name.as_str(), e.is_dir)).collect();
    assert_eq!(names, [("a", true), ("b", true), ("big", true), ("leaf", false)]);
    assert_eq!(root.entries[0].key, "/t/a/");
    assert_eq!(root.next_cursor, None);

    // Small pages over dirs: the cursor continues after the dir.
    let p1 = t.backend.config_tree(&s, "/t/", None, 2).await.unwrap();
    assert_eq!(p1.entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    let p2 = t.backend.config_tree(&s, "/t/", p1.next_cursor.as_deref(), 2).await.unwrap();
    assert_eq!(p2.entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["big", "leaf"]);
    assert_eq!(p2.next_cursor, None);

    // 2,500 leaves in pages of 1,000.
    let mut cursor = None;
    let mut seen = Vec::new();
    loop {
        let page = t.backend.config_tree(&s, "/t/big/", cursor.as_deref(), 1000).await.unwrap();
        assert!(page.entries.len() <= 1000);
        seen.extend(page.entries.into_iter().map(|e| e.name));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 2500);
    assert_eq!(seen.first().unwrap(), "k00000");
    assert_eq!(seen.last().unwrap(), "k02499");
    assert_eq!(t.backend.config_count(&s, "/t/").await.unwrap(), 2504);

    let found = t.backend.config_search(&s, "/t/", "K0249", 50).await.unwrap();
    assert_eq!(found.len(), 10, "k02490..k02499, case-insensitive");
    assert!(t.backend.config_tree(&s, "/t/", None, 0).await.is_err());
}

#[tokio::test]
async fn a_concurrent_write_is_never_overwritten() {
    let etcd = Service::start("etcd", &[]);
    let t = TestBackend::new().await;
    let s = session(&t, &etcd).await;
    let mut o = other(&etcd).await;
    o.put("/app/db", r#"{"pool": 10}"#, None).await.unwrap();

    let loaded = t.backend.config_get(&s, "/app/db").await.unwrap();
    assert_eq!(loaded.format, ValueFormat::Json);
    // Someone else writes between our load and our save.
    o.put("/app/db", r#"{"pool": 20}"#, None).await.unwrap();
    let r = t
        .backend
        .config_put(&s, "/app/db", r#"{"pool": 50}"#, loaded.meta.mod_revision, ValueFormat::Json, false, "raise pool")
        .await
        .unwrap();
    let WriteResult::Conflict { current: Some(theirs) } = r else { panic!("expected a conflict, got {r:?}") };
    assert_eq!(theirs.value, r#"{"pool": 20}"#, "the conflict shows their value");
    let now = o.get("/app/db", None).await.unwrap();
    assert_eq!(now.kvs()[0].value_str().unwrap(), r#"{"pool": 20}"#, "their value survives");

    // Saving on their revision works.
    let (rev, _) = written(
        t.backend.config_put(&s, "/app/db", r#"{"pool": 50}"#, theirs.meta.mod_revision, ValueFormat::Json, false, "").await.unwrap(),
    );
    assert!(rev > theirs.meta.mod_revision);

    // Create only if absent.
    let dup = t.backend.config_put(&s, "/app/db", "x", 0, ValueFormat::Plain, false, "").await.unwrap();
    assert!(matches!(dup, WriteResult::Conflict { current: Some(_) }));
    written(t.backend.config_put(&s, "/app/new", "x", 0, ValueFormat::Plain, false, "").await.unwrap());

    // A key deleted meanwhile is a conflict with no current value.
    let k = t.backend.config_get(&s, "/app/new").await.unwrap();
    o.delete("/app/new", None).await.unwrap();
    let gone = t.backend.config_put(&s, "/app/new", "y", k.meta.mod_revision, ValueFormat::Plain, false, "").await.unwrap();
    assert_eq!(gone, WriteResult::Conflict { current: None });

    // Guarded delete.
    let db = t.backend.config_get(&s, "/app/db").await.unwrap();
    let stale = t.backend.config_delete(&s, "/app/db", db.meta.mod_revision - 1, "").await.unwrap();
    assert!(matches!(stale, WriteResult::Conflict { .. }));
    written(t.backend.config_delete(&s, "/app/db", db.meta.mod_revision, "cleanup").await.unwrap());
    assert_eq!(t.backend.config_get(&s, "/app/db").await.unwrap_err().code(), ErrorCode::NotFound);

    // The audit log has who, key, revisions and comment, for successes and refusals.
    let audit = t
        .backend
        .audit_log(&AuditFilter { platform: Some("etcd".into()), target: Some("/app/db".into()), limit: 50, ..Default::default() })
        .await
        .unwrap();
    let actions: Vec<(&str, &str)> = audit.entries.iter().map(|e| (e.action.as_str(), e.result.as_str())).collect();
    assert_eq!(
        actions,
        [("config.delete", "ok"), ("config.delete", "error"), ("config.create", "error"), ("config.put", "ok"), ("config.put", "error")]
    );
    assert!(audit.entries.last().unwrap().detail.contains("comment: raise pool"), "{:?}", audit.entries.last());
    assert!(audit.entries[3].detail.contains("→"), "old → new revision: {}", audit.entries[3].detail);
    assert_eq!(audit.entries[0].actor, "tester");
}

#[tokio::test]
async fn invalid_structured_values_need_an_explicit_plain_save() {
    let etcd = Service::start("etcd", &[]);
    let t = TestBackend::new().await;
    let s = session(&t, &etcd).await;
    let err = t.backend.config_put(&s, "/v/j", "{\"a\": ", 0, ValueFormat::Json, false, "").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("line 1"), "{err}");
    assert_eq!(t.backend.config_get(&s, "/v/j").await.unwrap_err().code(), ErrorCode::NotFound, "nothing written");
    let err = t.backend.config_put(&s, "/v/t", "[a]\nx = = 1", 0, ValueFormat::Toml, false, "").await.unwrap_err();
    assert!(err.to_string().contains("invalid TOML"), "{err}");
    written(t.backend.config_put(&s, "/v/j", "{\"a\": ", 0, ValueFormat::Plain, true, "draft").await.unwrap());
    assert_eq!(t.backend.config_get(&s, "/v/j").await.unwrap().format, ValueFormat::Plain);
}

#[tokio::test]
async fn history_walks_back_until_compaction_and_rollback_is_guarded() {
    let etcd = Service::start("etcd", &[]);
    let t = TestBackend::new().await;
    let s = session(&t, &etcd).await;
    let mut o = other(&etcd).await;
    let mut revs = Vec::new();
    for i in 1..=6 {
        let r = o.put("/h/k", format!("v{i}"), None).await.unwrap();
        revs.push(r.header().unwrap().revision());
    }
    let h = t.backend.config_history(&s, "/h/k", 100).await.unwrap();
    let values: Vec<&str> = h.entries.iter().map(|e| e.value.as_deref().unwrap()).collect();
    assert_eq!(values, ["v6", "v5", "v4", "v3", "v2", "v1"]);
    assert_eq!(h.compacted_at, None);
    assert!(!h.truncated);
    let short = t.backend.config_history(&s, "/h/k", 3).await.unwrap();
    assert!(short.truncated && short.entries.len() == 3);

    // Roll back to v2: a new write, guarded by the current revision.
    let current = t.backend.config_get(&s, "/h/k").await.unwrap();
    let stale = t.backend.config_rollback(&s, "/h/k", revs[1], current.meta.mod_revision - 1, "").await.unwrap();
    assert!(matches!(stale, WriteResult::Conflict { .. }));
    written(t.backend.config_rollback(&s, "/h/k", revs[1], current.meta.mod_revision, "bad deploy").await.unwrap());
    assert_eq!(t.backend.config_get(&s, "/h/k").await.unwrap().value, "v2");
    let h = t.backend.config_history(&s, "/h/k", 100).await.unwrap();
    assert_eq!(h.entries[0].value.as_deref(), Some("v2"));
    assert!(h.audit.iter().any(|a| a.action == "config.rollback" && a.detail.contains("bad deploy")), "{:?}", h.audit);

    // Compaction cuts history: said, not hidden.
    o.compact(revs[3], None).await.unwrap();
    let h = t.backend.config_history(&s, "/h/k", 100).await.unwrap();
    assert_eq!(h.entries.len(), 4, "v2 (rollback), v6, v5, v4 remain: {:?}", h.entries);
    assert_eq!(h.compacted_at, Some(revs[3]));
    let err = t.backend.config_rollback(&s, "/h/k", revs[0], h.entries[0].mod_revision, "").await.unwrap_err();
    assert!(err.to_string().contains("compacted"), "{err}");
}

#[tokio::test]
async fn delete_prefix_needs_the_previewed_count() {
    let etcd = Service::start("etcd", &[]);
    let t = TestBackend::new().await;
    let s = session(&t, &etcd).await;
    let mut o = other(&etcd).await;
    seed(&mut o, (0..30).map(|i| (format!("/del/k{i:02}"), "v".into()))).await;
    o.put("/delete-me-not", "keep", None).await.unwrap();
    let preview = t.backend.config_delete_preview(&s, "/del/").await.unwrap();
    assert_eq!(preview.count, 30);
    assert_eq!(preview.sample.len(), 20);
    o.put("/del/k99", "new", None).await.unwrap();
    let err = t.backend.config_delete_prefix(&s, "/del/", 30, "").await.unwrap_err();
    assert!(err.to_string().contains("31"), "{err}");
    assert_eq!(t.backend.config_delete_prefix(&s, "/del/", 31, "decommission").await.unwrap(), 31);
    assert_eq!(t.backend.config_count(&s, "/del/").await.unwrap(), 0);
    assert_eq!(t.backend.config_count(&s, "/delete-me-not").await.unwrap(), 1);
    assert!(t.backend.config_delete_preview(&s, "/").await.is_err(), "whole key space refused");
}

#[tokio::test]
async fn compare_and_copy_between_prefixes() {
    let etcd = Service::start("etcd", &[]);
    let t = TestBackend::new().await;
    let s = session(&t, &etcd).await;
    let mut o = other(&etcd).await;
    seed(
        &mut o,
        [("/env/dev/a", "1"), ("/env/dev/b", "2"), ("/env/dev/c", "3"), ("/env/prod/b", "2"), ("/env/prod/c", "30"), ("/env/prod/d", "4")]
            .map(|(k, v)| (k.to_string(), v.to_string())),
    )
    .await;
    let d = t.backend.config_compare(&s, "/env/dev/", "/env/prod/").await.unwrap();
    assert_eq!(d.only_left.iter().map(|i| i.rel.as_str()).collect::<Vec<_>>(), ["a"]);
    assert_eq!(d.only_right.iter().map(|i| i.rel.as_str()).collect::<Vec<_>>(), ["d"]);
    assert_eq!(
        d.different.iter().map(|i| (i.rel.as_str(), i.left.as_deref(), i.right.as_deref())).collect::<Vec<_>>(),
        [("c", Some("3"), Some("30"))]
    );
    assert_eq!(d.same, 1);

    let items: Vec<CopyItem> = d
        .only_left
        .iter()
        .chain(&d.different)
        .map(|i| CopyItem { rel: i.rel.clone(), left_mod_revision: i.left_mod_revision, right_mod_revision: i.right_mod_revision })
        .collect();
    // Someone changes dev/c after the comparison: the copy refuses, nothing written.
    o.put("/env/dev/c", "333", None).await.unwrap();
    let refused = t.backend.config_copy(&s, "/env/dev/", "/env/prod/", &items, "promote").await.unwrap();
    assert_eq!((refused.copied, refused.conflicts.clone()), (0, vec!["c".to_string()]));
    assert!(t.backend.config_get(&s, "/env/prod/a").await.is_err(), "nothing copied");
    // Compare again, copy what is now seen.
    let d = t.backend.config_compare(&s, "/env/dev/", "/env/prod/").await.unwrap();
    let items: Vec<CopyItem> = d
        .only_left
        .iter()
        .chain(&d.different)
        .map(|i| CopyItem { rel: i.rel.clone(), left_mod_revision: i.left_mod_revision, right_mod_revision: i.right_mod_revision })
        .collect();
    let report = t.backend.config_copy(&s, "/env/dev/", "/env/prod/", &items, "promote").await.unwrap();
    assert_eq!(report.copied, 2);
    let d = t.backend.config_compare(&s, "/env/dev/", "/env/prod/").await.unwrap();
    assert!(d.only_left.is_empty() && d.different.is_empty());
    assert_eq!(d.same, 3);
}

#[tokio::test]
async fn export_then_import_with_a_dry_run() {
    let etcd = Service::start("etcd", &[]);
    let t = TestBackend::new().await;
    let s = session(&t, &etcd).await;
    let mut o = other(&etcd).await;
    seed(&mut o, (0..300).map(|i| (format!("/exp/k{i:03}"), format!("value {i}")))).await;
    for fmt in [DocFormat::Json, DocFormat::Yaml] {
        let doc = t.backend.config_export(&s, "/exp/", fmt).await.unwrap();
        let plan = t.backend.config_import_preview(&s, "/imp/", &doc).await.unwrap();
        assert_eq!((plan.creates.len(), plan.updates.len(), plan.unchanged), (300, 0, 0));
    }
    let doc = t.backend.config_export(&s, "/exp/", DocFormat::Json).await.unwrap();
    let report = t.backend.config_import(&s, "/imp/", &doc, "clone").await.unwrap();
    assert_eq!(report.applied, 300);
    assert_eq!(report.batches, 3, "300 writes in transactions of at most 128");
    let d = t.backend.config_compare(&s, "/exp/", "/imp/").await.unwrap();
    assert_eq!(d.same, 300);
    // Re-import: nothing to do.
    let plan = t.backend.config_import_preview(&s, "/imp/", &doc).await.unwrap();
    assert_eq!((plan.creates.len(), plan.updates.len(), plan.unchanged), (0, 0, 300));
    let bad = t.backend.config_import_preview(&s, "/imp/", "not: [a document").await.unwrap_err();
    assert_eq!(bad.code(), ErrorCode::InvalidInput);
}

#[tokio::test]
async fn watch_sees_changes_by_others_promptly() {
    let etcd = Service::start("etcd", &[]);
    let t = TestBackend::new().await;
    let s = session(&t, &etcd).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let handle = t
        .backend
        .config_watch(&s, "/w/", move |ev| {
            let _ = tx.send(ev);
        })
        .await
        .unwrap();
    let mut o = other(&etcd).await;
    o.put("/w/a", "1", None).await.unwrap();
    o.put("/elsewhere", "x", None).await.unwrap();
    o.delete("/w/a", None).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await.expect("within 1 s").unwrap();
    assert!(matches!(&first, WatchEvent::Put { key, value: Some(v), .. } if key == "/w/a" && v == "1"), "{first:?}");
    let second = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await.expect("within 1 s").unwrap();
    assert!(matches!(&second, WatchEvent::Delete { key, .. } if key == "/w/a"), "{second:?}");
    drop(handle);
    o.put("/w/b", "2", None).await.unwrap();
    // After the handle is gone the task has stopped: the sender is dropped.
    assert!(tokio::time::timeout(Duration::from_secs(2), rx.recv()).await.expect("channel closes").is_none());
}

#[tokio::test]
async fn rbac_denial_and_size_limit_are_clear_and_write_nothing() {
    let etcd = Service::start("etcd-tls", &[]);
    let t = TestBackend::new().await;
    let c = t
        .add(
            "alice",
            ConnectionSpec::Etcd {
                endpoints: vec![etcd.get("ETCD_ENDPOINT").into()],
                tls: Some(TlsFiles { ca_file: Some(etcd.get("ETCD_TLS_CA").into()), cert_file: None, key_file: None }),
                username: Some("alice".into()),
                allow_plaintext: false,
            },
            Some(etcd.get("ETCD_PASSWORD")),
        )
        .await;
    let s = t.backend.etcd_session(&c.id).await.unwrap();
    written(t.backend.config_put(&s, "/app/ok", "1", 0, ValueFormat::Plain, false, "").await.unwrap());
    let denied = t.backend.config_put(&s, "/other/key", "1", 0, ValueFormat::Plain, false, "").await.unwrap_err();
    assert_eq!(denied.code(), ErrorCode::Forbidden, "{denied}");
    assert!(denied.to_string().contains("alice"), "{denied}");
    let big = "x".repeat(2 * 1024 * 1024);
    let too_large = t.backend.config_put(&s, "/app/big", &big, 0, ValueFormat::Plain, false, "").await.unwrap_err();
    assert_eq!(too_large.code(), ErrorCode::InvalidInput, "{too_large}");
    assert!(too_large.to_string().contains("too large"), "{too_large}");
    assert_eq!(t.backend.config_get(&s, "/app/big").await.unwrap_err().code(), ErrorCode::NotFound);
    // Denials are in the audit log too.
    let audit = t.backend.audit_log(&AuditFilter { target: Some("/other/key".into()), limit: 5, ..Default::default() }).await.unwrap();
    assert_eq!(audit.entries[0].result, "error");
    t.cleanup().await;
}

#[tokio::test]
async fn keys_with_a_lease_show_it_and_keep_it_on_update() {
    let etcd = Service::start("etcd", &[]);
    let t = TestBackend::new().await;
    let s = session(&t, &etcd).await;
    let mut o = other(&etcd).await;
    let lease = o.lease_grant(600, None).await.unwrap().id();
    o.put("/l/session", "alive", Some(etcd_client::PutOptions::new().with_lease(lease))).await.unwrap();
    let kv = t.backend.config_get(&s, "/l/session").await.unwrap();
    assert_eq!(kv.meta.lease, lease);
    let ttl = kv.lease_ttl.expect("TTL shown");
    assert!((1..=600).contains(&ttl), "{ttl}");
    let tree = t.backend.config_tree(&s, "/l/", None, 10).await.unwrap();
    assert_eq!(tree.entries[0].meta.as_ref().unwrap().lease, lease);
    // An edit keeps the key on its lease (etcd would otherwise detach it).
    written(t.backend.config_put(&s, "/l/session", "still alive", kv.meta.mod_revision, ValueFormat::Plain, false, "").await.unwrap());
    assert_eq!(t.backend.config_get(&s, "/l/session").await.unwrap().meta.lease, lease);
}

//! Renaming a prefix on a real etcd (issue 17, item 7): hundreds of keys,
//! binary values byte for byte, in transactions within etcd's 128 operations;
//! a raw write to a source key between plan and apply stops the move cleanly
//! (what moved, what did not, which key changed); an existing target refuses
//! it unless overwriting is asked for; the CLI; and per-connection bookmarks.

use std::collections::BTreeMap;

use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::config::promote::PromoteSideName;
use opsdeck_core::config::relocate::MOVE_BATCH_KEYS;
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::etcdkv::{dump, raw, seed};
use opsdeck_tests::{noise, workspace, Service};

/// `n` keys under `prefix`: text, and every third one binary (NUL, 0xff, random bytes).
fn keys(prefix: &str, n: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let v = match i % 3 {
                0 => format!("value {i}\nline two").into_bytes(),
                1 => noise(i as u64, 1 + i % 700),
                _ => vec![0, 0xff, i as u8, 0xfe, 0],
            };
            (format!("{prefix}d{}/k{i:04}", i % 7), v)
        })
        .collect()
}

async fn move_audit(t: &TestBackend) -> Vec<(String, String)> {
    let page = t
        .backend
        .audit_log(&AuditFilter { platform: Some("etcd".into()), text: Some("config.move".into()), limit: 100, ..Default::default() })
        .await
        .unwrap();
    page.entries.iter().filter(|e| e.action == "config.move").map(|e| (e.result.clone(), e.detail.clone())).collect()
}

#[tokio::test]
async fn hundreds_of_keys_move_byte_identical_in_guarded_batches() {
    let etcd = Service::start("etcd", &[]);
    let mut o = raw(&etcd).await;
    let src = keys("/mv/src/", 300);
    seed(&mut o, &src).await;
    seed(&mut o, &[("/mv/srcother".to_string(), b"not under /mv/src/".to_vec())]).await;
    let before = dump(&mut o, "/mv/src/").await;
    let t = TestBackend::new().await;
    let s = t.etcd_session("m", etcd.get("ETCD_ENDPOINT")).await;
    let plan = t.backend.config_move_plan(&s, "/mv/src/", "/mv/dst/").await.unwrap();
    assert_eq!(plan.items.len(), 300);
    assert!(plan.items.iter().all(|i| i.target_mod_revision == 0 && i.source_mod_revision > 0));
    let seen = std::sync::Mutex::new(Vec::new());
    let outcome =
        t.backend.config_move_apply(&s, &plan, false, "rename", |b, p| seen.lock().unwrap().push((b.keys.len(), p.batch))).await.unwrap();
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let r = outcome.report;
    assert!(r.complete && r.moved == 300 && r.not_moved.is_empty(), "{r:?}");
    assert_eq!(r.batches.len(), 300usize.div_ceil(MOVE_BATCH_KEYS));
    assert!(r.batches.iter().all(|b| b.keys.len() <= MOVE_BATCH_KEYS && b.removes == b.keys.len()), "{r:?}");
    assert_eq!(seen.lock().unwrap().len(), r.batches.len());
    assert_eq!(dump(&mut o, "/mv/dst/").await, before, "every value byte for byte under the new prefix");
    assert!(dump(&mut o, "/mv/src/").await.is_empty());
    assert_eq!(dump(&mut o, "/mv/srcother").await.len(), 1, "a sibling key is not under the prefix");
    let audit = move_audit(&t).await;
    assert_eq!(audit.len(), r.batches.len(), "{audit:?}");
    assert!(audit.iter().all(|(res, d)| res == "ok" && d.contains("comment: rename")), "{audit:?}");
}

#[tokio::test]
async fn a_raw_write_between_plan_and_apply_stops_the_move_cleanly() {
    let etcd = Service::start("etcd", &[]);
    let mut o = raw(&etcd).await;
    let src = keys("/rc/a/", 200);
    seed(&mut o, &src).await;
    let t = TestBackend::new().await;
    let s = t.etcd_session("m", etcd.get("ETCD_ENDPOINT")).await;
    let plan = t.backend.config_move_plan(&s, "/rc/a/", "/rc/b/").await.unwrap();
    // Someone changes a key of the third batch after the plan.
    let victim = &plan.items[2 * MOVE_BATCH_KEYS + 5];
    let victim_key = format!("/rc/a/{}", victim.rel);
    o.put(victim_key.as_str(), "changed by someone else", None).await.unwrap();
    let outcome = t.backend.config_move_apply(&s, &plan, false, "", |_, _| {}).await.unwrap();
    let e = outcome.error.expect("the move stops");
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
    assert!(e.to_string().contains(&victim_key), "{e}");
    let r = outcome.report;
    assert_eq!(r.moved, 2 * MOVE_BATCH_KEYS, "{r:?}");
    assert_eq!(r.batches.len(), 2);
    assert!(!r.complete);
    assert_eq!(r.not_moved.len(), 200 - 2 * MOVE_BATCH_KEYS);
    assert_eq!(r.changed_since_plan.len(), 1, "{r:?}");
    assert_eq!((r.changed_since_plan[0].side, r.changed_since_plan[0].key.as_str()), (PromoteSideName::Source, victim_key.as_str()));
    // What moved is only under the new prefix; what did not is only under the old one.
    let (a, b) = (dump(&mut o, "/rc/a/").await, dump(&mut o, "/rc/b/").await);
    assert_eq!(a.len() + b.len(), 200);
    let moved: Vec<&String> = r.batches.iter().flat_map(|b| &b.keys).collect();
    assert_eq!(b.keys().collect::<Vec<_>>(), moved);
    assert_eq!(a.keys().cloned().collect::<Vec<_>>(), r.not_moved);
    assert_eq!(a[&victim.rel], b"changed by someone else", "the other writer's value is kept");
    let want: BTreeMap<String, Vec<u8>> = src.iter().map(|(k, v)| (k["/rc/a/".len()..].to_string(), v.clone())).collect();
    for (rel, v) in &b {
        assert_eq!(&want[rel], v, "{rel}");
    }
    let audit = move_audit(&t).await;
    assert_eq!(audit.iter().filter(|(res, _)| res == "ok").count(), 2, "{audit:?}");
    assert!(audit.iter().any(|(res, d)| res != "ok" && d.contains(&victim_key)), "{audit:?}");

    // Planning again moves the rest, including the changed value.
    let plan = t.backend.config_move_plan(&s, "/rc/a/", "/rc/b/").await.unwrap();
    let outcome = t.backend.config_move_apply(&s, &plan, false, "", |_, _| {}).await.unwrap();
    assert!(outcome.report.complete, "{:?}", outcome.report);
    assert_eq!(dump(&mut o, "/rc/b/").await.len(), 200);
}

#[tokio::test]
async fn an_existing_target_is_refused_unless_overwriting_is_asked() {
    let etcd = Service::start("etcd", &[]);
    let mut o = raw(&etcd).await;
    let t = TestBackend::new().await;
    let s = t.etcd_session("m", etcd.get("ETCD_ENDPOINT")).await;
    seed(&mut o, &[("/ex/a/one".into(), b"1".to_vec()), ("/ex/a/two".into(), vec![0xff, 0]), ("/ex/b/two".into(), b"old".to_vec())]).await;
    let plan = t.backend.config_move_plan(&s, "/ex/a/", "/ex/b/").await.unwrap();
    let e = t.backend.config_move_apply(&s, &plan, false, "", |_, _| {}).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
    assert!(e.to_string().contains("/ex/b/two") && e.to_string().contains("exist"), "{e}");
    assert_eq!(dump(&mut o, "/ex/a/").await.len(), 2, "nothing moved");
    assert_eq!(dump(&mut o, "/ex/b/").await["two"], b"old");

    // Overwriting, guarded by the target's revision at plan time.
    let outcome = t.backend.config_move_apply(&s, &plan, true, "", |_, _| {}).await.unwrap();
    assert!(outcome.report.complete, "{:?}", outcome.report);
    assert_eq!(outcome.report.batches[0].changes, 1);
    let b = dump(&mut o, "/ex/b/").await;
    assert_eq!((b["one"].as_slice(), b["two"].as_slice()), (&b"1"[..], &[0xff, 0][..]));
    assert!(dump(&mut o, "/ex/a/").await.is_empty());

    // A target changed after the plan stops an overwriting move too.
    seed(&mut o, &[("/ex/c/k".into(), b"c".to_vec()), ("/ex/d/k".into(), b"d".to_vec())]).await;
    let plan = t.backend.config_move_plan(&s, "/ex/c/", "/ex/d/").await.unwrap();
    o.put("/ex/d/k", "d2", None).await.unwrap();
    let outcome = t.backend.config_move_apply(&s, &plan, true, "", |_, _| {}).await.unwrap();
    assert_eq!(outcome.report.changed_since_plan[0].side, PromoteSideName::Target);
    assert_eq!(outcome.report.moved, 0);
    assert_eq!(dump(&mut o, "/ex/d/").await["k"], b"d2");
    assert_eq!(dump(&mut o, "/ex/c/").await["k"], b"c");

    // Overlapping prefixes and an empty source are refused before anything is read or written.
    for (from, to) in [("/ex/", "/ex/sub/"), ("/ex/b/x/", "/ex/b/"), ("/", "/y/")] {
        let e = t.backend.config_move_plan(&s, from, to).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{from} -> {to}: {e}");
    }
    let e = t.backend.config_move_plan(&s, "/nothing/", "/else/").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
}

#[tokio::test]
async fn cli_move_dry_run_refusal_and_move() {
    let etcd = Service::start("etcd", &[]);
    let mut o = raw(&etcd).await;
    let t = TestBackend::new().await;
    let _ = t.etcd_session("m", etcd.get("ETCD_ENDPOINT")).await;
    let src = keys("/cli/a/", 130);
    seed(&mut o, &src).await;
    seed(&mut o, &[("/cli/b/d0/k0000".into(), b"taken".to_vec())]).await;
    let data = t.dir.path();
    let keychain = t.backend.keychain().service().to_string();
    let cli = |args: &[&str]| {
        let o = workspace::cli(data, &keychain).arg("config").arg("move").args(args).output().unwrap();
        (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let (code, out, err) = cli(&["m", "/cli/a/", "/cli/b/", "--dry-run"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("~ /cli/a/d0/k0000 -> /cli/b/d0/k0000") && out.contains("130 keys would move"), "{out}");
    assert_eq!(dump(&mut o, "/cli/a/").await.len(), 130, "a dry run writes nothing");
    let (code, out, err) = cli(&["m", "/cli/a/", "/cli/b/"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("exist already"), "{err}");
    o.delete("/cli/b/d0/k0000", None).await.unwrap();
    let (code, out, err) = cli(&["m", "/cli/a/", "/cli/b/", "--comment", "cli rename"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("moved 130 of 130 keys") && out.contains("3 transaction(s)"), "{out}");
    let want: BTreeMap<String, Vec<u8>> = src.iter().map(|(k, v)| (k["/cli/a/".len()..].to_string(), v.clone())).collect();
    assert_eq!(dump(&mut o, "/cli/b/").await, want);
    // --connection with two positionals works the same.
    let (code, out, err) = workspace::cli(data, &keychain)
        .args(["config", "--connection", "m", "move", "/cli/b/", "/cli/c/", "--dry-run"])
        .output()
        .map(|o| {
            (
                o.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .unwrap();
    assert_eq!(code, 0, "{out}{err}");
}

#[tokio::test]
async fn bookmarks_are_kept_per_connection() {
    let t = TestBackend::new().await;
    let spec = |e: &str| opsdeck_core::connections::ConnectionSpec::Etcd {
        endpoints: vec![e.into()],
        tls: None,
        username: None,
        allow_plaintext: false,
    };
    let a = t.add("a", spec("http://127.0.0.1:1"), None).await.id;
    let b = t.add("b", spec("http://127.0.0.1:2"), None).await.id;
    t.backend.config_bookmark_add(&a, "/app/prod/").await.unwrap();
    t.backend.config_bookmark_add(&a, "/app/prod/db").await.unwrap();
    let list = t.backend.config_bookmark_add(&a, "/app/prod/").await.unwrap();
    assert_eq!(list.iter().map(|b| (b.key.as_str(), b.is_prefix)).collect::<Vec<_>>(), [("/app/prod/", true), ("/app/prod/db", false)]);
    assert!(t.backend.config_bookmarks(&b).await.unwrap().is_empty(), "another connection has its own");
    let list = t.backend.config_bookmark_remove(&a, "/app/prod/").await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(t.backend.config_bookmarks(&a).await.unwrap(), list);
    assert!(t.backend.config_bookmark_add("no-such-connection", "/x").await.is_err());
    assert!(t.backend.config_bookmark_add(&a, "").await.is_err());
}

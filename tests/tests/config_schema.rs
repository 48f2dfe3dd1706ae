//! JSON Schemas per key prefix (issue 17, item 6) against real etcd: a put
//! refused with the failing instance path and the schema's message, an import
//! and a promotion refused with nothing written, the longest prefix's schema
//! picked from the team store, a schema written around Opsdeck (etcdctl) that
//! is not valid reported as such, and the CLI (`config schema`, `--schema`).

use std::process::Command;

use opsdeck_core::backend::EtcdSession;
use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::config::format::ValueFormat;
use opsdeck_core::config::promote::PromoteSelection;
use opsdeck_core::config::schema::schema_key;
use opsdeck_core::config::WriteResult;
use opsdeck_core::config::MAX_TXN_OPS;
use opsdeck_core::team::DEFAULT_ROOT;
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::etcdkv::{dump, raw, seed};
use opsdeck_tests::{workspace, Service};

const POOL: &str = r#"{"type":"object","required":["pool"],"properties":{"pool":{"type":"integer","minimum":1}}}"#;
const OWNED: &str = r#"{"type":"object","required":["owner"]}"#;

fn kv(k: &str, v: &[u8]) -> (String, Vec<u8>) {
    (k.to_string(), v.to_vec())
}

/// A real etcd, a backend and the session of its saved connection "one".
async fn one() -> (Service, TestBackend, EtcdSession) {
    let etcd = Service::start("etcd", &[]);
    let t = TestBackend::new().await;
    let s = t.etcd_session("one", etcd.get("ETCD_ENDPOINT")).await;
    (etcd, t, s)
}

#[tokio::test]
async fn put_is_refused_with_the_instance_path_and_message() {
    let (etcd, t, s) = one().await;
    let b = &t.backend;
    b.config_schema_set(&s, "/app/", POOL.as_bytes()).await.unwrap();

    let e = b.config_put(&s, "/app/db", r#"{"pool": 0}"#, 0, ValueFormat::Json, false, "").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput);
    let m = e.to_string();
    assert!(m.contains("/app/db") && m.contains("at /pool:") && m.contains("minimum of 1"), "{m}");
    assert!(m.contains("prefix /app/"), "{m}");
    // Not JSON, binary: refused with why. Plain text saved "as plain text" too.
    let e = b.config_put(&s, "/app/db", "pool = 3", 0, ValueFormat::Plain, true, "").await.unwrap_err().to_string();
    assert!(e.contains("not JSON") && e.contains("requires JSON"), "{e}");
    let e = b.config_put_bytes(&s, "/app/blob", &[0xff, 0x00, 0x9f], 0, "").await.unwrap_err().to_string();
    assert!(e.contains("binary value"), "{e}");
    assert!(dump(&mut raw(&etcd).await, "/app/").await.is_empty(), "nothing written");

    // A valid value lands; outside the prefix anything goes.
    let r = b.config_put(&s, "/app/db", r#"{"pool": 3}"#, 0, ValueFormat::Json, false, "").await.unwrap();
    assert!(matches!(r, WriteResult::Written { .. }), "{r:?}");
    b.config_put(&s, "/other", "free text", 0, ValueFormat::Plain, false, "").await.unwrap();

    // A rollback to a value the schema now refuses is refused too.
    b.config_schema_set(&s, "/app/", OWNED.as_bytes()).await.unwrap();
    let rev = b.config_get(&s, "/app/db").await.unwrap().meta.mod_revision;
    let e = b.config_put(&s, "/app/db", r#"{"pool": 4}"#, rev, ValueFormat::Json, false, "").await.unwrap_err().to_string();
    assert!(e.contains("at /:") && e.contains("\"owner\" is a required property"), "{e}");

    // Schema changes are audited.
    let page = b.audit_log(&AuditFilter { platform: Some("etcd".into()), limit: 100, ..Default::default() }).await.unwrap();
    let sets = page.entries.iter().filter(|e| e.action == "config.schema.set" && e.target == "/app/").count();
    assert_eq!(sets, 2, "{:?}", page.entries);
    b.config_schema_remove(&s, "/app/").await.unwrap();
    let page = b.audit_log(&AuditFilter { platform: Some("etcd".into()), limit: 100, ..Default::default() }).await.unwrap();
    assert!(page.entries.iter().any(|e| e.action == "config.schema.remove"), "{:?}", page.entries);
    b.config_put(&s, "/app/db", "no schema now", rev, ValueFormat::Plain, false, "").await.unwrap();
    let e = b.config_schema_remove(&s, "/app/").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    // An invalid schema is not stored.
    let e = b.config_schema_set(&s, "/app/", br#"{"type": "nope"}"#).await.unwrap_err().to_string();
    assert!(e.contains("not a valid JSON Schema") && e.contains("nothing written"), "{e}");
    assert!(dump(&mut raw(&etcd).await, &format!("{DEFAULT_ROOT}config/schemas/")).await.is_empty());
}

#[tokio::test]
async fn import_refused_writes_nothing() {
    let (etcd, t, s) = one().await;
    let b = &t.backend;
    b.config_schema_set(&s, "/app/", POOL.as_bytes()).await.unwrap();
    seed(&mut raw(&etcd).await, &[kv("/app/keep", br#"{"pool": 9}"#)]).await;
    let doc = r#"{"prefix": "/app/", "keys": {"a": "{\"pool\": 1}", "b": "{\"pool\": \"x\"}", "c": "not json", "keep": "{\"pool\": 10}"}}"#;
    let e = b.config_import(&s, "/app/", doc, "").await.unwrap_err().to_string();
    assert!(e.contains("2 values fail"), "{e}");
    assert!(e.contains("/app/b") && e.contains("at /pool:") && e.contains("/app/c") && e.contains("not JSON"), "{e}");
    let after = dump(&mut raw(&etcd).await, "/app/").await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after["keep"], br#"{"pool": 9}"#.to_vec());

    // A command-line schema applies on top: this one wants "owner" everywhere.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("owned.json");
    std::fs::write(&file, OWNED).unwrap();
    let strict = s.clone().with_schema_file(file.to_str().unwrap()).unwrap();
    let good = r#"{"prefix": "/app/", "keys": {"a": "{\"pool\": 1}"}}"#;
    let e = b.config_import(&strict, "/app/", good, "").await.unwrap_err().to_string();
    assert!(e.contains("owned.json") && e.contains("owner"), "{e}");
    assert_eq!(dump(&mut raw(&etcd).await, "/app/").await.len(), 1);
    b.config_import(&s, "/app/", good, "").await.unwrap();
    assert_eq!(dump(&mut raw(&etcd).await, "/app/").await.len(), 2);
}

#[tokio::test]
async fn promote_refused_writes_nothing() {
    let (dev_etcd, prod_etcd) = (Service::start("etcd", &[]), Service::start("etcd", &[]));
    let t = TestBackend::new().await;
    let dev = t.etcd_session("dev", dev_etcd.get("ETCD_ENDPOINT")).await;
    let prod = t.etcd_session("prod", prod_etcd.get("ETCD_ENDPOINT")).await;
    let b = &t.backend;
    // The target's schema governs (dev has none).
    b.config_schema_set(&prod, "/app/", POOL.as_bytes()).await.unwrap();
    seed(&mut raw(&dev_etcd).await, &[kv("/app/a", br#"{"pool": 2}"#), kv("/app/b", br#"{"pool": -1}"#)]).await;
    seed(&mut raw(&prod_etcd).await, &[kv("/app/old", br#"{"pool": 5}"#)]).await;
    let plan = b.config_promote_plan(&dev, "/app/", &prod, "/app/").await.unwrap();
    let sel = PromoteSelection { keys: vec![], with_removes: true };
    let e = b.config_promote_apply(&dev, &prod, &plan, &sel, None, MAX_TXN_OPS, "", |_, _| {}).await.unwrap_err().to_string();
    assert!(e.contains("/app/b") && e.contains("at /pool:") && e.contains("minimum of 1"), "{e}");
    assert!(!e.contains("/app/a:"), "{e}");
    let after = dump(&mut raw(&prod_etcd).await, "/app/").await;
    assert_eq!(after.keys().collect::<Vec<_>>(), vec!["old"], "nothing written, not even the remove");
    // Only the good key selected: it lands.
    let one = PromoteSelection { keys: vec!["a".into()], with_removes: false };
    let o = b.config_promote_apply(&dev, &prod, &plan, &one, None, MAX_TXN_OPS, "", |_, _| {}).await.unwrap();
    assert!(o.error.is_none() && o.report.complete, "{:?}", o.report);
    assert!(dump(&mut raw(&prod_etcd).await, "/app/").await.contains_key("a"));
}

#[tokio::test]
async fn longest_prefix_schema_applies_and_a_move_is_checked() {
    let (etcd, t, s) = one().await;
    let b = &t.backend;
    b.config_schema_set(&s, "/app/", br#"{"type":"object"}"#).await.unwrap();
    b.config_schema_set(&s, "/app/prod/", OWNED.as_bytes()).await.unwrap();
    assert_eq!(b.config_schema_for(&s, "/app/prod/db").await.unwrap().unwrap().prefix, "/app/prod/");
    assert_eq!(b.config_schema_for(&s, "/app/dev/db").await.unwrap().unwrap().prefix, "/app/");
    assert!(b.config_schema_for(&s, "/elsewhere").await.unwrap().is_none());

    b.config_put(&s, "/app/dev/db", "{}", 0, ValueFormat::Json, false, "").await.unwrap();
    let e = b.config_put(&s, "/app/prod/db", "{}", 0, ValueFormat::Json, false, "").await.unwrap_err().to_string();
    assert!(e.contains("prefix /app/prod/") && e.contains("owner"), "{e}");
    b.config_put(&s, "/app/prod/db", r#"{"owner":"ops"}"#, 0, ValueFormat::Json, false, "").await.unwrap();

    // Moving /app/dev/ under /app/prod/ takes the stricter schema: refused, nothing moved.
    let plan = b.config_move_plan(&s, "/app/dev/", "/app/prod/dev/").await.unwrap();
    let e = b.config_move_apply(&s, &plan, false, "", |_, _| {}).await.unwrap_err().to_string();
    assert!(e.contains("/app/prod/dev/db") && e.contains("owner"), "{e}");
    let all = dump(&mut raw(&etcd).await, "/app/").await;
    assert!(all.contains_key("dev/db") && !all.contains_key("prod/dev/db"), "{all:?}");

    let list = b.config_schema_list(&s).await.unwrap();
    let prefixes: Vec<&str> = list.iter().map(|i| i.prefix.as_str()).collect();
    assert_eq!(prefixes, vec!["/app/", "/app/prod/"]);
    assert!(list.iter().all(|i| i.invalid.is_none() && i.source.starts_with("team store /opsdeck/config/schemas/")), "{list:?}");
}

/// etcdctl against `etcd`, ETCDCTL_* from the environment removed.
fn etcdctl(etcd: &Service, args: &[&str]) {
    let mut cmd = Command::new("etcdctl");
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("ETCDCTL_")) {
        cmd.env_remove(k);
    }
    let out = cmd.env("ETCDCTL_API", "3").arg("--endpoints").arg(etcd.get("ETCD_ENDPOINT")).args(args).output().expect("run etcdctl");
    assert!(out.status.success(), "etcdctl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn hostile_schema_written_with_etcdctl_is_reported_invalid() {
    let (etcd, t, s) = one().await;
    let b = &t.backend;
    let cases: [(&str, &str); 4] = [
        ("/bad/json/", "{ not json"),
        ("/bad/keyword/", r#"{"type": 42, "minimum": "x"}"#),
        ("/bad/remote/", r#"{"$ref": "http://127.0.0.1:9/never-fetched.json"}"#),
        ("/bad/array/", "[]"),
    ];
    for (prefix, doc) in cases {
        etcdctl(&etcd, &["put", &schema_key(DEFAULT_ROOT, prefix), doc]);
    }
    // A key that names no prefix is skipped, not fatal.
    etcdctl(&etcd, &["put", &format!("{DEFAULT_ROOT}config/schemas/zz-not-hex"), "{}"]);

    let list = b.config_schema_list(&s).await.unwrap();
    assert_eq!(list.len(), 4, "{list:?}");
    assert!(list.iter().all(|i| i.invalid.is_some()), "{list:?}");
    for (prefix, _) in cases {
        let key = format!("{prefix}k");
        let e = b.config_put(&s, &key, "{}", 0, ValueFormat::Json, false, "").await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
        let m = e.to_string();
        assert!(m.contains(&format!("JSON Schema of prefix {prefix}")) && m.contains("is invalid"), "{m}");
    }
    assert!(dump(&mut raw(&etcd).await, "/bad/").await.is_empty());
    // The remote $ref names why (retrieval is off), and nothing was fetched.
    let remote = b.config_schema_show(&s, "/bad/remote/").await.unwrap();
    assert!(remote.invalid.as_deref().unwrap_or_default().contains("127.0.0.1:9"), "{remote:?}");
    // Elsewhere writes go on.
    b.config_put(&s, "/good/k", "{}", 0, ValueFormat::Json, false, "").await.unwrap();
}

#[tokio::test]
async fn cli_schema_set_show_remove_and_put_with_schema_file() {
    let (_etcd, t, _) = one().await;
    let data = t.dir.path();
    let keychain = t.backend.keychain().service().to_string();
    let cli = |args: &[&str]| {
        let o = workspace::cli(data, &keychain).arg("config").args(args).output().unwrap();
        (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let pool = data.join("pool.json");
    std::fs::write(&pool, POOL).unwrap();
    let owned = data.join("owned.json");
    std::fs::write(&owned, OWNED).unwrap();
    let (pool, owned) = (pool.to_str().unwrap(), owned.to_str().unwrap());

    let (code, out, err) = cli(&["schema", "set", "one", "/app/", pool]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = cli(&["schema", "show", "one", "/app/"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("prefix: /app/") && out.contains("\"minimum\":1"), "{out}");
    let (code, out, _) = cli(&["--connection", "one", "schema", "list"]);
    assert_eq!(code, 0);
    assert!(out.contains("/app/") && out.contains("valid"), "{out}");

    let (code, _, err) = cli(&["--connection", "one", "put", "/app/db", r#"{"pool":"lots"}"#]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("at /pool:") && err.contains("\"integer\""), "{err}");
    let (code, _, err) = cli(&["--connection", "one", "put", "/app/db", r#"{"pool":2}"#, "--schema", owned]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("owned.json") && err.contains("owner"), "{err}");
    let (code, _, err) = cli(&["--connection", "one", "put", "/app/db", r#"{"pool":2,"owner":"ops"}"#, "--schema", owned]);
    assert_eq!(code, 0, "{err}");

    let bad = data.join("bad.json");
    std::fs::write(&bad, "{\"type\": 1}").unwrap();
    let (code, _, err) = cli(&["schema", "set", "one", "/app/", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a valid JSON Schema"), "{err}");
    let (code, _, err) = cli(&["schema", "remove", "one", "/app/"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = cli(&["schema", "show", "one", "/app/"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no JSON Schema"), "{err}");
    let (code, _, err) = cli(&["--connection", "one", "schema", "show", "one", "/app/"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("give the connection once"), "{err}");
}

#[tokio::test]
async fn with_auth_only_a_root_sets_schemas_and_proposals_are_checked() {
    use opsdeck_tests::vms::{etcd_connection, etcd_with_vm_roles};
    let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    let t = TestBackend::new().await;
    let b = &t.backend;
    let c = etcd_connection(&t, &etcd, "root").await;
    let root = b.etcd_session(&c.id).await.unwrap();
    let c = etcd_connection(&t, &etcd, "alice").await;
    let alice = b.etcd_session(&c.id).await.unwrap();

    // A member may not set one: etcd refuses, and the error says what is needed.
    let e = b.config_schema_set(&alice, "/app/prod/", POOL.as_bytes()).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    assert!(e.to_string().contains("config/schemas/"), "{e}");
    b.config_schema_set(&root, "/app/prod/", POOL.as_bytes()).await.unwrap();
    b.config_protect(&root, DEFAULT_ROOT, "/app/prod/").await.unwrap();

    // Members read the schemas (opsdeck-reader): a proposal that fails is refused at once.
    assert_eq!(b.config_schema_for(&alice, "/app/prod/db").await.unwrap().unwrap().prefix, "/app/prod/");
    let e = b.change_propose(&alice, DEFAULT_ROOT, &[("/app/prod/db".into(), Some(r#"{"pool": 0}"#.into()))], "x").await.unwrap_err();
    assert!(e.to_string().contains("at /pool:"), "{e}");
    assert!(b.change_list(&alice, DEFAULT_ROOT).await.unwrap().0.is_empty());
    b.change_propose(&alice, DEFAULT_ROOT, &[("/app/prod/db".into(), Some(r#"{"pool": 2}"#.into()))], "ok").await.unwrap();
}

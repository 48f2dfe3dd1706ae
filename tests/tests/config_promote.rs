//! Promotion between two real etcd clusters (issue 17, item 1): a plan of
//! adds, changes and removes with values and both sides' revisions, applied
//! exactly — guarded on both sides, deletes only when chosen, split into
//! transactions within etcd's 128 operations, resumable from the report,
//! binary values byte for byte — from the library and from the CLI.

use std::collections::BTreeMap;

use etcd_client::Client;
use opsdeck_core::backend::EtcdSession;
use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::config::promote::{PromoteAction, PromoteOutcome, PromotePlan, PromoteReport, PromoteSelection, PromoteSideName};
use opsdeck_core::config::MAX_TXN_OPS;
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::etcdkv::{dump, raw, seed};
use opsdeck_tests::{noise, workspace, Service};

fn kv(k: &str, v: &[u8]) -> (String, Vec<u8>) {
    (k.to_string(), v.to_vec())
}

async fn mod_revision(c: &mut Client, key: &str) -> i64 {
    c.get(key, None).await.unwrap().kvs().first().map(|kv| kv.mod_revision()).unwrap_or(0)
}

/// A backend with two saved connections, "dev" and "prod", on two etcd clusters.
struct Two {
    t: TestBackend,
    dev: EtcdSession,
    prod: EtcdSession,
}

async fn two(dev: &Service, prod: &Service) -> Two {
    let t = TestBackend::new().await;
    let d = t.etcd_session("dev", dev.get("ETCD_ENDPOINT")).await;
    let p = t.etcd_session("prod", prod.get("ETCD_ENDPOINT")).await;
    Two { t, dev: d, prod: p }
}

impl Two {
    async fn plan(&self, from: &str, to: &str) -> PromotePlan {
        self.t.backend.config_promote_plan(&self.dev, from, &self.prod, to).await.unwrap()
    }

    async fn apply(&self, plan: &PromotePlan, selection: PromoteSelection, previous: Option<&PromoteReport>) -> PromoteOutcome {
        self.t
            .backend
            .config_promote_apply(&self.dev, &self.prod, plan, &selection, previous, MAX_TXN_OPS, "promote test", |_, _| {})
            .await
            .unwrap()
    }

    async fn promote_audit(&self) -> Vec<(String, String)> {
        let page = self
            .t
            .backend
            .audit_log(&AuditFilter { platform: Some("etcd".into()), text: Some("promotion".into()), limit: 100, ..Default::default() })
            .await
            .unwrap();
        let mut v: Vec<(String, String)> =
            page.entries.iter().filter(|e| e.action == "config.promote").map(|e| (e.result.clone(), e.detail.clone())).collect();
        v.reverse();
        v
    }
}

/// `opsdeck config promote ARGS` on the backend's data and keychain: exit code, stdout, stderr.
fn promote_cli(t: &TestBackend, args: &[&str]) -> (i32, String, String) {
    let o = workspace::cli(t.dir.path(), t.backend.keychain().service()).arg("config").arg("promote").args(args).output().unwrap();
    (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn all() -> PromoteSelection {
    PromoteSelection::default()
}

#[tokio::test]
async fn plan_and_apply_land_exactly_and_deletes_only_when_chosen() {
    let (dev_etcd, prod_etcd) = (Service::start("etcd", &[]), Service::start("etcd", &[]));
    let two = two(&dev_etcd, &prod_etcd).await;
    let (mut dev, mut prod) = (raw(&dev_etcd).await, raw(&prod_etcd).await);
    seed(&mut dev, &[kv("/app/dev/a", b"1"), kv("/app/dev/b", b"new"), kv("/app/dev/same", b"="), kv("/app/dev/x/deep", b"d")]).await;
    seed(&mut prod, &[kv("/app/b", b"old"), kv("/app/same", b"="), kv("/app/gone", b"prod only"), kv("/other", b"untouched")]).await;

    let plan = two.plan("/app/dev/", "/app/").await;
    assert_ne!(plan.from.cluster_id, plan.to.cluster_id, "two clusters");
    let summary: Vec<(&str, PromoteAction)> = plan.items.iter().map(|i| (i.rel.as_str(), i.action)).collect();
    assert_eq!(
        summary,
        [("a", PromoteAction::Add), ("b", PromoteAction::Change), ("gone", PromoteAction::Remove), ("x/deep", PromoteAction::Add)]
    );
    assert_eq!(plan.unchanged, 1);
    let b = &plan.items[1];
    assert_eq!(b.source_mod_revision, mod_revision(&mut dev, "/app/dev/b").await);
    assert_eq!(b.target_mod_revision, mod_revision(&mut prod, "/app/b").await);
    assert_eq!(serde_json::to_value(&b.value).unwrap(), "new");
    assert_eq!(serde_json::to_value(&b.current).unwrap(), "old");

    // Default selection: adds and changes; the remove waits to be chosen.
    let PromoteOutcome { report, error } = two.apply(&plan, all(), None).await;
    assert!(error.is_none(), "{error:?}");
    assert!(report.complete && report.changed_since_review.is_empty(), "{report:?}");
    assert_eq!(report.not_selected, ["gone"]);
    assert_eq!(report.batches.len(), 1);
    assert_eq!(report.batches[0].keys, ["a", "b", "x/deep"]);
    let now = dump(&mut prod, "/app/").await;
    let want: BTreeMap<String, Vec<u8>> = [("a", &b"1"[..]), ("b", b"new"), ("gone", b"prod only"), ("same", b"="), ("x/deep", b"d")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_vec()))
        .collect();
    assert_eq!(now, want);
    assert_eq!(dump(&mut prod, "/other").await[""], b"untouched");

    // Chosen by name: the remove lands, guarded by the revision reviewed.
    let plan = two.plan("/app/dev/", "/app/").await;
    assert_eq!(plan.items.len(), 1);
    let PromoteOutcome { report, error } =
        two.apply(&plan, PromoteSelection { keys: vec!["/app/gone".into()], with_removes: false }, None).await;
    assert!(error.is_none() && report.complete, "{report:?} {error:?}");
    assert_eq!(report.batches[0].removes, 1);
    assert!(!dump(&mut prod, "/app/").await.contains_key("gone"));
    assert_eq!(dump(&mut prod, "/app/").await, dump(&mut dev, "/app/dev/").await);

    let audit = two.promote_audit().await;
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert!(audit.iter().all(|(r, _)| r == "ok"), "{audit:?}");
    assert!(
        audit[0].1.contains("on prod:") && audit[0].1.contains("dev:/app/dev/") && audit[0].1.contains("2 added, 1 changed"),
        "{audit:?}"
    );
    assert!(audit[1].1.contains("1 removed") && audit[1].1.contains("gone"), "{audit:?}");

    // A key the plan does not list is refused before anything is written.
    let e = two
        .t
        .backend
        .config_promote_apply(
            &two.dev,
            &two.prod,
            &plan,
            &PromoteSelection { keys: vec!["nope".into()], with_removes: false },
            None,
            128,
            "",
            |_, _| {},
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
}

#[tokio::test]
async fn a_change_on_either_side_since_the_review_stops_that_batch() {
    let (dev_etcd, prod_etcd) = (Service::start("etcd", &[]), Service::start("etcd", &[]));
    let two = two(&dev_etcd, &prod_etcd).await;
    let (mut dev, mut prod) = (raw(&dev_etcd).await, raw(&prod_etcd).await);
    let keys: Vec<(String, Vec<u8>)> = (0..200).map(|i| (format!("/app/k{i:03}"), format!("v{i}").into_bytes())).collect();
    seed(&mut dev, &keys).await;
    seed(&mut prod, &[kv("/app/k150", b"prod value")]).await;

    let plan = two.plan("/app/", "/app/").await;
    assert_eq!(plan.items.len(), 200);
    // Someone changes a source key of the second batch after the review.
    dev.put("/app/k150", "changed in dev", None).await.unwrap();
    let PromoteOutcome { report, error } = two.apply(&plan, all(), None).await;
    assert!(error.is_none(), "{error:?}");
    assert!(!report.complete);
    assert_eq!(report.batches.len(), 1, "the first batch committed");
    assert_eq!(report.batches[0].keys.len(), MAX_TXN_OPS);
    let moved: Vec<(&str, PromoteSideName)> = report.changed_since_review.iter().map(|m| (m.key.as_str(), m.side)).collect();
    assert_eq!(moved, [("/app/k150", PromoteSideName::Source)]);
    assert_eq!(report.not_applied.len(), 72);
    let now = dump(&mut prod, "/app/").await;
    assert_eq!(now.len(), 128 + 1, "nothing of the second batch: {:?}", now.keys().filter(|k| k.as_str() >= "k128").collect::<Vec<_>>());
    assert_eq!(now["k150"], b"prod value");
    assert!(!now.contains_key("k149") && !now.contains_key("k199"));
    let audit = two.promote_audit().await;
    assert_eq!(audit.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(), ["ok", "error"], "{audit:?}");
    assert!(audit[1].1.contains("/app/k150") && audit[1].1.contains("changed since the review"), "{audit:?}");

    // A target key written after the review: the same stop, named on the target side.
    let plan = two.plan("/app/", "/app/").await;
    assert_eq!(plan.items.len(), 72);
    prod.put("/app/k180", "someone in prod", None).await.unwrap();
    let PromoteOutcome { report, .. } = two.apply(&plan, all(), None).await;
    assert!(report.batches.is_empty());
    let m = &report.changed_since_review;
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!((m[0].key.as_str(), m[0].side, m[0].reviewed_mod_revision), ("/app/k180", PromoteSideName::Target, 0));
    assert_eq!(m[0].mod_revision_now, mod_revision(&mut prod, "/app/k180").await);
    assert_eq!(dump(&mut prod, "/app/").await.len(), 130, "nothing else of the batch was written");
}

#[tokio::test]
async fn more_than_128_operations_split_into_transactions_and_resume_from_the_report() {
    let (dev_etcd, prod_etcd) = (Service::start("etcd", &[]), Service::start("etcd", &[]));
    let two = two(&dev_etcd, &prod_etcd).await;
    let (mut dev, mut prod) = (raw(&dev_etcd).await, raw(&prod_etcd).await);
    // 300 items: 200 adds, 60 changes, 40 removes (all chosen).
    let src: Vec<(String, Vec<u8>)> = (0..260).map(|i| (format!("/cfg/k{i:03}"), format!("new {i}").into_bytes())).collect();
    seed(&mut dev, &src).await;
    let dst: Vec<(String, Vec<u8>)> = (200..300).map(|i| (format!("/cfg/k{i:03}"), format!("old {i}").into_bytes())).collect();
    seed(&mut prod, &dst).await;

    let plan = two.plan("/cfg/", "/cfg/").await;
    assert_eq!(plan.items.len(), 300);
    // Someone creates a key of the third batch in prod, so the first run stops there…
    prod.put("/cfg/k100", "in the way", None).await.unwrap();
    let selection = PromoteSelection { keys: vec![], with_removes: true };
    let first = two.apply(&plan, selection.clone(), None).await.report;
    assert_eq!(first.batches.len(), 0, "k100 is in the first batch");
    // … then removes it again (absent, as reviewed): the same plan applies.
    prod.delete("/cfg/k100", None).await.unwrap();
    let mut progress = Vec::new();
    let seen = std::sync::Mutex::new(&mut progress);
    let second = two
        .t
        .backend
        .config_promote_apply(&two.dev, &two.prod, &plan, &selection, None, MAX_TXN_OPS, "", |r, p| {
            seen.lock().unwrap().push((p.batch, p.batches, p.applied, r.batches.len()));
        })
        .await
        .unwrap();
    assert!(second.error.is_none() && second.report.complete, "{:?}", second.report);
    assert_eq!(progress, [(1, 3, 128, 1), (2, 3, 256, 2), (3, 3, 300, 3)]);
    let sizes: Vec<usize> = second.report.batches.iter().map(|b| b.keys.len()).collect();
    assert_eq!(sizes, [128, 128, 44]);
    let revs: Vec<i64> = second.report.batches.iter().map(|b| b.revision).collect();
    assert!(revs.windows(2).all(|w| w[0] < w[1]), "three transactions: {revs:?}");
    assert_eq!(second.report.batches.iter().map(|b| b.removes).sum::<usize>(), 40);
    assert_eq!(dump(&mut prod, "/cfg/").await, dump(&mut dev, "/cfg/").await);

    // Resume: a plan whose second batch meets a change; the report of the
    // partial run, given back, skips the batch that landed.
    let more: Vec<(String, Vec<u8>)> = (0..200).map(|i| (format!("/cfg/k{i:03}"), format!("newer {i}").into_bytes())).collect();
    seed(&mut dev, &more).await;
    let plan = two.plan("/cfg/", "/cfg/").await;
    assert_eq!(plan.items.len(), 200);
    let k150 = mod_revision(&mut prod, "/cfg/k150").await;
    prod.put("/cfg/k150", "hotfix", None).await.unwrap();
    let partial = two.apply(&plan, all(), None).await.report;
    assert_eq!(partial.batches.len(), 1);
    assert_eq!(partial.changed_since_review[0].key, "/cfg/k150");
    // Without the report, the landed batch itself reads as changed since the review.
    let blind = two.apply(&plan, all(), None).await.report;
    assert!(blind.batches.is_empty() && blind.changed_since_review.len() == 129, "{:?}", blind.changed_since_review.len());
    // With it, the resumed run skips the landed batch and stops on the hotfix only.
    let resumed = two.apply(&plan, all(), Some(&partial)).await.report;
    assert_eq!(resumed.already_applied, 128);
    assert_eq!(resumed.batches.len(), 1, "the earlier batch is carried, none added");
    assert_eq!(resumed.changed_since_review.len(), 1);
    assert_eq!(resumed.changed_since_review[0].reviewed_mod_revision, k150);
    // Chosen without k150, the rest of the plan lands on resume.
    let rest: Vec<String> = plan.items.iter().map(|i| i.rel.clone()).filter(|r| r != "k150").collect();
    let done = two.apply(&plan, PromoteSelection { keys: rest, with_removes: false }, Some(&partial)).await;
    assert!(done.error.is_none() && done.report.complete, "{:?}", done.report);
    assert_eq!(done.report.already_applied, 128);
    assert_eq!(done.report.batches.iter().map(|b| b.index).collect::<Vec<_>>(), [1, 2]);
    let now = dump(&mut prod, "/cfg/").await;
    assert_eq!(now["k150"], b"hotfix");
    assert!((0..200).filter(|i| *i != 150).all(|i| now[&format!("k{i:03}")] == format!("newer {i}").into_bytes()));

    // A report of another plan is refused.
    let other = two.plan("/cfg/", "/cfg/").await;
    let e = two
        .t
        .backend
        .config_promote_apply(&two.dev, &two.prod, &other, &all(), Some(&partial), MAX_TXN_OPS, "", |_, _| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("another plan"), "{e}");
}

#[tokio::test]
async fn binary_values_land_byte_for_byte_through_the_plan_file() {
    let (dev_etcd, prod_etcd) = (Service::start("etcd", &[]), Service::start("etcd", &[]));
    let two = two(&dev_etcd, &prod_etcd).await;
    let (mut dev, mut prod) = (raw(&dev_etcd).await, raw(&prod_etcd).await);
    let mut values: Vec<Vec<u8>> =
        vec![vec![], vec![0], vec![0xff, 0xfe], b"\xc3\x28".to_vec(), b"nul \0 in text".to_vec(), b"cr\r\nlf\r".to_vec(), "中文".into()];
    values.extend((1..60u64).map(|s| noise(s, (s as usize * 53) % 700)));
    let src: Vec<(String, Vec<u8>)> = values.iter().enumerate().map(|(i, v)| (format!("/bin/k{i:02}"), v.clone())).collect();
    seed(&mut dev, &src).await;
    // Half already exist in prod with other bytes (changes), half are adds.
    let dst: Vec<(String, Vec<u8>)> = (0..values.len()).step_by(2).map(|i| (format!("/bin/k{i:02}"), noise(1000 + i as u64, 9))).collect();
    seed(&mut prod, &dst).await;

    let plan = two.plan("/bin/", "/bin/").await;
    let text = serde_json::to_string_pretty(&plan).unwrap();
    assert!(text.contains("\"base64\""), "binary values carry the export marker");
    let plan = PromotePlan::parse(&text).unwrap();
    let out = two.apply(&plan, all(), None).await;
    assert!(out.error.is_none() && out.report.complete, "{:?}", out.report);
    let want: BTreeMap<String, Vec<u8>> = src.iter().map(|(k, v)| (k["/bin/".len()..].to_string(), v.clone())).collect();
    assert_eq!(dump(&mut prod, "/bin/").await, want);
}

#[tokio::test]
async fn a_plan_is_applied_only_to_the_clusters_it_was_made_on() {
    let (dev_etcd, prod_etcd) = (Service::start("etcd", &[]), Service::start("etcd", &[]));
    let two = two(&dev_etcd, &prod_etcd).await;
    raw(&dev_etcd).await.put("/app/a", "1", None).await.unwrap();
    let plan = two.plan("/app/", "/app/").await;
    // Another backend where "prod" names the dev cluster.
    let t = TestBackend::new().await;
    let dev = t.etcd_session("dev", dev_etcd.get("ETCD_ENDPOINT")).await;
    let wrong = t.etcd_session("prod", dev_etcd.get("ETCD_ENDPOINT")).await;
    let e = t.backend.config_promote_apply(&dev, &wrong, &plan, &all(), None, MAX_TXN_OPS, "", |_, _| {}).await.unwrap_err();
    assert!(e.to_string().contains("made for another etcd"), "{e}");
    assert!(dump(&mut raw(&dev_etcd).await, "/app/").await.len() == 1);
    // Sessions of other connections are refused by name.
    let e = t.backend.config_promote_apply(&wrong, &dev, &plan, &all(), None, MAX_TXN_OPS, "", |_, _| {}).await.unwrap_err();
    assert!(e.to_string().contains("connection is \"dev\", not \"prod\""), "{e}");
}

#[tokio::test]
async fn cli_plan_review_apply_stop_and_resume() {
    let (dev_etcd, prod_etcd) = (Service::start("etcd", &[]), Service::start("etcd", &[]));
    let two = two(&dev_etcd, &prod_etcd).await;
    let (mut dev, mut prod) = (raw(&dev_etcd).await, raw(&prod_etcd).await);
    let mut src: Vec<(String, Vec<u8>)> = (0..150).map(|i| (format!("/app/k{i:03}"), format!("v{i}").into_bytes())).collect();
    src.push(kv("/app/blob", &[0, 159, 146, 150, 255]));
    seed(&mut dev, &src).await;
    seed(&mut prod, &[kv("/app/old", b"only in prod")]).await;
    let data = two.t.dir.path();
    let cli = |args: &[&str]| promote_cli(&two.t, args);
    let plan_file = data.join("plan.json");
    let plan_arg = plan_file.to_str().unwrap();

    let (code, out, err) = cli(&["--from", "dev:/app/", "--to", "prod:/app/", "--plan", plan_arg]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("+ k000") && out.contains("- old") && out.contains("(binary) base64:AJ+Slv8="), "{out}");
    assert!(err.contains("151 to add, 0 to change, 1 only in the target"), "{err}");
    let text = std::fs::read_to_string(&plan_file).unwrap();
    assert!(text.contains("{\n          \"base64\": \"AJ+Slv8=\"") || text.contains("\"base64\": \"AJ+Slv8=\""), "{text}");

    // An edited plan is refused (exit 2), nothing written.
    let edited = data.join("edited.json");
    std::fs::write(&edited, text.replace("\"v1\"", "\"v1 edited\"")).unwrap();
    let (code, _, err) = cli(&["--apply", edited.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("checksum"), "{err}");

    // Someone creates a key of the second batch (of 100) in prod after the review.
    prod.put("/app/k120", "prod hotfix", None).await.unwrap();
    let (code, out, err) = cli(&["--apply", plan_arg, "--max-ops", "100"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("conflict") && err.contains("prod: /app/k120 (reviewed absent, now at mod_revision"), "{err}");
    assert!(out.contains("batch 1: revision"), "{out}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(data.join("plan.report.json")).unwrap()).unwrap();
    assert_eq!(report["batches"].as_array().unwrap().len(), 1);
    assert_eq!(report["not_applied"].as_array().unwrap().len(), 51);
    assert_eq!(dump(&mut prod, "/app/").await.len(), 100 + 2);

    // The hotfix goes away again (absent, as reviewed): the same command resumes.
    prod.delete("/app/k120", None).await.unwrap();
    let (code, out, err) = cli(&["--apply", plan_arg, "--max-ops", "100"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("resuming from") && err.contains("(100 by an earlier run)"), "{err}");
    assert!(err.contains("not selected: old"), "{err}");
    let now = dump(&mut prod, "/app/").await;
    assert_eq!(now.len(), 152);
    assert_eq!(now["blob"], [0, 159, 146, 150, 255]);
    assert_eq!(now["old"], b"only in prod");

    // Removes only when chosen.
    let (code, _, err) = cli(&["--from", "dev:/app/", "--to", "prod:/app/", "--plan", plan_arg]);
    assert_eq!(code, 0, "{err}");
    std::fs::remove_file(data.join("plan.report.json")).unwrap();
    let (code, out, err) = cli(&["--apply", plan_arg, "--select", "old", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["batches"][0]["removes"], 1);
    assert_eq!(dump(&mut prod, "/app/").await, dump(&mut dev, "/app/").await);
    let audit = two.promote_audit().await;
    assert_eq!(audit.iter().map(|(r, _)| r.as_str()).collect::<Vec<_>>(), ["ok", "error", "ok", "ok"], "{audit:?}");
}

/// A connection to the TLS + auth etcd (scripts/services/etcd-tls.sh) as `user`
/// (its CA trusted, a password from the keychain).
async fn tls_session(t: &TestBackend, etcd: &Service, name: &str, user: &str, password: &str) -> EtcdSession {
    let spec = opsdeck_core::connections::ConnectionSpec::Etcd {
        endpoints: vec![etcd.get("ETCD_ENDPOINT").into()],
        tls: Some(opsdeck_core::connections::TlsFiles { ca_file: Some(etcd.get("ETCD_TLS_CA").into()), cert_file: None, key_file: None }),
        username: Some(user.into()),
        allow_plaintext: false,
    };
    let c = t.add(name, spec, Some(password)).await;
    t.backend.etcd_session(&c.id).await.expect("a TLS session")
}

#[tokio::test]
async fn promotion_into_an_etcd_with_tls_and_auth_lands_exactly_and_a_denial_writes_nothing() {
    let (dev_etcd, prod_etcd) = (Service::start("etcd", &[]), Service::start("etcd-tls", &[]));
    let t = TestBackend::new().await;
    let dev = t.etcd_session("dev", dev_etcd.get("ETCD_ENDPOINT")).await;
    let prod = tls_session(&t, &prod_etcd, "prod", "alice", prod_etcd.get("ETCD_PASSWORD")).await;
    let root = tls_session(&t, &prod_etcd, "prod-root", "root", prod_etcd.get("ETCD_ROOT_PASSWORD")).await;
    let mut src: Vec<(String, Vec<u8>)> = (0..140).map(|i| (format!("/app/k{i:03}"), format!("v{i}").into_bytes())).collect();
    src.push(kv("/app/blob", &[0, 0xff, 0x9f, 0x92, 0x96]));
    seed(&mut raw(&dev_etcd).await, &src).await;
    // What alice may write in prod: one changed and one only-in-prod key.
    t.backend.config_put_bytes(&root, "/app/k000", b"old", 0, "").await.unwrap();
    t.backend.config_put_bytes(&root, "/app/gone", b"prod only", 0, "").await.unwrap();
    let b = &t.backend;

    // Plan over TLS with auth; apply in more than one transaction, deletes chosen.
    let plan = b.config_promote_plan(&dev, "/app/", &prod, "/app/").await.unwrap();
    let count = |a| plan.items.iter().filter(|i| i.action == a).count();
    assert_eq!((count(PromoteAction::Add), count(PromoteAction::Change), count(PromoteAction::Remove)), (140, 1, 1));
    let out = b
        .config_promote_apply(
            &dev,
            &prod,
            &plan,
            &PromoteSelection { keys: vec![], with_removes: true },
            None,
            MAX_TXN_OPS,
            "tls",
            |_, _| {},
        )
        .await
        .unwrap();
    assert!(out.error.is_none() && out.report.complete, "{:?}", out.report);
    assert!(out.report.batches.len() >= 2, "142 operations in transactions of at most 128: {:?}", out.report.batches.len());
    let want: BTreeMap<String, Vec<u8>> = src.iter().map(|(k, v)| (k["/app/".len()..].to_string(), v.clone())).collect();
    let mut check = Client::connect(
        [prod_etcd.get("ETCD_ENDPOINT")],
        Some(
            etcd_client::ConnectOptions::new().with_user("root", prod_etcd.get("ETCD_ROOT_PASSWORD")).with_tls(
                etcd_client::TlsOptions::new()
                    .ca_certificate(etcd_client::Certificate::from_pem(std::fs::read(prod_etcd.get("ETCD_TLS_CA")).unwrap())),
            ),
        ),
    )
    .await
    .unwrap();
    assert_eq!(dump(&mut check, "/app/").await, want, "byte for byte, the binary value too; the chosen delete done");

    // A target alice may not write (RBAC: /app/ only): refused with her name,
    // nothing written, the report says what did not land.
    raw(&dev_etcd).await.put("/app2/x", "1", None).await.unwrap();
    let plan = b.config_promote_plan(&dev, "/app2/", &prod, "/other/").await;
    let out = match plan {
        Ok(plan) => b.config_promote_apply(&dev, &prod, &plan, &all(), None, MAX_TXN_OPS, "", |_, _| {}).await.map(|o| o.error),
        Err(e) => Ok(Some(e)),
    };
    let e = match out {
        Ok(Some(e)) | Err(e) => e,
        Ok(None) => panic!("a write outside alice's role was not refused"),
    };
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    assert!(e.to_string().contains("alice"), "names the user: {e}");
    assert!(dump(&mut check, "/other/").await.is_empty());
}

#[tokio::test]
async fn a_promotion_into_a_protected_prefix_is_filed_as_a_change_and_published_as_reviewed() {
    use opsdeck_core::team::changes::ChangeState;
    use opsdeck_core::team::DEFAULT_ROOT;
    use opsdeck_tests::vms::{etcd_connection, etcd_with_vm_roles, raw_etcd};

    let dev_etcd = Service::start("etcd", &[]);
    let prod_etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    let t = TestBackend::new().await;
    let b = &t.backend;
    let dev = t.etcd_session("dev", dev_etcd.get("ETCD_ENDPOINT")).await;
    let session = |user: &'static str| {
        let (t, prod_etcd) = (&t, &prod_etcd);
        async move {
            let c = etcd_connection(t, prod_etcd, user).await;
            t.backend.etcd_session(&c.id).await.expect("etcd session")
        }
    };
    let (root, alice, rita, paul) = (session("root").await, session("alice").await, session("rita").await, session("paul").await);
    let mut prod_root = raw_etcd(&prod_etcd, "root").await;
    seed(&mut prod_root, &[kv("/app/prod/db", br#"{"pool": 10}"#), kv("/app/prod/old", b"retired")]).await;
    b.config_protect(&root, DEFAULT_ROOT, "/app/prod/").await.unwrap();
    seed(&mut raw(&dev_etcd).await, &[kv("/app/dev/db", br#"{"pool": 20}"#), kv("/app/dev/new", b"n")]).await;

    // Alice reviews the plan; applying it into the protected prefix writes
    // nothing, and says it goes through a change request.
    let plan = b.config_promote_plan(&dev, "/app/dev/", &alice, "/app/prod/").await.unwrap();
    let everything = PromoteSelection { keys: vec![], with_removes: true };
    assert_eq!(b.config_promote_protected(&alice, &plan, &everything).await.unwrap(), ["/app/prod/"]);
    let e = b.config_promote_apply(&dev, &alice, &plan, &everything, None, MAX_TXN_OPS, "", |_, _| {}).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    assert!(e.to_string().contains("protected prefix /app/prod/") && e.to_string().contains("change request"), "{e}");
    // Even a publisher does not bypass the review by promoting.
    let plan_paul = b.config_promote_plan(&dev, "/app/dev/", &paul, "/app/prod/").await.unwrap();
    let e = b.config_promote_apply(&dev, &paul, &plan_paul, &everything, None, MAX_TXN_OPS, "", |_, _| {}).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "{e}");
    assert_eq!(dump(&mut prod_root, "/app/prod/").await.get("db").map(Vec::as_slice), Some(&br#"{"pool": 10}"#[..]));

    // Filed: the change carries the reviewed values and, as guards, the
    // target revisions seen at review (0 for a key to create).
    let c = b.config_promote_propose(&dev, &alice, &plan, &everything, "to prod").await.unwrap();
    assert_eq!((c.state, c.author.as_str()), (ChangeState::Pending, "alice"));
    assert!(c.comment.contains("promotion from dev:/app/dev/") && c.comment.ends_with(": to prod"), "{}", c.comment);
    let ops: Vec<(&str, Option<&str>, i64)> = c.ops.iter().map(|o| (o.key.as_str(), o.value.as_deref(), o.base_revision)).collect();
    let reviewed = |rel: &str| plan.items.iter().find(|i| i.rel == rel).unwrap().target_mod_revision;
    assert_eq!(
        ops,
        [
            ("/app/prod/db", Some(r#"{"pool": 20}"#), reviewed("db")),
            ("/app/prod/new", Some("n"), 0),
            ("/app/prod/old", None, reviewed("old")),
        ]
    );
    assert_eq!(c.ops[0].base_value.as_deref(), Some(r#"{"pool": 10}"#), "the reviewer sees what is replaced");
    // Approved by another person, published by the publisher: exactly the plan.
    assert_eq!(b.change_review(&alice, DEFAULT_ROOT, &c.id, true, "").await.unwrap_err().code(), ErrorCode::Forbidden);
    b.change_review(&rita, DEFAULT_ROOT, &c.id, true, "ok").await.unwrap();
    assert_eq!(b.change_publish(&paul, DEFAULT_ROOT, &c.id).await.unwrap().state, ChangeState::Published);
    let now = dump(&mut prod_root, "/app/prod/").await;
    assert_eq!(now, BTreeMap::from([("db".into(), br#"{"pool": 20}"#.to_vec()), ("new".into(), b"n".to_vec())]));

    // A target key that moves after the review and before the publication:
    // the change is stale, lists it, and publishing writes nothing.
    raw(&dev_etcd).await.put("/app/dev/db", r#"{"pool": 30}"#, None).await.unwrap();
    let plan = b.config_promote_plan(&dev, "/app/dev/", &alice, "/app/prod/").await.unwrap();
    let c = b.config_promote_propose(&dev, &alice, &plan, &all(), "").await.unwrap();
    b.change_review(&rita, DEFAULT_ROOT, &c.id, true, "").await.unwrap();
    prod_root.put("/app/prod/db", r#"{"pool": 25}"#, None).await.unwrap();
    let seen = b.change_get(&rita, DEFAULT_ROOT, &c.id).await.unwrap();
    assert_eq!((seen.state, seen.moved.clone()), (ChangeState::Stale, vec!["/app/prod/db".to_string()]));
    let e = b.change_publish(&paul, DEFAULT_ROOT, &c.id).await.unwrap_err();
    assert!(e.code() == ErrorCode::Conflict && e.to_string().contains("/app/prod/db"), "{e}");
    assert_eq!(dump(&mut prod_root, "/app/prod/").await.get("db").map(Vec::as_slice), Some(&br#"{"pool": 25}"#[..]));

    // Moved before filing (either side): nothing filed, the keys listed.
    let plan = b.config_promote_plan(&dev, "/app/dev/", &alice, "/app/prod/").await.unwrap();
    raw(&dev_etcd).await.put("/app/dev/db", r#"{"pool": 40}"#, None).await.unwrap();
    let before = b.change_list(&rita, DEFAULT_ROOT).await.unwrap().0.len();
    let e = b.config_promote_propose(&dev, &alice, &plan, &all(), "").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
    assert!(e.to_string().contains("/app/dev/db") && e.to_string().contains("nothing filed"), "{e}");
    assert_eq!(b.change_list(&rita, DEFAULT_ROOT).await.unwrap().0.len(), before);

    // A binary value cannot be carried by a change request: a clear refusal.
    raw(&dev_etcd).await.put("/app/dev/blob", vec![0u8, 0xff], None).await.unwrap();
    let plan = b.config_promote_plan(&dev, "/app/dev/", &alice, "/app/prod/").await.unwrap();
    let e = b.config_promote_propose(&dev, &alice, &plan, &all(), "").await.unwrap_err();
    assert!(e.code() == ErrorCode::InvalidInput && e.to_string().contains("/app/prod/blob: a binary value"), "{e}");

    // The CLI: --apply into the protected prefix files the change (its id on
    // stdout), writes nothing.
    raw(&dev_etcd).await.delete("/app/dev/blob", None).await.unwrap();
    let data = t.dir.path();
    let cli = |args: &[&str]| promote_cli(&t, args);
    let plan_file = data.join("protected.json");
    let plan_arg = plan_file.to_str().unwrap();
    let (code, _, err) = cli(&["--from", "dev:/app/dev/", "--to", "etcd as alice:/app/prod/", "--plan", plan_arg]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = cli(&["--apply", plan_arg, "--comment", "from the cli"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("protected prefix /app/prod/") && err.contains("nothing written"), "{err}");
    let id = out.trim();
    let filed = b.change_get(&rita, DEFAULT_ROOT, id).await.unwrap();
    assert_eq!((filed.state, filed.author.as_str()), (ChangeState::Pending, "alice"));
    assert!(filed.comment.ends_with(": from the cli"), "{}", filed.comment);
    assert_eq!(dump(&mut prod_root, "/app/prod/").await.get("db").map(Vec::as_slice), Some(&br#"{"pool": 25}"#[..]));
    assert!(!data.join("protected.report.json").exists(), "nothing applied, no report");
}

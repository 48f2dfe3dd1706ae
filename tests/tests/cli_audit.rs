//! Every `opsdeck` command that changes something leaves its entry in the
//! local audit log — the same backend method, so the same entry, as the
//! desktop app — read back with `opsdeck audit --format json`: the action,
//! the target and the result, against the real services.

use std::process::Output;

use opsdeck_core::connections::ConnectionSpec;
use opsdeck_core::team::DEFAULT_ROOT;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::service::shared;
use opsdeck_tests::vms::{etcd_connection, etcd_with_vm_roles, raw_etcd, vcsim_with_template, TEMPLATE};
use opsdeck_tests::{workspace, Service};

struct Cli {
    data: std::path::PathBuf,
    keychain: String,
}

impl Cli {
    fn of(t: &TestBackend) -> Cli {
        Cli { data: t.dir.path().into(), keychain: t.backend.keychain().service().into() }
    }

    fn run(&self, args: &[&str]) -> Output {
        workspace::cli(&self.data, &self.keychain).args(args).output().expect("run opsdeck")
    }

    /// Runs, expecting `code`; returns stdout.
    fn expect(&self, code: i32, args: &[&str]) -> String {
        let o = self.run(args);
        assert_eq!(
            o.status.code(),
            Some(code),
            "opsdeck {args:?}\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn ok(&self, args: &[&str]) -> String {
        self.expect(0, args)
    }

    /// The local audit log through `opsdeck audit`, oldest first.
    fn audit(&self) -> Vec<Entry> {
        let page: serde_json::Value = serde_json::from_str(&self.ok(&["audit", "--format", "json", "--limit", "1000"])).unwrap();
        let s = |e: &serde_json::Value, k: &str| e[k].as_str().unwrap_or_default().to_string();
        let mut entries: Vec<Entry> = page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| Entry {
                platform: s(e, "platform"),
                action: s(e, "action"),
                target: s(e, "target"),
                result: s(e, "result"),
                detail: s(e, "detail"),
            })
            .collect();
        entries.reverse();
        entries
    }
}

#[derive(Debug, Clone)]
struct Entry {
    platform: String,
    action: String,
    target: String,
    result: String,
    detail: String,
}

/// The entries after the first `skip`, as (action, target, result).
fn since(entries: &[Entry], skip: usize) -> Vec<(String, String, String)> {
    entries[skip..].iter().map(|e| (e.action.clone(), e.target.clone(), e.result.clone())).collect()
}

fn prefixed<'a>(prefix: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
    [prefix, args].concat()
}

fn triples(expected: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    expected.iter().map(|(a, t, r)| (a.to_string(), t.to_string(), r.to_string())).collect()
}

#[tokio::test]
async fn config_writes_are_audited() {
    let etcd = Service::start("etcd", &[]);
    let t = TestBackend::new().await;
    let cli = Cli::of(&t);
    let ep = etcd.get("ETCD_ENDPOINT");
    let cfg = ["config", "--endpoints", ep];

    let before = cli.audit().len();
    let out = cli.ok(&prefixed(&cfg, &["put", "/app/db", r#"{"pool": 1}"#, "--create", "--comment", "first"]));
    let first_rev = out.trim().rsplit(' ').next().unwrap().to_string();
    cli.ok(&prefixed(&cfg, &["put", "/app/db", r#"{"pool": 2}"#]));
    // A guarded put on a stale revision is refused (exit 1) — and recorded as refused.
    cli.expect(1, &prefixed(&cfg, &["put", "/app/db", r#"{"pool": 3}"#, "--if-revision", &first_rev]));
    cli.ok(&prefixed(&cfg, &["rollback", "/app/db", "--to", &first_rev, "--comment", "back"]));
    let doc = t.dir.path().join("doc.json");
    std::fs::write(&doc, r#"{"prefix": "/src/", "keys": {"a": "1", "b": "2"}}"#).unwrap();
    cli.ok(&prefixed(&cfg, &["import", "/copy/", doc.to_str().unwrap(), "--comment", "promote"]));
    cli.ok(&prefixed(&cfg, &["del", "/app/db"]));
    cli.ok(&prefixed(&cfg, &["del", "/copy/", "--prefix", "--yes", "2"]));
    let entries = cli.audit();
    assert_eq!(
        since(&entries, before),
        triples(&[
            ("config.create", "/app/db", "ok"),
            ("config.put", "/app/db", "ok"),
            ("config.put", "/app/db", "error"),
            ("config.rollback", "/app/db", "ok"),
            ("config.import", "/copy/", "ok"),
            ("config.delete", "/app/db", "ok"),
            ("config.delete_prefix", "/copy/", "ok"),
        ])
    );
    assert!(entries[before..].iter().all(|e| e.platform == "etcd"), "{entries:?}");
    assert!(entries[before + 2].detail.contains("conflict"), "{:?}", entries[before + 2]);
}

#[tokio::test]
async fn change_requests_are_audited() {
    let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    let t = TestBackend::new().await;
    for user in ["root", "alice", "rita", "paul"] {
        etcd_connection(&t, &etcd, user).await;
    }
    raw_etcd(&etcd, "root").await.put("/app/prod/db", r#"{"pool": 10}"#, None).await.unwrap();
    let cli = Cli::of(&t);
    let as_user = |user: &str, args: &[&str]| -> Vec<String> {
        [
            &["config".to_string(), "--connection".into(), format!("etcd as {user}")][..],
            &args.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        ]
        .concat()
    };
    let run = |user: &str, args: &[&str]| {
        let a = as_user(user, args);
        cli.ok(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let before = cli.audit().len();
    run("root", &["protect", "/app/prod/"]);
    let rejected = run("alice", &["propose", r#"/app/prod/db={"pool": 99}"#, "--comment", "too big"]).trim().to_string();
    run("rita", &["reject", &rejected, "--comment", "no"]);
    let change = run("alice", &["propose", r#"/app/prod/db={"pool": 20}"#, "--comment", "raise"]).trim().to_string();
    run("rita", &["approve", &change]);
    run("paul", &["publish", &change]);
    let entries = cli.audit();
    assert_eq!(
        since(&entries, before),
        triples(&[
            ("config.protect", "/app/prod/", "ok"),
            ("config.change.propose", "/app/prod/db", "ok"),
            ("config.change.reject", &rejected, "ok"),
            ("config.change.propose", "/app/prod/db", "ok"),
            ("config.change.approve", &change, "ok"),
            ("config.change.publish", &change, "ok"),
        ])
    );
    t.cleanup().await;
}

#[tokio::test]
async fn connection_role_and_advisory_changes_are_audited() {
    let etcd = Service::start("etcd", &[]);
    let mut c = etcd_client::Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    c.user_add("alice", "pw", None).await.unwrap();
    let t = TestBackend::new().await;
    let cli = Cli::of(&t);
    let before = cli.audit().len();
    cli.ok(&["connections", "add", "etcd", "--name", "team-etcd", "--endpoints", etcd.get("ETCD_ENDPOINT")]);
    cli.ok(&["connections", "test", "team-etcd"]);
    cli.ok(&["vm", "roles", "--etcd", "team-etcd", "--member", "alice=requester"]);
    let osv = t.dir.path().join("osv");
    opsdeck_tests::osv::write_folder(
        &osv,
        &[opsdeck_tests::osv::Advisory {
            id: "AUDIT-1",
            ecosystem: "Debian:12",
            package: "openssl",
            introduced: None,
            fixed: Some("3.0.99"),
            severity: opsdeck_tests::osv::Severity::Word("High"),
        }],
    );
    cli.ok(&["advisories", "import", osv.to_str().unwrap()]);
    cli.ok(&["connections", "remove", "team-etcd"]);
    let entries = cli.audit();
    let shown = osv.display().to_string();
    assert_eq!(
        since(&entries, before),
        triples(&[
            ("connection.create", "team-etcd", "ok"),
            ("connection.test", "team-etcd", "ok"),
            ("team.roles", DEFAULT_ROOT, "ok"),
            ("advisories.import", &shown, "ok"),
            ("connection.delete", "team-etcd", "ok"),
        ])
    );
    assert!(entries[before + 3].detail.starts_with("1 records imported"), "{:?}", entries[before + 3]);
}

/// `opsdeck apply` goes through the backend's apply, like the app's Clusters
/// view: one `cluster.apply` entry per context, refused ones as errors.
#[tokio::test]
async fn apply_is_audited_like_the_app() {
    let api = shared("kube-apiserver");
    let kubeconfig = api.get("KUBECONFIG");
    let t = TestBackend::new().await;
    let cli = Cli::of(&t);
    let manifest =
        |name: &str| format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n  k: v\n");

    // The app's path: a saved connection, the backend's cluster_apply.
    let conn = t.add("lab", ConnectionSpec::Kubernetes { kubeconfig: kubeconfig.into(), contexts: vec![] }, None).await;
    let app_before = cli.audit().len();
    t.backend.cluster_apply(&conn.id, &["admin".into()], &manifest("audit-app")).await.unwrap();
    let app = cli.audit()[app_before..].to_vec();

    // The CLI's path: a kubeconfig file, two contexts, the restricted one
    // denied by the review: nothing written on either, both audited as refused (exit 1).
    let file = t.dir.path().join("cm.yaml");
    std::fs::write(&file, manifest("audit-cli")).unwrap();
    let before = cli.audit().len();
    let out = cli
        .expect(1, &["apply", "-f", file.to_str().unwrap(), "--kubeconfig", kubeconfig, "--context", "admin", "--context", "restricted"]);
    assert!(out.contains("admin: clean") && out.contains("restricted: DENIED"), "{out}");
    let entries = cli.audit();
    let mut got = since(&entries, before);
    got.sort();
    assert_eq!(got, triples(&[("cluster.apply", "admin", "error"), ("cluster.apply", "restricted", "error")]));
    let restricted = entries[before..].iter().find(|e| e.target == "restricted").unwrap();
    assert!(restricted.detail.contains("permission denied") && restricted.detail.contains("nothing was written"), "{restricted:?}");
    // Then the allowed context alone.
    let before = cli.audit().len();
    let out = cli.expect(0, &["apply", "-f", file.to_str().unwrap(), "--kubeconfig", kubeconfig, "--context", "admin"]);
    assert!(out.contains("admin: ok") && out.contains("ConfigMap default/audit-cli: created"), "{out}");
    let entries = cli.audit();
    let admin = entries[before..].iter().find(|e| e.target == "admin").unwrap();
    assert_eq!(admin.detail, format!("on kubeconfig {kubeconfig}: ConfigMap default/audit-cli: created"));

    // The same entry as the app's, but for the object and where the cluster came from.
    assert_eq!(app.len(), 1, "{app:?}");
    assert_eq!((app[0].platform.as_str(), app[0].action.as_str(), app[0].target.as_str()), ("kubernetes", "cluster.apply", "admin"));
    assert_eq!((admin.platform.as_str(), admin.result.as_str()), (app[0].platform.as_str(), app[0].result.as_str()));
    assert_eq!(app[0].detail, "on lab: ConfigMap default/audit-app: created");
    // A manifest that does not parse changes nothing and records nothing.
    std::fs::write(&file, "kind: [oops").unwrap();
    let n = cli.audit().len();
    cli.expect(2, &["apply", "-f", file.to_str().unwrap(), "--kubeconfig", kubeconfig]);
    assert_eq!(cli.audit().len(), n);
    t.cleanup().await;
}

/// The VM workflow in the team's shared store (etcd with auth; lease
/// extensions exist only there): each step by the etcd user whose duty it is,
/// all from one machine's CLI, all in its local audit log.
#[tokio::test]
async fn vm_changes_are_audited() {
    let t = TestBackend::new().await;
    let (_vcsim, _) = vcsim_with_template(&t, &[]).await;
    let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    for user in ["alice", "bob", "carol"] {
        etcd_connection(&t, &etcd, user).await;
    }
    let cli = Cli::of(&t);
    let (alice, bob, carol) = (["vm", "--etcd", "etcd as alice"], ["vm", "--etcd", "etcd as bob"], ["vm", "--etcd", "etcd as carol"]);
    let lease = (time::OffsetDateTime::now_utc().date() + time::Duration::days(10)).to_string();
    let later = (time::OffsetDateTime::now_utc().date() + time::Duration::days(20)).to_string();
    let request = |name: &str| -> String {
        let out = cli.ok(&prefixed(
            &alice,
            &[
                "request",
                "--name",
                name,
                "--template",
                TEMPLATE,
                "--cpu",
                "1",
                "--memory-gb",
                "1",
                "--disk-gb",
                "10",
                "--department",
                "qa",
                "--purpose",
                "audit test",
                "--lease-end",
                &lease,
                "--format",
                "json",
            ],
        ));
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["id"].as_str().unwrap().to_string()
    };

    let before = cli.audit().len();
    cli.ok(&prefixed(&carol, &["quota", "qa", "--vms", "5", "--vcpu", "10", "--max-lease-days", "60"]));
    let id = request("audit-1");
    cli.ok(&prefixed(&alice, &["edit", &id, "--purpose", "audit test, edited"]));
    cli.ok(&prefixed(&bob, &["approve", &id, "--as", "manager", "--comment", "fine"]));
    cli.ok(&prefixed(&carol, &["approve", &id, "--as", "admin"]));
    cli.ok(&prefixed(&carol, &["provision", &id]));
    cli.ok(&prefixed(&alice, &["extend", &id, "--until", &later, "--reason", "more testing"]));
    cli.ok(&prefixed(&bob, &["decide-extension", &id, "1", "--comment", "ok"]));
    let rejected = request("audit-2");
    cli.ok(&prefixed(&bob, &["reject", &rejected, "--as", "manager", "--comment", "not now"]));
    let withdrawn = request("audit-3");
    cli.ok(&prefixed(&alice, &["withdraw", &withdrawn, "--comment", "not needed"]));
    // Nothing is due today: a lifecycle pass changes nothing, and records nothing.
    let n = cli.audit().len();
    assert_eq!(cli.ok(&prefixed(&carol, &["lifecycle", "--format", "json"])).trim(), "[]");
    assert_eq!(cli.audit().len(), n);

    let entries = cli.audit();
    assert_eq!(
        since(&entries, before),
        triples(&[
            ("vm.quota", "qa", "ok"),
            ("vm.request", "audit-1", "ok"),
            ("vm.edit", &id, "ok"),
            ("vm.manager.approve", &id, "ok"),
            ("vm.admin.approve", &id, "ok"),
            ("vm.provision", &id, "ok"),
            ("vm.extend", &id, "ok"),
            ("vm.extension.approve", &id, "ok"),
            ("vm.request", "audit-2", "ok"),
            ("vm.manager.reject", &rejected, "ok"),
            ("vm.request", "audit-3", "ok"),
            ("vm.withdraw", &withdrawn, "ok"),
        ])
    );
    assert!(entries[before..].iter().all(|e| e.platform == "vsphere"), "{entries:?}");
    t.cleanup().await;
}

//! Cluster health history against the real kube-apiserver: a node set
//! NotReady through the status subresource degrades the cluster and a row
//! with the finding appears; recovery adds the row back with the finding
//! cleared; checks that keep the verdict add nothing; a stopped API server is
//! an Unreachable row. From the app's checks, its live view and the CLI.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Node;
use kube::api::{Patch, PatchParams, PostParams};
use kube::Api;
use opsdeck_core::clusters::history::HealthTransition;
use opsdeck_core::clusters::Verdict;
use opsdeck_core::connections::ConnectionSpec;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::clusters::client;
use opsdeck_tests::service::{shared, Service};
use serde_json::json;

async fn node_ready(c: &kube::Client, name: &str, ready: &str) {
    let nodes: Api<Node> = Api::all(c.clone());
    let _ = nodes.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap()).await;
    let status = json!({"status": {"conditions": [{"type": "Ready", "status": ready, "lastHeartbeatTime": "2026-11-24T00:00:00Z", "lastTransitionTime": "2026-11-24T00:00:00Z"}]}});
    nodes.patch_status(name, &PatchParams::default(), &Patch::Merge(&status)).await.unwrap();
}

async fn kube_connection(t: &TestBackend, name: &str, kubeconfig: &str) -> String {
    let spec = ConnectionSpec::Kubernetes { kubeconfig: kubeconfig.into(), contexts: vec!["admin".into()] };
    t.add(name, spec, None).await.id
}

fn messages(f: &[opsdeck_core::clusters::Finding]) -> Vec<&str> {
    f.iter().map(|x| x.message.as_str()).collect()
}

/// Waits (bounded) until the connection's history satisfies `pred`.
async fn history_until(t: &TestBackend, id: &str, what: &str, pred: impl Fn(&[HealthTransition]) -> bool) -> Vec<HealthTransition> {
    let started = Instant::now();
    loop {
        let h = t.backend.cluster_health_history(id, Some("admin"), None).await.unwrap();
        if pred(&h) {
            return h;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{what}: history is {h:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Checks from the app and `opsdeck health` runs on the same data directory
/// share one timeline: a row per change, none for checks that change nothing.
#[tokio::test]
async fn checks_and_cli_runs_record_each_change_once_with_its_findings() {
    let api = shared("kube-apiserver");
    let path = api.get("KUBECONFIG");
    let admin = client(path, "admin").await;
    node_ready(&admin, "hist-1", "True").await;
    let t = TestBackend::new().await;
    let id = kube_connection(&t, "lab", path).await;
    let b = &t.backend;

    assert_eq!(b.cluster_health(&id).await.unwrap()[0].verdict, Verdict::Healthy);
    for _ in 0..3 {
        b.cluster_health(&id).await.unwrap();
    }
    let h = b.cluster_health_history(&id, None, None).await.unwrap();
    assert_eq!(h.len(), 1, "first verdict only, no row per check: {h:#?}");
    assert_eq!((h[0].from, h[0].to, h[0].source.as_str(), h[0].origin.as_str()), (None, Verdict::Healthy, "check", "lab"));

    node_ready(&admin, "hist-1", "False").await;
    for _ in 0..3 {
        assert_eq!(b.cluster_health(&id).await.unwrap()[0].verdict, Verdict::Degraded);
    }
    let h = b.cluster_health_history(&id, Some("admin"), None).await.unwrap();
    assert_eq!(h.len(), 2, "{h:#?}");
    assert_eq!((h[0].from, h[0].to), (Some(Verdict::Healthy), Verdict::Degraded));
    assert!(messages(&h[0].appeared).contains(&"node hist-1 is NotReady"), "{:#?}", h[0].appeared);
    assert!(messages(&h[0].findings).contains(&"node hist-1 is NotReady"));
    assert!(h[0].cleared.is_empty(), "{:#?}", h[0].cleared);

    // The CLI on the same data directory: same verdict, nothing new.
    let keychain = format!("opsdeck-test-{}", uuid::Uuid::new_v4());
    let run = |args: &[&str]| {
        let out = opsdeck_tests::workspace::cli(t.dir.path(), &keychain).args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (code, _, err) = run(&["health", "--kubeconfig", path, "--context", "admin"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert_eq!(b.cluster_health_history(&id, None, None).await.unwrap().len(), 2, "a CLI run with the same verdict adds nothing");

    // Recovery seen by the CLI: the row back, the finding cleared.
    node_ready(&admin, "hist-1", "True").await;
    let (code, _, err) = run(&["health", "--kubeconfig", path, "--context", "admin", "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    b.cluster_health(&id).await.unwrap();
    let h = b.cluster_health_history(&id, None, None).await.unwrap();
    assert_eq!(h.len(), 3, "the app's next check sees the verdict the CLI recorded: {h:#?}");
    assert_eq!((h[0].from, h[0].to, h[0].source.as_str()), (Some(Verdict::Degraded), Verdict::Healthy, "cli"));
    assert_eq!(h[0].origin, path);
    assert!(messages(&h[0].cleared).contains(&"node hist-1 is NotReady"), "{:#?}", h[0].cleared);

    // `opsdeck health history admin --format json` lists them, newest first.
    let (code, out, err) = run(&["health", "history", "admin", "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");
    let rows: Vec<HealthTransition> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows, h, "the CLI reads the rows the app reads");
    let (code, out, _) = run(&["health", "history", "other-context", "--format", "json"]);
    assert_eq!((code, out.trim()), (Some(0), "[]"));
    let (code, out, _) = run(&["health", "history", "--since", "2099-01-01T00:00:00Z", "--format", "json"]);
    assert_eq!((code, out.trim()), (Some(0), "[]"), "nothing since a future time");
    let (code, out, _) = run(&["health", "history"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("DEGRADED -> HEALTHY") && out.contains("HEALTHY -> DEGRADED") && out.contains("node hist-1 is NotReady"), "{out}");
    let (code, _, err) = run(&["health", "history", "--since", "last tuesday"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("RFC 3339"), "{err}");

    // A context that is not part of the connection is refused.
    let e = b.cluster_health_history(&id, Some("nope"), None).await.unwrap_err();
    assert!(e.to_string().contains("not part of connection"), "{e}");
    t.cleanup().await;
}

/// The live view on its own API server: degrade, recover, and the server
/// stopped, each one row; the steady updates between them none.
#[tokio::test]
async fn live_view_records_degrade_recover_and_unreachable() {
    let api = Service::start("kube-apiserver", &[]);
    let t = TestBackend::new().await;
    // A copy: stopping the server removes its run directory, kubeconfig included.
    let path = t.dir.path().join("kubeconfig").display().to_string();
    std::fs::copy(api.get("KUBECONFIG"), &path).unwrap();
    let admin = client(&path, "admin").await;
    node_ready(&admin, "live-h", "True").await;
    let id = kube_connection(&t, "live lab", &path).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let handle = t
        .backend
        .cluster_watch(&id, move |h| {
            let _ = tx.send(h);
        })
        .await
        .unwrap();
    history_until(&t, &id, "first verdict", |h| h.len() == 1 && h[0].to == Verdict::Healthy).await;

    node_ready(&admin, "live-h", "False").await;
    let h = history_until(&t, &id, "degraded", |h| h.first().is_some_and(|x| x.to == Verdict::Degraded)).await;
    assert_eq!(h.len(), 2, "{h:#?}");
    assert_eq!((h[0].from, h[0].source.as_str()), (Some(Verdict::Healthy), "live"));
    assert!(messages(&h[0].appeared).contains(&"node live-h is NotReady"), "{:#?}", h[0].appeared);

    // More changes that keep the verdict Degraded: live updates, no rows.
    let mut updates = 0;
    for i in 0..3 {
        node_ready(&admin, &format!("live-h{i}"), "False").await;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            let u = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap().unwrap();
            if u.findings.iter().any(|f| f.message == format!("node live-h{i} is NotReady")) {
                updates += 1;
                break;
            }
        }
    }
    assert_eq!(updates, 3, "each change reached the live view");
    // The history task writes in arrival order: once a later change is recorded, these were compared.
    for i in 0..3 {
        node_ready(&admin, &format!("live-h{i}"), "True").await;
    }
    node_ready(&admin, "live-h", "True").await;
    let h = history_until(&t, &id, "recovered", |h| h.first().is_some_and(|x| x.to == Verdict::Healthy) && h.len() > 1).await;
    assert_eq!(h.len(), 3, "no row for the updates that kept Degraded: {h:#?}");
    assert_eq!(h[0].from, Some(Verdict::Degraded));
    assert!(messages(&h[0].cleared).contains(&"node live-h is NotReady"), "{:#?}", h[0].cleared);

    drop(api); // stops the API server
    let h = history_until(&t, &id, "unreachable", |h| h.first().is_some_and(|x| x.to == Verdict::Unreachable)).await;
    assert_eq!(h.len(), 4, "{h:#?}");
    assert_eq!(h[0].from, Some(Verdict::Healthy));
    assert!(h[0].appeared.iter().any(|f| f.object == "apiserver"), "{:#?}", h[0].appeared);
    drop(handle);
    t.cleanup().await;
}

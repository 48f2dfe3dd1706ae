//! Cluster health against the real kube-apiserver: objects are created and
//! their status set through the status subresource (there are no kubelets),
//! so every finding below comes from the real API server.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::{Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use opsdeck_core::clusters::health::check_all;
use opsdeck_core::clusters::{ClusterHealth, Severity, Verdict};
use opsdeck_tests::service::shared;
use serde_json::json;

const LIMIT: Duration = Duration::from_secs(10);

async fn admin() -> Client {
    let kc = Kubeconfig::read_from(shared("kube-apiserver").get("KUBECONFIG")).unwrap();
    let opts = KubeConfigOptions { context: Some("admin".into()), ..Default::default() };
    Client::try_from(Config::from_custom_kubeconfig(kc, &opts).await.unwrap()).unwrap()
}

async fn node(c: &Client, name: &str, ready: &str, pressure: bool) {
    let nodes: Api<Node> = Api::all(c.clone());
    let _ = nodes.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap()).await;
    let status = json!({"status": {"conditions": [
        {"type": "Ready", "status": ready, "reason": if ready == "True" { "KubeletReady" } else { "KubeletNotReady" }, "lastHeartbeatTime": "2026-11-24T00:00:00Z", "lastTransitionTime": "2026-11-24T00:00:00Z"},
        {"type": "DiskPressure", "status": if pressure { "True" } else { "False" }, "lastHeartbeatTime": "2026-11-24T00:00:00Z", "lastTransitionTime": "2026-11-24T00:00:00Z"}
    ]}});
    nodes.patch_status(name, &PatchParams::default(), &Patch::Merge(&status)).await.unwrap();
}

async fn system_pod(c: &Client, name: &str, waiting: Option<&str>, restarts: i32) {
    let pods: Api<Pod> = Api::namespaced(c.clone(), "kube-system");
    let _ = pods
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": name},
                "spec": {"nodeName": "n-ok", "containers": [{"name": "c", "image": "registry.local/app:1"}]}
            }))
            .unwrap(),
        )
        .await;
    let state = match waiting {
        Some(r) => json!({"waiting": {"reason": r}}),
        None => json!({"running": {"startedAt": "2026-11-24T00:00:00Z"}}),
    };
    let status = json!({"status": {"phase": "Running", "containerStatuses": [
        {"name": "c", "ready": waiting.is_none(), "restartCount": restarts, "image": "registry.local/app:1", "imageID": "", "state": state}
    ]}});
    pods.patch_status(name, &PatchParams::default(), &Patch::Merge(&status)).await.unwrap();
}

async fn health(contexts: &[&str], token: Option<&str>) -> Vec<ClusterHealth> {
    let contexts: Vec<String> = contexts.iter().map(|s| s.to_string()).collect();
    let token = token.map(opsdeck_core::secrets::Secret::new);
    check_all(shared("kube-apiserver").get("KUBECONFIG"), &contexts, token.as_ref(), LIMIT).await.unwrap()
}

fn messages(h: &ClusterHealth) -> Vec<String> {
    h.findings.iter().map(|f| f.message.clone()).collect()
}

#[tokio::test]
async fn findings_from_the_real_api_server_and_recovery() {
    let c = admin().await;
    node(&c, "n-ok", "True", false).await;
    let h = &health(&["admin"], None).await[0];
    assert_eq!(h.verdict, Verdict::Healthy, "{:?}", h.findings);
    assert!(h.version.as_deref().unwrap().starts_with("v1."));
    assert_eq!(h.nodes.total, 1);

    node(&c, "n-bad", "False", true).await;
    system_pod(&c, "crashy", Some("CrashLoopBackOff"), 9).await;
    system_pod(&c, "flappy", None, 6).await;
    let deployments: Api<Deployment> = Api::namespaced(c.clone(), "default");
    deployments
        .create(&PostParams::default(), &serde_json::from_value(json!({
            "metadata": {"name": "web"},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "w", "image": "registry.local/web:1"}]}}}
        })).unwrap())
        .await
        .unwrap();
    deployments
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(&json!({"status": {"replicas": 3, "readyReplicas": 1, "availableReplicas": 1, "unavailableReplicas": 2}})),
        )
        .await
        .unwrap();
    let events: Api<Event> = Api::namespaced(c.clone(), "default");
    events
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({
                "metadata": {"name": "web.warn"},
                "type": "Warning", "reason": "FailedScheduling", "message": "0/2 nodes are available", "count": 3,
                "involvedObject": {"kind": "Pod", "namespace": "default", "name": "web-1"},
                "lastTimestamp": "2026-11-24T10:00:00Z"
            }))
            .unwrap(),
        )
        .await
        .unwrap();

    let h = &health(&["admin"], None).await[0];
    assert_eq!(h.verdict, Verdict::Degraded);
    let m = messages(h);
    for expected in [
        "node n-bad is NotReady KubeletNotReady",
        "node n-bad has DiskPressure",
        "pod kube-system/crashy container c is CrashLoopBackOff (9 restarts)",
        "pod kube-system/flappy container c restarted 6 times",
        "deployment default/web: 1/3 available",
        "FailedScheduling: 0/2 nodes are available (×3)",
    ] {
        assert!(m.iter().any(|x| x == expected), "missing \"{expected}\" in {m:#?}");
    }
    assert_eq!((h.nodes.total, h.nodes.ready, h.nodes.pressure), (2, 1, 1));
    assert_eq!(h.findings[0].severity, Severity::Critical, "most severe first");

    // Recovery clears the findings.
    node(&c, "n-bad", "True", false).await;
    system_pod(&c, "crashy", None, 9).await;
    let h = &health(&["admin"], None).await[0];
    let m = messages(h);
    assert!(!m.iter().any(|x| x.contains("n-bad")), "{m:#?}");
    assert!(!m.iter().any(|x| x.contains("CrashLoopBackOff")), "{m:#?}");
    assert!(m.iter().any(|x| x.contains("crashy container c restarted 9 times")), "restarts still count: {m:#?}");

    // The restricted user: forbidden lists are findings, the rest still shows;
    // a verdict built without nodes and system pods is not Healthy (issue 19, item 6).
    let h = &health(&["restricted"], None).await[0];
    assert_eq!(h.verdict, Verdict::Degraded, "{:#?}", h.findings);
    let m = messages(h);
    assert!(m.iter().any(|x| x.starts_with("forbidden: list nodes — health cannot be assessed")), "{m:#?}");
    assert!(m.iter().any(|x| x.starts_with("forbidden: list pods in kube-system — health cannot be assessed")), "{m:#?}");
    assert_eq!(h.nodes.total, 0);

    // A wrong token: Unreachable with the reason; the other context is unaffected.
    let both = health(&["admin", "restricted"], Some("wrong-token")).await;
    for h in &both {
        assert_eq!(h.verdict, Verdict::Unreachable);
        assert!(h.findings[0].message.contains("401"), "{:?}", h.findings);
    }
}

#[tokio::test]
async fn a_dead_context_never_delays_a_live_one() {
    let api = shared("kube-apiserver");
    let dir = tempfile::tempdir().unwrap();
    // A second kubeconfig: the live cluster plus one that blackholes (TEST-NET-1, never answers).
    let kc = std::fs::read_to_string(api.get("KUBECONFIG")).unwrap();
    let mut doc: serde_json::Value = serde_norway_or_yaml(&kc);
    let clusters = doc["clusters"].as_array_mut().unwrap();
    let mut dead = clusters[0].clone();
    dead["name"] = json!("dead");
    dead["cluster"]["server"] = json!("https://192.0.2.1:6443");
    clusters.push(dead);
    let mut ctx = doc["contexts"][0].clone();
    ctx["name"] = json!("dead");
    ctx["context"]["cluster"] = json!("dead");
    doc["contexts"].as_array_mut().unwrap().push(ctx);
    let path = dir.path().join("kubeconfig.json");
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();

    let started = std::time::Instant::now();
    let r = check_all(path.to_str().unwrap(), &["admin".into(), "dead".into()], None, Duration::from_secs(3)).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(6), "bounded by the per-context deadline: {:?}", started.elapsed());
    assert_eq!(r[0].context, "admin");
    assert_ne!(r[0].verdict, Verdict::Unreachable);
    assert_eq!(r[1].verdict, Verdict::Unreachable);
}

/// kubeconfig files are YAML; JSON is YAML too, so a kubeconfig written as JSON loads the same.
fn serde_norway_or_yaml(text: &str) -> serde_json::Value {
    let y: serde_norway::Value = serde_norway::from_str(text).unwrap();
    serde_json::to_value(y).unwrap()
}

#[test]
fn cli_health_reports_and_gates() {
    let api = shared("kube-apiserver");
    let bin = opsdeck_tests::workspace::cli_bin();
    let out = std::process::Command::new(&bin)
        .args(["health", "--kubeconfig", api.get("KUBECONFIG"), "--context", "admin", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["context"], "admin");
    assert!(v[0]["version"].as_str().unwrap().starts_with("v1."));
    // The restricted user cannot list nodes: not unreachable, so --fail-on unreachable passes.
    let out = std::process::Command::new(&bin)
        .args(["health", "--kubeconfig", api.get("KUBECONFIG"), "--context", "restricted", "--fail-on", "unreachable"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("restricted"));
    // ... but it cannot pass as healthy: it saw no node and no system pod.
    let out = std::process::Command::new(&bin)
        .args(["health", "--kubeconfig", api.get("KUBECONFIG"), "--context", "restricted", "--fail-on", "degraded"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("health cannot be assessed"), "{}", String::from_utf8_lossy(&out.stdout));
    // $KUBECONFIG listing two files is merged as kubectl does: an empty first file, then the real one.
    let empty = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(empty.path(), "apiVersion: v1\nkind: Config\n").unwrap();
    let out = std::process::Command::new(&bin)
        .args(["health", "--context", "admin", "--format", "json"])
        .env("KUBECONFIG", format!("{}:{}", empty.path().display(), api.get("KUBECONFIG")))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()[0]["context"], "admin");
    let out = std::process::Command::new(&bin).args(["health", "--kubeconfig", "/nonexistent/kubeconfig"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/kubeconfig"));
}

#[tokio::test]
async fn health_of_a_connection_is_cached_for_the_next_start() {
    let api = shared("kube-apiserver");
    let t = opsdeck_tests::backend::TestBackend::new().await;
    let c = t
        .add(
            "lab",
            opsdeck_core::connections::ConnectionSpec::Kubernetes {
                kubeconfig: api.get("KUBECONFIG").into(),
                contexts: vec!["admin".into()],
            },
            None,
        )
        .await;
    assert!(t.backend.cached_cluster_health(&c.id).await.unwrap().is_none(), "nothing cached yet");
    let live = t.backend.cluster_health(&c.id).await.unwrap();
    let cached = t.backend.cached_cluster_health(&c.id).await.unwrap().expect("cached");
    assert_eq!(cached.payload, live);
    assert!(cached.fetched_at.starts_with("20"), "{}", cached.fetched_at);
    // A reopened backend on the same data dir (next app start) still has it, offline.
    let reopened = opsdeck_core::Backend::open(opsdeck_core::BackendOptions {
        data_dir: t.dir.path().to_path_buf(),
        keychain_service: "unused".into(),
        actor: "tester".into(),
    })
    .await
    .unwrap();
    assert_eq!(reopened.cached_cluster_health(&c.id).await.unwrap().unwrap().payload, live);
}

#[test]
fn cli_health_writes_junit() {
    let api = shared("kube-apiserver");
    let bin = opsdeck_tests::workspace::cli_bin();
    let out =
        std::process::Command::new(&bin).args(["health", "--kubeconfig", api.get("KUBECONFIG"), "--format", "junit"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains(r#"<testsuite name="cluster-health" package="opsdeck.health""#) && xml.contains(r#"tests="2""#), "{xml}");
    assert!(xml.contains(r#"<testcase name="admin""#) && xml.contains(r#"<testcase name="restricted""#), "{xml}");
    opsdeck_tests::junit::assert_valid(&xml);
}

#[tokio::test]
async fn a_cluster_whose_tls_is_not_verified_says_so() {
    let api = shared("kube-apiserver");
    let t = opsdeck_tests::backend::TestBackend::new().await;
    // The same cluster, once with its CA and once with TLS verification off.
    let original = std::fs::read_to_string(api.get("KUBECONFIG")).unwrap();
    let ca_line = original.lines().find(|l| l.contains("certificate-authority:")).expect("the kubeconfig names its CA").to_string();
    let indent = &ca_line[..ca_line.len() - ca_line.trim_start().len()];
    let insecure = original.replace(&ca_line, &format!("{indent}insecure-skip-tls-verify: true"));
    let path = t.dir.path().join("insecure-kubeconfig");
    std::fs::write(&path, insecure).unwrap();
    for (file, expected) in [(api.get("KUBECONFIG").to_string(), false), (path.display().to_string(), true)] {
        let c = t
            .add(
                &format!("lab {expected}"),
                opsdeck_core::connections::ConnectionSpec::Kubernetes { kubeconfig: file, contexts: vec!["admin".into()] },
                None,
            )
            .await;
        let h = t.backend.cluster_health(&c.id).await.unwrap();
        assert_eq!(h[0].insecure_tls, expected, "{:?}", h[0]);
        assert_ne!(h[0].verdict, opsdeck_core::clusters::model::Verdict::Unreachable, "{:?}", h[0].findings);
    }
    t.cleanup().await;
}

/// The one-shot lists are paged (500 a page) and trimmed as each page
/// arrives: on a cluster of more objects than a page, the verdict, every
/// finding and the node counts are the same as from one unpaged list. Its own
/// API server: nothing else changes the cluster between the reads.
#[tokio::test]
async fn paged_lists_give_the_same_verdict_as_one_list() {
    use opsdeck_core::clusters::health::check_paged;
    let svc = opsdeck_tests::service::Service::start("kube-apiserver", &[]);
    let path = svc.get("KUBECONFIG");
    let c = opsdeck_tests::clusters::client(path, "admin").await;
    for i in 0..7 {
        node(&c, &format!("n{i}"), if i % 3 == 0 { "False" } else { "True" }, i % 2 == 0).await;
        system_pod(&c, &format!("p{i}"), (i % 2 == 0).then_some("CrashLoopBackOff"), 5 + i).await;
    }
    let deployments: Api<Deployment> = Api::namespaced(c.clone(), "default");
    let events: Api<Event> = Api::namespaced(c.clone(), "default");
    for i in 0..5 {
        let name = format!("web{i}");
        let spec = json!({"metadata": {"name": name}, "spec": {"replicas": 3, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "w", "image": "registry.local/web:1"}]}}}});
        deployments.create(&PostParams::default(), &serde_json::from_value(spec).unwrap()).await.unwrap();
        let status = json!({"status": {"replicas": 3, "readyReplicas": i % 4, "availableReplicas": i % 4}});
        deployments.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status)).await.unwrap();
        let event = json!({"metadata": {"name": format!("{name}.warn")}, "type": "Warning", "reason": "FailedScheduling",
            "message": format!("0/{i} nodes are available"), "count": i + 1,
            "involvedObject": {"kind": "Pod", "namespace": "default", "name": format!("{name}-1")},
            "lastTimestamp": format!("2026-11-24T10:0{i}:00Z")});
        events.create(&PostParams::default(), &serde_json::from_value(event).unwrap()).await.unwrap();
    }
    // The API server pages at these sizes (else the comparison proves nothing).
    let nodes: Api<Node> = Api::all(c.clone());
    let first = nodes.list(&kube::api::ListParams::default().limit(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    assert!(first.metadata.continue_.is_some_and(|t| !t.is_empty()), "no continue token at limit 2");

    let kc = || Kubeconfig::read_from(path).unwrap();
    let seen = |h: &ClusterHealth| {
        let f: Vec<_> = h.findings.iter().map(|f| (f.severity, f.kind.clone(), f.object.clone(), f.message.clone())).collect();
        (h.verdict, h.nodes.clone(), h.version.clone(), f)
    };
    for context in ["admin", "restricted"] {
        let one = seen(&check_paged(kc(), context, None, 0).await);
        for page in [1, 2, 3, 500] {
            assert_eq!(seen(&check_paged(kc(), context, None, page).await), one, "context {context}, {page} a page");
        }
        if context == "admin" {
            let (verdict, nodes, _, findings) = &one;
            assert_eq!(*verdict, Verdict::Degraded);
            assert_eq!((nodes.total, nodes.ready, nodes.pressure), (7, 4, 4), "{nodes:?}");
            let m: Vec<&str> = findings.iter().map(|f| f.3.as_str()).collect();
            for expected in [
                "node n6 is NotReady KubeletNotReady",
                "node n6 has DiskPressure",
                "pod kube-system/p6 container c is CrashLoopBackOff (11 restarts)",
                "pod kube-system/p5 container c restarted 10 times",
                "deployment default/web0: 0/3 available",
                "deployment default/web4: 0/3 available",
                "FailedScheduling: 0/4 nodes are available (×5)",
                "FailedScheduling: 0/0 nodes are available (×1)",
            ] {
                assert!(m.contains(&expected), "missing \"{expected}\" in {m:#?}");
            }
        }
    }
}

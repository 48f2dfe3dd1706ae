//! `opsdeck fleet workloads` on two real kube-apiservers (east: this file's
//! shared one, west: one of the test's own) and a context nobody answers:
//! the same Deployment with another image is image drift, one only in east is
//! missing in west, identical ones are not flagged, and the dead context is
//! reported without being counted as missing.

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::PostParams;
use kube::Api;
use opsdeck_core::clusters::fleet::FleetReport;
use opsdeck_tests::clusters::client;
use opsdeck_tests::service::{shared, Service};
use serde_json::json;

async fn deployment(c: &kube::Client, name: &str, replicas: i32, image: &str) {
    let api: Api<Deployment> = Api::namespaced(c.clone(), "default");
    api.create(
        &PostParams::default(),
        &serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "app", "image": image}]}}}
        }))
        .unwrap(),
    )
    .await
    .unwrap();
}

fn cluster(name: &str, s: &Service) -> String {
    format!("- name: {name}\n  cluster:\n    server: {}\n    certificate-authority: {}\n", s.get("KUBE_SERVER"), s.get("KUBE_CA"))
}

#[tokio::test]
async fn drift_and_missing_across_two_api_servers() {
    let east = shared("kube-apiserver");
    let west = Service::start("kube-apiserver", &[]);
    let dir = tempfile::tempdir().unwrap();
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let kubeconfig = dir.path().join("fleet.kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n{}{}- name: dead\n  cluster:\n    server: https://127.0.0.1:{dead_port}\n    insecure-skip-tls-verify: true\nusers:\n- name: east\n  user:\n    token: {}\n- name: west\n  user:\n    token: {}\ncontexts:\n- name: east\n  context: {{cluster: east, user: east}}\n- name: west\n  context: {{cluster: west, user: west}}\n- name: dead\n  context: {{cluster: dead, user: east}}\ncurrent-context: east\n",
            cluster("east", east),
            cluster("west", &west),
            east.get("KUBE_ADMIN_TOKEN"),
            west.get("KUBE_ADMIN_TOKEN"),
        ),
    )
    .unwrap();
    let path = kubeconfig.display().to_string();
    let (e, w) = (client(&path, "east").await, client(&path, "west").await);
    deployment(&e, "web", 3, "registry.local/web:1").await;
    deployment(&w, "web", 3, "registry.local/web:2").await;
    deployment(&e, "api", 2, "registry.local/api:7").await;
    deployment(&e, "same", 1, "registry.local/same:1").await;
    deployment(&w, "same", 1, "registry.local/same:1").await;

    let run = |args: &[&str]| {
        let out = std::process::Command::new(opsdeck_tests::workspace::cli_bin()).args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (code, out, err) = run(&["fleet", "workloads", "--kubeconfig", &path, "--format", "json", "--fail-on-drift", "--timeout", "3"]);
    assert_eq!(code, Some(1), "drift fails with --fail-on-drift: {err}");
    let r: FleetReport = serde_json::from_str(&out).unwrap();
    assert_eq!(r.contexts, vec!["east".to_string(), "west".to_string()]);
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert_eq!(r.errors[0].context, "dead");
    assert!(err.contains("context dead not read"), "{err}");
    let find = |n: &str| r.workloads.iter().find(|x| x.namespace == "default" && x.name == n).unwrap_or_else(|| panic!("{n}: {r:#?}"));
    let web = find("web");
    assert!(web.image_drift && !web.replica_drift && web.missing.is_empty(), "{web:#?}");
    let images: Vec<(&str, &str)> = web.placements.iter().map(|p| (p.context.as_str(), p.images[0].as_str())).collect();
    assert_eq!(images, vec![("east", "app=registry.local/web:1"), ("west", "app=registry.local/web:2")]);
    let api = find("api");
    assert_eq!(api.missing, vec!["west".to_string()], "missing where it is not, never in the dead context");
    assert!(!find("same").drifted());

    let (code, out, err) = run(&["fleet", "workloads", "--kubeconfig", &path, "--context", "east", "--context", "west", "--drift-only"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("default/web") && out.contains("IMAGE DRIFT") && out.contains("MISSING IN west"), "{out}");
    assert!(!out.contains("default/same"), "--drift-only leaves out what agrees: {out}");
    let (code, _, err) = run(&["fleet", "workloads", "--kubeconfig", &path, "--context", "dead", "--timeout", "3"]);
    assert_eq!(code, Some(4), "nothing could be read: the exit code of an unreachable cluster: {err}");
    assert!(err.contains("no context could be read"), "{err}");
}

/// A Deployment of `replicas` pods on the nodes of pool "cap", each asking
/// `cpu`/`memory`, with an init container asking `init` when given.
fn sized(name: &str, replicas: i32, cpu: &str, memory: &str, init: Option<(&str, &str)>) -> Deployment {
    let mut pod = json!({
        "nodeSelector": {opsdeck_tests::workloads::POOL_LABEL: "cap"},
        "containers": [{"name": "app", "image": "registry.local/app:1", "resources": {"requests": {"cpu": cpu, "memory": memory}}}]
    });
    if let Some((cpu, memory)) = init {
        pod["initContainers"] =
            json!([{"name": "init", "image": "registry.local/init:1", "resources": {"requests": {"cpu": cpu, "memory": memory}}}]);
    }
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": pod}}
    }))
    .unwrap()
}

/// `opsdeck health --capacity` on a control plane that runs workloads: KWOK
/// nodes that report 4 CPU / 8Gi each, pods placed by the real scheduler.
/// Only Ready, schedulable nodes and the pods on them count: a cordoned node
/// holding a 2-CPU pod and a node KWOK makes NotReady are left out; an init
/// container asking more than the containers sets the pod's request.
#[tokio::test]
async fn capacity_counts_requests_against_ready_schedulable_nodes_exactly() {
    use k8s_openapi::api::core::v1::{Node, Pod};
    use kube::api::{ListParams, Patch, PatchParams};
    use opsdeck_tests::workloads::{admin, control_plane, fake_nodes_sized, label_node, poll, NOT_READY_LABEL, PROGRESS};

    let svc = control_plane();
    let c = admin(svc).await;
    let size = json!({"cpu": "4", "memory": "8Gi", "pods": "110"});
    fake_nodes_sized(&c, "cap", 4, Some(size)).await;
    let nodes: Api<Node> = Api::all(c.clone());
    nodes.patch("cap-2", &PatchParams::default(), &Patch::Merge(&json!({"spec": {"unschedulable": true}}))).await.unwrap();
    // A pod bound to the cordoned node by name (the scheduler is not asked): it does not count, nor does its node.
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    let bound: Pod = serde_json::from_value(json!({
        "metadata": {"name": "on-cordoned"},
        "spec": {"nodeName": "cap-2", "containers": [{"name": "app", "image": "registry.local/app:1", "resources": {"requests": {"cpu": "2", "memory": "2Gi"}}}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &bound).await.unwrap();
    let deployments: Api<Deployment> = Api::namespaced(c.clone(), "default");
    deployments.create(&PostParams::default(), &sized("cap-web", 3, "500m", "200Mi", None)).await.unwrap();
    deployments.create(&PostParams::default(), &sized("cap-init", 1, "100m", "64Mi", Some(("1", "1Gi")))).await.unwrap();
    poll("5 pods bound to nodes", PROGRESS, || {
        let pods = pods.clone();
        async move {
            let l = pods.list(&ListParams::default()).await.map_err(|e| e.to_string())?;
            let bound = l.items.iter().filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some()).count();
            if bound == 5 {
                Ok(())
            } else {
                Err(format!("{bound} bound"))
            }
        }
    })
    .await;

    let kubeconfig = svc.get("KUBECONFIG").to_string();
    let health = |format: &'static str| {
        let out = std::process::Command::new(opsdeck_tests::workspace::cli_bin())
            .args(["health", "--kubeconfig", &kubeconfig, "--context", "admin", "--capacity", "--format", format])
            .env("OPSDECK_DATA_DIR", tempfile::tempdir().unwrap().keep())
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    // cap-0, cap-1, cap-3 counted (3 × 4 CPU, 3 × 8Gi); 3 × 500m + max(100m, 1 CPU init) = 2.5 CPU;
    // 3 × 200Mi + max(64Mi, 1Gi init) = 1624Mi.
    let (code, out, err) = health("json");
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let cap = &v[0]["capacity"];
    assert_eq!(v[0]["context"], "admin");
    assert_eq!((cap["nodes"].as_u64(), cap["nodes_excluded"].as_u64(), cap["pods"].as_u64()), (Some(3), Some(1), Some(4)), "{cap}");
    assert_eq!((cap["cpu_allocatable_milli"].as_i64(), cap["cpu_requested_milli"].as_i64()), (Some(12_000), Some(2_500)), "{cap}");
    assert_eq!((cap["memory_allocatable"].as_i64(), cap["memory_requested"].as_i64()), (Some(24 << 30), Some(1624 << 20)), "{cap}");
    assert!(v[0]["capacity_error"].is_null(), "{v}");

    // A node going NotReady leaves the count (its pods with it).
    label_node(&c, "cap-3", NOT_READY_LABEL, Some("true")).await;
    let cap = poll("cap-3 left out once NotReady", PROGRESS, || async {
        let (_, out, err) = health("json");
        let v: serde_json::Value = serde_json::from_str(&out).map_err(|e| format!("{e}: {err}"))?;
        let cap = v[0]["capacity"].clone();
        if cap["nodes"] == 2 {
            Ok(cap)
        } else {
            Err(cap.to_string())
        }
    })
    .await;
    let on_cap3: i64 = pods
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .iter()
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some("cap-3"))
        .map(|p| opsdeck_core::clusters::capacity::pod_requests(p).0)
        .sum();
    assert_eq!((cap["nodes_excluded"].as_u64(), cap["cpu_allocatable_milli"].as_i64()), (Some(2), Some(8_000)), "{cap}");
    assert_eq!(cap["cpu_requested_milli"].as_i64(), Some(2_500 - on_cap3), "{cap}");

    // The table: requests / allocatable and the share.
    let (code, out, _) = health("table");
    assert_eq!(code, Some(0));
    let row = out.lines().find(|l| l.starts_with("admin")).unwrap_or_else(|| panic!("{out}"));
    assert!(out.contains("CPU REQ/ALLOC") && out.contains("MEMORY REQ/ALLOC"), "{out}");
    assert!(row.contains(&format!("/8 ({}%)", ((2_500 - on_cap3) as f64 / 80.0).round())), "{row}");
    label_node(&c, "cap-3", NOT_READY_LABEL, None).await;
}

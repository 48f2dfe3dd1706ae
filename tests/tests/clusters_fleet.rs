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

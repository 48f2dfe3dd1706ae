//! Live cluster health from watches on the real kube-apiserver: a node turning
//! NotReady or a pod entering CrashLoopBackOff shows within a second, and
//! recovery clears it. (Its own API server: `shared()` gives each test file
//! its own, so these objects never disturb the snapshot tests.)

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use opsdeck_core::clusters::Verdict;
use opsdeck_tests::clusters::{next_matching, watch_context};
use opsdeck_tests::service::shared;
use serde_json::json;

async fn admin() -> Client {
    let kc = Kubeconfig::read_from(shared("kube-apiserver").get("KUBECONFIG")).unwrap();
    let opts = KubeConfigOptions { context: Some("admin".into()), ..Default::default() };
    Client::try_from(Config::from_custom_kubeconfig(kc, &opts).await.unwrap()).unwrap()
}

async fn node_ready(c: &Client, name: &str, ready: &str) {
    let nodes: Api<Node> = Api::all(c.clone());
    let _ = nodes.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": name}})).unwrap()).await;
    let status = json!({"status": {"conditions": [{"type": "Ready", "status": ready, "lastHeartbeatTime": "2026-11-24T00:00:00Z", "lastTransitionTime": "2026-11-24T00:00:00Z"}]}});
    nodes.patch_status(name, &PatchParams::default(), &Patch::Merge(&status)).await.unwrap();
}

#[tokio::test]
async fn changes_show_within_a_second_and_recovery_clears_them() {
    let api = shared("kube-apiserver");
    let c = admin().await;
    node_ready(&c, "live-1", "True").await;
    let kubeconfig = Kubeconfig::read_from(api.get("KUBECONFIG")).unwrap();
    let (handle, mut rx) = watch_context(kubeconfig, "admin");

    let (first, _) = next_matching(&mut rx, Duration::from_secs(15), |h| h.verdict != Verdict::Unreachable).await;
    assert_eq!(first.verdict, Verdict::Healthy, "{:?}", first.findings);
    assert_eq!(first.nodes.total, 1);

    node_ready(&c, "live-1", "False").await;
    let (h, took) = next_matching(&mut rx, Duration::from_secs(5), |h| h.verdict == Verdict::Degraded).await;
    assert!(took < Duration::from_secs(1), "NotReady took {took:?}");
    assert!(h.findings.iter().any(|f| f.message == "node live-1 is NotReady"), "{:?}", h.findings);

    let pods: Api<Pod> = Api::namespaced(c.clone(), "kube-system");
    pods.create(
        &PostParams::default(),
        &serde_json::from_value(json!({
            "metadata": {"name": "live-crash"},
            "spec": {"nodeName": "live-1", "containers": [{"name": "c", "image": "registry.local/x:1"}]}
        }))
        .unwrap(),
    )
    .await
    .unwrap();
    let t = Instant::now();
    pods.patch_status("live-crash", &PatchParams::default(), &Patch::Merge(&json!({"status": {"phase": "Running", "containerStatuses": [
        {"name": "c", "ready": false, "restartCount": 4, "image": "registry.local/x:1", "imageID": "", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
    ]}}))).await.unwrap();
    let (h, _) =
        next_matching(&mut rx, Duration::from_secs(5), |h| h.findings.iter().any(|f| f.message.contains("CrashLoopBackOff"))).await;
    assert!(t.elapsed() < Duration::from_secs(1), "CrashLoopBackOff took {:?}", t.elapsed());
    assert_eq!(h.verdict, Verdict::Degraded);

    node_ready(&c, "live-1", "True").await;
    pods.delete("live-crash", &Default::default()).await.unwrap();
    // No kubelet: deletion completes at once only with grace 0.
    let _ = pods.delete("live-crash", &kube::api::DeleteParams { grace_period_seconds: Some(0), ..Default::default() }).await;
    let (h, _) = next_matching(&mut rx, Duration::from_secs(10), |h| h.verdict == Verdict::Healthy).await;
    assert!(h.findings.iter().all(|f| !f.message.contains("live-1")), "{:?}", h.findings);

    drop(handle);
    node_ready(&c, "live-1", "False").await;
    let after = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await;
    assert!(matches!(after, Ok(None)), "stopped: the channel closes and nothing more arrives");
}

#[tokio::test]
async fn restricted_user_sees_forbidden_findings_live() {
    let api = shared("kube-apiserver");
    let kubeconfig = Kubeconfig::read_from(api.get("KUBECONFIG")).unwrap();
    let (_handle, mut rx) = watch_context(kubeconfig, "restricted");
    let (h, _) = next_matching(&mut rx, Duration::from_secs(20), |h| h.verdict != Verdict::Unreachable).await;
    let msgs: Vec<&str> = h.findings.iter().map(|f| f.message.as_str()).collect();
    assert!(msgs.iter().any(|m| m.starts_with("forbidden: list nodes — health cannot be assessed")), "{msgs:?}");
    assert!(msgs.iter().any(|m| m.starts_with("forbidden: list pods in kube-system — health cannot be assessed")), "{msgs:?}");
    assert!(msgs.contains(&"forbidden: list deployments"), "an optional list stays a note: {msgs:?}");
    assert_eq!(h.verdict, Verdict::Degraded, "no nodes and no system pods seen is not healthy");
}

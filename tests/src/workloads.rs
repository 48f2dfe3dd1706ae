//! A Kubernetes control plane that runs workloads: the real kube-apiserver
//! with kube-controller-manager, kube-scheduler and KWOK, started by
//! `scripts/services/kube-apiserver.sh --workloads` (docs/services.md). KWOK
//! plays the kubelet of every node annotated `kwok.x-k8s.io/node=fake`:
//! scheduled pods become Running/Ready, and the stages in
//! scripts/services/kwok-stages/ make chosen pods crash-loop or nodes NotReady.

use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Node;
use kube::api::{Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use serde_json::json;

use crate::service::{shared_with_args, Service};

/// Label that makes KWOK crash-loop a running pod (kwok-stages/pod-crash-loop.yaml).
pub const CRASH_LOOP_LABEL: &str = "opsdeck.dev/kwok-crash-loop";
/// Label that makes KWOK report a node NotReady (kwok-stages/node-not-ready.yaml, upstream's).
pub const NOT_READY_LABEL: &str = "node-not-ready.stage.kwok.x-k8s.io";
/// Label every fake node carries, valued with its name prefix: a test's pods
/// select their own nodes (`nodeSelector: {POOL_LABEL: prefix}`), so a node
/// another test makes NotReady never hosts them.
pub const POOL_LABEL: &str = "opsdeck.dev/kwok-pool";

/// How long the test control plane may take to make progress (a rollout, a
/// node turning Ready, endpoints following a selector) before a test calls it
/// stuck. Generous on purpose: on a 2-core CI machine other test files start
/// control planes of their own meanwhile. A bound on progress, never a
/// performance figure (those are in BENCHMARKS.md).
pub const PROGRESS: Duration = Duration::from_secs(150);

/// The workload control plane of the calling test file (started on first use,
/// stopped at process exit).
#[track_caller]
pub fn control_plane() -> &'static Service {
    shared_with_args("kube-apiserver", &["--workloads"])
}

/// A client with cluster-admin rights on `svc`.
pub async fn admin(svc: &Service) -> Client {
    let kc = Kubeconfig::read_from(svc.get("KUBECONFIG")).expect("kubeconfig of the control plane");
    let opts = KubeConfigOptions { context: Some("admin".into()), ..Default::default() };
    Client::try_from(Config::from_custom_kubeconfig(kc, &opts).await.expect("admin context")).expect("client")
}

/// Polls `check` every 200 ms until it returns `Some`, panicking after
/// `limit` with `what` and the last value seen (`last` is refreshed by `check`).
pub async fn poll<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let started = Instant::now();
    loop {
        let last = match check().await {
            Ok(v) => return v,
            Err(last) => last,
        };
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}; last seen: {last}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Creates KWOK fake nodes `{prefix}-0..n` (labelled [`POOL_LABEL`]=`prefix`) and waits until each is Ready
/// (KWOK initialised it, and the node-lifecycle controller removed its
/// not-ready taint, so pods can be scheduled onto it). Returns their names.
pub async fn fake_nodes(c: &Client, prefix: &str, n: usize) -> Vec<String> {
    fake_nodes_sized(c, prefix, n, None).await
}

/// [`fake_nodes`] whose nodes report `allocatable` (and as much capacity),
/// e.g. `{"cpu": "4", "memory": "8Gi", "pods": "110"}`; KWOK keeps what a
/// node reports (kwok-stages/node-initialize.yaml), None: its 1k CPU / 1Ti.
pub async fn fake_nodes_sized(c: &Client, prefix: &str, n: usize, allocatable: Option<serde_json::Value>) -> Vec<String> {
    let nodes: Api<Node> = Api::all(c.clone());
    let names: Vec<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
    for name in &names {
        let mut node = json!({
            "metadata": {
                "name": name,
                "annotations": {"kwok.x-k8s.io/node": "fake"},
                "labels": {POOL_LABEL: prefix, "kubernetes.io/hostname": name}
            }
        });
        if let Some(a) = &allocatable {
            node["status"] = json!({"allocatable": a, "capacity": a});
        }
        let node: Node = serde_json::from_value(node).expect("node object");
        nodes.create(&PostParams::default(), &node).await.unwrap_or_else(|e| panic!("create node {name}: {e}"));
    }
    for name in &names {
        poll(&format!("fake node {name} Ready and untainted"), PROGRESS, || {
            let nodes = nodes.clone();
            async move {
                let n = nodes.get(name).await.map_err(|e| e.to_string())?;
                let ready = node_ready(&n);
                let taints = n.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
                if ready == Some(true) && taints.is_empty() {
                    Ok(())
                } else {
                    Err(format!("ready={ready:?} taints={taints:?}"))
                }
            }
        })
        .await;
    }
    names
}

/// The node's Ready condition (None: no condition yet).
pub fn node_ready(n: &Node) -> Option<bool> {
    n.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "Ready").map(|c| c.status == "True")
}

/// Sets or removes (`None`) a label on a node.
pub async fn label_node(c: &Client, name: &str, key: &str, value: Option<&str>) {
    let nodes: Api<Node> = Api::all(c.clone());
    let patch = json!({"metadata": {"labels": {key: value}}});
    nodes.patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap_or_else(|e| panic!("label node {name}: {e}"));
}

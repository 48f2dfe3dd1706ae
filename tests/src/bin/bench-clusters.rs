//! Clusters benchmark against the real kube-apiserver, side by side with kubectl.
//!
//!   cargo build --release -p opsdeck-tests --bin bench-clusters
//!   $CARGO_TARGET_DIR/release/bench-clusters [NODES PODS]      # default 500 5000
//!
//! Creates NODES nodes (Ready, status set through the API) and PODS pods (10 %
//! in kube-system, the rest in an "apps" namespace), then times, over 5 runs:
//! - `opsdeck health --context admin` (a full verdict: version, nodes,
//!   kube-system pods, workloads, events) with its peak RSS, vs
//!   `kubectl get nodes,pods -A` with its peak RSS (both via /usr/bin/time);
//! - the live view's first verdict (reflectors listing and watching);
//! - `opsdeck health` over 20 contexts of the same server at once.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{self, StreamExt};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::api::{Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use opsdeck_tests::bench::{median, timed};
use opsdeck_tests::service::Service;
use opsdeck_tests::workspace;
use serde_json::json;

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (nodes, pods) = (args.first().copied().unwrap_or(500), args.get(1).copied().unwrap_or(5000));
    let api = Service::start("kube-apiserver", &[]);
    let kubeconfig = api.get("KUBECONFIG").to_string();
    let kc = Kubeconfig::read_from(&kubeconfig).unwrap();
    let opts = KubeConfigOptions { context: Some("admin".into()), ..Default::default() };
    let client = Client::try_from(Config::from_custom_kubeconfig(kc.clone(), &opts).await.unwrap()).unwrap();

    let seed = Instant::now();
    let _ = Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": "apps"}})).unwrap())
        .await;
    let c = Arc::new(client.clone());
    stream::iter(0..nodes)
        .for_each_concurrent(32, |i| {
            let c = c.clone();
            async move {
                let api: Api<Node> = Api::all((*c).clone());
                let name = format!("node-{i:04}");
                api.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": name, "labels": {"node-role.kubernetes.io/worker": ""}}})).unwrap()).await.unwrap();
                let status = json!({"status": {"conditions": [{"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-11-24T00:00:00Z", "lastTransitionTime": "2026-11-24T00:00:00Z"}],
                    "allocatable": {"cpu": "8", "memory": "32Gi"}, "capacity": {"cpu": "8", "memory": "32Gi"}}});
                api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status)).await.unwrap();
            }
        })
        .await;
    stream::iter(0..pods)
        .for_each_concurrent(32, |i| {
            let c = c.clone();
            async move {
                let ns = if i % 10 == 0 { "kube-system" } else { "apps" };
                let api: Api<Pod> = Api::namespaced((*c).clone(), ns);
                let pod = json!({"metadata": {"name": format!("pod-{i:05}")},
                    "spec": {"nodeName": format!("node-{:04}", i % nodes), "containers": [{"name": "c", "image": "registry.local/app:1"}]}});
                api.create(&PostParams::default(), &serde_json::from_value(pod).unwrap()).await.unwrap();
            }
        })
        .await;
    eprintln!("seeded {nodes} nodes and {pods} pods in {:?}", seed.elapsed());

    let opsdeck = workspace::target_dir().join("release/opsdeck");
    assert!(opsdeck.exists(), "build it: cargo build --release -p opsdeck-cli");
    let mut ours = vec![];
    let mut ours_kb = 0;
    let mut theirs = vec![];
    let mut theirs_kb = 0;
    for _ in 0..5 {
        let (t, kb) = timed(Command::new(&opsdeck).args(["health", "--kubeconfig", &kubeconfig, "--context", "admin", "--format", "json"]));
        ours.push(t);
        ours_kb = ours_kb.max(kb);
        let (t, kb) = timed(Command::new("kubectl").args(["--kubeconfig", &kubeconfig, "--context", "admin", "get", "nodes,pods", "-A"]));
        theirs.push(t);
        theirs_kb = theirs_kb.max(kb);
    }

    // The live view: time to the first verdict from reflectors.
    let mut live = vec![];
    for _ in 0..5 {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let t = Instant::now();
        let _h = opsdeck_core::clusters::live::watch(
            kc.clone(),
            vec!["admin".into()],
            None,
            Arc::new(move |h| {
                let _ = tx.send(h);
            }),
        );
        let h = rx.recv().await.unwrap();
        live.push(t.elapsed());
        assert_eq!(h.nodes.total, nodes);
    }

    // 20 contexts of the same server at once.
    let mut doc: serde_json::Value =
        serde_json::to_value(serde_norway::from_str::<serde_norway::Value>(&std::fs::read_to_string(&kubeconfig).unwrap()).unwrap())
            .unwrap();
    let admin_ctx = doc["contexts"][0].clone();
    let mut many = vec![];
    for i in 0..20 {
        let mut c = admin_ctx.clone();
        c["name"] = json!(format!("ctx-{i:02}"));
        many.push(c);
    }
    doc["contexts"] = json!(many);
    let dir = tempfile::tempdir().unwrap();
    let many_path = dir.path().join("kubeconfig-20.json");
    std::fs::write(&many_path, serde_json::to_string(&doc).unwrap()).unwrap();
    let mut twenty = vec![];
    let mut twenty_kb = 0;
    for _ in 0..3 {
        let (t, kb) = timed(Command::new(&opsdeck).args([
            "health",
            "--kubeconfig",
            many_path.to_str().unwrap(),
            "--format",
            "json",
            "--timeout",
            "60",
        ]));
        twenty.push(t);
        twenty_kb = twenty_kb.max(kb);
    }

    println!("| measurement ({nodes} nodes, {pods} pods) | Opsdeck | kubectl |");
    println!("| --- | --- | --- |");
    println!(
        "| full health verdict of one cluster, process wall time (median of 5) / peak RSS | {:.0} ms / {} MiB (`opsdeck health --context admin`) | {:.0} ms / {} MiB (`kubectl get nodes,pods -A`) |",
        median(ours),
        ours_kb / 1024,
        median(theirs),
        theirs_kb / 1024
    );
    println!("| live view: first verdict from reflectors (median of 5) | {:.0} ms | – |", median(live));
    println!(
        "| 20 contexts at once, process wall time (median of 3) / peak RSS | {:.0} ms / {} MiB | – |",
        median(twenty),
        twenty_kb / 1024
    );
}

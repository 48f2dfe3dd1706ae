//! Capacity of a cluster: the CPU and memory allocatable of its Ready,
//! schedulable nodes against the requests of the pods on them that are not
//! finished (Succeeded/Failed). One computation, used by the cluster cards
//! and drill-down, `opsdeck fleet capacity`, and failover's choice of a
//! target with room (clusters/failover.rs).

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::ListParams;
use kube::{Api, Client};
use serde::{Deserialize, Serialize};

use crate::connectors::kube::classify;
use crate::error::{with_timeout, Result};

/// Deadline of one list.
pub const LIST_TIMEOUT: Duration = Duration::from_secs(15);

/// CPU quantity ("250m", "2", "1.5", "1k") in millicores.
pub fn parse_cpu(q: &str) -> Option<i64> {
    let q = q.trim();
    match q.strip_suffix('m') {
        Some(m) => m.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).map(|v| v.ceil() as i64),
        None => quantity(q).map(|v| (v * 1000.0).ceil() as i64),
    }
}

/// Memory quantity ("128Mi", "1G", "1Ti", "1e3", "512") in bytes.
pub fn parse_memory(q: &str) -> Option<i64> {
    quantity(q.trim()).map(|v| v.ceil() as i64)
}

/// A Kubernetes quantity without the milli suffix, in base units.
fn quantity(q: &str) -> Option<f64> {
    const SUFFIXES: [(&str, f64); 12] = [
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    let (num, mult) = SUFFIXES.iter().find_map(|(s, m)| q.strip_suffix(s).map(|n| (n, *m))).unwrap_or((q, 1.0));
    num.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).map(|v| v * mult)
}

/// What a cluster can still take: the allocatable of its Ready, schedulable
/// nodes minus the requests of the pods on them that are not finished.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Capacity {
    /// Nodes counted (Ready and schedulable).
    pub nodes: usize,
    /// Nodes left out: NotReady, or cordoned.
    #[serde(default)]
    pub nodes_excluded: usize,
    pub cpu_allocatable_milli: i64,
    pub cpu_requested_milli: i64,
    pub memory_allocatable: i64,
    pub memory_requested: i64,
    /// The most free on one node (a pod must fit on one).
    pub node_cpu_free_milli: i64,
    pub node_memory_free: i64,
    /// Pods counted (not finished, on a counted node).
    #[serde(default)]
    pub pods: usize,
}

impl Capacity {
    pub fn cpu_free(&self) -> i64 {
        self.cpu_allocatable_milli - self.cpu_requested_milli
    }
    pub fn memory_free(&self) -> i64 {
        self.memory_allocatable - self.memory_requested
    }
}

/// CPU (millicores) and memory (bytes) requested by one pod: the sum of its
/// containers, or the largest init container when that is more (the
/// scheduler's rule), plus its overhead.
pub fn pod_requests(p: &Pod) -> (i64, i64) {
    let Some(spec) = p.spec.as_ref() else { return (0, 0) };
    let req = |c: &k8s_openapi::api::core::v1::Container| {
        let r = c.resources.as_ref().and_then(|r| r.requests.as_ref());
        (
            r.and_then(|r| r.get("cpu")).and_then(|q| parse_cpu(&q.0)).unwrap_or(0),
            r.and_then(|r| r.get("memory")).and_then(|q| parse_memory(&q.0)).unwrap_or(0),
        )
    };
    let (mut cpu, mut mem) = spec.containers.iter().map(req).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    for (c, m) in spec.init_containers.iter().flatten().map(req) {
        cpu = cpu.max(c);
        mem = mem.max(m);
    }
    if let Some(o) = spec.overhead.as_ref() {
        cpu += o.get("cpu").and_then(|q| parse_cpu(&q.0)).unwrap_or(0);
        mem += o.get("memory").and_then(|q| parse_memory(&q.0)).unwrap_or(0);
    }
    (cpu, mem)
}

/// Sums a cluster's capacity from its nodes and its unfinished pods.
pub fn sum(nodes: &[Node], pods: &[Pod]) -> Capacity {
    let mut per_node: BTreeMap<&str, (i64, i64, usize)> = BTreeMap::new();
    for p in pods {
        let phase = p.status.as_ref().and_then(|s| s.phase.as_deref());
        if matches!(phase, Some("Succeeded" | "Failed")) {
            continue;
        }
        let Some(node) = p.spec.as_ref().and_then(|s| s.node_name.as_deref()) else { continue };
        let (cpu, mem) = pod_requests(p);
        let e = per_node.entry(node).or_default();
        e.0 += cpu;
        e.1 += mem;
        e.2 += 1;
    }
    let mut cap = Capacity::default();
    for n in nodes {
        let ready =
            n.status.as_ref().and_then(|s| s.conditions.as_ref()).into_iter().flatten().any(|c| c.type_ == "Ready" && c.status == "True");
        let schedulable = !n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false);
        if !ready || !schedulable {
            cap.nodes_excluded += 1;
            continue;
        }
        let alloc = n.status.as_ref().and_then(|s| s.allocatable.as_ref());
        let cpu = alloc.and_then(|a| a.get("cpu")).and_then(|q| parse_cpu(&q.0)).unwrap_or(0);
        let mem = alloc.and_then(|a| a.get("memory")).and_then(|q| parse_memory(&q.0)).unwrap_or(0);
        let (rc, rm, pods) = per_node.get(n.metadata.name.as_deref().unwrap_or_default()).copied().unwrap_or_default();
        cap.nodes += 1;
        cap.pods += pods;
        cap.cpu_allocatable_milli += cpu;
        cap.memory_allocatable += mem;
        cap.cpu_requested_milli += rc;
        cap.memory_requested += rm;
        cap.node_cpu_free_milli = cap.node_cpu_free_milli.max(cpu - rc);
        cap.node_memory_free = cap.node_memory_free.max(mem - rm);
    }
    cap
}

/// Reads a cluster's nodes and unfinished pods (every namespace; each list
/// within [`LIST_TIMEOUT`]) and sums its capacity.
pub async fn capacity(client: &Client, context: &str) -> Result<Capacity> {
    let what = format!("cluster \"{context}\"");
    let nodes = with_timeout(what.clone(), LIST_TIMEOUT, async {
        Api::<Node>::all(client.clone()).list(&ListParams::default()).await.map_err(|e| classify(e, context))
    });
    let pods = with_timeout(what, LIST_TIMEOUT, async {
        let lp = ListParams::default().fields("status.phase!=Succeeded,status.phase!=Failed");
        Api::<Pod>::all(client.clone()).list(&lp).await.map_err(|e| classify(e, context))
    });
    let (nodes, pods) = futures::try_join!(nodes, pods)?;
    Ok(sum(&nodes.items, &pods.items))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, ready: bool, cordoned: bool, cpu: &str, mem: &str) -> Node {
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"unschedulable": cordoned},
            "status": {"allocatable": {"cpu": cpu, "memory": mem},
                       "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}
        }))
        .unwrap()
    }

    fn pod(node: &str, phase: &str, containers: serde_json::Value, init: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p"},
            "spec": {"nodeName": node, "containers": containers, "initContainers": init},
            "status": {"phase": phase}
        }))
        .unwrap()
    }

    fn c(cpu: &str, mem: &str) -> serde_json::Value {
        json!({"name": "c", "resources": {"requests": {"cpu": cpu, "memory": mem}}})
    }

    #[test]
    fn quantities() {
        assert_eq!(parse_cpu("250m"), Some(250));
        assert_eq!(parse_cpu("2"), Some(2000));
        assert_eq!(parse_cpu("1.5"), Some(1500));
        assert_eq!(parse_cpu("1k"), Some(1_000_000));
        assert_eq!(parse_memory("128Mi"), Some(134_217_728));
        assert_eq!(parse_memory("1G"), Some(1_000_000_000));
        assert_eq!(parse_memory("1Ti"), Some(1_099_511_627_776));
        assert_eq!(parse_memory("1e3"), Some(1000));
        assert_eq!(parse_memory("-1"), None);
        assert_eq!(parse_memory("lots"), None);
    }

    #[test]
    fn only_ready_schedulable_nodes_and_unfinished_pods_on_them_count() {
        let nodes = vec![
            node("a", true, false, "4", "8Gi"),
            node("b", true, false, "2", "4Gi"),
            node("down", false, false, "32", "64Gi"),
            node("cordoned", true, true, "32", "64Gi"),
        ];
        let pods = vec![
            pod("a", "Running", json!([c("500m", "1Gi"), c("250m", "512Mi")]), json!([])),
            // An init container asking more than the containers' sum sets the request.
            pod("b", "Pending", json!([c("100m", "128Mi")]), json!([c("1", "64Mi")])),
            pod("a", "Succeeded", json!([c("3", "1Gi")]), json!([])),
            pod("down", "Running", json!([c("8", "8Gi")]), json!([])),
        ];
        let cap = sum(&nodes, &pods);
        assert_eq!((cap.nodes, cap.nodes_excluded, cap.pods), (2, 2, 2));
        assert_eq!((cap.cpu_allocatable_milli, cap.cpu_requested_milli), (6000, 1750));
        assert_eq!((cap.memory_allocatable, cap.memory_requested), (12 << 30, (3 << 29) + (128 << 20)));
        assert_eq!(cap.cpu_free(), 4250);
        // Node a has 3250m free, node b 1000m: the most on one node.
        assert_eq!(cap.node_cpu_free_milli, 3250);
        assert_eq!(cap.node_memory_free, (8 << 30) - (3 << 29));
    }
}

/// One context's capacity, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ClusterCapacity {
    pub context: String,
    pub capacity: Option<Capacity>,
    pub error: Option<super::fleet::FleetError>,
}

/// The capacity of each context, all at once, each within `limit`.
pub async fn capacity_all(
    kubeconfig: &kube::config::Kubeconfig,
    contexts: &[String],
    token: Option<&crate::secrets::Secret>,
    limit: Duration,
) -> Vec<ClusterCapacity> {
    let reads = contexts.iter().map(|context| async move {
        // Boxed: a kube client and two lists in flight make a large future (clippy large_futures).
        let read = Box::pin(async {
            let client = crate::connectors::kube::client_for(kubeconfig.clone(), context, token).await?;
            capacity(&client, context).await
        });
        match with_timeout(format!("cluster \"{context}\""), limit, read).await {
            Ok(c) => ClusterCapacity { context: context.clone(), capacity: Some(c), error: None },
            Err(e) => ClusterCapacity {
                context: context.clone(),
                capacity: None,
                error: Some(super::fleet::FleetError { context: context.clone(), code: e.code(), message: e.to_string() }),
            },
        }
    });
    futures::future::join_all(reads).await
}

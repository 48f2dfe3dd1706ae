//! Drill-down tables of one cluster: nodes (with metrics when metrics-server
//! serves them), failing pods in every namespace, recent warning events.

use std::collections::HashMap;

use futures::future::join3;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;
use kube::{Api, Client};
use serde::{Deserialize, Serialize};

use super::fetch::event_time;
use super::findings::{restarts_count, Rules, BAD_WAITING};
use crate::connectors::kube::classify;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct NodeRow {
    pub name: String,
    pub ready: String,
    pub cordoned: bool,
    pub pressure: Vec<String>,
    pub kubelet_version: Option<String>,
    pub roles: Vec<String>,
    pub age_seconds: Option<i64>,
    pub cpu_percent: Option<f64>,
    pub memory_percent: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct PodRow {
    pub namespace: String,
    pub name: String,
    pub phase: String,
    pub reason: Option<String>,
    pub restarts: i32,
    pub last_state: Option<String>,
    pub node: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct EventRow {
    pub namespace: String,
    pub object: String,
    pub reason: String,
    pub message: String,
    pub count: i32,
    pub last_seen: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ClusterDetails {
    pub context: String,
    pub nodes: Vec<NodeRow>,
    pub failing_pods: Vec<PodRow>,
    pub warnings: Vec<EventRow>,
    pub metrics_available: bool,
    /// What these credentials may not read.
    pub forbidden: Vec<String>,
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Parses a Kubernetes quantity of CPU ("250m", "2", "1500000n") into cores.
pub fn cpu_cores(q: &str) -> Option<f64> {
    let (num, scale) = match q.char_indices().last()? {
        (i, 'n') => (&q[..i], 1e-9),
        (i, 'u') => (&q[..i], 1e-6),
        (i, 'm') => (&q[..i], 1e-3),
        _ => (q, 1.0),
    };
    num.parse::<f64>().ok().map(|n| n * scale)
}

/// Parses a memory quantity ("512Mi", "2Gi", "1000000", "1G") into bytes.
pub fn memory_bytes(q: &str) -> Option<f64> {
    const UNITS: [(&str, f64); 8] =
        [("Ki", 1024.0), ("Mi", 1048576.0), ("Gi", 1073741824.0), ("Ti", 1099511627776.0), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12)];
    for (suffix, mult) in UNITS {
        if let Some(n) = q.strip_suffix(suffix) {
            return n.parse::<f64>().ok().map(|v| v * mult);
        }
    }
    q.parse::<f64>().ok()
}

/// Node usage from metrics.k8s.io: `None` when the API is not served.
async fn node_metrics(client: &Client) -> Option<HashMap<String, (f64, f64)>> {
    let req = http::Request::get("/apis/metrics.k8s.io/v1beta1/nodes").body(Vec::new()).ok()?;
    let v: serde_json::Value = client.request(req).await.ok()?;
    let items = v.get("items")?.as_array()?;
    Some(
        items
            .iter()
            .filter_map(|i| {
                let name = i.pointer("/metadata/name")?.as_str()?.to_string();
                let cpu = cpu_cores(i.pointer("/usage/cpu")?.as_str()?)?;
                let mem = memory_bytes(i.pointer("/usage/memory")?.as_str()?)?;
                Some((name, (cpu, mem)))
            })
            .collect(),
    )
}

fn node_row(n: &Node, metrics: Option<&HashMap<String, (f64, f64)>>) -> NodeRow {
    let name = n.metadata.name.clone().unwrap_or_default();
    let st = n.status.as_ref();
    let conditions = st.and_then(|s| s.conditions.as_ref()).map(Vec::as_slice).unwrap_or(&[]);
    let ready = conditions.iter().find(|c| c.type_ == "Ready").map(|c| c.status.clone()).unwrap_or_else(|| "Unknown".into());
    let pressure = conditions.iter().filter(|c| c.type_.ends_with("Pressure") && c.status == "True").map(|c| c.type_.clone()).collect();
    let roles =
        n.metadata.labels.iter().flatten().filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/").map(String::from)).collect();
    let usage = metrics.and_then(|m| m.get(&name));
    let alloc = st.and_then(|s| s.allocatable.as_ref());
    let cpu_alloc = alloc.and_then(|a| a.get("cpu")).and_then(|q| cpu_cores(&q.0));
    let mem_alloc = alloc.and_then(|a| a.get("memory")).and_then(|q| memory_bytes(&q.0));
    NodeRow {
        ready,
        cordoned: n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false),
        pressure,
        kubelet_version: st.and_then(|s| s.node_info.as_ref()).map(|i| i.kubelet_version.clone()),
        roles,
        age_seconds: n.metadata.creation_timestamp.as_ref().map(|t| now_secs() - t.0.as_second()),
        cpu_percent: usage.zip(cpu_alloc).map(|((c, _), a)| (c / a * 100.0).round()),
        memory_percent: usage.zip(mem_alloc).map(|((_, m), a)| (m / a * 100.0).round()),
        name,
    }
}

/// Pods that are failed, unknown, stuck waiting, or restarting a lot
/// recently (the health rules' restart window).
fn failing(p: &Pod, rules: &Rules, now: Timestamp) -> Option<PodRow> {
    let st = p.status.as_ref()?;
    let phase = st.phase.clone().unwrap_or_default();
    let containers: Vec<_> = st.container_statuses.iter().flatten().chain(st.init_container_statuses.iter().flatten()).collect();
    let restarts = containers.iter().map(|c| c.restart_count).max().unwrap_or(0);
    let waiting = containers.iter().find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone());
    let last_state = containers.iter().find_map(|c| {
        let t = c.last_state.as_ref()?.terminated.as_ref()?;
        Some(format!("terminated: {} (exit {})", t.reason.clone().unwrap_or_default(), t.exit_code))
    });
    let bad = matches!(phase.as_str(), "Failed" | "Unknown")
        || waiting.as_deref().is_some_and(|w| BAD_WAITING.contains(&w))
        || containers.iter().any(|c| restarts_count(c, rules, now).is_some());
    bad.then(|| PodRow {
        namespace: p.metadata.namespace.clone().unwrap_or_default(),
        name: p.metadata.name.clone().unwrap_or_default(),
        reason: waiting.or_else(|| st.reason.clone()),
        phase,
        restarts,
        last_state,
        node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
    })
}

fn event_row(e: &Event) -> EventRow {
    let o = &e.involved_object;
    EventRow {
        namespace: o.namespace.clone().unwrap_or_default(),
        object: format!("{}/{}", o.kind.clone().unwrap_or_default().to_lowercase(), o.name.clone().unwrap_or_default()),
        reason: e.reason.clone().unwrap_or_default(),
        message: e.message.clone().unwrap_or_default(),
        count: e.count.unwrap_or(1),
        last_seen: e.last_timestamp.as_ref().map(|t| t.0.to_string()),
    }
}

/// A list's items; a forbidden list is recorded in `forbidden` and empty.
fn take<K>(r: kube::Result<kube::core::ObjectList<K>>, what: &str, context: &str, forbidden: &mut Vec<String>) -> Result<Vec<K>>
where
    K: Clone,
{
    match r {
        Ok(l) => Ok(l.items),
        Err(e) => match classify(e, context) {
            Error::Forbidden(_) => {
                forbidden.push(what.to_string());
                Ok(vec![])
            }
            other => Err(other),
        },
    }
}

pub async fn details(client: &Client, context: &str) -> Result<ClusterDetails> {
    let mut forbidden = Vec::new();
    let (nodes, pods, events) = join3(
        Api::<Node>::all(client.clone()).list(&ListParams::default()),
        Api::<Pod>::all(client.clone()).list(&ListParams::default()),
        Api::<Event>::all(client.clone()).list(&ListParams::default().fields("type=Warning")),
    )
    .await;
    let nodes: Vec<Node> = take(nodes, "nodes", context, &mut forbidden)?;
    let pods: Vec<Pod> = take(pods, "pods", context, &mut forbidden)?;
    let mut events: Vec<Event> = take(events, "events", context, &mut forbidden)?;
    events.sort_by_key(|e| std::cmp::Reverse(event_time(e)));
    let metrics = node_metrics(client).await;
    Ok(ClusterDetails {
        context: context.into(),
        nodes: nodes.iter().map(|n| node_row(n, metrics.as_ref())).collect(),
        failing_pods: {
            let (rules, now) = (Rules::from_env(), Timestamp::now());
            pods.iter().filter_map(|p| failing(p, &rules, now)).collect()
        },
        warnings: events.iter().take(200).map(event_row).collect(),
        metrics_available: metrics.is_some(),
        forbidden,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(cpu_cores("250m"), Some(0.25));
        assert_eq!(cpu_cores("2"), Some(2.0));
        assert_eq!(cpu_cores("1500000000n"), Some(1.5));
        assert_eq!(memory_bytes("512Mi"), Some(536870912.0));
        assert_eq!(memory_bytes("1G"), Some(1e9));
        assert_eq!(memory_bytes("1024"), Some(1024.0));
        assert_eq!(cpu_cores("abc"), None);
    }
}

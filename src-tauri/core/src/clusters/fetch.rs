//! Reading a cluster snapshot: the lists health is computed from, fetched
//! concurrently. What the user may not read becomes a finding
//! ("forbidden: list nodes"); the rest still counts.

use futures::future::join5;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::ListParams;
use kube::{Api, Client};
use serde::de::DeserializeOwned;

use super::model::{Finding, Severity};
use crate::connectors::kube::classify;
use crate::error::Error;

/// The objects a health verdict is computed from.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub nodes: Vec<Node>,
    pub system_pods: Vec<Pod>,
    pub deployments: Vec<Deployment>,
    pub statefulsets: Vec<StatefulSet>,
    pub daemonsets: Vec<DaemonSet>,
    /// Warning events, newest first.
    pub warnings: Vec<Event>,
    /// Lists that could not be read (forbidden, failed).
    pub gaps: Vec<Finding>,
}

/// Lists without which there is no verdict: a cluster whose nodes and
/// system pods cannot be seen is not healthy, it is unassessed (a token that
/// may not list them would otherwise pass a gate as HEALTHY with 0/0 nodes).
const ESSENTIAL: &[&str] = &["nodes", "pods in kube-system"];

/// The finding for a list this identity may not read: Info for the optional
/// ones, Warning (so the verdict is not Healthy) for the essential ones.
pub(crate) fn forbidden_gap(what: &str) -> Finding {
    let (severity, message) = if ESSENTIAL.contains(&what) {
        (
            Severity::Warning,
            format!(
                "forbidden: list {what} — health cannot be assessed without it; grant this identity list on {what} (e.g. the view ClusterRole plus nodes)"
            ),
        )
    } else {
        (Severity::Info, format!("forbidden: list {what}"))
    };
    Finding { severity, kind: "forbidden".into(), object: what.into(), message }
}

async fn list<K>(api: Api<K>, lp: ListParams, what: &str, context: &str, gaps: &mut Vec<Finding>) -> Vec<K>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    match api.list(&lp).await {
        Ok(l) => l.items,
        Err(e) => {
            gaps.push(match classify(e, context) {
                Error::Forbidden(_) => forbidden_gap(what),
                other => Finding {
                    severity: Severity::Warning,
                    kind: "api".into(),
                    object: what.into(),
                    message: format!("cannot list {what}: {other}"),
                },
            });
            vec![]
        }
    }
}

/// Reads everything at once (five lists in parallel).
pub async fn snapshot(client: &Client, context: &str) -> Snapshot {
    let mut g = [vec![], vec![], vec![], vec![], vec![], vec![]];
    let [g0, g1, g2, g3, g4, g5] = &mut g;
    let ((nodes, system_pods, deployments, statefulsets, daemonsets), mut warnings) = futures::join!(
        join5(
            list(Api::<Node>::all(client.clone()), ListParams::default(), "nodes", context, g0),
            list(Api::<Pod>::namespaced(client.clone(), "kube-system"), ListParams::default(), "pods in kube-system", context, g1),
            list(Api::<Deployment>::all(client.clone()), ListParams::default(), "deployments", context, g2),
            list(Api::<StatefulSet>::all(client.clone()), ListParams::default(), "statefulsets", context, g3),
            list(Api::<DaemonSet>::all(client.clone()), ListParams::default(), "daemonsets", context, g4),
        ),
        list(Api::<Event>::all(client.clone()), ListParams::default().fields("type=Warning"), "events", context, g5),
    );
    warnings.sort_by_key(|e| std::cmp::Reverse(event_time(e)));
    Snapshot { nodes, system_pods, deployments, statefulsets, daemonsets, warnings, gaps: g.into_iter().flatten().collect() }
}

/// The most recent time an event was seen (seconds since the epoch).
pub fn event_time(e: &Event) -> i64 {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .or_else(|| e.event_time.as_ref().map(|t| t.0.as_second()))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0.as_second()))
        .unwrap_or(0)
}

//! Pure evaluation of a cluster snapshot into findings and a verdict: no I/O,
//! so every rule is unit-tested on hand-made objects.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};

use super::model::{Finding, NodeSummary, Severity, Verdict};

/// Restart count from which a container is reported.
pub const RESTARTS_WARN: i32 = 5;
/// Waiting reasons that mean a pod is stuck.
pub const BAD_WAITING: &[&str] =
    &["CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError", "InvalidImageName"];

fn f(severity: Severity, kind: &str, object: String, message: String) -> Finding {
    Finding { severity, kind: kind.into(), object, message }
}

fn name_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

fn ns_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    meta.namespace.clone().unwrap_or_default()
}

/// Ready / pressure / cordon state of every node.
pub fn nodes(nodes: &[Node], out: &mut Vec<Finding>) -> NodeSummary {
    let mut s = NodeSummary { total: nodes.len(), ..Default::default() };
    for n in nodes {
        let name = name_of(&n.metadata);
        let conditions = n.status.as_ref().and_then(|st| st.conditions.as_ref()).map(Vec::as_slice).unwrap_or(&[]);
        let ready = conditions.iter().find(|c| c.type_ == "Ready");
        match ready.map(|c| c.status.as_str()) {
            Some("True") => s.ready += 1,
            Some(status) => {
                let why = ready.and_then(|c| c.reason.clone()).unwrap_or_default();
                let state = if status == "Unknown" { "Unknown (kubelet not reporting)" } else { "NotReady" };
                out.push(f(Severity::Critical, "node", format!("node/{name}"), format!("node {name} is {state} {why}").trim().to_string()));
            }
            None => out.push(f(Severity::Warning, "node", format!("node/{name}"), format!("node {name} reports no Ready condition"))),
        }
        let pressures: Vec<&str> = conditions
            .iter()
            .filter(|c| matches!(c.type_.as_str(), "MemoryPressure" | "DiskPressure" | "PIDPressure") && c.status == "True")
            .map(|c| c.type_.as_str())
            .collect();
        if !pressures.is_empty() {
            s.pressure += 1;
            out.push(f(Severity::Warning, "node", format!("node/{name}"), format!("node {name} has {}", pressures.join(", "))));
        }
        if n.spec.as_ref().and_then(|sp| sp.unschedulable).unwrap_or(false) {
            s.cordoned += 1;
            out.push(f(Severity::Warning, "node", format!("node/{name}"), format!("node {name} is cordoned (unschedulable)")));
        }
    }
    s
}

/// Failed/Unknown phases, stuck containers and restart storms in `pods`.
pub fn pods(pods: &[Pod], out: &mut Vec<Finding>) {
    for p in pods {
        let (ns, name) = (ns_of(&p.metadata), name_of(&p.metadata));
        let object = format!("{ns}/pod/{name}");
        let Some(st) = &p.status else { continue };
        match st.phase.as_deref() {
            Some("Failed") => out.push(f(
                Severity::Critical,
                "pod",
                object.clone(),
                format!("pod {ns}/{name} Failed{}", st.reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default()),
            )),
            Some("Unknown") => {
                out.push(f(Severity::Critical, "pod", object.clone(), format!("pod {ns}/{name} is in phase Unknown (node lost?)")))
            }
            _ => {}
        }
        let containers = st.container_statuses.iter().flatten().chain(st.init_container_statuses.iter().flatten());
        for c in containers {
            if let Some(reason) = c.state.as_ref().and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.as_deref()) {
                if BAD_WAITING.contains(&reason) {
                    out.push(f(
                        Severity::Critical,
                        "pod",
                        object.clone(),
                        format!("pod {ns}/{name} container {} is {reason} ({} restarts)", c.name, c.restart_count),
                    ));
                    continue;
                }
            }
            if c.restart_count >= RESTARTS_WARN {
                out.push(f(
                    Severity::Warning,
                    "pod",
                    object.clone(),
                    format!("pod {ns}/{name} container {} restarted {} times", c.name, c.restart_count),
                ));
            }
        }
    }
}

/// Deployments, StatefulSets and DaemonSets that lack available replicas.
pub fn workloads(deployments: &[Deployment], statefulsets: &[StatefulSet], daemonsets: &[DaemonSet], out: &mut Vec<Finding>) {
    for d in deployments {
        let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
        let st = d.status.as_ref();
        let available = st.and_then(|s| s.available_replicas).unwrap_or(0);
        let unavailable = st.and_then(|s| s.unavailable_replicas).unwrap_or(0).max(want - available);
        if unavailable > 0 {
            let (ns, name) = (ns_of(&d.metadata), name_of(&d.metadata));
            out.push(f(
                Severity::Warning,
                "workload",
                format!("{ns}/deployment/{name}"),
                format!("deployment {ns}/{name}: {available}/{want} available"),
            ));
        }
    }
    for s in statefulsets {
        let want = s.spec.as_ref().and_then(|sp| sp.replicas).unwrap_or(1);
        let ready = s.status.as_ref().and_then(|st| st.ready_replicas).unwrap_or(0);
        if ready < want {
            let (ns, name) = (ns_of(&s.metadata), name_of(&s.metadata));
            out.push(f(
                Severity::Warning,
                "workload",
                format!("{ns}/statefulset/{name}"),
                format!("statefulset {ns}/{name}: {ready}/{want} ready"),
            ));
        }
    }
    for d in daemonsets {
        let Some(st) = &d.status else { continue };
        let unavailable = st.number_unavailable.unwrap_or(0).max(st.desired_number_scheduled - st.number_available.unwrap_or(0));
        if unavailable > 0 {
            let (ns, name) = (ns_of(&d.metadata), name_of(&d.metadata));
            out.push(f(
                Severity::Warning,
                "workload",
                format!("{ns}/daemonset/{name}"),
                format!("daemonset {ns}/{name}: {}/{} available", st.number_available.unwrap_or(0), st.desired_number_scheduled),
            ));
        }
    }
}

/// Recent Warning events (already filtered by the fetch), newest first, at most `max`.
pub fn events(events: &[Event], max: usize, out: &mut Vec<Finding>) {
    for e in events.iter().take(max) {
        let obj = &e.involved_object;
        let object = format!(
            "{}/{}/{}",
            obj.namespace.clone().unwrap_or_default(),
            obj.kind.clone().unwrap_or_default().to_lowercase(),
            obj.name.clone().unwrap_or_default()
        );
        out.push(f(
            Severity::Info,
            "event",
            object,
            format!("{}: {} (×{})", e.reason.clone().unwrap_or_default(), e.message.clone().unwrap_or_default(), e.count.unwrap_or(1)),
        ));
    }
}

/// Degraded when anything Warning or worse was found.
pub fn verdict(findings: &[Finding]) -> Verdict {
    if findings.iter().any(|f| f.severity >= Severity::Warning) {
        Verdict::Degraded
    } else {
        Verdict::Healthy
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        ContainerState, ContainerStateWaiting, ContainerStatus, NodeCondition, NodeSpec, NodeStatus, PodStatus,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn node(name: &str, conditions: &[(&str, &str)], cordoned: bool) -> Node {
        Node {
            metadata: ObjectMeta { name: Some(name.into()), ..Default::default() },
            spec: Some(NodeSpec { unschedulable: Some(cordoned), ..Default::default() }),
            status: Some(NodeStatus {
                conditions: Some(
                    conditions
                        .iter()
                        .map(|(t, s)| NodeCondition { type_: t.to_string(), status: s.to_string(), ..Default::default() })
                        .collect(),
                ),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn node_rules() {
        let mut out = vec![];
        let s = nodes(
            &[
                node("ok", &[("Ready", "True")], false),
                node("down", &[("Ready", "False")], false),
                node("lost", &[("Ready", "Unknown")], false),
                node("full", &[("Ready", "True"), ("DiskPressure", "True"), ("MemoryPressure", "False")], true),
            ],
            &mut out,
        );
        assert_eq!(s, NodeSummary { total: 4, ready: 2, cordoned: 1, pressure: 1 });
        let msgs: Vec<&str> = out.iter().map(|f| f.message.as_str()).collect();
        assert!(msgs.contains(&"node down is NotReady"), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.starts_with("node lost is Unknown")));
        assert!(msgs.contains(&"node full has DiskPressure"));
        assert!(msgs.contains(&"node full is cordoned (unschedulable)"));
        assert_eq!(verdict(&out), Verdict::Degraded);
    }

    fn pod(name: &str, phase: &str, waiting: Option<&str>, restarts: i32) -> Pod {
        Pod {
            metadata: ObjectMeta { name: Some(name.into()), namespace: Some("kube-system".into()), ..Default::default() },
            status: Some(PodStatus {
                phase: Some(phase.into()),
                container_statuses: Some(vec![ContainerStatus {
                    name: "c".into(),
                    restart_count: restarts,
                    state: waiting.map(|r| ContainerState {
                        waiting: Some(ContainerStateWaiting { reason: Some(r.into()), message: None }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn pod_rules() {
        let mut out = vec![];
        pods(
            &[
                pod("fine", "Running", None, 0),
                pod("crash", "Running", Some("CrashLoopBackOff"), 7),
                pod("pull", "Pending", Some("ImagePullBackOff"), 0),
                pod("dead", "Failed", None, 0),
                pod("gone", "Unknown", None, 0),
                pod("flappy", "Running", None, 6),
                pod("starting", "Pending", Some("ContainerCreating"), 0),
            ],
            &mut out,
        );
        let objects: Vec<&str> = out.iter().map(|f| f.object.as_str()).collect();
        assert_eq!(
            objects,
            ["kube-system/pod/crash", "kube-system/pod/pull", "kube-system/pod/dead", "kube-system/pod/gone", "kube-system/pod/flappy"]
        );
        assert_eq!(out[0].severity, Severity::Critical);
        assert_eq!(out[4].severity, Severity::Warning);
    }

    #[test]
    fn healthy_when_only_info() {
        let info = vec![Finding {
            severity: Severity::Info,
            kind: "forbidden".into(),
            object: "nodes".into(),
            message: "forbidden: list nodes".into(),
        }];
        assert_eq!(verdict(&info), Verdict::Healthy);
        assert_eq!(verdict(&[]), Verdict::Healthy);
    }
}

//! Pure evaluation of a cluster snapshot into findings and a verdict: no I/O,
//! so every rule is unit-tested on hand-made objects.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ContainerStatus, Event, Node, Pod};
use k8s_openapi::jiff::Timestamp;

use super::model::{Finding, NodeSummary, Severity, Verdict};

/// Restart count from which a container is reported.
pub const RESTARTS_WARN: i32 = 5;
/// Restarts count only when the container last exited this recently.
pub const RESTART_WINDOW: Duration = Duration::from_secs(3600);
/// Environment variable overriding [`Rules::restart_window`], in seconds.
pub const ENV_RESTART_WINDOW: &str = "OPSDECK_HEALTH_RESTART_WINDOW_SECS";
/// Environment variable overriding [`Rules::cordoned`]: `info`, `warning` or `critical`.
pub const ENV_CORDONED: &str = "OPSDECK_HEALTH_CORDONED";

/// How a snapshot is judged where a fixed rule would raise false alarms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// A container with [`RESTARTS_WARN`] or more restarts is reported only if
    /// its last termination (`lastState.terminated.finishedAt`) is within
    /// this window: restarts from last week, followed by a week of running,
    /// are history, not a problem. Without that timestamp it is reported.
    pub restart_window: Duration,
    /// Severity of a cordoned node. Info by default: cordoning is what an
    /// operator does on purpose (drain, maintenance), so on its own it does
    /// not make a cluster Degraded; Warning restores that.
    pub cordoned: Severity,
}

impl Default for Rules {
    fn default() -> Self {
        Rules { restart_window: RESTART_WINDOW, cordoned: Severity::Info }
    }
}

impl Rules {
    /// The defaults, overridden by [`ENV_RESTART_WINDOW`] and [`ENV_CORDONED`]
    /// (read by the CLI and the app alike). A value that does not parse is
    /// ignored with a warning in the log, never a failed health check.
    pub fn from_env() -> Rules {
        let mut r = Rules::default();
        if let Ok(v) = std::env::var(ENV_RESTART_WINDOW) {
            match v.trim().parse::<u64>() {
                Ok(secs) => r.restart_window = Duration::from_secs(secs),
                Err(_) => tracing::warn!("{ENV_RESTART_WINDOW}={v:?} is not a number of seconds; using {}s", r.restart_window.as_secs()),
            }
        }
        if let Ok(v) = std::env::var(ENV_CORDONED) {
            match parse_severity(&v) {
                Some(sev) => r.cordoned = sev,
                None => tracing::warn!("{ENV_CORDONED}={v:?} is not info, warning or critical; using info"),
            }
        }
        r
    }
}

fn parse_severity(s: &str) -> Option<Severity> {
    match s.trim().to_ascii_lowercase().as_str() {
        "info" => Some(Severity::Info),
        "warning" | "warn" => Some(Severity::Warning),
        "critical" => Some(Severity::Critical),
        _ => None,
    }
}

/// Whether a container's restarts count at `now`: [`RESTARTS_WARN`] or more,
/// and its last exit within [`Rules::restart_window`] (or not known). Returns
/// the seconds since that exit when known. Shared by the findings and the
/// details view's failing pods.
pub fn restarts_count(c: &ContainerStatus, rules: &Rules, now: Timestamp) -> Option<Option<i64>> {
    if c.restart_count < RESTARTS_WARN {
        return None;
    }
    let last_exit = c.last_state.as_ref().and_then(|s| s.terminated.as_ref()).and_then(|t| t.finished_at.as_ref());
    match last_exit.map(|t| now.as_second() - t.0.as_second()) {
        Some(secs) if secs > rules.restart_window.as_secs() as i64 => None,
        known => Some(known),
    }
}

/// "42 s", "5 min", "3 h", "2 d": how long ago, for messages.
fn ago(secs: i64) -> String {
    match secs.max(0) {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}
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
pub fn nodes(nodes: &[Node], rules: &Rules, out: &mut Vec<Finding>) -> NodeSummary {
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
            out.push(f(rules.cordoned, "node", format!("node/{name}"), format!("node {name} is cordoned (unschedulable)")));
        }
    }
    s
}

/// Failed/Unknown phases, stuck containers and restart storms in `pods`
/// (restarts judged at `now` against [`Rules::restart_window`]).
pub fn pods(pods: &[Pod], rules: &Rules, now: Timestamp, out: &mut Vec<Finding>) {
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
            // Restarts that ended before the window are history: not reported.
            if let Some(since_exit) = restarts_count(c, rules, now) {
                let message = match since_exit {
                    Some(secs) => {
                        format!("pod {ns}/{name} container {} restarted {} times, last exit {} ago", c.name, c.restart_count, ago(secs))
                    }
                    None => format!("pod {ns}/{name} container {} restarted {} times", c.name, c.restart_count),
                };
                out.push(f(Severity::Warning, "pod", object.clone(), message));
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
    use k8s_openapi::api::core::v1::ContainerStateTerminated;
    use k8s_openapi::api::core::v1::{
        ContainerState, ContainerStateWaiting, ContainerStatus, NodeCondition, NodeSpec, NodeStatus, PodStatus,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

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
            &Rules::default(),
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
            &Rules::default(),
            Timestamp::now(),
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
    fn a_cordoned_node_alone_is_info_unless_configured() {
        let cordoned = [node("ok", &[("Ready", "True")], false), node("drained", &[("Ready", "True")], true)];
        let mut out = vec![];
        let s = nodes(&cordoned, &Rules::default(), &mut out);
        assert_eq!(s.cordoned, 1, "still counted");
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].severity, out[0].message.as_str()), (Severity::Info, "node drained is cordoned (unschedulable)"));
        assert_eq!(verdict(&out), Verdict::Healthy, "cordoning on purpose is not a degraded cluster");

        let strict = Rules { cordoned: Severity::Warning, ..Rules::default() };
        let mut out = vec![];
        nodes(&cordoned, &strict, &mut out);
        assert_eq!(out[0].severity, Severity::Warning);
        assert_eq!(verdict(&out), Verdict::Degraded);
    }

    /// A pod whose container last exited `secs_ago` seconds before `now` (None: no lastState).
    fn restarted(name: &str, restarts: i32, now: Timestamp, secs_ago: Option<i64>) -> Pod {
        let mut p = pod(name, "Running", None, restarts);
        let last = secs_ago.map(|s| ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: 1,
                finished_at: Some(Time(Timestamp::from_second(now.as_second() - s).unwrap())),
                ..Default::default()
            }),
            ..Default::default()
        });
        if let Some(cs) = p.status.as_mut().and_then(|st| st.container_statuses.as_mut()) {
            cs[0].last_state = last;
        }
        p
    }

    #[test]
    fn restarts_count_only_when_the_last_exit_is_recent() {
        let now = Timestamp::now();
        let pods_ = [
            restarted("recent", 6, now, Some(300)),
            restarted("history", 40, now, Some(2 * 3600)),
            restarted("unknown", 6, now, None),
            restarted("few", 2, now, Some(10)),
        ];
        let mut out = vec![];
        pods(&pods_, &Rules::default(), now, &mut out);
        let msgs: Vec<&str> = out.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "pod kube-system/recent container c restarted 6 times, last exit 5 min ago",
                "pod kube-system/unknown container c restarted 6 times",
            ],
            "40 restarts that ended 2 h ago are outside the 1 h window; 2 restarts are below the threshold"
        );
        assert!(out.iter().all(|f| f.severity == Severity::Warning));

        // A wider window brings the old restarts back; a crash loop counts whatever the window.
        let wide = Rules { restart_window: Duration::from_secs(3 * 3600), ..Rules::default() };
        let mut out = vec![];
        pods(&pods_, &wide, now, &mut out);
        assert!(out.iter().any(|f| f.message == "pod kube-system/history container c restarted 40 times, last exit 2 h ago"), "{out:?}");
        let mut looping = restarted("loop", 50, now, Some(5 * 3600));
        if let Some(cs) = looping.status.as_mut().and_then(|st| st.container_statuses.as_mut()) {
            cs[0].state = Some(ContainerState {
                waiting: Some(ContainerStateWaiting { reason: Some("CrashLoopBackOff".into()), message: None }),
                ..Default::default()
            });
        }
        let mut out = vec![];
        pods(&[looping], &Rules::default(), now, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].severity, Severity::Critical);
    }

    #[test]
    fn rule_settings_parse() {
        assert_eq!(parse_severity(" Warning "), Some(Severity::Warning));
        assert_eq!(parse_severity("info"), Some(Severity::Info));
        assert_eq!(parse_severity("critical"), Some(Severity::Critical));
        assert_eq!(parse_severity("loud"), None);
        assert_eq!(Rules::default(), Rules { restart_window: RESTART_WINDOW, cordoned: Severity::Info });
        assert_eq!([ago(42), ago(300), ago(7300), ago(200_000), ago(-5)], ["42 s", "5 min", "2 h", "2 d", "0 s"]);
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

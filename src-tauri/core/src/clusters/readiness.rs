//! Waiting for workloads to roll out — the one wait of the Clusters
//! workspace, used by progressive rollouts (and their rollbacks), blue/green
//! and failover. A Deployment is rolled out when its controller has seen the
//! latest generation, every replica is updated and available and no old one
//! is left; it has failed when the controller reports its progress deadline
//! exceeded. StatefulSets (every replica updated to the update revision and
//! ready) and DaemonSets (every scheduled pod updated and available) likewise.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use kube::api::DynamicObject;
use kube::{Api, Client};
use serde::{Deserialize, Serialize};
pub use tokio_util::sync::CancellationToken;

use super::apply::Rollout;
use crate::connectors::kube::classify;
use crate::error::{Error, ErrorCode, Result};

/// A Deployment's rollout as read once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RolloutState {
    pub namespace: String,
    pub name: String,
    pub generation: i64,
    pub observed_generation: i64,
    pub desired: i32,
    /// Pods of every ReplicaSet (old ones too, while they go).
    pub replicas: i32,
    pub updated: i32,
    pub available: i32,
    /// The controller reported `ProgressDeadlineExceeded` for this generation.
    pub deadline_exceeded: bool,
}

impl RolloutState {
    /// Of a Deployment object.
    pub fn of(d: &Deployment) -> RolloutState {
        let st = d.status.clone().unwrap_or_default();
        let deadline_exceeded = st
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Progressing" && c.status == "False" && c.reason.as_deref() == Some("ProgressDeadlineExceeded"));
        RolloutState {
            namespace: d.metadata.namespace.clone().unwrap_or_else(|| "default".into()),
            name: d.metadata.name.clone().unwrap_or_default(),
            generation: d.metadata.generation.unwrap_or(0),
            observed_generation: st.observed_generation.unwrap_or(0),
            desired: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
            replicas: st.replicas.unwrap_or(0),
            updated: st.updated_replicas.unwrap_or(0),
            available: st.available_replicas.unwrap_or(0),
            deadline_exceeded,
        }
    }

    /// The controller has seen this generation.
    pub fn observed(&self) -> bool {
        self.observed_generation >= self.generation
    }

    /// The controller has seen this generation and every replica is updated and available, none old left.
    pub fn complete(&self) -> bool {
        self.observed() && self.updated == self.desired && self.available == self.desired && self.replicas == self.desired
    }

    /// The progress deadline was exceeded for this generation (a condition
    /// from before the controller saw it is about an earlier rollout).
    pub fn failed(&self) -> bool {
        self.observed() && self.deadline_exceeded
    }

    /// What is still missing (None: complete).
    pub fn waiting_for(&self) -> Option<String> {
        if !self.observed() {
            Some(format!("waiting for the controller to see generation {}", self.generation))
        } else if self.updated < self.desired {
            Some(format!("{}/{} updated", self.updated, self.desired))
        } else if self.replicas > self.updated {
            Some(format!("{} old replica(s) pending termination", self.replicas - self.updated))
        } else if self.available < self.desired {
            Some(format!("{}/{} available", self.available, self.desired))
        } else {
            None
        }
    }

    /// "2/3 available, 3/3 updated, generation 4 observed 4".
    pub fn summary(&self) -> String {
        format!(
            "{}/{} available, {}/{} updated, {} replicas, generation {} observed {}",
            self.available, self.desired, self.updated, self.desired, self.replicas, self.generation, self.observed_generation
        )
    }

    /// As the apply reports it.
    pub fn rollout(&self) -> Rollout {
        Rollout {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            desired: self.desired,
            updated: self.updated,
            available: self.available,
            done: self.complete(),
        }
    }
}

/// Reads the rollout state of `namespace/name` (its own deadline: `READ_TIMEOUT`).
pub async fn rollout_state(client: &Client, context: &str, namespace: &str, name: &str) -> Result<RolloutState> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
    let d = crate::error::with_timeout(format!("cluster \"{context}\""), READ_TIMEOUT, async {
        api.get(name).await.map_err(|e| classify(e, context))
    })
    .await?;
    Ok(RolloutState::of(&d))
}

/// Deadline of one read while waiting.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Time between two reads while waiting.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// A workload to wait for: a Deployment, StatefulSet or DaemonSet (group `apps`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workload {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Workload {
    pub fn deployment(namespace: &str, name: &str) -> Workload {
        Workload { kind: "Deployment".into(), namespace: namespace.into(), name: name.into() }
    }

    /// The workloads among `objects` (other kinds are not waited for), in order.
    pub fn of(objects: &[DynamicObject]) -> Vec<Workload> {
        objects
            .iter()
            .filter_map(|o| {
                let types = o.types.as_ref()?;
                let group = types.api_version.split('/').next().unwrap_or_default();
                let waited = matches!(types.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet");
                (group == "apps" && waited).then(|| Workload {
                    kind: types.kind.clone(),
                    namespace: o.metadata.namespace.clone().unwrap_or_else(|| "default".into()),
                    name: o.metadata.name.clone().unwrap_or_default(),
                })
            })
            .collect()
    }

    /// `deployment ns/name`.
    pub fn label(&self) -> String {
        format!("{} {}/{}", self.kind.to_lowercase(), self.namespace, self.name)
    }
}

/// One workload as read once.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadState {
    pub workload: Workload,
    pub rollout: Rollout,
    /// A Deployment's state in full.
    pub deployment: Option<RolloutState>,
    /// Still rolling out: what is missing.
    pub waiting: Option<String>,
    /// It will not roll out by itself (progress deadline exceeded).
    pub failed: Option<String>,
}

/// Reads where one workload stands.
pub async fn workload_state(client: &Client, context: &str, w: &Workload) -> Result<WorkloadState> {
    let (ns, name) = (w.namespace.as_str(), w.name.as_str());
    let read = async {
        match w.kind.as_str() {
            "Deployment" => {
                let d = Api::<Deployment>::namespaced(client.clone(), ns).get(name).await.map_err(|e| classify(e, context))?;
                Ok(deployment(w, &d))
            }
            "StatefulSet" => {
                let s = Api::<StatefulSet>::namespaced(client.clone(), ns).get(name).await.map_err(|e| classify(e, context))?;
                Ok(statefulset(w, &s))
            }
            "DaemonSet" => {
                let d = Api::<DaemonSet>::namespaced(client.clone(), ns).get(name).await.map_err(|e| classify(e, context))?;
                Ok(daemonset(w, &d))
            }
            other => Err(Error::invalid(format!("{other} {ns}/{name}: only Deployments, StatefulSets and DaemonSets are waited for"))),
        }
    };
    crate::error::with_timeout(format!("cluster \"{context}\""), READ_TIMEOUT, read).await
}

fn deployment(w: &Workload, d: &Deployment) -> WorkloadState {
    let s = RolloutState::of(d);
    let failed = s.failed().then(|| {
        let secs = d.spec.as_ref().and_then(|sp| sp.progress_deadline_seconds).unwrap_or(600);
        let msg = d
            .status
            .as_ref()
            .and_then(|st| st.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "Progressing"))
            .and_then(|c| c.message.clone())
            .unwrap_or_default();
        format!(
            "progress deadline exceeded ({secs} s): {msg} ({}/{} updated, {}/{} available)",
            s.updated, s.desired, s.available, s.desired
        )
    });
    let waiting = if failed.is_some() { None } else { s.waiting_for() };
    WorkloadState { workload: w.clone(), rollout: s.rollout(), deployment: Some(s), waiting, failed }
}

fn statefulset(w: &Workload, s: &StatefulSet) -> WorkloadState {
    let desired = s.spec.as_ref().and_then(|sp| sp.replicas).unwrap_or(1);
    let st = s.status.clone().unwrap_or_default();
    let (updated, ready) = (st.updated_replicas.unwrap_or(0), st.ready_replicas.unwrap_or(0));
    let observed = st.observed_generation.unwrap_or(0) >= s.metadata.generation.unwrap_or(0);
    let waiting = if !observed {
        Some("waiting for the controller to see the latest generation".to_string())
    } else if updated < desired || st.current_revision != st.update_revision {
        Some(format!("{updated}/{desired} updated"))
    } else if ready < desired {
        Some(format!("{ready}/{desired} ready"))
    } else {
        None
    };
    let rollout =
        Rollout { namespace: w.namespace.clone(), name: w.name.clone(), desired, updated, available: ready, done: waiting.is_none() };
    WorkloadState { workload: w.clone(), rollout, deployment: None, waiting, failed: None }
}

fn daemonset(w: &Workload, d: &DaemonSet) -> WorkloadState {
    let st = d.status.clone().unwrap_or_default();
    let desired = st.desired_number_scheduled;
    let (updated, available) = (st.updated_number_scheduled.unwrap_or(0), st.number_available.unwrap_or(0));
    let observed = st.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0);
    let waiting = if !observed {
        Some("waiting for the controller to see the latest generation".to_string())
    } else if updated < desired {
        Some(format!("{updated}/{desired} updated"))
    } else if available < desired {
        Some(format!("{available}/{desired} available"))
    } else {
        None
    };
    let rollout = Rollout { namespace: w.namespace.clone(), name: w.name.clone(), desired, updated, available, done: waiting.is_none() };
    WorkloadState { workload: w.clone(), rollout, deployment: None, waiting, failed: None }
}

/// Waits until every workload has rolled out on one cluster, at most
/// `limit`, reading them every [`POLL_EVERY`]; `on_read` sees every read.
/// Ends at once when one fails (progress deadline exceeded: a conflict
/// naming it), is not found, or `stop` is cancelled; any other failed read is
/// retried until `limit` (an API server restarting is not the end of a
/// rollout). Returns the last states read.
pub async fn wait_ready(
    client: &Client,
    context: &str,
    workloads: &[Workload],
    limit: Duration,
    stop: Option<&CancellationToken>,
    mut on_read: impl FnMut(&[WorkloadState]),
) -> Result<Vec<WorkloadState>> {
    let started = Instant::now();
    let never = CancellationToken::new();
    let stop = stop.unwrap_or(&never);
    loop {
        let read = futures::future::try_join_all(workloads.iter().map(|w| workload_state(client, context, w))).await;
        let last = match read {
            Ok(states) => {
                on_read(&states);
                let failed: Vec<String> =
                    states.iter().filter_map(|s| s.failed.as_ref().map(|f| format!("{}: {f}", s.workload.label()))).collect();
                if !failed.is_empty() {
                    return Err(Error::Conflict(format!("rollout failed on cluster \"{context}\": {}", failed.join("; "))));
                }
                let waiting: Vec<String> =
                    states.iter().filter_map(|s| s.waiting.as_ref().map(|f| format!("{}: {f}", s.workload.label()))).collect();
                if waiting.is_empty() {
                    return Ok(states);
                }
                waiting.join("; ")
            }
            Err(e) if e.code() == ErrorCode::NotFound => return Err(e),
            Err(e) => e.to_string(),
        };
        if started.elapsed() >= limit {
            return Err(Error::Timeout {
                what: format!("the rollout on cluster \"{context}\" (not complete; last seen: {last})"),
                secs: limit.as_secs().max(1),
            });
        }
        let pause = POLL_EVERY.min(limit.saturating_sub(started.elapsed())).max(Duration::from_millis(50));
        tokio::select! {
            _ = stop.cancelled() => {
                return Err(Error::Cancelled(format!("stopped while waiting for the rollout on cluster \"{context}\" ({last})")));
            }
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

/// [`wait_ready`] for the workloads among `objects` (a manifest); `on_wait`
/// hears what is still missing each time it changes.
pub async fn wait_rolled_out(
    client: &Client,
    context: &str,
    objects: &[DynamicObject],
    limit: Duration,
    stop: &CancellationToken,
    on_wait: &(dyn Fn(&str) + Send + Sync),
) -> Result<Vec<Rollout>> {
    let mut last = String::new();
    let states = wait_ready(client, context, &Workload::of(objects), limit, Some(stop), |states| {
        let why: Vec<String> = states.iter().filter_map(|s| s.waiting.as_ref().map(|w| format!("{}: {w}", s.workload.label()))).collect();
        let why = why.join("; ");
        if !why.is_empty() && why != last {
            on_wait(&why);
            last = why;
        }
    })
    .await?;
    Ok(states.into_iter().map(|s| s.rollout).collect())
}

/// [`wait_ready`] for one Deployment; `on_progress` sees every state read.
pub async fn wait_rollout(
    client: &Client,
    context: &str,
    namespace: &str,
    name: &str,
    limit: Duration,
    mut on_progress: impl FnMut(&RolloutState),
) -> Result<RolloutState> {
    let states = wait_ready(client, context, &[Workload::deployment(namespace, name)], limit, None, |states| {
        states.iter().filter_map(|s| s.deployment.as_ref()).for_each(&mut on_progress);
    })
    .await?;
    states.into_iter().find_map(|s| s.deployment).ok_or_else(|| Error::Internal(format!("deployment {namespace}/{name}: no state read")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(status: serde_json::Value) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "shop", "generation": 3},
            "spec": {"replicas": 2, "selector": {}, "template": {}},
            "status": status
        }))
        .unwrap()
    }

    #[test]
    fn complete_needs_the_generation_seen_and_every_replica_updated_and_available_with_no_old_one_left() {
        let done = deployment(json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}));
        assert!(RolloutState::of(&done).complete());
        let stale = deployment(json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}));
        assert!(!RolloutState::of(&stale).complete(), "the controller has not seen generation 3");
        let old_left = deployment(json!({"observedGeneration": 3, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2}));
        assert!(!RolloutState::of(&old_left).complete(), "an old pod is still there");
        let unavailable = deployment(json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1}));
        assert!(!RolloutState::of(&unavailable).complete());
        let s = RolloutState::of(&unavailable);
        assert_eq!((s.namespace.as_str(), s.name.as_str()), ("shop", "web"));
        assert_eq!(s.summary(), "1/2 available, 2/2 updated, 2 replicas, generation 3 observed 3");
    }

    #[test]
    fn a_deployment_state_says_what_it_waits_for_and_a_deadline_from_an_earlier_generation_does_not_fail_it() {
        let w = Workload::deployment("shop", "web");
        let old_left = deployment(json!({"observedGeneration": 3, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2}));
        let s = super::deployment(&w, &old_left);
        assert_eq!(
            (s.waiting.as_deref(), s.failed.as_deref(), s.rollout.done),
            (Some("1 old replica(s) pending termination"), None, false)
        );
        // The condition is about generation 2: the controller has not seen 3 yet.
        let earlier = deployment(json!({"observedGeneration": 2, "conditions": [
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}));
        let s = super::deployment(&w, &earlier);
        assert_eq!((s.waiting.as_deref(), s.failed.is_none()), (Some("waiting for the controller to see generation 3"), true));
        let failed = deployment(json!({"observedGeneration": 3, "replicas": 2, "updatedReplicas": 1, "conditions": [
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet web-2 has timed out progressing."}]}));
        let s = super::deployment(&w, &failed);
        assert_eq!(
            s.failed.as_deref(),
            Some("progress deadline exceeded (600 s): ReplicaSet web-2 has timed out progressing. (1/2 updated, 0/2 available)")
        );
        assert_eq!(w.label(), "deployment shop/web");
    }

    #[test]
    fn statefulsets_wait_for_the_update_revision_and_daemonsets_for_every_scheduled_pod() {
        let w = Workload { kind: "StatefulSet".into(), namespace: "db".into(), name: "pg".into() };
        let sts = |status: serde_json::Value| -> StatefulSet {
            serde_json::from_value(json!({"metadata": {"name": "pg", "generation": 2}, "spec": {"replicas": 3, "selector": {}, "template": {}, "serviceName": "pg"}, "status": status})).unwrap()
        };
        let mid = sts(
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "currentRevision": "pg-1", "updateRevision": "pg-2"}),
        );
        assert_eq!(statefulset(&w, &mid).waiting.as_deref(), Some("3/3 updated"));
        let done = sts(
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "currentRevision": "pg-2", "updateRevision": "pg-2"}),
        );
        assert!(statefulset(&w, &done).rollout.done);
        let w = Workload { kind: "DaemonSet".into(), namespace: "kube-system".into(), name: "agent".into() };
        let ds = |status: serde_json::Value| -> DaemonSet {
            serde_json::from_value(
                json!({"metadata": {"name": "agent", "generation": 1}, "spec": {"selector": {}, "template": {}}, "status": status}),
            )
            .unwrap()
        };
        let short = ds(
            json!({"observedGeneration": 1, "desiredNumberScheduled": 4, "currentNumberScheduled": 4, "numberMisscheduled": 0, "numberReady": 3, "updatedNumberScheduled": 4, "numberAvailable": 3}),
        );
        assert_eq!(daemonset(&w, &short).waiting.as_deref(), Some("3/4 available"));
        // Only apps/v1 workloads of a manifest are waited for.
        let objects: Vec<DynamicObject> = serde_json::from_value(json!([
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}},
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}},
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs"}},
            {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"}}
        ]))
        .unwrap();
        let names: Vec<String> = Workload::of(&objects).iter().map(Workload::label).collect();
        assert_eq!(names, vec!["deployment shop/web".to_string(), "daemonset default/agent".to_string()]);
    }

    #[test]
    fn the_progress_deadline_is_read_from_the_progressing_condition() {
        let d = deployment(json!({"observedGeneration": 3, "conditions": [
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}));
        assert!(RolloutState::of(&d).deadline_exceeded);
        let d = deployment(json!({"conditions": [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}]}));
        assert!(!RolloutState::of(&d).deadline_exceeded);
    }
}

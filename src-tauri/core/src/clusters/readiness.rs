//! Waiting for a Deployment's rollout to complete: the controller has seen
//! the latest generation, every replica is updated and available, no old
//! replica is left, and the progress deadline has not been exceeded. Shared by
//! blue/green, failover and progressive rollouts.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use kube::{Api, Client};
use serde::{Deserialize, Serialize};

use crate::connectors::kube::classify;
use crate::error::{Error, Result};

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

    /// The controller has seen this generation and every replica is updated and available, none old left.
    pub fn complete(&self) -> bool {
        self.observed_generation >= self.generation
            && self.updated == self.desired
            && self.available == self.desired
            && self.replicas == self.desired
    }

    /// "2/3 available, 3/3 updated, generation 4 observed 4".
    pub fn summary(&self) -> String {
        format!(
            "{}/{} available, {}/{} updated, {} replicas, generation {} observed {}",
            self.available, self.desired, self.updated, self.desired, self.replicas, self.generation, self.observed_generation
        )
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

/// Waits until the rollout of `namespace/name` is complete ([`RolloutState::complete`]),
/// at most `limit`. Fails at once when the controller reports the progress
/// deadline exceeded; a read that fails is retried until `limit` (an API
/// server restarting is not the end of a rollout). `on_progress` sees every
/// state read.
pub async fn wait_rollout(
    client: &Client,
    context: &str,
    namespace: &str,
    name: &str,
    limit: Duration,
    mut on_progress: impl FnMut(&RolloutState),
) -> Result<RolloutState> {
    let started = Instant::now();
    loop {
        let last = match rollout_state(client, context, namespace, name).await {
            Ok(s) => {
                on_progress(&s);
                if s.complete() {
                    return Ok(s);
                }
                if s.deadline_exceeded && s.observed_generation >= s.generation {
                    return Err(Error::Remote {
                        code: crate::error::ErrorCode::Timeout,
                        message: format!(
                            "deployment {namespace}/{name} on cluster \"{context}\" exceeded its progress deadline ({}); see its events and pods",
                            s.summary()
                        ),
                        source: Box::new(Error::Internal("ProgressDeadlineExceeded".into())),
                    });
                }
                s.summary()
            }
            Err(e) if e.code() == crate::error::ErrorCode::NotFound => return Err(e),
            Err(e) => e.to_string(),
        };
        if started.elapsed() >= limit {
            let what = format!("deployment {namespace}/{name} on cluster \"{context}\" (rollout not complete; last seen: {last})");
            return Err(Error::Timeout { what, secs: limit.as_secs().max(1) });
        }
        tokio::time::sleep(POLL_EVERY.min(limit.saturating_sub(started.elapsed())).max(Duration::from_millis(50))).await;
    }
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
    fn the_progress_deadline_is_read_from_the_progressing_condition() {
        let d = deployment(json!({"observedGeneration": 3, "conditions": [
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}));
        assert!(RolloutState::of(&d).deadline_exceeded);
        let d = deployment(json!({"conditions": [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}]}));
        assert!(!RolloutState::of(&d).deadline_exceeded);
    }
}

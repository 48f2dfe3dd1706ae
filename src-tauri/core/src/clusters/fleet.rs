//! The fleet view of workloads: the same Deployment (namespace and name)
//! across contexts, side by side, with image and replica drift flagged and
//! the contexts where it is missing. Each context is read concurrently with
//! its own deadline; a context that cannot be read is reported, not counted
//! as one where the Deployment is missing.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::join_all;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, ListParams};
use serde::{Deserialize, Serialize};

use crate::connectors::kube::{classify, client_for, read_kubeconfig, resolve_contexts};
use crate::error::{Error, Result};
use crate::secrets::Secret;

/// One Deployment in one context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct FleetPlacement {
    pub context: String,
    /// Desired replicas (`spec.replicas`, 1 when unset).
    pub replicas: i32,
    pub ready: i32,
    /// `container=image` of each container of the pod template, in order.
    pub images: Vec<String>,
}

/// The same Deployment across the contexts read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct FleetWorkload {
    pub namespace: String,
    pub name: String,
    pub placements: Vec<FleetPlacement>,
    /// Contexts (read successfully) that do not have it.
    pub missing: Vec<String>,
    /// The contexts do not all run the same images.
    pub image_drift: bool,
    /// The contexts do not all want the same number of replicas.
    pub replica_drift: bool,
}

impl FleetWorkload {
    pub fn drifted(&self) -> bool {
        self.image_drift || self.replica_drift || !self.missing.is_empty()
    }
}

/// A context that could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct FleetError {
    pub context: String,
    pub code: crate::error::ErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct FleetReport {
    /// The contexts read successfully.
    pub contexts: Vec<String>,
    pub errors: Vec<FleetError>,
    /// By namespace and name.
    pub workloads: Vec<FleetWorkload>,
}

fn placement(context: &str, d: &Deployment) -> FleetPlacement {
    let images = d
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|p| p.containers.iter().map(|c| format!("{}={}", c.name, c.image.as_deref().unwrap_or(""))).collect())
        .unwrap_or_default();
    FleetPlacement {
        context: context.into(),
        replicas: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
        ready: d.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0),
        images,
    }
}

/// Groups the Deployments read per context by namespace and name, and flags drift.
pub fn compare(read: &[(String, Vec<Deployment>)]) -> Vec<FleetWorkload> {
    let mut by_key: BTreeMap<(String, String), Vec<FleetPlacement>> = BTreeMap::new();
    for (context, deployments) in read {
        for d in deployments {
            let key = (d.metadata.namespace.clone().unwrap_or_default(), d.metadata.name.clone().unwrap_or_default());
            by_key.entry(key).or_default().push(placement(context, d));
        }
    }
    by_key
        .into_iter()
        .map(|((namespace, name), placements)| {
            let missing = read.iter().map(|(c, _)| c).filter(|c| !placements.iter().any(|p| &p.context == *c)).cloned().collect();
            let image_drift = placements.windows(2).any(|w| w[0].images != w[1].images);
            let replica_drift = placements.windows(2).any(|w| w[0].replicas != w[1].replicas);
            FleetWorkload { namespace, name, placements, missing, image_drift, replica_drift }
        })
        .collect()
}

/// Reads the Deployments of every selected context of a kubeconfig (all
/// namespaces, or one), each within `limit`, and compares them.
pub async fn fleet_workloads(
    path: &str,
    selected: &[String],
    namespace: Option<&str>,
    token: Option<&Secret>,
    limit: Duration,
) -> Result<FleetReport> {
    let kubeconfig = read_kubeconfig(path)?;
    let contexts = resolve_contexts(&kubeconfig, path, selected)?;
    let reads = contexts.iter().map(|context| {
        let kc = kubeconfig.clone();
        async move {
            let run = async {
                let client = client_for(kc, context, token).await?;
                let api: Api<Deployment> = match namespace {
                    Some(ns) => Api::namespaced(client, ns),
                    None => Api::all(client),
                };
                api.list(&ListParams::default()).await.map(|l| l.items).map_err(|e| classify(e, context))
            };
            let out = crate::error::with_timeout(format!("cluster \"{context}\""), limit, run).await;
            (context.clone(), out)
        }
    });
    let mut read = Vec::new();
    let mut errors = Vec::new();
    for (context, out) in join_all(reads).await {
        match out {
            Ok(items) => read.push((context, items)),
            Err(e) => errors.push(FleetError { context, code: e.code(), message: e.to_string() }),
        }
    }
    if read.is_empty() && !errors.is_empty() {
        let all: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.context, e.message)).collect();
        let message = format!("no context could be read: {}", all.join("; "));
        // The class of the first failure (unreachable, auth, timeout, ...) gives the exit code.
        return Err(Error::Remote { code: errors[0].code, message: message.clone(), source: Box::new(Error::Internal(message)) });
    }
    Ok(FleetReport { contexts: read.iter().map(|(c, _)| c.clone()).collect(), workloads: compare(&read), errors })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(ns: &str, name: &str, replicas: i32, image: &str) -> Deployment {
        serde_json::from_value(serde_json::json!({
            "metadata": {"namespace": ns, "name": name},
            "spec": {"replicas": replicas, "selector": {}, "template": {"spec": {"containers": [{"name": "app", "image": image}]}}}
        }))
        .unwrap()
    }

    #[test]
    fn drift_and_missing_are_flagged() {
        let read = vec![
            ("a".to_string(), vec![dep("shop", "web", 3, "web:1"), dep("shop", "db", 1, "pg:16")]),
            ("b".to_string(), vec![dep("shop", "web", 3, "web:2"), dep("shop", "db", 1, "pg:16")]),
            ("c".to_string(), vec![dep("shop", "web", 5, "web:1")]),
        ];
        let w = compare(&read);
        let db = w.iter().find(|x| x.name == "db").unwrap();
        assert_eq!(db.missing, vec!["c".to_string()]);
        assert!(!db.image_drift && !db.replica_drift);
        let web = w.iter().find(|x| x.name == "web").unwrap();
        assert!(web.image_drift && web.replica_drift && web.missing.is_empty());
        assert_eq!(web.placements[1].images, vec!["app=web:2".to_string()]);
    }
}

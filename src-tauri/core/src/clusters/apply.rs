//! Server-side apply of a manifest (one or more YAML documents) to a cluster,
//! with what happened to each object and the rollout status of Deployments.

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{pinned_kind, Scope};
use kube::{Api, Client};
use serde::{Deserialize, Serialize};

use std::time::Duration;

use crate::connectors::errors::answer_lost;
use crate::connectors::kube::classify;
use crate::error::{Error, ErrorCode, Result};

/// Field manager recorded by the API server for Opsdeck's applies.
pub const FIELD_MANAGER: &str = "opsdeck";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct AppliedObject {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// created, configured, unchanged or failed; unknown when the answer
    /// was lost and reading the object back could not tell.
    pub action: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Rollout {
    pub namespace: String,
    pub name: String,
    pub desired: i32,
    pub updated: i32,
    pub available: i32,
    pub done: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ApplyResult {
    pub context: String,
    pub ok: bool,
    pub error: Option<String>,
    pub objects: Vec<AppliedObject>,
    pub rollouts: Vec<Rollout>,
}

/// Splits a manifest into objects (empty documents are skipped).
pub fn parse_manifest(manifest: &str) -> Result<Vec<DynamicObject>> {
    if manifest.len() > 8 * 1024 * 1024 {
        return Err(Error::invalid("manifest: larger than 8 MiB"));
    }
    let mut out = Vec::new();
    for (i, doc) in serde_norway::Deserializer::from_str(manifest).enumerate() {
        let value = serde_norway::Value::deserialize(doc).map_err(|e| Error::invalid(format!("manifest document {}: {e}", i + 1)))?;
        if value.is_null() {
            continue;
        }
        let obj: DynamicObject = serde_norway::from_value(value)
            .map_err(|e| Error::invalid(format!("manifest document {}: not a Kubernetes object: {e}", i + 1)))?;
        if obj.types.is_none() || obj.metadata.name.is_none() {
            return Err(Error::invalid(format!("manifest document {}: apiVersion, kind and metadata.name are required", i + 1)));
        }
        out.push(obj);
    }
    if out.is_empty() {
        return Err(Error::invalid("manifest: no objects"));
    }
    Ok(out)
}

/// Where one object of a manifest goes on one cluster: its API (namespaced
/// or not), its resource and its namespace (`default` when the manifest
/// names none and the kind is namespaced).
pub(crate) struct Target {
    pub api: Api<DynamicObject>,
    pub resource: ApiResource,
    pub namespace: Option<String>,
}

impl Target {
    pub(crate) async fn resolve(client: &Client, context: &str, obj: &DynamicObject) -> Result<Target> {
        let types = obj.types.clone().unwrap_or_default();
        let gvk = GroupVersionKind::try_from(&types).map_err(|e| Error::invalid(format!("{}: {e}", types.kind)))?;
        let (resource, caps) = pinned_kind(client, &gvk).await.map_err(|e| classify(e, context))?;
        Ok(match caps.scope {
            Scope::Namespaced => {
                let ns = obj.metadata.namespace.clone().unwrap_or_else(|| "default".into());
                Target { api: Api::namespaced_with(client.clone(), &ns, &resource), resource, namespace: Some(ns) }
            }
            Scope::Cluster => Target { api: Api::all_with(client.clone(), &resource), resource, namespace: None },
        })
    }
}

async fn apply_one(client: &Client, context: &str, obj: &DynamicObject, force: bool) -> AppliedObject {
    let types = obj.types.clone().unwrap_or_default();
    let name = obj.metadata.name.clone().unwrap_or_default();
    let mut applied = AppliedObject {
        kind: types.kind.clone(),
        namespace: obj.metadata.namespace.clone(),
        name: name.clone(),
        action: "failed".into(),
        error: None,
    };
    let result: Result<String> = async {
        let target = Target::resolve(client, context, obj).await?;
        if target.namespace.is_some() {
            applied.namespace = target.namespace.clone();
        }
        let api = &target.api;
        let before = api.get_opt(&name).await.map_err(|e| classify(e, context))?;
        let sent = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        let params = if force { PatchParams::apply(FIELD_MANAGER).force() } else { PatchParams::apply(FIELD_MANAGER) };
        let after = match api.patch(&name, &params, &Patch::Apply(obj)).await {
            Ok(after) => after,
            Err(e) => {
                let e = classify(e, context);
                if !answer_lost(&e) {
                    return Err(e);
                }
                // Sent, then the answer lost: the object itself tells.
                return read_back(api, &name, before.as_ref(), sent, e).await;
            }
        };
        Ok(match before {
            None => "created".into(),
            Some(b) if b.metadata.resource_version == after.metadata.resource_version => "unchanged".into(),
            Some(_) => "configured".into(),
        })
    }
    .await;
    match result {
        Ok(action) => applied.action = action,
        Err(e) if e.code() == ErrorCode::OutcomeUnknown => {
            applied.action = "unknown".into();
            applied.error = Some(e.to_string());
        }
        Err(e) => applied.error = Some(e.to_string()),
    }
    applied
}

/// Read-back attempts after an apply whose answer was lost.
pub const READ_BACK_ATTEMPTS: u32 = 3;
const READ_BACK_TIMEOUT: Duration = Duration::from_secs(3);

/// After an apply of `name` lost its answer (`e`): reads the object back. Our
/// apply landed when the object changed since `before` (a new resourceVersion,
/// or created) and its managedFields hold an Apply by [`FIELD_MANAGER`] no
/// older than `sent` (Unix seconds); it did not when the object is as it was. Otherwise, or
/// when the API server still does not answer, the outcome is unknown.
async fn read_back(api: &Api<DynamicObject>, name: &str, before: Option<&DynamicObject>, sent: i64, e: Error) -> Result<String> {
    let old_version = before.and_then(|b| b.metadata.resource_version.clone());
    let mut last = String::new();
    for attempt in 1..=READ_BACK_ATTEMPTS {
        match tokio::time::timeout(READ_BACK_TIMEOUT, api.get_opt(name)).await {
            Ok(Ok(now)) => {
                let version = now.as_ref().and_then(|o| o.metadata.resource_version.clone());
                if version == old_version {
                    let at = version.map(|v| format!("resourceVersion {v}")).unwrap_or_else(|| "it does not exist".into());
                    return Err(e.and(&format!("read back: not applied so far, {name} is as before ({at}); an apply has no precondition to fence the lost request off with, so it may still reach the API server: read it again before relying on this. An apply is idempotent: retrying is safe")));
                }
                let ours = now.as_ref().is_some_and(|o| {
                    o.metadata.managed_fields.iter().flatten().any(|m| {
                        m.manager.as_deref() == Some(FIELD_MANAGER)
                            && m.operation.as_deref() == Some("Apply")
                            // managedFields times have whole seconds.
                            && m.time.as_ref().is_some_and(|t| t.0.as_second() >= sent)
                    })
                });
                if ours {
                    return Ok(if before.is_none() { "created".into() } else { "configured".into() });
                }
                last = format!("{name} changed (resourceVersion {}), but not by an apply of ours", version.unwrap_or_default());
                break;
            }
            Ok(Err(err)) => last = err.to_string(),
            Err(_) => last = format!("no answer within {} s", READ_BACK_TIMEOUT.as_secs()),
        }
        if attempt < READ_BACK_ATTEMPTS {
            tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
        }
    }
    Err(Error::Remote {
        code: ErrorCode::OutcomeUnknown,
        message: format!(
            "outcome unknown: the apply of {name} was sent, then {e}; whether the API server applied it is unknown ({last}). Check with kubectl get -o yaml (managedFields, manager \"{FIELD_MANAGER}\") before applying again"
        ),
        source: Box::new(e),
    })
}

/// Rollout of a Deployment as read once ([`super::readiness::RolloutState`]).
async fn rollout(client: &Client, namespace: &str, name: &str) -> Option<Rollout> {
    let d = Api::<Deployment>::namespaced(client.clone(), namespace).get(name).await.ok()?;
    Some(super::readiness::RolloutState::of(&d).rollout())
}

/// Applies every object, in order, to one cluster. Conflicts with other
/// field managers fail the object unless `force` (taken only after a review
/// and with a reason: [`crate::clusters::review`]).
pub async fn apply(client: &Client, context: &str, objects: &[DynamicObject], force: bool) -> ApplyResult {
    let mut applied = Vec::new();
    for o in objects {
        applied.push(apply_one(client, context, o, force).await);
    }
    let mut rollouts = Vec::new();
    for a in applied.iter().filter(|a| a.kind == "Deployment" && a.error.is_none()) {
        if let Some(r) = rollout(client, a.namespace.as_deref().unwrap_or("default"), &a.name).await {
            rollouts.push(r);
        }
    }
    let ok = applied.iter().all(|a| a.error.is_none());
    ApplyResult { context: context.into(), ok, error: None, objects: applied, rollouts }
}

//! Review of a server-side apply before anything is written, per cluster:
//! may this identity write each object (SelfSubjectAccessReview for the verbs
//! the apply needs), what would the API server make of it (the same apply,
//! not forced, with dryRun=All), the difference between the live object and
//! that result (unified diff of YAML without server bookkeeping), and the
//! fields other managers own that the apply would take (the 409 Conflict
//! causes: field path and manager).

use std::collections::BTreeSet;
use std::time::Duration;

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde::{Deserialize, Serialize};

use super::apply::{Target, FIELD_MANAGER};
use crate::connectors::kube::classify;
use crate::error::{Error, ErrorCode, Result};

/// Deadline for the review of one cluster (every object of the manifest).
pub const REVIEW_TIMEOUT: Duration = Duration::from_secs(30);

/// A field another manager owns that the apply would set to another value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct FieldConflict {
    /// Field path as the API server names it, e.g. `.spec.replicas`.
    pub field: String,
    /// The field manager that owns it, e.g. `kube-controller-manager`.
    pub manager: String,
    /// The API server's own words (manager, subresource, API version).
    pub message: String,
}

/// One permission the apply of an object needs, as the API server answered
/// a SelfSubjectAccessReview for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct AccessCheck {
    /// create (the object does not exist yet) or patch.
    pub verb: String,
    /// The resource, with its group when not the core group (`deployments.apps`).
    pub resource: String,
    pub allowed: bool,
    /// The authorizer's reason, when it gave one.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ObjectReview {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// Whether the object exists now (None: it could not be read).
    pub exists: Option<bool>,
    pub access: Vec<AccessCheck>,
    /// Every access check allowed.
    pub allowed: bool,
    pub conflicts: Vec<FieldConflict>,
    /// Unified diff, live object (`live`) against the dry run's result
    /// (`dry-run`), of YAML without managedFields, resourceVersion,
    /// generation, uid and timestamps; empty when nothing would change. With
    /// conflicts, it is the result of the apply if forced.
    pub diff: String,
    /// Why the diff is not a dry run's (the object's namespace is created
    /// by the same manifest: the diff shows the manifest as written).
    pub note: Option<String>,
    /// The review of this object failed (the dry run refused it, a read failed).
    pub error: Option<String>,
}

impl ObjectReview {
    pub fn changed(&self) -> bool {
        !self.diff.is_empty()
    }
    /// `Kind namespace/name`.
    pub fn label(&self) -> String {
        let ns = self.namespace.as_deref().map(|n| format!("{n}/")).unwrap_or_default();
        format!("{} {ns}{}", self.kind, self.name)
    }
}

/// The review of one cluster (context).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ClusterReview {
    pub context: String,
    /// Nothing in the way: every object allowed, no conflicts, no errors.
    pub clean: bool,
    /// Some object lacks a permission.
    pub denied: bool,
    /// Some object has field conflicts.
    pub conflicted: bool,
    /// The cluster could not be reviewed at all (unreachable, credentials).
    pub error: Option<String>,
    /// The error class of `error` (what the CLI's exit code follows).
    pub error_code: Option<ErrorCode>,
    pub objects: Vec<ObjectReview>,
}

impl ClusterReview {
    pub fn failed(context: &str, e: &Error) -> ClusterReview {
        ClusterReview {
            context: context.into(),
            clean: false,
            denied: false,
            conflicted: false,
            error: Some(e.to_string()),
            error_code: Some(e.code()),
            objects: vec![],
        }
    }

    fn of(context: &str, objects: Vec<ObjectReview>) -> ClusterReview {
        let denied = objects.iter().any(|o| !o.allowed);
        let conflicted = objects.iter().any(|o| !o.conflicts.is_empty());
        let errored = objects.iter().any(|o| o.error.is_some());
        ClusterReview {
            context: context.into(),
            clean: !denied && !conflicted && !errored,
            denied,
            conflicted,
            error: None,
            error_code: None,
            objects,
        }
    }
}

/// Reviews every object of a manifest on one cluster, in order; writes nothing.
pub async fn review(client: &Client, context: &str, objects: &[DynamicObject]) -> ClusterReview {
    // Namespaces the manifest itself creates: objects in them cannot be dry-run yet.
    let manifest_namespaces: BTreeSet<String> = objects
        .iter()
        .filter(|o| o.types.as_ref().is_some_and(|t| t.kind == "Namespace" && t.api_version == "v1"))
        .filter_map(|o| o.metadata.name.clone())
        .collect();
    let mut out = Vec::new();
    for o in objects {
        match review_one(client, context, o, &manifest_namespaces).await {
            Ok(r) => out.push(r),
            Err(e) if matches!(e.code(), ErrorCode::Unreachable | ErrorCode::Timeout | ErrorCode::Auth | ErrorCode::Tls) => {
                return ClusterReview::failed(context, &e)
            }
            Err(e) => {
                let types = o.types.clone().unwrap_or_default();
                out.push(ObjectReview {
                    kind: types.kind,
                    namespace: o.metadata.namespace.clone(),
                    name: o.metadata.name.clone().unwrap_or_default(),
                    exists: None,
                    access: vec![],
                    allowed: true,
                    conflicts: vec![],
                    diff: String::new(),
                    note: None,
                    error: Some(e.to_string()),
                })
            }
        }
    }
    ClusterReview::of(context, out)
}

async fn review_one(client: &Client, context: &str, obj: &DynamicObject, manifest_namespaces: &BTreeSet<String>) -> Result<ObjectReview> {
    let types = obj.types.clone().unwrap_or_default();
    let name = obj.metadata.name.clone().unwrap_or_default();
    let target = Target::resolve(client, context, obj).await?;
    let mut r = ObjectReview {
        kind: types.kind.clone(),
        namespace: target.namespace.clone(),
        name: name.clone(),
        exists: None,
        access: vec![],
        allowed: true,
        conflicts: vec![],
        diff: String::new(),
        note: None,
        error: None,
    };
    let live = match target.api.get_opt(&name).await {
        Ok(live) => {
            r.exists = Some(live.is_some());
            live
        }
        // Not readable (403): both verbs are checked below.
        Err(kube::Error::Api(s)) if s.code == 403 => None,
        Err(e) => return Err(classify(e, context)),
    };
    // An apply is a PATCH; one that creates the object needs create as well.
    let verbs: &[&str] = if r.exists == Some(true) { &["patch"] } else { &["patch", "create"] };
    for verb in verbs {
        r.access.push(access(client, context, &target, &name, verb).await?);
    }
    r.allowed = r.access.iter().all(|a| a.allowed);
    if !r.allowed {
        return Ok(r);
    }
    let namespace_pending = r.exists == Some(false) && target.namespace.as_ref().is_some_and(|ns| manifest_namespaces.contains(ns)) && {
        let ns = target.namespace.clone().unwrap_or_default();
        Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone()).get_opt(&ns).await.map_err(|e| classify(e, context))?.is_none()
    };
    if namespace_pending {
        r.note = Some(format!(
            "namespace {} is created by this manifest, so the API server cannot dry-run this object yet: the diff shows the manifest as written",
            target.namespace.as_deref().unwrap_or_default()
        ));
        r.diff = diff(None, Some(obj))?;
        return Ok(r);
    }
    let dry = PatchParams::apply(FIELD_MANAGER).dry_run();
    let after = match target.api.patch(&name, &dry, &Patch::Apply(obj)).await {
        Ok(after) => after,
        Err(kube::Error::Api(s)) if s.code == 409 => {
            r.conflicts = conflicts(&s);
            if r.conflicts.is_empty() {
                r.error = Some(format!("cluster \"{context}\": {}", s.message));
                return Ok(r);
            }
            // What the apply would make of the object if forced.
            target.api.patch(&name, &dry.force(), &Patch::Apply(obj)).await.map_err(|e| classify(e, context))?
        }
        Err(e) => {
            let e = classify(e, context);
            if matches!(e.code(), ErrorCode::Unreachable | ErrorCode::Timeout | ErrorCode::Auth | ErrorCode::Tls) {
                return Err(e);
            }
            r.error = Some(e.to_string());
            return Ok(r);
        }
    };
    r.diff = diff(live.as_ref(), Some(&after))?;
    Ok(r)
}

async fn access(client: &Client, context: &str, target: &Target, name: &str, verb: &str) -> Result<AccessCheck> {
    let group = target.resource.group.clone();
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                group: Some(group.clone()),
                resource: Some(target.resource.plural.clone()),
                namespace: target.namespace.clone(),
                verb: Some(verb.into()),
                // A create is checked without a name, as the API server does.
                name: (verb != "create").then(|| name.to_string()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let answer = Api::<SelfSubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| classify(e, context))?;
    let status = answer.status.unwrap_or_default();
    let resource = if group.is_empty() { target.resource.plural.clone() } else { format!("{}.{group}", target.resource.plural) };
    let reason = [status.reason, status.evaluation_error].into_iter().flatten().filter(|s| !s.is_empty()).collect::<Vec<_>>().join("; ");
    Ok(AccessCheck {
        verb: verb.into(),
        resource,
        allowed: status.allowed && !status.denied.unwrap_or(false),
        reason: (!reason.is_empty()).then_some(reason),
    })
}

/// The field conflicts of a 409 answer to an apply: each cause of reason
/// FieldManagerConflict names the field and, in its message, the manager
/// (`conflict with "kube-controller-manager" with subresource "scale" using apps/v1`).
pub fn conflicts(status: &kube::core::Status) -> Vec<FieldConflict> {
    status
        .details
        .iter()
        .flat_map(|d| d.causes.iter())
        .filter(|c| c.reason == "FieldManagerConflict")
        .map(|c| FieldConflict { field: c.field.clone(), manager: manager_of(&c.message), message: c.message.clone() })
        .collect()
}

fn manager_of(message: &str) -> String {
    let rest = message.split_once("conflict with \"").map(|(_, r)| r).unwrap_or("");
    match rest.split_once('"') {
        Some((m, _)) if !m.is_empty() => m.to_string(),
        _ => message.to_string(),
    }
}

/// An object as YAML for the diff: without the server's bookkeeping
/// (managedFields, resourceVersion, generation, uid, creationTimestamp).
fn comparable(obj: &DynamicObject) -> Result<String> {
    let mut v = serde_json::to_value(obj).map_err(|e| Error::Internal(format!("object to JSON: {e}")))?;
    if let Some(meta) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        for k in ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp"] {
            meta.remove(k);
        }
    }
    serde_norway::to_string(&v).map_err(|e| Error::Internal(format!("object to YAML: {e}")))
}

/// Unified diff (3 lines of context) of `live` against `after`; empty when equal.
pub fn diff(live: Option<&DynamicObject>, after: Option<&DynamicObject>) -> Result<String> {
    let old = live.map(comparable).transpose()?.unwrap_or_default();
    let new = after.map(comparable).transpose()?.unwrap_or_default();
    if old == new {
        return Ok(String::new());
    }
    Ok(similar::TextDiff::from_lines(&old, &new).unified_diff().context_radius(3).header("live", "dry-run").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_causes_name_field_and_manager() {
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 409, "reason": "Conflict",
            "message": "Apply failed with 1 conflict: conflict with \"kube-controller-manager\" with subresource \"scale\" using apps/v1: .spec.replicas",
            "details": {"causes": [
                {"reason": "FieldManagerConflict", "message": "conflict with \"kube-controller-manager\" with subresource \"scale\" using apps/v1", "field": ".spec.replicas"},
                {"reason": "Other", "message": "x", "field": ".y"}
            ]}
        }))
        .unwrap();
        let c = conflicts(&status);
        assert_eq!(c.len(), 1);
        assert_eq!((c[0].field.as_str(), c[0].manager.as_str()), (".spec.replicas", "kube-controller-manager"));
        // A message of another shape is kept whole as the manager, not lost.
        assert_eq!(manager_of("odd"), "odd");
    }

    #[test]
    fn diff_strips_bookkeeping_and_shows_the_change() {
        let live: DynamicObject = serde_norway::from_str(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  resourceVersion: '7'\n  uid: u1\n  managedFields: [{manager: x}]\ndata:\n  mode: blue\n",
        )
        .unwrap();
        let mut after = live.clone();
        after.metadata.resource_version = Some("8".into());
        assert_eq!(diff(Some(&live), Some(&after)).unwrap(), "", "bookkeeping alone is no change");
        after.data = serde_json::json!({"data": {"mode": "green"}});
        let d = diff(Some(&live), Some(&after)).unwrap();
        assert!(d.contains("-  mode: blue") && d.contains("+  mode: green"), "{d}");
        assert!(!d.contains("resourceVersion") && !d.contains("managedFields"), "{d}");
        let new = diff(None, Some(&after)).unwrap();
        assert!(new.starts_with("--- live\n+++ dry-run\n"), "{new}");
    }
}

//! Progressive rollout of a manifest across clusters (issue 16, item 3): the
//! parts that act on one cluster. The plan of waves ([`plan_waves`]), the
//! objects as they were before the rollout touched them ([`save`]) and
//! putting them back ([`restore`]), waiting for the workloads to roll out
//! ([`wait_rolled_out`], the one wait of `readiness.rs`) and the soak, during which the cluster's live
//! verdict must stay healthy ([`soak`]). The run itself (review, waves,
//! audit, rollback record) is the backend's (`backend/rollout.rs`).

use std::time::Duration;

use kube::api::{DeleteParams, DynamicObject, Patch, PatchParams};
use kube::{Api, Client};
use serde::{Deserialize, Serialize};

use super::apply::{Target, FIELD_MANAGER};
use super::model::{ClusterHealth, Finding, Severity, Verdict};
pub use super::readiness::{wait_rolled_out, CancellationToken};
use crate::connectors::kube::classify;
use crate::error::{Error, Result};
use crate::secrets::Secret;

/// Deadline of one read or write of an object (save, restore).
pub const OBJECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Annotation the Deployment controller writes on every template change (a
/// rollback gets a new revision number): not part of the restored content.
const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";

/// One wave of a rollout: its clusters are changed together, and the next
/// wave starts only when every one of them rolled out and soaked healthy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Wave {
    /// `canary`, `25%`, `rest`, or the name given (`name=...`).
    pub name: String,
    pub contexts: Vec<String>,
}

/// Splits `contexts` (in their order) into waves by `spec`: comma-separated
/// items, each one wave — context names joined by `+` (`ctx-a+ctx-b`), a
/// percentage of all the contexts (`25%`, rounded up, at least one) taken
/// from those not yet in a wave, or `rest`. An item may be named (`canary=ctx-a`).
/// Contexts left after the last item form a last wave `rest`. A context named
/// twice, unknown, or an empty wave is an error.
pub fn plan_waves(contexts: &[String], spec: &str) -> Result<Vec<Wave>> {
    if contexts.is_empty() {
        return Err(Error::invalid("rollout: choose at least one context"));
    }
    let mut left: Vec<String> = contexts.to_vec();
    let mut waves: Vec<Wave> = Vec::new();
    let items: Vec<&str> = spec.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty() && !s.starts_with('#')).collect();
    for (i, item) in items.iter().enumerate() {
        let (name, what) = match item.split_once('=') {
            Some((n, w)) if !n.trim().is_empty() => (Some(n.trim().to_string()), w.trim()),
            Some(_) => return Err(Error::invalid(format!("waves: item {} \"{item}\" has an empty name", i + 1))),
            None => (None, *item),
        };
        let chosen: Vec<String> = if what == "rest" {
            std::mem::take(&mut left)
        } else if let Some(p) = what.strip_suffix('%') {
            let p: u32 = p
                .trim()
                .parse()
                .ok()
                .filter(|p| (1..=100).contains(p))
                .ok_or_else(|| Error::invalid(format!("waves: \"{what}\" is not a percentage from 1% to 100%")))?;
            let n = (contexts.len() as u32 * p).div_ceil(100).max(1) as usize;
            let n = n.min(left.len());
            left.drain(..n).collect()
        } else {
            let mut out = Vec::new();
            for c in what.split('+').map(str::trim) {
                if !contexts.iter().any(|x| x == c) {
                    return Err(Error::invalid(format!(
                        "waves: \"{c}\" is not one of the rollout's contexts ({}); use context names, N% or rest",
                        contexts.join(", ")
                    )));
                }
                let Some(pos) = left.iter().position(|x| x == c) else {
                    return Err(Error::invalid(format!("waves: context \"{c}\" is in two waves")));
                };
                out.push(left.remove(pos));
            }
            out
        };
        if chosen.is_empty() {
            return Err(Error::invalid(format!("waves: \"{item}\" has no context left (every context is in an earlier wave)")));
        }
        let name =
            name.unwrap_or_else(|| if i == 0 && !what.ends_with('%') && what != "rest" { "canary".into() } else { what.to_string() });
        waves.push(Wave { name, contexts: chosen });
    }
    if !left.is_empty() {
        waves.push(Wave { name: "rest".into(), contexts: left });
    }
    Ok(waves)
}

/// One object of the manifest on one cluster as it was before the rollout
/// applied it: `before` is the whole object as read (None: it did not exist).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedObject {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// For a Secret: without its data ([`redact`]), which is kept in the
    /// keychain under `secret_account` and read back only to restore it.
    pub before: Option<DynamicObject>,
    /// The keychain account of a Secret's saved object (its data included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_account: Option<String>,
    /// `before` is whole again (a Secret's data read back from the keychain):
    /// only then may it be restored. Never written to the record.
    #[serde(skip)]
    pub secret_loaded: bool,
}

impl SavedObject {
    /// `Kind namespace/name`.
    pub fn label(&self) -> String {
        let ns = self.namespace.as_deref().map(|n| format!("{n}/")).unwrap_or_default();
        format!("{} {ns}{}", self.kind, self.name)
    }

    /// A core Secret (its data never goes to a rollback record).
    pub fn is_secret(&self) -> bool {
        self.kind == "Secret" && self.api_version == "v1"
    }
}

/// The annotation `kubectl apply` leaves with the whole object in it (a
/// Secret's data included).
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// A Secret without what holds its values: `data`, `stringData` and the
/// last-applied annotation (the field names stay in managedFields only).
pub fn redact(secret: &DynamicObject) -> DynamicObject {
    let mut out = secret.clone();
    if let Some(m) = out.data.as_object_mut() {
        m.remove("data");
        m.remove("stringData");
    }
    if let Some(a) = out.metadata.annotations.as_mut() {
        a.remove(LAST_APPLIED);
    }
    out
}

/// Reads every object of the manifest as it is now on one cluster.
pub async fn save(client: &Client, context: &str, objects: &[DynamicObject]) -> Result<Vec<SavedObject>> {
    let mut out = Vec::new();
    for o in objects {
        let types = o.types.clone().unwrap_or_default();
        let name = o.metadata.name.clone().unwrap_or_default();
        let target = Target::resolve(client, context, o).await?;
        let before = crate::error::with_timeout(format!("reading {} {name} on cluster \"{context}\"", types.kind), OBJECT_TIMEOUT, async {
            target.api.get_opt(&name).await.map_err(|e| classify(e, context))
        })
        .await?;
        out.push(SavedObject {
            api_version: types.api_version,
            kind: types.kind,
            namespace: target.namespace,
            name,
            before,
            secret_account: None,
            secret_loaded: false,
        });
    }
    Ok(out)
}

/// What a restore did to one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Restored {
    pub object: String,
    /// restored, deleted, recreated, unchanged (nothing to undo), or failed.
    pub action: String,
    pub error: Option<String>,
}

/// The content that a restore puts back and that is compared after it: the
/// object without the server's bookkeeping (resourceVersion, generation,
/// managedFields), without status, and without the Deployment controller's
/// revision annotation.
pub fn content(obj: &DynamicObject) -> serde_json::Value {
    let mut v = serde_json::to_value(obj).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
    }
    if let Some(meta) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        for k in ["resourceVersion", "generation", "managedFields"] {
            meta.remove(k);
        }
        if let Some(a) = meta.get_mut("annotations").and_then(|a| a.as_object_mut()) {
            a.remove(REVISION_ANNOTATION);
        }
        if meta.get("annotations").and_then(|a| a.as_object()).is_some_and(|a| a.is_empty()) {
            meta.remove("annotations");
        }
    }
    v
}

/// Puts the saved objects back on one cluster, in the reverse order of the
/// manifest: an object that existed is replaced by its saved self (the
/// current resourceVersion, retried on a concurrent change), one that did not
/// is deleted, one deleted since is created again. Then each is read back and
/// compared ([`content`]).
pub async fn restore(client: &Client, context: &str, saved: &[SavedObject]) -> Vec<Restored> {
    let mut out = Vec::new();
    for s in saved.iter().rev() {
        let result = crate::error::with_timeout(
            format!("restoring {} on cluster \"{context}\"", s.label()),
            OBJECT_TIMEOUT,
            restore_one(client, context, s),
        )
        .await;
        out.push(match result {
            Ok(action) => Restored { object: s.label(), action, error: None },
            Err(e) => Restored { object: s.label(), action: "failed".into(), error: Some(e.to_string()) },
        });
    }
    out.reverse();
    out
}

async fn api_of(client: &Client, context: &str, s: &SavedObject) -> Result<Api<DynamicObject>> {
    let probe: DynamicObject = serde_json::from_value(serde_json::json!({
        "apiVersion": s.api_version, "kind": s.kind, "metadata": {"name": s.name, "namespace": s.namespace}
    }))
    .map_err(|e| Error::Internal(format!("saved object {}: {e}", s.label())))?;
    Ok(Target::resolve(client, context, &probe).await?.api)
}

async fn restore_one(client: &Client, context: &str, s: &SavedObject) -> Result<String> {
    if s.secret_account.is_some() && !s.secret_loaded {
        return Err(Error::invalid(format!(
            "{} on cluster \"{context}\": its saved data is kept in the keychain and was not read back; not restored",
            s.label()
        )));
    }
    let api = api_of(client, context, s).await?;
    // The saved object is put back by a forced server-side apply as Opsdeck's
    // own field manager, so the fields the rollout took are Opsdeck's again
    // afterwards: a later rollout of the same manifest applies cleanly (a
    // replace under another manager made every restored field that manager's,
    // and the next rollout's review refused it as a conflict). Fields only the
    // rollout set, and the saved object lacks, are dropped by the apply.
    let pp = PatchParams::apply(FIELD_MANAGER).force();
    for _attempt in 0..3 {
        let now = api.get_opt(&s.name).await.map_err(|e| classify(e, context))?;
        let result = match (&s.before, now) {
            (None, None) => return Ok("unchanged".into()),
            (None, Some(_)) => match api.delete(&s.name, &DeleteParams::background()).await {
                Ok(_) => return Ok("deleted".into()),
                Err(kube::Error::Api(e)) if e.code == 404 => return Ok("deleted".into()),
                Err(e) => Err(e),
            },
            (Some(before), now) => {
                if now.as_ref().is_some_and(|now| content(before) == content(now)) {
                    return Ok("unchanged".into());
                }
                let mut body = before.clone();
                // The version read just now is the apply's precondition (a write in
                // between is a 409 and the loop reads again); none: it must be created.
                body.metadata.resource_version = now.and_then(|n| n.metadata.resource_version);
                body.metadata.uid = None;
                body.metadata.creation_timestamp = None;
                body.metadata.managed_fields = None;
                body.metadata.generation = None;
                if let Some(a) = body.metadata.annotations.as_mut() {
                    a.remove(REVISION_ANNOTATION);
                }
                if let Some(o) = body.data.as_object_mut() {
                    o.remove("status");
                }
                api.patch(&s.name, &pp, &Patch::Apply(&body)).await.map(|_| ())
            }
        };
        match result {
            Ok(()) => {
                let back = api.get_opt(&s.name).await.map_err(|e| classify(e, context))?;
                return match (&s.before, back) {
                    (Some(before), Some(back)) if back.metadata.uid != before.metadata.uid && same_but_identity(before, &back) => {
                        Ok("recreated".into())
                    }
                    (Some(before), Some(back)) if content(before) == content(&back) => Ok("restored".into()),
                    (Some(_), Some(_)) => Err(Error::Conflict(format!(
                        "{} on cluster \"{context}\" was put back, but reads differently from the saved object (a mutating webhook or a controller changed it)",
                        s.label()
                    ))),
                    _ => Err(Error::Conflict(format!("{} on cluster \"{context}\" is gone right after it was put back", s.label()))),
                };
            }
            // Changed between our read and write: read again.
            Err(kube::Error::Api(e)) if e.code == 409 => continue,
            Err(e) => return Err(classify(e, context)),
        }
    }
    Err(Error::Conflict(format!("{} on cluster \"{context}\" kept changing while it was put back (3 attempts)", s.label())))
}

/// [`content`] equal but for the identity a re-created object gets anew (uid, creation time).
fn same_but_identity(a: &DynamicObject, b: &DynamicObject) -> bool {
    let strip = |o: &DynamicObject| {
        let mut v = content(o);
        if let Some(meta) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
            meta.remove("uid");
            meta.remove("creationTimestamp");
        }
        v
    };
    strip(a) == strip(b)
}

/// How a soak ended badly.
#[derive(Debug, Clone, PartialEq)]
pub enum SoakFailure {
    /// The live verdict left Healthy: these findings (Warning or worse).
    Degraded(Verdict, Vec<Finding>),
    /// No verdict came at all (the watches never settled).
    Unassessed(String),
    Stopped,
}

/// Watches one cluster's live verdict (the same watches as the live view)
/// for `duration`; any verdict that is not Healthy ends the soak at once.
/// The soak counts from the first verdict (at most 30 s of waiting for it).
/// `on_verdict` hears each verdict.
pub async fn soak(
    kubeconfig: kube::config::Kubeconfig,
    context: &str,
    token: Option<Secret>,
    duration: Duration,
    stop: &CancellationToken,
    on_verdict: &(dyn Fn(&ClusterHealth) + Send + Sync),
) -> std::result::Result<usize, SoakFailure> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<ClusterHealth>();
    let _live = super::live::watch(
        kubeconfig,
        vec![context.to_string()],
        token,
        std::sync::Arc::new(move |h| {
            let _ = tx.send(h);
        }),
    );
    const FIRST: Duration = Duration::from_secs(30);
    let first_by = tokio::time::Instant::now() + FIRST;
    let mut end: Option<tokio::time::Instant> = None;
    let mut seen = 0usize;
    loop {
        let until = end.unwrap_or(first_by);
        tokio::select! {
            _ = stop.cancelled() => return Err(SoakFailure::Stopped),
            _ = tokio::time::sleep_until(until) => {
                return match end {
                    Some(_) => Ok(seen),
                    None => Err(SoakFailure::Unassessed(format!("no live verdict from cluster \"{context}\" within {} s", FIRST.as_secs()))),
                };
            }
            h = rx.recv() => {
                let Some(h) = h else { return Err(SoakFailure::Unassessed("the live watch of the cluster ended".into())) };
                seen += 1;
                on_verdict(&h);
                if h.verdict != Verdict::Healthy {
                    let bad = h.findings.into_iter().filter(|f| f.severity >= Severity::Warning).collect();
                    return Err(SoakFailure::Degraded(h.verdict, bad));
                }
                end.get_or_insert_with(|| tokio::time::Instant::now() + duration);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn shape(w: &[Wave]) -> Vec<(String, Vec<String>)> {
        w.iter().map(|w| (w.name.clone(), w.contexts.clone())).collect()
    }

    #[test]
    fn waves_canary_percent_and_rest() {
        let all = ctx(&["a", "b", "c", "d", "e", "f", "g", "h"]);
        let w = plan_waves(&all, "a, 25%, rest").unwrap();
        assert_eq!(
            shape(&w),
            vec![("canary".into(), ctx(&["a"])), ("25%".into(), ctx(&["b", "c"])), ("rest".into(), ctx(&["d", "e", "f", "g", "h"]))]
        );
        // Named items, several contexts in one wave, and an implicit rest.
        let w = plan_waves(&all, "first=c+a\nsecond=50%").unwrap();
        assert_eq!(
            shape(&w),
            vec![("first".into(), ctx(&["c", "a"])), ("second".into(), ctx(&["b", "d", "e", "f"])), ("rest".into(), ctx(&["g", "h"]))]
        );
        // A percentage rounds up and never exceeds what is left.
        let three = ctx(&["x", "y", "z"]);
        assert_eq!(shape(&plan_waves(&three, "10%,100%").unwrap()), vec![("10%".into(), ctx(&["x"])), ("100%".into(), ctx(&["y", "z"]))]);
        assert_eq!(plan_waves(&three, "").unwrap(), vec![Wave { name: "rest".into(), contexts: three.clone() }]);
    }

    #[test]
    fn bad_waves_are_refused_with_the_reason() {
        let three = ctx(&["x", "y", "z"]);
        let err = |s: &str| plan_waves(&three, s).unwrap_err().to_string();
        assert!(err("nope").contains("\"nope\" is not one of the rollout's contexts (x, y, z)"), "{}", err("nope"));
        assert!(err("x,x").contains("context \"x\" is in two waves"));
        assert!(err("rest,y").contains("\"y\""), "{}", err("rest,y"));
        assert!(err("rest,10%").contains("has no context left"));
        assert!(err("0%").contains("not a percentage"));
        assert!(err("150%").contains("not a percentage"));
        assert!(err("=x").contains("empty name"));
        assert!(plan_waves(&[], "rest").is_err());
    }

    #[test]
    fn a_secret_is_redacted_of_its_data_string_data_and_last_applied_annotation() {
        let s: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "shop", "annotations": {LAST_APPLIED: "{\"stringData\":{\"pw\":\"hunter2\"}}", "team": "a"}},
            "type": "Opaque", "data": {"pw": "aHVudGVyMg=="}, "stringData": {"pw": "hunter2"}
        }))
        .unwrap();
        let r = serde_json::to_string(&redact(&s)).unwrap();
        assert!(!r.contains("hunter2") && !r.contains("aHVudGVyMg=="), "{r}");
        assert!(r.contains("\"team\":\"a\"") && r.contains("Opaque"), "{r}");
    }

    #[test]
    fn content_leaves_out_bookkeeping_status_and_the_revision() {
        let a: DynamicObject = serde_json::from_value(serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "resourceVersion": "5", "generation": 2, "managedFields": [{"manager": "x"}],
                         "annotations": {"deployment.kubernetes.io/revision": "1"}},
            "spec": {"replicas": 2}, "status": {"replicas": 2}
        }))
        .unwrap();
        let mut b = a.clone();
        b.metadata.resource_version = Some("9".into());
        b.metadata.annotations = Some([(REVISION_ANNOTATION.to_string(), "3".to_string())].into());
        b.data["status"] = serde_json::json!({"replicas": 1});
        assert_eq!(content(&a), content(&b));
        b.data["spec"]["replicas"] = serde_json::json!(3);
        assert_ne!(content(&a), content(&b));
    }
}

//! Blue/green deployments behind one Service (seed case 1): the Service
//! selects its pods on a colour label (`version: blue`); the new colour's
//! Deployment is applied beside the live one, waited for, smoke-tested, and
//! the Service's selector is switched in one guarded update (a resourceVersion
//! precondition: a Service changed since it was read is never switched). The
//! colour switched away from stays, for a keep time, as the way back; the
//! state lives on the Service itself, in annotations, so every client sees
//! the same: which colour was live before, when the switch happened, and until
//! when the old colour is kept.
//!
//! The Kubernetes side only; the backend (backend/bluegreen.rs) adds the
//! smoke checks and the audit entries.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{DeleteParams, DynamicObject, ListParams, PostParams, Preconditions};
use kube::{Api, Client};
use serde::{Deserialize, Serialize};

use super::readiness::RolloutState;
use crate::connectors::errors::answer_lost;
use crate::connectors::kube::classify;
use crate::error::{with_timeout, Error, Result};

/// The colour label when none is given (seed case 1: `version: green`).
pub const DEFAULT_LABEL: &str = "version";
/// The colour that was live before the last switch (the way back).
pub const PREVIOUS_ANNOTATION: &str = "opsdeck.dev/bluegreen-previous";
/// When the last switch happened (RFC 3339).
pub const SWITCHED_AT_ANNOTATION: &str = "opsdeck.dev/bluegreen-switched-at";
/// Until when the previous colour is kept (RFC 3339); `cleanup` refuses before.
pub const KEEP_UNTIL_ANNOTATION: &str = "opsdeck.dev/bluegreen-keep-until";
/// Stamped by the read-back of a switch whose answer was lost, to fence that switch off.
pub const FENCED_ANNOTATION: &str = "opsdeck.dev/bluegreen-fenced";
/// Deadline of one API call.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// Which Service, and the label its selector switches on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct BlueGreenTarget {
    pub context: String,
    pub namespace: String,
    pub service: String,
    /// The selector key whose value is the colour (default [`DEFAULT_LABEL`]).
    pub label: String,
}

impl BlueGreenTarget {
    /// "service shop/web on cluster \"prod\"".
    pub fn describe(&self) -> String {
        format!("service {}/{} on cluster \"{}\"", self.namespace, self.service, self.context)
    }
}

/// One colour: a Deployment whose pods carry the colour label and the Service's other selector labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Colour {
    pub colour: String,
    pub deployment: String,
    /// The Service selects this colour now.
    pub live: bool,
    /// The colour switched away from last (what `rollback` goes back to).
    pub previous: bool,
    pub rollout: RolloutState,
    /// The rollout is complete (every replica updated and available).
    pub ready: bool,
    /// Container images, `name=image`.
    pub images: Vec<String>,
}

/// The blue/green state of a Service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct BlueGreenStatus {
    pub target: BlueGreenTarget,
    /// The colour the Service selects now (None: its selector lacks the label).
    pub live: Option<String>,
    pub previous: Option<String>,
    pub switched_at: Option<String>,
    pub keep_until: Option<String>,
    /// The Service's resourceVersion when read: the precondition of a switch.
    pub resource_version: String,
    pub selector: BTreeMap<String, String>,
    pub colours: Vec<Colour>,
}

impl BlueGreenStatus {
    pub fn colour(&self, c: &str) -> Option<&Colour> {
        self.colours.iter().find(|x| x.colour == c)
    }

    /// The keep time of the previous colour has passed (or none was set).
    pub fn keep_expired(&self, now: Timestamp) -> bool {
        match self.keep_until.as_deref().map(str::parse::<Timestamp>) {
            Some(Ok(t)) => now >= t,
            Some(Err(_)) | None => true,
        }
    }
}

/// What a switch changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Switched {
    pub target: BlueGreenTarget,
    pub from: Option<String>,
    pub to: String,
    pub switched_at: String,
    pub keep_until: String,
    /// The Service's resourceVersion before and after the switch.
    pub resource_version_before: String,
    pub resource_version_after: String,
}

fn services(client: &Client, t: &BlueGreenTarget) -> Api<Service> {
    Api::namespaced(client.clone(), &t.namespace)
}

async fn call<T>(t: &BlueGreenTarget, fut: impl std::future::Future<Output = std::result::Result<T, kube::Error>>) -> Result<T> {
    with_timeout(format!("cluster \"{}\"", t.context), CALL_TIMEOUT, async { fut.await.map_err(|e| classify(e, &t.context)) }).await
}

/// Reads the Service and the colours beside it.
pub async fn status(client: &Client, t: &BlueGreenTarget) -> Result<BlueGreenStatus> {
    let svc = call(t, services(client, t).get_opt(&t.service))
        .await?
        .ok_or_else(|| Error::NotFound(format!("{}: no such service", t.describe())))?;
    let selector = svc.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default();
    let ann = svc.metadata.annotations.clone().unwrap_or_default();
    let live = selector.get(&t.label).cloned();
    let previous = ann.get(PREVIOUS_ANNOTATION).cloned();
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), &t.namespace);
    let list = call(t, deploys.list(&ListParams::default().labels(&t.label))).await;
    // The label may be on the pod template only: list all and filter when the Deployments do not carry it.
    let items = match list {
        Ok(l) if !l.items.is_empty() => l.items,
        _ => call(t, deploys.list(&ListParams::default())).await?.items,
    };
    let mut colours = Vec::new();
    for d in &items {
        let Some(colour) = colour_of(d, &selector, &t.label) else { continue };
        let rollout = RolloutState::of(d);
        colours.push(Colour {
            live: live.as_deref() == Some(colour.as_str()),
            previous: previous.as_deref() == Some(colour.as_str()),
            ready: rollout.complete(),
            images: images(d),
            deployment: d.metadata.name.clone().unwrap_or_default(),
            colour,
            rollout,
        });
    }
    colours.sort_by(|a, b| b.live.cmp(&a.live).then(a.colour.cmp(&b.colour)));
    Ok(BlueGreenStatus {
        target: t.clone(),
        live,
        previous,
        switched_at: ann.get(SWITCHED_AT_ANNOTATION).cloned(),
        keep_until: ann.get(KEEP_UNTIL_ANNOTATION).cloned(),
        resource_version: svc.metadata.resource_version.clone().unwrap_or_default(),
        selector,
        colours,
    })
}

/// The pod template labels of a Deployment.
fn template_labels(d: &Deployment) -> BTreeMap<String, String> {
    d.spec.as_ref().and_then(|s| s.template.metadata.as_ref()).and_then(|m| m.labels.clone()).unwrap_or_default()
}

fn images(d: &Deployment) -> Vec<String> {
    d.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|p| p.containers.iter().map(|c| format!("{}={}", c.name, c.image.clone().unwrap_or_default())).collect())
        .unwrap_or_default()
}

/// The colour of a Deployment behind a Service: its pods carry `label`, and
/// every other label of the Service's selector with the same value (so that
/// switching the colour makes the Service select exactly them).
pub fn colour_of(d: &Deployment, selector: &BTreeMap<String, String>, label: &str) -> Option<String> {
    let labels = template_labels(d);
    let colour = labels.get(label)?.clone();
    selector.iter().filter(|(k, _)| k.as_str() != label).all(|(k, v)| labels.get(k) == Some(v)).then_some(colour)
}

/// The new colour's Deployment from a manifest, checked against the Service:
/// exactly one Deployment, in the Service's namespace, its pods labelled with
/// a colour that is not the live one, and with the Service's other selector
/// labels; its name not that of another colour's Deployment.
pub fn new_colour(objects: &[DynamicObject], st: &BlueGreenStatus) -> Result<(String, DynamicObject)> {
    let t = &st.target;
    if objects.len() != 1 || objects[0].types.as_ref().map(|x| x.kind.as_str()) != Some("Deployment") {
        return Err(Error::invalid("blue/green manifest: exactly one Deployment (the new colour), nothing else"));
    }
    let mut obj = objects[0].clone();
    match obj.metadata.namespace.as_deref() {
        None => obj.metadata.namespace = Some(t.namespace.clone()),
        Some(ns) if ns == t.namespace => {}
        Some(ns) => return Err(Error::invalid(format!("the Deployment is in namespace {ns}, the service in {}", t.namespace))),
    }
    let name = obj.metadata.name.clone().unwrap_or_default();
    let d: Deployment = serde_json::from_value(serde_json::to_value(&obj).map_err(|e| Error::invalid(e.to_string()))?)
        .map_err(|e| Error::invalid(format!("deployment {name}: {e}")))?;
    let labels = template_labels(&d);
    let Some(colour) = labels.get(&t.label).cloned() else {
        return Err(Error::invalid(format!(
            "deployment {name}: its pod template has no label {}: the service switches on it (e.g. {}: green)",
            t.label, t.label
        )));
    };
    if st.live.as_deref() == Some(colour.as_str()) {
        return Err(Error::invalid(format!(
            "deployment {name}: colour {colour} is the live one; deploy the other colour beside it (e.g. {}: {})",
            t.label,
            if colour == "green" { "blue" } else { "green" }
        )));
    }
    if let Some(missing) = st.selector.iter().find(|(k, v)| k.as_str() != t.label && labels.get(*k) != Some(*v)) {
        return Err(Error::invalid(format!(
            "deployment {name}: its pods lack the service's selector label {}={}: after the switch the service would select nothing",
            missing.0, missing.1
        )));
    }
    if let Some(other) = st.colours.iter().find(|c| c.deployment == name && c.colour != colour) {
        return Err(Error::invalid(format!("deployment {name} is colour {} now; give the new colour its own Deployment", other.colour)));
    }
    let selects = d.spec.as_ref().and_then(|s| s.selector.match_labels.clone()).unwrap_or_default();
    if selects.get(&t.label) != Some(&colour) {
        return Err(Error::invalid(format!(
            "deployment {name}: its selector must include {}: {colour}, or it would adopt the pods of the other colour",
            t.label
        )));
    }
    Ok((colour, obj))
}

/// Switches the Service's selector to `to` in one update whose
/// resourceVersion precondition is `expected` (the version the decision was
/// made on): a Service changed since is refused by the API server (409) and
/// nothing is switched. Records the previous colour, the time and the keep
/// time in the Service's annotations, in the same update.
pub async fn switch(client: &Client, t: &BlueGreenTarget, expected: &str, to: &str, keep: Duration) -> Result<Switched> {
    let api = services(client, t);
    let mut svc = call(t, api.get_opt(&t.service)).await?.ok_or_else(|| Error::NotFound(format!("{}: no such service", t.describe())))?;
    let now_version = svc.metadata.resource_version.clone().unwrap_or_default();
    if now_version != expected {
        return Err(changed(t, expected, &now_version));
    }
    let spec = svc.spec.get_or_insert_with(Default::default);
    let selector = spec.selector.get_or_insert_with(Default::default);
    let from = selector.insert(t.label.clone(), to.to_string());
    if from.as_deref() == Some(to) {
        return Err(Error::invalid(format!("{}: colour {to} is live already; nothing switched", t.describe())));
    }
    let now = Timestamp::now();
    let keep_until = now.checked_add(SignedDuration::try_from(keep).unwrap_or(SignedDuration::ZERO)).unwrap_or(now);
    let (switched_at, keep_until) = (now.to_string(), keep_until.to_string());
    let ann = svc.metadata.annotations.get_or_insert_with(Default::default);
    match &from {
        Some(f) => ann.insert(PREVIOUS_ANNOTATION.into(), f.clone()),
        None => ann.remove(PREVIOUS_ANNOTATION),
    };
    ann.insert(SWITCHED_AT_ANNOTATION.into(), switched_at.clone());
    ann.insert(KEEP_UNTIL_ANNOTATION.into(), keep_until.clone());
    svc.metadata.resource_version = Some(expected.to_string());
    svc.metadata.managed_fields = None;
    let after = match with_timeout(format!("cluster \"{}\"", t.context), CALL_TIMEOUT, async {
        api.replace(&t.service, &PostParams { field_manager: Some(super::apply::FIELD_MANAGER.into()), ..Default::default() }, &svc)
            .await
            .map_err(|e| classify(e, &t.context))
    })
    .await
    {
        Ok(after) => after,
        Err(e) if e.code() == crate::error::ErrorCode::Conflict => {
            return Err(Error::Conflict(format!(
                "{}: changed by someone else since it was read (resourceVersion {expected}): nothing switched; look at it (kubectl get service -o yaml) and run again ({e})",
                t.describe()
            )))
        }
        Err(e) if answer_lost(&e) => return read_back(&api, t, expected, to, &switched_at, e).await.map(|v| Switched {
            target: t.clone(),
            from,
            to: to.into(),
            switched_at,
            keep_until,
            resource_version_before: expected.into(),
            resource_version_after: v,
        }),
        Err(e) => return Err(e),
    };
    Ok(Switched {
        target: t.clone(),
        from,
        to: to.into(),
        switched_at,
        keep_until,
        resource_version_before: expected.into(),
        resource_version_after: after.metadata.resource_version.unwrap_or_default(),
    })
}

fn changed(t: &BlueGreenTarget, expected: &str, now: &str) -> Error {
    Error::Conflict(format!(
        "{}: changed since it was checked (resourceVersion {expected}, now {now}): nothing switched; look at the change (kubectl get service -o yaml) and run again",
        t.describe()
    ))
}

/// After a switch whose answer was lost: the Service tells whether it landed
/// (our switched-at stamp and the colour), else the outcome is unknown. A
/// Service still at `expected` proves nothing while the lost update may be
/// queued in the API server, so it is fenced: an update guarded by the same
/// resourceVersion that only stamps [`FENCED_ANNOTATION`]; once it lands, the
/// lost switch's precondition can no longer hold.
async fn read_back(api: &Api<Service>, t: &BlueGreenTarget, expected: &str, to: &str, stamp: &str, e: Error) -> Result<String> {
    for _ in 0..2 {
        let Ok(Ok(Some(mut svc))) = tokio::time::timeout(CALL_TIMEOUT, api.get_opt(&t.service)).await else { break };
        let colour = svc.spec.as_ref().and_then(|s| s.selector.as_ref()).and_then(|s| s.get(&t.label)).cloned();
        let ours = svc.metadata.annotations.as_ref().and_then(|a| a.get(SWITCHED_AT_ANNOTATION)).map(String::as_str) == Some(stamp);
        if ours && colour.as_deref() == Some(to) {
            return Ok(svc.metadata.resource_version.unwrap_or_default());
        }
        if ours {
            break;
        }
        if svc.metadata.resource_version.as_deref() != Some(expected) {
            return Err(e.and("read back: not switched (the service changed without this switch's stamp, so the switch's precondition failed); retrying is safe"));
        }
        svc.metadata.annotations.get_or_insert_with(Default::default).insert(FENCED_ANNOTATION.into(), stamp.to_string());
        svc.metadata.managed_fields = None;
        let fenced = tokio::time::timeout(CALL_TIMEOUT, api.replace(&t.service, &PostParams::default(), &svc)).await;
        match fenced {
            Ok(Ok(after)) => {
                let v = after.metadata.resource_version.unwrap_or_default();
                return Err(e.and(&format!(
                    "read back: not switched: the service was still at resourceVersion {expected}; Opsdeck then stamped it {FENCED_ANNOTATION} (resourceVersion {v}) so the lost switch can no longer apply; the selector is as before, run again"
                )));
            }
            // Changed between the read and the fence: read it again.
            Ok(Err(kube::Error::Api(r))) if r.code == 409 => continue,
            _ => break,
        }
    }
    Err(Error::Remote {
        code: crate::error::ErrorCode::OutcomeUnknown,
        message: format!(
            "outcome unknown: the switch of {} to {to} was sent, then {e}; check the service's selector before switching again",
            t.describe()
        ),
        source: Box::new(e),
    })
}

/// Deletes the Deployment of a colour that is not live (precondition: the
/// uid read in `st`, so a Deployment re-created meanwhile is not deleted), and
/// removes the previous-colour annotation from the Service when it named it
/// (guarded by the Service's resourceVersion too).
pub async fn delete_colour(client: &Client, st: &BlueGreenStatus, colour: &str) -> Result<String> {
    let t = &st.target;
    let c = st.colour(colour).ok_or_else(|| Error::NotFound(format!("{}: no Deployment of colour {colour}", t.describe())))?;
    if c.live {
        return Err(Error::invalid(format!("colour {colour} is live on {}: switch away from it first", t.describe())));
    }
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), &t.namespace);
    let d = call(t, deploys.get(&c.deployment)).await?;
    let pre = Preconditions { uid: d.metadata.uid.clone(), resource_version: None };
    let dp =
        DeleteParams { preconditions: Some(pre), propagation_policy: Some(kube::api::PropagationPolicy::Foreground), ..Default::default() };
    call(t, deploys.delete(&c.deployment, &dp)).await?;
    if st.previous.as_deref() == Some(colour) {
        let api = services(client, t);
        let mut svc = call(t, api.get(&t.service)).await?;
        if svc.metadata.resource_version.as_deref() != Some(st.resource_version.as_str()) {
            return Ok(format!(
                "deleted deployment {} (colour {colour}); the service changed meanwhile, its {PREVIOUS_ANNOTATION} annotation was left",
                c.deployment
            ));
        }
        if let Some(a) = svc.metadata.annotations.as_mut() {
            a.remove(PREVIOUS_ANNOTATION);
            a.remove(KEEP_UNTIL_ANNOTATION);
        }
        svc.metadata.managed_fields = None;
        call(t, api.replace(&t.service, &PostParams::default(), &svc)).await?;
    }
    Ok(format!("deleted deployment {} (colour {colour})", c.deployment))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(name: &str, labels: serde_json::Value, selects: serde_json::Value) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name},
            "spec": {"replicas": 2, "selector": {"matchLabels": selects},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "web:2"}]}}}
        }))
        .unwrap()
    }

    fn status(live: &str, colours: &[(&str, &str)]) -> BlueGreenStatus {
        let rollout = RolloutState::of(&serde_json::from_value(json!({"metadata": {"name": "x"}})).unwrap());
        BlueGreenStatus {
            target: BlueGreenTarget { context: "prod".into(), namespace: "shop".into(), service: "web".into(), label: "version".into() },
            live: Some(live.into()),
            previous: None,
            switched_at: None,
            keep_until: None,
            resource_version: "7".into(),
            selector: [("app".to_string(), "web".to_string()), ("version".to_string(), live.to_string())].into(),
            colours: colours
                .iter()
                .map(|(c, d)| Colour {
                    colour: (*c).into(),
                    deployment: (*d).into(),
                    live: *c == live,
                    previous: false,
                    rollout: rollout.clone(),
                    ready: true,
                    images: vec![],
                })
                .collect(),
        }
    }

    #[test]
    fn the_new_colour_is_checked_against_the_service() {
        let st = status("blue", &[("blue", "web-blue")]);
        let ok = deployment("web-green", json!({"app": "web", "version": "green"}), json!({"app": "web", "version": "green"}));
        let (colour, obj) = new_colour(&[ok], &st).unwrap();
        assert_eq!(colour, "green");
        assert_eq!(obj.metadata.namespace.as_deref(), Some("shop"), "the service's namespace by default");

        let live = deployment("web-blue2", json!({"app": "web", "version": "blue"}), json!({"app": "web", "version": "blue"}));
        assert!(new_colour(&[live], &st).unwrap_err().to_string().contains("colour blue is the live one"));
        let unlabelled = deployment("web-green", json!({"app": "web"}), json!({"app": "web"}));
        assert!(new_colour(&[unlabelled], &st).unwrap_err().to_string().contains("has no label version"));
        let other_app = deployment("web-green", json!({"app": "api", "version": "green"}), json!({"version": "green"}));
        assert!(new_colour(&[other_app], &st).unwrap_err().to_string().contains("app=web"));
        let wide = deployment("web-green", json!({"app": "web", "version": "green"}), json!({"app": "web"}));
        assert!(new_colour(&[wide], &st).unwrap_err().to_string().contains("adopt the pods of the other colour"));
        let reuse = deployment("web-blue", json!({"app": "web", "version": "green"}), json!({"app": "web", "version": "green"}));
        assert!(new_colour(&[reuse], &st).unwrap_err().to_string().contains("is colour blue now"));
        let mut elsewhere = deployment("web-green", json!({"app": "web", "version": "green"}), json!({"app": "web", "version": "green"}));
        elsewhere.metadata.namespace = Some("other".into());
        assert!(new_colour(&[elsewhere.clone()], &st).unwrap_err().to_string().contains("namespace other"));
        assert!(new_colour(&[elsewhere.clone(), elsewhere], &st).unwrap_err().to_string().contains("exactly one Deployment"));
    }

    #[test]
    fn a_colour_is_a_deployment_whose_pods_match_the_rest_of_the_selector() {
        let sel: BTreeMap<String, String> = [("app".into(), "web".into()), ("version".into(), "blue".into())].into();
        let d = |labels: serde_json::Value| -> Deployment {
            serde_json::from_value(
                json!({"metadata": {"name": "d"}, "spec": {"selector": {}, "template": {"metadata": {"labels": labels}}}}),
            )
            .unwrap()
        };
        assert_eq!(colour_of(&d(json!({"app": "web", "version": "green"})), &sel, "version").as_deref(), Some("green"));
        assert_eq!(colour_of(&d(json!({"app": "api", "version": "green"})), &sel, "version"), None);
        assert_eq!(colour_of(&d(json!({"app": "web"})), &sel, "version"), None);
    }

    #[test]
    fn the_keep_time_expires() {
        let mut st = status("green", &[]);
        let now = Timestamp::now();
        assert!(st.keep_expired(now), "no keep time: expired");
        st.keep_until = Some(now.checked_add(SignedDuration::from_secs(60)).unwrap().to_string());
        assert!(!st.keep_expired(now));
        assert!(st.keep_expired(now.checked_add(SignedDuration::from_secs(61)).unwrap()));
    }
}

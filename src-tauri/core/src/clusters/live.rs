//! Live cluster health: kube-runtime reflectors (watches, not polling) keep
//! an in-memory copy of the objects health is computed from; any change
//! recomputes the verdict and delivers it within a second. The watcher
//! re-lists by itself on 410 Gone; a lost API server is reported as
//! Unreachable and the context reconnects with backoff. Dropping the
//! [`LiveHandle`] stops everything.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{select_all, BoxStream};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Node, NodeSpec, NodeStatus, Pod, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher;
use kube::runtime::WatchStreamExt;
use kube::Client;
use serde::de::DeserializeOwned;

use super::fetch::{event_time, Snapshot};
use super::health::{evaluate, failed, unreachable};
use super::model::{ClusterHealth, Finding};
use crate::connectors::errors::{fault, Fault};
use crate::connectors::kube::{classify, client_for};
use crate::connectors::stream::{idle_hint, stalled};
use crate::error::{Error, ErrorCode};
use crate::secrets::Secret;

/// Changes are coalesced for this long before a verdict is recomputed.
pub const DEBOUNCE: Duration = Duration::from_millis(150);
/// A cluster that never falls quiet for [`DEBOUNCE`] (pods created and
/// deleted every few milliseconds) still gets a verdict this often.
pub const MAX_DELAY: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

pub struct LiveHandle {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for LiveHandle {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

pub type OnHealth = Arc<dyn Fn(ClusterHealth) + Send + Sync>;

/// Starts live health for each context; `on_health` receives every new verdict.
pub fn watch(kubeconfig: kube::config::Kubeconfig, contexts: Vec<String>, token: Option<Secret>, on_health: OnHealth) -> LiveHandle {
    let tasks = contexts
        .into_iter()
        .map(|context| {
            let (kc, token, cb) = (kubeconfig.clone(), token.clone(), on_health.clone());
            // Every verdict of this context says whether its TLS is verified.
            let insecure_tls = crate::connectors::kube::skips_tls_verify(&kc, &context);
            let cb: OnHealth = Arc::new(move |mut h: ClusterHealth| {
                h.insecure_tls = insecure_tls;
                cb(h)
            });
            tokio::spawn(async move { run_context(kc, context, token, cb).await })
        })
        .collect();
    LiveHandle { tasks }
}

async fn run_context(kubeconfig: kube::config::Kubeconfig, context: String, token: Option<Secret>, on_health: OnHealth) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let started = Instant::now();
        live_once(kubeconfig.clone(), &context, token.as_ref(), &on_health).await;
        if started.elapsed() > Duration::from_secs(60) {
            backoff = Duration::from_secs(1);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// What a watch stream tells the loop.
enum Signal {
    Changed,
    Ready(usize),
    Failed(usize, String, bool),
}

/// What a failed watch says: a silent API server is named as a stalled watch.
fn watch_failure(e: &watcher::Error, index: usize, context: &str) -> String {
    if fault(e) == Fault::TimedOut {
        let idle = crate::connectors::kube::read_timeout();
        let what = format!("the watch of {} on cluster \"{context}\"", WHAT[index]);
        let advice = format!(
            "is the API server frozen or overloaded? The watch reconnects by itself once it answers {}",
            idle_hint(crate::connectors::kube::READ_TIMEOUT)
        );
        return stalled(what, idle, advice).to_string();
    }
    format!("the watch of {}: {e}", WHAT[index])
}

/// What the verdict reads of an object, and nothing else: the stores hold
/// thousands of nodes and pods, and their managed fields, pod specs and
/// templates, node images and info are most of each object's size (a
/// 2,000-node, 3,000-system-pod cluster: RSS 300 MiB untrimmed; BENCHMARKS.md).
/// The one-shot check ([`super::fetch`]) trims each page of its lists the same way.
pub(super) trait Trim {
    fn trim(&mut self);
}

fn trim_meta(m: &mut ObjectMeta) {
    m.managed_fields = None;
    m.annotations = None;
    m.labels = None;
}

impl Trim for Node {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata);
        if let Some(sp) = self.spec.as_mut() {
            *sp = NodeSpec { unschedulable: sp.unschedulable, ..Default::default() };
        }
        if let Some(st) = self.status.as_mut() {
            *st = NodeStatus { conditions: st.conditions.take(), ..Default::default() };
        }
    }
}

impl Trim for Pod {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata);
        self.metadata.owner_references = None;
        self.spec = None;
        if let Some(st) = self.status.as_mut() {
            *st = PodStatus {
                phase: st.phase.take(),
                reason: st.reason.take(),
                container_statuses: st.container_statuses.take(),
                init_container_statuses: st.init_container_statuses.take(),
                ..Default::default()
            };
        }
    }
}

impl Trim for Deployment {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata);
        if let Some(sp) = self.spec.as_mut() {
            sp.template = Default::default();
        }
    }
}

impl Trim for StatefulSet {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata);
        if let Some(sp) = self.spec.as_mut() {
            sp.template = Default::default();
            sp.volume_claim_templates = None;
        }
    }
}

impl Trim for DaemonSet {
    fn trim(&mut self) {
        trim_meta(&mut self.metadata);
        if let Some(sp) = self.spec.as_mut() {
            sp.template = Default::default();
        }
    }
}

impl Trim for Event {
    fn trim(&mut self) {
        self.metadata.managed_fields = None;
    }
}

fn stream<K>(api: Api<K>, cfg: watcher::Config, index: usize, context: &str) -> (Store<K>, BoxStream<'static, Signal>)
where
    K: kube::Resource<DynamicType = ()> + Trim + Clone + DeserializeOwned + std::fmt::Debug + Send + Sync + 'static,
{
    let (reader, writer) = reflector::store();
    let context = context.to_string();
    // The API server ends a quiet watch before the client's idle limit (the
    // read timeout) would: silence longer than that is a stall, not calm.
    let server_end = crate::connectors::kube::read_timeout().saturating_sub(Duration::from_secs(5)).max(Duration::from_secs(1));
    let cfg = cfg.timeout(server_end.as_secs() as u32);
    let s = reflector::reflector(writer, watcher(api, cfg).modify(Trim::trim))
        .default_backoff()
        .map(move |ev| match ev {
            Ok(watcher::Event::InitDone) => Signal::Ready(index),
            Ok(_) => Signal::Changed,
            Err(e) => {
                let forbidden = format!("{e:?}").contains("code: 403");
                Signal::Failed(index, watch_failure(&e, index, &context), forbidden)
            }
        })
        .boxed();
    (reader, s)
}

fn cloned<K>(store: &Store<K>) -> Vec<K>
where
    K: kube::Resource<DynamicType = ()> + Clone + 'static,
{
    store.state().iter().map(|k| (**k).clone()).collect()
}

const WHAT: [&str; 6] = ["nodes", "pods in kube-system", "deployments", "statefulsets", "daemonsets", "events"];

async fn live_once(kubeconfig: kube::config::Kubeconfig, context: &str, token: Option<&Secret>, on_health: &OnHealth) {
    let client: Client = match client_for(kubeconfig, context, token).await {
        Ok(c) => c,
        Err(e) => return on_health(failed(context, &e, None)),
    };
    let t0 = Instant::now();
    let version = match tokio::time::timeout(Duration::from_secs(10), client.apiserver_version()).await {
        Ok(Ok(v)) => v.git_version,
        Ok(Err(e)) => return on_health(failed(context, &classify(e, context), Some(t0.elapsed().as_millis() as u64))),
        Err(_) => return on_health(unreachable(context, ErrorCode::Timeout, "no answer within 10 s".into(), Some(10_000))),
    };
    let latency = t0.elapsed().as_millis() as u64;
    let (nodes, s0) = stream(Api::<Node>::all(client.clone()), watcher::Config::default(), 0, context);
    let (pods, s1) = stream(Api::<Pod>::namespaced(client.clone(), "kube-system"), watcher::Config::default(), 1, context);
    let (deps, s2) = stream(Api::<Deployment>::all(client.clone()), watcher::Config::default(), 2, context);
    let (sts, s3) = stream(Api::<StatefulSet>::all(client.clone()), watcher::Config::default(), 3, context);
    let (dss, s4) = stream(Api::<DaemonSet>::all(client.clone()), watcher::Config::default(), 4, context);
    let (evs, s5) = stream(Api::<Event>::all(client.clone()), watcher::Config::default().fields("type=Warning"), 5, context);
    let mut signals = select_all([s0, s1, s2, s3, s4, s5]);
    let mut settled = [false; 6];
    let mut gaps: [Option<Finding>; 6] = Default::default();
    let mut dirty = false;
    // Since when changes wait for a verdict.
    let mut dirty_since = Instant::now();
    let mut failures = 0u32;
    loop {
        let next = if dirty && settled.iter().all(|s| *s) {
            let wait = DEBOUNCE.min(MAX_DELAY.saturating_sub(dirty_since.elapsed()));
            match tokio::time::timeout(wait, signals.next()).await {
                Ok(n) => n,
                Err(_) => {
                    // Quiet for DEBOUNCE (or changes waited MAX_DELAY): publish.
                    let mut warnings = cloned(&evs);
                    warnings.sort_by_key(|e| std::cmp::Reverse(event_time(e)));
                    let snap = Snapshot {
                        nodes: cloned(&nodes),
                        system_pods: cloned(&pods),
                        deployments: cloned(&deps),
                        statefulsets: cloned(&sts),
                        daemonsets: cloned(&dss),
                        warnings,
                        gaps: gaps.iter().flatten().cloned().collect(),
                    };
                    on_health(evaluate(context, Some(version.clone()), Some(latency), snap));
                    dirty = false;
                    continue;
                }
            }
        } else {
            signals.next().await
        };
        match next {
            None => return,
            Some(Signal::Changed) => {
                if !dirty {
                    dirty_since = Instant::now();
                }
                dirty = true;
                failures = 0;
            }
            Some(Signal::Ready(i)) => {
                settled[i] = true;
                if !dirty {
                    dirty_since = Instant::now();
                }
                dirty = true;
                failures = 0;
            }
            Some(Signal::Failed(i, message, forbidden)) => {
                if forbidden {
                    if gaps[i].is_none() {
                        gaps[i] = Some(super::fetch::forbidden_gap(WHAT[i]));
                        settled[i] = true;
                        dirty = true;
                    }
                    continue;
                }
                failures += 1;
                // Every stream failing in a row: the API server is gone. Check, and give up this round.
                if failures >= 6 {
                    if let Err(e) = client.apiserver_version().await {
                        let err: Error = classify(e, context);
                        on_health(unreachable(context, err.code(), format!("{err} (watching: {message})"), None));
                        return;
                    }
                    failures = 0;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn objects() -> (Node, Pod, Deployment, StatefulSet, DaemonSet) {
        let managed = json!([{"manager": "kwok", "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {}}}]);
        let template =
            json!({"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "registry.local/a:1"}]}});
        let node = json!({"metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1"}, "managedFields": managed},
            "spec": {"unschedulable": true, "podCIDR": "10.244.1.0/24"},
            "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "KubeletNotReady"}, {"type": "MemoryPressure", "status": "True"}],
                "images": [{"names": ["registry.local/a:1"], "sizeBytes": 1000}], "capacity": {"cpu": "8"}, "nodeInfo": {"kubeletVersion": "fake", "architecture": "amd64", "bootID": "", "containerRuntimeVersion": "", "kernelVersion": "", "kubeProxyVersion": "", "machineID": "", "operatingSystem": "linux", "osImage": "", "systemUUID": ""}}});
        let finished = k8s_openapi::jiff::Timestamp::now().to_string();
        let pod = json!({"metadata": {"name": "p1", "namespace": "kube-system", "managedFields": managed, "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u"}]},
            "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "registry.local/a:1"}]},
            "status": {"phase": "Running", "podIP": "10.244.1.5", "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"name": "c", "image": "registry.local/a:1", "imageID": "", "ready": false, "restartCount": 9,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}}, "lastState": {"terminated": {"exitCode": 1, "finishedAt": finished}}},
                    {"name": "d", "image": "registry.local/a:1", "imageID": "", "ready": true, "restartCount": 7,
                    "state": {"running": {}}, "lastState": {"terminated": {"exitCode": 1, "finishedAt": finished}}}]}});
        let dep = json!({"metadata": {"name": "d1", "namespace": "apps", "managedFields": managed},
            "spec": {"replicas": 3, "selector": {}, "template": template}, "status": {"availableReplicas": 1}});
        let sts = json!({"metadata": {"name": "s1", "namespace": "apps"},
            "spec": {"replicas": 2, "selector": {}, "serviceName": "s", "template": template,
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]}, "status": {"replicas": 2, "readyReplicas": 1}});
        let ds = json!({"metadata": {"name": "ds1", "namespace": "kube-system"}, "spec": {"selector": {}, "template": template},
            "status": {"currentNumberScheduled": 3, "desiredNumberScheduled": 3, "numberMisscheduled": 0, "numberReady": 2, "numberAvailable": 2}});
        fn de<T: DeserializeOwned>(v: serde_json::Value) -> T {
            serde_json::from_value(v).unwrap()
        }
        (de(node), de(pod), de(dep), de(sts), de(ds))
    }

    fn verdict(trim: bool) -> ClusterHealth {
        let (mut n, mut p, mut d, mut s, mut ds) = objects();
        if trim {
            n.trim();
            p.trim();
            d.trim();
            s.trim();
            ds.trim();
        }
        let snap = Snapshot {
            nodes: vec![n],
            system_pods: vec![p],
            deployments: vec![d],
            statefulsets: vec![s],
            daemonsets: vec![ds],
            ..Default::default()
        };
        evaluate("c", None, None, snap)
    }

    /// The stores hold trimmed objects: the verdict and every finding must
    /// be the same as from the whole objects.
    #[test]
    fn trimmed_objects_give_the_same_verdict() {
        let (whole, trimmed) = (verdict(false), verdict(true));
        let findings = |h: &ClusterHealth| h.findings.iter().map(|f| (f.severity, f.object.clone(), f.message.clone())).collect::<Vec<_>>();
        // Every rule fires on the whole objects (else the comparison proves nothing).
        let kinds: std::collections::BTreeSet<_> =
            whole.findings.iter().map(|f| f.object.split('/').nth(1).unwrap_or(&f.object).to_string()).collect();
        assert!(whole.findings.len() >= 7, "{:#?}", whole.findings);
        assert!(["n1", "pod", "deployment", "statefulset", "daemonset"].iter().all(|k| kinds.contains(*k)), "{kinds:?}");
        assert_eq!(findings(&whole), findings(&trimmed));
        assert_eq!((whole.verdict, whole.nodes), (trimmed.verdict, trimmed.nodes));
    }

    #[test]
    fn trimming_drops_what_the_verdict_does_not_read() {
        let (mut n, mut p, mut d, _, _) = objects();
        let before = (serde_json::to_vec(&n).unwrap().len(), serde_json::to_vec(&p).unwrap().len(), serde_json::to_vec(&d).unwrap().len());
        n.trim();
        p.trim();
        d.trim();
        assert!(n.metadata.managed_fields.is_none() && n.status.as_ref().and_then(|s| s.images.as_ref()).is_none());
        assert!(p.spec.is_none() && p.metadata.managed_fields.is_none());
        assert!(d.spec.as_ref().and_then(|s| s.template.spec.as_ref()).is_none());
        let after = (serde_json::to_vec(&n).unwrap().len(), serde_json::to_vec(&p).unwrap().len(), serde_json::to_vec(&d).unwrap().len());
        assert!(after.0 < before.0 / 2 && after.1 < before.1 && after.2 < before.2 / 2, "{before:?} -> {after:?}");
    }
}

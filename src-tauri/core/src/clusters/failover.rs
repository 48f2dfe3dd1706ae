//! Failover of marked workloads (seed case 5): Deployments labelled
//! `opsdeck.dev/failover=true` on a cluster that is Unreachable or Degraded are
//! re-created on a healthy cluster with room for them (node allocatable minus
//! the requests of the pods already there: clusters/capacity.rs), and removed from there again once
//! the source serves them. The last seen spec of every marked Deployment is
//! kept in SQLite (migration 0009), so an unreachable source's workloads are
//! still known; a degraded source is read live.
//!
//! The Kubernetes and placement side; the backend (backend/failover.rs) adds
//! the health checks, the hook and the audit entries.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{DeleteParams, ListParams};
use kube::{Api, Client};
use serde::{Deserialize, Serialize};

pub use super::capacity::{capacity, parse_cpu, parse_memory, Capacity};
use super::model::Verdict;
use crate::cache::db::{now_rfc3339, Db};
use crate::connectors::kube::classify;
use crate::error::{with_timeout, Error, Result};

/// The label that marks a Deployment for failover (value `true`).
pub const MARK_LABEL: &str = "opsdeck.dev/failover";
/// The label of a copy made by a failover (value `true`).
pub const COPY_LABEL: &str = "opsdeck.dev/failover-copy";
/// On a copy: the source cluster's context.
pub const SOURCE_ANNOTATION: &str = "opsdeck.dev/failover-source";
/// On a copy: the source cluster's API server URL.
pub const SOURCE_SERVER_ANNOTATION: &str = "opsdeck.dev/failover-source-server";
/// Deadline of one list or read.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// A Deployment marked for failover, as last seen on its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Marked {
    pub namespace: String,
    pub name: String,
    pub replicas: i32,
    /// Requests of one pod (sum of its containers): CPU in millicores, memory in bytes.
    pub cpu_milli: i64,
    pub memory_bytes: i64,
    /// The Deployment to create elsewhere: apiVersion, kind, metadata (name,
    /// namespace, labels, annotations) and spec; no status or server fields.
    #[specta(type = String)]
    pub object: serde_json::Value,
}

impl Marked {
    pub fn label(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

async fn call<T>(context: &str, fut: impl std::future::Future<Output = std::result::Result<T, kube::Error>>) -> Result<T> {
    with_timeout(format!("cluster \"{context}\""), CALL_TIMEOUT, async { fut.await.map_err(|e| classify(e, context)) }).await
}

/// The marked Deployments of a cluster, every namespace.
pub async fn read_marked(client: &Client, context: &str) -> Result<Vec<Marked>> {
    let api: Api<Deployment> = Api::all(client.clone());
    let list = call(context, api.list(&ListParams::default().labels(&format!("{MARK_LABEL}=true")))).await?;
    let mut out: Vec<Marked> = list.items.iter().map(marked).collect();
    out.sort_by_key(Marked::label);
    Ok(out)
}

fn marked(d: &Deployment) -> Marked {
    let (mut cpu, mut mem) = (0, 0);
    for c in d.spec.as_ref().and_then(|s| s.template.spec.as_ref()).map(|p| p.containers.as_slice()).unwrap_or_default() {
        let req = c.resources.as_ref().and_then(|r| r.requests.as_ref());
        cpu += req.and_then(|r| r.get("cpu")).and_then(|q| parse_cpu(&q.0)).unwrap_or(0);
        mem += req.and_then(|r| r.get("memory")).and_then(|q| parse_memory(&q.0)).unwrap_or(0);
    }
    Marked {
        namespace: d.metadata.namespace.clone().unwrap_or_else(|| "default".into()),
        name: d.metadata.name.clone().unwrap_or_default(),
        replicas: d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
        cpu_milli: cpu,
        memory_bytes: mem,
        object: clean(d),
    }
}

/// A Deployment reduced to what re-creates it elsewhere.
pub fn clean(d: &Deployment) -> serde_json::Value {
    let mut annotations = d.metadata.annotations.clone().unwrap_or_default();
    annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
    annotations.remove("deployment.kubernetes.io/revision");
    serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": d.metadata.name,
            "namespace": d.metadata.namespace.clone().unwrap_or_else(|| "default".into()),
            "labels": d.metadata.labels.clone().unwrap_or_default(),
            "annotations": annotations,
        },
        "spec": d.spec,
    })
}

/// The copy of a marked Deployment for a target: labelled [`COPY_LABEL`],
/// its source in annotations, and no longer marked (a copy is never failed over itself).
pub fn copy_of(m: &Marked, source: &str, server: &str) -> Result<kube::api::DynamicObject> {
    let mut v = m.object.clone();
    if let Some(meta) = v.get_mut("metadata").and_then(|x| x.as_object_mut()) {
        let mut labels: BTreeMap<String, String> =
            meta.get("labels").and_then(|l| serde_json::from_value(l.clone()).ok()).unwrap_or_default();
        labels.remove(MARK_LABEL);
        labels.insert(COPY_LABEL.into(), "true".into());
        let mut ann: BTreeMap<String, String> =
            meta.get("annotations").and_then(|l| serde_json::from_value(l.clone()).ok()).unwrap_or_default();
        ann.insert(SOURCE_ANNOTATION.into(), source.into());
        ann.insert(SOURCE_SERVER_ANNOTATION.into(), server.into());
        meta.insert("labels".into(), serde_json::json!(labels));
        meta.insert("annotations".into(), serde_json::json!(ann));
    }
    serde_json::from_value(v).map_err(|e| Error::invalid(format!("the kept spec of {} is not an object: {e}", m.label())))
}

/// Keeps `marked` as the last seen marked workloads of a cluster (replacing what was kept).
pub async fn remember(db: &Db, server: &str, context: &str, marked: &[Marked]) -> Result<()> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM failover_specs WHERE server = ? AND context = ?").bind(server).bind(context).execute(&mut *tx).await?;
    let now = now_rfc3339();
    for m in marked {
        let json = serde_json::to_string(m).map_err(|e| Error::Internal(format!("serialising {}: {e}", m.label())))?;
        sqlx::query("INSERT INTO failover_specs (server, context, namespace, kind, name, spec_json, seen_at) VALUES (?, ?, ?, 'Deployment', ?, ?, ?)")
            .bind(server)
            .bind(context)
            .bind(&m.namespace)
            .bind(&m.name)
            .bind(json)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The marked workloads last seen on a cluster, with when they were seen (none kept: empty, None).
pub async fn remembered(db: &Db, server: &str, context: &str) -> Result<(Vec<Marked>, Option<String>)> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT spec_json, seen_at FROM failover_specs WHERE server = ? AND context = ? ORDER BY namespace, name")
            .bind(server)
            .bind(context)
            .fetch_all(db.pool())
            .await?;
    let seen = rows.first().map(|r| r.1.clone());
    let mut out = Vec::new();
    for (json, _) in rows {
        match serde_json::from_str::<Marked>(&json) {
            Ok(m) => out.push(m),
            Err(e) => tracing::warn!(error = %e, "a kept failover spec no longer parses; skipped"),
        }
    }
    Ok((out, seen))
}

/// A possible target, as checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Candidate {
    pub context: String,
    pub verdict: Verdict,
    /// Why it is not healthy (its main findings), or why it could not be read.
    pub reasons: Vec<String>,
    pub capacity: Option<Capacity>,
}

/// Where one workload goes, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Placement {
    pub namespace: String,
    pub name: String,
    pub replicas: i32,
    /// Requests of all its replicas.
    pub cpu_milli: i64,
    pub memory_bytes: i64,
    /// None: no healthy cluster has room.
    pub target: Option<String>,
    pub why: String,
}

fn cores(milli: i64) -> String {
    if milli % 1000 == 0 {
        format!("{}", milli / 1000)
    } else {
        format!("{:.2}", milli as f64 / 1000.0)
    }
}

fn gib(bytes: i64) -> String {
    format!("{:.1}Gi", bytes as f64 / 1_073_741_824.0)
}

/// Places each workload (largest CPU request first) on the healthy candidate
/// with room for all its replicas (and each pod on one node) that has the
/// most CPU left (then memory), counting what earlier placements took.
pub fn place(workloads: &[Marked], candidates: &[Candidate]) -> Vec<Placement> {
    let mut free: Vec<(String, Capacity)> = candidates
        .iter()
        .filter(|c| c.verdict == Verdict::Healthy)
        .filter_map(|c| c.capacity.clone().map(|cap| (c.context.clone(), cap)))
        .collect();
    let mut order: Vec<&Marked> = workloads.iter().collect();
    order.sort_by(|a, b| (b.cpu_milli * i64::from(b.replicas)).cmp(&(a.cpu_milli * i64::from(a.replicas))).then(a.label().cmp(&b.label())));
    let unhealthy: Vec<String> = candidates
        .iter()
        .filter(|c| c.verdict != Verdict::Healthy)
        .map(|c| format!("{} is {}", c.context, super::history::verdict_str(c.verdict)))
        .collect();
    let mut out = Vec::new();
    for m in order {
        let n = i64::from(m.replicas.max(0));
        let (cpu, mem) = (m.cpu_milli * n, m.memory_bytes * n);
        let fits = |cap: &Capacity| {
            cap.cpu_free() >= cpu
                && cap.memory_free() >= mem
                && cap.node_cpu_free_milli >= m.cpu_milli
                && cap.node_memory_free >= m.memory_bytes
        };
        let mut rejected: Vec<String> = free
            .iter()
            .filter(|(_, cap)| !fits(cap))
            .map(|(ctx, cap)| format!("{ctx} has {} CPU / {} free", cores(cap.cpu_free()), gib(cap.memory_free())))
            .collect();
        rejected.extend(unhealthy.iter().cloned());
        let best = free
            .iter_mut()
            .filter(|(_, cap)| fits(cap))
            .max_by(|a, b| a.1.cpu_free().cmp(&b.1.cpu_free()).then(a.1.memory_free().cmp(&b.1.memory_free())).then(b.0.cmp(&a.0)));
        let need = format!("needs {} CPU / {} for {} replicas", cores(cpu), gib(mem), m.replicas);
        let (target, why) = match best {
            Some((ctx, cap)) => {
                let why = format!(
                    "{need}; {ctx} is healthy with {} CPU / {} free{}",
                    cores(cap.cpu_free()),
                    gib(cap.memory_free()),
                    if rejected.is_empty() { String::new() } else { format!(" (not: {})", rejected.join("; ")) }
                );
                cap.cpu_requested_milli += cpu;
                cap.memory_requested += mem;
                (Some(ctx.clone()), why)
            }
            None => (
                None,
                format!(
                    "{need}; no healthy cluster has room{}",
                    if rejected.is_empty() { String::new() } else { format!(": {}", rejected.join("; ")) }
                ),
            ),
        };
        out.push(Placement {
            namespace: m.namespace.clone(),
            name: m.name.clone(),
            replicas: m.replicas,
            cpu_milli: cpu,
            memory_bytes: mem,
            target,
            why,
        });
    }
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

/// A copy on a target, as found there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Copy {
    pub context: String,
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

/// The copies of `source`'s workloads on a target cluster.
pub async fn copies_on(client: &Client, context: &str, source: &str, server: &str) -> Result<Vec<Copy>> {
    let api: Api<Deployment> = Api::all(client.clone());
    let list = call(context, api.list(&ListParams::default().labels(&format!("{COPY_LABEL}=true")))).await?;
    Ok(list
        .items
        .iter()
        .filter(|d| {
            let a = d.metadata.annotations.clone().unwrap_or_default();
            a.get(SOURCE_ANNOTATION).map(String::as_str) == Some(source)
                && a.get(SOURCE_SERVER_ANNOTATION).map(String::as_str) == Some(server)
        })
        .map(|d| Copy {
            context: context.into(),
            namespace: d.metadata.namespace.clone().unwrap_or_default(),
            name: d.metadata.name.clone().unwrap_or_default(),
            uid: d.metadata.uid.clone().unwrap_or_default(),
        })
        .collect())
}

/// Deletes a copy (precondition: its uid, so a Deployment re-created meanwhile under that name is left alone).
pub async fn delete_copy(client: &Client, c: &Copy) -> Result<()> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), &c.namespace);
    let dp = DeleteParams {
        preconditions: Some(kube::api::Preconditions { uid: Some(c.uid.clone()), resource_version: None }),
        propagation_policy: Some(kube::api::PropagationPolicy::Background),
        ..Default::default()
    };
    call(&c.context, api.delete(&c.name, &dp)).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, replicas: i32, cpu: i64) -> Marked {
        Marked {
            namespace: "shop".into(),
            name: name.into(),
            replicas,
            cpu_milli: cpu,
            memory_bytes: 1 << 20,
            object: serde_json::json!({}),
        }
    }

    fn cand(ctx: &str, verdict: Verdict, cpu_free: i64, node_free: i64) -> Candidate {
        Candidate {
            context: ctx.into(),
            verdict,
            reasons: vec![],
            capacity: Some(Capacity {
                nodes: 2,
                cpu_allocatable_milli: cpu_free,
                cpu_requested_milli: 0,
                memory_allocatable: 1 << 40,
                memory_requested: 0,
                node_cpu_free_milli: node_free,
                node_memory_free: 1 << 39,
                ..Capacity::default()
            }),
        }
    }

    #[test]
    fn placement_takes_the_healthy_cluster_with_room_and_counts_what_it_placed() {
        let cands = vec![
            cand("full", Verdict::Healthy, 400_000, 200_000),
            cand("roomy", Verdict::Healthy, 2_000_000, 1_000_000),
            cand("sick", Verdict::Degraded, 9_000_000, 9_000_000),
        ];
        let p = place(&[m("api", 2, 600_000), m("web", 1, 300_000)], &cands);
        let api = p.iter().find(|x| x.name == "api").unwrap();
        assert_eq!(api.target.as_deref(), Some("roomy"));
        assert!(api.why.contains("full has 400 CPU") && api.why.contains("sick is degraded"), "{}", api.why);
        // api took 1200 of roomy's 2000: web (300) fits on full (400 free, 200 per node? no: 300 > 200 per node) -> roomy (800 left).
        let web = p.iter().find(|x| x.name == "web").unwrap();
        assert_eq!(web.target.as_deref(), Some("roomy"), "{}", web.why);
        // Nothing fits: a reason, no target.
        let p = place(&[m("huge", 3, 1_000_000)], &cands);
        assert_eq!(p[0].target, None);
        assert!(p[0].why.contains("no healthy cluster has room"), "{}", p[0].why);
    }

    #[test]
    fn a_copy_is_labelled_as_such_and_not_marked() {
        let d: Deployment = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "api", "namespace": "shop", "resourceVersion": "9", "uid": "u",
                         "labels": {MARK_LABEL: "true", "app": "api"},
                         "annotations": {"deployment.kubernetes.io/revision": "3", "owner": "team-a"}},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "api"}},
                     "template": {"metadata": {"labels": {"app": "api"}},
                                  "spec": {"containers": [{"name": "c", "image": "api:1", "resources": {"requests": {"cpu": "500m", "memory": "64Mi"}}}]}}},
            "status": {"replicas": 2}
        }))
        .unwrap();
        let mk = marked(&d);
        assert_eq!((mk.cpu_milli, mk.memory_bytes, mk.replicas), (500, 67_108_864, 2));
        assert!(mk.object.get("status").is_none() && mk.object["metadata"].get("resourceVersion").is_none());
        let copy = copy_of(&mk, "prod-a", "https://a").unwrap();
        let labels = copy.metadata.labels.unwrap();
        assert_eq!(labels.get(COPY_LABEL).map(String::as_str), Some("true"));
        assert!(!labels.contains_key(MARK_LABEL));
        let ann = copy.metadata.annotations.unwrap();
        assert_eq!(ann.get(SOURCE_ANNOTATION).map(String::as_str), Some("prod-a"));
        assert_eq!(ann.get("owner").map(String::as_str), Some("team-a"));
        assert!(!ann.contains_key("deployment.kubernetes.io/revision"));
    }
}

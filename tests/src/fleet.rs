//! Several real clusters at once: control planes that run workloads
//! ([`crate::workloads`]), each its own etcd, kube-apiserver,
//! controller-manager, scheduler and KWOK, behind one kubeconfig with a
//! context per cluster (named as the caller chose, cluster-admin tokens).
//! Used by the rollout tests (tests/tests/clusters_rollout.rs, e2e_rollout.rs).

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::{json, Value};

use crate::service::Service;
use crate::workloads::{fake_nodes, poll, POOL_LABEL};

/// Running clusters and their kubeconfig (stopped when dropped, or at exit).
pub struct Fleet {
    pub planes: Vec<Service>,
    pub names: Vec<String>,
    pub kubeconfig: PathBuf,
}

impl Fleet {
    /// Starts a control plane per name, then writes `fleet.kubeconfig` in the first one's run dir.
    pub fn start(names: &[&str]) -> Fleet {
        let planes: Vec<Service> = names.iter().map(|_| Service::start_with_args("kube-apiserver", &["--workloads"], &[])).collect();
        let dir = planes[0].run_dir.join("fleet");
        std::fs::create_dir_all(&dir).expect("fleet dir");
        let (mut clusters, mut users, mut contexts) = (String::new(), String::new(), String::new());
        for (name, s) in names.iter().zip(&planes) {
            clusters += &format!(
                "- name: {name}\n  cluster:\n    server: {}\n    certificate-authority: {}\n",
                s.get("KUBE_SERVER"),
                s.get("KUBE_CA")
            );
            users += &format!("- name: {name}\n  user:\n    token: {}\n", s.get("KUBE_ADMIN_TOKEN"));
            contexts += &format!("- name: {name}\n  context: {{cluster: {name}, user: {name}}}\n");
        }
        let kubeconfig = dir.join("fleet.kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n{clusters}users:\n{users}contexts:\n{contexts}current-context: {}\n",
            names[0]
        );
        std::fs::write(&kubeconfig, text).expect("write the fleet kubeconfig");
        Fleet { planes, names: names.iter().map(|s| s.to_string()).collect(), kubeconfig }
    }

    pub fn path(&self) -> String {
        self.kubeconfig.display().to_string()
    }

    /// An admin client per cluster, in the order of the names.
    pub async fn clients(&self) -> Vec<Client> {
        let mut out = Vec::new();
        for n in &self.names {
            out.push(crate::clusters::client(&self.path(), n).await);
        }
        out
    }
}

/// Creates `n` KWOK nodes of pool `pool` on `c` unless `{pool}-0` exists.
pub async fn ensure_nodes(c: &Client, pool: &str, n: usize) {
    if Api::<Node>::all(c.clone()).get_opt(&format!("{pool}-0")).await.expect("read nodes").is_none() {
        fake_nodes(c, pool, n).await;
    }
}

/// The web manifest of the rollout tests: ConfigMap web-config (`mode`),
/// with `extra` a second ConfigMap web-extra, and Deployment web of `image`
/// with two replicas on the nodes of `pool` (maxSurge 1, maxUnavailable 0),
/// `deadline` its progressDeadlineSeconds.
pub fn web_manifest(ns: &str, mode: &str, image: &str, pool: &str, extra: bool, deadline: Option<i32>) -> String {
    let mut docs =
        vec![json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-config", "namespace": ns}, "data": {"mode": mode}})];
    if extra {
        docs.push(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-extra", "namespace": ns}, "data": {"added": "yes"}}),
        );
    }
    let mut spec = json!({
        "replicas": 2,
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"nodeSelector": {POOL_LABEL: pool}, "containers": [{"name": "web", "image": image}]}
        }
    });
    if let Some(d) = deadline {
        spec["progressDeadlineSeconds"] = json!(d);
    }
    docs.push(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": ns}, "spec": spec}));
    docs.iter().map(|d| serde_norway::to_string(d).expect("yaml")).collect::<Vec<_>>().join("---\n")
}

/// Namespace `ns` and version 1 of the web manifest (image `registry.local/web:1`,
/// pool "ro") on every cluster, applied as an earlier `opsdeck apply` would
/// (field manager "opsdeck"), and rolled out.
pub async fn deploy_v1(clients: &[Client], ns: &str) {
    for c in clients {
        let nss: Api<Namespace> = Api::all(c.clone());
        nss.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": ns}})).expect("namespace"))
            .await
            .expect("create namespace");
        for doc in serde_norway::Deserializer::from_str(&web_manifest(ns, "blue", "registry.local/web:1", "ro", false, None)) {
            let v: Value = serde::Deserialize::deserialize(doc).expect("manifest document");
            let name = v["metadata"]["name"].as_str().unwrap_or_default().to_string();
            let pp = PatchParams::apply("opsdeck");
            if v["kind"] == "ConfigMap" {
                Api::<ConfigMap>::namespaced(c.clone(), ns).patch(&name, &pp, &Patch::Apply(&v)).await.expect("apply v1 configmap");
            } else {
                Api::<Deployment>::namespaced(c.clone(), ns).patch(&name, &pp, &Patch::Apply(&v)).await.expect("apply v1 deployment");
            }
        }
        web_rolled_out(c, ns, "registry.local/web:1").await;
    }
}

/// Waits (90 s at most) until deployment `ns/web` runs `image` on 2 available replicas, none old.
pub async fn web_rolled_out(c: &Client, ns: &str, image: &str) -> Deployment {
    let api: Api<Deployment> = Api::namespaced(c.clone(), ns);
    poll(&format!("web rolled out with {image}"), Duration::from_secs(90), || async {
        let d = api.get("web").await.map_err(|e| e.to_string())?;
        let st = d.status.clone().unwrap_or_default();
        let img = d.spec.as_ref().and_then(|s| s.template.spec.as_ref()).and_then(|s| s.containers.first()).and_then(|c| c.image.clone());
        let done = img.as_deref() == Some(image)
            && st.observed_generation == d.metadata.generation
            && st.replicas == Some(2)
            && st.updated_replicas == Some(2)
            && st.available_replicas == Some(2);
        if done {
            Ok(d)
        } else {
            Err(format!("{img:?} {st:?}"))
        }
    })
    .await
}

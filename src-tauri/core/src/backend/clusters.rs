//! The Clusters workspace on the backend: health of a Kubernetes connection's
//! contexts, with the last result cached in SQLite so the view shows it (and
//! its age) before the network answers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::join_all;
use kube::config::Kubeconfig;

use super::Backend;
use crate::cache::snapshots::{self, Snapshot};
use crate::clusters::apply::{apply, parse_manifest, ApplyResult};
use crate::clusters::details::{details, ClusterDetails};
use crate::clusters::health::check_all;
use crate::clusters::live::{self, LiveHandle};
use crate::clusters::ClusterHealth;
use crate::connections::ConnectionSpec;
use crate::connectors::kube::{client_for, read_kubeconfig, resolve_contexts};
use crate::error::{Error, Result};
use crate::secrets::Secret;

/// Cache scope of the last health result.
pub const HEALTH_SCOPE: &str = "cluster-health";
/// Deadline per context.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(10);

/// What a Kubernetes connection points at, resolved.
struct KubeTarget {
    name: String,
    path: String,
    kubeconfig: Kubeconfig,
    contexts: Vec<String>,
    token: Option<Secret>,
}

impl Backend {
    async fn kube_target(&self, connection_id: &str) -> Result<KubeTarget> {
        let stored = crate::connections::store::get(&self.db, connection_id).await?;
        let ConnectionSpec::Kubernetes { kubeconfig, contexts } = &stored.connection.spec else {
            return Err(Error::invalid(format!("connection \"{}\" is not a Kubernetes connection", stored.connection.name)));
        };
        let token = match &stored.secret_ref {
            Some(account) => self.keychain.get(account).await?,
            None => None,
        };
        crate::connectors::kube::token_bound(contexts, token.is_some())?;
        let parsed = read_kubeconfig(kubeconfig)?;
        let contexts = resolve_contexts(&parsed, kubeconfig, contexts)?;
        Ok(KubeTarget { name: stored.connection.name, path: kubeconfig.clone(), kubeconfig: parsed, contexts, token })
    }

    /// Checks every selected context of a Kubernetes connection now, and caches the result.
    pub async fn cluster_health(&self, connection_id: &str) -> Result<Vec<ClusterHealth>> {
        let t = self.kube_target(connection_id).await?;
        let result = check_all(&t.path, &t.contexts, t.token.as_ref(), HEALTH_TIMEOUT).await?;
        let before = self.cached_cluster_health(connection_id).await.ok().flatten().map(|s| s.payload).unwrap_or_default();
        snapshots::put(&self.db, connection_id, HEALTH_SCOPE, &result).await?;
        self.notify_verdicts(&t.name, &before, &result).await;
        Ok(result)
    }

    /// Live health of every context of a connection; each update is also cached.
    pub async fn cluster_watch(
        &self,
        connection_id: &str,
        on_health: impl Fn(ClusterHealth) + Send + Sync + 'static,
    ) -> Result<LiveHandle> {
        let t = self.kube_target(connection_id).await?;
        let latest: Arc<Mutex<BTreeMap<String, ClusterHealth>>> = Arc::default();
        let (db, id) = (self.db.clone(), connection_id.to_string());
        let on_health = Arc::new(on_health);
        // Verdict changes are notified against the last known verdict (the
        // cache at first), so opening the view again tells nothing new.
        let baseline = self.cached_cluster_health(connection_id).await.ok().flatten().map(|s| s.payload).unwrap_or_default();
        let (backend, name) = (self.clone(), t.name.clone());
        let cb = move |h: ClusterHealth| {
            let mut prev = None;
            let all: Vec<ClusterHealth> = match latest.lock() {
                Ok(mut m) => {
                    prev = m.insert(h.context.clone(), h.clone());
                    m.values().cloned().collect()
                }
                Err(_) => vec![],
            };
            let prev = prev.or_else(|| baseline.iter().find(|b| b.context == h.context).cloned());
            let (db, id, backend, name, now) = (db.clone(), id.clone(), backend.clone(), name.clone(), h.clone());
            tokio::spawn(async move {
                let _ = snapshots::put(&db, &id, HEALTH_SCOPE, &all).await;
                backend.notify_verdicts(&name, prev.as_slice(), std::slice::from_ref(&now)).await;
            });
            on_health(h);
        };
        Ok(live::watch(t.kubeconfig, t.contexts, t.token, Arc::new(cb)))
    }

    /// Drill-down tables of one context of a connection.
    pub async fn cluster_details(&self, connection_id: &str, context: &str) -> Result<ClusterDetails> {
        let t = self.kube_target(connection_id).await?;
        if !t.contexts.iter().any(|c| c == context) {
            return Err(Error::invalid(format!("context \"{context}\" is not part of connection \"{}\"", t.name)));
        }
        let client = client_for(t.kubeconfig, context, t.token.as_ref()).await?;
        crate::error::with_timeout(format!("cluster \"{context}\""), HEALTH_TIMEOUT * 3, details(&client, context)).await
    }

    /// Server-side applies `manifest` to the chosen contexts of a connection,
    /// all contexts concurrently; audited per context.
    pub async fn cluster_apply(&self, connection_id: &str, contexts: &[String], manifest: &str) -> Result<Vec<ApplyResult>> {
        let t = self.kube_target(connection_id).await?;
        let objects = parse_manifest(manifest)?;
        if contexts.is_empty() {
            return Err(Error::invalid("choose at least one context"));
        }
        for c in contexts {
            if !t.contexts.contains(c) {
                return Err(Error::invalid(format!("context \"{c}\" is not part of connection \"{}\"", t.name)));
            }
        }
        Ok(self.apply_to(&t, contexts, &objects).await)
    }

    /// Server-side applies `manifest` to contexts of a kubeconfig file that
    /// is no saved connection (`opsdeck apply --kubeconfig`; several files
    /// separated by ':' merge as kubectl merges them): none named = every
    /// context of the file. The same per-context run and audit entries
    /// (`cluster.apply` on the context) as [`Self::cluster_apply`].
    pub async fn cluster_apply_kubeconfig(&self, kubeconfig: &str, contexts: &[String], manifest: &str) -> Result<Vec<ApplyResult>> {
        let objects = parse_manifest(manifest)?;
        let parsed = read_kubeconfig(kubeconfig)?;
        let chosen = resolve_contexts(&parsed, kubeconfig, contexts)?;
        let t = KubeTarget {
            name: format!("kubeconfig {kubeconfig}"),
            path: kubeconfig.to_string(),
            kubeconfig: parsed,
            contexts: chosen.clone(),
            token: None,
        };
        Ok(self.apply_to(&t, &chosen, &objects).await)
    }

    /// Applies `objects` to `contexts` of `t` concurrently, a result and an audit entry per context.
    async fn apply_to(&self, t: &KubeTarget, contexts: &[String], objects: &[kube::api::DynamicObject]) -> Vec<ApplyResult> {
        let runs = contexts.iter().map(|context| {
            let (kc, token) = (t.kubeconfig.clone(), t.token.clone());
            async move {
                match client_for(kc, context, token.as_ref()).await {
                    Ok(client) => apply(&client, context, objects).await,
                    Err(e) => {
                        ApplyResult { context: context.clone(), ok: false, error: Some(e.to_string()), objects: vec![], rollouts: vec![] }
                    }
                }
            }
        });
        let results = join_all(runs).await;
        for r in &results {
            let summary: Vec<String> = r
                .objects
                .iter()
                .map(|o| {
                    format!("{} {}/{}: {}", o.kind, o.namespace.as_deref().unwrap_or("-"), o.name, o.error.as_deref().unwrap_or(&o.action))
                })
                .collect();
            let detail = format!("on {}: {}", t.name, summary.join("; "));
            let outcome = if r.ok {
                Ok(detail)
            } else {
                Err(Error::Internal(r.error.clone().map(|e| format!("on {}: {e}", t.name)).unwrap_or(detail)))
            };
            match &outcome {
                Ok(d) => self.audit("kubernetes", &r.context, "cluster.apply", Ok(d.clone())).await,
                Err(e) => self.audit("kubernetes", &r.context, "cluster.apply", Err(e)).await,
            }
        }
        results
    }

    /// The last cached health of a connection, with the time it was taken.
    pub async fn cached_cluster_health(&self, connection_id: &str) -> Result<Option<Snapshot<Vec<ClusterHealth>>>> {
        snapshots::get(&self.db, connection_id, HEALTH_SCOPE).await
    }
}

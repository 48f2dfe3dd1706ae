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
use crate::clusters::history::{self, HealthTransition, HistoryQuery, Retention, Seen};
use crate::clusters::live::{self, LiveHandle};
use crate::clusters::review::{review, ClusterReview, REVIEW_TIMEOUT};
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
pub(super) struct KubeTarget {
    pub(super) name: String,
    pub(super) path: String,
    pub(super) kubeconfig: Kubeconfig,
    pub(super) contexts: Vec<String>,
    pub(super) token: Option<Secret>,
}

impl Backend {
    pub(super) async fn kube_target(&self, connection_id: &str) -> Result<KubeTarget> {
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
        record_history(&self.db, &t.kubeconfig, "check", &t.name, &result).await;
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
        // History rows are written in the order the verdicts came, by one task
        // (it ends when the watch stops and drops the sender).
        let (to_history, mut history_rx) = tokio::sync::mpsc::unbounded_channel::<ClusterHealth>();
        let (db_h, kc_h, name_h) = (self.db.clone(), t.kubeconfig.clone(), t.name.clone());
        tokio::spawn(async move {
            while let Some(h) = history_rx.recv().await {
                record_history(&db_h, &kc_h, "live", &name_h, std::slice::from_ref(&h)).await;
            }
        });
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
            let _ = to_history.send(h.clone());
            tokio::spawn(async move {
                let _ = snapshots::put(&db, &id, HEALTH_SCOPE, &all).await;
                backend.notify_verdicts(&name, prev.as_slice(), std::slice::from_ref(&now)).await;
            });
            on_health(h);
        };
        Ok(live::watch(t.kubeconfig, t.contexts, t.token, Arc::new(cb)))
    }

    /// The Deployments of a connection's contexts side by side (all
    /// namespaces, or one), drift flagged; a context that cannot be read is
    /// listed in `errors`, never counted as one where a Deployment is missing.
    pub async fn cluster_fleet_workloads(
        &self,
        connection_id: &str,
        namespace: Option<&str>,
    ) -> Result<crate::clusters::fleet::FleetReport> {
        let t = self.kube_target(connection_id).await?;
        crate::clusters::fleet::fleet_workloads(&t.path, &t.contexts, namespace, t.token.as_ref(), HEALTH_TIMEOUT).await
    }

    /// CPU and memory requests against the allocatable of Ready schedulable
    /// nodes, per context of a connection (each within its own deadline).
    pub async fn cluster_capacity(&self, connection_id: &str) -> Result<Vec<crate::clusters::capacity::ClusterCapacity>> {
        let t = self.kube_target(connection_id).await?;
        Ok(crate::clusters::capacity::capacity_all(&t.kubeconfig, &t.contexts, t.token.as_ref(), HEALTH_TIMEOUT * 2).await)
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
    /// all contexts concurrently, after a review of every context (see
    /// [`Self::cluster_apply_review`]): nothing is written anywhere unless
    /// every context is clean; audited per context. Conflicts are never forced.
    pub async fn cluster_apply(&self, connection_id: &str, contexts: &[String], manifest: &str) -> Result<Vec<ApplyResult>> {
        self.cluster_apply_with(connection_id, contexts, manifest, None).await
    }

    /// [`Self::cluster_apply`], forcing field conflicts when `force_reason`
    /// is given (a non-empty reason, recorded in the audit entry with the
    /// fields taken and their managers). Permission denials still refuse.
    pub async fn cluster_apply_with(
        &self,
        connection_id: &str,
        contexts: &[String],
        manifest: &str,
        force_reason: Option<&str>,
    ) -> Result<Vec<ApplyResult>> {
        let force = checked_reason(force_reason)?;
        let (t, objects) = self.apply_target(connection_id, contexts, manifest).await?;
        self.apply_to(&t, contexts, &objects, force).await
    }

    /// Reviews an apply of `manifest` to the chosen contexts of a connection
    /// without writing anything: per context and object, the permission
    /// pre-check, the server-side dry run's diff and the field conflicts.
    pub async fn cluster_apply_review(&self, connection_id: &str, contexts: &[String], manifest: &str) -> Result<Vec<ClusterReview>> {
        let (t, objects) = self.apply_target(connection_id, contexts, manifest).await?;
        Ok(review_all(&t, contexts, &objects).await)
    }

    pub(super) async fn apply_target(
        &self,
        connection_id: &str,
        contexts: &[String],
        manifest: &str,
    ) -> Result<(KubeTarget, Vec<kube::api::DynamicObject>)> {
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
        Ok((t, objects))
    }

    /// Server-side applies `manifest` to contexts of a kubeconfig file that
    /// is no saved connection (`opsdeck apply --kubeconfig`; several files
    /// separated by ':' merge as kubectl merges them): none named = every
    /// context of the file. The same review, refusal, per-context run and
    /// audit entries (`cluster.apply` on the context) as [`Self::cluster_apply_with`].
    pub async fn cluster_apply_kubeconfig(
        &self,
        kubeconfig: &str,
        contexts: &[String],
        manifest: &str,
        force_reason: Option<&str>,
    ) -> Result<Vec<ApplyResult>> {
        let force = checked_reason(force_reason)?;
        let (t, objects) = kubeconfig_target(kubeconfig, contexts, manifest)?;
        let chosen = t.contexts.clone();
        self.apply_to(&t, &chosen, &objects, force).await
    }

    /// [`Self::cluster_apply_review`] for contexts of a kubeconfig file (`opsdeck apply --dry-run`, `--diff`).
    pub async fn cluster_apply_review_kubeconfig(
        &self,
        kubeconfig: &str,
        contexts: &[String],
        manifest: &str,
    ) -> Result<Vec<ClusterReview>> {
        let (t, objects) = kubeconfig_target(kubeconfig, contexts, manifest)?;
        Ok(review_all(&t, &t.contexts, &objects).await)
    }

    /// Reviews `objects` on every context, then applies them to all of them
    /// concurrently, a result and an audit entry per context; or, when any
    /// context is not clean (a denial, an error, or conflicts without
    /// `force`), writes nothing anywhere and refuses saying what and how to go on.
    async fn apply_to(
        &self,
        t: &KubeTarget,
        contexts: &[String],
        objects: &[kube::api::DynamicObject],
        force: Option<String>,
    ) -> Result<Vec<ApplyResult>> {
        let reviews = review_all(t, contexts, objects).await;
        if let Some(refusal) = refusal(&reviews, force.is_some()) {
            for c in contexts {
                self.audit("kubernetes", c, "cluster.apply", Err(&refusal)).await;
            }
            return Err(refusal);
        }
        let runs = contexts.iter().map(|context| {
            let (kc, token) = (t.kubeconfig.clone(), t.token.clone());
            // Forced only where the review found conflicts: one that appears
            // later on a clean context fails instead of being taken unlisted.
            let force = force.is_some() && reviews.iter().any(|v| &v.context == context && v.conflicted);
            async move {
                match client_for(kc, context, token.as_ref()).await {
                    Ok(client) => apply(&client, context, objects, force).await,
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
            let forced = match (&force, reviews.iter().find(|v| v.context == r.context)) {
                (Some(reason), Some(v)) if v.conflicted => format!("forced conflicts (reason: {reason}): {}; ", taken(v)),
                _ => String::new(),
            };
            let detail = format!("{forced}on {}: {}", t.name, summary.join("; "));
            let outcome = if r.ok {
                Ok(detail)
            } else {
                Err(Error::Internal(r.error.clone().map(|e| format!("{forced}on {}: {e}", t.name)).unwrap_or(detail)))
            };
            match &outcome {
                Ok(d) => self.audit("kubernetes", &r.context, "cluster.apply", Ok(d.clone())).await,
                Err(e) => self.audit("kubernetes", &r.context, "cluster.apply", Err(e)).await,
            }
        }
        Ok(results)
    }

    /// Verdict changes of a connection's contexts (or of one of them), newest
    /// first, since `since_ms` (Unix milliseconds) when given.
    pub async fn cluster_health_history(
        &self,
        connection_id: &str,
        context: Option<&str>,
        since_ms: Option<i64>,
    ) -> Result<Vec<HealthTransition>> {
        let t = self.kube_target(connection_id).await?;
        if let Some(c) = context {
            if !t.contexts.iter().any(|x| x == c) {
                return Err(Error::invalid(format!("context \"{c}\" is not part of connection \"{}\"", t.name)));
            }
        }
        let mut out = Vec::new();
        for c in t.contexts.iter().filter(|c| context.is_none_or(|x| x == c.as_str())) {
            let q = HistoryQuery { contexts: vec![c.clone()], server: Some(history::server_of(&t.kubeconfig, c)), since_ms, limit: 1000 };
            out.extend(history::list(&self.db, &q).await?);
        }
        out.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
        Ok(out)
    }

    /// Records the verdict changes among `results` of an `opsdeck health`
    /// run on kubeconfig file(s) `path` (which is no saved connection).
    pub async fn record_kubeconfig_health(&self, path: &str, results: &[ClusterHealth]) -> Result<()> {
        let kc = read_kubeconfig(path)?;
        record_history(&self.db, &kc, "cli", path, results).await;
        Ok(())
    }

    /// Verdict changes of any cluster seen by this data directory (`opsdeck health history`).
    pub async fn health_history(&self, q: &HistoryQuery) -> Result<Vec<HealthTransition>> {
        history::list(&self.db, q).await
    }

    /// The last cached health of a connection, with the time it was taken.
    pub async fn cached_cluster_health(&self, connection_id: &str) -> Result<Option<Snapshot<Vec<ClusterHealth>>>> {
        snapshots::get(&self.db, connection_id, HEALTH_SCOPE).await
    }
}

/// Adds a history row for each result whose verdict changed; a failure is
/// logged, never the health check's failure.
async fn record_history(db: &crate::cache::db::Db, kc: &Kubeconfig, source: &str, origin: &str, results: &[ClusterHealth]) {
    let retention = Retention::from_env();
    for h in results {
        let server = history::server_of(kc, &h.context);
        let seen = Seen { server: &server, source, origin };
        if let Err(e) = history::record(db, seen, h, retention).await {
            tracing::warn!(error = %e, context = %h.context, "the verdict change was not recorded in the health history");
        }
    }
}

/// Contexts of a kubeconfig file that is no saved connection, and the manifest's objects.
pub(super) fn kubeconfig_target(
    kubeconfig: &str,
    contexts: &[String],
    manifest: &str,
) -> Result<(KubeTarget, Vec<kube::api::DynamicObject>)> {
    let objects = parse_manifest(manifest)?;
    let parsed = read_kubeconfig(kubeconfig)?;
    let chosen = resolve_contexts(&parsed, kubeconfig, contexts)?;
    let t = KubeTarget {
        name: format!("kubeconfig {kubeconfig}"),
        path: kubeconfig.to_string(),
        kubeconfig: parsed,
        contexts: chosen,
        token: None,
    };
    Ok((t, objects))
}

/// A reason to force conflicts, trimmed; refused when empty.
fn checked_reason(reason: Option<&str>) -> Result<Option<String>> {
    match reason.map(str::trim) {
        None => Ok(None),
        Some("") => Err(Error::invalid("forcing conflicts needs a reason (--reason): say why the fields are taken from their managers")),
        Some(r) if r.len() > 1000 => Err(Error::invalid("reason: at most 1000 characters")),
        Some(r) => Ok(Some(r.to_string())),
    }
}

/// Reviews `objects` on every context concurrently, each within [`REVIEW_TIMEOUT`].
pub(super) async fn review_all(t: &KubeTarget, contexts: &[String], objects: &[kube::api::DynamicObject]) -> Vec<ClusterReview> {
    let runs = contexts.iter().map(|context| {
        let (kc, token) = (t.kubeconfig.clone(), t.token.clone());
        async move {
            let run = async {
                let client = client_for(kc, context, token.as_ref()).await?;
                Ok(review(&client, context, objects).await)
            };
            crate::error::with_timeout(format!("review on cluster \"{context}\""), REVIEW_TIMEOUT, run)
                .await
                .unwrap_or_else(|e| ClusterReview::failed(context, &e))
        }
    });
    join_all(runs).await
}

/// `Kind ns/name .field (manager)` for every conflict of a review.
fn taken(v: &ClusterReview) -> String {
    v.objects
        .iter()
        .flat_map(|o| o.conflicts.iter().map(move |c| format!("{} {} (owned by {})", o.label(), c.field, c.manager)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why an apply must not write, from the reviews of all its contexts: None
/// when every context is clean (or only conflicted, and `force`).
pub(super) fn refusal(reviews: &[ClusterReview], force: bool) -> Option<Error> {
    let mut problems = Vec::new();
    let mut first_code = None;
    let (mut denied, mut conflicted, mut failed) = (false, false, false);
    for v in reviews {
        if let Some(e) = &v.error {
            problems.push(format!("{}: not reviewed: {e}", v.context));
            first_code = first_code.or(v.error_code);
            failed = true;
        }
        for o in &v.objects {
            for a in o.access.iter().filter(|a| !a.allowed) {
                let ns = o.namespace.as_deref().map(|n| format!(" in namespace {n}")).unwrap_or_default();
                let why = a.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
                problems.push(format!("{}: permission denied: {} {}{ns} for {}{why}", v.context, a.verb, a.resource, o.label()));
                denied = true;
            }
            if let Some(e) = &o.error {
                problems.push(format!("{}: {}: {e}", v.context, o.label()));
                failed = true;
            }
        }
        if v.conflicted && !force {
            problems.push(format!("{}: conflicts: {}", v.context, taken(v)));
            conflicted = true;
        }
    }
    if problems.is_empty() {
        return None;
    }
    let mut advice = Vec::new();
    if denied {
        advice.push("ask for the missing permissions or leave those contexts out");
    }
    if conflicted {
        advice.push("review the changes (opsdeck apply --diff, or the app's review), then remove the conflicting fields from the manifest, or take them from their managers with a reason (opsdeck apply --force-conflicts --reason \"...\")");
    }
    if failed {
        advice.push("fix what the review could not check, then apply again");
    }
    let message = format!("not applied on any cluster (nothing was written): {}; {}", problems.join("; "), advice.join("; "));
    Some(if let Some(code) = first_code {
        Error::Remote { code, message: message.clone(), source: Box::new(Error::Internal(message)) }
    } else if denied {
        Error::Forbidden(message)
    } else if conflicted {
        Error::Conflict(message)
    } else {
        Error::invalid(message)
    })
}

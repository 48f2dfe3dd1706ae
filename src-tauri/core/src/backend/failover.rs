//! Failover on the backend (seed case 5): plan (source health, the marked
//! workloads live or from the cache, targets by health and free capacity),
//! run (copies applied, waited for, then the traffic-switch hook), fail back
//! (source serving again: hook, then the copies removed). Every change is
//! audited (`failover.*`). The Kubernetes side is [`crate::clusters::failover`].

use std::time::Duration;

use futures::future::join_all;
use kube::config::Kubeconfig;
use serde::Serialize;

use super::Backend;
use crate::clusters::apply::apply;
use crate::clusters::failover::{self, Candidate, Copy, Marked, Placement};
use crate::clusters::health;
use crate::clusters::history::server_of;
use crate::clusters::hooks::{run_hook, CallResult, Hook};
use crate::clusters::readiness::{wait_rollout, RolloutState};
use crate::clusters::{ClusterHealth, Verdict};
use crate::connectors::kube::{client_for, read_kubeconfig, resolve_contexts};
use crate::error::{Error, Result};

/// What a failover would do, and why.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct FailoverPlan {
    pub source: String,
    pub source_server: String,
    pub source_verdict: Verdict,
    /// The source's main findings (why it is failed over).
    pub source_reasons: Vec<String>,
    /// `live` (read now) or `cache` (the last seen specs: the source is unreachable).
    pub specs_from: String,
    /// When the specs were read (now, or when last seen).
    pub specs_seen_at: Option<String>,
    /// The source is Unreachable or Degraded: failing over is warranted.
    pub needed: bool,
    pub candidates: Vec<Candidate>,
    pub placements: Vec<Placement>,
    #[serde(skip)]
    pub workloads: Vec<Marked>,
}

/// One copy made by a run.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct CopyResult {
    pub namespace: String,
    pub name: String,
    pub target: String,
    pub ok: bool,
    pub rollout: Option<RolloutState>,
    pub error: Option<String>,
}

/// What a failover run did.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct FailoverReport {
    pub plan: FailoverPlan,
    pub copies: Vec<CopyResult>,
    /// The traffic-switch hook's result (not run when a copy did not become available).
    pub hook: Option<CallResult>,
    pub ok: bool,
}

/// What a failback did.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct FailbackReport {
    pub source: String,
    /// The source's workloads, checked available before anything is removed.
    pub source_rollouts: Vec<RolloutState>,
    pub hook: Option<CallResult>,
    /// Copies removed from the targets.
    pub removed: Vec<Copy>,
    pub ok: bool,
}

/// Options of a run or a failback.
#[derive(Debug, Clone)]
pub struct FailoverOptions {
    /// Deadline of each health check.
    pub health_timeout: Duration,
    /// How long to wait for the copies (or the source's workloads) to be available.
    pub ready_timeout: Duration,
    pub hook: Option<Hook>,
    pub hook_timeout: Duration,
}

/// A kubeconfig file and the source and target contexts of a failover.
pub struct FailoverAt<'a> {
    pub kubeconfig: &'a str,
    pub source: &'a str,
    /// None given: every other context of the file.
    pub targets: &'a [String],
    /// The connection's bearer token, when it has one (the CLI's kubeconfig files: none).
    pub token: Option<&'a crate::secrets::Secret>,
}

impl FailoverAt<'_> {
    fn resolve(&self) -> Result<(Kubeconfig, Vec<String>)> {
        let kc = read_kubeconfig(self.kubeconfig)?;
        resolve_contexts(&kc, self.kubeconfig, &[self.source.to_string()])?;
        let targets: Vec<String> = if self.targets.is_empty() {
            kc.contexts.iter().map(|c| c.name.clone()).filter(|c| c != self.source).collect()
        } else {
            resolve_contexts(&kc, self.kubeconfig, self.targets)?
        };
        if targets.iter().any(|t| t == self.source) {
            return Err(Error::invalid(format!("the source {} cannot be a target too", self.source)));
        }
        if targets.is_empty() {
            return Err(Error::invalid("no target context: the kubeconfig has no other context (pass --target)"));
        }
        Ok((kc, targets))
    }
}

async fn checked(kc: &Kubeconfig, context: &str, token: Option<&crate::secrets::Secret>, limit: Duration) -> ClusterHealth {
    match tokio::time::timeout(limit, health::check(kc.clone(), context, token)).await {
        Ok(h) => h,
        Err(_) => ClusterHealth {
            context: context.into(),
            verdict: Verdict::Unreachable,
            version: None,
            latency_ms: None,
            nodes: Default::default(),
            findings: vec![crate::clusters::Finding {
                severity: crate::clusters::Severity::Critical,
                kind: "timeout".into(),
                object: "apiserver".into(),
                message: format!("no answer within {} s", limit.as_secs()),
            }],
            checked_at: crate::cache::db::now_rfc3339(),
            insecure_tls: false,
            error_code: Some(crate::error::ErrorCode::Timeout),
        },
    }
}

fn reasons(h: &ClusterHealth) -> Vec<String> {
    h.findings.iter().filter(|f| f.severity >= crate::clusters::Severity::Warning).take(5).map(|f| f.message.clone()).collect()
}

impl Backend {
    /// Plans a failover of `at.source`'s marked workloads: checks the
    /// source (reading its marked workloads live when it answers, and keeping
    /// them in the cache; from the cache when it does not) and every target
    /// (health and free capacity), and places each workload. Writes nothing
    /// to any cluster.
    pub async fn failover_plan(&self, at: &FailoverAt<'_>, health_timeout: Duration) -> Result<FailoverPlan> {
        let (kc, targets) = at.resolve()?;
        let server = server_of(&kc, at.source);
        let src = checked(&kc, at.source, at.token, health_timeout).await;
        let (workloads, specs_from, seen) = match src.verdict {
            Verdict::Unreachable => {
                let (w, seen) = failover::remembered(&self.db, &server, at.source).await?;
                (w, "cache".to_string(), seen)
            }
            _ => {
                let read = async {
                    let client = client_for(kc.clone(), at.source, at.token).await?;
                    failover::read_marked(&client, at.source).await
                };
                match read.await {
                    Ok(w) => {
                        failover::remember(&self.db, &server, at.source, &w).await?;
                        (w, "live".to_string(), Some(crate::cache::db::now_rfc3339()))
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the marked workloads failed; using the cache");
                        let (w, seen) = failover::remembered(&self.db, &server, at.source).await?;
                        (w, "cache".to_string(), seen)
                    }
                }
            }
        };
        let token = at.token;
        let checks = targets.iter().map(|t| {
            let kc = kc.clone();
            async move {
                let h = checked(&kc, t, token, health_timeout).await;
                let capacity = if h.verdict == Verdict::Healthy {
                    let read = async {
                        let client = client_for(kc.clone(), t, token).await?;
                        failover::capacity(&client, t).await
                    };
                    match tokio::time::timeout(health_timeout, read).await {
                        Ok(Ok(c)) => Ok(c),
                        Ok(Err(e)) => Err(e.to_string()),
                        Err(_) => Err(format!("capacity not read within {} s", health_timeout.as_secs())),
                    }
                } else {
                    Err(String::new())
                };
                let mut r = reasons(&h);
                let capacity = match capacity {
                    Ok(c) => Some(c),
                    Err(e) if !e.is_empty() => {
                        r.push(e);
                        None
                    }
                    Err(_) => None,
                };
                Candidate { context: t.clone(), verdict: h.verdict, reasons: r, capacity }
            }
        });
        let candidates = join_all(checks).await;
        let placements = failover::place(&workloads, &candidates);
        Ok(FailoverPlan {
            source: at.source.into(),
            source_server: server,
            source_verdict: src.verdict,
            source_reasons: reasons(&src),
            specs_from,
            specs_seen_at: seen,
            needed: src.verdict != Verdict::Healthy,
            candidates,
            placements,
            workloads,
        })
    }

    /// Runs a failover: plans it, refuses when the source is healthy, when
    /// no workload is known, or when one has no target (nothing written);
    /// applies the copies, waits until each is available, then runs the hook.
    /// `progress` sees a line per step.
    pub async fn failover_run(
        &self,
        at: &FailoverAt<'_>,
        opts: &FailoverOptions,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<FailoverReport> {
        let plan = self.failover_plan(at, opts.health_timeout).await?;
        progress(&format!(
            "source {} is {} ({}); {} marked workload(s) from the {}",
            plan.source,
            crate::clusters::history::verdict_str(plan.source_verdict),
            plan.source_reasons.join("; "),
            plan.workloads.len(),
            plan.specs_from
        ));
        let refuse = if !plan.needed {
            Some(format!("source {} is healthy: nothing to fail over", plan.source))
        } else if plan.workloads.is_empty() {
            Some(format!(
                "no workload of {} marked {}=true is known (live or cached): nothing to fail over",
                plan.source,
                failover::MARK_LABEL
            ))
        } else {
            let none: Vec<String> =
                plan.placements.iter().filter(|p| p.target.is_none()).map(|p| format!("{}/{}: {}", p.namespace, p.name, p.why)).collect();
            (!none.is_empty()).then(|| format!("no target for {}; nothing was created", none.join("; ")))
        };
        if let Some(why) = refuse {
            let e = Error::invalid(why);
            self.audit("kubernetes", at.source, "failover.run", Err(&e)).await;
            return Err(e);
        }
        let (kc, _) = at.resolve()?;
        let mut copies = Vec::new();
        for p in &plan.placements {
            let Some(target) = p.target.clone() else { continue };
            let Some(m) = plan.workloads.iter().find(|m| m.namespace == p.namespace && m.name == p.name) else { continue };
            progress(&format!("{}/{} -> {target}: {}", p.namespace, p.name, p.why));
            let r = self.failover_copy(&kc, at.token, &plan, m, &target, opts.ready_timeout).await;
            progress(&match &r.error {
                None => format!("{}/{} available on {target}", p.namespace, p.name),
                Some(e) => format!("{}/{} on {target} FAILED: {e}", p.namespace, p.name),
            });
            copies.push(r);
        }
        let all_ok = copies.iter().all(|c| c.ok);
        let mut hook = None;
        if all_ok {
            if let Some(h) = &opts.hook {
                let targets: Vec<String> = copies.iter().map(|c| c.target.clone()).collect();
                let r = self.failover_hook(h, "failover", &plan.source, &targets, &copies_json(&copies), opts.hook_timeout).await;
                progress(&format!("hook {}: {} ({} ms)", if r.ok { "OK" } else { "FAILED" }, r.message, r.duration_ms));
                hook = Some(r);
            }
        } else {
            progress("hook not run: not every copy became available");
        }
        let ok = all_ok && hook.as_ref().is_none_or(|h| h.ok);
        let summary = format!(
            "{} workload(s) of {} ({}) re-created: {}; hook: {}",
            copies.len(),
            plan.source,
            crate::clusters::history::verdict_str(plan.source_verdict),
            copies
                .iter()
                .map(|c| format!("{}/{} -> {} {}", c.namespace, c.name, c.target, if c.ok { "available" } else { "failed" }))
                .collect::<Vec<_>>()
                .join(", "),
            hook.as_ref().map(|h| format!("{} ({})", if h.ok { "ok" } else { "failed" }, h.message)).unwrap_or_else(|| "none".into())
        );
        if ok {
            self.audit("kubernetes", at.source, "failover.run", Ok(summary)).await;
        } else {
            self.audit("kubernetes", at.source, "failover.run", Err(&Error::Internal(summary))).await;
        }
        Ok(FailoverReport { plan, copies, hook, ok })
    }

    async fn failover_copy(
        &self,
        kc: &Kubeconfig,
        token: Option<&crate::secrets::Secret>,
        plan: &FailoverPlan,
        m: &Marked,
        target: &str,
        limit: Duration,
    ) -> CopyResult {
        let mut r = CopyResult {
            namespace: m.namespace.clone(),
            name: m.name.clone(),
            target: target.into(),
            ok: false,
            rollout: None,
            error: None,
        };
        let run = async {
            let client = client_for(kc.clone(), target, token).await?;
            let ns: kube::api::DynamicObject = serde_json::from_value(serde_json::json!({
                "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": m.namespace}
            }))
            .map_err(|e| Error::Internal(e.to_string()))?;
            let copy = failover::copy_of(m, &plan.source, &plan.source_server)?;
            let applied = apply(&client, target, &[ns, copy], false).await;
            if let Some(bad) = applied.objects.iter().find(|o| o.error.is_some()) {
                return Err(Error::invalid(format!("{} {}: {}", bad.kind, bad.name, bad.error.clone().unwrap_or_default())));
            }
            self.audit(
                "kubernetes",
                target,
                "failover.copy",
                Ok(format!(
                    "{} from {} ({}): {}",
                    m.label(),
                    plan.source,
                    crate::clusters::history::verdict_str(plan.source_verdict),
                    applied.objects.iter().map(|o| format!("{} {}: {}", o.kind, o.name, o.action)).collect::<Vec<_>>().join("; ")
                )),
            )
            .await;
            wait_rollout(&client, target, &m.namespace, &m.name, limit, |_| {}).await
        };
        match run.await {
            Ok(s) => {
                r.ok = true;
                r.rollout = Some(s);
            }
            Err(e) => {
                r.error = Some(e.to_string());
                self.audit("kubernetes", target, "failover.copy", Err(&e.and(&format!("{} from {}", m.label(), plan.source)))).await;
            }
        }
        r
    }

    async fn failover_hook(
        &self,
        h: &Hook,
        action: &str,
        source: &str,
        targets: &[String],
        workloads: &serde_json::Value,
        limit: Duration,
    ) -> CallResult {
        let payload = serde_json::json!({"action": action, "source": source, "targets": targets, "workloads": workloads});
        let env = [
            ("OPSDECK_FAILOVER_ACTION", action.to_string()),
            ("OPSDECK_FAILOVER_SOURCE", source.to_string()),
            ("OPSDECK_FAILOVER_TARGETS", targets.join(",")),
        ];
        let r = run_hook(h, &payload, &env, limit).await;
        let detail = format!("{action} hook {}: {}", r.name, r.message);
        if r.ok {
            self.audit("kubernetes", source, "failover.hook", Ok(detail)).await;
        } else {
            self.audit("kubernetes", source, "failover.hook", Err(&Error::Internal(detail))).await;
        }
        r
    }

    /// Fails back: the source must be Healthy again and each of its marked workloads
    /// (as its copies name them) be available there again, within the ready
    /// timeout; then the hook runs (action `failback`), then the copies are
    /// removed from the targets. Refuses, removing nothing, while the source
    /// does not serve them.
    pub async fn failover_failback(
        &self,
        at: &FailoverAt<'_>,
        opts: &FailoverOptions,
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<FailbackReport> {
        let (kc, targets) = at.resolve()?;
        let server = server_of(&kc, at.source);
        let mut copies = Vec::new();
        for t in &targets {
            let found = async {
                let client = client_for(kc.clone(), t, at.token).await?;
                failover::copies_on(&client, t, at.source, &server).await
            };
            match tokio::time::timeout(opts.health_timeout, found).await {
                Ok(Ok(c)) => copies.extend(c),
                Ok(Err(e)) => progress(&format!("warning: copies on {t} not read: {e}")),
                Err(_) => progress(&format!("warning: copies on {t} not read within {} s", opts.health_timeout.as_secs())),
            }
        }
        if copies.is_empty() {
            return Err(Error::NotFound(format!("no copy of {}'s workloads on {}: nothing to fail back", at.source, targets.join(", "))));
        }
        let src = checked(&kc, at.source, at.token, opts.health_timeout).await;
        let result: Result<Vec<RolloutState>> = async {
            if src.verdict == Verdict::Unreachable {
                return Err(Error::Unreachable(format!(
                    "source {} is still unreachable ({}): copies kept",
                    at.source,
                    reasons(&src).join("; ")
                )));
            }
            if src.verdict != Verdict::Healthy {
                return Err(Error::Conflict(format!(
                    "source {} is still {} ({}): copies kept; fail back once it is healthy",
                    at.source,
                    crate::clusters::history::verdict_str(src.verdict),
                    reasons(&src).join("; ")
                )));
            }
            let client = client_for(kc.clone(), at.source, at.token).await?;
            let mut seen: Vec<(String, String)> = copies.iter().map(|c| (c.namespace.clone(), c.name.clone())).collect();
            seen.sort();
            seen.dedup();
            let mut states = Vec::new();
            for (ns, name) in &seen {
                progress(&format!("waiting for {ns}/{name} on the source {}", at.source));
                let s = wait_rollout(&client, at.source, ns, name, opts.ready_timeout, |_| {})
                    .await
                    .map_err(|e| e.and(&format!("source {} does not serve {ns}/{name} yet: copies kept", at.source)))?;
                states.push(s);
            }
            Ok(states)
        }
        .await;
        let states = match result {
            Ok(s) => s,
            Err(e) => {
                self.audit("kubernetes", at.source, "failover.failback", Err(&e)).await;
                return Err(e);
            }
        };
        let mut hook = None;
        if let Some(h) = &opts.hook {
            let targets: Vec<String> = copies.iter().map(|c| c.context.clone()).collect();
            let workloads = serde_json::to_value(&copies).unwrap_or_default();
            let r = self.failover_hook(h, "failback", at.source, &targets, &workloads, opts.hook_timeout).await;
            progress(&format!("hook {}: {} ({} ms)", if r.ok { "OK" } else { "FAILED" }, r.message, r.duration_ms));
            let failed = !r.ok;
            hook = Some(r);
            if failed {
                let e =
                    Error::invalid(format!("the failback hook failed: copies kept on {}; traffic may still go there", targets.join(", ")));
                self.audit("kubernetes", at.source, "failover.failback", Err(&e)).await;
                return Ok(FailbackReport { source: at.source.into(), source_rollouts: states, hook, removed: vec![], ok: false });
            }
        }
        let mut removed = Vec::new();
        let mut errors = Vec::new();
        for c in &copies {
            let del = async {
                let client = client_for(kc.clone(), &c.context, at.token).await?;
                failover::delete_copy(&client, c).await
            };
            match del.await {
                Ok(()) => {
                    progress(&format!("removed the copy {}/{} from {}", c.namespace, c.name, c.context));
                    removed.push(c.clone());
                }
                Err(e) => errors.push(format!("{}/{} on {}: {e}", c.namespace, c.name, c.context)),
            }
        }
        let detail = format!(
            "{} serves {} again; copies removed: {}{}",
            at.source,
            states.iter().map(|s| format!("{}/{} ({})", s.namespace, s.name, s.summary())).collect::<Vec<_>>().join(", "),
            removed.iter().map(|c| format!("{}/{} on {}", c.namespace, c.name, c.context)).collect::<Vec<_>>().join(", "),
            if errors.is_empty() { String::new() } else { format!("; not removed: {}", errors.join("; ")) }
        );
        let ok = errors.is_empty();
        if ok {
            self.audit("kubernetes", at.source, "failover.failback", Ok(detail)).await;
        } else {
            self.audit("kubernetes", at.source, "failover.failback", Err(&Error::Internal(detail))).await;
        }
        Ok(FailbackReport { source: at.source.into(), source_rollouts: states, hook, removed, ok })
    }
}

fn copies_json(c: &[CopyResult]) -> serde_json::Value {
    serde_json::json!(c
        .iter()
        .map(|c| serde_json::json!({"namespace": c.namespace, "name": c.name, "target": c.target}))
        .collect::<Vec<_>>())
}

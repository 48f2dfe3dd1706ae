//! Progressive rollout of a manifest across clusters, wave by wave (issue 16
//! item 3, docs/rollouts.md). Before anything is written: the plan of waves,
//! the review of every cluster (permissions, dry run, conflicts — the same as
//! `opsdeck apply`) and a health check of every cluster (a cluster already
//! unhealthy would fail its soak for a reason the rollout did not cause).
//! Then per wave, its clusters concurrently: the objects as they are are
//! saved (to a rollback record in the data directory, before the apply),
//! the manifest applied, the workloads waited for, and the live verdict
//! watched for the soak time. A failure stops the rollout: later waves are
//! skipped, and the clusters already changed are rolled back to the saved
//! objects — at once with `auto_rollback`, or later by the record's id.
//! Every step is audited (`cluster.rollout.*` on the context).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use kube::api::DynamicObject;
use serde::{Deserialize, Serialize};

use super::clusters::{kubeconfig_target, refusal, review_all, KubeTarget, HEALTH_TIMEOUT};
use super::Backend;
use crate::clusters::apply::{apply, AppliedObject, Rollout};
use crate::clusters::health::check;
use crate::clusters::readiness::{wait_ready, Workload};
use crate::clusters::rollout::{
    plan_waves, redact, restore, save, soak, wait_rolled_out, CancellationToken, Restored, SavedObject, SoakFailure, Wave,
};
use crate::clusters::{Finding, Verdict};
use crate::connectors::kube::client_for;
use crate::error::{Error, ErrorCode, Result};

/// Deadline of the apply on one cluster.
pub const APPLY_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest soak and rollout wait accepted.
pub const MAX_WAIT: Duration = Duration::from_secs(3600);
/// Longest wait for the restored workloads of one cluster to roll out again
/// after a rollback by id (an automatic rollback waits the rollout's timeout).
pub const ROLLBACK_WAIT: Duration = Duration::from_secs(300);

/// How a rollout runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct RolloutOptions {
    /// The waves ([`plan_waves`]): e.g. `ctx-a,25%,rest`; empty = one wave.
    pub waves: String,
    /// How long each cluster's live verdict must stay Healthy after its
    /// workloads rolled out (0: no soak).
    pub soak_ms: u64,
    /// Longest wait for the workloads of one cluster to roll out.
    pub timeout_ms: u64,
    /// On a failure (or a stop), roll the changed clusters back at once.
    pub auto_rollback: bool,
}

impl RolloutOptions {
    fn check(&self) -> Result<(Duration, Duration)> {
        let soak = Duration::from_millis(self.soak_ms);
        let timeout = Duration::from_millis(self.timeout_ms);
        if soak > MAX_WAIT || timeout > MAX_WAIT || timeout.is_zero() {
            return Err(Error::invalid("rollout: the soak is 0 to 60 minutes and the rollout timeout 1 ms to 60 minutes"));
        }
        Ok((soak, timeout))
    }
}

/// Where one cluster of a rollout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename = "RolloutPhase", rename_all = "snake_case")]
pub enum Phase {
    Pending,
    Applying,
    Waiting,
    Soaking,
    Done,
    Failed,
    /// Not started: an earlier wave failed or the rollout was stopped.
    Skipped,
    RollingBack,
    RolledBack,
    RollbackFailed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Applying => "applying",
            Phase::Waiting => "waiting",
            Phase::Soaking => "soaking",
            Phase::Done => "done",
            Phase::Failed => "failed",
            Phase::Skipped => "skipped",
            Phase::RollingBack => "rolling_back",
            Phase::RolledBack => "rolled_back",
            Phase::RollbackFailed => "rollback_failed",
        }
    }
}

/// One step of a rollout, as it happens: about a cluster (`context`), or
/// about the whole run (`context` none: review, stop, rollback).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct RolloutEvent {
    /// The rollout's id (its rollback record).
    pub id: String,
    /// Index of the wave (0 = first); none for the whole run.
    pub wave: Option<u32>,
    pub context: Option<String>,
    pub phase: Option<Phase>,
    pub message: String,
    /// Since the rollout started.
    pub elapsed_ms: u64,
}

/// One cluster's part in a rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ClusterRun {
    pub context: String,
    pub phase: Phase,
    /// What happened last (why it failed).
    pub message: String,
    pub objects: Vec<AppliedObject>,
    pub rollouts: Vec<Rollout>,
    /// The findings that ended its soak.
    pub findings: Vec<Finding>,
    /// What the rollback did to each object (empty: not rolled back).
    pub restored: Vec<Restored>,
    /// rolled_back or rollback_failed once a rollback ran for this cluster.
    pub rollback: Option<Phase>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct WaveRun {
    pub name: String,
    pub clusters: Vec<ClusterRun>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename = "RolloutOutcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Every wave rolled out and soaked healthy.
    Completed,
    /// A cluster failed: the rollout stopped there.
    Failed,
    /// Stopped by the user.
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct RolloutReport {
    pub id: String,
    pub outcome: Outcome,
    /// Why it failed or stopped.
    pub error: Option<String>,
    pub error_code: Option<ErrorCode>,
    pub waves: Vec<WaveRun>,
    /// Clusters changed and not rolled back: a rollback (by `id`) is offered.
    pub can_roll_back: bool,
    /// The changed clusters were rolled back (every object restored).
    pub rolled_back: bool,
    pub elapsed_ms: u64,
}

impl RolloutReport {
    pub fn ok(&self) -> bool {
        self.outcome == Outcome::Completed
    }
}

/// Where the clusters of a rollback record are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Source {
    Connection(String),
    Kubeconfig(String),
}

/// What a rollback needs, written before the first apply and after every
/// cluster's objects were saved: `<data dir>/rollouts/<id>.json` (0600). A
/// Secret's saved object is there without its data ([`redact`]): the whole
/// object is in the keychain (`secret_account`), deleted with the record
/// ([`Backend::cluster_rollout_prune`]) or once every cluster is rolled back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    id: String,
    /// RFC 3339 (records from before it was kept: the file's time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    source: Source,
    /// Saved objects per changed context.
    saved: BTreeMap<String, Vec<SavedObject>>,
    rolled_back: BTreeMap<String, bool>,
}

type OnEvent = Arc<dyn Fn(RolloutEvent) + Send + Sync>;

/// The run's shared state: the event sink, the clock and the record.
struct Run {
    id: String,
    started: Instant,
    on_event: OnEvent,
    record: tokio::sync::Mutex<Record>,
    path: PathBuf,
}

impl Run {
    fn emit(&self, wave: Option<usize>, context: Option<&str>, phase: Option<Phase>, message: impl Into<String>) {
        (self.on_event)(RolloutEvent {
            id: self.id.clone(),
            wave: wave.map(|w| w as u32),
            context: context.map(str::to_string),
            phase,
            message: message.into(),
            elapsed_ms: self.started.elapsed().as_millis() as u64,
        });
    }

    async fn saved(&self, context: &str, objects: Vec<SavedObject>) -> Result<()> {
        let mut r = self.record.lock().await;
        r.saved.insert(context.to_string(), objects);
        write_record(&self.path, &r)
    }
}

fn write_record(path: &std::path::Path, r: &Record) -> Result<()> {
    use std::io::Write;
    let json = serde_json::to_vec_pretty(r).map_err(|e| Error::Internal(format!("rollback record: {e}")))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::Internal(format!("cannot create {}: {e}", dir.display())))?;
    }
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp).map_err(|e| Error::Internal(format!("cannot write {}: {e}", tmp.display())))?;
    f.write_all(&json).and_then(|_| f.sync_all()).map_err(|e| Error::Internal(format!("cannot write {}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::Internal(format!("cannot write {}: {e}", path.display())))
}

fn check_id(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(Error::invalid("rollout id: letters, digits and '-' (as printed by the rollout)"));
    }
    Ok(())
}

impl Backend {
    fn rollout_path(&self, id: &str) -> PathBuf {
        self.data_dir.join("rollouts").join(format!("{id}.json"))
    }

    /// The waves a rollout of `contexts` would run (nothing is contacted).
    pub fn cluster_rollout_plan(&self, contexts: &[String], waves: &str) -> Result<Vec<Wave>> {
        plan_waves(contexts, waves)
    }

    /// Rolls `manifest` out to contexts of a saved Kubernetes connection.
    pub async fn cluster_rollout(
        &self,
        connection_id: &str,
        contexts: &[String],
        manifest: &str,
        opts: &RolloutOptions,
        stop: CancellationToken,
        on_event: impl Fn(RolloutEvent) + Send + Sync + 'static,
    ) -> Result<RolloutReport> {
        let (t, objects) = self.apply_target(connection_id, contexts, manifest).await?;
        self.rollout_on(t, contexts.to_vec(), Source::Connection(connection_id.into()), objects, opts, stop, Arc::new(on_event)).await
    }

    /// Rolls `manifest` out to contexts of kubeconfig file(s) that are no
    /// saved connection (`opsdeck rollout`); none named = every context.
    pub async fn cluster_rollout_kubeconfig(
        &self,
        kubeconfig: &str,
        contexts: &[String],
        manifest: &str,
        opts: &RolloutOptions,
        stop: CancellationToken,
        on_event: impl Fn(RolloutEvent) + Send + Sync + 'static,
    ) -> Result<RolloutReport> {
        let (t, objects) = kubeconfig_target(kubeconfig, contexts, manifest)?;
        let chosen = t.contexts.clone();
        self.rollout_on(t, chosen, Source::Kubeconfig(kubeconfig.into()), objects, opts, stop, Arc::new(on_event)).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn rollout_on(
        &self,
        t: KubeTarget,
        contexts: Vec<String>,
        source: Source,
        objects: Vec<DynamicObject>,
        opts: &RolloutOptions,
        stop: CancellationToken,
        on_event: OnEvent,
    ) -> Result<RolloutReport> {
        let (soak_for, timeout) = opts.check()?;
        let waves = plan_waves(&contexts, &opts.waves)?;
        let id = format!("ro-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let run = Arc::new(Run {
            id: id.clone(),
            started: Instant::now(),
            on_event,
            record: tokio::sync::Mutex::new(Record {
                id: id.clone(),
                created_at: Some(crate::cache::db::now_rfc3339()),
                source,
                saved: BTreeMap::new(),
                rolled_back: BTreeMap::new(),
            }),
            path: self.rollout_path(&id),
        });
        let plan = waves.iter().map(|w| format!("{} [{}]", w.name, w.contexts.join(", "))).collect::<Vec<_>>().join(" → ");
        run.emit(None, None, None, format!("rollout {id}: {plan}; reviewing every cluster and checking its health"));

        // 1. Review and health of every cluster before anything is written.
        let (reviews, health) = futures::join!(review_all(&t, &contexts, &objects), async {
            join_all(contexts.iter().map(|c| {
                let (kc, token) = (t.kubeconfig.clone(), t.token.clone());
                async move {
                    match tokio::time::timeout(HEALTH_TIMEOUT, check(kc, c, token.as_ref())).await {
                        Ok(h) => (c.clone(), h.verdict, h.findings),
                        Err(_) => (c.clone(), Verdict::Unreachable, vec![]),
                    }
                }
            }))
            .await
        });
        let refused = refusal(&reviews, false).or_else(|| {
            let unhealthy: Vec<String> = health
                .iter()
                .filter(|(_, v, _)| *v != Verdict::Healthy)
                .map(|(c, v, f)| {
                    let why = f.iter().filter(|f| f.severity >= crate::clusters::Severity::Warning).map(|f| f.message.clone()).collect::<Vec<_>>();
                    format!("{c} is {} before the rollout ({})", format!("{v:?}").to_lowercase(), why.join("; "))
                })
                .collect();
            (!unhealthy.is_empty()).then(|| {
                Error::Conflict(format!(
                    "not rolled out on any cluster (nothing was written): {}; a soak cannot tell the rollout's harm from what is already wrong — make those clusters healthy or leave them out",
                    unhealthy.join("; ")
                ))
            })
        });
        if let Some(e) = refused {
            for c in &contexts {
                self.audit("kubernetes", c, "cluster.rollout", Err(&e)).await;
            }
            run.emit(None, None, None, e.to_string());
            return Err(e);
        }
        for w in &waves {
            for c in &w.contexts {
                self.audit(
                    "kubernetes",
                    c,
                    "cluster.rollout",
                    Ok(format!("rollout {id} on {}: planned in wave {} ({plan})", t.name, w.name)),
                )
                .await;
            }
        }

        // 2. Wave by wave.
        let mut report = RolloutReport {
            id: id.clone(),
            outcome: Outcome::Completed,
            error: None,
            error_code: None,
            waves: waves
                .iter()
                .map(|w| WaveRun { name: w.name.clone(), clusters: w.contexts.iter().map(|c| pending(c)).collect() })
                .collect(),
            can_roll_back: false,
            rolled_back: false,
            elapsed_ms: 0,
        };
        let objects = Arc::new(objects);
        let t = Arc::new(t);
        for (wi, w) in waves.iter().enumerate() {
            if stop.is_cancelled() {
                report.outcome = Outcome::Stopped;
                report.error = Some(format!("stopped before wave {} ({})", wi + 1, w.name));
                report.error_code = Some(ErrorCode::Cancelled);
                break;
            }
            run.emit(Some(wi), None, None, format!("wave {} ({}): {}", wi + 1, w.name, w.contexts.join(", ")));
            let runs = w.contexts.iter().map(|c| {
                let (run, t, objects, stop) = (run.clone(), t.clone(), objects.clone(), stop.clone());
                let c = c.clone();
                async move { self.rollout_cluster(&run, &t, wi, &c, &objects, soak_for, timeout, &stop).await }
            });
            let done = join_all(runs).await;
            let failed = done.iter().find(|r| r.phase != Phase::Done).map(|r| (r.context.clone(), r.message.clone()));
            report.waves[wi].clusters = done;
            if let Some((context, message)) = failed {
                let stopped = stop.is_cancelled();
                report.outcome = if stopped { Outcome::Stopped } else { Outcome::Failed };
                report.error_code = Some(if stopped { ErrorCode::Cancelled } else { ErrorCode::Conflict });
                report.error =
                    Some(format!("wave {} ({}) {} on {context}: {message}", wi + 1, w.name, if stopped { "stopped" } else { "failed" }));
                break;
            }
        }
        for wave in &mut report.waves {
            for c in wave.clusters.iter_mut().filter(|c| c.phase == Phase::Pending) {
                c.phase = Phase::Skipped;
                c.message = "not started: the rollout stopped at an earlier wave".into();
            }
        }
        for (wi, wave) in report.waves.iter().enumerate() {
            for c in wave.clusters.iter().filter(|c| c.phase == Phase::Skipped) {
                run.emit(Some(wi), Some(&c.context), Some(Phase::Skipped), c.message.clone());
            }
        }

        // 3. On failure: roll back or offer it.
        let changed = !run.record.lock().await.saved.is_empty();
        if report.outcome != Outcome::Completed && changed {
            if opts.auto_rollback {
                run.emit(None, None, None, format!("{}; rolling back the changed clusters", report.error.clone().unwrap_or_default()));
                let restored = self.rollback_run(&run, &t, timeout).await;
                apply_restored(&mut report, &restored);
                report.rolled_back = restored.values().all(|r| r.iter().all(|x| x.error.is_none()));
                report.can_roll_back = !report.rolled_back;
            } else {
                report.can_roll_back = true;
                run.emit(
                    None,
                    None,
                    None,
                    format!("{}; the changed clusters can be rolled back (rollout {id})", report.error.clone().unwrap_or_default()),
                );
            }
        }
        report.elapsed_ms = run.started.elapsed().as_millis() as u64;
        let summary = match report.outcome {
            Outcome::Completed => format!("rollout {id} completed on {} cluster(s)", contexts.len()),
            _ => report.error.clone().unwrap_or_default(),
        };
        run.emit(None, None, None, summary);
        Ok(report)
    }

    /// One cluster of a wave: save, apply, wait, soak. Audited at the apply
    /// and at the end.
    #[allow(clippy::too_many_arguments)]
    async fn rollout_cluster(
        &self,
        run: &Run,
        t: &KubeTarget,
        wave: usize,
        context: &str,
        objects: &[DynamicObject],
        soak_for: Duration,
        timeout: Duration,
        stop: &CancellationToken,
    ) -> ClusterRun {
        let started = Instant::now();
        let mut out = pending(context);
        let emit = |phase: Phase, m: String| run.emit(Some(wave), Some(context), Some(phase), m);
        let result: Result<()> = async {
            let client = client_for(t.kubeconfig.clone(), context, t.token.as_ref()).await?;
            emit(Phase::Applying, "saving the objects as they are, then applying".into());
            let saved = self.keep_secret_data(&run.id, context, save(&client, context, objects).await?).await?;
            run.saved(context, saved).await?;
            let applied = crate::error::with_timeout(format!("the apply on cluster \"{context}\""), APPLY_TIMEOUT, async {
                Ok(apply(&client, context, objects, false).await)
            })
            .await?;
            out.objects = applied.objects.clone();
            let summary = applied
                .objects
                .iter()
                .map(|o| {
                    format!("{} {}/{}: {}", o.kind, o.namespace.as_deref().unwrap_or("-"), o.name, o.error.as_deref().unwrap_or(&o.action))
                })
                .collect::<Vec<_>>()
                .join("; ");
            let detail = format!("rollout {} wave {} on {}: {summary}", run.id, wave + 1, t.name);
            if !applied.ok {
                let e = Error::Conflict(format!("apply failed: {summary}"));
                self.audit("kubernetes", context, "cluster.rollout.apply", Err(&Error::Conflict(detail))).await;
                return Err(e);
            }
            self.audit("kubernetes", context, "cluster.rollout.apply", Ok(detail)).await;
            emit(Phase::Waiting, format!("applied ({summary}); waiting for the rollout"));
            let on_wait = |why: &str| emit(Phase::Waiting, format!("waiting: {why}"));
            out.rollouts = wait_rolled_out(&client, context, objects, timeout, stop, &on_wait).await?;
            let rolled = out
                .rollouts
                .iter()
                .map(|r| format!("{}/{} {}/{} available", r.namespace, r.name, r.available, r.desired))
                .collect::<Vec<_>>();
            if soak_for.is_zero() {
                return Ok(());
            }
            emit(
                Phase::Soaking,
                format!(
                    "rolled out{}; soaking {} s (the live verdict must stay healthy)",
                    if rolled.is_empty() { String::new() } else { format!(" ({})", rolled.join(", ")) },
                    soak_for.as_secs()
                ),
            );
            let on_verdict = |_: &crate::clusters::ClusterHealth| {};
            match soak(t.kubeconfig.clone(), context, t.token.clone(), soak_for, stop, &on_verdict).await {
                Ok(_) => Ok(()),
                Err(SoakFailure::Stopped) => Err(Error::Cancelled(format!("stopped during the soak of cluster \"{context}\""))),
                Err(SoakFailure::Unassessed(m)) => Err(Error::Timeout { what: m, secs: 30 }),
                Err(SoakFailure::Degraded(v, findings)) => {
                    let why = findings.iter().map(|f| f.message.clone()).collect::<Vec<_>>().join("; ");
                    out.findings = findings;
                    Err(Error::Conflict(format!("cluster \"{context}\" turned {} during the soak: {why}", format!("{v:?}").to_lowercase())))
                }
            }
        }
        .await;
        out.elapsed_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(()) => {
                out.phase = Phase::Done;
                out.message = format!("rolled out and soaked healthy in {:.1} s", out.elapsed_ms as f64 / 1000.0);
                self.audit(
                    "kubernetes",
                    context,
                    "cluster.rollout.verify",
                    Ok(format!("rollout {} wave {}: {}", run.id, wave + 1, out.message)),
                )
                .await;
            }
            Err(e) => {
                out.phase = Phase::Failed;
                out.message = e.to_string();
                let e = e.and(&format!("rollout {} wave {}", run.id, wave + 1));
                self.audit("kubernetes", context, "cluster.rollout.verify", Err(&e)).await;
            }
        }
        emit(out.phase, out.message.clone());
        out
    }

    /// Restores every changed cluster of `run` (concurrently), then waits (at
    /// most `wait`) for the restored workloads to roll out; audited per cluster.
    async fn rollback_run(&self, run: &Run, t: &KubeTarget, wait: Duration) -> BTreeMap<String, Vec<Restored>> {
        let saved: BTreeMap<String, Vec<SavedObject>> = {
            let r = run.record.lock().await;
            r.saved.iter().filter(|(c, _)| !r.rolled_back.get(*c).copied().unwrap_or(false)).map(|(c, o)| (c.clone(), o.clone())).collect()
        };
        let runs = saved.iter().map(|(context, objects)| async move {
            run.emit(None, Some(context), Some(Phase::RollingBack), format!("restoring {} object(s)", objects.len()));
            let restored = match client_for(t.kubeconfig.clone(), context, t.token.as_ref()).await {
                Ok(client) => {
                    let (objects, unread) = self.load_secret_data(objects).await;
                    let mut restored = restore(&client, context, &objects).await;
                    restored.extend(unread);
                    self.wait_restored(run, &client, context, &objects, &mut restored, wait).await;
                    restored
                }
                Err(e) => {
                    objects.iter().map(|o| Restored { object: o.label(), action: "failed".into(), error: Some(e.to_string()) }).collect()
                }
            };
            let ok = restored.iter().all(|r| r.error.is_none());
            let what = restored
                .iter()
                .map(|r| format!("{}: {}", r.object, r.error.as_deref().unwrap_or(&r.action)))
                .collect::<Vec<_>>()
                .join("; ");
            let detail = format!("rollout {} on {}: {what}", run.id, t.name);
            if ok {
                self.audit("kubernetes", context, "cluster.rollout.rollback", Ok(detail.clone())).await;
            } else {
                self.audit("kubernetes", context, "cluster.rollout.rollback", Err(&Error::Conflict(detail.clone()))).await;
            }
            let phase = if ok { Phase::RolledBack } else { Phase::RollbackFailed };
            run.emit(None, Some(context), Some(phase), what);
            (context.clone(), restored)
        });
        let out: BTreeMap<String, Vec<Restored>> = join_all(runs).await.into_iter().collect();
        let mut r = run.record.lock().await;
        for (c, restored) in &out {
            r.rolled_back.insert(c.clone(), restored.iter().all(|x| x.error.is_none()));
        }
        if let Err(e) = write_record(&run.path, &r) {
            tracing::warn!(error = %e, "the rollback record could not be updated");
        }
        // Every cluster is back: the record cannot be used again, so the
        // Secrets' saved data need not be kept any longer.
        if r.saved.keys().all(|c| r.rolled_back.get(c).copied().unwrap_or(false)) {
            self.forget_secret_data(&r).await;
        }
        out
    }

    /// Keeps the saved object of each Secret in the keychain and leaves it in
    /// the record without its data ([`redact`]). A keychain that refuses
    /// stops the cluster's rollout before anything is applied.
    async fn keep_secret_data(&self, id: &str, context: &str, mut saved: Vec<SavedObject>) -> Result<Vec<SavedObject>> {
        for s in saved.iter_mut().filter(|s| s.is_secret()) {
            let Some(before) = s.before.take() else { continue };
            let account = format!("rollout:{id}:{context}:{}/{}", s.namespace.as_deref().unwrap_or("default"), s.name);
            let json = serde_json::to_string(&before).map_err(|e| Error::Internal(format!("{}: {e}", s.label())))?;
            self.keychain.set(&account, &json).await.map_err(|e| {
                e.and(&format!("keeping the data of {} on cluster \"{context}\" for a rollback (nothing applied there)", s.label()))
            })?;
            s.before = Some(redact(&before));
            s.secret_account = Some(account);
        }
        Ok(saved)
    }

    /// The saved objects with each Secret's data read back from the keychain;
    /// a Secret whose data is gone (or unreadable) is not restored: it is
    /// listed as failed, saying so.
    async fn load_secret_data(&self, saved: &[SavedObject]) -> (Vec<SavedObject>, Vec<Restored>) {
        let mut ok = Vec::new();
        let mut unread = Vec::new();
        for s in saved {
            let Some(account) = &s.secret_account else {
                ok.push(s.clone());
                continue;
            };
            let read = match self.keychain.get(account).await {
                Ok(Some(json)) => serde_json::from_str::<DynamicObject>(json.expose())
                    .map_err(|e| format!("its data kept in the keychain does not parse ({e})")),
                Ok(None) => Err("its data is no longer in the keychain (pruned or deleted)".to_string()),
                Err(e) => Err(format!("its data could not be read from the keychain ({e})")),
            };
            match read {
                Ok(before) => ok.push(SavedObject { before: Some(before), secret_loaded: true, ..s.clone() }),
                Err(why) => {
                    unread.push(Restored { object: s.label(), action: "failed".into(), error: Some(format!("not restored: {why}")) })
                }
            }
        }
        (ok, unread)
    }

    /// Deletes the keychain entries of a record's Secrets (failures logged
    /// without the values: the entry name only).
    async fn forget_secret_data(&self, r: &Record) {
        for s in r.saved.values().flatten() {
            if let Some(account) = &s.secret_account {
                if let Err(e) = self.keychain.delete(account).await {
                    tracing::warn!(account = %account, error = %e, "a rollback record's Secret data could not be deleted from the keychain");
                }
            }
        }
    }

    /// After a restore: waits for the workloads put back (restored or
    /// re-created Deployments, StatefulSets, DaemonSets) to roll out again; one
    /// that does not within `wait` is listed as failed with why.
    async fn wait_restored(
        &self,
        run: &Run,
        client: &kube::Client,
        context: &str,
        saved: &[SavedObject],
        restored: &mut [Restored],
        wait: Duration,
    ) {
        let put_back =
            |s: &SavedObject| restored.iter().any(|r| r.object == s.label() && matches!(r.action.as_str(), "restored" | "recreated"));
        let workloads: Vec<Workload> = saved
            .iter()
            .filter(|s| put_back(s) && s.api_version == "apps/v1" && matches!(s.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet"))
            .map(|s| Workload {
                kind: s.kind.clone(),
                namespace: s.namespace.clone().unwrap_or_else(|| "default".into()),
                name: s.name.clone(),
            })
            .collect();
        if workloads.is_empty() {
            return;
        }
        let names = workloads.iter().map(Workload::label).collect::<Vec<_>>().join(", ");
        run.emit(None, Some(context), Some(Phase::RollingBack), format!("restored; waiting for {names} to roll out"));
        if let Err(e) = wait_ready(client, context, &workloads, wait, None, |_| {}).await {
            for r in restored.iter_mut() {
                if workloads.iter().any(|w| r.object == format!("{} {}/{}", w.kind, w.namespace, w.name)) {
                    r.error = Some(format!("put back, but did not roll out: {e}"));
                }
            }
        }
    }

    /// Rolls back the clusters a rollout changed (its id, as printed and in
    /// its report) to the objects saved before it applied: every cluster not
    /// rolled back yet. `on_event` hears each cluster.
    pub async fn cluster_rollout_rollback(
        &self,
        id: &str,
        kubeconfig: Option<&str>,
        on_event: impl Fn(RolloutEvent) + Send + Sync + 'static,
    ) -> Result<BTreeMap<String, Vec<Restored>>> {
        check_id(id)?;
        let path = self.rollout_path(id);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::NotFound(format!("rollout {id}: no rollback record in {} ({e})", path.display())))?;
        let record: Record =
            serde_json::from_str(&text).map_err(|e| Error::Internal(format!("rollout {id}: rollback record unreadable: {e}")))?;
        let t = match (&record.source, kubeconfig) {
            (Source::Connection(conn), _) => self.kube_target(conn).await?,
            (Source::Kubeconfig(path), given) => {
                let path = given.unwrap_or(path);
                let parsed = crate::connectors::kube::read_kubeconfig(path)?;
                KubeTarget { name: format!("kubeconfig {path}"), path: path.to_string(), kubeconfig: parsed, contexts: vec![], token: None }
            }
        };
        if record.saved.keys().all(|c| record.rolled_back.get(c).copied().unwrap_or(false)) {
            return Err(Error::Conflict(format!("rollout {id}: every changed cluster is already rolled back")));
        }
        let run = Run {
            id: id.to_string(),
            started: Instant::now(),
            on_event: Arc::new(on_event),
            record: tokio::sync::Mutex::new(record),
            path,
        };
        Ok(self.rollback_run(&run, &t, ROLLBACK_WAIT).await)
    }
}

fn pending(context: &str) -> ClusterRun {
    ClusterRun {
        context: context.into(),
        phase: Phase::Pending,
        message: String::new(),
        objects: vec![],
        rollouts: vec![],
        findings: vec![],
        restored: vec![],
        rollback: None,
        elapsed_ms: 0,
    }
}

fn apply_restored(report: &mut RolloutReport, restored: &BTreeMap<String, Vec<Restored>>) {
    for wave in &mut report.waves {
        for c in &mut wave.clusters {
            if let Some(r) = restored.get(&c.context) {
                c.restored = r.clone();
                let ok = r.iter().all(|x| x.error.is_none());
                c.rollback = Some(if ok { Phase::RolledBack } else { Phase::RollbackFailed });
            }
        }
    }
}

/// A rollback record, as listed by [`Backend::cluster_rollout_records`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct RollbackRecordInfo {
    pub id: String,
    /// RFC 3339: when the rollout started (or the file's time).
    pub created_at: String,
    /// `connection ID` or `kubeconfig PATH`.
    pub source: String,
    /// The clusters changed (objects saved).
    pub contexts: Vec<String>,
    pub objects: u32,
    /// Secrets among them: their data is in the keychain, not in the record.
    pub secrets: u32,
    /// Contexts already rolled back.
    pub rolled_back: Vec<String>,
    /// The record could not be read (it is still listed, and pruned by age).
    pub error: Option<String>,
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Reads one record file: what is listed, and the record itself when it parses.
fn read_record(path: &std::path::Path) -> (RollbackRecordInfo, Option<Record>) {
    let id = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).map(time::OffsetDateTime::from).ok();
    let mut info = RollbackRecordInfo {
        id,
        created_at: modified.map(rfc3339).unwrap_or_default(),
        source: String::new(),
        contexts: vec![],
        objects: 0,
        secrets: 0,
        rolled_back: vec![],
        error: None,
    };
    let parsed = std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str::<Record>(&t).map_err(|e| format!("unreadable: {e}")));
    match parsed {
        Ok(r) => {
            info.source = match &r.source {
                Source::Connection(c) => format!("connection {c}"),
                Source::Kubeconfig(k) => format!("kubeconfig {k}"),
            };
            if let Some(c) = &r.created_at {
                info.created_at = c.clone();
            }
            info.contexts = r.saved.keys().cloned().collect();
            info.objects = r.saved.values().map(|o| o.len() as u32).sum();
            info.secrets = r.saved.values().flatten().filter(|o| o.secret_account.is_some()).count() as u32;
            info.rolled_back = r.rolled_back.iter().filter(|(_, done)| **done).map(|(c, _)| c.clone()).collect();
            (info, Some(r))
        }
        Err(e) => {
            info.error = Some(e);
            (info, None)
        }
    }
}

impl Backend {
    fn rollout_files(&self) -> Result<Vec<PathBuf>> {
        let dir = self.data_dir.join("rollouts");
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(Error::Internal(format!("cannot read {}: {e}", dir.display()))),
        };
        let mut out: Vec<PathBuf> =
            entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
        out.sort();
        Ok(out)
    }

    /// The rollback records kept, oldest first.
    pub fn cluster_rollout_records(&self) -> Result<Vec<RollbackRecordInfo>> {
        let mut out: Vec<RollbackRecordInfo> = self.rollout_files()?.iter().map(|p| read_record(p).0).collect();
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// Deletes the rollback records older than `older_than` (and the Secret
    /// data each kept in the keychain); returns those deleted. Audited.
    pub async fn cluster_rollout_prune(&self, older_than: Duration) -> Result<Vec<RollbackRecordInfo>> {
        let cutoff = time::OffsetDateTime::now_utc() - older_than;
        let result: Result<Vec<RollbackRecordInfo>> = async {
            let mut pruned = Vec::new();
            for path in self.rollout_files()? {
                let (info, record) = read_record(&path);
                let created = time::OffsetDateTime::parse(&info.created_at, &time::format_description::well_known::Rfc3339);
                if !created.is_ok_and(|c| c < cutoff) {
                    continue;
                }
                if let Some(r) = &record {
                    self.forget_secret_data(r).await;
                }
                std::fs::remove_file(&path).map_err(|e| Error::Internal(format!("cannot delete {}: {e}", path.display())))?;
                pruned.push(info);
            }
            Ok(pruned)
        }
        .await;
        let days = older_than.as_secs() as f64 / 86_400.0;
        match &result {
            Ok(p) => {
                let ids = p.iter().map(|i| i.id.as_str()).collect::<Vec<_>>().join(", ");
                let detail = format!(
                    "pruned {} rollback record(s) older than {days:.1} days{}",
                    p.len(),
                    if ids.is_empty() { String::new() } else { format!(": {ids}") }
                );
                self.audit("kubernetes", "rollouts", "cluster.rollout.prune", Ok(detail)).await;
            }
            Err(e) => self.audit("kubernetes", "rollouts", "cluster.rollout.prune", Err(e)).await,
        }
        result
    }
}

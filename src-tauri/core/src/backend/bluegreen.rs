//! Blue/green on the backend (seed case 1): deploy the new colour, wait for
//! it, smoke-test it, switch the Service in one guarded update, switch back,
//! clean up; every step audited (`bluegreen.*` on the cluster's context).
//! The Kubernetes side is [`crate::clusters::bluegreen`].

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use kube::Client;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::Backend;
use crate::clusters::apply::{apply, parse_manifest, AppliedObject};
use crate::clusters::bluegreen::{self, BlueGreenStatus, BlueGreenTarget, Switched};
use crate::clusters::hooks::{smoke_http, CallResult};
use crate::clusters::readiness::{wait_rollout, RolloutState};
use crate::connectors::kube::{client_for, read_kubeconfig};
use crate::error::{Error, Result};
use crate::secrets::Secret;

/// A smoke check of the new colour before the switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Smoke {
    /// GET, passes on 2xx.
    Http(String),
    /// An `opsdeck check` file: passes when every check passes.
    Checks(PathBuf),
}

/// How a deploy goes.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// How long the old colour is kept after the switch (then `cleanup` may delete it).
    pub keep: Duration,
    /// How long to wait for the new colour's rollout.
    pub ready_timeout: Duration,
    pub smoke: Vec<Smoke>,
    /// Deadline of each HTTP smoke check.
    pub smoke_timeout: Duration,
    /// Switch after the smoke checks pass (false: deploy, wait and test only).
    pub switch: bool,
    /// Stops the deploy before the switch (during the rollout wait or the
    /// smoke checks, or between steps): nothing is switched, the new colour stays.
    pub stop: CancellationToken,
}

/// A step of a blue/green deploy or switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum BlueGreenStep {
    Deploy,
    Ready,
    Smoke,
    Switch,
}

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Running,
    Done,
    Failed,
    Skipped,
}

/// One progress event of a deploy or switch (the CLI prints `message`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct BlueGreenEvent {
    pub step: BlueGreenStep,
    pub state: StepState,
    pub message: String,
}

/// Progress of a deploy or switch: an event per step change.
pub type BlueGreenProgress<'a> = &'a (dyn Fn(BlueGreenEvent) + Sync);

fn ev(progress: BlueGreenProgress<'_>, step: BlueGreenStep, state: StepState, message: String) {
    progress(BlueGreenEvent { step, state, message });
}

/// What a deploy did, step by step.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct DeployReport {
    pub target: BlueGreenTarget,
    pub colour: String,
    /// The colour live before.
    pub from: Option<String>,
    pub applied: Vec<AppliedObject>,
    pub rollout: RolloutState,
    pub smoke: Vec<CallResult>,
    pub switched: Option<Switched>,
}

/// BlueGreenAt a blue/green operation acts: a kubeconfig file's context.
pub struct BlueGreenAt<'a> {
    pub kubeconfig: &'a str,
    pub context: &'a str,
    pub namespace: &'a str,
    pub service: &'a str,
    pub label: &'a str,
    /// The connection's bearer token, when it has one (the CLI's kubeconfig files: none).
    pub token: Option<&'a Secret>,
}

impl BlueGreenAt<'_> {
    fn target(&self) -> BlueGreenTarget {
        BlueGreenTarget {
            context: self.context.into(),
            namespace: self.namespace.into(),
            service: self.service.into(),
            label: if self.label.is_empty() { bluegreen::DEFAULT_LABEL.into() } else { self.label.into() },
        }
    }

    async fn client(&self) -> Result<Client> {
        client_for(read_kubeconfig(self.kubeconfig)?, self.context, self.token).await
    }
}

impl Backend {
    async fn bg_audit(&self, t: &BlueGreenTarget, action: &str, outcome: std::result::Result<String, &Error>) {
        let on = t.describe();
        match outcome {
            Ok(d) => self.audit("kubernetes", &t.context, action, Ok(format!("{on}: {d}"))).await,
            Err(e) => self.audit("kubernetes", &t.context, action, Err(&Error::Internal(format!("{on}: {e}")))).await,
        }
    }

    /// The blue/green state of a Service (read only).
    pub async fn bluegreen_status(&self, w: &BlueGreenAt<'_>) -> Result<BlueGreenStatus> {
        bluegreen::status(&w.client().await?, &w.target()).await
    }

    /// Deploys the new colour from `manifest` beside the live one, waits for
    /// its rollout, runs the smoke checks, and (with `opts.switch`) switches
    /// the Service to it, guarded by the Service's resourceVersion as read
    /// before the deploy: a Service changed meanwhile is not switched. Stops
    /// at the first failing step (or at `opts.stop`), with nothing switched.
    /// `progress` sees an event per step change.
    pub async fn bluegreen_deploy(
        &self,
        w: &BlueGreenAt<'_>,
        manifest: &str,
        opts: &DeployOptions,
        progress: BlueGreenProgress<'_>,
    ) -> Result<DeployReport> {
        use BlueGreenStep::*;
        use StepState::*;
        let t = w.target();
        let objects = parse_manifest(manifest)?;
        let client = w.client().await?;
        let st = bluegreen::status(&client, &t).await?;
        let (colour, obj) = bluegreen::new_colour(&objects, &st)?;
        let name = obj.metadata.name.clone().unwrap_or_default();
        ev(
            progress,
            Deploy,
            Running,
            format!(
                "{}: live colour {}, deploying {colour} (deployment {name}); service resourceVersion {}",
                t.describe(),
                st.live.as_deref().unwrap_or("none"),
                st.resource_version
            ),
        );

        let applied = apply(&client, &t.context, std::slice::from_ref(&obj), false).await;
        let summary: Vec<String> =
            applied.objects.iter().map(|o| format!("{} {}: {}", o.kind, o.name, o.error.as_deref().unwrap_or(&o.action))).collect();
        if !applied.ok {
            let e = Error::invalid(format!("deploying colour {colour} failed: {}; nothing switched", summary.join("; ")));
            ev(progress, Deploy, Failed, e.to_string());
            self.bg_audit(&t, "bluegreen.deploy", Err(&e)).await;
            return Err(e);
        }
        self.bg_audit(&t, "bluegreen.deploy", Ok(format!("colour {colour}: {}", summary.join("; ")))).await;
        ev(progress, Deploy, Done, format!("deployed: {}", summary.join("; ")));

        ev(progress, Ready, Running, format!("waiting for colour {colour} (deployment {name}) to be ready"));
        // Boxed as a `dyn Future + Send`: a select over the wait's own type
        // (its closure argument) is not Send for every lifetime in a Tauri command.
        let wait: Pin<Box<dyn Future<Output = Result<RolloutState>> + Send + '_>> =
            Box::pin(wait_rollout(&client, &t.context, &t.namespace, &name, opts.ready_timeout, |_| {}));
        let waited = tokio::select! {
            r = wait => r,
            _ = opts.stop.cancelled() => Err(stopped(&colour)),
        };
        let rollout = match waited {
            Ok(r) => r,
            Err(e) => {
                let e = if e.code() == crate::error::ErrorCode::Cancelled {
                    e
                } else {
                    e.and(&format!("colour {colour} not ready: nothing switched; the live colour is unchanged"))
                };
                ev(progress, Ready, Failed, e.to_string());
                self.bg_audit(&t, "bluegreen.ready", Err(&e)).await;
                return Err(e);
            }
        };
        self.bg_audit(&t, "bluegreen.ready", Ok(format!("colour {colour} ready: {}", rollout.summary()))).await;
        ev(progress, Ready, Done, format!("ready: {}", rollout.summary()));

        let smoke = self.bluegreen_smoke(&t, &colour, &opts.smoke, opts.smoke_timeout, &opts.stop, progress).await?;
        let mut report = DeployReport {
            target: t.clone(),
            colour: colour.clone(),
            from: st.live.clone(),
            applied: applied.objects,
            rollout,
            smoke,
            switched: None,
        };
        if !opts.switch {
            ev(progress, Switch, Skipped, "not switched (--no-switch): switch with opsdeck bluegreen switch".into());
            return Ok(report);
        }
        if opts.stop.is_cancelled() {
            let e = stopped(&colour);
            ev(progress, Switch, Failed, e.to_string());
            self.bg_audit(&t, "bluegreen.switch", Err(&e)).await;
            return Err(e);
        }
        report.switched =
            Some(self.bluegreen_switch_guarded(&client, &t, &st.resource_version, &colour, opts.keep, "bluegreen.switch", progress).await?);
        Ok(report)
    }

    /// Runs the smoke checks; a failure (audited `bluegreen.smoke`) stops the deploy with nothing switched.
    async fn bluegreen_smoke(
        &self,
        t: &BlueGreenTarget,
        colour: &str,
        smoke: &[Smoke],
        limit: Duration,
        stop: &CancellationToken,
        progress: BlueGreenProgress<'_>,
    ) -> Result<Vec<CallResult>> {
        use BlueGreenStep::Smoke as Step;
        if smoke.is_empty() {
            ev(progress, Step, StepState::Skipped, format!("no smoke check given for colour {colour}"));
            self.bg_audit(t, "bluegreen.smoke", Ok(format!("colour {colour}: 0 smoke check(s), 0 failed"))).await;
            return Ok(vec![]);
        }
        ev(progress, Step, StepState::Running, format!("{} smoke check(s) of colour {colour}", smoke.len()));
        let mut results = Vec::new();
        for s in smoke {
            let run: Pin<Box<dyn Future<Output = Vec<CallResult>> + Send + '_>> = Box::pin(async {
                match s {
                    Smoke::Http(url) => vec![smoke_http(&url.replace("{colour}", colour), limit).await],
                    Smoke::Checks(path) => self.smoke_checks_file_apart(path).await,
                }
            });
            let got = tokio::select! {
                r = run => r,
                _ = stop.cancelled() => {
                    let e = stopped(colour);
                    ev(progress, Step, StepState::Failed, e.to_string());
                    self.bg_audit(t, "bluegreen.smoke", Err(&e)).await;
                    return Err(e);
                }
            };
            for r in &got {
                ev(
                    progress,
                    Step,
                    StepState::Running,
                    format!("smoke {}: {} ({} ms) {}", if r.ok { "PASS" } else { "FAIL" }, r.name, r.duration_ms, r.message),
                );
            }
            results.extend(got);
        }
        let failed: Vec<String> = results.iter().filter(|r| !r.ok).map(|r| format!("{}: {}", r.name, r.message)).collect();
        let detail = format!("colour {colour}: {} smoke check(s), {} failed", results.len(), failed.len());
        if failed.is_empty() {
            ev(progress, Step, StepState::Done, detail.clone());
            self.bg_audit(t, "bluegreen.smoke", Ok(detail)).await;
            return Ok(results);
        }
        let e = Error::Conflict(format!(
            "smoke checks of colour {colour} failed ({}): nothing switched; the live colour is unchanged and {colour} is left running for inspection",
            failed.join("; ")
        ));
        ev(progress, Step, StepState::Failed, e.to_string());
        self.bg_audit(t, "bluegreen.smoke", Err(&e)).await;
        Err(e)
    }

    /// [`Self::smoke_checks_file`] on a blocking thread of its own: the check
    /// runner's future is not `Send` for every lifetime, which a Tauri
    /// command's future must be.
    async fn smoke_checks_file_apart(&self, path: &std::path::Path) -> Vec<CallResult> {
        let (backend, owned) = (self.clone(), path.to_path_buf());
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || handle.block_on(async move { backend.smoke_checks_file(&owned).await })).await.unwrap_or_else(
            |e| vec![CallResult { name: format!("checks file {}", path.display()), ok: false, message: e.to_string(), duration_ms: 0 }],
        )
    }

    /// The checks of an `opsdeck check` file as smoke results.
    async fn smoke_checks_file(&self, path: &std::path::Path) -> Vec<CallResult> {
        let run = async {
            let text = std::fs::read_to_string(path).map_err(|e| Error::invalid(format!("checks file {}: {e}", path.display())))?;
            let file = crate::checks::CheckFile::parse(&text)?;
            crate::checks::run(self, &file, &|_| {}, &CancellationToken::new()).await
        };
        match run.await {
            Ok(rs) => rs
                .into_iter()
                .map(|r| CallResult {
                    name: format!("check {} ({})", r.name, r.target),
                    ok: r.ok,
                    message: r.message,
                    duration_ms: r.duration_ms,
                })
                .collect(),
            Err(e) => {
                vec![CallResult { name: format!("checks file {}", path.display()), ok: false, message: e.to_string(), duration_ms: 0 }]
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn bluegreen_switch_guarded(
        &self,
        client: &Client,
        t: &BlueGreenTarget,
        expected: &str,
        to: &str,
        keep: Duration,
        action: &str,
        progress: BlueGreenProgress<'_>,
    ) -> Result<Switched> {
        use BlueGreenStep::Switch;
        ev(progress, Switch, StepState::Running, format!("switching {} to {to} (resourceVersion {expected})", t.describe()));
        match bluegreen::switch(client, t, expected, to, keep).await {
            Ok(s) => {
                let detail = format!(
                    "{} -> {to} (resourceVersion {} -> {}), previous colour kept until {}",
                    s.from.as_deref().unwrap_or("none"),
                    s.resource_version_before,
                    s.resource_version_after,
                    s.keep_until
                );
                ev(progress, Switch, StepState::Done, detail.clone());
                self.bg_audit(t, action, Ok(detail)).await;
                Ok(s)
            }
            Err(e) => {
                ev(progress, Switch, StepState::Failed, e.to_string());
                self.bg_audit(t, action, Err(&e)).await;
                Err(e)
            }
        }
    }

    /// Switches the Service to colour `to` (whose rollout must be complete),
    /// after the smoke checks, guarded by the resourceVersion read first.
    pub async fn bluegreen_switch(
        &self,
        w: &BlueGreenAt<'_>,
        to: &str,
        keep: Duration,
        smoke: &[Smoke],
        smoke_timeout: Duration,
        progress: BlueGreenProgress<'_>,
    ) -> Result<Switched> {
        let t = w.target();
        let client = w.client().await?;
        let st = bluegreen::status(&client, &t).await?;
        self.bluegreen_ready_colour(&st, to, "bluegreen.switch").await?;
        self.bluegreen_smoke(&t, to, smoke, smoke_timeout, &CancellationToken::new(), progress).await?;
        self.bluegreen_switch_guarded(&client, &t, &st.resource_version, to, keep, "bluegreen.switch", progress).await
    }

    /// Switches back to the previous colour in one guarded update (its
    /// Deployment must still be there and ready); the colour left becomes the previous one.
    pub async fn bluegreen_rollback(&self, w: &BlueGreenAt<'_>, keep: Duration) -> Result<Switched> {
        let t = w.target();
        let client = w.client().await?;
        let st = bluegreen::status(&client, &t).await?;
        let Some(previous) = st.previous.clone() else {
            let e = Error::invalid(format!("{}: no previous colour recorded (never switched by Opsdeck, or cleaned up)", t.describe()));
            self.bg_audit(&t, "bluegreen.rollback", Err(&e)).await;
            return Err(e);
        };
        self.bluegreen_ready_colour(&st, &previous, "bluegreen.rollback").await?;
        self.bluegreen_switch_guarded(&client, &t, &st.resource_version, &previous, keep, "bluegreen.rollback", &|_| {}).await
    }

    async fn bluegreen_ready_colour(&self, st: &BlueGreenStatus, colour: &str, action: &str) -> Result<()> {
        let t = &st.target;
        let why = match st.colour(colour) {
            None => format!("no Deployment of colour {colour} behind {}", t.describe()),
            Some(c) if !c.ready => format!("colour {colour} (deployment {}) is not ready: {}", c.deployment, c.rollout.summary()),
            Some(_) => return Ok(()),
        };
        let e = Error::invalid(format!("{why}; nothing switched"));
        self.bg_audit(t, action, Err(&e)).await;
        Err(e)
    }

    /// Deletes the old (previous) colour's Deployment once its keep time has
    /// passed; before, only with `now` (an explicit choice, audited).
    pub async fn bluegreen_cleanup(&self, w: &BlueGreenAt<'_>, now: bool) -> Result<String> {
        let t = w.target();
        let client = w.client().await?;
        let st = bluegreen::status(&client, &t).await?;
        let result = async {
            let colour = match &st.previous {
                Some(p) => p.clone(),
                None => return Err(Error::invalid(format!("{}: no previous colour to clean up", t.describe()))),
            };
            if !now && !st.keep_expired(k8s_openapi::jiff::Timestamp::now()) {
                return Err(Error::invalid(format!(
                    "colour {colour} is kept until {} for a switch back; clean up after that, or now with --now",
                    st.keep_until.as_deref().unwrap_or("?")
                )));
            }
            let early = if now && !st.keep_expired(k8s_openapi::jiff::Timestamp::now()) { " (before its keep time, --now)" } else { "" };
            bluegreen::delete_colour(&client, &st, &colour).await.map(|d| format!("{d}{early}"))
        }
        .await;
        match &result {
            Ok(d) => self.bg_audit(&t, "bluegreen.cleanup", Ok(d.clone())).await,
            Err(e) => self.bg_audit(&t, "bluegreen.cleanup", Err(e)).await,
        }
        result
    }
}

fn stopped(colour: &str) -> Error {
    Error::Cancelled(format!("stopped before the switch: nothing switched; colour {colour} is left deployed (clean it up or switch later)"))
}

/// A context of a saved Kubernetes connection, resolved for blue/green and
/// failover from the app: the kubeconfig file, its token, the connection's contexts.
pub struct KubeAccess {
    pub kubeconfig: String,
    pub token: Option<Secret>,
    pub contexts: Vec<String>,
}

impl Backend {
    /// The kubeconfig and token of connection `connection_id`, refusing a
    /// `context` that is not one of its contexts.
    pub async fn kube_access(&self, connection_id: &str, context: &str) -> Result<KubeAccess> {
        let t = self.kube_target(connection_id).await?;
        if !t.contexts.iter().any(|c| c == context) {
            return Err(Error::invalid(format!("context \"{context}\" is not part of connection \"{}\"", t.name)));
        }
        Ok(KubeAccess { kubeconfig: t.path, token: t.token, contexts: t.contexts })
    }
}

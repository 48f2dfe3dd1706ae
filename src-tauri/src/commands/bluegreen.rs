//! Blue/green behind one Service and failover of marked workloads, from the
//! Clusters workspace (docs/bluegreen.md, docs/failover.md). Thin: the
//! backend deploys, waits, smoke-tests, switches, fails over and audits
//! (`bluegreen.*`, `failover.*`); progress streams on a Channel, and a running
//! deploy can be stopped (before the switch) by the task id the UI chose.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use opsdeck_core::backend::{
    BlueGreenAt, BlueGreenEvent, DeployOptions, DeployReport, FailbackReport, FailoverAt, FailoverOptions, FailoverPlan, FailoverReport,
    KubeAccess, Smoke,
};
use opsdeck_core::clusters::bluegreen::{BlueGreenStatus, Switched};
use opsdeck_core::clusters::hooks::Hook;
use opsdeck_core::clusters::rollout::CancellationToken;
use opsdeck_core::Backend;
use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::State;

use super::check_id;
use crate::error::{UiError, UiResult};

/// Running deploys by the task id the UI chose, so they can be stopped.
static RUNNING: Mutex<Option<HashMap<String, CancellationToken>>> = Mutex::new(None);

/// The Service a blue/green operation acts on.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct BlueGreenService {
    pub connection_id: String,
    pub context: String,
    pub namespace: String,
    pub service: String,
    /// The selector label holding the colour (empty: `version`).
    pub label: String,
}

/// How the app deploys a new colour.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct BlueGreenDeployInput {
    /// The new colour's Deployment (YAML, exactly one).
    pub manifest: String,
    /// HTTP smoke checks (GET, 2xx passes; `{colour}` is replaced).
    pub smoke_urls: Vec<String>,
    /// An `opsdeck check` file run as smoke checks.
    pub smoke_checks: Option<String>,
    /// How long the old colour is kept for a switch back, in minutes.
    pub keep_minutes: u32,
    /// How long to wait for the new colour to be ready, in seconds.
    pub ready_timeout_s: u32,
}

/// The traffic-switch hook of a failover run or failback.
#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum FailoverHook {
    /// Run by `sh -c`.
    Command(String),
    /// POSTed the JSON; 2xx is done.
    Webhook(String),
}

fn check_name(what: &str, v: &str) -> UiResult<()> {
    if v.is_empty() || v.len() > 253 || !v.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '/')) {
        return Err(UiError::invalid(format!("{what}: 1 to 253 letters, digits, '-', '.', '_' or '/'")));
    }
    Ok(())
}

fn check_task(task: &str) -> UiResult<()> {
    if task.is_empty() || task.len() > 64 || !task.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(UiError::invalid("task: 1 to 64 letters, digits or '-'"));
    }
    Ok(())
}

fn check_context(context: &str) -> UiResult<()> {
    if context.is_empty() || context.len() > 512 {
        return Err(UiError::invalid("context: 1 to 512 characters"));
    }
    Ok(())
}

async fn access(backend: &Backend, s: &BlueGreenService) -> UiResult<KubeAccess> {
    check_id(&s.connection_id)?;
    check_context(&s.context)?;
    check_name("namespace", &s.namespace)?;
    check_name("service", &s.service)?;
    if !s.label.is_empty() {
        check_name("label", &s.label)?;
    }
    Ok(backend.kube_access(&s.connection_id, &s.context).await?)
}

fn at<'a>(a: &'a KubeAccess, s: &'a BlueGreenService) -> BlueGreenAt<'a> {
    BlueGreenAt {
        kubeconfig: &a.kubeconfig,
        context: &s.context,
        namespace: &s.namespace,
        service: &s.service,
        label: &s.label,
        token: a.token.as_ref(),
    }
}

/// The Service's colours: live, previous, switched at, keep-until, and each colour's Deployment readiness.
#[tauri::command]
#[specta::specta]
pub async fn bluegreen_status(backend: State<'_, Backend>, service: BlueGreenService) -> UiResult<BlueGreenStatus> {
    let a = access(&backend, &service).await?;
    Ok(backend.bluegreen_status(&at(&a, &service)).await?)
}

/// Deploys a new colour beside the live one, waits until it is ready, runs
/// the smoke checks and switches the Service in one guarded update; each
/// step on `on_event`. Stop (before the switch) with `bluegreen_stop(task)`.
#[tauri::command]
#[specta::specta]
pub async fn bluegreen_deploy(
    backend: State<'_, Backend>,
    service: BlueGreenService,
    input: BlueGreenDeployInput,
    task: String,
    on_event: Channel<BlueGreenEvent>,
) -> UiResult<DeployReport> {
    let a = access(&backend, &service).await?;
    check_task(&task)?;
    if input.smoke_urls.len() > 20 || input.smoke_urls.iter().any(|u| !(u.starts_with("http://") || u.starts_with("https://"))) {
        return Err(UiError::invalid("smoke URLs: at most 20, each http:// or https://"));
    }
    let mut smoke: Vec<Smoke> = input.smoke_urls.iter().cloned().map(Smoke::Http).collect();
    if let Some(p) = input.smoke_checks.as_deref().filter(|p| !p.trim().is_empty()) {
        super::check_path(p)?;
        smoke.push(Smoke::Checks(PathBuf::from(p)));
    }
    if input.keep_minutes > 90 * 24 * 60 {
        return Err(UiError::invalid("keep: at most 90 days"));
    }
    let stop = CancellationToken::new();
    let opts = DeployOptions {
        keep: Duration::from_secs(u64::from(input.keep_minutes) * 60),
        ready_timeout: Duration::from_secs(u64::from(input.ready_timeout_s.clamp(1, 3600))),
        smoke,
        smoke_timeout: Duration::from_secs(10),
        switch: true,
        stop: stop.clone(),
    };
    {
        let mut running = RUNNING.lock().map_err(|_| UiError::invalid("task registry unavailable"))?;
        let map = running.get_or_insert_with(HashMap::new);
        if map.contains_key(&task) {
            return Err(UiError::invalid("task: a deploy with this id is running"));
        }
        map.insert(task.clone(), stop);
    }
    let send = move |e: BlueGreenEvent| {
        let _ = on_event.send(e);
    };
    let result = backend.bluegreen_deploy(&at(&a, &service), &input.manifest, &opts, &send).await;
    if let Ok(mut running) = RUNNING.lock() {
        if let Some(map) = running.as_mut() {
            map.remove(&task);
        }
    }
    Ok(result?)
}

/// Stops a running deploy before its switch; false when none runs under `task`.
#[tauri::command]
#[specta::specta]
pub fn bluegreen_stop(task: String) -> UiResult<bool> {
    check_task(&task)?;
    let running = RUNNING.lock().map_err(|_| UiError::invalid("task registry unavailable"))?;
    Ok(match running.as_ref().and_then(|m| m.get(&task)) {
        Some(stop) => {
            stop.cancel();
            true
        }
        None => false,
    })
}

/// Switches back to the previous colour (kept and ready) in one guarded update.
#[tauri::command]
#[specta::specta]
pub async fn bluegreen_rollback(backend: State<'_, Backend>, service: BlueGreenService, keep_minutes: u32) -> UiResult<Switched> {
    let a = access(&backend, &service).await?;
    if keep_minutes > 90 * 24 * 60 {
        return Err(UiError::invalid("keep: at most 90 days"));
    }
    Ok(backend.bluegreen_rollback(&at(&a, &service), Duration::from_secs(u64::from(keep_minutes) * 60)).await?)
}

/// Deletes the previous colour's Deployment once its keep time has passed.
#[tauri::command]
#[specta::specta]
pub async fn bluegreen_cleanup(backend: State<'_, Backend>, service: BlueGreenService) -> UiResult<String> {
    let a = access(&backend, &service).await?;
    Ok(backend.bluegreen_cleanup(&at(&a, &service), false).await?)
}

async fn failover_access(backend: &Backend, connection_id: &str, source: &str) -> UiResult<KubeAccess> {
    check_id(connection_id)?;
    check_context(source)?;
    Ok(backend.kube_access(connection_id, source).await?)
}

fn targets(a: &KubeAccess, source: &str) -> Vec<String> {
    a.contexts.iter().filter(|c| *c != source).cloned().collect()
}

fn failover_options(hook: Option<FailoverHook>) -> UiResult<FailoverOptions> {
    let hook = match hook {
        None => None,
        Some(FailoverHook::Command(c)) if c.trim().is_empty() || c.len() > 4096 => {
            return Err(UiError::invalid("hook command: 1 to 4096 characters"))
        }
        Some(FailoverHook::Command(c)) => Some(Hook::Command(c)),
        Some(FailoverHook::Webhook(u)) if !(u.starts_with("http://") || u.starts_with("https://")) => {
            return Err(UiError::invalid("hook URL: http:// or https://"))
        }
        Some(FailoverHook::Webhook(u)) => Some(Hook::Webhook(u)),
    };
    Ok(FailoverOptions {
        health_timeout: Duration::from_secs(10),
        ready_timeout: Duration::from_secs(300),
        hook,
        hook_timeout: Duration::from_secs(60),
    })
}

/// Preview of a failover of `source` (a context of the connection) to the
/// connection's other contexts: the source's health, its marked workloads,
/// each target's health and free capacity, where each workload goes and why. Writes nothing.
#[tauri::command]
#[specta::specta]
pub async fn failover_plan(backend: State<'_, Backend>, connection_id: String, source: String) -> UiResult<FailoverPlan> {
    let a = failover_access(&backend, &connection_id, &source).await?;
    let targets = targets(&a, &source);
    let at = FailoverAt { kubeconfig: &a.kubeconfig, source: &source, targets: &targets, token: a.token.as_ref() };
    Ok(backend.failover_plan(&at, Duration::from_secs(10)).await?)
}

/// Runs the failover of `source`: copies on the chosen targets, waited for,
/// then the hook; progress lines on `on_line`.
#[tauri::command]
#[specta::specta]
pub async fn failover_run(
    backend: State<'_, Backend>,
    connection_id: String,
    source: String,
    hook: Option<FailoverHook>,
    on_line: Channel<String>,
) -> UiResult<FailoverReport> {
    let a = failover_access(&backend, &connection_id, &source).await?;
    let opts = failover_options(hook)?;
    let targets = targets(&a, &source);
    let at = FailoverAt { kubeconfig: &a.kubeconfig, source: &source, targets: &targets, token: a.token.as_ref() };
    let send = move |l: &str| {
        let _ = on_line.send(l.to_string());
    };
    Ok(Box::pin(backend.failover_run(&at, &opts, &send)).await?)
}

/// Fails `source` back once it is healthy and serves its workloads: the hook, then the copies removed.
#[tauri::command]
#[specta::specta]
pub async fn failover_failback(
    backend: State<'_, Backend>,
    connection_id: String,
    source: String,
    hook: Option<FailoverHook>,
    on_line: Channel<String>,
) -> UiResult<FailbackReport> {
    let a = failover_access(&backend, &connection_id, &source).await?;
    let opts = failover_options(hook)?;
    let targets = targets(&a, &source);
    let at = FailoverAt { kubeconfig: &a.kubeconfig, source: &source, targets: &targets, token: a.token.as_ref() };
    let send = move |l: &str| {
        let _ = on_line.send(l.to_string());
    };
    Ok(Box::pin(backend.failover_failback(&at, &opts, &send)).await?)
}

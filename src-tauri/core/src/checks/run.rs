//! Runs the checks of a file: targets resolved once (profile + keychain, or
//! inline + environment variable), checks run concurrently with a limit,
//! each under its own timeout; results keep the file's order.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::roundtrip;
use super::spec::{version_at_least, CheckFile, CheckKind, CheckSpec};
use crate::connections::ConnectionSpec;
use crate::connectors;
use crate::error::{with_timeout, Error, Result};
use crate::secrets::Secret;
use crate::Backend;

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct CheckResult {
    pub name: String,
    pub target: String,
    /// `etcd`, `docker`, `kubernetes`, `vsphere`.
    pub platform: String,
    pub kind: CheckKind,
    pub ok: bool,
    /// What was checked, or why it failed.
    pub message: String,
    pub duration_ms: u64,
    /// Not run: the run was stopped (e.g. the pipeline was cancelled) before
    /// this check started. Also `ok: false`.
    pub skipped: bool,
}

/// A target ready to use: where, and its secret.
#[derive(Clone)]
pub struct Resolved {
    pub spec: ConnectionSpec,
    pub secret: Option<Secret>,
}

async fn resolve(backend: &Backend, name: &str, t: &super::spec::TargetSpec) -> Result<Resolved> {
    let from_env = match &t.secret_env {
        Some(var) => Some(Secret::new(
            std::env::var(var).map_err(|_| Error::invalid(format!("target \"{name}\": environment variable {var} is not set")))?,
        )),
        None => None,
    };
    match (&t.connection, &t.spec) {
        (Some(c), _) => {
            let conn = backend.find_connection(c).await?;
            let secret = match from_env {
                Some(s) => Some(s),
                None => backend.connection_secret(&conn.id).await?,
            };
            Ok(Resolved { spec: conn.spec, secret })
        }
        (None, Some(spec)) => Ok(Resolved { spec: crate::connections::validate::validate_spec(spec.clone())?, secret: from_env }),
        (None, None) => Err(Error::invalid(format!("target \"{name}\": no connection or spec"))),
    }
}

/// Runs every check of `file`; `on_result` sees each result as soon as its
/// check finishes (completion order), e.g. to stream progress to a CI log.
/// Once `stop` is cancelled no further check starts (they are reported as
/// skipped); checks already running finish, so round trips clean up.
pub async fn run(
    backend: &Backend,
    file: &CheckFile,
    on_result: &(dyn Fn(&CheckResult) + Sync),
    stop: &CancellationToken,
) -> Result<Vec<CheckResult>> {
    let default_timeout = file.default_timeout()?;
    file.check_secret_env()?;
    let mut targets: BTreeMap<String, std::result::Result<Resolved, String>> = BTreeMap::new();
    for (name, t) in &file.targets {
        targets.insert(name.clone(), resolve(backend, name, t).await.map_err(|e| e.to_string()));
    }
    let targets = &targets;
    let mut results: Vec<(usize, CheckResult)> = futures::stream::iter(file.checks.iter().enumerate())
        .map(|(i, c)| async move {
            let limit = c
                .timeout
                .as_deref()
                .map(|t| super::spec::parse_duration("timeout", t))
                .transpose()
                .ok()
                .flatten()
                .unwrap_or(default_timeout);
            let r = if stop.is_cancelled() {
                not_run(c, targets.get(&c.target))
            } else {
                Box::pin(one(c, targets.get(&c.target), limit)).await
            };
            on_result(&r);
            (i, r)
        })
        .buffer_unordered(file.concurrency)
        .collect()
        .await;
    results.sort_by_key(|(i, _)| *i);
    // A round trip changed the platform (created, then removed, an object):
    // audited like any other change, with what it found.
    for (_, r) in results.iter().filter(|(_, r)| r.kind == CheckKind::Roundtrip && !r.skipped) {
        let failed = Error::Internal(r.message.clone());
        let outcome = if r.ok { Ok(format!("check \"{}\": {}", r.name, r.message)) } else { Err(&failed) };
        backend.audit(&r.platform, &r.target, "check.roundtrip", outcome).await;
    }
    Ok(results.into_iter().map(|(_, r)| r).collect())
}

/// The platform of a resolved target (`etcd`, `docker`, ...); empty when it did not resolve.
fn platform(target: Option<&std::result::Result<Resolved, String>>) -> String {
    match target {
        Some(Ok(t)) => t.spec.kind().as_str().to_string(),
        _ => String::new(),
    }
}

fn not_run(c: &CheckSpec, target: Option<&std::result::Result<Resolved, String>>) -> CheckResult {
    CheckResult {
        name: c.name.clone(),
        target: c.target.clone(),
        platform: platform(target),
        kind: c.kind,
        ok: false,
        message: "not run: the run was stopped before this check started".into(),
        duration_ms: 0,
        skipped: true,
    }
}

async fn one(c: &CheckSpec, target: Option<&std::result::Result<Resolved, String>>, limit: Duration) -> CheckResult {
    let started = Instant::now();
    let outcome = match target {
        Some(Ok(t)) => Box::pin(with_timeout(format!("check \"{}\"", c.name), limit, check(c, t, limit))).await,
        Some(Err(e)) => Err(Error::invalid(e.clone())),
        None => Err(Error::invalid(format!("target \"{}\" is not defined", c.target))),
    };
    let (ok, message) = match outcome {
        Ok(m) => (true, m),
        Err(e) => (false, format!("{} ({})", e, e.code().as_str())),
    };
    CheckResult {
        name: c.name.clone(),
        target: c.target.clone(),
        platform: platform(target),
        kind: c.kind,
        ok,
        message,
        duration_ms: started.elapsed().as_millis() as u64,
        skipped: false,
    }
}

async fn check(c: &CheckSpec, t: &Resolved, limit: Duration) -> Result<String> {
    let spec = match (&t.spec, &c.context) {
        // A check may pick one context of a kubeconfig target.
        (ConnectionSpec::Kubernetes { kubeconfig, .. }, Some(ctx)) => {
            ConnectionSpec::Kubernetes { kubeconfig: kubeconfig.clone(), contexts: vec![ctx.clone()] }
        }
        (s, _) => s.clone(),
    };
    match c.kind {
        CheckKind::Connectivity => match connectors::probe(&spec, t.secret.as_ref(), limit).await {
            Ok(p) => Ok(format!("reachable: {}", p.version)),
            Err(Error::Auth(m)) | Err(Error::Forbidden(m)) => Ok(format!("reachable (the login was refused: {m})")),
            Err(e) => Err(e),
        },
        CheckKind::Auth => connectors::probe(&spec, t.secret.as_ref(), limit).await.map(|p| p.message),
        CheckKind::Version => {
            let p = connectors::probe(&spec, t.secret.as_ref(), limit).await?;
            let min = c.min_version.as_deref().unwrap_or("0");
            match version_at_least(&p.version, min) {
                Some(true) => Ok(format!("{} >= {min}", p.version)),
                Some(false) => Err(Error::Unsupported(format!("{} is older than the minimum {min}", p.version))),
                None => Err(Error::Internal(format!("cannot read a version number in \"{}\"", p.version))),
            }
        }
        CheckKind::List => roundtrip::list(c, &spec, t.secret.as_ref()).await,
        CheckKind::Roundtrip => Box::pin(roundtrip::roundtrip(c, &spec, t.secret.as_ref())).await,
    }
}

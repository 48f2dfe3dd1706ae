//! Health of one cluster, and of many at once: each context has its own
//! deadline, so one dead cluster never delays the others.

use std::time::{Duration, Instant};

use futures::future::join_all;

use super::fetch::snapshot_paged;
use super::findings;
use super::model::{ClusterHealth, Finding, NodeSummary, Severity, Verdict};
use crate::connectors::kube::{classify, client_for, read_kubeconfig, resolve_contexts, skips_tls_verify};
use crate::error::{Error, ErrorCode, Result};
use crate::secrets::Secret;

/// Warning events reported per cluster, newest first.
pub const EVENTS_MAX: usize = 20;

/// A cluster that could not be checked, with the class of the fault (a 401
/// is `auth`, a silent server `timeout`, …) as the finding's kind and code.
pub(crate) fn unreachable(context: &str, code: ErrorCode, message: String, latency: Option<u64>) -> ClusterHealth {
    ClusterHealth {
        context: context.into(),
        verdict: Verdict::Unreachable,
        version: None,
        latency_ms: latency,
        nodes: NodeSummary::default(),
        findings: vec![Finding { severity: Severity::Critical, kind: code.as_str().into(), object: "apiserver".into(), message }],
        checked_at: crate::cache::db::now_rfc3339(),
        insecure_tls: false,
        error_code: Some(code),
    }
}

/// [`unreachable`] for an error.
pub(crate) fn failed(context: &str, e: &Error, latency: Option<u64>) -> ClusterHealth {
    unreachable(context, e.code(), e.to_string(), latency)
}

/// Checks one context: API reachable and its version and latency, then the snapshot.
pub async fn check(kubeconfig: kube::config::Kubeconfig, context: &str, token: Option<&Secret>) -> ClusterHealth {
    // Boxed: the paged lists make the future large (clippy large_futures), and every caller awaits it.
    Box::pin(check_paged(kubeconfig, context, token, super::fetch::PAGE)).await
}

/// [`check`] listing `page` objects a page (0: unpaged lists).
pub async fn check_paged(kubeconfig: kube::config::Kubeconfig, context: &str, token: Option<&Secret>, page: u32) -> ClusterHealth {
    let client = match client_for(kubeconfig, context, token).await {
        Ok(c) => c,
        Err(e) => return failed(context, &e, None),
    };
    let started = Instant::now();
    let version = match client.apiserver_version().await {
        Ok(v) => v.git_version,
        Err(e) => return failed(context, &classify(e, context), Some(started.elapsed().as_millis() as u64)),
    };
    let latency = started.elapsed().as_millis() as u64;
    let snap = snapshot_paged(&client, context, page).await;
    evaluate(context, Some(version), Some(latency), snap)
}

/// Findings and verdict of a snapshot (shared by the one-shot check and the live view).
pub(crate) fn evaluate(context: &str, version: Option<String>, latency: Option<u64>, snap: super::fetch::Snapshot) -> ClusterHealth {
    let mut out = Vec::new();
    let rules = findings::Rules::from_env();
    let nodes = findings::nodes(&snap.nodes, &rules, &mut out);
    findings::pods(&snap.system_pods, &rules, k8s_openapi::jiff::Timestamp::now(), &mut out);
    findings::workloads(&snap.deployments, &snap.statefulsets, &snap.daemonsets, &mut out);
    findings::events(&snap.warnings, EVENTS_MAX, &mut out);
    out.extend(snap.gaps);
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    ClusterHealth {
        context: context.into(),
        verdict: findings::verdict(&out),
        version,
        latency_ms: latency,
        nodes,
        findings: out,
        checked_at: crate::cache::db::now_rfc3339(),
        insecure_tls: false,
        error_code: None,
    }
}

/// Checks the selected contexts of a kubeconfig concurrently, each bounded by `limit`.
pub async fn check_all(path: &str, selected: &[String], token: Option<&Secret>, limit: Duration) -> Result<Vec<ClusterHealth>> {
    let kubeconfig = read_kubeconfig(path)?;
    let contexts = resolve_contexts(&kubeconfig, path, selected)?;
    let checks = contexts.into_iter().map(|context| {
        let kc = kubeconfig.clone();
        async move {
            let insecure_tls = skips_tls_verify(&kc, &context);
            let mut h = match tokio::time::timeout(limit, check(kc, &context, token)).await {
                Ok(h) => h,
                Err(_) => unreachable(
                    &context,
                    ErrorCode::Timeout,
                    format!("no answer within {} s", limit.as_secs()),
                    Some(limit.as_millis() as u64),
                ),
            };
            h.insecure_tls = insecure_tls;
            h
        }
    });
    Ok(join_all(checks).await)
}

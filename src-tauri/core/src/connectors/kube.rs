//! Kubernetes connector (kube-rs): clients per kubeconfig context, with an
//! optional bearer token from the keychain overriding the file's credentials.

use std::time::{Duration, Instant};

use futures::future::join_all;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::PostParams;
use kube::config::{AuthInfo, KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

use super::errors::{chain, transport};
use super::Probe;
use crate::error::{Error, ErrorCode, Result};
use crate::secrets::Secret;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long any answer from the API server, a watch included, may stay
/// silent (the client's read timeout): a watch the server leaves quiet is
/// ended by the server before this, so silence this long is a stall.
pub const READ_TIMEOUT: Duration = Duration::from_secs(15);

/// [`READ_TIMEOUT`], or `$OPSDECK_STREAM_IDLE_SECS` when set (tests make it short).
pub fn read_timeout() -> Duration {
    if std::env::var_os(super::stream::STREAM_IDLE_ENV).is_some() {
        super::stream::stream_idle()
    } else {
        READ_TIMEOUT
    }
}

/// Reads a kubeconfig, or several separated like `KUBECONFIG` (`:` on Unix,
/// `;` on Windows) and merged by kubectl's rules: the first file to define a
/// cluster, user, context or the current context wins. A missing or malformed
/// file is a clear input error naming it.
pub fn read_kubeconfig(paths: &str) -> Result<Kubeconfig> {
    let files: Vec<_> = std::env::split_paths(paths).filter(|p| !p.as_os_str().is_empty()).collect();
    if files.is_empty() {
        return Err(Error::invalid("kubeconfig: the path of a kubeconfig file is required"));
    }
    files.iter().try_fold(Kubeconfig::default(), |merged, file| {
        let shown = file.display();
        let next = Kubeconfig::read_from(file).map_err(|e| Error::invalid(format!("kubeconfig {shown}: {}", chain(&e))))?;
        merged.merge(next).map_err(|e| Error::invalid(format!("kubeconfig {shown} cannot be merged: {}", chain(&e))))
    })
}

/// Context names of a kubeconfig (or merged list), in file order.
pub fn contexts(path: &str) -> Result<Vec<String>> {
    Ok(read_kubeconfig(path)?.contexts.into_iter().map(|c| c.name).collect())
}

/// The contexts a profile selects: all of the file's when `selected` is empty;
/// a selected context missing from the file is an error.
pub fn resolve_contexts(kubeconfig: &Kubeconfig, path: &str, selected: &[String]) -> Result<Vec<String>> {
    let available: Vec<String> = kubeconfig.contexts.iter().map(|c| c.name.clone()).collect();
    if selected.is_empty() {
        if available.is_empty() {
            return Err(Error::invalid(format!("kubeconfig {path} defines no contexts")));
        }
        return Ok(available);
    }
    for c in selected {
        if !available.contains(c) {
            return Err(Error::invalid(format!("context \"{c}\" is not in {path} (it has: {})", available.join(", "))));
        }
    }
    Ok(selected.to_vec())
}

/// A bearer token from the keychain belongs to one cluster: it is used only
/// by a profile that selects exactly one context, never sent to every
/// context of a kubeconfig (one of which may be someone else's server).
pub fn token_bound(selected: &[String], has_token: bool) -> Result<()> {
    if has_token && selected.len() != 1 {
        return Err(Error::invalid(format!(
            "a stored bearer token is for one cluster, and this profile selects {}: select exactly the context the token is for (one profile per cluster), or remove the token",
            if selected.is_empty() { "every context".to_string() } else { format!("{} contexts", selected.len()) }
        )));
    }
    Ok(())
}

/// Whether the kubeconfig turns TLS verification off for `context`'s cluster.
pub fn skips_tls_verify(kubeconfig: &Kubeconfig, context: &str) -> bool {
    let cluster = kubeconfig.contexts.iter().find(|c| c.name == context).and_then(|c| c.context.as_ref()).map(|c| c.cluster.clone());
    cluster.is_some_and(|name| {
        kubeconfig.clusters.iter().any(|c| c.name == name && c.cluster.as_ref().is_some_and(|x| x.insecure_skip_tls_verify == Some(true)))
    })
}

/// Builds a client for one context. `token` replaces the context's user
/// credentials (client certs, exec plugins) when given.
pub async fn client_for(kubeconfig: Kubeconfig, context: &str, token: Option<&Secret>) -> Result<Client> {
    let options = KubeConfigOptions { context: Some(context.to_string()), ..Default::default() };
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| Error::invalid(format!("context {context}: {}", chain(&e))))?;
    if let Some(token) = token {
        config.auth_info = AuthInfo { token: Some(token.expose().to_string().into()), ..Default::default() };
    }
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(read_timeout());
    Client::try_from(config).map_err(|e| classify(e, context))
}

/// Maps a kube error to an actionable error.
pub fn classify(e: kube::Error, context: &str) -> Error {
    let target = format!("cluster \"{context}\"");
    match &e {
        kube::Error::Api(status) if status.code == 401 => Error::Auth(format!(
            "{target} rejected the credentials (401 Unauthorized): the token is wrong or expired, or the client certificate is not trusted"
        )),
        kube::Error::Api(status) if status.code == 403 => Error::Forbidden(format!("{target}: forbidden: {}", status.message)),
        kube::Error::Api(status) if status.code == 404 => Error::NotFound(format!("{target}: {}", status.message)),
        kube::Error::Api(status) if status.code == 409 => Error::Conflict(format!("{target}: {}", status.message)),
        // The server itself failing (500, 503 while it starts or loses etcd): a remote fault.
        kube::Error::Api(status) if status.code >= 500 => Error::Remote {
            code: ErrorCode::Unreachable,
            message: format!("{target} is failing: it answered {}: {}; check the API server and its etcd", status.code, status.message),
            source: Box::new(e),
        },
        // What we sent was refused as such (400, 422: an invalid object).
        kube::Error::Api(status) => Error::invalid(format!("{target} refused the request ({}): {}", status.code, status.message)),
        kube::Error::Auth(kube::client::AuthError::AuthExecRun { out, .. }) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            Error::Auth(format!(
                "{target}: the kubeconfig's credential plugin failed ({}): {}; run it by hand or log in again",
                out.status,
                stderr.trim()
            ))
        }
        kube::Error::Auth(_) => Error::Auth(format!("{target}: getting credentials failed: {}", chain(&e))),
        kube::Error::InferKubeconfig(_) => Error::invalid(format!("{target}: {}", chain(&e))),
        _ => transport(&target, e),
    }
}

/// Result of probing one context.
#[derive(Debug)]
pub struct ContextProbe {
    pub context: String,
    pub result: Result<(String, String)>,
    pub latency: Duration,
}

/// Version and identity as seen by the API server for one context.
async fn probe_context(kubeconfig: Kubeconfig, context: String, token: Option<&Secret>) -> ContextProbe {
    let started = Instant::now();
    let result = async {
        let client = client_for(kubeconfig, &context, token).await?;
        let info = client.apiserver_version().await.map_err(|e| classify(e, &context))?;
        let review: Api<SelfSubjectReview> = Api::all(client);
        let me = review.create(&PostParams::default(), &SelfSubjectReview::default()).await.map_err(|e| classify(e, &context))?;
        let user = me.status.and_then(|s| s.user_info).and_then(|u| u.username).unwrap_or_else(|| "unknown user".into());
        Ok((info.git_version, user))
    }
    .await;
    ContextProbe { context, result, latency: started.elapsed() }
}

/// Probes every selected context concurrently, each bounded by `limit`.
pub async fn probe_all(path: &str, selected: &[String], token: Option<&Secret>, limit: Duration) -> Result<Vec<ContextProbe>> {
    token_bound(selected, token.is_some())?;
    let kubeconfig = read_kubeconfig(path)?;
    let contexts = resolve_contexts(&kubeconfig, path, selected)?;
    let probes = contexts.into_iter().map(|context| {
        let kc = kubeconfig.clone();
        async move {
            let name = context.clone();
            match tokio::time::timeout(limit, probe_context(kc, context, token)).await {
                Ok(p) => p,
                Err(_) => ContextProbe {
                    result: Err(Error::Timeout { what: format!("cluster \"{name}\""), secs: limit.as_secs() }),
                    context: name,
                    latency: limit,
                },
            }
        }
    });
    Ok(join_all(probes).await)
}

/// Probes the profile's contexts; succeeds only when every context answers.
pub async fn probe(path: &str, selected: &[String], token: Option<&Secret>, limit: Duration) -> Result<Probe> {
    // Leave a margin so per-context timeouts report before the overall one.
    let per_context = limit.saturating_sub(Duration::from_millis(500)).max(Duration::from_secs(1));
    let results = probe_all(path, selected, token, per_context).await?;
    let mut lines = Vec::new();
    let mut first_err: Option<Error> = None;
    let mut version = None;
    for p in results {
        match p.result {
            Ok((v, user)) => {
                lines.push(format!("{}: {v} as {user} ({} ms)", p.context, p.latency.as_millis()));
                version.get_or_insert(v);
            }
            Err(e) => {
                lines.push(format!("{}: {e}", p.context));
                first_err.get_or_insert(e);
            }
        }
    }
    let summary = lines.join("; ");
    match first_err {
        None => Ok(Probe { version: version.unwrap_or_default(), message: summary }),
        // The class of the first failure (a 401 stays auth, a silent server
        // a timeout), with every context's line as the message.
        Some(e) => Err(match e.code() {
            ErrorCode::Auth => Error::Auth(summary),
            ErrorCode::Forbidden => Error::Forbidden(summary),
            ErrorCode::Tls => Error::Tls(summary),
            ErrorCode::InvalidInput => Error::InvalidInput(summary),
            ErrorCode::Internal => Error::Internal(summary),
            code => Error::Remote { code, message: summary, source: Box::new(e) },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(code: u16) -> Error {
        classify(kube::Error::Api(kube::core::Status::failure("m", "r").with_code(code).boxed()), "c")
    }

    #[test]
    fn an_api_answer_is_classified_by_its_status_never_internal() {
        assert_eq!(answered(401).code(), ErrorCode::Auth);
        assert_eq!(answered(403).code(), ErrorCode::Forbidden);
        assert_eq!(answered(404).code(), ErrorCode::NotFound);
        assert_eq!(answered(409).code(), ErrorCode::Conflict);
        assert_eq!(answered(422).code(), ErrorCode::InvalidInput);
        let failing = answered(503);
        assert_eq!(failing.code(), ErrorCode::Unreachable);
        assert!(failing.to_string().contains("is failing") && std::error::Error::source(&failing).is_some(), "{failing}");
    }
}

//! Reading a cluster snapshot: the lists health is computed from, fetched
//! concurrently. What the user may not read becomes a finding
//! ("forbidden: list nodes"); the rest still counts.

use futures::future::join5;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::ListParams;
use kube::{Api, Client};
use serde::de::DeserializeOwned;

use super::live::Trim;
use super::model::{Finding, Severity};
use crate::connectors::kube::classify;
use crate::error::Error;

/// The objects a health verdict is computed from.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub nodes: Vec<Node>,
    pub system_pods: Vec<Pod>,
    pub deployments: Vec<Deployment>,
    pub statefulsets: Vec<StatefulSet>,
    pub daemonsets: Vec<DaemonSet>,
    /// Warning events, newest first.
    pub warnings: Vec<Event>,
    /// Lists that could not be read (forbidden, failed).
    pub gaps: Vec<Finding>,
}

/// Lists without which there is no verdict: a cluster whose nodes and
/// system pods cannot be seen is not healthy, it is unassessed (a token that
/// may not list them would otherwise pass a gate as HEALTHY with 0/0 nodes).
const ESSENTIAL: &[&str] = &["nodes", "pods in kube-system"];

/// The finding for a list this identity may not read: Info for the optional
/// ones, Warning (so the verdict is not Healthy) for the essential ones.
pub(crate) fn forbidden_gap(what: &str) -> Finding {
    let (severity, message) = if ESSENTIAL.contains(&what) {
        (
            Severity::Warning,
            format!(
                "forbidden: list {what} — health cannot be assessed without it; grant this identity list on {what} (e.g. the view ClusterRole plus nodes)"
            ),
        )
    } else {
        (Severity::Info, format!("forbidden: list {what}"))
    };
    Finding { severity, kind: "forbidden".into(), object: what.into(), message }
}

/// Objects per page of the one-shot lists (kubectl's `--chunk-size`
/// default): each page is trimmed to what the verdict reads as it arrives,
/// so memory is bounded by a page of whole objects plus the trimmed rest,
/// not by the cluster (2,000 nodes, 3,000 system pods; BENCHMARKS.md).
pub const PAGE: u32 = 500;

/// What a list does when the API server says its continue token has
/// expired (410 Gone: etcd compacted the revision the list started at).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnExpired {
    /// List again from the first page: a new, consistent snapshot.
    Restart,
    /// One unpaged list (client-go's pager does this at once): consistent,
    /// but not bounded by a page.
    Unpaged,
}

/// Restarts of a paged list whose continue token expired, before one unpaged list.
const RESTARTS: u32 = 1;

/// Expiry is a compaction that fell between two pages; a fresh start is
/// usually enough, and a list that keeps outliving compactions is read in one go.
fn on_expired(restarts: u32) -> OnExpired {
    if restarts < RESTARTS {
        OnExpired::Restart
    } else {
        OnExpired::Unpaged
    }
}

/// Is this the API server saying a continue token has expired?
fn expired(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 410)
}

/// Lists every object, `page` at a time (0: one unpaged list), each trimmed
/// as its page arrives. A page that fails ends the list with that error; an
/// expired continue token falls back as [`on_expired`] says (never mixing
/// objects of two snapshots).
async fn paged<K>(api: &Api<K>, lp: &ListParams, page: u32) -> kube::Result<Vec<K>>
where
    K: kube::Resource + Trim + Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut limit = (page > 0).then_some(page);
    let mut restarts = 0;
    'list: loop {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let params = ListParams { limit, continue_token: token.take(), ..lp.clone() };
            let continuing = params.continue_token.is_some();
            match api.list(&params).await {
                Ok(list) => {
                    items.extend(list.items.into_iter().map(|mut k| {
                        k.trim();
                        k
                    }));
                    match list.metadata.continue_ {
                        Some(c) if !c.is_empty() && limit.is_some() => token = Some(c),
                        _ => return Ok(items),
                    }
                }
                Err(e) if continuing && expired(&e) => {
                    match on_expired(restarts) {
                        OnExpired::Restart => restarts += 1,
                        OnExpired::Unpaged => limit = None,
                    }
                    continue 'list;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

async fn list<K>(api: Api<K>, lp: ListParams, page: u32, what: &str, context: &str, gaps: &mut Vec<Finding>) -> Vec<K>
where
    K: kube::Resource + Trim + Clone + DeserializeOwned + std::fmt::Debug,
{
    match paged(&api, &lp, page).await {
        Ok(items) => items,
        Err(e) => {
            gaps.push(match classify(e, context) {
                Error::Forbidden(_) => forbidden_gap(what),
                other => Finding {
                    severity: Severity::Warning,
                    kind: "api".into(),
                    object: what.into(),
                    message: format!("cannot list {what}: {other}"),
                },
            });
            vec![]
        }
    }
}

/// Reads everything at once (six lists in parallel), [`PAGE`] objects a page.
pub async fn snapshot(client: &Client, context: &str) -> Snapshot {
    snapshot_paged(client, context, PAGE).await
}

/// [`snapshot`] with `page` objects a page (0: unpaged lists).
pub async fn snapshot_paged(client: &Client, context: &str, page: u32) -> Snapshot {
    let mut g = [vec![], vec![], vec![], vec![], vec![], vec![]];
    let [g0, g1, g2, g3, g4, g5] = &mut g;
    let ((nodes, system_pods, deployments, statefulsets, daemonsets), mut warnings) = futures::join!(
        join5(
            list(Api::<Node>::all(client.clone()), ListParams::default(), page, "nodes", context, g0),
            list(Api::<Pod>::namespaced(client.clone(), "kube-system"), ListParams::default(), page, "pods in kube-system", context, g1),
            list(Api::<Deployment>::all(client.clone()), ListParams::default(), page, "deployments", context, g2),
            list(Api::<StatefulSet>::all(client.clone()), ListParams::default(), page, "statefulsets", context, g3),
            list(Api::<DaemonSet>::all(client.clone()), ListParams::default(), page, "daemonsets", context, g4),
        ),
        list(Api::<Event>::all(client.clone()), ListParams::default().fields("type=Warning"), page, "events", context, g5),
    );
    warnings.sort_by_key(|e| std::cmp::Reverse(event_time(e)));
    Snapshot { nodes, system_pods, deployments, statefulsets, daemonsets, warnings, gaps: g.into_iter().flatten().collect() }
}

/// The most recent time an event was seen (seconds since the epoch).
pub fn event_time(e: &Event) -> i64 {
    e.last_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .or_else(|| e.event_time.as_ref().map(|t| t.0.as_second()))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0.as_second()))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An expired continue token restarts the list once from its first page,
    /// then reads it unpaged: never an endless loop, never two snapshots mixed.
    #[test]
    fn an_expired_continue_restarts_once_then_lists_unpaged() {
        assert_eq!(on_expired(0), OnExpired::Restart);
        assert_eq!(on_expired(1), OnExpired::Unpaged);
        assert_eq!(on_expired(7), OnExpired::Unpaged);
    }

    #[test]
    fn only_410_is_an_expired_continue() {
        let status =
            |code: u16, reason: &str| kube::Error::Api(Box::new(kube::core::Status { code, reason: reason.into(), ..Default::default() }));
        assert!(expired(&status(410, "Expired")));
        assert!(!expired(&status(403, "Forbidden")));
        assert!(!expired(&status(500, "InternalError")));
    }
}

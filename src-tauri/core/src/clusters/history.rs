//! Cluster health history: every change of a cluster's verdict, with its
//! findings at that moment and the findings that appeared or cleared since
//! the previous change, kept in SQLite (migration 0007). Checks that keep the
//! verdict write nothing. Written by the app (the live view and checks) and by
//! `opsdeck health`; a cluster is its context name and API server URL, so the
//! app and the CLI watching the same cluster share one timeline.
//!
//! Retention is bounded: rows older than `OPSDECK_HEALTH_HISTORY_DAYS` (90)
//! and beyond `OPSDECK_HEALTH_HISTORY_MAX` (500) per cluster are pruned at
//! each write, except each cluster's newest row (its current verdict).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::model::{ClusterHealth, Finding, Verdict};
use crate::cache::db::Db;
use crate::error::{Error, Result};

/// One change of a cluster's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct HealthTransition {
    pub id: i64,
    pub context: String,
    /// The API server URL of the context ("" when the kubeconfig names none).
    pub server: String,
    /// When the new verdict was seen (RFC 3339).
    pub at: String,
    /// The previous verdict; none for the first verdict seen of this cluster.
    pub from: Option<Verdict>,
    pub to: Verdict,
    /// Who saw it: `live` (the app's live view), `check` (the app's check), `cli` (`opsdeck health`).
    pub source: String,
    /// The connection's name, or the kubeconfig file of a CLI run.
    pub origin: String,
    /// Every finding at that moment.
    pub findings: Vec<Finding>,
    /// Findings that were not there at the previous change.
    pub appeared: Vec<Finding>,
    /// Findings of the previous change that are gone.
    pub cleared: Vec<Finding>,
}

/// How much history is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub max_days: u32,
    pub max_per_cluster: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { max_days: 90, max_per_cluster: 500 }
    }
}

impl Retention {
    /// The defaults, overridden by `OPSDECK_HEALTH_HISTORY_DAYS` and
    /// `OPSDECK_HEALTH_HISTORY_MAX` (positive integers; other values are ignored).
    pub fn from_env() -> Retention {
        let d = Retention::default();
        let var = |k: &str| std::env::var(k).ok().and_then(|v| v.trim().parse::<u32>().ok()).filter(|v| *v > 0);
        Retention {
            max_days: var("OPSDECK_HEALTH_HISTORY_DAYS").unwrap_or(d.max_days),
            max_per_cluster: var("OPSDECK_HEALTH_HISTORY_MAX").unwrap_or(d.max_per_cluster),
        }
    }
}

/// Where a verdict was seen.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    pub server: &'a str,
    pub source: &'a str,
    pub origin: &'a str,
}

/// The API server URL of `context` in a kubeconfig ("" when it names none).
pub fn server_of(kc: &kube::config::Kubeconfig, context: &str) -> String {
    let cluster = kc.contexts.iter().find(|c| c.name == context).and_then(|c| c.context.as_ref()).map(|c| c.cluster.clone());
    cluster
        .and_then(|name| kc.clusters.iter().find(|c| c.name == name))
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.clone())
        .unwrap_or_default()
}

pub fn verdict_str(v: Verdict) -> &'static str {
    match v {
        Verdict::Healthy => "healthy",
        Verdict::Degraded => "degraded",
        Verdict::Unreachable => "unreachable",
    }
}

fn parse_verdict(s: &str) -> Option<Verdict> {
    match s {
        "healthy" => Some(Verdict::Healthy),
        "degraded" => Some(Verdict::Degraded),
        "unreachable" => Some(Verdict::Unreachable),
        _ => None,
    }
}

/// What makes two findings the same one across checks: its kind, object and
/// message with numbers left out ("restarted 6 times" and "restarted 7 times"
/// are one finding that is still there).
fn identity(f: &Finding) -> String {
    let mut msg = String::with_capacity(f.message.len());
    let mut in_digits = false;
    for ch in f.message.chars() {
        if ch.is_ascii_digit() {
            if !in_digits {
                msg.push('#');
            }
            in_digits = true;
        } else {
            msg.push(ch);
            in_digits = false;
        }
    }
    format!("{}\u{1f}{}\u{1f}{msg}", f.kind, f.object)
}

/// Findings of `now` not in `before` (appeared), and of `before` not in `now` (cleared).
pub fn diff(before: &[Finding], now: &[Finding]) -> (Vec<Finding>, Vec<Finding>) {
    let b: BTreeSet<String> = before.iter().map(identity).collect();
    let n: BTreeSet<String> = now.iter().map(identity).collect();
    let appeared = now.iter().filter(|f| !b.contains(&identity(f))).cloned().collect();
    let cleared = before.iter().filter(|f| !n.contains(&identity(f))).cloned().collect();
    (appeared, cleared)
}

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

fn ms_of(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::Internal(format!("cannot serialise the health history: {e}")))
}

type Row = (i64, String, String, String, Option<String>, String, String, String, String, String, String);

fn from_row(r: Row) -> HealthTransition {
    let list = |s: &str| serde_json::from_str::<Vec<Finding>>(s).unwrap_or_default();
    HealthTransition {
        id: r.0,
        context: r.1,
        server: r.2,
        at: r.3,
        from: r.4.as_deref().and_then(parse_verdict),
        to: parse_verdict(&r.5).unwrap_or(Verdict::Degraded),
        source: r.6,
        origin: r.7,
        findings: list(&r.8),
        appeared: list(&r.9),
        cleared: list(&r.10),
    }
}

/// Records `h` when its verdict differs from the cluster's last recorded one
/// (or none is recorded): returns the new row, or none when nothing changed.
/// Safe against concurrent writers (the app and a CLI run, two live
/// updates): a row is only added on top of the row it was compared with.
pub async fn record(db: &Db, seen: Seen<'_>, h: &ClusterHealth, retention: Retention) -> Result<Option<HealthTransition>> {
    let at_ms = ms_of(&h.checked_at).unwrap_or_else(now_ms);
    for _ in 0..8 {
        let last: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT id, to_verdict, findings_json FROM cluster_health_history WHERE context = ? AND server = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(&h.context)
        .bind(seen.server)
        .fetch_optional(db.pool())
        .await?;
        let (prev_id, from, before) = match &last {
            Some((id, v, f)) => (Some(*id), parse_verdict(v), serde_json::from_str::<Vec<Finding>>(f).unwrap_or_default()),
            None => (None, None, vec![]),
        };
        if last.is_some() && from == Some(h.verdict) {
            return Ok(None);
        }
        let (appeared, cleared) = diff(&before, &h.findings);
        // One statement: inserted only if the cluster's newest row is still `prev_id`.
        let done = sqlx::query(
            "INSERT INTO cluster_health_history
               (context, server, at, at_ms, from_verdict, to_verdict, source, origin, findings_json, appeared_json, cleared_json)
             SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
             WHERE (SELECT MAX(id) FROM cluster_health_history WHERE context = ? AND server = ?) IS ?",
        )
        .bind(&h.context)
        .bind(seen.server)
        .bind(&h.checked_at)
        .bind(at_ms)
        .bind(from.map(verdict_str))
        .bind(verdict_str(h.verdict))
        .bind(seen.source)
        .bind(seen.origin)
        .bind(to_json(&h.findings)?)
        .bind(to_json(&appeared)?)
        .bind(to_json(&cleared)?)
        .bind(&h.context)
        .bind(seen.server)
        .bind(prev_id)
        .execute(db.pool())
        .await?;
        if done.rows_affected() == 1 {
            let id = done.last_insert_rowid();
            prune(db, &h.context, seen.server, retention).await?;
            return Ok(Some(HealthTransition {
                id,
                context: h.context.clone(),
                server: seen.server.to_string(),
                at: h.checked_at.clone(),
                from,
                to: h.verdict,
                source: seen.source.to_string(),
                origin: seen.origin.to_string(),
                findings: h.findings.clone(),
                appeared,
                cleared,
            }));
        }
        // Another writer added a row in between: compare with that one.
    }
    Err(Error::Storage(format!("cluster \"{}\": the health history kept changing under this write; try again", h.context)))
}

/// Drops a cluster's rows beyond the retention, never its newest row.
pub async fn prune(db: &Db, context: &str, server: &str, retention: Retention) -> Result<u64> {
    let cutoff = now_ms() - i64::from(retention.max_days) * 86_400_000;
    let old = sqlx::query(
        "DELETE FROM cluster_health_history WHERE context = ? AND server = ? AND at_ms < ?
           AND id < (SELECT MAX(id) FROM cluster_health_history WHERE context = ? AND server = ?)",
    )
    .bind(context)
    .bind(server)
    .bind(cutoff)
    .bind(context)
    .bind(server)
    .execute(db.pool())
    .await?;
    let many = sqlx::query(
        "DELETE FROM cluster_health_history WHERE context = ? AND server = ? AND id NOT IN
           (SELECT id FROM cluster_health_history WHERE context = ? AND server = ? ORDER BY id DESC LIMIT ?)",
    )
    .bind(context)
    .bind(server)
    .bind(context)
    .bind(server)
    .bind(i64::from(retention.max_per_cluster.max(1)))
    .execute(db.pool())
    .await?;
    Ok(old.rows_affected() + many.rows_affected())
}

/// Which history to read.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    /// Only these contexts (none: every context).
    pub contexts: Vec<String>,
    /// Only clusters with this API server URL.
    pub server: Option<String>,
    /// Only changes at or after this time (Unix milliseconds).
    pub since_ms: Option<i64>,
    /// At most this many rows (newest kept).
    pub limit: u32,
}

/// Changes matching `q`, newest first.
pub async fn list(db: &Db, q: &HistoryQuery) -> Result<Vec<HealthTransition>> {
    let contexts = to_json(&q.contexts)?;
    let limit = if q.limit == 0 { 1000 } else { q.limit.min(10_000) };
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, context, server, at, from_verdict, to_verdict, source, origin, findings_json, appeared_json, cleared_json
         FROM cluster_health_history
         WHERE at_ms >= ? AND (? = '[]' OR context IN (SELECT value FROM json_each(?))) AND (? IS NULL OR server = ?)
         ORDER BY at_ms DESC, id DESC LIMIT ?",
    )
    .bind(q.since_ms.unwrap_or(i64::MIN))
    .bind(&contexts)
    .bind(&contexts)
    .bind(&q.server)
    .bind(&q.server)
    .bind(i64::from(limit))
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// `--since`: an RFC 3339 time, or an age such as `30m`, `24h`, `7d`, `2w`;
/// returns Unix milliseconds.
pub fn parse_since(s: &str) -> Result<i64> {
    let s = s.trim();
    if let Some(ms) = ms_of(s) {
        return Ok(ms);
    }
    let bad = || Error::invalid(format!("since \"{s}\": give an RFC 3339 time (2026-12-01T00:00:00Z) or an age such as 30m, 24h, 7d, 2w"));
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let unit_ms: i64 = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return Err(bad()),
    };
    Ok(now_ms() - n.checked_mul(unit_ms).ok_or_else(bad)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clusters::{NodeSummary, Severity};

    fn finding(object: &str, message: &str) -> Finding {
        Finding { severity: Severity::Warning, kind: "node".into(), object: object.into(), message: message.into() }
    }

    fn health(context: &str, verdict: Verdict, findings: Vec<Finding>) -> ClusterHealth {
        ClusterHealth {
            context: context.into(),
            verdict,
            version: None,
            latency_ms: None,
            nodes: NodeSummary::default(),
            findings,
            checked_at: crate::cache::db::now_rfc3339(),
            insecure_tls: false,
            error_code: None,
        }
    }

    const SEEN: Seen<'static> = Seen { server: "https://a:6443", source: "cli", origin: "test" };

    #[tokio::test]
    async fn only_changes_are_recorded_with_their_findings_diff() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("h.db")).await.unwrap();
        let r = Retention::default();
        let first = record(&db, SEEN, &health("prod", Verdict::Healthy, vec![]), r).await.unwrap().unwrap();
        assert_eq!(first.from, None);
        assert!(record(&db, SEEN, &health("prod", Verdict::Healthy, vec![]), r).await.unwrap().is_none());
        let bad = vec![finding("node/n1", "node n1 is NotReady"), finding("pod/p", "restarted 6 times")];
        let t = record(&db, SEEN, &health("prod", Verdict::Degraded, bad), r).await.unwrap().unwrap();
        assert_eq!((t.from, t.to), (Some(Verdict::Healthy), Verdict::Degraded));
        assert_eq!(t.appeared.len(), 2);
        let still = vec![finding("pod/p", "restarted 9 times")];
        assert!(record(&db, SEEN, &health("prod", Verdict::Degraded, still.clone()), r).await.unwrap().is_none());
        let back = record(&db, SEEN, &health("prod", Verdict::Healthy, vec![]), r).await.unwrap().unwrap();
        assert_eq!(back.cleared.len(), 2, "against the previous change: {back:?}");
        // Another server with the same context name is another cluster.
        let other = Seen { server: "https://b:6443", ..SEEN };
        assert!(record(&db, other, &health("prod", Verdict::Healthy, vec![]), r).await.unwrap().is_some());
        let all = list(&db, &HistoryQuery { contexts: vec!["prod".into()], ..Default::default() }).await.unwrap();
        assert_eq!(all.len(), 4);
        let a = list(&db, &HistoryQuery { server: Some("https://a:6443".into()), ..Default::default() }).await.unwrap();
        assert_eq!(a.iter().map(|t| t.to).collect::<Vec<_>>(), vec![Verdict::Healthy, Verdict::Degraded, Verdict::Healthy]);
    }

    #[tokio::test]
    async fn retention_keeps_the_newest_rows_and_the_current_verdict() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("h.db")).await.unwrap();
        let r = Retention { max_days: 90, max_per_cluster: 3 };
        for i in 0..6 {
            let v = if i % 2 == 0 { Verdict::Healthy } else { Verdict::Degraded };
            record(&db, SEEN, &health("c", v, vec![]), r).await.unwrap().unwrap();
        }
        let rows = list(&db, &HistoryQuery::default()).await.unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].to, Verdict::Degraded, "newest kept");
        // Age: everything is older than a 90-day cutoff moved into the future, but the newest row stays.
        sqlx::query("UPDATE cluster_health_history SET at_ms = at_ms - 100 * 86400000").execute(db.pool()).await.unwrap();
        prune(&db, "c", SEEN.server, r).await.unwrap();
        let rows = list(&db, &HistoryQuery::default()).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert!(record(&db, SEEN, &health("c", Verdict::Degraded, vec![]), r).await.unwrap().is_none(), "still known: no new row");
    }

    #[tokio::test]
    async fn concurrent_writers_add_one_row_per_change() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("h.db")).await.unwrap();
        let runs = (0..8).map(|_| {
            let db = db.clone();
            async move { record(&db, SEEN, &health("c", Verdict::Degraded, vec![]), Retention::default()).await.unwrap() }
        });
        let got = futures::future::join_all(runs).await;
        assert_eq!(got.iter().filter(|g| g.is_some()).count(), 1, "{got:?}");
    }

    #[test]
    fn since_accepts_times_and_ages() {
        assert_eq!(parse_since("2026-12-01T00:00:00Z").unwrap(), 1_796_083_200_000);
        let day = parse_since("1d").unwrap();
        assert!((now_ms() - day - 86_400_000).abs() < 5_000);
        for bad in ["", "yesterday", "5y", "d"] {
            assert!(parse_since(bad).is_err(), "{bad}");
        }
    }
}

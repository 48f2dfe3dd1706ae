//! Fleet scans: many images, a bounded number at once. Layers are shared
//! through the layer cache, and a layer one scan is reading is waited for by
//! another that needs it rather than read twice (see `input::read_blob_layers`).
//! [`latest`] lists every scanned image's newest decision (the app's Fleet view).

use std::future::Future;

use futures::stream::{self, StreamExt};
use serde::Serialize;

use super::policy::{Counts, Decision};
use crate::cache::db::Db;
use crate::error::Result;

/// Runs `tasks`, at most `jobs` at once; the results in the order given.
pub async fn bounded<F: Future>(tasks: Vec<F>, jobs: usize) -> Vec<F::Output> {
    stream::iter(tasks).buffered(jobs.max(1)).collect().await
}

/// One image of the fleet: its newest scan (or re-match).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct FleetImage {
    /// The history entry (opens the report).
    pub scan_id: i64,
    pub connection_id: Option<String>,
    pub image: String,
    pub image_id: String,
    pub tags: Vec<String>,
    pub decision: Decision,
    /// The scan could not assess the image (shown as NOT ASSESSED).
    pub not_assessed: bool,
    pub counts: Counts,
    /// Findings hidden by a live suppression, and suppressions that expired.
    pub suppressed: u32,
    pub expired_suppressions: u32,
    pub scanned_at: String,
    /// The newest advisory record's time when it was matched (`None`: none loaded, or scanned before this was kept).
    pub advisories_as_of: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    connection_id: Option<String>,
    image: String,
    image_id: String,
    scanned_at: String,
    decision: String,
    tags: Option<String>,
    outcome: Option<String>,
    critical: i64,
    high: i64,
    medium: i64,
    low: i64,
    unknown: i64,
    suppressed: i64,
    expired: i64,
    advisories_as_of: Option<String>,
}

/// The newest history entry of every scanned image, by image name; read
/// from the stored reports' JSON without loading them whole.
pub async fn latest(db: &Db) -> Result<Vec<FleetImage>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, connection_id, image, image_id, scanned_at, decision,
                json_extract(report_json, '$.repo_tags') AS tags,
                json_extract(report_json, '$.outcome') AS outcome,
                COALESCE(json_extract(report_json, '$.counts.critical'), 0) AS critical,
                COALESCE(json_extract(report_json, '$.counts.high'), 0) AS high,
                COALESCE(json_extract(report_json, '$.counts.medium'), 0) AS medium,
                COALESCE(json_extract(report_json, '$.counts.low'), 0) AS low,
                COALESCE(json_extract(report_json, '$.counts.unknown'), 0) AS unknown,
                COALESCE(json_array_length(report_json, '$.suppressed'), 0) AS suppressed,
                COALESCE(json_array_length(report_json, '$.expired_suppressions'), 0) AS expired,
                json_extract(report_json, '$.advisories_as_of') AS advisories_as_of
         FROM image_scans s
         WHERE id = (SELECT MAX(id) FROM image_scans t WHERE t.image_id = s.image_id)
         ORDER BY image, image_id",
    )
    .fetch_all(db.pool())
    .await?;
    let n = |v: i64| u32::try_from(v).unwrap_or(0);
    Ok(rows
        .into_iter()
        .map(|r| FleetImage {
            scan_id: r.id,
            connection_id: r.connection_id,
            tags: r.tags.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default(),
            decision: match r.decision.as_str() {
                "BLOCK" => Decision::Block,
                "ALLOW" => Decision::Allow,
                _ => Decision::Warn,
            },
            not_assessed: r.outcome.as_deref() == Some("not_assessed"),
            counts: Counts { critical: n(r.critical), high: n(r.high), medium: n(r.medium), low: n(r.low), unknown: n(r.unknown) },
            suppressed: n(r.suppressed),
            expired_suppressions: n(r.expired),
            scanned_at: r.scanned_at,
            advisories_as_of: r.advisories_as_of,
            image: r.image,
            image_id: r.image_id,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn at_most_jobs_run_at_once_and_order_is_kept() {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let (running, peak) = (&running, &peak);
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                }
            })
            .collect();
        assert_eq!(bounded(tasks, 3).await, (0..10).collect::<Vec<_>>());
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn latest_lists_each_images_newest_entry_from_its_json() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("f.db")).await.unwrap();
        let insert = |image: &'static str, id: &'static str, decision: &'static str, json: &'static str| {
            let db = db.clone();
            async move {
                sqlx::query(
                    "INSERT INTO image_scans (connection_id, image, image_id, scanned_at, decision, risk_score, report_json)
                     VALUES (NULL, ?, ?, '2026-12-05T00:00:00Z', ?, 0, ?)",
                )
                .bind(image)
                .bind(id)
                .bind(decision)
                .bind(json)
                .execute(db.pool())
                .await
                .unwrap();
            }
        };
        insert("b:1", "sha256:b", "ALLOW", r#"{"repo_tags":["b:1"]}"#).await;
        insert(
            "a:1",
            "sha256:a",
            "WARN",
            r#"{"repo_tags":["a:1"],"outcome":"assessed","counts":{"critical":0,"high":1,"medium":0,"low":0,"unknown":0}}"#,
        )
        .await;
        insert(
            "a:1",
            "sha256:a",
            "BLOCK",
            r#"{"repo_tags":["a:1","a:latest"],"outcome":"not_assessed","counts":{"critical":2,"high":1,"medium":3,"low":4,"unknown":5},
               "suppressed":[{},{}],"expired_suppressions":[{}],"advisories_as_of":"2026-12-01T00:00:00Z"}"#,
        )
        .await;
        let fleet = latest(&db).await.unwrap();
        assert_eq!(fleet.len(), 2);
        let a = &fleet[0];
        assert_eq!((a.image.as_str(), a.decision, a.not_assessed), ("a:1", Decision::Block, true));
        assert_eq!(a.tags, ["a:1", "a:latest"]);
        assert_eq!(a.counts, Counts { critical: 2, high: 1, medium: 3, low: 4, unknown: 5 });
        assert_eq!((a.suppressed, a.expired_suppressions), (2, 1));
        assert_eq!(a.advisories_as_of.as_deref(), Some("2026-12-01T00:00:00Z"));
        let b = &fleet[1];
        assert_eq!((b.image.as_str(), b.decision, b.not_assessed, b.counts), ("b:1", Decision::Allow, false, Counts::default()));
        assert_eq!(b.advisories_as_of, None);
    }
}

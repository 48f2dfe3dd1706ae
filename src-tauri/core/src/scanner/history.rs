//! Scan history in SQLite: every report kept whole, listed newest first.

use serde::Serialize;

use super::scan::ScanReport;
use crate::cache::db::Db;
use crate::error::{Error, Result};

/// A line of the history list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, specta::Type)]
pub struct ScanSummary {
    pub id: i64,
    pub connection_id: Option<String>,
    pub image: String,
    pub image_id: String,
    pub scanned_at: String,
    /// As stored: the text of a [`Decision`](crate::scanner::policy::Decision).
    #[specta(type = crate::scanner::policy::Decision)]
    pub decision: String,
    pub risk_score: i64,
}

pub async fn save(db: &Db, connection_id: Option<&str>, report: &ScanReport) -> Result<i64> {
    let json = serde_json::to_string(report).map_err(|e| Error::Internal(format!("cannot serialise the scan report: {e}")))?;
    let id = sqlx::query_scalar(
        "INSERT INTO image_scans (connection_id, image, image_id, scanned_at, decision, risk_score, report_json)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(connection_id)
    .bind(&report.image)
    .bind(&report.image_id)
    .bind(&report.scanned_at)
    .bind(report.assessment.verdict.decision.as_str())
    .bind(i64::from(report.assessment.verdict.risk_score))
    .bind(json)
    .fetch_one(db.pool())
    .await?;
    Ok(id)
}

/// Newest first; `image_id` narrows to one image.
pub async fn list(db: &Db, image_id: Option<&str>, limit: i64) -> Result<Vec<ScanSummary>> {
    Ok(sqlx::query_as(
        "SELECT id, connection_id, image, image_id, scanned_at, decision, risk_score FROM image_scans
         WHERE (?1 IS NULL OR image_id = ?1) ORDER BY scanned_at DESC, id DESC LIMIT ?2",
    )
    .bind(image_id)
    .bind(limit.clamp(1, 10_000))
    .fetch_all(db.pool())
    .await?)
}

pub async fn get(db: &Db, id: i64) -> Result<ScanReport> {
    let json: Option<String> =
        sqlx::query_scalar("SELECT report_json FROM image_scans WHERE id = ?").bind(id).fetch_optional(db.pool()).await?;
    let json = json.ok_or_else(|| Error::NotFound(format!("no scan #{id} in the history")))?;
    serde_json::from_str(&json).map_err(|e| Error::Storage(format!("scan #{id} no longer reads: {e}")))
}

/// The newest report of every image scanned on `connection_id` (or all).
pub async fn latest_per_image(db: &Db) -> Result<Vec<(Option<String>, ScanReport)>> {
    let rows: Vec<(Option<String>, String)> = sqlx::query_as(
        "SELECT connection_id, report_json FROM image_scans s
         WHERE id = (SELECT MAX(id) FROM image_scans t WHERE t.image_id = s.image_id)",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().filter_map(|(c, json)| serde_json::from_str(&json).ok().map(|r| (c, r))).collect())
}

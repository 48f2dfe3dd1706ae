//! Advisory tables (migration 0002): records replaced by id when the
//! incoming one is at least as new, affected entries indexed by
//! (family, package).

use serde::{Deserialize, Serialize};
use sqlx::{Sqlite, Transaction};

use super::distro::{self, DistroNote};
use super::ecosystem::{self, Family};
use super::osv::{severity_of, Event, Record, Severity};
use crate::cache::db::{now_rfc3339, Db};
use crate::error::Result;

/// A record reduced to what matching needs.
#[derive(Debug, Clone)]
pub struct Normalized {
    pub id: String,
    pub modified: String,
    pub aliases: Vec<String>,
    pub summary: String,
    pub severity: Severity,
    pub affected: Vec<AffectedRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AffectedRow {
    pub family: Family,
    pub release: String,
    pub package: String,
    /// ECOSYSTEM ranges, each its events in order.
    pub ranges: Vec<Vec<Event>>,
    pub versions: Vec<String>,
    /// The distribution's own severity and fix word for this entry.
    #[serde(default)]
    pub note: DistroNote,
}

/// Keeps the entries of families Opsdeck matches; `None` when there are none.
pub fn normalize(record: Record) -> Option<Normalized> {
    let affected: Vec<AffectedRow> = record
        .affected
        .iter()
        .filter_map(|a| {
            let p = a.package.as_ref()?;
            let eco = ecosystem::parse(&p.ecosystem)?;
            let ranges = a.ranges.iter().filter(|r| r.kind == "ECOSYSTEM" || r.kind == "SEMVER").map(|r| r.events.clone()).collect();
            let package = eco.family.package_key(&p.name);
            let note = distro::note_of(eco.family, &record, a);
            Some(AffectedRow { family: eco.family, release: eco.release, package, ranges, versions: a.versions.clone(), note })
        })
        .collect();
    if affected.is_empty() {
        return None;
    }
    let severity = severity_of(&record);
    let summary =
        if record.summary.is_empty() { record.details.lines().next().unwrap_or("").chars().take(300).collect() } else { record.summary };
    Some(Normalized { id: record.id, modified: record.modified, aliases: record.aliases, summary, severity, affected })
}

fn family_key(f: Family) -> String {
    format!("{f:?}")
}

/// Writes a batch in the transaction; returns how many were written (older
/// duplicates of stored records are left alone).
pub async fn upsert(tx: &mut Transaction<'_, Sqlite>, batch: &[Normalized]) -> Result<u64> {
    let mut written = 0;
    for n in batch {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT modified FROM advisories WHERE id = ?").bind(&n.id).fetch_optional(&mut **tx).await?;
        if stored.as_deref().is_some_and(|m| m > n.modified.as_str()) {
            continue;
        }
        sqlx::query("DELETE FROM advisory_affected WHERE advisory_id = ?").bind(&n.id).execute(&mut **tx).await?;
        sqlx::query("INSERT OR REPLACE INTO advisories (id, modified, aliases_json, summary, severity) VALUES (?, ?, ?, ?, ?)")
            .bind(&n.id)
            .bind(&n.modified)
            .bind(serde_json::to_string(&n.aliases).unwrap_or_else(|_| "[]".into()))
            .bind(&n.summary)
            .bind(n.severity.as_str())
            .execute(&mut **tx)
            .await?;
        for a in &n.affected {
            sqlx::query("INSERT INTO advisory_affected (advisory_id, family, release, package, ranges_json, versions_json, distro_json) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(&n.id)
                .bind(family_key(a.family))
                .bind(&a.release)
                .bind(&a.package)
                .bind(serde_json::to_string(&a.ranges).unwrap_or_else(|_| "[]".into()))
                .bind(serde_json::to_string(&a.versions).unwrap_or_else(|_| "[]".into()))
                .bind(serde_json::to_string(&a.note).unwrap_or_else(|_| "{}".into()))
                .execute(&mut **tx)
                .await?;
        }
        written += 1;
    }
    Ok(written)
}

/// An affected entry with its advisory, as matching reads it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: String,
    pub severity: Severity,
    pub release: String,
    pub ranges: Vec<Vec<Event>>,
    pub versions: Vec<String>,
    pub note: DistroNote,
}

/// id, aliases, summary, severity, release, ranges, versions, distro note (JSON columns as text).
type CandidateRow = (String, String, String, String, String, String, String, String);

/// Entries for `package` in `family` (all releases; the caller filters).
pub async fn candidates(db: &Db, family: Family, package: &str) -> Result<Vec<Candidate>> {
    let rows: Vec<CandidateRow> = sqlx::query_as(
        "SELECT a.id, a.aliases_json, a.summary, a.severity, f.release, f.ranges_json, f.versions_json, f.distro_json
         FROM advisory_affected f JOIN advisories a ON a.id = f.advisory_id
         WHERE f.family = ? AND f.package = ?",
    )
    .bind(family_key(family))
    .bind(package)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, aliases, summary, severity, release, ranges, versions, note)| Candidate {
            id,
            aliases: serde_json::from_str(&aliases).unwrap_or_default(),
            summary,
            severity: Severity::parse(&severity),
            release,
            ranges: serde_json::from_str(&ranges).unwrap_or_default(),
            versions: serde_json::from_str(&versions).unwrap_or_default(),
            note: serde_json::from_str(&note).unwrap_or_default(),
        })
        .collect())
}

/// The newest import, for "advisories imported 2 h ago: 123,456 records".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, specta::Type)]
pub struct ImportInfo {
    pub at: String,
    pub source: String,
    pub records: i64,
    pub total: i64,
}

pub async fn record_import(db: &Db, source: &str, records: u64, skipped: u64, malformed: usize) -> Result<()> {
    sqlx::query("INSERT INTO advisory_imports (at, source, records, skipped, malformed) VALUES (?, ?, ?, ?, ?)")
        .bind(now_rfc3339())
        .bind(source)
        .bind(records as i64)
        .bind(skipped as i64)
        .bind(malformed as i64)
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn last_import(db: &Db) -> Result<Option<ImportInfo>> {
    Ok(sqlx::query_as(
        "SELECT at, source, records, (SELECT COUNT(*) FROM advisories) AS total FROM advisory_imports ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(db.pool())
    .await?)
}

/// Whether any advisory is stored for `family` in `release` (or for all its releases).
pub async fn has_ecosystem(db: &Db, family: Family, release: &str) -> Result<bool> {
    Ok(sqlx::query_scalar("SELECT EXISTS(SELECT 1 FROM advisory_affected WHERE family = ? AND (release = '' OR release = ?))")
        .bind(family_key(family))
        .bind(release)
        .fetch_one(db.pool())
        .await?)
}

/// The newest `modified` of the stored records: how current the advisory data is.
pub async fn newest_modified(db: &Db) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT MAX(modified) FROM advisories").fetch_one(db.pool()).await?)
}

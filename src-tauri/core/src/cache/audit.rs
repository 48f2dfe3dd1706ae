//! The append-only audit log: who did what, where, when, and how it went.
//! The table refuses UPDATE and DELETE (triggers in the migration).

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::db::{now_rfc3339, Db};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    /// `vsphere`, `docker`, `kubernetes`, `etcd` or `app`.
    pub platform: String,
    pub target: String,
    pub action: String,
    /// `ok` or `error`.
    pub result: String,
    pub detail: String,
}

/// A new entry; `at` and `id` are assigned when it is written.
#[derive(Debug, Clone)]
pub struct NewAuditEntry<'a> {
    pub actor: &'a str,
    pub platform: &'a str,
    pub target: &'a str,
    pub action: &'a str,
    pub ok: bool,
    pub detail: &'a str,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditFilter {
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub result: Option<String>,
    /// Substring matched against target, action, actor and detail.
    #[serde(default)]
    pub text: Option<String>,
    /// Exact target (a key, a connection name).
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default = "default_limit")]
    pub limit: u32,
    #[serde(default)]
    pub offset: u32,
}

fn default_limit() -> u32 {
    100
}

pub const AUDIT_PAGE_MAX: u32 = 1000;

#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub total: i64,
}

pub async fn append(db: &Db, e: NewAuditEntry<'_>) -> Result<i64> {
    let id = sqlx::query(
        "INSERT INTO audit_log (at, actor, platform, target, action, result, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(now_rfc3339())
    .bind(e.actor)
    .bind(e.platform)
    .bind(e.target)
    .bind(e.action)
    .bind(if e.ok { "ok" } else { "error" })
    .bind(e.detail)
    .execute(db.pool())
    .await?
    .last_insert_rowid();
    Ok(id)
}

/// Filter shared by the count and the page query: ?1 platform, ?2 result, ?3 LIKE pattern.
macro_rules! audit_where {
    () => {
        "WHERE (?1 IS NULL OR platform = ?1) AND (?2 IS NULL OR result = ?2) AND (?6 IS NULL OR target = ?6)
           AND (?3 IS NULL OR target LIKE ?3 ESCAPE '\\' OR action LIKE ?3 ESCAPE '\\'
                OR actor LIKE ?3 ESCAPE '\\' OR detail LIKE ?3 ESCAPE '\\')"
    };
}

pub async fn list(db: &Db, filter: &AuditFilter) -> Result<AuditPage> {
    if filter.limit == 0 || filter.limit > AUDIT_PAGE_MAX {
        return Err(Error::invalid(format!("limit: 1..={AUDIT_PAGE_MAX}")));
    }
    if let Some(r) = &filter.result {
        if r != "ok" && r != "error" {
            return Err(Error::invalid("result: \"ok\" or \"error\""));
        }
    }
    let text = filter.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let pattern = text.map(|t| {
        format!("%{}%", t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
    });
    let total: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*) FROM audit_log ", audit_where!()))
        .bind(&filter.platform)
        .bind(&filter.result)
        .bind(&pattern)
        .bind(None::<i64>)
        .bind(None::<i64>)
        .bind(&filter.target)
        .fetch_one(db.pool())
        .await?;
    let rows = sqlx::query(concat!(
        "SELECT id, at, actor, platform, target, action, result, detail FROM audit_log ",
        audit_where!(),
        " ORDER BY id DESC LIMIT ?4 OFFSET ?5"
    ))
    .bind(&filter.platform)
    .bind(&filter.result)
    .bind(&pattern)
    .bind(filter.limit as i64)
    .bind(filter.offset as i64)
    .bind(&filter.target)
    .fetch_all(db.pool())
    .await?;
    let entries = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.get(0),
            at: r.get(1),
            actor: r.get(2),
            platform: r.get(3),
            target: r.get(4),
            action: r.get(5),
            result: r.get(6),
            detail: r.get(7),
        })
        .collect();
    Ok(AuditPage { entries, total })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("a.db")).await.unwrap();
        (dir, db)
    }

    fn entry<'a>(platform: &'a str, action: &'a str, ok: bool) -> NewAuditEntry<'a> {
        NewAuditEntry { actor: "ops", platform, target: "t1", action, ok, detail: "100% done" }
    }

    #[tokio::test]
    async fn filters_page_and_order() {
        let (_d, db) = db().await;
        append(&db, entry("etcd", "connection.create", true)).await.unwrap();
        append(&db, entry("docker", "connection.test", false)).await.unwrap();
        append(&db, entry("etcd", "connection.test", true)).await.unwrap();

        let all = list(&db, &AuditFilter { limit: 10, ..Default::default() }).await.unwrap();
        assert_eq!(all.total, 3);
        assert_eq!(all.entries[0].action, "connection.test");
        assert_eq!(all.entries[0].platform, "etcd", "newest first");

        let etcd = AuditFilter { platform: Some("etcd".into()), limit: 1, ..Default::default() };
        let page = list(&db, &etcd).await.unwrap();
        assert_eq!((page.total, page.entries.len()), (2, 1));

        let errors = AuditFilter { result: Some("error".into()), limit: 10, ..Default::default() };
        assert_eq!(list(&db, &errors).await.unwrap().entries[0].platform, "docker");

        // LIKE wildcards in the search text are literal.
        let pct = AuditFilter { text: Some("100%".into()), limit: 10, ..Default::default() };
        assert_eq!(list(&db, &pct).await.unwrap().total, 3);
        let underscore = AuditFilter { text: Some("connection_".into()), limit: 10, ..Default::default() };
        assert_eq!(list(&db, &underscore).await.unwrap().total, 0);
    }

    #[tokio::test]
    async fn append_only() {
        let (_d, db) = db().await;
        append(&db, entry("etcd", "x", true)).await.unwrap();
        let upd = sqlx::query("UPDATE audit_log SET actor = 'mallory'").execute(db.pool()).await;
        assert!(upd.unwrap_err().to_string().contains("append-only"));
        let del = sqlx::query("DELETE FROM audit_log").execute(db.pool()).await;
        assert!(del.unwrap_err().to_string().contains("append-only"));
    }

    #[tokio::test]
    async fn rejects_bad_filters() {
        let (_d, db) = db().await;
        assert!(list(&db, &AuditFilter { limit: 0, ..Default::default() }).await.is_err());
        let bad = AuditFilter { result: Some("maybe".into()), limit: 5, ..Default::default() };
        assert!(list(&db, &bad).await.is_err());
    }
}

//! The append-only audit log: who did what, where, when, and how it went.
//! The table refuses UPDATE and DELETE (triggers in the migration), and each
//! entry is a link of a hash chain ([`crate::team::chain`]), so an entry
//! edited or removed by someone who dropped the triggers is found by
//! [`verify`]. Entries older than the chain (before migration 5) stay
//! outside it.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::db::{now_rfc3339, Db};
use crate::error::{Error, Result};
use crate::team::chain::{self, Break, ChainEntry};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
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

#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
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

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub total: i64,
}

pub async fn append(db: &Db, e: NewAuditEntry<'_>) -> Result<i64> {
    let mut tx = db.pool().begin().await?;
    // Moving the head first takes the write lock: appends are serialised.
    let (seq, prev): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash").fetch_one(&mut *tx).await?;
    let at = now_rfc3339();
    let result = if e.ok { "ok" } else { "error" };
    let link = ChainEntry::new(seq as u64, &prev, &at, e.actor, e.platform, e.target, e.action, result, e.detail);
    let id = sqlx::query(
        "INSERT INTO audit_log (at, actor, platform, target, action, result, detail, seq, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&at)
    .bind(e.actor)
    .bind(e.platform)
    .bind(e.target)
    .bind(e.action)
    .bind(result)
    .bind(e.detail)
    .bind(seq)
    .bind(&prev)
    .bind(&link.hash)
    .execute(&mut *tx)
    .await?
    .last_insert_rowid();
    sqlx::query("UPDATE audit_head SET hash = ? WHERE id = 1").bind(&link.hash).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(id)
}

/// Checks the local chain: every chained entry intact and in place, and the
/// head naming the newest. (Whoever owns the file can still cut the newest
/// entries and move the head back; the team trail on etcd is the copy they
/// cannot rewrite.)
pub async fn verify(db: &Db) -> Result<Vec<Break>> {
    let rows = sqlx::query("SELECT seq, prev_hash, hash, at, actor, platform, target, action, result, detail FROM audit_log WHERE seq IS NOT NULL OR hash IS NOT NULL ORDER BY seq")
        .fetch_all(db.pool())
        .await?;
    let entries: Vec<ChainEntry> = rows
        .into_iter()
        .map(|r| ChainEntry {
            seq: r.get::<Option<i64>, _>(0).unwrap_or(0) as u64,
            prev: r.get::<Option<String>, _>(1).unwrap_or_default(),
            hash: r.get::<Option<String>, _>(2).unwrap_or_default(),
            at: r.get(3),
            user: r.get(4),
            platform: r.get(5),
            target: r.get(6),
            action: r.get(7),
            result: r.get(8),
            detail: r.get(9),
        })
        .collect();
    let mut breaks = chain::verify(&entries);
    let (head_seq, head_hash): (i64, String) = sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(db.pool()).await?;
    let (last_seq, last_hash) = entries.last().map_or((0, chain::GENESIS.to_string()), |e| (e.seq, e.hash.clone()));
    if head_seq as u64 != last_seq || head_hash != last_hash {
        breaks.push(Break {
            seq: (head_seq as u64).max(last_seq),
            reason: format!("the log's head names entry {head_seq} but the newest entry is {last_seq}: entries at the end were removed"),
        });
    }
    Ok(breaks)
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
    let pattern = text.map(|t| format!("%{}%", t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
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
    async fn the_chain_finds_an_entry_edited_or_removed_with_the_triggers_dropped() {
        let (_d, db) = db().await;
        for i in 0..5 {
            append(&db, entry("etcd", &format!("config.put.{i}"), true)).await.unwrap();
        }
        assert!(verify(&db).await.unwrap().is_empty());
        // Someone with the file drops the triggers and edits an entry.
        sqlx::query("DROP TRIGGER audit_log_no_update").execute(db.pool()).await.unwrap();
        sqlx::query("DROP TRIGGER audit_log_no_delete").execute(db.pool()).await.unwrap();
        sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2").execute(db.pool()).await.unwrap();
        let b = verify(&db).await.unwrap();
        assert_eq!(b.iter().map(|b| b.seq).collect::<Vec<_>>(), [2], "{b:?}");
        sqlx::query("UPDATE audit_log SET actor = 'ops' WHERE seq = 2").execute(db.pool()).await.unwrap();
        assert!(verify(&db).await.unwrap().is_empty());
        // Removing one from the middle, or the newest, is found too.
        sqlx::query("DELETE FROM audit_log WHERE seq = 3").execute(db.pool()).await.unwrap();
        assert!(verify(&db).await.unwrap().iter().any(|b| b.reason == "entry 3 is missing"));
        sqlx::query("DELETE FROM audit_log WHERE seq = 5").execute(db.pool()).await.unwrap();
        assert!(verify(&db).await.unwrap().iter().any(|b| b.reason.contains("entries at the end were removed")));
    }

    #[tokio::test]
    async fn concurrent_appends_keep_one_chain() {
        let (_d, db) = db().await;
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    append(
                        &db,
                        NewAuditEntry { actor: "ops", platform: "etcd", target: "t", action: &format!("a{i}"), ok: true, detail: "" },
                    )
                    .await
                    .unwrap()
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert!(verify(&db).await.unwrap().is_empty());
        let (n,): (i64,) = sqlx::query_as("SELECT MAX(seq) FROM audit_log").fetch_one(db.pool()).await.unwrap();
        assert_eq!(n, 20);
    }

    #[tokio::test]
    async fn rejects_bad_filters() {
        let (_d, db) = db().await;
        assert!(list(&db, &AuditFilter { limit: 0, ..Default::default() }).await.is_err());
        let bad = AuditFilter { result: Some("maybe".into()), limit: 5, ..Default::default() };
        assert!(list(&db, &bad).await.is_err());
    }
}

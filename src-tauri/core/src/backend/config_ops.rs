//! The Config workspace's cluster view, prefix moves and bookmarks on the
//! backend: the cluster view reaches each member with the connection's TLS
//! and credentials; a move is audited per committed batch (`config.move`);
//! the backend quota of a connection and its bookmarks are settings rows
//! (`config.cluster.<connection id>`, `config.bookmarks.<connection id>`).

use serde::{Deserialize, Serialize};

use super::config::EtcdSession;
use super::Backend;
use crate::cache::settings::{load_json, store_json};
use crate::config::cluster::{self, ClusterView};
use crate::config::promote::{PromoteBatch, PromotePlan};
use crate::config::relocate::{self, MoveOutcome, MoveProgress};
use crate::connections::{ConnectionSpec, TlsFiles};
use crate::connectors::etcd::EtcdTarget;
use crate::error::{Error, Result};
use crate::secrets::Secret;

/// Most bookmarks per connection.
pub const MAX_BOOKMARKS: usize = 200;

/// The cluster settings of one etcd connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ClusterSettings {
    /// The members' `--quota-backend-bytes` (etcd before 3.6 does not
    /// report it); None: etcd's default, 2 GiB.
    #[specta(type = Option<f64>)]
    pub quota_backend_bytes: Option<u64>,
}

/// A bookmarked key or prefix of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Bookmark {
    /// The full key, or a prefix ending with "/".
    pub key: String,
    pub is_prefix: bool,
    pub added_at: String,
}

fn cluster_row(connection_id: &str) -> String {
    format!("config.cluster.{connection_id}")
}

fn bookmarks_row(connection_id: &str) -> String {
    format!("config.bookmarks.{connection_id}")
}

/// How to reach one etcd: what the cluster view opens a client per member with.
#[derive(Clone)]
pub struct EtcdReach {
    pub endpoints: Vec<String>,
    pub tls: Option<TlsFiles>,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

/// The cluster view of the etcd `reach` names (a saved connection's, or the
/// CLI's ad-hoc flags), comparing sizes with `quota` (None: etcd's default).
pub async fn cluster_view(reach: &EtcdReach, quota: Option<u64>) -> Result<ClusterView> {
    let target = EtcdTarget::new(&reach.endpoints, reach.tls.as_ref(), reach.username.as_deref(), reach.password.as_ref());
    let mut client =
        crate::error::with_timeout(format!("etcd at {}", reach.endpoints.join(",")), cluster::CALL_TIMEOUT * 2, target.connect()).await?;
    let owned = reach.clone();
    cluster::view(&mut client, quota, &reach.endpoints, move |url: String| {
        let reach = owned.clone();
        Box::pin(async move {
            let urls = [url];
            EtcdTarget::new(&urls, reach.tls.as_ref(), reach.username.as_deref(), reach.password.as_ref()).connect().await
        })
    })
    .await
}

impl Backend {
    /// How to reach the saved etcd connection `connection_id`.
    pub async fn etcd_reach(&self, connection_id: &str) -> Result<EtcdReach> {
        let stored = crate::connections::store::get(&self.db, connection_id).await?;
        let ConnectionSpec::Etcd { endpoints, tls, username, .. } = stored.connection.spec else {
            return Err(Error::invalid(format!("connection \"{}\" is not an etcd connection", stored.connection.name)));
        };
        let password = match &stored.secret_ref {
            Some(account) => self.keychain.get(account).await?,
            None => None,
        };
        Ok(EtcdReach { endpoints, tls, username, password })
    }

    /// The cluster view of a saved etcd connection; `quota` overrides the
    /// connection's quota setting for this call.
    pub async fn config_cluster(&self, connection_id: &str, quota: Option<u64>) -> Result<ClusterView> {
        let reach = self.etcd_reach(connection_id).await?;
        let quota = match quota {
            Some(q) => Some(q),
            None => self.config_cluster_settings(connection_id).await?.quota_backend_bytes,
        };
        cluster_view(&reach, quota).await
    }

    pub async fn config_cluster_settings(&self, connection_id: &str) -> Result<ClusterSettings> {
        Ok(load_json(&self.db, &cluster_row(connection_id)).await?.unwrap_or_default())
    }

    /// Saves the quota the cluster view compares with (a local setting, audited).
    pub async fn config_set_cluster_settings(&self, connection_id: &str, settings: &ClusterSettings) -> Result<()> {
        crate::connections::store::get(&self.db, connection_id).await?;
        if settings.quota_backend_bytes == Some(0) {
            return Err(Error::invalid("quota: more than 0 bytes, or none for etcd's default (2 GiB)"));
        }
        let r = store_json(&self.db, &cluster_row(connection_id), settings).await.map(|_| ());
        let what = match settings.quota_backend_bytes {
            Some(q) => format!("backend quota set to {q} bytes"),
            None => "backend quota reset to etcd's default (2 GiB)".into(),
        };
        match &r {
            Ok(()) => self.audit("etcd", connection_id, "config.cluster_quota", Ok(what)).await,
            Err(e) => self.audit("etcd", connection_id, "config.cluster_quota", Err(e)).await,
        }
        r
    }

    /// Plans moving `from` to `to` on this connection (reads only).
    pub async fn config_move_plan(&self, s: &EtcdSession, from: &str, to: &str) -> Result<PromotePlan> {
        let (mut client, _) = s.parts();
        relocate::plan(&mut client, &s.label, from, to).await
    }

    /// Applies a move plan, each committed batch audited as `config.move`
    /// (and the stop, when keys changed meanwhile). `Err` only when nothing
    /// was attempted.
    pub async fn config_move_apply(
        &self,
        s: &EtcdSession,
        plan: &PromotePlan,
        overwrite: bool,
        comment: &str,
        on_progress: impl Fn(&PromoteBatch, MoveProgress) + Send,
    ) -> Result<MoveOutcome> {
        let comment = comment.trim();
        if comment.len() > 1000 {
            return Err(Error::invalid("comment: at most 1000 characters"));
        }
        if plan.from.connection != s.label {
            return Err(Error::invalid(format!(
                "plan: made for connection \"{}\", not \"{}\"; plan the move again",
                plan.from.connection, s.label
            )));
        }
        let note = |what: String| {
            let mut d = format!("on {}: {what}", s.label);
            if !comment.is_empty() {
                d.push_str(&format!("; comment: {comment}"));
            }
            d
        };
        Box::pin(self.schema_check_items(s, &plan.to.prefix, plan.items.iter())).await?;
        let (mut client, _) = s.parts();
        // Each committed batch is audited as it lands (not when the run ends),
        // by a loop beside the apply that drains a channel.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(PromoteBatch, MoveProgress)>();
        let run = relocate::apply(&mut client, plan, overwrite, move |b, p| {
            on_progress(b, p);
            let _ = tx.send((b.clone(), p));
        });
        let audit_each = async {
            while let Some((b, p)) = rx.recv().await {
                let what = format!(
                    "moved {} to {}, batch {}/{}: {} keys ({} replaced an existing target) at revision {}{}; keys: {}",
                    plan.from.prefix,
                    plan.to.prefix,
                    p.batch,
                    p.batches,
                    b.keys.len(),
                    b.changes,
                    b.revision,
                    b.recovered.as_ref().map(|r| format!(" ({r})")).unwrap_or_default(),
                    b.keys.join(", ")
                );
                self.audit("etcd", &plan.from.prefix, "config.move", Ok(note(what))).await;
            }
        };
        let (outcome, ()) = tokio::join!(run, audit_each);
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                let what = note(format!("move of {} to {} refused: {e}", plan.from.prefix, plan.to.prefix));
                self.audit("etcd", &plan.from.prefix, "config.move", Err(&Error::invalid(what))).await;
                return Err(e);
            }
        };
        if let Some(e) = &outcome.error {
            let what = note(format!("{e}"));
            self.audit("etcd", &plan.from.prefix, "config.move", Err(&Error::Conflict(what))).await;
        }
        Ok(outcome)
    }

    /// The bookmarks of a connection, in the order they were added.
    pub async fn config_bookmarks(&self, connection_id: &str) -> Result<Vec<Bookmark>> {
        Ok(load_json(&self.db, &bookmarks_row(connection_id)).await?.unwrap_or_default())
    }

    /// Bookmarks a key (or a prefix ending with "/"); already there: unchanged.
    pub async fn config_bookmark_add(&self, connection_id: &str, key: &str) -> Result<Vec<Bookmark>> {
        crate::config::keys::check_key(key, "key")?;
        crate::connections::store::get(&self.db, connection_id).await?;
        let mut list = self.config_bookmarks(connection_id).await?;
        if !list.iter().any(|b| b.key == key) {
            if list.len() >= MAX_BOOKMARKS {
                return Err(Error::invalid(format!("at most {MAX_BOOKMARKS} bookmarks per connection: remove some first")));
            }
            list.push(Bookmark { key: key.into(), is_prefix: key.ends_with('/'), added_at: crate::cache::db::now_rfc3339() });
            store_json(&self.db, &bookmarks_row(connection_id), &list).await?;
            self.audit("etcd", key, "config.bookmark", Ok(format!("bookmarked on connection {connection_id}"))).await;
        }
        Ok(list)
    }

    pub async fn config_bookmark_remove(&self, connection_id: &str, key: &str) -> Result<Vec<Bookmark>> {
        let mut list = self.config_bookmarks(connection_id).await?;
        let before = list.len();
        list.retain(|b| b.key != key);
        if list.len() != before {
            store_json(&self.db, &bookmarks_row(connection_id), &list).await?;
            self.audit("etcd", key, "config.bookmark", Ok(format!("bookmark removed on connection {connection_id}"))).await;
        }
        Ok(list)
    }
}

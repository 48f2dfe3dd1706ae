//! JSON Schemas per config prefix on the backend: the schemas of a session
//! (the team store's, under its root, plus a command-line file), checked
//! before every write; setting and removing one is audited
//! (`config.schema.set`, `config.schema.remove`).

use etcd_client::{Compare, CompareOp, Txn, TxnOp};

use super::config::EtcdSession;
use super::Backend;
use crate::config::promote::PromoteItem;
use crate::config::schema::{self, Schema, SchemaInfo, SchemaSet};
use crate::error::{Error, Result};

impl EtcdSession {
    /// Adds a command-line schema (`--schema FILE`): every key this session
    /// writes must pass it, on top of the team store's. An invalid file is refused.
    pub fn with_schema_file(mut self, path: &str) -> Result<EtcdSession> {
        let doc = std::fs::read(path).map_err(|e| Error::invalid(format!("--schema {path}: cannot read it: {e}")))?;
        let s = Schema::new("", format!("file {path}"), 0, &doc);
        if let Some(why) = &s.info.invalid {
            return Err(Error::invalid(format!("--schema {path}: {why}")));
        }
        self.local_schema = Some(s);
        Ok(self)
    }

    /// Uses the team store under `root` for this session's schemas.
    pub fn with_schema_root(mut self, root: &str) -> Result<EtcdSession> {
        crate::team::validate_root(root)?;
        self.schema_root = root.to_string();
        Ok(self)
    }

    pub fn schema_root(&self) -> &str {
        &self.schema_root
    }
}

fn check_prefix(prefix: &str) -> Result<()> {
    crate::config::keys::check_key(prefix, "prefix")?;
    if prefix.is_empty() {
        return Err(Error::invalid("prefix: required (a schema governs the keys under one prefix, e.g. /app/prod/)"));
    }
    Ok(())
}

impl Backend {
    /// The schemas that apply to writes through `s`. A user who may not
    /// read the team store's schemas writes unchecked by them (logged).
    pub async fn config_schemas(&self, s: &EtcdSession) -> Result<SchemaSet> {
        let (mut client, _) = s.parts();
        let team = match schema::load(&mut client, &s.schema_root).await {
            Ok(t) => t,
            Err(Error::Forbidden(m)) => {
                tracing::warn!(connection = %s.label, "cannot read the config schemas ({m}): values are not checked against them");
                vec![]
            }
            Err(e) => return Err(e),
        };
        Ok(SchemaSet { team, local: s.local_schema.clone() })
    }

    /// Refuses, before anything is written, values their schema rejects.
    pub(super) async fn schema_check<'a>(&self, s: &EtcdSession, items: impl IntoIterator<Item = (String, &'a [u8])>) -> Result<()> {
        self.config_schemas(s).await?.check_all(items)
    }

    /// [`Self::schema_check`] for plan items written under `prefix` (removals pass).
    pub(super) async fn schema_check_items<'a>(
        &self,
        s: &EtcdSession,
        prefix: &str,
        items: impl IntoIterator<Item = &'a PromoteItem>,
    ) -> Result<()> {
        let set = self.config_schemas(s).await?;
        if set.is_empty() {
            return Ok(());
        }
        let mut values = vec![];
        for i in items {
            if let Some(v) = &i.value {
                values.push((format!("{prefix}{}", i.rel), v.bytes(&i.rel)?));
            }
        }
        set.check_all(values.iter().map(|(k, v)| (k.clone(), v.as_slice())))
    }

    /// Every schema of the team store (and the command-line one), invalid ones included.
    pub async fn config_schema_list(&self, s: &EtcdSession) -> Result<Vec<SchemaInfo>> {
        let set = self.config_schemas(s).await?;
        let mut out: Vec<SchemaInfo> = set.team.into_iter().map(|x| x.info).collect();
        out.sort_by(|a, b| a.prefix.cmp(&b.prefix));
        out.extend(set.local.map(|x| x.info));
        Ok(out)
    }

    /// The team store schema that governs `key` (longest prefix), if any.
    pub async fn config_schema_for(&self, s: &EtcdSession, key: &str) -> Result<Option<SchemaInfo>> {
        Ok(self.config_schemas(s).await?.applicable(key).map(|x| x.info.clone()))
    }

    /// The schema set on exactly `prefix`.
    pub async fn config_schema_show(&self, s: &EtcdSession, prefix: &str) -> Result<SchemaInfo> {
        check_prefix(prefix)?;
        let set = self.config_schemas(s).await?;
        set.team.into_iter().find(|x| x.info.prefix == prefix).map(|x| x.info).ok_or_else(|| {
            Error::NotFound(format!("no JSON Schema is set on prefix {prefix} (in {})", schema::schemas_dir(&s.schema_root)))
        })
    }

    /// Sets (or replaces) the schema of `prefix` in the team store; a
    /// document that is not a valid JSON Schema is refused. Needs write on
    /// `<root>config/schemas/` (an etcd root user, or a role granted it). Audited.
    pub async fn config_schema_set(&self, s: &EtcdSession, prefix: &str, document: &[u8]) -> Result<SchemaInfo> {
        check_prefix(prefix)?;
        if let Err(why) = schema::compile(document) {
            return Err(Error::invalid(format!("schema for {prefix}: {why}; nothing written")));
        }
        let key = schema::schema_key(&s.schema_root, prefix);
        let (mut client, _) = s.parts();
        let r = crate::error::with_timeout("etcd (set a config schema)", std::time::Duration::from_secs(10), async {
            let resp =
                client.txn(Txn::new().and_then([TxnOp::put(key.as_str(), document, None)])).await.map_err(crate::config::etcd_err)?;
            Ok(resp.header().map(|h| h.revision()).unwrap_or(0))
        })
        .await;
        let r = r.map_err(|e| match e {
            Error::Forbidden(m) => Error::Forbidden(format!(
                "{m}: setting a schema needs write on {} (an etcd root user, or a role granted it)",
                schema::schemas_dir(&s.schema_root)
            )),
            other => other,
        });
        let detail = r.as_ref().map(|rev| format!("on {}: JSON Schema set at {key} ({} bytes), revision {rev}", s.label, document.len()));
        self.audit("etcd", prefix, "config.schema.set", detail).await;
        let revision = r?;
        Ok(Schema::new(prefix, format!("team store {key}"), revision, document).info)
    }

    /// Removes the schema of `prefix` from the team store. Audited.
    pub async fn config_schema_remove(&self, s: &EtcdSession, prefix: &str) -> Result<()> {
        check_prefix(prefix)?;
        let key = schema::schema_key(&s.schema_root, prefix);
        let (mut client, _) = s.parts();
        let r = crate::error::with_timeout("etcd (remove a config schema)", std::time::Duration::from_secs(10), async {
            // Deleted only if it is there (a missing schema is an error, not a no-op).
            let resp = client
                .txn(
                    Txn::new()
                        .when([Compare::create_revision(key.as_str(), CompareOp::Greater, 0)])
                        .and_then([TxnOp::delete(key.as_str(), None)]),
                )
                .await
                .map_err(crate::config::etcd_err)?;
            if !resp.succeeded() {
                return Err(Error::NotFound(format!("no JSON Schema is set on prefix {prefix} ({key})")));
            }
            Ok(resp.header().map(|h| h.revision()).unwrap_or(0))
        })
        .await;
        let detail = r.as_ref().map(|rev| format!("on {}: JSON Schema removed from {key} at revision {rev}", s.label));
        self.audit("etcd", prefix, "config.schema.remove", detail).await;
        r.map(|_| ())
    }
}

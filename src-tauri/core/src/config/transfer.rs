//! Export a prefix to a JSON or YAML document and import one back: a dry run
//! shows what would change; the import is guarded per key and applied in one
//! transaction, or in batches (each guarded) with a report when too large.

use std::collections::BTreeMap;

use etcd_client::{Client, Compare, CompareOp, Txn, TxnOp};
use serde::{Deserialize, Serialize};

use super::compare::scan;
use super::model::{ImportPlan, ImportReport};
use super::{etcd_err, MAX_TXN_OPS};
use crate::error::{Error, Result};

#[derive(Debug, Serialize, Deserialize, specta::Type)]
pub struct Document {
    pub prefix: String,
    #[serde(default)]
    pub revision: i64,
    #[serde(default)]
    pub exported_at: String,
    pub keys: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum DocFormat {
    Json,
    Yaml,
}

pub async fn export(client: &mut Client, prefix: &str, format: DocFormat) -> Result<String> {
    let (keys, revision) = scan(client, prefix).await?;
    let doc = Document {
        prefix: prefix.into(),
        revision,
        exported_at: crate::cache::db::now_rfc3339(),
        keys: keys.into_iter().map(|(k, (v, _))| (k, v)).collect(),
    };
    match format {
        DocFormat::Json => serde_json::to_string_pretty(&doc).map_err(|e| Error::Internal(e.to_string())),
        DocFormat::Yaml => serde_norway::to_string(&doc).map_err(|e| Error::Internal(e.to_string())),
    }
}

/// Parses a document (JSON, else YAML).
pub fn parse(document: &str) -> Result<Document> {
    if document.len() > 64 * 1024 * 1024 {
        return Err(Error::invalid("document: larger than 64 MiB"));
    }
    match serde_json::from_str::<Document>(document) {
        Ok(d) => Ok(d),
        Err(json_err) => serde_norway::from_str::<Document>(document).map_err(|yaml_err| {
            Error::invalid(format!(
                "document is neither an Opsdeck JSON export ({json_err}) nor a YAML one ({yaml_err}); expected {{prefix, keys: {{relative key: value}}}}"
            ))
        }),
    }
}

struct Planned {
    plan: ImportPlan,
    /// (relative key, value, mod_revision seen, 0 = absent)
    writes: Vec<(String, String, i64)>,
}

async fn plan(client: &mut Client, prefix: &str, doc: &Document) -> Result<Planned> {
    for rel in doc.keys.keys() {
        super::keys::check_key(&format!("{prefix}{rel}"), "key")?;
    }
    let (current, _) = scan(client, prefix).await?;
    let mut plan = ImportPlan { creates: vec![], updates: vec![], unchanged: 0, total: doc.keys.len() };
    let mut writes = Vec::new();
    for (rel, value) in &doc.keys {
        match current.get(rel) {
            None => {
                plan.creates.push(rel.clone());
                writes.push((rel.clone(), value.clone(), 0));
            }
            Some((v, _)) if v == value => plan.unchanged += 1,
            Some((_, rev)) => {
                plan.updates.push(rel.clone());
                writes.push((rel.clone(), value.clone(), *rev));
            }
        }
    }
    Ok(Planned { plan, writes })
}

/// What an import of `document` under `prefix` would change.
pub async fn preview(client: &mut Client, prefix: &str, document: &str) -> Result<ImportPlan> {
    let doc = parse(document)?;
    Ok(plan(client, prefix, &doc).await?.plan)
}

/// Applies the import. Each batch is one transaction guarded by the revisions
/// seen in the plan; a batch that meets a concurrent change stops the import
/// with a report of what was applied before it.
pub async fn import(client: &mut Client, prefix: &str, document: &str) -> Result<ImportReport> {
    let doc = parse(document)?;
    let Planned { plan, writes } = plan(client, prefix, &doc).await?;
    let mut applied = 0;
    let mut batches = 0;
    for chunk in writes.chunks(MAX_TXN_OPS) {
        let compares: Vec<Compare> =
            chunk.iter().map(|(rel, _, rev)| Compare::mod_revision(format!("{prefix}{rel}"), CompareOp::Equal, *rev)).collect();
        let puts: Vec<TxnOp> = chunk.iter().map(|(rel, v, _)| TxnOp::put(format!("{prefix}{rel}"), v.as_str(), None)).collect();
        let resp = client.txn(Txn::new().when(compares).and_then(puts)).await.map_err(etcd_err)?;
        if !resp.succeeded() {
            return Err(Error::invalid(format!(
                "import stopped: keys under {prefix} changed during the import; {applied} of {} writes were applied in {batches} transaction(s) before it; preview again",
                writes.len()
            )));
        }
        applied += chunk.len();
        batches += 1;
    }
    Ok(ImportReport { applied, batches, plan })
}

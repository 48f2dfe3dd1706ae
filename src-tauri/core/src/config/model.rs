//! Types of the Config workspace, serialised as in docs/ipc.md.

use serde::{Deserialize, Serialize};

use super::format::ValueFormat;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct KeyMeta {
    pub key: String,
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    /// 0 when the key has no lease.
    pub lease: i64,
}

impl KeyMeta {
    pub fn of(kv: &etcd_client::KeyValue) -> KeyMeta {
        KeyMeta {
            key: super::keys::key_text(kv.key()),
            create_revision: kv.create_revision(),
            mod_revision: kv.mod_revision(),
            version: kv.version(),
            lease: kv.lease(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct TreeEntry {
    /// Last path segment ("db" for "/app/prod/db"; dirs without their slash).
    pub name: String,
    /// Full key; for a dir, the prefix ending with "/".
    pub key: String,
    pub is_dir: bool,
    /// Leaves only.
    pub meta: Option<KeyMeta>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct TreePage {
    pub prefix: String,
    pub entries: Vec<TreeEntry>,
    pub next_cursor: Option<String>,
    pub revision: i64,
    /// Keys under the prefix (all depths) when this page's read counted them
    /// anyway: a first page read over the whole prefix (etcd counts the
    /// requested range on every request), so the key count costs no second
    /// walk of the prefix. None: ask `config_count`.
    #[serde(default)]
    pub total: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct KeyValue {
    pub meta: KeyMeta,
    /// UTF-8 text, or base64 when `format` is binary (for display: a binary
    /// value is never written back from this text).
    pub value: String,
    pub format: ValueFormat,
    pub size: usize,
    pub lease_ttl: Option<i64>,
    pub revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum WriteResult {
    Written {
        meta: KeyMeta,
        revision: i64,
        /// Set when etcd's answer was lost (a timeout, a cut connection) and
        /// reading the key back found the write applied: what was found.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recovered: Option<String>,
    },
    /// Nothing was written: the key changed since `expected_mod_revision`.
    /// `current` is `None` when it was deleted meanwhile.
    Conflict { current: Option<KeyValue> },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct DeletePreview {
    pub count: i64,
    pub sample: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct HistoryEntry {
    pub mod_revision: i64,
    pub version: i64,
    /// `None`: deleted at this revision.
    pub value: Option<String>,
    pub format: ValueFormat,
}

#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct History {
    pub key: String,
    pub entries: Vec<HistoryEntry>,
    /// History below this revision was compacted away by etcd.
    pub compacted_at: Option<i64>,
    /// The limit was reached before the key's creation.
    pub truncated: bool,
    /// Opsdeck's own audit entries for this key, newest first.
    pub audit: Vec<crate::cache::audit::AuditEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct DiffItem {
    /// Key relative to its prefix.
    pub rel: String,
    /// Text, or base64 when `left_binary` (compared as bytes, shown only).
    pub left: Option<String>,
    pub right: Option<String>,
    /// The value is not UTF-8 text: `left`/`right` is its base64.
    #[serde(default)]
    pub left_binary: bool,
    #[serde(default)]
    pub right_binary: bool,
    pub left_mod_revision: i64,
    pub right_mod_revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct PrefixDiff {
    pub left: String,
    pub right: String,
    pub only_left: Vec<DiffItem>,
    pub only_right: Vec<DiffItem>,
    pub different: Vec<DiffItem>,
    pub same: usize,
}

/// A key to copy with the revisions the user compared (0 = absent on that side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct CopyItem {
    pub rel: String,
    pub left_mod_revision: i64,
    pub right_mod_revision: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct CopyReport {
    pub copied: usize,
    /// Relative keys that changed since they were compared; nothing was written.
    pub conflicts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ImportPlan {
    pub creates: Vec<String>,
    pub updates: Vec<String>,
    pub unchanged: usize,
    pub total: usize,
}

/// What an import did (the report file: `opsdeck config import … --resume`
/// takes it back and continues). Keys are relative to `prefix`; every key of
/// the plan is in exactly one of: a committed batch, `unknown`, `not_written`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ImportReport {
    /// Keys written by the committed batches (all runs).
    pub applied: usize,
    /// Committed transactions (all runs).
    pub batches: usize,
    pub plan: ImportPlan,
    /// [`super::import_run::REPORT_KIND`].
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub prefix: String,
    /// The connection written to.
    #[serde(default)]
    pub connection: String,
    /// sha256 (hex) of the document text: a resume must be given the same document.
    #[serde(default)]
    pub document_sha256: String,
    /// Every committed transaction with its revision and keys, earlier runs first.
    #[serde(default)]
    pub committed: Vec<super::promote::PromoteBatch>,
    /// The batch sent whose outcome is not known (etcd frozen or gone before
    /// answering, or the process stopped while it was in flight); a resume
    /// reads it back first.
    #[serde(default)]
    pub unknown: Option<ImportUnknownBatch>,
    /// Keys certainly not written (never sent, or sent and known not applied).
    #[serde(default)]
    pub not_written: Vec<String>,
    /// The mod_revision each key not (known to be) written had when the import
    /// was planned (0: absent): a resume writes a key only while it still has it.
    #[serde(default)]
    pub guards: std::collections::BTreeMap<String, i64>,
    /// Keys someone else changed since the plan: not written (not overwritten).
    #[serde(default)]
    pub conflicts: Vec<super::promote::MovedKey>,
    /// Committed keys whose value in etcd is no longer the imported one
    /// (found when a resume verified the committed batches; not rewritten).
    #[serde(default)]
    pub changed_since_commit: Vec<super::promote::MovedKey>,
    /// Keys committed by earlier runs (skipped by this one).
    #[serde(default)]
    pub already_applied: usize,
    /// What this resume found reading back the previous run's unknown batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_back: Option<String>,
    /// Keys written by this run.
    #[serde(default)]
    pub written_now: usize,
    /// The run was stopped (SIGINT/SIGTERM, or the app's stop) after the batch in flight.
    #[serde(default)]
    pub interrupted: bool,
    /// Every planned key is written.
    #[serde(default)]
    pub complete: bool,
    /// Why the run stopped early, when a fault stopped it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A batch sent whose outcome is unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ImportUnknownBatch {
    /// The index it would have as a committed batch.
    pub index: usize,
    pub keys: Vec<String>,
    pub why: String,
}

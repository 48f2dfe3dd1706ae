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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ImportReport {
    pub applied: usize,
    pub batches: usize,
    pub plan: ImportPlan,
}

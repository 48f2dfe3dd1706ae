//! JSON Schemas per key prefix: every value written under a prefix that has
//! one must be JSON that the schema accepts, checked before anything is
//! written (saves, imports, promotions, moves, copies, rollbacks).
//!
//! Schemas live in the team store, one key per prefix:
//! `<root>config/schemas/<hex of the prefix>` holding the schema document
//! itself (hex, as `config/protected/`). The most specific (longest) prefix
//! that a key starts with picks the schema. A schema given on the command
//! line (`--schema FILE`) applies to every key that command writes, on top
//! of the team store's.
//!
//! Schemas are compiled with the `jsonschema` crate built without its
//! retrieval features: a `$ref` to another document (http:, https:, file:)
//! is never fetched; the schema is refused as invalid. A document stored
//! around Opsdeck that is not a valid schema (not JSON, a bad keyword) does
//! not crash anything: keys under its prefix are refused with why, until it
//! is fixed or removed.

use std::sync::Arc;
use std::time::Duration;

use etcd_client::{Client, GetOptions};
use serde::Serialize;

use crate::error::{with_timeout, Error, Result};

/// Largest schema document accepted (a schema is read on every save).
pub const MAX_SCHEMA_BYTES: usize = 256 * 1024;
/// At most this many failures are listed in one refusal.
const MAX_LISTED: usize = 5;
const TIMEOUT: Duration = Duration::from_secs(10);

/// Where the schemas of a team root live.
pub fn schemas_dir(root: &str) -> String {
    format!("{root}config/schemas/")
}

/// The team store key holding the schema of `prefix`.
pub fn schema_key(root: &str, prefix: &str) -> String {
    format!("{}{}", schemas_dir(root), hex::encode(prefix.as_bytes()))
}

/// A schema as the app and `config schema show` present it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct SchemaInfo {
    /// The key prefix it governs ("" for a command-line schema: every key).
    pub prefix: String,
    /// Where it comes from: `team store <key>` or `file <path>`.
    pub source: String,
    /// mod_revision of the team store key (0 for a file).
    pub revision: i64,
    /// Why it is not a usable JSON Schema (keys under it are refused until fixed).
    pub invalid: Option<String>,
    /// The document as stored.
    pub document: String,
}

/// One compiled schema.
#[derive(Clone)]
pub struct Schema {
    pub info: SchemaInfo,
    compiled: std::result::Result<Arc<jsonschema::Validator>, String>,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema").field("info", &self.info).finish_non_exhaustive()
    }
}

/// Compiles a schema document; Err says why it is not a usable schema.
pub fn compile(document: &[u8]) -> std::result::Result<jsonschema::Validator, String> {
    if document.len() > MAX_SCHEMA_BYTES {
        return Err(format!("{} bytes: a schema is at most {MAX_SCHEMA_BYTES} bytes", document.len()));
    }
    let text = std::str::from_utf8(document).map_err(|_| "not UTF-8 text: a JSON Schema is a JSON document".to_string())?;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON (line {}, column {}): {e}", e.line(), e.column()))?;
    if !value.is_object() && !value.is_boolean() {
        return Err("a JSON Schema is an object (or true/false)".into());
    }
    // A panic in the compiler on a hostile document is reported, not fatal.
    match std::panic::catch_unwind(|| jsonschema::validator_for(&value)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("not a valid JSON Schema: {e}")),
        Err(_) => Err("not a valid JSON Schema: the validator could not compile it".into()),
    }
}

impl Schema {
    pub fn new(prefix: &str, source: String, revision: i64, document: &[u8]) -> Schema {
        let compiled = compile(document).map(Arc::new);
        Schema {
            info: SchemaInfo {
                prefix: prefix.to_string(),
                source,
                revision,
                invalid: compiled.as_ref().err().cloned(),
                document: String::from_utf8_lossy(document).into_owned(),
            },
            compiled,
        }
    }

    /// Checks the value `bytes` about to be written at `key`.
    pub fn check(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let whose = if self.info.prefix.is_empty() {
            format!("the JSON Schema of {}", self.info.source)
        } else {
            format!("the JSON Schema of prefix {} ({})", self.info.prefix, self.info.source)
        };
        let validator = match &self.compiled {
            Ok(v) => v,
            Err(why) => {
                return Err(Error::invalid(format!(
                    "{key}: refused: {whose} is invalid ({why}); fix it (opsdeck config schema set) or remove it; nothing written"
                )))
            }
        };
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Err(Error::invalid(format!("{key}: refused: a binary value, but {whose} requires JSON; nothing written")));
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            Error::invalid(format!(
                "{key}: refused: not JSON (line {}, column {}: {e}), but {whose} requires JSON; nothing written",
                e.line(),
                e.column()
            ))
        })?;
        let failures: Vec<String> = validator
            .iter_errors(&value)
            .take(MAX_LISTED + 1)
            .map(|e| {
                let path = e.instance_path().as_str();
                format!("at {}: {e}", if path.is_empty() { "/" } else { path })
            })
            .collect();
        if failures.is_empty() {
            return Ok(());
        }
        let more = if failures.len() > MAX_LISTED { "; …" } else { "" };
        let listed: Vec<&str> = failures.iter().take(MAX_LISTED).map(String::as_str).collect();
        Err(Error::invalid(format!("{key}: refused by {whose}: {}{more}; nothing written", listed.join("; "))))
    }
}

/// The schemas that apply to the keys of one etcd.
#[derive(Debug, Clone, Default)]
pub struct SchemaSet {
    /// Team store schemas, by prefix.
    pub team: Vec<Schema>,
    /// A command-line schema: every key written.
    pub local: Option<Schema>,
}

impl SchemaSet {
    /// The team store schema of `key`: the longest prefix it starts with.
    pub fn applicable(&self, key: &str) -> Option<&Schema> {
        self.team.iter().filter(|s| key.starts_with(s.info.prefix.as_str())).max_by_key(|s| s.info.prefix.len())
    }

    pub fn is_empty(&self) -> bool {
        self.team.is_empty() && self.local.is_none()
    }

    /// Checks a value about to be written at `key` against every schema that applies.
    pub fn check(&self, key: &str, bytes: &[u8]) -> Result<()> {
        if let Some(s) = self.applicable(key) {
            s.check(key, bytes)?;
        }
        if let Some(s) = &self.local {
            s.check(key, bytes)?;
        }
        Ok(())
    }

    /// Checks every `(key, value)` about to be written; the refusal lists
    /// each failing key (at most 20).
    pub fn check_all<'a>(&self, items: impl IntoIterator<Item = (String, &'a [u8])>) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let mut refused = vec![];
        let mut total = 0;
        for (key, bytes) in items {
            if let Err(e) = self.check(&key, bytes) {
                total += 1;
                if refused.len() < 20 {
                    refused.push(e.to_string());
                }
            }
        }
        match total {
            0 => Ok(()),
            1 => Err(Error::invalid(refused.join(""))),
            n => Err(Error::invalid(format!("{n} values fail their JSON Schema; nothing written:\n{}", refused.join("\n")))),
        }
    }
}

/// Reads the schemas of the team store under `root` (one range read).
pub async fn load(client: &mut Client, root: &str) -> Result<Vec<Schema>> {
    let dir = schemas_dir(root);
    let resp = with_timeout("etcd (config schemas)", TIMEOUT, async {
        client.get(dir.as_str(), Some(GetOptions::new().with_prefix())).await.map_err(super::etcd_err)
    })
    .await?;
    let mut out = vec![];
    for kv in resp.kvs() {
        let key = super::keys::key_text(kv.key());
        let rest = &key[dir.len().min(key.len())..];
        let prefix = match hex::decode(rest).ok().and_then(|b| String::from_utf8(b).ok()) {
            Some(p) => p,
            None => {
                tracing::warn!(key, "config schema key does not name a prefix (hex): ignored");
                continue;
            }
        };
        out.push(Schema::new(&prefix, format!("team store {key}"), kv.mod_revision(), kv.value()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(prefix: &str, doc: &str) -> Schema {
        Schema::new(prefix, "test".into(), 1, doc.as_bytes())
    }

    #[test]
    fn refusal_names_the_instance_path_and_the_message() {
        let s = schema("/app/", r#"{"type":"object","properties":{"db":{"type":"object","properties":{"pool":{"type":"integer"}}}}}"#);
        s.check("/app/x", br#"{"db":{"pool":30}}"#).unwrap();
        let e = s.check("/app/x", br#"{"db":{"pool":"many"}}"#).unwrap_err().to_string();
        assert!(e.contains("at /db/pool:"), "{e}");
        assert!(e.contains("is not of type \"integer\""), "{e}");
        assert!(e.contains("/app/x"), "{e}");
    }

    #[test]
    fn non_json_and_binary_values_are_refused() {
        let s = schema("/app/", r#"{"type":"object"}"#);
        let e = s.check("/app/x", b"pool = 3").unwrap_err().to_string();
        assert!(e.contains("not JSON"), "{e}");
        let e = s.check("/app/x", b"\xff\xfe\x00").unwrap_err().to_string();
        assert!(e.contains("binary value"), "{e}");
    }

    #[test]
    fn longest_prefix_wins_and_local_applies_too() {
        let mut set = SchemaSet {
            team: vec![schema("/app/", r#"{"type":"object"}"#), schema("/app/prod/", r#"{"type":"object","required":["owner"]}"#)],
            local: None,
        };
        assert_eq!(set.applicable("/app/prod/db").unwrap().info.prefix, "/app/prod/");
        assert_eq!(set.applicable("/app/dev/db").unwrap().info.prefix, "/app/");
        assert!(set.applicable("/other").is_none());
        set.check("/app/dev/db", b"{}").unwrap();
        assert!(set.check("/app/prod/db", b"{}").unwrap_err().to_string().contains("owner"));
        set.check("/other", b"plain text").unwrap();
        set.local = Some(schema("", r#"{"type":"object"}"#));
        assert!(set.check("/other", b"plain text").is_err());
    }

    #[test]
    fn invalid_documents_are_reported_not_fatal() {
        for doc in ["not json", "[1,2]", r#"{"type": 12}"#, r#"{"$ref": "https://example.invalid/s.json"}"#] {
            let s = schema("/app/", doc);
            assert!(s.info.invalid.is_some(), "{doc}");
            let e = s.check("/app/x", b"{}").unwrap_err().to_string();
            assert!(e.contains("is invalid"), "{e}");
        }
        let big = vec![b' '; MAX_SCHEMA_BYTES + 1];
        assert!(compile(&big).unwrap_err().contains("at most"));
    }

    #[test]
    fn check_all_lists_every_failure() {
        let set = SchemaSet { team: vec![schema("/a/", r#"{"type":"integer"}"#)], local: None };
        let items = vec![("/a/1".to_string(), &b"1"[..]), ("/a/2".to_string(), &b"\"x\""[..]), ("/a/3".to_string(), &b"{}"[..])];
        let e = set.check_all(items).unwrap_err().to_string();
        assert!(e.starts_with("2 values fail"), "{e}");
        assert!(e.contains("/a/2") && e.contains("/a/3"), "{e}");
    }
}

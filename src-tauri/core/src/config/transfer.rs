//! Export a prefix to a JSON or YAML document and import one back: a dry run
//! shows what would change; the import is guarded per key and applied in
//! guarded batches with a report that a resume continues from
//! ([`super::import_run`]).
//!
//! Values travel as bytes: a value that is not plain text (not UTF-8, or
//! holding control characters other than tab, CR and LF) is
//! exported as `{"base64": "…"}` and imported back to the same bytes.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use etcd_client::Client;
use serde::{Deserialize, Serialize};

use super::compare::scan;
use super::model::ImportPlan;
use crate::error::{Error, Result};

/// One value of a document: text as a string, other bytes with an explicit marker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DocValue {
    Text(String),
    /// Bytes, base64 (standard alphabet, padded).
    Binary {
        base64: String,
    },
}

impl DocValue {
    /// Text when the bytes are text a JSON or YAML document carries verbatim
    /// (UTF-8 without control characters other than tab, CR and LF), else base64.
    pub fn of(bytes: &[u8]) -> DocValue {
        match std::str::from_utf8(bytes) {
            Ok(text) if !text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) => DocValue::Text(text.to_string()),
            _ => DocValue::Binary { base64: STANDARD.encode(bytes) },
        }
    }

    /// The bytes to store; `rel` names the key in an error.
    pub fn bytes(&self, rel: &str) -> Result<Vec<u8>> {
        match self {
            DocValue::Text(t) => Ok(t.as_bytes().to_vec()),
            DocValue::Binary { base64 } => STANDARD.decode(base64.trim()).map_err(|e| {
                Error::invalid(format!("keys.{rel}: {{base64: …}} does not hold valid base64 ({e}); export the value again or fix it"))
            }),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Document {
    pub prefix: String,
    #[serde(default)]
    pub revision: i64,
    #[serde(default)]
    pub exported_at: String,
    pub keys: BTreeMap<String, DocValue>,
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
        keys: keys.into_iter().map(|(k, (v, _))| (k, DocValue::of(&v))).collect(),
    };
    render(&doc, format)
}

fn render(doc: &Document, format: DocFormat) -> Result<String> {
    match format {
        DocFormat::Json => serde_json::to_string_pretty(doc).map_err(|e| Error::Internal(e.to_string())),
        DocFormat::Yaml => serde_norway::to_string(doc).map_err(|e| Error::Internal(e.to_string())),
    }
}

/// Parses a document (JSON, else YAML).
pub fn parse(document: &str) -> Result<Document> {
    if document.len() > 64 * 1024 * 1024 {
        return Err(Error::invalid("document: larger than 64 MiB"));
    }
    match serde_json::from_str::<Document>(document) {
        Ok(d) => Ok(d),
        Err(_) if document.contains("!!binary") || document.contains("tag:yaml.org,2002:binary") => Err(Error::invalid(
            "document: YAML !!binary values are not read (they would be stored as their base64 text); write the value as {base64: \"…\"}, as `opsdeck config export` does",
        )),
        Err(json_err) => serde_norway::from_str::<Document>(document).map_err(|yaml_err| {
            Error::invalid(format!(
                "document is neither an Opsdeck JSON export ({json_err}) nor a YAML one ({yaml_err}); expected {{prefix, keys: {{relative key: \"text\" or {{base64: \"…\"}}}}}}"
            ))
        }),
    }
}

pub(super) struct Planned {
    pub(super) plan: ImportPlan,
    /// (relative key, value bytes, mod_revision seen, 0 = absent)
    pub(super) writes: Vec<(String, Vec<u8>, i64)>,
}

pub(super) async fn plan(client: &mut Client, prefix: &str, doc: &Document) -> Result<Planned> {
    let mut wanted = Vec::with_capacity(doc.keys.len());
    for (rel, value) in &doc.keys {
        super::keys::check_key(&format!("{prefix}{rel}"), "key")?;
        wanted.push((rel, value.bytes(rel)?));
    }
    let (current, _) = scan(client, prefix).await?;
    let mut plan = ImportPlan { creates: vec![], updates: vec![], unchanged: 0, total: doc.keys.len() };
    let mut writes = Vec::new();
    for (rel, value) in wanted {
        match current.get(rel) {
            None => {
                plan.creates.push(rel.clone());
                writes.push((rel.clone(), value, 0));
            }
            Some((v, _)) if *v == value => plan.unchanged += 1,
            Some((_, rev)) => {
                plan.updates.push(rel.clone());
                writes.push((rel.clone(), value, *rev));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random bytes (xorshift), no extra dependency.
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    fn samples() -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = vec![
            vec![],
            vec![0],
            vec![0xff, 0xfe, 0xfd],
            b"\xc3\x28".to_vec(),
            b"text with \0 NUL".to_vec(),
            b"cr\r\nlf".to_vec(),
            b"\r".to_vec(),
            b"lone cr\r".to_vec(),
            b"\r\n\r\n".to_vec(),
            b"  leading and trailing  \n\n".to_vec(),
            "中文 ✓ \u{feff}bom".as_bytes().to_vec(),
            b"\x7f\x1b[0m".to_vec(),
            b"yes".to_vec(),
            b"~".to_vec(),
            b"- a\n- b\n".to_vec(),
            b"{\"a\": 1}".to_vec(),
        ];
        for seed in 1..40u64 {
            v.push(noise(seed, (seed as usize * 37) % 300));
        }
        v
    }

    #[test]
    fn every_value_round_trips_through_json_and_yaml() {
        let keys: BTreeMap<String, DocValue> = samples().iter().enumerate().map(|(i, b)| (format!("k{i:03}"), DocValue::of(b))).collect();
        let doc = Document { prefix: "/p/".into(), revision: 7, exported_at: String::new(), keys };
        for format in [DocFormat::Json, DocFormat::Yaml] {
            let text = render(&doc, format).unwrap();
            let back = parse(&text).unwrap_or_else(|e| panic!("{format:?}: {e}\n{text}"));
            for (i, want) in samples().iter().enumerate() {
                let rel = format!("k{i:03}");
                assert_eq!(&back.keys[&rel].bytes(&rel).unwrap(), want, "{format:?} {rel}");
            }
        }
        assert!(matches!(DocValue::of(b"\xff"), DocValue::Binary { .. }));
        assert!(matches!(DocValue::of(b"a\0b"), DocValue::Binary { .. }));
        assert_eq!(DocValue::of(b"plain\ttext\n"), DocValue::Text("plain\ttext\n".into()));
        assert_eq!(DocValue::of(b"windows\r\nline ends"), DocValue::Text("windows\r\nline ends".into()));
    }

    #[test]
    fn bad_binary_values_are_clear_errors() {
        let e = parse("prefix: /p/\nkeys:\n  k: !!binary aGVsbG8=\n").unwrap_err().to_string();
        assert!(e.contains("!!binary") && e.contains("base64"), "{e}");
        let d = parse(r#"{"prefix": "/p/", "keys": {"k": {"base64": "not base64!"}}}"#).unwrap();
        let e = d.keys["k"].bytes("k").unwrap_err().to_string();
        assert!(e.contains("keys.k") && e.contains("base64"), "{e}");
        let e = parse(r#"{"prefix": "/p/", "keys": {"k": {"hex": "00"}}}"#).unwrap_err().to_string();
        assert!(e.contains("base64"), "{e}");
    }
}

//! Value formats: detection (what does this value look like?) and validation
//! (does it parse as the format the user chose?), with line and column.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum ValueFormat {
    Json,
    Yaml,
    Toml,
    Plain,
    Binary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Validation {
    pub format: ValueFormat,
    pub ok: bool,
    pub error: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Validation {
    fn ok(format: ValueFormat) -> Self {
        Validation { format, ok: true, error: None, line: None, column: None }
    }
    fn err(format: ValueFormat, error: String, line: Option<usize>, column: Option<usize>) -> Self {
        Validation { format, ok: false, error: Some(error), line, column }
    }
}

/// Guesses the format of a stored value. Structured formats win only when the
/// value really parses and is a document (object/array/table), not a scalar:
/// "42" or "hello" are plain.
pub fn detect(bytes: &[u8]) -> ValueFormat {
    let Ok(text) = std::str::from_utf8(bytes) else { return ValueFormat::Binary };
    let trimmed = text.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('[')) && serde_json::from_str::<serde_json::Value>(text).is_ok() {
        return ValueFormat::Json;
    }
    if let Ok(v) = toml::from_str::<toml::Table>(text) {
        if !v.is_empty() {
            return ValueFormat::Toml;
        }
    }
    if let Ok(v) = serde_norway::from_str::<serde_norway::Value>(text) {
        if matches!(v, serde_norway::Value::Mapping(_) | serde_norway::Value::Sequence(_)) {
            return ValueFormat::Yaml;
        }
    }
    ValueFormat::Plain
}

/// Checks `text` against `format` (None = detect, which is always valid).
pub fn validate(text: &str, format: Option<ValueFormat>) -> Validation {
    let format = format.unwrap_or_else(|| detect(text.as_bytes()));
    match format {
        ValueFormat::Json => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(_) => Validation::ok(format),
            Err(e) => Validation::err(format, format!("invalid JSON: {e}"), Some(e.line()), Some(e.column())),
        },
        ValueFormat::Yaml => match serde_norway::from_str::<serde_norway::Value>(text) {
            Ok(_) => Validation::ok(format),
            Err(e) => {
                let loc = e.location();
                Validation::err(format, format!("invalid YAML: {e}"), loc.as_ref().map(|l| l.line()), loc.as_ref().map(|l| l.column()))
            }
        },
        ValueFormat::Toml => match toml::from_str::<toml::Table>(text) {
            Ok(_) => Validation::ok(format),
            Err(e) => {
                let (line, column) = e.span().map(|s| line_col(text, s.start)).map(|(l, c)| (Some(l), Some(c))).unwrap_or((None, None));
                Validation::err(format, format!("invalid TOML: {}", e.message()), line, column)
            }
        },
        ValueFormat::Plain | ValueFormat::Binary => Validation::ok(format),
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count() + 1).unwrap_or(1);
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_documents_not_scalars() {
        assert_eq!(detect(br#"{"a": 1}"#), ValueFormat::Json);
        assert_eq!(detect(b"[1, 2]"), ValueFormat::Json);
        assert_eq!(detect(b"a: 1\nb: [x, y]\n"), ValueFormat::Yaml);
        assert_eq!(detect(b"[server]\nport = 8080\n"), ValueFormat::Toml);
        assert_eq!(detect(b"42"), ValueFormat::Plain);
        assert_eq!(detect(b"hello world"), ValueFormat::Plain);
        assert_eq!(detect(b"\xff\xfe\x00"), ValueFormat::Binary);
    }

    #[test]
    fn validation_reports_line_and_column() {
        let v = validate("{\n  \"a\": 1,\n  \"b\": }\n", Some(ValueFormat::Json));
        assert!(!v.ok);
        assert_eq!(v.line, Some(3));
        assert!(v.error.unwrap().contains("invalid JSON"));
        let y = validate("a: 1\n  b: 2\n c: [", Some(ValueFormat::Yaml));
        assert!(!y.ok && y.line.is_some(), "{y:?}");
        let t = validate("[s]\nport = = 1\n", Some(ValueFormat::Toml));
        assert!(!t.ok);
        assert_eq!(t.line, Some(2), "{t:?}");
        assert!(validate("anything { goes", Some(ValueFormat::Plain)).ok);
        assert!(validate("{\"ok\": true}", None).ok);
    }
}

//! The OSV record format (https://ossf.github.io/osv-schema/), read
//! leniently: unknown fields are ignored, optional ones may be missing.
//! Own serde types rather than the `osv` crate, whose strict enums reject
//! records with newer schema values.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct Record {
    pub id: String,
    #[serde(default)]
    pub modified: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub details: String,
    #[serde(default)]
    pub severity: Vec<SeverityEntry>,
    #[serde(default)]
    pub affected: Vec<Affected>,
    #[serde(default)]
    pub database_specific: Value,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct SeverityEntry {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub score: String,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct Affected {
    #[serde(default)]
    pub package: Option<PackageRef>,
    #[serde(default)]
    pub ranges: Vec<Range>,
    #[serde(default)]
    pub versions: Vec<String>,
    #[serde(default)]
    pub severity: Vec<SeverityEntry>,
    #[serde(default)]
    pub ecosystem_specific: Value,
    #[serde(default)]
    pub database_specific: Value,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct PackageRef {
    #[serde(default)]
    pub ecosystem: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct Range {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// One range event; exactly one field is set in a valid record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Event {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename = "VulnSeverity", rename_all = "UPPERCASE")] // VulnSeverity in the IPC contract
pub enum Severity {
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "UNKNOWN",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }

    pub fn parse(s: &str) -> Severity {
        match s {
            "CRITICAL" => Severity::Critical,
            "HIGH" => Severity::High,
            "MEDIUM" => Severity::Medium,
            "LOW" => Severity::Low,
            _ => Severity::Unknown,
        }
    }

    /// CVSS base score bands.
    pub fn from_score(score: f64) -> Severity {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::Unknown,
        }
    }

    /// A distribution's own word: Red Hat (Critical/Important/Moderate/Low),
    /// Debian urgency (high/medium/low/unimportant), Ubuntu priority
    /// (critical/high/medium/low/negligible), GHSA (CRITICAL/HIGH/MODERATE/LOW).
    pub fn from_word(word: &str) -> Severity {
        match word.trim().to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" | "important" => Severity::High,
            "medium" | "moderate" => Severity::Medium,
            "low" | "negligible" | "unimportant" => Severity::Low,
            _ => Severity::Unknown,
        }
    }
}

/// The record's severity: the highest CVSS (v3 or v4) base score given,
/// else the distribution's word for it, else unknown.
pub fn severity_of(record: &Record) -> Severity {
    let entries = record.severity.iter().chain(record.affected.iter().flat_map(|a| a.severity.iter()));
    let mut best: Option<Severity> = None;
    for e in entries {
        let s = match e.kind.as_str() {
            "CVSS_V3" | "CVSS_V4" | "CVSS_V2" => cvss::Cvss::from_str(e.score.trim()).ok().map(|v| Severity::from_score(v.score())),
            // Ubuntu's own priority, e.g. {"type": "Ubuntu", "score": "medium"}
            _ => Some(Severity::from_word(&e.score)).filter(|s| *s != Severity::Unknown),
        };
        best = best.max(s);
    }
    if let Some(s) = best {
        return s;
    }
    let words = std::iter::once(&record.database_specific)
        .chain(record.affected.iter().flat_map(|a| [&a.database_specific, &a.ecosystem_specific]))
        .flat_map(|v| ["severity", "urgency"].into_iter().filter_map(move |k| v.get(k).and_then(Value::as_str)));
    words.map(Severity::from_word).max().unwrap_or(Severity::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(json: Value) -> Record {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn cvss_vectors_give_the_band_of_their_base_score() {
        let r = record(
            serde_json::json!({"id": "X", "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}),
        );
        assert_eq!(severity_of(&r), Severity::Critical);
        let r = record(
            serde_json::json!({"id": "X", "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}]}),
        );
        assert_eq!(severity_of(&r), Severity::High);
        let r = record(
            serde_json::json!({"id": "X", "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}]}),
        );
        assert_eq!(severity_of(&r), Severity::Critical);
        let r = record(serde_json::json!({"id": "X", "severity": [{"type": "CVSS_V3", "score": "not a vector"}]}));
        assert_eq!(severity_of(&r), Severity::Unknown);
    }

    #[test]
    fn distribution_words() {
        let r = record(
            serde_json::json!({"id": "X", "affected": [{"package": {"ecosystem": "Debian:12", "name": "a"}, "ecosystem_specific": {"urgency": "high"}}]}),
        );
        assert_eq!(severity_of(&r), Severity::High);
        let r = record(serde_json::json!({"id": "X", "severity": [{"type": "Ubuntu", "score": "negligible"}]}));
        assert_eq!(severity_of(&r), Severity::Low);
        let r = record(serde_json::json!({"id": "X", "database_specific": {"severity": "Important"}}));
        assert_eq!(severity_of(&r), Severity::High);
        let r = record(serde_json::json!({"id": "X", "affected": [{"ecosystem_specific": {"urgency": "not yet assigned"}}]}));
        assert_eq!(severity_of(&r), Severity::Unknown);
    }

    #[test]
    fn lenient_reading() {
        let r = record(
            serde_json::json!({"id": "X", "schema_version": "9.9", "new_field": [1, 2], "affected": [{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}, {"future_event": "x"}]}]}]}),
        );
        assert_eq!(r.affected[0].ranges[0].events.len(), 3);
    }
}

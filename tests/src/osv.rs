//! OSV advisory records written for the packages the test images contain.

use std::path::Path;

use serde_json::{json, Value};

/// One OSV record: `ecosystem` (e.g. `Debian:12`), package, the range's
/// `introduced` (None = "0") and `fixed`, and a severity given either as a
/// CVSS v3 vector or as the ecosystem's own word.
pub struct Advisory<'a> {
    pub id: &'a str,
    pub ecosystem: &'a str,
    pub package: &'a str,
    pub introduced: Option<&'a str>,
    pub fixed: Option<&'a str>,
    pub severity: Severity<'a>,
}

pub enum Severity<'a> {
    Cvss3(&'a str),
    /// `database_specific.severity`, e.g. "High"
    Word(&'a str),
}

/// A CVSS 3.1 vector scoring 9.8 (CRITICAL).
pub const CVSS_CRITICAL: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
/// A CVSS 3.1 vector scoring 7.5 (HIGH).
pub const CVSS_HIGH: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H";

pub fn record(a: &Advisory) -> Value {
    let mut events = vec![json!({ "introduced": a.introduced.unwrap_or("0") })];
    if let Some(f) = a.fixed {
        events.push(json!({ "fixed": f }));
    }
    let mut r = json!({
        "schema_version": "1.6.0",
        "id": a.id,
        "modified": "2026-11-01T00:00:00Z",
        "aliases": [format!("CVE-2026-{}", 10000 + a.id.bytes().map(u32::from).sum::<u32>())],
        "summary": format!("test advisory {} for {}", a.id, a.package),
        "affected": [{
            "package": { "ecosystem": a.ecosystem, "name": a.package },
            "ranges": [{ "type": "ECOSYSTEM", "events": events }]
        }]
    });
    match a.severity {
        Severity::Cvss3(v) => r["severity"] = json!([{ "type": "CVSS_V3", "score": v }]),
        Severity::Word(w) => r["database_specific"] = json!({ "severity": w }),
    }
    r
}

/// Writes each record as `<dir>/<id>.json`.
pub fn write_folder(dir: &Path, advisories: &[Advisory]) {
    std::fs::create_dir_all(dir).expect("advisory folder");
    for a in advisories {
        std::fs::write(dir.join(format!("{}.json", a.id)), serde_json::to_vec_pretty(&record(a)).unwrap()).expect("write advisory");
    }
}

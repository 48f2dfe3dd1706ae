//! From an image's packages and configuration to findings and a decision:
//! advisory matching with the ecosystem's version ordering, the severity
//! counts, and the policies. Needs no Docker, so cached images are
//! re-assessed when a new advisory database is imported.

use serde::{Deserialize, Serialize};

use super::advisories::{self, Severity, Vulnerability};
use super::packages::Inventory;
use super::policy::{evaluate, Counts, ImageConfig, Policy, Verdict};
use crate::cache::db::Db;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Assessment {
    /// OSV ecosystem the packages were matched in (`Debian:12`), if the OS is known.
    pub ecosystem: Option<String>,
    pub vulnerabilities: Vec<Vulnerability>,
    pub counts: Counts,
    #[serde(flatten)]
    pub verdict: Verdict,
}

pub async fn assess(db: &Db, inventory: &Inventory, config: &ImageConfig, policy: &Policy) -> Result<Assessment> {
    let target = inventory.os.as_ref().and_then(advisories::ecosystem_of);
    let vulnerabilities = match &target {
        Some(eco) => advisories::match_packages(db, eco, &inventory.packages).await?,
        None => Vec::new(),
    };
    let counts = count(&vulnerabilities);
    let verdict = evaluate(policy, config, &counts);
    Ok(Assessment { ecosystem: target.map(|e| e.to_string()), vulnerabilities, counts, verdict })
}

fn count(vulns: &[Vulnerability]) -> Counts {
    let mut c = Counts::default();
    for v in vulns {
        match v.severity {
            Severity::Critical => c.critical += 1,
            Severity::High => c.high += 1,
            Severity::Medium => c.medium += 1,
            Severity::Low => c.low += 1,
            Severity::Unknown => c.unknown += 1,
        }
    }
    c
}

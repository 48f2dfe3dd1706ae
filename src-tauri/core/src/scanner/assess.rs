//! From an image's packages and configuration to findings and a decision:
//! advisory matching with the ecosystem's version ordering, the severity
//! counts, and the policies. Needs no Docker, so cached images are
//! re-assessed when a new advisory database is imported.

use serde::{Deserialize, Serialize};

use super::advisories::{self, store, Severity, Vulnerability};
use super::gate::SuppressedFinding;
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
    /// Findings hidden by a suppression (they do not count), with its reason.
    #[serde(default)]
    pub suppressed: Vec<SuppressedFinding>,
    /// Findings whose suppression has expired: they count again.
    #[serde(default)]
    pub expired_suppressions: Vec<SuppressedFinding>,
    /// Findings left out of the gate by `--severity` or `--ignore-unfixed`.
    #[serde(default)]
    pub excluded: Vec<Vulnerability>,
    /// The newest advisory record's `modified` time when the image was
    /// matched: how current the advisory data behind the decision was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advisories_as_of: Option<String>,
}

pub async fn assess(db: &Db, inventory: &Inventory, config: &ImageConfig, policy: &Policy) -> Result<Assessment> {
    let target = inventory.os.as_ref().and_then(advisories::ecosystem_of);
    // Language packages are matched whether or not the OS is known (a Go
    // binary FROM scratch has no OS at all).
    let vulnerabilities = advisories::match_image(db, target.as_ref(), &inventory.packages).await?;
    let counts = count(&vulnerabilities);
    let not_assessed = not_assessed(db, inventory, target.as_ref(), policy).await?;
    let verdict = evaluate(policy, config, &counts, &not_assessed);
    Ok(Assessment {
        ecosystem: target.map(|e| e.to_string()),
        vulnerabilities,
        counts,
        verdict,
        suppressed: Vec::new(),
        expired_suppressions: Vec::new(),
        excluded: Vec::new(),
        advisories_as_of: store::newest_modified(db).await?,
    })
}

/// Why finding nothing would not mean the image is clean: each reason a
/// sentence saying what to do.
async fn not_assessed(db: &Db, inventory: &Inventory, target: Option<&advisories::Ecosystem>, policy: &Policy) -> Result<Vec<String>> {
    let mut why = Vec::new();
    for u in &inventory.unreadable {
        why.push(format!("unreadable package database {u}"));
    }
    let os_packages = inventory.packages.iter().filter(|p| !p.scheme.is_language()).count();
    // An image with language packages and neither an OS release file nor an
    // OS package database is built FROM scratch (a Go or Rust binary, a
    // distroless app): there is no OS to assess.
    let scratch = inventory.os.is_none() && os_packages == 0 && inventory.unreadable.is_empty() && inventory.packages.len() > os_packages;
    if inventory.packages.is_empty() && inventory.unreadable.is_empty() {
        why.push("no package database found (dpkg, apk or rpm): the image's packages are unknown".into());
    }
    for family in advisories::Family::LANGUAGES {
        let present = inventory.packages.iter().any(|p| advisories::Family::of_language(p.scheme) == Some(family));
        if present && !store::has_ecosystem(db, family, "").await? {
            why.push(format!(
                "no advisories loaded for {}: the image has {} packages; import its OSV records (opsdeck advisories import)",
                family.osv_name(),
                family.osv_name()
            ));
        }
    }
    match (&inventory.os, target) {
        (None, _) if scratch => {}
        (None, _) => why.push("unknown OS: the image has no /etc/os-release or /usr/lib/os-release".into()),
        (Some(os), None) => why.push(format!(
            "unknown OS {:?}: Opsdeck matches Debian, Ubuntu, Alpine, Red Hat, Rocky Linux and AlmaLinux packages",
            os.pretty_name.clone().unwrap_or_else(|| os.id.clone())
        )),
        (Some(_), Some(eco)) if os_packages > 0 && !store::has_ecosystem(db, eco.family, &eco.release).await? => {
            why.push(format!("no advisories loaded for {eco}: import its OSV records (opsdeck advisories import)"))
        }
        _ => {}
    }
    if let Some(days) = policy.max_advisory_age_days {
        match store::newest_modified(db).await? {
            Some(newest) => {
                let age = age_days(&newest);
                if age.is_none_or(|a| a > i64::from(days)) {
                    why.push(format!(
                        "advisory data is stale: the newest record was modified {newest}, more than {days} days ago (the policy's maximum age); import current OSV records"
                    ));
                }
            }
            None if target.is_some() => {} // already said: no advisories loaded
            None => why.push("no advisory data loaded: import OSV records (opsdeck advisories import)".into()),
        }
    }
    Ok(why)
}

/// Whole days from an OSV `modified` time (RFC 3339, or a date first) to now.
fn age_days(modified: &str) -> Option<i64> {
    let now = time::OffsetDateTime::now_utc();
    if let Ok(t) = time::OffsetDateTime::parse(modified, &time::format_description::well_known::Rfc3339) {
        return Some((now - t).whole_days());
    }
    let date = time::Date::parse(modified.get(..10)?, time::macros::format_description!("[year]-[month]-[day]")).ok()?;
    Some((now.date() - date).whole_days())
}

pub(crate) fn count(vulns: &[Vulnerability]) -> Counts {
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

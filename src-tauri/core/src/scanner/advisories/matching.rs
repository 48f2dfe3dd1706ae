//! Matching installed packages against the stored advisories: a package is
//! affected when its version is in an ECOSYSTEM range (introduced ≤ v <
//! fixed, or ≤ last_affected) or listed in `versions`, compared with the
//! ordering of its package manager.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::distro::{fix_status, FixStatus};
use super::ecosystem::{Ecosystem, Family};
use super::osv::{Event, Severity};
use super::store::{candidates, Candidate};
use crate::cache::db::Db;
use crate::error::Result;
use crate::scanner::packages::Package;
use crate::scanner::versions::{compare, Scheme};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Vulnerability {
    /// The installed (binary) package.
    pub package: String,
    /// Its source package when the advisory was filed under that.
    pub source: Option<String>,
    pub installed: String,
    /// The first fixed version of the range that matched; `None`: no fix yet.
    pub fixed: Option<String>,
    /// The OSV id first, then its aliases (CVE-…).
    pub ids: Vec<String>,
    pub severity: Severity,
    pub summary: String,
    /// The OSV ecosystem the advisory is filed in, for language packages
    /// (`npm`, `PyPI`, `Go`, `Maven`, `crates.io`, `RubyGems`).
    #[serde(default)]
    pub ecosystem: Option<String>,
    /// The file the package was found in (see [`Package::path`]).
    #[serde(default)]
    pub path: Option<String>,
    /// The layer that introduced the package.
    #[serde(default)]
    pub layer: Option<crate::scanner::packages::LayerRef>,
    /// Fixed, no fix yet, or won't fix (the distribution says so).
    #[serde(default)]
    pub fix_status: FixStatus,
    /// Whose word `severity` is when the distribution gave one (`Debian
    /// urgency`, `Ubuntu priority`, `Red Hat severity`); `None`: the
    /// advisory's CVSS (or its own word).
    #[serde(default)]
    pub severity_source: Option<String>,
    /// The advisory's CVSS-based severity when the distribution's word took its place.
    #[serde(default)]
    pub advisory_severity: Option<Severity>,
    /// The record's words on not fixing it (`no-dsa: ignored`).
    #[serde(default)]
    pub fix_note: Option<String>,
}

/// Whether `version` is affected by one range's events, and the fix.
fn in_range(scheme: Scheme, version: &str, events: &[Event]) -> (bool, Option<String>) {
    let mut affected = false;
    let mut fix = None;
    // Events are processed in version order, as the OSV spec describes.
    let mut sorted: Vec<&Event> = events.iter().collect();
    let key = |e: &Event| {
        e.introduced.clone().or_else(|| e.fixed.clone()).or_else(|| e.last_affected.clone()).or_else(|| e.limit.clone()).unwrap_or_default()
    };
    sorted.sort_by(|a, b| match (key(a).as_str(), key(b).as_str()) {
        ("0", "0") => Ordering::Equal,
        ("0", _) => Ordering::Less,
        (_, "0") => Ordering::Greater,
        (x, y) => compare(scheme, x, y),
    });
    for e in sorted {
        if let Some(i) = &e.introduced {
            if i == "0" || compare(scheme, version, i) != Ordering::Less {
                affected = true;
            }
        } else if let Some(f) = &e.fixed {
            if compare(scheme, version, f) != Ordering::Less {
                affected = false;
            } else if affected && fix.is_none() {
                fix = Some(f.clone());
            }
        } else if let Some(l) = &e.last_affected {
            if compare(scheme, version, l) == Ordering::Greater {
                affected = false;
            }
        } else if let Some(l) = &e.limit {
            if compare(scheme, version, l) != Ordering::Less {
                affected = false;
            }
        }
    }
    (affected, if affected { fix } else { None })
}

/// Whether a candidate affects `version`, and its fix.
fn affects(c: &Candidate, scheme: Scheme, version: &str) -> Option<Option<String>> {
    if c.versions.iter().any(|v| compare(scheme, version, v) == Ordering::Equal) {
        return Some(c.ranges.iter().map(|r| in_range(scheme, version, r).1).find(Option::is_some).flatten());
    }
    c.ranges.iter().map(|r| in_range(scheme, version, r)).find(|(hit, _)| *hit).map(|(_, fix)| fix)
}

/// Vulnerabilities of `packages` in `eco`, most severe first (language
/// packages among them are matched in their own ecosystems).
pub async fn match_packages(db: &Db, eco: &Ecosystem, packages: &[Package]) -> Result<Vec<Vulnerability>> {
    match_image(db, Some(eco), packages).await
}

/// Vulnerabilities of an image's packages, most severe first: OS packages
/// in the image's distribution `os` (none when it is unknown), language
/// packages in their ecosystem (npm, PyPI, …) with its version ordering.
pub async fn match_image(db: &Db, os: Option<&Ecosystem>, packages: &[Package]) -> Result<Vec<Vulnerability>> {
    // Look up each advisory package name once (many binaries share a source).
    let mut by_name: BTreeMap<(Family, String), Vec<Candidate>> = BTreeMap::new();
    let mut out: BTreeMap<(String, Option<String>, String), Vulnerability> = BTreeMap::new();
    for p in packages {
        let (family, release, language) = match (Family::of_language(p.scheme), os) {
            (Some(f), _) => (f, "", true),
            (None, Some(eco)) => (eco.family, eco.release.as_str(), false),
            (None, None) => continue,
        };
        let scheme = family.scheme();
        // dpkg advisories are filed by source package; rpm ones by source rpm or binary name.
        let mut names: Vec<(String, &str)> = Vec::new();
        if let Some(src) = &p.source_name {
            names.push((src.clone(), p.source_version.as_deref().filter(|_| scheme == Scheme::Dpkg).unwrap_or(&p.version)));
        }
        names.push((family.package_key(&p.name), p.version.as_str()));
        for (name, version) in names {
            let key = (family, name.clone());
            if !by_name.contains_key(&key) {
                let found = candidates(db, family, &name).await?;
                by_name.insert(key.clone(), found);
            }
            for c in &by_name[&key] {
                if !(c.release.is_empty() || c.release == release) {
                    continue;
                }
                let Some(fixed) = affects(c, scheme, version) else { continue };
                out.entry((p.name.clone(), p.path.clone(), c.id.clone())).or_insert_with(|| {
                    let mut ids = vec![c.id.clone()];
                    ids.extend(c.aliases.iter().filter(|a| **a != c.id).cloned());
                    let status = fix_status(fixed.as_deref(), &c.note);
                    let fix_note = c.note.wont_fix.clone().filter(|_| status == FixStatus::WontFix);
                    Vulnerability {
                        package: p.name.clone(),
                        source: (!language && name != p.name).then(|| name.to_string()),
                        installed: version.to_string(),
                        fixed,
                        ids,
                        // The distribution's own severity first, CVSS second.
                        severity: c.note.severity.filter(|_| !language).unwrap_or(c.severity),
                        severity_source: c.note.source.clone().filter(|_| !language && c.note.severity.is_some()),
                        advisory_severity: c.note.severity.filter(|s| !language && *s != c.severity).map(|_| c.severity),
                        fix_status: status,
                        fix_note,
                        summary: c.summary.clone(),
                        ecosystem: language.then(|| family.osv_name().to_string()),
                        path: p.path.clone(),
                        layer: p.layer.clone(),
                    }
                });
            }
        }
    }
    let mut list: Vec<Vulnerability> = out.into_values().collect();
    list.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.package.cmp(&b.package)).then_with(|| a.ids[0].cmp(&b.ids[0])));
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(introduced: Option<&str>, fixed: Option<&str>, last: Option<&str>) -> Vec<Event> {
        let mut v = vec![Event { introduced: Some(introduced.unwrap_or("0").into()), ..Default::default() }];
        if let Some(f) = fixed {
            v.push(Event { fixed: Some(f.into()), ..Default::default() });
        }
        if let Some(l) = last {
            v.push(Event { last_affected: Some(l.into()), ..Default::default() });
        }
        v
    }

    #[test]
    fn range_boundaries() {
        let d = Scheme::Dpkg;
        assert_eq!(in_range(d, "1.0-1", &ev(None, Some("1.0-2"), None)), (true, Some("1.0-2".into())));
        assert_eq!(in_range(d, "1.0-2", &ev(None, Some("1.0-2"), None)), (false, None), "fixed version itself is not affected");
        assert!(!in_range(d, "1.0-3", &ev(None, Some("1.0-2"), None)).0);
        assert!(!in_range(d, "0.9", &ev(Some("1.0"), Some("1.5"), None)).0, "before introduced");
        assert!(in_range(d, "1.0", &ev(Some("1.0"), Some("1.5"), None)).0, "introduced is inclusive");
        assert_eq!(in_range(d, "1.4", &ev(None, None, Some("1.4"))), (true, None), "last_affected inclusive, no fix");
        assert!(!in_range(d, "1.5", &ev(None, None, Some("1.4"))).0);
        assert_eq!(in_range(d, "5.0", &ev(None, None, None)), (true, None), "no fix yet");
        // Two ranges in one events list: 1.0 ≤ v < 1.2, 2.0 ≤ v < 2.3.
        let two = vec![
            Event { introduced: Some("1.0".into()), ..Default::default() },
            Event { fixed: Some("1.2".into()), ..Default::default() },
            Event { introduced: Some("2.0".into()), ..Default::default() },
            Event { fixed: Some("2.3".into()), ..Default::default() },
        ];
        assert!(!in_range(d, "1.5", &two).0);
        assert_eq!(in_range(d, "2.1", &two), (true, Some("2.3".into())));
    }
}

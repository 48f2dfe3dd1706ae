//! Re-assessing every scanned image from the layer cache, without Docker:
//! after a new advisory database is imported, or the policy changed. Each
//! re-match leaves a note of what changed (decisions, findings the new data
//! adds or no longer reports, images it can no longer assess), kept in a
//! bounded history ([`notes`]) so the app can show it later.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::assess::assess;
use super::gate::{self, GateOptions, Suppression};
use super::history;
use super::image::overlay::Root;
use super::layer_cache;
use super::packages::Inventory;
use super::policy::{Decision, Outcome, Policy};
use super::provenance;
use super::scan::ScanReport;
use crate::cache::db::{now_rfc3339, Db};
use crate::cache::settings;
use crate::error::Result;

/// What a re-match did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Rematched {
    /// Images re-assessed (a new history entry each).
    pub images: usize,
    /// Images whose layers are no longer all cached (scan them again).
    pub skipped: usize,
    /// Images whose decision changed, as `image: OLD → NEW`.
    pub changed: Vec<String>,
    /// Every image whose decision, findings or assessability changed.
    pub changes: Vec<ImageChange>,
}

/// How one image's assessment changed in a re-match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ImageChange {
    pub image: String,
    pub image_id: String,
    pub before: Decision,
    pub after: Decision,
    pub before_not_assessed: bool,
    pub after_not_assessed: bool,
    /// Findings the new data adds (a CVE id when the advisory has one), sorted.
    pub new_findings: Vec<String>,
    /// Findings no longer reported: the new data says the installed version
    /// is fixed (or the advisory was withdrawn), sorted.
    pub fixed_findings: Vec<String>,
    /// Reasons the image can no longer be assessed that it did not have before.
    pub new_not_assessed: Vec<String>,
}

impl ImageChange {
    /// `ALLOW`, `WARN`, `BLOCK`, or `NOT ASSESSED` (with the policy's decision).
    fn status(decision: Decision, not_assessed: bool) -> String {
        if not_assessed {
            format!("NOT ASSESSED ({})", decision.as_str())
        } else {
            decision.as_str().to_string()
        }
    }

    /// One line: `app:1.4 WARN → BLOCK (new CVE-2024-1; fixed CVE-2023-2)`.
    pub fn line(&self) -> String {
        let before = Self::status(self.before, self.before_not_assessed);
        let after = Self::status(self.after, self.after_not_assessed);
        let head = if before == after { format!("{} {after}", self.image) } else { format!("{} {before} → {after}", self.image) };
        let mut parts = Vec::new();
        if !self.new_findings.is_empty() {
            parts.push(format!("new {}", self.new_findings.join(", ")));
        }
        if !self.fixed_findings.is_empty() {
            parts.push(format!("fixed {}", self.fixed_findings.join(", ")));
        }
        if !self.new_not_assessed.is_empty() {
            parts.push(format!("now not assessed: {}", self.new_not_assessed.join("; ")));
        }
        if parts.is_empty() {
            head
        } else {
            format!("{head} ({})", parts.join("; "))
        }
    }
}

/// A re-match kept in the history: when, why, and what changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct RematchNote {
    /// RFC 3339 time of the re-match; also the note's id.
    pub at: String,
    /// What caused it (`advisories imported from …`, `policy changed`).
    pub cause: String,
    #[serde(flatten)]
    pub rematched: Rematched,
}

impl RematchNote {
    /// The note as text: a head line, then one line per changed image.
    pub fn lines(&self) -> Vec<String> {
        let r = &self.rematched;
        let mut out = vec![match r.changes.len() {
            0 => format!("no image changed ({} re-matched, {} need a new scan)", r.images, r.skipped),
            1 => format!("1 image changed ({} re-matched, {} need a new scan):", r.images, r.skipped),
            n => format!("{n} images changed ({} re-matched, {} need a new scan):", r.images, r.skipped),
        }];
        out.extend(r.changes.iter().map(|c| format!("  {}", c.line())));
        out
    }
}

/// Settings row holding the notes, newest first.
const NOTES_KEY: &str = "image_rematch_notes";
/// Notes kept; older ones are dropped.
pub const NOTES_KEPT: usize = 50;

/// The kept notes, newest first.
pub async fn notes(db: &Db) -> Result<Vec<RematchNote>> {
    Ok(settings::load_json::<Vec<RematchNote>>(db, NOTES_KEY).await?.unwrap_or_default())
}

async fn keep_note(db: &Db, note: &RematchNote) -> Result<()> {
    let mut all = notes(db).await?;
    all.insert(0, note.clone());
    all.truncate(NOTES_KEPT);
    settings::store_json(db, NOTES_KEY, &all).await?;
    Ok(())
}

/// The name a finding is shown by: its CVE alias when it has one.
fn finding_id(ids: &[String]) -> String {
    ids.iter().find(|i| i.starts_with("CVE-")).or_else(|| ids.first()).cloned().unwrap_or_default()
}

/// The counted findings as `(package, id)`.
fn counted(r: &ScanReport) -> BTreeSet<(String, String)> {
    r.assessment.vulnerabilities.iter().map(|v| (v.package.clone(), finding_id(&v.ids))).collect()
}

fn not_assessed(r: &ScanReport) -> bool {
    r.assessment.verdict.outcome == Outcome::NotAssessed
}

/// What changed from `before` to `after`; `None` when nothing did.
pub fn change(before: &ScanReport, after: &ScanReport) -> Option<ImageChange> {
    let (old, new) = (counted(before), counted(after));
    let ids = |set: BTreeSet<&(String, String)>| -> Vec<String> {
        set.into_iter().map(|(_, id)| id.clone()).collect::<BTreeSet<_>>().into_iter().collect()
    };
    let new_findings = ids(new.difference(&old).collect());
    let fixed_findings = ids(old.difference(&new).collect());
    let new_not_assessed: Vec<String> =
        after.assessment.verdict.not_assessed.iter().filter(|r| !before.assessment.verdict.not_assessed.contains(r)).cloned().collect();
    let c = ImageChange {
        image: after.image.clone(),
        image_id: after.image_id.clone(),
        before: before.assessment.verdict.decision,
        after: after.assessment.verdict.decision,
        before_not_assessed: not_assessed(before),
        after_not_assessed: not_assessed(after),
        new_findings,
        fixed_findings,
        new_not_assessed,
    };
    let same = c.before == c.after
        && c.before_not_assessed == c.after_not_assessed
        && c.new_findings.is_empty()
        && c.fixed_findings.is_empty()
        && c.new_not_assessed.is_empty();
    (!same).then_some(c)
}

/// The dated suppressions (file or team store) that applied when the image
/// was scanned, live or expired: applied again so a re-match keeps the
/// accepted risks (an OpenVEX statement, undated, is not carried: rescan
/// with `--vex`).
fn carried_suppressions(r: &ScanReport) -> Vec<Suppression> {
    let mut out: Vec<Suppression> = Vec::new();
    for s in r.assessment.suppressed.iter().chain(&r.assessment.expired_suppressions) {
        if !s.suppression.expires.is_empty() && !out.contains(&s.suppression) {
            out.push(s.suppression.clone());
        }
    }
    out
}

/// Re-assesses the newest report of every image from its cached layers (no
/// layer is read again), keeps each in the history, and keeps a note of what
/// changed under `cause`.
pub async fn rematch_all(db: &Db, policy: &Policy, cause: &str) -> Result<RematchNote> {
    let mut out = Rematched::default();
    let mut latest = history::latest_per_image(db).await?;
    latest.sort_by(|(_, a), (_, b)| a.image.cmp(&b.image).then_with(|| a.image_id.cmp(&b.image_id)));
    for (connection_id, before) in latest {
        let mut report = before.clone();
        let digests: Vec<String> = report.layers.iter().map(|l| l.digest.clone()).collect();
        let cached = layer_cache::get_many(db, &digests).await?;
        let Some(records) = digests.iter().map(|d| cached.get(d)).collect::<Option<Vec<_>>>() else {
            out.skipped += 1;
            continue;
        };
        let mut inventory = Inventory::of(&Root::build(records.iter().copied()));
        // The layers keep the instructions and base boundary the scan found.
        let instructions: Vec<Option<String>> = report.layers.iter().map(|l| l.created_by.clone()).collect();
        let base = report.layers.iter().filter(|l| l.base).count();
        provenance::attribute(&records, &instructions, base, &mut inventory);
        report.packages = inventory.packages.clone();
        report.assessment = assess(db, &inventory, &report.config, policy).await?;
        let suppressions = carried_suppressions(&before);
        if !suppressions.is_empty() {
            gate::apply(&mut report, policy, &GateOptions { suppressions, ..Default::default() });
        }
        report.layers.iter_mut().for_each(|l| l.from_cache = true);
        report.scanned_at = now_rfc3339();
        report.duration_ms = 0;
        let (old, new) = (before.assessment.verdict.decision, report.assessment.verdict.decision);
        if old != new {
            out.changed.push(format!("{}: {} → {}", report.image, old.as_str(), new.as_str()));
        }
        out.changes.extend(change(&before, &report));
        history::save(db, connection_id.as_deref(), &report).await?;
        out.images += 1;
    }
    let note = RematchNote { at: now_rfc3339(), cause: cause.to_string(), rematched: out };
    keep_note(db, &note).await?;
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change_of(image: &str, before: Decision, after: Decision) -> ImageChange {
        ImageChange {
            image: image.into(),
            image_id: "sha256:1".into(),
            before,
            after,
            before_not_assessed: false,
            after_not_assessed: false,
            new_findings: vec![],
            fixed_findings: vec![],
            new_not_assessed: vec![],
        }
    }

    #[test]
    fn lines_name_the_decision_change_and_the_findings() {
        let mut a = change_of("app:1.4", Decision::Warn, Decision::Block);
        a.new_findings = vec!["CVE-2024-1".into()];
        let mut b = change_of("web:2", Decision::Block, Decision::Allow);
        b.fixed_findings = vec!["CVE-2023-2".into(), "GHSA-x".into()];
        let mut c = change_of("go:1", Decision::Allow, Decision::Warn);
        c.after_not_assessed = true;
        c.new_not_assessed = vec!["no advisories loaded for Go".into()];
        let note = RematchNote {
            at: "t".into(),
            cause: "advisories".into(),
            rematched: Rematched { images: 4, skipped: 1, changed: vec![], changes: vec![a, b, c] },
        };
        assert_eq!(
            note.lines(),
            [
                "3 images changed (4 re-matched, 1 need a new scan):",
                "  app:1.4 WARN → BLOCK (new CVE-2024-1)",
                "  web:2 BLOCK → ALLOW (fixed CVE-2023-2, GHSA-x)",
                "  go:1 ALLOW → NOT ASSESSED (WARN) (now not assessed: no advisories loaded for Go)",
            ]
        );
        let same = change_of("db:1", Decision::Block, Decision::Block);
        let mut same_new = same.clone();
        same_new.new_findings = vec!["CVE-2024-9".into()];
        assert_eq!(same_new.line(), "db:1 BLOCK (new CVE-2024-9)");
    }

    #[test]
    fn finding_ids_prefer_the_cve_alias() {
        assert_eq!(finding_id(&["GHSA-a".into(), "CVE-2024-3".into()]), "CVE-2024-3");
        assert_eq!(finding_id(&["GO-2022-1059".into()]), "GO-2022-1059");
        assert_eq!(finding_id(&[]), "");
    }
}

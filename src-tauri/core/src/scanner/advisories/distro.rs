//! Distribution truth, as Trivy applies it: for a distribution's packages
//! the distribution's own severity comes first (Debian urgency, Ubuntu
//! priority, Red Hat / Rocky / AlmaLinux severity) and CVSS second, and the
//! record's word on fixing it (fixed, no fix yet, won't fix) is kept.
//!
//! Where OSV records carry them:
//! - Debian: `affected[].ecosystem_specific.urgency` (`unimportant`, `low`,
//!   `medium`, `high`; `not yet assigned` is no word), and the Security
//!   Tracker's `nodsa` / `nodsa_reason` (`ignored`: won't fix; `postponed`:
//!   no fix yet) or `status` (`end-of-life`, `ignored`) in
//!   `ecosystem_specific` / `database_specific`.
//! - Ubuntu: a `severity` entry of type `Ubuntu` (`negligible` … `critical`),
//!   or `ubuntu_priority` / `priority`; `status: ignored` is won't fix.
//! - Red Hat, Rocky, AlmaLinux: `database_specific.severity`, else the
//!   errata title the summary starts with (`Important: openssh security
//!   update`); `fix_state` `Will not fix` / `Out of support scope` is won't fix.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::ecosystem::Family;
use super::osv::{Affected, Record, Severity};

/// Whether the distribution fixes it, as the record says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum FixStatus {
    /// A fixed version exists.
    Fixed,
    /// Affected and no fixed version yet (open, postponed, deferred, undetermined).
    #[default]
    NotFixed,
    /// The distribution decided not to fix it in this release (Debian no-dsa
    /// `ignored`, Ubuntu `ignored`, Red Hat `Will not fix`, end of life).
    WontFix,
}

impl FixStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FixStatus::Fixed => "fixed",
            FixStatus::NotFixed => "not_fixed",
            FixStatus::WontFix => "wont_fix",
        }
    }

    /// `fixed`, `not-fixed` / `not_fixed` / `unfixed`, `wont-fix` / `wont_fix` / `will-not-fix`.
    pub fn parse(s: &str) -> Option<FixStatus> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "fixed" => Some(FixStatus::Fixed),
            "not-fixed" | "unfixed" | "no-fix" | "no-fix-yet" => Some(FixStatus::NotFixed),
            "wont-fix" | "won't-fix" | "will-not-fix" => Some(FixStatus::WontFix),
            _ => None,
        }
    }
}

/// What the distribution says of one affected entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct DistroNote {
    /// The distribution's own severity, when it gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Whose word that is: `Debian urgency`, `Ubuntu priority`, `Red Hat severity`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Set when the record says it will not be fixed: the record's words (`no-dsa: ignored`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wont_fix: Option<String>,
}

impl DistroNote {
    pub fn is_empty(&self) -> bool {
        self.severity.is_none() && self.wont_fix.is_none()
    }
}

/// String values of `keys` in the entry's and the record's specific fields, entry first.
fn words<'a>(record: &'a Record, affected: &'a Affected, keys: &'a [&'a str]) -> impl Iterator<Item = &'a str> + 'a {
    [&affected.ecosystem_specific, &affected.database_specific, &record.database_specific]
        .into_iter()
        .flat_map(move |v| keys.iter().filter_map(move |k| v.get(*k).and_then(Value::as_str)))
        .map(str::trim)
        .filter(|w| !w.is_empty())
}

/// A severity word, when it is one (`not yet assigned`, `unknown` are not).
fn known(word: &str) -> Option<Severity> {
    Some(Severity::from_word(word)).filter(|s| *s != Severity::Unknown)
}

/// The distribution's word on one affected entry of a record.
pub fn note_of(family: Family, record: &Record, affected: &Affected) -> DistroNote {
    let (severity, source) = match family {
        Family::Debian => (words(record, affected, &["urgency"]).find_map(known), "Debian urgency"),
        Family::Ubuntu => {
            let typed = affected.severity.iter().chain(&record.severity).filter(|e| e.kind.eq_ignore_ascii_case("Ubuntu"));
            let word = typed.map(|e| e.score.as_str()).find_map(known);
            (word.or_else(|| words(record, affected, &["ubuntu_priority", "priority"]).find_map(known)), "Ubuntu priority")
        }
        Family::RedHat | Family::Rocky | Family::Alma => {
            let given = words(record, affected, &["severity"]).find_map(known);
            // Errata titles: "Important: openssh security update".
            let title = record.summary.split_once(':').and_then(|(w, _)| known(w).filter(|_| !w.contains(' ')));
            let source = match family {
                Family::RedHat => "Red Hat severity",
                Family::Rocky => "Rocky Linux severity",
                _ => "AlmaLinux severity",
            };
            (given.or(title), source)
        }
        _ => (None, ""),
    };
    let wont_fix = match family {
        Family::Debian => {
            let nodsa = words(record, affected, &["nodsa_reason"])
                .find(|w| w.eq_ignore_ascii_case("ignored"))
                .map(|_| "no-dsa: ignored".to_string());
            nodsa.or_else(|| {
                words(record, affected, &["status"])
                    .find(|w| matches!(w.to_ascii_lowercase().as_str(), "ignored" | "end-of-life" | "eol"))
                    .map(|w| format!("Debian status: {w}"))
            })
        }
        Family::Ubuntu => words(record, affected, &["status", "ubuntu_status"])
            .find(|w| w.to_ascii_lowercase().starts_with("ignored"))
            .map(|w| format!("Ubuntu status: {w}")),
        Family::RedHat | Family::Rocky | Family::Alma => words(record, affected, &["fix_state", "state"])
            .find(|w| matches!(w.to_ascii_lowercase().as_str(), "will not fix" | "out of support scope" | "wontfix" | "will_not_fix"))
            .map(|w| format!("fix state: {w}")),
        _ => None,
    };
    DistroNote { source: severity.map(|_| source.to_string()), severity, wont_fix }
}

/// The fix status of a finding: fixed when a fixed version is known, else
/// won't fix when the distribution says so, else no fix yet.
pub fn fix_status(fixed: Option<&str>, note: &DistroNote) -> FixStatus {
    match (fixed, &note.wont_fix) {
        (Some(_), _) => FixStatus::Fixed,
        (None, Some(_)) => FixStatus::WontFix,
        (None, None) => FixStatus::NotFixed,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::scanner::advisories::osv::severity_of;

    fn record(v: Value) -> Record {
        serde_json::from_value(v).unwrap()
    }

    fn note(family: Family, r: &Record) -> DistroNote {
        note_of(family, r, &r.affected[0])
    }

    /// UBUNTU-CVE-2016-2781 (coreutils `chroot --userspec` TIOCSTI): Ubuntu
    /// priority low, NVD CVSS 3.0 6.5 (MEDIUM); no fix in 22.04 (deferred).
    #[test]
    fn ubuntu_priority_comes_before_cvss() {
        let r = record(json!({
            "id": "UBUNTU-CVE-2016-2781", "upstream": ["CVE-2016-2781"],
            "details": "chroot in GNU coreutils, when used with --userspec, allows local users to escape to the parent session via a crafted TIOCSTI ioctl call, which pushes characters to the terminal's input buffer.",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:C/C:N/I:H/A:N"}, {"type": "Ubuntu", "score": "low"}],
            "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "coreutils"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]
        }));
        assert_eq!(severity_of(&r), Severity::Medium, "the record's CVSS");
        let n = note(Family::Ubuntu, &r);
        assert_eq!((n.severity, n.source.as_deref()), (Some(Severity::Low), Some("Ubuntu priority")));
        assert_eq!(fix_status(None, &n), FixStatus::NotFixed);
    }

    /// RHSA-2024:4312 (openssh, CVE-2024-6387 "regreSSHion", RHEL 9): the
    /// errata title's "Important" is Red Hat's severity.
    #[test]
    fn red_hat_severity_from_the_errata_title() {
        let r = record(json!({
            "id": "RHSA-2024:4312", "upstream": ["CVE-2024-6387"], "summary": "Important: openssh security update",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "Red Hat:enterprise_linux:9::baseos", "name": "openssh"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0:8.7p1-38.el9_4.1"}]}]}]
        }));
        let n = note(Family::RedHat, &r);
        assert_eq!((n.severity, n.source.as_deref()), (Some(Severity::High), Some("Red Hat severity")));
        assert_eq!(fix_status(Some("0:8.7p1-38.el9_4.1"), &n), FixStatus::Fixed);
        // A title without a severity word gives none.
        let plain = record(json!({"id": "RHBA-2019:1992", "summary": "cloud-init bug fix update", "affected": [{}]}));
        assert_eq!(note(Family::RedHat, &plain), DistroNote::default());
        let state = record(json!({"id": "X", "affected": [{"database_specific": {"fix_state": "Will not fix"}}]}));
        assert_eq!(fix_status(None, &note(Family::Rocky, &state)), FixStatus::WontFix);
    }

    /// DEBIAN-CVE-2023-45853 (zlib MiniZip integer overflow, CVSS 9.8): the
    /// Security Tracker lists bookworm as no-dsa, ignored (contrib/minizip is
    /// not built), and assigns no urgency.
    #[test]
    fn debian_urgency_and_no_dsa() {
        let r = record(json!({
            "id": "DEBIAN-CVE-2023-45853", "upstream": ["CVE-2023-45853"],
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "Debian:12", "name": "zlib"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                          "ecosystem_specific": {"urgency": "not yet assigned", "nodsa": "Minor issue", "nodsa_reason": "ignored"}}]
        }));
        let n = note(Family::Debian, &r);
        assert_eq!(n.severity, None, "'not yet assigned' is no urgency: CVSS decides");
        assert_eq!(severity_of(&r), Severity::Critical);
        assert_eq!(fix_status(None, &n), FixStatus::WontFix);
        assert_eq!(n.wont_fix.as_deref(), Some("no-dsa: ignored"));
        let postponed =
            record(json!({"id": "X", "affected": [{"ecosystem_specific": {"urgency": "unimportant", "nodsa_reason": "postponed"}}]}));
        let n = note(Family::Debian, &postponed);
        assert_eq!((n.severity, fix_status(None, &n)), (Some(Severity::Low), FixStatus::NotFixed));
        // Alpine publishes no severity of its own.
        assert!(note(Family::Alpine, &postponed).is_empty());
    }

    #[test]
    fn fix_status_words() {
        assert_eq!(FixStatus::parse("wont-fix"), Some(FixStatus::WontFix));
        assert_eq!(FixStatus::parse("NOT_FIXED"), Some(FixStatus::NotFixed));
        assert_eq!(FixStatus::parse("fixed"), Some(FixStatus::Fixed));
        assert_eq!(FixStatus::parse("maybe"), None);
    }
}

#[cfg(test)]
mod matching_tests {
    use serde_json::json;

    use super::*;
    use crate::cache::db::Db;
    use crate::scanner::advisories::{ecosystem, import_path, match_packages};
    use crate::scanner::packages::Package;
    use crate::scanner::versions::Scheme;

    fn deb(name: &str, version: &str, source: &str) -> Package {
        serde_json::from_value(json!({"name": name, "version": version, "source_name": source, "source_version": null, "arch": "amd64", "scheme": Scheme::Dpkg}))
            .unwrap()
    }

    /// Imported and matched: the distribution's word is the finding's
    /// severity (the advisory's kept beside it), and the fix status follows
    /// the record. Records as in the unit tests above (UBUNTU-CVE-2016-2781,
    /// DEBIAN-CVE-2023-45853, USN-style fixed UBUNTU-CVE-2024-6387).
    #[tokio::test]
    async fn findings_carry_the_distribution_severity_and_fix_status() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).await.unwrap();
        let folder = dir.path().join("osv");
        std::fs::create_dir_all(&folder).unwrap();
        let records = [
            json!({"id": "UBUNTU-CVE-2016-2781", "modified": "2026-11-01T00:00:00Z", "upstream": ["CVE-2016-2781"],
                   "severity": [{"type": "CVSS_V3", "score": "CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:C/C:N/I:H/A:N"}, {"type": "Ubuntu", "score": "low"}],
                   "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "coreutils"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}),
            json!({"id": "UBUNTU-CVE-2024-6387", "modified": "2026-11-01T00:00:00Z", "upstream": ["CVE-2024-6387"],
                   "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"}, {"type": "Ubuntu", "score": "high"}],
                   "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "openssh"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:8.9p1-3ubuntu0.10"}]}]}]}),
            json!({"id": "DEBIAN-CVE-2023-45853", "modified": "2026-11-01T00:00:00Z", "upstream": ["CVE-2023-45853"],
                   "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
                   "affected": [{"package": {"ecosystem": "Debian:12", "name": "zlib"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                                 "ecosystem_specific": {"urgency": "not yet assigned", "nodsa": "Minor issue", "nodsa_reason": "ignored"}}]}),
        ];
        for r in &records {
            std::fs::write(folder.join(format!("{}.json", r["id"].as_str().unwrap())), serde_json::to_vec(r).unwrap()).unwrap();
        }
        import_path(&db, &folder).await.unwrap();

        let jammy = ecosystem::parse("Ubuntu:22.04:LTS").unwrap();
        let found = match_packages(
            &db,
            &jammy,
            &[deb("coreutils", "8.32-4.1ubuntu1", "coreutils"), deb("openssh-client", "1:8.9p1-3ubuntu0.6", "openssh")],
        )
        .await
        .unwrap();
        let coreutils = found.iter().find(|v| v.package == "coreutils").unwrap();
        assert_eq!(
            (coreutils.severity, coreutils.severity_source.as_deref(), coreutils.advisory_severity, coreutils.fix_status),
            (Severity::Low, Some("Ubuntu priority"), Some(Severity::Medium), FixStatus::NotFixed)
        );
        let ssh = found.iter().find(|v| v.package == "openssh-client").unwrap();
        assert_eq!(
            (ssh.severity, ssh.advisory_severity, ssh.fix_status),
            (Severity::High, None, FixStatus::Fixed),
            "same word: no second severity"
        );

        let bookworm = ecosystem::parse("Debian:12").unwrap();
        let found = match_packages(&db, &bookworm, &[deb("zlib1g", "1:1.2.13.dfsg-1", "zlib")]).await.unwrap();
        assert_eq!(found.len(), 1);
        let z = &found[0];
        assert_eq!(
            (z.severity, z.severity_source.as_deref(), z.fix_status),
            (Severity::Critical, None, FixStatus::WontFix),
            "no urgency: CVSS"
        );
        assert_eq!(z.fix_note.as_deref(), Some("no-dsa: ignored"));
    }
}

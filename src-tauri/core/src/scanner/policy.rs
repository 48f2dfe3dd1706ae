//! The seed's rules: a risk score from the vulnerabilities, policies on the
//! image's configuration, and the decision BLOCK / WARN / ALLOW.
//!
//! risk score = 10 × CRITICAL + 5 × HIGH; the risk level comes from the
//! score by thresholds. BLOCK when the level is CRITICAL or any policy is
//! violated; WARN when the level is HIGH; ALLOW otherwise.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Editable policies (Settings → Images, `opsdeck scan --policy FILE`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(default)]
pub struct Policy {
    /// No CRITICAL vulnerability.
    pub no_critical: bool,
    /// A HEALTHCHECK in the image.
    pub require_healthcheck: bool,
    /// USER is set and is not root, 0 or empty.
    pub forbid_root: bool,
    /// Labels that must be present.
    pub required_labels: Vec<String>,
    /// Lowest score of each risk level.
    pub thresholds: Thresholds,
    /// A scan that could not assess the image (unknown OS, no or unreadable
    /// package database, no advisories for its ecosystem, stale advisories)
    /// is BLOCK instead of WARN.
    pub block_not_assessed: bool,
    /// Advisory data whose newest record was modified more than this many
    /// days ago makes a scan "not assessed"; `None`: no limit.
    pub max_advisory_age_days: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Thresholds {
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            no_critical: true,
            require_healthcheck: true,
            forbid_root: true,
            required_labels: vec!["version".into(), "maintainer".into(), "description".into()],
            thresholds: Thresholds::default(),
            block_not_assessed: false,
            max_advisory_age_days: None,
        }
    }
}

impl Default for Thresholds {
    /// CRITICAL from 50 (five criticals, or ten highs), HIGH from 20, MEDIUM from 5.
    fn default() -> Self {
        Thresholds { critical: 50, high: 20, medium: 5 }
    }
}

impl Policy {
    pub fn validate(&self) -> Result<()> {
        let t = self.thresholds;
        if !(t.medium >= 1 && t.medium <= t.high && t.high <= t.critical) {
            return Err(Error::invalid("risk thresholds must satisfy 1 ≤ medium ≤ high ≤ critical"));
        }
        if let Some(bad) = self.required_labels.iter().find(|l| l.trim().is_empty() || l.len() > 256) {
            return Err(Error::invalid(format!("required label {bad:?}: a label key is 1 to 256 characters")));
        }
        if self.max_advisory_age_days == Some(0) {
            return Err(Error::invalid("max_advisory_age_days must be at least 1 (leave it out for no limit)"));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "UPPERCASE")]
pub enum RiskLevel {
    None,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
// `GateDecision` in the IPC contract (the VM workflow has its own Decision).
#[serde(rename = "GateDecision", rename_all = "UPPERCASE")]
pub enum Decision {
    Block,
    Warn,
    Allow,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Block => "BLOCK",
            Decision::Warn => "WARN",
            Decision::Allow => "ALLOW",
        }
    }
}

/// The parts of an image's configuration the policies look at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct ImageConfig {
    pub user: Option<String>,
    /// The HEALTHCHECK test (`None` or `["NONE"]` = no health check).
    pub healthcheck: Option<Vec<String>>,
    pub labels: BTreeMap<String, String>,
}

/// One policy the image breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Violation {
    /// Stable id: `no-critical-vulnerabilities`, `require-healthcheck`, `no-root-user`, `require-labels`.
    pub policy: String,
    pub details: String,
}

/// Counts per severity that the score uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Counts {
    pub critical: u32,
    pub high: u32,
    pub medium: u32,
    pub low: u32,
    pub unknown: u32,
}

/// Whether the scan could assess the image at all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename = "ScanOutcome", rename_all = "snake_case")]
pub enum Outcome {
    #[default]
    Assessed,
    /// Nothing found says nothing: the reasons are in `not_assessed`.
    NotAssessed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Verdict {
    pub risk_score: u32,
    pub risk_level: RiskLevel,
    pub violations: Vec<Violation>,
    pub decision: Decision,
    #[serde(default)]
    pub outcome: Outcome,
    /// Why the scan could not assess the image (empty when it could).
    #[serde(default)]
    pub not_assessed: Vec<String>,
}

pub fn risk_score(c: &Counts) -> u32 {
    c.critical.saturating_mul(10).saturating_add(c.high.saturating_mul(5))
}

pub fn risk_level(score: u32, t: &Thresholds) -> RiskLevel {
    match score {
        s if s >= t.critical => RiskLevel::Critical,
        s if s >= t.high => RiskLevel::High,
        s if s >= t.medium => RiskLevel::Medium,
        0 => RiskLevel::None,
        _ => RiskLevel::Low,
    }
}

/// Whether USER leaves the container running as root.
fn runs_as_root(user: Option<&str>) -> bool {
    let user = user.unwrap_or("").trim();
    let name = user.split(':').next().unwrap_or("");
    name.is_empty() || name == "root" || name == "0"
}

fn has_healthcheck(test: Option<&[String]>) -> bool {
    matches!(test, Some(t) if !t.is_empty() && t[0] != "NONE")
}

/// The verdict; `not_assessed` lists why the scan could not assess the
/// image, which makes the decision at least WARN (BLOCK when the policy says so).
pub fn evaluate(policy: &Policy, config: &ImageConfig, counts: &Counts, not_assessed: &[String]) -> Verdict {
    let mut violations = Vec::new();
    if policy.no_critical && counts.critical > 0 {
        violations.push(Violation {
            policy: "no-critical-vulnerabilities".into(),
            details: format!("{} CRITICAL vulnerabilities", counts.critical),
        });
    }
    if policy.require_healthcheck && !has_healthcheck(config.healthcheck.as_deref()) {
        violations.push(Violation { policy: "require-healthcheck".into(), details: "the image has no HEALTHCHECK".into() });
    }
    if policy.forbid_root && runs_as_root(config.user.as_deref()) {
        let user = config.user.as_deref().filter(|u| !u.is_empty()).unwrap_or("(not set)");
        violations.push(Violation { policy: "no-root-user".into(), details: format!("the container runs as root (USER {user})") });
    }
    let missing: Vec<&str> = policy.required_labels.iter().filter(|l| !config.labels.contains_key(*l)).map(String::as_str).collect();
    if !missing.is_empty() {
        violations.push(Violation { policy: "require-labels".into(), details: format!("missing labels: {}", missing.join(", ")) });
    }
    let risk_score = risk_score(counts);
    let risk_level = risk_level(risk_score, &policy.thresholds);
    let blocked_not_assessed = !not_assessed.is_empty() && policy.block_not_assessed;
    let decision = if risk_level == RiskLevel::Critical || !violations.is_empty() || blocked_not_assessed {
        Decision::Block
    } else if risk_level == RiskLevel::High || !not_assessed.is_empty() {
        Decision::Warn
    } else {
        Decision::Allow
    };
    let outcome = if not_assessed.is_empty() { Outcome::Assessed } else { Outcome::NotAssessed };
    Verdict { risk_score, risk_level, violations, decision, outcome, not_assessed: not_assessed.to_vec() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compliant() -> ImageConfig {
        ImageConfig {
            user: Some("app".into()),
            healthcheck: Some(vec!["CMD".into(), "true".into()]),
            labels: [("version", "1"), ("maintainer", "ops"), ("description", "d")]
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    fn counts(critical: u32, high: u32) -> Counts {
        Counts { critical, high, ..Default::default() }
    }

    #[test]
    fn the_seed_score_and_levels() {
        let t = Thresholds::default();
        assert_eq!(risk_score(&counts(2, 3)), 35);
        assert_eq!(risk_level(0, &t), RiskLevel::None);
        assert_eq!(risk_level(4, &t), RiskLevel::Low);
        assert_eq!(risk_level(5, &t), RiskLevel::Medium);
        assert_eq!(risk_level(20, &t), RiskLevel::High);
        assert_eq!(risk_level(50, &t), RiskLevel::Critical);
        assert_eq!(risk_score(&counts(u32::MAX, u32::MAX)), u32::MAX, "saturates");
    }

    #[test]
    fn decisions() {
        let p = Policy::default();
        assert_eq!(evaluate(&p, &compliant(), &counts(0, 1), &[]).decision, Decision::Allow);
        assert_eq!(evaluate(&p, &compliant(), &counts(0, 4), &[]).decision, Decision::Warn, "score 20 = HIGH");
        let v = evaluate(&p, &compliant(), &counts(1, 0), &[]);
        assert_eq!((v.decision, v.violations[0].policy.as_str()), (Decision::Block, "no-critical-vulnerabilities"));
        let lenient = Policy { no_critical: false, ..Policy::default() };
        assert_eq!(evaluate(&lenient, &compliant(), &counts(1, 0), &[]).decision, Decision::Allow);
        assert_eq!(evaluate(&lenient, &compliant(), &counts(0, 10), &[]).decision, Decision::Block, "score 50 = CRITICAL");
    }

    #[test]
    fn each_configuration_policy() {
        let p = Policy::default();
        let ids = |c: &ImageConfig| evaluate(&p, c, &Counts::default(), &[]).violations.into_iter().map(|v| v.policy).collect::<Vec<_>>();
        for user in [None, Some(""), Some("root"), Some("0"), Some("0:0"), Some("root:wheel")] {
            assert_eq!(ids(&ImageConfig { user: user.map(String::from), ..compliant() }), ["no-root-user"], "{user:?}");
        }
        assert!(ids(&ImageConfig { user: Some("1000:1000".into()), ..compliant() }).is_empty());
        for hc in [None, Some(vec![]), Some(vec!["NONE".to_string()])] {
            assert_eq!(ids(&ImageConfig { healthcheck: hc, ..compliant() }), ["require-healthcheck"]);
        }
        let mut c = compliant();
        c.labels.remove("maintainer");
        c.labels.remove("description");
        let v = evaluate(&p, &c, &Counts::default(), &[]);
        assert_eq!(v.violations[0].details, "missing labels: maintainer, description");
        assert_eq!(v.decision, Decision::Block);
        let off = Policy { require_healthcheck: false, forbid_root: false, required_labels: vec![], ..Policy::default() };
        assert_eq!(evaluate(&off, &ImageConfig::default(), &Counts::default(), &[]).decision, Decision::Allow);
    }

    #[test]
    fn not_assessed_is_warn_or_block_by_policy() {
        let p = Policy::default();
        let why = ["unknown OS".to_string()];
        let v = evaluate(&p, &compliant(), &Counts::default(), &why);
        assert_eq!((v.decision, v.outcome, v.not_assessed.as_slice()), (Decision::Warn, Outcome::NotAssessed, why.as_slice()));
        let strict = Policy { block_not_assessed: true, ..Policy::default() };
        assert_eq!(evaluate(&strict, &compliant(), &Counts::default(), &why).decision, Decision::Block);
        assert_eq!(evaluate(&strict, &compliant(), &Counts::default(), &[]).outcome, Outcome::Assessed);
        let old: Verdict = serde_json::from_str(r#"{"risk_score":0,"risk_level":"NONE","violations":[],"decision":"ALLOW"}"#).unwrap();
        assert_eq!(old.outcome, Outcome::Assessed, "reports stored before the outcome existed read as assessed");
    }

    #[test]
    fn thresholds_are_validated() {
        assert!(Policy::default().validate().is_ok());
        let bad = Policy { thresholds: Thresholds { critical: 10, high: 20, medium: 5 }, ..Policy::default() };
        assert!(bad.validate().is_err());
        let bad = Policy { required_labels: vec![" ".into()], ..Policy::default() };
        assert!(bad.validate().is_err());
    }
}

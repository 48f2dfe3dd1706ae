//! What counts for the gate: accepted risks from a suppressions file
//! (`opsdeck-ignore.yaml`), and the severity and fix filters of `opsdeck scan`
//! (`--severity`, `--ignore-unfixed`, `--fix-status`). Applied to a finished report; the
//! decision is then evaluated again from what still counts.
//!
//! ```yaml
//! suppressions:
//!   - id: CVE-2023-12345          # CVE, GHSA or OSV id (any id of the finding)
//!     package: openssl            # optional: binary or source package
//!     image: "registry.example/app:*"  # optional: glob on the image reference, tags, digests or id
//!     reason: not reachable, TLS is terminated at the proxy
//!     author: alice@example.com
//!     expires: 2027-03-31         # the last day it applies (UTC)
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::advisories::{FixStatus, Severity, Vulnerability};
use super::assess::count;
use super::policy::{evaluate, Policy};
use super::scan::ScanReport;
use crate::error::{Error, Result};

/// One accepted risk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Suppression {
    /// A CVE, GHSA or OSV id; matches a finding carrying it among its ids.
    pub id: String,
    /// Only this package (binary or source name).
    pub package: Option<String>,
    /// Only images whose reference, tag, digest or id matches this glob (`*`, `?`).
    pub image: Option<String>,
    pub reason: String,
    pub author: String,
    /// Last day (UTC) it applies, `YYYY-MM-DD`; empty for an OpenVEX statement (no expiry).
    pub expires: String,
}

/// A finding and the suppression that hides it (or that hid it until it expired).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct SuppressedFinding {
    pub vulnerability: Vulnerability,
    pub suppression: Suppression,
}

/// What decides which findings count.
#[derive(Debug, Clone, Default)]
pub struct GateOptions {
    pub suppressions: Vec<Suppression>,
    /// Only findings of these severities count; `None`: all.
    pub severities: Option<Vec<Severity>>,
    /// Findings without a fixed version do not count.
    pub ignore_unfixed: bool,
    /// Only findings with these fix statuses count (`--fix-status`); `None`: all.
    pub fix_statuses: Option<Vec<FixStatus>>,
    /// Today (UTC), for expiries; `None`: the clock's date.
    pub today: Option<time::Date>,
    /// OpenVEX statements (`--vex`): `not_affected` and `fixed` hide a finding.
    pub vex: Vec<VexStatement>,
}

/// One OpenVEX statement, reduced to what matching needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexStatement {
    /// The vulnerability's name and aliases.
    pub ids: Vec<String>,
    /// Product `@id`s and purls: image references (globs), `pkg:oci/NAME@DIGEST`, or package purls.
    pub products: Vec<String>,
    /// Package purls or names inside the products; empty: the whole product.
    pub subcomponents: Vec<String>,
    pub status: String,
    /// Justification and impact statement.
    pub reason: String,
    pub author: String,
}

/// Reads an OpenVEX document (v0.2.0, and the older string `vulnerability`).
pub fn load_vex(path: &Path) -> Result<Vec<VexStatement>> {
    let bad = |what: String| Error::invalid(format!("OpenVEX document {}: {what} (see https://openvex.dev)", path.display()));
    super::budget::check_chosen_file(path, "OpenVEX document")?;
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("{e} (check the path given to --vex)")))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let author = doc["author"].as_str().unwrap_or("").to_string();
    let statements = doc["statements"].as_array().ok_or_else(|| bad("no \"statements\" list".into()))?;
    let ids_of = |p: &serde_json::Value| -> Vec<String> {
        [p["@id"].as_str(), p["identifiers"]["purl"].as_str()].into_iter().flatten().map(String::from).collect()
    };
    let mut out = Vec::new();
    for (i, s) in statements.iter().enumerate() {
        let v = &s["vulnerability"];
        let mut ids: Vec<String> = match v.as_str() {
            Some(name) => vec![name.to_string()],
            None => [v["name"].as_str(), v["@id"].as_str()].into_iter().flatten().map(String::from).collect(),
        };
        ids.extend(v["aliases"].as_array().into_iter().flatten().filter_map(|a| a.as_str()).map(String::from));
        let status = s["status"].as_str().unwrap_or("").to_string();
        if ids.is_empty() || status.is_empty() {
            return Err(bad(format!("statement {i} needs a vulnerability and a status")));
        }
        let products: Vec<&serde_json::Value> = s["products"].as_array().map(|p| p.iter().collect()).unwrap_or_default();
        let subcomponents = products.iter().flat_map(|p| p["subcomponents"].as_array().into_iter().flatten()).flat_map(ids_of).collect();
        let reason = [s["justification"].as_str(), s["impact_statement"].as_str(), s["status_notes"].as_str()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(": ");
        out.push(VexStatement {
            ids,
            products: products.into_iter().flat_map(ids_of).collect(),
            subcomponents,
            status,
            reason,
            author: s["author"].as_str().map(String::from).unwrap_or_else(|| author.clone()),
        });
    }
    Ok(out)
}

/// Name and version of a purl (`pkg:TYPE/NAMESPACE/NAME@VERSION?…`).
fn purl_parts(purl: &str) -> Option<(&str, &str, Option<&str>)> {
    let rest = purl.strip_prefix("pkg:")?;
    let rest = rest.split(['?', '#']).next()?;
    let (kind, path) = rest.split_once('/')?;
    let (path, version) = match path.split_once('@') {
        Some((p, v)) => (p, Some(v)),
        None => (path, None),
    };
    Some((kind, path.rsplit('/').next()?, version))
}

fn image_refs(report: &ScanReport) -> impl Iterator<Item = &String> {
    std::iter::once(&report.image).chain(&report.repo_tags).chain(&report.repo_digests).chain(std::iter::once(&report.image_id))
}

fn vex_applies(s: &VexStatement, v: &Vulnerability, report: &ScanReport) -> bool {
    let package = |p: &str| match purl_parts(p) {
        Some((_, name, _)) => name == v.package || v.source.as_deref() == Some(name),
        None => p == v.package || v.source.as_deref() == Some(p),
    };
    let product = |p: &str| match purl_parts(p) {
        // The image: its repository's last name, or its digest.
        Some(("oci", name, version)) => {
            let digest = version.map(|d| d.replace("%3A", ":"));
            image_refs(report).any(|r| {
                let repo = r.split('@').next().unwrap_or(r);
                let repo = repo.rsplit_once(':').filter(|(_, tag)| !tag.contains('/')).map_or(repo, |(n, _)| n);
                digest.as_deref().map_or(repo.rsplit('/').next() == Some(name), |d| r.ends_with(d))
            })
        }
        Some(_) => package(p),
        None => image_refs(report).any(|r| glob_match(p, r)),
    };
    matches!(s.status.as_str(), "not_affected" | "fixed")
        && s.ids.iter().any(|id| v.ids.iter().any(|x| x.eq_ignore_ascii_case(id)))
        && (s.products.is_empty() || s.products.iter().any(|p| product(p)))
        && (s.subcomponents.is_empty() || s.subcomponents.iter().any(|p| package(p)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    suppressions: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: Text,
    package: Option<Text>,
    image: Option<Text>,
    reason: Text,
    author: Text,
    expires: Day,
}

/// A string that is not blank.
#[derive(Deserialize)]
#[serde(try_from = "String")]
struct Text(String);

impl TryFrom<String> for Text {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("an empty value (id, package, image, reason and author must not be blank)".into());
        }
        Ok(Text(t.to_string()))
    }
}

#[derive(Deserialize)]
#[serde(try_from = "String")]
struct Day(String);

impl TryFrom<String> for Day {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        parse_day(s.trim()).map(|_| Day(s.trim().to_string()))
    }
}

/// An expiry day (`YYYY-MM-DD`), with the error a person can act on.
pub fn parse_expiry(s: &str) -> std::result::Result<time::Date, String> {
    parse_day(s)
}

fn parse_day(s: &str) -> std::result::Result<time::Date, String> {
    let bad = || format!("expires {s:?} is not a date: write YYYY-MM-DD, e.g. 2027-03-31");
    let mut parts = s.splitn(3, '-');
    let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let y: i32 = y.parse().map_err(|_| bad())?;
    let m: u8 = m.parse().map_err(|_| bad())?;
    let d: u8 = d.parse().map_err(|_| bad())?;
    let month = time::Month::try_from(m).map_err(|_| bad())?;
    time::Date::from_calendar_date(y, month, d).map_err(|_| bad())
}

/// Parses a suppressions file's text; errors name the line (`at line 4 column 7`).
pub fn parse_suppressions(text: &str) -> std::result::Result<Vec<Suppression>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let file: File = serde_norway::from_str(text).map_err(|e| e.to_string())?;
    Ok(file
        .suppressions
        .into_iter()
        .map(|e| Suppression {
            id: e.id.0,
            package: e.package.map(|p| p.0),
            image: e.image.map(|i| i.0),
            reason: e.reason.0,
            author: e.author.0,
            expires: e.expires.0,
        })
        .collect())
}

/// Reads a suppressions file (`opsdeck-ignore.yaml`).
pub fn load_suppressions(path: &Path) -> Result<Vec<Suppression>> {
    super::budget::check_chosen_file(path, "suppressions file")?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::invalid(format!("suppressions file {}: {e} (check the path given to --ignore-file)", path.display())))?;
    parse_suppressions(&text).map_err(|e| {
        Error::invalid(format!(
            "suppressions file {}: {e}; each entry needs id, reason, author and expires (YYYY-MM-DD), and may have package and image",
            path.display()
        ))
    })
}

/// `*` any run of characters, `?` one character; everything else literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn applies(s: &Suppression, v: &Vulnerability, report: &ScanReport) -> bool {
    v.ids.iter().any(|id| id.eq_ignore_ascii_case(&s.id))
        && s.package.as_ref().is_none_or(|p| *p == v.package || v.source.as_ref() == Some(p))
        && s.image.as_ref().is_none_or(|g| image_refs(report).any(|r| glob_match(g, r)))
}

/// Sorts the report's findings into counted, suppressed and excluded (by
/// severity or fix), lists the expired suppressions that matched, and
/// evaluates the decision again. Applying it twice gives the same report.
pub fn apply(report: &mut ScanReport, policy: &Policy, options: &GateOptions) {
    let today = options.today.unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    let a = &mut report.assessment;
    let mut all: Vec<Vulnerability> = std::mem::take(&mut a.vulnerabilities);
    all.extend(a.suppressed.drain(..).map(|s| s.vulnerability));
    all.append(&mut a.excluded);
    a.expired_suppressions.clear();
    all.sort_by(|x, y| y.severity.cmp(&x.severity).then_with(|| x.package.cmp(&y.package)).then_with(|| x.ids.cmp(&y.ids)));
    let (mut counted, mut suppressed, mut expired, mut excluded) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for v in all {
        let matching: Vec<&Suppression> = options.suppressions.iter().filter(|s| applies(s, &v, report)).collect();
        let live = matching.iter().find(|s| parse_day(&s.expires).is_ok_and(|d| d >= today));
        if let Some(s) = live {
            suppressed.push(SuppressedFinding { vulnerability: v, suppression: (*s).clone() });
            continue;
        }
        if let Some(s) = options.vex.iter().find(|s| vex_applies(s, &v, report)) {
            let suppression = Suppression {
                id: s.ids[0].clone(),
                package: s.subcomponents.first().cloned(),
                image: s.products.first().cloned(),
                reason: if s.reason.is_empty() { format!("OpenVEX: {}", s.status) } else { format!("OpenVEX {}: {}", s.status, s.reason) },
                author: s.author.clone(),
                expires: String::new(),
            };
            suppressed.push(SuppressedFinding { vulnerability: v, suppression });
            continue;
        }
        for s in &matching {
            expired.push(SuppressedFinding { vulnerability: v.clone(), suppression: (*s).clone() });
        }
        let by_severity = options.severities.as_ref().is_some_and(|set| !set.contains(&v.severity));
        let by_fix = options.fix_statuses.as_ref().is_some_and(|set| !set.contains(&v.fix_status));
        if by_severity || by_fix || (options.ignore_unfixed && v.fixed.is_none()) {
            excluded.push(v);
        } else {
            counted.push(v);
        }
    }
    let a = &mut report.assessment;
    a.counts = count(&counted);
    a.vulnerabilities = counted;
    a.suppressed = suppressed;
    a.expired_suppressions = expired;
    a.excluded = excluded;
    let not_assessed = std::mem::take(&mut a.verdict.not_assessed);
    a.verdict = evaluate(policy, &report.config, &a.counts, &not_assessed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls() {
        assert_eq!(purl_parts("pkg:apk/alpine/libssl3@3.3.0-r2?arch=x86_64"), Some(("apk", "libssl3", Some("3.3.0-r2"))));
        assert_eq!(purl_parts("pkg:oci/app@sha256%3Aabc?repository_url=r.example/team/app"), Some(("oci", "app", Some("sha256%3Aabc"))));
        assert_eq!(purl_parts("app:1"), None);
    }

    #[test]
    fn globs() {
        assert!(glob_match("registry.example/app:*", "registry.example/app:1.4"));
        assert!(glob_match("*app*", "x/app:1"));
        assert!(glob_match("app:1.?", "app:1.4"));
        assert!(!glob_match("app:1.?", "app:1.40"));
        assert!(!glob_match("app", "app:1"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn file_errors_name_the_line() {
        let ok = "suppressions:\n  - id: CVE-2023-1\n    reason: accepted\n    author: alice\n    expires: 2027-03-31\n";
        let s = parse_suppressions(ok).unwrap();
        assert_eq!((s[0].id.as_str(), s[0].expires.as_str(), s[0].package.as_ref()), ("CVE-2023-1", "2027-03-31", None));
        let no_reason = "suppressions:\n  - id: CVE-2023-1\n    author: alice\n    expires: 2027-03-31\n";
        let e = parse_suppressions(no_reason).unwrap_err();
        assert!(e.contains("reason") && e.contains("line 2"), "{e}");
        let blank = "suppressions:\n  - id: CVE-2023-1\n    reason: \"  \"\n    author: alice\n    expires: 2027-03-31\n";
        let e = parse_suppressions(blank).unwrap_err();
        assert!(e.contains("must not be blank") && e.contains("suppressions[0]") && e.contains("line 2"), "{e}");
        let date = "suppressions:\n  - id: CVE-2023-1\n    reason: r\n    author: a\n    expires: 31/03/2027\n";
        let e = parse_suppressions(date).unwrap_err();
        assert!(e.contains("YYYY-MM-DD") && e.contains("line 2"), "{e}");
        let typo = "suppressions:\n  - id: CVE-2023-1\n    reason: r\n    author: a\n    expires: 2027-03-31\n    pakage: x\n";
        assert!(parse_suppressions(typo).unwrap_err().contains("pakage"));
        assert!(parse_day("2027-02-30").is_err());
    }
}

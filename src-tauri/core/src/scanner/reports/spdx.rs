//! SPDX 2.3 JSON: the image as the document's subject (a CONTAINER
//! package), its OS (an OPERATING_SYSTEM package), one package per
//! installed package with its purl, and the findings as SECURITY external
//! references (`advisory`, `fix`) of the package they affect, each with an
//! annotation giving severity, versions, fix status and suppression. The
//! gate's decision is an annotation of the document. The types are
//! `serde-spdx`'s, generated from the SPDX 2.3 JSON schema.

use serde_spdx::spdx::v_2_3::{
    Spdx, SpdxCreationInfo, SpdxItemAnnotations, SpdxItemPackages, SpdxItemPackagesItemAnnotations, SpdxItemPackagesItemExternalRefs,
    SpdxItemRelationships,
};

use super::purl;
use crate::error::{Error, Result};
use crate::scanner::advisories::Vulnerability;
use crate::scanner::gate::Suppression;
use crate::scanner::policy::Outcome;
use crate::scanner::scan::ScanReport;

const NOASSERTION: &str = "NOASSERTION";
const IMAGE_ID: &str = "SPDXRef-Image";
const OS_ID: &str = "SPDXRef-OperatingSystem";

pub fn render(report: &ScanReport) -> Result<String> {
    serde_json::to_string_pretty(&document(report)).map_err(|e| Error::Internal(format!("SPDX report: {e}")))
}

fn tool() -> String {
    format!("Tool: opsdeck-{}", env!("CARGO_PKG_VERSION"))
}

/// An SPDX identifier: `SPDXRef-` then letters, digits, `.` and `-` only.
fn spdx_id(kind: &str, index: usize, name: &str) -> String {
    let clean: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '-' }).collect();
    format!("SPDXRef-{kind}-{index}-{clean}")
}

/// SPDX wants `YYYY-MM-DDThh:mm:ssZ`; the scan's time is RFC 3339, maybe with fractions.
fn spdx_time(rfc3339: &str) -> String {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

fn package(spdxid: String, name: &str, version: Option<&str>) -> SpdxItemPackages {
    SpdxItemPackages {
        spdxid,
        annotations: None,
        attribution_texts: None,
        built_date: None,
        checksums: None,
        comment: None,
        copyright_text: Some(NOASSERTION.into()),
        description: None,
        download_location: NOASSERTION.into(),
        external_refs: None,
        files_analyzed: Some(false),
        has_files: None,
        homepage: None,
        license_comments: None,
        license_concluded: Some(NOASSERTION.into()),
        license_declared: Some(NOASSERTION.into()),
        license_info_from_files: None,
        name: name.to_string(),
        originator: None,
        package_file_name: None,
        package_verification_code: None,
        primary_package_purpose: None,
        release_date: None,
        source_info: None,
        summary: None,
        supplier: Some(NOASSERTION.into()),
        valid_until_date: None,
        version_info: version.map(String::from),
    }
}

fn reference(category: &str, kind: &str, locator: String, comment: Option<String>) -> SpdxItemPackagesItemExternalRefs {
    SpdxItemPackagesItemExternalRefs {
        comment,
        reference_category: category.into(),
        reference_locator: locator,
        reference_type: kind.into(),
    }
}

fn relationship(from: &str, kind: &str, to: &str) -> SpdxItemRelationships {
    SpdxItemRelationships { comment: None, related_spdx_element: to.into(), relationship_type: kind.into(), spdx_element_id: from.into() }
}

/// Where a person reads the advisory: NVD for a CVE, OSV for the rest.
pub fn advisory_url(id: &str) -> String {
    if id.starts_with("CVE-") {
        format!("https://nvd.nist.gov/vuln/detail/{id}")
    } else {
        format!("https://osv.dev/vulnerability/{id}")
    }
}

/// The finding in words, for its annotation.
fn finding_text(v: &Vulnerability, suppression: Option<&Suppression>) -> String {
    let source = match (&v.severity_source, v.advisory_severity) {
        (Some(source), Some(cvss)) => format!(" ({source}; advisory {})", cvss.as_str()),
        (Some(source), None) => format!(" ({source})"),
        _ => String::new(),
    };
    let status = match (v.fix_status, &v.fix_note) {
        (crate::scanner::advisories::FixStatus::WontFix, Some(note)) => format!("wont_fix ({note})"),
        (status, _) => status.as_str().to_string(),
    };
    let mut text = format!(
        "vulnerability {}: severity {}{source}, installed {}, fixed {}, fix status {status}",
        v.ids.join(" / "),
        v.severity.as_str(),
        v.installed,
        v.fixed.as_deref().unwrap_or("none")
    );
    if !v.summary.is_empty() {
        text.push_str(&format!("; {}", v.summary));
    }
    if let Some(s) = suppression {
        let until = if s.expires.is_empty() { String::new() } else { format!(" until {}", s.expires) };
        text.push_str(&format!("; suppressed by {}{until}: {}", s.author, s.reason));
    }
    text
}

pub fn document(report: &ScanReport) -> Spdx {
    let created = spdx_time(&report.scanned_at);
    let annotation = |comment: String| SpdxItemPackagesItemAnnotations {
        annotation_date: created.clone(),
        annotation_type: "OTHER".into(),
        annotator: tool(),
        comment,
    };
    let os = report.os.as_ref();
    let mut packages = Vec::with_capacity(report.packages.len() + 2);
    let mut relationships = vec![relationship("SPDXRef-DOCUMENT", "DESCRIBES", IMAGE_ID)];

    let mut image = package(IMAGE_ID.into(), &report.image, Some(&report.image_id).filter(|i| !i.is_empty()).map(String::as_str));
    image.primary_package_purpose = Some("CONTAINER".into());
    // The repository's last name: `registry:5000/team/app:1.4@sha256:…` → `app`.
    let image_ref = report.image.split('@').next().unwrap_or(&report.image);
    let last = image_ref.rsplit('/').next().unwrap_or(image_ref);
    let repo = last.split(':').next().unwrap_or(last);
    if let Some(digest) = report.image_id.strip_prefix("sha256:") {
        image.external_refs =
            Some(vec![reference("PACKAGE-MANAGER", "purl", format!("pkg:oci/{}@sha256%3A{digest}", repo.to_ascii_lowercase()), None)]);
    }
    packages.push(image);
    if let Some(os) = os {
        let mut p = package(OS_ID.into(), &os.id, os.version_id.as_deref());
        p.primary_package_purpose = Some("OPERATING_SYSTEM".into());
        p.description = os.pretty_name.clone();
        packages.push(p);
        relationships.push(relationship(IMAGE_ID, "CONTAINS", OS_ID));
    }

    let a = &report.assessment;
    let findings: Vec<(&Vulnerability, Option<&Suppression>)> =
        a.vulnerabilities.iter().map(|v| (v, None)).chain(a.suppressed.iter().map(|s| (&s.vulnerability, Some(&s.suppression)))).collect();
    for (i, p) in report.packages.iter().enumerate() {
        let id = spdx_id("Package", i, &p.name);
        let mut x = package(id.clone(), &p.name, Some(&p.version));
        x.primary_package_purpose = Some("LIBRARY".into());
        if let Some(src) = p.source_name.as_ref().filter(|s| **s != p.name) {
            let version = p.source_version.as_deref().unwrap_or(&p.version);
            x.source_info = Some(format!("built from source package {src} {version}"));
        }
        let mut refs: Vec<SpdxItemPackagesItemExternalRefs> =
            purl::of(p, os).map(|u| reference("PACKAGE-MANAGER", "purl", u, None)).into_iter().collect();
        let mut notes = Vec::new();
        for (v, suppression) in findings.iter().filter(|(v, _)| v.package == p.name) {
            let Some(first) = v.ids.first() else { continue };
            let comment =
                Some(format!("{} {}", v.severity.as_str(), if suppression.is_some() { "(suppressed)" } else { "" }).trim().to_string());
            refs.push(reference("SECURITY", "advisory", advisory_url(first), comment));
            if let Some(fixed) = &v.fixed {
                refs.push(reference("SECURITY", "fix", advisory_url(first), Some(format!("fixed in {} {fixed}", p.name))));
            }
            notes.push(annotation(finding_text(v, *suppression)));
        }
        x.external_refs = Some(refs).filter(|r| !r.is_empty());
        x.annotations = Some(notes).filter(|n| !n.is_empty());
        packages.push(x);
        relationships.push(relationship(IMAGE_ID, "CONTAINS", &id));
    }

    let verdict = &a.verdict;
    let outcome = match verdict.outcome {
        Outcome::Assessed => "assessed",
        Outcome::NotAssessed => "not_assessed",
    };
    let mut gate = format!("opsdeck decision {} ({outcome}), risk score {}", verdict.decision.as_str(), verdict.risk_score);
    for why in &verdict.not_assessed {
        gate.push_str(&format!("; not assessed: {why}"));
    }
    for v in &verdict.violations {
        gate.push_str(&format!("; policy {}: {}", v.policy, v.details));
    }
    let namespace_name: String =
        report.image.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '-' }).collect();
    let id_hex = report.image_id.trim_start_matches("sha256:");
    let stamp: String = created.chars().filter(char::is_ascii_alphanumeric).collect();
    Spdx {
        spdxid: "SPDXRef-DOCUMENT".into(),
        annotations: Some(vec![SpdxItemAnnotations {
            annotation_date: created.clone(),
            annotation_type: "OTHER".into(),
            annotator: tool(),
            comment: gate,
        }]),
        comment: None,
        creation_info: SpdxCreationInfo { comment: None, created: created.clone(), creators: vec![tool()], license_list_version: None },
        data_license: "CC0-1.0".into(),
        document_describes: None,
        document_namespace: format!("https://opsdeck.invalid/spdx/{namespace_name}/{id_hex}-{stamp}"),
        external_document_refs: None,
        files: None,
        has_extracted_licensing_infos: None,
        name: report.image.clone(),
        packages: Some(packages),
        relationships: Some(relationships),
        revieweds: None,
        snippets: None,
        spdx_version: "SPDX-2.3".into(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::scanner::advisories::Severity;
    use crate::scanner::assess::{count, Assessment};
    use crate::scanner::gate::SuppressedFinding;
    use crate::scanner::packages::{OsRelease, Package};
    use crate::scanner::policy::{evaluate, ImageConfig, Policy};
    use crate::scanner::versions::Scheme;

    /// The official SPDX 2.3 JSON schema (tests/data/spdx/README.md says where from).
    const SCHEMA: &str = include_str!("../../../../../tests/data/spdx/spdx-schema-2.3.json");

    pub(crate) fn vuln(package: &str, id: &str, severity: Severity, fixed: Option<&str>) -> Vulnerability {
        serde_json::from_value(serde_json::json!({
            "package": package, "source": null, "installed": "1.0-1", "fixed": fixed,
            "ids": [id, "CVE-2024-0001"], "severity": severity, "summary": "a summary"
        }))
        .unwrap()
    }

    pub(crate) fn report() -> ScanReport {
        let pkg = |name: &str, src: Option<&str>| -> Package {
            serde_json::from_value(serde_json::json!({
                "name": name, "version": "1.0-1", "source_name": src, "source_version": null, "arch": "amd64", "scheme": Scheme::Dpkg
            }))
            .unwrap()
        };
        let vulnerabilities = vec![vuln("libssl3", "DEBIAN-CVE-2024-0001", Severity::High, Some("1.0-2"))];
        let counts = count(&vulnerabilities);
        let verdict = evaluate(&Policy::default(), &ImageConfig::default(), &counts, &["advisory data is stale".to_string()]);
        let suppressed = vec![SuppressedFinding {
            vulnerability: vuln("zlib1g", "DEBIAN-CVE-2023-9", Severity::Critical, None),
            suppression: Suppression {
                id: "CVE-2023-9".into(),
                package: None,
                image: None,
                reason: "not reachable".into(),
                author: "alice".into(),
                expires: "2027-03-31".into(),
            },
        }];
        ScanReport {
            image: "registry.example:5000/team/app:1.4".into(),
            image_id: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into(),
            repo_tags: vec![],
            repo_digests: vec![],
            created: None,
            size: None,
            os: Some(OsRelease {
                id: "debian".into(),
                version_id: Some("12".into()),
                id_like: vec![],
                pretty_name: Some("Debian 12".into()),
            }),
            config: ImageConfig::default(),
            layers: vec![],
            packages: vec![
                pkg("libssl3", Some("openssl")),
                pkg("zlib1g", Some("zlib")),
                pkg("base-files", None),
                pkg("weird name+1", None),
            ],
            assessment: Assessment {
                ecosystem: Some("Debian:12".into()),
                vulnerabilities,
                counts,
                verdict,
                suppressed,
                expired_suppressions: vec![],
                excluded: vec![],
                advisories_as_of: None,
            },
            notes: vec![],
            scanned_at: "2026-12-05T02:03:04.123456Z".into(),
            duration_ms: 1,
        }
    }

    /// Validation errors of `doc` against the official schema, as text.
    pub(crate) fn schema_errors(doc: &serde_json::Value) -> Vec<String> {
        let schema: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        validator.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect()
    }

    #[test]
    fn the_document_is_valid_spdx_2_3_and_carries_the_findings() {
        let r = report();
        let doc: serde_json::Value = serde_json::from_str(&render(&r).unwrap()).unwrap();
        assert_eq!(schema_errors(&doc), Vec::<String>::new());
        assert_eq!(doc["spdxVersion"], "SPDX-2.3");
        assert_eq!(doc["creationInfo"]["created"], "2026-12-05T02:03:04Z");
        let packages = doc["packages"].as_array().unwrap();
        assert_eq!(packages.len(), 2 + r.packages.len(), "image, OS, and one per package");
        assert_eq!(packages[0]["primaryPackagePurpose"], "CONTAINER");
        assert_eq!(
            packages[0]["externalRefs"][0]["referenceLocator"],
            "pkg:oci/app@sha256%3A0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        );
        let libssl = packages.iter().find(|p| p["name"] == "libssl3").unwrap();
        assert_eq!(libssl["sourceInfo"], "built from source package openssl 1.0-1");
        let refs = libssl["externalRefs"].as_array().unwrap();
        assert_eq!(refs[0]["referenceLocator"], "pkg:deb/debian/libssl3@1.0-1?arch=amd64&distro=debian-12&upstream=openssl");
        assert_eq!(refs[1]["referenceCategory"], "SECURITY");
        assert_eq!(refs[1]["referenceLocator"], "https://osv.dev/vulnerability/DEBIAN-CVE-2024-0001");
        assert_eq!(refs[2]["referenceType"], "fix");
        let zlib = packages.iter().find(|p| p["name"] == "zlib1g").unwrap();
        let note = zlib["annotations"][0]["comment"].as_str().unwrap();
        assert!(note.contains("CRITICAL") && note.contains("suppressed by alice until 2027-03-31: not reachable"), "{note}");
        let weird = packages.iter().find(|p| p["name"] == "weird name+1").unwrap();
        assert_eq!(weird["SPDXID"], "SPDXRef-Package-3-weird-name-1");
        let gate = doc["annotations"][0]["comment"].as_str().unwrap();
        assert!(gate.contains("not_assessed") && gate.contains("advisory data is stale"), "{gate}");
        let contains = doc["relationships"].as_array().unwrap().iter().filter(|r| r["relationshipType"] == "CONTAINS").count();
        assert_eq!(contains, 1 + r.packages.len());
    }

    #[test]
    fn the_schema_check_catches_a_broken_document() {
        let mut doc: serde_json::Value = serde_json::from_str(&render(&report()).unwrap()).unwrap();
        doc["packages"][2]["externalRefs"][0]["referenceCategory"] = "NOT-A-CATEGORY".into();
        doc.as_object_mut().unwrap().remove("dataLicense");
        let errors = schema_errors(&doc);
        assert!(errors.iter().any(|e| e.contains("dataLicense")), "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("NOT-A-CATEGORY")), "{errors:?}");
    }
}

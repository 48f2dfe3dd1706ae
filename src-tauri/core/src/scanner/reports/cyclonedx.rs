//! CycloneDX 1.5 JSON: the image as the BOM's subject, one library
//! component per installed package (with its purl), and the vulnerabilities
//! found, each pointing at the components it affects.

use std::str::FromStr;

use cyclonedx_bom::models::component::Classification;
use cyclonedx_bom::models::property::{Properties, Property};
use cyclonedx_bom::models::vulnerability::{Vulnerabilities, Vulnerability};
use cyclonedx_bom::models::vulnerability_rating::{Severity as CdxSeverity, VulnerabilityRating, VulnerabilityRatings};
use cyclonedx_bom::models::vulnerability_target::{VulnerabilityTarget, VulnerabilityTargets};
use cyclonedx_bom::prelude::*;

use super::purl;
use crate::error::{Error, Result};
use crate::scanner::advisories::Severity;
use crate::scanner::policy::Outcome;
use crate::scanner::scan::ScanReport;

pub fn render(report: &ScanReport) -> Result<String> {
    let mut out = Vec::new();
    bom(report).output_as_json_v1_5(&mut out).map_err(|e| Error::Internal(format!("CycloneDX report: {e}")))?;
    String::from_utf8(out).map_err(|e| Error::Internal(format!("CycloneDX report: {e}")))
}

/// A component's reference: name and version, and the file for a language
/// package (the same library may sit in two places of one image).
fn bom_ref(name: &str, version: &str, path: Option<&str>) -> String {
    match path {
        Some(path) => format!("pkg:{name}@{version}#/{path}"),
        None => format!("pkg:{name}@{version}"),
    }
}

/// Where a package or finding came from, as CycloneDX properties.
fn provenance(path: Option<&str>, layer: Option<&crate::scanner::packages::LayerRef>) -> Vec<Property> {
    let mut props = Vec::new();
    if let Some(path) = path {
        props.push(Property::new("opsdeck:path", &format!("/{path}")));
    }
    if let Some(l) = layer {
        props.push(Property::new("opsdeck:layer:index", &l.index.to_string()));
        props.push(Property::new("opsdeck:layer:digest", &l.digest));
        if let Some(c) = &l.created_by {
            props.push(Property::new("opsdeck:layer:created_by", c));
        }
        props.push(Property::new("opsdeck:layer:base", if l.base { "true" } else { "false" }));
    }
    props
}

/// The file a component is keyed by: language packages only (an OS
/// package is one per image whatever database lists it).
fn key_path(scheme: crate::scanner::versions::Scheme, path: Option<&str>) -> Option<&str> {
    path.filter(|_| scheme.is_language())
}

pub fn bom(report: &ScanReport) -> Bom {
    let os = report.os.as_ref();
    let components: Vec<Component> = report
        .packages
        .iter()
        .map(|p| {
            let reference = bom_ref(&p.name, &p.version, key_path(p.scheme, p.path.as_deref()));
            let mut c = Component::new(Classification::Library, &p.name, &p.version, Some(reference));
            c.purl = purl::of(p, os).and_then(|s| Purl::from_str(&s).ok());
            let props = provenance(p.path.as_deref(), p.layer.as_ref());
            if !props.is_empty() {
                c.properties = Some(Properties(props));
            }
            c
        })
        .collect();
    let a = &report.assessment;
    let findings = a.vulnerabilities.iter().map(|v| (v, None)).chain(a.suppressed.iter().map(|s| (&s.vulnerability, Some(&s.suppression))));
    let vulnerabilities: Vec<Vulnerability> = findings
        .map(|(v, suppression)| {
            let mut x = Vulnerability::new(None);
            x.id = v.ids.first().map(|id| NormalizedString::new(id));
            x.description = Some(v.summary.clone()).filter(|s| !s.is_empty());
            x.recommendation = v.fixed.as_ref().map(|f| format!("upgrade {} to {f} or later", v.package));
            x.vulnerability_ratings = Some(VulnerabilityRatings(vec![VulnerabilityRating::new(None, Some(severity(v.severity)), None)]));
            let path = v.ecosystem.as_ref().and(v.path.as_deref());
            x.vulnerability_targets = Some(VulnerabilityTargets(vec![VulnerabilityTarget::new(bom_ref(&v.package, &v.installed, path))]));
            let mut props = provenance(v.path.as_deref(), v.layer.as_ref());
            if let Some(s) = suppression {
                props.extend([
                    Property::new("opsdeck:suppressed", "true"),
                    Property::new("opsdeck:suppression:reason", &s.reason),
                    Property::new("opsdeck:suppression:author", &s.author),
                    Property::new("opsdeck:suppression:expires", &s.expires),
                ]);
            }
            if !props.is_empty() {
                x.properties = Some(Properties(props));
            }
            x
        })
        .collect();
    let mut subject = Component::new(Classification::Container, &report.image, &report.image_id, Some(report.image_id.clone()));
    subject.description = report.os.as_ref().and_then(|o| o.pretty_name.as_deref()).map(NormalizedString::new);
    let mut metadata = Metadata::new().unwrap_or_default();
    metadata.component = Some(subject);
    // The gate's outcome: a BOM of an image the scan could not assess says so.
    let verdict = &report.assessment.verdict;
    let outcome = match verdict.outcome {
        Outcome::Assessed => "assessed",
        Outcome::NotAssessed => "not_assessed",
    };
    let mut properties = vec![Property::new("opsdeck:decision", verdict.decision.as_str()), Property::new("opsdeck:outcome", outcome)];
    properties.extend(verdict.not_assessed.iter().map(|why| Property::new("opsdeck:not-assessed", why)));
    metadata.properties = Some(Properties(properties));
    Bom {
        metadata: Some(metadata),
        components: Some(Components(components)),
        vulnerabilities: Some(Vulnerabilities(vulnerabilities)),
        spec_version: SpecVersion::V1_5,
        ..Bom::default()
    }
}

fn severity(s: Severity) -> CdxSeverity {
    match s {
        Severity::Critical => CdxSeverity::Critical,
        Severity::High => CdxSeverity::High,
        Severity::Medium => CdxSeverity::Medium,
        Severity::Low => CdxSeverity::Low,
        Severity::Unknown => CdxSeverity::Unknown,
    }
}

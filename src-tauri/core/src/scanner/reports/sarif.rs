//! SARIF 2.1.0: one rule per advisory, one result per affected package,
//! and one result per violated policy; levels error (CRITICAL, HIGH, policy
//! violations), warning (MEDIUM), note (LOW, unknown).

use std::collections::BTreeMap;

use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, PropertyBag, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, Sarif, Suppression, Tool, ToolComponent,
};

use crate::error::{Error, Result};
use crate::scanner::advisories::Severity;
use crate::scanner::policy::Decision;
use crate::scanner::scan::ScanReport;

pub fn render(report: &ScanReport) -> Result<String> {
    render_many(std::slice::from_ref(report))
}

/// One SARIF log with a run per image.
pub fn render_many(reports: &[ScanReport]) -> Result<String> {
    let log = Sarif::builder()
        .version(serde_json::json!("2.1.0"))
        .schema(serde_sarif::sarif::SCHEMA_URL)
        .runs(reports.iter().map(run).collect::<Vec<_>>())
        .build();
    serde_json::to_string_pretty(&log).map_err(|e| Error::Internal(format!("SARIF report: {e}")))
}

fn run(report: &ScanReport) -> Run {
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder().artifact_location(ArtifactLocation::builder().uri(report.image.clone()).build()).build(),
        )
        .build();
    let mut rules: BTreeMap<String, ReportingDescriptor> = BTreeMap::new();
    let mut results = Vec::new();
    let a = &report.assessment;
    let findings = a.vulnerabilities.iter().map(|v| (v, None)).chain(a.suppressed.iter().map(|s| (&s.vulnerability, Some(&s.suppression))));
    for (v, suppression) in findings {
        let id = v.ids.first().cloned().unwrap_or_else(|| "unknown-advisory".into());
        rules.entry(id.clone()).or_insert_with(|| {
            ReportingDescriptor::builder()
                .id(id.clone())
                .short_description(
                    MultiformatMessageString::builder().text(if v.summary.is_empty() { id.clone() } else { v.summary.clone() }).build(),
                )
                .build()
        });
        let fixed = v.fixed.as_deref().map(|f| format!(", fixed in {f}")).unwrap_or_else(|| ", no fix yet".into());
        let mut text =
            format!("{} {} {} is affected by {} ({:?}{fixed})", report.image, v.package, v.installed, v.ids.join(", "), v.severity);
        if let Some(path) = &v.path {
            text.push_str(&format!(" in /{path}"));
        }
        if let Some(l) = &v.layer {
            let made_by = l.created_by.as_deref().map(|c| format!(": {c}")).unwrap_or_default();
            text.push_str(&format!(", layer {} {}{made_by}", l.index, if l.base { "(base image)" } else { "(image's own)" }));
        }
        // The package's file inside the image, when known; else the image.
        let at = match &v.path {
            Some(path) => Location::builder()
                .physical_location(
                    PhysicalLocation::builder().artifact_location(ArtifactLocation::builder().uri(path.clone()).build()).build(),
                )
                .build(),
            None => location.clone(),
        };
        let mut props = BTreeMap::new();
        if let Some(l) = &v.layer {
            props.insert("layerIndex".to_string(), serde_json::json!(l.index));
            props.insert("layerDigest".to_string(), serde_json::json!(l.digest));
            props.insert("layerCreatedBy".to_string(), serde_json::json!(l.created_by));
            props.insert("baseImageLayer".to_string(), serde_json::json!(l.base));
        }
        if let Some(e) = &v.ecosystem {
            props.insert("ecosystem".to_string(), serde_json::json!(e));
        }
        let result = SarifResult::builder()
            .rule_id(id.clone())
            .level(level(v.severity))
            .message(Message::builder().text(text).build())
            .locations(vec![at])
            .properties(PropertyBag::builder().additional_properties(props).build());
        // A suppressed finding stays in the log, marked as SARIF viewers expect.
        results.push(match suppression {
            None => result.build(),
            Some(s) => result
                .suppressions(vec![Suppression::builder()
                    .kind(serde_json::json!("external"))
                    .status(serde_json::json!("accepted"))
                    .justification(format!("{} ({}, until {})", s.reason, s.author, s.expires))
                    .build()])
                .build(),
        });
    }
    for why in &report.assessment.verdict.not_assessed {
        rules.entry("not-assessed".into()).or_insert_with(|| {
            ReportingDescriptor::builder()
                .id("not-assessed")
                .short_description(MultiformatMessageString::builder().text("The scan could not assess the image").build())
                .build()
        });
        let level = if report.assessment.verdict.decision == Decision::Block { ResultLevel::Error } else { ResultLevel::Warning };
        results.push(
            SarifResult::builder()
                .rule_id("not-assessed")
                .level(level)
                .message(Message::builder().text(format!("{}: not assessed: {why}", report.image)).build())
                .locations(vec![location.clone()])
                .build(),
        );
    }
    for violation in &report.assessment.verdict.violations {
        rules.entry(violation.policy.clone()).or_insert_with(|| ReportingDescriptor::builder().id(violation.policy.clone()).build());
        results.push(
            SarifResult::builder()
                .rule_id(violation.policy.clone())
                .level(ResultLevel::Error)
                .message(Message::builder().text(format!("{}: {}", report.image, violation.details)).build())
                .locations(vec![location.clone()])
                .build(),
        );
    }
    let driver =
        ToolComponent::builder().name("Opsdeck").version(env!("CARGO_PKG_VERSION")).rules(rules.into_values().collect::<Vec<_>>()).build();
    let mut properties = BTreeMap::new();
    properties.insert("decision".to_string(), serde_json::json!(report.assessment.verdict.decision.as_str()));
    properties.insert("outcome".to_string(), serde_json::json!(report.assessment.verdict.outcome));
    properties.insert("notAssessed".to_string(), serde_json::json!(report.assessment.verdict.not_assessed));
    let bag = PropertyBag::builder().additional_properties(properties).build();
    Run::builder().tool(Tool::builder().driver(driver).build()).results(results).properties(bag).build()
}

fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Unknown => ResultLevel::Note,
    }
}

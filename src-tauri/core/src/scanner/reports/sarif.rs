//! SARIF 2.1.0: one rule per advisory, one result per affected package,
//! and one result per violated policy; levels error (CRITICAL, HIGH, policy
//! violations), warning (MEDIUM), note (LOW, unknown).

use std::collections::BTreeMap;

use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, ReportingDescriptor, Result as SarifResult,
    ResultLevel, Run, Sarif, Tool, ToolComponent,
};

use crate::error::{Error, Result};
use crate::scanner::advisories::Severity;
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
    for v in &report.assessment.vulnerabilities {
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
        results.push(
            SarifResult::builder()
                .rule_id(id.clone())
                .level(level(v.severity))
                .message(
                    Message::builder()
                        .text(format!(
                            "{} {} {} is affected by {} ({:?}{fixed})",
                            report.image,
                            v.package,
                            v.installed,
                            v.ids.join(", "),
                            v.severity
                        ))
                        .build(),
                )
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
    Run::builder().tool(Tool::builder().driver(driver).build()).results(results).build()
}

fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Unknown => ResultLevel::Note,
    }
}

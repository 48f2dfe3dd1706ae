//! Scan reports for other tools: the JSON report (the scan itself), a
//! CycloneDX 1.5 SBOM with its vulnerabilities, an SPDX 2.3 JSON document,
//! and SARIF 2.1.0 for code scanning dashboards.

pub mod cyclonedx;
pub mod purl;
pub mod sarif;
pub mod spdx;

use serde::{Deserialize, Serialize};

use super::scan::ScanReport;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename = "ReportFormat", rename_all = "lowercase")] // ReportFormat in the IPC contract
pub enum Format {
    Json,
    Sarif,
    Cyclonedx,
    #[serde(rename = "spdx-json")] // SPDX 2.3 JSON
    SpdxJson,
}

/// The report in `format`, as text.
pub fn render(report: &ScanReport, format: Format) -> Result<String> {
    match format {
        Format::Json => serde_json::to_string_pretty(report).map_err(|e| Error::Internal(format!("JSON report: {e}"))),
        Format::Sarif => sarif::render(report),
        Format::Cyclonedx => cyclonedx::render(report),
        Format::SpdxJson => spdx::render(report),
    }
}

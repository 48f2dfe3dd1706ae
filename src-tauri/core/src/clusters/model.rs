//! Types of the Clusters workspace.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, specta::Type)]
#[serde(rename = "FindingSeverity", rename_all = "lowercase")] // FindingSeverity in the IPC contract
pub enum Severity {
    /// Informational (e.g. something this user may not read).
    Info,
    Warning,
    Critical,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename = "ClusterVerdict", rename_all = "lowercase")] // ClusterVerdict in the IPC contract
pub enum Verdict {
    Healthy,
    Degraded,
    Unreachable,
}

/// One reason in a cluster's verdict ("node n1 is NotReady").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Finding {
    pub severity: Severity,
    /// Stable category: `api` (or, for an unreachable cluster, the error
    /// class: `auth`, `tls`, `timeout`, `unreachable`, `protocol`), `node`, `pod`, `workload`, `event`, `forbidden`, `metrics`.
    pub kind: String,
    /// What it is about: "node/n1", "kube-system/pod/coredns-x", "default/deployment/web".
    pub object: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct NodeSummary {
    pub total: usize,
    pub ready: usize,
    pub cordoned: usize,
    pub pressure: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ClusterHealth {
    pub context: String,
    pub verdict: Verdict,
    pub version: Option<String>,
    pub latency_ms: Option<u64>,
    pub nodes: NodeSummary,
    pub findings: Vec<Finding>,
    pub checked_at: String,
    /// The kubeconfig turns TLS verification off for this cluster
    /// (`insecure-skip-tls-verify`): shown on its card.
    #[serde(default)]
    pub insecure_tls: bool,
    /// Why an unreachable cluster could not be checked: `auth` (credentials
    /// rejected, 401), `tls`, `timeout`, `unreachable`, `protocol`; none otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<crate::error::ErrorCode>,
}

//! `opsdeck health`: health verdict of Kubernetes clusters, all contexts at
//! once, for terminals (table) and pipelines (json, exit code).

use std::time::Duration;

use clap::{Args, ValueEnum};
use opsdeck_core::clusters::health::check_all;
use opsdeck_core::clusters::{Severity, Verdict};

use crate::exit;
use crate::output::{fail, print_json, print_table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum HealthFormat {
    Table,
    Json,
    /// JUnit XML: one test case per cluster, failed unless Healthy.
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Degraded,
    Unreachable,
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long)]
    kubeconfig: Option<String>,
    /// Context to check (repeat; none = every context of the file).
    #[arg(long = "context")]
    contexts: Vec<String>,
    #[arg(long, value_enum, default_value_t = HealthFormat::Table)]
    format: HealthFormat,
    /// Exit 1 when a cluster is at least this bad.
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Deadline per cluster, in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

pub fn default_kubeconfig() -> Option<String> {
    if let Ok(k) = std::env::var("KUBECONFIG") {
        // Several files are merged the way kubectl merges them (the library reads the list).
        if k.split(':').any(|p| !p.is_empty()) {
            return Some(k);
        }
    }
    std::env::var("HOME").ok().map(|h| format!("{h}/.kube/config"))
}

pub async fn run(a: HealthArgs) -> u8 {
    let Some(path) = a.kubeconfig.or_else(default_kubeconfig) else {
        eprintln!("error (invalid_input): no kubeconfig: pass --kubeconfig or set KUBECONFIG");
        return exit::USAGE;
    };
    let results = match check_all(&path, &a.contexts, None, Duration::from_secs(a.timeout.clamp(1, 300))).await {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    if a.format == HealthFormat::Json {
        print_json(&results);
    } else if a.format == HealthFormat::Junit {
        match junit(&results) {
            Ok(xml) => println!("{xml}"),
            Err(e) => {
                eprintln!("error (internal): cannot write JUnit XML: {e}");
                return exit::INTERNAL;
            }
        }
    } else {
        let rows: Vec<Vec<String>> = results
            .iter()
            .map(|h| {
                let worst: Vec<&str> = h.findings.iter().filter(|f| f.severity >= Severity::Warning).map(|f| f.message.as_str()).take(3).collect();
                vec![
                    h.context.clone(),
                    format!("{:?}", h.verdict).to_uppercase(),
                    h.version.clone().unwrap_or_else(|| "-".into()),
                    h.latency_ms.map(|l| format!("{l} ms")).unwrap_or_else(|| "-".into()),
                    format!("{}/{}", h.nodes.ready, h.nodes.total),
                    worst.join("; "),
                ]
            })
            .collect();
        print_table(&["CONTEXT", "VERDICT", "VERSION", "LATENCY", "NODES READY", "REASONS"], &rows);
    }
    let failing = |h: &&opsdeck_core::clusters::ClusterHealth| match a.fail_on {
        Some(FailOn::Degraded) => h.verdict != Verdict::Healthy,
        Some(FailOn::Unreachable) => h.verdict == Verdict::Unreachable,
        None => false,
    };
    if results.iter().any(|h| failing(&h)) {
        exit::FAILED
    } else {
        exit::OK
    }
}

/// One test case per cluster; a Degraded or Unreachable cluster is a failure
/// whose message is its reasons.
fn junit(results: &[opsdeck_core::clusters::ClusterHealth]) -> Result<String, quick_junit::SerializeError> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut suite = TestSuite::new("cluster-health");
    for h in results {
        let status = if h.verdict == Verdict::Healthy {
            TestCaseStatus::success()
        } else {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let reasons: Vec<&str> = h.findings.iter().filter(|f| f.severity >= Severity::Warning).map(|f| f.message.as_str()).collect();
            s.set_message(format!("{:?}: {}", h.verdict, reasons.first().copied().unwrap_or("")));
            s.set_description(reasons.join("\n"));
            s
        };
        let mut case = TestCase::new(h.context.as_str(), status);
        case.set_classname("opsdeck.health");
        if let Some(ms) = h.latency_ms {
            case.set_time(std::time::Duration::from_millis(ms));
        }
        suite.add_test_case(case);
    }
    let mut report = Report::new("opsdeck-health");
    report.add_test_suite(suite);
    crate::output::junit_xml(&report)
}

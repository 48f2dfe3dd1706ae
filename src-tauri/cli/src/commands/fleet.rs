//! `opsdeck fleet workloads`: the same Deployment across the contexts of a
//! kubeconfig, with image and replica drift and missing contexts flagged.

use std::time::Duration;

use clap::{Args, Subcommand};
use opsdeck_core::clusters::fleet::fleet_workloads;

use super::health::default_kubeconfig;
use crate::exit;
use crate::output::{errln, fail, print_json, print_table, Format};

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Deployments side by side across contexts: replicas, images, drift (exit 1 with --fail-on-drift when any drifts).
    Workloads(WorkloadsArgs),
}

#[derive(Debug, Args)]
pub struct WorkloadsArgs {
    /// kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long)]
    kubeconfig: Option<String>,
    /// Context to compare (repeat; none = every context of the file).
    #[arg(long = "context")]
    contexts: Vec<String>,
    /// Only this namespace.
    #[arg(long, short = 'n')]
    namespace: Option<String>,
    /// Only Deployments that drift (images, replicas) or are missing somewhere.
    #[arg(long)]
    drift_only: bool,
    /// Exit 1 when a Deployment drifts or is missing in a context.
    #[arg(long)]
    fail_on_drift: bool,
    /// Deadline per cluster, in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

pub async fn run(c: FleetCommand) -> u8 {
    match c {
        FleetCommand::Workloads(a) => workloads(a).await,
    }
}

async fn workloads(a: WorkloadsArgs) -> u8 {
    let Some(path) = a.kubeconfig.or_else(default_kubeconfig) else {
        errln!("error (invalid_input): no kubeconfig: pass --kubeconfig or set KUBECONFIG");
        return exit::USAGE;
    };
    let limit = Duration::from_secs(a.timeout.clamp(1, 300));
    let mut report = match fleet_workloads(&path, &a.contexts, a.namespace.as_deref(), None, limit).await {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let drifted = report.workloads.iter().any(|w| w.drifted());
    if a.drift_only {
        report.workloads.retain(|w| w.drifted());
    }
    for e in &report.errors {
        errln!("warning: context {} not read ({}): {}", e.context, e.code.as_str(), e.message);
    }
    if a.format == Format::Json {
        let code = print_json(&report);
        if code != exit::OK {
            return code;
        }
    } else {
        let mut rows = Vec::new();
        for w in &report.workloads {
            let mut flags = Vec::new();
            if w.image_drift {
                flags.push("IMAGE DRIFT".to_string());
            }
            if w.replica_drift {
                flags.push("REPLICA DRIFT".to_string());
            }
            if !w.missing.is_empty() {
                flags.push(format!("MISSING IN {}", w.missing.join(", ")));
            }
            for p in &w.placements {
                rows.push(vec![
                    format!("{}/{}", w.namespace, w.name),
                    p.context.clone(),
                    format!("{}/{}", p.ready, p.replicas),
                    p.images.join(" "),
                    if flags.is_empty() { "-".into() } else { flags.join("; ") },
                ]);
            }
        }
        print_table(&["DEPLOYMENT", "CONTEXT", "READY", "IMAGES", "DRIFT"], &rows);
    }
    if a.fail_on_drift && drifted {
        exit::FAILED
    } else {
        exit::OK
    }
}

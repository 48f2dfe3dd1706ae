//! `opsdeck failover plan|run|failback`: workloads marked
//! `opsdeck.dev/failover=true` on an Unreachable or Degraded cluster,
//! re-created on a healthy cluster with room, the traffic-switch hook run, and
//! removed again once the source serves them (docs/failover.md). `plan`
//! writes nothing (besides keeping the marked specs in the local cache); every
//! change of `run` and `failback` is audited (`failover.*`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use opsdeck_core::backend::{FailoverAt, FailoverOptions, FailoverPlan};
use opsdeck_core::clusters::hooks::Hook;
use opsdeck_core::Error;

use crate::exit;
use crate::output::{errln, fail, print_json, print_table, Format};

#[derive(Debug, Subcommand)]
pub enum FailoverCommand {
    /// Preview: the source's health, its marked workloads (live or cached), where each would go and why. Writes nothing.
    Plan(CommonArgs),
    /// Re-create the marked workloads on the chosen targets, wait until available, run the hook.
    Run(RunArgs),
    /// Once the source serves its workloads again: run the hook (failback), remove the copies.
    Failback(RunArgs),
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// kubeconfig file with the source and target contexts (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long)]
    kubeconfig: Option<String>,
    /// The source cluster's context.
    #[arg(long)]
    source: String,
    /// A target context (repeat; none = every other context of the file).
    #[arg(long = "target")]
    targets: Vec<String>,
    /// Deadline of each cluster's health check, in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Traffic-switch hook: a command run by sh -c (OPSDECK_FAILOVER_ACTION/_SOURCE/_TARGETS in its environment, the JSON on stdin).
    #[arg(long, conflicts_with = "hook_url")]
    hook_cmd: Option<String>,
    /// Traffic-switch hook: a webhook URL that gets the JSON as a POST (2xx = done).
    #[arg(long)]
    hook_url: Option<String>,
    /// Deadline of the hook, in seconds.
    #[arg(long, default_value_t = 60)]
    hook_timeout: u64,
    /// How long to wait for workloads to become available, in seconds.
    #[arg(long, default_value_t = 300)]
    ready_timeout: u64,
}

impl RunArgs {
    fn options(&self) -> FailoverOptions {
        let hook = match (&self.hook_cmd, &self.hook_url) {
            (Some(c), _) => Some(Hook::Command(c.clone())),
            (None, Some(u)) => Some(Hook::Webhook(u.clone())),
            _ => None,
        };
        FailoverOptions {
            health_timeout: Duration::from_secs(self.common.timeout.clamp(1, 300)),
            ready_timeout: Duration::from_secs(self.ready_timeout.clamp(1, 3600)),
            hook,
            hook_timeout: Duration::from_secs(self.hook_timeout.clamp(1, 3600)),
        }
    }
}

fn progress(line: &str) {
    errln!("{line}");
}

fn kubeconfig(a: &CommonArgs) -> Result<String, Error> {
    a.kubeconfig
        .clone()
        .or_else(super::health::default_kubeconfig)
        .ok_or_else(|| Error::invalid("no kubeconfig: pass --kubeconfig or set KUBECONFIG"))
}

pub async fn run(data_dir: Option<PathBuf>, c: FailoverCommand) -> u8 {
    match Box::pin(run_inner(data_dir, c)).await {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

async fn run_inner(data_dir: Option<PathBuf>, c: FailoverCommand) -> Result<u8, Error> {
    let backend = super::open_backend(data_dir).await?;
    match c {
        FailoverCommand::Plan(a) => {
            let path = kubeconfig(&a)?;
            let at = FailoverAt { kubeconfig: &path, source: &a.source, targets: &a.targets, token: None };
            let plan = backend.failover_plan(&at, Duration::from_secs(a.timeout.clamp(1, 300))).await?;
            if a.format == Format::Json {
                return Ok(print_json(&plan));
            }
            print_plan(&plan);
            Ok(exit::OK)
        }
        FailoverCommand::Run(r) => {
            let path = kubeconfig(&r.common)?;
            let at = FailoverAt { kubeconfig: &path, source: &r.common.source, targets: &r.common.targets, token: None };
            let report = backend.failover_run(&at, &r.options(), &progress).await?;
            if r.common.format == Format::Json {
                let code = print_json(&report);
                return Ok(if code != exit::OK || report.ok { code } else { exit::FAILED });
            }
            print_plan(&report.plan);
            let rows: Vec<Vec<String>> = report
                .copies
                .iter()
                .map(|c| {
                    vec![
                        format!("{}/{}", c.namespace, c.name),
                        c.target.clone(),
                        if c.ok { "available".into() } else { "FAILED".into() },
                        c.rollout.as_ref().map(|r| r.summary()).or_else(|| c.error.clone()).unwrap_or_default(),
                    ]
                })
                .collect();
            print_table(&["WORKLOAD", "TARGET", "RESULT", "DETAIL"], &rows);
            if let Some(h) = &report.hook {
                errln!("hook {}: {}", if h.ok { "ok" } else { "FAILED" }, h.message);
            }
            Ok(if report.ok { exit::OK } else { exit::FAILED })
        }
        FailoverCommand::Failback(r) => {
            let path = kubeconfig(&r.common)?;
            let at = FailoverAt { kubeconfig: &path, source: &r.common.source, targets: &r.common.targets, token: None };
            let report = backend.failover_failback(&at, &r.options(), &progress).await?;
            if r.common.format == Format::Json {
                let code = print_json(&report);
                return Ok(if code != exit::OK || report.ok { code } else { exit::FAILED });
            }
            let rows: Vec<Vec<String>> = report
                .removed
                .iter()
                .map(|c| vec![format!("{}/{}", c.namespace, c.name), c.context.clone(), "copy removed".into()])
                .collect();
            print_table(&["WORKLOAD", "TARGET", "RESULT"], &rows);
            if let Some(h) = &report.hook {
                errln!("hook {}: {}", if h.ok { "ok" } else { "FAILED" }, h.message);
            }
            Ok(if report.ok { exit::OK } else { exit::FAILED })
        }
    }
}

fn print_plan(p: &FailoverPlan) {
    errln!(
        "source {} is {}{}; marked workloads from the {} (seen {}); failover {}",
        p.source,
        opsdeck_core::clusters::history::verdict_str(p.source_verdict),
        if p.source_reasons.is_empty() { String::new() } else { format!(" ({})", p.source_reasons.join("; ")) },
        p.specs_from,
        p.specs_seen_at.as_deref().unwrap_or("never"),
        if p.needed { "needed" } else { "not needed" }
    );
    for c in &p.candidates {
        let cap = c
            .capacity
            .as_ref()
            .map(|k| format!("{} nodes, {}m CPU / {} MiB free", k.nodes, k.cpu_free(), k.memory_free() / 1_048_576))
            .unwrap_or_else(|| "-".into());
        errln!(
            "target {}: {}, {cap}{}",
            c.context,
            opsdeck_core::clusters::history::verdict_str(c.verdict),
            if c.reasons.is_empty() { String::new() } else { format!(" ({})", c.reasons.join("; ")) }
        );
    }
    let rows: Vec<Vec<String>> = p
        .placements
        .iter()
        .map(|x| {
            vec![
                format!("{}/{}", x.namespace, x.name),
                x.replicas.to_string(),
                x.target.clone().unwrap_or_else(|| "NONE".into()),
                x.why.clone(),
            ]
        })
        .collect();
    print_table(&["WORKLOAD", "REPLICAS", "TARGET", "WHY"], &rows);
}

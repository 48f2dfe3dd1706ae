//! `opsdeck bluegreen deploy|switch|rollback|status|cleanup`: blue/green
//! behind one Service (docs/bluegreen.md). Every step is audited by the
//! backend (`bluegreen.*`); progress lines go to standard error, the result
//! (table or JSON) to standard output. A refused switch (the Service changed
//! since it was read, a failed smoke check) exits 1 with nothing switched.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use opsdeck_core::backend::{BlueGreenAt, BlueGreenEvent, DeployOptions, Smoke};
use opsdeck_core::Error;

use crate::exit;
use crate::output::{errln, fail, print_json, print_table, Format};

#[derive(Debug, Subcommand)]
pub enum BlueGreenCommand {
    /// Deploy the new colour beside the live one, wait ready, smoke-test, switch the Service.
    Deploy(DeployArgs),
    /// Switch the Service to a colour that is deployed and ready (after the smoke checks).
    Switch(SwitchArgs),
    /// Switch back to the previous colour in one guarded update.
    Rollback(CommonArgs),
    /// The Service's colours: live, previous, keep time, readiness.
    Status(CommonArgs),
    /// Delete the previous colour's Deployment once its keep time has passed.
    Cleanup(CleanupArgs),
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long)]
    kubeconfig: Option<String>,
    /// The cluster's context (default: the file's current context).
    #[arg(long)]
    context: Option<String>,
    #[arg(long, short = 'n', default_value = "default")]
    namespace: String,
    /// The Service whose selector switches colours.
    #[arg(long)]
    service: String,
    /// The selector label that holds the colour.
    #[arg(long, default_value = "version")]
    label: String,
    /// How long the colour switched away from is kept for a switch back (e.g. 30m, 2h, 1d).
    #[arg(long, default_value = "1h", value_parser = parse_keep)]
    keep: Duration,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, Args)]
pub struct SmokeArgs {
    /// HTTP smoke check: GET URL must answer 2xx ({colour} is replaced by the new colour). Repeat.
    #[arg(long = "smoke-url", value_name = "URL")]
    smoke_urls: Vec<String>,
    /// An `opsdeck check` checks file run as smoke checks: every check must pass.
    #[arg(long = "smoke-checks", value_name = "FILE")]
    smoke_checks: Option<PathBuf>,
    /// Deadline of each HTTP smoke check, in seconds.
    #[arg(long, default_value_t = 10)]
    smoke_timeout: u64,
}

impl SmokeArgs {
    fn smoke(&self) -> Vec<Smoke> {
        let mut s: Vec<Smoke> = self.smoke_urls.iter().cloned().map(Smoke::Http).collect();
        s.extend(self.smoke_checks.clone().map(Smoke::Checks));
        s
    }
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The new colour's Deployment (YAML, exactly one); "-" reads standard input.
    #[arg(short = 'f', long = "filename")]
    file: String,
    #[command(flatten)]
    smoke: SmokeArgs,
    /// How long to wait for the new colour's rollout, in seconds.
    #[arg(long, default_value_t = 300)]
    ready_timeout: u64,
    /// Deploy, wait and smoke-test only; switch later with `opsdeck bluegreen switch`.
    #[arg(long)]
    no_switch: bool,
}

#[derive(Debug, Args)]
pub struct SwitchArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The colour to switch to.
    #[arg(long)]
    to: String,
    #[command(flatten)]
    smoke: SmokeArgs,
}

#[derive(Debug, Args)]
pub struct CleanupArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Delete before the keep time has passed (audited as such).
    #[arg(long)]
    now: bool,
}

/// "90s", "30m", "2h", "1d", or bare seconds.
fn parse_keep(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("\"{s}\": use e.g. 90s, 30m, 2h or 1d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return Err(format!("\"{s}\": use e.g. 90s, 30m, 2h or 1d")),
    };
    if secs > 90 * 86400 {
        return Err(format!("\"{s}\": at most 90d"));
    }
    Ok(Duration::from_secs(secs))
}

fn progress(e: BlueGreenEvent) {
    errln!("{}", e.message);
}

pub async fn run(data_dir: Option<PathBuf>, c: BlueGreenCommand) -> u8 {
    match run_inner(data_dir, c).await {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

struct Resolved {
    kubeconfig: String,
    context: String,
}

fn resolve(a: &CommonArgs) -> Result<Resolved, Error> {
    let kubeconfig = a
        .kubeconfig
        .clone()
        .or_else(super::health::default_kubeconfig)
        .ok_or_else(|| Error::invalid("no kubeconfig: pass --kubeconfig or set KUBECONFIG"))?;
    let context = match &a.context {
        Some(c) => c.clone(),
        None => opsdeck_core::connectors::kube::read_kubeconfig(&kubeconfig)?
            .current_context
            .ok_or_else(|| Error::invalid("the kubeconfig has no current context: pass --context"))?,
    };
    Ok(Resolved { kubeconfig, context })
}

fn at<'a>(r: &'a Resolved, a: &'a CommonArgs) -> BlueGreenAt<'a> {
    BlueGreenAt {
        kubeconfig: &r.kubeconfig,
        context: &r.context,
        namespace: &a.namespace,
        service: &a.service,
        label: &a.label,
        token: None,
    }
}

async fn run_inner(data_dir: Option<PathBuf>, c: BlueGreenCommand) -> Result<u8, Error> {
    let backend = super::open_backend(data_dir).await?;
    match c {
        BlueGreenCommand::Deploy(d) => {
            let r = resolve(&d.common)?;
            let manifest = if d.file == "-" {
                let mut s = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                    .map_err(|e| Error::invalid(format!("reading standard input: {e}")))?;
                s
            } else {
                std::fs::read_to_string(&d.file).map_err(|e| Error::invalid(format!("cannot read {}: {e}", d.file)))?
            };
            let opts = DeployOptions {
                keep: d.common.keep,
                ready_timeout: Duration::from_secs(d.ready_timeout.clamp(1, 3600)),
                smoke: d.smoke.smoke(),
                smoke_timeout: Duration::from_secs(d.smoke.smoke_timeout.clamp(1, 300)),
                switch: !d.no_switch,
                stop: tokio_util::sync::CancellationToken::new(),
            };
            let report = backend.bluegreen_deploy(&at(&r, &d.common), &manifest, &opts, &progress).await?;
            if d.common.format == Format::Json {
                return Ok(print_json(&report));
            }
            let switched = match &report.switched {
                Some(s) => format!("switched {} -> {} (old colour kept until {})", s.from.as_deref().unwrap_or("none"), s.to, s.keep_until),
                None => "not switched".into(),
            };
            print_table(
                &["SERVICE", "COLOUR", "READY", "SMOKE", "RESULT"],
                &[vec![
                    format!("{}/{}", report.target.namespace, report.target.service),
                    report.colour.clone(),
                    report.rollout.summary(),
                    format!("{}/{} passed", report.smoke.iter().filter(|s| s.ok).count(), report.smoke.len()),
                    switched,
                ]],
            );
            Ok(exit::OK)
        }
        BlueGreenCommand::Switch(s) => {
            let r = resolve(&s.common)?;
            let smoke = s.smoke.smoke();
            let timeout = Duration::from_secs(s.smoke.smoke_timeout.clamp(1, 300));
            let done = backend.bluegreen_switch(&at(&r, &s.common), &s.to, s.common.keep, &smoke, timeout, &progress).await?;
            print_switched(&done, s.common.format)
        }
        BlueGreenCommand::Rollback(a) => {
            let r = resolve(&a)?;
            let done = backend.bluegreen_rollback(&at(&r, &a), a.keep).await?;
            print_switched(&done, a.format)
        }
        BlueGreenCommand::Status(a) => {
            let r = resolve(&a)?;
            let st = backend.bluegreen_status(&at(&r, &a)).await?;
            if a.format == Format::Json {
                return Ok(print_json(&st));
            }
            errln!(
                "{}: live {}, previous {}, switched at {}, previous kept until {}",
                st.target.describe(),
                st.live.as_deref().unwrap_or("-"),
                st.previous.as_deref().unwrap_or("-"),
                st.switched_at.as_deref().unwrap_or("-"),
                st.keep_until.as_deref().unwrap_or("-")
            );
            let rows: Vec<Vec<String>> = st
                .colours
                .iter()
                .map(|c| {
                    let role = if c.live {
                        "LIVE"
                    } else if c.previous {
                        "PREVIOUS"
                    } else {
                        "-"
                    };
                    vec![c.colour.clone(), role.into(), c.deployment.clone(), c.rollout.summary(), c.images.join(" ")]
                })
                .collect();
            print_table(&["COLOUR", "ROLE", "DEPLOYMENT", "ROLLOUT", "IMAGES"], &rows);
            Ok(exit::OK)
        }
        BlueGreenCommand::Cleanup(a) => {
            let r = resolve(&a.common)?;
            let done = backend.bluegreen_cleanup(&at(&r, &a.common), a.now).await?;
            if a.common.format == Format::Json {
                return Ok(print_json(&serde_json::json!({"result": done})));
            }
            print_table(&["RESULT"], &[vec![done]]);
            Ok(exit::OK)
        }
    }
}

fn print_switched(s: &opsdeck_core::clusters::bluegreen::Switched, format: Format) -> Result<u8, Error> {
    if format == Format::Json {
        return Ok(print_json(s));
    }
    print_table(
        &["SERVICE", "FROM", "TO", "KEPT UNTIL", "RESOURCE VERSION"],
        &[vec![
            format!("{}/{}", s.target.namespace, s.target.service),
            s.from.clone().unwrap_or_else(|| "-".into()),
            s.to.clone(),
            s.keep_until.clone(),
            format!("{} -> {}", s.resource_version_before, s.resource_version_after),
        ]],
    );
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_times() {
        assert_eq!(parse_keep("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_keep("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_keep("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_keep("1d").unwrap(), Duration::from_secs(86400));
        assert!(parse_keep("1w").is_err());
        assert!(parse_keep("91d").is_err());
        assert!(parse_keep("").is_err());
    }
}

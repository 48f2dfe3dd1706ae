//! `opsdeck`: the headless Opsdeck command line. Same backend as the desktop
//! app (opsdeck-core), no WebKit: it runs on a CI runner with no GUI libraries.

mod commands;
mod exit;
mod junit;
mod output;
mod stop;

use clap::{Parser, Subcommand};

use commands::{audit::AuditArgs, connections::ConnectionsCommand};
use output::errln;

#[derive(Debug, Parser)]
#[command(name = "opsdeck", version, about = "Opsdeck: vSphere, Docker, Kubernetes and etcd operations from the command line")]
struct Cli {
    /// Data directory (database). Default: the OS data directory, or $OPSDECK_DATA_DIR.
    #[arg(long, global = true, env = "OPSDECK_DATA_DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// On an error, also print the causes under it (the libraries' error chain).
    #[arg(long, global = true, env = "OPSDECK_DETAILS")]
    details: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Manage connection profiles (secrets go to the OS keychain).
    #[command(subcommand)]
    Connections(ConnectionsCommand),
    /// Show the audit log of changes made by Opsdeck.
    Audit(AuditArgs),
    /// Run the checks of a checks.yaml against every platform; JUnit/JSON reports; exit 1 on a failure.
    Check(commands::check::CheckArgs),
    /// Health verdict of Kubernetes clusters, every context at once.
    Health(commands::health::HealthArgs),
    /// The same workloads across clusters: image and replica drift, missing contexts.
    #[command(subcommand)]
    Fleet(commands::fleet::FleetCommand),
    /// Server-side apply a manifest to several clusters at once.
    Apply(commands::apply::ApplyArgs),
    /// Roll a manifest out across clusters in waves (canary, 25%, rest), each soaked healthy; rollback on failure.
    Rollout(commands::rollout::RolloutArgs),
    /// Blue/green behind a Service: deploy the new colour, smoke-test, switch in one guarded update, switch back.
    #[command(subcommand, name = "bluegreen")]
    BlueGreen(commands::bluegreen::BlueGreenCommand),
    /// Failover of marked workloads from an unreachable or degraded cluster to a healthy one with room, and back.
    #[command(subcommand)]
    Failover(commands::failover::FailoverCommand),
    /// Scan container images for vulnerabilities and policy: BLOCK / WARN / ALLOW.
    Scan(commands::scan::ScanArgs),
    /// The local OSV advisory database used by scans.
    #[command(subcommand)]
    Advisories(commands::advisories::AdvisoriesCommand),
    /// Registry connections (Distribution v2): add, list, remove; browse repositories and tags.
    #[command(subcommand)]
    Registry(commands::registry::RegistryCommand),
    /// VM requests, approvals, provisioning, lifecycle and compliance on vSphere.
    Vm(commands::vm::VmArgs),
    /// Notifications: channels (e-mail, webhooks), subscriptions, the outbox; `notify send` drains it once.
    #[command(subcommand)]
    Notify(commands::notify::NotifyCommand),
    /// Read, edit, diff, export/import and watch etcd configuration (guarded writes).
    Config(commands::config::ConfigArgs),
    /// Print the shell completion script for bash, zsh or fish (elvish, powershell).
    Completions(commands::docs::CompletionsArgs),
    /// Print the manual page opsdeck(1) as roff (`opsdeck man | man -l -`), or write every page with --dir.
    Man(commands::docs::ManArgs),
}

/// The clap definition of the whole command line (completions and manual pages are made from it).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help, --version and usage errors, printed by clap: a closed pipe
        // ends these the same way as any other output.
        Err(e) => {
            if let Err(io) = e.print() {
                if !e.use_stderr() {
                    output::output_failed(io);
                }
            }
            output::flush_out();
            return (e.exit_code().clamp(0, 255) as u8).into();
        }
    };
    // Warnings only by default (vim_rs's own, e.g. a failed logout from a
    // vCenter that went away, are already in the command's result); colours
    // only on a terminal, not in CI logs.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("OPSDECK_LOG").unwrap_or_else(|_| "warn,vim_rs=error".into()))
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            errln!("error: cannot start the async runtime: {e}");
            return exit::INTERNAL.into();
        }
    };
    output::show_details(cli.details);
    let code = runtime.block_on(async move {
        match cli.command {
            Command::Connections(c) => commands::connections::run(cli.data_dir, c).await,
            Command::Audit(a) => commands::audit::run(cli.data_dir, a).await,
            Command::Check(c) => commands::check::run(cli.data_dir, c).await,
            Command::Health(h) => commands::health::run(cli.data_dir, h).await,
            Command::Fleet(f) => commands::fleet::run(f).await,
            Command::Apply(a) => commands::apply::run(cli.data_dir, a).await,
            Command::Rollout(r) => Box::pin(commands::rollout::run(cli.data_dir, r)).await,
            Command::BlueGreen(b) => Box::pin(commands::bluegreen::run(cli.data_dir, b)).await,
            Command::Failover(f) => Box::pin(commands::failover::run(cli.data_dir, f)).await,
            Command::Scan(s) => Box::pin(commands::scan::run(cli.data_dir, s)).await,
            Command::Advisories(a) => commands::advisories::run(cli.data_dir, a).await,
            Command::Registry(r) => commands::registry::run(cli.data_dir, r).await,
            Command::Vm(v) => commands::vm::run(cli.data_dir, v).await,
            Command::Config(c) => Box::pin(commands::config::run(cli.data_dir, c)).await,
            Command::Notify(n) => commands::notify::run(cli.data_dir, n).await,
            Command::Completions(c) => commands::docs::completions(c),
            Command::Man(m) => commands::docs::man(m),
        }
    });
    output::flush_out();
    code.into()
}

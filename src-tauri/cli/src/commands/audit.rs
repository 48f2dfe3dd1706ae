//! `opsdeck audit`: the local audit log (newest first), the team's trail in
//! its etcd (`audit team`), and the hash-chain check of both
//! (`audit verify`, exit 1 on a broken chain).

use opsdeck_core::backend::StoreChoice;
use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::team::trail::{TrailFilter, TrailReport};
use opsdeck_core::team::DEFAULT_ROOT;
use opsdeck_core::{Backend, Error};

use crate::output::{errln, fail, outln, print_json, print_table, Format};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: Option<AuditCommand>,
    #[command(flatten)]
    list: ListArgs,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Only this platform: vsphere, docker, kubernetes, etcd, app.
    #[arg(long)]
    platform: Option<String>,
    /// Only results: ok or error.
    #[arg(long)]
    result: Option<String>,
    /// Substring of target, action, actor or detail.
    #[arg(long)]
    search: Option<String>,
    /// Exactly this target (a key, a connection name).
    #[arg(long)]
    target: Option<String>,
    #[arg(long, default_value_t = 50)]
    limit: u32,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// The team store: the one in the settings, or named here.
#[derive(Debug, Clone, clap::Args)]
struct TeamArgs {
    /// The team's etcd connection (default: the shared store chosen in the settings).
    #[arg(long)]
    etcd: Option<String>,
    /// Team root prefix in that etcd.
    #[arg(long, default_value = DEFAULT_ROOT)]
    prefix: String,
    /// Accept an etcd without authentication (its trail cannot be attributed).
    #[arg(long)]
    allow_no_auth: bool,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// The team's audit trail in its etcd (oldest first), verified; a broken chain is flagged.
    Team {
        #[command(flatten)]
        team: TeamArgs,
        /// Only entries by this etcd user.
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        platform: Option<String>,
        /// Substring of the target.
        #[arg(long)]
        target: Option<String>,
        /// From this time (RFC 3339, or a date YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Until this time (RFC 3339, or a date YYYY-MM-DD, inclusive).
        #[arg(long)]
        until: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Verify the hash chains: the local log, and the team trail when a team store is set or named. Exit 1 if broken.
    Verify {
        #[command(flatten)]
        team: TeamArgs,
        /// Only the local log.
        #[arg(long)]
        local_only: bool,
    },
}

pub async fn run(data_dir: Option<std::path::PathBuf>, a: AuditArgs) -> u8 {
    let backend = match super::open_backend(data_dir).await {
        Ok(b) => b,
        Err(e) => return fail(&e),
    };
    let r = match a.command {
        None => list(&backend, a.list).await,
        Some(AuditCommand::Team { team, user, platform, target, since, until, format }) => {
            let filter = TrailFilter {
                user,
                platform,
                target,
                since: since.map(|s| bound(&s, "00:00:00")),
                until: until.map(|s| bound(&s, "23:59:59")),
            };
            team_trail(&backend, &team, &filter, format).await
        }
        Some(AuditCommand::Verify { team, local_only }) => verify(&backend, &team, local_only).await,
    };
    r.unwrap_or_else(|e| fail(&e))
}

/// A bare date becomes that day's first or last second (UTC).
fn bound(s: &str, time_of_day: &str) -> String {
    if s.len() == 10 && !s.contains('T') {
        format!("{s}T{time_of_day}Z")
    } else {
        s.to_string()
    }
}

async fn list(backend: &Backend, a: ListArgs) -> Result<u8, Error> {
    let filter = AuditFilter { platform: a.platform, result: a.result, text: a.search, target: a.target, limit: a.limit, offset: 0 };
    let page = backend.audit_log(&filter).await?;
    Ok(match a.format {
        Format::Json => print_json(&page),
        Format::Table => {
            let rows: Vec<Vec<String>> = page
                .entries
                .iter()
                .map(|e| {
                    vec![
                        e.at.clone(),
                        e.actor.clone(),
                        e.platform.clone(),
                        e.target.clone(),
                        e.action.clone(),
                        e.result.clone(),
                        e.detail.clone(),
                    ]
                })
                .collect();
            print_table(&["TIME", "ACTOR", "PLATFORM", "TARGET", "ACTION", "RESULT", "DETAIL"], &rows);
            crate::exit::OK
        }
    })
}

async fn choice(backend: &Backend, t: &TeamArgs) -> Result<Option<StoreChoice>, Error> {
    Ok(match &t.etcd {
        Some(c) => Some(StoreChoice::Etcd {
            connection_id: backend.find_connection(c).await?.id,
            prefix: t.prefix.clone(),
            allow_no_auth: t.allow_no_auth,
        }),
        None => None,
    })
}

fn print_breaks(report: &TrailReport) {
    for b in &report.breaks {
        errln!("BROKEN CHAIN at entry {}: {}", b.seq, b.reason);
    }
}

async fn team_trail(backend: &Backend, t: &TeamArgs, filter: &TrailFilter, format: Format) -> Result<u8, Error> {
    let report = backend.team_trail(choice(backend, t).await?.as_ref(), filter).await?;
    let code = match format {
        Format::Json => print_json(&report),
        Format::Table => {
            let rows: Vec<Vec<String>> = report
                .entries
                .iter()
                .map(|e| {
                    let x = &e.entry;
                    vec![
                        x.seq.to_string(),
                        x.at.clone(),
                        x.user.clone(),
                        x.platform.clone(),
                        x.target.clone(),
                        x.action.clone(),
                        x.result.clone(),
                        x.detail.clone(),
                    ]
                })
                .collect();
            print_table(&["SEQ", "TIME", "USER", "PLATFORM", "TARGET", "ACTION", "RESULT", "DETAIL"], &rows);
            crate::exit::OK
        }
    };
    print_breaks(&report);
    Ok(if report.intact() { code } else { crate::exit::FAILED })
}

async fn verify(backend: &Backend, t: &TeamArgs, local_only: bool) -> Result<u8, Error> {
    let mut broken = false;
    let local = backend.audit_verify_local().await?;
    if local.is_empty() {
        outln!("local audit log: chain intact");
    } else {
        broken = true;
        for b in &local {
            outln!("local audit log: BROKEN at entry {}: {}", b.seq, b.reason);
        }
    }
    if local_only {
        return Ok(if broken { crate::exit::FAILED } else { crate::exit::OK });
    }
    let named = choice(backend, t).await?;
    let team_set = named.is_some() || matches!(backend.vm_settings().await?.store, StoreChoice::Etcd { .. });
    if team_set {
        let report = backend.team_trail(named.as_ref(), &TrailFilter::default()).await?;
        if report.intact() {
            outln!("team audit trail: chain intact ({} entries)", report.entries.len());
        } else {
            broken = true;
            for b in &report.breaks {
                outln!("team audit trail: BROKEN at entry {}: {}", b.seq, b.reason);
            }
        }
    } else {
        outln!("team audit trail: no team store is set (choose a shared etcd store, or pass --etcd)");
    }
    Ok(if broken { crate::exit::FAILED } else { crate::exit::OK })
}

//! `opsdeck config cluster` (members, leader, raft, DB size vs quota,
//! alarms, and the etcdctl commands that fix each warning) and
//! `opsdeck config move` (rename a prefix: guarded copy + delete).
//!
//! ```text
//! opsdeck config cluster CONNECTION [--quota 8GiB] [--format json]
//! opsdeck config move CONNECTION FROM_PREFIX TO_PREFIX [--dry-run] [--overwrite]
//! ```
//!
//! `cluster` exits 1 when an alarm is active (NOSPACE, CORRUPT) or no member
//! knows a leader; other warnings (near the quota, a member unreachable, a
//! learner) are printed with exit 0.

use clap::Args;
use opsdeck_core::backend::{cluster_view, EtcdReach, EtcdSession};
use opsdeck_core::config::cluster::{parse_size, ClusterView, QuotaSource, Severity};
use opsdeck_core::config::promote::PromoteAction;
use opsdeck_core::config::relocate::{existing_targets, MOVE_BATCH_KEYS};
use opsdeck_core::{Backend, Error};

use crate::exit;
use crate::output::{errln, outln, print_json, print_table, Format};

#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// A saved etcd connection (name or id); or give --connection / --endpoints.
    #[arg(id = "cluster_connection", value_name = "CONNECTION")]
    pub connection: Option<String>,
    /// The members' --quota-backend-bytes for this run (e.g. 8GiB); default:
    /// the connection's setting (set in the app), else etcd's default 2 GiB.
    /// etcd 3.6+ reports its quota, which then wins.
    #[arg(long, value_name = "SIZE")]
    quota: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Debug, Args)]
pub struct MoveArgs {
    /// [CONNECTION] FROM_PREFIX TO_PREFIX (without CONNECTION: --connection or --endpoints).
    #[arg(num_args = 2..=3, required = true, value_name = "ARGS")]
    pub args: Vec<String>,
    /// Show what would move (and any target key that exists) without writing.
    #[arg(long)]
    dry_run: bool,
    /// Replace target keys that exist already (each guarded by its revision at plan time).
    #[arg(long)]
    overwrite: bool,
    #[arg(long, default_value = "")]
    comment: String,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

fn mib(bytes: i64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} GiB", b / 1024.0 / 1024.0 / 1024.0)
    } else if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / 1024.0 / 1024.0)
    } else {
        format!("{:.0} KiB", b / 1024.0)
    }
}

/// The exit code of a view: 1 with an alarm or a critical warning.
pub fn cluster_exit(v: &ClusterView) -> u8 {
    if v.has_alarms() || v.warnings.iter().any(|w| w.severity == Severity::Critical) {
        exit::FAILED
    } else {
        exit::OK
    }
}

fn print_view(v: &ClusterView) {
    outln!(
        "cluster {}  leader {}  raft term {} index {}  version {}  revision {}",
        v.cluster_id,
        if v.leader.is_empty() { "(none)" } else { &v.leader },
        v.raft_term,
        v.raft_index,
        v.version,
        v.revision
    );
    let rows: Vec<Vec<String>> = v
        .members
        .iter()
        .map(|m| {
            let role = match (m.is_leader, m.is_learner) {
                (true, _) => "leader",
                (_, true) => "learner",
                _ => "follower",
            };
            let (db, in_use) = match &m.status {
                Some(s) => (mib(s.db_size), mib(s.db_size_in_use)),
                None => ("-".into(), "-".into()),
            };
            let source = match m.quota_source {
                QuotaSource::Reported => "reported",
                QuotaSource::Setting => "setting",
                QuotaSource::Default => "etcd default",
            };
            vec![
                m.id.clone(),
                if m.name.is_empty() { "(not started)".into() } else { m.name.clone() },
                role.into(),
                m.peer_urls.join(","),
                m.client_urls.join(","),
                db,
                in_use,
                format!("{} ({source})", mib(m.quota_bytes as i64)),
                if m.status.is_some() { format!("{:.1}%", m.used_percent) } else { "-".into() },
                m.status.as_ref().map(|s| s.version.clone()).or_else(|| m.status_error.clone()).unwrap_or_default(),
            ]
        })
        .collect();
    print_table(&["ID", "NAME", "ROLE", "PEER URLS", "CLIENT URLS", "DB", "IN USE", "QUOTA", "USED", "VERSION"], &rows);
    if v.alarms.is_empty() {
        outln!("alarms: none");
    }
    for a in &v.alarms {
        outln!("ALARM {} on member {} {}", a.alarm, a.member_id, a.member);
    }
    for w in &v.warnings {
        let sev = match w.severity {
            Severity::Critical => "CRITICAL",
            Severity::Warning => "WARNING",
        };
        outln!("{sev}: {}", w.message);
        for c in &w.commands {
            outln!("    {c}");
        }
    }
    if v.members.iter().any(|m| m.quota_source == QuotaSource::Default) {
        outln!("note: the quota is etcd's default --quota-backend-bytes (2 GiB): etcd before 3.6 does not report it; pass --quota or set it on the connection in the app");
    }
}

pub async fn cluster(b: &Backend, saved: Option<String>, adhoc: Option<EtcdReach>, args: ClusterArgs) -> Result<u8, Error> {
    let quota = args.quota.as_deref().map(parse_size).transpose()?;
    let view = match (saved, adhoc) {
        (Some(name), _) => {
            let c = b.find_connection(&name).await?;
            b.config_cluster(&c.id, quota).await?
        }
        (None, Some(reach)) => cluster_view(&reach, quota).await?,
        (None, None) => return Err(Error::invalid("give a saved CONNECTION, or --endpoints URL[,URL…]")),
    };
    let code = cluster_exit(&view);
    match args.format {
        Format::Json => {
            let printed = print_json(&view);
            if printed != exit::OK {
                return Ok(printed);
            }
        }
        Format::Table => print_view(&view),
    }
    Ok(code)
}

/// Splits `move`'s positionals into (connection, from, to).
pub fn move_args(args: &[String]) -> (Option<String>, String, String) {
    match args {
        [c, f, t] => (Some(c.clone()), f.clone(), t.clone()),
        [f, t] => (None, f.clone(), t.clone()),
        _ => (None, String::new(), String::new()),
    }
}

pub async fn relocate(b: &Backend, s: &EtcdSession, from: &str, to: &str, args: &MoveArgs) -> Result<u8, Error> {
    let plan = b.config_move_plan(s, from, to).await?;
    let existing = existing_targets(&plan);
    if args.dry_run {
        if args.format == Format::Json {
            return Ok(print_json(&plan));
        }
        for item in &plan.items {
            let mark = if item.action == PromoteAction::Change { "~" } else { "+" };
            outln!("{mark} {}{} -> {}{}", plan.from.prefix, item.rel, plan.to.prefix, item.rel);
        }
        outln!(
            "dry run: {} keys would move from {} to {} in {} transaction(s) of at most {MOVE_BATCH_KEYS} keys; nothing written",
            plan.items.len(),
            plan.from.prefix,
            plan.to.prefix,
            plan.items.len().div_ceil(MOVE_BATCH_KEYS)
        );
        if !existing.is_empty() {
            outln!("{} target key(s) exist already (~): the move is refused unless --overwrite", existing.len());
            return Ok(if args.overwrite { exit::OK } else { exit::FAILED });
        }
        return Ok(exit::OK);
    }
    let outcome = b
        .config_move_apply(s, &plan, args.overwrite, &args.comment, |batch, p| {
            errln!(
                "batch {}/{}: {} keys moved at revision {} ({}/{})",
                p.batch,
                p.batches,
                batch.keys.len(),
                batch.revision,
                p.moved,
                p.keys
            );
        })
        .await?;
    let r = &outcome.report;
    match args.format {
        Format::Json => {
            print_json(r);
        }
        Format::Table => {
            outln!("moved {} of {} keys from {} to {} in {} transaction(s)", r.moved, r.total, r.from, r.to, r.batches.len());
            for m in &r.changed_since_plan {
                outln!("CHANGED: {} (mod_revision {} at plan, {} now)", m.key, m.reviewed_mod_revision, m.mod_revision_now);
            }
            if !r.not_moved.is_empty() {
                outln!("not moved ({}): still under {}; plan again to move the rest", r.not_moved.len(), r.from);
            }
        }
    }
    match outcome.error {
        Some(e) => {
            errln!("error: {e}");
            Ok(exit::for_error(&e))
        }
        None => Ok(exit::OK),
    }
}

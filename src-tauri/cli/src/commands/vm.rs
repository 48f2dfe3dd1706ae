//! `opsdeck vm`: VM requests, approvals, provisioning, lifecycle and
//! compliance on vSphere, for operators and cron/systemd timers. The same
//! backend (and the same request store) as the desktop app.
//!
//! The vCenter is a saved vSphere connection (`--vcenter`, default: the only
//! one saved). The request store is the one chosen in the app's settings, or
//! `--store local` / `--store etcd --etcd CONNECTION [--prefix P]`.

use std::io::Write;

use clap::{Args, Subcommand, ValueEnum};
use opsdeck_core::backend::StoreChoice;
use opsdeck_core::connections::Kind;
use opsdeck_core::team::DEFAULT_ROOT;
use opsdeck_core::vms::model::{Quota, RequestSpec, SnapshotSchedule, Stage, State, VmRequest};
use opsdeck_core::vms::provision::ProvisionOptions;
use opsdeck_core::vms::store::{RequestStore, Trust};
use opsdeck_core::vms::{compliance, inventory::Inventory};
use opsdeck_core::{Backend, Error};

use crate::exit;

#[path = "vm_delegation.rs"]
mod delegation;
use delegation::ViaArgs;
#[path = "vm_ip.rs"]
mod ip;
#[path = "vm_rules.rs"]
mod rules;
#[path = "vm_showback.rs"]
mod showback;
#[path = "vm_utilisation.rs"]
mod utilisation;
use crate::output::{errln, fail, out, outln, print_json, print_table, Format};

#[derive(Debug, Args)]
pub struct VmArgs {
    /// The vCenter: a saved vSphere connection (name or id).
    #[arg(long, global = true)]
    vcenter: Option<String>,
    /// Request store: local (this machine) or etcd (shared). Default: the app's setting.
    #[arg(long, global = true, value_enum)]
    store: Option<StoreArg>,
    /// The etcd connection of the shared store (with --store etcd).
    #[arg(long, global = true)]
    etcd: Option<String>,
    /// Team root prefix in the shared etcd (requests under PREFIX/vms/).
    #[arg(long, global = true, default_value = DEFAULT_ROOT)]
    prefix: String,
    /// Accept a shared etcd without authentication (nothing is enforced there: anyone can approve as anyone).
    #[arg(long, global = true)]
    allow_no_auth: bool,
    #[command(subcommand)]
    command: VmCommand,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StoreArg {
    Local,
    Etcd,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ScheduleArg {
    None,
    Daily,
    Weekly,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StageArg {
    Manager,
    Admin,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ReportFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
enum VmCommand {
    /// VMs, hosts and datastores of the vCenter (one retrieval per object type).
    Inventory {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// List requests (newest first).
    Requests {
        /// Only requests in this state (e.g. pending_manager, approved, failed).
        #[arg(long)]
        state: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// File a VM request (validated, quota-checked).
    Request {
        #[arg(long)]
        name: String,
        #[arg(long)]
        template: String,
        #[arg(long)]
        cpu: u32,
        #[arg(long)]
        memory_gb: u32,
        #[arg(long)]
        disk_gb: u32,
        #[arg(long, default_value = "")]
        network: String,
        #[arg(long, default_value = "")]
        folder: String,
        #[arg(long, default_value = "")]
        pool: String,
        #[arg(long)]
        department: String,
        #[arg(long)]
        purpose: String,
        /// Last day of the lease, YYYY-MM-DD.
        #[arg(long)]
        lease_end: String,
        #[arg(long, value_enum, default_value_t = ScheduleArg::None)]
        snapshots: ScheduleArg,
        /// Customization script file.
        #[arg(long)]
        script: Option<std::path::PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Change your own request (the fields given); every decision on it must be made again.
    Edit {
        id: String,
        #[arg(long)]
        cpu: Option<u32>,
        #[arg(long)]
        memory_gb: Option<u32>,
        #[arg(long)]
        disk_gb: Option<u32>,
        /// Last day of the lease, YYYY-MM-DD.
        #[arg(long)]
        lease_end: Option<String>,
        #[arg(long)]
        purpose: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Ask to extend your provisioned VM's lease (the department's manager approves it).
    Extend {
        id: String,
        /// The new last day of the lease, YYYY-MM-DD.
        #[arg(long)]
        until: String,
        #[arg(long)]
        reason: String,
    },
    /// Approve or reject (with --reject and a comment) lease extension N of a request, as the department's manager.
    DecideExtension {
        id: String,
        n: u32,
        #[arg(long)]
        reject: bool,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Withdraw your own request (kept in history with the reason).
    Withdraw {
        id: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Approve the manager or admin step of a request.
    Approve {
        id: String,
        #[arg(long = "as", value_enum)]
        stage: StageArg,
        #[arg(long, default_value = "")]
        comment: String,
        #[command(flatten)]
        via: ViaArgs,
    },
    /// Reject the manager or admin step of a request (a reason is required).
    Reject {
        id: String,
        #[arg(long = "as", value_enum)]
        stage: StageArg,
        #[arg(long)]
        comment: String,
        #[command(flatten)]
        via: ViaArgs,
    },
    /// Delegations with start and end dates: add, list, revoke.
    Delegation {
        #[command(subcommand)]
        command: delegation::DelegationCommand,
    },
    /// Per department: the approval timeout and the named escalation delegate.
    EscalationPolicy {
        #[command(subcommand)]
        command: delegation::EscalationPolicyCommand,
    },
    /// One escalation pass: every step waiting past its department's timeout goes to the
    /// escalation delegate (recorded once, notified). With --dry-run: list them, change nothing.
    Escalate {
        #[arg(long)]
        dry_run: bool,
        /// The time of the pass: YYYY-MM-DD (noon UTC) or RFC 3339 (default now).
        #[arg(long, value_parser = parse_at)]
        at: Option<time::OffsetDateTime>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Provision approved requests (given ids, or every approved one). Exit 1 if any failed.
    Provision {
        ids: Vec<String>,
        /// Every approved request (for a timer).
        #[arg(long, conflicts_with = "ids")]
        all_approved: bool,
        /// Seconds the guest may take after power-on to report its customized host name and address
        /// (default: OPSDECK_GUEST_WAIT_SECS, else 600).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..=86400))]
        guest_timeout: Option<u64>,
    },
    /// One lifecycle pass: scheduled snapshots, lease warnings, power-off, reclaim.
    /// Exit 1 if any action failed.
    /// With --dry-run: list what a pass would do (snapshot, warn, power off, destroy) and the
    /// capacity each department gets back, changing nothing.
    Lifecycle {
        /// junit: a test case per action, a failure per failed action (for a CI timer job).
        #[arg(long, value_enum, default_value_t = LifecycleFormat::Table)]
        format: LifecycleFormat,
        /// Change nothing: print the plan of the pass (the same plan a real pass does).
        #[arg(long)]
        dry_run: bool,
        /// The time of the pass: YYYY-MM-DD (noon UTC) or RFC 3339 (default now); to look ahead.
        #[arg(long, value_parser = parse_at)]
        at: Option<time::OffsetDateTime>,
    },
    /// Compliance report of the vCenter. Exit 1 with --fail-on-findings if anything is found.
    Compliance {
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
        /// Write the report to this file instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
        #[arg(long)]
        fail_on_findings: bool,
    },
    /// Host and cluster CPU/memory usage and idle VMs (PerformanceManager samples over a window).
    Utilisation(utilisation::UtilisationArgs),
    /// Reclaim an idle VM: ask to bring its lease forward (the department's manager approves; the lifecycle does the rest).
    Reclaim(utilisation::ReclaimArgs),
    /// Give team members their etcd roles in the shared store (as an etcd user allowed to manage roles, e.g. root).
    Roles {
        /// USER=DUTY[,DUTY…] with duties requester, manager:DEPT, admin, executor (repeat), e.g. bob=manager:qa.
        #[arg(long = "member", required = true)]
        members: Vec<String>,
    },
    /// Auto-approval rules per department: requests within a rule and the quota skip the manager.
    Rules {
        #[command(subcommand)]
        command: rules::RulesCommand,
    },
    /// One request: its state, the rule that approved it, quota lines, history and notes.
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// IPv4 settings per network for guest customization: static pools or DHCP.
    IpPool {
        #[command(subcommand)]
        command: ip::IpPoolCommand,
    },
    /// What the VMs cost a month, by VM, department and owner (the vCenter's inventory now, or --cached).
    Showback {
        #[arg(long, value_enum, default_value_t = showback::ShowbackFormat::Table)]
        format: showback::ShowbackFormat,
        /// Only this department.
        #[arg(long)]
        department: Option<String>,
        /// Price the inventory cached at the last read instead of reading the vCenter now.
        #[arg(long)]
        cached: bool,
    },
    /// The price list showback uses (per vCPU, GB memory, GB disk a month; datastore tiers).
    PriceList {
        #[command(subcommand)]
        command: showback::PriceListCommand,
    },
    /// Show department quotas and use, or set one (0 = no limit).
    Quota {
        department: Option<String>,
        #[arg(long, requires = "department")]
        vms: Option<u32>,
        #[arg(long, requires = "department")]
        vcpu: Option<u32>,
        #[arg(long, requires = "department")]
        memory_gb: Option<u32>,
        #[arg(long, requires = "department")]
        disk_gb: Option<u32>,
        /// The longest total lease, extensions included, in days from the request.
        #[arg(long, requires = "department")]
        max_lease_days: Option<u32>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

pub async fn run(data_dir: Option<std::path::PathBuf>, args: VmArgs) -> u8 {
    let backend = match super::open_backend(data_dir).await {
        Ok(b) => b,
        Err(e) => return fail(&e),
    };
    match Box::pin(run_inner(&backend, args)).await {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

async fn vcenter(b: &Backend, name: &Option<String>) -> Result<String, Error> {
    match name {
        Some(n) => {
            let c = b.find_connection(n).await?;
            if c.spec.kind() != Kind::Vsphere {
                return Err(Error::invalid(format!("connection \"{}\" is not a vSphere connection", c.name)));
            }
            Ok(c.id)
        }
        None => {
            let all: Vec<_> = b.connections().await?.into_iter().filter(|c| c.spec.kind() == Kind::Vsphere).collect();
            match all.as_slice() {
                [one] => Ok(one.id.clone()),
                [] => Err(Error::invalid("no vSphere connection is saved: add one with `opsdeck connections add vsphere ...`")),
                many => Err(Error::invalid(format!(
                    "several vSphere connections are saved ({}): choose one with --vcenter",
                    many.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
                ))),
            }
        }
    }
}

async fn store(b: &Backend, a: &VmArgs) -> Result<std::sync::Arc<dyn RequestStore>, Error> {
    let choice = match (a.store, &a.etcd) {
        (Some(StoreArg::Local), _) => StoreChoice::Local,
        (Some(StoreArg::Etcd), Some(c)) | (None, Some(c)) => {
            StoreChoice::Etcd { connection_id: b.find_connection(c).await?.id, prefix: a.prefix.clone(), allow_no_auth: a.allow_no_auth }
        }
        (Some(StoreArg::Etcd), None) => return Err(Error::invalid("--store etcd needs --etcd CONNECTION")),
        (None, None) => match b.vm_settings().await?.store {
            StoreChoice::Etcd { connection_id, prefix, allow_no_auth } => {
                StoreChoice::Etcd { connection_id, prefix, allow_no_auth: allow_no_auth || a.allow_no_auth }
            }
            local => local,
        },
    };
    let s = b.vm_store(&choice).await?;
    // Said on every command, on stderr, so nobody mistakes what the store proves.
    match s.trust() {
        Trust::Personal => {
            errln!("note: the local request store is personal: one user, no separation of duties (use a shared etcd store for a team)")
        }
        Trust::SharedNoAuth => {
            errln!("WARNING: the shared etcd has authentication disabled: anyone can approve as anyone and nothing is enforced")
        }
        Trust::Shared => {}
    }
    Ok(s)
}

fn stage(s: StageArg) -> Stage {
    match s {
        StageArg::Manager => Stage::Manager,
        StageArg::Admin => Stage::Admin,
    }
}

fn request_row(r: &VmRequest) -> Vec<String> {
    vec![
        r.id.clone(),
        r.spec.name.clone(),
        r.state.as_str().into(),
        r.spec.department.clone(),
        format!("{}c/{}G/{}G", r.spec.cpu, r.spec.memory_gb, r.spec.disk_gb),
        r.requester.clone(),
        r.spec.lease_end.clone(),
        rules::rule_cell(r),
        r.failure.clone().or_else(|| r.asset.as_ref().map(|a| format!("{} on {}", a.vm_id, a.host))).unwrap_or_default(),
    ]
}

const REQUEST_HEADER: [&str; 9] = ["ID", "NAME", "STATE", "DEPT", "SIZE", "REQUESTER", "LEASE", "RULE", "DETAIL"];

fn show_request(r: &VmRequest, format: Format) -> u8 {
    match format {
        Format::Json => print_json(r),
        Format::Table => {
            print_table(&REQUEST_HEADER, &[request_row(r)]);
            if let Some(rule) = opsdeck_core::vms::rules::approved_by(r) {
                outln!("  auto-approved by rule {rule} (the manager step; the admin still decides)");
            }
            for l in &r.quota.lines {
                outln!("  quota: {l}");
            }
            for n in &r.notes {
                outln!("  note: {n}");
            }
            exit::OK
        }
    }
}

fn print_inventory(inv: &Inventory) {
    outln!("VMs ({}):", inv.vms.len());
    let rows: Vec<Vec<String>> = inv
        .vms
        .iter()
        .map(|v| {
            vec![
                v.name.clone(),
                if v.template { "template".into() } else { v.power.clone() },
                v.cpu.to_string(),
                format!("{} MB", v.memory_mb),
                inv.host(&v.host).map(|h| h.name.clone()).unwrap_or_default(),
                v.snapshots.len().to_string(),
                v.tools.clone(),
            ]
        })
        .collect();
    print_table(&["NAME", "POWER", "CPU", "MEMORY", "HOST", "SNAPSHOTS", "TOOLS"], &rows);
    outln!("\nHosts ({}):", inv.hosts.len());
    let rows: Vec<Vec<String>> = inv
        .hosts
        .iter()
        .map(|h| {
            vec![
                h.name.clone(),
                format!("{}/{} MHz", h.cpu_usage_mhz, h.cpu_total_mhz),
                format!("{}/{} MB", h.memory_usage_mb, h.memory_total_mb),
                h.vm_count.to_string(),
                if h.connected { "connected".into() } else { "disconnected".into() },
            ]
        })
        .collect();
    print_table(&["HOST", "CPU", "MEMORY", "VMS", "STATE"], &rows);
    outln!("\nDatastores ({}):", inv.datastores.len());
    let rows: Vec<Vec<String>> = inv
        .datastores
        .iter()
        .map(|d| vec![d.name.clone(), format!("{} GB", d.free_bytes >> 30), format!("{} GB", d.capacity_bytes >> 30)])
        .collect();
    print_table(&["DATASTORE", "FREE", "CAPACITY"], &rows);
}

async fn run_inner(b: &Backend, a: VmArgs) -> Result<u8, Error> {
    match &a.command {
        VmCommand::Inventory { format } => {
            let vc = vcenter(b, &a.vcenter).await?;
            let inv = b.vm_inventory(&vc).await?;
            Ok(match format {
                Format::Json => print_json(&inv),
                Format::Table => {
                    print_inventory(&inv);
                    exit::OK
                }
            })
        }
        VmCommand::Requests { state, format } => {
            let s = store(b, &a).await?;
            let wanted = match state {
                Some(x) => Some(State::parse(x).ok_or_else(|| Error::invalid(format!("unknown state \"{x}\"")))?),
                None => None,
            };
            let (all, problems) = b.vm_requests_checked(s.as_ref()).await?;
            let list: Vec<VmRequest> = all.into_iter().filter(|r| wanted.is_none_or(|w| r.state == w)).collect();
            // Skipped records are reported, never fatal: one bad key must not hide the rest.
            for p in &problems {
                errln!("skipped {}: {}", p.key, p.reason);
            }
            Ok(match format {
                Format::Json => print_json(&list),
                Format::Table => {
                    print_table(&REQUEST_HEADER, &list.iter().map(request_row).collect::<Vec<_>>());
                    for r in &list {
                        for n in &r.notes {
                            errln!("{}: {n}", r.id);
                        }
                    }
                    exit::OK
                }
            })
        }
        VmCommand::Request {
            name,
            template,
            cpu,
            memory_gb,
            disk_gb,
            network,
            folder,
            pool,
            department,
            purpose,
            lease_end,
            snapshots,
            script,
            format,
        } => {
            let vc = vcenter(b, &a.vcenter).await?;
            let s = store(b, &a).await?;
            let customization_script = match script {
                Some(p) => std::fs::read_to_string(p).map_err(|e| Error::invalid(format!("script {}: {e}", p.display())))?,
                None => String::new(),
            };
            let spec = RequestSpec {
                name: name.clone(),
                template: template.clone(),
                cpu: *cpu,
                memory_gb: *memory_gb,
                disk_gb: *disk_gb,
                network: network.clone(),
                folder: folder.clone(),
                resource_pool: pool.clone(),
                department: department.clone(),
                purpose: purpose.clone(),
                lease_end: lease_end.clone(),
                snapshot_schedule: match snapshots {
                    ScheduleArg::None => SnapshotSchedule::None,
                    ScheduleArg::Daily => SnapshotSchedule::Daily,
                    ScheduleArg::Weekly => SnapshotSchedule::Weekly,
                },
                customization_script,
            };
            let r = b.vm_submit(s.as_ref(), &vc, spec).await?;
            let code = show_request(&r, *format);
            Ok(if r.state == State::Rejected { exit::FAILED } else { code })
        }
        VmCommand::Edit { id, cpu, memory_gb, disk_gb, lease_end, purpose, format } => {
            let vc = vcenter(b, &a.vcenter).await?;
            let s = store(b, &a).await?;
            let mut spec = b.vm_request(s.as_ref(), id).await?.spec;
            spec.cpu = cpu.unwrap_or(spec.cpu);
            spec.memory_gb = memory_gb.unwrap_or(spec.memory_gb);
            spec.disk_gb = disk_gb.unwrap_or(spec.disk_gb);
            if let Some(l) = lease_end {
                spec.lease_end = l.clone();
            }
            if let Some(p) = purpose {
                spec.purpose = p.clone();
            }
            let r = b.vm_edit(s.as_ref(), &vc, id, spec).await?;
            Ok(show_request(&r, *format))
        }
        VmCommand::Extend { id, until, reason } => {
            let s = store(b, &a).await?;
            let r = b.vm_extend(s.as_ref(), id, until, reason).await?;
            Ok(show_request(&r, Format::Table))
        }
        VmCommand::DecideExtension { id, n, reject, comment } => {
            let s = store(b, &a).await?;
            let r = b.vm_decide_extension(s.as_ref(), id, *n, !reject, comment).await?;
            Ok(show_request(&r, Format::Table))
        }
        VmCommand::Withdraw { id, comment } => {
            let s = store(b, &a).await?;
            let r = b.vm_withdraw(s.as_ref(), id, comment).await?;
            Ok(show_request(&r, Format::Table))
        }
        VmCommand::Approve { id, stage: st, comment, via } | VmCommand::Reject { id, stage: st, comment, via } => {
            let approved = matches!(a.command, VmCommand::Approve { .. });
            let s = store(b, &a).await?;
            let vc = match (approved, st) {
                (true, StageArg::Admin) => Some(vcenter(b, &a.vcenter).await?),
                _ => None,
            };
            let r = b.vm_decide_via(s.as_ref(), vc.as_deref(), id, stage(*st), approved, comment, &via.via()).await?;
            Ok(show_request(&r, Format::Table))
        }
        VmCommand::Delegation { command } => {
            let s = store(b, &a).await?;
            delegation::delegation(b, s.as_ref(), command).await
        }
        VmCommand::EscalationPolicy { command } => {
            let s = store(b, &a).await?;
            delegation::policy(b, s.as_ref(), command).await
        }
        VmCommand::Escalate { dry_run, at, format } => {
            let s = store(b, &a).await?;
            delegation::escalate(b, s.as_ref(), *dry_run, *at, *format).await
        }
        VmCommand::Provision { ids, all_approved, guest_timeout } => {
            let vc = vcenter(b, &a.vcenter).await?;
            let s = store(b, &a).await?;
            let mut opts = ProvisionOptions::default();
            if let Some(secs) = guest_timeout {
                opts.guest_timeout = std::time::Duration::from_secs(*secs);
            }
            // SIGINT/SIGTERM: stop at the next safe point, record what is in
            // flight, release the lock; a second signal stops at once.
            let watcher = crate::stop::watch(
                opts.stop.clone(),
                "stopping at the next safe point: the vSphere task in flight is recorded and left running, the lock released (signal again to stop now)",
                crate::stop::Again::Abort {
                    message: "stopped again: stopping now (recording what is known and releasing the lock, at most 5 s)",
                    abort: opts.abort.clone(),
                    grace: std::time::Duration::from_secs(5),
                },
            );
            let on = |p: opsdeck_core::vms::provision::Progress| {
                if p.percent == 0 || p.percent == 100 {
                    errln!("{} {} {}%", p.request, p.step, p.percent);
                    let _ = std::io::stderr().flush();
                }
            };
            let results = if *all_approved {
                b.vm_provision_approved(s.as_ref(), &vc, &opts, &on).await?
            } else {
                if ids.is_empty() {
                    return Err(Error::invalid("name the request ids to provision, or pass --all-approved"));
                }
                let mut out = Vec::new();
                for id in ids {
                    out.push((id.clone(), b.vm_provision(s.as_ref(), &vc, id, &opts, &on).await));
                }
                out
            };
            let signal = watcher.finish();
            let mut failed = false;
            let mut rows = Vec::new();
            for (id, r) in &results {
                match r {
                    Ok(r) => {
                        failed |= r.state != State::Provisioned;
                        rows.push(request_row(r));
                    }
                    Err(e) => {
                        failed = true;
                        rows.push(vec![
                            id.clone(),
                            String::new(),
                            format!("error ({})", e.code().as_str()),
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                            e.to_string(),
                        ]);
                    }
                }
            }
            print_table(&REQUEST_HEADER, &rows);
            if let Some(signal) = signal {
                for (_, r) in &results {
                    if let Err(e @ Error::Cancelled(_)) = r {
                        errln!("interrupted: {e}");
                    }
                }
                return Ok(signal);
            }
            Ok(if failed { exit::FAILED } else { exit::OK })
        }
        VmCommand::Lifecycle { format, dry_run, at } => {
            let vc = vcenter(b, &a.vcenter).await?;
            let s = store(b, &a).await?;
            let now = at.unwrap_or_else(time::OffsetDateTime::now_utc);
            if *dry_run {
                let plan = b.vm_lifecycle_plan(s.as_ref(), &vc, now).await?;
                return Ok(print_plan(&plan, *format));
            }
            let actions = b.vm_lifecycle(s.as_ref(), &vc, now).await?;
            let failed = actions.iter().any(|x| !x.ok);
            let code = match format {
                LifecycleFormat::Json => print_json(&actions),
                LifecycleFormat::Junit => {
                    out!("{}", lifecycle_junit(&actions));
                    exit::OK
                }
                LifecycleFormat::Table => {
                    print_table(
                        &["REQUEST", "VM", "ACTION", "RESULT", "DETAIL"],
                        &actions
                            .iter()
                            .map(|x| {
                                vec![
                                    x.request.clone(),
                                    x.vm.clone(),
                                    x.action.clone(),
                                    if x.ok { "ok".into() } else { "FAILED".into() },
                                    x.detail.clone(),
                                ]
                            })
                            .collect::<Vec<_>>(),
                    );
                    exit::OK
                }
            };
            Ok(if failed { exit::FAILED } else { code })
        }
        VmCommand::Compliance { format, output, fail_on_findings } => {
            let vc = vcenter(b, &a.vcenter).await?;
            let findings = b.vm_compliance(&vc, time::OffsetDateTime::now_utc()).await?;
            let text = match format {
                ReportFormat::Json => compliance::to_json(&findings)?,
                ReportFormat::Csv => compliance::to_csv(&findings)?,
                ReportFormat::Table => {
                    if output.is_some() {
                        return Err(Error::invalid("--output needs --format json or csv"));
                    }
                    print_table(
                        &["VM", "RULE", "DETAIL", "OWNER", "DEPT"],
                        &findings
                            .iter()
                            .map(|f| vec![f.vm.clone(), f.rule.clone(), f.detail.clone(), f.owner.clone(), f.department.clone()])
                            .collect::<Vec<_>>(),
                    );
                    String::new()
                }
            };
            match output {
                Some(p) => std::fs::write(p, text).map_err(|e| Error::invalid(format!("writing {}: {e}", p.display())))?,
                None if !text.is_empty() => outln!("{}", text.trim_end()),
                None => {}
            }
            Ok(if *fail_on_findings && !findings.is_empty() { exit::FAILED } else { exit::OK })
        }
        VmCommand::Utilisation(u) => {
            let vc = vcenter(b, &a.vcenter).await?;
            utilisation::utilisation(b, &vc, u).await
        }
        VmCommand::Reclaim(r) => {
            let s = store(b, &a).await?;
            utilisation::reclaim(b, s.as_ref(), r).await
        }
        VmCommand::Roles { members } => {
            let Some(etcd) = &a.etcd else {
                return Err(Error::invalid("--etcd CONNECTION is required: the etcd whose roles to set"));
            };
            let members = members.iter().map(|m| opsdeck_core::team::roles::Member::parse(m)).collect::<Result<Vec<_>, _>>()?;
            let conn = b.find_connection(etcd).await?;
            for line in Box::pin(b.team_roles(&conn.id, &a.prefix, &members)).await? {
                outln!("{line}");
            }
            Ok(exit::OK)
        }
        VmCommand::Rules { command } => {
            let s = store(b, &a).await?;
            rules::run(b, s.as_ref(), command).await
        }
        VmCommand::Show { id, format } => {
            let s = store(b, &a).await?;
            let r = b.vm_request(s.as_ref(), id).await?;
            if matches!(format, Format::Table) {
                for t in &r.history {
                    outln!(
                        "{} {} -> {} by {}{}",
                        t.at,
                        t.from.map_or("-", |f| f.as_str()),
                        t.to.as_str(),
                        t.actor,
                        if t.comment.is_empty() { String::new() } else { format!(": {}", t.comment) }
                    );
                }
            }
            Ok(show_request(&r, *format))
        }
        VmCommand::IpPool { command } => {
            let s = store(b, &a).await?;
            ip::run(b, s.as_ref(), command).await
        }
        VmCommand::Showback { format, department, cached } => {
            let s = store(b, &a).await?;
            // No vCenter saved: the requests alone are priced.
            let vc = match &a.vcenter {
                Some(_) => Some(vcenter(b, &a.vcenter).await?),
                None => vcenter(b, &None).await.ok(),
            };
            showback::showback(b, s.as_ref(), vc.as_deref(), *cached, department.as_deref(), *format).await
        }
        VmCommand::PriceList { command } => {
            let s = store(b, &a).await?;
            showback::price_list(b, s.as_ref(), command).await
        }
        VmCommand::Quota { department, vms, vcpu, memory_gb, disk_gb, max_lease_days, format } => {
            let s = store(b, &a).await?;
            if let Some(d) = department {
                if vms.is_some() || vcpu.is_some() || memory_gb.is_some() || disk_gb.is_some() || max_lease_days.is_some() {
                    let current = s.quotas().await?.into_iter().find(|(x, _)| x == d).map(|(_, q)| q).unwrap_or_default();
                    let q = Quota {
                        vms: vms.unwrap_or(current.vms),
                        vcpu: vcpu.unwrap_or(current.vcpu),
                        memory_gb: memory_gb.unwrap_or(current.memory_gb),
                        disk_gb: disk_gb.unwrap_or(current.disk_gb),
                        max_lease_days: max_lease_days.unwrap_or(current.max_lease_days),
                    };
                    b.vm_set_quota(s.as_ref(), d, &q).await?;
                }
            }
            let vc = vcenter(b, &a.vcenter).await.ok();
            let all: Vec<_> = b
                .vm_quotas(s.as_ref(), vc.as_deref())
                .await?
                .into_iter()
                .filter(|q| department.as_ref().is_none_or(|d| &q.department == d))
                .collect();
            Ok(match format {
                Format::Json => print_json(&all),
                Format::Table => {
                    let lim = |used: u32, max: u32| if max == 0 { format!("{used} / -") } else { format!("{used} / {max}") };
                    print_table(
                        &["DEPT", "VMS", "VCPU", "MEMORY GB", "DISK GB"],
                        &all.iter()
                            .map(|q| {
                                vec![
                                    q.department.clone(),
                                    lim(q.usage.vms, q.quota.vms),
                                    lim(q.usage.vcpu, q.quota.vcpu),
                                    lim(q.usage.memory_gb, q.quota.memory_gb),
                                    lim(q.usage.disk_gb, q.quota.disk_gb),
                                ]
                            })
                            .collect::<Vec<_>>(),
                    );
                    exit::OK
                }
            })
        }
    }
}

/// `--at`: a day (noon UTC) or an RFC 3339 time.
fn parse_at(v: &str) -> Result<time::OffsetDateTime, String> {
    opsdeck_core::vms::lifecycle::parse_at(v).map_err(|e| e.to_string())
}

fn gb(mb: u32) -> String {
    let g = f64::from(mb) / 1024.0;
    if g.fract() == 0.0 {
        format!("{g:.0}")
    } else {
        format!("{g:.2}")
    }
}

/// The dry run's plan: the steps, then what each department gets back.
fn print_plan(plan: &opsdeck_core::vms::lifecycle::Plan, format: LifecycleFormat) -> u8 {
    if format != LifecycleFormat::Table {
        return print_json(plan);
    }
    out!("lifecycle pass at {} (dry run: nothing changed)", plan.at);
    print_table(
        &["REQUEST", "VM", "DEPT", "ACTION", "DETAIL"],
        &plan
            .steps
            .iter()
            .map(|x| vec![x.request.clone(), x.vm.clone(), x.department.clone(), x.action.clone(), x.detail.clone()])
            .collect::<Vec<_>>(),
    );
    out!("");
    print_table(
        &["DEPT", "POWERED OFF (VMs / vCPU / GB mem)", "RECLAIMED (VMs / vCPU / GB mem / GB disk)"],
        &plan
            .departments
            .iter()
            .map(|d| {
                let (p, r) = (&d.powered_off, &d.reclaimed);
                vec![
                    d.department.clone(),
                    format!("{} / {} / {}", p.vms, p.vcpu, gb(p.memory_mb)),
                    format!("{} / {} / {} / {}", r.vms, r.vcpu, gb(r.memory_mb), r.disk_gb),
                ]
            })
            .collect::<Vec<_>>(),
    );
    exit::OK
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LifecycleFormat {
    Table,
    Json,
    Junit,
}

/// One suite `vm-lifecycle`, a test case per action (`<action> <vm>`,
/// classname `opsdeck.vm.<request>`), a failure with the detail when it failed.
fn lifecycle_junit(actions: &[opsdeck_core::vms::lifecycle::Action]) -> String {
    use crate::junit::{Case, Outcome, Suite};
    let cases = actions
        .iter()
        .map(|a| {
            let mut case = Case::new(
                format!("{} {}", a.action, a.vm),
                format!("opsdeck.vm.{}", a.request),
                if a.ok { Outcome::Passed } else { Outcome::Failed },
                a.detail.clone(),
            );
            case.kind = a.action.clone();
            case
        })
        .collect();
    crate::junit::report("opsdeck.vm", &[Suite { name: "vm-lifecycle".into(), cases }])
}

/// Cancels `stop` on the first SIGINT or SIGTERM (and keeps the exit code
/// it calls for in `code`: 130 or 143); on a second one cancels `abort`,
/// and exits after a few seconds if provisioning has not returned by then.
#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_core::vms::lifecycle::Action;

    #[test]
    fn lifecycle_junit_has_a_case_per_action_and_fails_the_failed_ones() {
        let act = |action: &str, ok: bool, detail: &str| Action {
            request: "r1".into(),
            vm: "build-01".into(),
            action: action.into(),
            ok,
            detail: detail.into(),
        };
        let xml = lifecycle_junit(&[
            act("snapshot", true, "took Scheduled-20261201-0900"),
            act("power_off", false, "powering off failed: NoPermission"),
        ]);
        assert!(
            xml.contains(r#"<testsuite name="vm-lifecycle" package="opsdeck.vm""#)
                && xml.contains(r#"tests="2""#)
                && xml.contains(r#"failures="1""#),
            "{xml}"
        );
        assert!(xml.contains(r#"<testcase name="snapshot build-01" classname="opsdeck.vm.r1""#), "{xml}");
        assert!(xml.contains(r#"<failure message="powering off failed: NoPermission" type="power_off"/>"#), "{xml}");
    }
}

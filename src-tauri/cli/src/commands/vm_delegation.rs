//! `opsdeck vm delegation add|list|revoke`, `opsdeck vm escalation-policy
//! set|list|remove` and `opsdeck vm escalate [--dry-run] [--at TIME]`:
//! delegation with start and end dates, approval timeouts with escalation
//! to a named delegate (see docs/vm-delegation.md).

use clap::{Args, Subcommand};
use opsdeck_core::vms::delegation::{DelegationInput, DelegationView, Via};
use opsdeck_core::vms::escalation::{EscalationPolicy, EscalationStep};
use opsdeck_core::vms::model::Stage;
use opsdeck_core::vms::store::RequestStore;
use opsdeck_core::{Backend, Error};

use crate::exit;
use crate::output::{outln, print_json, print_table, Format};

/// In whose name `vm approve|reject` decides (default: your own).
#[derive(Debug, Args)]
pub struct ViaArgs {
    /// Decide as the delegate of this approver (their delegation to you must be in force today).
    #[arg(long, conflicts_with = "escalated")]
    on_behalf_of: Option<String>,
    /// Decide as the department's escalation delegate (the step was escalated to you).
    #[arg(long)]
    escalated: bool,
}

impl ViaArgs {
    pub fn via(&self) -> Via {
        match (&self.on_behalf_of, self.escalated) {
            (Some(a), _) => Via::OnBehalfOf(a.clone()),
            (None, true) => Via::Escalation,
            (None, false) => Via::Own,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum DelegationCommand {
    /// Name a delegate who decides your step from --from to --until (UTC days, both included).
    Add {
        /// The delegate (their user name; in a team store, their etcd user).
        #[arg(long)]
        to: String,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        until: String,
        #[arg(long)]
        reason: String,
        /// Delegate the manager step of this department.
        #[arg(long, required_unless_present = "admin", conflicts_with = "admin")]
        manager: Option<String>,
        /// Delegate the IT admin step.
        #[arg(long)]
        admin: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Every delegation, in force now or not (revoked ones too).
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Revoke your delegation ID: it stops counting at once.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum EscalationPolicyCommand {
    /// A department's approval timeout and the person a step waiting longer goes to.
    Set {
        department: String,
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=8760))]
        timeout_hours: u32,
        /// The escalation delegate (a user name).
        #[arg(long)]
        to: String,
    },
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    Remove {
        department: String,
    },
}

fn delegation_rows(list: &[DelegationView]) {
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|v| {
            let d = &v.delegation;
            vec![
                d.id.clone(),
                d.approver.clone(),
                d.delegate.clone(),
                match &d.department {
                    Some(dept) => format!("manager of {dept}"),
                    None => d.stage.as_str().to_string(),
                },
                format!("{} – {}", d.start, d.end),
                match (&d.revoked, v.active) {
                    (Some(r), _) => format!("revoked {}", r.at),
                    (None, true) => "in force".into(),
                    (None, false) => "not in force now".into(),
                },
                d.reason.clone(),
            ]
        })
        .collect();
    print_table(&["ID", "APPROVER", "DELEGATE", "STEP", "DAYS", "STATE", "REASON"], &rows);
}

pub async fn delegation(b: &Backend, s: &dyn RequestStore, cmd: &DelegationCommand) -> Result<u8, Error> {
    match cmd {
        DelegationCommand::Add { to, from, until, reason, manager, admin, format } => {
            let input = DelegationInput {
                delegate: to.clone(),
                stage: if *admin { Stage::Admin } else { Stage::Manager },
                department: manager.clone(),
                start: from.clone(),
                end: until.clone(),
                reason: reason.clone(),
            };
            let d = b.vm_delegate(s, input).await?;
            Ok(match format {
                Format::Json => print_json(&d),
                Format::Table => {
                    outln!("delegation {}: {} decides for {} from {} to {}", d.id, d.delegate, d.approver, d.start, d.end);
                    exit::OK
                }
            })
        }
        DelegationCommand::List { format } => {
            let list = b.vm_delegations(s).await?;
            Ok(match format {
                Format::Json => print_json(&list),
                Format::Table => {
                    delegation_rows(&list);
                    exit::OK
                }
            })
        }
        DelegationCommand::Revoke { id } => {
            let d = b.vm_revoke_delegation(s, id).await?;
            outln!("delegation {} of {} to {} revoked", d.id, d.approver, d.delegate);
            Ok(exit::OK)
        }
    }
}

pub async fn policy(b: &Backend, s: &dyn RequestStore, cmd: &EscalationPolicyCommand) -> Result<u8, Error> {
    match cmd {
        EscalationPolicyCommand::Set { department, timeout_hours, to } => {
            let p = EscalationPolicy { department: department.clone(), timeout_hours: *timeout_hours, escalate_to: to.clone() };
            let p = b.vm_set_escalation_policy(s, p).await?;
            outln!("{}: a step waiting over {} h is escalated to {}", p.department, p.timeout_hours, p.escalate_to);
            Ok(exit::OK)
        }
        EscalationPolicyCommand::List { format } => {
            let list = b.vm_escalation_policies(s).await?;
            Ok(match format {
                Format::Json => print_json(&list),
                Format::Table => {
                    let rows: Vec<Vec<String>> =
                        list.iter().map(|p| vec![p.department.clone(), p.timeout_hours.to_string(), p.escalate_to.clone()]).collect();
                    print_table(&["DEPARTMENT", "TIMEOUT (H)", "ESCALATE TO"], &rows);
                    exit::OK
                }
            })
        }
        EscalationPolicyCommand::Remove { department } => {
            b.vm_remove_escalation_policy(s, department).await?;
            outln!("{department}: no approval timeout");
            Ok(exit::OK)
        }
    }
}

/// `opsdeck vm escalate`: one pass (or, dry, its plan) at `at`.
pub async fn escalate(
    b: &Backend,
    s: &dyn RequestStore,
    dry_run: bool,
    at: Option<time::OffsetDateTime>,
    format: Format,
) -> Result<u8, Error> {
    let now = at.unwrap_or_else(time::OffsetDateTime::now_utc);
    let steps: Vec<EscalationStep> = b.vm_escalate(s, now, dry_run).await?;
    Ok(match format {
        Format::Json => print_json(&steps),
        Format::Table => {
            let rows: Vec<Vec<String>> = steps
                .iter()
                .map(|x| {
                    vec![
                        x.request.clone(),
                        x.vm.clone(),
                        x.department.clone(),
                        x.stage.as_str().to_string(),
                        x.waiting_since.clone(),
                        x.due_at.clone(),
                        x.to.clone(),
                        if x.detail.is_empty() { x.outcome.clone() } else { format!("{}: {}", x.outcome, x.detail) },
                    ]
                })
                .collect();
            print_table(&["REQUEST", "VM", "DEPARTMENT", "STEP", "WAITING SINCE", "DUE", "TO", "OUTCOME"], &rows);
            exit::OK
        }
    })
}

//! `opsdeck vm rules add|list|remove`: auto-approval rules per department
//! (a request within a rule and within the department's quota skips the
//! manager), and `opsdeck vm show ID` with the rule that approved it.

use clap::Subcommand;
use opsdeck_core::vms::rules::{self, ApprovalRule, RuleVersion};
use opsdeck_core::vms::store::RequestStore;
use opsdeck_core::vms::VmRequest;
use opsdeck_core::Backend;
use opsdeck_core::Error;

use crate::exit;
use crate::output::{outln, print_json, print_table, Format};

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Add a rule: requests of DEPARTMENT at most this large (and within its quota) skip the manager. IT admins only in a shared store.
    Add {
        #[arg(long)]
        department: String,
        /// The rule's name (shown on every request it approves as policy:NAME).
        #[arg(long)]
        name: String,
        #[arg(long)]
        max_cpu: u32,
        #[arg(long)]
        max_memory_gb: u32,
        #[arg(long)]
        max_disk_gb: u32,
        /// Only this template (repeat; none = any).
        #[arg(long = "template")]
        templates: Vec<String>,
        /// Only this network (repeat; none = any).
        #[arg(long = "network")]
        networks: Vec<String>,
        /// Replace the rule of that name if there is one (requests it approved keep their approval).
        #[arg(long)]
        replace: bool,
    },
    /// The rules in force (with --all, the replaced and removed ones too).
    List {
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Remove a rule (requests it already approved keep their approval).
    Remove {
        #[arg(long)]
        department: String,
        #[arg(long)]
        name: String,
    },
}

pub async fn run(b: &Backend, s: &dyn RequestStore, cmd: &RulesCommand) -> Result<u8, Error> {
    match cmd {
        RulesCommand::Add { department, name, max_cpu, max_memory_gb, max_disk_gb, templates, networks, replace } => {
            let rule = ApprovalRule {
                name: name.clone(),
                department: department.clone(),
                max_cpu: *max_cpu,
                max_memory_gb: *max_memory_gb,
                max_disk_gb: *max_disk_gb,
                templates: templates.clone(),
                networks: networks.clone(),
            };
            let v = b.vm_add_rule(s, rule, *replace).await?;
            outln!(
                "rule {} of {} (generation {}): {}",
                v.record.rule.name,
                v.record.rule.department,
                v.record.generation,
                rules::describe(&v.record.rule)
            );
            Ok(exit::OK)
        }
        RulesCommand::List { department, all, format } => {
            let list = b.vm_rules(s, department.as_deref(), *all).await?;
            Ok(match format {
                Format::Json => print_json(&list),
                Format::Table => {
                    print_table(&["DEPT", "RULE", "GEN", "LIMITS", "ADDED BY", "STATE"], &list.iter().map(row).collect::<Vec<_>>());
                    exit::OK
                }
            })
        }
        RulesCommand::Remove { department, name } => {
            let v = b.vm_remove_rule(s, department, name).await?;
            outln!("rule {} of {} removed (requests it approved keep their approval)", v.record.rule.name, v.record.rule.department);
            Ok(exit::OK)
        }
    }
}

fn row(v: &RuleVersion) -> Vec<String> {
    let r = &v.record;
    vec![
        r.rule.department.clone(),
        r.rule.name.clone(),
        r.generation.to_string(),
        rules::describe(&r.rule),
        r.added_by.clone(),
        match &r.removed {
            Some(x) => format!("removed by {} at {}", x.by, x.at),
            None => "in force".into(),
        },
    ]
}

/// The RULE column of a request row: the rule that approved its manager step, or `-`.
pub fn rule_cell(r: &VmRequest) -> String {
    rules::approved_by(r).map_or_else(|| "-".to_string(), String::from)
}

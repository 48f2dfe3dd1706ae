//! `opsdeck audit`: the audit log, newest first.

use opsdeck_core::cache::audit::AuditFilter;

use crate::output::{fail, print_json, print_table, Format};

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
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

pub async fn run(data_dir: Option<std::path::PathBuf>, a: AuditArgs) -> u8 {
    let backend = match super::open_backend(data_dir).await {
        Ok(b) => b,
        Err(e) => return fail(&e),
    };
    let filter = AuditFilter { platform: a.platform, result: a.result, text: a.search, target: a.target, limit: a.limit, offset: 0 };
    let page = match backend.audit_log(&filter).await {
        Ok(p) => p,
        Err(e) => return fail(&e),
    };
    match a.format {
        Format::Json => print_json(&page),
        Format::Table => {
            let rows: Vec<Vec<String>> = page
                .entries
                .iter()
                .map(|e| vec![e.at.clone(), e.actor.clone(), e.platform.clone(), e.target.clone(), e.action.clone(), e.result.clone(), e.detail.clone()])
                .collect();
            print_table(&["TIME", "ACTOR", "PLATFORM", "TARGET", "ACTION", "RESULT", "DETAIL"], &rows);
            crate::exit::OK
        }
    }
}

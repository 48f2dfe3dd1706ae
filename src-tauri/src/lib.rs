//! The Opsdeck desktop shell: a Tauri window over the opsdeck-core backend.
//! This crate stays thin: commands validate IPC input, call the library and
//! map its errors to [`error::UiError`].

mod commands;
mod error;
mod logging;

use opsdeck_core::{Backend, BackendOptions};

pub fn run() {
    let options = match BackendOptions::from_env() {
        Ok(o) => o,
        Err(e) => fatal(&format!("cannot determine the data directory: {e}")),
    };
    logging::init(&options.data_dir);
    let backend = match tauri::async_runtime::block_on(Backend::open(options)) {
        Ok(b) => b,
        Err(e) => fatal(&format!("cannot open the local database: {e}")),
    };
    tracing::info!(data_dir = %backend.info().data_dir, "Opsdeck starting");
    schedule_vm_lifecycle(backend.clone());
    let result = tauri::Builder::default()
        .manage(backend)
        .manage(commands::config::ConfigWatches::default())
        .manage(commands::clusters::ClusterWatches::default())
        .manage(commands::vms::VmWatches::default())
        .manage(commands::images::ScanTasks::default())
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::app::settings_get,
            commands::app::settings_set,
            commands::connections::connections_list,
            commands::connections::connection_save,
            commands::connections::connection_delete,
            commands::connections::connection_test,
            commands::connections::kube_contexts,
            commands::connections::vsphere_thumbprint,
            commands::audit::audit_list,
            commands::audit::audit_team,
            commands::clusters::clusters_health,
            commands::clusters::clusters_cached,
            commands::clusters::clusters_watch,
            commands::clusters::clusters_unwatch,
            commands::clusters::clusters_details,
            commands::clusters::clusters_apply,
            commands::images::images_inventory,
            commands::images::images_cached,
            commands::images::images_scan,
            commands::images::images_scan_running,
            commands::images::images_cancel,
            commands::images::images_history,
            commands::images::images_report,
            commands::images::images_export,
            commands::images::advisories_import,
            commands::images::images_policy,
            commands::images::images_set_policy,
            commands::vms::vms_settings,
            commands::vms::vms_store_status,
            commands::vms::vms_withdraw,
            commands::vms::vms_edit,
            commands::vms::vms_extend,
            commands::vms::vms_decide_extension,
            commands::vms::vms_set_settings,
            commands::vms::vms_inventory,
            commands::vms::vms_cached,
            commands::vms::vms_requests,
            commands::vms::vms_submit,
            commands::vms::vms_decide,
            commands::vms::vms_provision,
            commands::vms::vms_lifecycle,
            commands::vms::vms_compliance,
            commands::vms::vms_compliance_export,
            commands::vms::vms_quotas,
            commands::vms::vms_set_quota,
            commands::vms::vms_watch,
            commands::vms::vms_unwatch,
            commands::config::config_tree,
            commands::config::config_changes,
            commands::config::config_change_propose,
            commands::config::config_change_review,
            commands::config::config_change_publish,
            commands::config::config_count,
            commands::config::config_search,
            commands::config::config_get,
            commands::config::config_validate,
            commands::config::config_put,
            commands::config::config_delete,
            commands::config::config_delete_preview,
            commands::config::config_delete_prefix,
            commands::config::config_history,
            commands::config::config_rollback,
            commands::config::config_compare,
            commands::config::config_copy,
            commands::config::config_export,
            commands::config::config_import_preview,
            commands::config::config_import,
            commands::config::config_watch,
            commands::config::config_unwatch,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        fatal(&format!("the window could not be started: {e}"));
    }
}

fn fatal(msg: &str) -> ! {
    tracing::error!("{msg}");
    eprintln!("opsdeck: {msg}");
    std::process::exit(1)
}

/// While the app is open, the VM lifecycle (scheduled snapshots, lease
/// warnings, power-off, reclaim) runs every hour for every vCenter; the CLI
/// (`opsdeck vm lifecycle`) covers the time the app is closed.
fn schedule_vm_lifecycle(backend: Backend) {
    tauri::async_runtime::spawn(async move {
        let mut every = tokio::time::interval_at(
            tokio::time::Instant::now() + std::time::Duration::from_secs(120),
            std::time::Duration::from_secs(3600),
        );
        loop {
            every.tick().await;
            for (connection, result) in backend.vm_lifecycle_all(time::OffsetDateTime::now_utc()).await {
                match result {
                    Ok(actions) => tracing::info!(connection, actions = actions.len(), "VM lifecycle pass"),
                    Err(e) => tracing::warn!(connection, error = %e, "VM lifecycle pass failed"),
                }
            }
        }
    });
}

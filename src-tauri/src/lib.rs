//! The Opsdeck desktop shell: a Tauri window over the opsdeck-core backend.
//! This crate stays thin: commands validate IPC input, call the library and
//! map its errors to [`error::UiError`].

mod commands;
pub mod contract;
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
        .invoke_handler(contract::builder().invoke_handler())
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

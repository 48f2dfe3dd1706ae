//! The Opsdeck desktop shell: a Tauri window over the opsdeck-core backend.
//! This crate stays thin: commands validate IPC input, call the library and
//! map its errors to [`error::UiError`].

mod commands;
pub mod contract;
mod error;
mod logging;

use opsdeck_core::{Backend, BackendOptions};
use tauri::Manager;

pub fn run() {
    lighter_webkit();
    let options = match BackendOptions::from_env() {
        Ok(o) => o,
        Err(e) => fatal(&format!("cannot determine the data directory: {e}")),
    };
    logging::init(&options.data_dir);
    // The local database opens while GTK starts and the window and its web
    // view are created; the backend is in place (setup, below) before the
    // event loop answers the page's first request, so before any command.
    let opening = tauri::async_runtime::spawn(Backend::open(options));
    let result = tauri::Builder::default()
        .manage(commands::config::ConfigWatches::default())
        .manage(commands::clusters::ClusterWatches::default())
        .manage(commands::vms::VmWatches::default())
        .manage(commands::images::ScanTasks::default())
        .invoke_handler(include!(concat!(env!("OUT_DIR"), "/handler.rs")))
        .setup(move |app| {
            let backend = match tauri::async_runtime::block_on(opening) {
                Ok(Ok(b)) => b,
                Ok(Err(e)) => fatal(&format!("cannot open the local database: {e}")),
                Err(e) => fatal(&format!("cannot open the local database: {e}")),
            };
            tracing::info!(data_dir = %backend.info().data_dir, "Opsdeck starting");
            schedule_vm_lifecycle(backend.clone());
            schedule_vm_escalation(backend.clone());
            run_notifications(backend.clone());
            app.manage(backend);
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        fatal(&format!("the window could not be started: {e}"));
    }
}

/// WebKitGTK without accelerated compositing: the page is painted by the
/// CPU into one backing store instead of a tree of layers composited with
/// OpenGL (with no GPU: Mesa's llvmpipe). The UI is tables, forms and text,
/// which need no compositing; the web content process needs ~100 MiB less
/// and the first paint comes sooner (BENCHMARKS.md, "The app itself"). Set
/// before GTK starts, so the WebKit processes inherit it. Left alone when
/// `WEBKIT_DISABLE_COMPOSITING_MODE` is already set, and not set at all with
/// `OPSDECK_WEBKIT_COMPOSITING=1` (WebKit's default).
fn lighter_webkit() {
    if std::env::var_os("OPSDECK_WEBKIT_COMPOSITING").is_some_and(|v| v == "1") {
        return;
    }
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        // Still single-threaded: nothing else reads the environment yet.
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
}

fn fatal(msg: &str) -> ! {
    tracing::error!("{msg}");
    eprintln!("opsdeck: {msg}");
    std::process::exit(1)
}

/// While the app is open, the notification sender drains the outbox: at
/// once when something is queued, when a retry is due, and every 30 s (the
/// CLI's `opsdeck notify send` covers the time the app is closed).
fn run_notifications(backend: Backend) {
    tauri::async_runtime::spawn(async move { backend.notify_run_sender().await });
}

/// While the app is open, an escalation pass runs every 10 minutes on the
/// request store of the settings (late approval steps go to their
/// department's escalation delegate, once: concurrent passes of other
/// instances write nothing twice); the CLI (`opsdeck vm escalate`) covers the
/// time the app is closed.
fn schedule_vm_escalation(backend: Backend) {
    tauri::async_runtime::spawn(async move {
        let mut every =
            tokio::time::interval_at(tokio::time::Instant::now() + std::time::Duration::from_secs(60), std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            match backend.vm_escalate_default(time::OffsetDateTime::now_utc()).await {
                Ok(steps) => tracing::info!(steps = steps.len(), "VM escalation pass"),
                Err(e) => tracing::warn!(error = %e, "VM escalation pass failed"),
            }
        }
    });
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

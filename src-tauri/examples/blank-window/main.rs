//! The WebKitGTK floor for BENCHMARKS.md: a Tauri 2 window showing an empty
//! page (no backend, no UI bundle), built with the same Tauri, wry and
//! WebKitGTK as the app and measured by `bench-app` the same way.
//!
//!   cargo build --release -p opsdeck-desktop --example blank-window \
//!     --features opsdeck-desktop/custom-protocol,opsdeck-desktop/bench-blank-window

fn main() {
    if let Err(e) = tauri::Builder::default().run(tauri::generate_context!("examples/blank-window/tauri.conf.json")) {
        eprintln!("blank-window: {e}");
        std::process::exit(1);
    }
}

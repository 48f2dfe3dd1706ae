//! End to end: the real app window (embedded UI, real backend, real keychain)
//! driven through tauri-driver and WebKitWebDriver under Xvfb. One test binary
//! whose modules are the `e2e_*` files beside this one (see integration.rs).

#[path = "e2e_app.rs"]
mod e2e_app;
#[path = "e2e_bluegreen.rs"]
mod e2e_bluegreen;
#[path = "e2e_clusters.rs"]
mod e2e_clusters;
#[path = "e2e_config.rs"]
mod e2e_config;
#[path = "e2e_config_changes.rs"]
mod e2e_config_changes;
#[path = "e2e_images.rs"]
mod e2e_images;
#[path = "e2e_images_lang.rs"]
mod e2e_images_lang;
#[path = "e2e_images_registry.rs"]
mod e2e_images_registry;
#[path = "e2e_images_suppressed.rs"]
mod e2e_images_suppressed;
#[path = "e2e_notify.rs"]
mod e2e_notify;
#[path = "e2e_overview.rs"]
mod e2e_overview;
#[path = "e2e_rollout.rs"]
mod e2e_rollout;
#[path = "e2e_team_audit.rs"]
mod e2e_team_audit;
#[path = "e2e_vms.rs"]
mod e2e_vms;

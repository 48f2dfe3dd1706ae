// The app manifest lists every command the UI may call; the capability file
// grants them to the main window only. Anything not listed is refused by Tauri.
const COMMANDS: &[&str] = &[
    "app_info",
    "settings_get",
    "settings_set",
    "connections_list",
    "connection_save",
    "connection_delete",
    "connection_test",
    "kube_contexts",
    "vsphere_thumbprint",
    "audit_list",
    "clusters_health",
    "clusters_cached",
    "clusters_watch",
    "clusters_unwatch",
    "clusters_details",
    "clusters_apply",
    "config_tree",
    "config_count",
    "config_search",
    "config_get",
    "config_validate",
    "config_put",
    "config_delete",
    "config_delete_preview",
    "config_delete_prefix",
    "config_history",
    "config_rollback",
    "config_compare",
    "config_copy",
    "config_export",
    "config_import_preview",
    "config_import",
    "config_watch",
    "config_unwatch",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run the Tauri build script");
}

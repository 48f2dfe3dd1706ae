//! The integration tests: each connector, workflow and the CLI against the
//! real services that scripts/services start. One test binary whose modules
//! are the files beside this one (tests/Cargo.toml: `autotests = false`), so
//! a change in the core library relinks one binary, not one per file
//! (BENCHMARKS.md, "Build times"). A test's name is `file::test`:
//! `scripts/test.sh -- config_etcd` runs one file's tests. A new file is
//! declared here (`every_test_file_is_in_a_test_binary` fails until it is).
//! A service from `shared()` is shared by one file's tests only.

#[path = "check_cli.rs"]
mod check_cli;
#[path = "cli.rs"]
mod cli;
#[path = "cli_audit.rs"]
mod cli_audit;
#[path = "cli_config.rs"]
mod cli_config;
#[path = "cli_pipe.rs"]
mod cli_pipe;
#[path = "clusters_apply.rs"]
mod clusters_apply;
#[path = "clusters_apply_review.rs"]
mod clusters_apply_review;
#[path = "clusters_bluegreen.rs"]
mod clusters_bluegreen;
#[path = "clusters_failover.rs"]
mod clusters_failover;
#[path = "clusters_fleet.rs"]
mod clusters_fleet;
#[path = "clusters_health.rs"]
mod clusters_health;
#[path = "clusters_history.rs"]
mod clusters_history;
#[path = "clusters_live.rs"]
mod clusters_live;
#[path = "clusters_rollout.rs"]
mod clusters_rollout;
#[path = "clusters_workloads.rs"]
mod clusters_workloads;
#[path = "config_binary.rs"]
mod config_binary;
#[path = "config_cluster.rs"]
mod config_cluster;
#[path = "config_etcd.rs"]
mod config_etcd;
#[path = "config_import_interrupt.rs"]
mod config_import_interrupt;
#[path = "config_move.rs"]
mod config_move;
#[path = "config_promote.rs"]
mod config_promote;
#[path = "config_scale.rs"]
mod config_scale;
#[path = "config_schema.rs"]
mod config_schema;
#[path = "config_search.rs"]
mod config_search;
#[path = "config_watch.rs"]
mod config_watch;
#[path = "connection_docker.rs"]
mod connection_docker;
#[path = "connection_etcd.rs"]
mod connection_etcd;
#[path = "connection_kube.rs"]
mod connection_kube;
#[path = "connection_vsphere.rs"]
mod connection_vsphere;
#[path = "error_classes.rs"]
mod error_classes;
#[path = "front_door.rs"]
mod front_door;
#[path = "images_cli.rs"]
mod images_cli;
#[path = "images_engines.rs"]
mod images_engines;
#[path = "images_export_reuse.rs"]
mod images_export_reuse;
#[path = "images_fleet.rs"]
mod images_fleet;
#[path = "images_gate.rs"]
mod images_gate;
#[path = "images_hostile.rs"]
mod images_hostile;
#[path = "images_inputs.rs"]
mod images_inputs;
#[path = "images_lang.rs"]
mod images_lang;
#[path = "images_registry_browse.rs"]
mod images_registry_browse;
#[path = "images_registry_saved.rs"]
mod images_registry_saved;
#[path = "images_scan.rs"]
mod images_scan;
#[path = "images_suppress.rs"]
mod images_suppress;
#[path = "installers.rs"]
mod installers;
#[path = "notify.rs"]
mod notify;
#[path = "secrets_keychain.rs"]
mod secrets_keychain;
#[path = "team_audit.rs"]
mod team_audit;
#[path = "team_changes.rs"]
mod team_changes;
#[path = "team_trust.rs"]
mod team_trust;
#[path = "vms_cli.rs"]
mod vms_cli;
#[path = "vms_delegation.rs"]
mod vms_delegation;
#[path = "vms_etcd.rs"]
mod vms_etcd;
#[path = "vms_extension.rs"]
mod vms_extension;
#[path = "vms_flow.rs"]
mod vms_flow;
#[path = "vms_guest.rs"]
mod vms_guest;
#[path = "vms_interrupt.rs"]
mod vms_interrupt;
#[path = "vms_lifecycle_plan.rs"]
mod vms_lifecycle_plan;
#[path = "vms_live.rs"]
mod vms_live;
#[path = "vms_rules.rs"]
mod vms_rules;
#[path = "vms_showback.rs"]
mod vms_showback;
#[path = "vms_utilisation.rs"]
mod vms_utilisation;

#[test]
fn every_test_file_is_in_a_test_binary() {
    opsdeck_tests::workspace::assert_every_test_file_is_declared();
}

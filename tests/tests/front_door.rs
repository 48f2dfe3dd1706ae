//! One front door: every command the UI can call is declared here as a read
//! or a write, and every write is audited by the backend — so the app (thin
//! Tauri commands) and the CLI (argument parsing and printing over the same
//! backend methods; tests/tests/cli_audit.rs reads its entries) audit alike.
//! A new command fails `every_command_is_a_read_or_a_write` until it is
//! classified here, with the audit action it must leave if it changes anything.

use std::collections::BTreeSet;

use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::config::format::ValueFormat;
use opsdeck_core::config::transfer::DocFormat;
use opsdeck_core::config::{CopyItem, WriteResult};
use opsdeck_core::connections::ConnectionSpec;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::{workspace, Service};

/// Commands that change nothing outside the app's caches.
const READS: &[&str] = &[
    "app_info",
    "settings_get",
    "audit_list",
    "audit_team",
    "clusters_health",
    "clusters_cached",
    "clusters_watch",
    "clusters_unwatch",
    "clusters_details",
    "clusters_history",
    "clusters_fleet_workloads",
    "clusters_capacity",
    "clusters_apply_review",
    "clusters_rollout_plan",
    // Stops a running rollout at its next safe point (the rollout audits what it did).
    "clusters_rollout_stop",
    // Blue/green status; failover preview (keeps the marked specs in the local cache only).
    "bluegreen_status",
    "failover_plan",
    // Stops a running blue/green deploy before its switch (the deploy audits where it stopped).
    "bluegreen_stop",
    "config_tree",
    "config_count",
    "config_search",
    "config_get",
    "config_schema_for",
    "config_validate",
    "config_delete_preview",
    "config_history",
    "config_compare",
    "config_export",
    "config_import_preview",
    "config_promote_plan",
    "config_promote_protected",
    "config_cluster",
    "config_cluster_settings",
    "config_move_plan",
    "config_bookmarks",
    "config_watch",
    "config_unwatch",
    "config_value_search",
    "config_value_search_stop",
    "config_changes",
    "connections_list",
    "kube_contexts",
    "vsphere_thumbprint",
    "images_inventory",
    "images_cached",
    // A scan reads the image; its report goes to the local history only.
    "images_scan",
    "images_scan_running",
    "images_scan_all",
    "images_cancel",
    "images_fleet",
    "images_rematch_notes",
    "images_history",
    "images_report",
    "images_export",
    "images_policy",
    "vms_settings",
    "vms_inventory",
    "vms_cached",
    "vms_requests",
    "vms_compliance",
    "vms_compliance_export",
    "vms_utilisation",
    "vms_quotas",
    "vms_watch",
    "vms_unwatch",
    "vms_store_status",
    "vms_price_list",
    "vms_estimate",
    "vms_showback",
    "vms_showback_csv",
    "vms_delegations",
    "vms_escalation_policies",
    "vms_decision_ways",
    "vms_lifecycle_plan",
    // The Overview reads (its live tiles refresh the caches the workspaces keep).
    "overview_cached",
    "overview_tile",
    "overview_cancel",
    "notify_settings",
    "notify_outbox",
    // Registry connections: browsing and a tag's scan read the registry (the report goes to the local history).
    "registry_list",
    "registry_repositories",
    "registry_tags",
    "registry_scan",
];

/// Commands that change something, and the audit action (or the start of
/// it, for actions that name a stage or outcome) the backend records.
const WRITES: &[(&str, &str)] = &[
    ("settings_set", "settings.update"),
    ("connection_save", "connection.create"), // or connection.update
    ("connection_delete", "connection.delete"),
    ("connection_test", "connection.test"),
    ("clusters_apply", "cluster.apply"),
    ("clusters_rollout", "cluster.rollout"),
    ("clusters_rollout_rollback", "cluster.rollout.rollback"),
    ("bluegreen_deploy", "bluegreen.deploy"),
    ("bluegreen_rollback", "bluegreen.rollback"),
    ("bluegreen_cleanup", "bluegreen.cleanup"),
    ("failover_run", "failover.run"),
    ("failover_failback", "failover.failback"),
    ("config_put", "config.put"),
    ("config_delete", "config.delete"),
    ("config_delete_prefix", "config.delete_prefix"),
    ("config_rollback", "config.rollback"),
    ("config_copy", "config.copy"),
    ("config_import", "config.import"),
    ("config_promote_apply", "config.promote"),
    ("config_promote_propose", "config.promote.propose"),
    ("config_move_apply", "config.move"),
    ("config_set_cluster_settings", "config.cluster_quota"),
    ("config_bookmark_add", "config.bookmark"),
    ("config_bookmark_remove", "config.bookmark"),
    ("config_change_propose", "config.change.propose"),
    ("config_change_review", "config.change."),
    ("config_change_publish", "config.change.publish"),
    ("advisories_import", "advisories.import"),
    ("images_set_policy", "policy.update"),
    ("vms_set_settings", "vm.settings"),
    ("vms_submit", "vm.request"),
    ("vms_decide", "vm."),
    ("vms_provision", "vm.provision"),
    ("vms_lifecycle", "vm.lifecycle."),
    ("vms_set_quota", "vm.quota"),
    ("vms_set_price_list", "vm.price_list"),
    ("vms_withdraw", "vm.withdraw"),
    ("vms_extend", "vm.extend"),
    ("vms_reclaim", "vm.reclaim"),
    ("vms_decide_extension", "vm.extension."),
    ("vms_delegate", "vm.delegation.create"),
    ("vms_revoke_delegation", "vm.delegation.revoke"),
    ("vms_set_escalation_policy", "vm.escalation.policy"),
    ("vms_escalate", "vm.escalate"),
    ("vms_decide_via", "vm."),
    ("vms_edit", "vm.edit"),
    ("notify_save_channel", "notify.channel."),
    ("notify_delete_channel", "notify.channel.delete"),
    ("notify_test", "notify.test"),
    ("notify_subscribe", "notify.subscribe"),
    ("notify_unsubscribe", "notify.unsubscribe"),
    ("notify_retry", "notify.retry"),
    ("registry_save", "registry.add"), // or registry.update
    ("registry_remove", "registry.remove"),
    ("registry_test", "registry.test"),
];

/// The command names of the generated IPC contract (ui/src/api/bindings.ts).
fn contract_commands() -> BTreeSet<String> {
    let bindings = std::fs::read_to_string(workspace::root().join("ui/src/api/bindings.ts")).expect("the generated bindings");
    bindings
        .split("__TAURI_INVOKE<")
        .skip(1)
        .filter_map(|rest| rest.split_once(">(\"").map(|(_, name)| name))
        .filter_map(|name| name.split('"').next().map(String::from))
        .collect()
}

fn rust_sources(dir: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![workspace::root().join(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push((p.display().to_string(), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out
}

#[test]
fn every_command_is_a_read_or_a_write() {
    let contract = contract_commands();
    assert!(contract.len() > 60, "parsed the contract: {contract:?}");
    let reads: BTreeSet<String> = READS.iter().map(|s| s.to_string()).collect();
    let writes: BTreeSet<String> = WRITES.iter().map(|(c, _)| c.to_string()).collect();
    assert!(reads.is_disjoint(&writes), "both a read and a write: {:?}", reads.intersection(&writes).collect::<Vec<_>>());
    let declared: BTreeSet<String> = reads.union(&writes).cloned().collect();
    let unclassified: Vec<_> = contract.difference(&declared).collect();
    assert!(
        unclassified.is_empty(),
        "classify these commands in tests/tests/front_door.rs (read, or write with its audit action): {unclassified:?}"
    );
    let gone: Vec<_> = declared.difference(&contract).collect();
    assert!(gone.is_empty(), "no longer in the contract: {gone:?}");
}

/// The audit entry of a write is made by the backend, never by the command
/// layer or the CLI, so both paths leave it.
#[test]
fn writes_are_audited_in_the_backend_only() {
    let backend = rust_sources("src-tauri/core/src/backend");
    let backend_text: String = backend.iter().map(|(_, t)| t.as_str()).collect();
    for (command, action) in WRITES {
        // Literal actions appear as strings; prefixes ("vm.") in format!s.
        assert!(backend_text.contains(&format!("\"{action}")), "{command}: the backend records no {action:?} audit entry");
    }
    for dir in ["src-tauri/src", "src-tauri/cli/src"] {
        for (path, text) in rust_sources(dir) {
            assert!(!text.contains("NewAuditEntry") && !text.contains("audit::append"), "{path} writes the audit log itself");
        }
    }
    // The CLI reaches no platform except through the backend.
    let cli = std::fs::read_to_string(workspace::root().join("src-tauri/cli/Cargo.toml")).unwrap();
    for client in ["etcd-client", "bollard", "kube", "k8s-openapi", "vim_rs", "reqwest"] {
        assert!(
            !cli.lines().any(|l| l.trim_start().starts_with(&format!("{client} ")) || l.trim_start().starts_with(&format!("{client}."))),
            "the CLI depends on {client} directly"
        );
    }
}

/// The app path, against a real etcd: each write through the backend's
/// methods (what the Tauri commands call) leaves its entry.
#[tokio::test]
async fn app_path_writes_leave_audit_entries() {
    let etcd = Service::start("etcd", &[]);
    let t = TestBackend::new().await;
    let b = &t.backend;
    let spec =
        ConnectionSpec::Etcd { endpoints: vec![etcd.get("ETCD_ENDPOINT").into()], tls: None, username: None, allow_plaintext: false };
    let c = t.add("front door", spec, None).await;
    b.test_connection(&c.id).await.unwrap();
    let mut settings = b.settings().await.unwrap();
    settings.theme = "dark".into();
    b.set_settings(settings).await.unwrap();

    let s = b.etcd_session(&c.id).await.unwrap();
    let created = b.config_put(&s, "/fd/a", "1", 0, ValueFormat::Plain, false, "create").await.unwrap();
    let rev = match created {
        WriteResult::Written { meta, .. } => meta.mod_revision,
        other => panic!("{other:?}"),
    };
    b.config_put(&s, "/fd/a", "2", rev, ValueFormat::Plain, false, "update").await.unwrap();
    let history = b.config_history(&s, "/fd/a", 10).await.unwrap();
    let current = history.entries[0].mod_revision;
    b.config_rollback(&s, "/fd/a", rev, current, "back").await.unwrap();
    let diff = b.config_compare(&s, "/fd/", "/fd2/").await.unwrap();
    let items: Vec<CopyItem> = diff
        .only_left
        .iter()
        .map(|d| CopyItem { rel: d.rel.clone(), left_mod_revision: d.left_mod_revision, right_mod_revision: 0 })
        .collect();
    b.config_copy(&s, "/fd/", "/fd2/", &items, "copy").await.unwrap();
    let doc = b.config_export(&s, "/fd/", DocFormat::Json).await.unwrap();
    b.config_import(&s, "/fd3/", &doc, "import").await.unwrap();
    let plan = b.config_promote_plan(&s, "/fd/", &s, "/fd4/").await.unwrap();
    let selection = opsdeck_core::config::promote::PromoteSelection::default();
    let promoted = b.config_promote_apply(&s, &s, &plan, &selection, None, 128, "promote", |_, _| {}).await.unwrap();
    assert!(promoted.error.is_none() && promoted.report.complete, "{:?}", promoted.report);
    let plan = b.config_move_plan(&s, "/fd4/", "/fd5/").await.unwrap();
    let moved = b.config_move_apply(&s, &plan, false, "move", |_, _| {}).await.unwrap();
    assert!(moved.error.is_none() && moved.report.complete, "{:?}", moved.report);
    let quota = opsdeck_core::backend::ClusterSettings { quota_backend_bytes: Some(8 << 30) };
    b.config_set_cluster_settings(&c.id, &quota).await.unwrap();
    b.config_bookmark_add(&c.id, "/fd/").await.unwrap();
    b.config_bookmark_remove(&c.id, "/fd/").await.unwrap();
    let now = b.config_get(&s, "/fd2/a").await.unwrap();
    b.config_delete(&s, "/fd2/a", now.meta.mod_revision, "delete").await.unwrap();
    let count = b.config_count(&s, "/fd3/").await.unwrap();
    b.config_delete_prefix(&s, "/fd3/", count, "clean").await.unwrap();
    b.delete_connection(&c.id).await.unwrap();

    let audit = b.audit_log(&AuditFilter { limit: 1000, ..Default::default() }).await.unwrap();
    let actions: BTreeSet<&str> = audit.entries.iter().map(|e| e.action.as_str()).collect();
    for action in [
        "connection.create",
        "connection.test",
        "settings.update",
        "config.create",
        "config.put",
        "config.rollback",
        "config.copy",
        "config.import",
        "config.promote",
        "config.move",
        "config.cluster_quota",
        "config.bookmark",
        "config.delete",
        "config.delete_prefix",
        "connection.delete",
    ] {
        assert!(actions.contains(action), "no {action} entry: {actions:?}");
    }
    assert!(audit.entries.iter().all(|e| e.result == "ok"), "{:#?}", audit.entries);
}

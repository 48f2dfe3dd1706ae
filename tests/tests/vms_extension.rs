//! Lease extensions in the local request store (the shared etcd store's are
//! in team_trust.rs), against a real vcsim: asked for by the requester with a
//! reason, within the department's longest total lease (refused with the
//! figures), decided once by the manager even when two decide at once; the
//! approved extension moves the lease the lifecycle follows; audited, and
//! queued in the notification outbox for the manager and the requester.

use opsdeck_core::backend::StoreChoice;
use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::notify::{ChannelInput, ChannelSpec, EventKind, SubscriptionInput, WebhookFormat};
use opsdeck_core::vms::model::{ExtensionState, Quota, Stage, State};
use opsdeck_core::vms::provision::ProvisionOptions;
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::{form, vcsim_with_template};
use time::{Duration, OffsetDateTime};

#[tokio::test]
async fn a_lease_extension_in_the_local_store_is_decided_once_within_the_department_maximum() {
    let t = TestBackend::new().await;
    let b = &t.backend;
    let (_vcsim, vc) = vcsim_with_template(&t, &[]).await;
    let store = b.vm_store(&StoreChoice::Local).await.unwrap();
    let store = store.as_ref();
    b.vm_set_quota(store, "qa", &Quota { vms: 5, vcpu: 16, memory_gb: 16, disk_gb: 500, max_lease_days: 60 }).await.unwrap();
    // The manager and the requester follow the outbox through a webhook that is not listening
    // (the notifications stay queued there; nothing here sends them).
    let spec =
        ChannelSpec::Webhook { url: "http://127.0.0.1:9/hook".into(), format: WebhookFormat::Generic, ca_file: None, timeout_secs: 5 };
    let hook = b
        .notify_save_channel(ChannelInput { id: None, name: "hook".into(), spec, password: None, clear_password: false })
        .await
        .unwrap()
        .id;
    for (user, events, depts) in [
        ("bob", vec![EventKind::VmRequestWaitingManager], vec!["qa".to_string()]),
        ("tester", vec![EventKind::VmRequestApproved, EventKind::VmRequestRejected], vec![]),
    ] {
        let sub = SubscriptionInput { id: None, user: user.into(), events, channel: hook.clone(), address: None, departments: depts };
        b.notify_subscribe(sub).await.unwrap();
    }

    let r = b.vm_submit(store, &vc.id, form("ext-local", "qa")).await.unwrap();
    b.vm_decide(store, Some(&vc.id), &r.id, Stage::Manager, true, "").await.unwrap();
    b.vm_decide(store, Some(&vc.id), &r.id, Stage::Admin, true, "").await.unwrap();
    let opts = ProvisionOptions { instance: "ext-test".into(), ..Default::default() };
    let r = b.vm_provision(store, &vc.id, &r.id, &opts, &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Provisioned, "{:?}", r.failure);
    let today = OffsetDateTime::now_utc().date();
    let lease = r.spec.lease_end.clone();

    // Bad input: over the department's longest lease (with the figures), not later, no reason.
    let far = (today + Duration::days(90)).to_string();
    let e = b.vm_extend(store, &r.id, &far, "release slipped").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
    assert!(e.to_string().contains("90 days in all") && e.to_string().contains("at most 60 days"), "{e}");
    let e = b.vm_extend(store, &r.id, &lease, "release slipped").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
    let until = (today + Duration::days(50)).to_string();
    let e = b.vm_extend(store, &r.id, &until, "  ").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");

    // Asked: waits for the manager; the lease in force is unchanged; a second ask is refused.
    let asked = b.vm_extend(store, &r.id, &until, "release slipped").await.unwrap();
    assert_eq!(asked.extensions.len(), 1, "{:?}", asked.extensions);
    assert_eq!((asked.extensions[0].state, asked.spec.lease_end.as_str()), (ExtensionState::Pending, lease.as_str()));
    let e = b.vm_extend(store, &r.id, &until, "again").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");

    // Two approvers at once: exactly one decision is written.
    let (a1, a2) = tokio::join!(
        b.vm_decide_extension(store, &r.id, 1, true, "ok"),
        b.vm_decide_extension(store, &r.id, 1, false, "no: the sprint ends")
    );
    let (won, lost) = match (a1, a2) {
        (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
        other => panic!("exactly one decision wins: {other:?}"),
    };
    assert_eq!(lost.code(), ErrorCode::Conflict, "{lost}");
    let approved = won.extensions[0].state == ExtensionState::Approved;
    let now = b.vm_request(store, &r.id).await.unwrap();
    assert_eq!(now.extensions[0].state, won.extensions[0].state, "the winner's decision is the one stored");
    assert_eq!(now.spec.lease_end, if approved { until.clone() } else { lease.clone() }, "the lease moves only when approved");
    let e = b.vm_decide_extension(store, &r.id, 1, true, "late").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict, "{e}");

    // The lifecycle follows the lease in force: the day after the old lease, no power-off if extended.
    let old = opsdeck_core::vms::validate::parse_date("lease", &lease).unwrap();
    let plan = b.vm_lifecycle_plan(store, &vc.id, (old + Duration::days(1)).with_hms(12, 0, 0).unwrap().assume_utc()).await.unwrap();
    assert_eq!(plan.steps.iter().any(|s| s.action == "power_off"), !approved, "{plan:?}");

    // Audited, and in the outbox for the manager and the requester.
    let audit = b.audit_log(&AuditFilter { platform: Some("vsphere".into()), limit: 200, ..Default::default() }).await.unwrap();
    let actions: Vec<&str> = audit.entries.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"vm.extend"), "{actions:?}");
    assert!(actions.contains(&if approved { "vm.extension.approve" } else { "vm.extension.reject" }), "{actions:?}");
    let outbox = b.notify_outbox(None, 100).await.unwrap();
    let to = |who: &str, title: &str| outbox.iter().any(|e| e.subscriber == who && e.title.contains(title));
    assert!(to("bob", "Lease extension of VM ext-local waits for your approval"), "{outbox:#?}");
    let decided = if approved { format!("is extended to {until}") } else { "lease extension for VM ext-local was rejected".to_string() };
    assert!(to("tester", &decided), "{outbox:#?}");
    t.cleanup().await;
}

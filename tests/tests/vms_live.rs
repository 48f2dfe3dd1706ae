//! Live VM updates (WaitForUpdatesEx on a collector of their own) against
//! vcsim: every VM first, in one batch (a server page holds up to 100), then
//! a power-off, a new VM and a destroyed VM each arrive as events within a
//! second, without polling.

use std::time::Duration;

use opsdeck_core::vms::live::VmEvent;
use opsdeck_core::vms::vsphere::CloneTarget;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::vcsim_with_template;
use tokio::sync::mpsc::UnboundedReceiver;

/// The first event matching `pred`, failing after `limit`.
async fn next(rx: &mut UnboundedReceiver<VmEvent>, what: &str, limit: Duration, pred: impl Fn(&VmEvent) -> bool) -> VmEvent {
    tokio::time::timeout(limit, async {
        loop {
            let e = rx.recv().await.expect("the watch ended");
            if pred(&e) {
                return e;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no event for {what} within {limit:?}"))
}

#[tokio::test]
async fn changes_arrive_as_events() {
    let t = TestBackend::new().await;
    let (_vcsim, vc) = vcsim_with_template(&t, &[]).await;
    let inv = t.backend.vm_inventory(&vc.id).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (batch_tx, mut batches) = tokio::sync::mpsc::unbounded_channel();
    let handle = t
        .backend
        .vm_watch(&vc.id, move |batch: Vec<VmEvent>| {
            let _ = batch_tx.send(batch.len());
            for e in batch {
                let _ = tx.send(e);
            }
        })
        .await
        .unwrap();

    // The initial state: one upsert per VM, all in the first batch (one
    // message to the UI, not one per VM: this vCenter holds fewer than a page, 100).
    let first = tokio::time::timeout(Duration::from_secs(10), batches.recv()).await.expect("the initial batch").expect("the watch ended");
    assert_eq!(first, inv.vms.len(), "the first batch holds every VM");
    let mut seen = std::collections::HashSet::new();
    while seen.len() < inv.vms.len() {
        if let VmEvent::Upsert { vm } =
            next(&mut rx, "the initial VMs", Duration::from_secs(10), |e| matches!(e, VmEvent::Upsert { .. })).await
        {
            seen.insert(vm.id);
        }
    }

    let vim = t.backend.vim(&vc.id).await.unwrap();
    let on = inv.vms.iter().find(|v| v.powered_on()).unwrap().clone();
    vim.power_off(&on.id).await.unwrap();
    let id = on.id.clone();
    next(
        &mut rx,
        "the power-off",
        Duration::from_secs(2),
        |e| matches!(e, VmEvent::Upsert { vm } if vm.id == id && vm.power == "poweredOff"),
    )
    .await;

    let template = inv.vm_by_name(opsdeck_tests::vms::TEMPLATE).unwrap().clone();
    let host = inv.host(&template.host).unwrap().clone();
    let pool = inv.root_pool_of_host(&host.id).unwrap().to_string();
    let new = vim
        .clone_vm(
            &CloneTarget {
                template: &template.id,
                folder: &template.folder,
                name: "live-1",
                host: &host.id,
                pool: &pool,
                datastore: &template.datastores[0],
            },
            &opsdeck_core::vms::vsphere::config_spec(1, 1, ""),
            &|_| {},
        )
        .await
        .unwrap();
    next(&mut rx, "the new VM", Duration::from_secs(2), |e| matches!(e, VmEvent::Upsert { vm } if vm.name == "live-1")).await;
    vim.destroy(&new).await.unwrap();
    next(&mut rx, "the destroyed VM", Duration::from_secs(2), |e| matches!(e, VmEvent::Removed { id } if *id == new)).await;

    drop(handle);
    t.cleanup().await;
}

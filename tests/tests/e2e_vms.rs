//! End to end, VMs workspace: in the real app over a real vcsim, file a VM
//! request in the form, approve it as the department manager and as the IT
//! admin, watch it provision, and find the VM in the inventory and the
//! compliance report.

use std::time::Duration;

use opsdeck_tests::app::{css, fill, select, shot, wait_until, App, Read};
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::vcsim_with_template;

#[tokio::test]
async fn request_approve_and_provision_from_the_ui() {
    // vcsim with a template, prepared through the library.
    let prep = TestBackend::new().await;
    let (vcsim, _) = vcsim_with_template(&prep, &[]).await;

    let app = App::start().await;
    let c = &app.c;
    app.click("[data-testid=nav-connections]").await;
    app.click("[data-testid=add-connection]").await;
    select(c, "[data-testid=conn-kind]", "vsphere").await;
    fill(c, "[data-testid=conn-name]", "lab vcenter").await;
    fill(c, "[data-testid=conn-vsphere-url]", vcsim.get("VCSIM_SDK_URL")).await;
    fill(c, "[data-testid=conn-username]", vcsim.get("VCSIM_USER")).await;
    fill(c, "[data-testid=conn-secret]", vcsim.get("VCSIM_PASSWORD")).await;
    fill(c, "[data-testid=conn-thumbprint]", vcsim.get("VCSIM_THUMBPRINT_SHA256")).await;
    app.click("[data-testid=conn-save]").await;
    css(c, "[data-testid=conn-row][data-name='lab vcenter']").await;

    // The inventory, read in one retrieval per object type.
    app.click("[data-testid=nav-vms]").await;
    app.click("[data-testid=vms-tab-inventory]").await;
    css(c, "[data-testid=vm-row][data-name='DC0_H0_VM0']").await;
    shot(c, "vms-inventory").await;

    // A quota for the department.
    app.click("[data-testid=vms-tab-quotas]").await;
    app.click("[data-testid=quota-new]").await;
    fill(c, "[data-testid=quota-department]", "qa").await;
    fill(c, "[data-testid=quota-vms]", "5").await;
    fill(c, "[data-testid=quota-vcpu]", "16").await;
    app.click("[data-testid=quota-save]").await;

    // File the request in the form: invalid input is caught before submitting.
    app.click("[data-testid=vms-tab-requests]").await;
    app.click("[data-testid=vms-new-request]").await;
    fill(c, "[data-testid=vm-form-name]", "Web_01").await;
    app.click("[data-testid=vm-form-submit]").await;
    css(c, "#vm-name[aria-invalid=true]").await;
    fill(c, "[data-testid=vm-form-name]", "e2e-web-01").await;
    select(c, "[data-testid=vm-form-template]", "DC0_H0_VM0").await;
    fill(c, "[data-testid=vm-form-cpu]", "2").await;
    fill(c, "[data-testid=vm-form-memory_gb]", "1").await;
    fill(c, "[data-testid=vm-form-disk_gb]", "20").await;
    fill(c, "[data-testid=vm-form-department]", "qa").await;
    fill(c, "[data-testid=vm-form-purpose]", "web tier for the e2e sprint").await;
    select(c, "[data-testid=vm-form-snapshot_schedule]", "daily").await;
    shot(c, "vms-request-form").await;
    app.click("[data-testid=vm-form-submit]").await;

    // The drawer opens on the new request: manager, then admin.
    wait_until(c, "[data-testid=vm-detail]", Read::Attr("data-state"), |s| s == "pending_manager", Duration::from_secs(20)).await;
    fill(c, "[data-testid=vm-comment]", "ok for the sprint").await;
    app.click("[data-testid=vm-approve]").await;
    wait_until(c, "[data-testid=vm-detail]", Read::Attr("data-state"), |s| s == "pending_admin", Duration::from_secs(20)).await;
    // The requester changes the size before the admin decides: the approvals start over.
    app.click("[data-testid=vm-edit]").await;
    fill(c, "[data-testid=vm-form-memory_gb]", "2").await;
    app.click("[data-testid=vm-form-submit]").await;
    wait_until(c, "[data-testid=vm-detail]", Read::Attr("data-state"), |s| s == "pending_manager", Duration::from_secs(20)).await;
    let history = wait_until(
        c,
        "[data-testid=vm-history]",
        Read::Prop("textContent"),
        |t| t.contains("edited by the requester"),
        Duration::from_secs(5),
    )
    .await;
    assert!(history.contains("edited by the requester"), "{history}");
    fill(c, "[data-testid=vm-comment]", "ok for the sprint").await;
    app.click("[data-testid=vm-approve]").await;
    wait_until(c, "[data-testid=vm-detail]", Read::Attr("data-state"), |s| s == "pending_admin", Duration::from_secs(20)).await;
    app.click("[data-testid=vm-approve]").await;
    wait_until(c, "[data-testid=vm-detail]", Read::Attr("data-state"), |s| s == "approved", Duration::from_secs(20)).await;
    shot(c, "vms-request-approved").await;

    // Provision and watch it finish.
    app.click("[data-testid=vm-provision]").await;
    wait_until(c, "[data-testid=vm-detail]", Read::Attr("data-state"), |s| s == "provisioned", Duration::from_secs(60)).await;
    let asset =
        wait_until(c, "[data-testid=vm-asset]", Read::Prop("textContent"), |t| t.contains("Initial-"), Duration::from_secs(5)).await;
    assert!(asset.contains("vm-"), "{asset}");
    let history = wait_until(c, "[data-testid=vm-history]", Read::Prop("textContent"), |t| !t.is_empty(), Duration::from_secs(5)).await;
    assert!(history.contains("ok for the sprint"), "{history}");
    shot(c, "vms-provisioned").await;
    app.click("[data-testid=vm-request-drawer] [data-testid=modal-close]").await;
    css(c, "[data-testid=vm-request-row][data-name='e2e-web-01'][data-state=provisioned]").await;

    // The VM is in vCenter, and in the compliance report (vcsim runs no VMware Tools).
    app.click("[data-testid=vms-tab-inventory]").await;
    css(c, "[data-testid=vm-row][data-name='e2e-web-01']").await;
    app.click("[data-testid=vms-tab-compliance]").await;
    css(c, "[data-testid=compliance-row]").await;
    shot(c, "vms-compliance").await;

    // Where requests live: this machine by default (a shared etcd is one pick away).
    app.click("[data-testid=vms-tab-settings]").await;
    wait_until(c, "[data-testid=vms-store]", Read::Prop("value"), |v| v == "local", Duration::from_secs(5)).await;
    shot(c, "vms-settings").await;

    app.close().await;
    prep.cleanup().await;
}

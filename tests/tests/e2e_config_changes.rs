//! End to end, config change requests: in a reviewer's app on the team's
//! etcd (with auth), a change someone else proposed on a protected prefix is
//! reviewed with its diff and approved; the author's own change cannot be
//! approved by its author (the backend refuses; tested in team_changes.rs).

use std::time::Duration;

use opsdeck_core::team::changes::ChangeState;
use opsdeck_core::team::DEFAULT_ROOT;
use opsdeck_tests::app::{css, fill, shot, wait_until, App, Read};
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::{etcd_connection, etcd_with_vm_roles, raw_etcd};

#[tokio::test]
async fn a_reviewer_approves_a_change_with_its_diff() {
    let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    let prep = TestBackend::new().await;
    let root = prep.backend.etcd_session(&etcd_connection(&prep, &etcd, "root").await.id).await.unwrap();
    raw_etcd(&etcd, "root").await.put("/app/prod/db", "{\n  \"pool\": 10,\n  \"timeout\": 30\n}", None).await.unwrap();
    prep.backend.config_protect(&root, DEFAULT_ROOT, "/app/prod/").await.unwrap();
    let alice = prep.backend.etcd_session(&etcd_connection(&prep, &etcd, "alice").await.id).await.unwrap();
    let change = prep
        .backend
        .change_propose(
            &alice,
            DEFAULT_ROOT,
            &[("/app/prod/db".into(), Some("{\n  \"pool\": 20,\n  \"timeout\": 30\n}".into()))],
            "raise the pool for the sale",
        )
        .await
        .unwrap();

    // rita's own app: her etcd connection only.
    let rita = TestBackend::new().await;
    etcd_connection(&rita, &etcd, "rita").await;
    let service = rita.backend.keychain().service().to_string();
    let TestBackend { backend, dir } = rita;
    drop(backend);
    let app = App::start_in(dir, &service).await;
    let c = &app.c;
    app.click("[data-testid=nav-config]").await;
    // rita may not read "/": the tree says so (the key tree only shows while
    // that first listing is in flight, so it is not waited for), and the
    // change requests are still hers to review.
    wait_until(c, "[data-testid=view-config]", Read::Prop("innerText"), |t| t.contains("not allowed"), Duration::from_secs(15)).await;
    wait_until(c, "[data-testid=config-changes-open]", Read::Prop("textContent"), |t| t.contains('1'), Duration::from_secs(15)).await;
    app.click("[data-testid=config-changes-open]").await;
    css(c, &format!("[data-testid=config-change-row][data-id='{}'][data-state=pending]", change.id)).await;
    let detail = wait_until(
        c,
        "[data-testid=config-change-detail]",
        Read::Prop("textContent"),
        |t| t.contains("raise the pool"),
        Duration::from_secs(10),
    )
    .await;
    assert!(detail.contains("/app/prod/db") && detail.contains("20") && detail.contains("10"), "{detail}");
    shot(c, "config-change-review").await;
    fill(c, "[data-testid=config-change-comment]", "ok for the sale").await;
    app.click("[data-testid=config-change-approve]").await;
    css(c, &format!("[data-testid=config-change-row][data-id='{}'][data-state=approved]", change.id)).await;
    app.close().await;

    let seen = prep.backend.change_get(&alice, DEFAULT_ROOT, &change.id).await.unwrap();
    assert_eq!(seen.state, ChangeState::Approved);
    assert_eq!(seen.review.map(|r| r.reviewer), Some("rita".to_string()));
    prep.cleanup().await;
}

//! Server-side apply and drill-down against the real kube-apiserver (own test
//! binary, own API server).

use opsdeck_core::connections::ConnectionSpec;
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::service::shared;

const MANIFEST: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  mode: "blue"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.local/web:1
"#;

async fn backend() -> (TestBackend, String) {
    let api = shared("kube-apiserver");
    let t = TestBackend::new().await;
    let c = t.add("lab", ConnectionSpec::Kubernetes { kubeconfig: api.get("KUBECONFIG").into(), contexts: vec![] }, None).await;
    (t, c.id)
}

#[tokio::test]
async fn apply_creates_then_configures_then_leaves_unchanged() {
    let (t, id) = backend().await;
    let r = t.backend.cluster_apply(&id, &["admin".into()], MANIFEST).await.unwrap();
    let r = &r[0];
    assert!(r.ok, "{r:?}");
    let actions: Vec<(&str, &str)> = r.objects.iter().map(|o| (o.kind.as_str(), o.action.as_str())).collect();
    assert_eq!(actions, [("Namespace", "created"), ("ConfigMap", "created"), ("Deployment", "created")]);
    // No controller-manager runs here, so the rollout honestly never completes.
    assert_eq!(r.rollouts.len(), 1);
    assert_eq!((r.rollouts[0].desired, r.rollouts[0].available, r.rollouts[0].done), (2, 0, false));

    let same = &t.backend.cluster_apply(&id, &["admin".into()], MANIFEST).await.unwrap()[0];
    // (The API server itself touches a Namespace after creation, so its second apply may count as configured.)
    assert!(same.objects[1..].iter().all(|o| o.action == "unchanged"), "{:?}", same.objects);
    let changed = MANIFEST.replace("mode: \"blue\"", "mode: \"green\"");
    let again = &t.backend.cluster_apply(&id, &["admin".into()], &changed).await.unwrap()[0];
    assert_eq!(again.objects[1].action, "configured");

    // The restricted user may not create namespaces: refused by the review before any write (clusters_apply_review).
    let denied = t.backend.cluster_apply(&id, &["restricted".into()], MANIFEST).await.unwrap_err();
    assert_eq!(denied.code(), ErrorCode::Forbidden);
    assert!(denied.to_string().contains("restricted: permission denied: patch namespaces"), "{denied}");

    let audit = t
        .backend
        .audit_log(&opsdeck_core::cache::audit::AuditFilter {
            platform: Some("kubernetes".into()),
            text: Some("cluster.apply".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.total, 4);
    assert_eq!(audit.entries[0].result, "error");
    assert!(audit.entries[1].detail.contains("ConfigMap shop/settings: configured"), "{}", audit.entries[1].detail);

    // Bad manifests are refused before anything is sent.
    let bad = t.backend.cluster_apply(&id, &["admin".into()], "kind: [oops").await.unwrap_err();
    assert_eq!(bad.code(), ErrorCode::InvalidInput);
    let nameless = t.backend.cluster_apply(&id, &["admin".into()], "apiVersion: v1\nkind: ConfigMap\n").await.unwrap_err();
    assert!(nameless.to_string().contains("metadata.name"), "{nameless}");
}

#[tokio::test]
async fn details_list_nodes_failing_pods_and_forbidden_reads() {
    let (t, id) = backend().await;
    let d = t.backend.cluster_details(&id, "admin").await.unwrap();
    assert!(!d.metrics_available, "no metrics-server here: said, not faked");
    assert!(d.forbidden.is_empty());
    let restricted = t.backend.cluster_details(&id, "restricted").await.unwrap();
    assert!(restricted.forbidden.contains(&"nodes".to_string()), "{:?}", restricted.forbidden);
    let err = t.backend.cluster_details(&id, "nope").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
}

#[test]
fn cli_apply_reports_per_cluster() {
    let api = shared("kube-apiserver");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cm.yaml");
    std::fs::write(&file, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cli-cm\n  namespace: default\ndata:\n  k: v\n").unwrap();
    // The CLI's apply is audited in its data directory: a throw-away one here.
    let run = |ctx: &str| {
        opsdeck_tests::workspace::cli(dir.path(), &format!("opsdeck-cli-apply-{}", std::process::id()))
            .args(["apply", "-f", file.to_str().unwrap(), "--kubeconfig", api.get("KUBECONFIG"), "--context", ctx])
            .output()
            .unwrap()
    };
    let ok = run("admin");
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stderr));
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(out.contains("admin: ok") && out.contains("ConfigMap default/cli-cm: created"), "{out}");
    // The restricted user has view only: exit 1 with the reason, before any write.
    let denied = run("restricted");
    assert_eq!(denied.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&denied.stdout).contains("restricted: DENIED"), "{}", String::from_utf8_lossy(&denied.stdout));
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("permission denied: patch configmaps"),
        "{}",
        String::from_utf8_lossy(&denied.stderr)
    );
}

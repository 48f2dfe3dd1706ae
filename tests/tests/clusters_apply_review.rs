//! Apply you can review (issue 16, item 2), against the real kube-apiserver:
//! the permission pre-check, the server-side dry run and its diff, field
//! conflicts with their managers, refusal before any write on any cluster,
//! and forcing conflicts only with a reason, audited.
//!
//! The field an HPA owns, twice: a real HorizontalPodAutoscaler on the
//! workload control plane (kube-controller-manager's HPA controller raises
//! the replicas to minReplicas, no metrics needed), and — deterministic, on
//! the plain API server — spec.replicas written exactly as that controller
//! writes it: an update of the Deployment's /scale subresource by field
//! manager `kube-controller-manager`.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v1::{Scale, ScaleSpec};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::PostParams;
use kube::{Api, Client};
use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::connections::ConnectionSpec;
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::clusters::client;
use opsdeck_tests::service::shared;

const HPA: &str = "kube-controller-manager";

fn deployment(ns: &str, replicas: i32, image: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: {ns}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: web\n        image: {image}\n"
    )
}

fn config_map(ns: &str, name: &str, mode: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata:\n  mode: {mode}\n")
}

async fn backend() -> (TestBackend, String, Client) {
    let api = shared("kube-apiserver");
    let t = TestBackend::new().await;
    let c = t.add("lab", ConnectionSpec::Kubernetes { kubeconfig: api.get("KUBECONFIG").into(), contexts: vec![] }, None).await;
    (t, c.id, client(api.get("KUBECONFIG"), "admin").await)
}

/// Sets the replicas of Deployment `ns/web` as the HPA controller does: an
/// update of the scale subresource, field manager kube-controller-manager.
async fn scale_as_hpa(admin: &Client, ns: &str, replicas: i32) {
    let api: Api<Deployment> = Api::namespaced(admin.clone(), ns);
    let current = api.get_scale("web").await.unwrap();
    let scale = Scale { metadata: current.metadata, spec: Some(ScaleSpec { replicas: Some(replicas) }), status: None };
    let pp = PostParams { field_manager: Some(HPA.into()), ..Default::default() };
    api.replace_scale("web", &pp, &scale).await.unwrap();
}

async fn replicas(admin: &Client, ns: &str) -> i32 {
    let d = Api::<Deployment>::namespaced(admin.clone(), ns).get("web").await.unwrap();
    d.spec.unwrap().replicas.unwrap()
}

async fn apply_audit(t: &TestBackend) -> Vec<opsdeck_core::cache::audit::AuditEntry> {
    let filter = AuditFilter { platform: Some("kubernetes".into()), text: Some("cluster.apply".into()), limit: 50, ..Default::default() };
    t.backend.audit_log(&filter).await.unwrap().entries
}

#[tokio::test]
async fn a_field_the_hpa_owns_is_a_listed_conflict_not_taken_unless_forced_with_a_reason() {
    let (t, id, admin) = backend().await;
    let ns = "review-hpa";
    let admin_ctx = ["admin".to_string()];
    t.backend.cluster_apply(&id, &admin_ctx, &deployment(ns, 1, "registry.local/web:1")).await.unwrap();
    scale_as_hpa(&admin, ns, 3).await;
    assert_eq!(replicas(&admin, ns).await, 3);

    // The same manifest with a new image: the review lists spec.replicas and its manager.
    let next = deployment(ns, 1, "registry.local/web:2");
    let review = t.backend.cluster_apply_review(&id, &admin_ctx, &next).await.unwrap();
    let r = &review[0];
    assert!(r.conflicted && !r.clean && !r.denied, "{r:?}");
    let web = r.objects.iter().find(|o| o.kind == "Deployment").unwrap();
    assert_eq!(web.conflicts.len(), 1, "{:?}", web.conflicts);
    assert_eq!((web.conflicts[0].field.as_str(), web.conflicts[0].manager.as_str()), (".spec.replicas", HPA));
    assert!(web.allowed && web.access.iter().all(|a| a.verb == "patch"), "{:?}", web.access);

    // A plain apply refuses, writing nothing anywhere, and says how to go on.
    let before = Api::<Deployment>::namespaced(admin.clone(), ns).get("web").await.unwrap().metadata.resource_version;
    let refused = t.backend.cluster_apply(&id, &admin_ctx, &next).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Conflict, "{refused}");
    let msg = refused.to_string();
    assert!(
        msg.contains("nothing was written") && msg.contains(".spec.replicas") && msg.contains(HPA) && msg.contains("--force-conflicts"),
        "{msg}"
    );
    let d = Api::<Deployment>::namespaced(admin.clone(), ns).get("web").await.unwrap();
    assert_eq!(d.metadata.resource_version, before, "not even the image changed");
    assert_eq!(replicas(&admin, ns).await, 3, "the HPA's value stays");
    assert_eq!(apply_audit(&t).await[0].result, "error", "the refusal is audited");

    // Forcing needs a reason.
    let no_reason = t.backend.cluster_apply_with(&id, &admin_ctx, &next, Some("  ")).await.unwrap_err();
    assert_eq!(no_reason.code(), ErrorCode::InvalidInput);
    assert_eq!(replicas(&admin, ns).await, 3);

    let forced = t.backend.cluster_apply_with(&id, &admin_ctx, &next, Some("pin to 1 during the freeze, CHG-42")).await.unwrap();
    assert!(forced[0].ok, "{forced:?}");
    assert_eq!(replicas(&admin, ns).await, 1, "taken from the HPA");
    let entry = &apply_audit(&t).await[0];
    assert_eq!(entry.result, "ok");
    assert!(
        entry.detail.contains("forced conflicts (reason: pin to 1 during the freeze, CHG-42)")
            && entry.detail.contains("Deployment review-hpa/web .spec.replicas (owned by kube-controller-manager)"),
        "{}",
        entry.detail
    );
    // Now ours again: the next review is clean.
    let again = t.backend.cluster_apply_review(&id, &admin_ctx, &next).await.unwrap();
    assert!(again[0].clean, "{:?}", again[0]);
    t.cleanup().await;
}

/// A real HPA (minReplicas 3) takes spec.replicas of a Deployment applied
/// with 1; the review lists the conflict with kube-controller-manager, the
/// apply refuses, and a forced apply with a reason writes (audited).
#[tokio::test]
async fn a_real_hpa_owns_replicas_and_the_review_names_it() {
    use opsdeck_tests::workloads::{control_plane, poll};
    let cp = control_plane();
    let t = TestBackend::new().await;
    let id = t.add("workloads", ConnectionSpec::Kubernetes { kubeconfig: cp.get("KUBECONFIG").into(), contexts: vec![] }, None).await.id;
    let admin = client(cp.get("KUBECONFIG"), "admin").await;
    let (ns, ctx) = ("review-real-hpa", ["admin".to_string()]);
    t.backend.cluster_apply(&id, &ctx, &deployment(ns, 1, "registry.local/web:1")).await.unwrap();
    let hpa = format!(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n  namespace: {ns}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}\n  minReplicas: 3\n  maxReplicas: 5\n"
    );
    t.backend.cluster_apply(&id, &ctx, &hpa).await.unwrap();
    let deploys: Api<Deployment> = Api::namespaced(admin.clone(), ns);
    // The HPA controller's sync period is 15 s.
    poll("the HPA raises replicas to minReplicas 3", opsdeck_tests::workloads::PROGRESS, || async {
        let d = deploys.get("web").await.map_err(|e| e.to_string())?;
        let managers: Vec<String> =
            d.metadata.managed_fields.iter().flatten().map(|m| format!("{:?}/{:?}/{:?}", m.manager, m.operation, m.subresource)).collect();
        // The manager is the controller-manager binary's name (here built as kube-controller-manager-vX.Y.Z).
        let owner = managers.iter().any(|m| m.starts_with(&format!("Some(\"{HPA}")) && m.ends_with("Some(\"scale\")"));
        match d.spec.and_then(|s| s.replicas) {
            Some(3) if owner => Ok(()),
            r => Err(format!("replicas {r:?}, kube-controller-manager owns scale: {owner}; managers: {:?}", managers)),
        }
    })
    .await;

    let next = deployment(ns, 1, "registry.local/web:2");
    let r = &t.backend.cluster_apply_review(&id, &ctx, &next).await.unwrap()[0];
    let web = r.objects.iter().find(|o| o.kind == "Deployment").unwrap();
    assert!(r.conflicted, "{r:?}");
    assert_eq!(web.conflicts.len(), 1, "{:?}", web.conflicts);
    assert_eq!(web.conflicts[0].field, ".spec.replicas");
    assert!(web.conflicts[0].manager.starts_with(HPA), "{:?}", web.conflicts[0]);
    let refused = t.backend.cluster_apply(&id, &ctx, &next).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Conflict, "{refused}");
    let d = deploys.get("web").await.unwrap();
    assert_eq!(d.spec.unwrap().replicas, Some(3), "the HPA's value stays");

    let generation = deploys.get("web").await.unwrap().metadata.generation.unwrap();
    let forced = t.backend.cluster_apply_with(&id, &ctx, &next, Some("hold at 1 for the migration")).await.unwrap();
    assert!(forced[0].ok, "{forced:?}");
    // Written (the image only this apply sets; the HPA may take replicas back afterwards, as the app warns).
    let d = deploys.get("web").await.unwrap();
    assert!(d.metadata.generation.unwrap() > generation);
    assert_eq!(d.spec.unwrap().template.spec.unwrap().containers[0].image.as_deref(), Some("registry.local/web:2"));
    let entry = &apply_audit(&t).await[0];
    assert!(
        entry.detail.contains("forced conflicts (reason: hold at 1 for the migration)") && entry.detail.contains(HPA),
        "{}",
        entry.detail
    );
    t.cleanup().await;
}

#[tokio::test]
async fn dry_run_writes_nothing_and_the_diff_shows_the_changed_field() {
    let (t, id, admin) = backend().await;
    let admin_ctx = ["admin".to_string()];
    let cms: Api<ConfigMap> = Api::namespaced(admin.clone(), "default");

    // New object: absent after the review, the diff is all additions.
    let new = config_map("default", "review-new", "blue");
    let review = t.backend.cluster_apply_review(&id, &admin_ctx, &new).await.unwrap();
    let o = &review[0].objects[0];
    assert!(review[0].clean, "{:?}", review[0]);
    assert_eq!(o.exists, Some(false));
    assert_eq!(o.access.iter().map(|a| (a.verb.as_str(), a.allowed)).collect::<Vec<_>>(), [("patch", true), ("create", true)]);
    assert!(o.diff.starts_with("--- live\n+++ dry-run\n") && o.diff.contains("+  mode: blue"), "{}", o.diff);
    assert!(
        !o.diff.contains("managedFields") && !o.diff.contains("resourceVersion") && !o.diff.contains("creationTimestamp"),
        "{}",
        o.diff
    );
    assert!(cms.get_opt("review-new").await.unwrap().is_none(), "a dry run creates nothing");

    // Existing object: resourceVersion unchanged, the diff shows exactly the changed field.
    let existing = config_map("default", "review-existing", "blue");
    t.backend.cluster_apply(&id, &admin_ctx, &existing).await.unwrap();
    let rv = cms.get("review-existing").await.unwrap().metadata.resource_version;
    let changed = config_map("default", "review-existing", "green");
    let o = &t.backend.cluster_apply_review(&id, &admin_ctx, &changed).await.unwrap()[0].objects[0];
    assert_eq!(o.exists, Some(true));
    let lines: Vec<&str> =
        o.diff.lines().filter(|l| (l.starts_with('+') || l.starts_with('-')) && !l.starts_with("+++") && !l.starts_with("---")).collect();
    assert_eq!(lines, ["-  mode: blue", "+  mode: green"], "{}", o.diff);
    let now = cms.get("review-existing").await.unwrap();
    assert_eq!(now.metadata.resource_version, rv, "a dry run writes nothing");
    assert_eq!(now.data.unwrap()["mode"], "blue");
    // Unchanged: an empty diff.
    let same = &t.backend.cluster_apply_review(&id, &admin_ctx, &existing).await.unwrap()[0].objects[0];
    assert_eq!(same.diff, "", "no change, no diff");

    // A namespace the manifest itself creates: reviewed, not dry-run, said so.
    let fresh = format!("{}---\n{}", deployment("review-fresh", 1, "registry.local/web:1"), config_map("review-fresh", "c", "x"));
    let r = &t.backend.cluster_apply_review(&id, &admin_ctx, &fresh).await.unwrap()[0];
    assert!(r.clean, "{r:?}");
    assert!(r.objects[1].note.as_deref().unwrap_or_default().contains("created by this manifest"), "{:?}", r.objects[1]);
    assert!(Api::<k8s_openapi::api::core::v1::Namespace>::all(admin.clone()).get_opt("review-fresh").await.unwrap().is_none());
    t.cleanup().await;
}

#[tokio::test]
async fn a_denied_context_stops_the_apply_before_any_write_on_any_cluster() {
    let (t, id, admin) = backend().await;
    let cms: Api<ConfigMap> = Api::namespaced(admin.clone(), "default");
    let both = ["admin".to_string(), "restricted".to_string()];
    let manifest = format!("{}---\n{}", config_map("default", "review-denied-a", "x"), config_map("default", "review-denied-b", "y"));

    // The pre-check, per object: the restricted user may read default but not create in it.
    let review = t.backend.cluster_apply_review(&id, &both, &manifest).await.unwrap();
    let (a, r) = (&review[0], &review[1]);
    assert!(a.clean, "{a:?}");
    assert!(r.denied && !r.clean, "{r:?}");
    for o in &r.objects {
        assert!(!o.allowed, "{o:?}");
        assert!(o.access.iter().any(|c| c.verb == "create" && !c.allowed && c.resource == "configmaps"), "{:?}", o.access);
        assert!(o.diff.is_empty(), "no dry run for what may not be written");
    }

    let refused = t.backend.cluster_apply(&id, &both, &manifest).await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::Forbidden, "{refused}");
    let msg = refused.to_string();
    assert!(
        msg.contains("restricted: permission denied: create configmaps in namespace default for ConfigMap default/review-denied-a")
            && msg.contains("ConfigMap default/review-denied-b"),
        "{msg}"
    );
    for name in ["review-denied-a", "review-denied-b"] {
        assert!(cms.get_opt(name).await.unwrap().is_none(), "{name}: nothing written on the allowed cluster either");
    }
    let entries = apply_audit(&t).await;
    let mut targets: Vec<(&str, &str)> = entries.iter().map(|e| (e.target.as_str(), e.result.as_str())).collect();
    targets.sort();
    assert_eq!(targets, [("admin", "error"), ("restricted", "error")]);

    // Forcing conflicts does not get past a denial.
    let forced = t.backend.cluster_apply_with(&id, &both, &manifest, Some("try anyway")).await.unwrap_err();
    assert_eq!(forced.code(), ErrorCode::Forbidden);
    assert!(cms.get_opt("review-denied-a").await.unwrap().is_none());
    t.cleanup().await;
}

/// The CLI: --dry-run and --diff stop after the review (0 clean, 1 denied or
/// conflicts); a plain apply refuses conflicts with the way on; forcing needs
/// --reason and is audited with it.
#[tokio::test]
async fn cli_dry_run_diff_refusal_and_forced_apply() {
    let api = shared("kube-apiserver");
    let kubeconfig = api.get("KUBECONFIG");
    let admin = client(kubeconfig, "admin").await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.yaml");
    let keychain = format!("opsdeck-cli-review-{}", std::process::id());
    let run = |args: &[&str]| {
        let mut all = vec!["apply", "-f", file.to_str().unwrap(), "--kubeconfig", kubeconfig];
        all.extend_from_slice(args);
        let o = opsdeck_tests::workspace::cli(dir.path(), &keychain).args(&all).output().unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
    };
    let ns = "review-cli";
    std::fs::write(&file, deployment(ns, 1, "registry.local/web:1")).unwrap();
    let (code, out, err) = run(&["--context", "admin", "--dry-run"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("admin: clean") && out.contains("Deployment review-cli/web: create"), "{out}");
    assert!(Api::<Deployment>::namespaced(admin.clone(), ns).get_opt("web").await.unwrap().is_none(), "--dry-run wrote nothing");

    // Denied on one of two contexts: exit 1, nothing written.
    let (code, out, _) = run(&["--context", "admin", "--context", "restricted"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("restricted: DENIED") && out.contains("permission denied: create namespaces"), "{out}");
    assert!(Api::<Deployment>::namespaced(admin.clone(), ns).get_opt("web").await.unwrap().is_none());

    let (code, out, err) = run(&["--context", "admin"]);
    assert_eq!(code, Some(0), "{out}{err}");
    scale_as_hpa(&admin, ns, 4).await;
    std::fs::write(&file, deployment(ns, 1, "registry.local/web:2")).unwrap();

    let (code, out, _) = run(&["--context", "admin", "--diff"]);
    assert_eq!(code, Some(1), "conflicts: {out}");
    assert!(out.contains("conflict: .spec.replicas owned by kube-controller-manager"), "{out}");
    assert!(out.contains("-      - image: registry.local/web:1") && out.contains("+      - image: registry.local/web:2"), "{out}");
    let (code, out, err) = run(&["--context", "admin"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(err.contains("nothing was written") && err.contains("--force-conflicts --reason"), "{err}");
    assert!(out.contains("admin: CONFLICTS"), "{out}");
    assert_eq!(replicas(&admin, ns).await, 4);

    let (code, _, err) = run(&["--context", "admin", "--force-conflicts"]);
    assert_eq!(code, Some(2), "--force-conflicts without --reason is a usage error: {err}");
    let (code, out, err) = run(&["--context", "admin", "--force-conflicts", "--reason", "rollback web:2 now"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(replicas(&admin, ns).await, 1);
    let audit = opsdeck_tests::workspace::cli(dir.path(), &keychain).args(["audit", "--format", "json", "--limit", "1"]).output().unwrap();
    let page: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
    let detail = page["entries"][0]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("forced conflicts (reason: rollback web:2 now)") && detail.contains(".spec.replicas"), "{page}");
}

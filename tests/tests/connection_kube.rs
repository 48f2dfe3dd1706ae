//! "Test connection" against a real kube-apiserver (built from k8s.io/kubernetes, over etcd).

use opsdeck_core::connections::ConnectionSpec;
use opsdeck_core::connectors::kube;
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::service::shared;

fn spec(contexts: &[&str]) -> ConnectionSpec {
    ConnectionSpec::Kubernetes {
        kubeconfig: shared("kube-apiserver").get("KUBECONFIG").into(),
        contexts: contexts.iter().map(|c| c.to_string()).collect(),
    }
}

#[tokio::test]
async fn admin_and_restricted_contexts_report_version_and_identity() {
    let api = shared("kube-apiserver");
    assert_eq!(kube::contexts(api.get("KUBECONFIG")).unwrap(), ["admin", "restricted"]);
    let t = TestBackend::new().await;
    let c = t.add("lab cluster", spec(&[]), None).await;
    let outcome = t.backend.test_connection(&c.id).await.unwrap();
    assert!(outcome.ok, "{outcome:?}");
    assert!(outcome.version.as_deref().unwrap().starts_with("v1."), "{outcome:?}");
    assert!(outcome.message.contains("admin: v1.") && outcome.message.contains("as opsdeck-admin"), "{}", outcome.message);
    assert!(outcome.message.contains("as opsdeck-restricted"), "{}", outcome.message);
}

#[tokio::test]
async fn a_token_from_the_keychain_overrides_the_kubeconfig_user() {
    let api = shared("kube-apiserver");
    let t = TestBackend::new().await;
    let c = t.add("restricted via token", spec(&["admin"]), Some(api.get("KUBE_RESTRICTED_TOKEN"))).await;
    let outcome = t.backend.test_connection(&c.id).await.unwrap();
    assert!(outcome.ok, "{outcome:?}");
    assert!(outcome.message.contains("as opsdeck-restricted"), "the stored token was used: {}", outcome.message);
    // A token is for one cluster: a profile sending it to every context (or two) is refused.
    for contexts in [&[][..], &["admin", "restricted"][..]] {
        let input = opsdeck_core::connections::ConnectionInput {
            id: None,
            name: "token everywhere".into(),
            spec: spec(contexts),
            secret: Some(api.get("KUBE_RESTRICTED_TOKEN").into()),
            clear_secret: false,
        };
        let e = t.backend.save_connection(input).await.unwrap_err();
        assert_eq!(e.code(), opsdeck_core::ErrorCode::InvalidInput, "{e}");
        assert!(e.to_string().contains("is for one cluster"), "{e}");
    }
    t.cleanup().await;
}

#[tokio::test]
async fn wrong_token_is_an_auth_error() {
    shared("kube-apiserver");
    let t = TestBackend::new().await;
    let c = t.add("bad token", spec(&["admin"]), Some("not-a-valid-token")).await;
    let outcome = t.backend.test_connection(&c.id).await.unwrap();
    assert!(!outcome.ok);
    assert_eq!(outcome.error_code, Some(ErrorCode::Auth), "{outcome:?}");
    assert!(outcome.message.contains("401") && outcome.message.contains("token"), "{}", outcome.message);
    t.cleanup().await;
}

#[tokio::test]
async fn unknown_context_and_malformed_kubeconfig_are_input_errors() {
    shared("kube-apiserver");
    let t = TestBackend::new().await;
    let c = t.add("typo context", spec(&["admn"]), None).await;
    let outcome = t.backend.test_connection(&c.id).await.unwrap();
    assert_eq!(outcome.error_code, Some(ErrorCode::InvalidInput), "{outcome:?}");
    assert!(outcome.message.contains("admn") && outcome.message.contains("admin, restricted"), "{}", outcome.message);

    let bad = t.dir.path().join("broken.yaml");
    std::fs::write(&bad, "apiVersion: v1\nclusters: [this is: not yaml").unwrap();
    let err = kube::contexts(bad.to_str().unwrap()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("broken.yaml"), "{err}");
}

/// A second kubeconfig whose user gets its token from an exec credential
/// plugin (client.authentication.k8s.io/v1), reusing the first file's cluster.
fn exec_kubeconfig(dir: &std::path::Path, plugin_script: &str) -> String {
    let plugin = dir.join("credential-plugin.sh");
    std::fs::write(&plugin, plugin_script).unwrap();
    let path = dir.join("exec-kubeconfig.yaml");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nusers:\n- name: via-plugin\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: [\"{}\"]\n      interactiveMode: Never\ncontexts:\n- name: plugin\n  context:\n    cluster: opsdeck-test\n    user: via-plugin\n- name: admin\n  context:\n    cluster: nowhere\n    user: via-plugin\n",
            plugin.display()
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

#[tokio::test]
async fn merged_kubeconfigs_and_an_exec_credential_plugin() {
    let api = shared("kube-apiserver");
    let t = TestBackend::new().await;
    let token = api.get("KUBE_ADMIN_TOKEN");
    let script = format!(
        "printf '%s' '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"}}}}'\n"
    );
    let second = exec_kubeconfig(t.dir.path(), &script);
    let merged = format!("{}:{second}", api.get("KUBECONFIG"));
    // kubectl's rule: the first file's "admin" context wins over the second's.
    assert_eq!(kube::contexts(&merged).unwrap(), ["admin", "restricted", "plugin"]);

    let c = t.add("merged", ConnectionSpec::Kubernetes { kubeconfig: merged, contexts: vec![] }, None).await;
    let outcome = t.backend.test_connection(&c.id).await.unwrap();
    assert!(outcome.ok, "{outcome:?}");
    assert!(outcome.message.contains("plugin: v1.") && outcome.message.matches("as opsdeck-admin").count() == 2, "{}", outcome.message);
}

#[tokio::test]
async fn a_failing_credential_plugin_is_an_auth_error() {
    let api = shared("kube-apiserver");
    let t = TestBackend::new().await;
    let second = exec_kubeconfig(t.dir.path(), "echo 'sso login expired' >&2\nexit 1\n");
    let merged = format!("{}:{second}", api.get("KUBECONFIG"));
    let c = t.add("plugin broken", ConnectionSpec::Kubernetes { kubeconfig: merged, contexts: vec!["plugin".into()] }, None).await;
    let outcome = t.backend.test_connection(&c.id).await.unwrap();
    assert!(!outcome.ok);
    assert_eq!(outcome.error_code, Some(ErrorCode::Auth), "{outcome:?}");
    assert!(outcome.message.contains("credential plugin failed") && outcome.message.contains("sso login expired"), "{}", outcome.message);
}

#[tokio::test]
async fn a_missing_file_in_a_kubeconfig_list_is_named() {
    let api = shared("kube-apiserver");
    let list = format!("{}:/nonexistent/kubeconfig-b", api.get("KUBECONFIG"));
    let err = kube::contexts(&list).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("/nonexistent/kubeconfig-b"), "{err}");
}

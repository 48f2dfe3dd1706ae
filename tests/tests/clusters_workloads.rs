//! Workloads on a real control plane: kube-apiserver, kube-controller-manager,
//! kube-scheduler and KWOK fake nodes (opsdeck_tests::workloads). Nothing here
//! sets a status by hand: the Deployment controller makes the ReplicaSet, the
//! scheduler binds the pods, KWOK plays their kubelet, and its stage rules
//! make a pod crash-loop or a node NotReady — what `opsdeck health` must see.

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::Api;
use opsdeck_tests::workloads::PROGRESS;
use opsdeck_tests::workloads::{
    admin, control_plane, fake_nodes, label_node, node_ready, poll, CRASH_LOOP_LABEL, NOT_READY_LABEL, POOL_LABEL,
};
use serde_json::json;

fn deployment(name: &str, pool: &str, replicas: i32, image: &str, pod_labels: serde_json::Value) -> Deployment {
    let mut labels = json!({"app": name});
    if let (Some(l), Some(extra)) = (labels.as_object_mut(), pod_labels.as_object()) {
        l.extend(extra.clone());
    }
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"nodeSelector": {POOL_LABEL: pool}, "containers": [{"name": "c", "image": image}]}
            }
        }
    }))
    .expect("deployment object")
}

/// The deployment once its controller has seen generation `generation` and
/// every one of `replicas` pods is updated, ready and available (and no old one is left).
async fn rolled_out(deploys: &Api<Deployment>, name: &str, generation: i64, replicas: i32) -> Deployment {
    poll(&format!("deployment {name} generation {generation} rolled out"), PROGRESS, || async {
        let d = deploys.get(name).await.map_err(|e| e.to_string())?;
        let st = d.status.clone().unwrap_or_default();
        let done = d.metadata.generation == Some(generation)
            && st.observed_generation == Some(generation)
            && st.replicas == Some(replicas)
            && st.updated_replicas == Some(replicas)
            && st.ready_replicas == Some(replicas)
            && st.available_replicas == Some(replicas)
            && st.unavailable_replicas.unwrap_or(0) == 0;
        if done {
            Ok(d)
        } else {
            Err(format!("{st:?}"))
        }
    })
    .await
}

fn pod_ready(p: &Pod) -> bool {
    let st = p.status.as_ref();
    st.and_then(|s| s.phase.as_deref()) == Some("Running")
        && st.and_then(|s| s.conditions.as_ref()).into_iter().flatten().any(|c| c.type_ == "Ready" && c.status == "True")
}

/// `opsdeck health --format json` for the admin context: (exit code, the cluster's JSON).
fn cli_health(kubeconfig: &str, fail_on: Option<&str>) -> (i32, serde_json::Value) {
    cli_health_env(kubeconfig, fail_on, &[])
}

/// [`cli_health`] with extra environment (the health rule settings).
fn cli_health_env(kubeconfig: &str, fail_on: Option<&str>, env: &[(&str, &str)]) -> (i32, serde_json::Value) {
    let mut cmd = std::process::Command::new(opsdeck_tests::workspace::cli_bin());
    cmd.envs(env.iter().copied());
    cmd.args(["health", "--kubeconfig", kubeconfig, "--context", "admin", "--format", "json"]);
    if let Some(f) = fail_on {
        cmd.args(["--fail-on", f]);
    }
    let out = cmd.output().expect("run opsdeck health");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("health JSON: {e}; stderr: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), v[0].clone())
}

/// Polls `opsdeck health` until one finding about `object` contains `needle`; returns that message and the report.
async fn health_reports(kubeconfig: &str, object: &str, needle: &str) -> (String, serde_json::Value) {
    poll(&format!("opsdeck health reports {object}: {needle}"), PROGRESS, || async {
        let (code, h) = cli_health(kubeconfig, None);
        if code != 0 {
            return Err(format!("exit {code}: {h}"));
        }
        let hit = h["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| f["object"] == object && f["message"].as_str().is_some_and(|m| m.contains(needle)));
        match hit {
            Some(f) => Ok((f["message"].as_str().unwrap_or_default().to_string(), h.clone())),
            None => Err(h["findings"].to_string()),
        }
    })
    .await
}

#[tokio::test]
async fn a_deployment_is_scheduled_onto_kwok_nodes_becomes_ready_and_rolls_out_a_new_image() {
    let cp = control_plane();
    let c = admin(cp).await;
    let nodes: BTreeSet<String> = fake_nodes(&c, "roll", 3).await.into_iter().collect();
    let deploys: Api<Deployment> = Api::namespaced(c.clone(), "default");
    deploys.create(&PostParams::default(), &deployment("web", "roll", 3, "registry.local/web:1", json!({}))).await.unwrap();

    let d = rolled_out(&deploys, "web", 1, 3).await;
    let uid = d.metadata.uid.clone().unwrap();
    let rss: Api<ReplicaSet> = Api::namespaced(c.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(c.clone(), "default");
    let owned = |rs: &ReplicaSet| rs.metadata.owner_references.iter().flatten().any(|o| o.uid == uid && o.controller == Some(true));
    let sets: Vec<ReplicaSet> = rss.list(&ListParams::default().labels("app=web")).await.unwrap().items;
    assert_eq!(sets.len(), 1, "one ReplicaSet for generation 1");
    assert!(owned(&sets[0]), "the ReplicaSet is controlled by the Deployment");
    assert_eq!(sets[0].status.as_ref().and_then(|s| s.ready_replicas), Some(3));
    let running: Vec<Pod> = pods.list(&ListParams::default().labels("app=web")).await.unwrap().items;
    assert_eq!(running.len(), 3);
    for p in &running {
        let node = p.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default();
        assert!(nodes.contains(&node), "pod {:?} scheduled by kube-scheduler onto a KWOK node of its pool, got {node:?}", p.metadata.name);
        assert!(pod_ready(p), "pod {:?} Running and Ready: {:?}", p.metadata.name, p.status);
        assert!(p.status.as_ref().and_then(|s| s.pod_ip.as_ref()).is_some(), "KWOK gave the pod an IP");
    }

    // Rolling update: a new image makes a second ReplicaSet, pods are replaced one by one.
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "registry.local/web:2"}]}}}});
    deploys.patch("web", &PatchParams::default(), &Patch::Strategic(&patch)).await.unwrap();
    rolled_out(&deploys, "web", 2, 3).await;
    let sets: Vec<ReplicaSet> = rss.list(&ListParams::default().labels("app=web")).await.unwrap().items;
    assert_eq!(sets.len(), 2, "old and new ReplicaSet");
    let mut replicas: Vec<(String, i32)> = sets
        .iter()
        .map(|rs| {
            let image = rs
                .spec
                .as_ref()
                .and_then(|s| s.template.as_ref())
                .and_then(|t| t.spec.as_ref())
                .map(|s| s.containers[0].image.clone().unwrap_or_default());
            (image.unwrap_or_default(), rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(-1))
        })
        .collect();
    replicas.sort();
    assert_eq!(replicas, vec![("registry.local/web:1".into(), 0), ("registry.local/web:2".into(), 3)]);
    // Old pods are deleted (KWOK's pod-delete stage finishes their deletion).
    let pods_now = poll("only new pods left", PROGRESS, || async {
        let items = pods.list(&ListParams::default().labels("app=web")).await.map_err(|e| e.to_string())?.items;
        let images: Vec<String> =
            items.iter().map(|p| p.spec.as_ref().and_then(|s| s.containers[0].image.clone()).unwrap_or_default()).collect();
        if items.len() == 3 && images.iter().all(|i| i == "registry.local/web:2") && items.iter().all(pod_ready) {
            Ok(items)
        } else {
            Err(format!("{images:?}"))
        }
    })
    .await;
    assert!(pods_now.iter().all(|p| nodes.contains(p.spec.as_ref().and_then(|s| s.node_name.as_deref()).unwrap_or_default())));
}

#[tokio::test]
async fn a_crash_looping_pod_by_stage_rule_is_reported_by_opsdeck_health() {
    let cp = control_plane();
    let c = admin(cp).await;
    fake_nodes(&c, "crash", 1).await;
    // opsdeck health reads pods in kube-system: the crash-looping Deployment lives there.
    let deploys: Api<Deployment> = Api::namespaced(c.clone(), "kube-system");
    deploys
        .create(&PostParams::default(), &deployment("crashy", "crash", 1, "registry.local/crashy:1", json!({CRASH_LOOP_LABEL: "true"})))
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(c.clone(), "kube-system");
    let pod = poll("crashy pod restarting in CrashLoopBackOff", PROGRESS, || async {
        let items = pods.list(&ListParams::default().labels("app=crashy")).await.map_err(|e| e.to_string())?.items;
        let p = items.into_iter().next().ok_or("no pod yet")?;
        let cs = p.status.as_ref().and_then(|s| s.container_statuses.as_ref()).and_then(|v| v.first().cloned());
        let waiting = cs.as_ref().and_then(|c| c.state.as_ref()).and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.clone());
        let restarts = cs.as_ref().map(|c| c.restart_count).unwrap_or(0);
        let terminated = cs.as_ref().and_then(|c| c.last_state.as_ref()).and_then(|s| s.terminated.as_ref()).map(|t| t.exit_code);
        if waiting.as_deref() == Some("CrashLoopBackOff") && restarts >= 2 && terminated == Some(1) {
            Ok(p)
        } else {
            Err(format!("waiting={waiting:?} restarts={restarts} last exit={terminated:?}"))
        }
    })
    .await;
    assert!(!pod_ready(&pod), "a crash-looping pod is not Ready");
    let name = pod.metadata.name.clone().unwrap();

    let kubeconfig = cp.get("KUBECONFIG");
    let object = format!("kube-system/pod/{name}");
    let (message, report) = health_reports(kubeconfig, &object, "is CrashLoopBackOff").await;
    assert!(message.starts_with(&format!("pod kube-system/{name} container c is CrashLoopBackOff (")), "{message}");
    let finding = report["findings"].as_array().unwrap().iter().find(|f| f["object"] == object.as_str()).unwrap();
    assert_eq!(finding["severity"], "critical");
    assert_eq!(report["verdict"], "degraded");
    // The Deployment lacks its available replica: reported too, and the gate fails.
    assert!(
        report["findings"].as_array().unwrap().iter().any(|f| f["object"] == "kube-system/deployment/crashy"),
        "{}",
        report["findings"]
    );
    assert_eq!(cli_health(kubeconfig, Some("degraded")).0, 1, "--fail-on degraded exits 1");
}

#[tokio::test]
async fn a_node_made_not_ready_by_stage_rule_is_reported_and_recovers() {
    let cp = control_plane();
    let c = admin(cp).await;
    let name = fake_nodes(&c, "sick", 1).await.remove(0);
    let nodes: Api<Node> = Api::all(c.clone());
    label_node(&c, &name, NOT_READY_LABEL, Some("true")).await;
    let state = |c: Api<Node>, name: String, want: bool| async move {
        let n = c.get(&name).await.map_err(|e| e.to_string())?;
        if node_ready(&n) == Some(want) {
            Ok(n)
        } else {
            Err(format!("{:?}", n.status.and_then(|s| s.conditions)))
        }
    };
    poll("node NotReady", PROGRESS, || state(nodes.clone(), name.clone(), false)).await;
    let (message, report) = health_reports(cp.get("KUBECONFIG"), &format!("node/{name}"), "is NotReady").await;
    assert_eq!(message, format!("node {name} is NotReady nodeFailed"));
    assert_eq!(report["verdict"], "degraded");
    assert!(report["nodes"]["ready"].as_u64() < report["nodes"]["total"].as_u64(), "{}", report["nodes"]);

    // Remove the label: KWOK's node-initialize stage reports it Ready again, and the finding goes.
    label_node(&c, &name, NOT_READY_LABEL, None).await;
    poll("node Ready again", PROGRESS, || state(nodes.clone(), name.clone(), true)).await;
    poll("finding gone", PROGRESS, || async {
        let (_, h) = cli_health(cp.get("KUBECONFIG"), None);
        let about: Vec<&serde_json::Value> =
            h["findings"].as_array().into_iter().flatten().filter(|f| f["object"] == format!("node/{name}").as_str()).collect();
        if about.is_empty() {
            Ok(())
        } else {
            Err(format!("{about:?}"))
        }
    })
    .await;
}

/// The handle names every component, and each answers its health endpoint.
#[tokio::test]
async fn the_control_plane_reports_its_components() {
    let cp = control_plane();
    for key in ["KUBE_CONTROLLER_MANAGER_PID", "KUBE_SCHEDULER_PID", "KWOK_PID", "KUBE_APISERVER_PID"] {
        let pid: u32 = cp.get(key).parse().unwrap();
        assert!(std::path::Path::new(&format!("/proc/{pid}")).exists(), "{key} {pid} runs");
    }
    let kcm = cp.get("KUBE_CONTROLLER_MANAGER_HEALTHZ");
    let sched = cp.get("KUBE_SCHEDULER_HEALTHZ");
    let kwok = cp.get("KWOK_HEALTHZ");
    for url in [kcm, sched, kwok] {
        let out = std::process::Command::new("curl").args(["-ksS", "--max-time", "5", url]).output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "ok", "{url}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Issue 16, item 7: cordoning is deliberate, so a cordoned node alone is
/// Info (not Degraded) unless OPSDECK_HEALTH_CORDONED says otherwise.
#[tokio::test]
async fn a_cordoned_node_is_info_unless_configured_otherwise() {
    let cp = control_plane();
    let c = admin(cp).await;
    let name = fake_nodes(&c, "cordon", 1).await.remove(0);
    let nodes: Api<Node> = Api::all(c.clone());
    nodes.patch(&name, &PatchParams::default(), &Patch::Merge(&json!({"spec": {"unschedulable": true}}))).await.unwrap();
    let object = format!("node/{name}");
    let severity_of = |env: &'static [(&'static str, &'static str)]| {
        let (code, h) = cli_health_env(cp.get("KUBECONFIG"), None, env);
        assert_eq!(code, 0, "{h}");
        let f = h["findings"].as_array().into_iter().flatten().find(|f| f["object"] == object.as_str()).cloned();
        f.map(|f| (f["severity"].as_str().unwrap_or_default().to_string(), f["message"].as_str().unwrap_or_default().to_string()))
    };
    let (sev, msg) =
        poll("cordoned node reported", PROGRESS, || async { severity_of(&[]).ok_or_else(|| "no finding yet".to_string()) }).await;
    assert_eq!((sev.as_str(), msg.as_str()), ("info", format!("node {name} is cordoned (unschedulable)").as_str()));
    assert_eq!(severity_of(&[("OPSDECK_HEALTH_CORDONED", "warning")]).map(|s| s.0).as_deref(), Some("warning"));
    // A value that does not parse keeps the default rather than failing the check.
    assert_eq!(severity_of(&[("OPSDECK_HEALTH_CORDONED", "loud")]).map(|s| s.0).as_deref(), Some("info"));
}

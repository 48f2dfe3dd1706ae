//! `opsdeck check` against the four real services at once: passing and
//! failing checks (wrong password, a service that is down, a missing image,
//! a version too old), JUnit and JSON reports, exit codes; secrets come from
//! the environment or the keychain and never appear in a report.

use std::io::BufRead;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::images::{import, Rootfs};
use opsdeck_tests::service::shared;
use opsdeck_tests::vms::{etcd_with_vm_roles, vcsim_with_template, ETCD_PASSWORD};
use opsdeck_tests::{workspace, Service};

fn opsdeck(data: &std::path::Path, keychain: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    workspace::cli(data, keychain).args(args).envs(env.iter().copied()).output().expect("run opsdeck")
}

#[tokio::test]
async fn checks_against_every_platform_with_reports() {
    let etcd = etcd_with_vm_roles("/opsdeck/vms/").await;
    let down = Service::start("etcd", &[]);
    let down_endpoint = down.get("ETCD_ENDPOINT").to_string();
    drop(down); // stopped: its checks must fail as unreachable
    let dockerd = shared("dockerd");
    let docker = opsdeck_core::connectors::docker::connect(dockerd.get("DOCKER_HOST"), None).await.unwrap();
    import(&docker, Rootfs::Busybox, "opsdeck-check/busybox:1").await;
    let api = shared("kube-apiserver");
    let prep = TestBackend::new().await;
    let (vcsim, _) = vcsim_with_template(&prep, &[]).await;

    let data = tempfile::tempdir().unwrap();
    let keychain = format!("opsdeck-check-{}", std::process::id());
    let vc_password = vcsim.get("VCSIM_PASSWORD").to_string();
    let add =
        opsdeck(data.path(), &keychain, &[("VC_PW", vc_password.as_str())], &opsdeck_tests::vms::cli_add_vcsim(&vcsim, "lab-vc", "VC_PW"));
    assert_eq!(add.status.code(), Some(0), "{}", String::from_utf8_lossy(&add.stderr));

    let file = format!(
        r#"
concurrency: 4
timeout: 60s
targets:
  etcd: {{ spec: {{ kind: etcd, endpoints: ["{etcd}"], username: root }}, secret_env: OPSDECK_CHECK_ETCD_PW }}
  etcd-wrong-pw: {{ spec: {{ kind: etcd, endpoints: ["{etcd}"], username: root }}, secret_env: OPSDECK_CHECK_ETCD_BAD }}
  etcd-down: {{ spec: {{ kind: etcd, endpoints: ["{down}"] }} }}
  docker: {{ spec: {{ kind: docker, host: "{docker}" }} }}
  k8s: {{ spec: {{ kind: kubernetes, kubeconfig: "{kubeconfig}", contexts: [admin] }} }}
  vc: {{ connection: lab-vc }}
checks:
  - {{ name: etcd reachable, target: etcd, kind: connectivity }}
  - {{ name: etcd login, target: etcd, kind: auth }}
  - {{ name: etcd version, target: etcd, kind: version, min_version: "3.4" }}
  - {{ name: etcd list, target: etcd, kind: list, prefix: / }}
  - {{ name: etcd put-get-delete, target: etcd, kind: roundtrip, prefix: /opsdeck-check/ }}
  - {{ name: etcd wrong password reachable, target: etcd-wrong-pw, kind: connectivity }}
  - {{ name: etcd wrong password login, target: etcd-wrong-pw, kind: auth }}
  - {{ name: etcd down, target: etcd-down, kind: connectivity, timeout: 10s }}
  - {{ name: docker reachable, target: docker, kind: connectivity }}
  - {{ name: docker version, target: docker, kind: version, min_version: "20.10" }}
  - {{ name: docker images, target: docker, kind: list }}
  - {{ name: docker run, target: docker, kind: roundtrip, image: "opsdeck-check/busybox:1" }}
  - {{ name: docker missing image, target: docker, kind: roundtrip, image: "opsdeck-check/none:0" }}
  - {{ name: k8s reachable, target: k8s, kind: connectivity }}
  - {{ name: k8s version, target: k8s, kind: version, min_version: "1.30" }}
  - {{ name: k8s too old for us, target: k8s, kind: version, min_version: "99.0" }}
  - {{ name: k8s namespaces, target: k8s, kind: list }}
  - {{ name: k8s configmap, target: k8s, kind: roundtrip, namespace: default }}
  - {{ name: vc login, target: vc, kind: auth }}
  - {{ name: vc inventory, target: vc, kind: list }}
  - {{ name: vc clone-snapshot-destroy, target: vc, kind: roundtrip, template: DC0_H0_VM0 }}
"#,
        etcd = etcd.get("ETCD_ENDPOINT"),
        down = down_endpoint,
        docker = dockerd.get("DOCKER_HOST"),
        kubeconfig = api.get("KUBECONFIG"),
    );
    let path = data.path().join("checks.yaml");
    std::fs::write(&path, &file).unwrap();
    let junit = data.path().join("junit.xml");
    let json = data.path().join("results.json");
    let out = opsdeck(
        data.path(),
        &keychain,
        &[("OPSDECK_CHECK_ETCD_PW", ETCD_PASSWORD), ("OPSDECK_CHECK_ETCD_BAD", "not-the-password")],
        &["check", "--config", path.to_str().unwrap(), "--junit", junit.to_str().unwrap(), "--json", json.to_str().unwrap()],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "failures make exit 1:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));

    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let by_name = |n: &str| results.as_array().unwrap().iter().find(|r| r["name"] == n).unwrap_or_else(|| panic!("{n} missing")).clone();
    let expect_fail = ["etcd wrong password login", "etcd down", "docker missing image", "k8s too old for us"];
    for r in results.as_array().unwrap() {
        let name = r["name"].as_str().unwrap();
        assert_eq!(r["ok"], !expect_fail.contains(&name), "{name}: {}", r["message"]);
    }
    assert!(by_name("etcd wrong password login")["message"].as_str().unwrap().contains("(auth)"));
    assert!(by_name("etcd down")["message"].as_str().unwrap().contains("(unreachable)"), "{}", by_name("etcd down")["message"]);
    assert!(by_name("etcd wrong password reachable")["message"].as_str().unwrap().contains("login was refused"));
    assert!(by_name("docker missing image")["message"].as_str().unwrap().contains("build or load it"));
    assert!(by_name("vc clone-snapshot-destroy")["message"].as_str().unwrap().contains("destroyed"));
    assert!(by_name("docker run")["duration_ms"].as_u64().is_some());

    // JUnit: a suite per target, a test case per check with its time, failures with their message.
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 21, "{xml}");
    assert_eq!(xml.matches("<testsuite ").count(), 6, "{xml}");
    assert_eq!(xml.matches("<failure ").count(), 4, "{xml}");
    let suite = xml.lines().find(|l| l.contains(r#"<testsuite name="etcd-wrong-pw""#)).unwrap_or_default();
    assert!(suite.contains(r#"package="opsdeck.check""#) && suite.contains(r#"tests="2""#) && suite.contains(r#"failures="1""#), "{suite}");
    assert!(xml.contains(r#"classname="opsdeck.check.vsphere""#) && xml.contains(r#"time=""#), "{xml}");
    opsdeck_tests::junit::assert_valid(&xml);

    // Round trips cleaned up after themselves.
    let mut c = etcd_client::Client::connect(
        [etcd.get("ETCD_ENDPOINT")],
        Some(etcd_client::ConnectOptions::new().with_user("root", ETCD_PASSWORD)),
    )
    .await
    .unwrap();
    assert_eq!(c.get("/opsdeck-check/", Some(etcd_client::GetOptions::new().with_prefix().with_count_only())).await.unwrap().count(), 0);
    let left =
        docker.list_containers(Some(bollard::query_parameters::ListContainersOptions { all: true, ..Default::default() })).await.unwrap();
    assert!(!left.iter().any(|c| c.names.iter().flatten().any(|n| n.contains("opsdeck-check-"))), "containers left behind");
    let inv = prep.backend.vm_inventory(&prep.backend.connections().await.unwrap()[0].id).await.unwrap();
    assert!(!inv.vms.iter().any(|v| v.name.starts_with("opsdeck-check-")), "test VM left behind");

    // Each round trip changed a platform for a moment: audited, with its outcome.
    let audit = opsdeck(data.path(), &keychain, &[], &["audit", "--format", "json", "--limit", "1000"]);
    let page: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
    let trips: Vec<(String, String, String)> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "check.roundtrip")
        .map(|e| (e["platform"].as_str().unwrap().into(), e["target"].as_str().unwrap().into(), e["result"].as_str().unwrap().into()))
        .collect();
    assert_eq!(trips.len(), 5, "one entry per round trip: {trips:?}");
    for platform in ["etcd", "kubernetes", "vsphere"] {
        assert!(trips.iter().any(|(p, _, r)| p == platform && r == "ok"), "{platform}: {trips:?}");
    }
    assert_eq!(trips.iter().filter(|(p, _, _)| p == "docker").map(|(_, _, r)| r.as_str()).collect::<Vec<_>>().len(), 2, "{trips:?}");
    assert!(trips.iter().any(|(p, _, r)| p == "docker" && r == "error"), "the missing image's round trip failed: {trips:?}");

    // No secret in any report or output.
    for text in [&stdout, &xml, &std::fs::read_to_string(&json).unwrap()] {
        for secret in [ETCD_PASSWORD, vc_password.as_str(), "not-the-password"] {
            assert!(!text.contains(secret), "a secret leaked into a report");
        }
    }

    // A secret in the file is refused before anything runs.
    std::fs::write(&path, file.replace("secret_env: OPSDECK_CHECK_ETCD_PW", "password: hunter2")).unwrap();
    let out = opsdeck(data.path(), &keychain, &[], &["check", "--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("secrets never go in the checks file"));
    // A file naming any other environment variable (a CI job's cloud token, say) is refused
    // before anything connects, unless the pipeline allows that variable by name.
    std::fs::write(&path, file.replace("secret_env: OPSDECK_CHECK_ETCD_PW", "secret_env: CI_JOB_TOKEN")).unwrap();
    let out = opsdeck(data.path(), &keychain, &[("CI_JOB_TOKEN", "glpat-secret")], &["check", "--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("secret_env CI_JOB_TOKEN is not allowed") && !stderr.contains("glpat-secret"), "{stderr}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("PASSED"), "nothing ran");
    opsdeck(data.path(), &keychain, &[], &["connections", "remove", "lab-vc"]);
    prep.cleanup().await;
}

/// The checks-file target `vc`: vcsim inline, its password from $OPSDECK_CHECK_VC_PW.
fn vc_target(vcsim: &Service) -> String {
    format!(
        r#"vc: {{ spec: {{ kind: vsphere, url: "{}", username: "{}", thumbprint: "{}" }}, secret_env: OPSDECK_CHECK_VC_PW }}"#,
        vcsim.get("VCSIM_SDK_URL"),
        vcsim.get("VCSIM_USER"),
        vcsim.get("VCSIM_THUMBPRINT_SHA256")
    )
}

/// `opsdeck check` running in the background on `data/checks.yaml`, writing
/// `data/junit.xml` and `data/results.json`, its stderr lines streamed.
struct Running {
    child: std::process::Child,
    progress: std::sync::mpsc::Receiver<String>,
    reader: std::thread::JoinHandle<Vec<String>>,
}

impl Running {
    fn start(data: &std::path::Path, vc_password: &str) -> Running {
        let arg = |f: &str| data.join(f).to_str().unwrap().to_string();
        let mut child = workspace::cli(data, &format!("opsdeck-check-run-{}", uuid::Uuid::new_v4()))
            .args(["check", "--config", &arg("checks.yaml"), "--junit", &arg("junit.xml"), "--json", &arg("results.json")])
            .env("OPSDECK_CHECK_VC_PW", vc_password)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run opsdeck check");
        // Progress lines arrive on stderr as checks finish.
        let (tx, progress) = std::sync::mpsc::channel::<String>();
        let stderr = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line.clone());
                all.push(line);
            }
            all
        });
        Running { child, progress, reader }
    }

    fn next_line(&self) -> String {
        self.progress.recv_timeout(Duration::from_secs(60)).expect("a progress line")
    }

    /// Waits for the exit: its code and every stderr line.
    fn finish(mut self) -> (Option<i32>, Vec<String>) {
        let status = self.child.wait().expect("opsdeck check exits");
        (status.code(), self.reader.join().unwrap())
    }
}

/// Waits until the round trip's clone exists in vCenter (the check is then mid-way).
async fn wait_for_clone(prep: &TestBackend, connection_id: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !prep
        .backend
        .vm_inventory(connection_id)
        .await
        .expect("inventory while the check runs")
        .vms
        .iter()
        .any(|v| v.name.starts_with("opsdeck-check-"))
    {
        assert!(Instant::now() < deadline, "the round trip never cloned its VM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// vCenter dies while a round trip is in flight (its power-on call is held
/// back by vcsim for a minute) and, at the same moment, etcd hangs (SIGSTOP):
/// the check in flight fails at once as unreachable, naming the VM it may
/// have left; later checks on vCenter fail as unreachable; the etcd check is
/// cut off by its timeout; checks on other services still run and pass; the
/// reports are complete and valid, and the exit code is 1.
#[tokio::test]
async fn a_service_going_down_mid_run() {
    const HELD_MS: u64 = 60_000;
    let prep = TestBackend::new().await;
    let (vcsim, conn) = vcsim_with_template(&prep, &["-method-delay", &format!("PowerOnVM_Task:{HELD_MS}")]).await;
    let dockerd = shared("dockerd");
    let etcd = Service::start("etcd", &[]);
    let data = tempfile::tempdir().unwrap();
    let file = format!(
        r#"
concurrency: 1
timeout: 120s
targets:
  {vc}
  docker: {{ spec: {{ kind: docker, host: "{docker}" }} }}
  etcd: {{ spec: {{ kind: etcd, endpoints: ["{etcd}"] }} }}
checks:
  - {{ name: vc login, target: vc, kind: auth }}
  - {{ name: etcd login, target: etcd, kind: auth }}
  - {{ name: vc round trip, target: vc, kind: roundtrip, template: DC0_H0_VM0 }}
  - {{ name: vc inventory, target: vc, kind: list }}
  - {{ name: etcd keys, target: etcd, kind: list, prefix: /, timeout: 2s }}
  - {{ name: docker reachable, target: docker, kind: connectivity }}
"#,
        etcd = etcd.get("ETCD_ENDPOINT"),
        vc = vc_target(&vcsim),
        docker = dockerd.get("DOCKER_HOST"),
    );
    let path = data.path().join("checks.yaml");
    std::fs::write(&path, file).unwrap();
    let (junit, json) = (data.path().join("junit.xml"), data.path().join("results.json"));
    let started = Instant::now();
    let run = Running::start(data.path(), vcsim.get("VCSIM_PASSWORD"));
    let first = run.next_line();
    assert!(first.starts_with("[1/6] ok") && first.contains("vc login"), "{first}");

    // The round trip's clone exists: its power-on call is now held by vcsim. Take vCenter down.
    wait_for_clone(&prep, &conn.id).await;
    let etcd_pid: i32 = etcd.get("ETCD_PID").parse().unwrap();
    assert_eq!(unsafe { libc::kill(etcd_pid, libc::SIGSTOP) }, 0, "freeze etcd");
    let pid: i32 = vcsim.get("VCSIM_PID").parse().unwrap();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0, "kill vcsim");

    let (code, lines) = run.finish();
    let elapsed = started.elapsed();
    assert_eq!(code, Some(1), "{lines:#?}");
    assert!(elapsed < Duration::from_millis(HELD_MS), "the run waited for the dead server ({elapsed:?})");

    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let r = results.as_array().unwrap();
    let names: Vec<&str> = r.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["vc login", "etcd login", "vc round trip", "vc inventory", "etcd keys", "docker reachable"]);
    let oks: Vec<bool> = r.iter().map(|r| r["ok"].as_bool().unwrap()).collect();
    assert_eq!(oks, [true, true, false, false, false, true], "{results:#}");
    let trip = r[2]["message"].as_str().unwrap();
    assert!(trip.ends_with("(unreachable)") && trip.contains("opsdeck-check-") && trip.contains("remove it by hand"), "{trip}");
    assert!(r[3]["message"].as_str().unwrap().ends_with("(unreachable)"), "{}", r[3]["message"]);
    assert!(r[4]["message"].as_str().unwrap().ends_with("did not answer within 2 s (timeout)"), "{}", r[4]["message"]);
    // Every check had its progress line, failures with their reason.
    assert_eq!(lines.iter().filter(|l| l.starts_with('[')).count(), 6, "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains('\u{1b}')), "no terminal colours in a CI log: {lines:#?}");
    assert!(lines.iter().any(|l| l.contains("FAILED") && l.contains("vc round trip") && l.contains("(unreachable)")), "{lines:#?}");

    let xml = std::fs::read_to_string(&junit).unwrap();
    opsdeck_tests::junit::assert_valid(&xml);
    assert_eq!((xml.matches("<testcase ").count(), xml.matches("<failure ").count()), (6, 3), "{xml}");
    prep.cleanup().await;
    unsafe { libc::kill(etcd_pid, libc::SIGCONT) };
    drop((vcsim, etcd));
}

/// The concurrency limit holds: vcsim answers each login after 1.5 s, so
/// four login checks take at least 3 s two at a time (6 s one at a time),
/// where without a limit they would all finish after ~1.5 s; results keep
/// the file's order whatever order the checks finish in.
#[tokio::test]
async fn checks_run_at_most_concurrency_at_a_time() {
    let vcsim = Service::start_with_args("vcsim", &["--", "-method-delay", "Login:1500"], &[]);
    let data = tempfile::tempdir().unwrap();
    let checks: String = (1..=4).map(|i| format!("  - {{ name: login {i}, target: vc, kind: auth }}\n")).collect();
    let file_for =
        |concurrency: u32| format!("concurrency: {concurrency}\ntimeout: 30s\ntargets:\n  {}\nchecks:\n{checks}", vc_target(&vcsim));
    let keychain = format!("opsdeck-check-limit-{}", std::process::id());
    let mut elapsed = vec![];
    for concurrency in [2, 4] {
        let path = data.path().join(format!("checks-{concurrency}.yaml"));
        std::fs::write(&path, file_for(concurrency)).unwrap();
        let json = data.path().join(format!("results-{concurrency}.json"));
        let t = Instant::now();
        let out = opsdeck(
            data.path(),
            &keychain,
            &[("OPSDECK_CHECK_VC_PW", vcsim.get("VCSIM_PASSWORD"))],
            &["check", "--config", path.to_str().unwrap(), "--json", json.to_str().unwrap()],
        );
        elapsed.push(t.elapsed());
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let names: Vec<&str> = results.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["login 1", "login 2", "login 3", "login 4"]);
    }
    assert!(elapsed[0] >= Duration::from_millis(3000), "two at a time cannot finish four 1.5 s logins in {:?}", elapsed[0]);
    assert!(elapsed[1] < elapsed[0], "four at a time is faster than two at a time: {elapsed:?}");
}

/// A cancelled pipeline job gets SIGTERM: no new check starts, the round
/// trip in flight finishes and removes its VM, the rest are reported as
/// skipped (JUnit `<skipped>`), and the exit code says the run was stopped.
#[tokio::test]
async fn a_stopped_run_lets_the_running_round_trip_clean_up() {
    let prep = TestBackend::new().await;
    let (vcsim, conn) = vcsim_with_template(&prep, &["-method-delay", "PowerOnVM_Task:2000"]).await;
    let data = tempfile::tempdir().unwrap();
    let file = format!(
        r#"
concurrency: 1
timeout: 60s
targets:
  {vc}
checks:
  - {{ name: vc login, target: vc, kind: auth }}
  - {{ name: vc round trip, target: vc, kind: roundtrip, template: DC0_H0_VM0 }}
  - {{ name: vc inventory, target: vc, kind: list }}
  - {{ name: vc login again, target: vc, kind: auth }}
"#,
        vc = vc_target(&vcsim),
    );
    let path = data.path().join("checks.yaml");
    std::fs::write(&path, file).unwrap();
    let (junit, json) = (data.path().join("junit.xml"), data.path().join("results.json"));
    let run = Running::start(data.path(), vcsim.get("VCSIM_PASSWORD"));
    let first = run.next_line();
    assert!(first.starts_with("[1/4] ok"), "{first}");
    // The round trip is in flight (its clone exists, its power-on is held for 2 s): stop the run.
    wait_for_clone(&prep, &conn.id).await;
    assert_eq!(unsafe { libc::kill(run.child.id() as i32, libc::SIGTERM) }, 0);
    let (code, lines) = run.finish();
    assert_eq!(code, Some(143), "{lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with("stopping: no new check starts")), "{lines:#?}");

    let results: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let r = results.as_array().unwrap();
    let state: Vec<(bool, bool)> = r.iter().map(|r| (r["ok"].as_bool().unwrap(), r["skipped"].as_bool().unwrap())).collect();
    assert_eq!(state, [(true, false), (true, false), (false, true), (false, true)], "{results:#}");
    assert!(r[1]["message"].as_str().unwrap().contains("destroyed"), "{}", r[1]["message"]);
    let inv = prep.backend.vm_inventory(&conn.id).await.unwrap();
    assert!(!inv.vms.iter().any(|v| v.name.starts_with("opsdeck-check-")), "the round trip's VM was left behind");

    let xml = std::fs::read_to_string(&junit).unwrap();
    opsdeck_tests::junit::assert_valid(&xml);
    assert_eq!((xml.matches("<testcase ").count(), xml.matches("<skipped").count(), xml.matches("<failure").count()), (4, 2, 0), "{xml}");
    prep.cleanup().await;
}

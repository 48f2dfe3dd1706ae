//! Utilisation and idle VMs (issue 18 item 6) against a real vcsim: host and
//! cluster figures equal govc's for the same objects; idle detection over
//! the PerformanceManager's samples with thresholds (vcsim's samples are
//! noisy, so the thresholds are chosen on either side of anything it can
//! produce: the verdicts are deterministic); a VM powered on just now has
//! "not enough data"; the idle rule in the compliance report; the reclaim of
//! an idle VM through the lease path, decided once by the manager and
//! followed by the lifecycle; vcsim killed mid-query is a clear error.

use std::process::Command;
use std::time::{Duration, Instant};

use opsdeck_core::backend::{StoreChoice, VmSettings};
use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::vms::model::{ExtensionState, Stage, State};
use opsdeck_core::vms::provision::ProvisionOptions;
use opsdeck_core::vms::utilisation::{IdleRules, IdleVerdict};
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::{form, vcsim_connection, vcsim_with_template};
use opsdeck_tests::Service;

fn govc_json(vcsim: &Service, args: &[&str]) -> serde_json::Value {
    let govc = std::env::var("GOVC_BIN")
        .unwrap_or_else(|_| format!("{}/.cache/opsdeck/bin/govc-v0.56.0", std::env::var("HOME").unwrap_or_default()));
    let url = format!("https://{}:{}@{}/sdk", vcsim.get("VCSIM_USER"), vcsim.get("VCSIM_PASSWORD"), vcsim.get("VCSIM_HOST"));
    let out = Command::new(&govc).args(args).env("GOVC_URL", url).env("GOVC_INSECURE", "1").output().expect("run govc");
    assert!(out.status.success(), "govc {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("govc JSON")
}

/// Anything vcsim produces is under these (its CPU samples are a few % with
/// noise, far from 100 %; its network samples a few MB/s at most). vcsim's
/// VMs were powered on when it started (seconds ago), so the samples after
/// that are few: 1 % of the realtime hour's 180 (2 samples) is enough here.
const ALL_IDLE: IdleRules = IdleRules { window_hours: 1, cpu_pct: 100.0, net_kbps: 10_000_000.0, min_coverage_pct: 1 };
/// ... and over these (samples of 0.01 % CPU and 0.001 KB/s at the 95th percentile would be a dead VM).
const NONE_IDLE: IdleRules = IdleRules { window_hours: 1, cpu_pct: 0.01, net_kbps: 0.001, min_coverage_pct: 1 };

/// Polls until vcsim's VMs have 2 realtime samples since their power-on
/// (vcsim started them when it started: 20 s later there is a second sample).
async fn until_two_samples(b: &opsdeck_core::Backend, vc: &str) -> opsdeck_core::vms::utilisation::UtilisationReport {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let r = b.vm_utilisation(vc, Some(ALL_IDLE)).await.expect("utilisation");
        if r.vms.iter().all(|v| v.window.samples >= 2) {
            return r;
        }
        // The samples accrue with vCenter's clock: a realtime sample every 20 s.
        assert!(Instant::now() < deadline, "no second sample after 90 s: {:?}", r.vms);
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

#[tokio::test]
async fn host_and_cluster_figures_equal_govc_and_idle_vms_follow_the_thresholds() {
    let t = TestBackend::new().await;
    let b = &t.backend;
    let vcsim = Service::start("vcsim", &[]);
    let vc = vcsim_connection(&t, &vcsim).await;

    // Just started: every VM was powered on seconds ago, so 1 sample of 180 counts (2 needed).
    let fresh = b.vm_utilisation(&vc.id, Some(ALL_IDLE)).await.expect("utilisation");
    let r = until_two_samples(b, &vc.id).await;
    assert!(
        fresh.vms.iter().all(|v| v.verdict == IdleVerdict::NotEnoughData) || fresh.vms.iter().all(|v| v.window.samples >= 2),
        "{:?}",
        fresh.vms
    );
    // Clusters: govc cluster.usage (the sum of the cluster's hosts' quick stats).
    assert_eq!(r.clusters.len(), 1, "{:?}", r.clusters);
    let c = &r.clusters[0];
    let g = govc_json(&vcsim, &["cluster.usage", "-json", &c.name]);
    assert_eq!(c.cpu_used_mhz as i64, g["cpu"]["used"].as_i64().unwrap(), "{g}");
    assert_eq!(c.cpu_capacity_mhz as i64, g["cpu"]["capacity"].as_i64().unwrap(), "{g}");
    assert_eq!(c.memory_used_bytes as i64, g["memory"]["used"].as_i64().unwrap(), "{g}");
    assert_eq!(c.memory_capacity_bytes as i64, g["memory"]["capacity"].as_i64().unwrap(), "{g}");
    assert_eq!(c.hosts, 3);
    // Hosts: govc host.info's summary of each.
    assert_eq!(r.hosts.len(), 4, "{:?}", r.hosts);
    for h in &r.hosts {
        let path = if h.cluster.is_empty() { format!("/DC0/host/{0}/{0}", h.name) } else { format!("/DC0/host/{}/{}", h.cluster, h.name) };
        let g = govc_json(&vcsim, &["host.info", "-json", &path]);
        let s = &g["hostSystems"][0]["summary"];
        let q = &s["quickStats"];
        let hw = &s["hardware"];
        assert_eq!(h.cpu_used_mhz as i64, q["overallCpuUsage"].as_i64().unwrap(), "{}: {s}", h.name);
        assert_eq!(h.memory_used_bytes as i64, q["overallMemoryUsage"].as_i64().unwrap() << 20, "{}", h.name);
        assert_eq!(h.cpu_capacity_mhz as i64, hw["cpuMhz"].as_i64().unwrap() * hw["numCpuCores"].as_i64().unwrap(), "{}", h.name);
        assert_eq!(h.memory_capacity_bytes as i64, hw["memorySize"].as_i64().unwrap(), "{}", h.name);
        // The PerformanceManager's window: a realtime hour holds 180 samples of 20 s.
        assert_eq!((h.window.samples, h.window.expected), (180, 180), "{}: {:?}", h.name, h.window);
        assert!(h.window.cpu_avg_pct.is_some() && h.window.mem_avg_pct.is_some(), "{:?}", h.window);
    }
    assert_eq!(r.interval_secs, 20);

    // vcsim's four VMs: only the samples since vcsim powered them on count.
    assert_eq!(r.vms.len(), 4, "{:?}", r.vms);
    for v in &r.vms {
        assert_eq!(v.verdict, IdleVerdict::Idle, "{}: {}", v.name, v.detail);
        assert!(v.window.samples >= 2 && v.window.samples < 180 && v.window.expected == 180, "{}: {:?}", v.name, v.window);
        assert!(v.detail.contains(&format!("{} of 180 samples", v.window.samples)), "{}", v.detail);
    }
    let busy = b.vm_utilisation(&vc.id, Some(NONE_IDLE)).await.unwrap();
    assert!(busy.vms.iter().all(|v| v.verdict == IdleVerdict::Busy), "{:?}", busy.vms);

    // A VM powered on just now: no sample after its boot counts yet.
    let vim = b.vim(&vc.id).await.unwrap();
    let vm = r.vms.iter().find(|v| v.name == "DC0_H0_VM1").unwrap();
    vim.power_off(&vm.vm_id).await.unwrap();
    let off = b.vm_utilisation(&vc.id, Some(ALL_IDLE)).await.unwrap();
    assert!(off.vms.iter().all(|v| v.name != "DC0_H0_VM1"), "a powered-off VM is the powered-off rule's, not idle");
    vim.power_on(&vm.vm_id, &|_| {}).await.unwrap();
    let r = b.vm_utilisation(&vc.id, Some(ALL_IDLE)).await.unwrap();
    let v = r.vms.iter().find(|v| v.name == "DC0_H0_VM1").unwrap();
    assert_eq!(v.verdict, IdleVerdict::NotEnoughData, "{}", v.detail);
    // Checked within 20 s of the power-on (a call takes well under a second): one sample.
    assert_eq!((v.window.samples, v.window.expected), (1, 180), "{:?}", v.window);
    assert!(v.detail.contains("at least 2 needed"), "{}", v.detail);
    assert!(v.detail.contains("not enough data") && v.detail.contains("of 180 samples"), "{}", v.detail);

    // Compliance: the saved idle rules put idle VMs beside the powered-off rule.
    b.set_vm_settings(&VmSettings { idle: ALL_IDLE, ..Default::default() }).await.unwrap();
    let findings = b.vm_compliance(&vc.id, time::OffsetDateTime::now_utc()).await.unwrap();
    let mut idle: Vec<&str> = findings.iter().filter(|f| f.rule == "idle").map(|f| f.vm.as_str()).collect();
    idle.sort();
    assert_eq!(idle, ["DC0_C0_RP0_VM0", "DC0_C0_RP0_VM1", "DC0_H0_VM0"], "{findings:?}");

    // Bad rules are refused, naming the field; nothing is saved.
    for bad in
        [IdleRules { window_hours: 0, ..ALL_IDLE }, IdleRules { cpu_pct: -5.0, ..ALL_IDLE }, IdleRules { net_kbps: f64::NAN, ..ALL_IDLE }]
    {
        let e = b.vm_utilisation(&vc.id, Some(bad)).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
        let e = b.set_vm_settings(&VmSettings { idle: bad, ..Default::default() }).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
    }
    assert_eq!(b.vm_settings().await.unwrap().idle, ALL_IDLE);
}

#[tokio::test]
async fn an_idle_vm_is_reclaimed_through_the_lease_path() {
    let t = TestBackend::new().await;
    let b = &t.backend;
    let (_vcsim, vc) = vcsim_with_template(&t, &[]).await;
    let store = b.vm_store(&StoreChoice::Local).await.unwrap();
    let store = store.as_ref();
    let r = b.vm_submit(store, &vc.id, form("idle-01", "qa")).await.unwrap();
    b.vm_decide(store, Some(&vc.id), &r.id, Stage::Manager, true, "").await.unwrap();
    b.vm_decide(store, Some(&vc.id), &r.id, Stage::Admin, true, "").await.unwrap();
    let opts = ProvisionOptions { instance: "util-test".into(), ..Default::default() };
    let r = b.vm_provision(store, &vc.id, &r.id, &opts, &|_| {}).await.unwrap();
    assert_eq!(r.state, State::Provisioned, "{:?}", r.failure);
    let lease = r.spec.lease_end.clone();

    // The utilisation view names the request of the VM (its annotation).
    let u = b.vm_utilisation(&vc.id, Some(ALL_IDLE)).await.unwrap();
    let v = u.vms.iter().find(|v| v.name == "idle-01").expect("the provisioned VM is listed");
    assert_eq!((v.request.as_str(), v.department.as_str()), (r.id.as_str(), "qa"));

    // Bad input: no reason, not before the lease, in the past, a request that is not there.
    let today = time::OffsetDateTime::now_utc().date();
    let soon = (today + time::Duration::days(2)).to_string();
    for (end, reason) in [(soon.as_str(), "  "), (lease.as_str(), "idle"), ("2020-01-01", "idle"), ("not-a-date", "idle")] {
        let e = b.vm_reclaim(store, &r.id, end, reason).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::InvalidInput, "{end} {reason:?}: {e}");
    }
    assert_eq!(b.vm_reclaim(store, "r-none", &soon, "idle").await.unwrap_err().code(), ErrorCode::NotFound);

    // Filed twice at once (a double click): one lease change, the other refused.
    let (a1, a2) = tokio::join!(b.vm_reclaim(store, &r.id, &soon, "idle for 7 days"), b.vm_reclaim(store, &r.id, &soon, "idle for 7 days"));
    let filed = match (a1, a2) {
        (Ok(w), Err(l)) | (Err(l), Ok(w)) => {
            assert_eq!(l.code(), ErrorCode::Conflict, "{l}");
            w
        }
        other => panic!("exactly one reclaim is filed: {other:?}"),
    };
    assert_eq!(filed.extensions.len(), 1);
    assert_eq!(filed.extensions[0].state, ExtensionState::Pending);
    assert_eq!(filed.spec.lease_end, lease, "the lease in force moves only once the manager approves");

    // The manager approves: the lease now ends on the reclaim's date, and the lifecycle follows it.
    let decided = b.vm_decide_extension(store, &r.id, 1, true, "reclaim it").await.unwrap();
    assert_eq!(decided.extensions[0].state, ExtensionState::Approved);
    assert_eq!(decided.spec.lease_end, soon);
    let at = time::OffsetDateTime::now_utc() + time::Duration::days(3);
    let plan = b.vm_lifecycle_plan(store, &vc.id, at).await.unwrap();
    assert!(plan.steps.iter().any(|s| s.request == r.id && s.action == "power_off"), "{:?}", plan.steps);
    // A second decision on the same lease change is refused.
    assert_eq!(b.vm_decide_extension(store, &r.id, 1, false, "no").await.unwrap_err().code(), ErrorCode::Conflict);

    // Audited, refusals too.
    let audit = b.audit_log(&AuditFilter { platform: Some("vsphere".into()), limit: 200, ..Default::default() }).await.unwrap();
    let reclaims: Vec<_> = audit.entries.iter().filter(|e| e.action == "vm.reclaim").collect();
    assert!(reclaims.iter().any(|e| e.result == "ok" && e.detail.contains(&format!("lease to end {soon}"))), "{reclaims:?}");
    assert!(reclaims.iter().any(|e| e.result == "error"), "{reclaims:?}");
}

#[tokio::test]
async fn vcsim_killed_mid_query_is_a_clear_error() {
    let t = TestBackend::new().await;
    let b = &t.backend;
    // QueryPerf held back 3 s: the kill lands while the samples are asked for.
    let vcsim = Service::start_with_args("vcsim", &["--", "-method-delay", "QueryPerf:3000"], &[]);
    let vc = vcsim_connection(&t, &vcsim).await;
    b.vm_inventory(&vc.id).await.unwrap();
    let pid: i32 = vcsim.get("VCSIM_PID").parse().unwrap();
    let started = Instant::now();
    let query = b.vm_utilisation(&vc.id, Some(ALL_IDLE));
    let kill = async {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    };
    let (result, ()) = tokio::join!(query, kill);
    let e = result.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Unreachable, "{e}");
    assert!(e.to_string().contains("vCenter"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(30), "the error came after {:?}", started.elapsed());
    // The next call is refused at once too (the dead session was dropped), with the same kind of error.
    let e = b.vm_utilisation(&vc.id, Some(ALL_IDLE)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Unreachable, "{e}");
}

//! `opsdeck vm provision` interrupted (issue 19, item 1), against a real
//! vcsim that holds CloneVM_Task or PowerOnVM_Task back (`-method-delay`), so
//! the signal lands while the call is in flight: SIGINT stops at a safe point
//! (exit 130, the task recorded, the lock released, audited) and a retry
//! adopts the VM the clone made; SIGKILL leaves the lock to expire and a
//! retry still adopts; a VM of the same name made by someone else is still
//! refused and left alone.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use opsdeck_core::backend::StoreChoice;
use opsdeck_core::cache::audit::AuditFilter;
use opsdeck_core::team::DEFAULT_ROOT;
use opsdeck_core::vms::model::{Quota, Stage, State};
use opsdeck_core::vms::provision::REQUEST_KEY;
use opsdeck_core::vms::vsphere::CloneTarget;
use opsdeck_core::{Backend, BackendOptions};
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::{etcd_connection, etcd_with_vm_roles, form, vcsim_with_template};
use opsdeck_tests::{workspace, Service};

/// A backend and the CLI on the same data directory and keychain service:
/// the test sets up and inspects through the library, the CLI provisions.
struct Rig {
    t: TestBackend,
    keychain: String,
    vcsim: Service,
    vc: String,
    /// The request store the test reads, and the CLI's arguments for it.
    store: StoreChoice,
    store_args: Vec<String>,
}

impl Rig {
    /// A vcsim started with `vcsim_flags` and an approved request for `name`
    /// in the local store.
    async fn new(vcsim_flags: &[&str], name: &str) -> (Rig, String) {
        let rig = Rig::start(vcsim_flags).await;
        let store = rig.t.backend.vm_store(&StoreChoice::Local).await.unwrap();
        let store = store.as_ref();
        rig.t
            .backend
            .vm_set_quota(store, "qa", &Quota { vms: 5, vcpu: 16, memory_gb: 64, disk_gb: 500, ..Default::default() })
            .await
            .unwrap();
        let r = rig.t.backend.vm_submit(store, &rig.vc, form(name, "qa")).await.unwrap();
        rig.t.backend.vm_decide(store, Some(&rig.vc), &r.id, Stage::Manager, true, "ok").await.unwrap();
        let r = rig.t.backend.vm_decide(store, Some(&rig.vc), &r.id, Stage::Admin, true, "").await.unwrap();
        assert_eq!(r.state, State::Approved);
        (rig, r.id)
    }

    /// The same with the team's shared etcd store: alice files, bob (a qa
    /// manager) and carol (admin, executor) approve; carol provisions.
    async fn new_shared(vcsim_flags: &[&str], name: &str, etcd: &Service) -> (Rig, String) {
        let mut rig = Rig::start(vcsim_flags).await;
        let mut stores = std::collections::HashMap::new();
        for user in ["alice", "bob", "carol"] {
            let c = etcd_connection(&rig.t, etcd, user).await;
            let choice = StoreChoice::Etcd { connection_id: c.id, prefix: DEFAULT_ROOT.into(), allow_no_auth: false };
            stores.insert(user, (rig.t.backend.vm_store(&choice).await.unwrap(), choice));
        }
        let s = |u: &str| stores[u].0.as_ref();
        let quota = Quota { vms: 5, vcpu: 16, memory_gb: 64, disk_gb: 500, ..Default::default() };
        rig.t.backend.vm_set_quota(s("carol"), "qa", &quota).await.unwrap();
        let r = rig.t.backend.vm_submit(s("alice"), &rig.vc, form(name, "qa")).await.unwrap();
        rig.t.backend.vm_decide(s("bob"), Some(&rig.vc), &r.id, Stage::Manager, true, "ok").await.unwrap();
        let r = rig.t.backend.vm_decide(s("carol"), Some(&rig.vc), &r.id, Stage::Admin, true, "").await.unwrap();
        assert_eq!(r.state, State::Approved);
        rig.store = stores["carol"].1.clone();
        rig.store_args = ["--store", "etcd", "--etcd", "etcd as carol"].map(String::from).to_vec();
        (rig, r.id)
    }

    async fn start(vcsim_flags: &[&str]) -> Rig {
        let dir = tempfile::tempdir().expect("temp dir");
        let keychain = format!("opsdeck-vm-interrupt-{}", uuid::Uuid::new_v4());
        let backend = Backend::open(BackendOptions {
            data_dir: dir.path().to_path_buf(),
            keychain_service: keychain.clone(),
            actor: "tester".into(),
        })
        .await
        .expect("open backend");
        let t = TestBackend { backend, dir };
        let (vcsim, c) = vcsim_with_template(&t, vcsim_flags).await;
        Rig { t, keychain, vcsim, vc: c.id, store: StoreChoice::Local, store_args: vec!["--store".into(), "local".into()] }
    }

    fn cli(&self, args: &[&str]) -> Command {
        let mut c = workspace::cli(self.t.dir.path(), &self.keychain);
        c.arg("vm").args(&self.store_args).args(["--vcenter", "vcsim"]).args(args);
        c
    }

    /// `opsdeck vm provision ID` to its end: exit code, stdout, stderr.
    fn provision(&self, id: &str) -> (i32, String, String) {
        let o = self.cli(&["provision", id]).output().expect("run opsdeck");
        (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into())
    }

    /// Starts `opsdeck vm provision ID` (with `env`), and returns once its
    /// progress on stderr reports `step` started: that step's vSphere call
    /// is then in flight (vcsim holds it back).
    fn provision_until(&self, id: &str, step: &str, env: &[(&str, &str)]) -> Running {
        let mut child = self
            .cli(&["provision", id])
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start opsdeck");
        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("piped stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut running = Running { child, lines: rx, seen: vec![] };
        let wanted = format!("{id} {step} 0%");
        running.wait_line(|l| l == wanted, Duration::from_secs(60));
        running
    }

    /// Returns once vcsim (started with `-trace`) has received a call of
    /// `method`: it is then in vCenter's hands, whatever happens to the caller.
    async fn received(&self, method: &str) {
        let log = self.vcsim.run_dir.join("vcsim.log");
        eventually(&format!("vcsim to receive {method}"), Duration::from_secs(30), || async {
            std::fs::read_to_string(&log).is_ok_and(|l| l.split("Request: ").skip(1).any(|r| r.contains(method)))
        })
        .await;
    }

    async fn inventory_vms(&self, name: &str) -> Vec<opsdeck_core::vms::inventory::VmRow> {
        let inv = self.t.backend.vm_inventory(&self.vc).await.expect("inventory");
        inv.vms.into_iter().filter(|v| v.name == name && !v.template).collect()
    }

    async fn request(&self, id: &str) -> opsdeck_core::vms::model::VmRequest {
        let store = self.t.backend.vm_store(&self.store).await.unwrap();
        self.t.backend.vm_request(store.as_ref(), id).await.unwrap()
    }

    async fn audit(&self) -> Vec<(String, bool, String)> {
        let log =
            self.t.backend.audit_log(&AuditFilter { platform: Some("vsphere".into()), limit: 200, ..Default::default() }).await.unwrap();
        log.entries.into_iter().map(|e| (e.action, e.result == "ok", e.detail)).collect()
    }

    /// Sends `sig` while `step`'s vSphere call is in flight; expects exit
    /// `code` with `says` on stderr and the request still provisioning, then
    /// a retry that ends provisioned (see [`Rig::assert_provisioned`]).
    async fn interrupt_then_resume(&self, id: &str, name: &str, step: &str, sig: libc::c_int, code: i32, says: &[&str]) {
        let run = self.provision_until(id, step, &[]);
        run.signal(sig);
        let (got, stderr) = run.exit(Duration::from_secs(60));
        assert_eq!(got, code, "{stderr}");
        for s in says {
            assert!(stderr.contains(s), "{s:?} missing from:\n{stderr}");
        }
        assert_eq!(self.request(id).await.state, State::Provisioning);
        let (got, out, err) = self.provision(id);
        assert_eq!(got, 0, "{out}\n{err}");
        self.assert_provisioned(id, name).await;
    }

    /// The request ends provisioned, with exactly one VM of its name in
    /// vCenter, powered on, with its snapshot, tagged with the request.
    async fn assert_provisioned(&self, id: &str, name: &str) -> String {
        let r = self.request(id).await;
        assert_eq!(r.state, State::Provisioned, "{:?} {:?}", r.failure, r.history);
        let vms = self.inventory_vms(name).await;
        assert_eq!(vms.len(), 1, "exactly one VM named {name}: {vms:?}");
        let vm = &vms[0];
        assert_eq!(vm.tag("request"), Some(id), "the annotation names the request: {:?}", vm.annotation);
        assert!(vm.powered_on(), "{vm:?}");
        assert!(vm.snapshots.iter().any(|s| s.name.starts_with("Initial-")), "{vm:?}");
        assert_eq!(r.asset.as_ref().map(|a| a.vm_id.as_str()), Some(vm.id.as_str()));
        vm.id.clone()
    }
}

/// A CLI process under test and its stderr lines so far.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn wait_line(&mut self, matches: impl Fn(&str) -> bool, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if self.seen.iter().any(|l| matches(l)) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => panic!("the line did not come within {limit:?}; stderr so far:\n{}", self.seen.join("\n")),
            }
        }
    }

    fn signal(&self, sig: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid");
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill({pid}, {sig})");
    }

    /// Waits (with a deadline) for the exit: its code (-1: killed by a signal) and all of stderr.
    fn exit(mut self, limit: Duration) -> (i32, String) {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("opsdeck did not exit within {limit:?}; stderr so far:\n{}", self.seen.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        // The reader thread ends at EOF, after the process is gone.
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(l);
        }
        (status.code().unwrap_or(-1), self.seen.join("\n"))
    }
}

/// Polls `check` every 200 ms until it holds, for at most `limit`.
async fn eventually<F, Fut>(what: &str, limit: Duration, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn sigint_during_the_clone_records_the_task_releases_the_lock_and_a_retry_adopts_the_vm() {
    let (rig, id) = Rig::new(&["-method-delay", "CloneVM_Task:4000"], "int-01").await;
    let run = rig.provision_until(&id, "clone", &[]);
    let signalled = Instant::now();
    run.signal(libc::SIGINT);
    let (code, stderr) = run.exit(Duration::from_secs(60));
    let stopped_after = signalled.elapsed();
    assert_eq!(code, 130, "{stderr}");
    assert!(stderr.contains("interrupted: request") && stderr.contains("in step clone of VM int-01"), "{stderr}");
    assert!(stderr.contains("vSphere task task-") && stderr.contains(&format!("opsdeck vm provision {id}")), "{stderr}");

    // The run record keeps the task in flight; the request stays provisioning.
    let r = rig.request(&id).await;
    assert_eq!(r.state, State::Provisioning);
    let failure = r.failure.clone().unwrap_or_default();
    assert!(failure.contains("vSphere task task-") && failure.contains("clone step"), "{failure}");
    let audit = rig.audit().await;
    let entry = audit.iter().find(|(a, _, _)| a == "vm.provision.interrupted").unwrap_or_else(|| panic!("{audit:?}"));
    assert!(!entry.1 && entry.2.contains("in step clone") && entry.2.contains("task-"), "{entry:?}");

    // At once (the lock is released, no 10-minute wait), and the VM the
    // interrupted clone makes is adopted, not cloned again.
    let (code, out, err) = rig.provision(&id);
    assert_eq!(code, 0, "{out}\n{err}");
    rig.assert_provisioned(&id, "int-01").await;
    let audit = rig.audit().await;
    assert!(audit.iter().any(|(a, ok, _)| a == "vm.provision" && *ok), "{audit:?}");
    eprintln!("SIGINT during the clone: exit {stopped_after:?} after the signal (vcsim holds the call 4 s from its arrival)");
    rig.t.cleanup().await;
}

#[tokio::test]
async fn sigint_during_power_on_and_a_retry_completes() {
    let (rig, id) = Rig::new(&["-method-delay", "PowerOnVM_Task:4000"], "int-02").await;
    let says = ["in step power_on of VM int-02 (vm-", "(power_on step) was in flight"];
    rig.interrupt_then_resume(&id, "int-02", "power_on", libc::SIGINT, 130, &says).await;
    rig.t.cleanup().await;
}

#[tokio::test]
async fn sigterm_exits_143() {
    let (rig, id) = Rig::new(&["-method-delay", "CloneVM_Task:3000"], "int-05").await;
    rig.interrupt_then_resume(&id, "int-05", "clone", libc::SIGTERM, 143, &["in step clone of VM int-05"]).await;
    rig.t.cleanup().await;
}

#[tokio::test]
async fn sigkill_during_the_clone_the_lock_expires_and_a_retry_adopts_the_vm() {
    let (rig, id) = Rig::new(&["-method-delay", "CloneVM_Task:4000", "-trace"], "int-03").await;
    let lock = [("OPSDECK_PROVISION_LOCK_SECS", "5")];
    let run = rig.provision_until(&id, "clone", &lock);
    rig.received("CloneVM_Task").await;
    run.signal(libc::SIGKILL);
    let (code, _) = run.exit(Duration::from_secs(30));
    assert_eq!(code, -1, "killed");

    // No safe point: the lock stays until it expires.
    let (code, out, err) = rig.provision(&id);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("being provisioned by another Opsdeck instance"), "{out}");
    assert_eq!(rig.request(&id).await.state, State::Provisioning);

    // vCenter finishes the clone; it has no annotation yet (vcsim applies
    // the clone spec's extra configuration, not its annotation).
    eventually("the clone to finish in vCenter", Duration::from_secs(30), || async { rig.inventory_vms("int-03").await.len() == 1 }).await;
    let made = rig.inventory_vms("int-03").await.remove(0);
    assert_eq!(made.tag("request"), None, "{:?}", made.annotation);
    let vim = rig.t.backend.vim(&rig.vc).await.unwrap();
    assert_eq!(vim.extra_config(&made.id, REQUEST_KEY).await.unwrap().as_deref(), Some(id.as_str()));

    // Once the lock has expired, a retry adopts that VM.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (code, out, err) = loop {
        let (code, out, err) = rig.provision(&id);
        if !(code == 1 && out.contains("being provisioned by another")) || Instant::now() > deadline {
            break (code, out, err);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(rig.assert_provisioned(&id, "int-03").await, made.id, "the VM the killed run's clone made, adopted");
    rig.t.cleanup().await;
}

#[tokio::test]
async fn a_vm_of_the_same_name_made_by_someone_else_is_refused_and_left_alone() {
    let (rig, id) = Rig::new(&[], "int-04").await;
    // Made around Opsdeck after the request was approved, claiming another request.
    let vim = rig.t.backend.vim(&rig.vc).await.unwrap();
    let inv = rig.t.backend.vm_inventory(&rig.vc).await.unwrap();
    let template = inv.vm_by_name(opsdeck_tests::vms::TEMPLATE).unwrap();
    let pool = inv.root_pool_of_host(&template.host).unwrap().to_string();
    let mut config = opsdeck_core::vms::vsphere::config_spec(1, 1, "Managed by Opsdeck\nrequest: r20990101-deadbeef");
    config["extraConfig"] = serde_json::json!([
        {"_typeName": "OptionValue", "key": REQUEST_KEY, "value": {"_typeName": "string", "_value": "r20990101-deadbeef"}}
    ]);
    let ds = template.datastores[0].clone();
    let other = vim
        .clone_vm(
            &CloneTarget {
                template: &template.id,
                folder: &template.folder,
                name: "int-04",
                host: &template.host,
                pool: &pool,
                datastore: &ds,
            },
            &config,
            &|_| {},
        )
        .await
        .unwrap();

    let (code, out, err) = rig.provision(&id);
    assert_eq!(code, 1, "{out}\n{err}");
    let r = rig.request(&id).await;
    assert_eq!(r.state, State::Failed);
    let failure = r.failure.unwrap_or_default();
    assert!(failure.contains(&format!("a VM named int-04 ({other}) already exists and was not made for request {id}")), "{failure}");
    let vms = rig.inventory_vms("int-04").await;
    assert_eq!(vms.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(), [other.as_str()], "not destroyed, not doubled");
    rig.t.cleanup().await;
}

#[tokio::test]
async fn a_second_sigint_stops_at_once_releases_the_lock_and_a_retry_adopts_the_vm() {
    let (rig, id) = Rig::new(&["-method-delay", "CloneVM_Task:4000", "-trace"], "int-06").await;
    let mut run = rig.provision_until(&id, "clone", &[]);
    rig.received("CloneVM_Task").await;
    run.signal(libc::SIGINT);
    run.wait_line(|l| l.starts_with("stopping at the next safe point"), Duration::from_secs(10));
    let second = Instant::now();
    run.signal(libc::SIGINT);
    let (code, stderr) = run.exit(Duration::from_secs(10));
    let took = second.elapsed();
    assert_eq!(code, 130, "{stderr}");
    // Not held until vcsim answers the clone call (4 s after it came in).
    assert!(took < Duration::from_secs(3), "{took:?}\n{stderr}");
    eprintln!("second SIGINT: exit {took:?} after it");
    assert!(stderr.contains("in step clone of VM int-06") && stderr.contains("the call starting cloning int-06 was cut off"), "{stderr}");
    let r = rig.request(&id).await;
    assert_eq!(r.state, State::Provisioning);
    assert!(r.history.iter().any(|h| h.comment.starts_with("aborted: ")), "{:?}", r.history);

    // vCenter runs the cut-off clone anyway; the retry (lock released: not
    // refused) finds that VM by its request key and adopts it.
    eventually("the cut-off clone to finish in vCenter", Duration::from_secs(30), || async {
        rig.inventory_vms("int-06").await.len() == 1
    })
    .await;
    let made = rig.inventory_vms("int-06").await.remove(0).id;
    let (code, out, err) = rig.provision(&id);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(rig.assert_provisioned(&id, "int-06").await, made);
    rig.t.cleanup().await;
}

#[tokio::test]
async fn with_the_shared_etcd_store_sigint_during_the_clone_and_a_retry_adopts_the_vm() {
    let etcd = etcd_with_vm_roles(DEFAULT_ROOT).await;
    let (rig, id) = Rig::new_shared(&["-method-delay", "CloneVM_Task:4000"], "int-07", &etcd).await;
    let says = ["in step clone of VM int-07", "(clone step) was in flight"];
    rig.interrupt_then_resume(&id, "int-07", "clone", libc::SIGINT, 130, &says).await;
    let r = rig.request(&id).await;
    let interrupted = r.history.iter().filter(|h| h.comment.contains("interrupted in step clone")).count();
    assert_eq!(interrupted, 1, "the interruption is in the request's history: {:?}", r.history);
    assert!(r.history.iter().all(|h| h.actor == "alice" || h.actor == "bob" || h.actor == "carol"), "{:?}", r.history);
    rig.t.cleanup().await;
}

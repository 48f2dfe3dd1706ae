//! An interrupted `opsdeck config import` (issue 19, item 4) against a real
//! etcd: SIGINT to the CLI, etcd SIGKILLed or SIGSTOPped mid-import. The
//! report must say exactly what landed (every committed batch with its
//! revision, the batch whose outcome is unknown, the keys not written), the
//! audit has one entry per committed batch, and `--resume REPORT` writes the
//! rest — guarded by the original plan's revisions, so a key someone else
//! wrote meanwhile is a conflict, not overwritten — ending in the state a
//! clean import leaves.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use etcd_client::{Client, GetOptions, Txn, TxnOp};
use opsdeck_core::config::import_run::parse_report;
use opsdeck_core::config::transfer::DocValue;
use opsdeck_core::config::ImportReport;
use opsdeck_tests::faults::etcd_process;
use opsdeck_tests::{noise, workspace, Service};

const PREFIX: &str = "/imp/";
/// Keys in the document, and keys per transaction: about 110 batches.
const KEYS: usize = 6000;
const MAX_OPS: &str = "50";

const OK: i32 = 0;
const CONFLICT: i32 = 1;
const UNREACHABLE: i32 = 4;
const OUTCOME_UNKNOWN: i32 = 8;
const STOPPED: i32 = 130;
const TERMINATED: i32 = 143;

fn rel(i: usize) -> String {
    format!("svc{:02}/k{i:05}", i % 37)
}

/// The document's value of key `i`: text, and binary every 97th key.
fn doc_value(i: usize) -> Vec<u8> {
    if i.is_multiple_of(97) {
        noise(i as u64, 40)
    } else {
        format!("value {i}").into_bytes()
    }
}

/// What the prefix holds before the import: every 10th key with an old
/// value (an update), every 7th already equal (unchanged), one key the
/// document does not name.
fn before() -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    for i in 0..KEYS {
        if i.is_multiple_of(10) {
            m.insert(rel(i), format!("old {i}").into_bytes());
        } else if i.is_multiple_of(7) {
            m.insert(rel(i), doc_value(i));
        }
    }
    m.insert("zz/not-in-the-document".into(), b"keep".to_vec());
    m
}

/// The state a clean import leaves: `before` overlaid with the document.
fn clean_import() -> BTreeMap<String, Vec<u8>> {
    let mut m = before();
    for i in 0..KEYS {
        m.insert(rel(i), doc_value(i));
    }
    m
}

/// The export document (JSON) of every key.
fn document() -> String {
    let keys: serde_json::Map<String, serde_json::Value> =
        (0..KEYS).map(|i| (rel(i), serde_json::to_value(DocValue::of(&doc_value(i))).unwrap())).collect();
    serde_json::to_string_pretty(&serde_json::json!({"prefix": "/src/", "keys": keys})).unwrap()
}

async fn raw(etcd: &Service) -> Client {
    Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap()
}

async fn seed(c: &mut Client) {
    let all: Vec<(String, Vec<u8>)> = before().into_iter().collect();
    for chunk in all.chunks(100) {
        let ops: Vec<TxnOp> = chunk.iter().map(|(k, v)| TxnOp::put(format!("{PREFIX}{k}"), v.as_slice(), None)).collect();
        c.txn(Txn::new().and_then(ops)).await.unwrap();
    }
}

/// Every key under the prefix → (bytes, mod_revision), relative.
async fn dump(c: &mut Client) -> BTreeMap<String, (Vec<u8>, i64)> {
    let resp = c.get(PREFIX, Some(GetOptions::new().with_prefix())).await.unwrap();
    resp.kvs()
        .iter()
        .map(|kv| (String::from_utf8(kv.key()[PREFIX.len()..].to_vec()).unwrap(), (kv.value().to_vec(), kv.mod_revision())))
        .collect()
}

fn values(d: &BTreeMap<String, (Vec<u8>, i64)>) -> BTreeMap<String, Vec<u8>> {
    d.iter().map(|(k, (v, _))| (k.clone(), v.clone())).collect()
}

struct Setup {
    etcd: Service,
    dir: tempfile::TempDir,
    doc: PathBuf,
    report: PathBuf,
}

async fn setup() -> Setup {
    let etcd = Service::start("etcd", &[]);
    seed(&mut raw(&etcd).await).await;
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("export.json");
    std::fs::write(&doc, document()).unwrap();
    let report = dir.path().join("export.report.json");
    Setup { etcd, dir, doc, report }
}

impl Setup {
    fn cli(&self) -> Command {
        let mut c = workspace::cli(&self.dir.path().join("data"), &format!("opsdeck-import-interrupt-{}", std::process::id()));
        c.env("OPSDECK_READ_BACK_ATTEMPTS", "1");
        c.args(["config", "--endpoints", self.etcd.get("ETCD_ENDPOINT"), "import", PREFIX]);
        c
    }

    /// Starts the import; returns once it reported `batches` committed batches.
    fn start_import(&self, batches: usize) -> Running {
        let mut child = self
            .cli()
            .args([self.doc.to_str().unwrap(), "--max-ops", MAX_OPS, "--comment", "bulk"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        // Standard output is drained on a thread so the CLI never blocks on it.
        let out = std::thread::spawn(move || {
            let mut s = String::new();
            BufReader::new(stdout).read_to_string(&mut s).unwrap();
            s
        });
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        let mut line = String::new();
        let want = format!("batch {batches} committed");
        loop {
            line.clear();
            let n = stderr.read_line(&mut line).unwrap();
            assert!(n > 0, "the import ended before batch {batches} committed:\n{seen}");
            seen.push_str(&line);
            if line.starts_with(&want) {
                break;
            }
        }
        Running { child, stderr, seen, out }
    }

    /// An import sent `signal` once `batches` batches committed: exit 128 +
    /// the signal (130 for SIGINT, 143 for SIGTERM); stdout and stderr.
    fn interrupted_after(&self, batches: usize, signal: i32) -> (String, String) {
        let running = self.start_import(batches);
        assert_eq!(unsafe { libc::kill(running.pid(), signal) }, 0);
        let (code, out, err) = running.finish();
        assert_eq!(code, if signal == libc::SIGTERM { TERMINATED } else { STOPPED }, "{err}");
        (out, err)
    }

    fn report(&self) -> ImportReport {
        parse_report(&std::fs::read_to_string(&self.report).unwrap()).unwrap()
    }

    /// `import --resume REPORT`: exit code, stdout, stderr.
    fn resume(&self) -> (i32, String, String) {
        let o = self
            .cli()
            .args([self.doc.to_str().unwrap(), "--resume", self.report.to_str().unwrap(), "--max-ops", MAX_OPS, "--comment", "resume"])
            .output()
            .unwrap();
        (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into())
    }

    /// The audit log's config.import entries, oldest first: (result, detail).
    fn audit(&self) -> Vec<(String, String)> {
        let o = workspace::cli(&self.dir.path().join("data"), &format!("opsdeck-import-interrupt-{}", std::process::id()))
            .args(["audit", "--format", "json", "--limit", "1000"])
            .output()
            .unwrap();
        let page: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let mut v: Vec<(String, String)> = page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "config.import")
            .map(|e| (e["result"].as_str().unwrap().to_string(), e["detail"].as_str().unwrap().to_string()))
            .collect();
        v.reverse();
        v
    }
}

struct Running {
    child: Child,
    stderr: BufReader<std::process::ChildStderr>,
    seen: String,
    out: std::thread::JoinHandle<String>,
}

impl Running {
    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Waits for the CLI: exit code, stdout, all of stderr.
    fn finish(mut self) -> (i32, String, String) {
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).unwrap();
        let status = self.child.wait().unwrap();
        (status.code().unwrap_or(-1), self.out.join().unwrap(), format!("{}{rest}", self.seen))
    }
}

/// Checks the report against etcd: every committed key holds the imported
/// value at its batch's revision, every key not written is as it was before,
/// the unknown batch (if any) landed all or nothing, and every planned key is
/// in exactly one of those. Returns whether the unknown batch landed.
fn check_report(r: &ImportReport, now: &BTreeMap<String, (Vec<u8>, i64)>) -> Option<bool> {
    let before = before();
    let index = |k: &str| k.rsplit('k').next().unwrap().parse::<usize>().unwrap();
    let mut seen = BTreeSet::new();
    for b in &r.committed {
        for k in &b.keys {
            let (v, rev) = now.get(k).unwrap_or_else(|| panic!("committed key {k} (batch {}) is not in etcd", b.index));
            assert_eq!(v, &doc_value(index(k)), "committed key {k}: the imported value");
            assert_eq!(*rev, b.revision, "committed key {k}: written at its batch's revision");
            assert!(seen.insert(k.clone()), "{k} listed twice");
        }
    }
    for k in &r.not_written {
        assert_eq!(now.get(k).map(|(v, _)| v), before.get(k), "key {k} listed as not written changed");
        assert!(seen.insert(k.clone()), "{k} listed twice");
    }
    let landed = r.unknown.as_ref().map(|u| {
        let written: Vec<bool> = u.keys.iter().map(|k| now.get(k).map(|(v, _)| v) == Some(&doc_value(index(k)))).collect();
        for k in &u.keys {
            assert!(seen.insert(k.clone()), "{k} listed twice");
        }
        // A transaction lands whole or not at all (keys unchanged by the plan aside).
        let changed: Vec<bool> =
            u.keys.iter().zip(&written).filter(|(k, _)| before.get(*k) != Some(&doc_value(index(k)))).map(|(_, w)| *w).collect();
        assert!(changed.iter().all(|w| *w) || changed.iter().all(|w| !*w), "the unknown batch landed in part: {written:?}");
        changed.first().copied().unwrap_or(false)
    });
    let planned: BTreeSet<String> = r.plan.creates.iter().chain(&r.plan.updates).cloned().collect();
    assert_eq!(seen, planned, "every planned key is committed, unknown or not written");
    landed
}

fn committed_revisions(r: &ImportReport) -> Vec<i64> {
    r.committed.iter().map(|b| b.revision).collect()
}

/// The audit's ok entries name each committed batch's revision, in order.
fn assert_audited(audit: &[(String, String)], r: &ImportReport) {
    let ok: Vec<&String> = audit.iter().filter(|(res, _)| res == "ok").map(|(_, d)| d).collect();
    assert_eq!(ok.len(), r.committed.len(), "one ok entry per committed batch: {ok:#?}");
    for (d, b) in ok.iter().zip(&r.committed) {
        assert!(d.contains(&format!("import batch {}", b.index)) && d.contains(&format!("at revision {}", b.revision)), "{d}");
        assert!(d.contains(&format!("{} keys", b.keys.len())), "{d}");
    }
}

#[tokio::test]
async fn sigint_stops_after_the_batch_in_flight_and_resume_finishes() {
    let s = setup().await;
    let (out, err) = s.interrupted_after(3, libc::SIGINT);
    assert!(err.contains("stopping after the batch in flight") && err.contains("interrupted"), "{err}");
    assert!(err.contains("--resume"), "says how to continue: {err}");

    let mut c = raw(&s.etcd).await;
    let now = dump(&mut c).await;
    let r = s.report();
    assert!(r.interrupted && !r.complete && r.unknown.is_none() && r.error.is_none(), "{r:#?}");
    assert!(r.committed.len() >= 3, "{} batches", r.committed.len());
    assert!(!r.not_written.is_empty());
    assert_eq!(check_report(&r, &now), None);
    eprintln!("SIGINT after batch 3: {} batches ({} keys) committed, {} keys not written", r.batches, r.applied, r.not_written.len());
    // Standard output lists each committed batch and each key not written.
    assert_eq!(out.lines().filter(|l| l.starts_with("committed: batch")).count(), r.committed.len(), "{out}");
    let listed: Vec<&str> = out.lines().filter_map(|l| l.strip_prefix("not written: ")).collect();
    assert_eq!(
        listed,
        r.not_written.iter().map(|k| format!("{PREFIX}{k}")).collect::<Vec<_>>().iter().map(String::as_str).collect::<Vec<_>>()
    );
    let audit = s.audit();
    assert_audited(&audit, &r);
    assert!(audit.last().is_some_and(|(res, d)| res == "error" && d.contains("interrupted")), "{audit:#?}");

    let (code, out, err) = s.resume();
    assert_eq!(code, OK, "{out}{err}");
    assert!(out.contains("imported") && err.contains("resuming"), "{out}{err}");
    let done = s.report();
    assert!(done.complete && done.not_written.is_empty() && done.conflicts.is_empty(), "{done:#?}");
    assert_eq!(done.already_applied, r.applied);
    assert_eq!(committed_revisions(&done)[..r.committed.len()], committed_revisions(&r)[..], "earlier batches kept");
    let now = dump(&mut c).await;
    assert_eq!(values(&now), clean_import(), "the state a clean import leaves");
    check_report(&done, &now);
    assert_audited(&s.audit(), &done);

    // Resuming a finished import does nothing and says so.
    let rev = c.get("/", None).await.unwrap().header().unwrap().revision();
    let (code, out, err) = s.resume();
    assert_eq!(code, OK, "{err}");
    assert!(out.contains("nothing to do"), "{out}");
    assert_eq!(c.get("/", None).await.unwrap().header().unwrap().revision(), rev, "nothing written");
    // A plain import over the unfinished report's path is refused only while unfinished: now it is done.
    assert!(s.report().complete);
}

#[tokio::test]
async fn etcd_killed_mid_import_is_reported_and_resumed_after_a_restart() {
    let s = setup().await;
    let etcd_pid: i32 = s.etcd.get("ETCD_PID").parse().unwrap();
    let running = s.start_import(3);
    let argv = etcd_process::kill(etcd_pid);
    let (code, out, err) = running.finish();
    let r = s.report();
    eprintln!(
        "etcd SIGKILLed after batch 3: exit {code}, {} batches committed, unknown: {:?}",
        r.batches,
        r.unknown.as_ref().map(|u| u.index)
    );
    // Nothing in flight when etcd went: unreachable (4); the batch in flight
    // when it died cannot be known until etcd is back: outcome unknown (8).
    match &r.unknown {
        None => assert_eq!(code, UNREACHABLE, "{err}"),
        Some(u) => {
            assert_eq!(code, OUTCOME_UNKNOWN, "{err}");
            assert!(out.contains(&format!("unknown: batch {}", u.index)), "{out}");
        }
    }
    assert!(r.error.is_some() && !r.complete && !r.interrupted, "{r:#?}");
    assert!(err.contains("--resume"), "{err}");
    let audit = s.audit();
    assert_audited(&audit, &r);
    assert!(audit.last().is_some_and(|(res, d)| res == "error" && d.contains("import stopped at batch")), "{audit:#?}");

    let mut restarted = etcd_process::restart(&s.etcd, &argv);
    let mut c = etcd_process::reconnect(&s.etcd).await;
    let landed = check_report(&r, &dump(&mut c).await);
    eprintln!("after the restart the unknown batch landed: {landed:?}");

    let (code, out, err) = s.resume();
    assert_eq!(code, OK, "{out}{err}");
    if let Some(u) = &r.unknown {
        assert!(err.contains(&format!("batch {} (outcome unknown) read back", u.index)), "{err}");
    }
    let done = s.report();
    assert!(done.complete, "{done:#?}");
    let now = dump(&mut c).await;
    assert_eq!(values(&now), clean_import());
    check_report(&done, &now);
    assert_audited(&s.audit(), &done);
    drop(c);
    drop(s);
    let _ = restarted.kill();
    let _ = restarted.wait();
}

#[tokio::test]
async fn etcd_frozen_mid_import_marks_the_batch_unknown_and_resume_reads_it_back() {
    let s = setup().await;
    let etcd_pid: i32 = s.etcd.get("ETCD_PID").parse().unwrap();
    let running = s.start_import(3);
    assert_eq!(unsafe { libc::kill(etcd_pid, libc::SIGSTOP) }, 0, "freeze etcd");
    let (code, out, err) = running.finish();
    assert_eq!(unsafe { libc::kill(etcd_pid, libc::SIGCONT) }, 0, "thaw etcd");
    let r = s.report();
    eprintln!(
        "etcd SIGSTOPped after batch 3: exit {code}, {} batches committed, unknown: {:?}",
        r.batches,
        r.unknown.as_ref().map(|u| u.index)
    );
    assert_eq!(code, OUTCOME_UNKNOWN, "{err}");
    let u = r.unknown.clone().expect("the batch in flight is unknown");
    assert!(out.contains(&format!("unknown: batch {}", u.index)), "{out}");
    assert!(err.contains("whether etcd applied it is unknown"), "{err}");
    assert_eq!(u.index, r.committed.len() + 1);

    let mut c = raw(&s.etcd).await;
    let landed = check_report(&r, &dump(&mut c).await);
    eprintln!("after the thaw the unknown batch landed: {landed:?}");
    let (code, out, err) = s.resume();
    assert_eq!(code, OK, "{out}{err}");
    let verdict = if landed == Some(true) { "applied" } else { "not applied" };
    assert!(err.contains(&format!("batch {} (outcome unknown) read back: {verdict}", u.index)), "{err}");
    let done = s.report();
    assert!(done.complete, "{done:#?}");
    if landed == Some(true) {
        let b = &done.committed[u.index - 1];
        assert_eq!(b.keys, u.keys);
        assert!(b.recovered.as_deref().is_some_and(|r| r.contains("read back at the resume")), "{b:?}");
    }
    let now = dump(&mut c).await;
    assert_eq!(values(&now), clean_import());
    check_report(&done, &now);
    assert_audited(&s.audit(), &done);
}

#[tokio::test]
async fn resume_does_not_overwrite_a_key_written_meanwhile() {
    let s = setup().await;
    s.interrupted_after(2, libc::SIGINT);
    let r = s.report();
    // Someone else creates one key the import still has to create, changes
    // one it still has to update, and changes one it already committed.
    let before = before();
    let to_create = r.not_written.iter().find(|k| !before.contains_key(*k)).unwrap().clone();
    let to_update = r.not_written.iter().find(|k| before.contains_key(*k)).unwrap().clone();
    let committed = r.committed[0].keys[0].clone();
    let mut c = raw(&s.etcd).await;
    for (k, v) in [(&to_create, "theirs: created"), (&to_update, "theirs: updated"), (&committed, "theirs: after commit")] {
        c.put(format!("{PREFIX}{k}"), v, None).await.unwrap();
    }

    let (code, out, err) = s.resume();
    assert_eq!(code, CONFLICT, "{out}{err}");
    assert!(
        err.contains("conflict") && err.contains(&format!("{PREFIX}{to_create}")) && err.contains(&format!("{PREFIX}{to_update}")),
        "{err}"
    );
    assert!(err.contains("no longer hold the imported value") && err.contains(&format!("{PREFIX}{committed}")), "{err}");
    let done = s.report();
    let mut conflicts: Vec<&str> = done.conflicts.iter().map(|m| m.rel.as_str()).collect();
    conflicts.sort();
    let mut want = vec![to_create.as_str(), to_update.as_str()];
    want.sort();
    assert_eq!(conflicts, want);
    let mut not_written: Vec<&str> = done.not_written.iter().map(String::as_str).collect();
    not_written.sort();
    assert_eq!(not_written, want, "only the conflicting keys are left");
    assert_eq!(done.changed_since_commit.iter().map(|m| m.rel.as_str()).collect::<Vec<_>>(), [committed.as_str()]);

    let now = values(&dump(&mut c).await);
    let mut expected = clean_import();
    expected.insert(to_create.clone(), b"theirs: created".to_vec());
    expected.insert(to_update.clone(), b"theirs: updated".to_vec());
    expected.insert(committed.clone(), b"theirs: after commit".to_vec());
    assert_eq!(now, expected, "their writes survive; everything else is imported");
    assert!(s.audit().iter().any(|(res, d)| res == "error" && d.contains("changed by someone else") && d.contains(&to_create)));

    // Resuming again still refuses to overwrite them (and writes nothing).
    let rev = c.get("/", None).await.unwrap().header().unwrap().revision();
    let (code, _, err) = s.resume();
    assert_eq!(code, CONFLICT, "{err}");
    assert_eq!(c.get("/", None).await.unwrap().header().unwrap().revision(), rev);
}

/// SIGTERM stops as SIGINT does (exit 143); a new import does not overwrite the report
/// of the unfinished one, and a resume with another document is refused.
#[tokio::test]
async fn sigterm_then_an_unfinished_report_is_not_overwritten_by_a_new_import() {
    let s = setup().await;
    let (_, err) = s.interrupted_after(1, libc::SIGTERM);
    assert!(err.contains("stopping after the batch in flight"), "{err}");
    assert!(s.report().interrupted);
    let saved = std::fs::read_to_string(&s.report).unwrap();
    let o = s.cli().args([s.doc.to_str().unwrap()]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--resume") && err.contains("unfinished import"), "{err}");
    assert_eq!(std::fs::read_to_string(&s.report).unwrap(), saved);
    // Another document with this report is refused too.
    let other = s.dir.path().join("other.json");
    std::fs::write(&other, r#"{"prefix": "/src/", "keys": {"a": "1"}}"#).unwrap();
    let o = s.cli().args([other.to_str().unwrap(), "--resume", s.report.to_str().unwrap()]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("another document"), "{err}");
}

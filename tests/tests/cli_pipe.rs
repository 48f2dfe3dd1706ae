//! `opsdeck … | head`: every command that prints, with standard output a pipe
//! whose reader goes away, ends quietly with exit status 141 (the status a
//! shell reports for `ls | head`), no panic, no "Broken pipe", no backtrace —
//! while SIGPIPE stays ignored in the CLI (it also writes to sockets).
//!
//! Two readers: one that reads a few bytes of a large output (more than a
//! pipe buffer holds, checked first) and closes, as `head -c 300` does; and
//! one whose pipe is closed before the CLI starts, so that even a one-line
//! output meets the closed pipe.

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use opsdeck_core::connections::{ConnectionInput, ConnectionSpec};
use opsdeck_core::{Backend, BackendOptions};
use opsdeck_tests::{workspace, Service};

const BROKEN_PIPE: i32 = 141;

/// More than a pipe buffer (64 KiB on Linux) and what the reader takes.
const LARGE: usize = 96 * 1024;

struct Cli {
    data: tempfile::TempDir,
    keychain: String,
    env: Vec<(String, String)>,
}

impl Cli {
    fn new(tag: &str) -> Cli {
        Cli { data: tempfile::tempdir().unwrap(), keychain: format!("opsdeck-pipe-{tag}-{}", std::process::id()), env: vec![] }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = workspace::cli(self.data.path(), &self.keychain);
        // A panic would print its backtrace: there must be none.
        c.args(args).env("RUST_BACKTRACE", "1").stdin(Stdio::null());
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Runs to the end with stdout read fully; returns it (exit status as expected).
    fn full(&self, args: &[&str], code: i32) -> Vec<u8> {
        let out = self.cmd(args).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "opsdeck {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }

    /// `opsdeck ARGS | head -c 300` on an output first checked to be large.
    fn large_then_head(&self, args: &[&str], code: i32) {
        let all = self.full(args, code);
        assert!(all.len() > LARGE, "opsdeck {args:?} printed only {} bytes: not enough to fill the pipe", all.len());
        let mut child = self.cmd(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // stderr is drained meanwhile: progress lines there must not block the CLI before stdout is read.
        let stderr = drain(&mut child);
        let mut head = [0u8; 300];
        child.stdout.take().unwrap().read_exact(&mut head).unwrap();
        // The read end is closed here (dropped), as head does after 300 bytes.
        let (status, stderr) = finish(child, stderr, args);
        assert_quiet(args, status, &stderr);
    }

    /// The command with its stdout a pipe already closed by its reader.
    fn to_closed_pipe(&self, args: &[&str]) {
        let mut fds = [0; 2];
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        drop(read);
        let mut child = self.cmd(args).stdout(Stdio::from(write)).stderr(Stdio::piped()).spawn().unwrap();
        let stderr = drain(&mut child);
        let (status, stderr) = finish(child, stderr, args);
        assert_quiet(args, status, &stderr);
    }
}

/// Reads the child's stderr to the end on a thread of its own.
fn drain(child: &mut std::process::Child) -> std::thread::JoinHandle<String> {
    let mut stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    })
}

/// Waits (at most a minute: a CLI that ignored the closed pipe could spin) and returns its stderr.
fn finish(mut child: std::process::Child, stderr: std::thread::JoinHandle<String>, args: &[&str]) -> (ExitStatus, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("opsdeck {args:?} still runs a minute after its reader went away");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, stderr.join().unwrap())
}

fn assert_quiet(args: &[&str], status: ExitStatus, stderr: &str) {
    for bad in ["panicked", "Broken pipe", "backtrace", "failed printing", "error: writing"] {
        assert!(!stderr.contains(bad), "opsdeck {args:?} said {bad:?} on stderr:\n{stderr}");
    }
    assert_eq!(status.code(), Some(BROKEN_PIPE), "opsdeck {args:?}: {status}; stderr:\n{stderr}");
}

async fn backend(cli: &Cli) -> Backend {
    Backend::open(BackendOptions { data_dir: cli.data.path().into(), keychain_service: cli.keychain.clone(), actor: "tester".into() })
        .await
        .unwrap()
}

/// A kubeconfig of `n` contexts with long names, all on a port where nothing listens.
fn dead_clusters(dir: &Path, n: usize) -> String {
    let mut y = String::from(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster: {server: \"https://127.0.0.1:1\"}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n",
    );
    for i in 0..n {
        y.push_str(&format!("- name: ctx-{i:04}-{}\n  context: {{cluster: dead, user: u}}\n", "x".repeat(300)));
    }
    let path = dir.join("kubeconfig");
    std::fs::write(&path, y).unwrap();
    path.to_str().unwrap().into()
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_without_services_end_quietly_on_a_closed_pipe() {
    let cli = Cli::new("local");
    // 600 saved profiles with long targets: a large `connections list`/`export`, and 600 audit entries.
    let b = backend(&cli).await;
    for i in 0..600 {
        b.save_connection(ConnectionInput {
            id: None,
            name: format!("engine-{i:04}-{}", "y".repeat(50)),
            spec: ConnectionSpec::Docker {
                host: format!("unix:///run/opsdeck-pipe/{}/{i}.sock", "z".repeat(150)),
                tls: None,
                allow_plaintext: false,
            },
            secret: None,
            clear_secret: false,
        })
        .await
        .unwrap();
    }
    drop(b);
    let dir = cli.data.path().to_path_buf();
    let kubeconfig = dead_clusters(&dir, 400);

    cli.large_then_head(&["connections", "list"], 0);
    cli.large_then_head(&["connections", "list", "--format", "json"], 0);
    cli.large_then_head(&["connections", "export"], 0);
    cli.large_then_head(&["audit", "--limit", "1000"], 0);
    cli.large_then_head(&["audit", "--limit", "1000", "--format", "json"], 0);
    cli.to_closed_pipe(&["audit", "verify", "--local-only"]);
    for format in ["table", "json", "junit"] {
        cli.large_then_head(&["health", "--kubeconfig", &kubeconfig, "--format", format, "--timeout", "5"], 0);
    }
    // Every context unreachable at review: exit 4 (unreachable), the reasons on stderr and
    // nothing on stdout (so no pipe to break; the reviewed apply prints through the same writer).
    std::fs::write(dir.join("cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: default}\n").unwrap();
    let manifest = dir.join("cm.yaml");
    cli.full(&["apply", "-f", manifest.to_str().unwrap(), "--kubeconfig", &kubeconfig], 4);

    // 400 checks of an engine that is not there: a large result table, exit 1.
    let mut checks = String::from("concurrency: 32\ntimeout: 5s\ntargets:\n  gone:\n    spec: { kind: docker, host: \"unix:///run/opsdeck-pipe-none.sock\" }\nchecks:\n");
    for i in 0..400 {
        checks.push_str(&format!("  - {{ name: \"engine reachable {i:03} {}\", target: gone, kind: connectivity }}\n", "w".repeat(250)));
    }
    std::fs::write(dir.join("checks.yaml"), checks).unwrap();
    let checks = dir.join("checks.yaml");
    cli.large_then_head(&["check", "--config", checks.to_str().unwrap()], 1);

    // The local VM store answers without a vCenter.
    cli.to_closed_pipe(&["vm", "--store", "local", "requests"]);
    cli.to_closed_pipe(&["vm", "--store", "local", "requests", "--format", "json"]);
    cli.to_closed_pipe(&["vm", "--store", "local", "quota"]);

    let osv = dir.join("osv");
    opsdeck_tests::osv::write_folder(
        &osv,
        &[opsdeck_tests::osv::Advisory {
            id: "PIPE-1",
            ecosystem: "Debian:12",
            package: "openssl",
            introduced: None,
            fixed: Some("3.0.99"),
            severity: opsdeck_tests::osv::Severity::Word("High"),
        }],
    );
    cli.to_closed_pipe(&["advisories", "import", osv.to_str().unwrap()]);

    // Completion scripts (100-160 KB) and manual pages, made from the clap definitions.
    for shell in ["bash", "zsh", "fish"] {
        cli.large_then_head(&["completions", shell], 0);
    }
    cli.to_closed_pipe(&["man"]);
    cli.to_closed_pipe(&["man", "--dir", dir.join("man1").to_str().unwrap()]);

    // clap's own output.
    cli.to_closed_pipe(&["--help"]);
    cli.to_closed_pipe(&["--version"]);
    cli.to_closed_pipe(&["config", "--help"]);
}

#[test]
fn config_commands_end_quietly_on_a_closed_pipe() {
    let etcd = Service::start("etcd", &[]);
    let ep = etcd.get("ETCD_ENDPOINT").to_string();
    let cli = Cli::new("config");
    let config = |args: &[&str]| -> Vec<String> {
        [&["config", "--endpoints", ep.as_str()][..], args].concat().iter().map(|s| s.to_string()).collect()
    };
    let run = |args: &[&str], f: &dyn Fn(&[&str])| {
        let owned = config(args);
        f(&owned.iter().map(String::as_str).collect::<Vec<_>>());
    };
    // One large value, and 2000 keys with long names.
    let big = format!("{{\"blob\": \"{}\"}}", "b".repeat(300 * 1024));
    let value_file = cli.data.path().join("big.json");
    std::fs::write(&value_file, &big).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut c = etcd_client::Client::connect([ep.as_str()], None).await.unwrap();
        c.put("/big/value", big.as_str(), None).await.unwrap();
        for chunk in (0..2000).collect::<Vec<_>>().chunks(100) {
            let ops: Vec<etcd_client::TxnOp> = chunk
                .iter()
                .map(|i| etcd_client::TxnOp::put(format!("/many/key-{i:04}-{}", "k".repeat(120)), format!("{{\"n\": {i}}}"), None))
                .collect();
            c.txn(etcd_client::Txn::new().and_then(ops)).await.unwrap();
        }
    });

    run(&["get", "/big/value"], &|a| cli.large_then_head(a, 0));
    run(&["get", "/big/value", "--format", "json"], &|a| cli.large_then_head(a, 0));
    run(&["ls", "/many/", "--limit", "1000"], &|a| cli.large_then_head(a, 0));
    run(&["export", "/many/"], &|a| cli.large_then_head(a, 0));
    run(&["export", "/many/", "--format", "yaml"], &|a| cli.large_then_head(a, 0));
    run(&["diff", "/many/", "/none/"], &|a| cli.large_then_head(a, 1));
    let doc = cli.data.path().join("many.json");
    std::fs::write(&doc, cli.full(&config(&["export", "/many/"]).iter().map(String::as_str).collect::<Vec<_>>(), 0)).unwrap();
    run(&["import", "/copy/", doc.to_str().unwrap(), "--dry-run"], &|a| cli.large_then_head(a, 0));
    run(&["history", "/big/value"], &|a| cli.to_closed_pipe(a));
    // Writes print one line after the write: the write is done (and audited), the line meets the closed pipe.
    run(&["put", "/small/a", "1", "--create"], &|a| cli.to_closed_pipe(a));
    run(&["put", "/small/a", "2"], &|a| cli.to_closed_pipe(a));
    run(&["import", "/copy/", doc.to_str().unwrap()], &|a| cli.to_closed_pipe(a));
    run(&["del", "/copy/", "--prefix", "--yes", "2000"], &|a| cli.to_closed_pipe(a));
    run(&["del", "/small/a"], &|a| cli.to_closed_pipe(a));

    // watch: the first event meets the closed pipe.
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    let watch = config(&["watch", "/w/"]);
    let watch: Vec<&str> = watch.iter().map(String::as_str).collect();
    let mut child = cli.cmd(&watch).stdout(Stdio::from(write)).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = drain(&mut child);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut i = 0;
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "watch never met its closed pipe");
        cli.full(&config(&["put", &format!("/w/k{i}"), "v", "--create"]).iter().map(String::as_str).collect::<Vec<_>>(), 0);
        i += 1;
    }
    let (status, stderr) = finish(child, stderr, &watch);
    assert_quiet(&watch, status, &stderr);
}

#[test]
fn vm_commands_end_quietly_on_a_closed_pipe() {
    let vcsim = Service::start("vcsim", &[]);
    let mut cli = Cli::new("vm");
    cli.env.push(("PIPE_VCSIM_PASSWORD".into(), vcsim.get("VCSIM_PASSWORD").into()));
    cli.full(&opsdeck_tests::vms::cli_add_vcsim(&vcsim, "lab", "PIPE_VCSIM_PASSWORD"), 0);
    cli.to_closed_pipe(&["vm", "inventory"]);
    cli.to_closed_pipe(&["vm", "inventory", "--format", "json"]);
    cli.to_closed_pipe(&["vm", "compliance"]);
    cli.to_closed_pipe(&["vm", "compliance", "--format", "csv"]);
    cli.to_closed_pipe(&["vm", "--store", "local", "lifecycle", "--format", "junit"]);
    cli.to_closed_pipe(&["connections", "test", "lab"]);
    cli.full(&["connections", "remove", "lab"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn scan_ends_quietly_on_a_closed_pipe() {
    let dockerd = opsdeck_tests::service::shared("dockerd");
    let docker = opsdeck_core::connectors::docker::connect(dockerd.get("DOCKER_HOST"), None).await.unwrap();
    opsdeck_tests::images::import(&docker, opsdeck_tests::images::Rootfs::Alpine, "opsdeck-pipe/alpine:3.20").await;
    let mut cli = Cli::new("scan");
    cli.env.push(("DOCKER_HOST".into(), dockerd.get("DOCKER_HOST").into()));
    for format in ["table", "json", "sarif", "cyclonedx", "junit"] {
        cli.to_closed_pipe(&["scan", "opsdeck-pipe/alpine:3.20", "--format", format]);
    }
}

/// Nothing in the CLI prints around the one writer (a `println!` would panic on a closed pipe again).
#[test]
fn the_cli_prints_only_through_its_writer() {
    let src = workspace::root().join("src-tauri/cli/src");
    let mut offenders = vec![];
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                for (n, line) in std::fs::read_to_string(&p).unwrap().lines().enumerate() {
                    let code = line.split("//").next().unwrap_or("");
                    if ["println!", "print!(", "eprintln!", "eprint!(", "dbg!(", "stdout()"].iter().any(|m| code.contains(m))
                        && !p.ends_with("output.rs")
                    {
                        offenders.push(format!("{}:{}: {line}", p.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "print through output::{{out, outln, errln}}:\n{}", offenders.join("\n"));
}

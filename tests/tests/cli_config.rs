//! `opsdeck config` against a real etcd, ad-hoc flags and a saved profile.

use std::process::{Command, Stdio};

use opsdeck_tests::{workspace, Service};

struct Cli {
    data: tempfile::TempDir,
    endpoint: String,
}

impl Cli {
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        self.run_stdin(args, None)
    }

    fn run_stdin(&self, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
        let mut cmd = workspace::cli(self.data.path(), &format!("opsdeck-cli-config-{}", std::process::id()));
        cmd.arg("config").args(["--endpoints", &self.endpoint]).args(args);
        let (code, out, err) = workspace::run_with_stdin(cmd, stdin.unwrap_or_default().as_bytes());
        (code, String::from_utf8_lossy(&out).into(), err)
    }
}

#[test]
fn guarded_put_get_history_diff_export_import() {
    let etcd = Service::start("etcd", &[]);
    let cli = Cli { data: tempfile::tempdir().unwrap(), endpoint: etcd.get("ETCD_ENDPOINT").into() };

    let (code, out, err) = cli.run(&["put", "/app/dev/db", r#"{"pool": 10}"#, "--create", "--comment", "first"]);
    assert_eq!(code, 0, "{err}");
    let rev: i64 = out.trim().rsplit(' ').next().unwrap().parse().unwrap();
    let (code, _, err) = cli.run(&["put", "/app/dev/db", "x", "--create"]);
    assert_eq!(code, 1);
    assert!(err.contains("conflict"), "{err}");

    // Someone else writes; our guarded put on the old revision is refused.
    let (code, _, _) = cli.run(&["put", "/app/dev/db", r#"{"pool": 20}"#, "--if-revision", &rev.to_string()]);
    assert_eq!(code, 0);
    let (code, _, err) = cli.run(&["put", "/app/dev/db", r#"{"pool": 99}"#, "--if-revision", &rev.to_string()]);
    assert_eq!(code, 1, "stale revision must fail");
    assert!(err.contains("conflict") && err.contains(r#"{"pool": 20}"#), "{err}");
    let (_, out, _) = cli.run(&["get", "/app/dev/db"]);
    assert_eq!(out.trim(), r#"{"pool": 20}"#, "the other write survived");

    // Invalid JSON is refused unless stored as plain.
    let (code, _, err) = cli.run(&["put", "/app/dev/bad", "{oops", "--as", "json"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("invalid JSON"), "{err}");
    let (code, _, _) = cli.run_stdin(&["put", "/app/dev/bad", "-", "--plain"], Some("{oops"));
    assert_eq!(code, 0);

    let (code, out, _) = cli.run(&["history", "/app/dev/db", "--format", "json"]);
    assert_eq!(code, 0);
    let h: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(h["entries"].as_array().unwrap().len(), 2);

    let (code, out, _) = cli.run(&["ls", "/app/"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "/app/dev/");

    // diff exits 1 while prefixes differ; export → import makes them equal.
    let (code, out, _) = cli.run(&["diff", "/app/dev/", "/app/prod/"]);
    assert_eq!(code, 1);
    assert!(out.contains("< db") && out.contains("< bad"), "{out}");
    let (_, doc, _) = cli.run(&["export", "/app/dev/", "--format", "yaml"]);
    let (code, out, err) = cli.run_stdin(&["import", "/app/prod/", "-", "--dry-run"], Some(&doc));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("+ /app/prod/db") && err.contains("dry run"), "{out}{err}");
    assert_eq!(cli.run(&["diff", "/app/dev/", "/app/prod/"]).0, 1, "the dry run wrote nothing");
    let (code, _, err) = cli.run_stdin(&["import", "/app/prod/", "-", "--comment", "promote"], Some(&doc));
    assert_eq!(code, 0, "{err}");
    assert_eq!(cli.run(&["diff", "/app/dev/", "/app/prod/"]).0, 0);

    // Prefix delete asks for the count first.
    let (code, _, err) = cli.run(&["del", "/app/prod/", "--prefix"]);
    assert_eq!(code, 2);
    assert!(err.contains("--yes 2"), "{err}");
    let (code, out, _) = cli.run(&["del", "/app/prod/", "--prefix", "--yes", "2"]);
    assert_eq!(code, 0);
    assert!(out.contains("deleted 2"));
}

#[test]
fn watch_prints_changes_as_json_lines() {
    let etcd = Service::start("etcd", &[]);
    let cli = Cli { data: tempfile::tempdir().unwrap(), endpoint: etcd.get("ETCD_ENDPOINT").into() };
    let mut watcher = Command::new(workspace::cli_bin())
        .args(["config", "--endpoints", &cli.endpoint, "watch", "/w/", "--count", "2"])
        .env("OPSDECK_DATA_DIR", cli.data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The watch is registered once `watch` answers; keep writing until both events arrive.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut i = 0;
    while watcher.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "watch never printed two events");
        cli.run(&["put", &format!("/w/k{i}"), "v", "--create"]);
        i += 1;
    }
    let out = watcher.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["type"], "put");
    assert!(lines[0]["key"].as_str().unwrap().starts_with("/w/k"));
}

#[test]
fn wrong_password_and_unreachable_are_clear() {
    let etcd = Service::start("etcd-tls", &[]);
    let cli = Cli { data: tempfile::tempdir().unwrap(), endpoint: etcd.get("ETCD_ENDPOINT").into() };
    let (code, _, err) =
        cli.run_stdin(&["--cacert", etcd.get("ETCD_TLS_CA"), "--user", "alice", "--password-stdin", "get", "/app/x"], Some("wrong\n"));
    assert_eq!(code, 6, "auth (README, CLI exit codes)");
    assert!(err.contains("error (auth)") && err.contains("wrong password"), "{err}");
    let (code, _, err) = cli.run_stdin(
        &["--cacert", etcd.get("ETCD_TLS_CA"), "--user", "alice", "--password-stdin", "put", "/other", "x"],
        Some(&format!("{}\n", etcd.get("ETCD_PASSWORD"))),
    );
    assert_eq!(code, 1);
    assert!(err.contains("error (forbidden)"), "{err}");
    let dead = Cli {
        data: tempfile::tempdir().unwrap(),
        endpoint: format!("http://127.0.0.1:{}", std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()),
    };
    let (code, _, err) = dead.run(&["get", "/x"]);
    assert_eq!(code, 4, "unreachable (README, CLI exit codes)");
    assert!(err.contains("refused"), "{err}");
}

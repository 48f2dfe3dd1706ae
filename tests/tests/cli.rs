//! The `opsdeck` CLI: built without WebKit, honest about what is not implemented,
//! and able to manage a profile end to end against a real etcd.

use std::process::Command;

use opsdeck_tests::{workspace, Service};

fn opsdeck() -> Command {
    let bin = workspace::cli_bin();
    assert!(bin.exists(), "{} missing: cargo build --workspace first", bin.display());
    Command::new(bin)
}

#[test]
fn cli_dependency_tree_has_no_gui_libraries() {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "-p", "opsdeck-cli", "-e", "normal,build", "--prefix", "none", "--format", "{p}"])
        .current_dir(workspace::root())
        .output()
        .expect("cargo tree");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(tree.lines().any(|l| l.starts_with("opsdeck-core ")), "sanity: the tree lists the library");
    for gui in ["tauri ", "wry ", "webkit2gtk ", "gtk ", "tao "] {
        assert!(!tree.lines().any(|l| l.starts_with(gui)), "opsdeck-cli pulls in {gui}");
    }
}

#[test]
fn help_lists_every_subcommand() {
    let help = opsdeck().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for sub in ["connections", "audit", "check", "health", "scan", "advisories", "vm", "config"] {
        assert!(text.contains(sub), "--help lacks {sub}:\n{text}");
    }
}

#[test]
fn add_test_list_remove_an_etcd_profile() {
    let etcd = Service::start("etcd", &[]);
    let data = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = opsdeck()
            .args(args)
            .env("OPSDECK_DATA_DIR", data.path())
            .env("OPSDECK_KEYCHAIN_SERVICE", format!("opsdeck-cli-test-{}", std::process::id()))
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (code, _, err) = run(&["connections", "add", "etcd", "--name", "ci", "--endpoints", etcd.get("ETCD_ENDPOINT")]);
    assert_eq!(code, Some(0), "{err}");
    let (code, out, _) = run(&["connections", "test", "ci"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("etcd 3."), "{out}");
    let (code, out, _) = run(&["connections", "list", "--format", "json"]);
    assert_eq!(code, Some(0));
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["name"], "ci");
    assert_eq!(list[0]["last_test"]["ok"], true);
    // Invalid input is exit 2 with the reason.
    let (code, _, err) = run(&["connections", "add", "etcd", "--name", "bad", "--endpoints", "localhost:2379"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("http://"), "{err}");
    let (code, _, _) = run(&["connections", "remove", "ci"]);
    assert_eq!(code, Some(0));
    let (code, out, _) = run(&["audit", "--format", "json"]);
    assert_eq!(code, Some(0));
    let audit: serde_json::Value = serde_json::from_str(&out).unwrap();
    let actions: Vec<(&str, &str)> =
        audit["entries"].as_array().unwrap().iter().map(|e| (e["action"].as_str().unwrap(), e["result"].as_str().unwrap())).collect();
    assert_eq!(
        actions,
        [("connection.delete", "ok"), ("connection.create", "error"), ("connection.test", "ok"), ("connection.create", "ok")],
        "newest first; the refused create is recorded too"
    );
    // A password over http:// to another machine, or the Docker API without TLS: only when opted in.
    let (code, _, err) = run(&["connections", "add", "etcd", "--name", "far", "--endpoints", "http://10.0.0.5:2379", "--user", "ops"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("clear text") && err.contains("--allow-plaintext"), "{err}");
    let (code, _, err) = run(&["connections", "add", "docker", "--name", "far docker", "--host", "tcp://10.0.0.5:2375"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("without TLS"), "{err}");
    let (code, _, err) =
        run(&["connections", "add", "docker", "--name", "far docker", "--host", "tcp://10.0.0.5:2375", "--allow-plaintext"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, out, _) = run(&["connections", "list", "--format", "json"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("\"allow_plaintext\": true") || out.contains("\"allow_plaintext\":true"), "{out}");
    run(&["connections", "remove", "far docker"]);
}

#[test]
fn processes_opening_a_new_database_at_once_all_succeed() {
    // The app and CLI calls may create the database together: migrations run once.
    let data = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..6)
        .map(|_| {
            opsdeck()
                .args(["connections", "list"])
                .env("OPSDECK_DATA_DIR", data.path())
                .env("OPSDECK_KEYCHAIN_SERVICE", "opsdeck-cli-concurrent-open")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

//! The `opsdeck` CLI: built without WebKit, honest about what is not implemented,
//! and able to manage a profile end to end against a real etcd.

use std::path::Path;
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

/// Every top-level subcommand, as `opsdeck --help` lists them.
const SUBCOMMANDS: [&str; 11] =
    ["connections", "audit", "check", "health", "apply", "scan", "advisories", "vm", "config", "completions", "man"];

fn stdout_of(args: &[&str]) -> String {
    let out = opsdeck().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "opsdeck {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bash_completion_is_valid_and_completes_subcommands_and_options() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("opsdeck.bash");
    std::fs::write(&script, stdout_of(&["completions", "bash"])).unwrap();
    let syntax = Command::new("bash").arg("-n").arg(&script).output().unwrap();
    assert!(syntax.status.success(), "bash -n: {}", String::from_utf8_lossy(&syntax.stderr));
    // Completion as bash runs it after <TAB>: the function the script registers, with COMP_WORDS set.
    let complete = |words: &[&str]| -> Vec<String> {
        let line = words.join(" ");
        let prog = format!(
            "source '{}'; complete -p opsdeck >/dev/null || exit 7; COMP_WORDS=({line}); COMP_CWORD={}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; \
             _opsdeck opsdeck '{}' '{}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display(),
            words.len() - 1,
            words[words.len() - 1],
            words[words.len() - 2],
        );
        let out = Command::new("bash").args(["--norc", "--noprofile", "-c", &prog]).output().unwrap();
        assert!(out.status.success(), "{prog}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect()
    };
    let top = complete(&["opsdeck", "''"]);
    for sub in SUBCOMMANDS {
        assert!(top.iter().any(|w| w == sub), "`opsdeck <TAB>` lacks {sub}: {top:?}");
    }
    let mut co = complete(&["opsdeck", "co"]);
    co.sort();
    assert_eq!(co, ["completions", "config", "connections"], "`opsdeck co<TAB>`");
    let put = complete(&["opsdeck", "config", "put", "--if"]);
    assert_eq!(put, ["--if-revision"], "`opsdeck config put --if<TAB>`");
    let shells = complete(&["opsdeck", "completions", "''"]);
    for s in ["bash", "zsh", "fish"] {
        assert!(shells.iter().any(|w| w == s), "`opsdeck completions <TAB>` lacks {s}: {shells:?}");
    }
}

/// zsh and fish (scripts/install-deps.sh installs both) parse their scripts,
/// and completing `opsdeck co` in fish offers the three subcommands.
#[test]
fn zsh_and_fish_completions_parse_and_name_the_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, check) in [("zsh", ["zsh", "-n"]), ("fish", ["fish", "--no-execute"])] {
        let text = stdout_of(&["completions", shell]);
        for sub in SUBCOMMANDS {
            assert!(text.contains(sub), "{shell} completion lacks {sub}");
        }
        let file = dir.path().join(format!("opsdeck.{shell}"));
        std::fs::write(&file, &text).unwrap();
        let out = Command::new(check[0]).arg(check[1]).arg(&file).output().expect("zsh and fish: run scripts/install-deps.sh");
        assert!(out.status.success(), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let fish = dir.path().join("opsdeck.fish");
    let out = Command::new("fish")
        .args(["--no-config", "-c", &format!("source '{}'; complete -C 'opsdeck co'", fish.display())])
        .output()
        .unwrap();
    let words: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(|l| l.split('\t').next().unwrap_or("").to_string()).collect();
    for sub in ["connections", "config", "completions"] {
        assert!(words.iter().any(|w| w == sub), "fish: `opsdeck co<TAB>` lacks {sub}: {words:?}");
    }
}

#[test]
fn man_page_renders_with_every_subcommand_and_the_exit_codes() {
    let roff = stdout_of(&["man"]);
    assert!(roff.lines().any(|l| l.starts_with(".TH opsdeck 1")), "no .TH header:\n{roff}");
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("opsdeck.1");
    std::fs::write(&page, &roff).unwrap();
    // man -l formats it the way `man opsdeck` shows the installed page (plain text, not a terminal).
    let rendered = Command::new("man").arg("-l").arg(&page).env("MANWIDTH", "100").env("MANPAGER", "cat").env("LC_ALL", "C.UTF-8").output();
    let text = match rendered {
        Ok(out) => {
            assert!(out.status.success() && out.stderr.is_empty(), "man -l: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
        Err(_) => {
            // No man-db: groff alone, warnings on (-ww) and fatal to the check.
            let out = Command::new("groff").args(["-man", "-Tutf8", "-ww"]).arg(&page).output().expect("man or groff (apt install man-db)");
            assert!(out.status.success() && out.stderr.is_empty(), "groff: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };
    for section in ["NAME", "SYNOPSIS", "OPTIONS", "SUBCOMMANDS", "EXIT STATUS", "VERSION"] {
        assert!(text.lines().any(|l| l.trim_end() == section), "no {section} section:\n{text}");
    }
    for sub in SUBCOMMANDS {
        assert!(text.contains(&format!("opsdeck-{sub}(1)")), "the page does not list {sub}:\n{text}");
    }
    assert!(text.contains("141") && text.contains("closed by its reader"), "EXIT STATUS lacks 141:\n{text}");

    // --dir: a page per subcommand, nested ones too, each one rendering.
    let pages = dir.path().join("man1");
    let listed = stdout_of(&["man", "--dir", pages.to_str().unwrap()]);
    assert!(listed.lines().count() > 40, "{listed}");
    for name in ["opsdeck.1", "opsdeck-config.1", "opsdeck-config-put.1", "opsdeck-connections-add-etcd.1", "opsdeck-vm-request.1"] {
        let p = pages.join(name);
        assert!(listed.lines().any(|l| Path::new(l) == p), "{name} not written:\n{listed}");
        let head = std::fs::read_to_string(&p).unwrap();
        assert!(head.contains(&format!(".TH {} 1", name.trim_end_matches(".1"))), "{name}: {head}");
    }
    let put = Command::new("man").arg("-l").arg(pages.join("opsdeck-config-put.1")).env("MANWIDTH", "100").env("MANPAGER", "cat").output();
    if let Ok(out) = put {
        // (justified text: words are compared, not the spaces between them)
        let text = String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(text.contains("opsdeck config put [--connection]") && text.contains("--if-revision <IF_REVISION>"), "{text}");
    }
}

/// An error says what to do on one line; `--details` adds the causes under it
/// (the libraries' error chain), and the exit code is the same either way.
#[test]
fn details_print_the_causes_of_an_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let data = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["config".to_string(), "--endpoints".into(), format!("http://127.0.0.1:{port}"), "get".into(), "/k".into()];
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = opsdeck().args(&args).env("OPSDECK_DATA_DIR", data.path()).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    let (code, plain) = run(&[]);
    assert!(plain.starts_with("error (unreachable):") && plain.contains("refused"), "{plain}");
    assert!(plain.contains("--details") && !plain.contains("caused by"), "{plain}");
    let (with_code, detailed) = run(&["--details"]);
    assert_eq!(code, with_code, "the same exit code");
    assert!(detailed.lines().any(|l| l.trim_start().starts_with("caused by:")), "{detailed}");
}

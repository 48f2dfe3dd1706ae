//! `opsdeck vm` end to end against vcsim, as a cron job or an operator
//! would run it: quota, request, both approvals, provision, requests list,
//! compliance export, lifecycle; exit codes a pipeline can gate on.

use std::process::Output;

use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::vms::vcsim_with_template;
use opsdeck_tests::workspace;

struct Cli {
    data: tempfile::TempDir,
    keychain: String,
    password: String,
}

impl Cli {
    fn run(&self, args: &[&str]) -> Output {
        workspace::cli(self.data.path(), &self.keychain)
            .args(args)
            .env("VCSIM_PASSWORD_FOR_TEST", &self.password)
            .output()
            .expect("run opsdeck")
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "opsdeck {args:?}\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

#[tokio::test]
async fn request_approve_provision_and_report_from_the_cli() {
    // The template is prepared through the library; everything after is the CLI.
    let t = TestBackend::new().await;
    let (vcsim, _) = vcsim_with_template(&t, &[]).await;
    let cli = Cli {
        data: tempfile::tempdir().unwrap(),
        keychain: format!("opsdeck-vm-cli-{}", std::process::id()),
        password: vcsim.get("VCSIM_PASSWORD").into(),
    };
    cli.ok(&opsdeck_tests::vms::cli_add_vcsim(&vcsim, "lab-vc", "VCSIM_PASSWORD_FOR_TEST"));

    let inv = cli.ok(&["vm", "inventory"]);
    assert!(inv.contains("DC0_H0_VM0") && inv.contains("template") && inv.contains("LocalDS_0"), "{inv}");

    cli.ok(&["vm", "quota", "qa", "--vms", "2", "--vcpu", "4"]);
    let lease = (time::OffsetDateTime::now_utc().date() + time::Duration::days(10)).to_string();
    let base = [
        "vm",
        "request",
        "--template",
        "DC0_H0_VM0",
        "--memory-gb",
        "1",
        "--disk-gb",
        "10",
        "--department",
        "qa",
        "--purpose",
        "load test",
        "--lease-end",
        &lease,
    ];
    let out = cli.ok(&[&base[..], &["--name", "cli-1", "--cpu", "2", "--format", "json"]].concat());
    let req: serde_json::Value = serde_json::from_str(&out).unwrap();
    let id = req["id"].as_str().unwrap().to_string();
    assert_eq!(req["state"], "pending_manager");

    // Over quota (2 + 4 > 4): filed as rejected, exit 1.
    let o = cli.run(&[&base[..], &["--name", "cli-2", "--cpu", "4"]].concat());
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stdout).contains("over quota"));
    // Invalid input: exit 2 with the field named.
    let o = cli.run(&[&base[..], &["--name", "Bad_Name", "--cpu", "1"]].concat());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("name \"Bad_Name\""), "{}", String::from_utf8_lossy(&o.stderr));

    // Reject needs a reason; approvals in order.
    let o = cli.run(&["vm", "approve", &id, "--as", "admin"]);
    assert_eq!(o.status.code(), Some(1), "admin before manager is a conflict");
    assert!(String::from_utf8_lossy(&o.stderr).contains("error (conflict)"));
    cli.ok(&["vm", "approve", &id, "--as", "manager", "--comment", "fine"]);
    cli.ok(&["vm", "approve", &id, "--as", "admin"]);
    let out = cli.ok(&["vm", "provision", "--all-approved"]);
    assert!(out.contains("provisioned"), "{out}");

    let list: serde_json::Value = serde_json::from_str(&cli.ok(&["vm", "requests", "--format", "json"])).unwrap();
    let mine = list.as_array().unwrap().iter().find(|r| r["id"] == id.as_str()).unwrap();
    assert_eq!(mine["state"], "provisioned");
    assert!(mine["asset"]["snapshot"].as_str().unwrap().starts_with("Initial-"));

    // Compliance: vcsim's guests run no VMware Tools.
    let report = cli.data.path().join("compliance.csv");
    let o = cli.run(&["vm", "compliance", "--format", "csv", "--output", report.to_str().unwrap(), "--fail-on-findings"]);
    assert_eq!(o.status.code(), Some(1), "findings fail the gate");
    let csv = std::fs::read_to_string(&report).unwrap();
    assert!(csv.starts_with("vm,vm_id,rule,detail,owner,department"), "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("cli-1,") && l.contains("tools_not_running") && l.contains(",qa")), "{csv}");

    // Nothing is due today.
    let out = cli.ok(&["vm", "lifecycle", "--format", "json"]);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap(), serde_json::json!([]));
    let junit = cli.ok(&["vm", "lifecycle", "--format", "junit"]);
    assert!(junit.contains(r#"<testsuite name="vm-lifecycle" package="opsdeck.vm""#) && junit.contains(r#"tests="0""#), "{junit}");
    opsdeck_tests::junit::assert_valid(&junit);
    cli.ok(&["connections", "remove", "lab-vc"]);
    t.cleanup().await;
}

#[tokio::test]
async fn team_roles_are_given_from_the_cli() {
    let etcd = opsdeck_tests::Service::start("etcd", &[]);
    let mut c = etcd_client::Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();
    for u in ["alice", "bob"] {
        c.user_add(u, "pw", None).await.unwrap();
    }
    let cli =
        Cli { data: tempfile::tempdir().unwrap(), keychain: format!("opsdeck-vm-roles-{}", std::process::id()), password: String::new() };
    cli.ok(&["connections", "add", "etcd", "--name", "team-etcd", "--endpoints", etcd.get("ETCD_ENDPOINT")]);
    let out = cli.ok(&["vm", "roles", "--etcd", "team-etcd", "--member", "alice=requester", "--member", "bob=requester,manager:qa"]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "alice: opsdeck-user-alice, opsdeck-reader, opsdeck-audit, opsdeck-requester, opsdeck-approver",
            "bob: opsdeck-user-bob, opsdeck-reader, opsdeck-audit, opsdeck-requester, opsdeck-approver"
        ]
    );
    let keys = |perms: etcd_client::RoleGetResponse| {
        perms.permissions().iter().map(|p| String::from_utf8_lossy(p.key()).into_owned()).collect::<Vec<_>>()
    };
    let bob = keys(c.role_get("opsdeck-user-bob").await.unwrap());
    assert!(
        bob.contains(&"/opsdeck/vms/decisions/manager/qa/bob/".to_string()) && bob.contains(&"/opsdeck/vms/requests/bob/".to_string()),
        "{bob:?}"
    );
    // Again, with bob moved to dev: his own role is replaced, qa is gone.
    cli.ok(&["vm", "roles", "--etcd", "team-etcd", "--member", "bob=manager:dev"]);
    let bob = keys(c.role_get("opsdeck-user-bob").await.unwrap());
    assert!(bob.contains(&"/opsdeck/vms/decisions/manager/dev/bob/".to_string()) && !bob.iter().any(|k| k.contains("/qa/")), "{bob:?}");
    for bad in [["--member", "bob=manager:Bad Dept"], ["--member", "bob=owner"], ["--member", "nobody=requester"]] {
        let o = cli.run(&["vm", "roles", "--etcd", "team-etcd", bad[0], bad[1]]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
}

#[tokio::test]
async fn auto_approval_rules_from_the_cli() {
    let t = TestBackend::new().await;
    let (vcsim, _) = vcsim_with_template(&t, &[]).await;
    let cli = Cli {
        data: tempfile::tempdir().unwrap(),
        keychain: format!("opsdeck-vm-rules-cli-{}", std::process::id()),
        password: vcsim.get("VCSIM_PASSWORD").into(),
    };
    cli.ok(&opsdeck_tests::vms::cli_add_vcsim(&vcsim, "lab-vc", "VCSIM_PASSWORD_FOR_TEST"));
    cli.ok(&["vm", "quota", "qa", "--vcpu", "8"]);
    let add = ["vm", "rules", "add", "--department", "qa", "--name", "small", "--max-memory-gb", "4", "--max-disk-gb", "50"];
    // A rule must bound every resource: exit 2 with the field named, nothing stored.
    let o = cli.run(&[&add[..], &["--max-cpu", "0"]].concat());
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("max vCPU"), "{}", String::from_utf8_lossy(&o.stderr));
    let out = cli.ok(&[&add[..], &["--max-cpu", "2", "--template", "DC0_H0_VM0"]].concat());
    assert!(out.contains("rule small of qa (generation 1): ≤ 2 vCPU, ≤ 4 GB memory, ≤ 50 GB disk; templates DC0_H0_VM0"), "{out}");
    let o = cli.run(&[&add[..], &["--max-cpu", "4"]].concat());
    assert_eq!(o.status.code(), Some(1), "a second rule of that name is a conflict");

    let lease = (time::OffsetDateTime::now_utc().date() + time::Duration::days(10)).to_string();
    let req = |name: &str, cpu: &str| {
        let args = [
            "vm",
            "request",
            "--template",
            "DC0_H0_VM0",
            "--memory-gb",
            "1",
            "--disk-gb",
            "10",
            "--department",
            "qa",
            "--purpose",
            "ci",
            "--lease-end",
            &lease,
            "--name",
            name,
            "--cpu",
            cpu,
            "--format",
            "json",
        ];
        let r: serde_json::Value = serde_json::from_str(&cli.ok(&args)).unwrap();
        (r["id"].as_str().unwrap().to_string(), r["state"].as_str().unwrap().to_string())
    };
    let (small, state) = req("rules-small", "2");
    assert_eq!(state, "pending_admin");
    let (big, state) = req("rules-big", "4");
    assert_eq!(state, "pending_manager");
    let list = cli.ok(&["vm", "requests"]);
    assert!(list.contains("RULE"), "{list}");
    // The RULE column (the 8th) names the rule, or "-" when a person decides.
    let rule_of = |id: &str| list.lines().find(|l| l.contains(id)).and_then(|l| l.split_whitespace().nth(7)).map(String::from);
    assert_eq!(rule_of(&small).as_deref(), Some("small"), "{list}");
    assert_eq!(rule_of(&big).as_deref(), Some("-"), "{list}");
    let shown = cli.ok(&["vm", "show", &small]);
    assert!(shown.contains("pending_manager -> pending_admin by policy:small"), "{shown}");
    assert!(shown.contains("auto-approved by rule small"), "{shown}");

    // Removed: listed with --all only; requests it approved keep their approval; removing again is not found.
    cli.ok(&["vm", "rules", "remove", "--department", "qa", "--name", "small"]);
    let rules: serde_json::Value = serde_json::from_str(&cli.ok(&["vm", "rules", "list", "--all", "--format", "json"])).unwrap();
    assert_eq!(rules.as_array().unwrap().len(), 1);
    assert!(rules[0]["record"]["removed"].is_object(), "{rules}");
    assert!(!cli.ok(&["vm", "rules", "list"]).contains("small"));
    assert!(cli.ok(&["vm", "show", &small]).contains("pending_admin"));
    let o = cli.run(&["vm", "rules", "remove", "--department", "qa", "--name", "small"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, state) = req("rules-after", "1");
    assert_eq!(state, "pending_manager");
    cli.ok(&["connections", "remove", "lab-vc"]);
    t.cleanup().await;
}

//! The etcd roles of the team store: each user may write only the keys that
//! name them, so every reader can tell who wrote a record from its key.
//! Made by an etcd root user (`opsdeck team roles`), once per change of who
//! does what; rerunning it replaces each user's own role (a manager who
//! moved department loses the old one).
//!
//! | role                  | may write (under the root)                                   |
//! |-----------------------|--------------------------------------------------------------|
//! | `opsdeck-reader`      | nothing; reads the whole root                                 |
//! | `opsdeck-user-<user>` | `images/suppressions/<user>/`, `vms/decisions/delegate/<user>/` (decisions as a delegate), `vms/requests/<user>/` (requester), `vms/decisions/manager/<dept>/<user>/` (per department managed), `vms/decisions/admin/<user>/` (admin), `audit/<user>/`, `config/changes/<user>/`, `config/reviews/<user>/` (reviewer) |
//! | `opsdeck-requester`   | `vms/names/` (VM name reservations)                           |
//! | `opsdeck-approver`    | `vms/turns/` (who decided first), `vms/escalations/` (the escalation pass); every member holds it (anyone may be named a delegate) |
//! | `opsdeck-executor`    | `vms/runs/`, `vms/locks/`, `vms/ipleases/`                    |
//! | `opsdeck-vm-admin`    | `vms/quotas/`, `vms/rules/` (auto-approval rules), `vms/escalation/` (approval timeouts), `vms/ippools/`, the key `showback/prices` (the price list) |
//! | `opsdeck-audit`       | the one key `audit/head` (the chain's head)                   |
//! | `opsdeck-publisher`   | `config/published/` and every protected prefix (`opsdeck config protect`) |

use etcd_client::{Client, Permission};
use serde::{Deserialize, Serialize};

use crate::connectors::etcd::classify;
use crate::error::{Error, Result};

pub const ROLE_READER: &str = "opsdeck-reader";
pub const ROLE_REQUESTER: &str = "opsdeck-requester";
pub const ROLE_APPROVER: &str = "opsdeck-approver";
pub const ROLE_EXECUTOR: &str = "opsdeck-executor";
pub const ROLE_VM_ADMIN: &str = "opsdeck-vm-admin";
pub const ROLE_AUDIT: &str = "opsdeck-audit";

/// The role holding what only `user` may write.
pub fn user_role(user: &str) -> String {
    format!("opsdeck-user-{user}")
}

/// What one etcd user does in the team.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Member {
    pub user: String,
    #[serde(default)]
    pub requester: bool,
    /// Departments whose requests this user approves as manager.
    #[serde(default)]
    pub manages: Vec<String>,
    /// Approves as IT admin and sets quotas.
    #[serde(default)]
    pub admin: bool,
    /// Provisions and runs the lifecycle (an admin's automation).
    #[serde(default)]
    pub executor: bool,
    /// Approves or rejects config change requests (never their own).
    #[serde(default)]
    pub reviewer: bool,
    /// Publishes approved config changes into the protected prefixes.
    #[serde(default)]
    pub publisher: bool,
}

impl Member {
    /// `alice=requester`, `bob=manager:qa,manager:dev`, `carol=admin,executor`.
    pub fn parse(s: &str) -> Result<Member> {
        let (user, duties) =
            s.split_once('=').ok_or_else(|| Error::invalid(format!("member \"{s}\": write USER=DUTY[,DUTY…], e.g. bob=manager:qa")))?;
        let user = user.trim();
        if user.is_empty() || user.contains('/') || user.chars().any(char::is_whitespace) {
            return Err(Error::invalid(format!("member \"{s}\": the etcd user name may not be empty or hold '/' or spaces")));
        }
        let mut m = Member { user: user.into(), ..Default::default() };
        for duty in duties.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            match duty.split_once(':') {
                Some(("manager", dept)) => m.manages.push(crate::vms::validate::department(dept)?),
                None if duty == "requester" => m.requester = true,
                None if duty == "admin" => m.admin = true,
                None if duty == "executor" => m.executor = true,
                None if duty == "reviewer" => m.reviewer = true,
                None if duty == "publisher" => m.publisher = true,
                _ => {
                    return Err(Error::invalid(format!(
                        "member \"{s}\": unknown duty \"{duty}\" (requester, manager:DEPT, admin, executor, reviewer, publisher)"
                    )))
                }
            }
        }
        Ok(m)
    }
}

fn perms_of(root: &str, m: &Member) -> Vec<Permission> {
    let p = |s: String| Permission::read_write(format!("{root}{s}")).with_prefix();
    // Everyone may propose config changes, append to the audit trail and
    // keep their own image scan suppressions.
    // Anyone may be named a delegate (`vms::delegation`): their decisions as one go under their own name.
    let mut out = vec![
        p(format!("audit/{}/", m.user)),
        p(format!("config/changes/{}/", m.user)),
        p(format!("images/suppressions/{}/", m.user)),
        p(format!("vms/decisions/delegate/{}/", m.user)),
    ];
    if m.reviewer {
        out.push(p(format!("config/reviews/{}/", m.user)));
    }
    if m.requester {
        out.push(p(format!("vms/requests/{}/", m.user)));
    }
    for d in &m.manages {
        out.push(p(format!("vms/decisions/manager/{d}/{}/", m.user)));
    }
    if m.admin {
        out.push(p(format!("vms/decisions/admin/{}/", m.user)));
    }
    out
}

fn shared_roles(root: &str) -> Vec<(&'static str, Vec<Permission>)> {
    let rw = |s: &str| Permission::read_write(format!("{root}{s}")).with_prefix();
    vec![
        (ROLE_READER, vec![Permission::read(root).with_prefix()]),
        (ROLE_REQUESTER, vec![rw("vms/names/")]),
        (ROLE_APPROVER, vec![rw("vms/turns/"), rw("vms/escalations/")]),
        (ROLE_EXECUTOR, vec![rw("vms/runs/"), rw("vms/locks/"), rw("vms/ipleases/")]),
        (
            ROLE_VM_ADMIN,
            vec![
                rw("vms/quotas/"),
                rw("vms/rules/"),
                rw("vms/escalation/"),
                rw("vms/ippools/"),
                Permission::read_write(format!("{root}showback/prices")),
            ],
        ),
        (ROLE_AUDIT, vec![Permission::read_write(format!("{root}audit/head"))]),
        // The protected prefixes themselves are added by `changes::protect`.
        (super::changes::ROLE_PUBLISHER, vec![rw("config/published/")]),
    ]
}

/// The shared roles a member needs besides their own.
fn shared_of(m: &Member) -> Vec<&'static str> {
    let mut r = vec![ROLE_READER, ROLE_AUDIT];
    if m.requester {
        r.push(ROLE_REQUESTER);
    }
    // Every member: anyone may be named a delegate or an escalation delegate
    // and then decides (moves `turns/`), and anyone's app runs the escalation pass.
    r.push(ROLE_APPROVER);
    if m.admin {
        r.push(ROLE_VM_ADMIN);
    }
    if m.executor {
        r.push(ROLE_EXECUTOR);
    }
    if m.publisher {
        r.push(super::changes::ROLE_PUBLISHER);
    }
    r
}

fn etcd_err(e: etcd_client::Error) -> Error {
    classify(e, "etcd (team roles)", None)
}

/// Creates the shared roles, replaces each member's own role, and grants
/// them; the users must exist. Returns one line per user, what they got.
pub async fn apply(client: &mut Client, root: &str, members: &[Member]) -> Result<Vec<String>> {
    super::validate_root(root)?;
    for (role, perms) in shared_roles(root) {
        if let Err(e) = client.role_add(role).await {
            if !e.to_string().contains("already exists") {
                return Err(etcd_err(e));
            }
        }
        for perm in perms {
            client.role_grant_permission(role, perm).await.map_err(etcd_err)?;
        }
    }
    let mut out = Vec::new();
    for m in members {
        let own = user_role(&m.user);
        if let Err(e) = client.role_delete(own.clone()).await {
            if !e.to_string().contains("not found") {
                return Err(etcd_err(e));
            }
        }
        client.role_add(own.clone()).await.map_err(etcd_err)?;
        for perm in perms_of(root, m) {
            client.role_grant_permission(own.clone(), perm).await.map_err(etcd_err)?;
        }
        let mut granted = vec![own.clone()];
        granted.extend(shared_of(m).into_iter().map(String::from));
        for role in &granted {
            client.user_grant_role(m.user.clone(), role.clone()).await.map_err(|e| match etcd_err(e) {
                Error::Internal(msg) if msg.contains("not found") => {
                    Error::NotFound(format!("etcd user \"{}\" does not exist: add it first (etcdctl user add {})", m.user, m.user))
                }
                other => other,
            })?;
        }
        out.push(format!("{}: {}", m.user, granted.join(", ")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_duties() {
        let m = Member::parse("bob=manager:qa, manager:dev,admin").unwrap();
        assert_eq!(m, Member { user: "bob".into(), manages: vec!["qa".into(), "dev".into()], admin: true, ..Default::default() });
        assert!(Member::parse("bob").is_err());
        assert!(Member::parse("bo/b=requester").is_err());
        assert!(Member::parse("bob=owner").unwrap_err().to_string().contains("unknown duty"));
    }

    #[test]
    fn each_user_writes_only_under_their_name() {
        let m = Member { user: "bob".into(), requester: true, manages: vec!["qa".into()], ..Default::default() };
        let keys: Vec<String> = perms_of("/t/", &m).iter().map(|p| String::from_utf8_lossy(p.key()).into_owned()).collect();
        assert_eq!(
            keys,
            [
                "/t/audit/bob/",
                "/t/config/changes/bob/",
                "/t/images/suppressions/bob/",
                "/t/vms/decisions/delegate/bob/",
                "/t/vms/requests/bob/",
                "/t/vms/decisions/manager/qa/bob/"
            ]
        );
        assert!(!shared_of(&m).contains(&ROLE_EXECUTOR));
    }
}

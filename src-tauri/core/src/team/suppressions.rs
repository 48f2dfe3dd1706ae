//! Image scan suppressions kept in the team store, so the app and CI apply
//! the same accepted risks (issue 15 item 4).
//!
//! | key under the root                      | what                  | written by         |
//! |-----------------------------------------|-----------------------|--------------------|
//! | `images/suppressions/<user>/<id>`       | one accepted risk     | its author only    |
//!
//! The author is the key's `<user>` (etcd lets only that user write there),
//! never the record's own words: a record claiming another author is
//! refused when read. Every reader applies the same list.

use std::time::Duration;

use etcd_client::{GetOptions, PutOptions};
use serde::{Deserialize, Serialize};

use super::TeamStore;
use crate::error::{with_timeout, Error, Result};
use crate::scanner::gate::{self, Suppression};

const TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many suppressions are read (a runaway writer cannot stall scans).
pub const MAX_SUPPRESSIONS: i64 = 10_000;

/// A suppression as stored and listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct TeamSuppression {
    /// The record's own id (`s…`), for `remove`.
    pub id: String,
    pub suppression: Suppression,
    pub created_at: String,
}

/// What a person asks to suppress; the author is the store's user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewSuppression {
    pub vulnerability: String,
    pub package: Option<String>,
    pub image: Option<String>,
    pub reason: String,
    pub expires: String,
}

fn prefix(team: &TeamStore) -> String {
    format!("{}images/suppressions/", team.root())
}

fn key(team: &TeamStore, user: &str, id: &str) -> String {
    format!("{}{user}/{id}", prefix(team))
}

/// Checks a new suppression as the file's entries are checked (id, reason
/// and expiry required; expiry a date, not already past).
pub fn validate(n: &NewSuppression, today: time::Date) -> Result<()> {
    let blank = |s: &str| s.trim().is_empty();
    if blank(&n.vulnerability) || blank(&n.reason) {
        return Err(Error::invalid("a suppression needs the vulnerability id (CVE, GHSA or OSV) and a reason"));
    }
    if n.package.as_deref().is_some_and(blank) || n.image.as_deref().is_some_and(blank) {
        return Err(Error::invalid("--package and --image must not be blank when given"));
    }
    if n.reason.chars().count() > 1000 {
        return Err(Error::invalid("reason: at most 1000 characters"));
    }
    let day = gate::parse_expiry(n.expires.trim()).map_err(Error::invalid)?;
    if day < today {
        return Err(Error::invalid(format!("expires {}: that day is past; a suppression must expire today or later", n.expires.trim())));
    }
    Ok(())
}

/// Writes a new suppression under the store user's own key.
pub async fn add(team: &TeamStore, n: &NewSuppression, id: &str, at: &str) -> Result<TeamSuppression> {
    let user = team
        .user()
        .ok_or_else(|| Error::invalid("team suppressions need an authenticated etcd user: the author of an accepted risk must be known"))?;
    let rec = TeamSuppression {
        id: id.to_string(),
        suppression: Suppression {
            id: n.vulnerability.trim().to_string(),
            package: n.package.as_ref().map(|p| p.trim().to_string()),
            image: n.image.as_ref().map(|i| i.trim().to_string()),
            reason: n.reason.trim().to_string(),
            author: user.to_string(),
            expires: n.expires.trim().to_string(),
        },
        created_at: at.to_string(),
    };
    let value = super::to_json(&rec, "the suppression")?;
    let k = key(team, user, id);
    let mut c = team.client();
    with_timeout("etcd (write the suppression)", TIMEOUT, async {
        c.put(k.as_str(), value, None::<PutOptions>).await.map_err(|e| {
            team.etcd_error(
                "writing the suppression",
                e,
                "each member may write under images/suppressions/<own user>/ (opsdeck team roles)",
            )
        })
    })
    .await?;
    Ok(rec)
}

/// Every suppression in the store, oldest first; records that are not
/// suppressions, or whose author is not their key's user, are returned as
/// problems (never applied).
pub async fn list(team: &TeamStore) -> Result<(Vec<TeamSuppression>, Vec<String>)> {
    let p = prefix(team);
    let mut c = team.client();
    let r = with_timeout("etcd (read the suppressions)", TIMEOUT, async {
        c.get(p.as_str(), Some(GetOptions::new().with_prefix().with_limit(MAX_SUPPRESSIONS)))
            .await
            .map_err(|e| team.etcd_error("reading the suppressions", e, "the team's readers may read them"))
    })
    .await?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    if r.more() {
        problems.push(format!("more than {MAX_SUPPRESSIONS} suppressions under {p}: only the first were read"));
    }
    for kv in r.kvs() {
        let k = String::from_utf8_lossy(kv.key()).into_owned();
        let user = k.strip_prefix(p.as_str()).and_then(|rest| rest.split_once('/')).map(|(u, _)| u.to_string()).unwrap_or_default();
        match serde_json::from_slice::<TeamSuppression>(kv.value()) {
            Ok(s) if s.suppression.author == user && gate::parse_expiry(&s.suppression.expires).is_ok() => out.push(s),
            Ok(s) => problems.push(format!(
                "{k}: claims author {:?} but is under {user:?}'s key, or has no valid expiry: ignored",
                s.suppression.author
            )),
            Err(e) => problems.push(format!("{k}: not a suppression ({e}): ignored")),
        }
    }
    out.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
    Ok((out, problems))
}

/// Deletes the store user's suppression `id`; `NotFound` when they have none of that id.
pub async fn remove(team: &TeamStore, id: &str) -> Result<TeamSuppression> {
    let user = team.user().ok_or_else(|| Error::invalid("removing a team suppression needs an authenticated etcd user"))?;
    let (all, _) = list(team).await?;
    let Some(found) = all.into_iter().find(|s| s.id == id) else {
        return Err(Error::NotFound(format!("no team suppression {id} (opsdeck scan suppress list shows them)")));
    };
    if found.suppression.author != user {
        return Err(Error::Forbidden(format!(
            "suppression {id} is {}'s: only its author removes it (etcd lets each user write only their own)",
            found.suppression.author
        )));
    }
    let k = key(team, user, id);
    let mut c = team.client();
    with_timeout("etcd (delete the suppression)", TIMEOUT, async {
        c.delete(k.as_str(), None).await.map_err(|e| team.etcd_error("deleting the suppression", e, "only its author may delete it"))
    })
    .await?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        let today = time::macros::date!(2026 - 12 - 05);
        let ok = NewSuppression {
            vulnerability: "CVE-2024-1".into(),
            reason: "not reachable".into(),
            expires: "2026-12-05".into(),
            ..Default::default()
        };
        assert!(validate(&ok, today).is_ok());
        let past = NewSuppression { expires: "2026-12-04".into(), ..ok.clone() };
        assert!(validate(&past, today).unwrap_err().to_string().contains("past"));
        let bad = NewSuppression { expires: "05/12/2026".into(), ..ok.clone() };
        assert!(validate(&bad, today).unwrap_err().to_string().contains("YYYY-MM-DD"));
        let no_reason = NewSuppression { reason: " ".into(), ..ok };
        assert!(validate(&no_reason, today).is_err());
    }
}

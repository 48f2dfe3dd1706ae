//! JUnit XML reports (`check`, `health`, `scan`, `vm lifecycle`) in the one
//! form both common JUnit schemas accept — Ant's JUnitReport schema (every
//! `<testsuite>` with package, id, timestamp without a zone, hostname and
//! time, then `<properties>`, the test cases, `<system-out>` and
//! `<system-err>`; nothing in a `<testcase>` but its outcome; no attributes
//! on `<testsuites>`) and Jenkins xunit's junit-10.xsd. docs/schema/junit.xsd
//! is that intersection, and the tests validate every report against it.
//!
//! Written with quick-xml rather than quick-junit: quick-junit's layout
//! (attributes on the root, output inside test cases, a zoned timestamp)
//! is rejected by the Ant schema.

use std::io;
use std::time::Duration;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    /// Not run (e.g. the run was stopped first).
    Skipped,
}

/// One test case: a check, a cluster, an image, a lifecycle action.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub classname: String,
    pub time: Duration,
    pub outcome: Outcome,
    /// One line: what passed, why it failed, or why it was skipped.
    pub message: String,
    /// The failure's `type` (its kind or error category).
    pub kind: String,
    /// More lines for a failure (e.g. every reason), its text content.
    pub detail: String,
}

impl Case {
    pub fn new(name: impl Into<String>, classname: impl Into<String>, outcome: Outcome, message: impl Into<String>) -> Case {
        Case {
            name: name.into(),
            classname: classname.into(),
            time: Duration::ZERO,
            outcome,
            message: message.into(),
            kind: String::new(),
            detail: String::new(),
        }
    }
}

pub struct Suite {
    pub name: String,
    pub cases: Vec<Case>,
}

/// The report: one `<testsuite>` per suite under `<testsuites>`, `package`
/// on each (e.g. `opsdeck.check`). What passing cases said goes to their
/// suite's `<system-out>`, a line each.
pub fn report(package: &str, suites: &[Suite]) -> String {
    let timestamp = time::OffsetDateTime::now_utc();
    let stamp = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        timestamp.year(),
        u8::from(timestamp.month()),
        timestamp.day(),
        timestamp.hour(),
        timestamp.minute(),
        timestamp.second()
    );
    let host = hostname();
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail.
    let _ = write(&mut w, package, suites, &stamp, &host);
    String::from_utf8_lossy(&w.into_inner()).into_owned() + "\n"
}

fn write(w: &mut Writer<Vec<u8>>, package: &str, suites: &[Suite], stamp: &str, host: &str) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("testsuites").write_inner_content(|w| {
        for (id, s) in suites.iter().enumerate() {
            let count = |o: Outcome| s.cases.iter().filter(|c| c.outcome == o).count().to_string();
            let total: Duration = s.cases.iter().map(|c| c.time).sum();
            w.create_element("testsuite")
                .with_attributes([
                    ("name", s.name.as_str()),
                    ("package", package),
                    ("id", id.to_string().as_str()),
                    ("timestamp", stamp),
                    ("hostname", host),
                    ("tests", s.cases.len().to_string().as_str()),
                    ("failures", count(Outcome::Failed).as_str()),
                    ("errors", "0"),
                    ("skipped", count(Outcome::Skipped).as_str()),
                    ("time", seconds(total).as_str()),
                ])
                .write_inner_content(|w| {
                    w.create_element("properties").write_empty()?;
                    for c in &s.cases {
                        case(w, c)?;
                    }
                    let out: Vec<String> = s
                        .cases
                        .iter()
                        .filter(|c| c.outcome == Outcome::Passed && !c.message.is_empty())
                        .map(|c| format!("{}: {}", c.name, c.message))
                        .collect();
                    w.create_element("system-out").write_text_content(BytesText::new(&out.join("\n")))?;
                    w.create_element("system-err").write_empty()?;
                    Ok(())
                })?;
        }
        Ok(())
    })?;
    Ok(())
}

fn case(w: &mut Writer<Vec<u8>>, c: &Case) -> io::Result<()> {
    let el = w.create_element("testcase").with_attributes([
        ("name", c.name.as_str()),
        ("classname", c.classname.as_str()),
        ("time", seconds(c.time).as_str()),
    ]);
    match c.outcome {
        Outcome::Passed => {
            el.write_empty()?;
        }
        Outcome::Failed => {
            el.write_inner_content(|w| {
                let failure = w.create_element("failure").with_attributes([("message", c.message.as_str()), ("type", c.kind.as_str())]);
                if c.detail.is_empty() {
                    failure.write_empty()?;
                } else {
                    failure.write_text_content(BytesText::new(&c.detail))?;
                }
                Ok(())
            })?;
        }
        Outcome::Skipped => {
            el.write_inner_content(|w| {
                w.create_element("skipped").with_attribute(("message", c.message.as_str())).write_empty()?;
                Ok(())
            })?;
        }
    }
    Ok(())
}

fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// The host name for `hostname` ("localhost" when it cannot be read, as the
/// Ant schema asks).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        let mut failed = Case::new("login", "opsdeck.check.etcd", Outcome::Failed, "wrong password & \"quotes\"");
        failed.kind = "auth".into();
        failed.detail = "line 1\nline <2>".into();
        let mut passed = Case::new("reachable", "opsdeck.check.etcd", Outcome::Passed, "etcd 3.4.23");
        passed.time = Duration::from_millis(12);
        let skipped = Case::new("keys", "opsdeck.check.etcd", Outcome::Skipped, "not run");
        report(
            "opsdeck.check",
            &[Suite { name: "etcd".into(), cases: vec![passed, failed, skipped] }, Suite { name: "empty".into(), cases: vec![] }],
        )
    }

    #[test]
    fn suites_carry_what_the_ant_schema_requires_and_cases_only_their_outcome() {
        let xml = sample();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"), "{xml}");
        let suite = xml.lines().find(|l| l.contains("<testsuite name=\"etcd\"")).unwrap();
        for attr in [
            r#"package="opsdeck.check""#,
            r#"id="0""#,
            r#"tests="3""#,
            r#"failures="1""#,
            r#"errors="0""#,
            r#"skipped="1""#,
            r#"time="0.012""#,
            "hostname=\"",
            "timestamp=\"",
        ] {
            assert!(suite.contains(attr), "{attr} missing: {suite}");
        }
        let stamp = suite.split("timestamp=\"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(stamp.len(), 19, "no zone, no fraction: {stamp}");
        assert!(xml.contains(r#"<testcase name="reachable" classname="opsdeck.check.etcd" time="0.012"/>"#), "{xml}");
        assert!(
            xml.contains(r#"<failure message="wrong password &amp; &quot;quotes&quot;" type="auth">line 1"#)
                && xml.contains("line &lt;2&gt;</failure>"),
            "{xml}"
        );
        assert!(xml.contains(r#"<skipped message="not run"/>"#), "{xml}");
        assert!(xml.contains("<system-out>reachable: etcd 3.4.23</system-out>"), "{xml}");
        assert!(xml.contains(r#"<testsuite name="empty" package="opsdeck.check" id="1""#) && xml.contains(r#"tests="0""#), "{xml}");
        assert_eq!(xml.matches("<properties/>").count(), 2);
        assert_eq!(xml.matches("<system-err/>").count(), 2);
    }
}

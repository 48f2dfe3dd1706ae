//! Output formats shared by the subcommands.

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// Prints rows as aligned columns under a header.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

pub fn print_json<T: serde::Serialize>(value: &T) -> u8 {
    match serde_json::to_string_pretty(value) {
        Ok(s) => {
            println!("{s}");
            crate::exit::OK
        }
        Err(e) => {
            eprintln!("error: cannot serialise the output: {e}");
            crate::exit::INTERNAL
        }
    }
}

/// Prints a library error with its category, returns the exit code for it.
pub fn fail(e: &opsdeck_core::Error) -> u8 {
    eprintln!("error ({}): {e}", e.code().as_str());
    crate::exit::for_error(e)
}

/// A JUnit report as CI servers validate it: quick-junit's XML without the
/// `skipped` attribute it always puts on `<testsuites>`, which the common
/// JUnit schema (Jenkins xunit's junit-10.xsd, our docs/schema/junit.xsd)
/// does not allow there; the suites keep their own `skipped` counts.
pub fn junit_xml(report: &quick_junit::Report) -> Result<String, quick_junit::SerializeError> {
    let xml = report.to_string()?;
    Ok(without_root_skipped(&xml))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    /// Not run (e.g. the run was stopped first).
    Skipped,
}

/// A JUnit test case: passed (the detail goes to system-out), failed with a
/// one-line message and a kind (`type`), or skipped with the reason.
pub fn junit_case(name: String, classname: String, outcome: Outcome, message: &str, kind: &str) -> quick_junit::TestCase {
    let status = match outcome {
        Outcome::Passed => quick_junit::TestCaseStatus::success(),
        Outcome::Failed => {
            let mut s = quick_junit::TestCaseStatus::non_success(quick_junit::NonSuccessKind::Failure);
            s.set_message(message);
            s.set_type(kind);
            s
        }
        Outcome::Skipped => {
            let mut s = quick_junit::TestCaseStatus::skipped();
            s.set_message(message);
            s
        }
    };
    let mut case = quick_junit::TestCase::new(name, status);
    case.set_classname(classname);
    if outcome == Outcome::Passed {
        case.set_system_out(message);
    }
    case
}

fn without_root_skipped(xml: &str) -> String {
    let Some(start) = xml.find("<testsuites") else { return xml.to_string() };
    let end = xml[start..].find('>').map(|e| start + e).unwrap_or(xml.len());
    let root = &xml[start..end];
    // Attribute values are escaped (no raw quote inside), so this pattern can only be the attribute.
    let Some(at) = root.find(" skipped=\"") else { return xml.to_string() };
    let value_end = root[at + 10..].find('"').map(|e| at + 10 + e + 1).unwrap_or(root.len());
    format!("{}{}{}", &xml[..start + at], &root[value_end..], &xml[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_root_has_no_skipped_attribute_but_suites_keep_theirs() {
        let mut report = quick_junit::Report::new("r \"skipped=\" x");
        let mut suite = quick_junit::TestSuite::new("s");
        suite.add_test_case(quick_junit::TestCase::new("c", quick_junit::TestCaseStatus::skipped()));
        report.add_test_suite(suite);
        let xml = junit_xml(&report).unwrap();
        let root = xml.lines().find(|l| l.starts_with("<testsuites")).unwrap();
        assert!(!root.contains(" skipped="), "{root}");
        assert!(root.contains(r#"tests="1""#) && root.contains(r#"name="r &quot;skipped=&quot; x""#), "{root}");
        assert!(xml.contains(r#"<testsuite name="s" tests="1" skipped="1""#), "{xml}");
    }
}

//! JUnit reports validated against the schema CI servers read
//! (docs/schema/junit.xsd) with xmllint (libxml2-utils).

use std::process::Command;

use crate::workspace;

/// Panics, with xmllint's complaints, unless `xml` is a valid JUnit report.
pub fn assert_valid(xml: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("report.xml");
    std::fs::write(&file, xml).expect("write the report");
    let schema = workspace::root().join("docs/schema/junit.xsd");
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&file)
        .output()
        .expect("run xmllint (apt install libxml2-utils; scripts/install-deps.sh does)");
    assert!(
        out.status.success(),
        "the JUnit report does not validate against {}:\n{}\n--- report\n{xml}",
        schema.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

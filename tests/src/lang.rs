//! The language-package test images and advisories, shared by the
//! integration test (tests/tests/images_lang.rs) and the end-to-end one:
//! real artifacts (`scripts/images/lang-artifacts.sh`) copied into an image
//! built FROM a locally made base image, and OSV records transcribed from the
//! published advisories named in each case.

use std::path::{Path, PathBuf};

use bollard::Docker;
use serde_json::{json, Value};

use crate::images::{build, context_files, import, lang_artifacts, Rootfs};

/// Where pip put the packages in the images.
pub const SITE: &str = "usr/local/lib/python3.11/site-packages";

/// An OSV record as published (id, aliases, affected package and ranges,
/// the GHSA severity word where the source gives one).
pub fn osv(
    id: &str,
    aliases: &[&str],
    ecosystem: &str,
    package: &str,
    kind: &str,
    ranges: &[(&str, &str)],
    severity: Option<&str>,
) -> Value {
    let events: Vec<Value> = ranges.iter().flat_map(|(i, f)| [json!({ "introduced": i }), json!({ "fixed": f })]).collect();
    let mut r = json!({
        "schema_version": "1.6.0",
        "id": id,
        "modified": "2025-01-01T00:00:00Z",
        "aliases": aliases,
        "summary": format!("{id} ({package})"),
        "affected": [{ "package": { "ecosystem": ecosystem, "name": package }, "ranges": [{ "type": kind, "events": events }] }],
    });
    if let Some(s) = severity {
        r["database_specific"] = json!({ "severity": s });
    }
    r
}

pub fn advisories_records() -> Vec<Value> {
    vec![
        // https://github.com/advisories/GHSA-35jh-r3h4-6jhm — lodash command injection via template.
        osv("GHSA-35jh-r3h4-6jhm", &["CVE-2021-23337"], "npm", "lodash", "ECOSYSTEM", &[("0", "4.17.21")], Some("HIGH")),
        // https://github.com/advisories/GHSA-p6mc-m468-83gw — lodash prototype pollution, fixed in 4.17.19: 4.17.20 is not affected.
        osv("GHSA-p6mc-m468-83gw", &["CVE-2020-8203"], "npm", "lodash", "ECOSYSTEM", &[("3.7.0", "4.17.19")], Some("HIGH")),
        // https://github.com/advisories/GHSA-9wx4-h78v-vm56 — requests Session keeps verify=False.
        osv("GHSA-9wx4-h78v-vm56", &["CVE-2024-35195"], "PyPI", "requests", "ECOSYSTEM", &[("0", "2.32.0")], Some("MODERATE")),
        // https://github.com/advisories/GHSA-34jh-p97f-mpxf — urllib3 Proxy-Authorization kept on cross-origin redirects.
        osv(
            "GHSA-34jh-p97f-mpxf",
            &["CVE-2024-37891"],
            "PyPI",
            "urllib3",
            "ECOSYSTEM",
            &[("0", "1.26.19"), ("2.0.0", "2.2.2")],
            Some("MODERATE"),
        ),
        // https://github.com/advisories/GHSA-v845-jxx5-vc9f — urllib3 Cookie header on redirects, fixed in 1.26.17: 1.26.18 is not affected.
        osv(
            "GHSA-v845-jxx5-vc9f",
            &["CVE-2023-43804"],
            "PyPI",
            "urllib3",
            "ECOSYSTEM",
            &[("0", "1.26.17"), ("2.0.0", "2.0.6")],
            Some("MODERATE"),
        ),
        // https://github.com/advisories/GHSA-mjmj-j48q-9wg2 — SnakeYAML Constructor deserialization.
        osv("GHSA-mjmj-j48q-9wg2", &["CVE-2022-1471"], "Maven", "org.yaml:snakeyaml", "ECOSYSTEM", &[("0", "2.0")], Some("HIGH")),
        // https://pkg.go.dev/vuln/GO-2022-1059 — golang.org/x/text/language ParseAcceptLanguage DoS.
        osv("GO-2022-1059", &["CVE-2022-32149", "GHSA-69ch-w2m2-3vjp"], "Go", "golang.org/x/text", "SEMVER", &[("0", "0.3.8")], None),
        // https://rustsec.org/advisories/RUSTSEC-2021-0003 — smallvec insert_many buffer overflow.
        osv(
            "RUSTSEC-2021-0003",
            &["CVE-2021-25900", "GHSA-43w2-9j62-hq99"],
            "crates.io",
            "smallvec",
            "SEMVER",
            &[("0.6.3", "0.6.14"), ("1.0.0", "1.6.1")],
            None,
        ),
    ]
}

/// `opsdeck-test/lang-base:1` (busybox, urllib3, CMD) and `opsdeck-test/lang-app:1`
/// FROM it (requests, lodash, snakeyaml, a Go binary, a Cargo.lock, a
/// cargo-auditable binary).
pub async fn images(docker: &Docker) {
    let art = lang_artifacts();
    import(docker, Rootfs::Busybox, "opsdeck-test/busybox:1").await;
    let base_files = context_files(&art.join("py-base"), "py-base");
    let base: Vec<(&str, &[u8])> = base_files.iter().map(|(p, d)| (p.as_str(), d.as_slice())).collect();
    // A base image as published ones are: its own layers, then CMD.
    build(docker, "opsdeck-test/lang-base:1", &format!("FROM opsdeck-test/busybox:1\nCOPY py-base/ /{SITE}/\nCMD [\"sh\"]\n"), &base).await;
    let mut files = context_files(&art.join("py-app"), "py-app");
    files.extend(context_files(&art.join("npm"), "npm"));
    files.extend(context_files(&art.join("maven"), "maven"));
    files.extend(context_files(&art.join("go"), "go"));
    files.extend(context_files(&art.join("rust-bin"), "rust-bin"));
    files.push(("Cargo.lock".into(), std::fs::read(art.join("rust/Cargo.lock")).expect("Cargo.lock")));
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, d)| (p.as_str(), d.as_slice())).collect();
    let dockerfile = format!(
        "FROM opsdeck-test/lang-base:1\n\
         COPY py-app/ /{SITE}/\n\
         COPY npm/ /srv/web/\n\
         COPY maven/snakeyaml-1.33.jar /opt/app/lib/snakeyaml-1.33.jar\n\
         COPY go/gobin /usr/local/bin/gobin\n\
         COPY Cargo.lock /srv/tool/Cargo.lock\n\
         COPY rust-bin/svc /usr/local/bin/svc\n\
         CMD [\"/usr/local/bin/gobin\"]\n"
    );
    build(docker, "opsdeck-test/lang-app:1", &dockerfile, &files).await;
}

/// Writes [`advisories_records`] as `<dir>/<id>.json` and returns `dir`.
pub fn write_advisories(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).expect("advisory folder");
    for r in advisories_records() {
        std::fs::write(dir.join(format!("{}.json", r["id"].as_str().unwrap_or("x"))), serde_json::to_vec(&r).expect("JSON"))
            .expect("write");
    }
    dir.to_path_buf()
}

//! Language packages in images on the real dockerd: real artifacts from the
//! registries (PyPI wheels installed by pip, an npm package installed by
//! npm, a JAR from Maven Central, a Go binary built here with its module
//! build info, a Cargo.lock from crates.io) copied into images built FROM a
//! locally made base image; OSV records transcribed from the published
//! advisories named in each case. Each finding is checked with its file,
//! its layer, that layer's Dockerfile instruction and the base-image flag;
//! then the "your layers only / base image only" scopes.

use bollard::Docker;
use opsdeck_core::cache::db::Db;
use opsdeck_core::connectors::docker;
use opsdeck_core::scanner::advisories::{self, Vulnerability};
use opsdeck_core::scanner::policy::{Decision, Policy};
use opsdeck_core::scanner::provenance::{restrict, LayerScope};
use opsdeck_core::scanner::scan::{scan_image, ScanReport};
use opsdeck_core::scanner::versions::Scheme;
use opsdeck_tests::images::{build, context_files, import, lang_artifacts, Rootfs};
use opsdeck_tests::service::shared;
use serde_json::{json, Value};

const SITE: &str = "usr/local/lib/python3.11/site-packages";

/// An OSV record as published (id, aliases, affected package and ranges,
/// the GHSA severity word where the source gives one).
fn osv(id: &str, aliases: &[&str], ecosystem: &str, package: &str, kind: &str, ranges: &[(&str, &str)], severity: Option<&str>) -> Value {
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

fn advisories_records() -> Vec<Value> {
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

async fn images(docker: &Docker) {
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
    files.push(("Cargo.lock".into(), std::fs::read(art.join("rust/Cargo.lock")).expect("Cargo.lock")));
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, d)| (p.as_str(), d.as_slice())).collect();
    let dockerfile = format!(
        "FROM opsdeck-test/lang-base:1\n\
         COPY py-app/ /{SITE}/\n\
         COPY npm/ /srv/web/\n\
         COPY maven/snakeyaml-1.33.jar /opt/app/lib/snakeyaml-1.33.jar\n\
         COPY go/gobin /usr/local/bin/gobin\n\
         COPY Cargo.lock /srv/tool/Cargo.lock\n\
         CMD [\"/usr/local/bin/gobin\"]\n"
    );
    build(docker, "opsdeck-test/lang-app:1", &dockerfile, &files).await;
}

fn finding<'a>(r: &'a ScanReport, id: &str) -> &'a Vulnerability {
    let all: Vec<&str> = r.assessment.vulnerabilities.iter().map(|v| v.ids[0].as_str()).collect();
    r.assessment.vulnerabilities.iter().find(|v| v.ids[0] == id).unwrap_or_else(|| panic!("no {id} among {all:?}"))
}

/// The finding's package, version, fix, file, layer index, base flag, and its layer's instruction.
fn check(r: &ScanReport, id: &str, package: &str, installed: &str, fixed: &str, path: &str, layer: u32, base: bool, instruction: &str) {
    let v = finding(r, id);
    assert_eq!((v.package.as_str(), v.installed.as_str(), v.fixed.as_deref()), (package, installed, Some(fixed)), "{id}");
    assert_eq!(v.path.as_deref(), Some(path), "{id}: the file it came from");
    let l = v.layer.as_ref().unwrap_or_else(|| panic!("{id}: no layer"));
    assert_eq!((l.index, l.base), (layer, base), "{id}: layer");
    assert_eq!(l.digest, r.layers[layer as usize].digest, "{id}: the layer's digest");
    let made_by = l.created_by.as_deref().unwrap_or_else(|| panic!("{id}: no instruction"));
    assert!(made_by.starts_with("COPY") && made_by.contains(instruction), "{id}: instruction {made_by:?} should copy to {instruction}");
}

#[tokio::test]
async fn language_findings_name_their_file_layer_and_instruction() {
    let host = shared("dockerd").get("DOCKER_HOST").to_string();
    let docker = docker::connect(&host, None).await.expect("dockerd");
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("opsdeck.db")).await.unwrap();
    images(&docker).await;

    // Before any language advisory is loaded the scan says it could not assess them.
    let report = scan_image(&docker, &host, &db, "opsdeck-test/lang-app:1", &Policy::default(), &|_| {}).await.expect("scan");
    let why = report.assessment.verdict.not_assessed.join("\n");
    for eco in ["npm", "PyPI", "Maven", "Go", "crates.io"] {
        assert!(why.contains(&format!("no advisories loaded for {eco}")), "{eco} missing from {why}");
    }
    assert!(!why.contains("unknown OS"), "busybox has no OS packages and language packages are there: FROM scratch-like, {why}");

    let folder = dir.path().join("osv");
    std::fs::create_dir_all(&folder).unwrap();
    let records = advisories_records();
    for r in &records {
        std::fs::write(folder.join(format!("{}.json", r["id"].as_str().unwrap())), serde_json::to_vec(r).unwrap()).unwrap();
    }
    let imported = advisories::import_path(&db, &folder).await.expect("import");
    assert_eq!((imported.records, imported.skipped_ecosystems), (records.len() as u64, 0), "language records are kept: {imported:?}");

    let report = scan_image(&docker, &host, &db, "opsdeck-test/lang-app:1", &Policy::default(), &|_| {}).await.expect("scan");
    assert_eq!(report.layers.len(), 7, "busybox, COPY urllib3 (base); five COPY of the app");
    assert_eq!(report.layers.iter().map(|l| l.base).collect::<Vec<_>>(), [true, true, false, false, false, false, false]);

    // The catalogue: each ecosystem's packages with their files.
    let pkg = |scheme: Scheme, name: &str| report.packages.iter().find(|p| p.scheme == scheme && p.name == name).cloned();
    let lodash = pkg(Scheme::Npm, "lodash").expect("lodash catalogued");
    assert_eq!((lodash.version.as_str(), lodash.path.as_deref()), ("4.17.20", Some("srv/web/node_modules/lodash/package.json")));
    assert_eq!(report.packages.iter().filter(|p| p.name == "lodash").count(), 1, "the lock file entry is the installed package");
    assert_eq!(pkg(Scheme::Go, "stdlib").map(|p| p.version.starts_with("1.")), Some(true), "the Go toolchain as OSV's stdlib");
    assert_eq!(pkg(Scheme::Go, "golang.org/x/text").map(|p| p.version), Some("v0.3.7".into()));
    assert_eq!(pkg(Scheme::PyPI, "requests").and_then(|p| p.path), Some(format!("{SITE}/requests-2.31.0.dist-info/METADATA")));

    check(&report, "GHSA-35jh-r3h4-6jhm", "lodash", "4.17.20", "4.17.21", "srv/web/node_modules/lodash/package.json", 3, false, "/srv/web");
    check(
        &report,
        "GHSA-9wx4-h78v-vm56",
        "requests",
        "2.31.0",
        "2.32.0",
        &format!("{SITE}/requests-2.31.0.dist-info/METADATA"),
        2,
        false,
        SITE,
    );
    check(
        &report,
        "GHSA-34jh-p97f-mpxf",
        "urllib3",
        "1.26.18",
        "1.26.19",
        &format!("{SITE}/urllib3-1.26.18.dist-info/METADATA"),
        1,
        true,
        SITE,
    );
    check(&report, "GHSA-mjmj-j48q-9wg2", "org.yaml:snakeyaml", "1.33", "2.0", "opt/app/lib/snakeyaml-1.33.jar", 4, false, "/opt/app/lib");
    check(&report, "GO-2022-1059", "golang.org/x/text", "v0.3.7", "0.3.8", "usr/local/bin/gobin", 5, false, "/usr/local/bin/gobin");
    check(&report, "RUSTSEC-2021-0003", "smallvec", "1.6.0", "1.6.1", "srv/tool/Cargo.lock", 6, false, "/srv/tool/Cargo.lock");
    let ids: Vec<&str> = report.assessment.vulnerabilities.iter().map(|v| v.ids[0].as_str()).collect();
    assert!(!ids.contains(&"GHSA-p6mc-m468-83gw") && !ids.contains(&"GHSA-v845-jxx5-vc9f"), "fixed before the installed version: {ids:?}");
    assert_eq!(finding(&report, "GO-2022-1059").ecosystem.as_deref(), Some("Go"));
    assert_eq!(report.assessment.counts.high, 2, "lodash and snakeyaml: {:?}", report.assessment.counts);
    assert_ne!(report.assessment.verdict.decision, Decision::Allow, "two HIGH findings");

    // Your layers only: the base image's urllib3 leaves the gate; base only: it alone counts.
    let mut ours = report.clone();
    restrict(&mut ours, &Policy::default(), LayerScope::Ours);
    let counted: Vec<&str> = ours.assessment.vulnerabilities.iter().map(|v| v.ids[0].as_str()).collect();
    assert!(!counted.contains(&"GHSA-34jh-p97f-mpxf") && counted.contains(&"GHSA-9wx4-h78v-vm56"), "{counted:?}");
    assert!(ours.assessment.excluded.iter().any(|v| v.ids[0] == "GHSA-34jh-p97f-mpxf"));
    assert!(ours.packages.iter().all(|p| p.layer.as_ref().is_none_or(|l| !l.base)));
    let mut base = report.clone();
    restrict(&mut base, &Policy::default(), LayerScope::Base);
    let counted: Vec<&str> = base.assessment.vulnerabilities.iter().map(|v| v.ids[0].as_str()).collect();
    assert_eq!(counted, ["GHSA-34jh-p97f-mpxf"]);
    assert_eq!(base.assessment.counts.high, 0);

    // The reports carry the provenance too.
    let sarif = opsdeck_core::scanner::reports::render(&report, opsdeck_core::scanner::reports::Format::Sarif).unwrap();
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    let result = sarif["runs"][0]["results"].as_array().unwrap().iter().find(|r| r["ruleId"] == "GO-2022-1059").expect("SARIF result");
    assert_eq!(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "usr/local/bin/gobin");
    assert_eq!(result["properties"]["layerIndex"], 5);
    let cdx = opsdeck_core::scanner::reports::render(&report, opsdeck_core::scanner::reports::Format::Cyclonedx).unwrap();
    let cdx: Value = serde_json::from_str(&cdx).unwrap();
    let yaml = cdx["components"].as_array().unwrap().iter().find(|c| c["name"] == "org.yaml:snakeyaml").expect("component");
    assert_eq!(yaml["purl"], "pkg:maven/org.yaml/snakeyaml@1.33");
    let props: Vec<(&str, &str)> =
        yaml["properties"].as_array().unwrap().iter().map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap())).collect();
    assert!(
        props.contains(&("opsdeck:path", "/opt/app/lib/snakeyaml-1.33.jar")) && props.contains(&("opsdeck:layer:index", "4")),
        "{props:?}"
    );

    // A rescan reads nothing from Docker and finds the same.
    let again = scan_image(&docker, &host, &db, "opsdeck-test/lang-app:1", &Policy::default(), &|_| {}).await.expect("rescan");
    assert!(again.layers.iter().all(|l| l.from_cache));
    assert_eq!(again.assessment.vulnerabilities, report.assessment.vulnerabilities);
}

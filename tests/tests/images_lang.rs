//! Language packages in images on the real dockerd: real artifacts from the
//! registries (PyPI wheels installed by pip, an npm package installed by
//! npm, a JAR from Maven Central, a Go binary built here with its module
//! build info, a Cargo.lock and a cargo-auditable binary from crates.io)
//! copied into images built FROM a locally made base image
//! (tests/src/lang.rs); OSV records transcribed from the published
//! advisories named in each case. Each finding is checked with its file,
//! its layer, that layer's Dockerfile instruction and the base-image flag;
//! then the "your layers only / base image only" scopes, in the core and
//! through `opsdeck scan --layers`.

use opsdeck_core::cache::db::Db;
use opsdeck_core::connectors::docker;
use opsdeck_core::scanner::advisories::{self, Vulnerability};
use opsdeck_core::scanner::policy::{Decision, Policy};
use opsdeck_core::scanner::provenance::{restrict, LayerScope};
use opsdeck_core::scanner::scan::{scan_image, ScanReport};
use opsdeck_core::scanner::versions::Scheme;
use opsdeck_tests::lang::{advisories_records, images, write_advisories, SITE};
use opsdeck_tests::service::shared;
use serde_json::Value;

fn finding<'a>(r: &'a ScanReport, id: &str, path: &str) -> &'a Vulnerability {
    let all: Vec<(&str, Option<&str>)> = r.assessment.vulnerabilities.iter().map(|v| (v.ids[0].as_str(), v.path.as_deref())).collect();
    r.assessment
        .vulnerabilities
        .iter()
        .find(|v| v.ids[0] == id && v.path.as_deref() == Some(path))
        .unwrap_or_else(|| panic!("no {id} in {path} among {all:?}"))
}

/// Where a finding must come from: its file, layer index, base flag, and the layer's instruction.
struct From<'a>(&'a str, u32, bool, &'a str);

/// The finding's package, version and fix, and where it came from.
fn check(r: &ScanReport, id: &str, (package, installed, fixed): (&str, &str, &str), From(path, layer, base, instruction): From<'_>) {
    let v = finding(r, id, path);
    assert_eq!((v.package.as_str(), v.installed.as_str(), v.fixed.as_deref()), (package, installed, Some(fixed)), "{id}");
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

    let folder = write_advisories(&dir.path().join("osv"));
    let records = advisories_records();
    let imported = advisories::import_path(&db, &folder).await.expect("import");
    assert_eq!((imported.records, imported.skipped_ecosystems), (records.len() as u64, 0), "language records are kept: {imported:?}");

    let report = scan_image(&docker, &host, &db, "opsdeck-test/lang-app:1", &Policy::default(), &|_| {}).await.expect("scan");
    assert_eq!(report.layers.len(), 8, "busybox, COPY urllib3 (base); six COPY of the app");
    assert_eq!(report.layers.iter().map(|l| l.base).collect::<Vec<_>>(), [true, true, false, false, false, false, false, false]);

    // The catalogue: each ecosystem's packages with their files.
    let pkg = |scheme: Scheme, name: &str| report.packages.iter().find(|p| p.scheme == scheme && p.name == name).cloned();
    let lodash = pkg(Scheme::Npm, "lodash").expect("lodash catalogued");
    assert_eq!((lodash.version.as_str(), lodash.path.as_deref()), ("4.17.20", Some("srv/web/node_modules/lodash/package.json")));
    assert_eq!(report.packages.iter().filter(|p| p.name == "lodash").count(), 1, "the lock file entry is the installed package");
    assert_eq!(pkg(Scheme::Go, "stdlib").map(|p| p.version.starts_with("1.")), Some(true), "the Go toolchain as OSV's stdlib");
    assert_eq!(pkg(Scheme::Go, "golang.org/x/text").map(|p| p.version), Some("v0.3.7".into()));
    assert_eq!(pkg(Scheme::PyPI, "requests").and_then(|p| p.path), Some(format!("{SITE}/requests-2.31.0.dist-info/METADATA")));

    check(
        &report,
        "GHSA-35jh-r3h4-6jhm",
        ("lodash", "4.17.20", "4.17.21"),
        From("srv/web/node_modules/lodash/package.json", 3, false, "/srv/web"),
    );
    check(
        &report,
        "GHSA-9wx4-h78v-vm56",
        ("requests", "2.31.0", "2.32.0"),
        From(&format!("{SITE}/requests-2.31.0.dist-info/METADATA"), 2, false, SITE),
    );
    check(
        &report,
        "GHSA-34jh-p97f-mpxf",
        ("urllib3", "1.26.18", "1.26.19"),
        From(&format!("{SITE}/urllib3-1.26.18.dist-info/METADATA"), 1, true, SITE),
    );
    check(
        &report,
        "GHSA-mjmj-j48q-9wg2",
        ("org.yaml:snakeyaml", "1.33", "2.0"),
        From("opt/app/lib/snakeyaml-1.33.jar", 4, false, "/opt/app/lib"),
    );
    check(&report, "GO-2022-1059", ("golang.org/x/text", "v0.3.7", "0.3.8"), From("usr/local/bin/gobin", 5, false, "/usr/local/bin/gobin"));
    check(&report, "RUSTSEC-2021-0003", ("smallvec", "1.6.0", "1.6.1"), From("srv/tool/Cargo.lock", 6, false, "/srv/tool/Cargo.lock"));
    // The same crate in a cargo-auditable binary: its own finding, its own file and layer.
    check(&report, "RUSTSEC-2021-0003", ("smallvec", "1.6.0", "1.6.1"), From("usr/local/bin/svc", 7, false, "/usr/local/bin/svc"));
    let ids: Vec<&str> = report.assessment.vulnerabilities.iter().map(|v| v.ids[0].as_str()).collect();
    assert!(!ids.contains(&"GHSA-p6mc-m468-83gw") && !ids.contains(&"GHSA-v845-jxx5-vc9f"), "fixed before the installed version: {ids:?}");
    assert_eq!(finding(&report, "GO-2022-1059", "usr/local/bin/gobin").ecosystem.as_deref(), Some("Go"));
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

/// `opsdeck scan --layers ours|base`: the gate and the JSON report keep one side.
#[tokio::test]
async fn cli_layers_flag_keeps_one_side_of_the_base_boundary() {
    let host = shared("dockerd").get("DOCKER_HOST").to_string();
    let docker = docker::connect(&host, None).await.expect("dockerd");
    images(&docker).await;
    let dir = tempfile::tempdir().unwrap();
    let folder = write_advisories(&dir.path().join("osv"));
    let run = |layers: &str| {
        let out = std::process::Command::new(opsdeck_tests::workspace::cli_bin())
            .args(["scan", "opsdeck-test/lang-app:1", "--format", "json", "--layers", layers, "--advisories"])
            .arg(&folder)
            .env("OPSDECK_DATA_DIR", dir.path().join("data"))
            .env("DOCKER_HOST", &host)
            .output()
            .expect("run opsdeck");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let reports: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let r = &reports[0];
        let ids = |key: &str| -> Vec<String> {
            let mut v: Vec<String> = r[key].as_array().unwrap().iter().map(|v| v["ids"][0].as_str().unwrap().to_string()).collect();
            v.sort();
            v
        };
        (ids("vulnerabilities"), ids("excluded"), r["packages"].as_array().unwrap().len())
    };
    let (counted, excluded, base_packages) = run("base");
    assert_eq!(counted, ["GHSA-34jh-p97f-mpxf"]);
    assert!(excluded.contains(&"GO-2022-1059".to_string()), "{excluded:?}");
    let (counted, excluded, own_packages) = run("ours");
    assert_eq!(
        counted,
        ["GHSA-35jh-r3h4-6jhm", "GHSA-9wx4-h78v-vm56", "GHSA-mjmj-j48q-9wg2", "GO-2022-1059", "RUSTSEC-2021-0003", "RUSTSEC-2021-0003"],
        "the base image's urllib3 is left out"
    );
    assert_eq!(excluded, ["GHSA-34jh-p97f-mpxf"]);
    assert!(base_packages >= 1 && own_packages > base_packages, "{base_packages} base, {own_packages} own packages");
}

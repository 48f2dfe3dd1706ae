//! Issue 15, the engine's export in the legacy `docker save` layout (the
//! test dockerd is Docker 20.10: `<v1 id>/layer.tar`, named by no digest).
//! A scan that must export an image whose lower layers are cached reuses
//! them: each export folder read is remembered with its layer, and a later
//! export only hashes it. Observable: the report's per-layer `from_cache`
//! is false only for a layer this scan parsed (cached before or not). A
//! remembered folder that holds another layer is found out by its hash, the
//! export is read again and the report is still right.

use opsdeck_core::cache::db::Db;
use opsdeck_core::connectors::docker;
use opsdeck_core::scanner::layer_cache;
use opsdeck_core::scanner::policy::Policy;
use opsdeck_core::scanner::scan::{scan_image, Progress, ScanReport};
use opsdeck_tests::images::{build, import, Rootfs};
use opsdeck_tests::service::shared;

/// base (Alpine) → app (+ a.txt) → one image per extra file (+ x.txt).
async fn images(extra: &[&str]) -> bollard::Docker {
    let d = docker::connect(shared("dockerd").get("DOCKER_HOST"), None).await.expect("dockerd");
    static BASE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    let base = d.clone();
    BASE.get_or_init(|| async move {
        import(&base, Rootfs::Alpine, "opsdeck-reuse/base:1").await;
        build(&base, "opsdeck-reuse/app:1", "FROM opsdeck-reuse/base:1\nCOPY a.txt /a.txt\n", &[("a.txt", b"a\n")]).await;
    })
    .await;
    for x in extra {
        let dockerfile = format!("FROM opsdeck-reuse/app:1\nCOPY {x}.txt /{x}.txt\n");
        let body = format!("{x}\n");
        build(&d, &format!("opsdeck-reuse/{x}:1"), &dockerfile, &[(&format!("{x}.txt"), body.as_bytes())]).await;
    }
    d
}

async fn scan(d: &bollard::Docker, db: &Db, image: &str) -> (ScanReport, bool) {
    let host = shared("dockerd").get("DOCKER_HOST");
    let exported = std::sync::atomic::AtomicBool::new(false);
    let report = scan_image(d, host, db, image, &Policy::default(), &|p| {
        if matches!(p, Progress::Reading { .. }) {
            exported.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    })
    .await
    .unwrap_or_else(|e| panic!("scan {image}: {e}"));
    (report, exported.into_inner())
}

fn cached(r: &ScanReport) -> Vec<bool> {
    r.layers.iter().map(|l| l.from_cache).collect()
}

async fn folders(db: &Db, digest: &str) -> Vec<String> {
    let (json,): (Option<String>,) =
        sqlx::query_as("SELECT json_extract(record_json, '$.legacy_folders') FROM layer_cache WHERE digest = ?")
            .bind(digest)
            .fetch_one(db.pool())
            .await
            .unwrap();
    json.map(|j| serde_json::from_str(&j).unwrap()).unwrap_or_default()
}

async fn set_folders(db: &Db, digest: &str, folders: &[String]) {
    sqlx::query("UPDATE layer_cache SET record_json = json_set(record_json, '$.legacy_folders', json(?)) WHERE digest = ?")
        .bind(serde_json::to_string(folders).unwrap())
        .bind(digest)
        .execute(db.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn an_export_reuses_the_cached_lower_layers_instead_of_parsing_them_again() {
    let d = images(&["b", "c", "e"]).await;
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("opsdeck.db")).await.unwrap();

    // Cold: every layer parsed.
    let (b, exported) = scan(&d, &db, "opsdeck-reuse/b:1").await;
    assert!(exported);
    assert_eq!(cached(&b), [false, false, false], "{:?}", b.layers);
    let (base, app) = (b.layers[0].digest.clone(), b.layers[1].digest.clone());
    assert_eq!(folders(&db, &base).await.len(), 1, "the export folder of the base layer is remembered");

    // Another image on the same two layers: its export carries them (the
    // legacy layout always does) and only its own layer is parsed.
    let (c, exported) = scan(&d, &db, "opsdeck-reuse/c:1").await;
    assert!(exported);
    assert_eq!(cached(&c), [true, true, false], "only c's own layer is read: {:?}", c.layers);
    assert_eq!(c.packages, b.packages, "the reused layers give the same packages");
    assert_eq!(c.os, b.os);

    // A warm rescan after its top layer left the cache: only that one is parsed.
    let top = c.layers[2].digest.clone();
    sqlx::query("DELETE FROM layer_cache WHERE digest = ?").bind(&top).execute(db.pool()).await.unwrap();
    let (again, exported) = scan(&d, &db, "opsdeck-reuse/c:1").await;
    assert!(exported);
    assert_eq!(cached(&again), [true, true, false], "{:?}", again.layers);
    assert_eq!(again.packages, c.packages);

    // Everything cached: no export at all (the remembered folders do not
    // spoil the cached records).
    let (warm, exported) = scan(&d, &db, "opsdeck-reuse/c:1").await;
    assert!(!exported, "nothing to read");
    assert_eq!(cached(&warm), [true, true, true]);
    assert_eq!(warm.packages, c.packages);
    assert_eq!(layer_cache::count(&db).await.unwrap(), 4, "base, a, b, c");

    // Adversarial: the remembered folders of base and app swapped (a folder
    // naming another layer). The hash finds it out, the export is read once
    // more without them, the report is right and the folders are mended.
    let (fb, fa) = (folders(&db, &base).await, folders(&db, &app).await);
    assert!(!fb.is_empty() && !fa.is_empty() && fb != fa);
    set_folders(&db, &base, &fa).await;
    set_folders(&db, &app, &fb).await;
    let (e, exported) = scan(&d, &db, "opsdeck-reuse/e:1").await;
    assert!(exported);
    assert_eq!(cached(&e), [false, false, false], "the swapped folders are read again: {:?}", e.layers);
    assert_eq!(e.packages, b.packages);
    let mended = folders(&db, &base).await;
    assert!(mended.iter().all(|f| !fa.contains(f)), "the wrong folder is forgotten: {mended:?}");
    assert!(fb.iter().all(|f| mended.contains(f)), "the right one is remembered again: {mended:?}");
    let (c2, _) = scan(&d, &db, "opsdeck-reuse/c:1").await;
    assert_eq!(cached(&c2), [true, true, true]);
}

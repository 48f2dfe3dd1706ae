//! Values are bytes from etcd to etcd: random binary values (invalid UTF-8,
//! NUL, 0xFF…, empty, control characters, large) go through every path of the
//! Config workspace against a real etcd — put, rollback, copy, compare,
//! export → import (JSON and YAML) on the backend the app calls, and the
//! `opsdeck config` CLI (put from standard input, get --raw, rollback,
//! export/import) — and come out byte for byte; the text views show them as
//! base64 and never write that text back.

use etcd_client::Client;
use opsdeck_core::config::format::ValueFormat;
use opsdeck_core::config::transfer::DocFormat;
use opsdeck_core::config::{CopyItem, WriteResult};
use opsdeck_core::ErrorCode;
use opsdeck_tests::backend::TestBackend;
use opsdeck_tests::{noise, workspace, Service};

/// The values every path must carry unchanged.
fn samples() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = vec![
        vec![],
        vec![0],
        vec![0xff; 16],
        vec![0xff, 0xfe, 0x00, 0x01],
        b"\xc3\x28 invalid utf-8".to_vec(),
        b"text\0with NUL".to_vec(),
        b"\x1b[31mred\x1b[0m\r\n".to_vec(),
        b"\xef\xbb\xbfBOM then text".to_vec(),
        "中文配置 ✓".as_bytes().to_vec(),
        b"{\"json\": true}".to_vec(),
        noise(99, 64 * 1024),
    ];
    for seed in 1..=24u64 {
        v.push(noise(seed, (seed as usize * 53) % 700));
    }
    v
}

fn rel(i: usize) -> String {
    format!("k{i:03}")
}

async fn raw(c: &mut Client, key: &str) -> Option<Vec<u8>> {
    c.get(key, None).await.unwrap().kvs().first().map(|kv| kv.value().to_vec())
}

async fn mod_rev(c: &mut Client, key: &str) -> i64 {
    c.get(key, None).await.unwrap().kvs().first().map(|kv| kv.mod_revision()).unwrap_or(0)
}

/// Asserts every sample sits under `prefix`, byte for byte.
async fn assert_all(c: &mut Client, prefix: &str, what: &str) {
    for (i, want) in samples().iter().enumerate() {
        let key = format!("{prefix}{}", rel(i));
        let got = raw(c, &key).await.unwrap_or_else(|| panic!("{what}: {key} missing"));
        assert!(&got == want, "{what}: {key}: {} bytes stored, {} expected (first differing at {:?})", got.len(), want.len(), {
            got.iter().zip(want.iter()).position(|(a, b)| a != b)
        });
    }
}

fn written(r: WriteResult) -> i64 {
    match r {
        WriteResult::Written { meta, .. } => meta.mod_revision,
        WriteResult::Conflict { current } => panic!("unexpected conflict: {current:?}"),
    }
}

#[tokio::test]
async fn binary_values_round_trip_through_every_backend_path() {
    let etcd = Service::start("etcd", &[]);
    let t = TestBackend::new().await;
    let s = t.etcd_session("bin", etcd.get("ETCD_ENDPOINT")).await;
    let mut o = Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();

    // put: the bytes path stores exactly what it is given.
    for (i, v) in samples().iter().enumerate() {
        written(t.backend.config_put_bytes(&s, &format!("/src/{}", rel(i)), v, 0, "binary").await.unwrap());
    }
    assert_all(&mut o, "/src/", "put").await;

    // The text view: base64 for what is not UTF-8, flagged binary.
    let kv = t.backend.config_get(&s, "/src/k002").await.unwrap();
    assert_eq!(kv.format, ValueFormat::Binary);
    assert_eq!(kv.value, "/////////////////////w==", "sixteen 0xFF bytes in base64");
    assert_eq!(kv.size, 16);
    // Saving that text back as the value is refused, nothing written.
    let refused = t.backend.config_put(&s, "/src/k002", &kv.value, kv.meta.mod_revision, ValueFormat::Binary, false, "").await.unwrap_err();
    assert_eq!(refused.code(), ErrorCode::InvalidInput, "{refused}");
    assert!(refused.to_string().contains("base64"), "{refused}");
    assert_eq!(mod_rev(&mut o, "/src/k002").await, kv.meta.mod_revision);
    assert_eq!(t.backend.config_get_bytes(&s, "/src/k005").await.unwrap(), b"text\0with NUL");

    // rollback: overwrite each value with text, roll back, get the bytes.
    for (i, v) in samples().iter().enumerate() {
        let key = format!("/rb/{}", rel(i));
        let r0 = written(t.backend.config_put_bytes(&s, &key, v, 0, "").await.unwrap());
        let r1 = written(t.backend.config_put(&s, &key, "overwritten", r0, ValueFormat::Plain, false, "").await.unwrap());
        written(t.backend.config_rollback(&s, &key, r0, r1, "back").await.unwrap());
        let history = t.backend.config_history(&s, &key, 10).await.unwrap();
        assert_eq!(history.entries.len(), 3);
    }
    assert_all(&mut o, "/rb/", "rollback").await;

    // compare: byte for byte. Two different invalid sequences that read as
    // the same replacement characters are still different.
    o.put("/cmp/a/x", b"\xff\xfe".to_vec(), None).await.unwrap();
    o.put("/cmp/b/x", b"\xfe\xff".to_vec(), None).await.unwrap();
    o.put("/cmp/a/same", b"\x00\xff".to_vec(), None).await.unwrap();
    o.put("/cmp/b/same", b"\x00\xff".to_vec(), None).await.unwrap();
    let d = t.backend.config_compare(&s, "/cmp/a/", "/cmp/b/").await.unwrap();
    assert_eq!(d.same, 1);
    assert_eq!(d.different.len(), 1, "{d:?}");
    assert!(d.different[0].left_binary && d.different[0].right_binary);
    assert_eq!(d.different[0].left.as_deref(), Some("//4="), "shown as base64");

    // copy: every sample from /src/ to /dst/, in transactions of 64 keys.
    let d = t.backend.config_compare(&s, "/src/", "/dst/").await.unwrap();
    assert_eq!(d.only_left.len(), samples().len());
    assert!(d.only_left.iter().any(|i| i.left_binary) && d.only_left.iter().any(|i| !i.left_binary));
    for chunk in d.only_left.chunks(64) {
        let items: Vec<CopyItem> =
            chunk.iter().map(|i| CopyItem { rel: i.rel.clone(), left_mod_revision: i.left_mod_revision, right_mod_revision: 0 }).collect();
        let r = t.backend.config_copy(&s, "/src/", "/dst/", &items, "copy").await.unwrap();
        assert!(r.conflicts.is_empty(), "{r:?}");
    }
    assert_all(&mut o, "/dst/", "copy").await;
    assert_eq!(t.backend.config_compare(&s, "/src/", "/dst/").await.unwrap().same, samples().len());

    // export → import, JSON and YAML: binary values carry an explicit marker.
    for (format, target) in [(DocFormat::Json, "/imp-json/"), (DocFormat::Yaml, "/imp-yaml/")] {
        let doc = t.backend.config_export(&s, "/src/", format).await.unwrap();
        assert!(doc.contains("base64"), "{format:?}: binary values are marked");
        let report = t.backend.config_import(&s, target, &doc, "import").await.unwrap();
        assert_eq!(report.applied, samples().len());
        assert_all(&mut o, target, &format!("{format:?} export → import")).await;
        let again = t.backend.config_import_preview(&s, target, &doc).await.unwrap();
        assert_eq!((again.creates.len(), again.updates.len(), again.unchanged), (0, 0, samples().len()), "{format:?}: compared as bytes");
    }

    // A document whose base64 is broken is refused before anything is written.
    let bad = r#"{"prefix": "/src/", "keys": {"ok": "text", "broken": {"base64": "%%%"}}}"#;
    let e = t.backend.config_import(&s, "/bad/", bad, "").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidInput, "{e}");
    assert!(e.to_string().contains("keys.broken"), "{e}");
    assert_eq!(raw(&mut o, "/bad/ok").await, None, "nothing written");
    let e = t.backend.config_import(&s, "/bad/", "prefix: /src/\nkeys:\n  k: !!binary aGk=\n", "").await.unwrap_err();
    assert!(e.to_string().contains("!!binary"), "{e}");
}

struct Cli {
    data: tempfile::TempDir,
    endpoint: String,
}

impl Cli {
    fn run(&self, args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
        let mut cmd = workspace::cli(self.data.path(), &format!("opsdeck-cli-binary-{}", std::process::id()));
        cmd.arg("config").args(["--endpoints", &self.endpoint]).args(args);
        workspace::run_with_stdin(cmd, stdin)
    }

    fn ok(&self, args: &[&str], stdin: &[u8]) -> Vec<u8> {
        let (code, out, err) = self.run(args, stdin);
        assert_eq!(code, 0, "opsdeck config {args:?}: {err}");
        out
    }
}

#[tokio::test]
async fn binary_values_round_trip_through_the_cli() {
    let etcd = Service::start("etcd", &[]);
    let cli = Cli { data: tempfile::tempdir().unwrap(), endpoint: etcd.get("ETCD_ENDPOINT").into() };
    let mut o = Client::connect([etcd.get("ETCD_ENDPOINT")], None).await.unwrap();

    // put from standard input (bytes) and get --raw, for every sample.
    for (i, v) in samples().iter().enumerate() {
        let key = format!("/c/src/{}", rel(i));
        cli.ok(&["put", &key, "-", "--create"], v);
        assert!(&cli.ok(&["get", &key, "--raw"], b"") == v, "get --raw of {key}");
    }
    assert_all(&mut o, "/c/src/", "cli put").await;
    // The plain text view prints base64 for a binary value.
    assert_eq!(cli.ok(&["get", "/c/src/k002"], b""), b"/////////////////////w==\n");

    // rollback to a binary revision writes its bytes, not their base64.
    let first = mod_rev(&mut o, "/c/src/k003").await;
    cli.ok(&["put", "/c/src/k003", "now text"], b"");
    cli.ok(&["rollback", "/c/src/k003", "--to", &first.to_string()], b"");
    assert_eq!(raw(&mut o, "/c/src/k003").await.unwrap(), samples()[3]);

    // export → import through files, both formats.
    for (format, target) in [("json", "/c/json/"), ("yaml", "/c/yaml/")] {
        let doc = cli.ok(&["export", "/c/src/", "--format", format], b"");
        let file = cli.data.path().join(format!("export.{format}"));
        std::fs::write(&file, &doc).unwrap();
        cli.ok(&["import", target, file.to_str().unwrap()], b"");
        assert_all(&mut o, target, &format!("cli {format}")).await;
        let (code, _, err) = cli.run(&["diff", "/c/src/", target], b"");
        assert_eq!(code, 0, "no difference after the import: {err}");
    }
}

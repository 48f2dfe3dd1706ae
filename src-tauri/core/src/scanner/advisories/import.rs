//! Importing OSV records from a folder (recursively, `*.json`, each one
//! record or an array of records) or a `.zip` as OSV publishes them. A
//! reader thread parses entries one at a time and sends batches; the
//! database side writes each batch in one transaction. A malformed entry is
//! reported and skipped; it never aborts the import.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tokio::sync::mpsc;

use super::osv::Record;
use super::store::{self, normalize, Normalized};
use crate::cache::db::Db;
use crate::error::{Error, Result};

/// Largest single JSON entry accepted (OSV records are a few KiB).
pub const MAX_ENTRY: u64 = 16 * 1024 * 1024;
const BATCH: usize = 1000;
/// Files and folders an advisory folder walk visits at most (OSV's whole
/// database is about a million records; its zip is the way to import it).
pub const MAX_WALK: usize = 2_000_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename = "AdvisoryImport")] // its name in the IPC contract (config has an ImportReport)
pub struct ImportReport {
    pub source: String,
    /// Records of supported ecosystems written.
    pub records: u64,
    /// Records only about other ecosystems (Hex, NuGet, …).
    pub skipped_ecosystems: u64,
    /// Entries that could not be read, with why.
    pub malformed: Vec<(String, String)>,
    /// Records per ecosystem family.
    pub by_family: BTreeMap<String, u64>,
}

enum Message {
    Batch(Vec<Normalized>),
    Skipped(u64),
    Malformed(String, String),
}

pub async fn import_path(db: &Db, path: &Path) -> Result<ImportReport> {
    let meta = std::fs::metadata(path).map_err(|e| Error::invalid(format!("advisories {}: {e}", path.display())))?;
    if !meta.is_dir() {
        // A chosen file: regular (not a FIFO or device that never ends) and under the input cap.
        crate::scanner::budget::check_chosen_file(path, "advisories")?;
    }
    let is_zip = meta.is_file() && path.extension().is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if meta.is_file() && !is_zip && !path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        return Err(Error::invalid(format!("advisories {}: expected a folder, a .zip or a .json file of OSV records", path.display())));
    }
    let (tx, mut rx) = mpsc::channel::<Message>(4);
    let source = path.to_path_buf();
    let reader = tokio::task::spawn_blocking(move || if is_zip { read_zip(&source, &tx) } else { read_files(&source, &tx) });
    let mut report = ImportReport { source: path.display().to_string(), ..Default::default() };
    while let Some(msg) = rx.recv().await {
        match msg {
            Message::Batch(batch) => {
                let mut t = db.pool().begin().await?;
                report.records += store::upsert(&mut t, &batch).await?;
                t.commit().await?;
                for n in &batch {
                    for family in n.affected.iter().map(|a| format!("{:?}", a.family)).collect::<std::collections::BTreeSet<_>>() {
                        *report.by_family.entry(family).or_default() += 1;
                    }
                }
            }
            Message::Skipped(n) => report.skipped_ecosystems += n,
            Message::Malformed(name, why) => report.malformed.push((name, why)),
        }
    }
    reader.await.map_err(|e| Error::Internal(format!("advisory reader stopped: {e}")))??;
    store::record_import(db, &report.source, report.records, report.skipped_ecosystems, report.malformed.len()).await?;
    Ok(report)
}

/// Collects records into batches and sends them.
struct Sender<'a> {
    tx: &'a mpsc::Sender<Message>,
    batch: Vec<Normalized>,
}

impl Sender<'_> {
    fn entry(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let records: Vec<Record> = match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(serde_json::Value::Array(items)) => {
                match items.into_iter().map(serde_json::from_value).collect::<std::result::Result<Vec<Record>, _>>() {
                    Ok(r) => r,
                    Err(e) => return self.send(Message::Malformed(name.into(), e.to_string())),
                }
            }
            Ok(v) => match serde_json::from_value(v) {
                Ok(r) => vec![r],
                Err(e) => return self.send(Message::Malformed(name.into(), e.to_string())),
            },
            Err(e) => return self.send(Message::Malformed(name.into(), e.to_string())),
        };
        let mut skipped = 0;
        for r in records {
            match normalize(r) {
                Some(n) => self.batch.push(n),
                None => skipped += 1,
            }
        }
        if skipped > 0 {
            self.send(Message::Skipped(skipped))?;
        }
        if self.batch.len() >= BATCH {
            let batch = std::mem::take(&mut self.batch);
            self.send(Message::Batch(batch))?;
        }
        Ok(())
    }

    fn send(&self, m: Message) -> Result<()> {
        self.tx.blocking_send(m).map_err(|_| Error::Internal("advisory import cancelled".into()))
    }

    fn finish(mut self) -> Result<()> {
        let batch = std::mem::take(&mut self.batch);
        if !batch.is_empty() {
            self.send(Message::Batch(batch))?;
        }
        Ok(())
    }
}

fn read_limited(r: impl Read, name: &str, size: u64) -> std::result::Result<Vec<u8>, String> {
    if size > MAX_ENTRY {
        return Err(format!("{size} bytes is over the {MAX_ENTRY}-byte limit for one advisory file"));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    r.take(MAX_ENTRY + 1).read_to_end(&mut bytes).map_err(|e| format!("{name}: {e}"))?;
    if bytes.len() as u64 > MAX_ENTRY {
        return Err(format!("over the {MAX_ENTRY}-byte limit for one advisory file"));
    }
    Ok(bytes)
}

fn read_files(root: &Path, tx: &mpsc::Sender<Message>) -> Result<()> {
    let mut out = Sender { tx, batch: Vec::new() };
    // The walk never follows a symbolic link to a folder (a link loop
    // would never end) and stops at MAX_WALK entries; a linked file is read.
    let mut pending: Vec<PathBuf> = Vec::new();
    let mut files = Vec::new();
    if root.is_dir() {
        pending.push(root.to_path_buf());
    } else {
        files.push(root.to_path_buf());
    }
    let mut seen = 0usize;
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::invalid(format!("advisories {}: {e}", dir.display())))?;
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_WALK {
                return Err(Error::invalid(format!(
                    "refused: advisories {} holds more than {MAX_WALK} files and folders; import OSV's zip, or a folder of one ecosystem",
                    root.display()
                )));
            }
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => pending.push(path),
                Ok(t) if t.is_symlink() && path.is_dir() => {
                    out.send(Message::Malformed(
                        path.strip_prefix(root).unwrap_or(&path).display().to_string(),
                        "a symbolic link to a folder: not followed (it could loop)".into(),
                    ))?;
                }
                Ok(_) if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) => files.push(path),
                _ => {}
            }
        }
    }
    files.sort();
    for f in files {
        let name = f.strip_prefix(root).unwrap_or(&f).display().to_string();
        let bytes = File::open(&f).map_err(|e| e.to_string()).and_then(|file| {
            let size = file.metadata().map(|m| m.len()).unwrap_or(0);
            read_limited(file, &name, size)
        });
        match bytes {
            Ok(b) => out.entry(&name, &b)?,
            Err(why) => out.send(Message::Malformed(name, why))?,
        }
    }
    out.finish()
}

fn read_zip(path: &Path, tx: &mpsc::Sender<Message>) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::invalid(format!("advisories {}: {e}", path.display())))?;
    let mut zip =
        zip::ZipArchive::new(file).map_err(|e| Error::invalid(format!("advisories {} is not a readable zip: {e}", path.display())))?;
    let mut out = Sender { tx, batch: Vec::new() };
    for i in 0..zip.len() {
        let entry = match zip.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                out.send(Message::Malformed(format!("entry {i}"), e.to_string()))?;
                continue;
            }
        };
        let name = entry.name().map(|n| n.to_string()).unwrap_or_else(|_| format!("entry {i}"));
        if entry.is_dir() || !name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        let size = entry.size();
        match read_limited(entry, &name, size) {
            Ok(b) => out.entry(&name, &b)?,
            Err(why) => out.send(Message::Malformed(name, why))?,
        }
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use serde_json::json;

    use super::*;
    use crate::scanner::advisories::{ecosystem, match_packages, Severity};
    use crate::scanner::packages::Package;
    use crate::scanner::versions::Scheme;

    fn rec(id: &str, eco: &str, pkg: &str, fixed: &str, modified: &str) -> serde_json::Value {
        json!({"id": id, "modified": modified, "aliases": ["CVE-2026-0001"], "summary": format!("{id} summary"),
               "database_specific": {"severity": "High"},
               "affected": [{"package": {"ecosystem": eco, "name": pkg}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]})
    }

    fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data) in entries {
            z.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    fn pkg(name: &str, version: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            source_name: None,
            source_version: None,
            arch: None,
            scheme: Scheme::Apk,
            path: None,
            layer: None,
        }
    }

    #[tokio::test]
    async fn zip_import_is_idempotent_newer_wins_and_bad_entries_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).await.unwrap();
        let zip_path = dir.path().join("osv.zip");
        let bytes = zip_of(&[
            ("ALPINE-1.json", serde_json::to_vec(&rec("ALPINE-1", "Alpine:v3.20", "musl", "1.2.5-r1", "2026-01-01T00:00:00Z")).unwrap()),
            (
                "many.json",
                serde_json::to_vec(&json!([
                    rec("ALPINE-2", "Alpine:v3.20", "zlib", "1.3.1-r2", "2026-01-01T00:00:00Z"),
                    rec("GHSA-x", "Hex", "plug", "1.0.0", "2026-01-01T00:00:00Z")
                ]))
                .unwrap(),
            ),
            ("broken.json", b"{ not json".to_vec()),
            ("README.md", b"ignored".to_vec()),
        ]);
        std::fs::write(&zip_path, bytes).unwrap();
        let r = import_path(&db, &zip_path).await.unwrap();
        assert_eq!((r.records, r.skipped_ecosystems), (2, 1), "{r:?}");
        assert_eq!(r.malformed.len(), 1);
        assert_eq!(r.malformed[0].0, "broken.json");
        let again = import_path(&db, &zip_path).await.unwrap();
        assert_eq!(again.records, 2);
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM advisory_affected").fetch_one(db.pool()).await.unwrap();
        assert_eq!(total, 2, "re-import replaces, never duplicates");

        let eco = ecosystem::parse("Alpine:v3.20").unwrap();
        let found = match_packages(&db, &eco, &[pkg("musl", "1.2.5-r0"), pkg("zlib", "1.3.1-r2")]).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].ids.clone(), found[0].severity, found[0].fixed.as_deref()),
            (vec!["ALPINE-1".to_string(), "CVE-2026-0001".to_string()], Severity::High, Some("1.2.5-r1"))
        );

        // A newer record replaces the stored one; an older one does not.
        let folder = dir.path().join("folder");
        std::fs::create_dir_all(folder.join("sub")).unwrap();
        std::fs::write(
            folder.join("sub/ALPINE-1.json"),
            serde_json::to_vec(&rec("ALPINE-1", "Alpine:v3.20", "musl", "1.2.5-r0", "2026-06-01T00:00:00Z")).unwrap(),
        )
        .unwrap();
        import_path(&db, &folder).await.unwrap();
        assert!(match_packages(&db, &eco, &[pkg("musl", "1.2.5-r0")]).await.unwrap().is_empty(), "fixed in the installed version now");
        std::fs::write(
            folder.join("sub/ALPINE-1.json"),
            serde_json::to_vec(&rec("ALPINE-1", "Alpine:v3.20", "musl", "9.9-r0", "2025-01-01T00:00:00Z")).unwrap(),
        )
        .unwrap();
        let older = import_path(&db, &folder).await.unwrap();
        assert_eq!(older.records, 0, "an older copy is not written");
        // Another release does not match.
        let other = ecosystem::parse("Alpine:v3.19").unwrap();
        assert!(match_packages(&db, &other, &[pkg("zlib", "1.0-r0")]).await.unwrap().is_empty());
        assert!(store::last_import(&db).await.unwrap().is_some());
    }

    /// A folder linking to itself (and to its parent) is walked once: the
    /// links are reported, not followed.
    #[cfg(unix)]
    #[tokio::test]
    async fn a_symlink_loop_in_the_folder_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).await.unwrap();
        let folder = dir.path().join("osv");
        std::fs::create_dir_all(folder.join("a")).unwrap();
        std::fs::write(
            folder.join("a/ALPINE-1.json"),
            serde_json::to_vec(&rec("ALPINE-1", "Alpine:v3.20", "musl", "1.2.5-r1", "2026-01-01T00:00:00Z")).unwrap(),
        )
        .unwrap();
        std::os::unix::fs::symlink(&folder, folder.join("a/loop")).unwrap();
        std::os::unix::fs::symlink("..", folder.join("a/up")).unwrap();
        let r = tokio::time::timeout(std::time::Duration::from_secs(20), import_path(&db, &folder)).await.expect("the walk ends").unwrap();
        assert_eq!(r.records, 1, "{r:?}");
        let links: Vec<&str> = r.malformed.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(links.len(), 2, "{:?}", r.malformed);
        assert!(r.malformed.iter().all(|(_, why)| why.contains("not followed")), "{:?}", r.malformed);
    }

    #[tokio::test]
    async fn a_missing_path_and_a_non_zip_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).await.unwrap();
        let err = import_path(&db, &dir.path().join("nope")).await.unwrap_err();
        assert!(err.to_string().contains("advisories"), "{err}");
        let fake = dir.path().join("fake.zip");
        std::fs::write(&fake, b"not a zip").unwrap();
        let err = import_path(&db, &fake).await.unwrap_err();
        assert!(err.to_string().contains("not a readable zip"), "{err}");
    }
}

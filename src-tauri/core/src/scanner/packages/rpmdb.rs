//! rpm's SQLite database (`rpmdb.sqlite`, rpm ≥ 4.16: RHEL/Rocky/Alma 9,
//! Fedora): each row of `Packages` is an rpm header blob, read here per the
//! rpm file format (an index of tagged entries followed by a data store).

use std::path::Path;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Row};

use super::{Package, Scheme};
use crate::error::{Error, Result};

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// Headers beyond these are not rpm headers (rpm itself caps them at 256 MiB).
const MAX_INDEX: usize = 0x10000;

/// Installed packages of an `rpmdb.sqlite` file's content. The bytes are
/// written to a private temp file and opened read-only and immutable.
pub async fn parse(db: &[u8]) -> Result<Vec<Package>> {
    let dir = tempdir()?;
    let path = dir.join("rpmdb.sqlite");
    tokio::fs::write(&path, db).await.map_err(|e| Error::Internal(format!("writing a temporary copy of the rpm database: {e}")))?;
    let result = read(&path).await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    result
}

async fn read(path: &Path) -> Result<Vec<Package>> {
    read_within(path, crate::scanner::budget::Limits::from_env().rpmdb_deadline).await
}

/// Reads the database as a hostile file (issue 15 item 9): read-only and
/// immutable, `trusted_schema=OFF` (no functions from the schema run),
/// `Packages` must be a table (a view could loop or explode), and every
/// statement stops at `deadline` (SQLite's progress handler interrupts it).
async fn read_within(path: &Path, deadline: std::time::Duration) -> Result<Vec<Package>> {
    use futures::TryStreamExt;
    let bad = |e: sqlx::Error| Error::invalid(format!("the image's rpm database cannot be read: {e}"));
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(true)
        .pragma("trusted_schema", "OFF")
        .pragma("query_only", "ON");
    let mut conn = options.connect().await.map_err(bad)?;
    let started = std::time::Instant::now();
    conn.lock_handle().await.map_err(bad)?.set_progress_handler(1_000, move || started.elapsed() < deadline);
    let timed_out = |e: sqlx::Error| {
        if started.elapsed() >= deadline {
            Error::invalid(format!(
                "refused: reading the image's rpm database took over {} s (a looping or hostile database); set OPSDECK_RPMDB_DEADLINE_SECS to allow longer",
                deadline.as_secs()
            ))
        } else {
            bad(e)
        }
    };
    let kind: Option<String> =
        sqlx::query_scalar("SELECT type FROM sqlite_master WHERE name = 'Packages'").fetch_optional(&mut conn).await.map_err(timed_out)?;
    match kind.as_deref() {
        Some("table") => {}
        Some(other) => {
            return Err(Error::invalid(format!("refused: the image's rpm database has a {other} named Packages where rpm keeps a table")))
        }
        None => return Err(Error::invalid("the image's rpm database has no Packages table")),
    }
    let mut packages = Vec::new();
    let mut rows = sqlx::query("SELECT blob FROM Packages").fetch(&mut conn);
    while let Some(row) = rows.try_next().await.map_err(timed_out)? {
        let blob: Vec<u8> = row.try_get(0).map_err(bad)?;
        match package(&blob) {
            Ok(Some(p)) => packages.push(p),
            Ok(None) => {}
            Err(reason) => return Err(Error::invalid(format!("the image's rpm database holds a malformed header: {reason}"))),
        }
    }
    Ok(packages)
}

fn tempdir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("opsdeck-rpmdb-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir(&dir).map_err(|e| Error::Internal(format!("creating {}: {e}", dir.display())))?;
    Ok(dir)
}

/// One header blob → a package (`None` for rpm's gpg-pubkey pseudo-packages).
pub fn package(blob: &[u8]) -> std::result::Result<Option<Package>, String> {
    let header = Header::parse(blob)?;
    let name = header.string(TAG_NAME).ok_or("no NAME tag")?;
    if name == "gpg-pubkey" {
        return Ok(None);
    }
    let version = header.string(TAG_VERSION).ok_or("no VERSION tag")?;
    let release = header.string(TAG_RELEASE).ok_or("no RELEASE tag")?;
    let evr = match header.int32(TAG_EPOCH) {
        Some(epoch) => format!("{epoch}:{version}-{release}"),
        None => format!("{version}-{release}"),
    };
    // "openssl-3.0.7-24.el9.src.rpm" → "openssl"
    let source_name = header.string(TAG_SOURCERPM).and_then(|s| {
        let stem = s.strip_suffix(".src.rpm").or_else(|| s.strip_suffix(".nosrc.rpm"))?;
        let (rest, _release) = stem.rsplit_once('-')?;
        rest.rsplit_once('-').map(|(n, _)| n.to_string())
    });
    Ok(Some(Package {
        name,
        version: evr,
        source_name,
        source_version: None,
        arch: header.string(TAG_ARCH),
        scheme: Scheme::Rpm,
        path: None,
        layer: None,
    }))
}

struct Entry {
    tag: u32,
    kind: u32,
    offset: usize,
}

struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
}

impl<'a> Header<'a> {
    fn parse(blob: &'a [u8]) -> std::result::Result<Self, String> {
        let be = |at: usize| blob.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        let count = be(0).ok_or("shorter than its size fields")? as usize;
        let data_len = be(4).ok_or("shorter than its size fields")? as usize;
        if count > MAX_INDEX {
            return Err(format!("{count} index entries"));
        }
        let data_start = 8 + count * 16;
        let data = blob.get(data_start..data_start + data_len).ok_or("shorter than its index says")?;
        let entries = (0..count)
            .map(|i| {
                let at = 8 + i * 16;
                Entry { tag: be(at).unwrap_or(0), kind: be(at + 4).unwrap_or(0), offset: be(at + 8).unwrap_or(0) as usize }
            })
            .collect();
        Ok(Header { entries, data })
    }

    fn entry(&self, tag: u32) -> Option<&Entry> {
        self.entries.iter().find(|e| e.tag == tag)
    }

    fn string(&self, tag: u32) -> Option<String> {
        let e = self.entry(tag)?;
        if ![TYPE_STRING, TYPE_STRING_ARRAY, TYPE_I18NSTRING].contains(&e.kind) {
            return None;
        }
        let bytes = self.data.get(e.offset..)?;
        let end = bytes.iter().position(|b| *b == 0)?;
        Some(String::from_utf8_lossy(&bytes[..end]).into_owned())
    }

    fn int32(&self, tag: u32) -> Option<u32> {
        let e = self.entry(tag).filter(|e| e.kind == TYPE_INT32)?;
        let b = self.data.get(e.offset..e.offset + 4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Encodes a header blob the way rpm stores it (for unit tests; the
    /// integration tests use databases written by the real `rpm`).
    pub fn blob(strings: &[(u32, &str)], epoch: Option<u32>) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        if let Some(e) = epoch {
            index.push((TAG_EPOCH, TYPE_INT32, data.len() as u32));
            data.extend(e.to_be_bytes());
        }
        for (tag, s) in strings {
            index.push((*tag, TYPE_STRING, data.len() as u32));
            data.extend(s.as_bytes());
            data.push(0);
        }
        let mut out = Vec::new();
        out.extend((index.len() as u32).to_be_bytes());
        out.extend((data.len() as u32).to_be_bytes());
        for (tag, kind, offset) in index {
            for v in [tag, kind, offset, 1] {
                out.extend(v.to_be_bytes());
            }
        }
        out.extend(data);
        out
    }

    async fn database(dir: &Path, schema: &'static str) -> std::path::PathBuf {
        let path = dir.join("rpmdb.sqlite");
        let mut c = SqliteConnectOptions::new().filename(&path).create_if_missing(true).connect().await.unwrap();
        sqlx::raw_sql(schema).execute(&mut c).await.unwrap();
        path
    }

    /// A `Packages` view that never ends (a recursive CTE) is refused
    /// before it runs; a slow read stops at the deadline.
    #[tokio::test]
    async fn a_looping_view_and_a_slow_read_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let looping = database(
            dir.path(),
            "CREATE VIEW Packages AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT zeroblob(1000) AS blob FROM r;",
        )
        .await;
        let started = std::time::Instant::now();
        let e = read_within(&looping, std::time::Duration::from_secs(5)).await.unwrap_err().to_string();
        assert!(e.starts_with("refused:") && e.contains("view named Packages"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));

        let dir = tempfile::tempdir().unwrap();
        let table = database(dir.path(), "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB);").await;
        let mut c = SqliteConnectOptions::new().filename(&table).connect().await.unwrap();
        // 50,000 rpm headers (gpg-pubkey pseudo-packages, skipped when read).
        let pubkey = blob(&[(TAG_NAME, "gpg-pubkey"), (TAG_VERSION, "1"), (TAG_RELEASE, "1")], None);
        sqlx::query("INSERT INTO Packages (blob) VALUES (?)").bind(pubkey).execute(&mut c).await.unwrap();
        sqlx::raw_sql(
            "INSERT INTO Packages (blob) WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r LIMIT 50000) SELECT (SELECT blob FROM Packages LIMIT 1) FROM r;",
        )
        .execute(&mut c)
        .await
        .unwrap();
        drop(c);
        assert_eq!(read_within(&table, std::time::Duration::from_secs(30)).await.unwrap(), vec![], "within the deadline: read");
        let e = read_within(&table, std::time::Duration::ZERO).await.unwrap_err().to_string();
        assert!(e.starts_with("refused:") && e.contains("OPSDECK_RPMDB_DEADLINE_SECS"), "{e}");
    }

    #[test]
    fn header_with_epoch_and_source_rpm() {
        let b = blob(
            &[
                (TAG_NAME, "openssl-libs"),
                (TAG_VERSION, "3.0.7"),
                (TAG_RELEASE, "24.el9"),
                (TAG_ARCH, "x86_64"),
                (TAG_SOURCERPM, "openssl-3.0.7-24.el9.src.rpm"),
            ],
            Some(1),
        );
        let p = package(&b).unwrap().unwrap();
        assert_eq!(p.version, "1:3.0.7-24.el9");
        assert_eq!(p.source_name.as_deref(), Some("openssl"));
        assert_eq!(p.arch.as_deref(), Some("x86_64"));
    }

    #[test]
    fn pubkeys_are_skipped_and_truncated_headers_refused() {
        let b = blob(&[(TAG_NAME, "gpg-pubkey"), (TAG_VERSION, "1"), (TAG_RELEASE, "1")], None);
        assert_eq!(package(&b).unwrap(), None);
        let b = blob(&[(TAG_NAME, "bash"), (TAG_VERSION, "5.1.8"), (TAG_RELEASE, "6.el9")], None);
        assert!(package(&b[..b.len() - 3]).is_err());
        assert!(package(&[0xff; 8]).is_err());
        assert!(package(&[]).is_err());
    }
}

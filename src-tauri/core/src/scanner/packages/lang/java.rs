//! Java archives (JAR, WAR, EAR): the Maven coordinates recorded in
//! `META-INF/maven/GROUP/ARTIFACT/pom.properties` (several in a shaded
//! jar), nested archives (`WEB-INF/lib/*.jar`, `BOOT-INF/lib/*.jar`) read in
//! turn; an archive without pom.properties is named from its MANIFEST.MF
//! when it gives `Implementation-Vendor-Id` and its file name the version.
//! The archive is spooled to a temporary file beyond 16 MiB (a zip's index
//! is at its end); a nested archive is read into memory under a cap.

use std::io::{Cursor, Read, Seek};

use super::{package, Package, MAX_SPOOLED};
use crate::scanner::versions::Scheme;

/// Largest nested archive read into memory.
pub const MAX_NESTED: u64 = 128 << 20;
/// Archives inside archives inside … at most this deep.
const MAX_DEPTH: usize = 3;
/// Entries of one archive looked at.
const MAX_ENTRIES: usize = 200_000;
const MAX_PROPS: u64 = 64 << 10;

pub fn archive(path: &str, size: u64, data: &mut dyn Read) -> Result<Vec<Package>, String> {
    if size > MAX_SPOOLED {
        return Err(format!("{size} bytes is over the {MAX_SPOOLED}-byte limit for a Java archive; not read"));
    }
    let mut spool = tempfile::SpooledTempFile::new(16 << 20);
    std::io::copy(&mut data.take(MAX_SPOOLED), &mut spool).map_err(|e| format!("spooling the archive: {e}"))?;
    spool.rewind().map_err(|e| format!("spooling the archive: {e}"))?;
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut out = Vec::new();
    read_zip(spool, name, None, 0, &mut out)?;
    Ok(out)
}

/// Reads one archive; `inner` is its path inside the outer file, if nested.
fn read_zip<R: Read + Seek>(reader: R, file_name: &str, inner: Option<&str>, depth: usize, out: &mut Vec<Package>) -> Result<(), String> {
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| format!("not a readable zip archive: {e}"))?;
    if zip.len() > MAX_ENTRIES {
        return Err(format!("{} entries is over the {MAX_ENTRIES}-entry limit; not read", zip.len()));
    }
    let mut found = Vec::new();
    let mut manifest = None;
    let mut nested = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| format!("entry {i}: {e}"))?;
        if !entry.is_file() {
            continue;
        }
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        if name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties") {
            let text = read_entry(&mut entry, MAX_PROPS)?;
            if let Some(p) = pom_properties(&text) {
                found.push(p);
            }
        } else if name == "META-INF/MANIFEST.MF" {
            manifest = Some(read_entry(&mut entry, MAX_PROPS)?);
        } else if depth + 1 < MAX_DEPTH && [".jar", ".war", ".ear"].iter().any(|e| name.to_ascii_lowercase().ends_with(e)) {
            nested.push(i);
        }
    }
    if found.is_empty() {
        if let Some(p) = manifest.as_deref().and_then(|m| from_manifest(m, file_name)) {
            found.push(p);
        }
    }
    for mut p in found {
        p.path = inner.map(str::to_string);
        out.push(p);
    }
    for i in nested {
        let mut entry = zip.by_index(i).map_err(|e| format!("entry {i}: {e}"))?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        if entry.size() > MAX_NESTED {
            continue;
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        if (&mut entry).take(MAX_NESTED).read_to_end(&mut bytes).is_err() {
            continue;
        }
        let inner_path = match inner {
            Some(outer) => format!("{outer}!/{name}"),
            None => name.clone(),
        };
        let base = name.rsplit('/').next().unwrap_or(&name).to_string();
        // A broken nested archive does not spoil the outer one.
        let _ = read_zip(Cursor::new(bytes), &base, Some(&inner_path), depth + 1, out);
    }
    Ok(())
}

fn read_entry(entry: &mut dyn Read, cap: u64) -> Result<String, String> {
    let mut bytes = Vec::new();
    entry.take(cap).read_to_end(&mut bytes).map_err(|e| format!("reading an entry: {e}"))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn pom_properties(text: &str) -> Option<Package> {
    let get = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim().to_string())
        })
    };
    let (g, a, v) = (get("groupId")?, get("artifactId")?, get("version")?);
    (!g.is_empty() && !a.is_empty() && !v.is_empty()).then(|| package(Scheme::Maven, &format!("{g}:{a}"), &v))
}

/// `Implementation-Vendor-Id: GROUP` plus a file name `ARTIFACT-VERSION.jar`
/// whose version the manifest's `Implementation-Version` confirms.
fn from_manifest(text: &str, file_name: &str) -> Option<Package> {
    let get = |key: &str| text.lines().find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')).map(|v| v.trim().to_string()));
    let group = get("Implementation-Vendor-Id")?;
    let version = get("Implementation-Version")?;
    let stem = file_name.rsplit_once('.').map(|(s, _)| s)?;
    let artifact = stem.strip_suffix(&format!("-{version}"))?;
    Some(package(Scheme::Maven, &format!("{group}:{artifact}"), &version))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            w.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn pom_properties_nested_jars_and_manifest() {
        let inner =
            zip_of(&[("META-INF/maven/org.yaml/snakeyaml/pom.properties", b"groupId=org.yaml\nartifactId=snakeyaml\nversion=1.33\n")]);
        let bare = zip_of(&[(
            "META-INF/MANIFEST.MF",
            b"Manifest-Version: 1.0\r\nImplementation-Vendor-Id: com.acme\r\nImplementation-Version: 2.1\r\n",
        )]);
        let war = zip_of(&[
            ("META-INF/maven/com.acme/app/pom.properties", b"#Generated\nversion=1.0.0\ngroupId=com.acme\nartifactId=app\n"),
            ("WEB-INF/lib/snakeyaml-1.33.jar", &inner),
            ("WEB-INF/lib/util-2.1.jar", &bare),
            ("WEB-INF/lib/broken.jar", b"not a zip"),
        ]);
        let got = archive("srv/app.war", war.len() as u64, &mut &war[..]).unwrap();
        let got: Vec<_> = got.iter().map(|p| (p.name.as_str(), p.version.as_str(), p.path.as_deref())).collect();
        assert_eq!(
            got,
            [
                ("com.acme:app", "1.0.0", None),
                ("org.yaml:snakeyaml", "1.33", Some("WEB-INF/lib/snakeyaml-1.33.jar")),
                ("com.acme:util", "2.1", Some("WEB-INF/lib/util-2.1.jar")),
            ]
        );
        assert!(archive("x.jar", 9, &mut &b"not a zip"[..]).is_err());
    }
}

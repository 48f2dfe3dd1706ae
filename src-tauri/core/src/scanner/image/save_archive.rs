//! The `docker save` stream: the legacy layout (`<id>/layer.tar`, Docker
//! ≤ 24) and the OCI layout (`blobs/sha256/<digest>`, Docker ≥ 25). Layers
//! are read one after another as they pass; a layer whose digest the caller
//! already knows (OCI names blobs by digest) is skipped without parsing; a
//! legacy layer whose folder the caller knows from an earlier export (see
//! [`LegacyAliases`]) is only hashed, to check it is that layer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use super::digest::DigestReader;
use super::layer::{self, LayerFiles};
use super::oci::{ConfigDoc, SaveEntry, MAX_DOCUMENT};
use super::tar_stream::{self, Item, Kind};
use crate::error::{Error, Result};

/// Reads every layer of the archive in `reader` whose digest `known` does not know.
pub fn read_layers(reader: impl Read, known: &dyn Fn(&str) -> bool) -> Result<Vec<LayerFiles>> {
    Ok(read_archive(reader, "the image archive from Docker", known)?.layers)
}

/// Largest number of JSON documents (manifests, indexes, configs) kept from one archive.
pub const MAX_DOCUMENTS: usize = 4096;

/// What one pass over an archive gives: the layers read, and the small JSON
/// documents (`manifest.json`, `index.json`, configs, manifests) by member
/// path, each at most [`MAX_DOCUMENT`] bytes, at most [`MAX_DOCUMENTS`].
#[derive(Debug, Default)]
pub struct Archive {
    pub layers: Vec<LayerFiles>,
    pub documents: BTreeMap<String, Vec<u8>>,
    /// Legacy layers read: their folder (`<v1 id>` of `<v1 id>/layer.tar`)
    /// and the digest of their bytes (their diff_id).
    pub legacy_read: Vec<(String, String)>,
    /// Legacy layers left unparsed: their bytes hashed to the digest their
    /// folder's alias names (a layer the cache holds).
    pub legacy_reused: Vec<String>,
    /// Legacy folders whose bytes are not the layer their alias names
    /// (left unparsed: the caller reads them again without that alias).
    pub legacy_mismatched: Vec<String>,
}

/// Legacy layer folders known from earlier exports, each with the diff_id
/// of the layer it held. Docker ≤ 24 names a layer of `docker save` by a v1
/// id, no digest: the id is a hash over the layer's chain id (its content
/// and the layers below), so a folder names the same layer in every export
/// of that engine (a top layer's id also covers its image's config).
pub type LegacyAliases = HashMap<String, String>;

/// What a pass leaves unread: blobs `known` by digest, paths in `skip`
/// (seeked over), legacy folders in `aliases` (hashed, not parsed).
struct Skips<'a> {
    known: &'a dyn Fn(&str) -> bool,
    skip: &'a HashSet<String>,
    aliases: &'a LegacyAliases,
}

/// Reads the archive in `reader` (`what` names it in errors): layers not
/// `known` are read as they pass, and a blob named by its digest
/// (`blobs/sha256/<hex>`) is checked against its name.
pub fn read_archive(reader: impl Read, what: &str, known: &dyn Fn(&str) -> bool) -> Result<Archive> {
    read_archive_reusing(reader, what, known, &LegacyAliases::new())
}

/// [`read_archive`] where a legacy `<folder>/layer.tar` named in `aliases`
/// is hashed instead of parsed: its bytes matching the alias's diff_id, it
/// is listed in [`Archive::legacy_reused`], otherwise in
/// [`Archive::legacy_mismatched`]. For a stream from a trusted engine (a
/// streamed export cannot seek back to parse a layer after the fact).
pub fn read_archive_reusing(reader: impl Read, what: &str, known: &dyn Fn(&str) -> bool, aliases: &LegacyAliases) -> Result<Archive> {
    let mut archive = Archive::default();
    let skips = Skips { known, skip: &HashSet::new(), aliases };
    tar_stream::for_each(reader, what, |item, data| member(&mut archive, item, data, what, Pass::All, &skips))?;
    Ok(archive)
}

/// [`read_archive`] of a plain tar file, in two passes that seek over what
/// they do not need: the first keeps the JSON documents; the second reads
/// the layers, except those `known` — a blob by its name, and a legacy
/// `<id>/layer.tar` (Docker ≤ 24, named by no digest) by the diff_id its
/// image config gives it in `manifest.json`'s order. So a rescan of a
/// tarball whose layers are cached reads only its headers and documents.
pub fn read_archive_file<F: Read + Seek>(mut file: F, what: &str, known: &dyn Fn(&str) -> bool) -> Result<Archive> {
    let mut archive = Archive::default();
    let none = LegacyAliases::new();
    let skips = Skips { known, skip: &HashSet::new(), aliases: &none };
    tar_stream::for_each_seek(&mut file, what, |item, data| member(&mut archive, item, data, what, Pass::Documents, &skips))?;
    let skip = known_legacy_layers(&archive.documents, known);
    file.seek(SeekFrom::Start(0)).map_err(|e| Error::invalid(format!("reading {what}: {e}")))?;
    let skips = Skips { skip: &skip, ..skips };
    tar_stream::for_each_seek(&mut file, what, |item, data| member(&mut archive, item, data, what, Pass::Layers, &skips))?;
    Ok(archive)
}

/// The legacy layer paths (`<id>/layer.tar`) whose diff_id is `known`, from
/// each `manifest.json` entry's `Layers` zipped with its config's diff_ids.
fn known_legacy_layers(documents: &BTreeMap<String, Vec<u8>>, known: &dyn Fn(&str) -> bool) -> HashSet<String> {
    let mut skip = HashSet::new();
    let Some(entries) = documents.get("manifest.json").and_then(|m| serde_json::from_slice::<Vec<SaveEntry>>(m).ok()) else {
        return skip;
    };
    for entry in entries {
        let config = documents.get(entry.config.trim_start_matches("./"));
        let Some(doc) = config.and_then(|c| serde_json::from_slice::<ConfigDoc>(c).ok()) else {
            continue;
        };
        if doc.rootfs.diff_ids.len() != entry.layers.len() {
            continue;
        }
        for (path, diff_id) in entry.layers.iter().zip(&doc.rootfs.diff_ids) {
            if known(diff_id) {
                skip.insert(path.trim_start_matches("./").to_string());
            }
        }
    }
    skip
}

/// What one pass over the archive keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    All,
    Documents,
    Layers,
}

/// One member of the archive: kept as a document or read as a layer, per
/// `pass`; what `skips` names is left unread (or only hashed).
fn member(archive: &mut Archive, item: &Item, data: &mut dyn Read, what: &str, pass: Pass, skips: &Skips<'_>) -> Result<()> {
    if item.kind != Kind::File {
        return Ok(());
    }
    let path = item.path.trim_start_matches("./");
    let is_legacy_layer = path.ends_with("/layer.tar");
    let blob = path.strip_prefix("blobs/sha256/").map(|hex| format!("sha256:{hex}"));
    let top_json = !path.contains('/') && (path.ends_with(".json") || path == "oci-layout");
    if !is_legacy_layer && blob.is_none() && !top_json {
        return Ok(());
    }
    if blob.as_deref().is_some_and(skips.known) || skips.skip.contains(path) {
        return Ok(());
    }
    if (pass == Pass::Documents && is_legacy_layer) || (pass == Pass::Layers && top_json) {
        return Ok(());
    }
    let folder = path.strip_suffix("/layer.tar").filter(|_| is_legacy_layer);
    if let Some((folder, expected)) = folder.and_then(|f| skips.aliases.get(f).map(|d| (f, d))) {
        let mut raw = DigestReader::new(data);
        io::copy(&mut raw, &mut io::sink()).map_err(|e| Error::invalid(format!("reading {path} of {what}: {e}")))?;
        match raw.digest() == *expected {
            true => archive.legacy_reused.push(folder.to_string()),
            false => archive.legacy_mismatched.push(folder.to_string()),
        }
        return Ok(());
    }
    let mut raw = DigestReader::new(data);
    let mut buffered = BufReader::new(&mut raw);
    // OCI blobs are configs and manifests too: JSON, not tar.
    let head = buffered.fill_buf().map_err(|e| Error::invalid(format!("reading {path} of {what}: {e}")))?;
    if top_json || (blob.is_some() && head.first() == Some(&b'{')) {
        if item.size > MAX_DOCUMENT || pass == Pass::Layers {
            return Ok(());
        }
        if archive.documents.len() >= MAX_DOCUMENTS {
            return Err(Error::invalid(format!("{what} holds more than {MAX_DOCUMENTS} JSON documents: not an image archive")));
        }
        let mut bytes = Vec::with_capacity(item.size as usize);
        (&mut buffered).take(MAX_DOCUMENT).read_to_end(&mut bytes).map_err(|e| Error::invalid(format!("reading {path} of {what}: {e}")))?;
        drop(buffered);
        if let Some(digest) = &blob {
            raw.check(digest, &format!("{path} of {what}"))?;
        }
        archive.documents.insert(path.to_string(), bytes);
        return Ok(());
    }
    if pass == Pass::Documents {
        return Ok(());
    }
    let layer_what = format!("layer {path}");
    let layer = layer::read(&mut buffered, &layer_what)?;
    io::copy(&mut buffered, &mut io::sink()).map_err(|e| Error::invalid(format!("{layer_what} is truncated: {e}")))?;
    drop(buffered);
    if let Some(digest) = &blob {
        raw.check(digest, &format!("{path} of {what}"))?;
    }
    if let Some(folder) = folder {
        archive.legacy_read.push((folder.to_string(), layer.digest.clone()));
    }
    archive.layers.push(layer);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::super::layer::tests::TestLayer;
    use super::*;

    fn archive(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data) in members {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, path, &data[..]).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn legacy_and_oci_layouts_give_the_layers_and_skip_known_blobs() {
        let l1 = TestLayer::new().file("etc/os-release", b"ID=debian\n").bytes();
        let l2 = TestLayer::new().file("var/lib/dpkg/status", b"Package: a\nVersion: 1\n").bytes();
        let legacy = archive(&[
            ("abc/VERSION", b"1.0".to_vec()),
            ("abc/layer.tar", l1.clone()),
            ("def/layer.tar", l2.clone()),
            ("manifest.json", b"[]".to_vec()),
        ]);
        let layers = read_layers(&legacy[..], &|_| false).unwrap();
        assert_eq!(layers.len(), 2);
        assert!(layers[0].nodes.contains_key("etc/os-release"));

        let d1 = layers[0].digest.clone();
        let name = |bytes: &[u8]| format!("blobs/sha256/{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)));
        let config = b"{\"config\": true}".to_vec();
        let oci = archive(&[
            (&name(&config), config.clone()),
            (&name(&l1), l1.clone()),
            (&name(&l2), l2.clone()),
            ("index.json", b"{}".to_vec()),
        ]);
        let read = read_archive(&oci[..], "archive", &|d| d == d1).unwrap();
        assert_eq!(read.layers.len(), 1, "the known layer is skipped and the JSON blob is not a layer");
        assert!(read.layers[0].nodes.contains_key("var/lib/dpkg/status"));
        assert_eq!(read.documents.keys().collect::<Vec<_>>(), [&name(&config), &"index.json".to_string()]);
        assert_eq!(read.documents[&name(&config)], config);

        // A blob that does not hash to its name is refused, layer or document.
        let mut tampered = l2.clone();
        tampered[600] ^= 1;
        let bad = archive(&[(&name(&l2), tampered)]);
        let err = read_archive(&bad[..], "archive", &|_| false).unwrap_err();
        assert!(err.to_string().starts_with("digest mismatch"), "{err}");
        let bad = archive(&[(&name(&config), b"{\"config\": false}".to_vec())]);
        assert!(read_archive(&bad[..], "archive", &|_| false).unwrap_err().to_string().starts_with("digest mismatch"));
    }

    #[test]
    fn a_corrupt_layer_inside_the_archive_fails_the_read_naming_it() {
        let mut l1 = TestLayer::new().file("etc/os-release", b"ID=debian\n").bytes();
        l1[148] ^= 1;
        let bytes = archive(&[("abc/layer.tar", l1)]);
        let err = read_layers(&bytes[..], &|_| false).unwrap_err();
        assert!(err.to_string().contains("layer abc/layer.tar is corrupt"), "{err}");
    }

    #[test]
    fn a_tarball_file_seeks_over_the_legacy_layers_its_config_says_are_known() {
        let l1 = TestLayer::new().file("etc/os-release", b"ID=debian\n").bytes();
        let l2 = TestLayer::new().file("var/lib/dpkg/status", b"Package: a\nVersion: 1\n").bytes();
        let digest = |bytes: &[u8]| format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)));
        let (d1, d2) = (digest(&l1), digest(&l2));
        let config = format!("{{\"rootfs\": {{\"type\": \"layers\", \"diff_ids\": [\"{d1}\", \"{d2}\"]}}}}");
        // Docker 20.10's order: layer folders by v1 id, the config, then manifest.json last.
        let legacy = archive(&[
            ("0aa/VERSION", b"1.0".to_vec()),
            ("0aa/layer.tar", l2.clone()),
            ("1bb/layer.tar", l1.clone()),
            ("c0ffee.json", config.clone().into_bytes()),
            ("manifest.json", br#"[{"Config":"c0ffee.json","RepoTags":["a:1"],"Layers":["1bb/layer.tar","0aa/layer.tar"]}]"#.to_vec()),
        ]);
        let cursor = || Cursor::new(legacy.clone());
        let all = read_archive_file(cursor(), "archive", &|_| false).unwrap();
        assert_eq!(all.layers.iter().map(|l| l.digest.clone()).collect::<Vec<_>>(), [d2.clone(), d1.clone()]);
        assert_eq!(all.documents.keys().collect::<Vec<_>>(), ["c0ffee.json", "manifest.json"]);
        assert_eq!(all.documents["c0ffee.json"], config.as_bytes());
        // The same as one streamed pass.
        let streamed = read_archive(&legacy[..], "archive", &|_| false).unwrap();
        assert_eq!(streamed.documents, all.documents);
        assert_eq!(streamed.layers.len(), 2);

        let warm = read_archive_file(cursor(), "archive", &|d| d == d1).unwrap();
        assert_eq!(
            warm.layers.iter().map(|l| l.digest.clone()).collect::<Vec<_>>(),
            std::slice::from_ref(&d2),
            "1bb/layer.tar is d1: not read"
        );
        assert!(read_archive_file(cursor(), "archive", &|_| true).unwrap().layers.is_empty());
        // A manifest whose layers do not line up with the config's diff_ids skips nothing.
        let odd = archive(&[
            ("1bb/layer.tar", l1.clone()),
            ("c0ffee.json", config.into_bytes()),
            ("manifest.json", br#"[{"Config":"c0ffee.json","Layers":["1bb/layer.tar"]}]"#.to_vec()),
        ]);
        assert_eq!(read_archive_file(Cursor::new(odd), "archive", &|_| true).unwrap().layers.len(), 1);
    }

    #[test]
    fn a_streamed_legacy_export_hashes_the_folders_it_knows_instead_of_parsing_them() {
        let l1 = TestLayer::new().file("etc/os-release", b"ID=debian\n").bytes();
        let l2 = TestLayer::new().file("var/lib/dpkg/status", b"Package: a\nVersion: 1\n").bytes();
        let digest = |bytes: &[u8]| format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)));
        let (d1, d2) = (digest(&l1), digest(&l2));
        let legacy = archive(&[("0aa/layer.tar", l2.clone()), ("1bb/layer.tar", l1.clone()), ("manifest.json", b"[]".to_vec())]);

        // Cold: both parsed, each folder named with the digest of its bytes.
        let cold = read_archive_reusing(&legacy[..], "archive", &|_| false, &LegacyAliases::new()).unwrap();
        assert_eq!(cold.layers.len(), 2);
        assert_eq!(cold.legacy_read, [("0aa".to_string(), d2.clone()), ("1bb".to_string(), d1.clone())]);

        // Warm for 1bb: hashed, matched, not parsed; 0aa still read.
        let aliases = LegacyAliases::from([("1bb".to_string(), d1.clone())]);
        let warm = read_archive_reusing(&legacy[..], "archive", &|d| d == d1, &aliases).unwrap();
        assert_eq!(warm.layers.iter().map(|l| l.digest.clone()).collect::<Vec<_>>(), std::slice::from_ref(&d2));
        assert_eq!(warm.legacy_reused, ["1bb"]);
        assert!(warm.legacy_mismatched.is_empty());

        // An alias naming the wrong layer: reported, the layer not parsed as the alias's.
        let wrong = LegacyAliases::from([("1bb".to_string(), d2.clone())]);
        let read = read_archive_reusing(&legacy[..], "archive", &|_| false, &wrong).unwrap();
        assert_eq!(read.legacy_mismatched, ["1bb"]);
        assert!(read.legacy_reused.is_empty());
        assert_eq!(read.layers.len(), 1, "0aa parsed, 1bb left for a second pass");
    }
}

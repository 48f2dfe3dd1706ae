//! The `docker save` stream: the legacy layout (`<id>/layer.tar`, Docker
//! ≤ 24) and the OCI layout (`blobs/sha256/<digest>`, Docker ≥ 25). Layers
//! are read one after another as they pass; a layer whose digest the caller
//! already knows (OCI names blobs by digest) is skipped without parsing.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};

use super::digest::DigestReader;
use super::layer::{self, LayerFiles};
use super::oci::MAX_DOCUMENT;
use super::tar_stream::{self, Kind};
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
}

/// Reads the archive in `reader` (`what` names it in errors): layers not
/// `known` are read as they pass, and a blob named by its digest
/// (`blobs/sha256/<hex>`) is checked against its name.
pub fn read_archive(reader: impl Read, what: &str, known: &dyn Fn(&str) -> bool) -> Result<Archive> {
    let mut archive = Archive::default();
    tar_stream::for_each(reader, what, |item, data| {
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
        if blob.as_deref().is_some_and(known) {
            return Ok(());
        }
        let mut raw = DigestReader::new(data);
        let mut buffered = BufReader::new(&mut raw);
        // OCI blobs are configs and manifests too: JSON, not tar.
        let head = buffered.fill_buf().map_err(|e| Error::invalid(format!("reading {path} of {what}: {e}")))?;
        if top_json || (blob.is_some() && head.first() == Some(&b'{')) {
            if item.size > MAX_DOCUMENT {
                return Ok(());
            }
            if archive.documents.len() >= MAX_DOCUMENTS {
                return Err(Error::invalid(format!("{what} holds more than {MAX_DOCUMENTS} JSON documents: not an image archive")));
            }
            let mut bytes = Vec::with_capacity(item.size as usize);
            (&mut buffered)
                .take(MAX_DOCUMENT)
                .read_to_end(&mut bytes)
                .map_err(|e| Error::invalid(format!("reading {path} of {what}: {e}")))?;
            drop(buffered);
            if let Some(digest) = &blob {
                raw.check(digest, &format!("{path} of {what}"))?;
            }
            archive.documents.insert(path.to_string(), bytes);
            return Ok(());
        }
        let layer_what = format!("layer {path}");
        let layer = layer::read(&mut buffered, &layer_what)?;
        io::copy(&mut buffered, &mut io::sink()).map_err(|e| Error::invalid(format!("{layer_what} is truncated: {e}")))?;
        drop(buffered);
        if let Some(digest) = &blob {
            raw.check(digest, &format!("{path} of {what}"))?;
        }
        archive.layers.push(layer);
        Ok(())
    })?;
    Ok(archive)
}

#[cfg(test)]
mod tests {
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
}

//! The `docker save` stream: the legacy layout (`<id>/layer.tar`, Docker
//! ≤ 24) and the OCI layout (`blobs/sha256/<digest>`, Docker ≥ 25). Layers
//! are read one after another as they pass; a layer whose digest the caller
//! already knows (OCI names blobs by digest) is skipped without parsing.

use std::io::{BufRead, BufReader, Read};

use super::layer::{self, LayerFiles};
use super::tar_stream::{self, Kind};
use crate::error::Result;

/// Reads every layer of the archive in `reader` not in `known`.
pub fn read_layers(reader: impl Read, known: &dyn Fn(&str) -> bool) -> Result<Vec<LayerFiles>> {
    let mut layers = Vec::new();
    tar_stream::for_each(reader, "the image archive from Docker", |item, data| {
        if item.kind != Kind::File {
            return Ok(());
        }
        let path = item.path.trim_start_matches("./");
        let is_legacy_layer = path.ends_with("/layer.tar");
        let blob = path.strip_prefix("blobs/sha256/").map(|hex| format!("sha256:{hex}"));
        if !is_legacy_layer && blob.is_none() {
            return Ok(());
        }
        if blob.as_deref().is_some_and(known) {
            return Ok(());
        }
        let mut data = BufReader::new(data);
        // OCI blobs are configs and manifests too: JSON, not tar.
        let head = data.fill_buf().map_err(|e| crate::error::Error::invalid(format!("reading {path} of the image archive: {e}")))?;
        if blob.is_some() && head.first() == Some(&b'{') {
            return Ok(());
        }
        let what = format!("layer {path}");
        layers.push(layer::read(data, &what)?);
        Ok(())
    })?;
    Ok(layers)
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
        let oci = archive(&[
            ("blobs/sha256/aaaa", b"{\"config\": true}".to_vec()),
            (&format!("blobs/sha256/{}", d1.trim_start_matches("sha256:")), l1),
            ("blobs/sha256/bbbb", l2),
            ("index.json", b"{}".to_vec()),
        ]);
        let read = read_layers(&oci[..], &|d| d == d1).unwrap();
        assert_eq!(read.len(), 1, "the known layer is skipped and the JSON blob is not a layer");
        assert!(read[0].nodes.contains_key("var/lib/dpkg/status"));
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

//! One layer, read as a stream: its digest (the image's `diff_id`), the
//! content of the few files a scan needs, its whiteouts and opaque folders,
//! and the members refused as hostile. Nothing else is kept in memory.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::paths::{is_relevant, is_wanted, normalize, parent};
use super::tar_stream::{self, Kind};
use crate::error::{Error, Result};
use crate::scanner::budget;
use crate::scanner::packages::lang;

/// Largest wanted file read (an rpm database of a big image is tens of MiB).
pub const MAX_FILE: u64 = 256 * 1024 * 1024;

const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// A wanted path's content in one layer: the file's data (raw bytes when
/// read, parsed when cached) or a symbolic link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Node<T = Vec<u8>> {
    File(T),
    Symlink(String),
}

/// A member that was not applied, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Rejected {
    pub path: String,
    pub reason: String,
}

/// What a scan needs from one layer; `T` is the wanted files' data (raw
/// bytes as read, parsed packages once cached).
#[derive(Debug, Default, Clone, Serialize, Deserialize, specta::Type)]
pub struct LayerFiles<T = Vec<u8>> {
    /// `sha256:<hex>` of the uncompressed layer tar.
    pub digest: String,
    pub nodes: BTreeMap<String, Node<T>>,
    /// Paths this layer deletes from the layers below (`.wh.<name>`).
    pub whiteouts: Vec<String>,
    /// Folders whose lower content this layer hides (`.wh..wh..opq`).
    pub opaque_dirs: Vec<String>,
    /// Folders or files this layer replaces: lower content under them is gone.
    pub replaced: Vec<String>,
    pub rejected: Vec<Rejected>,
    /// Language packages found in this layer's files (npm, PyPI, Go, …),
    /// already parsed as the layer streamed past.
    #[serde(default)]
    pub lang: Vec<lang::Found>,
    /// The catalogue version that read this layer: a cached layer read by an
    /// older one (without language packages) is read again.
    #[serde(default)]
    pub catalogue: u32,
}

/// Current catalogue version (see [`LayerFiles::catalogue`]).
pub const CATALOGUE: u32 = 1;
/// Whiteouts and opaque folders kept per layer outside the package paths
/// (they hide language files of lower layers).
const MAX_DELETIONS: usize = 100_000;

/// Reads one layer (plain or gzip-compressed tar) to its end.
pub fn read(reader: impl Read, what: &str) -> Result<LayerFiles> {
    // The scan's budget (joined when the scan started one on this thread).
    let _budget = budget::Scope::enter();
    let mut buffered = BufReader::new(reader);
    let gzip = buffered.fill_buf().map_err(|e| Error::invalid(format!("{what}: {e}")))?.starts_with(&[0x1f, 0x8b]);
    let plain: Box<dyn Read> = if gzip { Box::new(flate2::read::GzDecoder::new(buffered)) } else { Box::new(buffered) };
    let mut hashing = HashingReader { inner: plain, hasher: Sha256::new(), refusal: None };
    let mut layer = LayerFiles { catalogue: CATALOGUE, ..LayerFiles::default() };
    tar_stream::for_each(&mut hashing, what, |item, data| {
        budget::entry()?;
        visit(&mut layer, item, data, what)
    })
    .map_err(|e| hashing.refusal.take().unwrap_or(e))?;
    // The zero blocks after the last member count in the digest too.
    io::copy(&mut hashing, &mut io::sink())
        .map_err(|e| hashing.refusal.take().unwrap_or_else(|| Error::invalid(format!("{what} is truncated: {e}"))))?;
    layer.digest = format!("sha256:{}", hex::encode(hashing.hasher.finalize()));
    Ok(layer)
}

fn visit(layer: &mut LayerFiles, item: &tar_stream::Item, data: &mut dyn Read, what: &str) -> Result<()> {
    let path = match normalize(&item.path) {
        Ok(p) => p,
        Err(reason) => {
            layer.rejected.push(Rejected { path: item.path.clone(), reason: reason.into() });
            return Ok(());
        }
    };
    let (dir, name) = (parent(&path), path.rsplit('/').next().unwrap_or(""));
    let deletions = layer.opaque_dirs.len() + layer.whiteouts.len();
    if name == OPAQUE {
        if is_relevant(dir) || deletions < MAX_DELETIONS {
            layer.opaque_dirs.push(dir.to_string());
        }
        return Ok(());
    }
    if let Some(hidden) = name.strip_prefix(WHITEOUT) {
        let hidden = if dir.is_empty() { hidden.to_string() } else { format!("{dir}/{hidden}") };
        if is_relevant(&hidden) || deletions < MAX_DELETIONS {
            layer.whiteouts.push(hidden);
        }
        return Ok(());
    }
    if item.kind == Kind::File && !is_wanted(&path) {
        if let Some(kind) = lang::kind_of(&path) {
            if let Some(found) = lang::read(kind, &path, item.size, data) {
                layer.lang.push(found);
            }
        }
    }
    if !is_relevant(&path) {
        return Ok(());
    }
    match &item.kind {
        Kind::Symlink(target) => {
            layer.replaced.push(path.clone());
            layer.nodes.insert(path, Node::Symlink(target.clone()));
        }
        Kind::File if is_wanted(&path) => {
            if item.size > MAX_FILE {
                layer.rejected.push(Rejected {
                    path,
                    reason: format!("{} bytes is over the {MAX_FILE}-byte limit for a package database", item.size),
                });
                return Ok(());
            }
            budget::keep(item.size)?;
            let mut bytes = Vec::with_capacity(item.size.min(1 << 20) as usize);
            data.take(MAX_FILE).read_to_end(&mut bytes).map_err(|e| Error::invalid(format!("{what}: reading {path}: {e}")))?;
            layer.replaced.push(path.clone());
            layer.nodes.insert(path, Node::File(bytes));
        }
        Kind::Hardlink(target) => match normalize(target) {
            Ok(target) => match layer.nodes.get(&target).cloned() {
                Some(node) if is_wanted(&path) => {
                    layer.replaced.push(path.clone());
                    layer.nodes.insert(path, node);
                }
                _ if is_wanted(&path) => layer
                    .rejected
                    .push(Rejected { path, reason: format!("hard link to {target}, which this layer does not hold as a package file") }),
                _ => {}
            },
            Err(reason) => layer.rejected.push(Rejected { path, reason: format!("hard link target {target}: {reason}") }),
        },
        // A regular file or other member where a folder leading to wanted
        // files used to be replaces that folder.
        Kind::File | Kind::Other => layer.replaced.push(path),
        Kind::Dir => {}
    }
    Ok(())
}

/// Hashes what it reads and charges it to the scan's byte budget (a tar
/// bomb stops here, at the limit, with the refusal kept for the caller).
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    refusal: Option<Error>,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Err(e) = budget::bytes(n as u64) {
            let text = e.to_string();
            self.refusal = Some(e);
            return Err(io::Error::other(text));
        }
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A layer tar built member by member, for tests.
    pub struct TestLayer(tar::Builder<Vec<u8>>);

    impl TestLayer {
        pub fn new() -> Self {
            TestLayer(tar::Builder::new(Vec::new()))
        }
        fn header(kind: tar::EntryType, size: usize) -> tar::Header {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(kind);
            h.set_size(size as u64);
            h.set_mode(0o644);
            h
        }
        pub fn file(mut self, path: &str, data: &[u8]) -> Self {
            let mut h = Self::header(tar::EntryType::Regular, data.len());
            self.0.append_data(&mut h, path, data).unwrap();
            self
        }
        /// A member whose raw name is written as is (the builder refuses `..`).
        pub fn raw_file(mut self, path: &str, data: &[u8]) -> Self {
            let mut h = Self::header(tar::EntryType::Regular, data.len());
            h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
            h.set_cksum();
            self.0.append(&h, data).unwrap();
            self
        }
        pub fn symlink(mut self, path: &str, target: &str) -> Self {
            let mut h = Self::header(tar::EntryType::Symlink, 0);
            self.0.append_link(&mut h, path, target).unwrap();
            self
        }
        pub fn hardlink(mut self, path: &str, target: &str) -> Self {
            let mut h = Self::header(tar::EntryType::Link, 0);
            h.set_path(path).unwrap();
            h.as_old_mut().linkname[..target.len()].copy_from_slice(target.as_bytes());
            h.set_cksum();
            self.0.append(&h, &[][..]).unwrap();
            self
        }
        pub fn dir(mut self, path: &str) -> Self {
            let mut h = Self::header(tar::EntryType::Directory, 0);
            self.0.append_data(&mut h, path, &[][..]).unwrap();
            self
        }
        pub fn bytes(self) -> Vec<u8> {
            self.0.into_inner().unwrap()
        }
    }

    #[test]
    fn keeps_wanted_files_whiteouts_and_opaque_dirs_only() {
        let bytes = TestLayer::new()
            .dir("etc/")
            .file("etc/os-release", b"ID=debian\n")
            .file("etc/passwd", b"root:x:0:0\n")
            .file("usr/share/doc/x", &[0u8; 10_000])
            .file("var/lib/dpkg/status.d/.wh.libfoo", b"")
            .file("var/lib/dpkg/.wh..wh..opq", b"")
            .file("usr/share/.wh.man", b"")
            .symlink("lib", "usr/lib")
            .bytes();
        let layer = read(&bytes[..], "layer").unwrap();
        assert_eq!(layer.nodes.keys().collect::<Vec<_>>(), ["etc/os-release", "lib"]);
        assert_eq!(layer.nodes["lib"], Node::Symlink("usr/lib".into()));
        // Whiteouts anywhere are kept: they hide language packages of lower layers.
        assert_eq!(layer.whiteouts, ["var/lib/dpkg/status.d/libfoo", "usr/share/man"]);
        assert_eq!(layer.opaque_dirs, ["var/lib/dpkg"]);
        assert_eq!(layer.digest, format!("sha256:{}", hex::encode(Sha256::digest(&bytes))));
    }

    #[test]
    fn gzip_layers_hash_to_the_uncompressed_digest() {
        use std::io::Write;
        let bytes = TestLayer::new().file("etc/os-release", b"ID=alpine\n").bytes();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&bytes).unwrap();
        let layer = read(&gz.finish().unwrap()[..], "layer").unwrap();
        assert_eq!(layer.digest, format!("sha256:{}", hex::encode(Sha256::digest(&bytes))));
        assert_eq!(layer.nodes["etc/os-release"], Node::File(b"ID=alpine\n".to_vec()));
    }

    #[test]
    fn hostile_members_are_refused_and_the_rest_still_read() {
        let bytes = TestLayer::new()
            .raw_file("../../etc/os-release", b"ID=evil\n")
            .raw_file("/etc/os-release", b"ID=evil\n")
            .hardlink("var/lib/dpkg/status", "../../../etc/shadow")
            .file("etc/os-release", b"ID=debian\n")
            .bytes();
        let layer = read(&bytes[..], "layer").unwrap();
        let reasons: Vec<_> = layer.rejected.iter().map(|r| (r.path.as_str(), r.reason.as_str())).collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(reasons[0].1.contains("climbs out"));
        assert_eq!(reasons[1], ("/etc/os-release", "absolute path"));
        assert!(reasons[2].1.contains("climbs out"));
        assert_eq!(layer.nodes["etc/os-release"], Node::File(b"ID=debian\n".to_vec()));
        assert!(!layer.nodes.contains_key("var/lib/dpkg/status"));
    }

    #[test]
    fn a_hard_link_to_a_wanted_file_shares_its_content() {
        let bytes = TestLayer::new().file("usr/lib/os-release", b"ID=debian\n").hardlink("etc/os-release", "usr/lib/os-release").bytes();
        let layer = read(&bytes[..], "layer").unwrap();
        assert_eq!(layer.nodes["etc/os-release"], Node::File(b"ID=debian\n".to_vec()));
    }

    #[test]
    fn a_corrupt_layer_is_an_error_naming_it() {
        let mut bytes = TestLayer::new().file("etc/os-release", b"ID=debian\n").bytes();
        bytes[148] = b'x'; // checksum field
        let err = read(&bytes[..], "layer sha256:abc").unwrap_err();
        assert!(err.to_string().contains("layer sha256:abc is corrupt"), "{err}");
    }
}

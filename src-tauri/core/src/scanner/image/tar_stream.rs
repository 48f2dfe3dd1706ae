//! Streaming iteration over a tar archive that does not trust it.
//!
//! The `tar` crate reads GNU long-name and PAX extension entries into memory
//! whatever their size, so a hostile archive could claim a multi-gigabyte
//! name. This walks the archive in the crate's raw mode and handles those
//! extension entries itself, each bounded by [`MAX_EXTENSION`]. Entry data is
//! handed to the caller as a reader and never buffered here.

use std::io::{self, Read, Seek};

use crate::error::{Error, Result};

/// Largest GNU long name / long link / PAX extension entry accepted.
pub const MAX_EXTENSION: u64 = 64 * 1024;

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink(String),
    Hardlink(String),
    /// Devices, FIFOs, sparse files, …: nothing to read for a scan.
    Other,
}

/// One member of the archive, with its raw (not yet normalised) path.
#[derive(Debug, Clone)]
pub struct Item {
    pub path: String,
    pub kind: Kind,
    pub size: u64,
}

/// Name and link overrides collected from extension entries for the next member.
#[derive(Default)]
struct Pending {
    path: Option<String>,
    link: Option<String>,
}

/// Calls `visit` for every member in order, with a reader over its data
/// (the caller may read all, part or none of it). `what` names the archive
/// in error messages ("layer sha256:…", "image archive").
pub fn for_each<R: Read>(reader: R, what: &str, visit: impl FnMut(&Item, &mut dyn Read) -> Result<()>) -> Result<()> {
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(|e| corrupt(what, &e))?;
    walk(entries, what, visit)
}

/// [`for_each`] over a seekable reader (a file): the data of a member the
/// visitor leaves unread is seeked over, not read.
pub fn for_each_seek<R: Read + Seek>(reader: R, what: &str, visit: impl FnMut(&Item, &mut dyn Read) -> Result<()>) -> Result<()> {
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries_with_seek().map_err(|e| corrupt(what, &e))?;
    walk(entries, what, visit)
}

fn walk<R: Read>(entries: tar::Entries<'_, R>, what: &str, mut visit: impl FnMut(&Item, &mut dyn Read) -> Result<()>) -> Result<()> {
    let entries = entries.raw(true);
    let mut pending = Pending::default();
    for entry in entries {
        let mut entry = entry.map_err(|e| corrupt(what, &e))?;
        let header = entry.header();
        let kind = header.entry_type();
        let size = header.entry_size().map_err(|e| corrupt(what, &e))?;
        if kind.is_gnu_longname() {
            pending.path = Some(read_extension(&mut entry, size, what)?);
            continue;
        }
        if kind.is_gnu_longlink() {
            pending.link = Some(read_extension(&mut entry, size, what)?);
            continue;
        }
        if kind.is_pax_local_extensions() {
            let records = read_extension(&mut entry, size, what)?;
            apply_pax(&records, &mut pending, what)?;
            continue;
        }
        if kind.is_pax_global_extensions() {
            read_extension(&mut entry, size, what)?;
            continue;
        }
        let path = match pending.path.take() {
            Some(p) => p,
            None => String::from_utf8_lossy(&entry.path_bytes()).into_owned(),
        };
        let link = match pending.link.take() {
            Some(l) => Some(l),
            None => entry.link_name_bytes().map(|b| String::from_utf8_lossy(&b).into_owned()),
        };
        let kind = if kind.is_file() || kind.is_contiguous() {
            Kind::File
        } else if kind.is_dir() {
            Kind::Dir
        } else if kind.is_symlink() {
            Kind::Symlink(link.unwrap_or_default())
        } else if kind.is_hard_link() {
            Kind::Hardlink(link.unwrap_or_default())
        } else {
            Kind::Other
        };
        let item = Item { path, kind, size };
        visit(&item, &mut entry)?;
    }
    if pending.path.is_some() || pending.link.is_some() {
        return Err(Error::invalid(format!("{what} is corrupt: it ends with a long-name entry describing no member")));
    }
    Ok(())
}

/// Applies PAX records to the next member. The raw reader finds the next
/// header from the ustar size field; a PAX `size` record overrides that only
/// for members over 8 GiB, which a scan has no use for, so it is refused
/// rather than misparsed.
fn apply_pax(records: &str, pending: &mut Pending, what: &str) -> Result<()> {
    for record in pax_records(records) {
        let (key, value) = record.map_err(|reason| Error::invalid(format!("{what} is corrupt: PAX header {reason}")))?;
        match key {
            "path" => pending.path = Some(value.to_string()),
            "linkpath" => pending.link = Some(value.to_string()),
            "size" => {
                return Err(Error::Unsupported(format!(
                    "{what} holds a member of {value} bytes (PAX size record); members over 8 GiB are not supported"
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Parses PAX records `"<len> <key>=<value>\n"`.
fn pax_records(text: &str) -> impl Iterator<Item = std::result::Result<(&str, &str), &'static str>> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some((len, _)) = rest.split_once(' ') else {
            rest = "";
            return Some(Err("record without a length"));
        };
        let Ok(len) = len.parse::<usize>() else {
            rest = "";
            return Some(Err("record with a bad length"));
        };
        let Some(record) = rest.get(..len) else {
            rest = "";
            return Some(Err("record longer than the header"));
        };
        rest = &rest[len..];
        let body = record.split_once(' ').map(|(_, b)| b.trim_end_matches('\n')).unwrap_or("");
        Some(body.split_once('=').ok_or("record without '='"))
    })
}

fn read_extension(entry: &mut impl Read, size: u64, what: &str) -> Result<String> {
    if size > MAX_EXTENSION {
        return Err(Error::invalid(format!(
            "{what} rejected: an extension header claims {size} bytes (limit {MAX_EXTENSION}); the archive is malformed or hostile"
        )));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    entry.take(size).read_to_end(&mut bytes).map_err(|e| corrupt(what, &e))?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text.trim_end_matches('\0').to_string())
}

fn corrupt(what: &str, e: &io::Error) -> Error {
    Error::invalid(format!("{what} is corrupt or truncated: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(path: &str, kind: tar::EntryType, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_path(path).unwrap();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o644);
        h.set_cksum();
        h
    }

    fn collect(bytes: &[u8]) -> Result<Vec<(Item, Vec<u8>)>> {
        let mut out = Vec::new();
        for_each(bytes, "test archive", |item, r| {
            let mut data = Vec::new();
            r.read_to_end(&mut data).unwrap();
            out.push((item.clone(), data));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn long_names_links_and_pax_paths_apply_to_the_next_member() {
        let mut b = tar::Builder::new(Vec::new());
        let long = format!("{}/file.txt", "d".repeat(200));
        let mut h = header("x", tar::EntryType::Regular, 3);
        b.append_data(&mut h, &long, &b"abc"[..]).unwrap();
        let mut h = header("link", tar::EntryType::Symlink, 0);
        b.append_link(&mut h, "link", format!("/{}", "t".repeat(150))).unwrap();
        b.append_pax_extensions([("path", &b"pax/named"[..])]).unwrap();
        let mut h = header("short", tar::EntryType::Regular, 2);
        b.append(&h.clone(), &b"hi"[..]).unwrap();
        h.set_path("after").unwrap();
        let bytes = b.into_inner().unwrap();
        let items = collect(&bytes).unwrap();
        assert_eq!(items[0].0.path, long);
        assert_eq!(items[0].1, b"abc");
        assert_eq!(items[1].0.kind, Kind::Symlink(format!("/{}", "t".repeat(150))));
        assert_eq!(items[2].0.path, "pax/named");
        assert_eq!(items[2].1, b"hi");
    }

    #[test]
    fn a_huge_extension_header_is_rejected_without_reading_it() {
        // A GNU long-name header claiming 1 GiB, followed by nothing.
        let h = header("././@LongLink", tar::EntryType::GNULongName, 1 << 30);
        let mut bytes = h.as_bytes().to_vec();
        bytes.extend(std::iter::repeat_n(b'a', 4096));
        let err = collect(&bytes).unwrap_err();
        assert!(err.to_string().contains("extension header claims 1073741824 bytes"), "{err}");
    }

    #[test]
    fn a_corrupt_header_and_a_truncated_member_are_clear_errors() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = header("f", tar::EntryType::Regular, 5);
        b.append(&h, &b"hello"[..]).unwrap();
        h.set_path("g").unwrap();
        let mut bytes = b.into_inner().unwrap();
        bytes[100] ^= 0x55; // inside the mode field: checksum mismatch
        let err = collect(&bytes).unwrap_err();
        assert!(err.to_string().contains("corrupt"), "{err}");

        let h = header("big", tar::EntryType::Regular, 10_000);
        let mut bytes = h.as_bytes().to_vec();
        bytes.extend([1u8; 100]);
        let err = collect(&bytes).unwrap_err();
        assert!(err.to_string().contains("test archive"), "{err}");
    }

    #[test]
    fn pax_size_records_are_refused_and_malformed_records_are_corrupt() {
        let mut pending = Pending::default();
        let err = apply_pax("20 size=99999999999\n", &mut pending, "layer").unwrap_err();
        assert!(err.to_string().contains("over 8 GiB"), "{err}");
        let err = apply_pax("999 path=x\n", &mut pending, "layer").unwrap_err();
        assert!(err.to_string().contains("corrupt"), "{err}");
        apply_pax("16 path=a/b/c.d\n", &mut pending, "layer").unwrap();
        assert_eq!(pending.path.as_deref(), Some("a/b/c.d"));
    }
}

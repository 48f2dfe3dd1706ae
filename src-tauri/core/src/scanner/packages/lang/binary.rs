//! Executables: the module list a Go binary embeds (its build info, Go
//! 1.18 and later) and the dependency list cargo-auditable embeds in a Rust
//! binary (the `.dep-v0` section, zlib-compressed JSON). Only ELF
//! executables are read: the first bytes decide, then the file is spooled
//! (to a temporary file beyond 16 MiB) and its sections read with the
//! `object` crate, each under a cap.

use std::io::{Read, Seek};

use object::{Object, ObjectSection};

use super::{package, Package, MAX_SPOOLED};
use crate::scanner::versions::Scheme;

const ELF: &[u8; 4] = b"\x7fELF";
/// Smallest file worth looking at (an ELF header is 64 bytes).
const MIN_SIZE: u64 = 64;
/// Largest section read (build info, dependency list).
const MAX_SECTION: u64 = 4 << 20;
/// Largest decompressed dependency list.
const MAX_DEPS_JSON: u64 = 16 << 20;
const GO_MAGIC: &[u8; 14] = b"\xff Go buildinf:";

/// `None` when the file is not an ELF executable (the common case: decided
/// from its first bytes); else its packages, or why they could not be read.
pub fn executable(size: u64, data: &mut dyn Read) -> Option<Result<Vec<Package>, String>> {
    if size < MIN_SIZE {
        return None;
    }
    let mut head = [0u8; 18];
    data.read_exact(&mut head).ok()?;
    // e_type (little or big endian): 2 = executable, 3 = shared object / PIE.
    let e_type = if head[5] == 2 { u16::from_be_bytes([head[16], head[17]]) } else { u16::from_le_bytes([head[16], head[17]]) };
    if &head[..4] != ELF || !(e_type == 2 || e_type == 3) {
        return None;
    }
    if size > MAX_SPOOLED {
        return Some(Err(format!("{size} bytes is over the {MAX_SPOOLED}-byte limit for an executable; not read")));
    }
    let mut spool = tempfile::SpooledTempFile::new(16 << 20);
    let copied = std::io::Write::write_all(&mut spool, &head).and_then(|_| std::io::copy(&mut data.take(MAX_SPOOLED), &mut spool));
    if let Err(e) = copied.and_then(|_| spool.rewind()) {
        return Some(Err(format!("spooling the executable: {e}")));
    }
    let cache = object::ReadCache::new(spool);
    let Ok(file) = object::File::parse(&cache) else { return None };
    let mut out = Vec::new();
    let mut notes = Vec::new();
    if let Some(section) = file.section_by_name(".go.buildinfo") {
        match section_data(&section).and_then(|d| go_buildinfo(&d)) {
            Ok(mut p) => out.append(&mut p),
            Err(e) => notes.push(format!("Go build info: {e}")),
        }
    }
    if let Some(section) = file.section_by_name(".dep-v0") {
        match section_data(&section).and_then(|d| auditable(&d)) {
            Ok(mut p) => out.append(&mut p),
            Err(e) => notes.push(format!("cargo-auditable dependency list: {e}")),
        }
    }
    if out.is_empty() && notes.is_empty() {
        return None;
    }
    if out.is_empty() {
        return Some(Err(notes.join("; ")));
    }
    Some(Ok(out))
}

fn section_data<'a, S: ObjectSection<'a>>(s: &S) -> Result<Vec<u8>, String> {
    if s.size() > MAX_SECTION {
        return Err(format!("section of {} bytes is over the {MAX_SECTION}-byte limit", s.size()));
    }
    s.data().map(<[u8]>::to_vec).map_err(|e| format!("unreadable section: {e}"))
}

/// Go's build info (`debug/buildinfo`): a 32-byte header starting with the
/// magic at a 16-byte boundary; from Go 1.18 (flag bit 2) the Go version
/// and the module list follow inline as length-prefixed strings. The list
/// has `mod` (main module), `dep` and `=>` (replacement of the previous
/// dep) lines. The Go toolchain itself is listed as `stdlib`, as OSV does.
pub fn go_buildinfo(data: &[u8]) -> Result<Vec<Package>, String> {
    let limit = data.len().min(64 << 10);
    let start = (0..limit).step_by(16).find(|&i| data[i..].starts_with(GO_MAGIC)).ok_or("no build info header")?;
    let header = data.get(start..start + 32).ok_or("truncated build info header")?;
    if header[15] & 2 == 0 {
        return Err("built by Go before 1.18 (build info by pointer): not read".into());
    }
    let mut rest = &data[start + 32..];
    let go_version = read_string(&mut rest)?;
    let mut mods = read_string(&mut rest)?;
    if mods.len() >= 33 && mods.as_bytes()[mods.len() - 17] == b'\n' {
        mods = mods[16..mods.len() - 16].to_string();
    }
    let mut out: Vec<Package> = Vec::new();
    if let Some(v) = go_version.strip_prefix("go") {
        let v = v.split([' ', '-']).next().unwrap_or(v);
        let v =
            if v.split('.').count() == 2 && v.bytes().all(|c| c.is_ascii_digit() || c == b'.') { format!("{v}.0") } else { v.to_string() };
        out.push(package(Scheme::Go, "stdlib", &v));
    }
    let mut last_dep: Option<usize> = None;
    for line in mods.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["mod", path, version, ..] if !version.is_empty() && *version != "(devel)" => out.push(package(Scheme::Go, path, version)),
            ["dep", path, version, ..] => {
                out.push(package(Scheme::Go, path, version));
                last_dep = Some(out.len() - 1);
            }
            ["=>", path, version, ..] if !version.is_empty() => {
                if let Some(i) = last_dep.take() {
                    out[i] = package(Scheme::Go, path, version);
                }
            }
            // Replaced by a local folder: not that module's published code.
            ["=>", ..] => {
                if let Some(i) = last_dep.take() {
                    out.remove(i);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn read_string(rest: &mut &[u8]) -> Result<String, String> {
    let (mut len, mut shift, mut used) = (0u64, 0u32, 0usize);
    loop {
        let b = *rest.get(used).ok_or("truncated build info")?;
        used += 1;
        len |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return Err("bad length in build info".into());
        }
    }
    let len = usize::try_from(len).map_err(|_| "bad length in build info")?;
    let s = rest.get(used..used.checked_add(len).ok_or("bad length")?).ok_or("build info string runs past its section")?;
    *rest = &rest[used + len..];
    Ok(String::from_utf8_lossy(s).into_owned())
}

/// cargo-auditable's `.dep-v0`: zlib-compressed `{"packages": [{"name",
/// "version", "source", "kind"}…]}`. Crates from crates.io that end up in
/// the binary (not build-time only) are listed.
pub fn auditable(data: &[u8]) -> Result<Vec<Package>, String> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(data).take(MAX_DEPS_JSON + 1).read_to_end(&mut json).map_err(|e| format!("not zlib data: {e}"))?;
    if json.len() as u64 > MAX_DEPS_JSON {
        return Err(format!("decompresses to over {MAX_DEPS_JSON} bytes; not read"));
    }
    let v: serde_json::Value = serde_json::from_slice(&json).map_err(|e| format!("not JSON: {e}"))?;
    let list = v["packages"].as_array().ok_or("no package list")?;
    Ok(list
        .iter()
        .filter(|p| p["source"].as_str().is_some_and(super::manifests::is_crates_io) && p["kind"].as_str() != Some("build"))
        .filter_map(|p| Some(package(Scheme::Cargo, p["name"].as_str()?, p["version"].as_str()?)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(s: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let mut n = s.len();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                break;
            }
            out.push(b | 0x80);
        }
        out.extend(s.as_bytes());
        out
    }

    #[test]
    fn go_build_info_inline_format() {
        let mods = "path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgolang.org/x/text\tv0.3.7\th1:x\ndep\tgithub.com/a/b\tv1.0.0\th1:y\n=>\tgithub.com/fork/b\tv1.0.1\th1:z\ndep\tlocal/c\tv0.0.0\n=>\t../c\t\t\nbuild\t-compiler=gc\n";
        let pad = "0".repeat(15);
        let wrapped = format!("{pad}\n{mods}\n{pad}");
        let mut data = vec![0u8; 16];
        data.extend(GO_MAGIC);
        data.extend([8u8, 2]);
        data.extend([0u8; 16]);
        data.extend(varint("go1.22"));
        data.extend(varint(&wrapped));
        let got: Vec<_> = go_buildinfo(&data).unwrap().into_iter().map(|p| (p.name, p.version)).collect();
        let want = [("stdlib", "1.22.0"), ("golang.org/x/text", "v0.3.7"), ("github.com/fork/b", "v1.0.1")];
        assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
        // Old pointer format and truncation are errors, never panics.
        let mut old = GO_MAGIC.to_vec();
        old.extend([8u8, 0]);
        old.extend([0u8; 16]);
        assert!(go_buildinfo(&old).unwrap_err().contains("before 1.18"));
        let mut cut = data.clone();
        cut.truncate(60);
        assert!(go_buildinfo(&cut).is_err());
    }

    #[test]
    fn auditable_list() {
        use std::io::Write;
        let json = br#"{"packages":[{"name":"app","version":"0.1.0","source":"local","root":true},{"name":"smallvec","version":"1.6.0","source":"crates.io"},{"name":"cc","version":"1.0.0","source":"crates.io","kind":"build"}]}"#;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(json).unwrap();
        let got: Vec<_> = auditable(&z.finish().unwrap()).unwrap().into_iter().map(|p| (p.name, p.version)).collect();
        assert_eq!(got, [("smallvec".to_string(), "1.6.0".to_string())]);
        assert!(auditable(b"junk").is_err());
    }
}

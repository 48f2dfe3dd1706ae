//! apk's database `/lib/apk/db/installed`: paragraphs of `X:value` lines.

use super::{Package, Scheme};

/// Installed packages (`P:` name, `V:` version, `A:` arch, `o:` origin = source).
pub fn parse(text: &str) -> Vec<Package> {
    text.split("\n\n")
        .filter_map(|para| {
            let field = |key: char| {
                para.lines().find_map(|l| {
                    let mut chars = l.chars();
                    (chars.next() == Some(key) && chars.next() == Some(':')).then(|| l[2..].trim().to_string())
                })
            };
            Some(Package {
                name: field('P')?,
                version: field('V')?,
                source_name: field('o'),
                source_version: None,
                arch: field('A'),
                scheme: Scheme::Apk,
                path: None,
                layer: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_with_origin() {
        let db = "C:Q1abc=\nP:libcrypto3\nV:3.3.2-r0\nA:x86_64\nS:1712\no:openssl\nm:Maintainer <m@x>\n\nP:musl\nV:1.2.5-r0\nA:x86_64\no:musl\n\nC:Q1=\nV:no-name\n";
        let pkgs = parse(db);
        assert_eq!(pkgs.len(), 2);
        assert_eq!((pkgs[0].name.as_str(), pkgs[0].version.as_str()), ("libcrypto3", "3.3.2-r0"));
        assert_eq!(pkgs[0].source_name.as_deref(), Some("openssl"));
        assert_eq!(pkgs[1].arch.as_deref(), Some("x86_64"));
    }
}

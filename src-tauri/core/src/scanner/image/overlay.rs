//! The image's root as seen by a container: layers applied bottom to top
//! with whiteouts, opaque folders and replacements, then wanted files looked
//! up through symbolic links (which may not leave the root).

use std::collections::BTreeMap;

use super::layer::{LayerFiles, Node, Rejected};
use super::paths::{join, parent};

/// Symbolic links followed before a lookup gives up (Linux's limit).
const MAX_HOPS: usize = 40;

/// The merged wanted files of an image.
#[derive(Debug)]
pub struct Root<T> {
    nodes: BTreeMap<String, Node<T>>,
}

impl<T: Clone> Root<T> {
    /// Applies `layers` in order, bottom first.
    pub fn build<'a>(layers: impl IntoIterator<Item = &'a LayerFiles<T>>) -> Self
    where
        T: 'a,
    {
        let mut nodes: BTreeMap<String, Node<T>> = BTreeMap::new();
        for layer in layers {
            for dir in &layer.opaque_dirs {
                remove_under(&mut nodes, dir);
            }
            for path in layer.whiteouts.iter().chain(&layer.replaced) {
                nodes.remove(path);
                remove_under(&mut nodes, path);
            }
            nodes.extend(layer.nodes.iter().map(|(p, n)| (p.clone(), n.clone())));
        }
        Root { nodes }
    }

    /// The file at `path`, following symbolic links in every component.
    pub fn get(&self, path: &str) -> Result<Option<(&str, &T)>, Rejected> {
        let mut path = path.to_string();
        for _ in 0..MAX_HOPS {
            match self.first_link(&path) {
                Some((prefix, target)) => {
                    let rest = &path[prefix.len()..];
                    let resolved = join(parent(prefix), target).ok_or_else(|| Rejected {
                        path: prefix.to_string(),
                        reason: format!("symbolic link to {target} climbs out of the image root"),
                    })?;
                    path = format!("{resolved}{rest}");
                }
                None => {
                    return Ok(self.nodes.get_key_value(&path).and_then(|(k, n)| match n {
                        Node::File(t) => Some((k.as_str(), t)),
                        Node::Symlink(_) => None,
                    }))
                }
            }
        }
        Err(Rejected { path, reason: format!("more than {MAX_HOPS} symbolic links") })
    }

    /// Files directly in folder `dir` (after resolving links to the folder).
    pub fn list(&self, dir: &str) -> Vec<(&str, &T)> {
        let prefix = format!("{dir}/");
        self.nodes
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, _)| !k[prefix.len()..].contains('/'))
            .filter_map(|(k, n)| match n {
                Node::File(t) => Some((k.as_str(), t)),
                Node::Symlink(_) => None,
            })
            .collect()
    }

    /// The shortest prefix of `path` (whole components) that is a link.
    fn first_link<'p>(&'p self, path: &'p str) -> Option<(&'p str, &'p str)> {
        let ends = path.match_indices('/').map(|(i, _)| i).chain([path.len()]);
        for end in ends {
            if let Some(Node::Symlink(target)) = self.nodes.get(&path[..end]) {
                return Some((&path[..end], target.as_str()));
            }
        }
        None
    }
}

fn remove_under<T>(nodes: &mut BTreeMap<String, Node<T>>, dir: &str) {
    let prefix = format!("{dir}/");
    let doomed: Vec<String> = nodes.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)).map(|(k, _)| k.clone()).collect();
    for k in doomed {
        nodes.remove(&k);
    }
}

#[cfg(test)]
mod tests {
    use super::super::layer::{read, tests::TestLayer};
    use super::*;

    fn layer(t: TestLayer) -> LayerFiles {
        read(&t.bytes()[..], "layer").unwrap()
    }

    fn text(root: &Root<Vec<u8>>, path: &str) -> Option<String> {
        root.get(path).unwrap().map(|(_, b)| String::from_utf8_lossy(b).into_owned())
    }

    #[test]
    fn upper_layers_replace_and_whiteouts_delete() {
        let base = layer(
            TestLayer::new()
                .file("usr/lib/os-release", b"ID=debian\n")
                .symlink("etc/os-release", "../usr/lib/os-release")
                .file("var/lib/dpkg/status", b"v1"),
        );
        let upgrade = layer(TestLayer::new().file("var/lib/dpkg/status", b"v2"));
        let root = Root::build([&base, &upgrade]);
        assert_eq!(text(&root, "etc/os-release").as_deref(), Some("ID=debian\n"));
        assert_eq!(text(&root, "var/lib/dpkg/status").as_deref(), Some("v2"));

        let removal = layer(TestLayer::new().file("var/lib/dpkg/.wh.status", b"").file("usr/lib/.wh.os-release", b""));
        let root = Root::build([&base, &upgrade, &removal]);
        assert_eq!(text(&root, "var/lib/dpkg/status"), None);
        assert_eq!(text(&root, "etc/os-release"), None, "the link's target is gone");
    }

    #[test]
    fn opaque_folders_hide_everything_below_them() {
        let base = layer(TestLayer::new().file("var/lib/dpkg/status.d/libc6", b"a").file("var/lib/dpkg/status.d/zlib", b"b"));
        let opaque = layer(TestLayer::new().file("var/lib/dpkg/status.d/.wh..wh..opq", b"").file("var/lib/dpkg/status.d/base-files", b"c"));
        let root = Root::build([&base, &opaque]);
        let names: Vec<_> = root.list("var/lib/dpkg/status.d").into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["var/lib/dpkg/status.d/base-files"]);
        // A whited-out folder takes its files with it.
        let gone = layer(TestLayer::new().file("var/lib/dpkg/.wh.status.d", b""));
        assert!(Root::build([&base, &gone]).list("var/lib/dpkg/status.d").is_empty());
    }

    #[test]
    fn links_on_the_way_are_followed_and_may_not_escape() {
        let merged_usr = layer(TestLayer::new().symlink("lib", "usr/lib").file("usr/lib/apk/db/installed", b"P:musl\n"));
        let root = Root::build([&merged_usr]);
        assert_eq!(text(&root, "lib/apk/db/installed").as_deref(), Some("P:musl\n"));

        let escape = layer(TestLayer::new().symlink("etc/os-release", "../../../../host/os-release"));
        let err = Root::build([&escape]).get("etc/os-release").unwrap_err();
        assert!(err.reason.contains("climbs out"), "{err:?}");

        let looping =
            layer(TestLayer::new().symlink("etc/os-release", "../usr/lib/os-release").symlink("usr/lib/os-release", "/etc/os-release"));
        assert!(Root::build([&looping]).get("etc/os-release").unwrap_err().reason.contains("symbolic links"));
    }

    #[test]
    fn a_file_replacing_a_folder_removes_what_was_under_it() {
        let base = layer(TestLayer::new().file("var/lib/dpkg/status", b"v1"));
        let flattened = layer(TestLayer::new().file("var/lib/dpkg", b"not a folder any more"));
        assert_eq!(text(&Root::build([&base, &flattened]), "var/lib/dpkg/status"), None);
    }
}

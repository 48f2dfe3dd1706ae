//! Where each package came from: the layer that introduced it, that
//! layer's Dockerfile instruction (the image history's `created_by`), and
//! whether the layer belongs to the base image.
//!
//! - An OS package is introduced by the lowest layer whose package database
//!   lists it at the installed version (and architecture).
//! - A language package comes from the layer holding its file, unless an
//!   upper layer deleted the file (whiteout, opaque folder) or wrote it again.
//! - Base image: the layers below the base image's last `CMD`, found as
//!   Trivy does: walking the history down from the newest layer, the first
//!   `CMD` entry met below it ends the base image (Dockerfiles of base
//!   images end with one: `CMD ["bash"]`). No such `CMD`: no base layers.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::advisories::Vulnerability;
use super::assess::count;
use super::image::layer::Node;
use super::layer_cache::LayerRecord;
use super::packages::lang::is_lock_file;
use super::packages::{Inventory, LayerRef, Package, Parsed};
use super::policy::{evaluate, Policy};
use super::scan::ScanReport;

/// Keeps the findings and packages of `scope`'s layers: findings of the
/// other layers no longer count (they move to `excluded`, as the severity
/// filters do), packages of the other layers leave the report, and the
/// decision is evaluated again. Run after [`gate::apply`](super::gate::apply),
/// which puts every finding back in play.
pub fn restrict(report: &mut ScanReport, policy: &Policy, scope: LayerScope) {
    let a = &mut report.assessment;
    let (keep, out): (Vec<Vulnerability>, Vec<Vulnerability>) =
        std::mem::take(&mut a.vulnerabilities).into_iter().partition(|v| scope.includes(v.layer.as_ref()));
    a.vulnerabilities = keep;
    a.excluded.extend(out);
    a.counts = count(&a.vulnerabilities);
    let not_assessed = std::mem::take(&mut a.verdict.not_assessed);
    a.verdict = evaluate(policy, &report.config, &a.counts, &not_assessed);
    let before = report.packages.len();
    report.packages.retain(|p| scope.includes(p.layer.as_ref()));
    let layers = report.layers.iter().filter(|l| (scope == LayerScope::Base) == l.base).count();
    report.notes.push(format!(
        "only the {} ({layers} of {} layers): {} of {before} packages",
        match scope {
            LayerScope::Ours => "image's own layers",
            LayerScope::Base => "base image's layers",
        },
        report.layers.len(),
        report.packages.len()
    ));
}

/// One entry of the image history, bottom first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub created_by: Option<String>,
    /// The instruction changed only the configuration (ENV, CMD, …): no layer.
    pub empty_layer: bool,
}

/// Which layers a report or gate looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum LayerScope {
    /// Layers the image's own Dockerfile added (above the base image).
    Ours,
    /// Layers of the base image.
    Base,
}

impl LayerScope {
    /// Whether a finding or package in `layer` is in scope (unknown layer: yes).
    pub fn includes(self, layer: Option<&LayerRef>) -> bool {
        match (self, layer) {
            (_, None) => true,
            (LayerScope::Ours, Some(l)) => !l.base,
            (LayerScope::Base, Some(l)) => l.base,
        }
    }
}

const CONFIG_ONLY: [&str; 13] =
    ["ENV", "LABEL", "CMD", "ENTRYPOINT", "EXPOSE", "USER", "ARG", "HEALTHCHECK", "STOPSIGNAL", "SHELL", "VOLUME", "MAINTAINER", "ONBUILD"];

/// The Dockerfile instruction of a `created_by`: `/bin/sh -c #(nop)  CMD
/// ["sh"]` → `CMD ["sh"]`, `/bin/sh -c apt-get …` → `RUN /bin/sh -c apt-get …`,
/// BuildKit's `RUN /bin/sh -c … # buildkit` → `RUN /bin/sh -c …`.
pub fn instruction(created_by: &str) -> String {
    let t = created_by.trim();
    let t = t.strip_suffix("# buildkit").map(str::trim_end).unwrap_or(t);
    if let Some(rest) = t.strip_prefix("/bin/sh -c #(nop)") {
        return rest.trim().to_string();
    }
    if t.starts_with("/bin/sh -c ") || t.starts_with("|") {
        return format!("RUN {t}");
    }
    t.to_string()
}

fn keyword(created_by: &str) -> String {
    instruction(created_by).split_whitespace().next().unwrap_or("").to_ascii_uppercase()
}

/// The engine's history (`docker history`: newest first, a size per entry
/// and no empty-layer flag) as entries bottom first. An entry with bytes
/// made a layer; a zero-byte one made a layer unless its instruction only
/// sets configuration — decided so the count matches the image's layers.
pub fn from_engine(newest_first: &[(Option<String>, i64)], layers: usize) -> Vec<HistoryEntry> {
    let entries: Vec<(Option<String>, i64)> = newest_first.iter().rev().cloned().collect();
    let sized = entries.iter().filter(|(_, s)| *s > 0).count();
    let config_only = |c: &Option<String>| c.as_deref().is_some_and(|c| CONFIG_ONLY.contains(&keyword(c).as_str()));
    let maybe = entries.iter().filter(|(c, s)| *s <= 0 && !config_only(c)).count();
    entries
        .into_iter()
        .map(|(created_by, size)| {
            let empty_layer = if size > 0 {
                false
            } else if sized == layers {
                true
            } else if sized + maybe == layers {
                config_only(&created_by)
            } else {
                // Cannot tell: every entry a layer; instructions() then sees
                // the count differ and names none.
                false
            };
            HistoryEntry { created_by, empty_layer }
        })
        .collect()
}

/// Each layer's instruction, bottom first; all `None` when the history's
/// layer entries do not match the image's layers one for one.
pub fn instructions(history: &[HistoryEntry], layers: usize) -> Vec<Option<String>> {
    let made: Vec<Option<String>> = history.iter().filter(|h| !h.empty_layer).map(|h| h.created_by.as_deref().map(instruction)).collect();
    if made.len() == layers {
        made
    } else {
        vec![None; layers]
    }
}

/// How many bottom layers belong to the base image (see the module doc).
pub fn base_layers(history: &[HistoryEntry]) -> usize {
    let Some(top) = history.iter().rposition(|h| !h.empty_layer) else { return 0 };
    let Some(cmd) = history[..top].iter().rposition(|h| h.empty_layer && h.created_by.as_deref().is_some_and(|c| keyword(c) == "CMD"))
    else {
        return 0;
    };
    history[..cmd].iter().filter(|h| !h.empty_layer).count()
}

/// Puts the layer on every OS package of `inventory` and appends the
/// image's visible language packages (with their layer), notes for
/// language files that could not be read.
pub fn attribute(records: &[&LayerRecord], instructions: &[Option<String>], base: usize, inventory: &mut Inventory) {
    let layer_ref = |i: usize| LayerRef {
        index: i as u32,
        digest: records[i].digest.clone(),
        created_by: instructions.get(i).cloned().flatten(),
        base: i < base,
    };
    // OS packages: the lowest layer whose database lists the same package.
    let mut first: HashMap<(&str, &str, Option<&str>), (usize, &str)> = HashMap::new();
    for (i, record) in records.iter().enumerate() {
        for (path, node) in &record.nodes {
            if let Node::File(Parsed::Packages { packages }) = node {
                for p in packages {
                    first.entry((p.name.as_str(), p.version.as_str(), p.arch.as_deref())).or_insert((i, path.as_str()));
                }
            }
        }
    }
    for p in inventory.packages.iter_mut() {
        if let Some((i, path)) = first.get(&(p.name.as_str(), p.version.as_str(), p.arch.as_deref())) {
            p.layer = Some(layer_ref(*i));
            p.path.get_or_insert_with(|| path.to_string());
        }
    }
    // Language packages: files still present in the merged root.
    let mut lang: Vec<Package> = Vec::new();
    for (i, record) in records.iter().enumerate() {
        for found in &record.lang {
            let gone = records[i + 1..].iter().any(|upper| {
                let under = |dir: &String| {
                    found.path.len() > dir.len() && found.path.starts_with(dir.as_str()) && found.path.as_bytes()[dir.len()] == b'/'
                };
                upper.whiteouts.iter().any(|w| *w == found.path || under(w))
                    || upper.opaque_dirs.iter().any(under)
                    || upper.lang.iter().any(|f| f.path == found.path)
            });
            if gone {
                continue;
            }
            if let Some(note) = &found.note {
                inventory.notes.push(format!("/{}: {note}", found.path));
            }
            lang.extend(found.packages.iter().cloned().map(|p| Package { layer: Some(layer_ref(i)), ..p }));
        }
    }
    // A lock file's entry that is also installed below the lock's folder
    // (its node_modules) is the installed package.
    let installed: Vec<(crate::scanner::versions::Scheme, String, String, String)> = lang
        .iter()
        .filter_map(|p| {
            p.path.as_ref().filter(|path| !is_lock_file(path)).map(|path| (p.scheme, p.name.clone(), p.version.clone(), path.clone()))
        })
        .collect();
    lang.retain(|p| {
        let Some(lock) = p.path.as_deref().filter(|path| is_lock_file(path)) else { return true };
        let dir = lock.rsplit_once('/').map(|(d, _)| format!("{d}/")).unwrap_or_default();
        !installed
            .iter()
            .any(|(scheme, name, version, path)| *scheme == p.scheme && *name == p.name && *version == p.version && path.starts_with(&dir))
    });
    lang.sort_by(|a, b| {
        (format!("{:?}", a.scheme), &a.name, &a.version, &a.path).cmp(&(format!("{:?}", b.scheme), &b.name, &b.version, &b.path))
    });
    lang.dedup();
    inventory.packages.extend(lang);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(c: &str, empty: bool) -> HistoryEntry {
        HistoryEntry { created_by: Some(c.into()), empty_layer: empty }
    }

    #[test]
    fn instructions_and_the_base_boundary() {
        assert_eq!(instruction("/bin/sh -c #(nop)  CMD [\"bash\"]"), "CMD [\"bash\"]");
        assert_eq!(instruction("/bin/sh -c #(nop) COPY file:ab12 in /app/ "), "COPY file:ab12 in /app/");
        assert_eq!(instruction("/bin/sh -c pip install x"), "RUN /bin/sh -c pip install x");
        assert_eq!(instruction("RUN /bin/sh -c npm ci # buildkit"), "RUN /bin/sh -c npm ci");
        let history = [
            h("/bin/sh -c #(nop) ADD file:1 in / ", false),
            h("/bin/sh -c #(nop)  CMD [\"bash\"]", true),
            h("/bin/sh -c #(nop) COPY dir:2 in /app ", false),
            h("RUN /bin/sh -c pip install -r req.txt # buildkit", false),
            h("CMD [\"python\", \"app.py\"]", true),
        ];
        assert_eq!(base_layers(&history), 1, "the last CMD below the newest layer ends the base");
        assert_eq!(instructions(&history, 3)[2].as_deref(), Some("RUN /bin/sh -c pip install -r req.txt"));
        assert_eq!(instructions(&history, 4), vec![None; 4], "a count that does not match names nothing");
        assert_eq!(base_layers(&history[..1]), 0, "no CMD: no base layers");
    }

    #[test]
    fn language_files_deleted_or_rewritten_above_are_gone() {
        use crate::scanner::packages::lang::{package, Found};
        use crate::scanner::versions::Scheme;
        let found = |path: &str, v: &str| Found { path: path.into(), packages: vec![package(Scheme::Npm, "a", v)], note: None };
        let layer = |digest: &str, lang: Vec<Found>, whiteouts: &[&str], opaque: &[&str]| LayerRecord {
            digest: digest.into(),
            lang,
            whiteouts: whiteouts.iter().map(|s| s.to_string()).collect(),
            opaque_dirs: opaque.iter().map(|s| s.to_string()).collect(),
            nodes: Default::default(),
            replaced: Vec::new(),
            rejected: Vec::new(),
            catalogue: 1,
        };
        let l0 = layer(
            "sha256:0",
            vec![found("app/node_modules/a/package.json", "1.0.0"), found("srv/node_modules/a/package.json", "1.1.0")],
            &[],
            &[],
        );
        let l1 = layer(
            "sha256:1",
            vec![found("app/node_modules/a/package.json", "2.0.0"), found("x/node_modules/a/package.json", "3.0.0")],
            &[],
            &[],
        );
        let l2 = layer("sha256:2", vec![], &["srv/node_modules"], &["x"]);
        let mut inv = Inventory::default();
        attribute(&[&l0, &l1, &l2], &[None, Some("COPY app /app".into()), None], 1, &mut inv);
        let got: Vec<_> = inv.packages.iter().map(|p| (p.version.as_str(), p.layer.as_ref().map(|l| (l.index, l.base)))).collect();
        assert_eq!(got, [("2.0.0", Some((1, false)))], "rewritten in layer 1, deleted by a whiteout, hidden by an opaque folder");
        assert_eq!(inv.packages[0].layer.as_ref().and_then(|l| l.created_by.as_deref()), Some("COPY app /app"));
    }

    #[test]
    fn a_lock_entry_installed_below_its_folder_is_the_installed_package() {
        use crate::scanner::packages::lang::{package, Found};
        use crate::scanner::versions::Scheme;
        let found = |path: &str, scheme: Scheme, name: &str| Found {
            path: path.into(),
            packages: vec![Package { path: Some(path.into()), ..package(scheme, name, "1.0.0") }],
            note: None,
        };
        let record = LayerRecord {
            digest: "sha256:0".into(),
            lang: vec![
                found("srv/web/package-lock.json", Scheme::Npm, "a"),
                found("srv/web/node_modules/a/package.json", Scheme::Npm, "a"),
                found("srv/tool/Cargo.lock", Scheme::Cargo, "b"),
                found("usr/local/bin/tool", Scheme::Cargo, "b"),
            ],
            nodes: Default::default(),
            whiteouts: Vec::new(),
            opaque_dirs: Vec::new(),
            replaced: Vec::new(),
            rejected: Vec::new(),
            catalogue: 1,
        };
        let mut inv = Inventory::default();
        attribute(&[&record], &[None], 0, &mut inv);
        let paths: Vec<&str> = inv.packages.iter().filter_map(|p| p.path.as_deref()).collect();
        assert_eq!(paths, ["srv/tool/Cargo.lock", "usr/local/bin/tool", "srv/web/node_modules/a/package.json"]);
    }

    #[test]
    fn engine_history_sizes_and_config_only_instructions() {
        let newest_first = [
            (Some("/bin/sh -c #(nop)  CMD [\"app\"]".to_string()), 0),
            (Some("/bin/sh -c #(nop) WORKDIR /app".to_string()), 0),
            (Some("/bin/sh -c #(nop) COPY file:x in /app ".to_string()), 120),
            (Some("/bin/sh -c #(nop)  CMD [\"sh\"]".to_string()), 0),
            (Some("Imported from -".to_string()), 5000),
        ];
        let bottom_first = from_engine(&newest_first, 3);
        let empty: Vec<bool> = bottom_first.iter().map(|e| e.empty_layer).collect();
        assert_eq!(empty, [false, true, false, false, true], "the zero-byte WORKDIR made the third layer");
        assert_eq!(base_layers(&bottom_first), 1);
        let sized = from_engine(&newest_first, 2);
        assert_eq!(sized.iter().filter(|e| !e.empty_layer).count(), 2);
    }
}

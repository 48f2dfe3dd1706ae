//! `opsdeck apply -f FILE --context C...`: server-side apply of a manifest to
//! several clusters at once, a result per cluster; exit 1 when any failed.
//! The backend's apply, as the desktop app's: audited per context (`cluster.apply`).

use clap::Args;
use opsdeck_core::Error;

use crate::exit;
use crate::output::{fail, outln, print_json, Format};

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Manifest file (YAML, several documents allowed); "-" reads standard input.
    #[arg(short = 'f', long = "filename")]
    file: String,
    #[arg(long)]
    kubeconfig: Option<String>,
    /// Context to apply to (repeat; none = every context of the file).
    #[arg(long = "context")]
    contexts: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

pub async fn run(data_dir: Option<std::path::PathBuf>, a: ApplyArgs) -> u8 {
    match run_inner(data_dir, a).await {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

async fn run_inner(data_dir: Option<std::path::PathBuf>, a: ApplyArgs) -> Result<u8, Error> {
    let path = a
        .kubeconfig
        .or_else(super::health::default_kubeconfig)
        .ok_or_else(|| Error::invalid("no kubeconfig: pass --kubeconfig or set KUBECONFIG"))?;
    let manifest = if a.file == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| Error::invalid(format!("reading standard input: {e}")))?;
        s
    } else {
        std::fs::read_to_string(&a.file).map_err(|e| Error::invalid(format!("cannot read {}: {e}", a.file)))?
    };
    let backend = super::open_backend(data_dir).await?;
    let results = backend.cluster_apply_kubeconfig(&path, &a.contexts, &manifest).await?;
    if a.format == Format::Json {
        print_json(&results);
    } else {
        for r in &results {
            outln!("{}: {}", r.context, if r.ok { "ok" } else { "FAILED" });
            if let Some(e) = &r.error {
                outln!("  {e}");
            }
            for o in &r.objects {
                let ns = o.namespace.as_deref().map(|n| format!("{n}/")).unwrap_or_default();
                match &o.error {
                    Some(e) => outln!("  {} {ns}{}: failed: {e}", o.kind, o.name),
                    None => outln!("  {} {ns}{}: {}", o.kind, o.name, o.action),
                }
            }
            for ro in &r.rollouts {
                outln!(
                    "  rollout deployment {}/{}: {}/{} updated, {}/{} available{}",
                    ro.namespace,
                    ro.name,
                    ro.updated,
                    ro.desired,
                    ro.available,
                    ro.desired,
                    if ro.done { ", complete" } else { "" }
                );
            }
        }
    }
    Ok(if results.iter().all(|r| r.ok) { exit::OK } else { exit::FAILED })
}

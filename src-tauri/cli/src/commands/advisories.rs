//! `opsdeck advisories import PATH`: load OSV advisories (a zip as OSV
//! publishes them, or a folder of JSON records) into the local database,
//! then re-match every cached image without Docker.

use std::path::PathBuf;

use clap::Subcommand;

use crate::exit;
use crate::output::{errln, fail, outln};

#[derive(Debug, Subcommand)]
pub enum AdvisoriesCommand {
    /// Import OSV records from a .zip or a folder (re-importing is idempotent).
    Import { path: PathBuf },
}

pub async fn run(data_dir: Option<PathBuf>, c: AdvisoriesCommand) -> u8 {
    let AdvisoriesCommand::Import { path } = c;
    let backend = match super::open_backend(data_dir).await {
        Ok(b) => b,
        Err(e) => return fail(&e),
    };
    match backend.import_advisories(&path).await {
        Ok(u) => {
            outln!("imported {} advisory records from {}", u.import.records, path.display());
            for (file, reason) in &u.import.malformed {
                errln!("skipped {file}: {reason}");
            }
            // What changed: decisions, new and fixed findings, images no longer assessed.
            for line in &u.note {
                outln!("{line}");
            }
            exit::OK
        }
        Err(e) => fail(&e),
    }
}

//! Logs go to stderr and to `<data dir>/logs/opsdeck.log`. Secrets never reach
//! a log line: the library's secret types redact themselves.

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::EnvFilter;

pub fn init(data_dir: &Path) {
    let filter = EnvFilter::try_from_env("OPSDECK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let dir = opsdeck_core::paths::log_dir(data_dir);
    let file = std::fs::create_dir_all(&dir).and_then(|_| OpenOptions::new().create(true).append(true).open(dir.join("opsdeck.log")));
    match file {
        Ok(f) => {
            let writer = std::io::stderr.and(Mutex::new(f));
            let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_writer(writer).try_init();
        }
        Err(e) => {
            let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
            tracing::warn!("cannot open the log file in {}: {e}; logging to stderr only", dir.display());
        }
    }
}

//! SIGINT/SIGTERM for commands that stop cleanly: the first signal cancels
//! a token (the command finishes what is in flight and writes its reports),
//! a second one exits at once with [`exit::STOPPED`].

use tokio_util::sync::CancellationToken;

use crate::exit;
use crate::output::errln;

/// Cancels `stop` on the first SIGINT or SIGTERM, printing `stopping`; on the
/// next one prints `again` and exits with 130.
pub async fn on_signal(stop: CancellationToken, stopping: &str, again: &str) {
    let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else { return };
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        if stop.is_cancelled() {
            errln!("{again}");
            std::process::exit(exit::STOPPED.into());
        }
        errln!("{stopping}");
        stop.cancel();
    }
}

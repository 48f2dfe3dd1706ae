//! SIGINT/SIGTERM for commands that stop cleanly (`opsdeck check`,
//! `config import`, `vm provision`): the first signal cancels a token (the
//! command finishes what is in flight and writes its reports); a second one
//! stops at once. The exit status says which signal came first, as a shell
//! reports it: 130 for SIGINT ([`exit::STOPPED`]), 143 for SIGTERM
//! ([`exit::TERMINATED`]).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::exit;
use crate::output::errln;

/// What a second signal does.
pub enum Again {
    /// Print the message and exit at once.
    Exit(&'static str),
    /// Print the message, cancel `abort` (the command records what it knows
    /// and returns) and exit after `grace` if it has not returned by then.
    Abort { message: &'static str, abort: CancellationToken, grace: Duration },
}

/// A running signal watcher; dropping it does not stop it, [`Watch::finish`] does.
pub struct Watch {
    signal: Arc<AtomicU8>,
    task: JoinHandle<()>,
}

impl Watch {
    /// Stops watching; returns the exit status of the first signal seen
    /// (130 or 143), or `None` when none came.
    pub fn finish(self) -> Option<u8> {
        self.task.abort();
        match self.signal.load(Ordering::SeqCst) {
            0 => None,
            code => Some(code),
        }
    }
}

/// Cancels `stop` on the first SIGINT or SIGTERM, printing `stopping`; a
/// second signal does what `again` says.
pub fn watch(stop: CancellationToken, stopping: &'static str, again: Again) -> Watch {
    let signal = Arc::new(AtomicU8::new(0));
    let seen = signal.clone();
    let task = tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
            return;
        };
        loop {
            let got = tokio::select! {
                _ = int.recv() => exit::STOPPED,
                _ = term.recv() => exit::TERMINATED,
            };
            let _ = seen.compare_exchange(0, got, Ordering::SeqCst, Ordering::SeqCst);
            let code = seen.load(Ordering::SeqCst);
            if !stop.is_cancelled() {
                errln!("{stopping}");
                stop.cancel();
                continue;
            }
            match &again {
                Again::Exit(message) => errln!("{message}"),
                Again::Abort { message, abort, grace } => {
                    errln!("{message}");
                    abort.cancel();
                    tokio::time::sleep(*grace).await;
                }
            }
            crate::output::flush_out();
            std::process::exit(code.into());
        }
    });
    Watch { signal, task }
}

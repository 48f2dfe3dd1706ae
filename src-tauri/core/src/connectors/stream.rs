//! Idle timeouts for streamed answers (an image export, a watch). A request
//! timeout covers only the wait for the answer's headers; once a stream has
//! started, a frozen server (SIGSTOP, a dead disk) or a peer that stalls
//! after its headers would otherwise be waited on forever. Every stream read
//! here fails with [`Error::Stalled`] naming what stalled once it has been
//! silent for [`stream_idle`].

use std::time::Duration;

use futures::{Stream, StreamExt};

use crate::error::Error;

/// How long a started stream may stay silent before it counts as stalled.
pub const STREAM_IDLE: Duration = Duration::from_secs(60);

/// Environment variable that overrides [`STREAM_IDLE`], in whole seconds
/// (tests make it short; a slow link may need it longer).
pub const STREAM_IDLE_ENV: &str = "OPSDECK_STREAM_IDLE_SECS";

/// The idle period in force: `$OPSDECK_STREAM_IDLE_SECS` when it is a
/// positive number of seconds, else [`STREAM_IDLE`].
pub fn stream_idle() -> Duration {
    std::env::var(STREAM_IDLE_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map(Duration::from_secs)
        .unwrap_or(STREAM_IDLE)
}

/// The error of a stream that went quiet: `what` names the stream and its
/// server ("Docker at unix:///run/docker.sock, exporting myapp:1 (docker save)").
pub fn stalled(what: impl Into<String>, idle: Duration, advice: impl Into<String>) -> Error {
    Error::Stalled { what: what.into(), secs: idle.as_secs().max(1), advice: advice.into() }
}

/// What to say about the limit itself, after the advice.
pub fn idle_hint(default: Duration) -> String {
    format!("(a slow link may need a longer idle limit: ${STREAM_IDLE_ENV}, default {} s)", default.as_secs())
}

/// `stream`, with every item due within `idle` of the one before: when none
/// comes in time, yields `on_stall()` once and ends.
pub fn idle_timeout<S, T, E, F>(stream: S, idle: Duration, on_stall: F) -> impl Stream<Item = Result<T, E>> + Send
where
    S: Stream<Item = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
    F: FnOnce() -> E + Send + 'static,
{
    futures::stream::unfold((stream.boxed(), Some(on_stall)), move |(mut inner, on_stall)| async move {
        let on_stall = on_stall?;
        match tokio::time::timeout(idle, inner.next()).await {
            Ok(Some(item)) => Some((item, (inner, Some(on_stall)))),
            Ok(None) => None,
            Err(_) => Some((Err(on_stall()), (inner, None))),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[tokio::test]
    async fn a_silent_stream_fails_once_naming_what_stalled() {
        let items = futures::stream::iter([Ok::<u8, Error>(1)]).chain(futures::stream::pending());
        let idle = Duration::from_millis(100);
        let s = idle_timeout(items, idle, move || stalled("the test stream", idle, format!("retry {}", idle_hint(STREAM_IDLE))));
        let got: Vec<Result<u8, Error>> = s.collect().await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].as_ref().ok(), Some(&1));
        let e = got[1].as_ref().unwrap_err();
        assert_eq!(e.code(), ErrorCode::Timeout);
        let text = e.to_string();
        assert!(text.starts_with("the test stream stalled: nothing received for 1 s; retry"), "{text}");
        assert!(text.contains(STREAM_IDLE_ENV), "{text}");
    }

    #[tokio::test]
    async fn a_stream_that_ends_in_time_is_passed_through() {
        let items = futures::stream::iter([Ok::<u8, Error>(1), Ok(2)]);
        let got: Vec<u8> =
            idle_timeout(items, Duration::from_secs(1), || Error::Internal("never".into())).map(|r| r.unwrap()).collect().await;
        assert_eq!(got, [1, 2]);
    }
}

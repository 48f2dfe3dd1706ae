//! Live health when the API server freezes (issue 19, item 2): the watches
//! have an idle limit, so a SIGSTOPped kube-apiserver turns the cluster
//! unreachable with the class `timeout` and a message naming the stalled
//! watch, instead of an indicator that stays green on stale data; SIGCONT
//! and it recovers by itself. (Own test binary: its own API server to freeze,
//! and the idle limit set for this process before anything starts.)

use std::time::{Duration, Instant};

use kube::config::Kubeconfig;
use opsdeck_core::clusters::Verdict;
use opsdeck_core::ErrorCode;
use opsdeck_tests::clusters::{next_matching, watch_context};
use opsdeck_tests::service::shared;

#[tokio::test]
async fn a_frozen_api_server_is_a_named_stall_then_recovers() {
    // Read by the connector when a client is made; set before any is.
    std::env::set_var(opsdeck_core::connectors::stream::STREAM_IDLE_ENV, "3");
    let api = shared("kube-apiserver");
    let pid: i32 = api.get("KUBE_APISERVER_PID").parse().unwrap();
    let kubeconfig = Kubeconfig::read_from(api.get("KUBECONFIG")).unwrap();
    let (handle, mut rx) = watch_context(kubeconfig, "admin");
    next_matching(&mut rx, Duration::from_secs(30), |h| h.verdict != Verdict::Unreachable).await;

    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0, "freeze kube-apiserver");
    let frozen = Instant::now();
    let (stalled, _) = next_matching(&mut rx, Duration::from_secs(60), |h| h.verdict == Verdict::Unreachable).await;
    let waited = frozen.elapsed();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0, "thaw kube-apiserver");
    assert_eq!(stalled.error_code, Some(ErrorCode::Timeout), "{:?}", stalled.findings);
    let message = &stalled.findings[0].message;
    assert!(message.contains("on cluster \"admin\" stalled: nothing received for 3 s"), "names the stalled watch: {message}");
    assert!(message.contains("OPSDECK_STREAM_IDLE_SECS"), "{message}");
    assert!(waited < Duration::from_secs(45), "bounded by the idle limit, not the watch's 290 s: {waited:?}");

    next_matching(&mut rx, Duration::from_secs(60), |h| h.verdict != Verdict::Unreachable).await;
    drop(handle);
}

//! Live cluster health for tests: a watch whose updates arrive on a channel,
//! and a bounded wait for the update a test expects.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::config::Kubeconfig;
use opsdeck_core::clusters::live::{watch, LiveHandle};
use opsdeck_core::clusters::ClusterHealth;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// Starts live health for one context of `kubeconfig`; every update is sent
/// on the returned channel (closed when the watch stops).
pub fn watch_context(kubeconfig: Kubeconfig, context: &str) -> (LiveHandle, UnboundedReceiver<ClusterHealth>) {
    let (tx, rx) = unbounded_channel();
    let handle = watch(
        kubeconfig,
        vec![context.into()],
        None,
        Arc::new(move |h| {
            let _ = tx.send(h);
        }),
    );
    (handle, rx)
}

/// Waits (bounded) for a health update satisfying `pred`; returns it and how long it took.
pub async fn next_matching(
    rx: &mut UnboundedReceiver<ClusterHealth>,
    limit: Duration,
    pred: impl Fn(&ClusterHealth) -> bool,
) -> (ClusterHealth, Duration) {
    let started = Instant::now();
    loop {
        let left = limit.checked_sub(started.elapsed()).expect("no matching health update in time");
        let h = tokio::time::timeout(left, rx.recv()).await.expect("no matching health update in time").expect("stream open");
        if pred(&h) {
            return (h, started.elapsed());
        }
    }
}

/// A client of the API server of kubeconfig file `path` as `context` (admin or restricted).
pub async fn client(path: &str, context: &str) -> kube::Client {
    let kc = Kubeconfig::read_from(path).expect("kubeconfig");
    let opts = kube::config::KubeConfigOptions { context: Some(context.into()), ..Default::default() };
    kube::Client::try_from(kube::Config::from_custom_kubeconfig(kc, &opts).await.expect("kube config")).expect("kube client")
}

//! Fleet scans: many images, a bounded number at once. Layers are shared
//! through the layer cache, and a layer one scan is reading is waited for by
//! another that needs it rather than read twice (see `input::read_blob_layers`).

use std::future::Future;

use futures::stream::{self, StreamExt};

/// Runs `tasks`, at most `jobs` at once; the results in the order given.
pub async fn bounded<F: Future>(tasks: Vec<F>, jobs: usize) -> Vec<F::Output> {
    stream::iter(tasks).buffered(jobs.max(1)).collect().await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn at_most_jobs_run_at_once_and_order_is_kept() {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let (running, peak) = (&running, &peak);
                async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                }
            })
            .collect();
        assert_eq!(bounded(tasks, 3).await, (0..10).collect::<Vec<_>>());
        assert_eq!(peak.load(Ordering::SeqCst), 3);
    }
}

//! Waiting on a condition instead of sleeping a fixed time: on a loaded 2-core machine a
//! fixed sleep is either too short (a flaky failure) or too long (a slow suite).

use std::time::{Duration, Instant};

/// Polls `cond` every 20 ms until it holds; panics naming `what` after `timeout`.
#[track_caller]
pub fn until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// [`until`] for async conditions.
pub async fn until_async<F, Fut>(what: &str, timeout: Duration, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !cond().await {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

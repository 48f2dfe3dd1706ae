//! Helpers shared by the benchmark binaries (`src/bin/bench-*.rs`).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd` under /usr/bin/time; returns wall time and peak RSS in KiB.
pub fn timed(cmd: &mut Command) -> (Duration, u64) {
    let (took, kb, status, err) = timed_status(cmd);
    assert!(status.success(), "{:?} {:?} failed: {err}", cmd.get_program(), cmd.get_args().collect::<Vec<_>>());
    (took, kb)
}

/// [`timed`] for a command whose exit code is part of its answer (a health
/// gate exits 1 on a degraded verdict): also its exit status and stderr.
pub fn timed_status(cmd: &mut Command) -> (Duration, u64, std::process::ExitStatus, String) {
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("/usr/bin/time (apt install time)");
    let took = t.elapsed();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let kb = err.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(0);
    (took, kb, out.status, err)
}

/// Median in milliseconds.
pub fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

/// Runs `etcdctl --endpoints ENDPOINT ARGS` (output discarded); its wall time.
pub fn etcdctl(endpoint: &str, args: &[&str]) -> Duration {
    let t = Instant::now();
    let status = Command::new("etcdctl")
        .env("ETCDCTL_API", "3")
        .args(["--endpoints", endpoint, "--command-timeout", "120s"])
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("etcdctl");
    assert!(status.success());
    t.elapsed()
}

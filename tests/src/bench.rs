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
    let (took, kb, out) = timed_output(cmd, Stdio::null());
    (took, kb, out.status, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Runs `cmd` under /usr/bin/time with its standard output sent to `stdout`:
/// wall time, peak RSS in KiB (time's last line on stderr) and the output.
pub fn timed_output(cmd: &mut Command, stdout: Stdio) -> (Duration, u64, std::process::Output) {
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("/usr/bin/time (apt install time)");
    let took = t.elapsed();
    let kb = String::from_utf8_lossy(&out.stderr).lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(0);
    (took, kb, out)
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

/// Range requests an etcd has served so far (its `/metrics`:
/// `grpc_server_started_total` of `Range`): how many walks of a key range a
/// piece of code cost, read before and after it.
pub fn etcd_range_requests(endpoint: &str) -> u64 {
    etcd_grpc_requests(endpoint, "Range")
}

/// gRPC calls of `method` (e.g. "Range", "RangeStream") etcd has started
/// since it started, from its `/metrics` (0 for a method the server does not
/// have).
pub fn etcd_grpc_requests(endpoint: &str, method: &str) -> u64 {
    use std::io::{Read, Write};
    let addr = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).expect("etcd metrics");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("read timeout");
    write!(s, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("metrics request");
    let mut body = String::new();
    s.read_to_string(&mut body).expect("metrics answer");
    assert!(body.contains("grpc_server_started_total{"), "no gRPC counters in {endpoint}/metrics");
    let method = format!("grpc_method=\"{method}\"");
    body.lines()
        .find(|l| l.starts_with("grpc_server_started_total{") && l.contains(&method))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<f64>().ok())
        .map(|n| n as u64)
        .unwrap_or(0)
}

/// The config benchmarks' big prefix: `keys` keys `/scale/k0000000…` with
/// JSON values of ~60 bytes, three of them holding a search needle.
pub mod scale {
    use std::time::Instant;

    use etcd_client::{Client, Txn, TxnOp};

    pub const PREFIX: &str = "/scale/";

    pub fn key(i: usize) -> String {
        format!("{PREFIX}k{i:07}")
    }

    pub fn value(i: usize, keys: usize) -> String {
        if i == 1000 {
            return r#"{"db": {"host": "early-needle.internal", "pool": 10}}"#.into();
        }
        if i == keys / 2 {
            return r#"{"db": {"host": "middle-needle.internal", "pool": 10}}"#.into();
        }
        if i == keys * 9 / 20 {
            return r#"{"db": {"host": "inner-needle.internal", "pool": 10}}"#.into();
        }
        format!(r#"{{"service": "svc-{:02}", "replica": {i}, "timeout": "5s"}}"#, i % 100)
    }

    /// Loads `keys` keys under [`PREFIX`] (transactions of 128 puts, 8 in flight).
    pub async fn load(endpoint: &str, keys: usize) {
        let started = Instant::now();
        let chunks: Vec<std::ops::Range<usize>> = (0..keys).step_by(128).map(|s| s..(s + 128).min(keys)).collect();
        let chunks = std::sync::Arc::new(std::sync::Mutex::new(chunks.into_iter()));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let chunks = chunks.clone();
            let mut c = Client::connect([endpoint], None).await.unwrap();
            tasks.push(tokio::spawn(async move {
                loop {
                    let Some(range) = chunks.lock().unwrap().next() else { break };
                    let ops: Vec<TxnOp> = range.map(|i| TxnOp::put(key(i), value(i, keys), None)).collect();
                    c.txn(Txn::new().and_then(ops)).await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        eprintln!("loaded {keys} keys in {:.1} s", started.elapsed().as_secs_f64());
    }
}

//! Fault injectors in front of the real services, for what a signal to the
//! service cannot make: a peer that speaks another protocol, and a network
//! path that stalls or is cut after part of an answer. They relay or answer
//! raw bytes; they never imitate a platform's API.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

/// A loopback server that answers every connection as a plain HTTP/1.1 web
/// server would ("400 Bad Request") and closes it: what an etcd or Docker
/// client meets when its endpoint is a web server or a proxy.
pub struct PlainHttp {
    pub port: u16,
}

impl PlainHttp {
    pub fn start() -> PlainHttp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                thread::spawn(move || {
                    // Answers once the client paused sending (it has sent its
                    // request), so the answer meets that request in flight.
                    let mut buf = [0u8; 4096];
                    let _ = conn.read(&mut buf);
                    let _ = conn.set_read_timeout(Some(std::time::Duration::from_millis(200)));
                    while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
                    let body = "<html><body>400 Bad Request</body></html>";
                    let _ = write!(
                        conn,
                        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    // Half-close and drain, as a web server lingers on close:
                    // the client reads the answer rather than a reset.
                    let _ = conn.shutdown(Shutdown::Write);
                    let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(5)));
                    while matches!(conn.read(&mut buf), Ok(n) if n > 0) {}
                });
            }
        });
        PlainHttp { port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Where a [`Relay`] forwards to.
#[derive(Debug, Clone)]
pub enum Upstream {
    Unix(std::path::PathBuf),
    Tcp(String),
}

/// What a [`Relay`] does once a connection's answer passed its byte limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Forwards nothing more, keeping both sides open: a frozen server or a
    /// path that silently drops packets.
    Stall,
    /// Closes both sides: a cut connection.
    Cut,
}

/// A TCP relay to a real service that forwards each connection until
/// `limit` bytes of the service's answer went through, then stalls or cuts it.
pub struct Relay {
    pub port: u16,
    /// Connections that reached the limit.
    pub tripped: Arc<AtomicU64>,
}

enum Conn {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Conn {
    fn open(up: &Upstream) -> std::io::Result<Conn> {
        Ok(match up {
            Upstream::Unix(p) => Conn::Unix(UnixStream::connect(p)?),
            Upstream::Tcp(a) => Conn::Tcp(TcpStream::connect(a)?),
        })
    }
    fn try_clone(&self) -> std::io::Result<Conn> {
        Ok(match self {
            Conn::Unix(s) => Conn::Unix(s.try_clone()?),
            Conn::Tcp(s) => Conn::Tcp(s.try_clone()?),
        })
    }
    fn shutdown(&self) {
        let _ = match self {
            Conn::Unix(s) => s.shutdown(Shutdown::Both),
            Conn::Tcp(s) => s.shutdown(Shutdown::Both),
        };
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Unix(s) => s.read(buf),
            Conn::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Unix(s) => s.write(buf),
            Conn::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// When a [`Relay`] trips.
#[derive(Debug, Clone, Copy)]
pub enum Trip {
    /// Once this many bytes of answers went through on a connection.
    Bytes(u64),
    /// Right after the headers of the answer to the first request whose
    /// bytes contain this text (plain HTTP/1.1: "/images/x/get").
    HeadersOf(&'static str),
    /// Never on answers: the first request whose bytes contain this text
    /// SIGSTOPs the process `pid` (the service itself) just before it is
    /// forwarded, so the request is sent and its answer lost — also when the
    /// client talked to the service before (a gRPC key is plain bytes in the
    /// request body). The test SIGCONTs the pid.
    FreezeOn(&'static str, i32),
}

impl Relay {
    /// Trips after `limit` bytes of answers on a connection.
    pub fn start(upstream: Upstream, limit: u64, after: After) -> Relay {
        Relay::start_with(upstream, Trip::Bytes(limit), after)
    }

    pub fn start_with(upstream: Upstream, trip: Trip, after: After) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let tripped = Arc::new(AtomicU64::new(0));
        let count = tripped.clone();
        // FreezeOn fires once per relay, not per connection: the read-back
        // that follows carries the same key.
        let froze = Arc::new(AtomicBool::new(false));
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = Conn::open(&upstream) else { continue };
                let count = count.clone();
                // Set (before the request is forwarded) once the marked request passes.
                let armed = Arc::new(AtomicBool::new(false));
                // Requests go through untouched.
                if let (Ok(mut from), Ok(mut to)) = (client.try_clone(), server.try_clone()) {
                    let armed = armed.clone();
                    let froze = froze.clone();
                    thread::spawn(move || {
                        let mut buf = vec![0u8; 16 * 1024];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 {
                                break;
                            }
                            match trip {
                                Trip::HeadersOf(marker) if buf[..n].windows(marker.len()).any(|w| w == marker.as_bytes()) => {
                                    armed.store(true, Ordering::SeqCst);
                                }
                                Trip::FreezeOn(marker, pid)
                                    if buf[..n].windows(marker.len()).any(|w| w == marker.as_bytes())
                                        && !froze.swap(true, Ordering::SeqCst) =>
                                {
                                    // SAFETY: kill(2) with a pid and a signal number has no memory effects.
                                    unsafe { libc::kill(pid, libc::SIGSTOP) };
                                }
                                _ => {}
                            }
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                    });
                }
                // Answers go through until the trip.
                thread::spawn(move || {
                    let (mut client, mut server) = (client, server);
                    let mut sent = 0u64;
                    let mut tail: Vec<u8> = Vec::new();
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        let n = match server.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let (allowed, trips) = match trip {
                            Trip::Bytes(limit) => {
                                let allowed = (n as u64).min(limit - sent) as usize;
                                (allowed, sent + allowed as u64 >= limit)
                            }
                            Trip::FreezeOn(..) => (n, false),
                            Trip::HeadersOf(_) if !armed.load(Ordering::SeqCst) => (n, false),
                            Trip::HeadersOf(_) => {
                                // The end of the headers, maybe split across reads.
                                let mut seen = std::mem::take(&mut tail);
                                seen.extend_from_slice(&buf[..n]);
                                match seen.windows(4).position(|w| w == b"\r\n\r\n") {
                                    Some(i) => ((i + 4).saturating_sub(seen.len() - n), true),
                                    None => {
                                        tail = seen[seen.len().saturating_sub(3)..].to_vec();
                                        (n, false)
                                    }
                                }
                            }
                        };
                        if client.write_all(&buf[..allowed]).is_err() {
                            break;
                        }
                        sent += allowed as u64;
                        if trips {
                            count.fetch_add(1, Ordering::SeqCst);
                            match after {
                                After::Cut => {
                                    let _ = client.shutdown(Shutdown::Both);
                                    server.shutdown();
                                }
                                // Holds both sockets open, forwarding nothing,
                                // until the test process ends.
                                After::Stall => loop {
                                    thread::park();
                                },
                            }
                            break;
                        }
                    }
                    let _ = client.shutdown(Shutdown::Write);
                });
            }
        });
        Relay { port, tripped }
    }

    /// Client connections to this relay still established (this host's
    /// sockets whose remote end is the relay's port, from /proc/net/tcp): a
    /// client that gave up on a stalled answer has closed its side.
    pub fn established_clients(&self) -> usize {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
        let to_relay = |l: &&str| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let remote = f.get(2).and_then(|a| a.rsplit(':').next()).and_then(|p| u16::from_str_radix(p, 16).ok());
            f.get(3) == Some(&"01") && remote == Some(self.port)
        };
        table.lines().skip(1).filter(to_relay).count()
    }

    /// The relay as a Docker host (`tcp://127.0.0.1:PORT`).
    pub fn docker_host(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// The etcd of a [`crate::Service`] killed (SIGKILL: no goodbye on its
/// sockets) and started again with the same data and ports.
pub mod etcd_process {
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use etcd_client::Client;

    use crate::Service;

    /// The argv of process `pid`, from /proc.
    pub fn cmdline(pid: i32) -> Vec<String> {
        let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        raw.split(|b| *b == 0).filter(|s| !s.is_empty()).map(|s| String::from_utf8_lossy(s).into_owned()).collect()
    }

    /// Process `pid` has exited (gone, or a zombie).
    pub fn gone(pid: i32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
        }
    }

    /// SIGKILLs etcd `pid` and waits until it is gone; its argv, to start it again.
    pub fn kill(pid: i32) -> Vec<String> {
        let argv = cmdline(pid);
        assert!(argv.first().is_some_and(|a| a.ends_with("etcd")), "{pid} is not etcd: {argv:?}");
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !gone(pid) {
            assert!(Instant::now() < deadline, "etcd {pid} still alive 10 s after SIGKILL");
            std::thread::yield_now();
        }
        argv
    }

    /// Starts etcd again with `argv` (same data and ports); the new process
    /// is listed in the run dir so the service's stop script ends it.
    pub fn restart(etcd: &Service, argv: &[String]) -> Child {
        let log = std::fs::File::create(etcd.run_dir.join("etcd-restarted.log")).expect("create the restart log");
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]).stdin(Stdio::null()).stdout(log.try_clone().expect("clone the log")).stderr(log);
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("ETCD_")) {
            cmd.env_remove(k);
        }
        let child = cmd.spawn().expect("start etcd again");
        let pids = etcd.run_dir.join("pids");
        let mut list = std::fs::read_to_string(&pids).unwrap_or_default();
        list.push_str(&format!("{} etcd\n", child.id()));
        std::fs::write(&pids, list).expect("list the new etcd in the run dir");
        child
    }

    /// [`kill`] then [`restart`] the service's etcd.
    pub fn kill_and_restart(etcd: &Service) -> Child {
        let argv = kill(etcd.get("ETCD_PID").parse().expect("ETCD_PID"));
        restart(etcd, &argv)
    }

    /// A client once etcd answers again (after a restart).
    pub async fn reconnect(etcd: &Service) -> Client {
        let endpoint = etcd.get("ETCD_ENDPOINT");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Ok(mut c)) = tokio::time::timeout(Duration::from_secs(2), Client::connect([endpoint], None)).await {
                if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_secs(2), c.get("/", None)).await {
                    return c;
                }
            }
            assert!(
                Instant::now() < deadline,
                "etcd at {endpoint} not back within 30 s; its log:\n{}",
                log_tail(&etcd.run_dir.join("etcd-restarted.log"))
            );
        }
    }

    /// The last 20 lines of a log, newest first.
    pub fn log_tail(path: &Path) -> String {
        std::fs::read_to_string(path).map(|s| s.lines().rev().take(20).collect::<Vec<_>>().join("\n")).unwrap_or_default()
    }
}

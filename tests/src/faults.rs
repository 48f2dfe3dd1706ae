//! Fault injectors in front of the real services, for what a signal to the
//! service cannot make: a peer that speaks another protocol, and a network
//! path that stalls or is cut after part of an answer. They relay or answer
//! raw bytes; they never imitate a platform's API.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
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
                    let mut buf = [0u8; 4096];
                    let _ = conn.read(&mut buf);
                    let body = "<html><body>400 Bad Request</body></html>";
                    let _ = write!(
                        conn,
                        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = conn.shutdown(Shutdown::Both);
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

impl Relay {
    pub fn start(upstream: Upstream, limit: u64, after: After) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let tripped = Arc::new(AtomicU64::new(0));
        let count = tripped.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let Ok(server) = Conn::open(&upstream) else { continue };
                let count = count.clone();
                // Requests go through untouched.
                if let (Ok(mut from), Ok(mut to)) = (client.try_clone(), server.try_clone()) {
                    thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                    });
                }
                // Answers go through up to the limit.
                thread::spawn(move || {
                    let (mut client, mut server) = (client, server);
                    let mut sent = 0u64;
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        let n = match server.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let allowed = (n as u64).min(limit - sent) as usize;
                        if client.write_all(&buf[..allowed]).is_err() {
                            break;
                        }
                        sent += allowed as u64;
                        if sent >= limit {
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

    /// The relay as a Docker host (`tcp://127.0.0.1:PORT`).
    pub fn docker_host(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

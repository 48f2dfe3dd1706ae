//! Turning client-library errors into actionable [`Error`]s. Libraries bury the
//! useful cause (connection refused, unknown CA) deep in `source()` chains; we
//! read the whole chain and classify it.

use crate::error::{Error, ErrorCode};

/// The error and all its sources, joined with ": ".
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// Known, actionable reasons buried in a library's error text.
const REASONS: &[&str] = &[
    // Before "Expired": tonic's own request timeout, not a certificate's date.
    "Timeout expired",
    "h2 protocol error",
    "connection closed before message completed",
    "Connection refused",
    "Connection reset",
    "No route to host",
    "Network is unreachable",
    "timed out",
    "failed to lookup address information",
    "Name or service not known",
    "UnknownIssuer",
    "NotValidForName",
    "Expired",
    "received fatal alert: BadCertificate",
    "CertificateRequired",
    "InvalidCertificate",
    "HandshakeFailure",
    "invalid peer certificate",
];

/// A short detail for a user: the first known reason found in `full`, or
/// `full` cut to a readable length.
pub fn summarize(full: &str) -> String {
    // Our own pinning verifier's message is already the whole story.
    const PIN: &str = "the server certificate thumbprint ";
    const MISMATCH: &str = " does not match the pinned thumbprint ";
    if let Some(i) = full.find(PIN) {
        let rest = &full[i..];
        if let Some(j) = rest.find(MISMATCH) {
            let end = (j + MISMATCH.len() + 95).min(rest.len()); // 32 bytes as AB:…: 95 chars
            return rest.get(..end).unwrap_or(rest).to_string();
        }
    }
    if let Some(r) = REASONS.iter().find(|r| full.contains(*r)) {
        return (*r).to_string();
    }
    let mut out: String = full.chars().take(240).collect();
    if out.len() < full.len() {
        out.push('…');
    }
    out
}

/// What went wrong below the protocol, read from the typed errors in a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Nothing listens there (or the socket file is missing).
    Refused,
    /// The connection was cut (reset, aborted, closed mid-answer).
    Reset,
    /// No answer in time.
    TimedOut,
    /// The host name does not resolve.
    Dns,
    /// The server's certificate was not accepted.
    ServerCertificate,
    /// The server answered, but not in the protocol expected (HTTP/1 where
    /// HTTP/2 was spoken, bytes that do not parse as an HTTP answer).
    Protocol,
    /// The server refused our client certificate (a TLS alert from it).
    ClientCertificate,
    /// None of the above could be told.
    Other,
}

/// The fault behind `e`: the first typed cause in its chain that says what it
/// was (an `io::Error` kind, a rustls error or alert, a timeout); the words of
/// the chain only when no typed cause does (libraries that flatten a cause to
/// text, like getaddrinfo's "failed to lookup address information").
pub fn fault(e: &(dyn std::error::Error + 'static)) -> Fault {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(f) = typed_fault(err) {
            return f;
        }
        next = err.source();
    }
    text_fault(&chain(e))
}

fn typed_fault(err: &(dyn std::error::Error + 'static)) -> Option<Fault> {
    use std::io::ErrorKind as K;
    if let Some(t) = err.downcast_ref::<rustls::Error>() {
        return Some(tls_fault(t));
    }
    if let Some(io) = err.downcast_ref::<std::io::Error>() {
        // An io::Error can carry the real cause as its payload (rustls does
        // this), and its source() skips the payload itself.
        if let Some(inner) = io.get_ref() {
            if let Some(f) = typed_fault(inner) {
                return Some(f);
            }
        }
        return match io.kind() {
            K::ConnectionRefused | K::NotFound | K::AddrNotAvailable => Some(Fault::Refused),
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof | K::NotConnected => Some(Fault::Reset),
            K::TimedOut => Some(Fault::TimedOut),
            K::HostUnreachable | K::NetworkUnreachable => Some(Fault::Refused),
            _ => None,
        };
    }
    if err.is::<tokio::time::error::Elapsed>() {
        return Some(Fault::TimedOut);
    }
    if let Some(h) = err.downcast_ref::<hyper::Error>() {
        if h.is_parse() || h.is_parse_status() || h.is_parse_version_h2() {
            return Some(Fault::Protocol);
        }
        if h.is_incomplete_message() || h.is_closed() || h.is_body_write_aborted() {
            return Some(Fault::Reset);
        }
        if h.is_timeout() {
            return Some(Fault::TimedOut);
        }
    }
    if let Some(h) = err.downcast_ref::<h2::Error>() {
        // Our side found the peer's bytes are not HTTP/2 (a plain HTTP server
        // answers the preface with "HTTP/1.1 400", read as a bad frame).
        let broken = matches!(h.reason(), Some(h2::Reason::PROTOCOL_ERROR | h2::Reason::FRAME_SIZE_ERROR | h2::Reason::COMPRESSION_ERROR));
        if broken && (h.is_library() || h.is_go_away()) {
            return Some(Fault::Protocol);
        }
    }
    if let Some(r) = err.downcast_ref::<reqwest::Error>() {
        if r.is_timeout() {
            return Some(Fault::TimedOut);
        }
    }
    if err.is::<tonic::TimeoutExpired>() {
        return Some(Fault::TimedOut);
    }
    if let Some(s) = err.downcast_ref::<tonic::Status>() {
        // tonic turns its own request timeout into CANCELLED and drops the
        // TimeoutExpired it came from, keeping only that error's text.
        let client_timeout = s.code() == tonic::Code::Cancelled && s.message() == tonic::TimeoutExpired(()).to_string();
        if s.code() == tonic::Code::DeadlineExceeded || client_timeout {
            return Some(Fault::TimedOut);
        }
    }
    None
}

fn tls_fault(e: &rustls::Error) -> Fault {
    use rustls::AlertDescription as A;
    match e {
        rustls::Error::AlertReceived(A::BadCertificate | A::CertificateRequired | A::UnknownCA | A::CertificateUnknown) => {
            Fault::ClientCertificate
        }
        _ => Fault::ServerCertificate,
    }
}

fn text_fault(full: &str) -> Fault {
    let lower = full.to_ascii_lowercase();
    if lower.contains("alert") && (lower.contains("badcertificate") || lower.contains("certificaterequired") || lower.contains("unknownca"))
    {
        Fault::ClientCertificate
    } else if lower.contains("certificate")
        || lower.contains("handshake")
        || lower.contains("unknownissuer")
        || lower.contains("thumbprint")
    {
        Fault::ServerCertificate
    } else if lower.contains("refused") {
        Fault::Refused
    } else if lower.contains("dns") || lower.contains("resolve") || lower.contains("lookup address") {
        Fault::Dns
    } else if lower.contains("timed out") || lower.contains("deadline") {
        Fault::TimedOut
    } else if lower.contains("h2 protocol error") || lower.contains("frame with invalid size") || lower.contains("invalid http") {
        Fault::Protocol
    } else if lower.contains("reset") || lower.contains("broken pipe") || lower.contains("connection closed before message completed") {
        Fault::Reset
    } else {
        Fault::Other
    }
}

/// Whether `e` may have come after a request reached the server: a timeout
/// or a cut connection may hide a write the server applied; a refused
/// connection or an unknown host cannot (nothing was sent), nor can an
/// answer the server gave.
pub fn answer_lost(e: &Error) -> bool {
    match e.code() {
        ErrorCode::Timeout => true,
        ErrorCode::Unreachable => !matches!(fault(e), Fault::Refused | Fault::Dns),
        _ => false,
    }
}

/// A transport-level failure (no HTTP/gRPC answer) of a call to `target`:
/// classified by [`fault`], with a message that says what to do and `e` kept
/// as its source.
pub fn transport<E: std::error::Error + Send + Sync + 'static>(target: &str, e: E) -> Error {
    let detail = summarize(&chain(&e));
    let (code, message) = match fault(&e) {
        Fault::ClientCertificate => (
            ErrorCode::Tls,
            format!(
                "{target} rejected the client certificate: check that the certificate and key files belong together and are signed by a CA the server trusts ({detail})"
            ),
        ),
        Fault::ServerCertificate => (
            ErrorCode::Tls,
            format!("TLS with {target} failed: {detail}. Check the CA file (or the pinned thumbprint) and that the server name matches its certificate."),
        ),
        Fault::Refused => (ErrorCode::Unreachable, format!("{target} refused the connection: is the service running on that port? ({detail})")),
        Fault::Dns => (ErrorCode::Unreachable, format!("cannot resolve the host of {target}: {detail}")),
        Fault::TimedOut => (ErrorCode::Timeout, format!("{target} did not answer in time: is it overloaded, frozen or behind a firewall that drops packets? ({detail})")),
        Fault::Reset => (ErrorCode::Unreachable, format!("{target} closed the connection: {detail}")),
        Fault::Protocol => (
            ErrorCode::Protocol,
            format!(
                "{target} answered something that is not the expected protocol: is that address the service itself, not a web server, a proxy or another service's port? ({detail})"
            ),
        ),
        Fault::Other => (ErrorCode::Unreachable, format!("cannot reach {target}: {detail}")),
    };
    Error::Remote { code, message, source: Box::new(e) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    use std::io::{Error as IoError, ErrorKind};

    #[test]
    fn classifies_by_the_typed_cause_in_the_chain() {
        let refused = transport("x", IoError::other(IoError::new(ErrorKind::ConnectionRefused, "tcp connect error")));
        assert_eq!(refused.code(), ErrorCode::Unreachable);
        assert!(refused.to_string().contains("is the service running"), "{refused}");
        // A timeout is a timeout, not "unreachable", whatever the words say.
        let slow = transport("x", IoError::new(ErrorKind::TimedOut, "operation failed"));
        assert_eq!(slow.code(), ErrorCode::Timeout);
        // rustls inside an io::Error (how TLS failures surface from a stream).
        let untrusted = transport(
            "x",
            IoError::new(ErrorKind::InvalidData, rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)),
        );
        assert_eq!(untrusted.code(), ErrorCode::Tls);
        let client_cert = transport("d", IoError::other(rustls::Error::AlertReceived(rustls::AlertDescription::BadCertificate)));
        assert_eq!(client_cert.code(), ErrorCode::Tls);
        assert!(client_cert.to_string().contains("rejected the client certificate"), "{client_cert}");
        // No typed cause: the words decide, and the error is still kept.
        let dns = transport("x", IoError::other("failed to lookup address information: Name or service not known"));
        assert_eq!(dns.code(), ErrorCode::Unreachable);
        assert!(dns.to_string().contains("cannot resolve"), "{dns}");
        assert!(std::error::Error::source(&dns).is_some(), "the library error is kept as the source");
    }

    #[test]
    fn summarizes_long_texts() {
        assert_eq!(summarize("source: Os { code: 111, kind: ConnectionRefused, message: \"Connection refused\" }"), "Connection refused");
        assert!(summarize(&"x".repeat(500)).chars().count() <= 241);
    }

    #[test]
    fn chain_includes_sources_once() {
        let inner = IoError::new(ErrorKind::ConnectionRefused, "connection refused");
        let outer = IoError::other(inner);
        assert_eq!(chain(&outer), "connection refused");
    }
}

//! Turning client-library errors into actionable [`Error`]s. Libraries bury the
//! useful cause (connection refused, unknown CA) deep in `source()` chains; we
//! read the whole chain and classify it.

use crate::error::Error;

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

/// Classifies a transport-level failure (no HTTP/gRPC answer) by its text.
/// `full` is the whole error text; the message shows only its summary.
pub fn transport(target: &str, full: &str) -> Error {
    let lower = full.to_ascii_lowercase();
    let detail = summarize(full);
    // A TLS alert from the server: it refused *our* client certificate.
    if lower.contains("alert") && (lower.contains("badcertificate") || lower.contains("certificaterequired") || lower.contains("unknownca"))
    {
        return Error::Tls(format!(
            "{target} rejected the client certificate: check that the certificate and key files belong together and are signed by a CA the server trusts ({detail})"
        ));
    }
    if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("unknownissuer")
        || lower.contains("thumbprint")
    {
        Error::Tls(format!(
            "TLS with {target} failed: {detail}. Check the CA file (or the pinned thumbprint) and that the server name matches its certificate."
        ))
    } else if lower.contains("refused") {
        Error::Unreachable(format!("{target} refused the connection: is the service running on that port? ({detail})"))
    } else if lower.contains("dns") || lower.contains("resolve") || lower.contains("lookup") {
        Error::Unreachable(format!("cannot resolve the host of {target}: {detail}"))
    } else if lower.contains("timed out") || lower.contains("deadline") {
        Error::Unreachable(format!("{target} did not answer in time: {detail}"))
    } else {
        Error::Unreachable(format!("cannot reach {target}: {detail}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn classifies_common_transport_failures() {
        assert_eq!(transport("x", "tcp connect error: Connection refused (os error 111)").code(), ErrorCode::Unreachable);
        assert_eq!(transport("x", "invalid peer certificate: UnknownIssuer").code(), ErrorCode::Tls);
        assert_eq!(summarize("source: Os { code: 111, kind: ConnectionRefused, message: \"Connection refused\" }"), "Connection refused");
        assert!(summarize(&"x".repeat(500)).chars().count() <= 241);
        let client_cert = transport("d", "connection error: received fatal alert: BadCertificate");
        assert_eq!(client_cert.code(), ErrorCode::Tls);
        assert!(client_cert.to_string().contains("rejected the client certificate"), "{client_cert}");
        assert_eq!(transport("x", "failed to lookup address information").code(), ErrorCode::Unreachable);
        assert!(transport("etcd a:1", "Connection refused").to_string().contains("is the service running"));
    }

    #[test]
    fn chain_includes_sources_once() {
        let inner = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let outer = std::io::Error::other(inner);
        assert_eq!(chain(&outer), "connection refused");
    }
}

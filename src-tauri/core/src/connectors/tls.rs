//! TLS helpers: certificate pinning by SHA-256 thumbprint (the vSphere way of
//! trusting a self-signed vCenter once, explicitly) and reading PEM files.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Installs the process-wide rustls crypto provider (aws-lc-rs). Several of our
/// dependencies enable rustls with different providers; without one chosen
/// explicitly rustls refuses to pick. Idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

fn provider() -> Arc<CryptoProvider> {
    install_crypto_provider();
    CryptoProvider::get_default().cloned().unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

/// Lowercase hex SHA-256 of a DER certificate.
pub fn sha256_thumbprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// Formats a thumbprint the way vSphere shows them: `AB:CD:...`.
pub fn display_thumbprint(hex: &str) -> String {
    hex.as_bytes().chunks(2).map(|c| String::from_utf8_lossy(c).to_ascii_uppercase()).collect::<Vec<_>>().join(":")
}

/// Accepts exactly one server certificate, identified by its SHA-256 thumbprint.
/// The handshake signature is still verified, so the server must hold the key.
#[derive(Debug)]
struct PinnedCertVerifier {
    thumbprint: String,
    provider: Arc<CryptoProvider>,
    /// When set, records the presented thumbprint (used to show it to the user).
    seen: Option<Arc<Mutex<Option<String>>>>,
    /// Record-only mode: accept anything (no credentials are ever sent on such a connection).
    record_only: bool,
}

impl ServerCertVerifier for PinnedCertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got = sha256_thumbprint(end_entity.as_ref());
        if let Some(seen) = &self.seen {
            if let Ok(mut s) = seen.lock() {
                *s = Some(got.clone());
            }
        }
        if self.record_only || got == self.thumbprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the server certificate thumbprint {} does not match the pinned thumbprint {}",
                display_thumbprint(&got),
                display_thumbprint(&self.thumbprint)
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

fn config_with(verifier: PinnedCertVerifier) -> rustls::ClientConfig {
    let provider = verifier.provider.clone();
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth())
        .unwrap_or_else(|_| {
            // The default protocol versions are always supported by aws-lc-rs.
            unreachable!("aws-lc-rs supports the default TLS versions")
        })
}

/// A rustls client config that trusts only the certificate with this thumbprint.
pub fn pinned_config(thumbprint_hex: &str) -> rustls::ClientConfig {
    config_with(PinnedCertVerifier { thumbprint: thumbprint_hex.to_string(), provider: provider(), seen: None, record_only: false })
}

/// A rustls client config that accepts any certificate and records its
/// thumbprint in `seen`. Only for fetching a thumbprint to show the user, on a
/// connection that carries no credentials.
pub fn recording_config(seen: Arc<Mutex<Option<String>>>) -> rustls::ClientConfig {
    config_with(PinnedCertVerifier { thumbprint: String::new(), provider: provider(), seen: Some(seen), record_only: true })
}

/// Reads a PEM file named in a profile, with an error that names the field.
pub async fn read_pem(path: &str, what: &str) -> Result<Vec<u8>> {
    let bytes = tokio::fs::read(path).await.map_err(|e| Error::invalid(format!("cannot read the {what} file {path}: {e}")))?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(Error::invalid(format!("the {what} file {path} is not PEM (no -----BEGIN line)")));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_formats() {
        let t = sha256_thumbprint(b"abc");
        assert_eq!(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(display_thumbprint(&t).starts_with("BA:78:16:BF:"));
        assert_eq!(display_thumbprint(&t).len(), 64 + 31);
    }
}

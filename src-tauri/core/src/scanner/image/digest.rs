//! Content addressing: a blob must hash to the digest it is named by (an
//! OCI layout's file name, a registry's descriptor), or it is refused.

use std::io::{self, Read};

use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorCode};

/// A blob whose bytes do not hash to its name: corrupted in storage or on the
/// way, or substituted. Kept as the typed cause of the error.
#[derive(Debug, thiserror::Error)]
#[error("{what}: expected {expected}, got {actual} ({bytes} bytes read)")]
pub struct DigestMismatch {
    pub what: String,
    pub expected: String,
    pub actual: String,
    pub bytes: u64,
}

impl DigestMismatch {
    /// The error: of class `code` (a registry answering other bytes than it
    /// named is a protocol fault; a local file is invalid input).
    pub fn into_error(self, code: ErrorCode) -> Error {
        let message = format!(
            "digest mismatch: {} does not hash to its digest (expected {}, got {}): the blob is corrupt or was replaced; nothing of it was used",
            self.what, self.expected, self.actual
        );
        match code {
            ErrorCode::InvalidInput => Error::InvalidInput(message),
            code => Error::Remote { code, message, source: Box::new(self) },
        }
    }
}

/// A reader that hashes (SHA-256) and counts what passes through it.
pub struct DigestReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> DigestReader<R> {
    pub fn new(inner: R) -> Self {
        DigestReader { inner, hasher: Sha256::new(), bytes: 0 }
    }

    pub fn read_count(&self) -> u64 {
        self.bytes
    }

    /// `sha256:<hex>` of everything read so far.
    pub fn digest(&self) -> String {
        format!("sha256:{}", hex::encode(self.hasher.clone().finalize()))
    }

    /// The mismatch, if what was read does not hash to `expected`.
    pub fn mismatch(&self, expected: &str, what: &str) -> Option<DigestMismatch> {
        let actual = self.digest();
        (actual != expected).then(|| DigestMismatch { what: what.to_string(), expected: expected.to_string(), actual, bytes: self.bytes })
    }

    /// An invalid-input error when what was read does not hash to `expected`.
    pub fn check(&self, expected: &str, what: &str) -> crate::error::Result<()> {
        match self.mismatch(expected, what) {
            Some(m) => Err(m.into_error(ErrorCode::InvalidInput)),
            None => Ok(()),
        }
    }
}

impl<R: Read> Read for DigestReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_must_hash_to_its_name() {
        let mut r = DigestReader::new(&b"hello"[..]);
        io::copy(&mut r, &mut io::sink()).unwrap();
        let good = format!("sha256:{}", hex::encode(Sha256::digest(b"hello")));
        assert_eq!(r.digest(), good);
        assert_eq!(r.read_count(), 5);
        assert!(r.check(&good, "blob").is_ok());
        let err = r.check(&format!("sha256:{}", "0".repeat(64)), "blob x").unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(err.to_string().starts_with("digest mismatch: blob x"), "{err}");
        let remote = r.mismatch("sha256:00", "blob y").unwrap().into_error(ErrorCode::Protocol);
        assert_eq!(remote.code(), ErrorCode::Protocol);
        assert!(std::error::Error::source(&remote).is_some());
    }
}

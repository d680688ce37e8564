//! Content digests (`sha256:<hex>`) and a reader that checks one as it reads.

use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

use sha2::{Digest as _, Sha256, Sha512};

use crate::error::{Error, Result};

/// A validated content digest: `algorithm:hex`, with sha256 and sha512 supported.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    /// The algorithm part ("sha256").
    pub fn algorithm(&self) -> &str {
        self.0.split_once(':').map(|(a, _)| a).unwrap_or("")
    }

    /// The hex part.
    pub fn hex(&self) -> &str {
        self.0.split_once(':').map(|(_, h)| h).unwrap_or("")
    }

    /// The whole digest string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The sha256 digest of `data`.
    pub fn sha256_of(data: &[u8]) -> Digest {
        Digest(format!("sha256:{}", hex::encode(Sha256::digest(data))))
    }
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let (alg, hex) =
            s.split_once(':').ok_or_else(|| Error::invalid(format!("digest {s:?}: missing \"algorithm:\" prefix")))?;
        let want = match alg {
            "sha256" => 64,
            "sha512" => 128,
            _ => return Err(Error::invalid(format!("digest {s:?}: unsupported algorithm {alg:?}"))),
        };
        let hex_ok = hex.len() == want && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !hex_ok {
            return Err(Error::invalid(format!("digest {s:?}: expected {want} lowercase hex digits")));
        }
        Ok(Digest(s.to_string()))
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// An incremental hasher for a digest's algorithm.
pub enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    /// A hasher for the algorithm of `digest`.
    pub fn for_digest(digest: &Digest) -> Hasher {
        match digest.algorithm() {
            "sha512" => Hasher::Sha512(Sha512::new()),
            _ => Hasher::Sha256(Sha256::new()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    /// The digest string of everything hashed so far.
    pub fn finish(self) -> String {
        match self {
            Hasher::Sha256(h) => format!("sha256:{}", hex::encode(h.finalize())),
            Hasher::Sha512(h) => format!("sha512:{}", hex::encode(h.finalize())),
        }
    }
}

/// Checks `data` against `digest`, returning Corrupt on a mismatch.
pub fn verify_bytes(digest: &Digest, data: &[u8], what: &str) -> Result<()> {
    let mut h = Hasher::for_digest(digest);
    h.update(data);
    let got = h.finish();
    if got != digest.as_str() {
        return Err(Error::corrupt(format!("{what}: digest mismatch: expected {digest}, content hashes to {got}")));
    }
    Ok(())
}

/// Reads through to `inner` and, at its end, fails with Corrupt (as `io::ErrorKind::InvalidData`)
/// unless the bytes read hash to `expected` and number `expected_len` (when given).
///
/// The check happens at EOF, so the caller must read to the end for it to fire; the
/// layer indexer always does.
pub struct VerifyingReader<R> {
    inner: R,
    hasher: Option<Hasher>,
    expected: Digest,
    expected_len: Option<u64>,
    seen: u64,
    what: String,
}

impl<R: Read> VerifyingReader<R> {
    pub fn new(inner: R, expected: Digest, expected_len: Option<u64>, what: String) -> Self {
        VerifyingReader { inner, hasher: Some(Hasher::for_digest(&expected)), expected, expected_len, seen: 0, what }
    }

    fn check(&mut self) -> io::Result<()> {
        let Some(hasher) = self.hasher.take() else { return Ok(()) };
        if let Some(len) = self.expected_len {
            if len != self.seen {
                return Err(Error::corrupt(format!(
                    "{}: size mismatch: descriptor says {len} bytes, blob has {}",
                    self.what, self.seen
                ))
                .into());
            }
        }
        let got = hasher.finish();
        if got != self.expected.as_str() {
            return Err(Error::corrupt(format!(
                "{}: digest mismatch: expected {}, content hashes to {got}",
                self.what, self.expected
            ))
            .into());
        }
        Ok(())
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.check()?;
            return Ok(0);
        }
        self.seen += n as u64;
        if let Some(h) = self.hasher.as_mut() {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let d: Digest = format!("sha256:{}", "a".repeat(64)).parse().unwrap();
        assert_eq!(d.algorithm(), "sha256");
        assert!("sha256:abc".parse::<Digest>().is_err());
        assert!(format!("md5:{}", "a".repeat(32)).parse::<Digest>().is_err());
        assert!(format!("sha256:{}", "A".repeat(64)).parse::<Digest>().is_err());
    }

    #[test]
    fn verifying_reader_catches_mismatch() {
        let good = Digest::sha256_of(b"hello");
        let mut out = Vec::new();
        VerifyingReader::new(&b"hello"[..], good.clone(), Some(5), "blob".into()).read_to_end(&mut out).unwrap();
        let err =
            VerifyingReader::new(&b"hellO"[..], good.clone(), None, "blob".into()).read_to_end(&mut out).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let err = VerifyingReader::new(&b"hello"[..], good, Some(6), "blob".into()).read_to_end(&mut out).unwrap_err();
        assert!(err.to_string().contains("size mismatch"));
    }
}

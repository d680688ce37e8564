//! Image references (`[domain/]path[:tag][@digest]`), normalised the way Docker does:
//! `busybox` is `docker.io/library/busybox`, a first component with a `.` or `:` or
//! `localhost` is a registry domain.

use std::fmt;

use crate::digest::Digest;
use crate::error::{Error, Result};

/// The registry that a reference without a domain belongs to.
pub const DEFAULT_DOMAIN: &str = "docker.io";

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Registry host (and port), e.g. `docker.io`, `localhost:5000`.
    pub domain: String,
    /// Repository path within the registry, e.g. `library/busybox`.
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses and normalises `s`. The tag is left `None` when absent (callers that need
    /// a default use [`Reference::tag_or_latest`]).
    pub fn parse(s: &str) -> Result<Reference> {
        let bad = |why: &str| Error::invalid(format!("image reference {s:?}: {why}"));
        if s.is_empty() {
            return Err(bad("empty"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.parse::<Digest>().map_err(|e| bad(e.message()))?)),
            None => (s, None),
        };
        // A ':' after the last '/' starts the tag; one before it is a registry port.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].find(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(t) = tag {
            if !valid_tag(t) {
                return Err(bad("invalid tag"));
            }
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, rest)) if is_domain(first) => (first.to_string(), rest.to_string()),
            _ => (DEFAULT_DOMAIN.to_string(), name.to_string()),
        };
        if !valid_domain(&domain) {
            return Err(bad("invalid registry domain (host[:port]: letters, digits, inner hyphens and dots)"));
        }
        let path = if domain == DEFAULT_DOMAIN && !path.contains('/') { format!("library/{path}") } else { path };
        if path.is_empty() || !path.split('/').all(valid_component) {
            return Err(bad("invalid repository name (lowercase letters, digits and . _ - only)"));
        }
        Ok(Reference { domain, path, tag: tag.map(str::to_string), digest })
    }

    /// `domain/path`.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The last component of the path: `busybox` for `docker.io/library/busybox`.
    pub fn short_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// The tag, or `latest`.
    pub fn tag_or_latest(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.repository())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn is_domain(first: &str) -> bool {
    first.contains('.') || first.contains(':') || first == "localhost"
}

/// Docker's grammar for a domain: `host[:port]`, where a host is dot-separated components
/// of ASCII letters and digits with hyphens only inside, or a bracketed IPv6 address, and
/// a port is decimal digits. Anything else would reach a registry URL as it is.
fn valid_domain(domain: &str) -> bool {
    let (host, port) = match domain.strip_prefix('[') {
        Some(rest) => {
            let Some((v6, after)) = rest.split_once(']') else { return false };
            if v6.is_empty() || !v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
                return false;
            }
            match after {
                "" => return true,
                _ => match after.strip_prefix(':') {
                    Some(port) => (None, port),
                    None => return false,
                },
            }
        }
        None => match domain.split_once(':') {
            Some((host, port)) => (Some(host), port),
            None => (Some(domain), "0"),
        },
    };
    let port_ok = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    let host_ok = host.is_none_or(|h| {
        h.split('.').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        })
    });
    port_ok && host_ok
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let sep = |x: u8| matches!(x, b'.' | b'_' | b'-');
    !b.is_empty()
        && !sep(b[0])
        && !sep(b[b.len() - 1])
        && b.iter().all(|&x| x.is_ascii_lowercase() || x.is_ascii_digit() || sep(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_like_docker() {
        let r = Reference::parse("busybox").unwrap();
        assert_eq!(r.repository(), "docker.io/library/busybox");
        assert_eq!(r.tag, None);
        let r = Reference::parse("localhost:5000/a/b:v1").unwrap();
        assert_eq!((r.domain.as_str(), r.path.as_str(), r.tag.as_deref()), ("localhost:5000", "a/b", Some("v1")));
        let r = Reference::parse("example.com/x").unwrap();
        assert_eq!(r.repository(), "example.com/x");
        let r = Reference::parse("user/app:1.0").unwrap();
        assert_eq!(r.to_string(), "docker.io/user/app:1.0");
        let d = format!("sha256:{}", "0".repeat(64));
        let r = Reference::parse(&format!("busybox@{d}")).unwrap();
        assert_eq!(r.digest.unwrap().as_str(), d);
    }

    #[test]
    fn rejects_domains_that_are_no_registry_host() {
        // Found by fuzz/fuzz_targets/reference_find.rs: any first component with a '.' or
        // ':' was taken as the domain, whatever its characters.
        for bad in [
            "\u{fffd}.t/box",
            "exa mple.com/x",
            "a_b.com/x",
            "-a.com/x",
            "a-.com/x",
            "a..b/x",
            "a.b:/x",
            "a.b:12ab/x",
            "a.b:1:2/x",
            "evil.com#frag/x",
            "[::1/x",
            "[]:5000/x",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        for good in ["localhost:5000/a", "registry-1.docker.io/library/x", "[::1]:5000/x", "10.0.0.1:443/a/b", "A.B/c"]
        {
            assert!(Reference::parse(good).is_ok(), "{good:?} should be accepted");
        }
    }

    #[test]
    fn rejects_bad_references() {
        for bad in ["", "UPPER", "a//b", "a:b:c", "-a", "a@sha256:12", "a:"] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}

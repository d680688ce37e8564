//! Where a Docker or Podman daemon listens, from its endpoint.

use crate::endpoint::Endpoint;
use crate::error::{Error, Result};
use crate::model::RuntimeKind;

/// Where the daemon listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Unix(String),
    /// `host:port`, plain HTTP.
    Tcp(String),
    /// `host:port` over TLS, with the directory holding ca.pem, cert.pem, key.pem.
    Tls(String, std::path::PathBuf),
}

impl Address {
    /// The address of an endpoint: a socket path, `tcp://host:port` (TLS with `?tls=1`
    /// or when DOCKER_TLS_VERIFY is set, certificates from `?cert_path=` or
    /// DOCKER_CERT_PATH or ~/.docker).
    pub fn of(endpoint: &Endpoint) -> Result<Address> {
        let a = endpoint.address.as_str();
        let hostport =
            a.strip_prefix("tcp://").or_else(|| a.strip_prefix("https://")).or_else(|| a.strip_prefix("http://"));
        let Some(hostport) = hostport else {
            return Ok(Address::Unix(a.strip_prefix("unix://").unwrap_or(a).to_string()));
        };
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let tls = match endpoint.option("tls") {
            Some(v) => v == "1" || v == "true",
            None => a.starts_with("https://") || env("DOCKER_TLS_VERIFY").is_some_and(|v| v != "0"),
        };
        if !tls {
            return Ok(Address::Tcp(hostport.to_string()));
        }
        let certs = endpoint
            .option("cert_path")
            .map(std::path::PathBuf::from)
            .or_else(|| env("DOCKER_CERT_PATH").map(std::path::PathBuf::from))
            .or_else(|| env("HOME").map(|h| std::path::Path::new(&h).join(".docker")))
            .ok_or_else(|| Error::invalid(format!("{endpoint}: TLS needs a certificate directory (?cert_path=)")))?;
        Ok(Address::Tls(hostport.to_string(), certs))
    }

    /// True when the daemon runs on this host (its files may be readable here).
    pub fn is_local(&self) -> bool {
        matches!(self, Address::Unix(_))
    }
}

/// The endpoint of `DOCKER_HOST` or `CONTAINER_HOST`: `unix:///x.sock` and `tcp://h:p`
/// as Docker writes them, in berth's endpoint form.
pub fn host_endpoint(kind: RuntimeKind, host: &str) -> String {
    match host.strip_prefix("unix://") {
        Some(path) => format!("{}://{path}", kind.scheme()),
        None => format!("{}://{host}", kind.scheme()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let e = Endpoint::parse("docker:///var/run/docker.sock").unwrap();
        assert_eq!(Address::of(&e).unwrap(), Address::Unix("/var/run/docker.sock".into()));
        let e = Endpoint::parse("docker://tcp://127.0.0.1:2375?tls=0").unwrap();
        assert_eq!(Address::of(&e).unwrap(), Address::Tcp("127.0.0.1:2375".into()));
        let e = Endpoint::parse("docker://tcp://h:2376?tls=1&cert_path=/c").unwrap();
        assert_eq!(Address::of(&e).unwrap(), Address::Tls("h:2376".into(), "/c".into()));
    }

    #[test]
    fn docker_host_forms() {
        assert_eq!(host_endpoint(RuntimeKind::Docker, "unix:///a.sock"), "docker:///a.sock");
        assert_eq!(host_endpoint(RuntimeKind::Docker, "tcp://1.2.3.4:2375"), "docker://tcp://1.2.3.4:2375");
    }
}

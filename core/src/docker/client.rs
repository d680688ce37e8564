//! The connection to a Docker or Podman daemon: bollard for the Engine API, API version
//! negotiation, and one mapping of the daemon's failures to berth's error kinds.

use std::sync::Arc;
use std::time::Duration;

use bollard::{ClientVersion, Docker};
use tokio::sync::OnceCell;

use crate::endpoint::Endpoint;
use crate::error::{Error, ErrorKind, Result};

/// The newest Engine API version berth speaks (bollard's). An older daemon says its own
/// version and we step down to it; a newer one accepts this.
const NEWEST: ClientVersion = *bollard::API_DEFAULT_VERSION;

/// bollard's per-request timeout when the caller gives none: long enough for a pull or a
/// save of a big image, short of forever.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);

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

/// A daemon connection. Cloning is cheap; clones share the negotiated client.
#[derive(Clone)]
pub struct Client {
    pub endpoint: Arc<String>,
    pub address: Address,
    timeout_secs: u64,
    /// bollard's client at the negotiated version, made on first use (so that a daemon
    /// that is not up yet at open time is an Unavailable error of the first call, and a
    /// failed attempt is tried again by the next).
    negotiated: Arc<OnceCell<Docker>>,
}

impl Client {
    pub fn new(endpoint: &Endpoint, timeout: Option<Duration>) -> Result<Client> {
        let address = Address::of(endpoint)?;
        let timeout_secs = timeout.unwrap_or(DEFAULT_TIMEOUT).as_secs().max(1);
        Ok(Client { endpoint: Arc::new(endpoint.to_string()), address, timeout_secs, negotiated: Arc::default() })
    }

    /// The bollard client at the negotiated API version; the first call asks the daemon.
    ///
    /// Negotiation asks without a version prefix (a versioned path that is too new gets a
    /// 400 from an old daemon): the `API-Version` header of `GET /_ping`, or over TLS
    /// (where berth's plain client does not go) `GET /version`. It then speaks
    /// min(daemon's version, [`NEWEST`]).
    pub async fn api(&self) -> Result<&Docker> {
        self.negotiated
            .get_or_try_init(|| async {
                let announced = match &self.address {
                    Address::Tls(..) => {
                        let probe = self.bollard(NEWEST)?.with_request_modifier(strip_version_prefix);
                        probe.version().await.map_err(|e| self.error("version negotiation", e))?.api_version
                    }
                    _ => {
                        super::libpod::Libpod::new(self.endpoint.to_string(), self.address.clone())
                            .ping_api_version()
                            .await?
                    }
                };
                let server = announced.as_deref().and_then(parse_version).ok_or_else(|| {
                    Error::new(
                        ErrorKind::Unavailable,
                        format!("{}: the daemon did not say which API version it speaks", self.endpoint),
                    )
                })?;
                let chosen =
                    if (server.major_version, server.minor_version) < (NEWEST.major_version, NEWEST.minor_version) {
                        server
                    } else {
                        NEWEST
                    };
                self.bollard(chosen)
            })
            .await
    }

    /// The negotiated API version ("1.41").
    pub async fn api_version(&self) -> Result<String> {
        let v = self.api().await?.client_version();
        Ok(format!("{}.{}", v.major_version, v.minor_version))
    }

    /// A bollard client speaking API version `v`.
    fn bollard(&self, v: ClientVersion) -> Result<Docker> {
        let secs = self.timeout_secs;
        let d = match &self.address {
            Address::Unix(path) => Docker::connect_with_socket(path, secs, &v),
            Address::Tcp(hp) => Docker::connect_with_http(&format!("tcp://{hp}"), secs, &v),
            Address::Tls(hp, certs) => Docker::connect_with_ssl(
                &format!("tcp://{hp}"),
                &certs.join("key.pem"),
                &certs.join("cert.pem"),
                &certs.join("ca.pem"),
                secs,
                &v,
            ),
        };
        d.map_err(|e| self.error("connect", e))
    }

    /// Maps a bollard failure of `what` to a berth error naming the endpoint; the
    /// bollard error is its source.
    pub fn error(&self, what: impl std::fmt::Display, e: bollard::errors::Error) -> Error {
        use bollard::errors::Error as B;
        let mapped = match &e {
            B::DockerResponseServerError { status_code, message } => {
                let kind = kind_of_status(*status_code, message);
                Error::new(kind, format!("{what}: {}", message.trim()))
            }
            B::RequestTimeoutError => {
                Error::new(ErrorKind::Timeout, format!("{what}: {} did not answer in time", self.endpoint))
            }
            B::JsonDataError { message, .. } => {
                Error::new(ErrorKind::Internal, format!("{what}: unexpected answer from {}: {message}", self.endpoint))
            }
            B::JsonSerdeError { err } => {
                Error::new(ErrorKind::Internal, format!("{what}: unexpected answer from {}: {err}", self.endpoint))
            }
            B::DockerStreamError { error } => {
                let kind = kind_of_message(error).unwrap_or(ErrorKind::Internal);
                Error::new(kind, format!("{what}: {error}"))
            }
            B::SocketNotFoundError(path) => Error::new(
                ErrorKind::Unavailable,
                format!("{what}: {}: no socket at {path} (is the daemon running?)", self.endpoint),
            ),
            _ => return Error::unreachable(what, &self.endpoint, e, "is the daemon running?"),
        };
        mapped.with_source(e)
    }
}

/// The berth kind of an HTTP status from the daemon (the message refines a 500).
pub fn kind_of_status(status: u16, message: &str) -> ErrorKind {
    match status {
        400 => ErrorKind::InvalidArgument,
        401 | 403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        409 | 304 => match kind_of_message(message) {
            Some(ErrorKind::AlreadyExists) => ErrorKind::AlreadyExists,
            _ => ErrorKind::Conflict,
        },
        _ => kind_of_message(message).unwrap_or(ErrorKind::Internal),
    }
}

/// The error of `what` that a daemon reported inside a stream (pull, push, load),
/// where no status says its kind: the message's, else `default`.
pub fn stream_failure(what: &str, message: &str, default: ErrorKind) -> Error {
    Error::new(kind_of_message(message).unwrap_or(default), format!("{what}: {message}"))
}

/// A kind recognised from a daemon's message, for the statuses and stream errors that
/// do not carry one (Podman answers 500 for many of them).
pub fn kind_of_message(message: &str) -> Option<ErrorKind> {
    let m = message.to_ascii_lowercase();
    if m.contains("unauthorized")
        || m.contains("authentication required")
        || m.contains("denied")
        || m.contains("no basic auth credentials")
    {
        Some(ErrorKind::PermissionDenied)
    } else if m.contains("already in use") || m.contains("already exists") {
        Some(ErrorKind::AlreadyExists)
    } else if m.contains("no such")
        || m.contains("not found")
        || m.contains("manifest unknown")
        || m.contains("does not exist")
        || m.contains("not known")
    {
        Some(ErrorKind::NotFound)
    } else if m.contains("is not running")
        || m.contains("is running")
        || m.contains("state improper")
        || m.contains("is already")
        || m.contains("is paused")
        || m.contains("in use")
    {
        Some(ErrorKind::Conflict)
    } else if m.contains("invalid argument") || m.contains("invalid reference") {
        Some(ErrorKind::InvalidArgument)
    } else if m.contains("connection refused") || m.contains("no route to host") {
        Some(ErrorKind::Unavailable)
    } else {
        None
    }
}

/// "1.41" → 1.41.
fn parse_version(s: &str) -> Option<ClientVersion> {
    let (major, minor) = s.split_once('.')?;
    Some(ClientVersion { major_version: major.parse().ok()?, minor_version: minor.parse().ok()? })
}

/// Drops bollard's `/v1.NN` path prefix (for the negotiation request only).
fn strip_version_prefix(mut req: bollard::BollardRequest) -> bollard::BollardRequest {
    let uri = req.uri().clone();
    let path = uri.path();
    let rest = path.strip_prefix("/v").and_then(|r| r.find('/').map(|i| &r[i..]));
    if let Some(rest) = rest {
        let pq = match uri.query() {
            Some(q) => format!("{rest}?{q}"),
            None => rest.to_string(),
        };
        let mut parts = uri.into_parts();
        if let Ok(p) = pq.parse() {
            parts.path_and_query = Some(p);
            if let Ok(u) = http::Uri::from_parts(parts) {
                *req.uri_mut() = u;
            }
        }
    }
    req
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
    fn versions_and_kinds() {
        let v = parse_version("1.41").unwrap();
        assert_eq!((v.major_version, v.minor_version), (1, 41));
        assert!(parse_version("x").is_none());
        assert_eq!(kind_of_status(404, ""), ErrorKind::NotFound);
        assert_eq!(kind_of_status(500, "container abc is not running"), ErrorKind::Conflict);
        assert_eq!(kind_of_status(500, "boom"), ErrorKind::Internal);
        assert_eq!(kind_of_status(409, "the name \"/x\" is already in use"), ErrorKind::AlreadyExists);
        assert_eq!(kind_of_status(409, "container is paused"), ErrorKind::Conflict);
        assert_eq!(kind_of_status(500, "names must match: invalid argument"), ErrorKind::InvalidArgument);
    }

    #[test]
    fn strips_the_version_prefix() {
        let req = http::Request::builder()
            .uri("http://localhost/v1.47/version?x=1")
            .body(bollard::body_full(bytes::Bytes::new()))
            .unwrap();
        assert_eq!(strip_version_prefix(req).uri().to_string(), "http://localhost/version?x=1");
    }
}

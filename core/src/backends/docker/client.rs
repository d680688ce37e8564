//! The connection to a Docker or Podman daemon: bollard for the Engine API, API version
//! negotiation, and one mapping of the daemon's failures to berth's error kinds.

use std::sync::Arc;
use std::time::Duration;

use bollard::{ClientVersion, Docker};
use tokio::sync::OnceCell;

use crate::backends::docker::address::Address;
use crate::backends::docker::libpod::Libpod;
use crate::backends::docker::status::{kind_of_message, kind_of_status};
use crate::endpoint::Endpoint;
use crate::error::{Error, ErrorKind, Result};

/// The newest Engine API version berth speaks (bollard's). An older daemon says its own
/// version and we step down to it; a newer one accepts this.
const NEWEST: ClientVersion = *bollard::API_DEFAULT_VERSION;

/// bollard's per-request timeout when the caller gives none: long enough for a pull or a
/// save of a big image, short of forever.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);

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
                    _ => Libpod::new(self.endpoint.to_string(), self.address.clone()).ping_api_version().await?,
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
    fn versions() {
        let v = parse_version("1.41").unwrap();
        assert_eq!((v.major_version, v.minor_version), (1, 41));
        assert!(parse_version("x").is_none());
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

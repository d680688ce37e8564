//! Podman's own API (libpod, `/v4.0.0/libpod/...`), for what the Docker-compatible API
//! lacks: pods, containers joined to a pod, pulls from a plain-HTTP registry; and the
//! `/_ping` that negotiation reads a header of. bollard speaks only the Engine API and
//! hides response headers, so this is a small HTTP/1.1 client on hyper: one connection
//! per request (these calls are rare), JSON in and out.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::Value;

use crate::backends::docker::address::Address;
use crate::backends::docker::status::{kind_of_message, kind_of_status};
use crate::error::{Error, ErrorKind, Result};

/// The libpod API version berth asks for: Podman 4.0 and later serve it.
const PREFIX: &str = "/v4.0.0/libpod";

/// A libpod connection (to the same socket as the Engine API client).
#[derive(Clone)]
pub struct Libpod {
    pub endpoint: String,
    address: Address,
}

impl Libpod {
    pub fn new(endpoint: String, address: Address) -> Libpod {
        Libpod { endpoint, address }
    }

    /// `method PREFIX/path` with an optional JSON body; the JSON answer (Null when
    /// empty). A status of 300 or more is an error with the daemon's message.
    pub async fn call(&self, what: &str, method: http::Method, path: &str, body: Option<&Value>) -> Result<Value> {
        let res = self.send(what, method, path, body, None).await?;
        let status = res.status().as_u16();
        let bytes = res.into_body().collect().await.map_err(|e| self.unavailable(what, e))?.to_bytes();
        if status >= 300 {
            return Err(self.failure(what, status, &bytes));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        // Some calls answer with plain text (an ID): it is kept as a string.
        Ok(serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())))
    }

    /// For answers that are a stream of JSON documents (pull and push progress): every
    /// document, once the stream ends. `auth` goes in the X-Registry-Auth header.
    pub async fn json_lines(
        &self,
        what: &str,
        method: http::Method,
        path: &str,
        auth: Option<&bollard::auth::DockerCredentials>,
    ) -> Result<Vec<Value>> {
        let header = match auth {
            Some(a) => Some(registry_auth_header(a)?),
            None => None,
        };
        let res = self.send(what, method, path, None, header).await?;
        let status = res.status().as_u16();
        let bytes = res.into_body().collect().await.map_err(|e| self.unavailable(what, e))?.to_bytes();
        if status >= 300 {
            return Err(self.failure(what, status, &bytes));
        }
        serde_json::Deserializer::from_slice(&bytes)
            .into_iter::<Value>()
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::internal(format!("{what}: unexpected answer from {}: {e}", self.endpoint)))
    }

    async fn send(
        &self,
        what: &str,
        method: http::Method,
        path: &str,
        body: Option<&Value>,
        registry_auth: Option<String>,
    ) -> Result<http::Response<Incoming>> {
        let payload = match body {
            Some(v) => Bytes::from(serde_json::to_vec(v).map_err(|e| Error::internal(e.to_string()))?),
            None => Bytes::new(),
        };
        let mut builder = http::Request::builder()
            .method(method)
            .uri(format!("{PREFIX}{path}"))
            .header(http::header::HOST, "d")
            .header(http::header::CONTENT_TYPE, "application/json");
        if let Some(a) = registry_auth {
            builder = builder.header("X-Registry-Auth", a);
        }
        let req = builder.body(Full::new(payload)).map_err(|e| Error::invalid(format!("{what}: {e}")))?;
        self.connect(what).await?.send_request(req).await.map_err(|e| self.unavailable(what, e))
    }

    /// A new HTTP/1.1 connection to the daemon.
    async fn connect(&self, what: &str) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>> {
        match &self.address {
            Address::Unix(p) => {
                let s = tokio::net::UnixStream::connect(p).await.map_err(|e| self.unreachable(what, e))?;
                self.handshake(what, s).await
            }
            Address::Tcp(hp) => {
                let s = tokio::net::TcpStream::connect(hp).await.map_err(|e| self.unreachable(what, e))?;
                self.handshake(what, s).await
            }
            Address::Tls(..) => Err(Error::not_supported(
                "docker",
                &format!("{what}: plain HTTP requests over TLS (berth's own client speaks unix and tcp)"),
            )),
        }
    }

    async fn handshake<S>(&self, what: &str, stream: S) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
    {
        let (sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| self.unavailable(what, e))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// The API version the daemon announces on `GET /_ping` (header `API-Version`),
    /// which every Docker and Podman answers at once, unversioned and cheaply (Podman's
    /// `/version` takes a third of a second).
    pub async fn ping_api_version(&self) -> Result<Option<String>> {
        let what = "ping";
        let req = http::Request::builder()
            .method(http::Method::GET)
            .uri("/_ping")
            .header(http::header::HOST, "d")
            .body(Full::new(Bytes::new()))
            .map_err(|e| Error::internal(format!("{what}: {e}")))?;
        let res = self.connect(what).await?.send_request(req).await.map_err(|e| self.unavailable(what, e))?;
        let version = res.headers().get("api-version").and_then(|v| v.to_str().ok()).map(str::to_string);
        Ok(version)
    }

    /// A failed connect: PermissionDenied for a socket this user may not open, else
    /// Unavailable.
    fn unreachable(&self, what: &str, e: std::io::Error) -> Error {
        Error::unreachable(what, &self.endpoint, e, "is the daemon running?")
    }

    /// A connection that failed after it was made (the HTTP client's error is kept).
    fn unavailable(&self, what: &str, e: hyper::Error) -> Error {
        Error::new(
            ErrorKind::Unavailable,
            format!("{what}: cannot reach {}: {e} (is the daemon running?)", self.endpoint),
        )
        .with_source(e)
    }

    /// The error of a failed call: libpod answers `{"cause": ..., "message": ..., "response": N}`.
    fn failure(&self, what: &str, status: u16, body: &[u8]) -> Error {
        let doc = serde_json::from_slice::<Value>(body).ok();
        let field = |k: &str| doc.as_ref().and_then(|v| v.get(k)).and_then(Value::as_str).unwrap_or("").to_string();
        let mut message = field("message");
        if message.is_empty() {
            message = String::from_utf8_lossy(body).trim().to_string();
        }
        // Podman answers 400 for failures a registry caused ("cause": "unauthorized: ..."):
        // what the cause says wins over the status then.
        let kind = match kind_of_message(&format!("{} {message}", field("cause"))) {
            Some(k) if status == 400 || status >= 500 => k,
            _ => kind_of_status(status, &message),
        };
        Error::new(kind, format!("{what}: {message}"))
    }
}

/// Credentials as the X-Registry-Auth header carries them: base64url of their JSON.
fn registry_auth_header(auth: &bollard::auth::DockerCredentials) -> Result<String> {
    let json = serde_json::to_vec(auth).map_err(|e| Error::internal(e.to_string()))?;
    Ok(crate::util::base64(&json).replace('+', "-").replace('/', "_"))
}

/// Percent-encodes a path segment or query value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn encodes() {
        assert_eq!(super::encode("a b/c:d"), "a%20b%2Fc%3Ad");
    }
}

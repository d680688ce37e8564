//! The gRPC connection to containerd: a lazily (re)connecting channel on the I/O
//! runtime, the namespace header on every request, and status codes mapped to berth's
//! error kinds.

use std::path::PathBuf;
use std::time::Duration;

use containerd_client::services::v1::{
    containers_client::ContainersClient, content_client::ContentClient, diff_client::DiffClient,
    events_client::EventsClient, images_client::ImagesClient, leases_client::LeasesClient,
    namespaces_client::NamespacesClient, snapshots::snapshots_client::SnapshotsClient, tasks_client::TasksClient,
    version_client::VersionClient,
};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status};

use crate::error::{Error, ErrorKind, Result};

/// A connection to one containerd socket, in one namespace. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    channel: Channel,
    pub socket: PathBuf,
    pub namespace: String,
    /// The lease that protects content and snapshots being written, when one is held.
    pub lease: Option<String>,
}

impl Client {
    /// A client for `socket`. Nothing is dialled until the first call; after a failure
    /// (containerd restarting) the next call dials again.
    pub fn new(socket: PathBuf, namespace: String) -> Result<Client> {
        let path = socket.clone();
        // The connector runs on the I/O runtime, where every call is made.
        let _guard = crate::io::runtime().enter();
        let channel = Endpoint::try_from("http://[::]")
            .map_err(|e| Error::internal(e.to_string()))?
            .connect_timeout(Duration::from_secs(5))
            .connect_with_connector_lazy(tower::service_fn(move |_| {
                let path = path.clone();
                async move {
                    let stream = tokio::net::UnixStream::connect(path).await?;
                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
                }
            }));
        Ok(Client { channel, socket, namespace, lease: None })
    }

    /// The same connection in another namespace.
    pub fn in_namespace(&self, namespace: &str) -> Client {
        Client { namespace: namespace.to_string(), ..self.clone() }
    }

    /// The same connection, with every write protected by `lease`.
    pub fn with_lease(&self, lease: &str) -> Client {
        Client { lease: Some(lease.to_string()), ..self.clone() }
    }

    /// A request carrying the namespace (and the lease) headers.
    pub fn req<T>(&self, message: T) -> Request<T> {
        let mut r = Request::new(message);
        let md = r.metadata_mut();
        if let Ok(v) = self.namespace.parse() {
            md.insert("containerd-namespace", v);
        }
        if let Some(lease) = &self.lease {
            if let Ok(v) = lease.parse() {
                md.insert("containerd-lease", v);
            }
        }
        r
    }

    pub fn containers(&self) -> ContainersClient<Channel> {
        ContainersClient::new(self.channel.clone())
    }
    pub fn content(&self) -> ContentClient<Channel> {
        ContentClient::new(self.channel.clone())
    }
    pub fn diff(&self) -> DiffClient<Channel> {
        DiffClient::new(self.channel.clone())
    }
    pub fn events(&self) -> EventsClient<Channel> {
        EventsClient::new(self.channel.clone())
    }
    pub fn images(&self) -> ImagesClient<Channel> {
        ImagesClient::new(self.channel.clone())
    }
    pub fn leases(&self) -> LeasesClient<Channel> {
        LeasesClient::new(self.channel.clone())
    }
    pub fn namespaces(&self) -> NamespacesClient<Channel> {
        NamespacesClient::new(self.channel.clone())
    }
    pub fn snapshots(&self) -> SnapshotsClient<Channel> {
        SnapshotsClient::new(self.channel.clone())
    }
    pub fn tasks(&self) -> TasksClient<Channel> {
        TasksClient::new(self.channel.clone())
    }
    pub fn version(&self) -> VersionClient<Channel> {
        VersionClient::new(self.channel.clone())
    }

    /// Turns a gRPC status from `what` into a berth error.
    pub fn error(&self, what: impl std::fmt::Display, status: Status) -> Error {
        status_error(&format!("{what} (containerd {}, namespace {})", self.socket.display(), self.namespace), status)
    }
}

/// containerd's status codes in berth's kinds; transport failures are Unavailable with a
/// hint, since that is what a stopped or restarting daemon looks like. The status is
/// the error's source.
pub fn status_error(what: &str, status: Status) -> Error {
    // A socket this user may not open fails the dial like a stopped daemon would; the
    // OS's error under the transport error says which it was.
    if matches!(status.code(), Code::Unavailable | Code::Unknown)
        && crate::error::io_error_kind(&status) == Some(std::io::ErrorKind::PermissionDenied)
    {
        return Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "{what}: permission denied opening containerd's socket: {} (run as a user the socket's owner, \
                 group or mode lets in)",
                status.message()
            ),
        )
        .with_source(status);
    }
    // A status made on this side from a broken connection (containerd stopped or
    // crashed under a call or a stream) carries the error it was made from: the OS's,
    // or the HTTP/2 or HTTP client's (tonic keeps it as the status's source).
    // Unavailable, as a daemon that cannot be reached is. Statuses containerd sends
    // come from its answer's headers and carry no source.
    let broken = crate::error::io_error_kind(&status).is_some()
        || (matches!(status.code(), Code::Unknown | Code::Internal) && std::error::Error::source(&status).is_some());
    let kind = match status.code() {
        Code::Unknown | Code::Internal | Code::Cancelled if broken => ErrorKind::Unavailable,
        Code::NotFound => ErrorKind::NotFound,
        Code::AlreadyExists => ErrorKind::AlreadyExists,
        Code::InvalidArgument | Code::OutOfRange => ErrorKind::InvalidArgument,
        Code::FailedPrecondition | Code::Aborted => ErrorKind::Conflict,
        Code::Unimplemented => ErrorKind::NotSupported,
        Code::PermissionDenied | Code::Unauthenticated => ErrorKind::PermissionDenied,
        Code::DeadlineExceeded => ErrorKind::Timeout,
        Code::Cancelled => ErrorKind::Cancelled,
        Code::Unavailable => ErrorKind::Unavailable,
        Code::DataLoss => ErrorKind::Corrupt,
        // runc's words for a program or path that is not there.
        Code::Unknown | Code::Internal
            if status.message().contains("no such file or directory")
                || status.message().contains("executable file not found") =>
        {
            ErrorKind::NotFound
        }
        _ => ErrorKind::Internal,
    };
    let mut message = format!("{what}: {}", status.message());
    if kind == ErrorKind::Unavailable {
        message.push_str(" (is containerd running, and is the socket path right?)");
    }
    Error::new(kind, message).with_source(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error of the HTTP/2 client with no OS error under it (a reset stream).
    #[derive(Debug)]
    struct Reset;
    impl std::fmt::Display for Reset {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("stream reset")
        }
    }
    impl std::error::Error for Reset {}

    #[test]
    fn a_broken_connection_is_told_by_the_source_of_the_status_not_by_its_words() {
        // Made on this side from a client error: Unavailable, whatever it says.
        let e = status_error("list images", Status::from_error(Box::new(Reset)));
        assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(status_error("list images", Status::from_error(Box::new(reset))).kind(), ErrorKind::Unavailable);
        // Sent by containerd (no source): its code decides, even if the words sound
        // like a transport failure.
        let e = status_error("list images", Status::new(Code::Unknown, "transport error"));
        assert_eq!(e.kind(), ErrorKind::Internal, "{e}");
        assert_eq!(status_error("x", Status::not_found("no such image")).kind(), ErrorKind::NotFound);
        // The status is kept as the error's source.
        let source = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<Status>());
        assert_eq!(source.map(Status::code), Some(Code::Unknown));
    }
}

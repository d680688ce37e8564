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
/// hint, since that is what a stopped or restarting daemon looks like.
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
        );
    }
    // A status made on this side from a broken connection (containerd stopped or
    // crashed under a call or a stream) carries the OS's error, or says so: Unavailable,
    // as a daemon that cannot be reached is. Statuses containerd sends carry neither.
    let message = status.message();
    let broken = crate::error::io_error_kind(&status).is_some()
        || message.contains("transport error")
        || message.contains("h2 protocol error")
        || message.contains("error reading a body from connection");
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
    Error::new(kind, message)
}

//! One set of error kinds for every backend and every binding.
//!
//! A message says what was asked, of what, and why: "open image \"alpine\" in
//! oci-archive:///x.tar: no image matches". Bindings map [`ErrorKind`] one to one onto
//! their own status codes and exception classes, all read from one list ([`KINDS`]),
//! so the kinds never change meaning. Code that must tell failures apart decides on the
//! kind, or on the typed error underneath ([`std::error::Error::source`]), never on the
//! message, which is for people.

use std::fmt;
use std::io;
use std::sync::Arc;

mod kinds;

pub use kinds::{ErrorKind, KindSpec, KINDS};

impl ErrorKind {
    /// The kind's row in [`KINDS`]: its names and numbers.
    pub fn spec(self) -> &'static KindSpec {
        // The table lists the variants in their order, so a variant is its index.
        &KINDS[self as usize]
    }

    /// A stable snake_case name ("not_found"), used in JSON output and by bindings.
    pub fn as_str(self) -> &'static str {
        self.spec().name
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A berth error: a kind, a message, for [`ErrorKind::Ambiguous`] the candidates, and
/// the error it was made from, if any (its `source()`).
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    candidates: Vec<String>,
    /// The io, gRPC, HTTP, registry or JSON error underneath; shared, so that an Error
    /// stays Clone (those errors are not).
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// The result type of every fallible berth call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with a complete message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), candidates: Vec::new(), source: None }
    }

    /// An Ambiguous error naming what was asked and every candidate it matched.
    pub fn ambiguous(what: impl fmt::Display, candidates: Vec<String>) -> Self {
        let message = format!("{what}: matches {} objects: {}", candidates.len(), candidates.join(", "));
        Error { kind: ErrorKind::Ambiguous, message, candidates, source: None }
    }

    /// NotSupported, naming the backend that lacks the operation.
    pub fn not_supported(backend: &str, operation: &str) -> Self {
        Error::new(ErrorKind::NotSupported, format!("{operation} is not supported by the {backend} backend"))
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::NotFound, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub fn corrupt(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Corrupt, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal, message)
    }

    /// Keeps `source`, the error this one was made from, as its `source()`; the message
    /// is unchanged (it already says what the source said).
    pub fn with_source(mut self, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        self.source = Some(Arc::from(source.into()));
        self
    }

    /// Converts an I/O error met while doing `what`, keeping its meaning where a kind fits.
    pub fn io(what: impl fmt::Display, err: io::Error) -> Self {
        let kind = match err.kind() {
            io::ErrorKind::NotFound => ErrorKind::NotFound,
            io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
            io::ErrorKind::AlreadyExists => ErrorKind::AlreadyExists,
            io::ErrorKind::TimedOut => ErrorKind::Timeout,
            // Decoders report bad compressed data and truncation through io::Error.
            io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => ErrorKind::Corrupt,
            io::ErrorKind::InvalidInput => ErrorKind::InvalidArgument,
            _ => ErrorKind::Io,
        };
        // A berth Error carried inside an io::Error (from our own Read impls) keeps its kind.
        if let Some(inner) = err.get_ref().and_then(|e| e.downcast_ref::<Error>()) {
            return Error {
                source: inner.source.clone(),
                ..Error::new(inner.kind, format!("{what}: {}", inner.message))
            };
        }
        // A full disk or quota is named by its errno too, so that it is plain (and
        // greppable) whatever the locale's words for it.
        let errno = match err.raw_os_error() {
            Some(libc::ENOSPC) => " [ENOSPC: the filesystem is full]",
            Some(libc::EDQUOT) => " [EDQUOT: the disk quota is exhausted]",
            _ => "",
        };
        Error::new(kind, format!("{what}: {err}{errno}")).with_source(err)
    }

    /// The error of a connection to `endpoint` that failed with `cause` while doing
    /// `what`: PermissionDenied when the OS refused to open the socket (its owner,
    /// group or mode leaves this user out), else Unavailable with `hint`. The cause is
    /// kept as the source.
    pub fn unreachable(
        what: impl fmt::Display,
        endpoint: impl fmt::Display,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
        hint: &str,
    ) -> Self {
        let cause = cause.into();
        let err: &(dyn std::error::Error + 'static) = &*cause;
        let e = if io_error_kind(err) == Some(io::ErrorKind::PermissionDenied) {
            Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "{what}: {endpoint}: permission denied opening its socket: {} (run as a user the socket's \
                     owner, group or mode lets in)",
                    innermost(err)
                ),
            )
        } else {
            // The wrappers' words ("client error (Connect)") and the OS's under them
            // ("Connection refused (os error 111)").
            let inner = innermost(err);
            let why = if inner == err.to_string() { inner } else { format!("{err}: {inner}") };
            Error::new(ErrorKind::Unavailable, format!("{what}: cannot reach {endpoint}: {why} ({hint})"))
        };
        e.with_source(cause)
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The full message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// For Ambiguous errors, the objects the pattern matched.
    pub fn candidates(&self) -> &[String] {
        &self.candidates
    }

    /// Prefixes the message with what the caller was doing.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<Error> for io::Error {
    /// Lets berth errors travel through `std::io::Read` implementations unchanged.
    fn from(err: Error) -> io::Error {
        let kind = match err.kind {
            ErrorKind::NotFound => io::ErrorKind::NotFound,
            ErrorKind::PermissionDenied => io::ErrorKind::PermissionDenied,
            ErrorKind::InvalidArgument => io::ErrorKind::InvalidInput,
            ErrorKind::Corrupt => io::ErrorKind::InvalidData,
            ErrorKind::Timeout => io::ErrorKind::TimedOut,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, err)
    }
}

/// The kind of the first `io::Error` in `err`'s chain of sources (transport errors of
/// the gRPC and HTTP clients wrap the OS's error of the connect).
pub fn io_error_kind(err: &(dyn std::error::Error + 'static)) -> Option<io::ErrorKind> {
    let mut e: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(cur) = e {
        if let Some(io) = cur.downcast_ref::<io::Error>() {
            return Some(io.kind());
        }
        e = cur.source();
    }
    None
}

/// The innermost cause's words ("Permission denied (os error 13)"), which say more than
/// the wrappers' ("transport error").
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut e = err;
    while let Some(next) = e.source() {
        e = next;
    }
    e.to_string()
}

/// Adds context to any fallible berth call: `.context("open image x")`.
pub trait ResultExt<T> {
    fn context(self, what: impl fmt::Display) -> Result<T>;
}

impl<T> ResultExt<T> for Result<T> {
    fn context(self, what: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.context(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    fn io_source(e: &Error) -> Option<io::ErrorKind> {
        e.source().and_then(|s| s.downcast_ref::<io::Error>()).map(io::Error::kind)
    }

    #[test]
    fn an_io_error_is_kept_as_the_source_through_context() {
        let e = Error::io("write to stdout", io::Error::from(io::ErrorKind::BrokenPipe)).context("ls /");
        assert_eq!(e.kind(), ErrorKind::Io);
        assert_eq!(io_source(&e), Some(io::ErrorKind::BrokenPipe));
        assert_eq!(io_error_kind(&e), Some(io::ErrorKind::BrokenPipe));
        // The message is as before: what was asked, then the OS's words.
        assert!(e.message().starts_with("ls /: write to stdout: "), "{e}");
        // A clone shares the source.
        assert_eq!(io_source(&e.clone()), Some(io::ErrorKind::BrokenPipe));
    }

    #[test]
    fn a_berth_error_carried_through_io_keeps_its_kind_and_source() {
        let inner = Error::io("read layer", io::Error::from(io::ErrorKind::UnexpectedEof));
        let e = Error::io("read file", io::Error::from(inner));
        assert_eq!(e.kind(), ErrorKind::Corrupt);
        assert_eq!(io_source(&e), Some(io::ErrorKind::UnexpectedEof));
    }

    #[test]
    fn errors_made_without_a_cause_have_no_source() {
        assert!(Error::not_found("image x").source().is_none());
        assert!(Error::ambiguous("x", vec!["a".into(), "b".into()]).source().is_none());
    }

    #[test]
    fn with_source_keeps_any_error_and_unreachable_keeps_its_cause() {
        let json = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let e = Error::corrupt(format!("config: bad JSON: {json}")).with_source(json);
        assert!(e.source().is_some_and(|s| s.is::<serde_json::Error>()));

        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        let e = Error::unreachable("ping", "docker:///x.sock", refused, "is the daemon running?");
        assert_eq!((e.kind(), io_source(&e)), (ErrorKind::Unavailable, Some(io::ErrorKind::ConnectionRefused)));
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        let e = Error::unreachable("ping", "docker:///x.sock", denied, "is the daemon running?");
        assert_eq!((e.kind(), io_source(&e)), (ErrorKind::PermissionDenied, Some(io::ErrorKind::PermissionDenied)));
    }
}

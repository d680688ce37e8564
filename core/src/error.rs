//! One set of error kinds for every backend and every binding.
//!
//! A message says what was asked, of what, and why: "open image \"alpine\" in
//! oci-archive:///x.tar: no image matches". Bindings map [`ErrorKind`] one to one onto
//! their own status codes and exception classes, so the kinds never change meaning.

use std::fmt;
use std::io;

/// What went wrong, independent of the backend that noticed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The named image, container, file or blob does not exist.
    NotFound,
    /// Something with that name already exists.
    AlreadyExists,
    /// The caller passed something malformed (a bad reference, endpoint or path).
    InvalidArgument,
    /// A pattern matched more than one object where one was needed.
    Ambiguous,
    /// The backend does not offer this operation.
    NotSupported,
    /// The endpoint could not be reached (daemon down, socket missing).
    Unavailable,
    /// The caller may not do this.
    PermissionDenied,
    /// The operation did not finish in time.
    Timeout,
    /// The operation was cancelled by the caller.
    Cancelled,
    /// The object is in the wrong state for this operation.
    Conflict,
    /// An operating-system I/O error.
    Io,
    /// Data failed a check: bad digest, bad tar, bad JSON, wrong media type.
    Corrupt,
    /// A bug in berth.
    Internal,
}

impl ErrorKind {
    /// Every kind, in a fixed order (bindings generate their tables from it).
    pub const ALL: [ErrorKind; 13] = [
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::InvalidArgument,
        ErrorKind::Ambiguous,
        ErrorKind::NotSupported,
        ErrorKind::Unavailable,
        ErrorKind::PermissionDenied,
        ErrorKind::Timeout,
        ErrorKind::Cancelled,
        ErrorKind::Conflict,
        ErrorKind::Io,
        ErrorKind::Corrupt,
        ErrorKind::Internal,
    ];

    /// A stable snake_case name ("not_found"), used in JSON output and by bindings.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::Ambiguous => "ambiguous",
            ErrorKind::NotSupported => "not_supported",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Io => "io",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A berth error: a kind, a message, and for [`ErrorKind::Ambiguous`] the candidates.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    candidates: Vec<String>,
}

/// The result type of every fallible berth call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error of `kind` with a complete message.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), candidates: Vec::new() }
    }

    /// An Ambiguous error naming what was asked and every candidate it matched.
    pub fn ambiguous(what: impl fmt::Display, candidates: Vec<String>) -> Self {
        let message = format!("{what}: matches {} objects: {}", candidates.len(), candidates.join(", "));
        Error { kind: ErrorKind::Ambiguous, message, candidates }
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
            return Error::new(inner.kind, format!("{what}: {}", inner.message));
        }
        // A full disk or quota is named by its errno too, so that it is plain (and
        // greppable) whatever the locale's words for it.
        let errno = match err.raw_os_error() {
            Some(libc::ENOSPC) => " [ENOSPC: the filesystem is full]",
            Some(libc::EDQUOT) => " [EDQUOT: the disk quota is exhausted]",
            _ => "",
        };
        Error::new(kind, format!("{what}: {err}{errno}"))
    }

    /// The error of a connection to `endpoint` that failed with `cause` while doing
    /// `what`: PermissionDenied when the OS refused to open the socket (its owner,
    /// group or mode leaves this user out), else Unavailable with `hint`.
    pub fn unreachable(
        what: impl fmt::Display,
        endpoint: impl fmt::Display,
        cause: &(dyn std::error::Error + 'static),
        hint: &str,
    ) -> Self {
        if io_error_kind(cause) == Some(io::ErrorKind::PermissionDenied) {
            return Error::new(
                ErrorKind::PermissionDenied,
                format!(
                    "{what}: {endpoint}: permission denied opening its socket: {} (run as a user the socket's \
                     owner, group or mode lets in)",
                    innermost(cause)
                ),
            );
        }
        // The wrappers' words ("client error (Connect)") and the OS's under them
        // ("Connection refused (os error 111)").
        let inner = innermost(cause);
        let why = if inner == cause.to_string() { inner } else { format!("{cause}: {inner}") };
        Error::new(ErrorKind::Unavailable, format!("{what}: cannot reach {endpoint}: {why} ({hint})"))
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

impl std::error::Error for Error {}

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

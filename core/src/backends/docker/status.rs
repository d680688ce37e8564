//! What a daemon's HTTP statuses and messages mean, in berth's error kinds.

use crate::error::{Error, ErrorKind};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(kind_of_status(404, ""), ErrorKind::NotFound);
        assert_eq!(kind_of_status(500, "container abc is not running"), ErrorKind::Conflict);
        assert_eq!(kind_of_status(500, "boom"), ErrorKind::Internal);
        assert_eq!(kind_of_status(409, "the name \"/x\" is already in use"), ErrorKind::AlreadyExists);
        assert_eq!(kind_of_status(409, "container is paused"), ErrorKind::Conflict);
        assert_eq!(kind_of_status(500, "names must match: invalid argument"), ErrorKind::InvalidArgument);
    }
}

"""berth's exceptions: one base class, one subclass per status of the C ABI.

Each subclass also derives from the builtin exception a Python caller would catch for
that kind of failure (NotFoundError is a LookupError, TimeoutError the builtin
TimeoutError, InvalidArgumentError a ValueError, ...). The message is the library's own:
what was asked, of what, and why.
"""

from __future__ import annotations

import builtins


class Error(Exception):
    """A failed call of libberth. `status` is the C ABI's status (a negative
    BERTH_ERR_* value) and `kind` its name ("not_found", ...)."""

    status: int = -13
    kind: str = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFoundError(Error, LookupError):
    """No such image, container, file, snapshot, ... (BERTH_ERR_NOT_FOUND)."""

    status, kind = -1, "not_found"


class AlreadyExistsError(Error):
    """The name or key is taken (BERTH_ERR_ALREADY_EXISTS)."""

    status, kind = -2, "already_exists"


class InvalidArgumentError(Error, ValueError):
    """A malformed argument or option (BERTH_ERR_INVALID_ARGUMENT)."""

    status, kind = -3, "invalid_argument"


class AmbiguousError(Error, LookupError):
    """A pattern matched several objects; the message lists them (BERTH_ERR_AMBIGUOUS)."""

    status, kind = -4, "ambiguous"


class NotSupportedError(Error, NotImplementedError):
    """The runtime cannot do this (BERTH_ERR_NOT_SUPPORTED)."""

    status, kind = -5, "not_supported"


class UnavailableError(Error, ConnectionError):
    """The daemon cannot be reached (BERTH_ERR_UNAVAILABLE)."""

    status, kind = -6, "unavailable"


class PermissionDeniedError(Error, PermissionError):
    """Refused: by the daemon, a registry, or the filesystem (BERTH_ERR_PERMISSION_DENIED)."""

    status, kind = -7, "permission_denied"


class TimeoutError(Error, builtins.TimeoutError):
    """The time given passed first (BERTH_ERR_TIMEOUT)."""

    status, kind = -8, "timeout"


class CancelledError(Error):
    """The stream or process was closed while the call waited (BERTH_ERR_CANCELLED)."""

    status, kind = -9, "cancelled"


class ConflictError(Error):
    """The object is not in a state that allows this, e.g. deleting a running
    container without force (BERTH_ERR_CONFLICT)."""

    status, kind = -10, "conflict"


class IoError(Error, OSError):
    """Reading or writing failed (BERTH_ERR_IO)."""

    status, kind = -11, "io"


class CorruptError(Error, ValueError):
    """An image, archive or layer is not what it claims (BERTH_ERR_CORRUPT)."""

    status, kind = -12, "corrupt"


class InternalError(Error):
    """A failure inside berth or a daemon that fits no other kind (BERTH_ERR_INTERNAL)."""

    status, kind = -13, "internal"


class InvalidHandleError(Error, ValueError):
    """The object was closed (BERTH_ERR_INVALID_HANDLE), like I/O on a closed file."""

    status, kind = -20, "invalid_handle"


class NullArgumentError(Error, ValueError):
    """A required argument was missing (BERTH_ERR_NULL_ARGUMENT)."""

    status, kind = -21, "null_argument"


class PanicError(Error):
    """berth panicked and stopped the call at its boundary: a bug, please report it
    (BERTH_ERR_PANIC)."""

    status, kind = -22, "panic"


_BY_STATUS: dict[int, type[Error]] = {
    cls.status: cls
    for cls in (
        NotFoundError,
        AlreadyExistsError,
        InvalidArgumentError,
        AmbiguousError,
        NotSupportedError,
        UnavailableError,
        PermissionDeniedError,
        TimeoutError,
        CancelledError,
        ConflictError,
        IoError,
        CorruptError,
        InternalError,
        InvalidHandleError,
        NullArgumentError,
        PanicError,
    )
}


def error_for(status: int, message: str) -> Error:
    """The exception for a failed call (used by berth._native)."""
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return cls(message)
    error = Error(message)
    error.status = status
    error.kind = "unknown"
    return error

# Shown as berth.NotFoundError, where users import them from.
for _cls in (Error, *_BY_STATUS.values()):
    _cls.__module__ = "berth"

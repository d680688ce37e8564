//! Status codes: 0 is success, 1 the end of a stream, negatives are errors. Each error
//! kind of berth-core has exactly one code, and the codes never change meaning.

use berth_core::ErrorKind;

/// The result of every fallible call.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub enum berth_status {
    /// Success.
    BERTH_OK = 0,
    /// A stream has no more items (not an error).
    BERTH_END = 1,
    BERTH_ERR_NOT_FOUND = -1,
    BERTH_ERR_ALREADY_EXISTS = -2,
    BERTH_ERR_INVALID_ARGUMENT = -3,
    BERTH_ERR_AMBIGUOUS = -4,
    BERTH_ERR_NOT_SUPPORTED = -5,
    BERTH_ERR_UNAVAILABLE = -6,
    BERTH_ERR_PERMISSION_DENIED = -7,
    BERTH_ERR_TIMEOUT = -8,
    BERTH_ERR_CANCELLED = -9,
    BERTH_ERR_CONFLICT = -10,
    BERTH_ERR_IO = -11,
    BERTH_ERR_CORRUPT = -12,
    BERTH_ERR_INTERNAL = -13,
    /// A handle that is zero, closed, of the wrong kind, or never was.
    BERTH_ERR_INVALID_HANDLE = -20,
    /// A required pointer argument was NULL.
    BERTH_ERR_NULL_ARGUMENT = -21,
    /// berth panicked; the call was stopped at the boundary. A bug: please report it.
    BERTH_ERR_PANIC = -22,
}

use berth_status::*;

/// Every status, for tables and the uniqueness test.
pub const ALL: [berth_status; 18] = [
    BERTH_OK,
    BERTH_END,
    BERTH_ERR_NOT_FOUND,
    BERTH_ERR_ALREADY_EXISTS,
    BERTH_ERR_INVALID_ARGUMENT,
    BERTH_ERR_AMBIGUOUS,
    BERTH_ERR_NOT_SUPPORTED,
    BERTH_ERR_UNAVAILABLE,
    BERTH_ERR_PERMISSION_DENIED,
    BERTH_ERR_TIMEOUT,
    BERTH_ERR_CANCELLED,
    BERTH_ERR_CONFLICT,
    BERTH_ERR_IO,
    BERTH_ERR_CORRUPT,
    BERTH_ERR_INTERNAL,
    BERTH_ERR_INVALID_HANDLE,
    BERTH_ERR_NULL_ARGUMENT,
    BERTH_ERR_PANIC,
];

impl berth_status {
    /// The code of a core error kind (one to one).
    pub fn of_kind(kind: ErrorKind) -> berth_status {
        match kind {
            ErrorKind::NotFound => BERTH_ERR_NOT_FOUND,
            ErrorKind::AlreadyExists => BERTH_ERR_ALREADY_EXISTS,
            ErrorKind::InvalidArgument => BERTH_ERR_INVALID_ARGUMENT,
            ErrorKind::Ambiguous => BERTH_ERR_AMBIGUOUS,
            ErrorKind::NotSupported => BERTH_ERR_NOT_SUPPORTED,
            ErrorKind::Unavailable => BERTH_ERR_UNAVAILABLE,
            ErrorKind::PermissionDenied => BERTH_ERR_PERMISSION_DENIED,
            ErrorKind::Timeout => BERTH_ERR_TIMEOUT,
            ErrorKind::Cancelled => BERTH_ERR_CANCELLED,
            ErrorKind::Conflict => BERTH_ERR_CONFLICT,
            ErrorKind::Io => BERTH_ERR_IO,
            ErrorKind::Corrupt => BERTH_ERR_CORRUPT,
            ErrorKind::Internal => BERTH_ERR_INTERNAL,
        }
    }

    /// The stable name of the status, as `berth_status_string` returns it.
    pub fn name(self) -> &'static str {
        self.c_name().to_str().unwrap_or("unknown")
    }

    /// The name as a C string with static storage.
    pub fn c_name(self) -> &'static std::ffi::CStr {
        match self {
            BERTH_OK => c"ok",
            BERTH_END => c"end",
            BERTH_ERR_NOT_FOUND => c"not_found",
            BERTH_ERR_ALREADY_EXISTS => c"already_exists",
            BERTH_ERR_INVALID_ARGUMENT => c"invalid_argument",
            BERTH_ERR_AMBIGUOUS => c"ambiguous",
            BERTH_ERR_NOT_SUPPORTED => c"not_supported",
            BERTH_ERR_UNAVAILABLE => c"unavailable",
            BERTH_ERR_PERMISSION_DENIED => c"permission_denied",
            BERTH_ERR_TIMEOUT => c"timeout",
            BERTH_ERR_CANCELLED => c"cancelled",
            BERTH_ERR_CONFLICT => c"conflict",
            BERTH_ERR_IO => c"io",
            BERTH_ERR_CORRUPT => c"corrupt",
            BERTH_ERR_INTERNAL => c"internal",
            BERTH_ERR_INVALID_HANDLE => c"invalid_handle",
            BERTH_ERR_NULL_ARGUMENT => c"null_argument",
            BERTH_ERR_PANIC => c"panic",
        }
    }
}

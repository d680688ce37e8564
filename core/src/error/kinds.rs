//! The one list of error kinds. A row gives a kind every name and number it has
//! outside Rust: its snake_case name, its C status, its CLI exit code and its binding
//! exception class. Everything else that names the kinds is generated from this list or
//! checked against it by a test: the C header's `berth_status` and docs/errors.md
//! (ffi/src/status.rs), the CLI's exit codes and help (read from here), the Python
//! exception classes (a pytest against the native list). Adding a kind is adding a row
//! here, then whatever those tests ask for.

/// One error kind and what each surface calls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindSpec {
    pub kind: ErrorKind,
    /// Stable snake_case name: JSON output, `berth_status_string`, a binding's `kind`.
    pub name: &'static str,
    /// The C ABI's status, `BERTH_ERR_<NAME>`: negative, and never reused.
    pub status: i32,
    /// The CLI's exit code (0 is success and 2 a bad command line).
    pub exit_code: u8,
    /// The bindings' exception class (Python's; later bindings derive their names).
    pub class: &'static str,
    /// What the kind means, in one line (docs/errors.md, and the variant's doc).
    pub meaning: &'static str,
}

/// Declares [`ErrorKind`], [`ErrorKind::ALL`] and [`KINDS`] from one table, so a kind
/// cannot exist without its names and numbers.
macro_rules! error_kinds {
    ($($variant:ident = $name:literal, $status:literal, $exit:literal, $class:literal, $meaning:literal;)*) => {
        /// What went wrong, independent of the backend that noticed it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
        pub enum ErrorKind {
            $(#[doc = $meaning] #[serde(rename = $name)] $variant,)*
        }

        impl ErrorKind {
            /// Every kind, in a fixed order (the order of [`KINDS`]).
            pub const ALL: [ErrorKind; KINDS.len()] = [$(ErrorKind::$variant,)*];
        }

        /// Every kind with its names and numbers, in the order of [`ErrorKind`]'s variants.
        pub const KINDS: &[KindSpec] = &[
            $(KindSpec {
                kind: ErrorKind::$variant,
                name: $name,
                status: $status,
                exit_code: $exit,
                class: $class,
                meaning: $meaning,
            },)*
        ];
    };
}

error_kinds! {
    // Variant       = name,             C status, exit code, binding class,
    //     meaning (one line: docs/errors.md and the variant's doc).
    NotFound         = "not_found",          -1,   3, "NotFoundError",
        "no such image, container, pod, snapshot, file, blob, layer or archive";
    AlreadyExists    = "already_exists",     -2,  12, "AlreadyExistsError",
        "a name or key is taken";
    InvalidArgument  = "invalid_argument",   -3,   4, "InvalidArgumentError",
        "a malformed endpoint, reference, path or option; not a directory; a directory where a file is needed";
    Ambiguous        = "ambiguous",          -4,   5, "AmbiguousError",
        "a pattern matched several objects where one was needed; the error lists them (`candidates`)";
    NotSupported     = "not_supported",      -5,   6, "NotSupportedError",
        "the backend lacks the operation (both are named in the message)";
    Unavailable      = "unavailable",        -6,   7, "UnavailableError",
        "the endpoint cannot be reached: daemon down, socket missing (with a hint)";
    PermissionDenied = "permission_denied",  -7,   8, "PermissionDeniedError",
        "the OS, the daemon or a registry refused";
    Timeout          = "timeout",            -8,   9, "TimeoutError",
        "the call did not finish in the time it was given";
    Cancelled        = "cancelled",          -9,  14, "CancelledError",
        "the caller cancelled, or closed the stream or process a call was waiting on";
    Conflict         = "conflict",          -10,  11, "ConflictError",
        "the object is in the wrong state (e.g. deleting a running container without force)";
    Io               = "io",                -11,  13, "IoError",
        "an OS I/O error, or too many levels of symbolic links";
    Corrupt          = "corrupt",           -12,  10, "CorruptError",
        "bad digest, bad size, truncated or malformed tar, bad JSON, wrong media type";
    Internal         = "internal",          -13,   1, "InternalError",
        "a bug in berth, or a daemon's failure that fits no other kind";
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn each_name_and_number_belongs_to_one_kind() {
        assert_eq!(KINDS.len(), ErrorKind::ALL.len());
        for (i, (spec, kind)) in KINDS.iter().zip(ErrorKind::ALL).enumerate() {
            // ErrorKind::spec indexes the table by the variant.
            assert_eq!((spec.kind, kind as usize), (kind, i));
            assert_eq!(kind.spec(), spec);
            assert!(spec.status < 0, "{spec:?}: errors are negative statuses");
            // 0 is success and 2 clap's bad command line.
            assert!(spec.exit_code != 0 && spec.exit_code != 2, "{spec:?}");
            assert!(spec.class.ends_with("Error") && !spec.meaning.is_empty(), "{spec:?}");
            // The JSON name (serde) is the table's.
            assert_eq!(serde_json::to_value(kind).unwrap(), spec.name);
        }
        let columns: [(&str, fn(&KindSpec) -> String); 4] = [
            ("name", |k| k.name.to_string()),
            ("C status", |k| k.status.to_string()),
            ("exit code", |k| k.exit_code.to_string()),
            ("class", |k| k.class.to_string()),
        ];
        for (column, value) in columns {
            let mut seen = HashSet::new();
            let twice: Vec<String> = KINDS.iter().map(value).filter(|v| !seen.insert(v.clone())).collect();
            assert!(twice.is_empty(), "two kinds have the same {column}: {twice:?}");
        }
    }
}

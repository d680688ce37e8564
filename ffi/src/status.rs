//! Status codes: 0 is success, 1 the end of a stream, negatives are errors. Each error
//! kind of berth-core has exactly one code, and the codes never change meaning.
//!
//! The codes of the kinds, and their names, come from berth-core's list of kinds
//! (`berth_core::error::KINDS`); this module adds the statuses that are no kind (success,
//! the end of a stream, and the failures of the C boundary itself). The enum spells the
//! numbers out because cbindgen writes include/berth.h from it; the tests below check it
//! against the list, and the header and docs/errors.md against both.

use std::ffi::{CStr, CString};
use std::sync::LazyLock;

use berth_core::error::{ErrorKind, KINDS};

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

/// A status that is no error kind of berth-core: success, the end of a stream, and the
/// failures of the C boundary that only the ABI and the bindings over it can meet.
struct Own {
    status: berth_status,
    name: &'static str,
    /// The bindings' exception class; None for the statuses that are no failure.
    class: Option<&'static str>,
    meaning: &'static str,
}

const OWN: [Own; 5] = [
    Own { status: BERTH_OK, name: "ok", class: None, meaning: "success" },
    Own { status: BERTH_END, name: "end", class: None, meaning: "a stream has no more items (not an error)" },
    Own {
        status: BERTH_ERR_INVALID_HANDLE,
        name: "invalid_handle",
        class: Some("InvalidHandleError"),
        meaning: "a handle that is zero, closed, of the wrong kind, or never was",
    },
    Own {
        status: BERTH_ERR_NULL_ARGUMENT,
        name: "null_argument",
        class: Some("NullArgumentError"),
        meaning: "a required pointer argument was NULL",
    },
    Own {
        status: BERTH_ERR_PANIC,
        name: "panic",
        class: Some("PanicError"),
        meaning: "berth panicked and the call was stopped at the boundary: a bug, please report it",
    },
];

/// One status as every binding sees it: the rows later bindings generate their error
/// codes from (as JSON: see the `status_table_as_json` test).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatusSpec {
    /// The value, as C sees it.
    pub status: i32,
    /// The C constant (`BERTH_ERR_NOT_FOUND`).
    pub constant: String,
    /// The name `berth_status_string` returns ("not_found"), a binding's `kind`.
    pub name: &'static str,
    /// The bindings' exception class; None for OK and END.
    pub class: Option<&'static str>,
    /// The CLI's exit code for the same kind; None for the statuses that are no kind.
    pub exit_code: Option<u8>,
    /// What it means, in one line.
    pub meaning: &'static str,
}

/// Every status's row, in the order of [`ALL`].
static TABLE: LazyLock<Vec<StatusSpec>> = LazyLock::new(|| ALL.iter().filter_map(|&s| spec_of(s)).collect());

/// The names as C strings with static storage, for `berth_status_string`.
static C_NAMES: LazyLock<Vec<(i32, CString)>> =
    LazyLock::new(|| TABLE.iter().map(|row| (row.status, CString::new(row.name).unwrap_or_default())).collect());

fn spec_of(s: berth_status) -> Option<StatusSpec> {
    let constant = format!("{s:?}");
    if let Some(k) = KINDS.iter().find(|k| k.status == s as i32) {
        return Some(StatusSpec {
            status: k.status,
            constant,
            name: k.name,
            class: Some(k.class),
            exit_code: Some(k.exit_code),
            meaning: k.meaning,
        });
    }
    let own = OWN.iter().find(|o| o.status == s)?;
    Some(StatusSpec {
        status: s as i32,
        constant,
        name: own.name,
        class: own.class,
        exit_code: None,
        meaning: own.meaning,
    })
}

impl berth_status {
    /// Every status with its names, binding class and meaning (berth-core's kinds and
    /// this crate's own), in a fixed order: what bindings build their errors from.
    pub fn table() -> &'static [StatusSpec] {
        &TABLE
    }

    /// The code of a core error kind (one to one).
    pub fn of_kind(kind: ErrorKind) -> berth_status {
        let status = kind.spec().status;
        // Every kind has its status (the tests check it); Internal is the fallback a
        // kind added to core without one here would meet.
        ALL.iter().copied().find(|&s| s as i32 == status).unwrap_or(BERTH_ERR_INTERNAL)
    }

    /// The stable name of the status, as `berth_status_string` returns it.
    pub fn name(self) -> &'static str {
        self.c_name().to_str().unwrap_or("unknown")
    }

    /// The name as a C string with static storage.
    pub fn c_name(self) -> &'static CStr {
        C_NAMES.iter().find(|(value, _)| *value == self as i32).map_or(c"unknown", |(_, name)| name.as_c_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::path::PathBuf;

    fn repo_file(path: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
    }

    /// The C constant a status of this name must have.
    fn constant_of(name: &str, status: i32) -> String {
        let err = if status < 0 { "ERR_" } else { "" };
        format!("BERTH_{err}{}", name.to_uppercase())
    }

    #[test]
    fn each_kind_of_core_has_the_status_its_row_gives() {
        for k in KINDS {
            let s = berth_status::of_kind(k.kind);
            assert_eq!((s as i32, format!("{s:?}")), (k.status, constant_of(k.name, k.status)), "{k:?}");
            assert_eq!(s.name(), k.name);
        }
    }

    #[test]
    fn every_status_has_one_row_of_distinct_names() {
        let table = berth_status::table();
        assert_eq!(table.len(), ALL.len(), "a status with no row (neither a kind of core nor one of OWN)");
        for row in table {
            assert_eq!(row.constant, constant_of(row.name, row.status), "{row:?}");
            assert_eq!(row.class.is_some(), row.status < 0, "{row:?}: errors, and only errors, have a class");
        }
        let distinct = |f: fn(&StatusSpec) -> String| table.iter().map(f).collect::<HashSet<_>>().len();
        assert_eq!(distinct(|r| r.status.to_string()), table.len());
        assert_eq!(distinct(|r| r.name.to_string()), table.len());
        assert_eq!(distinct(|r| format!("{:?}", r.class)), table.len() - 1, "OK and END share None");
        assert_eq!(berth_status::BERTH_ERR_PANIC.c_name(), c"panic");
    }

    /// The header's `enum berth_status` (cbindgen's copy of the enum above, which
    /// tests/header.rs keeps current) lists exactly the table's statuses.
    #[test]
    fn the_header_declares_exactly_the_statuses_of_the_table() {
        let header = std::fs::read_to_string(repo_file("include/berth.h")).unwrap();
        let body = header.split("enum berth_status").nth(1).and_then(|rest| rest.split("};").next()).unwrap();
        let declared: Vec<(String, i32)> = body
            .lines()
            .filter_map(|line| line.trim().strip_suffix(',')?.split_once(" = "))
            .map(|(name, value)| (name.to_string(), value.parse().unwrap()))
            .collect();
        let table: Vec<(String, i32)> = berth_status::table().iter().map(|r| (r.constant.clone(), r.status)).collect();
        assert_eq!(declared, table);
    }

    /// The table of docs/errors.md, between its markers.
    fn docs_table() -> String {
        let mut t =
            String::from("| kind | meaning | C status | CLI exit code | binding class |\n|---|---|---|---|---|\n");
        for r in berth_status::table().iter().filter(|r| r.class.is_some()) {
            let exit = r.exit_code.map_or(String::new(), |c| c.to_string());
            let class = r.class.unwrap_or_default();
            t.push_str(&format!(
                "| `{}` | {} | `{}` ({}) | {exit} | `{class}` |\n",
                r.name, r.meaning, r.constant, r.status
            ));
        }
        t
    }

    #[test]
    fn docs_errors_md_shows_the_table() {
        const START: &str =
            "<!-- generated from the list of kinds: BERTH_BLESS=1 cargo test -p berth-ffi --lib status::tests -->\n";
        const END: &str = "<!-- end of the generated table -->\n";
        let path = repo_file("docs/errors.md");
        let doc = std::fs::read_to_string(&path).unwrap();
        let (before, rest) = doc.split_once(START).expect("docs/errors.md has the start marker");
        let (table, after) = rest.split_once(END).expect("docs/errors.md has the end marker");
        let want = docs_table();
        if std::env::var_os("BERTH_BLESS").is_some() {
            std::fs::write(&path, format!("{before}{START}{want}{END}{after}")).unwrap();
        } else {
            assert_eq!(
                table, want,
                "docs/errors.md's table differs from the list of kinds: run `BERTH_BLESS=1 cargo test -p berth-ffi --lib status::tests`"
            );
        }
    }

    /// The table as JSON, for the generators of later bindings (Node's error codes, Go's
    /// sentinel errors): `BERTH_STATUS_JSON=FILE cargo test -p berth-ffi --lib
    /// status_table_as_json` writes it to FILE.
    #[test]
    fn status_table_as_json() {
        let json = serde_json::to_string_pretty(berth_status::table()).unwrap();
        let rows: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
        assert_eq!(rows.len(), ALL.len());
        assert_eq!(rows[2]["constant"], "BERTH_ERR_NOT_FOUND");
        assert_eq!((rows[2]["class"].as_str(), rows[2]["exit_code"].as_u64()), (Some("NotFoundError"), Some(3)));
        if let Some(file) = std::env::var_os("BERTH_STATUS_JSON") {
            std::fs::write(file, json + "\n").unwrap();
        }
    }
}

//! The boundary every exported function goes through: no panic crosses it, every
//! failure sets the thread's last error, and arguments are checked before use.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::status::berth_status::{self, *};

/// Why a call failed, before it becomes a status and a message.
pub struct Failure {
    pub status: berth_status,
    pub message: String,
}

impl From<berth_core::Error> for Failure {
    fn from(e: berth_core::Error) -> Failure {
        Failure { status: berth_status::of_kind(e.kind()), message: e.message().to_string() }
    }
}

impl Failure {
    pub fn new(status: berth_status, message: impl Into<String>) -> Failure {
        Failure { status, message: message.into() }
    }

    pub fn null(arg: &str) -> Failure {
        Failure::new(BERTH_ERR_NULL_ARGUMENT, format!("argument `{arg}` is NULL"))
    }
}

pub type Outcome<T = berth_status> = Result<T, Failure>;

thread_local! {
    static LAST_ERROR: RefCell<(berth_status, CString)> = RefCell::new((BERTH_OK, CString::default()));
}

fn set_last_error(status: berth_status, message: &str) {
    // A message with a NUL inside would be cut; keep the text, drop the NULs.
    let text = CString::new(message.replace('\0', "")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = (status, text));
}

/// The message of the last failed call on this thread ("" if none); valid until the next
/// failing call on this thread.
pub fn last_error_message() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().1.as_ptr())
}

pub fn last_error_status() -> berth_status {
    LAST_ERROR.with(|e| e.borrow().0)
}

/// Runs the body of an exported function: its status on success (OK, or END for a
/// finished stream), else the failure's status with the last error set; a panic
/// becomes BERTH_ERR_PANIC.
pub fn call(body: impl FnOnce() -> Outcome) -> berth_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status)) => status,
        Ok(Err(f)) => {
            set_last_error(f.status, &f.message);
            f.status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(BERTH_ERR_PANIC, &format!("internal panic (a bug in berth): {what}"));
            BERTH_ERR_PANIC
        }
    }
}

/// A required C string argument as UTF-8 (`name` is for the message).
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that lives for the call.
pub unsafe fn str_arg<'a>(p: *const c_char, name: &str) -> Outcome<&'a str> {
    if p.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL and NUL-terminated per the contract above.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    std::str::from_utf8(bytes)
        .map_err(|e| Failure::new(BERTH_ERR_INVALID_ARGUMENT, format!("argument `{name}` is not valid UTF-8: {e}")))
}

/// An optional C string argument: NULL is `None`.
///
/// # Safety
/// As [`str_arg`].
pub unsafe fn opt_str_arg<'a>(p: *const c_char, name: &str) -> Outcome<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { str_arg(p, name) }.map(Some)
    }
}

/// A required out-pointer.
pub fn out_arg<'a, T>(p: *mut T, name: &str) -> Outcome<&'a mut T> {
    // SAFETY: the caller passes a pointer to writable storage for a T or NULL; NULL is
    // refused here. Alignment and liveness are the caller's contract (documented).
    unsafe { p.as_mut() }.ok_or_else(|| Failure::null(name))
}

/// A string handed to C, freed with `berth_string_free`.
pub fn c_string(s: impl AsRef<[u8]>) -> *mut c_char {
    let bytes = s.as_ref();
    // One allocation, sized for the NUL: this is on the path of every getter.
    let mut v = Vec::with_capacity(bytes.len() + 1);
    if bytes.contains(&0) {
        v.extend(bytes.iter().copied().filter(|&b| b != 0));
    } else {
        v.extend_from_slice(bytes);
    }
    // SAFETY: `v` holds no NUL byte (filtered above).
    unsafe { CString::from_vec_unchecked(v) }.into_raw()
}

/// Serialises `v` to a JSON string for C.
pub fn json_out<T: serde::Serialize + ?Sized>(v: &T) -> Outcome<*mut c_char> {
    serde_json::to_string(v).map(c_string).map_err(|e| Failure::new(BERTH_ERR_INTERNAL, format!("encoding JSON: {e}")))
}

/// A JSON object argument (options, resources): NULL or "" give the defaults; anything
/// but an object (an array, a scalar) is refused rather than read by position, and so
/// are unknown fields where `T` denies them.
pub fn json_object_arg<T: serde::de::DeserializeOwned + Default>(text: Option<&str>, name: &str) -> Outcome<T> {
    match text {
        None | Some("") => Ok(T::default()),
        Some(s) => required_json_object(s, name),
    }
}

/// A JSON object argument that must be given (an empty string is refused).
pub fn required_json_object<T: serde::de::DeserializeOwned>(text: &str, name: &str) -> Outcome<T> {
    let bad = |why: String| Failure::new(BERTH_ERR_INVALID_ARGUMENT, format!("{name}: {why}"));
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
    if !v.is_object() {
        return Err(bad("expected a JSON object".into()));
    }
    serde_json::from_value(v).map_err(|e| bad(e.to_string()))
}

/// A JSON array of strings (filters, patterns): NULL or "" is an empty list.
pub fn json_strings_arg(text: Option<&str>, name: &str) -> Outcome<Vec<String>> {
    let bad = |why: String| Failure::new(BERTH_ERR_INVALID_ARGUMENT, format!("{name}: {why}"));
    match text {
        None | Some("") => Ok(Vec::new()),
        Some(s) => {
            let v: serde_json::Value = serde_json::from_str(s).map_err(|e| bad(e.to_string()))?;
            if !v.is_array() {
                return Err(bad("expected a JSON array of strings".into()));
            }
            serde_json::from_value(v).map_err(|e| bad(format!("expected a JSON array of strings: {e}")))
        }
    }
}

/// A name or pattern that must say something: empty or blank is INVALID_ARGUMENT
/// (an empty pattern would otherwise match everything by prefix).
pub fn name_arg<'a>(s: &'a str, name: &str) -> Outcome<&'a str> {
    if s.trim().is_empty() {
        return Err(Failure::new(BERTH_ERR_INVALID_ARGUMENT, format!("argument `{name}` is empty")));
    }
    Ok(s)
}

/// A byte buffer argument: NULL with a length is a NULL required pointer; NULL with 0
/// is empty.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes that live for the call.
pub unsafe fn bytes_arg<'a>(data: *const u8, len: usize, name: &str) -> Outcome<&'a [u8]> {
    if data.is_null() {
        if len > 0 {
            return Err(Failure::null(name));
        }
        return Ok(&[]);
    }
    if len == 0 {
        return Ok(&[]);
    }
    // SAFETY: non-NULL with `len` readable bytes, per the contract above.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

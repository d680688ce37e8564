//! The boundary every exported function goes through: no panic crosses it, every
//! failure sets the thread's last error, and pointer and string arguments are checked
//! before the safe layer (`api`) sees them.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::failure::{Failure, Outcome};
use crate::status::berth_status::{self, *};

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

/// A timeout in milliseconds from C: negative means none (wait as long as it takes).
pub fn timeout_arg(ms: i64) -> Option<std::time::Duration> {
    (ms >= 0).then(|| std::time::Duration::from_millis(ms as u64))
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

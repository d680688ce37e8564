//! libberth: the handle-based C ABI of berth (`include/berth.h`).
//!
//! Rules every function here follows (docs/c-api.md says them to C programmers):
//! - names are `berth_<object>_<verb>`; out-parameters come first and are called `out`;
//! - every fallible function returns a `berth_status` (0 success, 1 end of stream,
//!   negative errors) and, on failure, sets this thread's last error;
//! - objects are opaque 64-bit handles from a generation-checked table (`handle.rs`);
//! - every function is a shim over one operation of the safe layer (`api`): it checks
//!   pointers and UTF-8, calls the operation (blocking on it when it is async), writes
//!   the outputs and returns the status;
//! - strings in are UTF-8 and NUL-terminated; strings out are freed with
//!   `berth_string_free`, bytes out with `berth_bytes_free`;
//! - rich values are JSON documents (schemas in docs/schemas.md);
//! - nothing panics across the boundary (`call.rs`).

mod abi_version;
pub mod api;
mod call;
mod container;
mod failure;
mod fs;
mod handle;
mod image;
mod pod;
mod runtime;
mod snapshot;
mod status;
mod stream;
mod types;

use std::ffi::{c_char, CString};

// The exported functions and constants as Rust items too: each shim module's only `pub`
// items are its `berth_*` functions and constants, so these globs are the C ABI and grow
// with it. Rust bindings (Python, Node) use the safe layer, `api`, instead.
pub use container::*;
pub use fs::*;
pub use image::*;
pub use pod::*;
pub use runtime::*;
pub use snapshot::*;
pub use status::berth_status;
pub use stream::*;
pub use types::*;

/// The version of the loaded library, e.g. "0.1.0" (compare with BERTH_VERSION, the
/// version of the header you compiled against). Static storage: never free it.
#[no_mangle]
pub extern "C" fn berth_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version of the loaded library (the N of libberth.so.N); equal to
/// BERTH_ABI_VERSION when header and library match.
#[no_mangle]
pub extern "C" fn berth_abi_version() -> u32 {
    abi_version::ABI_VERSION
}

/// The name of a status ("ok", "end", "not_found", ...); "unknown" for a value that is
/// not a status. Static storage: never free it.
#[no_mangle]
pub extern "C" fn berth_status_string(status: i32) -> *const c_char {
    status::ALL.iter().find(|s| **s as i32 == status).map_or(c"unknown", |s| s.c_name()).as_ptr()
}

/// The message of the most recent failed call on this thread: what was asked, of what,
/// and why. Never NULL ("" before any failure). Valid until the next failing call on
/// this thread; do not free it.
#[no_mangle]
pub extern "C" fn berth_last_error_message() -> *const c_char {
    call::last_error_message()
}

/// The status of the most recent failed call on this thread (BERTH_OK before any).
#[no_mangle]
pub extern "C" fn berth_last_error_status() -> berth_status {
    call::last_error_status()
}

/// Frees a string that berth returned. NULL is ignored.
///
/// # Safety
/// `s` is NULL or a string from berth, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn berth_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: `s` came from CString::into_raw in call::c_string.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// Frees bytes that berth returned. An empty value is ignored.
///
/// # Safety
/// `b` is a value from berth, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn berth_bytes_free(b: berth_bytes) {
    if !b.data.is_null() && b.len > 0 {
        // SAFETY: `data`/`len` came from Box<[u8]>::into_raw in berth_bytes::from_vec.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(b.data, b.len)) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last_message() -> String {
        // SAFETY: never NULL, NUL-terminated, valid until the next failure on this thread.
        unsafe { CStr::from_ptr(berth_last_error_message()) }.to_string_lossy().into_owned()
    }

    #[test]
    fn a_panic_inside_an_exported_function_comes_back_as_a_status() {
        let mut rt = berth_runtime { id: 0 };
        // SAFETY: valid out pointer and NUL-terminated endpoint.
        let status = unsafe { runtime::berth_runtime_open(&mut rt, c"berth-test-panic://".as_ptr(), std::ptr::null()) };
        assert_eq!(status, berth_status::BERTH_ERR_PANIC);
        assert_eq!(berth_last_error_status(), berth_status::BERTH_ERR_PANIC);
        assert!(last_message().contains("test-only panic"), "{}", last_message());
        assert_eq!(rt.id, 0, "no handle on failure");
    }

    #[test]
    fn handles_are_generation_checked() {
        let mut rt = berth_runtime { id: 0 };
        let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../sample/sample.oci.tar\0");
        let endpoint = format!("oci-archive://{}", sample);
        // SAFETY: valid pointers.
        let status = unsafe { runtime::berth_runtime_open(&mut rt, endpoint.as_ptr().cast(), std::ptr::null()) };
        assert_eq!(status, berth_status::BERTH_OK, "{}", last_message());
        assert_eq!(runtime::berth_runtime_close(rt), berth_status::BERTH_OK);
        assert_eq!(runtime::berth_runtime_close(rt), berth_status::BERTH_ERR_INVALID_HANDLE);
        // A new object may reuse the slot; the old handle still fails.
        let mut rt2 = berth_runtime { id: 0 };
        // SAFETY: valid pointers.
        unsafe { runtime::berth_runtime_open(&mut rt2, endpoint.as_ptr().cast(), std::ptr::null()) };
        assert_ne!(rt.id, rt2.id);
        let mut out = std::ptr::null_mut();
        // SAFETY: valid out pointer.
        assert_eq!(unsafe { runtime::berth_runtime_info(&mut out, rt) }, berth_status::BERTH_ERR_INVALID_HANDLE);
        // A runtime handle passed as an image (same number, other kind) is refused.
        let mut id = std::ptr::null_mut();
        // SAFETY: valid out pointer.
        assert_eq!(
            unsafe { image::berth_image_id(&mut id, berth_image { id: rt2.id }) },
            berth_status::BERTH_ERR_INVALID_HANDLE
        );
        // Forged numbers are refused.
        for forged in [u64::MAX, 1, 0x0100_0000_0000_0000, rt2.id + 1] {
            // SAFETY: valid out pointer.
            assert_eq!(
                unsafe { runtime::berth_runtime_info(&mut out, berth_runtime { id: forged }) },
                berth_status::BERTH_ERR_INVALID_HANDLE
            );
        }
        assert_eq!(runtime::berth_runtime_close(rt2), berth_status::BERTH_OK);
    }
}

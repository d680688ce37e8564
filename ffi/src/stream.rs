//! Streams: long work read one item at a time with `berth_stream_next`. The C shims of
//! `api::stream`.

use crate::api::stream;
use crate::call::{c_string, call, out_arg, timeout_arg};
use crate::status::berth_status::{self, *};
use crate::types::berth_stream;

/// Reads the next item of a stream as a JSON document into `*out` (freed with
/// `berth_string_free`). Returns BERTH_OK with an item, BERTH_END (and `*out` NULL)
/// when the stream is done, or an error. `timeout_ms` < 0 waits as long as it takes;
/// on BERTH_ERR_TIMEOUT nothing came in time and the stream is still usable. An error
/// of the stream's work (a failed pull) is returned once, by the call that meets it;
/// the calls after it return BERTH_END. A call waiting while another thread closes
/// the stream returns BERTH_ERR_CANCELLED.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_stream_next(
    out: *mut *mut std::ffi::c_char,
    s: berth_stream,
    timeout_ms: i64,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = std::ptr::null_mut();
        match stream::next(s.into(), timeout_arg(timeout_ms)).wait()? {
            Some(json) => {
                *out = c_string(json);
                Ok(BERTH_OK)
            }
            None => Ok(BERTH_END),
        }
    })
}

/// For a walk stream: do not descend into the directory the last `berth_stream_next`
/// returned. Errors: INVALID_ARGUMENT for a stream that is not a walk.
#[no_mangle]
pub extern "C" fn berth_stream_skip_dir(s: berth_stream) -> berth_status {
    call(|| stream::skip_dir(s.into()).map(|()| BERTH_OK))
}

/// Closes a stream, cancelling its work (a pull stops; an event subscription ends). A
/// `berth_stream_next` waiting in another thread returns BERTH_ERR_CANCELLED.
#[no_mangle]
pub extern "C" fn berth_stream_close(s: berth_stream) -> berth_status {
    call(|| stream::close(s.into()).map(|()| BERTH_OK))
}

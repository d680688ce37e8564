//! The C ABI's string and JSON inputs (ffi/), with no daemon: `berth_runtime_open` with
//! a fuzzed scheme, query and options JSON on the sample image; `berth_fs_*` with fuzzed
//! paths; and every JSON option document (create, exec, logs, commit, resources, pods,
//! pull, push, filters, patterns) through the exported functions, which check their
//! arguments before the handle (docs/c-api.md), so a zero handle reaches no runtime.
//!
//! Input: sections (see `berth_fuzz::sections`):
//! 0. `SCHEME[?QUERY]`: the endpoint is `SCHEME://<sample>?QUERY`. Daemon schemes are
//!    replaced by `oci-archive` (the fuzzer must not connect to a daemon of the host);
//! 1. the options JSON of `berth_runtime_open` (empty: NULL);
//! 2. the image pattern (empty: `sample`);
//! 3. paths, one per line, asked of the image's filesystem;
//! 4. a JSON document given to every option parser.
//!
//! C strings end at the first NUL, as they would in C; bytes that are not UTF-8 stay
//! (the ABI must refuse them cleanly).
//!
//! Checks: no call returns BERTH_ERR_PANIC or BERTH_ERR_INTERNAL, and every call with a
//! zero handle fails with INVALID_ARGUMENT, NULL_ARGUMENT or INVALID_HANDLE.
#![no_main]

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use berth::*;
use berth_fuzz::sections;
use libfuzzer_sys::fuzz_target;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../sample/sample.oci.tar");
const DAEMON_SCHEMES: [&str; 5] = ["docker", "podman", "containerd", "cri", "registry"];
/// Items of a walk read, at most.
const MAX_WALK: usize = 200;

/// A C string of `bytes` up to the first NUL.
fn c(bytes: &[u8]) -> CString {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).expect("no NUL before the end")
}

fn message() -> String {
    // SAFETY: never NULL, NUL-terminated, valid until the next failure on this thread.
    unsafe { CStr::from_ptr(berth_last_error_message()) }.to_string_lossy().into_owned()
}

/// A status that a hostile input may produce (anything but a bug's).
fn sane(what: &str, status: berth_status) -> berth_status {
    assert!(
        status != berth_status::BERTH_ERR_PANIC && status != berth_status::BERTH_ERR_INTERNAL,
        "{what}: {status:?}: {}",
        message()
    );
    status
}

/// A call given a zero handle: its arguments are refused, or the handle is.
fn refused(what: &str, status: berth_status) {
    assert!(
        matches!(
            status,
            berth_status::BERTH_ERR_INVALID_ARGUMENT
                | berth_status::BERTH_ERR_NULL_ARGUMENT
                | berth_status::BERTH_ERR_INVALID_HANDLE
        ),
        "{what} with a zero handle: {status:?}: {}",
        message()
    );
}

fn free(s: *mut c_char) {
    // SAFETY: NULL or a string from berth, freed once.
    unsafe { berth_string_free(s) };
}

fuzz_target!(|data: &[u8]| {
    let parts = sections::split(data);
    let part = |i: usize| parts.get(i).copied().unwrap_or(&[]);
    options(part(4));
    let Some(rt) = open_runtime(part(0), part(1)) else { return };
    image(rt, part(2), part(3));
    sane("runtime close", berth_runtime_close(rt));
});

fn open_runtime(endpoint: &[u8], options: &[u8]) -> Option<berth_runtime> {
    let text = String::from_utf8_lossy(endpoint);
    let (scheme, query) = text.split_once('?').map_or((&*text, None), |(s, q)| (s, Some(q)));
    let scheme = if DAEMON_SCHEMES.contains(&scheme.trim()) { "oci-archive" } else { scheme };
    let mut url = format!("{scheme}://{SAMPLE}").into_bytes();
    if let Some(q) = query {
        url.push(b'?');
        url.extend_from_slice(q.as_bytes());
    }
    // Where the endpoint was valid UTF-8, keep its exact bytes (lossy conversion would
    // hide bad UTF-8 from the ABI's own check).
    if std::str::from_utf8(endpoint).is_err() {
        url = endpoint.to_vec();
    }
    let url = c(&url);
    let options = (!options.is_empty()).then(|| c(options));
    let mut rt = berth_runtime { id: 0 };
    let opts = options.as_ref().map_or(ptr::null(), |o| o.as_ptr());
    // SAFETY: valid out pointer and NUL-terminated strings.
    let status = sane("runtime open", unsafe { berth_runtime_open(&mut rt, url.as_ptr(), opts) });
    (status == berth_status::BERTH_OK).then_some(rt)
}

fn image(rt: berth_runtime, pattern: &[u8], paths: &[u8]) {
    let pattern = if pattern.is_empty() { c(b"sample") } else { c(pattern) };
    let mut list = ptr::null_mut();
    // SAFETY: valid out pointer and pattern.
    if sane("find images", unsafe { berth_runtime_find_images(&mut list, rt, pattern.as_ptr()) })
        == berth_status::BERTH_OK
    {
        free(list);
    }
    let mut image = berth_image { id: 0 };
    // SAFETY: valid out pointer and pattern.
    if sane("open image", unsafe { berth_runtime_open_image(&mut image, rt, pattern.as_ptr()) })
        != berth_status::BERTH_OK
    {
        return;
    }
    let mut fs = berth_fs { id: 0 };
    // SAFETY: valid out pointer.
    if sane("filesystem", unsafe { berth_image_filesystem(&mut fs, image) }) == berth_status::BERTH_OK {
        for line in paths.split(|&b| b == b'\n').take(16) {
            path(fs, &c(line));
        }
        sane("fs close", berth_fs_close(fs));
    }
    sane("image close", berth_image_close(image));
}

/// Every filesystem call on one path.
fn path(fs: berth_fs, p: &CString) {
    type Query = unsafe extern "C" fn(*mut *mut c_char, berth_fs, *const c_char) -> berth_status;
    let queries: [(&str, Query); 5] = [
        ("stat", berth_fs_stat),
        ("lstat", berth_fs_lstat),
        ("readlink", berth_fs_readlink),
        ("realpath", berth_fs_eval_symlink),
        ("read_dir", berth_fs_read_dir),
    ];
    for (what, query) in queries {
        let mut out = ptr::null_mut();
        // SAFETY: valid out pointer and path.
        if sane(what, unsafe { query(&mut out, fs, p.as_ptr()) }) == berth_status::BERTH_OK {
            assert!(!out.is_null(), "{what}: OK without a result");
            free(out);
        }
    }
    let mut bytes = berth_bytes { data: ptr::null_mut(), len: 0 };
    // The default limit (0) or a small one, by the path's length: both ways through it.
    let max_bytes = if p.as_bytes().len() % 2 == 0 { 0 } else { 100 };
    // SAFETY: valid out pointer and path; the bytes are freed once.
    unsafe {
        if sane("read_file", berth_fs_read_file(&mut bytes, fs, p.as_ptr(), max_bytes)) == berth_status::BERTH_OK {
            assert!(
                max_bytes == 0 || bytes.len <= max_bytes as usize,
                "read_file gave {} bytes over {max_bytes}",
                bytes.len
            );
            berth_bytes_free(bytes);
        }
    }
    let mut f = berth_file { id: 0 };
    // SAFETY: valid out pointer and path.
    if sane("open", unsafe { berth_fs_open(&mut f, fs, p.as_ptr()) }) == berth_status::BERTH_OK {
        let mut buf = [0u8; 4096];
        let mut n = 0usize;
        let mut pos = 0u64;
        // SAFETY: valid out pointers and a buffer of the length given.
        unsafe {
            sane("read", berth_file_read(&mut n, f, buf.as_mut_ptr(), buf.len()));
            sane("seek", berth_file_seek(&mut pos, f, -3, BERTH_SEEK_END));
            sane("read_at", berth_file_read_at(&mut n, f, buf.as_mut_ptr(), buf.len(), u64::MAX - 1));
        }
        sane("file close", berth_file_close(f));
    }
    let mut walk = berth_stream { id: 0 };
    // SAFETY: valid out pointer and root.
    if sane("walk", unsafe { berth_fs_walk(&mut walk, fs, p.as_ptr()) }) == berth_status::BERTH_OK {
        for _ in 0..MAX_WALK {
            let mut item = ptr::null_mut();
            // SAFETY: valid out pointer.
            let status = sane("walk next", unsafe { berth_stream_next(&mut item, walk, 1000) });
            if status != berth_status::BERTH_OK {
                break;
            }
            free(item);
        }
        sane("walk close", berth_stream_close(walk));
    }
}

/// The JSON option parsers, each behind an exported function given a zero handle.
fn options(doc: &[u8]) {
    let json = c(doc);
    let j = json.as_ptr();
    let name = c"x".as_ptr();
    let mut s = ptr::null_mut();
    let mut stream = berth_stream { id: 0 };
    let none = berth_runtime { id: 0 };
    let container = berth_container { id: 0 };
    // SAFETY: valid out pointers and NUL-terminated strings; a zero handle is refused.
    unsafe {
        refused("create_container", berth_runtime_create_container(&mut berth_container { id: 0 }, none, j));
        refused("create_pod", berth_runtime_create_pod(&mut berth_pod { id: 0 }, none, j));
        refused("list_containers", berth_runtime_list_containers(&mut s, none, j));
        refused("events", berth_runtime_events(&mut stream, none, j));
        refused("export_images", berth_runtime_export_images(none, j, name));
        refused("pull", berth_runtime_pull(&mut stream, none, name, j));
        refused("push", berth_runtime_push(&mut stream, none, name, j));
        refused("exec", berth_container_exec(&mut berth_exec { id: 0 }, container, j));
        let mut output = berth_exec_output {
            exit_code: 0,
            stdout_data: berth_bytes { data: ptr::null_mut(), len: 0 },
            stderr_data: berth_bytes { data: ptr::null_mut(), len: 0 },
        };
        refused("exec_output", berth_container_exec_output(&mut output, container, j, ptr::null(), 0, 0));
        refused("logs", berth_container_logs(&mut stream, container, j));
        refused("commit", berth_container_commit(&mut s, container, j));
        refused("update_resources", berth_container_update_resources(container, j));
    }
}

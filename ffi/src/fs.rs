//! Filesystems and files. The C shims of `api::fs` and `api::file`.

use std::ffi::c_char;

use crate::api::{file, fs as filesystem};
use crate::call::{c_string, call, json_out, out_arg, str_arg};
use crate::failure::{Failure, Outcome};
use crate::status::berth_status::{self, *};
use crate::types::{berth_bytes, berth_file, berth_fs, berth_stream};

/// `whence` for `berth_file_seek`: from the start of the file.
pub const BERTH_SEEK_SET: i32 = 0;
/// `whence` for `berth_file_seek`: from the current position.
pub const BERTH_SEEK_CUR: i32 = 1;
/// `whence` for `berth_file_seek`: from the end of the file.
pub const BERTH_SEEK_END: i32 = 2;

/// Runs a filesystem query on `path` and hands its JSON result to C.
///
/// # Safety
/// `out` points to writable storage; `path` is NUL-terminated.
unsafe fn fs_query<T: serde::Serialize>(
    out: *mut *mut c_char,
    fs: berth_fs,
    path: *const c_char,
    query: impl FnOnce(crate::api::Handle<filesystem::Fs>, &str) -> Outcome<T>,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from the caller's contract.
        let path = unsafe { str_arg(path, "path") }?;
        *out = json_out(&query(fs.into(), path)?)?;
        Ok(BERTH_OK)
    })
}

/// Closes a filesystem handle. Files opened from it stay valid until closed.
#[no_mangle]
pub extern "C" fn berth_fs_close(fs: berth_fs) -> berth_status {
    call(|| filesystem::close(fs.into()).map(|()| BERTH_OK))
}

/// The metadata of `path`, following a final symlink, as JSON `{"type", "mode", "uid",
/// "gid", "size", "mtime", "mtime_nsec", "link", "dev_major", "dev_minor", "xattrs"}`
/// (schema: docs/schemas.md). Paths resolve inside the root: `..` stops at `/`,
/// absolute links restart at the root, loops fail after 40 links with BERTH_ERR_IO.
/// The caller frees `*out` with `berth_string_free`.
///
/// Errors: NOT_FOUND, INVALID_ARGUMENT (a non-directory in the path, bad UTF-8), IO.
///
/// # Safety
/// `out` points to writable storage; `path` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_fs_stat(out: *mut *mut c_char, fs: berth_fs, path: *const c_char) -> berth_status {
    // SAFETY: forwarded contract.
    unsafe { fs_query(out, fs, path, filesystem::stat) }
}

/// Like `berth_fs_stat`, but describes a final symlink itself.
///
/// # Safety
/// As `berth_fs_stat`.
#[no_mangle]
pub unsafe extern "C" fn berth_fs_lstat(out: *mut *mut c_char, fs: berth_fs, path: *const c_char) -> berth_status {
    // SAFETY: forwarded contract.
    unsafe { fs_query(out, fs, path, filesystem::lstat) }
}

/// The target of the symlink at `path`, as stored (a plain string, not JSON). The
/// caller frees `*out` with `berth_string_free`.
///
/// Errors: NOT_FOUND, INVALID_ARGUMENT (not a symlink).
///
/// # Safety
/// `out` points to writable storage; `path` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_fs_readlink(out: *mut *mut c_char, fs: berth_fs, path: *const c_char) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded contract.
        let path = unsafe { str_arg(path, "path") }?;
        *out = c_string(filesystem::readlink(fs.into(), path)?);
        Ok(BERTH_OK)
    })
}

/// The absolute path inside the root that `path` resolves to, every symlink followed
/// (a plain string, like realpath(3)). The caller frees `*out` with `berth_string_free`.
///
/// # Safety
/// `out` points to writable storage; `path` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_fs_eval_symlink(
    out: *mut *mut c_char,
    fs: berth_fs,
    path: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded contract.
        let path = unsafe { str_arg(path, "path") }?;
        *out = c_string(filesystem::eval_symlink(fs.into(), path)?);
        Ok(BERTH_OK)
    })
}

/// The entries of the directory at `path` as a JSON array, sorted by name, each
/// `{"name", "type", "mode", ...}` (the entry's own metadata). The caller frees `*out`
/// with `berth_string_free`.
///
/// # Safety
/// `out` points to writable storage; `path` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_fs_read_dir(out: *mut *mut c_char, fs: berth_fs, path: *const c_char) -> berth_status {
    // SAFETY: forwarded contract.
    unsafe { fs_query(out, fs, path, filesystem::read_dir) }
}

/// What `berth_fs_read_file` reads at most when its `max_bytes` is 0: 64 MiB. Bigger
/// files are streamed with `berth_fs_open`.
pub const BERTH_READ_FILE_DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Reads the whole regular file at `path` into `*out`, freed with `berth_bytes_free`.
/// Meant for small files: a file larger than `max_bytes` (0: the default,
/// `BERTH_READ_FILE_DEFAULT_MAX_BYTES`) is refused before any of it is read, and no more
/// than `max_bytes` are ever held, even if the file grows while it is read. Stream
/// larger files with `berth_fs_open`.
///
/// Errors: NOT_FOUND, INVALID_ARGUMENT (a directory or a special file, bad UTF-8, or a
/// file over `max_bytes`: the message gives its size and the limit), IO.
///
/// # Safety
/// `out` points to writable storage; `path` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_fs_read_file(
    out: *mut berth_bytes,
    fs: berth_fs,
    path: *const c_char,
    max_bytes: u64,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = berth_bytes::EMPTY;
        // SAFETY: forwarded contract.
        let path = unsafe { str_arg(path, "path") }?;
        *out = berth_bytes::from_vec(filesystem::read_file(fs.into(), path, max_bytes)?);
        Ok(BERTH_OK)
    })
}

/// Opens the regular file at `path` (following symlinks) for reading. Closed with
/// `berth_file_close`.
///
/// Errors: NOT_FOUND, INVALID_ARGUMENT (a directory or a special file).
///
/// # Safety
/// `out` points to writable storage; `path` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_fs_open(out: *mut berth_file, fs: berth_fs, path: *const c_char) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded contract.
        let path = unsafe { str_arg(path, "path") }?;
        *out = filesystem::open(fs.into(), path)?.into();
        Ok(BERTH_OK)
    })
}

/// Walks the tree below `root` (root first, then each directory's entries in name
/// order, depth first; symlinks below the root are not followed). Read the entries with
/// `berth_stream_next` (JSON like `berth_fs_lstat`, plus `"path"`), skip a directory's
/// contents with `berth_stream_skip_dir`, close with `berth_stream_close`.
///
/// # Safety
/// `out` points to writable storage; `root` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_fs_walk(out: *mut berth_stream, fs: berth_fs, root: *const c_char) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded contract.
        let root = unsafe { str_arg(root, "root") }?;
        *out = filesystem::walk(fs.into(), root)?.into();
        Ok(BERTH_OK)
    })
}

/// Closes a file handle.
#[no_mangle]
pub extern "C" fn berth_file_close(f: berth_file) -> berth_status {
    call(|| file::close(f.into()).map(|()| BERTH_OK))
}

/// A NULL buffer with a length is refused whatever the file's position: the check
/// comes before the length is clamped to what the file holds.
fn check_buf(buf: *mut u8, len: usize) -> Outcome<()> {
    if buf.is_null() && len > 0 {
        return Err(Failure::null("buf"));
    }
    Ok(())
}

/// # Safety
/// `buf` points to at least `len` writable bytes (callers check NULL first).
unsafe fn buffer<'a>(buf: *mut u8, len: usize) -> &'a mut [u8] {
    if len == 0 {
        return &mut [];
    }
    // SAFETY: per the contract, `buf` has `len` writable bytes; the safe layer clamps
    // `len` to the file's remaining size first.
    unsafe { std::slice::from_raw_parts_mut(buf, len) }
}

/// Reads up to `len` bytes at the file's position into `buf`, advancing it; `*out` is
/// the number read, 0 at the end of the file.
///
/// # Safety
/// `out` points to writable storage; `buf` to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn berth_file_read(out: *mut usize, f: berth_file, buf: *mut u8, len: usize) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = 0;
        check_buf(buf, len)?;
        // SAFETY: forwarded contract; the safe layer asks for at most `len` bytes.
        *out = file::read(f.into(), len, |n| unsafe { buffer(buf, n) })?;
        Ok(BERTH_OK)
    })
}

/// Reads up to `len` bytes at `offset` into `buf` without moving the file's position;
/// `*out` is the number read, 0 at or past the end.
///
/// # Safety
/// `out` points to writable storage; `buf` to `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn berth_file_read_at(
    out: *mut usize,
    f: berth_file,
    buf: *mut u8,
    len: usize,
    offset: u64,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = 0;
        check_buf(buf, len)?;
        // SAFETY: forwarded contract; the safe layer asks for at most `len` bytes.
        *out = file::read_at(f.into(), len, offset, |n| unsafe { buffer(buf, n) })?;
        Ok(BERTH_OK)
    })
}

/// Moves the file's position (`whence`: BERTH_SEEK_SET, _CUR or _END) and sets `*out` to
/// the new position. Past the end is allowed (reads there return 0); before the start
/// is INVALID_ARGUMENT.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_file_seek(out: *mut u64, f: berth_file, offset: i64, whence: i32) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        let to = file::seek_from(offset, whence)?;
        *out = file::seek(f.into(), to)?;
        Ok(BERTH_OK)
    })
}

/// The open file's metadata as JSON (like `berth_fs_stat`, plus `"path"`). The caller
/// frees `*out` with `berth_string_free`.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_file_stat(out: *mut *mut c_char, f: berth_file) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = json_out(&file::stat(f.into())?)?;
        Ok(BERTH_OK)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_read_limit_is_the_safe_layers() {
        assert_eq!(BERTH_READ_FILE_DEFAULT_MAX_BYTES, filesystem::READ_FILE_DEFAULT_MAX_BYTES);
    }

    #[test]
    fn seek_whences_are_the_safe_layers() {
        use std::io::SeekFrom;
        let pairs = [
            (BERTH_SEEK_SET, SeekFrom::Start(3)),
            (BERTH_SEEK_CUR, SeekFrom::Current(3)),
            (BERTH_SEEK_END, SeekFrom::End(3)),
        ];
        for (whence, want) in pairs {
            assert_eq!(file::seek_from(3, whence).ok(), Some(want));
        }
    }
}

//! Filesystems and files.

use std::ffi::c_char;
use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};

use berth_core::fs::{File, FileSystem, Walker};
use serde_json::Value;

use crate::call::{c_string, call, json_out, out_arg, str_arg, Failure, Outcome};
use crate::handle::{self, Kind, Object};
use crate::status::berth_status::{self, *};
use crate::stream::{Stream, WalkSource};
use crate::types::{berth_bytes, berth_file, berth_fs, berth_stream};

/// `whence` for `berth_file_seek`: from the start of the file.
pub const BERTH_SEEK_SET: i32 = 0;
/// `whence` for `berth_file_seek`: from the current position.
pub const BERTH_SEEK_CUR: i32 = 1;
/// `whence` for `berth_file_seek`: from the end of the file.
pub const BERTH_SEEK_END: i32 = 2;

fn filesystem(h: berth_fs) -> Outcome<Arc<dyn FileSystem>> {
    match handle::get(h.id, Kind::Fs)? {
        Object::Fs(f) => Ok(f),
        _ => unreachable!("the table checks kinds"),
    }
}

fn file(h: berth_file) -> Outcome<Arc<Mutex<File>>> {
    match handle::get(h.id, Kind::File)? {
        Object::File(f) => Ok(f),
        _ => unreachable!("the table checks kinds"),
    }
}

fn lock(f: &Mutex<File>) -> std::sync::MutexGuard<'_, File> {
    f.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs a filesystem query on `path` and hands its JSON result to C.
///
/// # Safety
/// `out` points to writable storage; `path` is NUL-terminated.
unsafe fn fs_query<T: serde::Serialize>(
    out: *mut *mut c_char,
    fs: berth_fs,
    path: *const c_char,
    query: impl FnOnce(&dyn FileSystem, &str) -> berth_core::Result<T>,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from the caller's contract.
        let path = unsafe { str_arg(path, "path") }?;
        let fs = filesystem(fs)?;
        *out = json_out(&query(&*fs, path)?)?;
        Ok(BERTH_OK)
    })
}

/// Closes a filesystem handle. Files opened from it stay valid until closed.
#[no_mangle]
pub extern "C" fn berth_fs_close(fs: berth_fs) -> berth_status {
    call(|| handle::remove(fs.id, Kind::Fs).map(|()| BERTH_OK))
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
    unsafe { fs_query(out, fs, path, |fs, p| fs.stat(p)) }
}

/// Like `berth_fs_stat`, but describes a final symlink itself.
///
/// # Safety
/// As `berth_fs_stat`.
#[no_mangle]
pub unsafe extern "C" fn berth_fs_lstat(out: *mut *mut c_char, fs: berth_fs, path: *const c_char) -> berth_status {
    // SAFETY: forwarded contract.
    unsafe { fs_query(out, fs, path, |fs, p| fs.lstat(p)) }
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
        *out = c_string(filesystem(fs)?.readlink(path)?);
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
        *out = c_string(filesystem(fs)?.eval_symlink(path)?);
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
    unsafe { fs_query(out, fs, path, |fs, p| fs.read_dir(p)) }
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
        let limit = if max_bytes == 0 { BERTH_READ_FILE_DEFAULT_MAX_BYTES } else { max_bytes };
        let f = filesystem(fs)?.open(path)?;
        *out = berth_bytes::from_vec(read_whole(f, limit)?);
        Ok(BERTH_OK)
    })
}

/// All of `f`, at most `limit` bytes. INVALID_ARGUMENT rather than CORRUPT or IO: the
/// file is fine, the caller asked to hold more of it in memory than it allowed.
fn read_whole(mut f: File, limit: u64) -> Outcome<Vec<u8>> {
    // Checked before any byte is read, from the size the image records.
    if f.len() > limit {
        return Err(Failure::new(
            BERTH_ERR_INVALID_ARGUMENT,
            format!(
                "read {}: the file is {} bytes, over the limit of {limit} bytes for reading a whole file \
                 (max_bytes; 0 means {BERTH_READ_FILE_DEFAULT_MAX_BYTES}); stream it with berth_fs_open",
                f.path(),
                f.len()
            ),
        ));
    }
    let mut data = Vec::new();
    data.try_reserve_exact(f.len() as usize).map_err(|_| {
        Failure::new(BERTH_ERR_IO, format!("read {}: cannot hold its {} bytes in memory", f.path(), f.len()))
    })?;
    // `take`: a file whose content outgrew its recorded size still gives no more.
    (&mut f).take(limit).read_to_end(&mut data).map_err(|e| berth_core::Error::io(format!("read {}", f.path()), e))?;
    Ok(data)
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
        let f = filesystem(fs)?.open(path)?;
        out.id = handle::insert(Object::File(Arc::new(Mutex::new(f))))?;
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
        let walker = Walker::new(filesystem(fs)?, root);
        out.id = handle::insert(Object::Stream(Stream::new(Box::new(WalkSource(walker)))))?;
        Ok(BERTH_OK)
    })
}

/// Closes a file handle.
#[no_mangle]
pub extern "C" fn berth_file_close(f: berth_file) -> berth_status {
    call(|| handle::remove(f.id, Kind::File).map(|()| BERTH_OK))
}

/// The number of bytes a read of `len` may fill at `offset` of a file of `size`: never
/// more than the file holds, so no slice is made larger than the data.
fn clamp(len: usize, offset: u64, size: u64) -> usize {
    (len as u64).min(size.saturating_sub(offset)) as usize
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
unsafe fn buffer<'a>(buf: *mut u8, len: usize) -> Outcome<&'a mut [u8]> {
    if len == 0 {
        return Ok(&mut []);
    }
    // SAFETY: per the contract, `buf` has `len` writable bytes; callers clamp `len` to
    // the file's remaining size first.
    Ok(unsafe { std::slice::from_raw_parts_mut(buf, len) })
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
        let f = file(f)?;
        let mut f = lock(&f);
        let pos = f.stream_position().map_err(|e| berth_core::Error::io("read", e))?;
        let n = clamp(len, pos, f.len());
        // SAFETY: forwarded contract; `n <= len`.
        let buf = unsafe { buffer(buf, n) }?;
        *out = f.read(buf).map_err(|e| berth_core::Error::io(format!("read {}", f.path()), e))?;
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
        let f = file(f)?;
        let f = lock(&f);
        let n = clamp(len, offset, f.len());
        // SAFETY: forwarded contract; `n <= len`.
        let buf = unsafe { buffer(buf, n) }?;
        *out = f.read_at(buf, offset)?;
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
        let to = match whence {
            BERTH_SEEK_SET if offset >= 0 => SeekFrom::Start(offset as u64),
            BERTH_SEEK_SET => {
                return Err(Failure::new(BERTH_ERR_INVALID_ARGUMENT, "seek: negative offset from the start"))
            }
            BERTH_SEEK_CUR => SeekFrom::Current(offset),
            BERTH_SEEK_END => SeekFrom::End(offset),
            other => return Err(Failure::new(BERTH_ERR_INVALID_ARGUMENT, format!("seek: unknown whence {other}"))),
        };
        let f = file(f)?;
        *out = lock(&f).seek(to).map_err(|e| berth_core::Error::io("seek", e))?;
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
        let f = file(f)?;
        let f = lock(&f);
        let mut v: Value =
            serde_json::to_value(f.stat()).map_err(|e| Failure::new(BERTH_ERR_INTERNAL, e.to_string()))?;
        v["path"] = Value::from(f.path());
        *out = json_out(&v)?;
        Ok(BERTH_OK)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_core::fs::{FileContent, FileType, Stat};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Content that fills every buffer it is given (a file that outgrew the size its
    /// stat recorded) and counts the reads.
    struct Endless(AtomicUsize);

    impl FileContent for Endless {
        fn read_at(&self, buf: &mut [u8], _offset: u64) -> berth_core::Result<usize> {
            self.0.fetch_add(1, Ordering::Relaxed);
            buf.fill(b'x');
            Ok(buf.len())
        }
    }

    fn file(size: u64, content: Arc<Endless>) -> File {
        let stat = Stat {
            file_type: FileType::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size,
            mtime: 0,
            mtime_nsec: 0,
            link: None,
            dev_major: 0,
            dev_minor: 0,
            xattrs: Default::default(),
        };
        File::new("/f".into(), stat, content)
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_any_read() {
        let content = Arc::new(Endless(AtomicUsize::new(0)));
        let f = read_whole(file(1 << 40, content.clone()), 1000).expect_err("refused");
        assert_eq!(f.status, BERTH_ERR_INVALID_ARGUMENT);
        assert!(f.message.contains("the file is 1099511627776 bytes, over the limit of 1000 bytes"), "{}", f.message);
        assert!(f.message.contains("berth_fs_open"), "{}", f.message);
        assert_eq!(content.0.load(Ordering::Relaxed), 0, "nothing read before the check");
    }

    #[test]
    fn no_more_than_the_limit_is_read_when_the_file_grew() {
        let content = Arc::new(Endless(AtomicUsize::new(0)));
        let data = read_whole(file(5, content), 8).unwrap_or_else(|f| panic!("{}", f.message));
        assert!(data.len() <= 8, "{} bytes held for a limit of 8", data.len());
        assert!(data.len() >= 5);
    }
}

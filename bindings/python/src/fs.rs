//! The FileSystem class and the raw file under `berth.File` (`api::fs`, `api::file`).
//!
//! The shapes Python expects (`os.stat_result`-like stats, `os.DirEntry`-like entries,
//! `os.walk`, `io.RawIOBase` files) are built by `berth._shapes` from what these calls
//! return.

use berth::api::{self, file, fs, Outcome};
use pyo3::exceptions::{PyBufferError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PySlice};

use crate::call::{self, text_arg};
use crate::handle::{handle_class, Handle};
use crate::stream::{Items, Stream};

/// A read-only filesystem: an image's, a layer's or a container's. Paths are absolute
/// inside it; symlinks resolve inside it, never out of it.
#[pyclass(module = "berth", frozen)]
pub struct FileSystem {
    handle: Handle<fs::Fs>,
}

handle_class!(FileSystem, api::fs::close);

impl FileSystem {
    pub fn new(raw: api::Handle<fs::Fs>) -> FileSystem {
        FileSystem { handle: Handle::new(raw) }
    }

    /// A query of `path` as Python objects (through JSON), off the GIL.
    fn json_at<T: serde::Serialize>(
        &self,
        py: Python<'_>,
        path: &str,
        query: fn(api::Handle<fs::Fs>, &str) -> Outcome<T>,
    ) -> PyResult<Py<PyAny>> {
        let path = text_arg(path)?;
        call::json(py, || query(self.handle.raw(), path))
    }

    /// A query of `path` that gives a string, off the GIL.
    fn string_at(
        &self,
        py: Python<'_>,
        path: &str,
        query: fn(api::Handle<fs::Fs>, &str) -> Outcome<String>,
    ) -> PyResult<String> {
        let path = text_arg(path)?;
        call::detached(py, || query(self.handle.raw(), path))
    }
}

/// `max_bytes` of `api::fs::read_file` for a Python `limit`: None is 0 (the library's
/// default); a Python 0 would mean "nothing", which no read wants, so it is refused
/// with the negatives rather than turned into the default.
fn limit_arg(limit: Option<i64>) -> PyResult<u64> {
    match limit {
        None => Ok(0),
        Some(n) if n > 0 => Ok(n as u64),
        Some(n) => Err(PyValueError::new_err(format!(
            "limit must be a positive number of bytes, or None for the default (got {n})"
        ))),
    }
}

/// `berth._shapes.StatResult` of a stat document.
pub fn stat_result(py: Python<'_>, doc: Py<PyAny>) -> PyResult<Py<PyAny>> {
    static STAT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    Ok(call::shape(py, &STAT, "StatResult")?.call1((doc,))?.unbind())
}

#[pymethods]
impl FileSystem {
    /// The metadata of `path`, symlinks followed (a StatResult).
    fn stat(&self, py: Python<'_>, path: &str) -> PyResult<Py<PyAny>> {
        let doc = self.json_at(py, path, api::fs::stat)?;
        stat_result(py, doc)
    }

    /// The metadata of `path` itself, a symlink not followed.
    fn lstat(&self, py: Python<'_>, path: &str) -> PyResult<Py<PyAny>> {
        let doc = self.json_at(py, path, api::fs::lstat)?;
        stat_result(py, doc)
    }

    /// A symlink's target, as stored.
    fn readlink(&self, py: Python<'_>, path: &str) -> PyResult<String> {
        self.string_at(py, path, api::fs::readlink)
    }

    /// Where `path` resolves, every symlink followed inside this filesystem.
    fn realpath(&self, py: Python<'_>, path: &str) -> PyResult<String> {
        self.string_at(py, path, api::fs::eval_symlink)
    }

    /// The entries of directory `path` in name order, as DirEntry objects (like
    /// `os.scandir`).
    #[pyo3(signature = (path="/"))]
    fn scandir(slf: &Bound<'_, Self>, path: &str) -> PyResult<Py<PyAny>> {
        static ENTRY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let py = slf.py();
        let docs = slf.get().json_at(py, path, api::fs::read_dir)?;
        let entry = call::shape(py, &ENTRY, "DirEntry")?;
        let entries = PyList::empty(py);
        for doc in docs.bind(py).try_iter()? {
            entries.append(entry.call1((slf, path, doc?))?)?;
        }
        Ok(entries.try_iter()?.into_any().unbind())
    }

    /// The names in directory `path`, in name order (like `os.listdir`).
    #[pyo3(signature = (path="/"))]
    fn listdir(&self, py: Python<'_>, path: &str) -> PyResult<Py<PyList>> {
        let docs = self.json_at(py, path, api::fs::read_dir)?;
        let names = PyList::empty(py);
        for doc in docs.bind(py).try_iter()? {
            names.append(doc?.get_item("name")?)?;
        }
        Ok(names.unbind())
    }

    /// The whole regular file at `path` (symlinks followed), at most `limit` bytes
    /// (None: the library's default, 64 MiB): a bigger file raises InvalidArgumentError
    /// before any of it is read. For big files, `open()`.
    #[pyo3(signature = (path, limit=None))]
    fn read_bytes(&self, py: Python<'_>, path: &str, limit: Option<i64>) -> PyResult<Py<PyAny>> {
        let (max_bytes, path) = (limit_arg(limit)?, text_arg(path)?);
        let data = call::detached(py, || api::fs::read_file(self.handle.raw(), path, max_bytes))?;
        Ok(call::py_bytes(py, &data))
    }

    /// The file at `path`, decoded; `limit` as for `read_bytes`.
    #[pyo3(signature = (path, encoding="utf-8", errors="strict", limit=None))]
    fn read_text(
        &self,
        py: Python<'_>,
        path: &str,
        encoding: &str,
        errors: &str,
        limit: Option<i64>,
    ) -> PyResult<Py<PyAny>> {
        let data = self.read_bytes(py, path, limit)?;
        Ok(data.bind(py).call_method1("decode", (encoding, errors))?.unbind())
    }

    /// Opens the regular file at `path` for reading, like `open(path, "rb",
    /// buffering)`: an `io.BufferedReader` over a `berth.File`, or with `buffering=0`
    /// the `berth.File` itself (an `io.RawIOBase`).
    #[pyo3(signature = (path, buffering=-1))]
    fn open(&self, py: Python<'_>, path: &str, buffering: i64) -> PyResult<Py<PyAny>> {
        static OPEN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let checked = text_arg(path)?;
        let f = call::detached(py, || api::fs::open(self.handle.raw(), checked))?;
        let raw = RawFile { handle: Handle::new(f) };
        Ok(call::shape(py, &OPEN, "open_file")?.call1((raw, path, buffering))?.unbind())
    }

    /// Walks the tree below `top` like `os.walk`: `(dirpath, dirnames, filenames)` for
    /// each directory; top-down, removing names from `dirnames` prunes the walk.
    /// Symlinks are listed, never followed. `onerror` gets the exception of a
    /// directory that cannot be read (ignored when None).
    #[pyo3(signature = (top="/", topdown=true, onerror=None))]
    fn walk(slf: &Bound<'_, Self>, top: &str, topdown: bool, onerror: Option<Py<PyAny>>) -> PyResult<Py<PyAny>> {
        static WALK: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        Ok(call::shape(slf.py(), &WALK, "walk")?.call1((slf, top, topdown, onerror))?.unbind())
    }

    /// Every entry below `root` (itself first, then each directory's entries in name
    /// order, depth first), as a Stream of `(path, StatResult)`. One library call walks
    /// the whole tree; `Stream.skip_dir()` skips the directory just returned.
    #[pyo3(signature = (root="/"))]
    fn scan(&self, py: Python<'_>, root: &str) -> PyResult<Stream> {
        let root = text_arg(root)?;
        let s = call::detached(py, || api::fs::walk(self.handle.raw(), root))?;
        Ok(Stream::new(s, Items::Walk))
    }
}

/// An open file: the handle under `berth.File`, which is the `io.RawIOBase`.
#[pyclass(module = "berth._native", frozen)]
pub struct RawFile {
    handle: Handle<file::File>,
}

handle_class!(RawFile, api::file::close);

#[pymethods]
impl RawFile {
    /// Reads into `buffer` (a writable, contiguous buffer) at the file position; returns
    /// the number of bytes read, 0 at the end of the file.
    fn readinto(&self, py: Python<'_>, buffer: &Bound<'_, PyAny>) -> PyResult<usize> {
        let view = pyo3::buffer::PyUntypedBuffer::get(buffer)?;
        if view.readonly() {
            return Err(PyBufferError::new_err("readinto() needs a writable buffer"));
        }
        if !view.is_c_contiguous() {
            return Err(PyBufferError::new_err("readinto() needs a contiguous buffer"));
        }
        let len = view.len_bytes();
        view.release(py);
        // Read off the GIL into memory of our own, then copy into the caller's buffer
        // with the GIL held: no pointer into Python memory crosses into the library.
        let h = self.handle.raw();
        let data = call::detached(py, || {
            let mut data = Vec::new();
            let n = api::file::read(h, len, |n| {
                data.resize(n, 0);
                &mut data[..]
            })?;
            data.truncate(n);
            Ok(data)
        })?;
        if !data.is_empty() {
            buffer.set_item(PySlice::new(py, 0, data.len() as isize, 1), call::py_bytes(py, &data))?;
        }
        Ok(data.len())
    }

    /// Reads up to `size` bytes at `offset`, without moving the position.
    fn pread(&self, py: Python<'_>, size: usize, offset: u64) -> PyResult<Py<PyAny>> {
        let h = self.handle.raw();
        let data = call::detached(py, || {
            let mut data = Vec::new();
            let n = api::file::read_at(h, size, offset, |n| {
                data.resize(n, 0);
                &mut data[..]
            })?;
            data.truncate(n);
            Ok(data)
        })?;
        Ok(call::py_bytes(py, &data))
    }

    /// Moves the position (`whence` as for `os.lseek`); returns the new position.
    #[pyo3(signature = (offset, whence=0))]
    fn seek(&self, py: Python<'_>, offset: i64, whence: i32) -> PyResult<u64> {
        let to = api::file::seek_from(offset, whence).map_err(|f| call::py_err(py, f))?;
        call::detached(py, || api::file::seek(self.handle.raw(), to))
    }

    /// The file's metadata (a StatResult; `path` set).
    fn stat(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let doc = call::json(py, || api::file::stat(self.handle.raw()))?;
        stat_result(py, doc)
    }
}

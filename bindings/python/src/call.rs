//! How every method calls libberth: off the GIL, with the status turned into the
//! exception class of its kind and the library's own message.
//!
//! A call runs in `Python::detach`, so other Python threads run while it blocks. The
//! C ABI keeps the last error per OS thread; `detach` runs the closure on the calling
//! thread, and the message is read inside the closure, right after the call, so no
//! other call can overwrite it first.

use std::ffi::{c_char, CStr, CString};

use berth::{berth_bytes, berth_bytes_free, berth_last_error_message, berth_status, berth_string_free};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

/// A failed call: its status and the library's message.
pub struct Failure {
    status: i32,
    message: String,
}

impl Failure {
    /// The failure the library recorded on this thread for `status`.
    fn last(status: berth_status) -> Failure {
        // SAFETY: never NULL, NUL-terminated, valid until the next failing call on this
        // thread, and copied at once.
        let message = unsafe { CStr::from_ptr(berth_last_error_message()) }.to_string_lossy().into_owned();
        Failure { status: status as i32, message }
    }

    /// The exception: `berth._errors.error_for(status, message)` picks the class.
    pub fn into_pyerr(self, py: Python<'_>) -> PyErr {
        static ERROR_FOR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        match ERROR_FOR.import(py, "berth._errors", "error_for").and_then(|f| f.call1((self.status, self.message))) {
            Ok(exc) => PyErr::from_value(exc),
            Err(e) => e,
        }
    }
}

pub type Outcome<T> = Result<T, Failure>;

/// Turns a status into Ok (`BERTH_OK`, `BERTH_END`) or the recorded failure.
pub fn check(status: berth_status) -> Outcome<berth_status> {
    if (status as i32) < 0 {
        Err(Failure::last(status))
    } else {
        Ok(status)
    }
}

/// Runs `body` without the GIL and raises its failure.
pub fn detached<T: Send>(py: Python<'_>, body: impl FnOnce() -> Outcome<T> + Send) -> PyResult<T> {
    py.detach(body).map_err(|f| f.into_pyerr(py))
}

/// Runs one status-returning call without the GIL.
pub fn status(py: Python<'_>, call: impl FnOnce() -> berth_status + Send) -> PyResult<berth_status> {
    detached(py, || check(call()))
}

/// Runs a call that returns a string through `out`; the string is copied and freed.
pub fn string(py: Python<'_>, call: impl FnOnce(&mut *mut c_char) -> berth_status + Send) -> PyResult<String> {
    detached(py, || {
        let mut out: *mut c_char = std::ptr::null_mut();
        check(call(&mut out))?;
        Ok(take_string(out))
    })
}

/// Like `string`, then parses the JSON document into Python objects.
pub fn json(py: Python<'_>, call: impl FnOnce(&mut *mut c_char) -> berth_status + Send) -> PyResult<Py<PyAny>> {
    let text = string(py, call)?;
    parse_json(py, &text)
}

/// Copies and frees a string the library returned (NULL is "").
pub fn take_string(p: *mut c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: a NUL-terminated string from berth, freed right after the copy.
    let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    unsafe { berth_string_free(p) };
    s
}

/// Copies and frees bytes the library returned.
pub fn take_bytes(b: berth_bytes) -> Vec<u8> {
    let v = copy_bytes(&b);
    // SAFETY: bytes from berth, not yet freed.
    unsafe { berth_bytes_free(b) };
    v
}

/// Copies bytes the library returned (the caller frees them).
pub fn copy_bytes(b: &berth_bytes) -> Vec<u8> {
    if b.data.is_null() || b.len == 0 {
        return Vec::new();
    }
    // SAFETY: `len` readable bytes at `data`, from berth, not yet freed.
    unsafe { std::slice::from_raw_parts(b.data, b.len) }.to_vec()
}

/// `json.loads`: the documents are small and Python's parser builds the objects fastest.
pub fn parse_json(py: Python<'_>, text: &str) -> PyResult<Py<PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    Ok(LOADS.import(py, "json", "loads")?.call1((PyString::new(py, text),))?.unbind())
}

/// `json.dumps` of keyword options; None when there are none (the C default).
pub fn options_json(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Option<CString>> {
    match options {
        Some(o) if !o.is_empty() => Ok(Some(dumps(py, o.as_any())?)),
        _ => Ok(None),
    }
}

/// `json.dumps` of the keyword options with one more field (`image`, `args`) set; the
/// caller's dict is left as it was.
pub fn options_with<'py>(
    py: Python<'py>,
    options: Option<&Bound<'py, PyDict>>,
    key: &str,
    value: impl IntoPyObject<'py>,
) -> PyResult<CString> {
    let doc = match options {
        Some(o) => o.copy()?,
        None => PyDict::new(py),
    };
    doc.set_item(key, value)?;
    dumps(py, doc.as_any())
}

/// `json.dumps` of keyword options for a call that needs an object, even an empty one.
pub fn object_json(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<CString> {
    Ok(options_json(py, options)?.unwrap_or_else(|| c"{}".to_owned()))
}

/// A list of strings from one string (one item, not its characters) or an iterable.
pub fn string_list<'py>(py: Python<'py>, items: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
    if items.is_instance_of::<PyString>() {
        return PyList::new(py, [items]);
    }
    PyList::new(py, items.try_iter()?.collect::<PyResult<Vec<_>>>()?)
}

/// A filesystem path (str or os.PathLike) as a C string.
pub fn path_arg(path: &std::path::Path) -> PyResult<CString> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).map_err(|_| PyValueError::new_err("embedded null byte"))
}

/// `json.dumps` of any value, as a C string.
pub fn dumps(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<CString> {
    static DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let text: String = DUMPS.import(py, "json", "dumps")?.call1((value,))?.extract()?;
    c_string(&text)
}

/// A Python str as a C string; an embedded NUL is a ValueError, as for `open()`.
pub fn c_string(s: &str) -> PyResult<CString> {
    CString::new(s).map_err(|_| PyValueError::new_err("embedded null character"))
}

/// The pointer of an optional C string (NULL for None).
pub fn opt_ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr())
}

/// Seconds (a Python float, None = no limit) as the C ABI's milliseconds (< 0 = no limit).
pub fn timeout_ms(seconds: Option<f64>) -> PyResult<i64> {
    match seconds {
        None => Ok(-1),
        Some(s) if s.is_nan() || s < 0.0 => {
            Err(PyValueError::new_err("timeout must be a non-negative number of seconds"))
        }
        Some(s) => Ok((s * 1000.0).round().min(i64::MAX as f64) as i64),
    }
}

/// Seconds as an unsigned millisecond count (a grace period).
pub fn grace_ms(seconds: f64) -> PyResult<u32> {
    if seconds.is_nan() || seconds < 0.0 {
        return Err(PyValueError::new_err("timeout must be a non-negative number of seconds"));
    }
    Ok((seconds * 1000.0).round().min(u32::MAX as f64) as u32)
}

/// Bytes for Python.
pub fn py_bytes(py: Python<'_>, data: &[u8]) -> Py<PyAny> {
    PyBytes::new(py, data).into_any().unbind()
}

/// A class or function of the package's Python part (`berth._shapes`), looked up once.
pub fn shape<'py>(py: Python<'py>, cell: &'static PyOnceLock<Py<PyAny>>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    Ok(cell.import(py, "berth._shapes", name)?.clone())
}

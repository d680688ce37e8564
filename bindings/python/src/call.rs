//! How every method calls the safe layer of libberth (`berth::api`): off the GIL, with
//! a failure turned into the exception class of its status and the library's message.
//!
//! A call runs in `Python::detach`, so other Python threads run while it blocks; an
//! async operation is waited for there with `Pending::wait`, the library's one
//! blocking bridge. Results are serialised to JSON off the GIL too, and become dicts
//! and lists through Python's own parser.

use berth::api::{Failure, Outcome, Pending};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use serde::Serialize;

/// The exception of a failure: `berth._errors.error_for(status, message)` picks the
/// class.
pub fn py_err(py: Python<'_>, f: Failure) -> PyErr {
    static ERROR_FOR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    match ERROR_FOR.import(py, "berth._errors", "error_for").and_then(|e| e.call1((f.status as i32, f.message))) {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

/// Runs `body` without the GIL and raises its failure.
pub fn detached<T: Send>(py: Python<'_>, body: impl FnOnce() -> Outcome<T> + Send) -> PyResult<T> {
    py.detach(body).map_err(|f| py_err(py, f))
}

/// Waits for an operation without the GIL.
pub fn wait<T: Send + 'static>(py: Python<'_>, op: Pending<T>) -> PyResult<T> {
    detached(py, || op.wait())
}

/// Runs `body` without the GIL and returns its result as Python objects (through JSON).
pub fn json<T: Serialize>(py: Python<'_>, body: impl FnOnce() -> Outcome<T> + Send) -> PyResult<Py<PyAny>> {
    let text = detached(py, || to_json(&body()?))?;
    parse_json(py, &text)
}

/// Waits for an operation without the GIL and returns its result as Python objects.
pub fn wait_json<T: Serialize + Send + 'static>(py: Python<'_>, op: Pending<T>) -> PyResult<Py<PyAny>> {
    json(py, || op.wait())
}

/// Like [`wait_json`], as an iterator (over a list).
pub fn wait_iter<T: Serialize + Send + 'static>(py: Python<'_>, op: Pending<T>) -> PyResult<Py<PyAny>> {
    Ok(wait_json(py, op)?.bind(py).try_iter()?.into_any().unbind())
}

fn to_json<T: Serialize + ?Sized>(v: &T) -> Outcome<String> {
    serde_json::to_string(v)
        .map_err(|e| Failure::new(berth::api::Status::BERTH_ERR_INTERNAL, format!("encoding JSON: {e}")))
}

/// `json.loads`: the documents are small and Python's parser builds the objects fastest.
pub fn parse_json(py: Python<'_>, text: &str) -> PyResult<Py<PyAny>> {
    static LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    Ok(LOADS.import(py, "json", "loads")?.call1((PyString::new(py, text),))?.unbind())
}

/// `json.dumps` of keyword options; None when there are none (the defaults).
pub fn options_json(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Option<String>> {
    match options {
        Some(o) if !o.is_empty() => Ok(Some(dumps(py, o.as_any())?)),
        _ => Ok(None),
    }
}

/// Keyword options decoded as the library decodes the C ABI's `options_json`.
pub fn options<T: serde::de::DeserializeOwned + Default>(
    py: Python<'_>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<T> {
    let text = options_json(py, options)?;
    berth::api::json_object(text.as_deref(), "options_json").map_err(|f| py_err(py, f))
}

/// Keyword options with one more field (`image`, `args`) set, decoded as a required
/// object; the caller's dict is left as it was.
pub fn options_with<'py, T: serde::de::DeserializeOwned>(
    py: Python<'py>,
    options: Option<&Bound<'py, PyDict>>,
    key: &str,
    value: impl IntoPyObject<'py>,
) -> PyResult<T> {
    let doc = match options {
        Some(o) => o.copy()?,
        None => PyDict::new(py),
    };
    doc.set_item(key, value)?;
    let text = dumps(py, doc.as_any())?;
    berth::api::required_json_object(&text, "options_json").map_err(|f| py_err(py, f))
}

/// A list of strings from one string (one item, not its characters) or an iterable.
pub fn string_list<'py>(py: Python<'py>, items: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
    if items.is_instance_of::<PyString>() {
        return PyList::new(py, [items]);
    }
    PyList::new(py, items.try_iter()?.collect::<PyResult<Vec<_>>>()?)
}

/// A list of find patterns or filters, decoded as the library decodes a JSON array of
/// strings; None is the empty list.
pub fn strings(py: Python<'_>, items: Option<&Bound<'_, PyAny>>, name: &str) -> PyResult<Vec<String>> {
    let text = items.map(|items| dumps(py, string_list(py, items)?.as_any())).transpose()?;
    berth::api::json_strings(text.as_deref(), name).map_err(|f| py_err(py, f))
}

/// A filesystem path (str or os.PathLike) as the library takes it: UTF-8 (as the C ABI
/// requires of every string), without a NUL.
pub fn path_arg(py: Python<'_>, path: &std::path::Path, name: &str) -> PyResult<String> {
    let text = path.to_str().ok_or_else(|| {
        py_err(py, Failure::invalid(format!("argument `{name}` is not valid UTF-8: {}", path.display())))
    })?;
    if text.contains('\0') {
        return Err(PyValueError::new_err("embedded null byte"));
    }
    Ok(text.to_string())
}

/// `json.dumps` of any value.
pub fn dumps(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<String> {
    static DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let text: String = DUMPS.import(py, "json", "dumps")?.call1((value,))?.extract()?;
    text_arg(&text).map(str::to_string)
}

/// A Python str as the library takes it: the C ABI cannot carry a NUL inside a string,
/// and neither does this package (a ValueError, as for `open()`).
pub fn text_arg(s: &str) -> PyResult<&str> {
    if s.contains('\0') {
        return Err(PyValueError::new_err("embedded null character"));
    }
    Ok(s)
}

/// Seconds (a Python float, None = no limit) as a timeout.
pub fn timeout(seconds: Option<f64>) -> PyResult<Option<std::time::Duration>> {
    match seconds {
        None => Ok(None),
        Some(s) if s.is_nan() || s < 0.0 => {
            Err(PyValueError::new_err("timeout must be a non-negative number of seconds"))
        }
        Some(s) => Ok(Some(std::time::Duration::from_millis((s * 1000.0).round().min(i64::MAX as f64) as u64))),
    }
}

/// Seconds as a grace period (whole milliseconds, as the C ABI counts them).
pub fn grace(seconds: f64) -> PyResult<std::time::Duration> {
    if seconds.is_nan() || seconds < 0.0 {
        return Err(PyValueError::new_err("timeout must be a non-negative number of seconds"));
    }
    Ok(std::time::Duration::from_millis((seconds * 1000.0).round().min(u32::MAX as f64) as u64))
}

/// Bytes for Python.
pub fn py_bytes(py: Python<'_>, data: &[u8]) -> Py<PyAny> {
    PyBytes::new(py, data).into_any().unbind()
}

/// A class or function of the package's Python part (`berth._shapes`), looked up once.
pub fn shape<'py>(py: Python<'py>, cell: &'static PyOnceLock<Py<PyAny>>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    Ok(cell.import(py, "berth._shapes", name)?.clone())
}

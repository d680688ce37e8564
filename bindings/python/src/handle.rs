//! What every class has: one handle of the library, closed once, by `close()`, by the
//! end of a `with` block, or when the object is garbage collected.

use std::sync::atomic::{AtomicBool, Ordering};

use berth::api::{self, Castable, Outcome};
use pyo3::prelude::*;

use crate::call;

/// A handle and whether this object closed it. After `close()` the handle is still
/// passed to the library, which answers BERTH_ERR_INVALID_HANDLE ("... is closed or
/// unknown"): the error a C caller gets, as `berth.InvalidHandleError`.
pub struct Handle<K: Castable> {
    raw: api::Handle<K>,
    closed: AtomicBool,
}

impl<K: Castable> Handle<K> {
    pub fn new(raw: api::Handle<K>) -> Handle<K> {
        Handle { raw, closed: AtomicBool::new(false) }
    }

    pub fn raw(&self) -> api::Handle<K> {
        self.raw
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Closes the handle the first time; later calls do nothing, as for Python's files.
    pub fn close(&self, py: Python<'_>, close: fn(api::Handle<K>) -> Outcome<()>) -> PyResult<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let raw = self.raw;
        call::detached(py, || close(raw))
    }

    /// For Drop: closes without raising (there is nobody to raise to).
    pub fn close_quietly(&self, close: fn(api::Handle<K>) -> Outcome<()>) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            let _ = close(self.raw);
        }
    }
}

/// Gives a class with a `handle: Handle<_>` field `close()`, `closed`, the context
/// manager protocol, a repr, and a close when it is collected.
macro_rules! handle_class {
    ($class:ident, $close:path) => {
        #[pymethods]
        impl $class {
            /// Closes the handle (the object it names is left as it is). Calling it again
            /// does nothing; other calls on a closed object raise InvalidHandleError.
            fn close(&self, py: Python<'_>) -> PyResult<()> {
                self.handle.close(py, $close)
            }

            /// Whether `close()` was called.
            #[getter]
            fn closed(&self) -> bool {
                self.handle.is_closed()
            }

            fn __enter__(slf: Py<Self>) -> Py<Self> {
                slf
            }

            #[pyo3(signature = (*_exc))]
            fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
                self.close(py)?;
                Ok(false)
            }

            fn __repr__(&self) -> String {
                let closed = if self.handle.is_closed() { " closed" } else { "" };
                format!("<berth.{} handle={:#x}{closed}>", stringify!($class), self.handle.raw().id())
            }
        }

        impl Drop for $class {
            fn drop(&mut self) {
                self.handle.close_quietly($close);
            }
        }
    };
}

pub(crate) use handle_class;

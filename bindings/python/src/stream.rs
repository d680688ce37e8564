//! The Stream class: pull and push progress, events, logs, stats, walks (`api::stream`).

use berth::api::{self, stream};
use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::call;
use crate::handle::{handle_class, Handle};

/// What a stream's JSON items become in Python.
#[derive(Clone, Copy)]
pub enum Items {
    /// dicts, as documented in docs/schemas.md.
    Json,
    /// `berth.LogChunk(stream, data)`, the base64 of the document decoded.
    Log,
    /// `(path, berth.StatResult)`.
    Walk,
}

/// Items of one stream, read in order; iterating blocks (without the GIL) until the
/// next item. Closing the stream cancels its work.
#[pyclass(module = "berth", frozen)]
pub struct Stream {
    handle: Handle<stream::Stream>,
    items: Items,
}

handle_class!(Stream, api::stream::close);

impl Stream {
    pub fn new(raw: api::Handle<stream::Stream>, items: Items) -> Stream {
        Stream { handle: Handle::new(raw), items }
    }

    fn item(&self, py: Python<'_>, text: &str) -> PyResult<Py<PyAny>> {
        static LOG_CHUNK: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        static WALK_ITEM: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let doc = call::parse_json(py, text)?;
        let shape = match self.items {
            Items::Json => return Ok(doc),
            Items::Log => call::shape(py, &LOG_CHUNK, "log_chunk")?,
            Items::Walk => call::shape(py, &WALK_ITEM, "walk_item")?,
        };
        Ok(shape.call1((doc,))?.unbind())
    }
}

#[pymethods]
impl Stream {
    /// The next item, waiting up to `timeout` seconds (None: as long as it takes); None
    /// when the stream is done. TimeoutError when nothing came in time (the stream is
    /// still usable). A failure of the stream's work (a failed pull) is raised once.
    #[pyo3(signature = (timeout=None))]
    fn next(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Py<PyAny>>> {
        let timeout = call::timeout(timeout)?;
        // A walk's next item is read when the call is made: off the GIL too.
        let text = call::detached(py, || api::stream::next(self.handle.raw(), timeout).wait())?;
        text.map(|t| self.item(py, &t)).transpose()
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// `Stream[Event]` in annotations, as the stubs type it.
    #[classmethod]
    fn __class_getitem__(cls: &Bound<'_, pyo3::types::PyType>, item: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let alias = cls.py().import("types")?.getattr("GenericAlias")?;
        Ok(alias.call1((cls, item))?.unbind())
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.next(py, None)?.ok_or_else(|| PyStopIteration::new_err(()))
    }

    /// For a walk (`FileSystem.scan`): do not descend into the directory just returned.
    fn skip_dir(&self, py: Python<'_>) -> PyResult<()> {
        call::detached(py, || api::stream::skip_dir(self.handle.raw()))
    }
}

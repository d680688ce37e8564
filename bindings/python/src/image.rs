//! The Image and Layer classes (`berth_image_*`, `berth_layer_*`).

use berth::*;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::call;
use crate::fs::FileSystem;
use crate::handle::{handle_class, Handle};

/// An image of a runtime. Its filesystem reads the files of its layers in place.
#[pyclass(module = "berth", frozen)]
pub struct Image {
    handle: Handle<berth_image>,
}

handle_class!(Image, berth_image_close);

impl Image {
    pub fn new(raw: berth_image) -> Image {
        Image { handle: Handle::new(raw) }
    }
}

#[pymethods]
impl Image {
    /// The image ID (`sha256:...`).
    #[getter]
    fn id(&self, py: Python<'_>) -> PyResult<String> {
        let h = self.handle.raw();
        call::string(py, |out| unsafe { berth_image_id(out, h) })
    }

    /// The inspect document: `id`, `names`, `manifest`, `config`, `layers`, ... (a dict).
    fn inspect(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let h = self.handle.raw();
        call::json(py, |out| unsafe { berth_image_inspect(out, h) })
    }

    /// The layers, lowest first (each a Layer to close, or left to the collector).
    #[getter]
    fn layers(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        let h = self.handle.raw();
        let count = call::detached(py, || {
            let mut n = 0usize;
            call::check(unsafe { berth_image_layer_count(&mut n, h) })?;
            Ok(n)
        })?;
        let list = PyList::empty(py);
        for index in 0..count {
            let mut out = berth_layer { id: 0 };
            call::status(py, || unsafe { berth_image_layer(&mut out, h, index) })?;
            list.append(Layer { handle: Handle::new(out) })?;
        }
        Ok(list.unbind())
    }

    /// The image's root filesystem (read-only; the layers merged).
    fn filesystem(&self, py: Python<'_>) -> PyResult<FileSystem> {
        let h = self.handle.raw();
        let mut out = berth_fs { id: 0 };
        call::status(py, || unsafe { berth_image_filesystem(&mut out, h) })?;
        Ok(FileSystem::new(out))
    }
}

/// One layer of an image.
#[pyclass(module = "berth", frozen)]
pub struct Layer {
    handle: Handle<berth_layer>,
}

handle_class!(Layer, berth_layer_close);

#[pymethods]
impl Layer {
    /// `digest`, `diff_id`, `media_type`, `compression`, `size` (a dict).
    fn inspect(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let h = self.handle.raw();
        call::json(py, |out| unsafe { berth_layer_inspect(out, h) })
    }

    /// What the layer changes: its whiteouts and opaque directories (a dict).
    fn changes(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let h = self.handle.raw();
        call::json(py, |out| unsafe { berth_layer_changes(out, h) })
    }

    /// The layer's own files, as a filesystem.
    fn filesystem(&self, py: Python<'_>) -> PyResult<FileSystem> {
        let h = self.handle.raw();
        let mut out = berth_fs { id: 0 };
        call::status(py, || unsafe { berth_layer_filesystem(&mut out, h) })?;
        Ok(FileSystem::new(out))
    }
}

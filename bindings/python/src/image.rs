//! The Image and Layer classes (`api::image`, `api::layer`).

use berth::api::{self, image, layer};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::call;
use crate::fs::FileSystem;
use crate::handle::{handle_class, Handle};

/// An image of a runtime. Its filesystem reads the files of its layers in place.
#[pyclass(module = "berth", frozen)]
pub struct Image {
    handle: Handle<image::Image>,
}

handle_class!(Image, api::image::close);

impl Image {
    pub fn new(raw: api::Handle<image::Image>) -> Image {
        Image { handle: Handle::new(raw) }
    }
}

#[pymethods]
impl Image {
    /// The image ID (`sha256:...`).
    #[getter]
    fn id(&self, py: Python<'_>) -> PyResult<String> {
        call::detached(py, || api::image::id(self.handle.raw()).map(|id| id.to_string()))
    }

    /// The inspect document: `id`, `names`, `manifest`, `config`, `layers`, ... (a dict).
    fn inspect(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        call::json(py, || api::image::inspect(self.handle.raw()))
    }

    /// The layers, lowest first (each a Layer to close, or left to the collector).
    #[getter]
    fn layers(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        let h = self.handle.raw();
        let count = call::detached(py, || api::image::layer_count(h))?;
        let list = PyList::empty(py);
        for index in 0..count {
            let l = call::detached(py, || api::image::layer(h, index))?;
            list.append(Layer { handle: Handle::new(l) })?;
        }
        Ok(list.unbind())
    }

    /// The image's root filesystem (read-only; the layers merged).
    fn filesystem(&self, py: Python<'_>) -> PyResult<FileSystem> {
        Ok(FileSystem::new(call::detached(py, || api::image::filesystem(self.handle.raw()))?))
    }
}

/// One layer of an image.
#[pyclass(module = "berth", frozen)]
pub struct Layer {
    handle: Handle<layer::Layer>,
}

handle_class!(Layer, api::layer::close);

#[pymethods]
impl Layer {
    /// `digest`, `diff_id`, `media_type`, `compression`, `size` (a dict).
    fn inspect(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        call::json(py, || api::layer::inspect(self.handle.raw()))
    }

    /// What the layer changes: its whiteouts and opaque directories (a dict).
    fn changes(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        call::json(py, || api::layer::changes(self.handle.raw()))
    }

    /// The layer's own files, as a filesystem.
    fn filesystem(&self, py: Python<'_>) -> PyResult<FileSystem> {
        Ok(FileSystem::new(call::detached(py, || api::layer::filesystem(self.handle.raw()))?))
    }
}

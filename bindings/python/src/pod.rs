//! The Pod class (`api::pod`; Podman).

use berth::api::{self, pod};
use pyo3::prelude::*;

use crate::call;
use crate::handle::{handle_class, Handle};

/// A pod: containers that share namespaces (Podman). Closing the object leaves the pod
/// as it is; `remove()` removes it.
#[pyclass(module = "berth", frozen)]
pub struct Pod {
    handle: Handle<pod::Pod>,
}

handle_class!(Pod, api::pod::close);

impl Pod {
    pub fn new(raw: api::Handle<pod::Pod>) -> Pod {
        Pod { handle: Handle::new(raw) }
    }
}

#[pymethods]
impl Pod {
    /// The pod's ID.
    #[getter]
    fn id(&self, py: Python<'_>) -> PyResult<String> {
        call::detached(py, || api::pod::id(self.handle.raw()).map(|id| id.to_string()))
    }

    /// The inspect document (a dict).
    fn inspect(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        call::wait_json(py, api::pod::inspect(self.handle.raw()))
    }

    /// Starts every container of the pod.
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        call::wait(py, api::pod::start(self.handle.raw()))
    }

    /// Stops the pod's containers: SIGTERM, then SIGKILL after `timeout` seconds.
    #[pyo3(signature = (timeout=10.0))]
    fn stop(&self, py: Python<'_>, timeout: f64) -> PyResult<()> {
        call::wait(py, api::pod::stop(self.handle.raw(), call::grace(timeout)?))
    }

    /// Sends `signal` to the pod's containers.
    #[pyo3(signature = (signal=9))]
    fn kill(&self, py: Python<'_>, signal: i32) -> PyResult<()> {
        call::wait(py, api::pod::kill(self.handle.raw(), signal))
    }

    /// Freezes the pod's containers.
    fn pause(&self, py: Python<'_>) -> PyResult<()> {
        call::wait(py, api::pod::pause(self.handle.raw()))
    }

    /// Thaws the pod's containers.
    fn resume(&self, py: Python<'_>) -> PyResult<()> {
        call::wait(py, api::pod::resume(self.handle.raw()))
    }

    /// Removes the pod with its containers; a running pod needs `force`.
    #[pyo3(signature = (force=false))]
    fn remove(&self, py: Python<'_>, force: bool) -> PyResult<()> {
        call::wait(py, api::pod::remove(self.handle.raw(), force))
    }
}

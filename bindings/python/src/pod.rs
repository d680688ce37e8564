//! The Pod class (`berth_pod_*`; Podman).

use berth::*;
use pyo3::prelude::*;

use crate::call;
use crate::handle::{handle_class, Handle};

/// A pod: containers that share namespaces (Podman). Closing the object leaves the pod
/// as it is; `remove()` removes it.
#[pyclass(module = "berth", frozen)]
pub struct Pod {
    handle: Handle<berth_pod>,
}

handle_class!(Pod, berth_pod_close);

impl Pod {
    pub fn new(raw: berth_pod) -> Pod {
        Pod { handle: Handle::new(raw) }
    }
}

#[pymethods]
impl Pod {
    /// The pod's ID.
    #[getter]
    fn id(&self, py: Python<'_>) -> PyResult<String> {
        let h = self.handle.raw();
        call::string(py, |out| unsafe { berth_pod_id(out, h) })
    }

    /// The inspect document (a dict).
    fn inspect(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let h = self.handle.raw();
        call::json(py, |out| unsafe { berth_pod_inspect(out, h) })
    }

    /// Starts every container of the pod.
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        let h = self.handle.raw();
        call::status(py, || berth_pod_start(h)).map(drop)
    }

    /// Stops the pod's containers: SIGTERM, then SIGKILL after `timeout` seconds.
    #[pyo3(signature = (timeout=10.0))]
    fn stop(&self, py: Python<'_>, timeout: f64) -> PyResult<()> {
        let (h, grace) = (self.handle.raw(), call::grace_ms(timeout)?);
        call::status(py, || berth_pod_stop(h, grace)).map(drop)
    }

    /// Sends `signal` to the pod's containers.
    #[pyo3(signature = (signal=9))]
    fn kill(&self, py: Python<'_>, signal: i32) -> PyResult<()> {
        let h = self.handle.raw();
        call::status(py, || berth_pod_kill(h, signal)).map(drop)
    }

    /// Freezes the pod's containers.
    fn pause(&self, py: Python<'_>) -> PyResult<()> {
        let h = self.handle.raw();
        call::status(py, || berth_pod_pause(h)).map(drop)
    }

    /// Thaws the pod's containers.
    fn resume(&self, py: Python<'_>) -> PyResult<()> {
        let h = self.handle.raw();
        call::status(py, || berth_pod_resume(h)).map(drop)
    }

    /// Removes the pod with its containers; a running pod needs `force`.
    #[pyo3(signature = (force=false))]
    fn remove(&self, py: Python<'_>, force: bool) -> PyResult<()> {
        let h = self.handle.raw();
        call::status(py, || berth_pod_remove(h, force)).map(drop)
    }
}

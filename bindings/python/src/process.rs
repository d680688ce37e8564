//! The Process class: a process started by `Container.exec()`, or the init process that
//! `Container.attach()` follows (`api::exec`).

use berth::api::exec::{ExecEvent, OutputStream};
use berth::api::{self, exec};
use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::call;
use crate::handle::{handle_class, Handle};

/// A running process: iterate it for its events (ProcessEvent: output of `stdout` or
/// `stderr`, then one `exit`), feed its stdin with `write()`.
#[pyclass(module = "berth", frozen)]
pub struct Process {
    handle: Handle<exec::Exec>,
    /// The exit code, once the exit event was read.
    exit_code: std::sync::OnceLock<i32>,
}

handle_class!(Process, api::exec::close);

impl Process {
    pub fn new(raw: api::Handle<exec::Exec>) -> Process {
        Process { handle: Handle::new(raw), exit_code: std::sync::OnceLock::new() }
    }
}

#[pymethods]
impl Process {
    /// The next event, waiting up to `timeout` seconds (None: as long as it takes);
    /// None once the exit was returned. TimeoutError when nothing came in time (the
    /// process is still usable).
    #[pyo3(signature = (timeout=None))]
    fn next_event(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Py<PyAny>>> {
        static EVENT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let timeout = call::timeout(timeout)?;
        let Some(event) = call::detached(py, || api::exec::next(self.handle.raw(), timeout).wait())? else {
            return Ok(None);
        };
        let (kind, data, exit_code) = match event {
            ExecEvent::Output(OutputStream::Stdout, data) => ("stdout", data, None),
            ExecEvent::Output(OutputStream::Stderr, data) => ("stderr", data, None),
            ExecEvent::Exit(status) => {
                let _ = self.exit_code.set(status.exit_code);
                ("exit", Vec::new(), Some(status.exit_code))
            }
        };
        let event = call::shape(py, &EVENT, "ProcessEvent")?;
        Ok(Some(event.call1((kind, call::py_bytes(py, &data), exit_code))?.unbind()))
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.next_event(py, None)?.ok_or_else(|| PyStopIteration::new_err(()))
    }

    /// The exit code, once the exit event was read (None before).
    #[getter]
    fn exit_code(&self) -> Option<i32> {
        self.exit_code.get().copied()
    }

    /// Writes `data` to the process's stdin (started with `stdin=True`).
    fn write(&self, py: Python<'_>, data: Vec<u8>) -> PyResult<()> {
        call::wait(py, api::exec::write_stdin(self.handle.raw(), data))
    }

    /// Closes the process's stdin: it reads end-of-file.
    fn close_stdin(&self, py: Python<'_>) -> PyResult<()> {
        call::wait(py, api::exec::close_stdin(self.handle.raw()))
    }

    /// Resizes the process's terminal (started with `tty=True`).
    fn resize(&self, py: Python<'_>, width: u32, height: u32) -> PyResult<()> {
        call::wait(py, api::exec::resize(self.handle.raw(), width, height))
    }

    /// Sends `signal` to the process.
    #[pyo3(signature = (signal=9))]
    fn kill(&self, py: Python<'_>, signal: i32) -> PyResult<()> {
        call::wait(py, api::exec::kill(self.handle.raw(), signal))
    }
}

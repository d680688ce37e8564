//! The Process class: a process started by `Container.exec()`, or the init process that
//! `Container.attach()` follows (`berth_exec_*`).

use berth::*;
use pyo3::exceptions::PyStopIteration;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::call;
use crate::handle::{handle_class, Handle};

/// A running process: iterate it for its events (ProcessEvent: output of `stdout` or
/// `stderr`, then one `exit`), feed its stdin with `write()`.
#[pyclass(module = "berth", frozen)]
pub struct Process {
    handle: Handle<berth_exec>,
    /// The exit code, once the exit event was read.
    exit_code: std::sync::OnceLock<i32>,
}

handle_class!(Process, berth_exec_close);

impl Process {
    pub fn new(raw: berth_exec) -> Process {
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
        let (h, ms) = (self.handle.raw(), call::timeout_ms(timeout)?);
        let event = call::detached(py, || {
            let mut out = berth_exec_event::empty();
            if call::check(unsafe { berth_exec_next(&mut out, h, ms) })? == berth_status::BERTH_END {
                return Ok(None);
            }
            Ok(Some((out.kind, out.exit_code, call::take_bytes(out.data))))
        })?;
        let Some((kind, code, data)) = event else { return Ok(None) };
        let kind = match kind {
            BERTH_EXEC_STDOUT => "stdout",
            BERTH_EXEC_STDERR => "stderr",
            _ => {
                let _ = self.exit_code.set(code);
                "exit"
            }
        };
        let exit_code = (kind == "exit").then_some(code);
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
        let h = self.handle.raw();
        call::status(py, || unsafe { berth_exec_write_stdin(h, data.as_ptr(), data.len()) }).map(drop)
    }

    /// Closes the process's stdin: it reads end-of-file.
    fn close_stdin(&self, py: Python<'_>) -> PyResult<()> {
        let h = self.handle.raw();
        call::status(py, || berth_exec_close_stdin(h)).map(drop)
    }

    /// Resizes the process's terminal (started with `tty=True`).
    fn resize(&self, py: Python<'_>, width: u32, height: u32) -> PyResult<()> {
        let h = self.handle.raw();
        call::status(py, || berth_exec_resize(h, width, height)).map(drop)
    }

    /// Sends `signal` to the process.
    #[pyo3(signature = (signal=9))]
    fn kill(&self, py: Python<'_>, signal: i32) -> PyResult<()> {
        let h = self.handle.raw();
        call::status(py, || berth_exec_kill(h, signal)).map(drop)
    }
}

//! The Container class (`berth_container_*`).

use std::ffi::CString;

use berth::*;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::call::{self, c_string, opt_ptr, path_arg};
use crate::fs::FileSystem;
use crate::handle::{handle_class, Handle};
use crate::process::Process;
use crate::stream::{Items, Stream};

/// A container of a daemon runtime (containerd, Docker, Podman). Closing the object
/// leaves the container as it is; `delete()` removes it.
#[pyclass(module = "berth", frozen)]
pub struct Container {
    handle: Handle<berth_container>,
}

handle_class!(Container, berth_container_close);

impl Container {
    pub fn new(raw: berth_container) -> Container {
        Container { handle: Handle::new(raw) }
    }
}

/// The exec options document: `args` (a list, or one string for a lone program) plus
/// the keyword options.
fn exec_options(py: Python<'_>, args: &Bound<'_, PyAny>, options: Option<&Bound<'_, PyDict>>) -> PyResult<CString> {
    call::options_with(py, options, "args", call::string_list(py, args)?)
}

#[pymethods]
impl Container {
    /// The container's ID (on containerd, its name). Asks nothing of the daemon.
    #[getter]
    fn id(&self, py: Python<'_>) -> PyResult<String> {
        let h = self.handle.raw();
        call::string(py, |out| unsafe { berth_container_id(out, h) })
    }

    /// The inspect document: the summary's fields plus `spec`, `snapshotter`, `runtime`,
    /// and from Docker and Podman `native` (a dict).
    fn inspect(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let h = self.handle.raw();
        call::json(py, |out| unsafe { berth_container_inspect(out, h) })
    }

    /// Starts the container's init process.
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        let h = self.handle.raw();
        call::status(py, || berth_container_start(h)).map(drop)
    }

    /// Stops the container: SIGTERM, then SIGKILL after `timeout` seconds; returns the
    /// exit code (137 when it took SIGKILL).
    #[pyo3(signature = (timeout=10.0))]
    fn stop(&self, py: Python<'_>, timeout: f64) -> PyResult<i32> {
        let (h, grace) = (self.handle.raw(), call::grace_ms(timeout)?);
        call::detached(py, || {
            let mut code = 0i32;
            call::check(unsafe { berth_container_stop(&mut code, h, grace) })?;
            Ok(code)
        })
    }

    /// Sends `signal` (a number or a `signal.Signals`) to the init process.
    #[pyo3(signature = (signal=9))]
    fn kill(&self, py: Python<'_>, signal: i32) -> PyResult<()> {
        let h = self.handle.raw();
        call::status(py, || berth_container_kill(h, signal)).map(drop)
    }

    /// Freezes every process of the container.
    fn pause(&self, py: Python<'_>) -> PyResult<()> {
        let h = self.handle.raw();
        call::status(py, || berth_container_pause(h)).map(drop)
    }

    /// Thaws a paused container.
    fn resume(&self, py: Python<'_>) -> PyResult<()> {
        let h = self.handle.raw();
        call::status(py, || berth_container_resume(h)).map(drop)
    }

    /// Deletes the container; a running one needs `force` (ConflictError without it).
    #[pyo3(signature = (force=false))]
    fn delete(&self, py: Python<'_>, force: bool) -> PyResult<()> {
        let h = self.handle.raw();
        call::status(py, || berth_container_delete(h, force)).map(drop)
    }

    /// Waits for the init process to exit and returns its exit code; with `timeout`
    /// (seconds) raises TimeoutError when it passes first (the container runs on).
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<i32> {
        let (h, ms) = (self.handle.raw(), call::timeout_ms(timeout)?);
        call::detached(py, || {
            let mut code = 0i32;
            call::check(unsafe { berth_container_wait(&mut code, h, ms) })?;
            Ok(code)
        })
    }

    /// Changes resource limits: any of `memory_bytes`, `cpu_shares`, `cpu_quota`,
    /// `cpu_period`, `pids_limit`.
    #[pyo3(signature = (**resources))]
    fn update_resources(&self, py: Python<'_>, resources: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        let (h, doc) = (self.handle.raw(), call::object_json(py, resources)?);
        call::status(py, || unsafe { berth_container_update_resources(h, doc.as_ptr()) }).map(drop)
    }

    /// The container's processes, as dicts read from the host's /proc.
    fn processes(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let h = self.handle.raw();
        Ok(call::json(py, |out| unsafe { berth_container_processes(out, h) })?.bind(py).try_iter()?.into_any().unbind())
    }

    /// The container's root filesystem as it is now (read-only).
    fn filesystem(&self, py: Python<'_>) -> PyResult<FileSystem> {
        let h = self.handle.raw();
        let mut out = berth_fs { id: 0 };
        call::status(py, || unsafe { berth_container_filesystem(&mut out, h) })?;
        Ok(FileSystem::new(out))
    }

    /// What the container changed relative to its image: dicts of `path` and `kind`
    /// (`added`, `modified`, `deleted`), sorted by path.
    fn changes(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let h = self.handle.raw();
        Ok(call::json(py, |out| unsafe { berth_container_changes(out, h) })?.bind(py).try_iter()?.into_any().unbind())
    }

    /// Runs a process to its end and returns an ExecResult (`exit_code`, `stdout`,
    /// `stderr`), like `subprocess.run(capture_output=True)`. `args` is the program and
    /// its arguments; `input` (bytes) is written to its stdin, which is then closed
    /// (None: no stdin); `timeout` (seconds) kills it and raises TimeoutError. Keyword
    /// options: `env`, `cwd`, `user`, `tty`. A non-zero exit code is not an error.
    #[pyo3(signature = (args, *, input=None, timeout=None, **options))]
    fn exec_output(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyAny>,
        input: Option<Vec<u8>>,
        timeout: Option<f64>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Py<PyAny>> {
        static RESULT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let (h, doc, ms) = (self.handle.raw(), exec_options(py, args, options)?, call::timeout_ms(timeout)?);
        let (code, stdout, stderr) = call::detached(py, || {
            let mut out = berth_exec_output::empty();
            let (data, len) = input.as_ref().map_or((std::ptr::null(), 0), |d| (d.as_ptr(), d.len()));
            // berth_container_exec_output reads "no stdin" from a NULL pointer and "empty
            // stdin" from a non-NULL one of length 0; an empty Vec has a dangling,
            // non-NULL pointer, which is what b"" should mean.
            call::check(unsafe { berth_container_exec_output(&mut out, h, doc.as_ptr(), data, len, ms) })?;
            let copied = (out.exit_code, call::copy_bytes(&out.stdout_data), call::copy_bytes(&out.stderr_data));
            // SAFETY: a value from berth_container_exec_output, freed once.
            unsafe { berth_exec_output_free(out) };
            Ok(copied)
        })?;
        let result = call::shape(py, &RESULT, "ExecResult")?;
        Ok(result.call1((code, call::py_bytes(py, &stdout), call::py_bytes(py, &stderr)))?.unbind())
    }

    /// Starts a process and returns at once with a Process: iterate it for its output
    /// and exit, `write()` its stdin (with `stdin=True`). Keyword options: `env`, `cwd`,
    /// `user`, `tty`, `stdin`.
    #[pyo3(signature = (args, **options))]
    fn exec(&self, py: Python<'_>, args: &Bound<'_, PyAny>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Process> {
        let (h, doc) = (self.handle.raw(), exec_options(py, args, options)?);
        let mut out = berth_exec { id: 0 };
        call::status(py, || unsafe { berth_container_exec(&mut out, h, doc.as_ptr()) })?;
        Ok(Process::new(out))
    }

    /// Attaches to the init process (Docker, Podman): its output from now on and its
    /// exit, as a Process. Closing the Process detaches; the container runs on.
    fn attach(&self, py: Python<'_>) -> PyResult<Process> {
        let h = self.handle.raw();
        let mut out = berth_exec { id: 0 };
        call::status(py, || unsafe { berth_container_attach(&mut out, h) })?;
        Ok(Process::new(out))
    }

    /// The container's log (Docker, Podman), as a Stream of LogChunk (`stream`,
    /// `data`). Keyword options: `follow`, `since`, `until`, `tail`, `timestamps`,
    /// `stdout`, `stderr`.
    #[pyo3(signature = (**options))]
    fn logs(&self, py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Stream> {
        let (h, doc) = (self.handle.raw(), call::options_json(py, options)?);
        let mut out = berth_stream { id: 0 };
        call::status(py, || unsafe { berth_container_logs(&mut out, h, opt_ptr(&doc)) })?;
        Ok(Stream::new(out, Items::Log))
    }

    /// Resource use (Docker, Podman) as a Stream of stats dicts: one sample, or with
    /// `stream=True` one about every second until closed.
    #[pyo3(signature = (stream=false))]
    fn stats(&self, py: Python<'_>, stream: bool) -> PyResult<Stream> {
        let h = self.handle.raw();
        let mut out = berth_stream { id: 0 };
        call::status(py, || unsafe { berth_container_stats(&mut out, h, stream) })?;
        Ok(Stream::new(out, Items::Json))
    }

    /// Renames the container (Docker, Podman).
    fn rename(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        let (h, name) = (self.handle.raw(), c_string(name)?);
        call::status(py, || unsafe { berth_container_rename(h, name.as_ptr()) }).map(drop)
    }

    /// Writes the container's filesystem as a tar to `path` on this host.
    fn export(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        let (h, path) = (self.handle.raw(), path_arg(&path)?);
        call::status(py, || unsafe { berth_container_export(h, path.as_ptr()) }).map(drop)
    }

    /// Makes an image of the container (Docker, Podman); returns its ID. Keyword
    /// options: `reference`, `message`, `author`, `changes`, `pause`.
    #[pyo3(signature = (**options))]
    fn commit(&self, py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<String> {
        let (h, doc) = (self.handle.raw(), call::options_json(py, options)?);
        call::string(py, |out| unsafe { berth_container_commit(out, h, opt_ptr(&doc)) })
    }

    /// Writes `path` of the container (a file or a tree) as a tar to `dest` on this host.
    fn archive(&self, py: Python<'_>, path: &str, dest: std::path::PathBuf) -> PyResult<()> {
        let (h, path, dest) = (self.handle.raw(), c_string(path)?, path_arg(&dest)?);
        call::status(py, || unsafe { berth_container_archive(h, path.as_ptr(), dest.as_ptr()) }).map(drop)
    }
}

//! The Container class (`api::container`).

use berth::api::{self, container};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::call::{self, path_arg, text_arg};
use crate::fs::FileSystem;
use crate::handle::{handle_class, Handle};
use crate::process::Process;
use crate::stream::{Items, Stream};

/// A container of a daemon runtime (containerd, Docker, Podman). Closing the object
/// leaves the container as it is; `delete()` removes it.
#[pyclass(module = "berth", frozen)]
pub struct Container {
    handle: Handle<container::Container>,
}

handle_class!(Container, api::container::close);

impl Container {
    pub fn new(raw: api::Handle<container::Container>) -> Container {
        Container { handle: Handle::new(raw) }
    }
}

/// The exec options: `args` (a list, or one string for a lone program) plus the
/// keyword options.
fn exec_options<T: serde::de::DeserializeOwned>(
    py: Python<'_>,
    args: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<T> {
    call::options_with(py, options, "args", call::string_list(py, args)?)
}

#[pymethods]
impl Container {
    /// The container's ID (on containerd, its name). Asks nothing of the daemon.
    #[getter]
    fn id(&self, py: Python<'_>) -> PyResult<String> {
        call::detached(py, || api::container::id(self.handle.raw()).map(|id| id.to_string()))
    }

    /// The inspect document: the summary's fields plus `spec`, `snapshotter`, `runtime`,
    /// and from Docker and Podman `native` (a dict).
    fn inspect(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        call::wait_json(py, api::container::inspect(self.handle.raw()))
    }

    /// Starts the container's init process.
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        call::wait(py, api::container::start(self.handle.raw()))
    }

    /// Stops the container: SIGTERM, then SIGKILL after `timeout` seconds; returns the
    /// exit code (137 when it took SIGKILL).
    #[pyo3(signature = (timeout=10.0))]
    fn stop(&self, py: Python<'_>, timeout: f64) -> PyResult<i32> {
        call::wait(py, api::container::stop(self.handle.raw(), call::grace(timeout)?))
    }

    /// Sends `signal` (a number or a `signal.Signals`) to the init process.
    #[pyo3(signature = (signal=9))]
    fn kill(&self, py: Python<'_>, signal: i32) -> PyResult<()> {
        call::wait(py, api::container::kill(self.handle.raw(), signal))
    }

    /// Freezes every process of the container.
    fn pause(&self, py: Python<'_>) -> PyResult<()> {
        call::wait(py, api::container::pause(self.handle.raw()))
    }

    /// Thaws a paused container.
    fn resume(&self, py: Python<'_>) -> PyResult<()> {
        call::wait(py, api::container::resume(self.handle.raw()))
    }

    /// Deletes the container; a running one needs `force` (ConflictError without it).
    #[pyo3(signature = (force=false))]
    fn delete(&self, py: Python<'_>, force: bool) -> PyResult<()> {
        call::wait(py, api::container::delete(self.handle.raw(), force))
    }

    /// Waits for the init process to exit and returns its exit code; with `timeout`
    /// (seconds) raises TimeoutError when it passes first (the container runs on).
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<i32> {
        call::wait(py, api::container::wait(self.handle.raw(), call::timeout(timeout)?))
    }

    /// Changes resource limits: any of `memory_bytes`, `cpu_shares`, `cpu_quota`,
    /// `cpu_period`, `pids_limit`.
    #[pyo3(signature = (**resources))]
    fn update_resources(&self, py: Python<'_>, resources: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
        let text = call::options_json(py, resources)?.unwrap_or_else(|| "{}".into());
        let resources = api::required_json_object(&text, "resources_json").map_err(|f| call::py_err(py, f))?;
        call::wait(py, api::container::update_resources(self.handle.raw(), resources))
    }

    /// The container's processes, as dicts read from the host's /proc.
    fn processes(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        call::wait_iter(py, api::container::processes(self.handle.raw()))
    }

    /// The container's root filesystem as it is now (read-only).
    fn filesystem(&self, py: Python<'_>) -> PyResult<FileSystem> {
        Ok(FileSystem::new(call::wait(py, api::container::filesystem(self.handle.raw()))?))
    }

    /// What the container changed relative to its image: dicts of `path` and `kind`
    /// (`added`, `modified`, `deleted`), sorted by path.
    fn changes(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        call::wait_iter(py, api::container::changes(self.handle.raw()))
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
        let (options, timeout) = (exec_options(py, args, options)?, call::timeout(timeout)?);
        // None is no stdin at all; b"" an empty one (it reads EOF at once).
        let out = call::wait(py, api::container::exec_output(self.handle.raw(), options, input, timeout))?;
        let result = call::shape(py, &RESULT, "ExecResult")?;
        let (stdout, stderr) = (call::py_bytes(py, &out.stdout), call::py_bytes(py, &out.stderr));
        Ok(result.call1((out.exit_code, stdout, stderr))?.unbind())
    }

    /// Starts a process and returns at once with a Process: iterate it for its output
    /// and exit, `write()` its stdin (with `stdin=True`). Keyword options: `env`, `cwd`,
    /// `user`, `tty`, `stdin`.
    #[pyo3(signature = (args, **options))]
    fn exec(&self, py: Python<'_>, args: &Bound<'_, PyAny>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Process> {
        let options = exec_options(py, args, options)?;
        Ok(Process::new(call::wait(py, api::container::exec(self.handle.raw(), options))?))
    }

    /// Attaches to the init process (Docker, Podman): its output from now on and its
    /// exit, as a Process. Closing the Process detaches; the container runs on.
    fn attach(&self, py: Python<'_>) -> PyResult<Process> {
        Ok(Process::new(call::wait(py, api::container::attach(self.handle.raw()))?))
    }

    /// The container's log (Docker, Podman), as a Stream of LogChunk (`stream`,
    /// `data`). Keyword options: `follow`, `since`, `until`, `tail`, `timestamps`,
    /// `stdout`, `stderr`.
    #[pyo3(signature = (**options))]
    fn logs(&self, py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Stream> {
        let options = call::options(py, options)?;
        Ok(Stream::new(call::wait(py, api::container::logs(self.handle.raw(), options))?, Items::Log))
    }

    /// Resource use (Docker, Podman) as a Stream of stats dicts: one sample, or with
    /// `stream=True` one about every second until closed.
    #[pyo3(signature = (stream=false))]
    fn stats(&self, py: Python<'_>, stream: bool) -> PyResult<Stream> {
        Ok(Stream::new(call::wait(py, api::container::stats(self.handle.raw(), stream))?, Items::Json))
    }

    /// Renames the container (Docker, Podman).
    fn rename(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        call::wait(py, api::container::rename(self.handle.raw(), text_arg(name)?))
    }

    /// Writes the container's filesystem as a tar to `path` on this host.
    fn export(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        let path = path_arg(py, &path, "path")?;
        call::wait(py, api::container::export(self.handle.raw(), &path))
    }

    /// Makes an image of the container (Docker, Podman); returns its ID. Keyword
    /// options: `reference`, `message`, `author`, `changes`, `pause`.
    #[pyo3(signature = (**options))]
    fn commit(&self, py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<String> {
        let options = call::options(py, options)?;
        call::wait(py, api::container::commit(self.handle.raw(), options))
    }

    /// Writes `path` of the container (a file or a tree) as a tar to `dest` on this host.
    fn archive(&self, py: Python<'_>, path: &str, dest: std::path::PathBuf) -> PyResult<()> {
        let (path, dest) = (text_arg(path)?, path_arg(py, &dest, "dest")?);
        call::wait(py, api::container::archive(self.handle.raw(), path, &dest))
    }
}

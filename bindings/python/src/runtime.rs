//! `berth.connect`, `berth.detect` and the Runtime class (`berth_runtime_*`).

use std::ffi::{CStr, CString};

use berth::*;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::call::{self, c_string, opt_ptr, path_arg};
use crate::container::Container;
use crate::handle::{handle_class, Handle};
use crate::image::Image;
use crate::pod::Pod;
use crate::stream::{Items, Stream};

/// Opens a runtime: `endpoint` is an endpoint string (`oci-archive:///x.tar`,
/// `containerd:///run/containerd/containerd.sock`, `docker:///var/run/docker.sock`, ...),
/// or None for the first runtime `detect()` finds. Keyword options: `timeout_ms`,
/// `namespace`, `platform`, `username`, `password`.
#[pyfunction]
#[pyo3(signature = (endpoint=None, **options))]
pub fn connect(py: Python<'_>, endpoint: Option<&str>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Runtime> {
    let endpoint = endpoint.map(c_string).transpose()?;
    let options = call::options_json(py, options)?;
    let mut out = berth_runtime { id: 0 };
    call::status(py, || unsafe { berth_runtime_open(&mut out, opt_ptr(&endpoint), opt_ptr(&options)) })?;
    Ok(Runtime { handle: Handle::new(out) })
}

/// The runtimes this host offers, as dicts of `endpoint`, `kind`, `source`; nothing is
/// connected to.
#[pyfunction]
pub fn detect(py: Python<'_>) -> PyResult<Py<PyAny>> {
    call::json(py, |out| unsafe { berth_detect(out) })
}

/// The version of the loaded libberth, e.g. "0.1.0".
#[pyfunction]
pub fn version() -> String {
    // SAFETY: static, NUL-terminated.
    unsafe { CStr::from_ptr(berth_version()) }.to_string_lossy().into_owned()
}

/// The ABI version of the loaded libberth.
#[pyfunction]
pub fn abi_version() -> u32 {
    berth_abi_version()
}

/// The library's name of a status ("not_found", ...): the `kind` of its exception class.
#[pyfunction]
pub fn status_string(status: i32) -> String {
    // SAFETY: static, NUL-terminated.
    unsafe { CStr::from_ptr(berth_status_string(status)) }.to_string_lossy().into_owned()
}

/// A connection to one endpoint.
#[pyclass(module = "berth", frozen)]
pub struct Runtime {
    handle: Handle<berth_runtime>,
}

handle_class!(Runtime, berth_runtime_close);

/// An iterator over a JSON array the library returned.
fn iter_json(
    py: Python<'_>,
    call: impl FnOnce(&mut *mut std::ffi::c_char) -> berth_status + Send,
) -> PyResult<Py<PyAny>> {
    Ok(call::json(py, call)?.bind(py).try_iter()?.into_any().unbind())
}

/// A list of find patterns or filters as a JSON array; None stays NULL.
fn strings_json(py: Python<'_>, items: Option<&Bound<'_, PyAny>>) -> PyResult<Option<CString>> {
    items.map(|items| call::dumps(py, call::string_list(py, items)?.as_any())).transpose()
}

#[pymethods]
impl Runtime {
    /// The endpoint, kind, version and capabilities (a dict).
    #[getter]
    fn info(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let rt = self.handle.raw();
        call::json(py, |out| unsafe { berth_runtime_info(out, rt) })
    }

    /// The images, as image summary dicts.
    fn images(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let rt = self.handle.raw();
        iter_json(py, |out| unsafe { berth_runtime_list_images(out, rt) })
    }

    /// The images `pattern` matches (an ID, an ID prefix, a name or a short name).
    fn find_images(&self, py: Python<'_>, pattern: &str) -> PyResult<Py<PyAny>> {
        let (rt, pattern) = (self.handle.raw(), c_string(pattern)?);
        iter_json(py, |out| unsafe { berth_runtime_find_images(out, rt, pattern.as_ptr()) })
    }

    /// Opens the one image `pattern` matches (NotFoundError, AmbiguousError otherwise).
    fn open_image(&self, py: Python<'_>, pattern: &str) -> PyResult<Image> {
        let (rt, pattern) = (self.handle.raw(), c_string(pattern)?);
        let mut out = berth_image { id: 0 };
        call::status(py, || unsafe { berth_runtime_open_image(&mut out, rt, pattern.as_ptr()) })?;
        Ok(Image::new(out))
    }

    /// Gives the image `source` the extra name `target`.
    fn tag_image(&self, py: Python<'_>, source: &str, target: &str) -> PyResult<()> {
        let (rt, source, target) = (self.handle.raw(), c_string(source)?, c_string(target)?);
        call::status(py, || unsafe { berth_runtime_tag_image(rt, source.as_ptr(), target.as_ptr()) }).map(drop)
    }

    /// Removes an image name; given an image ID, the image with all its names.
    fn remove_image(&self, py: Python<'_>, pattern: &str) -> PyResult<()> {
        let (rt, pattern) = (self.handle.raw(), c_string(pattern)?);
        call::status(py, || unsafe { berth_runtime_remove_image(rt, pattern.as_ptr()) }).map(drop)
    }

    /// Imports the images of an oci-archive or docker-archive tar on this host; returns
    /// their summaries.
    fn import_images(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<Py<PyAny>> {
        let (rt, path) = (self.handle.raw(), path_arg(&path)?);
        call::json(py, |out| unsafe { berth_runtime_import_images(out, rt, path.as_ptr()) })
    }

    /// Writes the images `patterns` names (a pattern or a list of them) to an oci-archive
    /// tar at `path`.
    fn export_images(&self, py: Python<'_>, patterns: &Bound<'_, PyAny>, path: std::path::PathBuf) -> PyResult<()> {
        let rt = self.handle.raw();
        let patterns = strings_json(py, Some(patterns))?;
        let path = path_arg(&path)?;
        call::status(py, || unsafe { berth_runtime_export_images(rt, opt_ptr(&patterns), path.as_ptr()) }).map(drop)
    }

    /// Pulls `reference`; returns a Stream of progress dicts, the last one `{"status":
    /// "complete", "image": ...}`. Keyword options: `username`, `password`, `platform`,
    /// `plain_http`.
    #[pyo3(signature = (reference, **options))]
    fn pull(&self, py: Python<'_>, reference: &str, options: Option<&Bound<'_, PyDict>>) -> PyResult<Stream> {
        let (rt, reference, options) = (self.handle.raw(), c_string(reference)?, call::options_json(py, options)?);
        let mut out = berth_stream { id: 0 };
        call::status(py, || unsafe { berth_runtime_pull(&mut out, rt, reference.as_ptr(), opt_ptr(&options)) })?;
        Ok(Stream::new(out, Items::Json))
    }

    /// Pushes the image named `reference`; returns a Stream of progress dicts. Keyword
    /// options: `username`, `password`, `plain_http`.
    #[pyo3(signature = (reference, **options))]
    fn push(&self, py: Python<'_>, reference: &str, options: Option<&Bound<'_, PyDict>>) -> PyResult<Stream> {
        let (rt, reference, options) = (self.handle.raw(), c_string(reference)?, call::options_json(py, options)?);
        let mut out = berth_stream { id: 0 };
        call::status(py, || unsafe { berth_runtime_push(&mut out, rt, reference.as_ptr(), opt_ptr(&options)) })?;
        Ok(Stream::new(out, Items::Json))
    }

    /// The runtime's events from now on, as a Stream of event dicts. `filters` is a list
    /// of filter strings in the backend's syntax (several are ORed).
    #[pyo3(signature = (filters=None))]
    fn events(&self, py: Python<'_>, filters: Option<&Bound<'_, PyAny>>) -> PyResult<Stream> {
        let (rt, filters) = (self.handle.raw(), strings_json(py, filters)?);
        let mut out = berth_stream { id: 0 };
        call::status(py, || unsafe { berth_runtime_events(&mut out, rt, opt_ptr(&filters)) })?;
        Ok(Stream::new(out, Items::Json))
    }

    /// The containers, as container summary dicts. `filters` is a list of filter strings
    /// in the backend's syntax (several are ORed).
    #[pyo3(signature = (filters=None))]
    fn containers(&self, py: Python<'_>, filters: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let (rt, filters) = (self.handle.raw(), strings_json(py, filters)?);
        iter_json(py, |out| unsafe { berth_runtime_list_containers(out, rt, opt_ptr(&filters)) })
    }

    /// The containers `pattern` matches (an exact ID or name, else an ID prefix).
    fn find_containers(&self, py: Python<'_>, pattern: &str) -> PyResult<Py<PyAny>> {
        let (rt, pattern) = (self.handle.raw(), c_string(pattern)?);
        iter_json(py, |out| unsafe { berth_runtime_find_containers(out, rt, pattern.as_ptr()) })
    }

    /// Opens the one container `pattern` matches.
    fn open_container(&self, py: Python<'_>, pattern: &str) -> PyResult<Container> {
        let (rt, pattern) = (self.handle.raw(), c_string(pattern)?);
        let mut out = berth_container { id: 0 };
        call::status(py, || unsafe { berth_runtime_open_container(&mut out, rt, pattern.as_ptr()) })?;
        Ok(Container::new(out))
    }

    /// Creates a container of `image` (not started). Keyword options as the create
    /// options document: `name`, `args`, `entrypoint`, `env`, `cwd`, `user`, `tty`,
    /// `stdin`, `hostname`, `labels`, `annotations`, `mounts`, `resources`, `network`,
    /// `pod`.
    #[pyo3(signature = (image, **options))]
    fn create_container(
        &self,
        py: Python<'_>,
        image: &str,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Container> {
        let (rt, doc) = (self.handle.raw(), call::options_with(py, options, "image", image)?);
        let mut out = berth_container { id: 0 };
        call::status(py, || unsafe { berth_runtime_create_container(&mut out, rt, doc.as_ptr()) })?;
        Ok(Container::new(out))
    }

    /// The pods, as pod summary dicts (Podman).
    fn pods(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let rt = self.handle.raw();
        iter_json(py, |out| unsafe { berth_runtime_list_pods(out, rt) })
    }

    /// Creates a pod (Podman). Keyword options: `name`, `labels`, `hostname`, `network`.
    #[pyo3(signature = (**options))]
    fn create_pod(&self, py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Pod> {
        let (rt, doc) = (self.handle.raw(), call::object_json(py, options)?);
        let mut out = berth_pod { id: 0 };
        call::status(py, || unsafe { berth_runtime_create_pod(&mut out, rt, doc.as_ptr()) })?;
        Ok(Pod::new(out))
    }

    /// Opens the one pod `pattern` matches.
    fn open_pod(&self, py: Python<'_>, pattern: &str) -> PyResult<Pod> {
        let (rt, pattern) = (self.handle.raw(), c_string(pattern)?);
        let mut out = berth_pod { id: 0 };
        call::status(py, || unsafe { berth_runtime_open_pod(&mut out, rt, pattern.as_ptr()) })?;
        Ok(Pod::new(out))
    }

    /// The snapshots of `snapshotter` (containerd; None is the runtime's default).
    #[pyo3(signature = (snapshotter=None))]
    fn snapshots(&self, py: Python<'_>, snapshotter: Option<&str>) -> PyResult<Py<PyAny>> {
        let (rt, sn) = (self.handle.raw(), snapshotter.map(c_string).transpose()?);
        iter_json(py, |out| unsafe { berth_runtime_snapshots_list(out, rt, opt_ptr(&sn)) })
    }

    /// The snapshot `key` (a dict like one item of `snapshots()`).
    #[pyo3(signature = (key, snapshotter=None))]
    fn snapshot(&self, py: Python<'_>, key: &str, snapshotter: Option<&str>) -> PyResult<Py<PyAny>> {
        let (rt, sn, key) = (self.handle.raw(), snapshotter.map(c_string).transpose()?, c_string(key)?);
        call::json(py, |out| unsafe { berth_runtime_snapshots_stat(out, rt, opt_ptr(&sn), key.as_ptr()) })
    }

    /// Creates the active snapshot `key` on `parent` (None: an empty one); returns its
    /// mounts.
    #[pyo3(signature = (key, parent=None, snapshotter=None))]
    fn prepare_snapshot(
        &self,
        py: Python<'_>,
        key: &str,
        parent: Option<&str>,
        snapshotter: Option<&str>,
    ) -> PyResult<Py<PyAny>> {
        let (rt, sn, key) = (self.handle.raw(), snapshotter.map(c_string).transpose()?, c_string(key)?);
        let parent = parent.map(c_string).transpose()?;
        call::json(py, |out| unsafe {
            berth_runtime_snapshots_prepare(out, rt, opt_ptr(&sn), key.as_ptr(), opt_ptr(&parent))
        })
    }

    /// Creates the read-only view `key` of `parent`; returns its mounts.
    #[pyo3(signature = (key, parent, snapshotter=None))]
    fn view_snapshot(&self, py: Python<'_>, key: &str, parent: &str, snapshotter: Option<&str>) -> PyResult<Py<PyAny>> {
        let (rt, sn, key) = (self.handle.raw(), snapshotter.map(c_string).transpose()?, c_string(key)?);
        let parent = c_string(parent)?;
        call::json(py, |out| unsafe {
            berth_runtime_snapshots_view(out, rt, opt_ptr(&sn), key.as_ptr(), parent.as_ptr())
        })
    }

    /// Commits the active snapshot `key` as `name`.
    #[pyo3(signature = (name, key, snapshotter=None))]
    fn commit_snapshot(&self, py: Python<'_>, name: &str, key: &str, snapshotter: Option<&str>) -> PyResult<()> {
        let (rt, sn) = (self.handle.raw(), snapshotter.map(c_string).transpose()?);
        let (name, key) = (c_string(name)?, c_string(key)?);
        call::status(py, || unsafe { berth_runtime_snapshots_commit(rt, opt_ptr(&sn), name.as_ptr(), key.as_ptr()) })
            .map(drop)
    }

    /// The mounts of the active or view snapshot `key`.
    #[pyo3(signature = (key, snapshotter=None))]
    fn snapshot_mounts(&self, py: Python<'_>, key: &str, snapshotter: Option<&str>) -> PyResult<Py<PyAny>> {
        let (rt, sn, key) = (self.handle.raw(), snapshotter.map(c_string).transpose()?, c_string(key)?);
        call::json(py, |out| unsafe { berth_runtime_snapshots_mounts(out, rt, opt_ptr(&sn), key.as_ptr()) })
    }

    /// The disk use of snapshot `key`: `{"size", "inodes"}`.
    #[pyo3(signature = (key, snapshotter=None))]
    fn snapshot_usage(&self, py: Python<'_>, key: &str, snapshotter: Option<&str>) -> PyResult<Py<PyAny>> {
        let (rt, sn, key) = (self.handle.raw(), snapshotter.map(c_string).transpose()?, c_string(key)?);
        call::json(py, |out| unsafe { berth_runtime_snapshots_usage(out, rt, opt_ptr(&sn), key.as_ptr()) })
    }

    /// Removes snapshot `key`.
    #[pyo3(signature = (key, snapshotter=None))]
    fn remove_snapshot(&self, py: Python<'_>, key: &str, snapshotter: Option<&str>) -> PyResult<()> {
        let (rt, sn, key) = (self.handle.raw(), snapshotter.map(c_string).transpose()?, c_string(key)?);
        call::status(py, || unsafe { berth_runtime_snapshots_remove(rt, opt_ptr(&sn), key.as_ptr()) }).map(drop)
    }
}

//! `berth.connect`, `berth.detect` and the Runtime class (`api::runtime`).

use berth::api::{self, runtime};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::call::{self, path_arg, text_arg};
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
    let endpoint = endpoint.map(text_arg).transpose()?.map(str::to_string);
    let options = call::options(py, options)?;
    let rt = call::wait(py, api::runtime::open(endpoint, options))?;
    Ok(Runtime { handle: Handle::new(rt) })
}

/// The runtimes this host offers, as dicts of `endpoint`, `kind`, `source`; nothing is
/// connected to.
#[pyfunction]
pub fn detect(py: Python<'_>) -> PyResult<Py<PyAny>> {
    call::json(py, || Ok(api::detect()))
}

/// The version of the loaded libberth, e.g. "0.1.0".
#[pyfunction]
pub fn version() -> &'static str {
    api::version()
}

/// The ABI version of the loaded libberth.
#[pyfunction]
pub fn abi_version() -> u32 {
    api::abi_version()
}

/// The library's name of a status ("not_found", ...): the `kind` of its exception class.
#[pyfunction]
pub fn status_string(status: i32) -> &'static str {
    api::status_string(status)
}

/// A connection to one endpoint.
#[pyclass(module = "berth", frozen)]
pub struct Runtime {
    handle: Handle<runtime::Runtime>,
}

handle_class!(Runtime, api::runtime::close);

#[pymethods]
impl Runtime {
    /// The endpoint, kind, version and capabilities (a dict).
    #[getter]
    fn info(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        call::wait_json(py, api::runtime::info(self.handle.raw()))
    }

    /// The images, as image summary dicts.
    fn images(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        call::wait_iter(py, api::runtime::list_images(self.handle.raw()))
    }

    /// The images `pattern` matches (an ID, an ID prefix, a name or a short name).
    fn find_images(&self, py: Python<'_>, pattern: &str) -> PyResult<Py<PyAny>> {
        call::wait_iter(py, api::runtime::find_images(self.handle.raw(), text_arg(pattern)?))
    }

    /// Opens the one image `pattern` matches (NotFoundError, AmbiguousError otherwise).
    fn open_image(&self, py: Python<'_>, pattern: &str) -> PyResult<Image> {
        let image = call::wait(py, api::runtime::open_image(self.handle.raw(), text_arg(pattern)?))?;
        Ok(Image::new(image))
    }

    /// Gives the image `source` the extra name `target`.
    fn tag_image(&self, py: Python<'_>, source: &str, target: &str) -> PyResult<()> {
        call::wait(py, api::runtime::tag_image(self.handle.raw(), text_arg(source)?, text_arg(target)?))
    }

    /// Removes an image name; given an image ID, the image with all its names.
    fn remove_image(&self, py: Python<'_>, pattern: &str) -> PyResult<()> {
        call::wait(py, api::runtime::remove_image(self.handle.raw(), text_arg(pattern)?))
    }

    /// Imports the images of an oci-archive or docker-archive tar on this host; returns
    /// their summaries.
    fn import_images(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<Py<PyAny>> {
        let path = path_arg(py, &path, "path")?;
        call::wait_json(py, api::runtime::import_images(self.handle.raw(), &path))
    }

    /// Writes the images `patterns` names (a pattern or a list of them) to an oci-archive
    /// tar at `path`.
    fn export_images(&self, py: Python<'_>, patterns: &Bound<'_, PyAny>, path: std::path::PathBuf) -> PyResult<()> {
        let patterns = call::strings(py, Some(patterns), "patterns_json")?;
        let path = path_arg(py, &path, "path")?;
        call::wait(py, api::runtime::export_images(self.handle.raw(), patterns, &path))
    }

    /// Pulls `reference`; returns a Stream of progress dicts, the last one `{"status":
    /// "complete", "image": ...}`. Keyword options: `username`, `password`, `platform`,
    /// `plain_http`.
    #[pyo3(signature = (reference, **options))]
    fn pull(&self, py: Python<'_>, reference: &str, options: Option<&Bound<'_, PyDict>>) -> PyResult<Stream> {
        let (reference, options) = (text_arg(reference)?, call::options(py, options)?);
        let stream = call::detached(py, || api::runtime::pull(self.handle.raw(), reference, options))?;
        Ok(Stream::new(stream, Items::Json))
    }

    /// Pushes the image named `reference`; returns a Stream of progress dicts. Keyword
    /// options: `username`, `password`, `plain_http`.
    #[pyo3(signature = (reference, **options))]
    fn push(&self, py: Python<'_>, reference: &str, options: Option<&Bound<'_, PyDict>>) -> PyResult<Stream> {
        let (reference, options) = (text_arg(reference)?, call::options(py, options)?);
        let stream = call::detached(py, || api::runtime::push(self.handle.raw(), reference, options))?;
        Ok(Stream::new(stream, Items::Json))
    }

    /// The runtime's events from now on, as a Stream of event dicts. `filters` is a list
    /// of filter strings in the backend's syntax (several are ORed).
    #[pyo3(signature = (filters=None))]
    fn events(&self, py: Python<'_>, filters: Option<&Bound<'_, PyAny>>) -> PyResult<Stream> {
        let filters = call::strings(py, filters, "filters_json")?;
        let stream = call::wait(py, api::runtime::events(self.handle.raw(), filters))?;
        Ok(Stream::new(stream, Items::Json))
    }

    /// The containers, as container summary dicts. `filters` is a list of filter strings
    /// in the backend's syntax (several are ORed).
    #[pyo3(signature = (filters=None))]
    fn containers(&self, py: Python<'_>, filters: Option<&Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
        let filters = call::strings(py, filters, "filters_json")?;
        call::wait_iter(py, api::runtime::list_containers(self.handle.raw(), filters))
    }

    /// The containers `pattern` matches (an exact ID or name, else an ID prefix).
    fn find_containers(&self, py: Python<'_>, pattern: &str) -> PyResult<Py<PyAny>> {
        call::wait_iter(py, api::runtime::find_containers(self.handle.raw(), text_arg(pattern)?))
    }

    /// Opens the one container `pattern` matches.
    fn open_container(&self, py: Python<'_>, pattern: &str) -> PyResult<Container> {
        let c = call::wait(py, api::runtime::open_container(self.handle.raw(), text_arg(pattern)?))?;
        Ok(Container::new(c))
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
        let options = call::options_with(py, options, "image", image)?;
        let c = call::wait(py, api::runtime::create_container(self.handle.raw(), options))?;
        Ok(Container::new(c))
    }

    /// The pods, as pod summary dicts (Podman).
    fn pods(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        call::wait_iter(py, api::runtime::list_pods(self.handle.raw()))
    }

    /// Creates a pod (Podman). Keyword options: `name`, `labels`, `hostname`, `network`.
    #[pyo3(signature = (**options))]
    fn create_pod(&self, py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Pod> {
        let options = call::options(py, options)?;
        let p = call::wait(py, api::runtime::create_pod(self.handle.raw(), options))?;
        Ok(Pod::new(p))
    }

    /// Opens the one pod `pattern` matches.
    fn open_pod(&self, py: Python<'_>, pattern: &str) -> PyResult<Pod> {
        let p = call::wait(py, api::runtime::open_pod(self.handle.raw(), text_arg(pattern)?))?;
        Ok(Pod::new(p))
    }

    /// The snapshots of `snapshotter` (containerd; None is the runtime's default).
    #[pyo3(signature = (snapshotter=None))]
    fn snapshots(&self, py: Python<'_>, snapshotter: Option<&str>) -> PyResult<Py<PyAny>> {
        let sn = snapshotter.map(text_arg).transpose()?;
        call::wait_iter(py, api::runtime::snapshots_list(self.handle.raw(), sn))
    }

    /// The snapshot `key` (a dict like one item of `snapshots()`).
    #[pyo3(signature = (key, snapshotter=None))]
    fn snapshot(&self, py: Python<'_>, key: &str, snapshotter: Option<&str>) -> PyResult<Py<PyAny>> {
        let (sn, key) = (snapshotter.map(text_arg).transpose()?, text_arg(key)?);
        call::wait_json(py, api::runtime::snapshots_stat(self.handle.raw(), sn, key))
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
        let (sn, key) = (snapshotter.map(text_arg).transpose()?, text_arg(key)?);
        let parent = parent.map(text_arg).transpose()?;
        call::wait_json(py, api::runtime::snapshots_prepare(self.handle.raw(), sn, key, parent))
    }

    /// Creates the read-only view `key` of `parent`; returns its mounts.
    #[pyo3(signature = (key, parent, snapshotter=None))]
    fn view_snapshot(&self, py: Python<'_>, key: &str, parent: &str, snapshotter: Option<&str>) -> PyResult<Py<PyAny>> {
        let (sn, key, parent) = (snapshotter.map(text_arg).transpose()?, text_arg(key)?, text_arg(parent)?);
        call::wait_json(py, api::runtime::snapshots_view(self.handle.raw(), sn, key, Some(parent)))
    }

    /// Commits the active snapshot `key` as `name`.
    #[pyo3(signature = (name, key, snapshotter=None))]
    fn commit_snapshot(&self, py: Python<'_>, name: &str, key: &str, snapshotter: Option<&str>) -> PyResult<()> {
        let (sn, name, key) = (snapshotter.map(text_arg).transpose()?, text_arg(name)?, text_arg(key)?);
        call::wait(py, api::runtime::snapshots_commit(self.handle.raw(), sn, name, key))
    }

    /// The mounts of the active or view snapshot `key`.
    #[pyo3(signature = (key, snapshotter=None))]
    fn snapshot_mounts(&self, py: Python<'_>, key: &str, snapshotter: Option<&str>) -> PyResult<Py<PyAny>> {
        let (sn, key) = (snapshotter.map(text_arg).transpose()?, text_arg(key)?);
        call::wait_json(py, api::runtime::snapshots_mounts(self.handle.raw(), sn, key))
    }

    /// The disk use of snapshot `key`: `{"size", "inodes"}`.
    #[pyo3(signature = (key, snapshotter=None))]
    fn snapshot_usage(&self, py: Python<'_>, key: &str, snapshotter: Option<&str>) -> PyResult<Py<PyAny>> {
        let (sn, key) = (snapshotter.map(text_arg).transpose()?, text_arg(key)?);
        call::wait_json(py, api::runtime::snapshots_usage(self.handle.raw(), sn, key))
    }

    /// Removes snapshot `key`.
    #[pyo3(signature = (key, snapshotter=None))]
    fn remove_snapshot(&self, py: Python<'_>, key: &str, snapshotter: Option<&str>) -> PyResult<()> {
        let (sn, key) = (snapshotter.map(text_arg).transpose()?, text_arg(key)?);
        call::wait(py, api::runtime::snapshots_remove(self.handle.raw(), sn, key))
    }
}

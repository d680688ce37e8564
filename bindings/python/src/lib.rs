//! `berth._native`: the classes of the Python package, each a handle of libberth.
//!
//! Every method is one operation of libberth's safe layer (`berth::api`, the ffi crate
//! linked as an rlib; the C function `berth_x_y` stands on `api::x::y`), made without
//! the GIL; results become dicts and lists through JSON. What
//! Python wants that C does not have (exception classes, `io.RawIOBase` files, stat
//! results, `os.walk`) lives in the package's Python part, `python/berth/`.

mod call;
mod container;
mod fs;
mod handle;
mod image;
mod pod;
mod process;
mod runtime;
mod statuses;
mod stream;

use pyo3::prelude::*;

#[pymodule(gil_used = false)]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(runtime::connect, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::detect, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::version, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::abi_version, m)?)?;
    m.add_function(wrap_pyfunction!(runtime::status_string, m)?)?;
    m.add_function(wrap_pyfunction!(statuses::status_table, m)?)?;
    m.add_class::<runtime::Runtime>()?;
    m.add_class::<image::Image>()?;
    m.add_class::<image::Layer>()?;
    m.add_class::<container::Container>()?;
    m.add_class::<process::Process>()?;
    m.add_class::<pod::Pod>()?;
    m.add_class::<stream::Stream>()?;
    m.add_class::<fs::FileSystem>()?;
    m.add_class::<fs::RawFile>()?;
    Ok(())
}

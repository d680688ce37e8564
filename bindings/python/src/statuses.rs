//! The library's list of error statuses, which the exception classes of `berth._errors`
//! must match (tests/test_abi_coverage.py checks them against it).

use berth::api::Status;
use pyo3::prelude::*;

/// Every error status of the library as (status, kind, exception class name).
#[pyfunction]
pub fn status_table() -> Vec<(i32, &'static str, &'static str)> {
    Status::table().iter().filter_map(|row| Some((row.status, row.name, row.class?))).collect()
}

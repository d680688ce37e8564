//! The safe layer under every binding: typed handles on the handle table, and every
//! operation of berth as a safe Rust function. Nothing here is `unsafe` or a C type.
//!
//! - A handle is a [`Handle<T>`] of a kind declared beside its object ([`runtime::Runtime`],
//!   [`image::Image`], ...); a closed, forged or wrong-kind handle fails with
//!   `BERTH_ERR_INVALID_HANDLE`, as in C.
//! - An operation returns `Result<T, Failure>` ([`Outcome`]) when the core does it
//!   synchronously (images, layers, filesystems and files: local reads), and a
//!   [`Pending<T>`] when the core does it asynchronously (anything that asks a daemon,
//!   waits for an exit, or reads a stream or an exec). Arguments and handles are checked
//!   when the function is called, before anything reaches the runtime. An async binding
//!   awaits a `Pending` (a `Send` future run on berth's I/O runtime); a blocking one
//!   calls [`Pending::wait`], the one blocking bridge, bounded by the operation's
//!   timeout.
//! - Modules are named after the objects of the C ABI, and operations after its verbs:
//!   `berth_runtime_list_images` is [`runtime::list_images`], `berth_exec_next`
//!   [`exec::next`]. A binding calls these, never the `extern "C"` functions.

pub mod container;
pub mod exec;
pub mod file;
pub mod fs;
pub mod image;
pub mod layer;
pub mod pod;
pub mod runtime;
pub mod stream;

mod args;
mod held;
mod pending;

pub use crate::failure::{Failure, Outcome};
pub use crate::handle::{Castable, Handle};
pub use crate::status::berth_status as Status;
pub use args::{json_object, json_strings, required_json_object};
pub use held::Held;
pub use pending::Pending;

/// The version of the library, e.g. "0.1.0".
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The ABI version of the library (the N of libberth.so.N).
pub fn abi_version() -> u32 {
    crate::abi_version::ABI_VERSION
}

/// The name of a status ("ok", "end", "not_found", ...); "unknown" for a value that is
/// not a status.
pub fn status_string(status: i32) -> &'static str {
    crate::status::ALL.iter().find(|s| **s as i32 == status).map_or("unknown", |s| s.name())
}

/// The runtimes this host offers; nothing is connected to.
pub fn detect() -> Vec<berth_core::Detected> {
    berth_core::detect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of handle, with the number ABI 1 gave it (8 and 10 were the unused
    /// process and snapshot handles, removed before ABI 1 was released).
    fn kinds() -> Vec<(u8, &'static str)> {
        fn k<T: Castable>() -> (u8, &'static str) {
            (T::KIND, T::NAME)
        }
        vec![
            k::<runtime::Runtime>(),
            k::<image::Image>(),
            k::<layer::Layer>(),
            k::<fs::Fs>(),
            k::<file::File>(),
            k::<stream::Stream>(),
            k::<container::Container>(),
            k::<pod::Pod>(),
            k::<exec::Exec>(),
        ]
    }

    #[test]
    fn each_kind_of_handle_has_its_own_number_and_keeps_it() {
        let numbers: Vec<u8> = kinds().iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5, 6, 7, 9, 11]);
        let mut names: Vec<&str> = kinds().iter().map(|(_, name)| *name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), kinds().len(), "two kinds share a name");
    }
}

//! berth-core: one library for every container runtime on a host.
//!
//! A [`Runtime`] is a connection to one endpoint ([`connect`]); it lists and opens
//! [`Image`]s, whose [`fs::FileSystem`] reads the files inside without unpacking or
//! running anything. Every failure is an [`Error`] with one of the [`ErrorKind`]s that
//! all bindings share.
//!
//! ```no_run
//! # async fn demo() -> berth_core::Result<()> {
//! use berth_core::fs::FileSystem;
//! let rt = berth_core::connect(Some("oci-archive://sample/sample.oci.tar"), Default::default()).await?;
//! let image = rt.open_image("sample").await?;
//! let fs = image.filesystem()?;
//! for entry in fs.read_dir("/etc")? {
//!     println!("{} {}", entry.stat.mode_string(), entry.name);
//! }
//! # Ok(()) }
//! ```

pub mod backends;
pub mod blob;
pub mod connect;
pub mod container;
pub mod digest;
pub mod endpoint;
pub mod error;
pub mod find;
pub mod fs;
pub mod host_dir;
pub mod image;
pub mod io;
mod io_adapter;
pub mod model;
pub mod pod;
pub mod process;
pub mod reference;
pub mod runtime;
pub mod service;
pub mod snapshot;
mod util;

pub use connect::{connect, detect};
pub use endpoint::{ConnectOptions, Detected, Endpoint};
pub use error::{Error, ErrorKind, Result};
pub use image::{Image, Layer};
pub use runtime::Runtime;
pub use service::need;

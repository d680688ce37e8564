//! The image filesystem engine: read-only filesystems over layer tars, and the types
//! every berth filesystem shares (stat, directory entries, files, walks).
//!
//! Paths are resolved inside the filesystem's root as if chrooted: `..` stops at `/`,
//! absolute symlinks restart at the root, and a chain of more than [`MAX_SYMLINK_HOPS`]
//! links fails the way Linux fails with ELOOP (`fs::limits` has every bound).
//!
//! Names are bytes inside the engine; every path, name and link target crosses this API
//! as a `String` in the reversible escaped form of [`names`], and every path a caller
//! passes is decoded from it.

pub mod compression;
pub mod dir_layer;
mod filesystem;
pub mod gzip_seek;
pub mod layer;
mod layered;
pub mod limits;
pub mod names;
mod resolve;
pub mod sparse;
mod squash;
/// Public for the fuzz targets (fuzz/), which read zstd streams through it directly.
pub mod stream_seek;
pub mod tar;
mod tree;
mod walk;
pub mod xattr;

pub use filesystem::{DirEntry, File, FileContent, FileSystem, FileType, NodeKey, Stat};
pub use layered::LayeredFs;
pub use limits::MAX_SYMLINK_HOPS;
pub use walk::{WalkEntry, Walker};
pub use xattr::XattrValue;

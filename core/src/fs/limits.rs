//! Every limit the engine enforces on what an image may ask of it, in one place.
//!
//! Layers come from images nobody vetted; each limit caps something a few kilobytes of
//! compressed input could otherwise multiply into gigabytes of memory or hours of work.
//! docs/engine.md ("Limits") lists them with the reasons; the defaults sit far above
//! what real images use.

/// Symlinks followed in one resolution before it fails (Linux's MAXSYMLINKS): `Io`,
/// "too many levels of symbolic links", like ELOOP.
pub const MAX_SYMLINK_HOPS: u32 = 40;

/// The longest the still-to-walk part of a path may grow while symlinks are followed
/// (Linux's PATH_MAX). A caller's own path may be longer (an image can hold deeper
/// trees, and a walk must be able to name them); the limit is then that path's length.
/// Beyond it the resolution fails with `Io`, "file name too long", like ENAMETOOLONG:
/// it bounds the work of one resolution to about 41 × 4096 bytes.
pub const MAX_PATH_LEN: usize = 4096;

/// The largest tar metadata record (a GNU long name or link, a PAX header, a PAX sparse
/// 1.0 map); real ones are tiny, and a bound keeps a corrupt size from asking for GiBs.
pub const MAX_META_RECORD: u64 = 16 << 20;

/// Sparse segments of one file; a real sparse file has a handful.
pub const MAX_SPARSE_SEGMENTS_PER_FILE: usize = 1 << 20;

/// Sparse segments of all the files of one layer (24 bytes of index each).
pub const MAX_SPARSE_SEGMENTS_PER_LAYER: usize = 1 << 21;

/// Entries (files, directories, links, markers) of one layer: each costs about 120
/// bytes of index plus its path. The largest real layers hold a few hundred thousand.
pub const MAX_ENTRIES_PER_LAYER: usize = 1 << 21;

/// Bytes of entry paths and link targets in one layer's index.
pub const MAX_NAME_BYTES_PER_LAYER: u64 = 256 << 20;

/// Extended-attribute bytes of one layer, counted per entry: each attribute an entry
/// carries counts its name, its value and [`XATTR_OVERHEAD`] — also when its value is
/// shared with other entries (a PAX global header gives every following entry its
/// attributes), because every stat and listing hands them out again.
pub const MAX_XATTR_BYTES_PER_LAYER: u64 = 64 << 20;

/// What one attribute costs beyond its name and value, in the count above (the map
/// slot and the shared value's header), so that millions of empty ones are bounded too.
pub const XATTR_OVERHEAD: u64 = 32;

/// Layers stacked in one image's filesystem: the kernel's overlayfs mounts at most 500
/// lower layers, so no runtime on overlayfs runs an image with more.
pub const MAX_LAYERS_PER_IMAGE: usize = 500;

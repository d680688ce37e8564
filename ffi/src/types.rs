//! The C types of handles and byte buffers. Each kind of handle is its own struct, so a
//! C compiler rejects passing an image where a runtime is expected.

/// A connection to one endpoint. Close with `berth_runtime_close`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct berth_runtime {
    pub id: u64,
}

/// An image. Close with `berth_image_close`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct berth_image {
    pub id: u64,
}

/// One layer of an image. Close with `berth_layer_close`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct berth_layer {
    pub id: u64,
}

/// A read-only filesystem (an image's, a layer's, a container's). Close with `berth_fs_close`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct berth_fs {
    pub id: u64,
}

/// An open file of a filesystem. Close with `berth_file_close`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct berth_file {
    pub id: u64,
}

/// A stream of items (a walk; later pull progress, exec output, logs, events), read with
/// `berth_stream_next`. Closing it cancels its work.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct berth_stream {
    pub id: u64,
}

/// A container (daemon backends; reserved in this version).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct berth_container {
    pub id: u64,
}

/// A process of a container (daemon backends; reserved in this version).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct berth_process {
    pub id: u64,
}

/// A pod (CRI, Podman; reserved in this version).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct berth_pod {
    pub id: u64,
}

/// A snapshot (containerd; reserved in this version).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct berth_snapshot {
    pub id: u64,
}

/// Bytes handed to the caller: `len` bytes at `data`, freed as a whole with
/// `berth_bytes_free`. An empty value has `data == NULL` and `len == 0`.
#[repr(C)]
#[derive(Debug)]
#[allow(non_camel_case_types)]
pub struct berth_bytes {
    pub data: *mut u8,
    pub len: usize,
}

impl berth_bytes {
    pub const EMPTY: berth_bytes = berth_bytes { data: std::ptr::null_mut(), len: 0 };

    pub fn from_vec(v: Vec<u8>) -> berth_bytes {
        if v.is_empty() {
            return berth_bytes::EMPTY;
        }
        let boxed = v.into_boxed_slice();
        let len = boxed.len();
        berth_bytes { data: Box::into_raw(boxed) as *mut u8, len }
    }
}

//! The C types of handles and byte buffers. Each kind of handle is its own struct, so a
//! C compiler rejects passing an image where a runtime is expected; each converts to and
//! from the safe layer's typed handle of its kind.

use crate::api::{container, exec, file, fs, image, layer, pod, runtime, stream, Handle};

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

/// A stream of items (a walk, pull progress, events), read with `berth_stream_next`.
/// Closing it cancels its work.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct berth_stream {
    pub id: u64,
}

/// A container of a daemon runtime (containerd, Docker, Podman). Close with
/// `berth_container_close`; closing the handle does not stop or delete the container.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct berth_container {
    pub id: u64,
}

/// A process started in a running container by `berth_container_exec`, or the
/// container's own init process attached to by `berth_container_attach`: write its
/// stdin, read its output and exit with `berth_exec_next`. Close with `berth_exec_close`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct berth_exec {
    pub id: u64,
}

/// A pod of a daemon runtime (Podman): containers that share namespaces. Close with
/// `berth_pod_close`; closing the handle does not stop or remove the pod.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types)]
pub struct berth_pod {
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

/// The result of `berth_container_exec_output`: the exit code and everything the process
/// wrote. Free it whole with `berth_exec_output_free`.
#[repr(C)]
#[derive(Debug)]
#[allow(non_camel_case_types)]
pub struct berth_exec_output {
    pub exit_code: i32,
    pub stdout_data: berth_bytes,
    pub stderr_data: berth_bytes,
}

impl berth_exec_output {
    /// Nothing to free (a function, not a const, so that cbindgen leaves it out).
    pub fn empty() -> berth_exec_output {
        berth_exec_output { exit_code: 0, stdout_data: berth_bytes::EMPTY, stderr_data: berth_bytes::EMPTY }
    }
}

/// One event of a running exec, from `berth_exec_next`: `kind` is BERTH_EXEC_STDOUT or
/// BERTH_EXEC_STDERR with the bytes in `data` (free them with `berth_bytes_free`), or
/// BERTH_EXEC_EXIT with `exit_code` set (and `data` empty).
#[repr(C)]
#[derive(Debug)]
#[allow(non_camel_case_types)]
pub struct berth_exec_event {
    pub kind: i32,
    pub exit_code: i32,
    pub data: berth_bytes,
}

impl berth_exec_event {
    /// Nothing to free (a function, not a const, so that cbindgen leaves it out).
    pub fn empty() -> berth_exec_event {
        berth_exec_event { kind: 0, exit_code: 0, data: berth_bytes::EMPTY }
    }
}

/// The C struct of a kind of handle and the safe layer's typed handle: the same number.
macro_rules! same_handle {
    ($($c:ident = $kind:ty;)*) => {$(
        impl From<$c> for Handle<$kind> {
            fn from(h: $c) -> Handle<$kind> {
                Handle::from_id(h.id)
            }
        }

        impl From<Handle<$kind>> for $c {
            fn from(h: Handle<$kind>) -> $c {
                $c { id: h.id() }
            }
        }
    )*};
}

same_handle! {
    berth_runtime = runtime::Runtime;
    berth_image = image::Image;
    berth_layer = layer::Layer;
    berth_fs = fs::Fs;
    berth_file = file::File;
    berth_stream = stream::Stream;
    berth_container = container::Container;
    berth_exec = exec::Exec;
    berth_pod = pod::Pod;
}

//! Containers (daemon backends), the processes exec starts in them, and what else a
//! container gives: its log, its resource use, its filesystem as a tar, an image of it.
//! The C shims of `api::container` and `api::exec`.

use std::ffi::c_char;
use std::time::Duration;

use berth_core::container::{CommitOptions, ExecOptions, LogOptions, Resources};

use crate::api::exec::{ExecEvent, OutputStream};
use crate::api::{self, container, exec};
use crate::call::{bytes_arg, c_string, call, json_out, opt_str_arg, out_arg, str_arg, timeout_arg};
use crate::failure::{Failure, Outcome};
use crate::status::berth_status::{self, *};
use crate::types::{
    berth_bytes, berth_container, berth_exec, berth_exec_event, berth_exec_output, berth_fs, berth_stream,
};

/// `kind` of a `berth_exec_event`: bytes the process wrote to its stdout (or its tty).
pub const BERTH_EXEC_STDOUT: i32 = 1;
/// `kind` of a `berth_exec_event`: bytes the process wrote to its stderr.
pub const BERTH_EXEC_STDERR: i32 = 2;
/// `kind` of a `berth_exec_event`: the process exited; `exit_code` is set.
pub const BERTH_EXEC_EXIT: i32 = 3;

/// The exec options: a JSON object with `args` (required in practice), `env`, `cwd`,
/// `user`, `tty`, `stdin`; NULL is refused.
fn exec_options(text: Option<&str>) -> Outcome<ExecOptions> {
    match text {
        None => Err(Failure::null("options_json")),
        Some(t) => api::required_json_object(t, "options_json"),
    }
}

/// Closes a container handle. The container itself is left as it is (running, stopped):
/// stop and delete it first if it should go. Filesystems and execs opened from it stay
/// valid until closed.
#[no_mangle]
pub extern "C" fn berth_container_close(c: berth_container) -> berth_status {
    call(|| container::close(c.into()).map(|()| BERTH_OK))
}

/// The container's ID (on containerd, its name). Asks nothing of the daemon. The caller
/// frees `*out` with `berth_string_free`.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_container_id(out: *mut *mut c_char, c: berth_container) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = c_string(&*container::id(c.into())?);
        Ok(BERTH_OK)
    })
}

/// The container's inspect document as JSON: the summary's fields (`id`, `names`,
/// `image`, `image_id`, `labels`, `state` with `status`, `pid`, `exit_code`, ...,
/// `created`, `pod`) plus `spec` (the OCI runtime spec as stored), `snapshotter`,
/// `snapshot_key` and `runtime` (schema: docs/schemas.md). The caller frees `*out` with
/// `berth_string_free`.
///
/// Errors: NOT_FOUND (the container was deleted), UNAVAILABLE, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_container_inspect(out: *mut *mut c_char, c: berth_container) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = json_out(&container::inspect(c.into()).wait()?)?;
        Ok(BERTH_OK)
    })
}

/// Starts the container's init process. Its exit is watched from before the start, so
/// `berth_container_wait` sees even an instant exit.
///
/// Errors: CONFLICT (already started), NOT_FOUND, UNAVAILABLE, TIMEOUT.
#[no_mangle]
pub extern "C" fn berth_container_start(c: berth_container) -> berth_status {
    call(|| container::start(c.into()).wait().map(|()| BERTH_OK))
}

/// Stops the container: SIGTERM, then SIGKILL once `grace_ms` passed; `*out` is the
/// exit code (137 when it took SIGKILL). The call may take `grace_ms` plus the
/// runtime's timeout.
///
/// Errors: CONFLICT (not running), TIMEOUT (still running after SIGKILL), NOT_FOUND.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_container_stop(out: *mut i32, c: berth_container, grace_ms: u32) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = container::stop(c.into(), Duration::from_millis(grace_ms.into())).wait()?;
        Ok(BERTH_OK)
    })
}

/// Sends `signal` (1 to 64, e.g. 9 for SIGKILL) to the container's init process.
///
/// Errors: INVALID_ARGUMENT (not a signal number), CONFLICT or NOT_FOUND (not
/// running), TIMEOUT.
#[no_mangle]
pub extern "C" fn berth_container_kill(c: berth_container, signal: i32) -> berth_status {
    call(|| container::kill(c.into(), signal).wait().map(|()| BERTH_OK))
}

/// Freezes every process of the container (cgroup freezer).
///
/// Errors: CONFLICT or NOT_FOUND (not running), TIMEOUT.
#[no_mangle]
pub extern "C" fn berth_container_pause(c: berth_container) -> berth_status {
    call(|| container::pause(c.into()).wait().map(|()| BERTH_OK))
}

/// Thaws a paused container.
///
/// Errors: CONFLICT or NOT_FOUND (not paused), TIMEOUT.
#[no_mangle]
pub extern "C" fn berth_container_resume(c: berth_container) -> berth_status {
    call(|| container::resume(c.into()).wait().map(|()| BERTH_OK))
}

/// Deletes the container with its task and snapshot. A running (or paused) container
/// needs `force` (it is killed first); without it the call fails with CONFLICT and
/// nothing changes. The handle stays open (later calls get NOT_FOUND); close it.
///
/// Errors: CONFLICT, NOT_FOUND, TIMEOUT.
#[no_mangle]
pub extern "C" fn berth_container_delete(c: berth_container, force: bool) -> berth_status {
    call(|| container::delete(c.into(), force).wait().map(|()| BERTH_OK))
}

/// Waits for the container's init process to exit; `*out` is its exit code.
/// `timeout_ms` < 0 waits as long as it takes (the runtime's timeout does not apply);
/// when it passes first the call fails with TIMEOUT and the container runs on.
///
/// Errors: TIMEOUT, NOT_FOUND (never started, or deleted), UNAVAILABLE.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_container_wait(out: *mut i32, c: berth_container, timeout_ms: i64) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = container::wait(c.into(), timeout_arg(timeout_ms)).wait()?;
        Ok(BERTH_OK)
    })
}

/// Changes the resource limits of the running container. `resources_json` is a JSON
/// object with any of `memory_bytes`, `cpu_shares`, `cpu_quota`, `cpu_period`,
/// `pids_limit` (schema: docs/schemas.md); absent fields are left as they are.
///
/// Errors: INVALID_ARGUMENT (not an object, an unknown field), CONFLICT or NOT_FOUND
/// (not running), TIMEOUT.
///
/// # Safety
/// `resources_json` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_container_update_resources(
    c: berth_container,
    resources_json: *const c_char,
) -> berth_status {
    call(|| {
        // SAFETY: forwarded from this function's contract.
        let text = unsafe { str_arg(resources_json, "resources_json") }?;
        let resources: Resources = api::required_json_object(text, "resources_json")?;
        container::update_resources(c.into(), resources).wait()?;
        Ok(BERTH_OK)
    })
}

/// The container's processes as a JSON array, read from the host's /proc: `pid` (in
/// the container), `host_pid`, `ppid`, `name`, `cmdline`, `cwd`, `environ`, `exe`,
/// `uids`, `gids`, `status`, `start_time`, `children` (schema: docs/schemas.md). Fields
/// the caller may not read are null or empty. The caller frees `*out` with
/// `berth_string_free`.
///
/// Errors: CONFLICT or NOT_FOUND (not running), TIMEOUT.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_container_processes(out: *mut *mut c_char, c: berth_container) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = json_out(&container::processes(c.into()).wait()?)?;
        Ok(BERTH_OK)
    })
}

/// The container's root filesystem, read-only: its image with what the container
/// changed on top, as it is at this call (running or stopped). Closed with
/// `berth_fs_close`.
///
/// Errors: NOT_FOUND (deleted), NOT_SUPPORTED (a snapshotter berth cannot read),
/// TIMEOUT.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_container_filesystem(out: *mut berth_fs, c: berth_container) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = container::filesystem(c.into()).wait()?.into();
        Ok(BERTH_OK)
    })
}

/// What the container changed relative to its image, as a JSON array of `{"path",
/// "kind"}` sorted by path, `kind` being `added`, `modified` or `deleted`. The caller
/// frees `*out` with `berth_string_free`.
///
/// Errors: NOT_FOUND, NOT_SUPPORTED (a copying snapshotter), TIMEOUT.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_container_changes(out: *mut *mut c_char, c: berth_container) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = json_out(&container::changes(c.into()).wait()?)?;
        Ok(BERTH_OK)
    })
}

/// Runs a process in the running container to its end and collects its output into
/// `*out` (exit code, stdout, stderr; free it with `berth_exec_output_free`).
/// `options_json` is a JSON object: `args` (the program and its arguments), and
/// optionally `env` (`KEY=VALUE` added to the container's), `cwd`, `user` (`uid[:gid]`),
/// `tty` (schema: docs/schemas.md). `stdin_data`/`stdin_len` are written to the
/// process's stdin, which is then closed; NULL and 0 give it no stdin at all, a
/// non-NULL pointer with length 0 an empty one (it reads EOF at once). `timeout_ms` < 0
/// waits as long as it takes; when it passes first the process is killed and the call
/// fails with TIMEOUT. A non-zero exit code is not an error.
///
/// Errors: INVALID_ARGUMENT (bad options), CONFLICT or NOT_FOUND (container not
/// running), TIMEOUT.
///
/// # Safety
/// `out` points to writable storage; `options_json` is NUL-terminated; `stdin_data` is
/// NULL or points to `stdin_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn berth_container_exec_output(
    out: *mut berth_exec_output,
    c: berth_container,
    options_json: *const c_char,
    stdin_data: *const u8,
    stdin_len: usize,
    timeout_ms: i64,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = berth_exec_output::empty();
        // SAFETY: forwarded from this function's contract.
        let options = exec_options(unsafe { opt_str_arg(options_json, "options_json") }?)?;
        // SAFETY: forwarded from this function's contract.
        let stdin = unsafe { bytes_arg(stdin_data, stdin_len, "stdin_data") }?;
        // NULL is no stdin at all; a non-NULL pointer with length 0 an empty one.
        let stdin = (!stdin_data.is_null()).then(|| stdin.to_vec());
        let result = container::exec_output(c.into(), options, stdin, timeout_arg(timeout_ms)).wait()?;
        *out = berth_exec_output {
            exit_code: result.exit_code,
            stdout_data: berth_bytes::from_vec(result.stdout),
            stderr_data: berth_bytes::from_vec(result.stderr),
        };
        Ok(BERTH_OK)
    })
}

/// Frees the buffers of a `berth_exec_output`. An empty value is ignored.
///
/// # Safety
/// `o` is a value from `berth_container_exec_output`, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn berth_exec_output_free(o: berth_exec_output) {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        crate::berth_bytes_free(o.stdout_data);
        crate::berth_bytes_free(o.stderr_data);
    }
}

/// Starts a process in the running container and returns at once; read its output and
/// exit with `berth_exec_next`, feed its stdin with `berth_exec_write_stdin` (when
/// `"stdin": true`). `options_json` is as for `berth_container_exec_output`, plus
/// `stdin` (open a stdin pipe) and `tty` (a terminal: output comes as stdout only, and
/// `berth_exec_resize` works). Closed with `berth_exec_close`.
///
/// Errors: INVALID_ARGUMENT (bad options), CONFLICT or NOT_FOUND (container not
/// running), TIMEOUT.
///
/// # Safety
/// `out` points to writable storage; `options_json` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_container_exec(
    out: *mut berth_exec,
    c: berth_container,
    options_json: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let options = exec_options(unsafe { opt_str_arg(options_json, "options_json") }?)?;
        *out = container::exec(c.into(), options).wait()?.into();
        Ok(BERTH_OK)
    })
}

/// Writes `len` bytes to the process's stdin (waiting while the pipe is full, up to the
/// runtime's timeout). `len` 0 writes nothing.
///
/// Errors: INVALID_ARGUMENT (started without `"stdin": true`, or stdin already
/// closed), IO (the process closed its stdin, e.g. it exited), TIMEOUT.
///
/// # Safety
/// `data` points to `len` readable bytes (or is NULL with `len` 0).
#[no_mangle]
pub unsafe extern "C" fn berth_exec_write_stdin(e: berth_exec, data: *const u8, len: usize) -> berth_status {
    call(|| {
        // SAFETY: forwarded from this function's contract.
        let data = unsafe { bytes_arg(data, len, "data") }?.to_vec();
        exec::write_stdin(e.into(), data).wait()?;
        Ok(BERTH_OK)
    })
}

/// Closes the process's stdin: it reads EOF once it has read what was written.
///
/// Errors: TIMEOUT, UNAVAILABLE.
#[no_mangle]
pub extern "C" fn berth_exec_close_stdin(e: berth_exec) -> berth_status {
    call(|| exec::close_stdin(e.into()).wait().map(|()| BERTH_OK))
}

/// The next event of the process into `*out`: output (`kind` BERTH_EXEC_STDOUT or
/// BERTH_EXEC_STDERR, the bytes in `data`, freed with `berth_bytes_free`), then its exit
/// (BERTH_EXEC_EXIT, `exit_code` set, `data` empty), after all its output. Then
/// BERTH_END. When the events end without an exit (the daemon went away, so the exit
/// status cannot be had), that call returns the reason once, BERTH_ERR_UNAVAILABLE,
/// and the calls after it BERTH_END. `timeout_ms` < 0 waits as long as it takes;
/// BERTH_ERR_TIMEOUT means nothing came in time and the exec is still usable. A call
/// waiting while another thread closes the handle returns BERTH_ERR_CANCELLED. On any
/// status but BERTH_OK, `*out` is zeroed (nothing to free).
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_exec_next(out: *mut berth_exec_event, e: berth_exec, timeout_ms: i64) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = berth_exec_event::empty();
        *out = match exec::next(e.into(), timeout_arg(timeout_ms)).wait()? {
            None => return Ok(BERTH_END),
            Some(ExecEvent::Output(which, data)) => {
                let kind = match which {
                    OutputStream::Stdout => BERTH_EXEC_STDOUT,
                    OutputStream::Stderr => BERTH_EXEC_STDERR,
                };
                berth_exec_event { kind, exit_code: 0, data: berth_bytes::from_vec(data) }
            }
            Some(ExecEvent::Exit(status)) => {
                berth_exec_event { kind: BERTH_EXEC_EXIT, exit_code: status.exit_code, data: berth_bytes::EMPTY }
            }
        };
        Ok(BERTH_OK)
    })
}

/// Resizes the process's terminal to `width` columns and `height` rows.
///
/// Errors: INVALID_ARGUMENT (started without `"tty": true`, or a zero size), TIMEOUT.
#[no_mangle]
pub extern "C" fn berth_exec_resize(e: berth_exec, width: u32, height: u32) -> berth_status {
    call(|| exec::resize(e.into(), width, height).wait().map(|()| BERTH_OK))
}

/// Sends `signal` (1 to 64) to the process.
///
/// Errors: INVALID_ARGUMENT (not a signal number), NOT_FOUND or CONFLICT (it already
/// exited), TIMEOUT.
#[no_mangle]
pub extern "C" fn berth_exec_kill(e: berth_exec, signal: i32) -> berth_status {
    call(|| exec::kill(e.into(), signal).wait().map(|()| BERTH_OK))
}

/// Closes an exec handle. The process is not killed (call `berth_exec_kill` first if it
/// must stop), but nothing reads its output any more: a process that goes on writing
/// gets EPIPE or SIGPIPE. A `berth_exec_next` waiting in another thread returns
/// BERTH_ERR_CANCELLED.
#[no_mangle]
pub extern "C" fn berth_exec_close(e: berth_exec) -> berth_status {
    call(|| exec::close(e.into()).map(|()| BERTH_OK))
}

/// Attaches to the container's init process: its output from now on and its exit come
/// from `berth_exec_next` (BERTH_EXEC_STDOUT and BERTH_EXEC_STDERR events, or stdout
/// only with a tty; BERTH_EXEC_EXIT when the container stops), `berth_exec_write_stdin`
/// and `berth_exec_close_stdin` feed its stdin (when it was created with `"stdin":
/// true`), `berth_exec_resize` resizes its tty (with `"tty": true`) and `berth_exec_kill`
/// signals the container. `*out` is an exec handle, closed with `berth_exec_close`
/// (which detaches: the container runs on). A created container may be attached to
/// before `berth_container_start`: then none of its output is missed.
///
/// Errors: NOT_FOUND, CONFLICT (the container already stopped), NOT_SUPPORTED
/// (containerd), UNAVAILABLE, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_container_attach(out: *mut berth_exec, c: berth_container) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = container::attach(c.into()).wait()?.into();
        Ok(BERTH_OK)
    })
}

/// The container's log (what its init process wrote to stdout and stderr, as the
/// runtime keeps it), as a stream (closed with `berth_stream_close`): each item of
/// `berth_stream_next` is `{"stream": "stdout" or "stderr", "data_base64": "..."}`
/// (the bytes as the runtime sends them, usually whole lines; with a tty, stdout only).
/// The stream ends at the end of the log, or with `follow` when the container stops.
/// `options_json` is NULL or a JSON object with any of `follow`, `since` and `until`
/// (seconds since the epoch), `tail` (the last N lines), `timestamps` (each line
/// prefixed with its RFC 3339 time), `stdout` and `stderr` (both true by default)
/// (schema: docs/schemas.md). With `follow`, read with a timeout: BERTH_ERR_TIMEOUT
/// means nothing new came, and the stream stays usable.
///
/// Errors (of this call): INVALID_ARGUMENT (bad options), NOT_FOUND, NOT_SUPPORTED
/// (containerd), UNAVAILABLE, TIMEOUT. Errors (of the stream): UNAVAILABLE, IO.
///
/// # Safety
/// `out` points to writable storage; `options_json` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_container_logs(
    out: *mut berth_stream,
    c: berth_container,
    options_json: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let options: LogOptions =
            api::json_object(unsafe { opt_str_arg(options_json, "options_json") }?, "options_json")?;
        *out = container::logs(c.into(), options).wait()?.into();
        Ok(BERTH_OK)
    })
}

/// The container's resource use, as a stream (closed with `berth_stream_close`) of
/// stats documents `{"read", "cpu_total_ns", "system_cpu_ns", "online_cpus",
/// "cpu_percent", "memory_usage", "memory_limit", "pids", "network_rx_bytes",
/// "network_tx_bytes", "block_read_bytes", "block_write_bytes"}` (schema:
/// docs/schemas.md). With `stream` false it holds one sample, then BERTH_END; with
/// `stream` true a sample comes about every second until the stream is closed (or the
/// container is removed). A stopped container's sample is mostly zeros.
///
/// Errors (of this call): NOT_FOUND, NOT_SUPPORTED (containerd), UNAVAILABLE, TIMEOUT.
///
/// # Safety
/// `out` points to writable storage.
#[no_mangle]
pub unsafe extern "C" fn berth_container_stats(
    out: *mut berth_stream,
    c: berth_container,
    stream: bool,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        *out = container::stats(c.into(), stream).wait()?.into();
        Ok(BERTH_OK)
    })
}

/// Renames the container to `name`.
///
/// Errors: INVALID_ARGUMENT (an empty name, or one the runtime refuses),
/// ALREADY_EXISTS (the name is taken), NOT_FOUND, NOT_SUPPORTED (containerd), TIMEOUT.
///
/// # Safety
/// `name` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_container_rename(c: berth_container, name: *const c_char) -> berth_status {
    call(|| {
        // SAFETY: forwarded from this function's contract.
        let name = unsafe { str_arg(name, "name") }?;
        container::rename(c.into(), name).wait()?;
        Ok(BERTH_OK)
    })
}

/// Writes the container's whole filesystem (the image with the container's changes, as
/// `docker export` does) as a tar to `path` (on this host; replaced if it exists, and
/// never left half-written).
///
/// Errors: INVALID_ARGUMENT (an empty path), NOT_FOUND (the container, or the directory
/// of `path`), IO, NOT_SUPPORTED (containerd), TIMEOUT.
///
/// # Safety
/// `path` is NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_container_export(c: berth_container, path: *const c_char) -> berth_status {
    call(|| {
        // SAFETY: forwarded from this function's contract.
        let path = unsafe { str_arg(path, "path") }?;
        container::export(c.into(), path).wait()?;
        Ok(BERTH_OK)
    })
}

/// Makes an image of the container's filesystem and config; `*out` is the new image's
/// ID (`sha256:...`), freed with `berth_string_free`. `options_json` is NULL or a JSON
/// object with any of `reference` (`repo[:tag]`; untagged when absent), `message`,
/// `author`, `changes` (Dockerfile instructions applied to the config, e.g.
/// `"CMD [\"/bin/sh\"]"`), `pause` (pause the container meanwhile; true by default)
/// (schema: docs/schemas.md).
///
/// Errors: INVALID_ARGUMENT (bad options, a malformed reference or change), NOT_FOUND,
/// NOT_SUPPORTED (containerd), TIMEOUT.
///
/// # Safety
/// `out` points to writable storage; `options_json` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_container_commit(
    out: *mut *mut c_char,
    c: berth_container,
    options_json: *const c_char,
) -> berth_status {
    call(|| {
        let out = out_arg(out, "out")?;
        // SAFETY: forwarded from this function's contract.
        let options: CommitOptions =
            api::json_object(unsafe { opt_str_arg(options_json, "options_json") }?, "options_json")?;
        *out = c_string(container::commit(c.into(), options).wait()?);
        Ok(BERTH_OK)
    })
}

/// Writes `path` of the container (a file, or a directory with everything under it,
/// named by its last component inside the tar, as `docker cp` reads it) as a tar to
/// `dest` (on this host; replaced if it exists, and never left half-written).
///
/// Errors: INVALID_ARGUMENT (an empty path or dest), NOT_FOUND (the container, `path` in
/// it, or the directory of `dest`), IO, NOT_SUPPORTED (containerd), TIMEOUT.
///
/// # Safety
/// `path` and `dest` are NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn berth_container_archive(
    c: berth_container,
    path: *const c_char,
    dest: *const c_char,
) -> berth_status {
    call(|| {
        // SAFETY: forwarded from this function's contract.
        let path = unsafe { str_arg(path, "path") }?;
        // SAFETY: forwarded from this function's contract.
        let dest = unsafe { str_arg(dest, "dest") }?;
        container::archive(c.into(), path, dest).wait()?;
        Ok(BERTH_OK)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use berth_core::container::ExecSession;

    /// A session whose events end without an exit, as when the daemon went away.
    struct Orphaned(tokio::sync::Mutex<Vec<ExecEvent>>);

    #[async_trait::async_trait]
    impl ExecSession for Orphaned {
        async fn write_stdin(&self, _: &[u8]) -> berth_core::Result<()> {
            Ok(())
        }
        async fn close_stdin(&self) -> berth_core::Result<()> {
            Ok(())
        }
        async fn next_event(&self) -> Option<ExecEvent> {
            self.0.lock().await.pop()
        }
        fn failure(&self) -> Option<berth_core::Error> {
            Some(berth_core::Error::new(berth_core::ErrorKind::Unavailable, "exec: docker:///x.sock went away"))
        }
        async fn resize(&self, _: u32, _: u32) -> berth_core::Result<()> {
            Ok(())
        }
        async fn kill(&self, _: i32) -> berth_core::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn events_that_end_without_an_exit_say_why_once() {
        let chunk = ExecEvent::Output(OutputStream::Stdout, b"hi".to_vec());
        let e: berth_exec = exec::Exec::insert(Arc::new(Orphaned(tokio::sync::Mutex::new(vec![chunk]))), None)
            .unwrap_or_else(|f| panic!("{}", f.message))
            .into();
        let mut ev = berth_exec_event::empty();
        // SAFETY: `ev` is writable storage for the event.
        let next = |ev: &mut berth_exec_event| unsafe { berth_exec_next(ev, e, 10_000) };
        assert_eq!(next(&mut ev), BERTH_OK);
        assert_eq!((ev.kind, ev.data.len), (BERTH_EXEC_STDOUT, 2));
        // SAFETY: the bytes came from berth and are freed once.
        unsafe { crate::berth_bytes_free(std::mem::replace(&mut ev.data, berth_bytes::EMPTY)) };
        assert_eq!(next(&mut ev), BERTH_ERR_UNAVAILABLE);
        // SAFETY: berth's last error message is a valid C string until the next failure.
        let message = unsafe { std::ffi::CStr::from_ptr(crate::call::last_error_message()) };
        assert!(message.to_string_lossy().contains("went away"), "{message:?}");
        assert_eq!(next(&mut ev), BERTH_END);
        assert_eq!(berth_exec_close(e), BERTH_OK);
    }
}

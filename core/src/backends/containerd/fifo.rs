//! The named pipes a containerd shim connects a process's stdio to.
//!
//! The client makes the fifos, the shim opens its ends when the task or exec is
//! created. Opening one end of a fifo blocks until the other end opens, so our ends
//! are opened on blocking threads *before* the create call; if the call fails, the
//! pending opens are released by opening the other end ourselves.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use tokio::net::unix::pipe;
use tokio::task::JoinHandle;

use crate::error::{Error, ErrorKind, Result};

/// A directory of fifos for one process: stdin, stdout, stderr as requested.
pub struct FifoSet {
    pub dir: PathBuf,
    pub stdin: Option<PathBuf>,
    pub stdout: Option<PathBuf>,
    pub stderr: Option<PathBuf>,
}

fn mkfifo(path: &Path) -> Result<()> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| Error::internal("fifo path with a NUL"))?;
    // SAFETY: `c` is a valid NUL-terminated path.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        return Err(Error::io(format!("mkfifo {}", path.display()), std::io::Error::last_os_error()));
    }
    Ok(())
}

impl FifoSet {
    /// Makes the fifos for process `id` under the fifo root. A tty has no stderr.
    pub fn create(root: &Path, id: &str, stdin: bool, tty: bool) -> Result<FifoSet> {
        let dir = root.join(format!("{id}-{}", crate::util::random_suffix()));
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("create fifo dir {}", dir.display()), e))?;
        let make = |name: &str| -> Result<PathBuf> {
            let p = dir.join(name);
            mkfifo(&p)?;
            Ok(p)
        };
        let set = FifoSet {
            stdin: if stdin { Some(make("stdin")?) } else { None },
            stdout: Some(make("stdout")?),
            stderr: if tty { None } else { Some(make("stderr")?) },
            dir,
        };
        Ok(set)
    }

    pub fn path_str(p: &Option<PathBuf>) -> String {
        p.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
    }

    /// Starts opening our ends: a writer for stdin, readers for stdout and stderr.
    pub fn open_ends(&self) -> PendingEnds {
        let reader = |p: &Option<PathBuf>| {
            p.clone().map(|p| {
                tokio::task::spawn_blocking(move || {
                    let f = std::fs::OpenOptions::new().read(true).open(&p)?;
                    pipe::Receiver::from_file(f)
                })
            })
        };
        let writer = self.stdin.clone().map(|p| {
            tokio::task::spawn_blocking(move || {
                let f = std::fs::OpenOptions::new().write(true).open(&p)?;
                pipe::Sender::from_file(f)
            })
        });
        PendingEnds { stdin: writer, stdout: reader(&self.stdout), stderr: reader(&self.stderr) }
    }

    /// Releases opens still waiting (the shim never came): opening the other end
    /// completes them, and the ends are then dropped.
    pub fn release(&self) {
        for p in [&self.stdin, &self.stdout, &self.stderr].into_iter().flatten() {
            let _ = std::fs::OpenOptions::new().read(true).write(true).custom_flags(libc::O_NONBLOCK).open(p);
        }
    }

    pub fn remove(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Our ends of the fifos, being opened.
pub struct PendingEnds {
    pub stdin: Option<JoinHandle<std::io::Result<pipe::Sender>>>,
    pub stdout: Option<JoinHandle<std::io::Result<pipe::Receiver>>>,
    pub stderr: Option<JoinHandle<std::io::Result<pipe::Receiver>>>,
}

/// Waits for an end to open.
pub async fn opened<T>(h: Option<JoinHandle<std::io::Result<T>>>) -> Result<Option<T>> {
    match h {
        None => Ok(None),
        Some(h) => match h.await {
            Ok(Ok(end)) => Ok(Some(end)),
            Ok(Err(e)) => Err(Error::io("open process fifo", e)),
            Err(e) => Err(Error::new(ErrorKind::Internal, format!("fifo open task: {e}"))),
        },
    }
}

//! A layer made of a host directory: a container's overlay upper directory (where
//! whiteouts are 0:0 character devices and opaque directories carry the
//! `trusted.overlay.opaque` xattr), or a whole snapshot.
//!
//! Files are opened one path component at a time with O_NOFOLLOW, so a path the
//! container swaps for a symlink while we read fails instead of leading out of the
//! directory (portable: no openat2, which older kernels, seccomp profiles and valgrind
//! lack).

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fs::tar::{EntryKind, TarEntry};
use crate::model::LayerChanges;

/// The directory a layer's files are read from.
pub struct DirRoot {
    path: PathBuf,
    dir: File,
}

impl DirRoot {
    fn open(path: &Path) -> Result<DirRoot> {
        let dir = File::open(path).map_err(|e| Error::io(format!("open {}", path.display()), e))?;
        Ok(DirRoot { path: path.to_path_buf(), dir })
    }

    /// Reads `rel` (relative to the root) at `offset`.
    pub fn read_at(&self, rel: &str, buf: &mut [u8], offset: u64) -> Result<usize> {
        let f = self.open_in_root(rel)?;
        f.read_at(buf, offset).map_err(|e| Error::io(format!("read {}/{rel}", self.path.display()), e))
    }

    /// Opens `rel` one component at a time with O_NOFOLLOW: every component must still
    /// be what the index saw (directories, then a regular file). A component the
    /// container swapped for a symlink fails the read instead of leading anywhere.
    fn open_in_root(&self, rel: &str) -> Result<File> {
        let fail = |e: std::io::Error| Error::io(format!("open {}/{rel}", self.path.display()), e);
        let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
        let Some((last, dirs)) = parts.split_last() else {
            return Err(Error::invalid(format!("open {}: empty path", self.path.display())));
        };
        let mut dir: Option<OwnedFd> = None;
        for part in dirs {
            let fd = openat(
                dir.as_ref().map_or(self.dir.as_raw_fd(), |d| d.as_raw_fd()),
                part,
                libc::O_DIRECTORY | libc::O_PATH,
            )
            .map_err(fail)?;
            dir = Some(fd);
        }
        let fd =
            openat(dir.as_ref().map_or(self.dir.as_raw_fd(), |d| d.as_raw_fd()), last, libc::O_RDONLY).map_err(fail)?;
        Ok(File::from(fd))
    }
}

fn openat(dirfd: i32, name: &str, flags: i32) -> std::io::Result<OwnedFd> {
    let c = CString::new(name.as_bytes()).map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: a valid directory descriptor and a NUL-terminated name.
    let fd = unsafe { libc::openat(dirfd, c.as_ptr(), flags | libc::O_NOFOLLOW | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: openat returned a new descriptor that we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Walks `root` (not following symlinks) into tar-like entries. With `overlay_markers`,
/// 0:0 character devices become whiteouts and opaque directories opaques.
pub fn scan(root: &Path, overlay_markers: bool) -> Result<(Vec<TarEntry>, LayerChanges, DirRoot)> {
    let dir = DirRoot::open(root)?;
    let mut entries = Vec::new();
    let mut changes = LayerChanges { whiteouts: Vec::new(), opaques: Vec::new() };
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let full = if rel.is_empty() { root.to_path_buf() } else { root.join(&rel) };
        let mut names: Vec<_> = std::fs::read_dir(&full)
            .map_err(|e| Error::io(format!("read directory {}", full.display()), e))?
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        names.sort();
        for name in names.into_iter().rev() {
            let name = name.to_string_lossy().into_owned();
            let path = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            let p = root.join(&path);
            let m = std::fs::symlink_metadata(&p).map_err(|e| Error::io(format!("stat {}", p.display()), e))?;
            let ft = m.file_type();
            if overlay_markers && ft.is_char_device() && m.rdev() == 0 {
                changes.whiteouts.push(path);
                continue;
            }
            let kind = if ft.is_dir() {
                EntryKind::Dir
            } else if ft.is_symlink() {
                EntryKind::Symlink
            } else if ft.is_char_device() {
                EntryKind::Char
            } else if ft.is_block_device() {
                EntryKind::Block
            } else if ft.is_fifo() {
                EntryKind::Fifo
            } else {
                EntryKind::File
            };
            if kind == EntryKind::Dir {
                if overlay_markers && is_opaque(&p) {
                    changes.opaques.push(path.clone());
                }
                stack.push(path.clone());
            }
            let rdev = m.rdev();
            entries.push(TarEntry {
                path: path.clone().into_bytes().into(),
                kind,
                mode: m.mode() & 0o7777,
                uid: m.uid() as u64,
                gid: m.gid() as u64,
                size: if kind == EntryKind::File { m.size() } else { 0 },
                mtime: m.mtime(),
                mtime_nsec: m.mtime_nsec() as u32,
                link: if kind == EntryKind::Symlink {
                    Some(
                        std::fs::read_link(&p)
                            .map_err(|e| Error::io(format!("readlink {}", p.display()), e))?
                            .to_string_lossy()
                            .into_owned()
                            .into_bytes()
                            .into(),
                    )
                } else {
                    None
                },
                dev_major: libc::major(rdev) as u32,
                dev_minor: libc::minor(rdev) as u32,
                xattrs: None,
                data_offset: 0,
                sparse: None,
            });
        }
    }
    // Parents before children, as a tar would list them.
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((entries, changes, dir))
}

fn is_opaque(dir: &Path) -> bool {
    let Ok(c) = CString::new(dir.as_os_str().as_bytes()) else { return false };
    let mut value = [0u8; 4];
    for name in [c"trusted.overlay.opaque", c"user.overlay.opaque"] {
        // SAFETY: valid path and attribute name; the buffer length is passed.
        let n = unsafe { libc::lgetxattr(c.as_ptr(), name.as_ptr(), value.as_mut_ptr().cast(), value.len()) };
        if n == 1 && value[0] == b'y' {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {

    use crate::fs::{FileSystem, LayeredFs};
    use std::sync::Arc;

    #[test]
    fn reads_a_directory_as_a_layer_and_stays_inside_it() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        std::fs::write(d.path().join("etc/hosts"), b"127.0.0.1 localhost\n").unwrap();
        std::os::unix::fs::symlink("/etc/hosts", d.path().join("hostlink")).unwrap();
        let ix = Arc::new(crate::fs::layer::LayerIndex::from_dir(d.path(), true).unwrap());
        let fs = LayeredFs::new("dir", vec![ix]);
        let mut buf = [0u8; 64];
        let f = fs.open("/etc/hosts").unwrap();
        let n = f.read_at(&mut buf, 0).unwrap();
        assert_eq!(&buf[..n], b"127.0.0.1 localhost\n");
        // The absolute link resolves inside the directory, not to the host's /etc/hosts.
        assert_eq!(fs.eval_symlink("/hostlink").unwrap(), "/etc/hosts");
        // Even if the file is swapped for a link to the host after indexing.
        std::fs::remove_file(d.path().join("etc/hosts")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", d.path().join("etc/hosts")).unwrap();
        assert!(f.read_at(&mut buf, 0).is_err(), "a swapped-in symlink is not followed");
    }
}

//! A layer made of a host directory: a container's overlay upper directory (where
//! whiteouts are 0:0 character devices and opaque directories carry the
//! `trusted.overlay.opaque` xattr), or a whole snapshot.
//!
//! Files are opened beneath the directory with no symlink followed and only as regular
//! files ([`HostDir`]), so a path the container swaps for a symlink, a FIFO or a device
//! while we read fails instead of leading out of the directory or blocking.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt};
use std::path::Path;

use crate::error::{Error, Result};
use crate::fs::tar::{EntryKind, TarEntry};
use crate::host_dir::HostDir;
use crate::model::LayerChanges;

/// The directory a layer's files are read from.
pub struct DirRoot {
    dir: HostDir,
}

impl DirRoot {
    fn open(path: &Path) -> Result<DirRoot> {
        Ok(DirRoot { dir: HostDir::open(path)? })
    }

    /// Reads `rel` (relative to the root) at `offset`. Every component must still be what
    /// the index saw (directories, then a regular file): one the container swapped for a
    /// symlink, FIFO or device fails the read instead of leading anywhere.
    pub fn read_at(&self, rel: &str, buf: &mut [u8], offset: u64) -> Result<usize> {
        let f = self.dir.open_file(rel).map_err(|e| e.context(format!("directory {}", self.dir.path().display())))?;
        f.read_at(buf, offset).map_err(|e| Error::io(format!("read {}/{rel}", self.dir.path().display()), e))
    }
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

    #[test]
    fn a_file_swapped_for_a_fifo_fails_without_hanging() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("data"), b"data").unwrap();
        let ix = Arc::new(crate::fs::layer::LayerIndex::from_dir(d.path(), true).unwrap());
        let fs = LayeredFs::new("dir", vec![ix]);
        let f = fs.open("/data").unwrap();
        std::fs::remove_file(d.path().join("data")).unwrap();
        let c = std::ffi::CString::new(d.path().join("data").as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        // A hang guard, not a timing assertion: opening a FIFO for reading blocks until a
        // writer comes, and none ever does here.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4];
            let _ = tx.send(f.read_at(&mut buf, 0).map_err(|e| e.to_string()));
        });
        let r = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("reading a swapped-in FIFO hung");
        let e = r.unwrap_err();
        assert!(e.contains("data: not a regular file (a FIFO)"), "{e}");
    }
}

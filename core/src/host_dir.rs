//! Host directories that berth reads as stores (an OCI layout, a docker-save directory,
//! a daemon's layer directory), and the one way their files are opened: beneath the
//! directory, following no symlink, and only if they are regular files.
//!
//! A store is content someone else wrote. A link in it (a blob, `index.json`, a
//! `blobs/sha256` directory) must not lead to a host file, and nothing about such a
//! link's target (content, digest, size, existence) may reach an output or an error; a
//! FIFO must not hang a listing; a device must not be opened at all. So:
//!
//! - the directory itself is opened once, by the caller's path (which may be a link:
//!   that is the caller's choice, e.g. a data root moved to another disk);
//! - below it, the parent of a file is resolved with `openat2(RESOLVE_BENEATH |
//!   RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)`, or, where the kernel lacks openat2
//!   or a seccomp filter or valgrind refuses it (ENOSYS, EPERM), one component at a time
//!   with `openat(O_NOFOLLOW)` from the directory's descriptor; `..` is refused;
//! - the file is looked at (`fstatat` without following) before it is opened, so a
//!   device's driver never runs and a FIFO is never opened; then it is opened with
//!   `O_NOFOLLOW | O_NONBLOCK | O_NOCTTY` and `fstat` on the new descriptor decides (a
//!   file swapped for a FIFO or device in between is refused there, without blocking).
//!
//! Errors name the file by its path in the store and its own type ("not a regular file
//! (a symlink)"), never what a link points to.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::{Error, Result};

/// Set to `1` to open store files one component at a time even where openat2 works
/// (for a seccomp profile that kills on unknown syscalls instead of failing them, and
/// for the tests of the fallback).
pub const NO_OPENAT2_ENV: &str = "BERTH_NO_OPENAT2";

/// A host directory whose files are opened beneath it (module docs).
pub struct HostDir {
    path: PathBuf,
    fd: OwnedFd,
    /// Resolve with openat2 (else component by component).
    openat2: bool,
}

/// What a store entry is, as `lstat` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    File,
    Dir,
    Symlink,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
    Other,
}

impl EntryType {
    fn of_mode(mode: libc::mode_t) -> EntryType {
        match mode & libc::S_IFMT {
            libc::S_IFREG => EntryType::File,
            libc::S_IFDIR => EntryType::Dir,
            libc::S_IFLNK => EntryType::Symlink,
            libc::S_IFIFO => EntryType::Fifo,
            libc::S_IFSOCK => EntryType::Socket,
            libc::S_IFCHR => EntryType::CharDevice,
            libc::S_IFBLK => EntryType::BlockDevice,
            _ => EntryType::Other,
        }
    }

    /// "a symlink", as messages name it.
    pub fn describe(self) -> &'static str {
        match self {
            EntryType::File => "a regular file",
            EntryType::Dir => "a directory",
            EntryType::Symlink => "a symlink",
            EntryType::Fifo => "a FIFO",
            EntryType::Socket => "a socket",
            EntryType::CharDevice => "a character device",
            EntryType::BlockDevice => "a block device",
            EntryType::Other => "an unknown kind of file",
        }
    }
}

/// Whether store files are resolved with openat2 in this process: the kernel has it,
/// nothing filters it, and [`NO_OPENAT2_ENV`] does not turn it off. Asked once.
pub fn uses_openat2() -> bool {
    static USABLE: OnceLock<bool> = OnceLock::new();
    *USABLE.get_or_init(|| {
        if std::env::var_os(NO_OPENAT2_ENV).is_some_and(|v| v == "1") {
            return false;
        }
        // "/" is no symlink, so this fails only where openat2 is missing or filtered.
        openat2(libc::AT_FDCWD, c"/", libc::O_PATH | libc::O_DIRECTORY, libc::RESOLVE_NO_SYMLINKS).is_ok()
    })
}

impl HostDir {
    /// Opens the directory at `path`, following links in `path` itself (the caller named
    /// it). Needs read permission on it, as listing it would.
    pub fn open(path: &Path) -> Result<HostDir> {
        let fail = |e: io::Error| Error::io(format!("open directory {}", path.display()), e);
        let c = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| Error::invalid(format!("{}: the path contains a NUL byte", path.display())))?;
        // O_DIRECTORY refuses anything else during the lookup, before a FIFO could block.
        // SAFETY: a NUL-terminated path; the result is checked.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(fail(io::Error::last_os_error()));
        }
        // SAFETY: open returned a new descriptor that we now own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(HostDir { path: path.to_path_buf(), fd, openat2: uses_openat2() })
    }

    /// The path the directory was opened by.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the regular file at `rel` for reading (module docs). The error names `rel`;
    /// the caller adds which store it is.
    pub fn open_file(&self, rel: &str) -> Result<File> {
        let (dir, name) = self.parent_of(rel)?;
        let dir = dir.as_ref().map_or(self.fd.as_fd(), |d| d.as_fd());
        let cname = c_name(rel, name)?;
        // Looked at first, so that a device's driver never runs and a FIFO is never opened.
        match lstat_at(dir, &cname) {
            Ok(EntryType::File) => {}
            Ok(t) => return Err(not_regular(rel, t)),
            Err(e) => return Err(Error::io(rel, e)),
        }
        open_regular(dir, &cname, rel)
    }

    /// What is at `rel`, without following a link there or on the way: `None` when
    /// nothing is. A non-directory on the way is an error naming it.
    pub fn entry_type(&self, rel: &str) -> Result<Option<EntryType>> {
        let (dir, name) = match self.parent_of(rel) {
            Ok(x) => x,
            Err(e) if e.kind() == crate::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let dir = dir.as_ref().map_or(self.fd.as_fd(), |d| d.as_fd());
        match lstat_at(dir, &c_name(rel, name)?) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(rel, e)),
        }
    }

    /// The directory holding `rel` (None: the root itself) and `rel`'s last component.
    fn parent_of<'a>(&self, rel: &'a str) -> Result<(Option<OwnedFd>, &'a str)> {
        let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
        if parts.contains(&"..") {
            return Err(Error::invalid(format!("{rel}: a path in a store may not contain \"..\"")));
        }
        let Some((name, dirs)) = parts.split_last() else {
            return Err(Error::invalid(format!("{rel:?}: the path names no file")));
        };
        if dirs.is_empty() {
            return Ok((None, name));
        }
        if self.openat2 {
            let parent = CString::new(dirs.join("/")).map_err(|_| nul_in(rel))?;
            let resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS | libc::RESOLVE_NO_MAGICLINKS;
            match openat2(self.fd.as_raw_fd(), &parent, libc::O_PATH | libc::O_DIRECTORY, resolve) {
                Ok(fd) => return Ok((Some(fd), name)),
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::EACCES)) => {
                    return Err(Error::io(rel, e))
                }
                // ELOOP and ENOTDIR (a link or a file on the way): the walk below names the
                // component. ENOSYS, EPERM (filtered) and anything else: the walk is as
                // safe, only slower.
                Err(_) => {}
            }
        }
        let mut dir: Option<OwnedFd> = None;
        for (i, part) in dirs.iter().enumerate() {
            let at = dir.as_ref().map_or(self.fd.as_fd(), |d| d.as_fd());
            let cpart = c_name(rel, part)?;
            match openat(at, &cpart, libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW) {
                Ok(fd) => dir = Some(fd),
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOTDIR | libc::ELOOP)) => {
                    let prefix = dirs[..=i].join("/");
                    return Err(match lstat_at(at, &cpart) {
                        Ok(t) if t != EntryType::Dir => {
                            Error::corrupt(format!("{rel}: {prefix} is not a directory ({})", t.describe()))
                        }
                        _ => Error::io(rel, e),
                    });
                }
                Err(e) => return Err(Error::io(rel, e)),
            }
        }
        Ok((dir, name))
    }
}

/// Opens `name` in `dir` as a regular file: the check that decides, on the opened
/// descriptor (a file swapped since the caller looked is refused here, without blocking).
fn open_regular(dir: BorrowedFd<'_>, name: &CString, rel: &str) -> Result<File> {
    let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;
    let fd = match openat(dir, name, flags) {
        Ok(fd) => fd,
        // O_NOFOLLOW refuses a link (ELOOP), a socket cannot be opened (ENXIO): say what is
        // there rather than the errno.
        Err(e) => {
            return Err(match lstat_at(dir, name) {
                Ok(t) if t != EntryType::File => not_regular(rel, t),
                _ => Error::io(rel, e),
            })
        }
    };
    blocking_regular(fd, rel, |t| not_regular(rel, t))
}

/// Opens the regular file at `path`, following links in `path` itself: the caller named
/// it (an archive endpoint), so a link there is their choice. Anything but a regular
/// file is InvalidArgument, the caller's mistake: a FIFO is refused without blocking and
/// a device without being opened, as in a store. `what` names the file in errors.
pub fn open_named_file(path: &Path, what: &str) -> Result<File> {
    let wrong = |t: EntryType| Error::invalid(format!("{what}: not a regular file ({})", t.describe()));
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::invalid(format!("{what}: the path contains a NUL byte")))?;
    // SAFETY: stat is plain data filled by the call.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a stat buffer.
    if unsafe { libc::stat(c.as_ptr(), &mut st) } != 0 {
        return Err(Error::io(format!("open {what}"), io::Error::last_os_error()));
    }
    match EntryType::of_mode(st.st_mode) {
        EntryType::File => {}
        t => return Err(wrong(t)),
    }
    // SAFETY: a NUL-terminated path; the result is checked.
    let fd =
        owned(unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC) })
            .map_err(|e| Error::io(format!("open {what}"), e))?;
    blocking_regular(fd, what, wrong)
}

/// The check that decides, on the opened descriptor; then O_NONBLOCK is cleared. A
/// regular file on a local filesystem ignores O_NONBLOCK, but FUSE and network
/// filesystems see the open flags and may answer EAGAIN, so the descriptor is handed on
/// as a plain blocking reader.
fn blocking_regular(fd: OwnedFd, what: &str, wrong: impl Fn(EntryType) -> Error) -> Result<File> {
    let t = fstat_type(fd.as_fd()).map_err(|e| Error::io(what, e))?;
    if t != EntryType::File {
        return Err(wrong(t));
    }
    // SAFETY: fcntl on a descriptor we own.
    let cleared = unsafe {
        let fl = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        fl >= 0 && libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, fl & !libc::O_NONBLOCK) == 0
    };
    if !cleared {
        return Err(Error::io(what, io::Error::last_os_error()));
    }
    Ok(File::from(fd))
}

/// Corrupt: a store holds `t` where a file is read.
fn not_regular(rel: &str, t: EntryType) -> Error {
    Error::corrupt(format!("{rel}: not a regular file ({})", t.describe()))
}

fn nul_in(rel: &str) -> Error {
    Error::invalid(format!("{rel:?}: the path contains a NUL byte"))
}

fn c_name(rel: &str, name: &str) -> Result<CString> {
    CString::new(name).map_err(|_| nul_in(rel))
}

fn owned(fd: RawFd) -> io::Result<OwnedFd> {
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the call returned a new descriptor that we now own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn openat(dir: BorrowedFd<'_>, name: &CString, flags: i32) -> io::Result<OwnedFd> {
    // SAFETY: a valid directory descriptor and a NUL-terminated name.
    owned(unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags | libc::O_CLOEXEC) })
}

fn openat2(dir: RawFd, path: &std::ffi::CStr, flags: i32, resolve: u64) -> io::Result<OwnedFd> {
    // SAFETY: open_how is plain data; zeroed is its "nothing asked" value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.resolve = resolve;
    // SAFETY: a NUL-terminated path and an open_how of the size passed.
    let r = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir,
            path.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    owned(r as RawFd)
}

/// The type of `name` in `dir`, not following a link.
fn lstat_at(dir: BorrowedFd<'_>, name: &CString) -> io::Result<EntryType> {
    // SAFETY: stat is plain data filled by the call.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid descriptor, a NUL-terminated name and a stat buffer.
    if unsafe { libc::fstatat(dir.as_raw_fd(), name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(EntryType::of_mode(st.st_mode))
}

fn fstat_type(fd: BorrowedFd<'_>) -> io::Result<EntryType> {
    // SAFETY: stat is plain data filled by the call.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid descriptor and a stat buffer.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(EntryType::of_mode(st.st_mode))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    impl HostDir {
        /// `open` with the resolver chosen by the test.
        fn open_with(path: &Path, openat2: bool) -> HostDir {
            HostDir { openat2, ..HostDir::open(path).unwrap() }
        }
    }

    /// Each check runs with the per-component walk, and with openat2 where the kernel has it.
    fn resolvers() -> Vec<bool> {
        if uses_openat2() {
            vec![true, false]
        } else {
            vec![false]
        }
    }

    /// A store with `blobs/sha256/f` and, beside it, `host/` standing for the host.
    fn store() -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("store");
        std::fs::create_dir_all(root.join("blobs/sha256")).unwrap();
        std::fs::write(root.join("blobs/sha256/f"), b"blob").unwrap();
        std::fs::create_dir_all(d.path().join("host/sha256")).unwrap();
        std::fs::write(d.path().join("host/secret"), b"host secret").unwrap();
        std::fs::write(d.path().join("host/sha256/f"), b"host blob").unwrap();
        (d, root)
    }

    fn read(dir: &HostDir, rel: &str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        dir.open_file(rel)?.read_to_end(&mut out).unwrap();
        Ok(out)
    }

    fn mknod_null(p: &Path) {
        let c = CString::new(p.as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path; the tests run as root.
        let r = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o644, libc::makedev(1, 3)) };
        assert_eq!(r, 0, "mknod (needs root): {}", io::Error::last_os_error());
    }

    fn mkfifo(p: &Path) {
        let c = CString::new(p.as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    }

    #[test]
    fn reads_regular_files_as_blocking_readers() {
        let (_d, root) = store();
        for o2 in resolvers() {
            let dir = HostDir::open_with(&root, o2);
            assert_eq!(read(&dir, "blobs/sha256/f").unwrap(), b"blob");
            assert_eq!(read(&dir, "./blobs//sha256/./f").unwrap(), b"blob");
            let f = dir.open_file("blobs/sha256/f").unwrap();
            // SAFETY: F_GETFL on an open descriptor.
            let fl = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETFL) };
            assert_eq!(fl & libc::O_NONBLOCK, 0, "O_NONBLOCK is cleared once the file is known regular");
        }
    }

    #[test]
    fn the_root_may_be_reached_through_a_link() {
        let (d, root) = store();
        let link = d.path().join("linked-store");
        symlink(&root, &link).unwrap();
        for o2 in resolvers() {
            assert_eq!(read(&HostDir::open_with(&link, o2), "blobs/sha256/f").unwrap(), b"blob");
        }
    }

    #[test]
    fn a_final_symlink_is_refused_whatever_it_points_to() {
        let (d, root) = store();
        for o2 in resolvers() {
            let dir = HostDir::open_with(&root, o2);
            for target in [d.path().join("host/secret"), d.path().join("host/missing"), PathBuf::from("f")] {
                let p = root.join("blobs/sha256/l");
                let _ = std::fs::remove_file(&p);
                symlink(&target, &p).unwrap();
                let e = read(&dir, "blobs/sha256/l").unwrap_err();
                assert_eq!(e.kind(), crate::ErrorKind::Corrupt, "{e}");
                assert_eq!(e.message(), "blobs/sha256/l: not a regular file (a symlink)");
            }
            // Also at the top level, where no parent is resolved.
            symlink(d.path().join("host/secret"), root.join("index.json")).unwrap();
            let e = read(&dir, "index.json").unwrap_err();
            assert_eq!(e.message(), "index.json: not a regular file (a symlink)");
            std::fs::remove_file(root.join("index.json")).unwrap();
        }
    }

    #[test]
    fn a_symlinked_directory_on_the_way_is_refused() {
        let (d, root) = store();
        std::fs::remove_dir_all(root.join("blobs/sha256")).unwrap();
        symlink(d.path().join("host/sha256"), root.join("blobs/sha256")).unwrap();
        for o2 in resolvers() {
            let dir = HostDir::open_with(&root, o2);
            let e = read(&dir, "blobs/sha256/f").unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Corrupt, "{e}");
            assert_eq!(e.message(), "blobs/sha256/f: blobs/sha256 is not a directory (a symlink)");
            // A missing file behind the link reads the same: nothing is learnt of the target.
            let e = read(&dir, "blobs/sha256/missing").unwrap_err();
            assert_eq!(e.message(), "blobs/sha256/missing: blobs/sha256 is not a directory (a symlink)");
            assert!(dir.entry_type("blobs/sha256/f").is_err());
        }
    }

    #[test]
    fn a_file_on_the_way_and_dot_dot_are_refused() {
        let (_d, root) = store();
        for o2 in resolvers() {
            let dir = HostDir::open_with(&root, o2);
            let e = read(&dir, "blobs/sha256/f/x").unwrap_err();
            assert_eq!(e.message(), "blobs/sha256/f/x: blobs/sha256/f is not a directory (a regular file)");
            let e = read(&dir, "blobs/../../host/secret").unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument, "{e}");
            assert!(read(&dir, "/").is_err());
        }
    }

    #[test]
    fn fifos_sockets_and_devices_are_refused_without_being_opened() {
        let (_d, root) = store();
        let dir_path = root.join("blobs/sha256");
        mkfifo(&dir_path.join("fifo"));
        let _sock = std::os::unix::net::UnixListener::bind(dir_path.join("sock")).unwrap();
        mknod_null(&dir_path.join("null"));
        for o2 in resolvers() {
            let dir = HostDir::open_with(&root, o2);
            for (name, kind) in [("fifo", "a FIFO"), ("sock", "a socket"), ("null", "a character device"), ("", "")] {
                if name.is_empty() {
                    let e = read(&dir, "blobs").unwrap_err();
                    assert_eq!(e.message(), "blobs: not a regular file (a directory)");
                    continue;
                }
                let rel = format!("blobs/sha256/{name}");
                let e = read(&dir, &rel).unwrap_err();
                assert_eq!(e.kind(), crate::ErrorKind::Corrupt, "{e}");
                assert_eq!(e.message(), format!("{rel}: not a regular file ({kind})"));
            }
        }
    }

    #[test]
    fn a_file_swapped_after_the_look_is_refused_on_its_descriptor() {
        // open_regular is what runs after the look: it must refuse on its own, and a FIFO
        // must not block it (no writer ever comes here).
        let (_d, root) = store();
        let dir_path = root.join("blobs/sha256");
        mkfifo(&dir_path.join("fifo"));
        let _sock = std::os::unix::net::UnixListener::bind(dir_path.join("sock")).unwrap();
        mknod_null(&dir_path.join("null"));
        symlink("f", dir_path.join("link")).unwrap();
        let dir = File::open(&dir_path).unwrap();
        for (name, kind) in
            [("fifo", "a FIFO"), ("sock", "a socket"), ("null", "a character device"), ("link", "a symlink")]
        {
            let e = open_regular(dir.as_fd(), &CString::new(name).unwrap(), name).unwrap_err();
            assert_eq!(e.message(), format!("{name}: not a regular file ({kind})"));
        }
        assert!(open_regular(dir.as_fd(), &CString::new("f").unwrap(), "f").is_ok());
    }

    #[test]
    fn entry_types_are_read_without_following() {
        let (d, root) = store();
        symlink(d.path().join("host/secret"), root.join("index.json")).unwrap();
        for o2 in resolvers() {
            let dir = HostDir::open_with(&root, o2);
            assert_eq!(dir.entry_type("index.json").unwrap(), Some(EntryType::Symlink));
            assert_eq!(dir.entry_type("blobs/sha256/f").unwrap(), Some(EntryType::File));
            assert_eq!(dir.entry_type("blobs").unwrap(), Some(EntryType::Dir));
            assert_eq!(dir.entry_type("manifest.json").unwrap(), None);
            assert_eq!(dir.entry_type("no/such/dir").unwrap(), None);
        }
    }

    #[test]
    fn opening_a_non_directory_as_the_root_fails_promptly() {
        let (d, _root) = store();
        let fifo = d.path().join("fifo");
        mkfifo(&fifo);
        let e = HostDir::open(&fifo).err().unwrap();
        assert!(e.message().contains("Not a directory"), "{e}");
        assert!(HostDir::open(&d.path().join("host/secret")).is_err());
    }
}

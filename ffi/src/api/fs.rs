//! Filesystems: read-only trees of an image, a layer or a container. Every operation
//! reads local data (or a daemon's blob through the one bridge) and is synchronous.

use std::io::Read;
use std::sync::{Arc, Mutex};

use berth_core::fs::{DirEntry, File, FileSystem, Stat, Walker};

use crate::api::file::File as FileKind;
use crate::api::stream::{Stream, WalkSource};
use crate::failure::{Failure, Outcome};
use crate::handle::{Castable, Handle};
use crate::status::berth_status::{BERTH_ERR_INVALID_ARGUMENT, BERTH_ERR_IO};

/// What `read_file` reads at most when its `max_bytes` is 0: 64 MiB (the C header's
/// BERTH_READ_FILE_DEFAULT_MAX_BYTES).
pub(crate) const READ_FILE_DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The kind of a filesystem handle.
pub enum Fs {}

impl Castable for Fs {
    const KIND: u8 = 4;
    const NAME: &'static str = "filesystem";
    type Object = Arc<dyn FileSystem>;
}

/// Closes a filesystem handle; files opened from it stay open.
pub fn close(fs: Handle<Fs>) -> Outcome<()> {
    fs.remove()
}

/// The metadata of `path`, following a final symlink.
pub fn stat(fs: Handle<Fs>, path: &str) -> Outcome<Stat> {
    Ok(fs.get()?.stat(path)?)
}

/// The metadata of `path` itself (a final symlink is not followed).
pub fn lstat(fs: Handle<Fs>, path: &str) -> Outcome<Stat> {
    Ok(fs.get()?.lstat(path)?)
}

/// The target of the symlink at `path`, as stored.
pub fn readlink(fs: Handle<Fs>, path: &str) -> Outcome<String> {
    Ok(fs.get()?.readlink(path)?)
}

/// The absolute path inside the root that `path` resolves to, every symlink followed.
pub fn eval_symlink(fs: Handle<Fs>, path: &str) -> Outcome<String> {
    Ok(fs.get()?.eval_symlink(path)?)
}

/// The entries of the directory at `path`, sorted by name.
pub fn read_dir(fs: Handle<Fs>, path: &str) -> Outcome<Vec<DirEntry>> {
    Ok(fs.get()?.read_dir(path)?)
}

/// The whole regular file at `path`: at most `max_bytes` (0: 64 MiB). A larger file is
/// refused before any of it is read, and no more than `max_bytes` are ever held.
pub fn read_file(fs: Handle<Fs>, path: &str, max_bytes: u64) -> Outcome<Vec<u8>> {
    let limit = if max_bytes == 0 { READ_FILE_DEFAULT_MAX_BYTES } else { max_bytes };
    read_whole(fs.get()?.open(path)?, limit)
}

/// All of `f`, at most `limit` bytes. INVALID_ARGUMENT rather than CORRUPT or IO: the
/// file is fine, the caller asked to hold more of it in memory than it allowed.
fn read_whole(mut f: File, limit: u64) -> Outcome<Vec<u8>> {
    // Checked before any byte is read, from the size the image records.
    if f.len() > limit {
        return Err(Failure::new(
            BERTH_ERR_INVALID_ARGUMENT,
            format!(
                "read {}: the file is {} bytes, over the limit of {limit} bytes for reading a whole file \
                 (max_bytes; 0 means {READ_FILE_DEFAULT_MAX_BYTES}); stream it with berth_fs_open",
                f.path(),
                f.len()
            ),
        ));
    }
    let mut data = Vec::new();
    data.try_reserve_exact(f.len() as usize).map_err(|_| {
        Failure::new(BERTH_ERR_IO, format!("read {}: cannot hold its {} bytes in memory", f.path(), f.len()))
    })?;
    // `take`: a file whose content outgrew its recorded size still gives no more.
    (&mut f).take(limit).read_to_end(&mut data).map_err(|e| berth_core::Error::io(format!("read {}", f.path()), e))?;
    Ok(data)
}

/// Opens the regular file at `path` (following symlinks) for reading.
pub fn open(fs: Handle<Fs>, path: &str) -> Outcome<Handle<FileKind>> {
    let f = fs.get()?.open(path)?;
    Handle::insert(Arc::new(Mutex::new(f)))
}

/// Walks the tree below `root`: a stream of entries (root first, then each directory's
/// entries in name order, depth first; symlinks below the root are not followed).
pub fn walk(fs: Handle<Fs>, root: &str) -> Outcome<Handle<Stream>> {
    let walker = Walker::new(fs.get()?, root);
    Stream::insert(WalkSource(walker))
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_core::fs::{FileContent, FileType};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Content that fills every buffer it is given (a file that outgrew the size its
    /// stat recorded) and counts the reads.
    struct Endless(AtomicUsize);

    impl FileContent for Endless {
        fn read_at(&self, buf: &mut [u8], _offset: u64) -> berth_core::Result<usize> {
            self.0.fetch_add(1, Ordering::Relaxed);
            buf.fill(b'x');
            Ok(buf.len())
        }
    }

    fn file(size: u64, content: Arc<Endless>) -> File {
        let stat = Stat {
            file_type: FileType::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size,
            mtime: 0,
            mtime_nsec: 0,
            link: None,
            dev_major: 0,
            dev_minor: 0,
            xattrs: Default::default(),
        };
        File::new("/f".into(), stat, content)
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_any_read() {
        let content = Arc::new(Endless(AtomicUsize::new(0)));
        let f = read_whole(file(1 << 40, content.clone()), 1000).expect_err("refused");
        assert_eq!(f.status, BERTH_ERR_INVALID_ARGUMENT);
        assert!(f.message.contains("the file is 1099511627776 bytes, over the limit of 1000 bytes"), "{}", f.message);
        assert!(f.message.contains("berth_fs_open"), "{}", f.message);
        assert_eq!(content.0.load(Ordering::Relaxed), 0, "nothing read before the check");
    }

    #[test]
    fn no_more_than_the_limit_is_read_when_the_file_grew() {
        let content = Arc::new(Endless(AtomicUsize::new(0)));
        let data = read_whole(file(5, content), 8).unwrap_or_else(|f| panic!("{}", f.message));
        assert!(data.len() <= 8, "{} bytes held for a limit of 8", data.len());
        assert!(data.len() >= 5);
    }
}

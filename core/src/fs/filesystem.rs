//! The types every berth filesystem shares: the [`FileSystem`] trait, stat, directory
//! entries, and open files.

use std::collections::BTreeMap;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

use serde::Serialize;

use crate::error::{Error, Result};

use crate::fs::xattr::XattrValue;

/// A node of a filesystem's tree, for walks that descend without resolving paths again
/// (see [`FileSystem::node_key`]). Meaningful only to the filesystem that gave it.
pub type NodeKey = u64;

/// The type of a filesystem object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileType {
    File,
    Dir,
    Symlink,
    Char,
    Block,
    Fifo,
    Socket,
}

impl FileType {
    /// The `S_IFMT` bits of this type.
    pub fn mode_bits(self) -> u32 {
        match self {
            FileType::File => 0o100000,
            FileType::Dir => 0o040000,
            FileType::Symlink => 0o120000,
            FileType::Char => 0o020000,
            FileType::Block => 0o060000,
            FileType::Fifo => 0o010000,
            FileType::Socket => 0o140000,
        }
    }

    /// The letter `ls -l` shows.
    pub fn letter(self) -> char {
        match self {
            FileType::File => '-',
            FileType::Dir => 'd',
            FileType::Symlink => 'l',
            FileType::Char => 'c',
            FileType::Block => 'b',
            FileType::Fifo => 'p',
            FileType::Socket => 's',
        }
    }
}

/// What `stat` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stat {
    #[serde(rename = "type")]
    pub file_type: FileType,
    /// Permission bits, `0o7777` (setuid, setgid, sticky and rwx).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    /// Modification time, seconds since the epoch, and its nanoseconds.
    pub mtime: i64,
    pub mtime_nsec: u32,
    /// The target of a symlink, as stored (escaped, see `fs::names`).
    pub link: Option<String>,
    pub dev_major: u32,
    pub dev_minor: u32,
    /// Extended attributes, where the layer tar carries them (PAX `SCHILY.xattr.*`), by
    /// escaped name; the values are shared, not copied, by every stat that shows them.
    #[serde(serialize_with = "serialize_xattrs")]
    pub xattrs: BTreeMap<String, XattrValue>,
}

impl Stat {
    /// `st_mode`: type and permission bits together.
    pub fn st_mode(&self) -> u32 {
        self.file_type.mode_bits() | self.mode
    }

    /// `drwxr-xr-x`, as `ls -l` prints it.
    pub fn mode_string(&self) -> String {
        let m = self.mode;
        let mut s = String::with_capacity(10);
        s.push(self.file_type.letter());
        for (shift, special, special_char) in [(6, 0o4000, 's'), (3, 0o2000, 's'), (0, 0o1000, 't')] {
            let bits = (m >> shift) & 7;
            s.push(if bits & 4 != 0 { 'r' } else { '-' });
            s.push(if bits & 2 != 0 { 'w' } else { '-' });
            let x = bits & 1 != 0;
            s.push(match (m & special != 0, x) {
                (true, true) => special_char,
                (true, false) => special_char.to_ascii_uppercase(),
                (false, true) => 'x',
                (false, false) => '-',
            });
        }
        s
    }

    pub fn is_dir(&self) -> bool {
        self.file_type == FileType::Dir
    }
}

/// Xattr values are bytes: JSON gets them as text when they are UTF-8, else as
/// `base64:...`, so nothing is lost.
fn serialize_xattrs<S: serde::Serializer>(
    x: &BTreeMap<String, XattrValue>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(x.len()))?;
    for (k, v) in x {
        match std::str::from_utf8(v) {
            Ok(t) if !t.contains('\0') => m.serialize_entry(k, t)?,
            _ => m.serialize_entry(k, &format!("base64:{}", crate::util::base64(v)))?,
        }
    }
    m.end()
}

/// One entry of a directory listing.
#[derive(Debug, Clone, Serialize)]
pub struct DirEntry {
    /// The name, escaped (see `fs::names`): it opens by the same string.
    pub name: String,
    /// The entry's own metadata (symlinks are not followed).
    #[serde(flatten)]
    pub stat: Stat,
}

/// A read-only filesystem: an image's squashed rootfs, one layer, or a container's.
///
/// Every method decodes `path` from the escaped form of `fs::names` and resolves it inside
/// the root (see the module docs). All methods take `&self` and may be called from many
/// threads at once.
pub trait FileSystem: Send + Sync {
    /// Metadata of `path`, following a final symlink.
    fn stat(&self, path: &str) -> Result<Stat>;
    /// Metadata of `path` itself.
    fn lstat(&self, path: &str) -> Result<Stat>;
    /// The target of the symlink at `path`, as stored.
    fn readlink(&self, path: &str) -> Result<String>;
    /// The absolute path, inside the root, that `path` resolves to (like `realpath`).
    fn eval_symlink(&self, path: &str) -> Result<String>;
    /// The entries of the directory at `path` (following symlinks), sorted by name.
    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>>;
    /// Opens the regular file at `path` (following symlinks) for reading.
    fn open(&self, path: &str) -> Result<File>;

    /// Walk support: the key of the node `path` resolves to (following symlinks), for
    /// [`FileSystem::child_at`]. None when this filesystem has no node keys; a
    /// `Walker` then lists directories by path.
    fn node_key(&self, _path: &str) -> Option<Result<NodeKey>> {
        None
    }

    /// Walk support: the `index`-th entry, in name order, of the directory whose key is
    /// `dir`, with the entry's own key; None past the end (or for a key that is not a
    /// directory of this filesystem).
    fn child_at(&self, _dir: NodeKey, _index: usize) -> Option<(DirEntry, NodeKey)> {
        None
    }
}

/// Where an open file's bytes come from.
pub trait FileContent: Send + Sync {
    /// Reads up to `buf.len()` bytes at `offset`; 0 only at the end of the file.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize>;
}

/// An open, read-only file: sequential reads, `seek`, and positional `read_at`.
///
/// Reading never holds more than the caller's buffer plus the decoder state of the
/// layer (see docs/engine.md for the bound).
pub struct File {
    path: String,
    stat: Stat,
    content: Arc<dyn FileContent>,
    pos: u64,
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("File").field("path", &self.path).field("size", &self.stat.size).field("pos", &self.pos).finish()
    }
}

impl File {
    pub fn new(path: String, stat: Stat, content: Arc<dyn FileContent>) -> File {
        File { path, stat, content, pos: 0 }
    }

    /// The path the file was opened by, resolved.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn stat(&self) -> &Stat {
        &self.stat
    }

    pub fn len(&self) -> u64 {
        self.stat.size
    }

    pub fn is_empty(&self) -> bool {
        self.stat.size == 0
    }

    /// Reads up to `buf.len()` bytes at `offset` without moving the position; 0 at
    /// or past the end.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        if offset >= self.stat.size {
            return Ok(0);
        }
        self.content.read_at(buf, offset).map_err(|e| e.context(format!("read {}", self.path)))
    }
}

impl Read for File {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for File {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.stat.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match target {
            Some(t) => {
                self.pos = t;
                Ok(t)
            }
            None => Err(Error::invalid(format!(
                "seek in {}: position out of range (before the start, or past 2^64)",
                self.path
            ))
            .into()),
        }
    }
}

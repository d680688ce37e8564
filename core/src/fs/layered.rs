//! The squashed view of a stack of layers (and, with one layer, a layer's own view):
//! the tree `fs::squash` builds, read through the [`FileSystem`] trait.
//!
//! Paths from callers are in the escaped form of `fs::names` and are decoded first;
//! names going out are encoded the same way, so whatever is listed opens.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::fs::filesystem::{DirEntry, File, FileContent, FileSystem, FileType, NodeKey, Stat};
use crate::fs::layer::LayerIndex;
use crate::fs::limits::{MAX_PATH_LEN, MAX_SYMLINK_HOPS};
use crate::fs::names;
use crate::fs::resolve::{resolve, NodeId, Stop, TreeView, ROOT};
use crate::fs::squash::squash;
use crate::fs::tar::EntryKind;
use crate::fs::tree::{EntryRef, Tree};

/// A read-only filesystem over layer indexes.
pub struct LayeredFs {
    name: String,
    tree: Tree,
}

impl LayeredFs {
    /// Squashes `layers` (bottom first). `name` appears in error messages.
    pub fn new(name: impl Into<String>, layers: Vec<Arc<LayerIndex>>) -> LayeredFs {
        LayeredFs { name: name.into(), tree: squash(layers) }
    }

    fn node_stat(&self, id: NodeId) -> Stat {
        let Some(r) = self.tree.node(id).meta else {
            return Stat {
                file_type: FileType::Dir,
                mode: 0o755,
                uid: 0,
                gid: 0,
                size: 0,
                mtime: 0,
                mtime_nsec: 0,
                link: None,
                dev_major: 0,
                dev_minor: 0,
                xattrs: BTreeMap::new(),
            };
        };
        let e = self.tree.entry(r);
        let file_type = match e.kind {
            EntryKind::File | EntryKind::Hardlink => FileType::File,
            EntryKind::Dir => FileType::Dir,
            EntryKind::Symlink => FileType::Symlink,
            EntryKind::Char => FileType::Char,
            EntryKind::Block => FileType::Block,
            EntryKind::Fifo => FileType::Fifo,
        };
        let link = e.link.as_deref().filter(|_| file_type == FileType::Symlink);
        Stat {
            file_type,
            mode: e.mode,
            uid: e.uid,
            gid: e.gid,
            size: match link {
                Some(l) => l.len() as u64,
                None => e.size,
            },
            mtime: e.mtime,
            mtime_nsec: e.mtime_nsec,
            link: link.map(|l| names::encode(l).into_owned()),
            dev_major: e.dev_major,
            dev_minor: e.dev_minor,
            // The values are shared; only the (short) names are copied.
            xattrs: e.xattrs.as_ref().map_or_else(BTreeMap::new, |m| {
                m.iter().map(|(k, v)| (names::encode(k).into_owned(), v.clone())).collect()
            }),
        }
    }

    /// Resolves the caller's `path` (escaped form) inside the root.
    fn resolve(&self, op: &str, path: &str, follow_last: bool) -> Result<NodeId> {
        let fail = |kind: ErrorKind, why: &str| Error::new(kind, format!("{op} {path:?} in {}: {why}", self.name));
        if path.contains('\0') {
            return Err(fail(ErrorKind::InvalidArgument, "the path contains a NUL byte"));
        }
        let bytes = names::decode(path);
        match resolve(&self.tree, &bytes, follow_last, false) {
            Ok(r) => Ok(r.node),
            Err(Stop::NotFound) => Err(fail(ErrorKind::NotFound, "no such file or directory")),
            Err(Stop::NotDir(id)) => {
                Err(fail(ErrorKind::InvalidArgument, &format!("{} is not a directory", self.path_of(id))))
            }
            Err(Stop::TooManyLinks) => {
                Err(fail(ErrorKind::Io, &format!("too many levels of symbolic links (more than {MAX_SYMLINK_HOPS})")))
            }
            // Io like ELOOP: both say the image's links cannot be followed to an end.
            Err(Stop::TooLong) => Err(fail(
                ErrorKind::Io,
                &format!(
                    "file name too long: following symbolic links makes the path longer than {MAX_PATH_LEN} bytes"
                ),
            )),
            Err(Stop::EmptyLink) => Err(fail(ErrorKind::NotFound, "symlink with an empty target")),
        }
    }

    /// The absolute path of `id`, escaped.
    fn path_of(&self, mut id: NodeId) -> String {
        let mut parts = Vec::new();
        while id != ROOT {
            let n = self.tree.node(id);
            parts.push(&n.name[..]);
            id = n.parent;
        }
        if parts.is_empty() {
            return "/".into();
        }
        let mut s = String::new();
        names::push_path(&mut s, parts.into_iter().rev());
        s
    }

    fn dir_entry(&self, id: NodeId) -> DirEntry {
        DirEntry { name: names::encode(&self.tree.node(id).name).into_owned(), stat: self.node_stat(id) }
    }
}

/// The bytes of one tar entry.
struct EntryContent {
    layer: Arc<LayerIndex>,
    entry: usize,
}

impl FileContent for EntryContent {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<usize> {
        self.layer.read_entry_at(&self.layer.entries[self.entry], buf, offset)
    }
}

impl FileSystem for LayeredFs {
    fn stat(&self, path: &str) -> Result<Stat> {
        Ok(self.node_stat(self.resolve("stat", path, true)?))
    }

    fn lstat(&self, path: &str) -> Result<Stat> {
        Ok(self.node_stat(self.resolve("lstat", path, false)?))
    }

    fn readlink(&self, path: &str) -> Result<String> {
        let id = self.resolve("readlink", path, false)?;
        self.tree
            .link(id)
            .map(|l| names::encode(l).into_owned())
            .ok_or_else(|| Error::invalid(format!("readlink {path:?} in {}: not a symbolic link", self.name)))
    }

    fn eval_symlink(&self, path: &str) -> Result<String> {
        Ok(self.path_of(self.resolve("realpath", path, true)?))
    }

    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>> {
        let id = self.resolve("read_dir", path, true)?;
        let children = self
            .tree
            .children(id)
            .ok_or_else(|| Error::invalid(format!("read_dir {path:?} in {}: not a directory", self.name)))?;
        Ok(children.map(|child| self.dir_entry(child)).collect())
    }

    fn open(&self, path: &str) -> Result<File> {
        let id = self.resolve("open", path, true)?;
        let stat = self.node_stat(id);
        match stat.file_type {
            FileType::File => {}
            FileType::Dir => return Err(Error::invalid(format!("open {path:?} in {}: is a directory", self.name))),
            other => {
                return Err(Error::invalid(format!("open {path:?} in {}: not a regular file ({other:?})", self.name)))
            }
        }
        let Some(EntryRef { layer, entry }) = self.tree.node(id).meta else {
            return Err(Error::internal(format!("open {path:?} in {}: a regular file without an entry", self.name)));
        };
        let content = EntryContent { layer: self.tree.layers[layer as usize].clone(), entry: entry as usize };
        Ok(File::new(self.path_of(id), stat, Arc::new(content)))
    }

    fn node_key(&self, path: &str) -> Option<Result<NodeKey>> {
        Some(self.resolve("walk", path, true).map(NodeKey::from))
    }

    fn child_at(&self, dir: NodeKey, index: usize) -> Option<(DirEntry, NodeKey)> {
        let dir = NodeId::try_from(dir).ok()?;
        let children = self.tree.children(dir)?;
        let child = children.start.checked_add(NodeId::try_from(index).ok()?).filter(|c| children.contains(c))?;
        Some((self.dir_entry(child), NodeKey::from(child)))
    }
}

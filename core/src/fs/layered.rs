//! The squashed view of a stack of layers (and, with one layer, a layer's own view).
//!
//! Layers are applied bottom to top, each in three steps, as the OCI layer spec says:
//! its opaque markers clear their directories' lower contents, then its whiteouts
//! delete lower paths, then its entries are added. Because a layer's own markers are
//! applied before its own entries, they only ever hide what lies below. All lookups
//! while building are lexical: a marker under a path that is a symlink below hides
//! nothing behind the link.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, Result};
use crate::fs::layer::LayerIndex;
use crate::fs::tar::{EntryKind, TarEntry};
use crate::fs::{components, DirEntry, File, FileContent, FileSystem, FileType, Stat, MAX_SYMLINK_HOPS};

type NodeId = u32;
const ROOT: NodeId = 0;

/// An entry of one layer: `layers[layer].entries[entry]`.
#[derive(Debug, Clone, Copy)]
struct EntryRef {
    layer: u32,
    entry: u32,
}

struct Node {
    name: Box<str>,
    parent: NodeId,
    /// The tar entry describing this node; `None` for a directory no layer lists
    /// (implied by a deeper entry) and for the root when no layer has `./`.
    meta: Option<EntryRef>,
    /// Children, for directories.
    children: Option<BTreeMap<Box<str>, NodeId>>,
}

/// A read-only filesystem over layer indexes.
pub struct LayeredFs {
    name: String,
    layers: Vec<Arc<LayerIndex>>,
    nodes: Vec<Node>,
}

impl LayeredFs {
    /// Squashes `layers` (bottom first). `name` appears in error messages.
    pub fn new(name: impl Into<String>, layers: Vec<Arc<LayerIndex>>) -> LayeredFs {
        let mut fs = LayeredFs {
            name: name.into(),
            layers,
            nodes: vec![Node { name: "".into(), parent: ROOT, meta: None, children: Some(BTreeMap::new()) }],
        };
        for li in 0..fs.layers.len() {
            let layer = fs.layers[li].clone();
            fs.apply(li as u32, &layer);
        }
        fs
    }

    fn apply(&mut self, li: u32, layer: &LayerIndex) {
        for dir in &layer.changes.opaques {
            if let Some(id) = self.lookup_lexical(dir) {
                if let Some(children) = self.nodes[id as usize].children.as_mut() {
                    children.clear();
                }
            }
        }
        for path in &layer.changes.whiteouts {
            if let Some(id) = self.lookup_lexical(path) {
                self.detach(id);
            }
        }
        for (ei, entry) in layer.entries.iter().enumerate() {
            self.insert(EntryRef { layer: li, entry: ei as u32 }, entry);
        }
    }

    fn insert(&mut self, r: EntryRef, e: &TarEntry) {
        let is_dir = e.kind == EntryKind::Dir;
        if e.path.is_empty() {
            if is_dir {
                self.nodes[ROOT as usize].meta = Some(r);
            }
            return;
        }
        // A hard link is a second name for its target's inode: take the target's entry.
        // The target is looked up in the tree built so far (this layer's earlier entries
        // and the layers below), so links across layers resolve.
        let meta = if e.kind == EntryKind::Hardlink {
            let target = e.link.as_deref().unwrap_or("");
            match self.lookup_lexical(target).and_then(|id| self.nodes[id as usize].meta) {
                Some(t) if self.entry(t).kind == EntryKind::File => t,
                // A link to nothing, or to a directory, cannot be extracted either.
                _ => return,
            }
        } else {
            r
        };
        let (parent_path, name) = e.path.rsplit_once('/').unwrap_or(("", e.path.as_str()));
        let parent = self.ensure_dir(parent_path);
        let existing = self.nodes[parent as usize].children.as_ref().and_then(|c| c.get(name)).copied();
        if let Some(old) = existing {
            if is_dir && self.nodes[old as usize].children.is_some() {
                // A directory over a directory merges: new metadata, children kept.
                self.nodes[old as usize].meta = Some(meta);
                return;
            }
        }
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node { name: name.into(), parent, meta: Some(meta), children: is_dir.then(BTreeMap::new) });
        if let Some(children) = self.nodes[parent as usize].children.as_mut() {
            children.insert(name.into(), id);
        }
    }

    /// The directory at `path`, creating implied directories and replacing a
    /// non-directory that stands in the way (its layer is overridden by a deeper entry).
    fn ensure_dir(&mut self, path: &str) -> NodeId {
        let mut cur = ROOT;
        for c in path.split('/').filter(|c| !c.is_empty()) {
            let existing = self.nodes[cur as usize].children.as_ref().and_then(|m| m.get(c)).copied();
            cur = match existing {
                Some(id) if self.nodes[id as usize].children.is_some() => id,
                _ => {
                    let id = self.nodes.len() as NodeId;
                    self.nodes.push(Node { name: c.into(), parent: cur, meta: None, children: Some(BTreeMap::new()) });
                    if let Some(m) = self.nodes[cur as usize].children.as_mut() {
                        m.insert(c.into(), id);
                    }
                    id
                }
            };
        }
        cur
    }

    fn lookup_lexical(&self, path: &str) -> Option<NodeId> {
        let mut cur = ROOT;
        for c in path.split('/').filter(|c| !c.is_empty()) {
            cur = *self.nodes[cur as usize].children.as_ref()?.get(c)?;
        }
        Some(cur)
    }

    fn detach(&mut self, id: NodeId) {
        if id == ROOT {
            return;
        }
        let Node { name, parent, .. } = &self.nodes[id as usize];
        let (name, parent) = (name.clone(), *parent);
        if let Some(children) = self.nodes[parent as usize].children.as_mut() {
            children.remove(&name);
        }
    }

    fn entry(&self, r: EntryRef) -> &TarEntry {
        &self.layers[r.layer as usize].entries[r.entry as usize]
    }

    fn node_stat(&self, id: NodeId) -> Stat {
        let Some(r) = self.nodes[id as usize].meta else {
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
        let e = self.entry(r);
        let file_type = match e.kind {
            EntryKind::File | EntryKind::Hardlink => FileType::File,
            EntryKind::Dir => FileType::Dir,
            EntryKind::Symlink => FileType::Symlink,
            EntryKind::Char => FileType::Char,
            EntryKind::Block => FileType::Block,
            EntryKind::Fifo => FileType::Fifo,
        };
        Stat {
            file_type,
            mode: e.mode,
            uid: e.uid,
            gid: e.gid,
            size: if file_type == FileType::Symlink { e.link.as_ref().map_or(0, |l| l.len() as u64) } else { e.size },
            mtime: e.mtime,
            mtime_nsec: e.mtime_nsec,
            link: if file_type == FileType::Symlink { e.link.clone() } else { None },
            dev_major: e.dev_major,
            dev_minor: e.dev_minor,
            xattrs: e.xattrs.clone(),
        }
    }

    fn symlink_target(&self, id: NodeId) -> Option<&str> {
        let r = self.nodes[id as usize].meta?;
        let e = self.entry(r);
        (e.kind == EntryKind::Symlink).then(|| e.link.as_deref().unwrap_or(""))
    }

    /// Resolves `path` inside the root, following symlinks in every component but the
    /// last, and in the last too when `follow_last`.
    fn resolve(&self, op: &str, path: &str, follow_last: bool) -> Result<NodeId> {
        let fail = |kind: ErrorKind, why: &str| Error::new(kind, format!("{op} {path:?} in {}: {why}", self.name));
        // Components still to walk, last first, so a symlink's target can be pushed.
        let mut todo: Vec<String> = components(path)?.into_iter().rev().map(str::to_string).collect();
        let mut cur = ROOT;
        let mut hops = 0;
        while let Some(c) = todo.pop() {
            if c == ".." {
                cur = self.nodes[cur as usize].parent;
                continue;
            }
            let Some(children) = self.nodes[cur as usize].children.as_ref() else {
                return Err(fail(ErrorKind::InvalidArgument, &format!("{} is not a directory", self.path_of(cur))));
            };
            let Some(&child) = children.get(c.as_str()) else {
                return Err(fail(ErrorKind::NotFound, "no such file or directory"));
            };
            match self.symlink_target(child) {
                Some(target) if follow_last || !todo.is_empty() => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(fail(
                            ErrorKind::Io,
                            &format!("too many levels of symbolic links (more than {MAX_SYMLINK_HOPS})"),
                        ));
                    }
                    if target.is_empty() {
                        return Err(fail(ErrorKind::NotFound, "symlink with an empty target"));
                    }
                    if target.starts_with('/') {
                        cur = ROOT;
                    }
                    todo.extend(components(target)?.into_iter().rev().map(str::to_string));
                }
                _ => cur = child,
            }
        }
        Ok(cur)
    }

    fn path_of(&self, mut id: NodeId) -> String {
        let mut parts = Vec::new();
        while id != ROOT {
            parts.push(&*self.nodes[id as usize].name);
            id = self.nodes[id as usize].parent;
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
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
        self.symlink_target(id)
            .map(str::to_string)
            .ok_or_else(|| Error::invalid(format!("readlink {path:?} in {}: not a symbolic link", self.name)))
    }

    fn eval_symlink(&self, path: &str) -> Result<String> {
        Ok(self.path_of(self.resolve("realpath", path, true)?))
    }

    fn read_dir(&self, path: &str) -> Result<Vec<DirEntry>> {
        let id = self.resolve("read_dir", path, true)?;
        let children = self.nodes[id as usize]
            .children
            .as_ref()
            .ok_or_else(|| Error::invalid(format!("read_dir {path:?} in {}: not a directory", self.name)))?;
        Ok(children
            .iter()
            .map(|(name, &child)| DirEntry { name: name.to_string(), stat: self.node_stat(child) })
            .collect())
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
        let r = self.nodes[id as usize].meta.expect("regular files always have an entry");
        let content = EntryContent { layer: self.layers[r.layer as usize].clone(), entry: r.entry as usize };
        Ok(File::new(self.path_of(id), stat, Arc::new(content)))
    }
}

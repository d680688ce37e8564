//! Applying layers bottom to top into one tree, as the OCI layer spec and the runtimes
//! do; see docs/engine.md ("Merging layers") for the rules and why.
//!
//! Each layer: its opaque markers clear their directories' lower contents, then its
//! whiteouts delete lower paths — both lexically, never through a symlink — then its
//! entries are placed, in tar order. An entry's parent is resolved in the tree built so
//! far, following symlinks inside the root as containerd and Docker do when they apply
//! a layer (so `x/passwd` under a lower `x -> /etc` replaces `/etc/passwd`); missing
//! directories on the way are created; the last component is never followed.
//!
//! Work and memory stay proportional to what the layers hold: nodes that an entry or a
//! marker removes are recycled, consecutive entries under the same parent resolve it
//! once, and a layer repeated back to back is applied until applying it again provably
//! changes nothing.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use crate::fs::layer::LayerIndex;
use crate::fs::resolve::{resolve, NodeId, TreeView, ROOT};
use crate::fs::tar::{EntryKind, TarEntry};
use crate::fs::tree::{EntryRef, Node, Tree};

/// Squashes `layers` (bottom first) into a tree.
pub(crate) fn squash(layers: Vec<Arc<LayerIndex>>) -> Tree {
    let mut s =
        Squash { layers: &layers, nodes: vec![BuildNode::dir(Box::default(), ROOT)], free: Vec::new(), cache: None };
    // A layer repeated back to back (the same index, listed again) is skipped once two
    // applications in a row were clean: then a third cannot change anything.
    let mut clean_run = 0;
    for li in 0..layers.len() {
        let repeat = li > 0 && Arc::ptr_eq(&layers[li], &layers[li - 1]);
        if !repeat {
            clean_run = 0;
        } else if clean_run >= 2 {
            continue;
        }
        clean_run = if s.apply(li) { clean_run + 1 } else { 0 };
    }
    let nodes = s.freeze();
    Tree { nodes, layers }
}

struct BuildNode {
    name: Box<[u8]>,
    parent: NodeId,
    meta: Option<EntryRef>,
    children: Option<BTreeMap<Box<[u8]>, NodeId>>,
}

impl BuildNode {
    fn dir(name: Box<[u8]>, parent: NodeId) -> BuildNode {
        BuildNode { name, parent, meta: None, children: Some(BTreeMap::new()) }
    }
}

/// The parent directory the last entry was placed in, by its path in the layer.
struct ParentCache {
    path: Box<[u8]>,
    dir: NodeId,
    clean: bool,
}

struct Squash<'a> {
    layers: &'a [Arc<LayerIndex>],
    nodes: Vec<BuildNode>,
    /// Slots of removed nodes, reused before the arena grows.
    free: Vec<NodeId>,
    cache: Option<ParentCache>,
}

impl TreeView for Squash<'_> {
    fn child(&self, dir: NodeId, name: &[u8]) -> Option<NodeId> {
        self.nodes[dir as usize].children.as_ref()?.get(name).copied()
    }

    fn is_dir(&self, id: NodeId) -> bool {
        self.nodes[id as usize].children.is_some()
    }

    fn parent(&self, id: NodeId) -> NodeId {
        self.nodes[id as usize].parent
    }

    fn link(&self, id: NodeId) -> Option<&[u8]> {
        let e = self.entry(self.nodes[id as usize].meta?);
        (e.kind == EntryKind::Symlink).then(|| e.link.as_deref().unwrap_or_default())
    }
}

impl<'a> Squash<'a> {
    fn entry(&self, r: EntryRef) -> &'a TarEntry {
        let layers: &'a [Arc<LayerIndex>] = self.layers;
        &layers[r.layer as usize].entries[r.entry as usize]
    }

    /// Applies layer `li`. True when the application was "clean": no hard links, and
    /// every entry's parent resolved as plain directories (no symlink followed, nothing
    /// standing in the way). Clean applications depend on the tree only lexically, so
    /// applying the same layer twice cleanly reaches a fixed point.
    fn apply(&mut self, li: usize) -> bool {
        let layers: &'a [Arc<LayerIndex>] = self.layers;
        let layer = &layers[li];
        for dir in &layer.markers.opaques {
            let Some(id) = self.lookup_lexical(dir) else { continue };
            if let Some(children) = self.nodes[id as usize].children.as_mut().map(std::mem::take) {
                children.into_values().for_each(|c| self.release(c));
            }
        }
        for path in &layer.markers.whiteouts {
            if let Some(id) = self.lookup_lexical(path) {
                self.remove(id);
            }
        }
        self.cache = None;
        let mut clean = !layer.has_hardlinks;
        for (ei, entry) in layer.entries.iter().enumerate() {
            clean &= self.insert(EntryRef { layer: li as u32, entry: ei as u32 }, entry);
        }
        clean
    }

    /// Places one entry; true when its parent resolved cleanly.
    fn insert(&mut self, r: EntryRef, e: &TarEntry) -> bool {
        let is_dir = e.kind == EntryKind::Dir;
        if e.path.is_empty() {
            if is_dir {
                self.nodes[ROOT as usize].meta = Some(r);
            }
            return true;
        }
        // A hard link is a second name for its target's inode: take the target's entry.
        let meta = if e.kind == EntryKind::Hardlink {
            match self.hardlink_target(e.link.as_deref().unwrap_or_default()) {
                Some(t) => t,
                // A link to nothing, or to a directory, cannot be extracted either.
                None => return false,
            }
        } else {
            r
        };
        let (parent_path, name) = split_last(&e.path);
        let (parent, clean) = self.parent_dir(parent_path);
        if let Some(old) = self.child(parent, name) {
            let old_is_dir = self.is_dir(old);
            if is_dir && old_is_dir {
                // A directory over a directory merges: new metadata, children kept.
                self.nodes[old as usize].meta = Some(meta);
                return clean;
            }
            // The old node may lie on the cached parent's resolution (a link retargeted).
            self.cache = None;
            if !is_dir && !old_is_dir {
                self.nodes[old as usize].meta = Some(meta);
                return clean;
            }
            self.remove(old);
        }
        let node = BuildNode { name: name.into(), parent, meta: Some(meta), children: is_dir.then(BTreeMap::new) };
        self.add_child(parent, node);
        clean
    }

    /// The directory an entry whose parent is `path` goes into, and whether it was found
    /// cleanly. Resolved through symlinks inside the root; missing directories are
    /// created. A parent that does not resolve to a directory (a loop, a link to a file,
    /// a path grown past the length limit) is taken lexically instead: what stands in the
    /// way is replaced by a directory, so the entry still shows (containerd and Docker
    /// refuse such a layer outright).
    fn parent_dir(&mut self, path: &[u8]) -> (NodeId, bool) {
        if path.is_empty() {
            return (ROOT, true);
        }
        if let Some(c) = self.cache.as_ref().filter(|c| *c.path == *path) {
            return (c.dir, c.clean);
        }
        let found = match resolve(&*self, path, true, true) {
            Ok(r) if self.is_dir(r.node) => {
                let missing: Vec<Box<[u8]>> = r.missing.iter().map(|m| Box::from(*m)).collect();
                Some((r.node, missing, !r.followed, !r.saw_missing))
            }
            _ => None,
        };
        let Some((mut dir, missing, clean, cacheable)) = found else {
            self.cache = None;
            return (self.ensure_dir_lexical(path), false);
        };
        for name in missing {
            dir = self.add_child(dir, BuildNode::dir(name, dir));
        }
        // Only a resolution that met no missing component stays valid while entries are
        // added beside each other: adding a child can turn a missing name into a file.
        self.cache = cacheable.then(|| ParentCache { path: path.into(), dir, clean });
        (dir, clean)
    }

    /// The directory at `path` taken lexically: missing ones are created and anything
    /// else in the way is replaced.
    fn ensure_dir_lexical(&mut self, path: &[u8]) -> NodeId {
        let mut cur = ROOT;
        for c in path.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
            cur = match self.child(cur, c) {
                Some(id) if self.is_dir(id) => id,
                other => {
                    if let Some(id) = other {
                        self.remove(id);
                    }
                    self.add_child(cur, BuildNode::dir(c.into(), cur))
                }
            };
        }
        cur
    }

    /// The entry a hard link to `target` shares: the target's parent is resolved like an
    /// entry's (through symlinks, inside the root), its last component is not followed
    /// (a link to a symlink is a second symlink, as link(2) makes it). None for a target
    /// that is missing or a directory.
    fn hardlink_target(&self, target: &[u8]) -> Option<EntryRef> {
        if target.is_empty() {
            return None;
        }
        let (parent_path, name) = split_last(target);
        let dir = if parent_path.is_empty() {
            ROOT
        } else {
            resolve(self, parent_path, true, false).ok().map(|r| r.node).filter(|&d| self.is_dir(d))?
        };
        let id = self.child(dir, name)?;
        if self.is_dir(id) {
            return None;
        }
        self.nodes[id as usize].meta
    }

    fn lookup_lexical(&self, path: &[u8]) -> Option<NodeId> {
        let mut cur = ROOT;
        for c in path.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
            cur = self.child(cur, c)?;
        }
        Some(cur)
    }

    fn add_child(&mut self, parent: NodeId, node: BuildNode) -> NodeId {
        let name = node.name.clone();
        let id = match self.free.pop() {
            Some(id) => {
                self.nodes[id as usize] = node;
                id
            }
            None => {
                // Every node costs tens of bytes: memory runs out long before 2^32 of them.
                let id = NodeId::try_from(self.nodes.len()).expect("fewer than 2^32 nodes");
                self.nodes.push(node);
                id
            }
        };
        if let Some(children) = self.nodes[parent as usize].children.as_mut() {
            children.insert(name, id);
        }
        id
    }

    /// Unlinks `id` from its parent and recycles it with everything below it.
    fn remove(&mut self, id: NodeId) {
        if id == ROOT {
            return;
        }
        let parent = self.nodes[id as usize].parent;
        let name = std::mem::take(&mut self.nodes[id as usize].name);
        if let Some(children) = self.nodes[parent as usize].children.as_mut() {
            children.remove(&name);
        }
        self.release(id);
    }

    /// Recycles `id` and its subtree (already unlinked from its parent).
    fn release(&mut self, id: NodeId) {
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            let free = BuildNode { name: Box::default(), parent: ROOT, meta: None, children: None };
            let node = std::mem::replace(&mut self.nodes[n as usize], free);
            if let Some(children) = node.children {
                stack.extend(children.into_values());
            }
            self.free.push(n);
        }
    }

    /// The finished tree: live nodes renumbered breadth first, so that each directory's
    /// children sit next to each other in name order.
    fn freeze(mut self) -> Vec<Node> {
        let live = self.nodes.len() - self.free.len();
        let mut out: Vec<Node> = Vec::with_capacity(live);
        let root = &mut self.nodes[ROOT as usize];
        out.push(Node { name: Box::default(), parent: ROOT, meta: root.meta, children: None });
        let mut queue = VecDeque::from([(ROOT, ROOT)]);
        while let Some((old, new)) = queue.pop_front() {
            let Some(children) = self.nodes[old as usize].children.take() else { continue };
            let start = out.len() as NodeId;
            for (name, child) in children {
                let id = out.len() as NodeId;
                let c = &self.nodes[child as usize];
                out.push(Node { name, parent: new, meta: c.meta, children: None });
                queue.push_back((child, id));
            }
            out[new as usize].children = Some((start, out.len() as NodeId));
        }
        out
    }
}

/// `a/b/c` -> (`a/b`, `c`); `c` -> (``, `c`).
fn split_last(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&path[..0], path),
    }
}

//! The finished tree of a squashed filesystem: one arena of nodes, each directory's
//! children stored next to each other in name order (so a lookup is a binary search,
//! and a walk steps through a directory by index), each node pointing at the tar entry
//! that describes it.

use std::ops::Range;
use std::sync::Arc;

use crate::fs::layer::LayerIndex;
use crate::fs::resolve::{NodeId, TreeView};
use crate::fs::tar::{EntryKind, TarEntry};

/// An entry of one layer: `layers[layer].entries[entry]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EntryRef {
    pub layer: u32,
    pub entry: u32,
}

pub(crate) struct Node {
    pub name: Box<[u8]>,
    pub parent: NodeId,
    /// The tar entry describing this node; `None` for a directory no layer lists
    /// (implied by a deeper entry) and for the root when no layer has `./`.
    pub meta: Option<EntryRef>,
    /// For directories: the children, `nodes[start..end]`, sorted by name.
    pub children: Option<(NodeId, NodeId)>,
}

pub(crate) struct Tree {
    pub nodes: Vec<Node>,
    pub layers: Vec<Arc<LayerIndex>>,
}

impl Tree {
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    pub fn entry(&self, r: EntryRef) -> &TarEntry {
        &self.layers[r.layer as usize].entries[r.entry as usize]
    }

    /// The children of directory `id` (None for a non-directory).
    pub fn children(&self, id: NodeId) -> Option<Range<NodeId>> {
        self.nodes.get(id as usize)?.children.map(|(start, end)| start..end)
    }
}

impl TreeView for Tree {
    fn child(&self, dir: NodeId, name: &[u8]) -> Option<NodeId> {
        let range = self.children(dir)?;
        let slice = &self.nodes[range.start as usize..range.end as usize];
        let i = slice.binary_search_by(|n| (*n.name).cmp(name)).ok()?;
        Some(range.start + i as NodeId)
    }

    fn is_dir(&self, id: NodeId) -> bool {
        self.node(id).children.is_some()
    }

    fn parent(&self, id: NodeId) -> NodeId {
        self.node(id).parent
    }

    fn link(&self, id: NodeId) -> Option<&[u8]> {
        let e = self.entry(self.node(id).meta?);
        (e.kind == EntryKind::Symlink).then(|| e.link.as_deref().unwrap_or_default())
    }
}

//! Depth-first walks of a filesystem, in name order, with skip-dir.

use std::sync::Arc;

use crate::error::Result;
use crate::fs::filesystem::{DirEntry, FileSystem, NodeKey, Stat};

/// One entry of a walk: its absolute path and its own metadata (links not followed).
#[derive(Debug, Clone, serde::Serialize)]
pub struct WalkEntry {
    pub path: String,
    #[serde(flatten)]
    pub stat: Stat,
}

/// A pre-order walk from a root: the root first, then each directory's entries sorted
/// by name, each directory's contents right after it. Symlinks below the root are not
/// followed (a symlinked root is, as `ls -R root/` would).
///
/// Memory grows with the depth, not with the tree: one path buffer (the entry returned
/// last) and one small cursor per directory being walked. On filesystems with node keys
/// ([`FileSystem::node_key`]) a cursor is a directory key and a position, so descending
/// never resolves a path again and a walk costs O(entries) however deep the tree is;
/// other filesystems are listed by path, one directory at a time.
pub struct Walker {
    fs: Arc<dyn FileSystem>,
    root: Option<String>,
    /// The path of the entry returned last; each open directory owns a prefix of it.
    path: String,
    /// The directory returned last, to descend into on the next call unless skipped.
    descend: Option<Descend>,
    stack: Vec<Level>,
}

/// How to list a directory that is about to be descended into.
enum Descend {
    Key(NodeKey),
    /// By path (the walk's path buffer holds it).
    Path,
}

struct Level {
    cursor: Cursor,
    /// The length of the directory's own path in the path buffer.
    len: usize,
}

enum Cursor {
    Keyed { dir: NodeKey, next: usize },
    Listed(std::vec::IntoIter<DirEntry>),
}

impl Walker {
    pub fn new(fs: Arc<dyn FileSystem>, root: &str) -> Walker {
        let root = if root.starts_with('/') { root.to_string() } else { format!("/{root}") };
        Walker { fs, root: Some(root), path: String::new(), descend: None, stack: Vec::new() }
    }

    /// Do not descend into the directory the last `next()` returned.
    pub fn skip_dir(&mut self) {
        self.descend = None;
    }

    fn next_entry(&mut self) -> Result<Option<WalkEntry>> {
        if let Some(root) = self.root.take() {
            let stat = self.fs.stat(&root)?;
            if stat.is_dir() {
                self.descend = Some(match self.fs.node_key(&root) {
                    Some(key) => Descend::Key(key?),
                    None => Descend::Path,
                });
            }
            self.path = root;
            return Ok(Some(WalkEntry { path: self.path.clone(), stat }));
        }
        if let Some(d) = self.descend.take() {
            let cursor = match d {
                Descend::Key(dir) => Cursor::Keyed { dir, next: 0 },
                Descend::Path => Cursor::Listed(self.fs.read_dir(&self.path)?.into_iter()),
            };
            self.stack.push(Level { cursor, len: self.path.len() });
        }
        while let Some(level) = self.stack.last_mut() {
            let next = match &mut level.cursor {
                Cursor::Keyed { dir, next } => self.fs.child_at(*dir, *next).map(|(e, key)| {
                    *next += 1;
                    (e, Descend::Key(key))
                }),
                Cursor::Listed(entries) => entries.next().map(|e| (e, Descend::Path)),
            };
            let Some((entry, descend)) = next else {
                self.stack.pop();
                continue;
            };
            self.path.truncate(level.len);
            if !self.path.ends_with('/') {
                self.path.push('/');
            }
            self.path.push_str(&entry.name);
            if entry.stat.is_dir() {
                self.descend = Some(descend);
            }
            return Ok(Some(WalkEntry { path: self.path.clone(), stat: entry.stat }));
        }
        Ok(None)
    }
}

impl Iterator for Walker {
    type Item = Result<WalkEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_entry().transpose()
    }
}

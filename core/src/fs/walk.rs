//! Depth-first walks of a filesystem, in name order, with skip-dir.

use std::sync::Arc;

use crate::error::Result;
use crate::fs::{DirEntry, FileSystem, Stat};

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
/// Directories are listed lazily, one at a time, so memory grows with the depth and
/// directory sizes, not with the tree.
pub struct Walker {
    fs: Arc<dyn FileSystem>,
    root: Option<String>,
    /// The directory returned last, to descend into on the next call unless skipped.
    descend: Option<String>,
    stack: Vec<(String, std::vec::IntoIter<DirEntry>)>,
}

impl Walker {
    pub fn new(fs: Arc<dyn FileSystem>, root: &str) -> Walker {
        let root = if root.starts_with('/') { root.to_string() } else { format!("/{root}") };
        Walker { fs, root: Some(root), descend: None, stack: Vec::new() }
    }

    /// Do not descend into the directory the last `next()` returned.
    pub fn skip_dir(&mut self) {
        self.descend = None;
    }

    fn next_entry(&mut self) -> Result<Option<WalkEntry>> {
        if let Some(root) = self.root.take() {
            let stat = self.fs.stat(&root)?;
            if stat.is_dir() {
                self.descend = Some(root.clone());
            }
            return Ok(Some(WalkEntry { path: root, stat }));
        }
        if let Some(dir) = self.descend.take() {
            let entries = self.fs.read_dir(&dir)?;
            self.stack.push((dir, entries.into_iter()));
        }
        while let Some((dir, entries)) = self.stack.last_mut() {
            match entries.next() {
                Some(e) => {
                    let path =
                        if dir.ends_with('/') { format!("{dir}{}", e.name) } else { format!("{dir}/{}", e.name) };
                    if e.stat.is_dir() {
                        self.descend = Some(path.clone());
                    }
                    return Ok(Some(WalkEntry { path, stat: e.stat }));
                }
                None => {
                    self.stack.pop();
                }
            }
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

//! Path resolution inside a tree of nodes, as if chrooted: `..` stops at the root, an
//! absolute symlink restarts at the root, `..` after a symlink goes to the parent of the
//! link's target (as Linux does), at most [`MAX_SYMLINK_HOPS`] links are followed, and the
//! still-to-walk path never grows past [`MAX_PATH_LEN`] (or the caller's own length).
//!
//! The same walk serves lookups in a finished filesystem and the placing of entries
//! while layers are applied (where missing directories are collected to be created, as
//! `mkdir -p` would). The pending path is a stack of byte slices — the caller's path and
//! the link targets being followed, each with a cursor — so following a link costs
//! nothing but its own bytes, and memory stays at one slice per hop.

use crate::fs::limits::{MAX_PATH_LEN, MAX_SYMLINK_HOPS};

/// A node of a tree: an index into its arena.
pub(crate) type NodeId = u32;
/// The root directory; its parent is itself.
pub(crate) const ROOT: NodeId = 0;

/// What resolution needs to know of a tree.
pub(crate) trait TreeView {
    /// The child `name` of directory `dir`.
    fn child(&self, dir: NodeId, name: &[u8]) -> Option<NodeId>;
    fn is_dir(&self, id: NodeId) -> bool;
    fn parent(&self, id: NodeId) -> NodeId;
    /// The target of the symlink `id`; None when `id` is not a symlink.
    fn link(&self, id: NodeId) -> Option<&[u8]>;
}

/// Why a resolution stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// A component does not exist.
    NotFound,
    /// A component other than the last is not a directory (the node named).
    NotDir(NodeId),
    /// More than [`MAX_SYMLINK_HOPS`] links.
    TooManyLinks,
    /// Following a link made the pending path longer than the limit.
    TooLong,
    /// A link with an empty target (Linux: ENOENT).
    EmptyLink,
}

/// Where a path led.
#[derive(Debug)]
pub(crate) struct Resolved<'a> {
    /// The last node that exists on the way (the target itself when `missing` is empty).
    pub node: NodeId,
    /// With `create`: the components past `node` that do not exist yet, in order.
    pub missing: Vec<&'a [u8]>,
    /// Whether any symlink was followed.
    pub followed: bool,
    /// Whether a missing component was met on the way (even if `..` removed it again).
    pub saw_missing: bool,
}

/// Resolves `path` from the root. A symlink in the last component is followed only when
/// `follow_last`. With `create`, a missing component does not fail: it and the rest are
/// returned in `missing` (`..` removes the last of them again), for the caller to create.
pub(crate) fn resolve<'a, T: TreeView>(
    tree: &'a T,
    path: &'a [u8],
    follow_last: bool,
    create: bool,
) -> Result<Resolved<'a>, Stop> {
    let mut pending = Pending { frames: Vec::new(), len: 0, limit: MAX_PATH_LEN.max(path.len()) };
    pending.push(path);
    let mut cur = ROOT;
    let mut missing: Vec<&'a [u8]> = Vec::new();
    let mut hops = 0;
    let mut followed = false;
    let mut saw_missing = false;
    while let Some(c) = pending.next() {
        let last = pending.is_empty();
        if c == b".." {
            if missing.pop().is_none() {
                if !tree.is_dir(cur) {
                    return Err(Stop::NotDir(cur));
                }
                cur = tree.parent(cur);
            }
            continue;
        }
        if !missing.is_empty() {
            missing.push(c);
            continue;
        }
        if !tree.is_dir(cur) {
            return Err(Stop::NotDir(cur));
        }
        let Some(child) = tree.child(cur, c) else {
            if create {
                saw_missing = true;
                missing.push(c);
                continue;
            }
            return Err(Stop::NotFound);
        };
        match tree.link(child) {
            Some(target) if follow_last || !last => {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(Stop::TooManyLinks);
                }
                if target.is_empty() {
                    return Err(Stop::EmptyLink);
                }
                if pending.len + target.len() > pending.limit {
                    return Err(Stop::TooLong);
                }
                followed = true;
                if target[0] == b'/' {
                    cur = ROOT;
                }
                pending.push(target);
            }
            _ => cur = child,
        }
    }
    Ok(Resolved { node: cur, missing, followed, saw_missing })
}

/// The part of a resolution still to walk: the caller's path and the targets of the
/// links being followed, innermost last, each a slice that shrinks as it is walked.
struct Pending<'a> {
    frames: Vec<&'a [u8]>,
    /// Bytes left in all frames together.
    len: usize,
    limit: usize,
}

impl<'a> Pending<'a> {
    fn push(&mut self, bytes: &'a [u8]) {
        self.frames.push(bytes);
        self.len += bytes.len();
        self.settle();
    }

    fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// The next component (never empty, never `.`).
    fn next(&mut self) -> Option<&'a [u8]> {
        let top = self.frames.last_mut()?;
        let end = top.iter().position(|&b| b == b'/').unwrap_or(top.len());
        let (c, rest) = top.split_at(end);
        *top = rest;
        self.len -= end;
        self.settle();
        Some(c)
    }

    /// Drops separators and `.` components from the front, and frames that are used up,
    /// so that the top frame (if any) starts with a real component: "is this the last
    /// component" is then "is nothing pending".
    fn settle(&mut self) {
        while let Some(top) = self.frames.last_mut() {
            let skip = top.iter().position(|&b| b != b'/').unwrap_or(top.len());
            let rest = &top[skip..];
            let dot = rest.first() == Some(&b'.') && rest.get(1).is_none_or(|&b| b == b'/');
            let drop = skip + usize::from(dot);
            *top = &top[drop..];
            self.len -= drop;
            if top.is_empty() {
                self.frames.pop();
            } else if drop == 0 {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One node of a test tree: (name, parent, is_dir, link).
    type Row = (&'static [u8], NodeId, bool, Option<&'static [u8]>);

    struct T(Vec<Row>);

    impl TreeView for T {
        fn child(&self, dir: NodeId, name: &[u8]) -> Option<NodeId> {
            (1..self.0.len()).find(|&i| self.0[i].1 == dir && self.0[i].0 == name).map(|i| i as NodeId)
        }
        fn is_dir(&self, id: NodeId) -> bool {
            self.0[id as usize].2
        }
        fn parent(&self, id: NodeId) -> NodeId {
            self.0[id as usize].1
        }
        fn link(&self, id: NodeId) -> Option<&[u8]> {
            self.0[id as usize].3
        }
    }

    fn tree() -> T {
        let n = |name: &'static str, parent: NodeId, dir: bool, link: Option<&'static str>| {
            (name.as_bytes(), parent, dir, link.map(str::as_bytes))
        };
        T(vec![
            n("", 0, true, None),                // 0 /
            n("etc", 0, true, None),             // 1 /etc
            n("passwd", 1, false, None),         // 2 /etc/passwd
            n("x", 0, false, Some("/etc")),      // 3 /x -> /etc
            n("up", 1, false, Some("../..")),    // 4 /etc/up -> ../..
            n("self", 0, false, Some("self/a")), // 5 /self -> self/a
        ])
    }

    #[test]
    fn walks_links_dots_and_the_root() {
        let t = tree();
        let r = |p: &'static str, follow| resolve(&t, p.as_bytes(), follow, false).map(|r| r.node);
        assert_eq!(r("/etc/passwd", true), Ok(2));
        assert_eq!(r("//./etc/./passwd/", true), Ok(2));
        assert_eq!(r("x/passwd", true), Ok(2));
        assert_eq!(r("x", false), Ok(3));
        assert_eq!(r("x", true), Ok(1));
        assert_eq!(r("etc/up/etc/up/x/..", true), Ok(0));
        assert_eq!(r("../../etc", true), Ok(1));
        assert_eq!(r("etc/passwd/x", true), Err(Stop::NotDir(2)));
        assert_eq!(r("etc/passwd/..", true), Err(Stop::NotDir(2)));
        assert_eq!(r("nope", true), Err(Stop::NotFound));
    }

    #[test]
    fn self_expanding_links_stop_at_the_length_limit() {
        let t = tree();
        // self -> self/a: each hop adds bytes; without the limit it would stop at 40 hops.
        let long = format!("self{}", "/a".repeat(3000));
        assert_eq!(resolve(&t, long.as_bytes(), true, false).unwrap_err(), Stop::TooLong);
        assert_eq!(resolve(&t, b"self", true, false).unwrap_err(), Stop::TooManyLinks);
    }

    #[test]
    fn create_collects_what_is_missing() {
        let t = tree();
        let r = resolve(&t, b"x/new/deeper/../dir", true, true).unwrap();
        assert_eq!((r.node, r.missing, r.followed), (1, vec![&b"new"[..], b"dir"], true));
        let r = resolve(&t, b"etc/gone/../passwd", true, true).unwrap();
        assert_eq!((r.node, r.missing.len()), (2, 0));
    }
}

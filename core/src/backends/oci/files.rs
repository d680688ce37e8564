//! The files of an offline image store: a directory, or the members of a tar archive,
//! addressed by relative path either way.
//!
//! An archive is indexed once at open (headers only; a plain tar can be skipped through
//! with no decompression), and a member is then a byte range of the archive file.
//!
//! A directory's files are opened beneath it with no link followed and only as regular
//! files ([`HostDir`]): the store is someone else's content, and a link in it must not
//! lead to a host file or tell anything about one. Anything else where a file is read is
//! Corrupt. The archive an endpoint names is the caller's own path (a link there is their
//! choice) but must be a regular file, else InvalidArgument.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::blob::{BlobSource, FileRange};
use crate::error::{Error, Result};
use crate::fs::compression;
use crate::fs::tar::{normalize_path, EntryKind, TarReader};
use crate::host_dir::HostDir;
use crate::model::Compression;

/// The largest JSON document (index, manifest, config) read into memory.
const MAX_DOCUMENT: u64 = 64 << 20;
/// Symlinks followed inside an archive before giving up.
const MAX_LINKS: usize = 16;

pub enum Member {
    File { offset: u64, size: u64 },
    Link(String),
}

pub enum Files {
    Dir(HostDir),
    Archive { path: PathBuf, file: Arc<File>, members: HashMap<String, Member> },
}

impl Files {
    pub fn dir(path: &Path) -> Result<Files> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(format!("open layout {}", path.display()), e))?;
        if !meta.is_dir() {
            return Err(Error::invalid(format!(
                "{}: not a directory (an oci:// endpoint names an OCI layout directory)",
                path.display()
            )));
        }
        Ok(Files::Dir(HostDir::open(path)?))
    }

    /// Indexes the members of the tar archive at `path`.
    pub fn archive(path: &Path) -> Result<Files> {
        let what = format!("archive {}", path.display());
        // The caller's own path (a link there is their choice), but it must be a tar file:
        // a FIFO must not block the open, nor a device be opened.
        let file = crate::host_dir::open_named_file(path, &what)?;
        let mut head = [0u8; 4];
        let n = file.read_at(&mut head, 0).map_err(|e| Error::io(&what, e))?;
        if compression::sniff(&head[..n]) != Compression::None {
            return Err(Error::new(
                crate::ErrorKind::NotSupported,
                format!("{what}: the archive itself is compressed; decompress it first (e.g. gunzip)"),
            ));
        }
        // The same open file, not the path again: what was checked is what is read.
        let reader = BufReader::with_capacity(1 << 16, file.try_clone().map_err(|e| Error::io(&what, e))?);
        let mut tar = TarReader::new(reader);
        let mut members = HashMap::new();
        while let Some(e) = tar.next_entry().map_err(|e| e.context(&what))? {
            // Manifests name members in JSON strings, so a member (or link target) whose
            // name is not UTF-8 can never be the one a manifest means: skip it rather than
            // let a lossy conversion make it collide with one that is.
            let Ok(path) = String::from_utf8(e.path.to_vec()) else { continue };
            let Ok(link) = String::from_utf8(e.link.as_deref().unwrap_or_default().to_vec()) else { continue };
            let member = match e.kind {
                EntryKind::File => Member::File { offset: e.data_offset, size: e.size },
                EntryKind::Symlink => {
                    // Relative to the member's directory, as `docker save` writes them.
                    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                    Member::Link(normalize_path(&format!("{dir}/{link}")))
                }
                EntryKind::Hardlink => Member::Link(link),
                _ => continue,
            };
            members.insert(path, member);
        }
        Ok(Files::Archive { path: path.to_path_buf(), file: Arc::new(file), members })
    }

    /// Where the store lives, for messages.
    pub fn describe(&self) -> String {
        match self {
            Files::Dir(d) => format!("layout {}", d.path().display()),
            Files::Archive { path, .. } => format!("archive {}", path.display()),
        }
    }

    /// Whether something is at `rel`. In a directory a link counts as itself (it is not
    /// followed), and so does a path that cannot be resolved without following one: the
    /// read that comes next says what is wrong with it.
    pub fn exists(&self, rel: &str) -> bool {
        match self {
            Files::Dir(root) => !matches!(root.entry_type(&normalize_path(rel)), Ok(None)),
            Files::Archive { members, .. } => members.contains_key(&normalize_path(rel)),
        }
    }

    /// The member at `rel` as a blob source. `rel` may come from an untrusted manifest:
    /// it is normalised so it cannot leave the store.
    pub fn open(&self, rel: &str) -> Result<Arc<dyn BlobSource>> {
        let rel = normalize_path(rel);
        match self {
            Files::Dir(root) => {
                let f = root.open_file(&rel).map_err(|e| e.context(self.describe()))?;
                let len = f.metadata().map_err(|e| Error::io(format!("{}: stat {rel}", self.describe()), e))?.len();
                Ok(Arc::new(FileRange::new(Arc::new(f), 0, len)))
            }
            Files::Archive { file, members, .. } => {
                let mut name = rel.clone();
                for _ in 0..MAX_LINKS {
                    match members.get(&name) {
                        Some(Member::File { offset, size }) => {
                            return Ok(Arc::new(FileRange::new(file.clone(), *offset, *size)))
                        }
                        Some(Member::Link(t)) => name = t.clone(),
                        None => break,
                    }
                }
                Err(Error::not_found(format!("{}: no member {rel:?}", self.describe())))
            }
        }
    }

    /// Reads a small document whole (a regular file, never followed through a link).
    pub fn read(&self, rel: &str) -> Result<Vec<u8>> {
        let src = self.open(rel)?;
        if src.len() > MAX_DOCUMENT {
            return Err(Error::corrupt(format!(
                "{}: {rel} is {} bytes, too large for a JSON document",
                self.describe(),
                src.len()
            )));
        }
        let mut buf = vec![0u8; src.len() as usize];
        let mut filled = 0;
        while filled < buf.len() {
            let n = src
                .read_at(&mut buf[filled..], filled as u64)
                .map_err(|e| Error::io(format!("{}: read {rel}", self.describe()), e))?;
            if n == 0 {
                return Err(Error::corrupt(format!("{}: {rel} is truncated", self.describe())));
            }
            filled += n;
        }
        Ok(buf)
    }
}

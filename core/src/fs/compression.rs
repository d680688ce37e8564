//! Which decompressor a layer needs: from its media type, as the OCI spec says, and from
//! the magic bytes only where the store records no media type (docker-archive).

use crate::error::{Error, Result};
use crate::model::Compression;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

/// The compression a layer media type names, or Corrupt if it is not a layer type.
pub fn from_media_type(media_type: &str) -> Result<Compression> {
    let base = media_type.split(';').next().unwrap_or("").trim();
    match base {
        "application/vnd.oci.image.layer.v1.tar"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar"
        | "application/vnd.docker.image.rootfs.diff.tar" => Ok(Compression::None),
        "application/vnd.oci.image.layer.v1.tar+gzip"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
        | "application/vnd.docker.image.rootfs.diff.tar.gzip"
        | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => Ok(Compression::Gzip),
        "application/vnd.oci.image.layer.v1.tar+zstd"
        | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
        | "application/vnd.docker.image.rootfs.diff.tar.zstd" => Ok(Compression::Zstd),
        other => Err(Error::corrupt(format!("media type {other:?} is not a layer media type"))),
    }
}

/// The compression the first bytes of a blob show.
pub fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// The media type berth reports for a layer whose store gave none.
pub fn media_type_of(c: Compression) -> &'static str {
    match c {
        Compression::None => "application/vnd.oci.image.layer.v1.tar",
        Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    }
}

/// Fails with Corrupt when a blob's first bytes contradict its declared compression, so a
/// wrong media type gets a clear message instead of a decoder's.
pub fn check_magic(declared: Compression, head: &[u8], what: &str) -> Result<()> {
    let ok = match declared {
        Compression::Gzip => head.starts_with(GZIP_MAGIC),
        Compression::Zstd => head.starts_with(ZSTD_MAGIC),
        // A plain tar has no magic at byte 0; reject only an obviously compressed one.
        Compression::None => head.is_empty() || sniff(head) == Compression::None,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::corrupt(format!("{what}: media type says {declared:?} but the content is {:?}", sniff(head))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_zstd_media_types() {
        assert_eq!(from_media_type("application/vnd.oci.image.layer.v1.tar+zstd").unwrap(), Compression::Zstd);
        assert_eq!(from_media_type("application/vnd.docker.image.rootfs.diff.tar.zstd").unwrap(), Compression::Zstd);
        assert!(from_media_type("application/vnd.oci.image.config.v1+json").is_err());
    }
}

//! An image store on disk made from fuzzed documents: the first section is the top
//! document (`index.json` of an OCI layout, or a docker save `manifest.json` when it is
//! a JSON array), the others are blobs. The fuzzer cannot compute sha256, so documents
//! name blobs by placeholders that are replaced here:
//!
//! | token | becomes (for blob N, 1-9) |
//! |---|---|
//! | `@DN` | its digest, `sha256:<hex>` |
//! | `@HN` | the hex of its digest |
//! | `@SN` | its size in bytes |
//!
//! A blob may name only blobs after it (so there is no cycle to resolve); the top
//! document may name any. Every blob is stored at `blobs/sha256/<hex>` and at `blobN`
//! (a legacy docker save names its files freely).

use std::path::Path;

use berth_core::digest::Digest;

/// Blobs after the top document, at most.
pub const MAX_BLOBS: usize = 9;

/// The files of the store: `(relative path, bytes)`.
pub fn files(sections: &[&[u8]]) -> Vec<(String, Vec<u8>)> {
    let (top, blobs) = match sections.split_first() {
        Some((top, blobs)) => (*top, &blobs[..blobs.len().min(MAX_BLOBS)]),
        None => (&[][..], &[][..]),
    };
    // Resolve from the last blob down, so each blob's own tokens are final first.
    let mut resolved: Vec<Option<(Vec<u8>, Digest)>> = vec![None; blobs.len()];
    for i in (0..blobs.len()).rev() {
        let bytes = substitute(blobs[i], &resolved, i + 1);
        let digest = Digest::sha256_of(&bytes);
        resolved[i] = Some((bytes, digest));
    }
    let top = substitute(top, &resolved, 0);
    let is_docker = top.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let mut out = vec![
        (if is_docker { "manifest.json" } else { "index.json" }.to_string(), top),
        ("oci-layout".to_string(), br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()),
    ];
    for (i, r) in resolved.into_iter().enumerate() {
        let (bytes, digest) = r.expect("every blob is resolved");
        out.push((format!("blobs/sha256/{}", digest.hex()), bytes.clone()));
        out.push((format!("blob{}", i + 1), bytes));
    }
    out
}

/// Replaces the tokens that name blobs numbered above `own` (1-based; 0 for the top).
fn substitute(text: &[u8], resolved: &[Option<(Vec<u8>, Digest)>], own: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'@' && i + 2 < text.len() {
            let (kind, n) = (text[i + 1], text[i + 2]);
            let blob = n.wrapping_sub(b'0') as usize;
            if matches!(kind, b'D' | b'H' | b'S') && (1..=9).contains(&blob) && blob > own {
                if let Some(Some((bytes, digest))) = resolved.get(blob - 1) {
                    match kind {
                        b'D' => out.extend_from_slice(digest.as_str().as_bytes()),
                        b'H' => out.extend_from_slice(digest.hex().as_bytes()),
                        _ => out.extend_from_slice(bytes.len().to_string().as_bytes()),
                    }
                    i += 3;
                    continue;
                }
            }
        }
        out.push(text[i]);
        i += 1;
    }
    out
}

/// Writes `files` under `dir`.
pub fn write(dir: &Path, files: &[(String, Vec<u8>)]) -> std::io::Result<()> {
    for (rel, bytes) in files {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(p, bytes)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_later_blobs() {
        let sections: [&[u8]; 3] = [b"{\"d\":\"@D1\",\"s\":@S2}", b"x @H2 @D1", b"blob two"];
        let files = files(&sections);
        let two = Digest::sha256_of(b"blob two");
        let one_bytes = format!("x {} @D1", two.hex());
        let one = Digest::sha256_of(one_bytes.as_bytes());
        assert_eq!(files[0], ("index.json".to_string(), format!("{{\"d\":\"{one}\",\"s\":8}}").into_bytes()));
        assert!(files.contains(&("blob1".to_string(), one_bytes.into_bytes())));
    }
}

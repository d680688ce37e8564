//! The find rules of DESIGN.md §2, shared by every backend.
//!
//! In order: an exact ID; a pure hex string as a prefix of the ID's digest part; then by
//! name: a single identifier matches every image of that repository name, a repository
//! path matches all its tags, and a tagged or canonical reference matches exactly.

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::model::ImageSummary;
use crate::reference::Reference;

/// Every image in `images` that `pattern` matches, by the first rule that matches any.
pub fn find_images<'a>(images: &'a [ImageSummary], pattern: &str) -> Result<Vec<&'a ImageSummary>> {
    let pattern = pattern.trim();
    if pattern.is_empty() {
        return Err(Error::invalid("find image: empty pattern"));
    }
    // Rule 1: an exact ID, or a manifest digest, with its algorithm.
    if let Ok(d) = pattern.parse::<Digest>() {
        return Ok(images.iter().filter(|i| i.id == d || i.manifest_digest.as_ref() == Some(&d)).collect());
    }
    // Rule 2: a pure hex string is a prefix of the ID's hex part. A hex string that is
    // also a valid name ("cafe") falls through to the name rules when no ID matches.
    if pattern.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        let by_id: Vec<_> = images.iter().filter(|i| i.id.hex().starts_with(pattern)).collect();
        if !by_id.is_empty() || pattern.len() >= 64 {
            return Ok(by_id);
        }
    }
    let wanted = Reference::parse(pattern)?;
    let explicit_tag = wanted.tag.is_some() || wanted.digest.is_some();
    let single_identifier = !pattern.contains('/') && !explicit_tag;
    Ok(images
        .iter()
        .filter(|image| {
            let names = image.repo_tags.iter().chain(image.repo_digests.iter());
            names.filter_map(|n| Reference::parse(n).ok()).any(|have| {
                if explicit_tag {
                    same_reference(&wanted, &have, image)
                } else if single_identifier {
                    have.short_name() == wanted.short_name()
                } else {
                    same_repository(&wanted, &have)
                }
            })
        })
        .collect())
}

/// Exactly one image, or NotFound / Ambiguous (listing the candidates).
pub fn find_one_image<'a>(images: &'a [ImageSummary], pattern: &str, place: &str) -> Result<&'a ImageSummary> {
    let found = find_images(images, pattern)?;
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::not_found(format!("image {pattern:?} in {place}: no image matches"))),
        many => {
            Err(Error::ambiguous(format!("image {pattern:?} in {place}"), many.iter().map(|i| i.describe()).collect()))
        }
    }
}

/// A repository path matches on whole components from the right, so `foo/bar` finds
/// `docker.io/foo/bar` and `localhost/foo/bar` but not `docker.io/xfoo/bar`.
fn same_repository(wanted: &Reference, have: &Reference) -> bool {
    let (w, h) = (wanted.repository(), have.repository());
    if w == h {
        return true;
    }
    // A pattern with no domain of its own (it has a '/', so no "library/" was added)
    // matches that path under any registry.
    wanted.domain == crate::reference::DEFAULT_DOMAIN && h.ends_with(&format!("/{}", wanted.path))
}

fn same_reference(wanted: &Reference, have: &Reference, image: &ImageSummary) -> bool {
    if wanted.repository() != have.repository() {
        return false;
    }
    if let Some(d) = &wanted.digest {
        // A canonical reference names the manifest; it matches a stored repo digest, or
        // an image whose own manifest digest it is.
        return have.digest.as_ref() == Some(d) || image.manifest_digest.as_ref() == Some(d);
    }
    have.digest.is_none() && have.tag_or_latest() == wanted.tag_or_latest()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(hexchar: char, names: &[&str]) -> ImageSummary {
        ImageSummary {
            id: format!("sha256:{}", hexchar.to_string().repeat(64)).parse().unwrap(),
            repo_tags: names.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn ids(found: Vec<&ImageSummary>) -> Vec<char> {
        found.iter().map(|i| i.id.hex().chars().next().unwrap()).collect()
    }

    fn fixture() -> Vec<ImageSummary> {
        vec![
            img('a', &["docker.io/library/busybox:latest", "busybox:1.36"]),
            img('b', &["example.com/tools/busybox:v2"]),
            img('c', &["localhost/app:dev", "docker.io/team/app:1"]),
            img('d', &["cafe:1"]),
        ]
    }

    #[test]
    fn exact_id() {
        let f = fixture();
        let id = format!("sha256:{}", "b".repeat(64));
        assert_eq!(ids(find_images(&f, &id).unwrap()), vec!['b']);
        assert_eq!(ids(find_images(&f, &"b".repeat(64)).unwrap()), vec!['b']);
    }

    #[test]
    fn hex_prefix() {
        let f = fixture();
        assert_eq!(ids(find_images(&f, "ccc").unwrap()), vec!['c']);
        // "cafe" is hex but no ID starts with it: the name rules find the image named cafe.
        assert_eq!(ids(find_images(&f, "cafe").unwrap()), vec!['d']);
    }

    #[test]
    fn single_identifier_matches_every_repository_of_that_name() {
        let f = fixture();
        assert_eq!(ids(find_images(&f, "busybox").unwrap()), vec!['a', 'b']);
        assert_eq!(ids(find_images(&f, "app").unwrap()), vec!['c']);
    }

    #[test]
    fn repository_path_matches_all_tags() {
        let f = fixture();
        assert_eq!(ids(find_images(&f, "tools/busybox").unwrap()), vec!['b']);
        assert_eq!(ids(find_images(&f, "library/busybox").unwrap()), vec!['a']);
        assert_eq!(ids(find_images(&f, "team/app").unwrap()), vec!['c']);
        assert_eq!(ids(find_images(&f, "localhost/app").unwrap()), vec!['c']);
        assert!(find_images(&f, "ools/busybox").unwrap().is_empty());
    }

    #[test]
    fn tagged_and_canonical_references_match_exactly() {
        let mut f = fixture();
        assert_eq!(ids(find_images(&f, "busybox:1.36").unwrap()), vec!['a']);
        assert_eq!(ids(find_images(&f, "busybox:latest").unwrap()), vec!['a']);
        assert!(find_images(&f, "busybox:v2").unwrap().is_empty());
        assert_eq!(ids(find_images(&f, "example.com/tools/busybox:v2").unwrap()), vec!['b']);
        let m = format!("sha256:{}", "9".repeat(64));
        f[1].manifest_digest = Some(m.parse().unwrap());
        f[0].repo_digests = vec![format!("docker.io/library/busybox@sha256:{}", "8".repeat(64))];
        assert_eq!(ids(find_images(&f, &format!("example.com/tools/busybox@{m}")).unwrap()), vec!['b']);
        let r = format!("busybox@sha256:{}", "8".repeat(64));
        assert_eq!(ids(find_images(&f, &r).unwrap()), vec!['a']);
    }

    #[test]
    fn ambiguous_lists_candidates() {
        let f = fixture();
        let err = find_one_image(&f, "busybox", "test").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Ambiguous);
        assert_eq!(err.candidates().len(), 2);
        assert!(err.message().contains("example.com/tools/busybox:v2"));
        let err = find_one_image(&f, "nothing", "test").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::NotFound);
    }
}

//! References (core/src/reference.rs), digests (core/src/digest.rs) and the find rules
//! (core/src/find.rs).
//!
//! Input: lines. The first is the pattern; each further line is an image: its names
//! separated by spaces (repo tags, or `repo@digest` repo digests). Every line and name is
//! also parsed as a reference and a digest on its own.
//!
//! Checks: a parsed reference prints to a string that parses back to the same reference
//! (and prints the same), and its domain is a registry host as Docker's grammar has it
//! (`host[:port]`, host components of letters, digits and inner hyphens); a digest
//! likewise round-trips; the find rules never fail on a pattern they accept, agree with
//! `find_one_image` (one match: that one; none: NotFound; more: Ambiguous listing each),
//! and find every image by its ID, its hex and each of its own names (names that are
//! hex or digests excepted: the ID rules take those first).
#![no_main]

use berth_core::digest::Digest;
use berth_core::find::{find_images, find_one_image};
use berth_core::model::ImageSummary;
use berth_core::reference::Reference;
use berth_core::ErrorKind;
use berth_fuzz::exercise::allowed;
use libfuzzer_sys::fuzz_target;

fn round_trip(s: &str) {
    if let Some(r) = allowed("reference", Reference::parse(s)) {
        let printed = r.to_string();
        let again = Reference::parse(&printed)
            .unwrap_or_else(|e| panic!("{s:?} parses, but its printed form {printed:?} does not: {}", e.message()));
        assert_eq!(again, r, "{s:?} printed as {printed:?} parses differently");
        assert_eq!(again.to_string(), printed, "printing is not stable for {s:?}");
        assert!(!r.short_name().is_empty(), "{s:?} has an empty short name");
        assert!(registry_host(&r.domain), "{s:?} has domain {:?}, which is no registry host", r.domain);
    }
    if let Ok(d) = s.parse::<Digest>() {
        let again: Digest = d.to_string().parse().expect("a digest prints to a digest");
        assert_eq!(again, d);
        assert_eq!(format!("{}:{}", d.algorithm(), d.hex()), s);
    }
}

/// Docker's reference grammar for a domain: `host[:port]`, where a host is
/// dot-separated components of ASCII letters and digits with hyphens inside, or a
/// bracketed IPv6 address, and a port is decimal digits.
fn registry_host(domain: &str) -> bool {
    let (host, port) = match domain.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((v6, after)) => {
                if v6.is_empty() || !v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
                    return false;
                }
                match after.strip_prefix(':') {
                    Some(p) => ("v6", Some(p)),
                    None if after.is_empty() => ("v6", None),
                    None => return false,
                }
            }
            None => return false,
        },
        None => match domain.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (domain, None),
        },
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    !host.is_empty()
        && host.split('.').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        })
}

/// Whether the find rules may take `name` as an ID (hex, or a digest) before any name.
fn id_like(name: &str) -> bool {
    name.parse::<Digest>().is_ok() || name.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// Every image is found by its ID, its hex, and each name it has.
fn found_by_own_names(images: &[ImageSummary]) {
    for image in images {
        let own = image.repo_tags.iter().chain(image.repo_digests.iter());
        let by_name = own.filter(|n| !id_like(n) && Reference::parse(n).is_ok()).map(String::as_str);
        for pattern in [image.id.as_str(), image.id.hex()].into_iter().chain(by_name) {
            let found = find_images(images, pattern)
                .unwrap_or_else(|e| panic!("find {pattern:?}, a name of an image: {}", e.message()));
            assert!(found.iter().any(|i| i.id == image.id), "{pattern:?} does not find its own image");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.lines();
    let pattern = lines.next().unwrap_or("");
    round_trip(pattern);
    let mut images = Vec::new();
    for (i, line) in lines.take(16).enumerate() {
        round_trip(line);
        let mut image =
            ImageSummary { id: Digest::sha256_of(format!("image {i}").as_bytes()), ..ImageSummary::default() };
        for name in line.split(' ').filter(|n| !n.is_empty()).take(8) {
            round_trip(name);
            if name.contains('@') {
                image.repo_digests.push(name.to_string());
            } else {
                image.repo_tags.push(name.to_string());
            }
        }
        images.push(image);
    }
    found_by_own_names(&images);
    let Some(found) = allowed("find_images", find_images(&images, pattern)) else {
        // The only refusals: an empty pattern, or one that is no reference.
        assert!(pattern.trim().is_empty() || Reference::parse(pattern.trim()).is_err());
        return;
    };
    let ids: Vec<&Digest> = found.iter().map(|i| &i.id).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "an image is found twice");
    match find_one_image(&images, pattern, "fuzz") {
        Ok(one) => assert_eq!(found.len(), 1, "find_one_image found {:?} of {ids:?}", one.id),
        Err(e) if e.kind() == ErrorKind::NotFound => assert!(found.is_empty()),
        Err(e) if e.kind() == ErrorKind::Ambiguous => assert_eq!(e.candidates().len(), found.len()),
        Err(e) => panic!("find_one_image: {:?}: {}", e.kind(), e.message()),
    }
});

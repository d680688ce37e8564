//! References (core/src/reference.rs), digests (core/src/digest.rs) and the find rules
//! (core/src/find.rs).
//!
//! Input: lines. The first is the pattern; each further line is an image: its names
//! separated by spaces (repo tags, or `repo@digest` repo digests). Every line and name is
//! also parsed as a reference and a digest on its own.
//!
//! Checks: a parsed reference prints to a string that parses back to the same reference
//! (and prints the same); a digest likewise; the find rules never fail on a pattern they
//! accept and agree with `find_one_image` (one match: that one; none: NotFound; more:
//! Ambiguous listing each).
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
    }
    if let Ok(d) = s.parse::<Digest>() {
        let again: Digest = d.to_string().parse().expect("a digest prints to a digest");
        assert_eq!(again, d);
        assert_eq!(format!("{}:{}", d.algorithm(), d.hex()), s);
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
        let mut image = ImageSummary {
            id: Digest::sha256_of(format!("image {i}").as_bytes()),
            ..ImageSummary::default()
        };
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

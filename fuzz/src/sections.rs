//! One fuzz input carries several documents (layers, paths, JSON files): they are
//! separated by a marker line that a mutator can insert or delete, so the fuzzer can
//! change the number of documents as easily as their bytes.

/// The separator between sections: a line of its own, unlikely inside a tar header or
/// a JSON document, easy to write in a seed.
pub const SEPARATOR: &[u8] = b"\n%%berth%%\n";

/// Splits `data` at every [`SEPARATOR`]; always at least one section.
pub fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(at) = find(rest, SEPARATOR) {
        out.push(&rest[..at]);
        rest = &rest[at + SEPARATOR.len()..];
    }
    out.push(rest);
    out
}

/// Joins sections with the separator (for seeds and tests of the splitter).
pub fn join(sections: &[&[u8]]) -> Vec<u8> {
    sections.join(SEPARATOR)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Lines of a section as text (lossy: a path with bad UTF-8 is still a path to try).
pub fn lines(section: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(section).lines().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_join_round_trip() {
        let parts: [&[u8]; 3] = [b"a", b"", b"tar\0bytes"];
        let joined = join(&parts);
        assert_eq!(split(&joined), parts.to_vec());
        assert_eq!(split(b"plain"), vec![&b"plain"[..]]);
    }
}

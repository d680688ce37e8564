//! How a name that is not UTF-8 crosses the API.
//!
//! Inside the engine, names (path components, symlink and hard-link targets, xattr names)
//! are bytes, exactly as the layer stores them. The API speaks `String`, so each name is
//! shown in a reversible escaped form, the same in Rust, the C ABI, Python and the CLI:
//!
//! - **encode**: a name that is valid UTF-8 and contains neither `\\` (a backslash
//!   followed by another) nor `\xHH` (a backslash, `x` and two hex digits worth 0x80 to
//!   0xff) is shown as it is — nearly every name, and systemd's `dev-foo\x2dbar.swap` too.
//!   Any other name has every backslash written `\\` and every byte that is not part of
//!   a valid UTF-8 sequence written `\xHH` (lowercase hex).
//! - **decode**: `\\` is one backslash, `\xHH` with HH from 80 to ff (either case) is that
//!   byte, and everything else stands for itself.
//!
//! `decode(encode(b)) == b` for every byte string, so a name listed by `read_dir` or a
//! walk always opens by the string that was listed: `bad\xff` and `bad\xfe` stay two
//! names. Path components are encoded one by one (escapes never contain `/`), link
//! targets as a whole; a caller's path is decoded as a whole.

use std::borrow::Cow;
use std::fmt::Write;

/// The escaped form of `name` (borrowed when it is shown as it is).
pub fn encode(name: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(name) {
        if !(0..name.len()).any(|i| escape_at(name, i).is_some()) {
            return Cow::Borrowed(s);
        }
    }
    let mut out = String::with_capacity(name.len() + 8);
    for chunk in name.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    Cow::Owned(out)
}

/// The bytes a caller's (escaped) name or path stands for.
pub fn decode(s: &str) -> Cow<'_, [u8]> {
    let b = s.as_bytes();
    if !b.contains(&b'\\') {
        return Cow::Borrowed(b);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match escape_at(b, i) {
            Some((byte, len)) => {
                out.push(byte);
                i += len;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// Appends the escaped form of a path's components to `out`, each preceded by `/`.
pub fn push_path<'a>(out: &mut String, components: impl IntoIterator<Item = &'a [u8]>) {
    for c in components {
        out.push('/');
        out.push_str(&encode(c));
    }
}

/// The escape sequence starting at `b[i]`, if any: the byte it stands for and its length.
fn escape_at(b: &[u8], i: usize) -> Option<(u8, usize)> {
    if b[i] != b'\\' {
        return None;
    }
    match b.get(i + 1)? {
        b'\\' => Some((b'\\', 2)),
        b'x' => {
            let hi = hex(*b.get(i + 2)?)?;
            let lo = hex(*b.get(i + 3)?)?;
            let v = hi << 4 | lo;
            (v >= 0x80).then_some((v, 4))
        }
        _ => None,
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_are_shown_as_they_are() {
        for s in ["etc", "naïve café.txt", "dev-foo\\x2dbar.swap", "a\\b", "trailing\\", "\\x7f", "\\xg0", "\\x8"] {
            assert!(matches!(encode(s.as_bytes()), Cow::Borrowed(_)), "{s:?}");
            assert_eq!(encode(s.as_bytes()), s);
            assert_eq!(decode(s), s.as_bytes());
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_escaped_and_distinct() {
        assert_eq!(encode(b"bad\xff"), "bad\\xff");
        assert_eq!(encode(b"bad\xfe"), "bad\\xfe");
        assert_eq!(decode("bad\\xff"), &b"bad\xff"[..]);
        assert_eq!(decode("bad\\xFE"), &b"bad\xfe"[..]);
        // A backslash in an escaped name doubles; valid characters stay.
        assert_eq!(encode(b"caf\xc3\xa9\\\xff"), "café\\\\\\xff");
    }

    #[test]
    fn names_that_look_like_escapes_are_escaped() {
        // Literal text `\xff` and `\\` would decode to something else: they are escaped.
        assert_eq!(encode(b"lit\\xff"), "lit\\\\xff");
        assert_eq!(decode("lit\\\\xff"), &b"lit\\xff"[..]);
        assert_eq!(encode(b"two\\\\"), "two\\\\\\\\");
        // Hex digits of either case make an escape; an upper-case X does not.
        assert_eq!(encode(b"\\xAB"), "\\\\xAB");
        assert_eq!(encode(b"\\XAB"), "\\XAB");
    }

    #[test]
    fn decode_inverts_encode_for_any_bytes() {
        // A small xorshift generator: deterministic, no dependency.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // Bytes drawn mostly from the ones that matter: backslash, x, hex digits, high bytes.
        let alphabet: &[u8] = b"\\\\\\xxXfF80a9/ .\xff\xfe\x80\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x00z";
        let mut cases: Vec<Vec<u8>> = vec![
            vec![],
            b"\\".to_vec(),
            b"\\x".to_vec(),
            b"\\xf".to_vec(),
            b"\\xff".to_vec(),
            b"\\\\xff".to_vec(),
            b"\xff\\xff".to_vec(),
            b"\xc3".to_vec(),
            b"\xe2\x82".to_vec(),
        ];
        for _ in 0..20_000 {
            let len = (next() % 12) as usize;
            cases.push((0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect());
            let len = (next() % 8) as usize;
            cases.push((0..len).map(|_| next() as u8).collect());
        }
        for b in cases {
            let e = encode(&b);
            assert_eq!(decode(&e), &b[..], "{b:?} -> {e:?}");
        }
    }
}

//! How the CLI prints: human tables, or JSON (one object per line for listings).
//!
//! Text from an image or a daemon (names, link targets, tags, labels, messages) may hold
//! control characters that would drive the terminal (set its title, clear it, forge
//! lines): human output passes every such text through [`printable`] once, JSON output
//! through [`json_text`]. Only `cat`, `logs` and `exec` write bytes as they are: that
//! is their job.

use std::borrow::Cow;
use std::io::{self, BufWriter, Read, Stdout, Write};

use berth_core::fs::{FileType, Stat};
use berth_core::model::ImageSummary;
use berth_core::{Error, Image, Result};
use serde::Serialize;
use serde_json::json;

pub struct Out {
    json: bool,
    w: BufWriter<Stdout>,
}

impl Out {
    pub fn new(json: bool) -> Out {
        Out { json, w: BufWriter::with_capacity(256 * 1024, io::stdout()) }
    }

    /// True with `--json`.
    pub fn json(&self) -> bool {
        self.json
    }

    pub fn flush(&mut self) -> Result<()> {
        self.w.flush().map_err(|e| Error::io("write to stdout", e))
    }

    /// Text as it is, no newline added (berth's own terminal control sequences; never
    /// text from an image or a daemon).
    pub fn raw(&mut self, s: &str) -> Result<()> {
        write!(self.w, "{s}").map_err(|e| Error::io("write to stdout", e))
    }

    /// A line already made safe: berth's own text, [`printable`] or [`json_text`].
    fn line(&mut self, s: &str) -> Result<()> {
        writeln!(self.w, "{s}").map_err(|e| Error::io("write to stdout", e))
    }

    /// A listing row: `value` as one JSON line, or the human text (made printable).
    pub fn record<T: Serialize>(&mut self, value: &T, human: impl FnOnce() -> String) -> Result<()> {
        if self.json {
            let s = json_text(value, false)?;
            self.line(&s)
        } else {
            let s = human();
            self.line(&printable(&s))
        }
    }

    /// A whole document: JSON either way, pretty-printed for humans.
    pub fn document(&mut self, v: &serde_json::Value) -> Result<()> {
        let s = json_text(v, !self.json)?;
        self.line(&s)
    }

    /// A single value: the bare text (made printable), or `{"key": value}`.
    pub fn value(&mut self, key: &str, v: &str) -> Result<()> {
        if self.json {
            let s = json_text(&json!({ key: v }), false)?;
            self.line(&s)
        } else {
            self.line(&printable(v))
        }
    }

    /// A listing: JSON lines of `items`, or a table whose columns are as wide as their
    /// widest cell (the last one unpadded).
    pub fn table<T: Serialize>(
        &mut self,
        header: &[&str],
        items: &[T],
        cells: impl Fn(&T) -> Vec<String>,
    ) -> Result<()> {
        if self.json {
            for i in items {
                self.record(i, String::new)?;
            }
            return Ok(());
        }
        // Widths are measured on what is printed.
        let rows: Vec<Vec<String>> =
            items.iter().map(|i| cells(i).iter().map(|c| printable(c).into_owned()).collect()).collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for r in &rows {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
        for r in std::iter::once(&header).chain(&rows) {
            let mut line = String::new();
            for (n, c) in r.iter().enumerate() {
                if n + 1 == r.len() {
                    line.push_str(c);
                } else {
                    line.push_str(&format!("{c:<w$}  ", w = widths[n]));
                }
            }
            self.line(line.trim_end())?;
        }
        Ok(())
    }

    pub fn images(&mut self, images: &[ImageSummary]) -> Result<()> {
        if !self.json {
            self.line(&format!("{:<48} {:<12} {:>10}  {:<14} CREATED", "NAME", "ID", "SIZE", "PLATFORM"))?;
        }
        for i in images {
            self.record(i, || {
                let names = if i.repo_tags.is_empty() { "<none>".to_string() } else { i.repo_tags.join(",") };
                let platform = i.platform.as_ref().map(|p| p.to_string()).unwrap_or_default();
                format!(
                    "{:<48} {:<12} {:>10}  {:<14} {}",
                    names,
                    &i.id.hex()[..12],
                    human_size(i.size),
                    platform,
                    i.created.as_deref().unwrap_or("")
                )
            })?;
        }
        Ok(())
    }

    pub fn layers(&mut self, image: &Image) -> Result<()> {
        if !self.json {
            self.line(&format!(
                "{:>3}  {:<19} {:<8} {:>10} {:>9} {:>7}  DIFF-ID",
                "#", "DIGEST", "COMPRESS", "SIZE", "WHITEOUTS", "OPAQUES"
            ))?;
        }
        for (n, layer) in image.layers().iter().enumerate() {
            let info = layer.info();
            let changes = layer.changes()?;
            let doc = json!({
                "index": n + 1,
                "digest": info.digest,
                "diff_id": info.diff_id,
                "media_type": info.media_type,
                "compression": info.compression,
                "size": info.size,
                "whiteouts": changes.whiteouts,
                "opaques": changes.opaques,
            });
            self.record(&doc, || {
                format!(
                    "{:>3}  {:<19} {:<8} {:>10} {:>9} {:>7}  {}",
                    n + 1,
                    &info.digest.as_str()[..19.min(info.digest.as_str().len())],
                    format!("{:?}", info.compression).to_lowercase(),
                    human_size(info.size),
                    changes.whiteouts.len(),
                    changes.opaques.len(),
                    info.diff_id.as_ref().map_or("", |d| &d.as_str()[..19.min(d.as_str().len())])
                )
            })?;
        }
        Ok(())
    }

    /// One file of a listing: `ls -l` style, or a JSON object with its path.
    pub fn entry(&mut self, path: &str, stat: &Stat, sha256: Option<&str>) -> Result<()> {
        if self.json {
            let mut v = serde_json::to_value(stat).map_err(|e| Error::internal(e.to_string()))?;
            if let Some(m) = v.as_object_mut() {
                m.insert("path".into(), path.into());
                if stat.xattrs.is_empty() {
                    m.remove("xattrs");
                }
                if !matches!(stat.file_type, FileType::Char | FileType::Block) {
                    m.remove("dev_major");
                    m.remove("dev_minor");
                }
                if let Some(h) = sha256 {
                    m.insert("sha256".into(), h.into());
                }
            }
            let s = json_text(&v, false)?;
            return self.line(&s);
        }
        let size = match stat.file_type {
            FileType::Char | FileType::Block => format!("{}, {}", stat.dev_major, stat.dev_minor),
            _ => stat.size.to_string(),
        };
        let mut s = format!("{} {:>5} {:>5} {:>10} {}", stat.mode_string(), stat.uid, stat.gid, size, path);
        if let Some(l) = &stat.link {
            s.push_str(" -> ");
            s.push_str(l);
        }
        if let Some(h) = sha256 {
            s.push_str("  sha256:");
            s.push_str(h);
        }
        self.line(&printable(&s))
    }

    pub fn stat(&mut self, path: &str, stat: &Stat) -> Result<()> {
        if self.json {
            let mut v = serde_json::to_value(stat).map_err(|e| Error::internal(e.to_string()))?;
            if let Some(m) = v.as_object_mut() {
                m.insert("path".into(), path.into());
            }
            let s = json_text(&v, false)?;
            return self.line(&s);
        }
        let mut lines = vec![
            format!("  File: {path}{}", stat.link.as_ref().map(|l| format!(" -> {l}")).unwrap_or_default()),
            format!("  Type: {}", format!("{:?}", stat.file_type).to_lowercase()),
            format!("  Size: {}", stat.size),
            format!("  Mode: {:04o} ({})", stat.mode, stat.mode_string()),
            format!("   Uid: {}   Gid: {}", stat.uid, stat.gid),
            format!(" Mtime: {}.{:09}", stat.mtime, stat.mtime_nsec),
        ];
        if matches!(stat.file_type, FileType::Char | FileType::Block) {
            lines.push(format!("Device: {},{}", stat.dev_major, stat.dev_minor));
        }
        for (k, v) in &stat.xattrs {
            lines.push(format!(" Xattr: {k}={}", String::from_utf8_lossy(v)));
        }
        for l in lines {
            self.line(&printable(&l))?;
        }
        Ok(())
    }

    /// Streams a file to stdout.
    pub fn copy_from(&mut self, r: &mut dyn Read) -> io::Result<u64> {
        io::copy(r, &mut self.w)
    }
}

/// `s` as it may be printed on a terminal: every control character (C0, DEL and C1,
/// U+0080-U+009F; newlines, carriage returns and tabs too) becomes `\x` and two
/// lowercase hex digits per byte of its UTF-8 form (ESC is `\x1b`, U+009B `\xc2\x9b`),
/// and a backslash that would read as such an escape (`\x` and two hex digits below 80)
/// becomes `\x5c`. Names from an image arrive in berth's form for non-UTF-8 names
/// (`\xHH` for a byte of 80-ff, `\\` for a backslash, docs/engine.md), which is kept,
/// so `\xHH` in human output always stands for the byte HH. Apply it once per text.
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c == '\\' || is_control(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let after = &rest[c.len_utf8()..];
        if c == '\\' && after.starts_with('\\') {
            // An escaped backslash of a non-UTF-8 name: kept as a pair, so the
            // backslash after it is not taken for the start of an escape.
            out.push_str("\\\\");
            rest = &after[1..];
            continue;
        }
        if c == '\\' && reads_as_control_escape(after) {
            out.push_str("\\x5c");
        } else if is_control(c) {
            for b in c.encode_utf8(&mut [0; 4]).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            out.push(c);
        }
        rest = after;
    }
    Cow::Owned(out)
}

/// C0, DEL and C1: what a terminal may act on.
fn is_control(c: char) -> bool {
    matches!(c, '\0'..='\x1f' | '\x7f'..='\u{9f}')
}

/// True when `after` (what follows a backslash) is `x` and two hex digits below 80:
/// what [`printable`] writes for a control character.
fn reads_as_control_escape(after: &str) -> bool {
    matches!(after.as_bytes(), [b'x', b'0'..=b'7', h, ..] if h.is_ascii_hexdigit())
}

/// `v` as JSON text, exact for any parser, with DEL and the C1 controls written as
/// `\u` escapes like the C0 ones serde_json already escapes: no control character
/// reaches a terminal that shows JSON either.
pub fn json_text<T: Serialize + ?Sized>(v: &T, pretty: bool) -> Result<String> {
    let text = if pretty { serde_json::to_string_pretty(v) } else { serde_json::to_string(v) }
        .map_err(|e| Error::internal(format!("write JSON: {e}")))?;
    // serde_json leaves no raw control character inside a string but DEL and C1;
    // outside strings there is only printable ASCII and, pretty, newlines.
    let raw = |c: char| is_control(c) && c != '\n';
    if !text.chars().any(raw) {
        return Ok(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if raw(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_controls_and_keeps_the_rest() {
        assert!(matches!(printable("/usr/lib/os-release é"), Cow::Borrowed(_)));
        let cases = [
            ("\x1b]0;title\x07", r"\x1b]0;title\x07"),
            ("a\nb\rc\td", r"a\x0ab\x0dc\x09d"),
            ("del\x7f", r"del\x7f"),
            ("c1\u{9b}2J \u{80}", r"c1\xc2\x9b2J \xc2\x80"),
            // Not a control, but it would read as one.
            (r"lit\x1b", r"lit\x5cx1b"),
            (r"lit\x7F", r"lit\x5cx7F"),
            // berth's form of names that are not UTF-8 stays as it is.
            (r"bad\xff", r"bad\xff"),
            (r"a\\x1b\xfe", r"a\\x1b\xfe"),
            (r"back\slash\", r"back\slash\"),
        ];
        for (text, shown) in cases {
            assert_eq!(printable(text), shown, "{text:?}");
            assert!(!printable(text).chars().any(is_control), "{text:?}");
        }
    }

    #[test]
    fn json_text_is_exact_and_inert() {
        let v = json!({ "name": "\x1b[2J\u{7f}\u{85}\n", "n": 1 });
        for pretty in [false, true] {
            let text = json_text(&v, pretty).unwrap();
            assert!(!text.chars().any(|c| is_control(c) && c != '\n'), "{text}");
            assert!(text.contains(r"\u001b[2J\u007f\u0085\n"), "{text}");
            assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
        }
    }
}

//! How the CLI prints: human tables, or JSON (one object per line for listings).

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

    /// Text as it is, no newline added (terminal control sequences).
    pub fn raw(&mut self, s: &str) -> Result<()> {
        write!(self.w, "{s}").map_err(|e| Error::io("write to stdout", e))
    }

    fn line(&mut self, s: &str) -> Result<()> {
        writeln!(self.w, "{s}").map_err(|e| Error::io("write to stdout", e))
    }

    /// A listing row: `value` as one JSON line, or the human text.
    pub fn record<T: Serialize>(&mut self, value: &T, human: impl FnOnce() -> String) -> Result<()> {
        if self.json {
            let s = serde_json::to_string(value).map_err(|e| Error::internal(e.to_string()))?;
            self.line(&s)
        } else {
            let s = human();
            self.line(&s)
        }
    }

    /// A whole document, pretty-printed either way.
    pub fn document(&mut self, v: &serde_json::Value) -> Result<()> {
        let s = if self.json { v.to_string() } else { serde_json::to_string_pretty(v).unwrap_or_default() };
        self.line(&s)
    }

    /// A single value: the bare text, or `{"key": value}`.
    pub fn value(&mut self, key: &str, v: &str) -> Result<()> {
        if self.json {
            self.line(&json!({ key: v }).to_string())
        } else {
            self.line(v)
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
        let rows: Vec<Vec<String>> = items.iter().map(cells).collect();
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
            return self.line(&v.to_string());
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
        self.line(&s)
    }

    pub fn stat(&mut self, path: &str, stat: &Stat) -> Result<()> {
        if self.json {
            let mut v = serde_json::to_value(stat).map_err(|e| Error::internal(e.to_string()))?;
            if let Some(m) = v.as_object_mut() {
                m.insert("path".into(), path.into());
            }
            return self.line(&v.to_string());
        }
        let mut lines = vec![
            format!("  File: {path}{}", stat.link.as_ref().map(|l| format!(" -> {l}")).unwrap_or_default()),
            format!("  Type: {:?}", stat.file_type).to_lowercase(),
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
            self.line(&l)?;
        }
        Ok(())
    }

    /// Streams a file to stdout.
    pub fn copy_from(&mut self, r: &mut dyn Read) -> io::Result<u64> {
        io::copy(r, &mut self.w)
    }
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

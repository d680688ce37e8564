//! A tar writer that can produce every header form berth reads: ustar, GNU long names,
//! PAX records, base-256 numbers, old GNU sparse and PAX sparse 1.0, devices, and the
//! whiteout markers of the OCI layer spec.

const BLOCK: usize = 512;

#[derive(Default)]
pub struct TarBuilder {
    out: Vec<u8>,
}

/// Metadata of an entry beyond its path and content.
#[derive(Clone, Copy)]
pub struct Meta {
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
}

impl Default for Meta {
    fn default() -> Self {
        Meta { mode: 0o644, uid: 0, gid: 0, mtime: 1_700_000_000 }
    }
}

impl TarBuilder {
    pub fn new() -> TarBuilder {
        TarBuilder::default()
    }

    pub fn dir(mut self, path: &str) -> Self {
        self.header(path, b'5', 0, "", Meta { mode: 0o755, ..Meta::default() }, None);
        self
    }

    pub fn dir_with(mut self, path: &str, meta: Meta) -> Self {
        self.header(path, b'5', 0, "", meta, None);
        self
    }

    pub fn file(self, path: &str, data: &[u8]) -> Self {
        self.file_with(path, data, Meta::default())
    }

    pub fn file_with(mut self, path: &str, data: &[u8], meta: Meta) -> Self {
        self.header(path, b'0', data.len() as u64, "", meta, None);
        self.data(data);
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.header(path, b'2', 0, target, Meta { mode: 0o777, ..Meta::default() }, None);
        self
    }

    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        self.header(path, b'1', 0, target, Meta::default(), None);
        self
    }

    pub fn char_device(mut self, path: &str, major: u32, minor: u32) -> Self {
        self.header(path, b'3', 0, "", Meta { mode: 0o666, ..Meta::default() }, Some((major, minor)));
        self
    }

    pub fn fifo(mut self, path: &str) -> Self {
        self.header(path, b'6', 0, "", Meta::default(), None);
        self
    }

    /// `.wh.NAME` beside `path`: deletes `path` from the layers below.
    pub fn whiteout(self, path: &str) -> Self {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let marker = if dir.is_empty() { format!(".wh.{name}") } else { format!("{dir}/.wh.{name}") };
        self.file(&marker, b"")
    }

    /// `DIR/.wh..wh..opq`: hides everything below DIR in the layers below.
    pub fn opaque(self, dir: &str) -> Self {
        self.file(&format!("{dir}/.wh..wh..opq"), b"")
    }

    /// A PAX extended header with `records`, then a regular file.
    pub fn pax_file(mut self, path: &str, data: &[u8], records: &[(&str, &[u8])]) -> Self {
        self.pax(records);
        let short = if path.len() > 99 { "pax-long-name-placeholder" } else { path };
        self.header(short, b'0', data.len() as u64, "", Meta::default(), None);
        self.data(data);
        self
    }

    /// A GNU `L` record holding a long name, then a regular file.
    pub fn gnu_long_file(mut self, path: &str, data: &[u8]) -> Self {
        let mut name = path.as_bytes().to_vec();
        name.push(0);
        self.header("././@LongLink", b'L', name.len() as u64, "", Meta::default(), None);
        self.data(&name);
        self.header(&path[..99.min(path.len())], b'0', data.len() as u64, "", Meta::default(), None);
        self.data(data);
        self
    }

    /// A file whose size field is written in GNU base-256 form.
    pub fn base256_file(mut self, path: &str, data: &[u8]) -> Self {
        self.header(path, b'0', data.len() as u64, "", Meta::default(), None);
        let at = self.out.len() - BLOCK;
        let field = &mut self.out[at + 124..at + 136];
        field.fill(0);
        field[0] = 0x80;
        let n = data.len() as u64;
        field[4..12].copy_from_slice(&n.to_be_bytes());
        Self::checksum(&mut self.out[at..at + BLOCK]);
        self.data(data);
        self
    }

    /// An old-GNU sparse file (`S`): `segments` are (offset, data) pairs; enough of them
    /// spill into extension blocks.
    pub fn gnu_sparse(mut self, path: &str, real_size: u64, segments: &[(u64, &[u8])]) -> Self {
        let stored: u64 = segments.iter().map(|(_, d)| d.len() as u64).sum();
        self.header(path, b'S', stored, "", Meta::default(), None);
        let at = self.out.len() - BLOCK;
        {
            let h = &mut self.out[at..at + BLOCK];
            h[257..265].copy_from_slice(b"ustar  \0");
            h[345..500].fill(0);
            for (i, (off, d)) in segments.iter().take(4).enumerate() {
                let slot = 386 + i * 24;
                octal(&mut h[slot..slot + 12], *off);
                octal(&mut h[slot + 12..slot + 24], d.len() as u64);
            }
            h[482] = (segments.len() > 4) as u8;
            octal(&mut h[483..495], real_size);
            Self::checksum(h);
        }
        let rest: Vec<_> = segments.iter().skip(4).collect();
        let chunks: Vec<_> = rest.chunks(21).collect();
        for (ci, chunk) in chunks.iter().enumerate() {
            let mut b = [0u8; BLOCK];
            for (i, (off, d)) in chunk.iter().enumerate() {
                octal(&mut b[i * 24..i * 24 + 12], *off);
                octal(&mut b[i * 24 + 12..i * 24 + 24], d.len() as u64);
            }
            b[504] = (ci + 1 < chunks.len()) as u8;
            self.out.extend_from_slice(&b);
        }
        let data: Vec<u8> = segments.iter().flat_map(|(_, d)| d.iter().copied()).collect();
        self.data(&data);
        self
    }

    /// A PAX sparse 1.0 file: the map sits at the start of the data.
    pub fn pax_sparse(mut self, path: &str, real_size: u64, segments: &[(u64, &[u8])]) -> Self {
        let real = real_size.to_string();
        self.pax(&[
            ("GNU.sparse.major", b"1"),
            ("GNU.sparse.minor", b"0"),
            ("GNU.sparse.name", path.as_bytes()),
            ("GNU.sparse.realsize", real.as_bytes()),
        ]);
        let mut map = format!("{}\n", segments.len());
        for (off, d) in segments {
            map.push_str(&format!("{off}\n{}\n", d.len()));
        }
        let mut data = map.into_bytes();
        data.resize(data.len().div_ceil(BLOCK) * BLOCK, 0);
        for (_, d) in segments {
            data.extend_from_slice(d);
        }
        self.header("GNUSparseFile.0/placeholder", b'0', data.len() as u64, "", Meta::default(), None);
        self.data(&data);
        self
    }

    /// A regular file whose name is any bytes (not UTF-8, say), up to 100 of them.
    pub fn file_named(mut self, name: &[u8], data: &[u8]) -> Self {
        self.header_bytes(name, b'0', data.len() as u64, b"", Meta::default(), None);
        self.data(data);
        self
    }

    /// A symlink whose name and target are any bytes, up to 100 of each.
    pub fn symlink_named(mut self, name: &[u8], target: &[u8]) -> Self {
        self.header_bytes(name, b'2', 0, target, Meta { mode: 0o777, ..Meta::default() }, None);
        self
    }

    /// A symlink with a target of any length (a PAX `linkpath` record).
    pub fn pax_symlink(mut self, path: &str, target: &[u8]) -> Self {
        self.pax_records(b'x', &[(b"path", path.as_bytes()), (b"linkpath", target)]);
        self.header("pax-link-placeholder", b'2', 0, "", Meta { mode: 0o777, ..Meta::default() }, None);
        self
    }

    /// A PAX global header (`g`): its records apply to every entry after it.
    pub fn global_pax(mut self, records: &[(&[u8], &[u8])]) -> Self {
        self.pax_records(b'g', records);
        self
    }

    /// A PAX header with records whose keys are any bytes, then a regular file.
    pub fn pax_file_raw(mut self, path: &str, data: &[u8], records: &[(&[u8], &[u8])]) -> Self {
        self.pax_records(b'x', records);
        let short = if path.len() > 99 { "pax-long-name-placeholder" } else { path };
        self.header(short, b'0', data.len() as u64, "", Meta::default(), None);
        self.data(data);
        self
    }

    /// A regular file header whose 12-byte size field is exactly `size_field` (base-256
    /// extremes, negative sizes), followed by `data` padded to a block.
    pub fn file_with_size_field(mut self, path: &str, size_field: [u8; 12], data: &[u8]) -> Self {
        self.header(path, b'0', 0, "", Meta::default(), None);
        let at = self.out.len() - BLOCK;
        self.out[at + 124..at + 136].copy_from_slice(&size_field);
        Self::checksum(&mut self.out[at..at + BLOCK]);
        self.data(data);
        self
    }

    /// A regular file whose mtime field is GNU base-256 (two's complement: negative
    /// values are times before 1970).
    pub fn file_base256_mtime(self, path: &str, data: &[u8], mtime: i64) -> Self {
        let mut this = self.file_with(path, data, Meta::default());
        this.set_base256_mtime(data.len(), mtime);
        this
    }

    fn set_base256_mtime(&mut self, data_len: usize, mtime: i64) {
        let at = self.out.len() - BLOCK * (1 + data_len.div_ceil(BLOCK));
        let field = &mut self.out[at + 136..at + 148];
        field[..4].fill(if mtime < 0 { 0xff } else { 0 });
        field[4..].copy_from_slice(&mtime.to_be_bytes());
        field[0] |= 0x80;
        Self::checksum(&mut self.out[at..at + BLOCK]);
    }

    /// Appends raw bytes (for corrupting streams on purpose).
    pub fn raw(mut self, bytes: &[u8]) -> Self {
        self.out.extend_from_slice(bytes);
        self
    }

    /// The archive, with its two zero blocks.
    pub fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(&[0u8; 2 * BLOCK]);
        self.out
    }

    fn pax(&mut self, records: &[(&str, &[u8])]) {
        let raw: Vec<(&[u8], &[u8])> = records.iter().map(|(k, v)| (k.as_bytes(), *v)).collect();
        self.pax_records(b'x', &raw);
    }

    /// A PAX header of type `typeflag` (`x` for the next entry, `g` for all that follow).
    fn pax_records(&mut self, typeflag: u8, records: &[(&[u8], &[u8])]) {
        let mut body = Vec::new();
        for (k, v) in records {
            // The length counts itself: find the fixed point.
            let base = k.len() + v.len() + 3;
            let mut len = base + base.to_string().len();
            if len.to_string().len() + base != len {
                len = base + len.to_string().len();
            }
            body.extend_from_slice(format!("{len} ").as_bytes());
            body.extend_from_slice(k);
            body.push(b'=');
            body.extend_from_slice(v);
            body.push(b'\n');
        }
        self.header("PaxHeaders/x", typeflag, body.len() as u64, "", Meta::default(), None);
        self.data(&body);
    }

    fn header(&mut self, path: &str, typeflag: u8, size: u64, link: &str, meta: Meta, dev: Option<(u32, u32)>) {
        self.header_bytes(path.as_bytes(), typeflag, size, link.as_bytes(), meta, dev);
    }

    fn header_bytes(&mut self, name: &[u8], typeflag: u8, size: u64, link: &[u8], meta: Meta, dev: Option<(u32, u32)>) {
        let mut h = [0u8; BLOCK];
        assert!(name.len() <= 100, "use gnu_long_file or pax_file for long names");
        h[..name.len()].copy_from_slice(name);
        octal(&mut h[100..108], meta.mode as u64);
        octal(&mut h[108..116], meta.uid);
        octal(&mut h[116..124], meta.gid);
        octal(&mut h[124..136], size);
        octal(&mut h[136..148], meta.mtime);
        h[156] = typeflag;
        h[157..157 + link.len()].copy_from_slice(link);
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        if let Some((major, minor)) = dev {
            octal(&mut h[329..337], major as u64);
            octal(&mut h[337..345], minor as u64);
        }
        Self::checksum(&mut h);
        self.out.extend_from_slice(&h);
    }

    fn checksum(h: &mut [u8]) {
        h[148..156].fill(b' ');
        let sum: u64 = h.iter().map(|&b| b as u64).sum();
        octal(&mut h[148..155], sum);
    }

    fn data(&mut self, data: &[u8]) {
        self.out.extend_from_slice(data);
        let pad = (BLOCK - data.len() % BLOCK) % BLOCK;
        self.out.extend(std::iter::repeat_n(0u8, pad));
    }
}

/// Writes `v` as zero-padded octal filling the field but its last byte (a NUL).
fn octal(field: &mut [u8], v: u64) {
    let width = field.len() - 1;
    let s = format!("{v:0width$o}");
    assert!(s.len() <= width, "value {v} does not fit in {width} octal digits");
    field[..width].copy_from_slice(s.as_bytes());
    field[width] = 0;
}

//! The control bytes at the front of a differential input: which mode, which spans and
//! levels, and where to read. Reading past the end of the control bytes gives zeros, so
//! every input is valid.

pub struct Control<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Control<'a> {
    /// The first `len` bytes of `data` are control bytes; the rest is the body.
    pub fn split(data: &'a [u8], len: usize) -> (Control<'a>, &'a [u8]) {
        let n = len.min(data.len());
        (Control { bytes: &data[..n], at: 0 }, &data[n..])
    }

    pub fn byte(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
}

/// Reads a differential target makes: `(offset, length)` pairs spread over a stream of
/// `len` bytes (some at or past its end).
pub fn reads(control: &mut Control<'_>, count: usize, len: u64) -> Vec<(u64, usize)> {
    (0..count)
        .map(|_| {
            let offset = u64::from(control.u32()) % (len + 64);
            let want = usize::from(control.u16()) % 70_000 + 1;
            (offset, want)
        })
        .collect()
}

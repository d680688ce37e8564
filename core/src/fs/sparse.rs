//! The segment map of a sparse file: where its data lies, and where the holes are.
//!
//! The data segments are stored one after another in the tar; a prefix sum of their
//! lengths gives each one's place in the stored bytes, so that finding the piece at any
//! offset is a binary search, not a scan from the first segment.

/// One segment of a sparse file: `len` bytes of data at logical `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SparseSegment {
    pub offset: u64,
    pub len: u64,
}

/// The validated segments of one sparse file.
#[derive(Debug, Clone)]
pub struct SparseMap {
    segments: Box<[SparseSegment]>,
    /// For each segment, the bytes stored before it (its offset in the entry's data).
    stored_before: Box<[u64]>,
}

/// What lies at an offset of a sparse file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// Data: `len` bytes (to the end of the segment) at `stored` in the entry's data.
    Data { stored: u64, len: u64 },
    /// A hole of `len` zero bytes (to the next segment; `u64::MAX` after the last one,
    /// which the caller clamps to the file size).
    Hole { len: u64 },
}

impl SparseMap {
    /// Checks that `segments` are in order, do not overlap, end within a file of `size`
    /// bytes, and fit in the `stored` bytes the entry holds; the reason otherwise.
    pub fn new(segments: Vec<SparseSegment>, size: u64, stored: u64) -> Result<SparseMap, String> {
        let mut stored_before = Vec::with_capacity(segments.len());
        let mut end = 0u64;
        let mut total = 0u64;
        for s in &segments {
            let seg_end = s.offset.checked_add(s.len).ok_or("a segment ends past 2^64")?;
            if s.offset < end {
                return Err("segments out of order or overlapping".into());
            }
            if seg_end > size {
                return Err(format!("a segment ends at {seg_end}, past the file size {size}"));
            }
            stored_before.push(total);
            end = seg_end;
            // Segments are disjoint and inside `size`, so this cannot overflow; checked anyway.
            total = total.checked_add(s.len).ok_or("segment lengths add up past 2^64")?;
        }
        if total > stored {
            return Err(format!("the map needs {total} bytes but the entry stores {stored}"));
        }
        Ok(SparseMap { segments: segments.into(), stored_before: stored_before.into() })
    }

    pub fn segments(&self) -> &[SparseSegment] {
        &self.segments
    }

    /// The piece at logical `offset`.
    pub fn locate(&self, offset: u64) -> Piece {
        // The first segment that starts after `offset`; the one before may contain it.
        let next = self.segments.partition_point(|s| s.offset <= offset);
        if let Some(i) = next.checked_sub(1) {
            let s = self.segments[i];
            let within = offset - s.offset;
            if within < s.len {
                return Piece::Data { stored: self.stored_before[i] + within, len: s.len - within };
            }
        }
        match self.segments.get(next) {
            Some(s) => Piece::Hole { len: s.offset - offset },
            None => Piece::Hole { len: u64::MAX },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(offset: u64, len: u64) -> SparseSegment {
        SparseSegment { offset, len }
    }

    #[test]
    fn locates_data_and_holes() {
        let m = SparseMap::new(vec![seg(10, 5), seg(20, 0), seg(30, 10)], 100, 15).unwrap();
        assert_eq!(m.locate(0), Piece::Hole { len: 10 });
        assert_eq!(m.locate(12), Piece::Data { stored: 2, len: 3 });
        assert_eq!(m.locate(15), Piece::Hole { len: 5 });
        assert_eq!(m.locate(20), Piece::Hole { len: 10 });
        assert_eq!(m.locate(39), Piece::Data { stored: 14, len: 1 });
        assert_eq!(m.locate(40), Piece::Hole { len: u64::MAX });
    }

    #[test]
    fn refuses_bad_maps() {
        assert!(SparseMap::new(vec![seg(10, 5), seg(12, 1)], 100, 6).is_err(), "overlap");
        assert!(SparseMap::new(vec![seg(90, 20)], 100, 20).is_err(), "past the size");
        assert!(SparseMap::new(vec![seg(u64::MAX, 2)], u64::MAX, 2).is_err(), "wraps");
        assert!(SparseMap::new(vec![seg(0, 10)], 100, 9).is_err(), "more than stored");
    }
}

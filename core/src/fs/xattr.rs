//! Extended-attribute values, shared rather than copied.
//!
//! A PAX global header gives its `SCHILY.xattr.*` attributes to every entry after it, so
//! one value may belong to thousands of entries; each entry, each `stat` and each listing
//! holds a reference to the same bytes.

use std::collections::BTreeMap;
use std::sync::Arc;

/// An extended attribute's value: cheap to clone, read as `&[u8]`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct XattrValue(Arc<[u8]>);

/// An entry's attributes by raw name, shared by every entry that has the same set.
pub type XattrMap = BTreeMap<Box<[u8]>, XattrValue>;

impl XattrValue {
    pub fn new(bytes: &[u8]) -> XattrValue {
        XattrValue(bytes.into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::ops::Deref for XattrValue {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for XattrValue {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for XattrValue {
    fn from(v: Vec<u8>) -> XattrValue {
        XattrValue(v.into())
    }
}

impl From<&[u8]> for XattrValue {
    fn from(v: &[u8]) -> XattrValue {
        XattrValue::new(v)
    }
}

impl std::fmt::Debug for XattrValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

// Comparisons with plain bytes, so that callers compare values as they did byte vectors.
impl PartialEq<[u8]> for XattrValue {
    fn eq(&self, other: &[u8]) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&[u8]> for XattrValue {
    fn eq(&self, other: &&[u8]) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Vec<u8>> for XattrValue {
    fn eq(&self, other: &Vec<u8>) -> bool {
        *self.0 == **other
    }
}

impl<const N: usize> PartialEq<[u8; N]> for XattrValue {
    fn eq(&self, other: &[u8; N]) -> bool {
        *self.0 == other[..]
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for XattrValue {
    fn eq(&self, other: &&[u8; N]) -> bool {
        *self.0 == other[..]
    }
}

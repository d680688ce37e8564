//! [`Held`]: a string that an object holds (its ID), lent without copying it.

use std::ops::Deref;

/// A string inside an object, lent as `&str` for as long as the `Held` lives (it keeps
/// the object). A getter returns this rather than a `String` so that a caller that
/// copies the string anyway (a C shim into its own NUL-terminated buffer) copies it
/// once: the ID getters are the cheapest calls of the ABI, and a second allocation was
/// a third of their cost (bench/abi).
pub struct Held<O> {
    object: O,
    get: fn(&O) -> &str,
}

impl<O> Held<O> {
    pub(crate) fn new(object: O, get: fn(&O) -> &str) -> Held<O> {
        Held { object, get }
    }
}

impl<O> Deref for Held<O> {
    type Target = str;

    fn deref(&self) -> &str {
        (self.get)(&self.object)
    }
}

impl<O> std::fmt::Display for Held<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

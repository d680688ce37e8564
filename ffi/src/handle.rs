//! The handle table: opaque 64-bit ids for every object a binding holds.
//!
//! A handle packs a kind (8 bits), a generation (32 bits) and a slot index (24 bits).
//! A slot's generation grows each time it is freed, so a closed handle, a double close,
//! a handle of the wrong kind, zero, or a forged number all fail the lookup with
//! BERTH_ERR_INVALID_HANDLE instead of touching freed memory. Lookups clone the object
//! (an `Arc` or a cheap clone) under a read lock and release it at once, so closing a
//! handle while another thread uses it is safe: the object lives until the last user is
//! done.
//!
//! No handle value is ever issued twice. A generation never wraps: a slot closed at the
//! last generation is retired (never reused) and later handles take new slots. That
//! gives 2^24 slots x (2^32 - 1) generations = 7.2e16 handles per process: at ten
//! million opens a second, without pause, they last 228 years.
//! When every slot is open or retired, opening fails with BERTH_ERR_IO, as a process
//! out of file descriptors gets EMFILE; a value is never reused.
//!
//! The table is open: it names no object type. Each kind of handle declares itself
//! beside its own object (a [`Castable`] impl: its kind byte, its name for messages and
//! the object stored), so a new kind is one impl in its own module.

use std::any::Any;
use std::marker::PhantomData;
use std::sync::{Arc, RwLock};

use once_cell::sync::Lazy;

use crate::failure::{Failure, Outcome};
use crate::status::berth_status::{BERTH_ERR_INVALID_HANDLE, BERTH_ERR_IO};

/// A kind of handle. `KIND` is part of every handle of the kind and never changes
/// meaning (ABI 1 uses 1 to 7, 9 and 11); a unit test keeps the kinds distinct.
pub trait Castable: 'static {
    /// The kind byte of the handle.
    const KIND: u8;
    /// The kind's name in messages ("image handle 0x... is closed or unknown").
    const NAME: &'static str;
    /// What the table stores for a handle of this kind; every lookup clones it, so it is
    /// cheap to clone (an `Arc`, or a type that is one inside).
    type Object: Clone + Send + Sync + 'static;
}

/// A handle of kind `T`: a number from the table that names a `T::Object`. Copy it
/// freely; [`Handle::get`] finds the object, or fails with BERTH_ERR_INVALID_HANDLE
/// once the handle is closed.
pub struct Handle<T: Castable> {
    id: u64,
    kind: PhantomData<fn() -> T>,
}

impl<T: Castable> Clone for Handle<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Castable> Copy for Handle<T> {}

impl<T: Castable> PartialEq for Handle<T> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl<T: Castable> Eq for Handle<T> {}

impl<T: Castable> std::fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} handle {:#x}", T::NAME, self.id)
    }
}

impl<T: Castable> Handle<T> {
    /// The handle a binding was given back (any number: a wrong one fails the lookup).
    pub fn from_id(id: u64) -> Handle<T> {
        Handle { id, kind: PhantomData }
    }

    /// The number a binding hands to its caller.
    pub fn id(self) -> u64 {
        self.id
    }

    /// Stores `object` and returns its new handle; IO when the table is full.
    pub fn insert(object: T::Object) -> Outcome<Handle<T>> {
        table_write().insert(T::KIND, T::NAME, Arc::new(object)).map(Handle::from_id)
    }

    /// The object behind the handle, which must be live and of this kind.
    pub fn get(self) -> Outcome<T::Object> {
        // The object is cloned under the read lock: a lookup costs one clone of it.
        let table = table_read();
        self.cast(table.get(self.id, T::KIND, T::NAME)?)
    }

    /// Closes the handle: its slot's generation moves on, so the handle is dead
    /// everywhere, and the object is handed back (to wake its users); it is dropped
    /// once no call uses it, after the table's lock is released.
    pub fn take(self) -> Outcome<T::Object> {
        let stored = table_write().take(self.id, T::KIND, T::NAME)?;
        self.cast(&stored)
    }

    /// Closes the handle and drops the table's reference to its object.
    pub fn remove(self) -> Outcome<()> {
        self.take().map(drop)
    }

    fn cast(self, stored: &Stored) -> Outcome<T::Object> {
        // The kind byte was checked; the type check makes a kind byte that two types
        // share (a bug the unit test of the kinds catches) fail safely too.
        stored.downcast_ref::<T::Object>().cloned().ok_or_else(|| invalid(self.id, T::NAME, "closed or unknown"))
    }
}

/// An object as the table holds it: of any kind, its kind byte kept beside it.
type Stored = Arc<dyn Any + Send + Sync>;

struct Slot {
    generation: u32,
    object: Option<(u8, Stored)>,
}

struct Table {
    slots: Vec<Slot>,
    /// Slots to reuse, most recently freed last. A retired slot is never here.
    free: Vec<u32>,
    /// How many slots there may be: [`MAX_SLOTS`] (smaller in tests, to fill it).
    capacity: usize,
}

impl Default for Table {
    fn default() -> Table {
        Table { slots: Vec::new(), free: Vec::new(), capacity: MAX_SLOTS }
    }
}

static TABLE: Lazy<RwLock<Table>> = Lazy::new(|| RwLock::new(Table::default()));

const SLOT_BITS: u32 = 24;
/// How many slots the table may ever have.
const MAX_SLOTS: usize = 1 << SLOT_BITS;
const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;

fn pack(kind: u8, generation: u32, index: u32) -> u64 {
    (kind as u64) << 56 | (generation as u64) << SLOT_BITS | (index as u64 & SLOT_MASK)
}

fn unpack(h: u64) -> (u8, u32, u32) {
    ((h >> 56) as u8, (h >> SLOT_BITS) as u32, (h & SLOT_MASK) as u32)
}

fn table_read() -> std::sync::RwLockReadGuard<'static, Table> {
    TABLE.read().unwrap_or_else(|p| p.into_inner())
}

fn table_write() -> std::sync::RwLockWriteGuard<'static, Table> {
    TABLE.write().unwrap_or_else(|p| p.into_inner())
}

fn invalid(h: u64, name: &str, why: &str) -> Failure {
    Failure::new(BERTH_ERR_INVALID_HANDLE, format!("{name} handle {h:#x} is {why}"))
}

impl Table {
    fn insert(&mut self, kind: u8, name: &str, object: Stored) -> Outcome<u64> {
        let index = match self.free.pop() {
            Some(i) => i,
            None if self.slots.len() < self.capacity => {
                // Generation 0 is never handed out, so no handle is ever 0.
                self.slots.push(Slot { generation: 1, object: None });
                (self.slots.len() - 1) as u32
            }
            None => {
                return Err(Failure::new(
                    BERTH_ERR_IO,
                    format!(
                        "cannot open a {name} handle: all {} slots of the handle table are open or retired \
                         (a slot retires after {} uses); close the handles you no longer need",
                        self.capacity,
                        u32::MAX
                    ),
                ))
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.object = Some((kind, object));
        Ok(pack(kind, slot.generation, index))
    }

    fn get(&self, h: u64, kind: u8, name: &str) -> Outcome<&Stored> {
        let (k, generation, index) = unpack(h);
        if h == 0 {
            return Err(invalid(h, name, "zero (never opened)"));
        }
        if k != kind {
            return Err(invalid(h, name, "not a handle of this kind"));
        }
        match self.slots.get(index as usize) {
            // The slot's object must be of the kind too: a forged handle that pairs this
            // kind's number with another object's slot and generation must not reach it.
            Some(Slot { generation: g, object: Some((k, o)) }) if *g == generation && *k == kind => Ok(o),
            _ => Err(invalid(h, name, "closed or unknown")),
        }
    }

    fn take(&mut self, h: u64, kind: u8, name: &str) -> Outcome<Stored> {
        let (k, generation, index) = unpack(h);
        if h == 0 || k != kind {
            return Err(invalid(h, name, if h == 0 { "zero (never opened)" } else { "not a handle of this kind" }));
        }
        let Some(slot) = self.slots.get_mut(index as usize) else {
            return Err(invalid(h, name, "closed or unknown"));
        };
        if slot.generation != generation || slot.object.as_ref().map(|(k, _)| *k) != Some(kind) {
            return Err(invalid(h, name, "closed or unknown"));
        }
        let object = slot.object.take();
        // A slot at the last generation is retired: its next generation would wrap and
        // repeat a handle already issued. It stays empty, so that handle stays dead.
        if let Some(next) = slot.generation.checked_add(1) {
            slot.generation = next;
            self.free.push(index);
        }
        object.map(|(_, o)| o).ok_or_else(|| invalid(h, name, "closed or unknown"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two kinds of the tests' own, so the table is tested without any real object.
    struct Cheap;
    impl Castable for Cheap {
        const KIND: u8 = 6;
        const NAME: &'static str = "stream";
        type Object = ();
    }

    struct Other;
    impl Castable for Other {
        const KIND: u8 = 5;
        const NAME: &'static str = "file";
        type Object = ();
    }

    const STREAM: u8 = Cheap::KIND;
    const FILE: u8 = Other::KIND;

    fn cheap() -> Stored {
        Arc::new(())
    }

    fn open(t: &mut Table, object: &Stored) -> u64 {
        t.insert(STREAM, Cheap::NAME, object.clone()).unwrap_or_else(|f| panic!("open: {}", f.message))
    }

    fn close(t: &mut Table, h: u64) {
        if let Err(f) = t.take(h, STREAM, Cheap::NAME) {
            panic!("close {h:#x}: {}", f.message);
        }
    }

    fn dead(t: &mut Table, h: u64) -> bool {
        t.get(h, STREAM, Cheap::NAME).is_err() && t.take(h, STREAM, Cheap::NAME).is_err()
    }

    fn slot(h: u64) -> u32 {
        unpack(h).2
    }

    impl Table {
        /// A table whose first slot is free at `generation`: the end of a slot's life
        /// without 2^32 cycles.
        fn starting_at(generation: u32) -> Table {
            Table { slots: vec![Slot { generation, object: None }], free: vec![0], ..Table::default() }
        }
    }

    #[test]
    fn a_closed_handle_never_comes_back_however_often_its_slot_is_reused() {
        let mut t = Table::default();
        let object = cheap();
        let first = open(&mut t, &object);
        close(&mut t, first);
        // One more cycle than a 24-bit generation has values: every open reuses the slot.
        for n in 0..(1u64 << 24) + 1 {
            let h = open(&mut t, &object);
            assert_ne!(h, first, "cycle {n}: the closed handle {first:#x} was issued again");
            assert!(
                t.get(first, STREAM, "stream").is_err(),
                "cycle {n}: the closed handle {first:#x} reaches an object"
            );
            close(&mut t, h);
        }
        assert_eq!(t.slots.len(), 1, "every cycle used the one slot");
    }

    #[test]
    fn a_slot_at_its_last_generation_is_retired() {
        let mut t = Table::starting_at(u32::MAX - 1);
        let object = cheap();
        let a = open(&mut t, &object);
        close(&mut t, a);
        let b = open(&mut t, &object);
        assert_eq!((slot(a), slot(b)), (0, 0));
        assert_eq!(unpack(b).1, u32::MAX);
        close(&mut t, b);
        // Slot 0 is retired: the next handles take a new slot, and a and b stay dead
        // however many handles come after them.
        let mut seen = vec![a, b];
        for _ in 0..100 {
            let h = open(&mut t, &object);
            assert_eq!(slot(h), 1);
            assert!(!seen.contains(&h), "{h:#x} was issued twice");
            assert!(dead(&mut t, a) && dead(&mut t, b));
            seen.push(h);
            close(&mut t, h);
        }
        assert!(!t.free.contains(&0));
        assert_eq!(t.slots.len(), 2);
    }

    #[test]
    fn a_full_table_refuses_to_open_and_reuses_nothing() {
        let mut t = Table { capacity: 2, ..Table::starting_at(u32::MAX) };
        let object = cheap();
        let a = open(&mut t, &object);
        close(&mut t, a); // retires slot 0
        let b = open(&mut t, &object);
        let f = t.insert(STREAM, "stream", object.clone()).expect_err("a full table refuses to open");
        assert_eq!(f.status, BERTH_ERR_IO);
        assert!(f.message.contains("all 2 slots of the handle table are open or retired"), "{}", f.message);
        assert!(dead(&mut t, a));
        // Closing a live handle frees its slot again, with a new generation.
        close(&mut t, b);
        let c = open(&mut t, &object);
        assert!(c != a && c != b && slot(c) == slot(b));
        assert!(dead(&mut t, b));
    }

    #[test]
    fn handles_keep_their_kind_and_refuse_forged_numbers() {
        let mut t = Table::default();
        let object = cheap();
        let h = open(&mut t, &object);
        assert!(t.get(h, STREAM, "stream").is_ok());
        assert!(t.get(h, FILE, "file").is_err(), "another kind's lookup refuses it");
        let (kind, generation, index) = unpack(h);
        let forged = [
            0,
            pack(FILE, generation, index),
            (kind as u64) << 56 | index as u64, // generation 0
            (kind as u64) << 56 | (generation as u64 + 1) << SLOT_BITS | index as u64, // a later generation
            h + 1,                              // the next slot
            u64::MAX,
        ];
        for f in forged {
            assert!(t.get(f, STREAM, "stream").is_err() && t.get(f, FILE, "file").is_err(), "{f:#x} reached an object");
        }
        close(&mut t, h);
        assert!(dead(&mut t, h), "a double close is refused");
    }

    #[test]
    fn a_typed_handle_reaches_its_object_and_no_other_kind() {
        let h = Handle::<Cheap>::insert(()).unwrap_or_else(|f| panic!("{}", f.message));
        assert!(h.get().is_ok());
        let as_other = Handle::<Other>::from_id(h.id());
        let f = as_other.get().expect_err("a file lookup of a stream handle");
        assert_eq!(f.status, BERTH_ERR_INVALID_HANDLE);
        assert!(f.message.starts_with("file handle"), "{}", f.message);
        assert!(h.remove().is_ok());
        assert!(h.get().is_err() && h.remove().is_err(), "closed for good");
    }
}

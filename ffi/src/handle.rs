//! The handle table: opaque 64-bit ids for every object C holds.
//!
//! A handle packs a kind (8 bits), a generation (32 bits) and a slot index (24 bits).
//! A slot's generation grows each time it is freed, so a closed handle, a double close,
//! a handle of the wrong kind, zero, or a forged number all fail the lookup with
//! BERTH_ERR_INVALID_HANDLE instead of touching freed memory. Lookups clone the object
//! (an `Arc`) under a read lock and release it at once, so closing a handle while
//! another thread uses it is safe: the object lives until the last user is done.
//!
//! No handle value is ever issued twice. A generation never wraps: a slot closed at the
//! last generation is retired (never reused) and later handles take new slots. That
//! gives 2^24 slots x (2^32 - 1) generations = 7.2e16 handles per process: at ten
//! million opens a second, without pause, they last 228 years.
//! When every slot is open or retired, opening fails with BERTH_ERR_IO, as a process
//! out of file descriptors gets EMFILE; a value is never reused.

use std::sync::{Arc, Mutex, RwLock};

use berth_core::fs::{File, FileSystem};
use berth_core::{Image, Layer};
use once_cell::sync::Lazy;

use crate::call::{Failure, Outcome};
use crate::container::{ContainerObject, ExecObject};
use crate::pod::PodObject;
use crate::runtime::RuntimeObject;
use crate::status::berth_status::{BERTH_ERR_INVALID_HANDLE, BERTH_ERR_IO};
use crate::stream::Stream;

/// The kinds of handle; the number is part of every handle of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Runtime = 1,
    Image = 2,
    Layer = 3,
    Fs = 4,
    File = 5,
    Stream = 6,
    Container = 7,
    // Reserved for the daemon backends: their numbers are fixed now so handles never
    // change meaning.
    #[allow(dead_code)]
    Process = 8,
    Pod = 9,
    #[allow(dead_code)]
    Snapshot = 10,
    Exec = 11,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Runtime => "runtime",
            Kind::Image => "image",
            Kind::Layer => "layer",
            Kind::Fs => "filesystem",
            Kind::File => "file",
            Kind::Stream => "stream",
            Kind::Container => "container",
            Kind::Process => "process",
            Kind::Pod => "pod",
            Kind::Snapshot => "snapshot",
            Kind::Exec => "exec",
        }
    }
}

/// What a handle refers to. Every variant is cheap to clone.
#[derive(Clone)]
pub enum Object {
    Runtime(Arc<RuntimeObject>),
    Image(Image),
    Layer(Layer),
    Fs(Arc<dyn FileSystem>),
    File(Arc<Mutex<File>>),
    Stream(Arc<Stream>),
    Container(Arc<ContainerObject>),
    Exec(Arc<ExecObject>),
    Pod(Arc<PodObject>),
}

impl Object {
    fn kind(&self) -> Kind {
        match self {
            Object::Runtime(_) => Kind::Runtime,
            Object::Image(_) => Kind::Image,
            Object::Layer(_) => Kind::Layer,
            Object::Fs(_) => Kind::Fs,
            Object::File(_) => Kind::File,
            Object::Stream(_) => Kind::Stream,
            Object::Container(_) => Kind::Container,
            Object::Exec(_) => Kind::Exec,
            Object::Pod(_) => Kind::Pod,
        }
    }
}

struct Slot {
    generation: u32,
    object: Option<Object>,
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

fn pack(kind: Kind, generation: u32, index: u32) -> u64 {
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

fn invalid(h: u64, kind: Kind, why: &str) -> Failure {
    Failure::new(BERTH_ERR_INVALID_HANDLE, format!("{} handle {h:#x} is {why}", kind.name()))
}

impl Table {
    fn insert(&mut self, object: Object) -> Outcome<u64> {
        let kind = object.kind();
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
                        "cannot open a {} handle: all {} slots of the handle table are open or retired \
                         (a slot retires after {} uses); close the handles you no longer need",
                        kind.name(),
                        self.capacity,
                        u32::MAX
                    ),
                ))
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.object = Some(object);
        Ok(pack(kind, slot.generation, index))
    }

    fn get(&self, h: u64, kind: Kind) -> Outcome<Object> {
        let (k, generation, index) = unpack(h);
        if h == 0 {
            return Err(invalid(h, kind, "zero (never opened)"));
        }
        if k != kind as u8 {
            return Err(invalid(h, kind, "not a handle of this kind"));
        }
        match self.slots.get(index as usize) {
            // The slot's object must be of the kind too: a forged handle that pairs this
            // kind's number with another object's slot and generation must not reach it.
            Some(Slot { generation: g, object: Some(o) }) if *g == generation && o.kind() == kind => Ok(o.clone()),
            _ => Err(invalid(h, kind, "closed or unknown")),
        }
    }

    fn take(&mut self, h: u64, kind: Kind) -> Outcome<Object> {
        let (k, generation, index) = unpack(h);
        if h == 0 || k != kind as u8 {
            return Err(invalid(h, kind, if h == 0 { "zero (never opened)" } else { "not a handle of this kind" }));
        }
        let Some(slot) = self.slots.get_mut(index as usize) else {
            return Err(invalid(h, kind, "closed or unknown"));
        };
        if slot.generation != generation || slot.object.as_ref().map(Object::kind) != Some(kind) {
            return Err(invalid(h, kind, "closed or unknown"));
        }
        let object = slot.object.take();
        // A slot at the last generation is retired: its next generation would wrap and
        // repeat a handle already issued. It stays empty, so that handle stays dead.
        if let Some(next) = slot.generation.checked_add(1) {
            slot.generation = next;
            self.free.push(index);
        }
        object.ok_or_else(|| invalid(h, kind, "closed or unknown"))
    }
}

/// Stores `object` and returns its new handle; IO when the table is full.
pub fn insert(object: Object) -> Outcome<u64> {
    table_write().insert(object)
}

/// The object behind `h`, which must be a live handle of `kind`.
pub fn get(h: u64, kind: Kind) -> Outcome<Object> {
    table_read().get(h, kind)
}

/// Closes `h`: its slot's generation moves on, so the handle is dead everywhere. The
/// object itself is dropped after the lock is released, once no call uses it.
pub fn remove(h: u64, kind: Kind) -> Outcome<()> {
    drop(take(h, kind)?);
    Ok(())
}

/// Like [`remove`], but hands the object back (to wake its users before it is
/// dropped). The handle is dead when this returns.
pub fn take(h: u64, kind: Kind) -> Outcome<Object> {
    table_write().take(h, kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::{ChannelSource, Stream};

    /// A stream over a channel that never yields: the cheapest object to store.
    fn cheap() -> Object {
        let (_tx, rx) = tokio::sync::mpsc::channel::<berth_core::Result<serde_json::Value>>(1);
        Object::Stream(Stream::new(Box::new(ChannelSource::new(rx, Vec::new()))))
    }

    fn open(t: &mut Table, object: &Object) -> u64 {
        t.insert(object.clone()).unwrap_or_else(|f| panic!("open: {}", f.message))
    }

    fn close(t: &mut Table, h: u64) {
        if let Err(f) = t.take(h, Kind::Stream) {
            panic!("close {h:#x}: {}", f.message);
        }
    }

    fn dead(t: &mut Table, h: u64) -> bool {
        t.get(h, Kind::Stream).is_err() && t.take(h, Kind::Stream).is_err()
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
            assert!(t.get(first, Kind::Stream).is_err(), "cycle {n}: the closed handle {first:#x} reaches an object");
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
        let f = t.insert(object.clone()).expect_err("a full table refuses to open");
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
        assert!(t.get(h, Kind::Stream).is_ok());
        assert!(t.get(h, Kind::File).is_err(), "another kind's lookup refuses it");
        let (kind, generation, index) = unpack(h);
        let forged = [
            0,
            pack(Kind::File, generation, index),
            (kind as u64) << 56 | index as u64, // generation 0
            (kind as u64) << 56 | (generation as u64 + 1) << SLOT_BITS | index as u64, // a later generation
            h + 1,                              // the next slot
            u64::MAX,
        ];
        for f in forged {
            assert!(t.get(f, Kind::Stream).is_err() && t.get(f, Kind::File).is_err(), "{f:#x} reached an object");
        }
        close(&mut t, h);
        assert!(dead(&mut t, h), "a double close is refused");
    }
}

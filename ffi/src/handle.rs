//! The handle table: opaque 64-bit ids for every object C holds.
//!
//! A handle packs a kind (8 bits), a generation (24 bits) and a slot index (32 bits).
//! A slot's generation grows each time it is freed, so a closed handle, a double close,
//! a handle of the wrong kind, zero, or a forged number all fail the lookup with
//! BERTH_ERR_INVALID_HANDLE instead of touching freed memory. Lookups clone the object
//! (an `Arc`) under a read lock and release it at once, so closing a handle while
//! another thread uses it is safe: the object lives until the last user is done.

use std::sync::{Arc, Mutex, RwLock};

use berth_core::fs::{File, FileSystem};
use berth_core::{Image, Layer};
use once_cell::sync::Lazy;

use crate::call::{Failure, Outcome};
use crate::container::{ContainerObject, ExecObject};
use crate::pod::PodObject;
use crate::runtime::RuntimeObject;
use crate::status::berth_status::BERTH_ERR_INVALID_HANDLE;
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

#[derive(Default)]
struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

static TABLE: Lazy<RwLock<Table>> = Lazy::new(|| RwLock::new(Table::default()));

const GENERATION_MASK: u32 = 0x00ff_ffff;

fn pack(kind: Kind, generation: u32, index: u32) -> u64 {
    (kind as u64) << 56 | ((generation & GENERATION_MASK) as u64) << 32 | index as u64
}

fn unpack(h: u64) -> (u8, u32, u32) {
    ((h >> 56) as u8, (h >> 32) as u32 & GENERATION_MASK, h as u32)
}

fn table_read() -> std::sync::RwLockReadGuard<'static, Table> {
    TABLE.read().unwrap_or_else(|p| p.into_inner())
}

fn table_write() -> std::sync::RwLockWriteGuard<'static, Table> {
    TABLE.write().unwrap_or_else(|p| p.into_inner())
}

/// Stores `object` and returns its new handle.
pub fn insert(object: Object) -> u64 {
    let kind = object.kind();
    let mut t = table_write();
    let index = match t.free.pop() {
        Some(i) => i,
        None => {
            // Generation 0 is never handed out, so no handle is ever 0.
            t.slots.push(Slot { generation: 1, object: None });
            (t.slots.len() - 1) as u32
        }
    };
    let slot = &mut t.slots[index as usize];
    slot.object = Some(object);
    pack(kind, slot.generation, index)
}

fn invalid(h: u64, kind: Kind, why: &str) -> Failure {
    Failure::new(BERTH_ERR_INVALID_HANDLE, format!("{} handle {h:#x} is {why}", kind.name()))
}

/// The object behind `h`, which must be a live handle of `kind`.
pub fn get(h: u64, kind: Kind) -> Outcome<Object> {
    let (k, generation, index) = unpack(h);
    if h == 0 {
        return Err(invalid(h, kind, "zero (never opened)"));
    }
    if k != kind as u8 {
        return Err(invalid(h, kind, "not a handle of this kind"));
    }
    let t = table_read();
    match t.slots.get(index as usize) {
        // The slot's object must be of the kind too: a forged handle that pairs this
        // kind's number with another object's slot and generation must not reach it.
        Some(Slot { generation: g, object: Some(o) }) if *g == generation && o.kind() == kind => Ok(o.clone()),
        _ => Err(invalid(h, kind, "closed or unknown")),
    }
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
    let (k, generation, index) = unpack(h);
    if h == 0 || k != kind as u8 {
        return Err(invalid(h, kind, if h == 0 { "zero (never opened)" } else { "not a handle of this kind" }));
    }
    let object = {
        let mut t = table_write();
        let Some(slot) = t.slots.get_mut(index as usize) else {
            return Err(invalid(h, kind, "closed or unknown"));
        };
        if slot.generation != generation || slot.object.as_ref().map(Object::kind) != Some(kind) {
            return Err(invalid(h, kind, "closed or unknown"));
        }
        let object = slot.object.take();
        // Wrap within 24 bits, skipping 0 so no handle is ever 0.
        slot.generation = (slot.generation % GENERATION_MASK) + 1;
        t.free.push(index);
        object
    };
    object.ok_or_else(|| invalid(h, kind, "closed or unknown"))
}

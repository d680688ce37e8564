//! A runtime's containers: list, find, create, open.

use berth_core::container::CreateOptions;
use berth_core::model::ContainerSummary;

use super::{with, Runtime};
use crate::api::args::name;
use crate::api::container::Container;
use crate::api::Pending;
use crate::failure::Failure;
use crate::handle::Handle;

/// The runtime's containers; `filters` are in the backend's syntax (several are ORed).
pub fn list_containers(rt: Handle<Runtime>, filters: Vec<String>) -> Pending<Vec<ContainerSummary>> {
    with(rt, |r| {
        r.call(|rt| async move { berth_core::need(rt.containers(), rt.kind(), "listing containers")?.list(&filters).await })
    })
}

/// The containers `pattern` matches (an exact ID or name, else an ID prefix).
pub fn find_containers(rt: Handle<Runtime>, pattern: &str) -> Pending<Vec<ContainerSummary>> {
    Pending::start(|| {
        let pattern = name(pattern, "pattern")?.to_string();
        Ok(with(rt, |r| {
            r.call(|rt| async move {
                berth_core::need(rt.containers(), rt.kind(), "listing containers")?.find(&pattern).await
            })
        }))
    })
}

/// Creates a container (not started).
pub fn create_container(rt: Handle<Runtime>, options: CreateOptions) -> Pending<Handle<Container>> {
    Pending::start(|| {
        if options.image.trim().is_empty() {
            return Err(Failure::invalid("options_json: `image` is required"));
        }
        Ok(with(rt, |r| {
            let timeout = r.timeout();
            r.call(|rt| async move {
                berth_core::need(rt.containers(), rt.kind(), "creating containers")?.create(options).await
            })
            .then(move |c| Container::insert(c, timeout))
        }))
    })
}

/// Opens the one container `pattern` matches (an exact ID or name, else an ID prefix).
pub fn open_container(rt: Handle<Runtime>, pattern: &str) -> Pending<Handle<Container>> {
    Pending::start(|| {
        let pattern = name(pattern, "pattern")?.to_string();
        Ok(with(rt, |r| {
            let timeout = r.timeout();
            r.call(|rt| async move {
                berth_core::need(rt.containers(), rt.kind(), "opening containers")?.open(&pattern).await
            })
            .then(move |c| Container::insert(c, timeout))
        }))
    })
}

//! Endpoints (core/src/endpoint.rs): `Endpoint::parse`, and its `Display` round trip: a
//! parsed endpoint prints to a string that parses back to the same endpoint. Also the
//! platform an endpoint's `?platform=` selects.
#![no_main]

use berth_core::model::Platform;
use berth_core::{ConnectOptions, Endpoint};
use berth_fuzz::exercise::allowed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let Some(e) = allowed("parse", Endpoint::parse(s)) else { return };
    assert!(!e.address.is_empty(), "{s:?}: empty address accepted");
    let printed = e.to_string();
    let again = Endpoint::parse(&printed)
        .unwrap_or_else(|err| panic!("{s:?} parses, but its printed form {printed:?} does not: {}", err.message()));
    assert_eq!(again, e, "{s:?} printed as {printed:?} parses differently");
    assert_eq!(again.to_string(), printed, "printing is not stable for {s:?}");
    if let Some(p) = allowed("platform", ConnectOptions::default().platform_for(&e)) {
        let again = Platform::parse(&p.to_string());
        assert_eq!(again.as_ref(), Some(&p), "platform {p} does not print to itself");
    }
});

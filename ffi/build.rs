//! Gives libberth.so its soname, which carries the ABI version (one source of truth:
//! src/abi_version.rs, also returned by `berth_abi_version()`).
include!("src/abi_version.rs");

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libberth.so.{ABI_VERSION}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/abi_version.rs");
}

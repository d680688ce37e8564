/// The ABI version: bumped when a symbol is removed or a signature or struct layout
/// changes. It is the soname's number (libberth.so.N) and `berth_abi_version()`.
pub const ABI_VERSION: u32 = 1;

//! The backends: one folder each.

#[cfg(feature = "containerd")]
pub mod containerd;
#[cfg(feature = "docker")]
pub mod docker;
pub mod oci;

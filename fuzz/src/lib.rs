//! Helpers shared by berth's fuzz targets (`fuzz_targets/`): splitting one fuzz input
//! into several documents, building layer indexes from fuzzed tars, and exercising a
//! filesystem the way a scanner would.

pub mod control;
pub mod exercise;
pub mod layers;
pub mod sections;
pub mod store;

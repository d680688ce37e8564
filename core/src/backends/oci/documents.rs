//! The JSON documents of an offline store: parsed, and what an image config says for
//! listings.

use oci_spec::image::ImageConfiguration;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::model::{ImageSummary, Platform};

/// Parses a JSON document, turning any failure into Corrupt naming `what`.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::corrupt(format!("{what}: bad JSON: {e}")).with_source(e))
}

/// The parts of a summary that come from the config.
pub fn config_summary(id: Digest, config: &ImageConfiguration) -> ImageSummary {
    ImageSummary {
        id,
        created: config.created().clone(),
        platform: Some(Platform {
            os: config.os().to_string(),
            architecture: config.architecture().to_string(),
            variant: config.variant().clone(),
        }),
        ..ImageSummary::default()
    }
}

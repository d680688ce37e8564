//! Image stores in memory: OCI layouts (written as a directory or an oci-archive) and
//! `docker save` archives (legacy and OCI-inside), with every blob's digest computed
//! here so that tests can also break them on purpose.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::{gzip, sha256_hex, zstd, TarBuilder};

pub const GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const ZSTD_DOCKER: &str = "application/vnd.docker.image.rootfs.diff.tar.zstd";
pub const PLAIN: &str = "application/vnd.oci.image.layer.v1.tar";

/// One layer: the blob as stored, its media type, and the uncompressed tar.
#[derive(Clone)]
pub struct LayerSpec {
    pub blob: Vec<u8>,
    pub media_type: String,
    pub tar: Vec<u8>,
}

/// An image to add to a store.
#[derive(Clone)]
pub struct ImageSpec {
    pub name: Option<String>,
    pub layers: Vec<LayerSpec>,
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl ImageSpec {
    pub fn new(name: &str) -> ImageSpec {
        ImageSpec {
            name: Some(name.to_string()),
            layers: Vec::new(),
            os: "linux".into(),
            arch: host_arch().into(),
            variant: None,
        }
    }

    pub fn unnamed() -> ImageSpec {
        ImageSpec { name: None, ..ImageSpec::new("x") }
    }

    pub fn layer_gzip(self, tar: Vec<u8>) -> Self {
        self.layer_raw(gzip(&tar), GZIP, tar)
    }

    pub fn layer_zstd(self, tar: Vec<u8>) -> Self {
        self.layer_raw(zstd(&tar), ZSTD, tar)
    }

    pub fn layer_zstd_docker(self, tar: Vec<u8>) -> Self {
        self.layer_raw(zstd(&tar), ZSTD_DOCKER, tar)
    }

    pub fn layer_plain(self, tar: Vec<u8>) -> Self {
        self.layer_raw(tar.clone(), PLAIN, tar)
    }

    pub fn layer_raw(mut self, blob: Vec<u8>, media_type: &str, tar: Vec<u8>) -> Self {
        self.layers.push(LayerSpec { blob, media_type: media_type.into(), tar });
        self
    }

    pub fn platform(mut self, os: &str, arch: &str, variant: Option<&str>) -> Self {
        self.os = os.into();
        self.arch = arch.into();
        self.variant = variant.map(str::to_string);
        self
    }

    /// The config document (with a distinct `created` per platform so IDs differ).
    pub fn config(&self) -> Vec<u8> {
        let diff_ids: Vec<String> = self.layers.iter().map(|l| format!("sha256:{}", sha256_hex(&l.tar))).collect();
        let mut c = json!({
            "created": "2024-01-01T00:00:00Z",
            "architecture": self.arch,
            "os": self.os,
            "config": { "Env": ["PATH=/bin"], "Cmd": ["/bin/sh"] },
            "rootfs": { "type": "layers", "diff_ids": diff_ids },
        });
        if let Some(v) = &self.variant {
            c["variant"] = json!(v);
        }
        serde_json::to_vec(&c).unwrap()
    }
}

pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// What adding an image produced.
#[derive(Debug, Clone)]
pub struct Added {
    pub manifest_digest: String,
    pub manifest_size: usize,
    pub config_digest: String,
    pub layer_digests: Vec<String>,
}

/// An OCI layout in memory: path -> bytes, plus the index.json entries.
#[derive(Default, Clone)]
pub struct Store {
    pub files: BTreeMap<String, Vec<u8>>,
    pub index: Vec<Value>,
}

impl Store {
    pub fn new() -> Store {
        Store::default()
    }

    /// Stores `data` as a blob and returns its digest.
    pub fn blob(&mut self, data: &[u8]) -> String {
        let hex = sha256_hex(data);
        self.files.insert(format!("blobs/sha256/{hex}"), data.to_vec());
        format!("sha256:{hex}")
    }

    pub fn blob_path(digest: &str) -> String {
        format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))
    }

    /// Adds the blobs and manifest of `spec` without listing it in index.json.
    pub fn add_manifest(&mut self, spec: &ImageSpec) -> Added {
        let config = spec.config();
        let config_digest = self.blob(&config);
        let mut layer_digests = Vec::new();
        let layers: Vec<Value> = spec
            .layers
            .iter()
            .map(|l| {
                let d = self.blob(&l.blob);
                layer_digests.push(d.clone());
                json!({ "mediaType": l.media_type, "digest": d, "size": l.blob.len() })
            })
            .collect();
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len() },
            "layers": layers,
        }))
        .unwrap();
        let manifest_digest = self.blob(&manifest);
        Added { manifest_digest, manifest_size: manifest.len(), config_digest, layer_digests }
    }

    /// Adds `spec` and lists it in index.json under its name.
    pub fn add_image(&mut self, spec: &ImageSpec) -> Added {
        let added = self.add_manifest(spec);
        let mut desc = json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": added.manifest_digest,
            "size": added.manifest_size,
        });
        if let Some(n) = &spec.name {
            desc["annotations"] = json!({ "org.opencontainers.image.ref.name": n });
        }
        self.index.push(desc);
        added
    }

    /// Adds a multi-platform image: a nested index named `name` over `specs`.
    pub fn add_multi_platform(&mut self, name: &str, specs: &[ImageSpec]) -> Vec<Added> {
        let mut all = Vec::new();
        let manifests: Vec<Value> = specs
            .iter()
            .map(|s| {
                let a = self.add_manifest(s);
                let mut platform = json!({ "os": s.os, "architecture": s.arch });
                if let Some(v) = &s.variant {
                    platform["variant"] = json!(v);
                }
                let d = json!({
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": a.manifest_digest, "size": a.manifest_size, "platform": platform,
                });
                all.push(a);
                d
            })
            .collect();
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        }))
        .unwrap();
        let d = self.blob(&index);
        self.index.push(json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": d, "size": index.len(),
            "annotations": { "org.opencontainers.image.ref.name": name },
        }));
        all
    }

    fn layout_files(&self) -> BTreeMap<String, Vec<u8>> {
        let mut files = self.files.clone();
        files.entry("oci-layout".into()).or_insert_with(|| br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec());
        files.entry("index.json".into()).or_insert_with(|| {
            serde_json::to_vec(&json!({ "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": self.index }))
                .unwrap()
        });
        files
    }

    pub fn write_dir(&self, dir: &Path) {
        for (p, data) in self.layout_files() {
            let full = dir.join(p);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, data).unwrap();
        }
    }

    /// The layout as an oci-archive.
    pub fn to_tar(&self) -> Vec<u8> {
        files_to_tar(&self.layout_files())
    }
}

pub fn files_to_tar(files: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let mut t = TarBuilder::new();
    for (p, data) in files {
        t = t.file(p, data);
    }
    t.finish()
}

/// A `docker save` archive of `images` (name, spec). Legacy form: `<n>/layer.tar`
/// members holding uncompressed tars, a layer shared by two images written once and
/// linked from the second; otherwise the OCI-inside form Docker 25+ writes.
pub fn docker_archive(images: &[(&str, &ImageSpec)], legacy: bool) -> Vec<u8> {
    let mut t = TarBuilder::new();
    let mut manifest = Vec::new();
    let mut written: BTreeMap<String, String> = BTreeMap::new();
    let mut store = Store::new();
    for (name, spec) in images {
        let config = spec.config();
        let config_hex = sha256_hex(&config);
        let mut layer_paths = Vec::new();
        for l in &spec.layers {
            let hex = sha256_hex(&l.tar);
            if legacy {
                // The legacy form names layers by diff-id; the member holds the blob as
                // the spec stores it (docker writes plain tars, other tools compress).
                let path = format!("{hex}/layer.tar");
                match written.get(&hex) {
                    Some(first) => {
                        // Docker writes a shared layer once and links the others to it.
                        let link_dir = format!("{hex}-again");
                        let link = format!("{link_dir}/layer.tar");
                        t = t.dir(&link_dir).symlink(&link, &format!("../{first}"));
                        layer_paths.push(link);
                    }
                    None => {
                        t = t.dir(&hex).file(&path, &l.blob);
                        written.insert(hex.clone(), path.clone());
                        layer_paths.push(path);
                    }
                }
            } else {
                let d = store.blob(&l.blob);
                layer_paths.push(Store::blob_path(&d));
            }
        }
        let config_path = if legacy {
            let p = format!("{config_hex}.json");
            t = t.file(&p, &config);
            p
        } else {
            Store::blob_path(&store.blob(&config))
        };
        manifest.push(json!({ "Config": config_path, "RepoTags": [name], "Layers": layer_paths }));
    }
    if !legacy {
        for (p, data) in &store.files {
            t = t.file(p, data);
        }
        t = t.file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
        t = t.file("index.json", br#"{"schemaVersion":2,"manifests":[]}"#);
    }
    t.file("manifest.json", &serde_json::to_vec(&manifest).unwrap()).finish()
}

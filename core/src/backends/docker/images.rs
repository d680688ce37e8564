//! Images of a Docker or Podman daemon: list, inspect, pull, push, tag, remove, load,
//! save, and the image's filesystem.
//!
//! An image's filesystem is read one of two ways:
//! - **direct**: on this host, as root, with the overlay2 (Docker) or overlay (Podman)
//!   storage driver, the daemon's inspect names each layer's unpacked directory
//!   (`GraphDriver.Data.LowerDir`/`UpperDir`); those directories are read in place,
//!   with overlay whiteouts. Nothing is copied. The daemon is asked once (inspect).
//! - **api**: `GET /images/{id}/get` (`docker save`) streamed to a temporary file,
//!   which the offline backend reads as a docker-archive (the file is unlinked at once;
//!   the open descriptor keeps it readable).
//!
//! `auto` (the default) takes the direct path when it is possible and the API path
//! otherwise (a remote daemon, another storage driver, Docker's containerd image
//! store, layer directories that cannot be read); `?image_fs=direct|api` forces one.

use std::path::{Path, PathBuf};

use bollard::auth::DockerCredentials;
use bollard::query_parameters::{
    CreateImageOptions, ImportImageOptions, ListImagesOptions, PushImageOptions, RemoveImageOptions, TagImageOptions,
};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::backends::docker::libpod::encode;
use crate::backends::docker::shared::{image_digest, overlay_dirs, real_names, write_stream_to, ImageFsPath, Shared};
use crate::backends::docker::status::{kind_of_message, stream_failure};
use crate::backends::oci;
use crate::digest::Digest;
use crate::error::{Error, ErrorKind, Result};
use crate::find;
use crate::host_dir::HostDir;
use crate::image::{Image, Layer};
use crate::model::{
    Compression, ImageSummary, LayerInfo, Platform, PullOptions, PullProgress, PushOptions, RuntimeKind,
};

pub async fn list(s: &Shared) -> Result<Vec<ImageSummary>> {
    let api = s.client.api().await?;
    let options = ListImagesOptions { all: false, ..Default::default() };
    let images = api.list_images(Some(options)).await.map_err(|e| s.client.error("list images", e))?;
    images
        .into_iter()
        .map(|i| {
            Ok(ImageSummary {
                id: image_digest(&i.id)?,
                repo_tags: real_names(i.repo_tags),
                repo_digests: real_names(i.repo_digests),
                manifest_digest: None,
                size: i.size.max(0) as u64,
                created: Some(crate::util::rfc3339(i.created, 0)),
                platform: None,
            })
        })
        .collect()
}

/// The one image `pattern` names, by the find rules.
async fn find_one(s: &Shared, pattern: &str) -> Result<ImageSummary> {
    let all = list(s).await?;
    Ok(find::find_one_image(&all, pattern, &s.client.endpoint)?.clone())
}

pub async fn open(s: &Shared, pattern: &str) -> Result<Image> {
    let mut summary = find_one(s, pattern).await?;
    let api = s.client.api().await?;
    let what = format!("inspect image {}", summary.describe());
    let inspect = api.inspect_image(summary.id.as_str()).await.map_err(|e| s.client.error(&what, e))?;
    summary.platform = inspect.os.as_ref().zip(inspect.architecture.as_ref()).map(|(os, arch)| Platform {
        os: os.clone(),
        architecture: arch.clone(),
        variant: inspect.variant.clone().filter(|v| !v.is_empty()),
    });
    if let Some(c) = &inspect.created {
        summary.created = Some(c.to_string());
    }
    let direct = match s.image_fs {
        ImageFsPath::Api => Err(Error::invalid("the API path was asked for")),
        _ if !s.client.address.is_local() => {
            Err(Error::not_supported(s.scheme(), "reading layer directories of a daemon on another host"))
        }
        _ => direct_layers(&inspect),
    };
    match (direct, s.image_fs) {
        (Ok(dirs), _) => open_direct(summary, &inspect, dirs),
        (Err(e), ImageFsPath::Direct) => Err(e.context(format!("image {}: the direct path", summary.describe()))),
        (Err(_), _) => open_through_api(s, summary).await,
    }
}

/// The layer directories, bottom first, with their diff IDs, when the direct path can
/// read them.
fn direct_layers(inspect: &bollard::models::ImageInspect) -> Result<Vec<(Digest, PathBuf)>> {
    let unsupported = |why: &str| Error::new(ErrorKind::NotSupported, format!("direct image reads: {why}"));
    let driver = inspect.graph_driver.as_ref().ok_or_else(|| unsupported("the daemon names no storage driver"))?;
    if driver.name != "overlay2" && driver.name != "overlay" {
        return Err(unsupported(&format!("storage driver {:?} (overlay2 and overlay are read directly)", driver.name)));
    }
    let dirs = overlay_dirs(driver).ok_or_else(|| unsupported("no UpperDir in the driver data"))?;
    let diff_ids: Vec<Digest> = inspect
        .root_fs
        .as_ref()
        .and_then(|r| r.layers.clone())
        .unwrap_or_default()
        .iter()
        .map(|d| d.parse())
        .collect::<Result<_>>()?;
    if diff_ids.len() != dirs.len() {
        return Err(unsupported(&format!("{} layer directories for {} layers", dirs.len(), diff_ids.len())));
    }
    for d in &dirs {
        // Opened as a directory with read access, as listing it needs: a caller that is not
        // root gets the API path. The daemon's own path may pass a link (a data root moved
        // to another disk); below it nothing is followed (fs/dir_layer.rs).
        HostDir::open(d).map_err(|e| e.context("layer directory"))?;
    }
    Ok(diff_ids.into_iter().zip(dirs).collect())
}

fn open_direct(
    summary: ImageSummary,
    inspect: &bollard::models::ImageInspect,
    layers: Vec<(Digest, PathBuf)>,
) -> Result<Image> {
    let config_bytes = stored_config(&summary.id, &layers).unwrap_or_else(|| config_of(inspect));
    let infos: Vec<LayerInfo> = layers
        .iter()
        .map(|(diff_id, _)| LayerInfo {
            digest: diff_id.clone(),
            diff_id: Some(diff_id.clone()),
            media_type: "application/vnd.oci.image.layer.v1.tar".into(),
            compression: Compression::None,
            size: 0,
        })
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": summary.id,
            "size": config_bytes.len(),
        },
        "layers": infos.iter().map(|l| json!({"mediaType": l.media_type, "digest": l.digest, "size": 0})).collect::<Vec<_>>(),
    });
    let layers = infos.into_iter().zip(layers).map(|(info, (_, dir))| Layer::from_dir(info, dir)).collect();
    Image::new(summary, manifest, config_bytes, layers)
}

/// The largest config read from Docker's image store (a config is a few KiB; anything
/// near this is not one).
const MAX_STORED_CONFIG: u64 = 64 << 20;

/// Docker keeps the config exactly as pulled in `ROOT/image/overlay2/imagedb/content/`;
/// ROOT is three levels above a layer's `overlay2/ID/diff`. Used only when its digest is
/// the image ID. ROOT may be reached through a link; below it no link is followed and
/// only a regular file is read.
fn stored_config(id: &Digest, layers: &[(Digest, PathBuf)]) -> Option<Vec<u8>> {
    use std::io::Read;
    let root = HostDir::open(layers.first()?.1.parent()?.parent()?.parent()?).ok()?;
    let rel = format!("image/overlay2/imagedb/content/{}/{}", id.algorithm(), id.hex());
    let mut bytes = Vec::new();
    root.open_file(&rel).ok()?.take(MAX_STORED_CONFIG + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 <= MAX_STORED_CONFIG && Digest::sha256_of(&bytes) == *id).then_some(bytes)
}

/// An OCI image config rebuilt from the daemon's inspect, where the stored bytes are
/// not at hand (Podman); its digest is then not the image ID.
fn config_of(inspect: &bollard::models::ImageInspect) -> Vec<u8> {
    let c = inspect.config.clone().unwrap_or_default();
    let config = json!({
        "created": inspect.created.as_ref().map(|c| c.to_string()),
        "author": inspect.author,
        "architecture": inspect.architecture,
        "os": inspect.os,
        "variant": inspect.variant,
        "config": {
            "User": c.user,
            "Env": c.env,
            "Entrypoint": c.entrypoint,
            "Cmd": c.cmd,
            "WorkingDir": c.working_dir,
            "Labels": c.labels,
            "StopSignal": c.stop_signal,
        },
        "rootfs": {
            "type": "layers",
            "diff_ids": inspect.root_fs.as_ref().and_then(|r| r.layers.clone()).unwrap_or_default(),
        },
    });
    serde_json::to_vec(&config).unwrap_or_default()
}

/// The API path: `docker save` of the image into a temporary file, read as a
/// docker-archive. The file is unlinked once open.
async fn open_through_api(s: &Shared, summary: ImageSummary) -> Result<Image> {
    let api = s.client.api().await?;
    let tmp = tempfile::Builder::new()
        .prefix("berth-save-")
        .suffix(".tar")
        .tempfile()
        .map_err(|e| Error::io("create a temporary file for the image", e))?;
    let what = format!("save image {}", summary.describe());
    let stream = api.export_image(summary.id.as_str());
    write_stream_to(&s.client, &what, Box::pin(stream), tmp.path()).await?;
    // The platform does not matter: a save holds the one image asked for.
    let saved = oci::open_archive(tmp.path(), oci::Prefer::Docker, Platform::host())
        .and_then(|offline| offline.open(summary.id.as_str()))
        .map_err(|e| e.context(&what))?;
    drop(tmp); // unlinked; the archive's descriptor stays open
    Image::new(summary, saved.manifest().clone(), saved.config_bytes().to_vec(), saved.layers().to_vec())
}

/// Credentials for a registry call: the call's own, else the runtime's.
fn credentials(
    s: &Shared,
    username: Option<String>,
    password: Option<String>,
    server: &str,
) -> Option<DockerCredentials> {
    let username = username.or_else(|| s.username.clone())?;
    Some(DockerCredentials {
        username: Some(username),
        password: password.or_else(|| s.password.clone()),
        serveraddress: Some(server.to_string()),
        ..Default::default()
    })
}

/// The registry host of a reference, as Docker keys credentials.
fn registry_of(reference: &str) -> String {
    crate::reference::Reference::parse(reference).map(|r| r.domain).unwrap_or_else(|_| "docker.io".into())
}

/// Docker's progress words, in berth's (PullProgress::status).
fn progress_status(docker: &str) -> Option<&'static str> {
    Some(match docker {
        "Pulling fs layer" | "Waiting" | "Preparing" => "resolved",
        "Downloading" => "downloading",
        "Verifying Checksum" | "Download complete" => "done",
        "Extracting" => "unpacking",
        "Pull complete" => "unpacked",
        "Already exists" | "Layer already exists" => "exists",
        "Pushing" => "uploading",
        "Pushed" => "pushed",
        _ => return None,
    })
}

fn send_progress(
    tx: &Option<mpsc::UnboundedSender<PullProgress>>,
    id: Option<&str>,
    status: Option<&str>,
    detail: Option<&bollard::models::ProgressDetail>,
) {
    let (Some(tx), Some(id), Some(status)) = (tx, id, status.and_then(progress_status)) else { return };
    let offset = detail.and_then(|d| d.current).unwrap_or(0).max(0) as u64;
    let total = detail.and_then(|d| d.total).unwrap_or(0).max(0) as u64;
    let _ = tx.send(PullProgress { digest: id.to_string(), status: status.to_string(), offset, total });
}

pub async fn pull(
    s: &Shared,
    reference: &str,
    options: PullOptions,
    progress: Option<mpsc::UnboundedSender<PullProgress>>,
) -> Result<ImageSummary> {
    let what = format!("pull {reference}");
    crate::reference::Reference::parse(reference).map_err(|e| e.context(&what))?;
    if options.plain_http && s.kind == RuntimeKind::Podman {
        // Podman's compatible API always verifies TLS; its own API can be told not to.
        pull_libpod(s, reference, &options, &progress).await?;
    } else {
        let api = s.client.api().await?;
        let create = CreateImageOptions {
            from_image: Some(reference.to_string()),
            platform: options.platform.clone().unwrap_or_default(),
            ..Default::default()
        };
        let auth = credentials(s, options.username.clone(), options.password.clone(), &registry_of(reference));
        let mut stream = api.create_image(Some(create), None, auth);
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| transfer_error(s, &what, e))?;
            if let Some(err) = info.error_detail.and_then(|d| d.message) {
                return Err(transfer_failure(&what, &err));
            }
            send_progress(&progress, info.id.as_deref(), info.status.as_deref(), info.progress_detail.as_ref());
        }
    }
    let inspect = s.client.api().await?.inspect_image(reference).await.map_err(|e| s.client.error(&what, e))?;
    let id = image_digest(inspect.id.as_deref().unwrap_or_default())?;
    list(s)
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or_else(|| Error::internal(format!("{what}: the pulled image is not listed")))
}

/// A pull through libpod (`tlsVerify=false`): its stream says which blobs it copies.
async fn pull_libpod(
    s: &Shared,
    reference: &str,
    options: &PullOptions,
    progress: &Option<mpsc::UnboundedSender<PullProgress>>,
) -> Result<()> {
    let what = format!("pull {reference}");
    let mut path = format!("/images/pull?reference={}&tlsVerify=false&quiet=false", encode(reference));
    if let Some(p) = &options.platform {
        let parsed = Platform::parse(p).ok_or_else(|| Error::invalid(format!("{what}: platform {p:?}")))?;
        path.push_str(&format!("&OS={}&Arch={}", encode(&parsed.os), encode(&parsed.architecture)));
        if let Some(v) = &parsed.variant {
            path.push_str(&format!("&Variant={}", encode(v)));
        }
    }
    let auth = credentials(s, options.username.clone(), options.password.clone(), &registry_of(reference));
    let lines = s.libpod(&what)?.json_lines(&what, http::Method::POST, &path, auth.as_ref()).await?;
    for doc in lines {
        libpod_error(&what, &doc)?;
        // "Copying blob sha256:ab12...", "Copying config sha256:..."
        if let (Some(tx), Some(line)) = (progress, doc.get("stream").and_then(Value::as_str)) {
            if let Some(digest) = line.split_whitespace().find(|w| w.starts_with("sha256:")) {
                let status =
                    if line.contains("skipped") || line.contains("already exists") { "exists" } else { "done" };
                let _ =
                    tx.send(PullProgress { digest: digest.to_string(), status: status.into(), offset: 0, total: 0 });
            }
        }
    }
    Ok(())
}

/// A libpod progress document that reports a failure (`{"error": "..."}`).
fn libpod_error(what: &str, doc: &Value) -> Result<()> {
    match doc.get("error").and_then(Value::as_str).filter(|e| !e.is_empty()) {
        Some(err) => Err(transfer_failure(what, err)),
        None => Ok(()),
    }
}

/// A failed item of a pull's or push's progress stream: the daemon's own report of a
/// failed transfer (bollard's stream error) is read as [`transfer_failure`] reads it.
fn transfer_error(s: &Shared, what: &str, e: bollard::errors::Error) -> Error {
    match e {
        bollard::errors::Error::DockerStreamError { error } => transfer_failure(what, &error),
        e => s.client.error(what, e),
    }
}

/// The failure a daemon reported in the middle of a pull or push. One the network broke
/// off (the registry's connection ended or was reset mid-transfer: "unexpected EOF") is
/// Unavailable, as a registry that cannot be reached is: a later try may work. Else the
/// message's kind, else Internal.
fn transfer_failure(what: &str, message: &str) -> Error {
    const BROKEN: &[&str] = &[
        "unexpected eof",
        "connection reset",
        "broken pipe",
        "i/o timeout",
        "tls handshake timeout",
        "no route to host",
    ];
    let lower = message.to_ascii_lowercase();
    if kind_of_message(message).is_none() && BROKEN.iter().any(|w| lower.contains(w)) {
        return Error::new(
            ErrorKind::Unavailable,
            format!("{what}: {message} (the connection to the registry broke during the transfer)"),
        );
    }
    stream_failure(what, message, ErrorKind::Internal)
}

pub async fn push(
    s: &Shared,
    reference: &str,
    options: PushOptions,
    progress: Option<mpsc::UnboundedSender<PullProgress>>,
) -> Result<()> {
    let what = format!("push {reference}");
    let (repo, tag) = split_tag(reference);
    let auth = credentials(s, options.username.clone(), options.password.clone(), &registry_of(reference));
    if options.plain_http && s.kind == RuntimeKind::Podman {
        let path = format!("/images/{}/push?destination={}&tlsVerify=false", encode(reference), encode(reference));
        let lines = s.libpod(&what)?.json_lines(&what, http::Method::POST, &path, auth.as_ref()).await?;
        return lines.iter().try_for_each(|doc| libpod_error(&what, doc));
    }
    let api = s.client.api().await?;
    let mut stream = api.push_image(&repo, Some(PushImageOptions { tag: Some(tag), platform: None }), auth);
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| transfer_error(s, &what, e))?;
        if let Some(err) = info.error_detail.and_then(|d| d.message) {
            return Err(transfer_failure(&what, &err));
        }
        // Push progress has the layer ID only in the status line's `id`, which bollard's
        // PushImageInfo drops: the status alone is reported, with the counts.
        send_progress(&progress, Some("layer"), info.status.as_deref(), info.progress_detail.as_ref());
    }
    Ok(())
}

/// `repo[:tag]` → (repo, tag), tag `latest` when absent (a `:` in the registry's port
/// is not a tag).
pub(super) fn split_tag(reference: &str) -> (String, String) {
    let reference = reference.split('@').next().unwrap_or(reference);
    match reference.rfind(':') {
        Some(i) if !reference[i..].contains('/') => (reference[..i].to_string(), reference[i + 1..].to_string()),
        _ => (reference.to_string(), "latest".to_string()),
    }
}

pub async fn tag(s: &Shared, source: &str, target: &str) -> Result<()> {
    let image = find_one(s, source).await?;
    crate::reference::Reference::parse(target).map_err(|e| e.context(format!("tag {target}")))?;
    let (repo, tag) = split_tag(target);
    if let Some(libpod) = &s.libpod {
        // Podman's compatible API files a name without a registry under docker.io;
        // its own API under localhost/, as the podman CLI does.
        let what = format!("tag {} as {target}", image.describe());
        let path = format!("/images/{}/tag?repo={}&tag={}", image.id.hex(), encode(&repo), encode(&tag));
        return libpod.call(&what, http::Method::POST, &path, None).await.map(|_| ());
    }
    let api = s.client.api().await?;
    api.tag_image(image.id.as_str(), Some(TagImageOptions { repo: Some(repo), tag: Some(tag) }))
        .await
        .map_err(|e| s.client.error(format!("tag {} as {target}", image.describe()), e))
}

/// True when `pattern` found `image` by its ID (a digest, or a hex prefix of it) rather
/// than by one of its names.
fn names_by_id(pattern: &str, image: &ImageSummary) -> bool {
    pattern.parse::<Digest>().is_ok() || image.id.hex().starts_with(pattern)
}

/// A name removes that name (the image goes with its last name, as `docker rmi` does);
/// an ID removes the image with all its names.
pub async fn remove(s: &Shared, pattern: &str) -> Result<()> {
    let all = list(s).await?;
    let one = find::find_one_image(&all, pattern, &s.client.endpoint)?;
    let api = s.client.api().await?;
    let by_id = names_by_id(pattern, one);
    let names: Vec<String> = if by_id {
        one.repo_tags.clone()
    } else {
        // The image's names the pattern matches: exactly one must.
        let matching: Vec<String> = one
            .repo_tags
            .iter()
            .filter(|n| {
                let single = ImageSummary { repo_tags: vec![(*n).clone()], repo_digests: Vec::new(), ..one.clone() };
                find::find_images(std::slice::from_ref(&single), pattern).map(|v| !v.is_empty()).unwrap_or(false)
            })
            .cloned()
            .collect();
        match matching.len() {
            1 => matching,
            0 => vec![one.id.to_string()],
            _ => return Err(Error::ambiguous(format!("image name {pattern:?}"), matching)),
        }
    };
    let options = || Some(RemoveImageOptions { force: false, noprune: false, platforms: None });
    for name in &names {
        api.remove_image(name, options(), None).await.map_err(|e| s.client.error(format!("remove image {name}"), e))?;
    }
    if by_id || names.is_empty() {
        // The last name's removal took the image; an untagged one goes by ID.
        match api.remove_image(one.id.as_str(), options(), None).await {
            Ok(_) => {}
            Err(e) => {
                let e = s.client.error(format!("remove image {}", one.describe()), e);
                if e.kind() != ErrorKind::NotFound {
                    return Err(e);
                }
            }
        }
    }
    Ok(())
}

/// `docker load`: the images of a docker-archive tar (Podman also reads oci-archives).
pub async fn load(s: &Shared, archive: &Path) -> Result<Vec<ImageSummary>> {
    let what = format!("load {}", archive.display());
    let file = tokio::fs::File::open(archive).await.map_err(|e| Error::io(&what, e))?;
    let body = file_chunks(file);
    let api = s.client.api().await?;
    let mut stream = api.import_image_stream(ImportImageOptions { quiet: true, platform: None }, body, None);
    let mut loaded: Vec<String> = Vec::new();
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| s.client.error(&what, e))?;
        if let Some(err) = info.error_detail.and_then(|d| d.message) {
            return Err(stream_failure(&what, &err, ErrorKind::Corrupt));
        }
        // "Loaded image: name:tag" / "Loaded image ID: sha256:..." (Podman: "Loaded image: x, y")
        if let Some(line) = info.stream {
            for l in line.lines() {
                if let Some(rest) = l.strip_prefix("Loaded image ID: ").or_else(|| l.strip_prefix("Loaded image: ")) {
                    loaded.extend(rest.split(',').map(|n| n.trim().to_string()).filter(|n| !n.is_empty()));
                }
            }
        }
    }
    let all = list(s).await?;
    let mut out: Vec<ImageSummary> = Vec::new();
    for name in &loaded {
        let found = find::find_images(&all, name).unwrap_or_default();
        for i in found {
            if !out.iter().any(|o| o.id == i.id) {
                out.push(i.clone());
            }
        }
    }
    if out.is_empty() {
        return Err(Error::corrupt(format!("{what}: the daemon loaded no image")));
    }
    Ok(out)
}

/// A file as a stream of chunks, for a request body.
fn file_chunks(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::result::Result<bytes::Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::unfold(file, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 256 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(bytes::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    })
}

/// `docker save` of the images `patterns` name, with the names they were found by.
pub async fn save(s: &Shared, patterns: &[String], archive: &Path) -> Result<()> {
    if patterns.is_empty() {
        return Err(Error::invalid("save images: no image named"));
    }
    let all = list(s).await?;
    let mut names: Vec<String> = Vec::new();
    for p in patterns {
        let one = find::find_one_image(&all, p, &s.client.endpoint)?;
        let by_id = names_by_id(p, one);
        if by_id || one.repo_tags.is_empty() {
            names.push(one.id.to_string());
        } else {
            names.extend(one.repo_tags.iter().cloned());
        }
    }
    names.dedup();
    let api = s.client.api().await?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let stream = api.export_images(&refs);
    write_stream_to(&s.client, &format!("save {}", names.join(" ")), Box::pin(stream), archive).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_tags() {
        assert_eq!(split_tag("a/b:1"), ("a/b".into(), "1".into()));
        assert_eq!(split_tag("127.0.0.1:5000/b"), ("127.0.0.1:5000/b".into(), "latest".into()));
        assert_eq!(split_tag("127.0.0.1:5000/b:v2"), ("127.0.0.1:5000/b".into(), "v2".into()));
    }

    #[test]
    fn transfers_the_network_broke_off_are_unavailable() {
        assert_eq!(transfer_failure("pull x", "unexpected EOF").kind(), ErrorKind::Unavailable);
        assert_eq!(transfer_failure("pull x", "read tcp: connection reset by peer").kind(), ErrorKind::Unavailable);
        assert_eq!(transfer_failure("pull x", "manifest unknown: manifest unknown").kind(), ErrorKind::NotFound);
        assert_eq!(transfer_failure("pull x", "boom").kind(), ErrorKind::Internal);
    }

    #[test]
    fn progress_words() {
        assert_eq!(progress_status("Downloading"), Some("downloading"));
        assert_eq!(progress_status("Pushed"), Some("pushed"));
        assert_eq!(progress_status("Digest: sha256:x"), None);
    }
}

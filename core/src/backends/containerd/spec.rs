//! The OCI runtime spec (config.json) for containers created through containerd.
//!
//! containerd does not build specs itself: its client does (`oci.GenerateSpec` plus
//! spec options), and stores the result in the container record. We build the same
//! document `ctr run` builds by default on Linux (the default Unix spec plus
//! `WithImageConfig`), as plain JSON, so what reaches the runtime is exactly what we
//! chose here and nothing a library version decided for us.
//!
//! Command line (`process.args`), following Docker's rules:
//!
//! | `entrypoint`      | `args`    | result                                   |
//! |-------------------|-----------|------------------------------------------|
//! | absent            | empty     | image Entrypoint + image Cmd             |
//! | absent            | non-empty | `args` (replaces Entrypoint *and* Cmd)   |
//! | non-empty         | empty     | `entrypoint` (the image Cmd is dropped)  |
//! | non-empty         | non-empty | `entrypoint` + `args`                    |
//! | empty (`[]`)      | empty     | image Cmd (like `--entrypoint ""`)       |
//! | empty (`[]`)      | non-empty | `args`                                   |
//!
//! Docker drops the image Cmd when the entrypoint is overridden because the Cmd was
//! written as arguments for the image's own entrypoint; passing them to a different
//! program is almost never what the caller meant.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::container::{CreateOptions, ExecOptions, MountSpec, NetworkMode, Resources};
use crate::error::{Error, Result};

/// The OCI runtime-spec version containerd writes into the specs it generates.
const OCI_VERSION: &str = "1.0.2-dev";

/// containerd's default PATH (`defaultUnixEnv`), used when the image sets none.
const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Set for a terminal, as `ctr run --tty` (`oci.WithTTY`) and `docker run -t` do, so
/// that shells and editors work; the image or the caller may override it.
const TTY_TERM: &str = "TERM=xterm";

/// containerd's default capability set (`defaultUnixCaps`), the same as Docker's.
const DEFAULT_CAPABILITIES: [&str; 14] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Kernel interfaces that leak host information or allow attacks; hidden (containerd's list).
const MASKED_PATHS: [&str; 10] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
];

/// Kernel interfaces the container may read but must not change (containerd's list).
const READONLY_PATHS: [&str; 5] = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/// Host files shared into a container on the host network, so that name resolution
/// works the way it does on the host (`ctr run --net-host`: `WithHostHostsFile`,
/// `WithHostResolvconf`).
const HOST_NETWORK_FILES: [&str; 2] = ["/etc/hosts", "/etc/resolv.conf"];

/// Linux limits a hostname to 64 bytes; runc would fail later with a bare EINVAL.
const MAX_HOSTNAME_LEN: usize = 64;

/// How many characters of the container ID become its default hostname (as Docker does).
const HOSTNAME_ID_CHARS: usize = 12;

/// The runtime spec for a container `id` created with `options` from an image whose
/// OCI config document (the image config JSON: {"config": {"Entrypoint", "Cmd", "Env",
/// "WorkingDir", "User", ...}, ...}) is `image_config`. `namespace` is the containerd
/// namespace (used for the cgroups path `/<namespace>/<id>`, as ctr does).
///
/// Empty strings in `options.cwd`, `options.user` and `options.hostname` count as
/// absent (bindings often send "" for "not set").
pub fn runtime_spec(id: &str, namespace: &str, options: &CreateOptions, image_config: &Value) -> Result<Value> {
    build_runtime_spec(id, namespace, options, image_config, &|path: &Path| path.exists())
}

/// [`runtime_spec`], with the check for host files injectable so tests do not depend
/// on the machine they run on.
fn build_runtime_spec(
    id: &str,
    namespace: &str,
    options: &CreateOptions,
    image_config: &Value,
    host_file_exists: &dyn Fn(&Path) -> bool,
) -> Result<Value> {
    if id.is_empty() {
        return Err(Error::invalid("container spec: the container ID is empty"));
    }
    if namespace.is_empty() {
        return Err(Error::invalid(format!("container spec for {id:?}: the containerd namespace is empty")));
    }
    let image = ImageConfig::parse(image_config)?;

    let mut spec = Map::new();
    spec.insert("ociVersion".into(), json!(OCI_VERSION));
    spec.insert("process".into(), create_process(options, &image)?);
    spec.insert("root".into(), json!({ "path": "rootfs", "readonly": false }));
    spec.insert("mounts".into(), Value::Array(mounts(options, host_file_exists)?));
    if let Some(hostname) = hostname(id, options)? {
        spec.insert("hostname".into(), Value::String(hostname));
    }
    spec.insert("linux".into(), linux(id, namespace, options));
    if !options.annotations.is_empty() {
        spec.insert("annotations".into(), annotations(&options.annotations));
    }
    Ok(Value::Object(spec))
}

/// The process part of a spec for an exec (args, env, cwd, user, terminal), based on the
/// container's spec (its env/cwd/user are the defaults), for Tasks.Exec.
///
/// Everything else of the container's process (capabilities, rlimits,
/// noNewPrivileges, AppArmor and SELinux labels) is kept: an exec must not run with
/// more privilege than the container's own process.
pub fn exec_process_spec(container_spec: &Value, options: &ExecOptions) -> Result<Value> {
    let mut process = match container_spec.get("process") {
        Some(Value::Object(process)) => process.clone(),
        _ => return Err(Error::corrupt("exec: the container's runtime spec has no process object")),
    };

    validate_args(&options.args, "exec")?;
    process.insert("args".into(), strings(&options.args));
    process.insert("terminal".into(), Value::Bool(options.tty));

    validate_env(&options.env)?;
    let container_env = string_list(process.get("env"), "the container's process.env").map_err(Error::corrupt)?;
    let tty_env: &[&str] = if options.tty { &[TTY_TERM] } else { &[] };
    let env = merge_env(&[&container_env, &owned(tty_env), &options.env]);
    process.insert("env".into(), strings(&env));

    if let Some(cwd) = non_empty(&options.cwd) {
        validate_cwd(cwd, "exec cwd")?;
        process.insert("cwd".into(), Value::String(cwd.to_string()));
    }
    if let Some(user) = non_empty(&options.user) {
        process.insert("user".into(), user_json(parse_user(user)?));
    }
    Ok(Value::Object(process))
}

/// Applies resource limits to a spec's linux.resources (used at create and for Update).
///
/// Only the limits that are set appear, so an Update leaves the others as they are;
/// an empty `Resources` gives `{}`.
pub fn linux_resources(r: &Resources) -> Value {
    let mut resources = Map::new();

    let mut memory = Map::new();
    insert_some(&mut memory, "limit", r.memory_bytes);
    insert_group(&mut resources, "memory", memory);

    let mut cpu = Map::new();
    insert_some(&mut cpu, "shares", r.cpu_shares);
    insert_some(&mut cpu, "quota", r.cpu_quota);
    insert_some(&mut cpu, "period", r.cpu_period);
    insert_group(&mut resources, "cpu", cpu);

    let mut pids = Map::new();
    insert_some(&mut pids, "limit", r.pids_limit);
    insert_group(&mut resources, "pids", pids);

    Value::Object(resources)
}

// ---------------------------------------------------------------------------------
// The image config

/// The parts of an OCI image config (its "config" object) that shape the process.
#[derive(Debug, Default)]
struct ImageConfig {
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    env: Vec<String>,
    working_dir: String,
    user: String,
}

impl ImageConfig {
    /// Reads the image config document. Absent or null fields (common in images built
    /// `FROM scratch`) are empty; fields of the wrong type are Corrupt.
    fn parse(doc: &Value) -> Result<ImageConfig> {
        let config = match doc {
            Value::Object(doc) => doc.get("config"),
            Value::Null => None,
            _ => return Err(Error::corrupt("image config: the document is not a JSON object")),
        };
        let config = match config {
            None | Some(Value::Null) => return Ok(ImageConfig::default()),
            Some(Value::Object(config)) => config,
            Some(_) => return Err(Error::corrupt("image config: \"config\" is not an object")),
        };
        let list = |key: &str| string_list(config.get(key), &format!("image config {key}")).map_err(Error::corrupt);
        let text = |key: &str| string_field(config.get(key), &format!("image config {key}")).map_err(Error::corrupt);
        Ok(ImageConfig {
            entrypoint: list("Entrypoint")?,
            cmd: list("Cmd")?,
            env: list("Env")?,
            working_dir: text("WorkingDir")?,
            user: text("User")?,
        })
    }
}

/// A JSON list of strings; absent or null is empty. The error is a message only, so
/// the caller picks the kind (bad image data is Corrupt).
fn string_list(value: Option<&Value>, what: &str) -> std::result::Result<Vec<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string).ok_or_else(|| format!("{what} is not a list of strings")))
            .collect(),
        Some(_) => Err(format!("{what} is not a list of strings")),
    }
}

/// A JSON string; absent or null is empty.
fn string_field(value: Option<&Value>, what: &str) -> std::result::Result<String, String> {
    match value {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("{what} is not a string")),
    }
}

// ---------------------------------------------------------------------------------
// The process

fn create_process(options: &CreateOptions, image: &ImageConfig) -> Result<Value> {
    let args = process_args(options, image);
    validate_args(&args, "container")?;

    validate_env(&options.env)?;
    let env = merge_env(&[&default_env(image, options.tty), &image.env, &options.env]);

    let cwd = match non_empty(&options.cwd) {
        Some(cwd) => {
            validate_cwd(cwd, "cwd")?;
            cwd.to_string()
        }
        None if !image.working_dir.is_empty() => {
            validate_cwd(&image.working_dir, "the image's WorkingDir")?;
            image.working_dir.clone()
        }
        None => "/".to_string(),
    };

    // The caller's user wins; otherwise the image's ("" there means root).
    let user = non_empty(&options.user).unwrap_or(&image.user);
    let user = parse_user(user)?;

    Ok(json!({
        "terminal": options.tty,
        "user": user_json(user),
        "args": args,
        "env": env,
        "cwd": cwd,
        "capabilities": {
            "bounding": DEFAULT_CAPABILITIES,
            "effective": DEFAULT_CAPABILITIES,
            "permitted": DEFAULT_CAPABILITIES,
        },
        "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }],
        "noNewPrivileges": true,
    }))
}

/// The command line, by Docker's rules (see the module documentation for the table).
fn process_args(options: &CreateOptions, image: &ImageConfig) -> Vec<String> {
    let args = &options.args;
    match &options.entrypoint {
        // A new entrypoint: the image Cmd was meant for the old one, so it is dropped.
        Some(entrypoint) if !entrypoint.is_empty() => entrypoint.iter().chain(args).cloned().collect(),
        // An explicitly empty entrypoint clears the image's; the Cmd stays the default.
        Some(_) if args.is_empty() => image.cmd.clone(),
        Some(_) => args.clone(),
        // `args` is the whole command line (CreateOptions documents it that way).
        None if !args.is_empty() => args.clone(),
        None => image.entrypoint.iter().chain(&image.cmd).cloned().collect(),
    }
}

/// A command must name a program; the runtime's error for an empty one is obscure.
fn validate_args(args: &[String], what: &str) -> Result<()> {
    match args.first() {
        None => Err(Error::invalid(format!(
            "{what}: no command to run: give args or an entrypoint (the image has neither Entrypoint nor Cmd)"
        ))),
        Some(program) if program.is_empty() => {
            Err(Error::invalid(format!("{what}: the command's program (args[0]) is an empty string")))
        }
        Some(_) => Ok(()),
    }
}

/// The environment every container starts from, before the image's and the caller's.
fn default_env(image: &ImageConfig, tty: bool) -> Vec<String> {
    let mut env = Vec::new();
    // containerd sets its PATH first and lets the image replace it; we leave it out
    // when the image has one so the image's keeps its position in the list.
    if !image.env.iter().any(|entry| env_key(entry) == "PATH") {
        env.push(DEFAULT_PATH.to_string());
    }
    if tty {
        env.push(TTY_TERM.to_string());
    }
    env
}

/// Caller-given variables must be `KEY=VALUE` or `KEY` (which unsets KEY); a missing
/// key would reach the process as a nameless variable.
fn validate_env(env: &[String]) -> Result<()> {
    match env.iter().find(|entry| env_key(entry).is_empty()) {
        Some(entry) => Err(Error::invalid(format!("environment variable {entry:?} has no name (expected KEY=VALUE)"))),
        None => Ok(()),
    }
}

/// Applies environment layers in order, as containerd's `replaceOrAppendEnvValues`
/// does: a later `KEY=VALUE` replaces an earlier KEY in place (so order is kept) or
/// is appended; a bare `KEY` removes KEY. Bare keys never reach the runtime, which
/// would reject them.
fn merge_env(layers: &[&[String]]) -> Vec<String> {
    let mut env: Vec<String> = Vec::new();
    for entry in layers.iter().flat_map(|layer| layer.iter()) {
        let key = env_key(entry);
        let existing = env.iter().position(|e| env_key(e) == key);
        match (entry.contains('='), existing) {
            (true, Some(i)) => env[i] = entry.clone(),
            (true, None) => env.push(entry.clone()),
            (false, Some(i)) => {
                env.remove(i);
            }
            (false, None) => {}
        }
    }
    env
}

fn env_key(entry: &str) -> &str {
    entry.split_once('=').map_or(entry, |(key, _)| key)
}

/// The runtime resolves cwd inside the container's root; a relative one has no meaning.
fn validate_cwd(cwd: &str, what: &str) -> Result<()> {
    if cwd.starts_with('/') {
        Ok(())
    } else {
        Err(Error::invalid(format!("{what} {cwd:?} is not an absolute path")))
    }
}

/// Parses `uid`, `uid:gid` (numeric) or "" (root). A bare uid gets gid 0, which is
/// what containerd's `WithUserID` does when the image has no passwd entry for it.
///
/// Names other than `root` are refused: resolving them needs the image's
/// /etc/passwd and /etc/group, which are not read here. `root` is uid and gid 0 on
/// every Linux system, and images commonly say `USER root`.
fn parse_user(user: &str) -> Result<(u32, u32)> {
    if user.is_empty() {
        return Ok((0, 0));
    }
    let (uid, gid) = match user.split_once(':') {
        Some((uid, gid)) => (uid, Some(gid)),
        None => (user, None),
    };
    let uid = parse_id(uid, user)?;
    let gid = match gid {
        Some(gid) => parse_id(gid, user)?,
        None => 0,
    };
    Ok((uid, gid))
}

fn parse_id(id: &str, user: &str) -> Result<u32> {
    if id == "root" {
        return Ok(0);
    }
    let numeric = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
    match id.parse::<u32>() {
        Ok(n) if numeric => Ok(n),
        _ if id.is_empty() => Err(Error::invalid(format!("user {user:?}: expected uid or uid:gid, both numeric"))),
        _ if numeric => Err(Error::invalid(format!("user {user:?}: {id} is out of range for a uid or gid"))),
        _ => Err(Error::invalid(format!(
            "user {user:?}: {id:?} is not numeric; give uid or uid:gid (user and group names are not resolved)"
        ))),
    }
}

fn user_json((uid, gid): (u32, u32)) -> Value {
    json!({ "uid": uid, "gid": gid, "additionalGids": [] })
}

// ---------------------------------------------------------------------------------
// Mounts

/// containerd's default mounts, then the host files for a host-network container,
/// then the caller's. A caller's mount replaces a default one at the same destination
/// (as Docker does) rather than being stacked on top of it.
fn mounts(options: &CreateOptions, host_file_exists: &dyn Fn(&Path) -> bool) -> Result<Vec<Value>> {
    let user_mounts = options.mounts.iter().map(user_mount).collect::<Result<Vec<_>>>()?;
    let overridden = |mount: &Value| {
        let destination = mount_destination(mount);
        options.mounts.iter().any(|m| same_path(&m.destination, destination))
    };

    let mut all = default_mounts();
    if options.network == NetworkMode::Host {
        all.extend(host_network_mounts(host_file_exists));
    }
    all.retain(|mount| !overridden(mount));
    all.extend(user_mounts);
    Ok(all)
}

fn default_mounts() -> Vec<Value> {
    vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        mount("/dev", "tmpfs", "tmpfs", &["nosuid", "strictatime", "mode=755", "size=65536k"]),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        ),
        mount("/dev/shm", "tmpfs", "shm", &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
        mount("/dev/mqueue", "mqueue", "mqueue", &["nosuid", "noexec", "nodev"]),
        mount("/sys", "sysfs", "sysfs", &["nosuid", "noexec", "nodev", "ro"]),
        mount("/run", "tmpfs", "tmpfs", &["nosuid", "strictatime", "mode=755", "size=65536k"]),
    ]
}

/// Read-only binds of the host's name-resolution files; a file the host lacks is
/// skipped, since a bind of a missing source would fail the container's start.
fn host_network_mounts(host_file_exists: &dyn Fn(&Path) -> bool) -> Vec<Value> {
    HOST_NETWORK_FILES
        .iter()
        .filter(|path| host_file_exists(Path::new(path)))
        .map(|path| mount(path, "bind", path, &["rbind", "ro"]))
        .collect()
}

/// One of the caller's mounts. Binds (the default kind) are recursive and private,
/// so mounts below the source come along and nothing propagates back to the host.
fn user_mount(m: &MountSpec) -> Result<Value> {
    if !m.destination.starts_with('/') {
        return Err(Error::invalid(format!(
            "mount {:?} -> {:?}: the destination is not an absolute path",
            m.source, m.destination
        )));
    }
    let kind = m.kind.as_deref().filter(|kind| !kind.is_empty()).unwrap_or("bind");
    if kind == "bind" {
        bind_mount(m)
    } else {
        Ok(other_mount(m, kind))
    }
}

fn bind_mount(m: &MountSpec) -> Result<Value> {
    // A relative source would be resolved against the bundle directory, which the
    // caller never sees.
    if !m.source.starts_with('/') {
        return Err(Error::invalid(format!(
            "bind mount {:?} -> {:?}: the source is not an absolute host path",
            m.source, m.destination
        )));
    }
    // "ro"/"rw" among the caller's options counts like `read_only`, and exactly one of
    // the two is written: the runtime applies them in order, so both would be a trap.
    let read_only = m.read_only || m.options.iter().any(|o| o == "ro");
    let mut options: Vec<String> = owned(&["rbind", "rprivate", if read_only { "ro" } else { "rw" }]);
    for option in &m.options {
        if option != "ro" && option != "rw" && !options.contains(option) {
            options.push(option.clone());
        }
    }
    Ok(json!({ "destination": m.destination, "type": "bind", "source": m.source, "options": options }))
}

/// A filesystem mount (tmpfs, ...): the caller's options as given, plus "ro" if asked
/// for. The kernel ignores the source of such mounts, so it defaults to the type name.
fn other_mount(m: &MountSpec, kind: &str) -> Value {
    let source = if m.source.is_empty() { kind } else { &m.source };
    let mut options = m.options.clone();
    if m.read_only && !options.iter().any(|o| o == "ro") {
        options.push("ro".into());
    }
    json!({ "destination": m.destination, "type": kind, "source": source, "options": options })
}

fn mount(destination: &str, kind: &str, source: &str, options: &[&str]) -> Value {
    json!({ "destination": destination, "type": kind, "source": source, "options": options })
}

fn mount_destination(mount: &Value) -> &str {
    mount.get("destination").and_then(Value::as_str).unwrap_or_default()
}

/// "/data" and "/data/" are the same mount point.
fn same_path(a: &str, b: &str) -> bool {
    let trim = |p: &str| if p.len() > 1 { p.trim_end_matches('/').to_string() } else { p.to_string() };
    trim(a) == trim(b)
}

// ---------------------------------------------------------------------------------
// Linux settings, hostname, annotations

fn linux(id: &str, namespace: &str, options: &CreateOptions) -> Value {
    let mut resources = match linux_resources(&options.resources) {
        Value::Object(resources) => resources,
        _ => Map::new(),
    };
    // Deny all device access; the runtime then allows its standard devices
    // (/dev/null, /dev/zero, ptys, ...) on its own.
    resources.insert("devices".into(), json!([{ "allow": false, "access": "rwm" }]));

    json!({
        "namespaces": namespaces(options.network),
        "cgroupsPath": format!("/{namespace}/{id}"),
        "resources": resources,
        "maskedPaths": MASKED_PATHS,
        "readonlyPaths": READONLY_PATHS,
    })
}

/// New namespaces for everything but users and cgroups (containerd's defaults); a
/// host-network container simply gets no network entry, so it stays in the runtime's.
fn namespaces(network: NetworkMode) -> Vec<Value> {
    let mut kinds = vec!["pid", "ipc", "uts", "mount"];
    if network != NetworkMode::Host {
        kinds.push("network");
    }
    kinds.into_iter().map(|kind| json!({ "type": kind })).collect()
}

/// The caller's hostname, else for a private network the ID's first 12 characters
/// (as Docker does, so the container does not show an empty hostname). A host-network
/// container gets none unless asked: it is otherwise indistinguishable from the host.
fn hostname(id: &str, options: &CreateOptions) -> Result<Option<String>> {
    if let Some(name) = non_empty(&options.hostname) {
        if name.len() > MAX_HOSTNAME_LEN {
            return Err(Error::invalid(format!("hostname {name:?} is longer than {MAX_HOSTNAME_LEN} bytes")));
        }
        return Ok(Some(name.to_string()));
    }
    Ok(match options.network {
        NetworkMode::None => Some(id.chars().take(HOSTNAME_ID_CHARS).collect()),
        NetworkMode::Host => None,
    })
}

fn annotations(annotations: &BTreeMap<String, String>) -> Value {
    Value::Object(annotations.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

// ---------------------------------------------------------------------------------
// Small helpers

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::String).collect())
}

fn insert_some<T: Into<Value>>(map: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(value) = value {
        map.insert(key.into(), value.into());
    }
}

/// A cgroup controller's settings, left out entirely when none are set.
fn insert_group(map: &mut Map<String, Value>, key: &str, group: Map<String, Value>) {
    if !group.is_empty() {
        map.insert(key.into(), Value::Object(group));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// No host files exist, so specs do not depend on the test machine.
    fn no_host_files(_: &Path) -> bool {
        false
    }

    fn all_host_files(_: &Path) -> bool {
        true
    }

    fn image(config: Value) -> Value {
        json!({ "architecture": "amd64", "os": "linux", "config": config })
    }

    fn opts() -> CreateOptions {
        CreateOptions { image: "alpine".into(), ..Default::default() }
    }

    fn svec(items: &[&str]) -> Vec<String> {
        owned(items)
    }

    fn spec(options: &CreateOptions, config: Value) -> Value {
        build_runtime_spec("0123456789abcdef", "default", options, &image(config), &no_host_files).unwrap()
    }

    fn spec_err(options: &CreateOptions, config: Value) -> Error {
        build_runtime_spec("0123456789abcdef", "default", options, &image(config), &no_host_files).unwrap_err()
    }

    fn args_of(options: &CreateOptions, config: Value) -> Value {
        spec(options, config)["process"]["args"].clone()
    }

    fn destinations(spec: &Value) -> Vec<String> {
        spec["mounts"].as_array().unwrap().iter().map(|m| mount_destination(m).to_string()).collect()
    }

    fn find_mount<'a>(spec: &'a Value, destination: &str) -> &'a Value {
        spec["mounts"].as_array().unwrap().iter().find(|m| m["destination"] == destination).unwrap()
    }

    fn namespace_types(spec: &Value) -> Vec<String> {
        spec["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap().to_string())
            .collect()
    }

    fn assert_invalid(err: Error, fragment: &str) {
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
        assert!(err.message().contains(fragment), "{:?} should mention {fragment:?}", err.message());
    }

    // --- the command line ---

    #[test]
    fn image_entrypoint_then_cmd_by_default() {
        let config = json!({ "Entrypoint": ["/entry.sh"], "Cmd": ["serve", "--port", "80"] });
        assert_eq!(args_of(&opts(), config), json!(["/entry.sh", "serve", "--port", "80"]));
    }

    #[test]
    fn image_cmd_alone_when_no_entrypoint() {
        assert_eq!(args_of(&opts(), json!({ "Cmd": ["/bin/sh"], "Entrypoint": null })), json!(["/bin/sh"]));
    }

    #[test]
    fn args_replace_image_entrypoint_and_cmd() {
        let options = CreateOptions { args: svec(&["echo", "hi"]), ..opts() };
        let config = json!({ "Entrypoint": ["/entry.sh"], "Cmd": ["serve"] });
        assert_eq!(args_of(&options, config), json!(["echo", "hi"]));
    }

    #[test]
    fn entrypoint_drops_image_cmd() {
        let options = CreateOptions { entrypoint: Some(svec(&["/bin/sh", "-c"])), ..opts() };
        let config = json!({ "Entrypoint": ["/entry.sh"], "Cmd": ["serve"] });
        assert_eq!(args_of(&options, config), json!(["/bin/sh", "-c"]));
    }

    #[test]
    fn entrypoint_then_args() {
        let options = CreateOptions { entrypoint: Some(svec(&["/bin/sh", "-c"])), args: svec(&["echo hi"]), ..opts() };
        let config = json!({ "Entrypoint": ["/entry.sh"], "Cmd": ["serve"] });
        assert_eq!(args_of(&options, config), json!(["/bin/sh", "-c", "echo hi"]));
    }

    #[test]
    fn empty_entrypoint_clears_image_entrypoint_keeps_cmd() {
        let options = CreateOptions { entrypoint: Some(vec![]), ..opts() };
        let config = json!({ "Entrypoint": ["/entry.sh"], "Cmd": ["/bin/sh"] });
        assert_eq!(args_of(&options, config.clone()), json!(["/bin/sh"]));

        let options = CreateOptions { entrypoint: Some(vec![]), args: svec(&["/bin/true"]), ..opts() };
        assert_eq!(args_of(&options, config), json!(["/bin/true"]));
    }

    #[test]
    fn no_command_at_all_is_invalid() {
        assert_invalid(spec_err(&opts(), json!({})), "no command");
        // Clearing the entrypoint of an image that has no Cmd leaves nothing either.
        let options = CreateOptions { entrypoint: Some(vec![]), ..opts() };
        assert_invalid(spec_err(&options, json!({ "Entrypoint": ["/entry.sh"] })), "no command");
    }

    #[test]
    fn empty_program_is_invalid() {
        let options = CreateOptions { args: svec(&["", "x"]), ..opts() };
        assert_invalid(spec_err(&options, json!({})), "args[0]");
        let options = CreateOptions { entrypoint: Some(svec(&[""])), ..opts() };
        assert_invalid(spec_err(&options, json!({ "Cmd": ["sh"] })), "args[0]");
    }

    // --- the environment ---

    #[test]
    fn default_path_when_image_has_none() {
        let s = spec(&opts(), json!({ "Cmd": ["sh"], "Env": ["A=1"] }));
        assert_eq!(s["process"]["env"], json!([DEFAULT_PATH, "A=1"]));
    }

    #[test]
    fn image_path_replaces_default() {
        let s = spec(&opts(), json!({ "Cmd": ["sh"], "Env": ["A=1", "PATH=/opt/bin"] }));
        assert_eq!(s["process"]["env"], json!(["A=1", "PATH=/opt/bin"]));
    }

    #[test]
    fn caller_env_overrides_in_place_and_appends() {
        let options = CreateOptions { env: svec(&["B=caller", "C=3", "PATH=/x", "B=last"]), ..opts() };
        let s = spec(&options, json!({ "Cmd": ["sh"], "Env": ["A=1", "B=2"] }));
        assert_eq!(s["process"]["env"], json!(["PATH=/x", "A=1", "B=last", "C=3"]));
    }

    #[test]
    fn bare_key_unsets_variable() {
        let options = CreateOptions { env: svec(&["A", "NOT_SET"]), ..opts() };
        let s = spec(&options, json!({ "Cmd": ["sh"], "Env": ["A=1", "B=2"] }));
        assert_eq!(s["process"]["env"], json!([DEFAULT_PATH, "B=2"]));
    }

    #[test]
    fn tty_sets_term_which_image_and_caller_can_override() {
        let options = CreateOptions { tty: true, ..opts() };
        let s = spec(&options, json!({ "Cmd": ["sh"] }));
        assert_eq!(s["process"]["terminal"], json!(true));
        assert_eq!(s["process"]["env"], json!([DEFAULT_PATH, "TERM=xterm"]));

        let options = CreateOptions { tty: true, env: svec(&["TERM=vt100"]), ..opts() };
        let s = spec(&options, json!({ "Cmd": ["sh"] }));
        assert_eq!(s["process"]["env"], json!([DEFAULT_PATH, "TERM=vt100"]));

        let s = spec(&opts(), json!({ "Cmd": ["sh"] }));
        assert_eq!(s["process"]["terminal"], json!(false));
        assert_eq!(s["process"]["env"], json!([DEFAULT_PATH]));
    }

    #[test]
    fn nameless_env_is_invalid() {
        let options = CreateOptions { env: svec(&["=oops"]), ..opts() };
        assert_invalid(spec_err(&options, json!({ "Cmd": ["sh"] })), "\"=oops\"");
    }

    // --- user and cwd ---

    fn user_of(options: &CreateOptions, config: Value) -> Value {
        spec(options, config)["process"]["user"].clone()
    }

    #[test]
    fn user_defaults_to_root() {
        assert_eq!(user_of(&opts(), json!({ "Cmd": ["sh"] })), json!({ "uid": 0, "gid": 0, "additionalGids": [] }));
    }

    #[test]
    fn user_from_image_and_from_caller() {
        let config = json!({ "Cmd": ["sh"], "User": "1000:1001" });
        assert_eq!(user_of(&opts(), config.clone()), json!({ "uid": 1000, "gid": 1001, "additionalGids": [] }));

        let options = CreateOptions { user: Some("42".into()), ..opts() };
        assert_eq!(user_of(&options, config.clone()), json!({ "uid": 42, "gid": 0, "additionalGids": [] }));

        // An empty user from a binding means "not given".
        let options = CreateOptions { user: Some(String::new()), ..opts() };
        assert_eq!(user_of(&options, config)["uid"], json!(1000));
    }

    #[test]
    fn root_by_name_is_zero() {
        assert_eq!(parse_user("root").unwrap(), (0, 0));
        assert_eq!(parse_user("root:root").unwrap(), (0, 0));
        assert_eq!(parse_user("7:root").unwrap(), (7, 0));
    }

    #[test]
    fn user_names_and_malformed_users_are_invalid() {
        let options = CreateOptions { user: Some("nginx".into()), ..opts() };
        assert_invalid(spec_err(&options, json!({ "Cmd": ["sh"] })), "\"nginx\"");
        // The image's user goes through the same check.
        assert_invalid(spec_err(&opts(), json!({ "Cmd": ["sh"], "User": "postgres" })), "\"postgres\"");

        for bad in ["1000:", ":5", "1:2:3", "-1", "+5", "4294967296", "1000:staff"] {
            let err = parse_user(bad).unwrap_err();
            assert_invalid(err, bad);
        }
    }

    #[test]
    fn cwd_from_caller_then_image_then_root() {
        let config = json!({ "Cmd": ["sh"], "WorkingDir": "/app" });
        let options = CreateOptions { cwd: Some("/work".into()), ..opts() };
        assert_eq!(spec(&options, config.clone())["process"]["cwd"], json!("/work"));
        assert_eq!(spec(&opts(), config)["process"]["cwd"], json!("/app"));
        assert_eq!(spec(&opts(), json!({ "Cmd": ["sh"], "WorkingDir": "" }))["process"]["cwd"], json!("/"));
    }

    #[test]
    fn relative_cwd_is_invalid() {
        let options = CreateOptions { cwd: Some("work".into()), ..opts() };
        assert_invalid(spec_err(&options, json!({ "Cmd": ["sh"] })), "\"work\"");
    }

    // --- the fixed defaults ---

    #[test]
    fn containerd_defaults() {
        let s = spec(&opts(), json!({ "Cmd": ["sh"] }));
        assert_eq!(s["ociVersion"], json!("1.0.2-dev"));
        assert_eq!(s["root"], json!({ "path": "rootfs", "readonly": false }));
        let process = &s["process"];
        assert_eq!(process["capabilities"]["bounding"], json!(DEFAULT_CAPABILITIES));
        assert_eq!(process["capabilities"]["effective"], json!(DEFAULT_CAPABILITIES));
        assert_eq!(process["capabilities"]["permitted"], json!(DEFAULT_CAPABILITIES));
        assert!(process["capabilities"].get("inheritable").is_none());
        assert!(process["capabilities"].get("ambient").is_none());
        assert_eq!(process["rlimits"], json!([{ "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 }]));
        assert_eq!(process["noNewPrivileges"], json!(true));
        assert_eq!(s["linux"]["cgroupsPath"], json!("/default/0123456789abcdef"));
        assert_eq!(s["linux"]["maskedPaths"], json!(MASKED_PATHS));
        assert_eq!(s["linux"]["readonlyPaths"], json!(READONLY_PATHS));
        assert_eq!(s["linux"]["resources"], json!({ "devices": [{ "allow": false, "access": "rwm" }] }));
        assert_eq!(destinations(&s), ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/run"]);
        assert_eq!(
            find_mount(&s, "/dev/shm"),
            &json!({ "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] })
        );
        assert!(s.get("annotations").is_none());
    }

    #[test]
    fn scratch_image_without_config() {
        let options = CreateOptions { args: svec(&["/hello"]), ..opts() };
        let s = build_runtime_spec("id", "ns", &options, &json!({ "os": "linux" }), &no_host_files).unwrap();
        assert_eq!(s["process"]["args"], json!(["/hello"]));
        let s = build_runtime_spec("id", "ns", &options, &json!({ "config": null }), &no_host_files).unwrap();
        assert_eq!(s["process"]["cwd"], json!("/"));
    }

    #[test]
    fn malformed_image_config_is_corrupt() {
        let options = CreateOptions { args: svec(&["/hello"]), ..opts() };
        for doc in [
            json!([]),
            json!({ "config": 1 }),
            json!({ "config": { "Env": "A=1" } }),
            json!({ "config": { "User": 0 } }),
        ] {
            let err = build_runtime_spec("id", "ns", &options, &doc, &no_host_files).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Corrupt, "{doc}: {err}");
        }
    }

    #[test]
    fn empty_id_or_namespace_is_invalid() {
        let options = CreateOptions { args: svec(&["sh"]), ..opts() };
        assert_invalid(build_runtime_spec("", "ns", &options, &json!({}), &no_host_files).unwrap_err(), "ID");
        assert_invalid(build_runtime_spec("id", "", &options, &json!({}), &no_host_files).unwrap_err(), "namespace");
    }

    // --- mounts ---

    fn with_mount(m: MountSpec) -> CreateOptions {
        CreateOptions { mounts: vec![m], ..opts() }
    }

    #[test]
    fn bind_mounts_read_write_and_read_only() {
        let rw =
            with_mount(MountSpec { source: "/srv/data".into(), destination: "/data".into(), ..Default::default() });
        let s = spec(&rw, json!({ "Cmd": ["sh"] }));
        assert_eq!(
            s["mounts"].as_array().unwrap().last().unwrap(),
            &json!({ "destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "rprivate", "rw"] })
        );

        let ro = with_mount(MountSpec {
            source: "/srv/conf".into(),
            destination: "/conf".into(),
            kind: Some("bind".into()),
            read_only: true,
            options: svec(&["nosuid", "rw"]),
        });
        let s = spec(&ro, json!({ "Cmd": ["sh"] }));
        assert_eq!(find_mount(&s, "/conf")["options"], json!(["rbind", "rprivate", "ro", "nosuid"]));
    }

    #[test]
    fn ro_option_counts_as_read_only() {
        let m =
            MountSpec { source: "/a".into(), destination: "/b".into(), options: svec(&["ro"]), ..Default::default() };
        let s = spec(&with_mount(m), json!({ "Cmd": ["sh"] }));
        assert_eq!(find_mount(&s, "/b")["options"], json!(["rbind", "rprivate", "ro"]));
    }

    #[test]
    fn tmpfs_mount_as_given() {
        let m = MountSpec {
            destination: "/scratch".into(),
            kind: Some("tmpfs".into()),
            options: svec(&["nosuid", "size=64m"]),
            ..Default::default()
        };
        let s = spec(&with_mount(m.clone()), json!({ "Cmd": ["sh"] }));
        assert_eq!(
            find_mount(&s, "/scratch"),
            &json!({ "destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=64m"] })
        );

        let ro = MountSpec { read_only: true, source: "mytmp".into(), ..m };
        let s = spec(&with_mount(ro), json!({ "Cmd": ["sh"] }));
        assert_eq!(find_mount(&s, "/scratch")["source"], json!("mytmp"));
        assert_eq!(find_mount(&s, "/scratch")["options"], json!(["nosuid", "size=64m", "ro"]));
    }

    #[test]
    fn caller_mount_replaces_default_at_same_destination() {
        let m = MountSpec {
            destination: "/dev/shm/".into(),
            kind: Some("tmpfs".into()),
            options: svec(&["size=1g"]),
            ..Default::default()
        };
        let s = spec(&with_mount(m), json!({ "Cmd": ["sh"] }));
        let shm: Vec<_> = destinations(&s).into_iter().filter(|d| d.starts_with("/dev/shm")).collect();
        assert_eq!(shm, ["/dev/shm/"]);
        assert_eq!(find_mount(&s, "/dev/shm/")["options"], json!(["size=1g"]));
    }

    #[test]
    fn relative_mount_destination_is_invalid() {
        let m = MountSpec { source: "/srv".into(), destination: "data".into(), ..Default::default() };
        assert_invalid(spec_err(&with_mount(m), json!({ "Cmd": ["sh"] })), "destination");
    }

    #[test]
    fn relative_or_empty_bind_source_is_invalid() {
        for source in ["", "srv/data"] {
            let m = MountSpec { source: source.into(), destination: "/data".into(), ..Default::default() };
            assert_invalid(spec_err(&with_mount(m), json!({ "Cmd": ["sh"] })), "source");
        }
    }

    // --- network, hostname ---

    #[test]
    fn private_network_gets_namespace_and_id_hostname() {
        let s = spec(&opts(), json!({ "Cmd": ["sh"] }));
        assert_eq!(namespace_types(&s), ["pid", "ipc", "uts", "mount", "network"]);
        assert!(s["linux"]["namespaces"][4].get("path").is_none());
        assert_eq!(s["hostname"], json!("0123456789ab"));
        assert!(!destinations(&s).iter().any(|d| d.starts_with("/etc/")));
    }

    #[test]
    fn short_id_is_whole_hostname() {
        let options = CreateOptions { args: svec(&["sh"]), ..opts() };
        let s = build_runtime_spec("web", "ns", &options, &json!({}), &no_host_files).unwrap();
        assert_eq!(s["hostname"], json!("web"));
    }

    #[test]
    fn host_network_shares_namespace_and_name_files() {
        let options = CreateOptions { network: NetworkMode::Host, args: svec(&["sh"]), ..opts() };
        let s = build_runtime_spec("c1", "ns", &options, &json!({}), &all_host_files).unwrap();
        assert_eq!(namespace_types(&s), ["pid", "ipc", "uts", "mount"]);
        assert!(s.get("hostname").is_none());
        assert_eq!(
            find_mount(&s, "/etc/resolv.conf"),
            &json!({ "destination": "/etc/resolv.conf", "type": "bind", "source": "/etc/resolv.conf", "options": ["rbind", "ro"] })
        );
        assert_eq!(find_mount(&s, "/etc/hosts")["source"], json!("/etc/hosts"));

        // Host files that do not exist are not bound.
        let s = build_runtime_spec("c1", "ns", &options, &json!({}), &no_host_files).unwrap();
        assert!(!destinations(&s).iter().any(|d| d.starts_with("/etc/")));
    }

    #[test]
    fn host_network_files_checked_on_the_real_host() {
        // The public entry point checks the real files; whatever exists is bound.
        let options = CreateOptions { network: NetworkMode::Host, args: svec(&["sh"]), ..opts() };
        let s = runtime_spec("c1", "ns", &options, &json!({})).unwrap();
        let expected: Vec<_> = HOST_NETWORK_FILES.iter().filter(|p| Path::new(p).exists()).collect();
        let bound: Vec<_> = destinations(&s).into_iter().filter(|d| d.starts_with("/etc/")).collect();
        assert_eq!(bound.len(), expected.len());
    }

    #[test]
    fn explicit_hostname_for_either_network() {
        for network in [NetworkMode::None, NetworkMode::Host] {
            let options = CreateOptions { hostname: Some("box".into()), network, ..opts() };
            assert_eq!(spec(&options, json!({ "Cmd": ["sh"] }))["hostname"], json!("box"));
        }
    }

    #[test]
    fn overlong_hostname_is_invalid() {
        let options = CreateOptions { hostname: Some("h".repeat(65)), ..opts() };
        assert_invalid(spec_err(&options, json!({ "Cmd": ["sh"] })), "hostname");
    }

    // --- resources and annotations ---

    #[test]
    fn resources_map_to_cgroup_settings() {
        let r = Resources {
            memory_bytes: Some(64 << 20),
            cpu_shares: Some(512),
            cpu_quota: Some(50_000),
            cpu_period: Some(100_000),
            pids_limit: Some(100),
        };
        assert_eq!(
            linux_resources(&r),
            json!({
                "memory": { "limit": 67108864 },
                "cpu": { "shares": 512, "quota": 50000, "period": 100000 },
                "pids": { "limit": 100 },
            })
        );
        let options = CreateOptions { resources: r, ..opts() };
        let resources = &spec(&options, json!({ "Cmd": ["sh"] }))["linux"]["resources"];
        assert_eq!(resources["devices"], json!([{ "allow": false, "access": "rwm" }]));
        assert_eq!(resources["memory"]["limit"], json!(67108864));
        assert_eq!(resources["pids"]["limit"], json!(100));
    }

    #[test]
    fn unset_resources_are_left_out() {
        assert_eq!(linux_resources(&Resources::default()), json!({}));
        let r = Resources { cpu_quota: Some(-1), ..Default::default() };
        assert_eq!(linux_resources(&r), json!({ "cpu": { "quota": -1 } }));
    }

    #[test]
    fn annotations_copied() {
        let mut annotations = BTreeMap::new();
        annotations.insert("org.example/owner".to_string(), "team-a".to_string());
        let options = CreateOptions { annotations, ..opts() };
        assert_eq!(spec(&options, json!({ "Cmd": ["sh"] }))["annotations"], json!({ "org.example/owner": "team-a" }));
    }

    // --- exec ---

    fn container_spec() -> Value {
        let options = CreateOptions {
            env: svec(&["A=1", "B=2"]),
            user: Some("1000:1000".into()),
            cwd: Some("/app".into()),
            tty: true,
            ..opts()
        };
        let mut s = spec(&options, json!({ "Cmd": ["server"] }));
        s["process"]["apparmorProfile"] = json!("berth-default");
        s
    }

    #[test]
    fn exec_inherits_container_process() {
        let container = container_spec();
        let options = ExecOptions { args: svec(&["ls", "-l"]), ..Default::default() };
        let p = exec_process_spec(&container, &options).unwrap();
        assert_eq!(p["args"], json!(["ls", "-l"]));
        assert_eq!(p["terminal"], json!(false));
        assert_eq!(p["env"], container["process"]["env"]);
        assert_eq!(p["cwd"], json!("/app"));
        assert_eq!(p["user"], json!({ "uid": 1000, "gid": 1000, "additionalGids": [] }));
        for key in ["capabilities", "rlimits", "noNewPrivileges", "apparmorProfile"] {
            assert_eq!(p[key], container["process"][key], "{key}");
        }
    }

    #[test]
    fn exec_overrides() {
        let container = container_spec();
        let options = ExecOptions {
            args: svec(&["sh"]),
            env: svec(&["B=override", "C=3", "A"]),
            cwd: Some("/tmp".into()),
            user: Some("0".into()),
            tty: true,
            stdin: true,
        };
        let p = exec_process_spec(&container, &options).unwrap();
        assert_eq!(p["terminal"], json!(true));
        assert_eq!(p["env"], json!([DEFAULT_PATH, "TERM=xterm", "B=override", "C=3"]));
        assert_eq!(p["cwd"], json!("/tmp"));
        assert_eq!(p["user"], json!({ "uid": 0, "gid": 0, "additionalGids": [] }));
    }

    #[test]
    fn exec_validation() {
        let container = container_spec();
        let exec = |options: ExecOptions| exec_process_spec(&container, &options).unwrap_err();
        assert_invalid(exec(ExecOptions::default()), "no command");
        assert_invalid(exec(ExecOptions { args: svec(&[""]), ..Default::default() }), "args[0]");
        assert_invalid(
            exec(ExecOptions { args: svec(&["sh"]), user: Some("bob".into()), ..Default::default() }),
            "\"bob\"",
        );
        assert_invalid(
            exec(ExecOptions { args: svec(&["sh"]), cwd: Some("tmp".into()), ..Default::default() }),
            "\"tmp\"",
        );
        assert_invalid(exec(ExecOptions { args: svec(&["sh"]), env: svec(&["=x"]), ..Default::default() }), "no name");
    }

    #[test]
    fn exec_needs_container_process() {
        let options = ExecOptions { args: svec(&["sh"]), ..Default::default() };
        for spec in [json!({}), json!({ "process": [] }), json!(null)] {
            assert_eq!(exec_process_spec(&spec, &options).unwrap_err().kind(), ErrorKind::Corrupt);
        }
        let bad_env = json!({ "process": { "env": "A=1" } });
        assert_eq!(exec_process_spec(&bad_env, &options).unwrap_err().kind(), ErrorKind::Corrupt);
    }
}

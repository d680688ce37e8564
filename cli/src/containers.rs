//! The container commands of the daemon backends: ps, run, create, start, stop, kill,
//! pause, resume, rm, wait, top, diff, container-inspect, rename, commit, cp,
//! container-export.
//!
//! `run` attaches to the init process where the backend can (Docker, Podman) and streams
//! its output; where it cannot (containerd) it waits for the exit. Either way the exit
//! code is passed on.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use berth_core::container::{
    ChangeKind, CommitOptions, Container, CreateOptions, ExecSession, ExitStatus, MountSpec, NetworkMode, Resources,
};
use berth_core::model::{ContainerStatus, ContainerSummary, ProcessInfo};
use berth_core::{need, Error, ErrorKind, Result};
use serde_json::json;
use tokio::signal::unix::{signal, SignalKind};

use crate::exec::{forward_stdin, stream, Ended, OnSignal};
use crate::output::{printable, Out};
use crate::term::{self, RawMode};
use crate::{absolute, connect, exit_status_code, open_container, Cli, Failures};

/// How long `run` gives a container to stop after Ctrl-C before SIGKILL.
const RUN_STOP_GRACE: Duration = Duration::from_secs(10);

#[derive(clap::Args)]
pub struct PsArgs {
    /// Show every container (default: only running and paused ones).
    #[arg(short = 'a', long)]
    all: bool,
    /// A filter in the backend's syntax (containerd: image==NAME, labels."k"==v, id==ID,
    /// several ORed; Docker, Podman: label=k=v, name=N, status=running, ancestor=IMAGE).
    #[arg(long = "filter", value_name = "F")]
    filters: Vec<String>,
}

/// The network of a container or pod.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Net {
    /// A network namespace of its own, with only loopback.
    None,
    /// The host's network.
    Host,
}

impl Net {
    pub fn mode(self) -> NetworkMode {
        match self {
            Net::None => NetworkMode::None,
            Net::Host => NetworkMode::Host,
        }
    }
}

/// What `create` and `run` take.
#[derive(clap::Args)]
pub struct ContainerOptions {
    /// The container's name (its ID on containerd; generated when absent).
    #[arg(long)]
    name: Option<String>,
    /// Give the init process a terminal; with -i on a terminal, `run` puts ours in raw mode.
    #[arg(short = 't', long)]
    tty: bool,
    /// Keep the init process's stdin open (`run`: forward this process's stdin to it).
    #[arg(short = 'i', long)]
    interactive: bool,
    /// Set an environment variable (KEY alone: this shell's value, when set).
    #[arg(short = 'e', long = "env", value_name = "K=V")]
    env: Vec<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long = "workdir", value_name = "DIR")]
    workdir: Option<String>,
    /// Numeric user (and group) of the process.
    #[arg(short = 'u', long, value_name = "UID[:GID]")]
    user: Option<String>,
    /// Set a container label.
    #[arg(long = "label", value_name = "K=V")]
    labels: Vec<String>,
    /// Bind-mount a host path (relative paths are from the current directory).
    #[arg(long = "mount", value_name = "SRC:DST[:ro]")]
    mounts: Vec<String>,
    /// The network: a private one with only loopback, or the host's.
    #[arg(long = "net", value_enum, default_value = "none")]
    net: Net,
    /// Memory limit in bytes (suffixes k, m, g: powers of 1024).
    #[arg(long, value_name = "BYTES")]
    memory: Option<String>,
    /// The container's hostname.
    #[arg(long, value_name = "H")]
    hostname: Option<String>,
    /// Join this pod (Podman), by name or ID.
    #[arg(long, value_name = "POD")]
    pod: Option<String>,
    /// The image, by the find rules.
    image: String,
    /// The command and its arguments (default: the image's entrypoint and cmd).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    args: Vec<String>,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// Delete the container once it exited (not with -d).
    #[arg(long, conflicts_with = "detach")]
    rm: bool,
    /// Start it and print its ID instead of waiting for its exit.
    #[arg(short = 'd', long)]
    detach: bool,
    #[command(flatten)]
    options: ContainerOptions,
}

#[derive(clap::Args)]
pub struct Target {
    /// The container: its ID or name, or a unique ID prefix.
    container: String,
}

#[derive(clap::Args)]
pub struct Targets {
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

#[derive(clap::Args)]
pub struct StopArgs {
    /// Seconds between SIGTERM and SIGKILL.
    #[arg(short = 't', long = "time", default_value_t = 10, value_name = "SECONDS")]
    time: u64,
    #[command(flatten)]
    targets: Targets,
}

#[derive(clap::Args)]
pub struct KillArgs {
    /// The signal: a name (TERM, SIGTERM, RTMIN+1) or a number.
    #[arg(short = 's', long, default_value = "KILL")]
    signal: String,
    #[command(flatten)]
    targets: Targets,
}

#[derive(clap::Args)]
pub struct RmArgs {
    /// Kill a running container first.
    #[arg(short = 'f', long)]
    force: bool,
    #[command(flatten)]
    targets: Targets,
}

impl ContainerOptions {
    fn to_create(&self) -> Result<CreateOptions> {
        let mut env = Vec::new();
        for e in &self.env {
            if e.contains('=') {
                env.push(e.clone());
            } else if let Ok(v) = std::env::var(e) {
                env.push(format!("{e}={v}"));
            }
        }
        let labels = parse_labels(&self.labels)?;
        let mounts = self.mounts.iter().map(|m| parse_mount(m)).collect::<Result<Vec<_>>>()?;
        let memory_bytes = self.memory.as_deref().map(parse_bytes).transpose()?;
        Ok(CreateOptions {
            image: self.image.clone(),
            name: self.name.clone(),
            args: self.args.clone(),
            env,
            cwd: self.workdir.clone(),
            user: self.user.clone(),
            tty: self.tty,
            stdin: self.interactive,
            hostname: self.hostname.clone(),
            labels,
            mounts,
            resources: Resources { memory_bytes, ..Default::default() },
            network: self.net.mode(),
            pod: self.pod.clone(),
            ..Default::default()
        })
    }
}

/// `--label K=V` values as a map (`K` alone: an empty value).
pub fn parse_labels(labels: &[String]) -> Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    for l in labels {
        let (k, v) = l.split_once('=').unwrap_or((l, ""));
        if k.is_empty() {
            return Err(Error::invalid(format!("--label {l:?}: expected KEY=VALUE")));
        }
        map.insert(k.to_string(), v.to_string());
    }
    Ok(map)
}

/// `SRC:DST[:ro|rw]`, SRC made absolute.
fn parse_mount(m: &str) -> Result<MountSpec> {
    let bad = || Error::invalid(format!("--mount {m:?}: expected SRC:DST[:ro]"));
    let parts: Vec<&str> = m.split(':').collect();
    let (src, dst, read_only) = match parts.as_slice() {
        [s, d] => (*s, *d, false),
        [s, d, "ro"] => (*s, *d, true),
        [s, d, "rw"] => (*s, *d, false),
        _ => return Err(bad()),
    };
    if src.is_empty() || !dst.starts_with('/') {
        return Err(bad());
    }
    let source = if Path::new(src).is_absolute() {
        src.to_string()
    } else {
        let cwd = std::env::current_dir().map_err(|e| Error::io("the current directory", e))?;
        cwd.join(src).display().to_string()
    };
    Ok(MountSpec { source, destination: dst.to_string(), kind: None, read_only, options: Vec::new() })
}

/// A byte count with an optional k, m or g suffix (powers of 1024; a trailing b is allowed).
pub fn parse_bytes(s: &str) -> Result<i64> {
    let bad = || Error::invalid(format!("--memory {s:?}: expected a number of bytes, optionally with k, m or g"));
    let lower = s.trim().to_ascii_lowercase();
    let body = lower.strip_suffix('b').unwrap_or(&lower);
    let (digits, shift) = match body.chars().last() {
        Some('k') => (&body[..body.len() - 1], 10),
        Some('m') => (&body[..body.len() - 1], 20),
        Some('g') => (&body[..body.len() - 1], 30),
        _ => (body, 0),
    };
    let n: i64 = digits.parse().map_err(|_| bad())?;
    if n <= 0 {
        return Err(bad());
    }
    n.checked_mul(1 << shift).ok_or_else(bad)
}

/// A signal by name (`TERM`, `SIGTERM`, `sigkill`, `RTMIN+2`) or number.
pub fn parse_signal(s: &str) -> Result<i32> {
    let bad = || Error::invalid(format!("signal {s:?}: expected a name such as TERM or KILL, or a number 1-64"));
    if let Ok(n) = s.parse::<i32>() {
        return if (1..=64).contains(&n) { Ok(n) } else { Err(bad()) };
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    const NAMES: &[(&str, i32)] = &[
        ("HUP", libc::SIGHUP),
        ("INT", libc::SIGINT),
        ("QUIT", libc::SIGQUIT),
        ("ILL", libc::SIGILL),
        ("TRAP", libc::SIGTRAP),
        ("ABRT", libc::SIGABRT),
        ("IOT", libc::SIGIOT),
        ("BUS", libc::SIGBUS),
        ("FPE", libc::SIGFPE),
        ("KILL", libc::SIGKILL),
        ("USR1", libc::SIGUSR1),
        ("SEGV", libc::SIGSEGV),
        ("USR2", libc::SIGUSR2),
        ("PIPE", libc::SIGPIPE),
        ("ALRM", libc::SIGALRM),
        ("TERM", libc::SIGTERM),
        ("STKFLT", libc::SIGSTKFLT),
        ("CHLD", libc::SIGCHLD),
        ("CONT", libc::SIGCONT),
        ("STOP", libc::SIGSTOP),
        ("TSTP", libc::SIGTSTP),
        ("TTIN", libc::SIGTTIN),
        ("TTOU", libc::SIGTTOU),
        ("URG", libc::SIGURG),
        ("XCPU", libc::SIGXCPU),
        ("XFSZ", libc::SIGXFSZ),
        ("VTALRM", libc::SIGVTALRM),
        ("PROF", libc::SIGPROF),
        ("WINCH", libc::SIGWINCH),
        ("IO", libc::SIGIO),
        ("POLL", libc::SIGPOLL),
        ("PWR", libc::SIGPWR),
        ("SYS", libc::SIGSYS),
    ];
    if let Some((_, n)) = NAMES.iter().find(|(k, _)| *k == name) {
        return Ok(*n);
    }
    // Real-time signals as Linux numbers them for programs (glibc reserves 32 and 33).
    let (rtmin, rtmax) = (34, 64);
    let rt = if name == "RTMIN" {
        Some(rtmin)
    } else if name == "RTMAX" {
        Some(rtmax)
    } else if let Some(n) = name.strip_prefix("RTMIN+") {
        n.parse::<i32>().ok().map(|n| rtmin + n)
    } else if let Some(n) = name.strip_prefix("RTMAX-") {
        n.parse::<i32>().ok().map(|n| rtmax - n)
    } else {
        None
    };
    rt.filter(|n| (rtmin..=rtmax).contains(n)).ok_or_else(bad)
}

fn status_name(s: ContainerStatus) -> &'static str {
    match s {
        ContainerStatus::Created => "created",
        ContainerStatus::Running => "running",
        ContainerStatus::Paused => "paused",
        ContainerStatus::Stopped => "stopped",
        ContainerStatus::Unknown => "unknown",
    }
}

pub async fn ps(cli: &Cli, out: &mut Out, a: &PsArgs) -> Result<u8> {
    let rt = connect(cli).await?;
    let all = need(rt.containers(), rt.kind(), "listing containers")?.list(&a.filters).await?;
    let shown: Vec<ContainerSummary> = all
        .into_iter()
        .filter(|c| a.all || matches!(c.state.status, ContainerStatus::Running | ContainerStatus::Paused))
        .collect();
    out.table(&["ID", "IMAGE", "STATUS", "PID", "EXIT CODE", "CREATED", "NAMES"], &shown, |c| {
        vec![
            c.id.clone(),
            c.image.clone(),
            status_name(c.state.status).to_string(),
            c.state.pid.map_or("-".to_string(), |p| p.to_string()),
            c.state.exit_code.map_or("-".to_string(), |e| e.to_string()),
            c.created.clone().unwrap_or_default(),
            c.names.join(","),
        ]
    })?;
    Ok(0)
}

pub async fn create(cli: &Cli, out: &mut Out, a: &ContainerOptions) -> Result<u8> {
    let options = a.to_create()?;
    let rt = connect(cli).await?;
    let c = need(rt.containers(), rt.kind(), "creating containers")?.create(options).await?;
    out.value("id", c.id())?;
    Ok(0)
}

pub async fn run(cli: &Cli, out: &mut Out, a: &RunArgs) -> Result<u8> {
    let options = a.options.to_create()?;
    let rt = connect(cli).await?;
    let c = need(rt.containers(), rt.kind(), "creating containers")?.create(options).await?;
    // Attached before the start, so that no output is missed; on backends that cannot
    // attach (containerd) the output is not shown and `run` only waits.
    let session = match c.attacher() {
        Some(attacher) if !a.detach => match attacher.attach().await {
            Ok(s) => Some(s),
            Err(e) => {
                if a.rm {
                    let _ = c.delete(true).await;
                }
                return Err(e.context(format!("run container {}", c.id())));
            }
        },
        _ => None,
    };
    if let Err(e) = c.start().await {
        if a.rm {
            let _ = c.delete(true).await;
        }
        return Err(e.context(format!("run container {}", c.id())));
    }
    if a.detach {
        out.value("id", c.id())?;
        return Ok(0);
    }
    let waited = match session {
        Some(s) => {
            out.flush()?;
            match attached(&c, &s, a.options.tty, a.options.interactive).await {
                Ok(ended) => {
                    // The JSON line goes on a line of its own after the container's output.
                    if ended.mid_line && out.json() {
                        out.raw("\n")?;
                    }
                    match ended.exit_code {
                        Some(code) => Ok(ExitStatus { exit_code: code, exited_at: None }),
                        // A stream that ended without the exit status: ask for it.
                        None => c.wait().await,
                    }
                }
                Err(e) => Err(e),
            }
        }
        None => wait_or_stop(&c).await,
    };
    let removed = if a.rm { c.delete(true).await } else { Ok(()) };
    let exit = waited?;
    removed?;
    if out.json() {
        out.record(&json!({ "id": c.id(), "exit_code": exit.exit_code }), String::new)?;
    }
    Ok(exit_status_code(exit.exit_code))
}

/// Streams the attached init process's output (and with `interactive`, our stdin to it)
/// until it exits.
async fn attached(
    c: &Arc<dyn Container>,
    session: &Arc<dyn ExecSession>,
    tty: bool,
    interactive: bool,
) -> Result<Ended> {
    // Raw mode only where keys go to the process: a terminal stdin that is forwarded.
    let raw = if tty && interactive { RawMode::enable(0) } else { None };
    if tty {
        if let Some((w, h)) = term::size() {
            let _ = session.resize(w, h).await;
        }
    }
    if interactive {
        forward_stdin(session.clone());
    }
    let result = stream(session, tty, raw.is_some(), OnSignal::Stop(c.clone(), RUN_STOP_GRACE)).await;
    drop(raw);
    result
}

/// Waits for the container's exit; Ctrl-C, SIGTERM or SIGHUP stop it (SIGTERM, then
/// SIGKILL after [`RUN_STOP_GRACE`]) and the wait goes on to its exit.
async fn wait_or_stop(c: &Arc<dyn Container>) -> Result<ExitStatus> {
    let sig = |k| signal(k).map_err(|e| Error::io("install a signal handler", e));
    let (mut int, mut term, mut hup) =
        (sig(SignalKind::interrupt())?, sig(SignalKind::terminate())?, sig(SignalKind::hangup())?);
    let wait = c.wait();
    tokio::pin!(wait);
    tokio::select! {
        r = &mut wait => return r,
        _ = int.recv() => {}
        _ = term.recv() => {}
        _ = hup.recv() => {}
    }
    eprintln!("berth: stopping container {} (SIGKILL after {} s)", printable(c.id()), RUN_STOP_GRACE.as_secs());
    match c.stop(RUN_STOP_GRACE).await {
        Ok(exit) => Ok(exit),
        // It ended on its own meanwhile.
        Err(e) if e.kind() == ErrorKind::Conflict => wait.await,
        Err(e) => Err(e),
    }
}

pub async fn start(cli: &Cli, out: &mut Out, a: &Targets) -> Result<u8> {
    each(cli, out, &a.containers, |c| async move { c.start().await.map(|()| json!({ "id": c.id() })) }).await
}

pub async fn stop(cli: &Cli, out: &mut Out, a: &StopArgs) -> Result<u8> {
    let grace = Duration::from_secs(a.time);
    each(cli, out, &a.targets.containers, |c| async move {
        let exit = c.stop(grace).await?;
        Ok(json!({ "id": c.id(), "exit_code": exit.exit_code }))
    })
    .await
}

pub async fn kill(cli: &Cli, out: &mut Out, a: &KillArgs) -> Result<u8> {
    let signal = parse_signal(&a.signal)?;
    each(cli, out, &a.targets.containers, |c| async move {
        c.kill(signal).await?;
        Ok(json!({ "id": c.id(), "signal": signal }))
    })
    .await
}

pub async fn pause(cli: &Cli, out: &mut Out, a: &Targets, freeze: bool) -> Result<u8> {
    each(cli, out, &a.containers, |c| async move {
        if freeze {
            c.pause().await?;
        } else {
            c.resume().await?;
        }
        Ok(json!({ "id": c.id() }))
    })
    .await
}

pub async fn rm(cli: &Cli, out: &mut Out, a: &RmArgs) -> Result<u8> {
    let force = a.force;
    each(cli, out, &a.targets.containers, |c| async move { c.delete(force).await.map(|()| json!({ "id": c.id() })) })
        .await
}

/// Opens each container and runs `op` on it; prints the ID (or `op`'s JSON object) of
/// each that succeeded, reports each failure, and goes on with the others.
async fn each<F, Fut>(cli: &Cli, out: &mut Out, patterns: &[String], op: F) -> Result<u8>
where
    F: Fn(Arc<dyn Container>) -> Fut,
    Fut: std::future::Future<Output = Result<serde_json::Value>>,
{
    let rt = connect(cli).await?;
    let mut failures = Failures::new(out);
    for p in patterns {
        let opened = match need(rt.containers(), rt.kind(), "opening containers") {
            Ok(containers) => containers.open(p).await,
            Err(e) => Err(e),
        };
        let done = match opened {
            Ok(c) => op(c).await,
            Err(e) => Err(e),
        };
        match done {
            Ok(doc) => {
                let id = doc["id"].as_str().unwrap_or(p).to_string();
                out.record(&doc, || id)?;
            }
            Err(e) => failures.add(out, e),
        }
    }
    Ok(failures.code())
}

pub async fn wait(cli: &Cli, out: &mut Out, a: &Target) -> Result<u8> {
    let c = open_container(cli, &a.container).await?;
    let exit = c.wait().await?;
    let doc = json!({ "id": c.id(), "exit_code": exit.exit_code });
    out.record(&doc, || exit.exit_code.to_string())?;
    Ok(0)
}

pub async fn top(cli: &Cli, out: &mut Out, a: &Target) -> Result<u8> {
    let c = open_container(cli, &a.container).await?;
    let procs = c.processes().await?;
    out.table(&["PID", "HOST-PID", "PPID", "USER", "CMD"], &procs, |p: &ProcessInfo| {
        let cmd = if p.cmdline.is_empty() { format!("[{}]", p.name) } else { p.cmdline.join(" ") };
        vec![p.pid.to_string(), p.host_pid.to_string(), p.ppid.to_string(), p.uids[1].to_string(), cmd]
    })?;
    Ok(0)
}

pub async fn diff(cli: &Cli, out: &mut Out, a: &Target) -> Result<u8> {
    let c = open_container(cli, &a.container).await?;
    for ch in c.changes().await? {
        let letter = match ch.kind {
            ChangeKind::Added => 'A',
            ChangeKind::Modified => 'C',
            ChangeKind::Deleted => 'D',
        };
        out.record(&ch, || format!("{letter} {}", ch.path))?;
    }
    Ok(0)
}

pub async fn inspect(cli: &Cli, out: &mut Out, a: &Target) -> Result<u8> {
    let c = open_container(cli, &a.container).await?;
    let info = c.inspect().await?;
    let doc = serde_json::to_value(&info).map_err(|e| Error::internal(e.to_string()))?;
    out.document(&doc)?;
    Ok(0)
}

#[derive(clap::Args)]
pub struct RenameArgs {
    /// The container: its ID or name, or a unique ID prefix.
    container: String,
    /// Its new name.
    name: String,
}

pub async fn rename(cli: &Cli, out: &mut Out, a: &RenameArgs) -> Result<u8> {
    let c = open_container(cli, &a.container).await?;
    need(c.renamer(), c.kind(), "renaming containers")?.rename(&a.name).await?;
    if out.json() {
        out.record(&json!({ "id": c.id(), "name": a.name }), String::new)?;
    }
    Ok(0)
}

#[derive(clap::Args)]
pub struct CommitArgs {
    /// The commit message (the image history's comment).
    #[arg(short = 'm', long, value_name = "M")]
    message: Option<String>,
    /// The image's author.
    #[arg(short = 'a', long, value_name = "A")]
    author: Option<String>,
    /// A Dockerfile instruction to apply to the image's config (CMD, ENTRYPOINT, ENV,
    /// WORKDIR, USER, LABEL, EXPOSE, VOLUME, ONBUILD, STOPSIGNAL).
    #[arg(short = 'c', long = "change", value_name = "C")]
    changes: Vec<String>,
    /// Do not pause the container while committing.
    #[arg(long)]
    no_pause: bool,
    /// The container: its ID or name, or a unique ID prefix.
    container: String,
    /// The new image's name (`repo[:tag]`); untagged when absent.
    #[arg(value_name = "REF")]
    reference: Option<String>,
}

pub async fn commit(cli: &Cli, out: &mut Out, a: &CommitArgs) -> Result<u8> {
    let c = open_container(cli, &a.container).await?;
    let options = CommitOptions {
        reference: a.reference.clone(),
        message: a.message.clone(),
        author: a.author.clone(),
        changes: a.changes.clone(),
        pause: Some(!a.no_pause),
    };
    let id = need(c.committer(), c.kind(), "committing containers")?.commit(options).await?;
    out.record(&json!({ "id": id, "reference": a.reference }), || id.clone())?;
    Ok(0)
}

#[derive(clap::Args)]
pub struct CpArgs {
    /// What to copy: the container (ID, name or unique ID prefix), a colon, and a path in it.
    #[arg(value_name = "CONTAINER:PATH")]
    source: String,
    /// The tar to write (a file, or a directory with everything under it, as its entries).
    #[arg(value_name = "FILE")]
    output: std::path::PathBuf,
}

pub async fn cp(cli: &Cli, out: &mut Out, a: &CpArgs) -> Result<u8> {
    let (container, path) = a
        .source
        .split_once(':')
        .filter(|(c, p)| !c.is_empty() && !p.is_empty())
        .ok_or_else(|| Error::invalid(format!("cp {:?}: expected CONTAINER:PATH", a.source)))?;
    let dest = writable_file(&a.output)?;
    let c = open_container(cli, container).await?;
    need(c.archiver(), c.kind(), "archives of container paths")?.archive(path, &dest).await?;
    if out.json() {
        out.record(&json!({ "id": c.id(), "path": path, "output": dest }), String::new)?;
    }
    Ok(0)
}

#[derive(clap::Args)]
pub struct ContainerExportArgs {
    /// The tar to write.
    #[arg(short = 'o', long, required = true)]
    output: std::path::PathBuf,
    /// The container: its ID or name, or a unique ID prefix.
    container: String,
}

pub async fn container_export(cli: &Cli, out: &mut Out, a: &ContainerExportArgs) -> Result<u8> {
    let dest = writable_file(&a.output)?;
    let c = open_container(cli, &a.container).await?;
    need(c.archiver(), c.kind(), "exporting containers")?.export(&dest).await?;
    if out.json() {
        out.record(&json!({ "id": c.id(), "output": dest }), String::new)?;
    }
    Ok(0)
}

/// `p` made absolute, refused when it is a directory (the tar is written as a file).
fn writable_file(p: &Path) -> Result<std::path::PathBuf> {
    let abs = absolute(p)?;
    if abs.is_dir() {
        return Err(Error::invalid(format!("{}: is a directory (name the tar file to write)", p.display())));
    }
    Ok(abs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals() {
        assert_eq!(parse_signal("TERM").unwrap(), libc::SIGTERM);
        assert_eq!(parse_signal("SIGKILL").unwrap(), libc::SIGKILL);
        assert_eq!(parse_signal("sigusr1").unwrap(), libc::SIGUSR1);
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert_eq!(parse_signal("RTMIN+2").unwrap(), 36);
        assert_eq!(parse_signal("RTMAX").unwrap(), 64);
        for bad in ["0", "65", "NOPE", "RTMIN+40", ""] {
            assert_eq!(parse_signal(bad).unwrap_err().kind(), ErrorKind::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn bytes_and_mounts() {
        assert_eq!(parse_bytes("1048576").unwrap(), 1 << 20);
        assert_eq!(parse_bytes("64m").unwrap(), 64 << 20);
        assert_eq!(parse_bytes("2G").unwrap(), 2 << 30);
        assert_eq!(parse_bytes("512kb").unwrap(), 512 << 10);
        assert!(parse_bytes("lots").is_err() && parse_bytes("0").is_err() && parse_bytes("-5").is_err());
        let m = parse_mount("/src:/dst:ro").unwrap();
        assert_eq!((m.source.as_str(), m.destination.as_str(), m.read_only), ("/src", "/dst", true));
        let m = parse_mount("rel:/dst").unwrap();
        assert!(m.source.starts_with('/') && m.source.ends_with("/rel") && !m.read_only);
        for bad in ["/src", "/src:dst", "/a:/b:rx", ":/b", "/a:/b:ro:x"] {
            assert!(parse_mount(bad).is_err(), "{bad}");
        }
    }
}

//! `berth`: list, inspect and read the files of container images; on daemon backends
//! (containerd, Docker, Podman), run and manage containers, images, pods, events and
//! snapshots.
//!
//! Output is a human table by default and JSON with `--json` (listings as one object
//! per line). Errors go to stderr as `berth: KIND: MESSAGE`, and the exit code names the
//! kind (see `berth --help` and docs/cli.md), so scripts can rely on both.

mod containers;
mod events;
mod exec;
mod images_cmd;
mod logs;
mod output;
mod pods;
mod snapshots;
mod stats;
mod term;

use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::sync::Arc;

use berth_core::container::Container;
use berth_core::error::{io_error_kind, KINDS};
use berth_core::fs::{FileSystem, Walker};
use berth_core::{need, ConnectOptions, Error, ErrorKind, Image, Runtime};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use sha2::{Digest as _, Sha256};

use output::Out;

/// The help's last lines, before the exit codes (read from berth-core's list of kinds).
const ENDPOINTS: &str = "ENDPOINTS: oci:///layout-dir, oci-archive:///x.tar, docker-archive:///x.tar (relative paths: \
                         oci-archive://dir/x.tar), containerd:///run/containerd/containerd.sock[?namespace=NS], \
                         docker:///var/run/docker.sock, podman:///run/podman/podman.sock.";

#[derive(Parser)]
#[command(name = "berth", version, about = "Read container images and talk to container runtimes")]
struct Cli {
    /// The endpoint to use (default: $BERTH_RUNTIME, else the first runtime detected).
    #[arg(long, short = 'r', global = true, env = "BERTH_RUNTIME")]
    runtime: Option<String>,
    /// Platform to pick from multi-platform images (os/arch[/variant]; default: this host's).
    #[arg(long, global = true)]
    platform: Option<String>,
    /// Print JSON (listings: one object per line).
    #[arg(long, global = true)]
    json: bool,
    /// containerd namespace (default: the endpoint's ?namespace=, else $CONTAINERD_NAMESPACE, else "default").
    #[arg(long, global = true, value_name = "NS")]
    namespace: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the images of the runtime.
    Images,
    /// Print an image's inspect document (id, names, manifest, config, layers).
    Inspect { image: String },
    /// List an image's layers with their whiteouts and opaque directories.
    Layers { image: String },
    /// List a directory of an image (-R: the whole tree below it).
    Ls {
        image: String,
        #[arg(default_value = "/")]
        path: String,
        /// Recurse into directories.
        #[arg(short = 'R', long)]
        recursive: bool,
        /// Add the sha256 of every regular file.
        #[arg(long)]
        hash: bool,
        #[command(flatten)]
        view: View,
    },
    /// Write files of an image to stdout.
    Cat {
        image: String,
        #[arg(required = true)]
        paths: Vec<String>,
        #[command(flatten)]
        view: View,
    },
    /// Print the metadata of a path (a final symlink is followed unless --no-follow).
    Stat {
        image: String,
        path: String,
        /// Describe a final symlink itself instead of its target.
        #[arg(long)]
        no_follow: bool,
        #[command(flatten)]
        view: View,
    },
    /// Print the target of a symlink.
    Readlink {
        image: String,
        path: String,
        #[command(flatten)]
        view: View,
    },
    /// Print the path a path resolves to inside the image.
    Realpath {
        image: String,
        path: String,
        #[command(flatten)]
        view: View,
    },
    /// List the runtimes this host offers.
    Detect,

    /// List containers (running and paused ones; -a: all).
    Ps(containers::PsArgs),
    /// Create and start a container; without -d, show its output (Docker, Podman), wait for
    /// it and exit with its exit code.
    Run(containers::RunArgs),
    /// Create a container (not started) and print its ID.
    Create(containers::ContainerOptions),
    /// Start created containers.
    Start(containers::Targets),
    /// Stop containers: SIGTERM, then SIGKILL after the grace period.
    Stop(containers::StopArgs),
    /// Send a signal to containers (default KILL).
    Kill(containers::KillArgs),
    /// Freeze the processes of containers.
    Pause(containers::Targets),
    /// Thaw paused containers.
    #[command(visible_alias = "unpause")]
    Resume(containers::Targets),
    /// Delete containers (-f: kill running ones first).
    Rm(containers::RmArgs),
    /// Wait for a container to exit and print its exit code.
    Wait(containers::Target),
    /// List a container's processes.
    Top(containers::Target),
    /// List what a container changed in its image's filesystem (A added, C changed, D deleted).
    Diff(containers::Target),
    /// Print a container's inspect document (state, spec, snapshot, runtime).
    #[command(name = "container-inspect", visible_alias = "inspect-container")]
    ContainerInspect(containers::Target),
    /// Run a command in a running container, streaming its output; exit with its exit code.
    Exec(exec::ExecArgs),
    /// Print a container's log: its stdout to stdout, its stderr to stderr (Docker, Podman).
    Logs(logs::LogsArgs),
    /// Show containers' resource use: CPU, memory, PIDs, network and block I/O (Docker, Podman).
    Stats(stats::StatsArgs),
    /// Give a container a new name (Docker, Podman).
    Rename(containers::RenameArgs),
    /// Make an image of a container's filesystem and print its ID (Docker, Podman).
    Commit(containers::CommitArgs),
    /// Write a path of a container (with everything under it) to a tar (Docker, Podman).
    Cp(containers::CpArgs),
    /// Write a container's whole filesystem to a tar (Docker, Podman).
    #[command(name = "container-export", visible_alias = "export-container")]
    ContainerExport(containers::ContainerExportArgs),
    /// Work with pods: groups of containers that share namespaces (Podman).
    #[command(visible_alias = "pod")]
    Pods(pods::PodsArgs),

    /// Pull an image from its registry.
    Pull(images_cmd::PullArgs),
    /// Push an image to its registry (Docker, Podman).
    Push(images_cmd::PushArgs),
    /// Remove image names (given an ID: the image with all its names).
    Rmi {
        #[arg(required = true, value_name = "REF")]
        images: Vec<String>,
    },
    /// Give an image another name.
    Tag { source: String, target: String },
    /// Import the images of an oci-archive or docker-archive tar.
    #[command(visible_alias = "load")]
    Import(images_cmd::ImportArgs),
    /// Write images to a tar: an oci-archive (containerd), the daemon's docker-archive (Docker, Podman).
    #[command(visible_alias = "save")]
    Export {
        /// The tar to write.
        #[arg(short = 'o', long, required = true)]
        output: std::path::PathBuf,
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<String>,
    },
    /// Print the runtime's events as they happen, until interrupted.
    Events {
        /// A filter in the backend's syntax (containerd: topic=="/tasks/exit"; Docker, Podman: type=container, event=die).
        #[arg(long = "filter", value_name = "F")]
        filters: Vec<String>,
    },
    /// Work with the snapshots of a snapshotter (containerd).
    Snapshots(snapshots::SnapshotsArgs),
}

/// Which filesystem of the image: the squashed one, or one layer's own.
#[derive(clap::Args)]
struct View {
    /// Read one layer instead of the squashed image (1-based index, or a digest prefix).
    #[arg(long)]
    layer: Option<String>,
}

fn main() -> ExitCode {
    let cli = parse_command_line();
    let mut out = Out::new(cli.json);
    let result = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("start the async runtime", e))
        .and_then(|rt| rt.block_on(run(&cli, &mut out)));
    let flushed = out.flush();
    match result.and_then(|code| flushed.map(|()| code)) {
        Ok(code) => ExitCode::from(code),
        // A closed stdout (`berth ls -R x | head`) is the reader's choice, not an error.
        Err(e) if e.kind() == ErrorKind::Io && io_error_kind(&e) == Some(io::ErrorKind::BrokenPipe) => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            report(&e, cli.json);
            ExitCode::from(exit_code(e.kind()))
        }
    }
}

pub(crate) fn report(e: &Error, json: bool) {
    let mut stderr = io::stderr().lock();
    // A message may quote an image's or a daemon's names: made printable, as stdout is.
    if json {
        let doc =
            serde_json::json!({ "error": { "kind": e.kind(), "message": e.message(), "candidates": e.candidates() } });
        let _ = writeln!(stderr, "{}", output::json_text(&doc, false).unwrap_or_else(|_| doc.to_string()));
    } else {
        let _ = writeln!(stderr, "berth: {}: {}", e.kind(), output::printable(e.message()));
    }
}

/// One exit code per error kind, from berth-core's list of kinds; 2 is clap's for usage
/// errors.
pub(crate) fn exit_code(kind: ErrorKind) -> u8 {
    kind.spec().exit_code
}

/// The command line, with a help that ends with every exit code.
fn parse_command_line() -> Cli {
    let mut codes: Vec<(u8, &str)> = KINDS.iter().map(|k| (k.exit_code, k.name)).collect();
    codes.extend([(0, "ok"), (2, "usage")]);
    codes.sort();
    let codes: Vec<String> = codes.iter().map(|(code, name)| format!("{code} {name}")).collect();
    let help = format!("{ENDPOINTS}\nEXIT CODES: {}.", codes.join(", "));
    let matches = Cli::command().after_help(help).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Failures of a command with several targets (`rm A B C`): each is reported when it
/// happens, the others still run, and the exit code is the first failure's.
pub(crate) struct Failures {
    json: bool,
    first: Option<u8>,
}

impl Failures {
    pub fn new(out: &Out) -> Failures {
        Failures { json: out.json(), first: None }
    }

    pub fn add(&mut self, out: &mut Out, e: Error) {
        let _ = out.flush();
        report(&e, self.json);
        self.first.get_or_insert(exit_code(e.kind()));
    }

    /// The exit code: 0 when nothing failed.
    pub fn code(&self) -> u8 {
        self.first.unwrap_or(0)
    }
}

/// A process exit code as this process's own (outside 0-255: 255).
pub(crate) fn exit_status_code(code: i32) -> u8 {
    u8::try_from(code).unwrap_or(255)
}

/// `p` from the current directory, for backends that hand paths to a daemon.
pub(crate) fn absolute(p: &std::path::Path) -> berth_core::Result<std::path::PathBuf> {
    std::path::absolute(p).map_err(|e| Error::io(format!("path {}", p.display()), e))
}

pub(crate) async fn connect(cli: &Cli) -> berth_core::Result<Arc<dyn Runtime>> {
    let options =
        ConnectOptions { platform: cli.platform.clone(), namespace: cli.namespace.clone(), ..Default::default() };
    berth_core::connect(cli.runtime.as_deref(), options).await
}

/// Connects, and opens the one container `pattern` matches.
pub(crate) async fn open_container(cli: &Cli, pattern: &str) -> berth_core::Result<Arc<dyn Container>> {
    let rt = connect(cli).await?;
    need(rt.containers(), rt.kind(), "opening containers")?.open(pattern).await
}

/// Runs the command; the result is the exit code (non-zero only for `run` and `exec`,
/// which pass on their process's, and for commands with several targets).
async fn run(cli: &Cli, out: &mut Out) -> berth_core::Result<u8> {
    match &cli.command {
        Command::Ps(a) => containers::ps(cli, out, a).await,
        Command::Run(a) => containers::run(cli, out, a).await,
        Command::Create(a) => containers::create(cli, out, a).await,
        Command::Start(a) => containers::start(cli, out, a).await,
        Command::Stop(a) => containers::stop(cli, out, a).await,
        Command::Kill(a) => containers::kill(cli, out, a).await,
        Command::Pause(a) => containers::pause(cli, out, a, true).await,
        Command::Resume(a) => containers::pause(cli, out, a, false).await,
        Command::Rm(a) => containers::rm(cli, out, a).await,
        Command::Wait(a) => containers::wait(cli, out, a).await,
        Command::Top(a) => containers::top(cli, out, a).await,
        Command::Diff(a) => containers::diff(cli, out, a).await,
        Command::ContainerInspect(a) => containers::inspect(cli, out, a).await,
        Command::Exec(a) => exec::exec(cli, out, a).await,
        Command::Logs(a) => logs::logs(cli, out, a).await,
        Command::Stats(a) => stats::stats(cli, out, a).await,
        Command::Rename(a) => containers::rename(cli, out, a).await,
        Command::Commit(a) => containers::commit(cli, out, a).await,
        Command::Cp(a) => containers::cp(cli, out, a).await,
        Command::ContainerExport(a) => containers::container_export(cli, out, a).await,
        Command::Pods(a) => pods::pods(cli, out, a).await,
        Command::Pull(a) => images_cmd::pull(cli, out, a).await,
        Command::Push(a) => images_cmd::push(cli, out, a).await,
        Command::Rmi { images } => images_cmd::rmi(cli, out, images).await,
        Command::Tag { source, target } => images_cmd::tag(cli, out, source, target).await,
        Command::Import(a) => images_cmd::import(cli, out, a).await,
        Command::Export { output, images } => images_cmd::export(cli, out, output, images).await,
        Command::Events { filters } => events::events(cli, out, filters).await,
        Command::Snapshots(a) => snapshots::snapshots(cli, out, a).await,
        _ => image_command(cli, out).await.map(|()| 0),
    }
}

/// The commands that read images (every backend).
async fn image_command(cli: &Cli, out: &mut Out) -> berth_core::Result<()> {
    match &cli.command {
        Command::Detect => {
            for d in berth_core::detect() {
                out.record(&d, || format!("{:<60} {}", d.endpoint, d.source))?;
            }
            Ok(())
        }
        Command::Images => {
            let rt = connect(cli).await?;
            out.images(&rt.list_images().await?)
        }
        Command::Inspect { image } => {
            let image = connect(cli).await?.open_image(image).await?;
            out.document(&image.inspect())
        }
        Command::Layers { image } => {
            let image = connect(cli).await?.open_image(image).await?;
            image.filesystem()?; // indexes every layer, in parallel
            out.layers(&image)
        }
        Command::Ls { image, path, recursive, hash, view } => {
            let fs = filesystem(cli, image, view).await?;
            if *recursive {
                for entry in Walker::new(fs.clone(), path) {
                    let entry = entry?;
                    let sum = file_hash(*hash, &*fs, &entry.path, &entry.stat)?;
                    out.entry(&entry.path, &entry.stat, sum.as_deref())?;
                }
            } else {
                let stat = fs.stat(path)?;
                if stat.is_dir() {
                    for e in fs.read_dir(path)? {
                        let full = join(path, &e.name);
                        let sum = file_hash(*hash, &*fs, &full, &e.stat)?;
                        out.entry(&full, &e.stat, sum.as_deref())?;
                    }
                } else {
                    let sum = file_hash(*hash, &*fs, path, &stat)?;
                    out.entry(path, &fs.lstat(path)?, sum.as_deref())?;
                }
            }
            Ok(())
        }
        Command::Cat { image, paths, view } => {
            let fs = filesystem(cli, image, view).await?;
            for p in paths {
                let mut f = fs.open(p)?;
                out.copy_from(&mut f).map_err(|e| Error::io(format!("cat {p}"), e))?;
            }
            Ok(())
        }
        Command::Stat { image, path, no_follow, view } => {
            let fs = filesystem(cli, image, view).await?;
            let stat = if *no_follow { fs.lstat(path)? } else { fs.stat(path)? };
            out.stat(path, &stat)
        }
        Command::Readlink { image, path, view } => {
            let fs = filesystem(cli, image, view).await?;
            let target = fs.readlink(path)?;
            out.value("target", &target)
        }
        Command::Realpath { image, path, view } => {
            let fs = filesystem(cli, image, view).await?;
            let resolved = fs.eval_symlink(path)?;
            out.value("path", &resolved)
        }
        _ => unreachable!("dispatched in run()"),
    }
}

async fn filesystem(cli: &Cli, image: &str, view: &View) -> berth_core::Result<Arc<dyn FileSystem>> {
    let image = connect(cli).await?.open_image(image).await?;
    match &view.layer {
        None => Ok(image.filesystem()?),
        Some(which) => Ok(pick_layer(&image, which)?.filesystem()?),
    }
}

fn pick_layer<'a>(image: &'a Image, which: &str) -> berth_core::Result<&'a berth_core::Layer> {
    let layers = image.layers();
    if let Ok(n) = which.parse::<usize>() {
        return layers.get(n.wrapping_sub(1)).ok_or_else(|| {
            Error::not_found(format!("layer {n}: the image has {} layers (numbered from 1)", layers.len()))
        });
    }
    let hits: Vec<_> = layers
        .iter()
        .filter(|l| l.info().digest.as_str().starts_with(which) || l.info().digest.hex().starts_with(which))
        .collect();
    match hits.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::not_found(format!("layer {which:?}: no layer digest starts with it"))),
        many => Err(Error::ambiguous(
            format!("layer {which:?}"),
            many.iter().map(|l| l.info().digest.to_string()).collect(),
        )),
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

fn file_hash(
    wanted: bool,
    fs: &dyn FileSystem,
    path: &str,
    stat: &berth_core::fs::Stat,
) -> berth_core::Result<Option<String>> {
    if !wanted || stat.file_type != berth_core::fs::FileType::File {
        return Ok(None);
    }
    let mut f = fs.open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(format!("read {path}"), e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(Some(hex::encode(h.finalize())))
}

//! `pods`: groups of containers that share namespaces (Podman).

use std::sync::Arc;
use std::time::Duration;

use berth_core::model::PodSummary;
use berth_core::pod::{Pod, PodOptions};
use berth_core::{need, Error, Result};
use serde_json::json;

use crate::containers::{parse_labels, parse_signal, Net};
use crate::output::Out;
use crate::{connect, Cli, Failures};

#[derive(clap::Args)]
pub struct PodsArgs {
    #[command(subcommand)]
    command: PodCommand,
}

#[derive(clap::Args)]
pub struct PodTargets {
    /// Pods: an ID or name, or a unique ID prefix.
    #[arg(required = true, value_name = "POD")]
    pods: Vec<String>,
}

#[derive(clap::Subcommand)]
enum PodCommand {
    /// List the pods.
    Ls,
    /// Create a pod (its containers join it with `run --pod` or `create --pod`) and print its ID.
    Create {
        /// The pod's name (generated when absent).
        #[arg(long)]
        name: Option<String>,
        /// Set a pod label.
        #[arg(long = "label", value_name = "K=V")]
        labels: Vec<String>,
        /// The hostname its containers share.
        #[arg(long, value_name = "H")]
        hostname: Option<String>,
        /// The network its containers share: a private one with only loopback, or the host's.
        #[arg(long = "net", value_enum, default_value = "none")]
        net: Net,
    },
    /// Start the containers of pods.
    Start(PodTargets),
    /// Stop the containers of pods: SIGTERM, then SIGKILL after the grace period.
    Stop {
        /// Seconds between SIGTERM and SIGKILL.
        #[arg(short = 't', long = "time", default_value_t = 10, value_name = "SECONDS")]
        time: u64,
        #[command(flatten)]
        targets: PodTargets,
    },
    /// Send a signal to the containers of pods (default KILL).
    Kill {
        /// The signal: a name (TERM, SIGTERM, RTMIN+1) or a number.
        #[arg(short = 's', long, default_value = "KILL")]
        signal: String,
        #[command(flatten)]
        targets: PodTargets,
    },
    /// Freeze the containers of pods.
    Pause(PodTargets),
    /// Thaw paused pods.
    #[command(visible_alias = "unpause")]
    Resume(PodTargets),
    /// Remove pods with their containers (-f: running ones too).
    Rm {
        /// Remove running pods too (their containers are killed).
        #[arg(short = 'f', long)]
        force: bool,
        #[command(flatten)]
        targets: PodTargets,
    },
    /// Print a pod's inspect document.
    Inspect {
        /// The pod: its ID or name, or a unique ID prefix.
        pod: String,
    },
}

pub async fn pods(cli: &Cli, out: &mut Out, a: &PodsArgs) -> Result<u8> {
    match &a.command {
        PodCommand::Ls => {
            let rt = connect(cli).await?;
            let mut all = need(rt.pods(), rt.kind(), "listing pods")?.list().await?;
            all.sort_by(|x, y| x.name.cmp(&y.name));
            out.table(&["ID", "NAME", "STATE", "CONTAINERS", "CREATED"], &all, |p: &PodSummary| {
                vec![
                    p.id.clone(),
                    p.name.clone(),
                    p.state.clone(),
                    p.containers.len().to_string(),
                    p.created.clone().unwrap_or_default(),
                ]
            })?;
            Ok(0)
        }
        PodCommand::Create { name, labels, hostname, net } => {
            let options = PodOptions {
                name: name.clone(),
                labels: parse_labels(labels)?,
                hostname: hostname.clone(),
                network: net.mode(),
            };
            let rt = connect(cli).await?;
            let pod = need(rt.pods(), rt.kind(), "creating pods")?.create(options).await?;
            out.value("id", pod.id())?;
            Ok(0)
        }
        PodCommand::Start(t) => each(cli, out, &t.pods, |p| async move { p.start().await }).await,
        PodCommand::Stop { time, targets } => {
            let grace = Duration::from_secs(*time);
            each(cli, out, &targets.pods, |p| async move { p.stop(grace).await }).await
        }
        PodCommand::Kill { signal, targets } => {
            let signal = parse_signal(signal)?;
            each(cli, out, &targets.pods, |p| async move { p.kill(signal).await }).await
        }
        PodCommand::Pause(t) => each(cli, out, &t.pods, |p| async move { p.pause().await }).await,
        PodCommand::Resume(t) => each(cli, out, &t.pods, |p| async move { p.resume().await }).await,
        PodCommand::Rm { force, targets } => {
            let force = *force;
            each(cli, out, &targets.pods, |p| async move { p.remove(force).await }).await
        }
        PodCommand::Inspect { pod } => {
            let rt = connect(cli).await?;
            let info = need(rt.pods(), rt.kind(), "opening pods")?.open(pod).await?.inspect().await?;
            let doc = serde_json::to_value(&info).map_err(|e| Error::internal(e.to_string()))?;
            out.document(&doc)?;
            Ok(0)
        }
    }
}

/// Opens each pod and runs `op` on it; prints the ID (`{"id"}`) of each that succeeded,
/// reports each failure, and goes on with the others.
async fn each<F, Fut>(cli: &Cli, out: &mut Out, patterns: &[String], op: F) -> Result<u8>
where
    F: Fn(Arc<dyn Pod>) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let rt = connect(cli).await?;
    let mut failures = Failures::new(out);
    for p in patterns {
        let opened = match need(rt.pods(), rt.kind(), "opening pods") {
            Ok(pods) => pods.open(p).await,
            Err(e) => Err(e),
        };
        let done = match opened {
            Ok(pod) => {
                let id = pod.id().to_string();
                op(pod).await.map(|()| id)
            }
            Err(e) => Err(e),
        };
        match done {
            Ok(id) => out.record(&json!({ "id": id }), || id.clone())?,
            Err(e) => failures.add(out, e),
        }
    }
    Ok(failures.code())
}

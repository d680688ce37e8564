//! `snapshots`: the snapshots of a snapshotter (containerd).

use berth_core::model::{MountInfo, SnapshotInfo};
use berth_core::{need, Result};
use serde_json::json;

use crate::output::{human_size, Out};
use crate::{connect, Cli};

#[derive(clap::Args)]
pub struct SnapshotsArgs {
    /// The snapshotter (default: the runtime's; containerd: overlayfs, or the endpoint's ?snapshotter=).
    #[arg(long, global = true, value_name = "S")]
    snapshotter: Option<String>,
    #[command(subcommand)]
    command: SnapshotCommand,
}

#[derive(clap::Subcommand)]
enum SnapshotCommand {
    /// List the snapshots.
    Ls,
    /// Print one snapshot's information.
    Stat { key: String },
    /// Create the writable snapshot KEY on PARENT (a committed snapshot) and print its mounts.
    Prepare { key: String, parent: Option<String> },
    /// Create the read-only view KEY of PARENT and print its mounts.
    View { key: String, parent: Option<String> },
    /// Commit the active snapshot KEY as NAME.
    Commit { name: String, key: String },
    /// Print the mounts that make KEY usable.
    Mounts { key: String },
    /// Print KEY's disk use.
    Usage { key: String },
    /// Remove KEY.
    Rm { key: String },
}

fn info_table(out: &mut Out, infos: &[SnapshotInfo]) -> Result<()> {
    out.table(&["KEY", "PARENT", "KIND", "CREATED"], infos, |s| {
        vec![s.key.clone(), s.parent.clone().unwrap_or_default(), s.kind.clone(), s.created.clone().unwrap_or_default()]
    })
}

fn mount_table(out: &mut Out, mounts: &[MountInfo]) -> Result<()> {
    out.table(&["TYPE", "SOURCE", "OPTIONS"], mounts, |m| vec![m.kind.clone(), m.source.clone(), m.options.join(",")])
}

pub async fn snapshots(cli: &Cli, out: &mut Out, a: &SnapshotsArgs) -> Result<u8> {
    let rt = connect(cli).await?;
    let snaps = need(rt.snapshots(), rt.kind(), "snapshots")?.snapshotter(a.snapshotter.as_deref())?;
    match &a.command {
        SnapshotCommand::Ls => {
            let mut all = snaps.list().await?;
            all.sort_by(|x, y| x.key.cmp(&y.key));
            info_table(out, &all)?;
        }
        SnapshotCommand::Stat { key } => {
            let info = snaps.stat(key).await?;
            if out.json() {
                out.record(&info, String::new)?;
            } else {
                info_table(out, std::slice::from_ref(&info))?;
                for (k, v) in &info.labels {
                    out.record(&info, || format!("label {k}={v}"))?;
                }
            }
        }
        SnapshotCommand::Prepare { key, parent } => mount_table(out, &snaps.prepare(key, parent.as_deref()).await?)?,
        SnapshotCommand::View { key, parent } => mount_table(out, &snaps.view(key, parent.as_deref()).await?)?,
        SnapshotCommand::Commit { name, key } => {
            snaps.commit(name, key).await?;
            if out.json() {
                out.record(&json!({ "name": name, "key": key }), String::new)?;
            }
        }
        SnapshotCommand::Mounts { key } => mount_table(out, &snaps.mounts(key).await?)?,
        SnapshotCommand::Usage { key } => {
            let u = snaps.usage(key).await?;
            out.table(&["SIZE", "INODES"], &[u], |u| vec![human_size(u.size.max(0) as u64), u.inodes.to_string()])?;
        }
        SnapshotCommand::Rm { key } => {
            snaps.remove(key).await?;
            out.record(&json!({ "removed": key }), || key.clone())?;
        }
    }
    Ok(0)
}

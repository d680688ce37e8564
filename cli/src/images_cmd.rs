//! The image commands of the daemon backends: pull (with progress), rmi, tag, import,
//! export.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use berth_core::model::{PullOptions, PullProgress};
use berth_core::{Error, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use tokio::sync::mpsc;

use crate::output::{human_size, Out};
use crate::{connect, term, Cli, Failures};

#[derive(clap::Args)]
pub struct PullArgs {
    /// Registry user (USER:PASSWORD also works).
    #[arg(long, value_name = "U")]
    user: Option<String>,
    /// Registry password.
    #[arg(long, value_name = "P", requires = "user")]
    password: Option<String>,
    /// Speak plain HTTP to the registry (local test registries).
    #[arg(long)]
    plain_http: bool,
    /// The image reference (`registry/repo:tag`, `repo@sha256:...`).
    #[arg(value_name = "REF")]
    reference: String,
}

/// `sha256:0123456789abcdef...` as `0123456789ab`.
fn short(digest: &str) -> &str {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    &hex[..12.min(hex.len())]
}

/// How pull progress is shown.
enum Display {
    /// One JSON line per event (stdout).
    Json,
    /// One bar per blob, redrawn in place (stdout is a terminal).
    Bars { multi: MultiProgress, bars: HashMap<String, ProgressBar> },
    /// One line per completed blob.
    Plain { done: BTreeSet<String> },
}

impl Display {
    fn show(&mut self, out: &mut Out, p: PullProgress) -> Result<()> {
        match self {
            Display::Json => {
                out.record(&p, String::new)?;
                out.flush()
            }
            Display::Bars { multi, bars } => {
                let bar = bars.entry(p.digest.clone()).or_insert_with(|| {
                    let b = multi.add(ProgressBar::new(p.total));
                    b.set_style(bar_style(p.total > 0));
                    b.set_prefix(short(&p.digest).to_string());
                    b.enable_steady_tick(Duration::from_millis(120));
                    b
                });
                if p.total > 0 && bar.length() != Some(p.total) {
                    bar.set_length(p.total);
                    bar.set_style(bar_style(true));
                }
                bar.set_position(p.offset);
                bar.set_message(p.status.clone());
                if matches!(p.status.as_str(), "done" | "exists" | "unpacked") {
                    if p.total > 0 {
                        bar.set_position(p.total);
                    }
                    bar.finish_with_message(p.status);
                }
                Ok(())
            }
            Display::Plain { done } => {
                if matches!(p.status.as_str(), "done" | "exists") && done.insert(p.digest.clone()) {
                    let line = format!("{}: {} ({})", short(&p.digest), p.status, human_size(p.total));
                    out.record(&p, || line)?;
                    out.flush()?;
                }
                Ok(())
            }
        }
    }

    fn finish(&mut self) {
        if let Display::Bars { bars, .. } = self {
            for b in bars.values() {
                if !b.is_finished() {
                    b.abandon();
                }
            }
        }
    }
}

fn bar_style(sized: bool) -> ProgressStyle {
    let template = if sized {
        "{prefix} {msg:<11} [{bar:30}] {bytes:>10}/{total_bytes:<10}"
    } else {
        "{prefix} {msg:<11} {spinner} {bytes:>10}"
    };
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> ")
}

pub async fn pull(cli: &Cli, out: &mut Out, a: &PullArgs) -> Result<u8> {
    let (username, password) = match (&a.user, &a.password) {
        (Some(u), Some(p)) => (Some(u.clone()), Some(p.clone())),
        (Some(u), None) => match u.split_once(':') {
            Some((u, p)) => (Some(u.to_string()), Some(p.to_string())),
            None => return Err(Error::invalid("--user without --password (or USER:PASSWORD)")),
        },
        _ => (None, None),
    };
    let options = PullOptions { username, password, platform: cli.platform.clone(), plain_http: a.plain_http };
    let rt = connect(cli).await?;
    let mut display = if out.json() {
        Display::Json
    } else if term::is_tty(1) {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
        Display::Bars { multi, bars: HashMap::new() }
    } else {
        Display::Plain { done: BTreeSet::new() }
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let pulling = rt.pull_image(&a.reference, options, Some(tx));
    tokio::pin!(pulling);
    let result = loop {
        tokio::select! {
            biased;
            Some(p) = rx.recv() => display.show(out, p)?,
            r = &mut pulling => break r,
        }
    };
    while let Ok(p) = rx.try_recv() {
        display.show(out, p)?;
    }
    display.finish();
    let summary = result?;
    if out.json() {
        out.record(&summary, String::new)?;
    } else {
        out.images(std::slice::from_ref(&summary))?;
    }
    Ok(0)
}

pub async fn rmi(cli: &Cli, out: &mut Out, images: &[String]) -> Result<u8> {
    let rt = connect(cli).await?;
    let mut failures = Failures::new(out);
    for i in images {
        match rt.remove_image(i).await {
            Ok(()) => out.record(&json!({ "removed": i }), || i.clone())?,
            Err(e) => failures.add(out, e),
        }
    }
    Ok(failures.code())
}

pub async fn tag(cli: &Cli, out: &mut Out, source: &str, target: &str) -> Result<u8> {
    connect(cli).await?.tag_image(source, target).await?;
    if out.json() {
        out.record(&json!({ "source": source, "target": target }), String::new)?;
    }
    Ok(0)
}

pub async fn import(cli: &Cli, out: &mut Out, file: &Path) -> Result<u8> {
    let images = connect(cli).await?.import_images(&absolute(file)?).await?;
    out.images(&images)?;
    Ok(0)
}

pub async fn export(cli: &Cli, out: &mut Out, file: &Path, images: &[String]) -> Result<u8> {
    connect(cli).await?.export_images(images, &absolute(file)?).await?;
    if out.json() {
        out.record(&json!({ "path": file, "images": images }), String::new)?;
    }
    Ok(0)
}

/// `p` from the current directory, for backends that hand paths to a daemon.
fn absolute(p: &Path) -> Result<std::path::PathBuf> {
    std::path::absolute(p).map_err(|e| Error::io(format!("path {}", p.display()), e))
}

//! The image commands of the daemon backends: pull and push (with progress), rmi, tag,
//! import (alias load), export (alias save).

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use berth_core::model::{PullOptions, PullProgress, PushOptions};
use berth_core::{need, Error, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use tokio::sync::mpsc;

use crate::output::{human_size, printable, Out};
use crate::{absolute, connect, term, Cli, Failures};

/// Registry credentials, for pull and push.
#[derive(clap::Args)]
pub struct Credentials {
    /// Registry user (USER:PASSWORD also works).
    #[arg(long, value_name = "U")]
    user: Option<String>,
    /// Registry password.
    #[arg(long, value_name = "P", requires = "user", conflicts_with = "password_stdin")]
    password: Option<String>,
    /// Read the registry password from stdin (a final newline is dropped).
    #[arg(long, requires = "user")]
    password_stdin: bool,
}

impl Credentials {
    /// (user, password), or neither.
    fn resolve(&self) -> Result<(Option<String>, Option<String>)> {
        let Some(user) = &self.user else { return Ok((None, None)) };
        if let Some(p) = &self.password {
            return Ok((Some(user.clone()), Some(p.clone())));
        }
        if self.password_stdin {
            let mut p = String::new();
            std::io::stdin().read_to_string(&mut p).map_err(|e| Error::io("read the password from stdin", e))?;
            let p = p.strip_suffix('\n').unwrap_or(&p);
            let p = p.strip_suffix('\r').unwrap_or(p);
            if user.contains(':') {
                return Err(Error::invalid("--user USER:PASSWORD with --password-stdin: give the password once"));
            }
            return Ok((Some(user.clone()), Some(p.to_string())));
        }
        match user.split_once(':') {
            Some((u, p)) => Ok((Some(u.to_string()), Some(p.to_string()))),
            None => Err(Error::invalid("--user without --password, --password-stdin or USER:PASSWORD")),
        }
    }
}

#[derive(clap::Args)]
pub struct PullArgs {
    #[command(flatten)]
    credentials: Credentials,
    /// Speak plain HTTP to the registry (local test registries).
    #[arg(long)]
    plain_http: bool,
    /// The image reference (`registry/repo:tag`, `repo@sha256:...`).
    #[arg(value_name = "REF")]
    reference: String,
}

#[derive(clap::Args)]
pub struct PushArgs {
    #[command(flatten)]
    credentials: Credentials,
    /// Speak plain HTTP to the registry (local test registries; Docker decides this
    /// itself: loopback and its insecure registries).
    #[arg(long)]
    plain_http: bool,
    /// The image's name, which says where it goes (`registry/repo:tag`).
    #[arg(value_name = "REF")]
    reference: String,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The tar to read.
    #[arg(value_name = "FILE", required_unless_present = "input", conflicts_with = "input")]
    file: Option<std::path::PathBuf>,
    /// The tar to read (as `docker load -i`).
    #[arg(short = 'i', long, value_name = "FILE")]
    input: Option<std::path::PathBuf>,
}

/// `sha256:0123456789abcdef...` as `0123456789ab`.
fn short(digest: &str) -> &str {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    &hex[..12.min(hex.len())]
}

/// Statuses that end a blob's progress (pull and push).
fn finished(status: &str) -> bool {
    matches!(status, "done" | "exists" | "unpacked" | "pushed")
}

/// How pull and push progress is shown.
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
                    b.set_prefix(printable(short(&p.digest)).into_owned());
                    b.enable_steady_tick(Duration::from_millis(120));
                    b
                });
                if p.total > 0 && bar.length() != Some(p.total) {
                    bar.set_length(p.total);
                    bar.set_style(bar_style(true));
                }
                bar.set_position(p.offset);
                bar.set_message(printable(&p.status).into_owned());
                if finished(&p.status) {
                    if p.total > 0 {
                        bar.set_position(p.total);
                    }
                    bar.finish_with_message(printable(&p.status).into_owned());
                }
                Ok(())
            }
            Display::Plain { done } => {
                if matches!(p.status.as_str(), "done" | "exists" | "pushed") && done.insert(p.digest.clone()) {
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

impl Display {
    /// JSON lines with --json, bars on a terminal, else plain lines.
    fn new(out: &Out) -> Display {
        if out.json() {
            Display::Json
        } else if term::is_tty(1) {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
            Display::Bars { multi, bars: HashMap::new() }
        } else {
            Display::Plain { done: BTreeSet::new() }
        }
    }

    /// Shows the progress `work` sends until it finishes; its result.
    async fn follow<T>(
        &mut self,
        out: &mut Out,
        mut rx: mpsc::UnboundedReceiver<PullProgress>,
        work: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        tokio::pin!(work);
        let result = loop {
            tokio::select! {
                biased;
                Some(p) = rx.recv() => self.show(out, p)?,
                r = &mut work => break r,
            }
        };
        while let Ok(p) = rx.try_recv() {
            self.show(out, p)?;
        }
        self.finish();
        result
    }
}

pub async fn pull(cli: &Cli, out: &mut Out, a: &PullArgs) -> Result<u8> {
    let (username, password) = a.credentials.resolve()?;
    let options = PullOptions { username, password, platform: cli.platform.clone(), plain_http: a.plain_http };
    let rt = connect(cli).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    let puller = need(rt.puller(), rt.kind(), "pulling images")?;
    let summary = Display::new(out).follow(out, rx, puller.pull(&a.reference, options, Some(tx))).await?;
    if out.json() {
        out.record(&summary, String::new)?;
    } else {
        out.images(std::slice::from_ref(&summary))?;
    }
    Ok(0)
}

pub async fn push(cli: &Cli, out: &mut Out, a: &PushArgs) -> Result<u8> {
    let (username, password) = a.credentials.resolve()?;
    let options = PushOptions { username, password, plain_http: a.plain_http };
    let rt = connect(cli).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    let pusher = need(rt.pusher(), rt.kind(), "pushing images")?;
    Display::new(out).follow(out, rx, pusher.push(&a.reference, options, Some(tx))).await?;
    out.record(&json!({ "pushed": a.reference }), || a.reference.clone())?;
    Ok(0)
}

pub async fn rmi(cli: &Cli, out: &mut Out, images: &[String]) -> Result<u8> {
    let rt = connect(cli).await?;
    let mut failures = Failures::new(out);
    for i in images {
        let removed = match need(rt.image_store(), rt.kind(), "removing images") {
            Ok(store) => store.remove(i).await,
            Err(e) => Err(e),
        };
        match removed {
            Ok(()) => out.record(&json!({ "removed": i }), || i.clone())?,
            Err(e) => failures.add(out, e),
        }
    }
    Ok(failures.code())
}

pub async fn tag(cli: &Cli, out: &mut Out, source: &str, target: &str) -> Result<u8> {
    let rt = connect(cli).await?;
    need(rt.image_store(), rt.kind(), "tagging images")?.tag(source, target).await?;
    if out.json() {
        out.record(&json!({ "source": source, "target": target }), String::new)?;
    }
    Ok(0)
}

pub async fn import(cli: &Cli, out: &mut Out, a: &ImportArgs) -> Result<u8> {
    let file = a.file.as_ref().or(a.input.as_ref()).ok_or_else(|| Error::invalid("import: no file named"))?;
    let rt = connect(cli).await?;
    let images = need(rt.image_store(), rt.kind(), "importing images")?.import(&absolute(file)?).await?;
    out.images(&images)?;
    Ok(0)
}

pub async fn export(cli: &Cli, out: &mut Out, file: &Path, images: &[String]) -> Result<u8> {
    let rt = connect(cli).await?;
    need(rt.image_store(), rt.kind(), "exporting images")?.export(images, &absolute(file)?).await?;
    if out.json() {
        out.record(&json!({ "path": file, "images": images }), String::new)?;
    }
    Ok(0)
}

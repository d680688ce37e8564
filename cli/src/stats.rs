//! `stats`: containers' resource use, once or as it changes (Docker, Podman).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use berth_core::container::{Container, ContainerStats};
use berth_core::{need, Error, Result};
use serde::Serialize;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use crate::output::{human_size, Out};
use crate::{connect, term, Cli, Failures};

/// How often a streaming table is redrawn (when a sample changed it).
const REDRAW: Duration = Duration::from_millis(500);

#[derive(clap::Args)]
pub struct StatsArgs {
    /// Print one sample of each container and exit (default: keep printing until interrupted).
    #[arg(long)]
    no_stream: bool,
    #[arg(required = true, value_name = "CONTAINER")]
    containers: Vec<String>,
}

/// One sample of one container, as `--json` prints it.
#[derive(Serialize)]
struct Row {
    id: String,
    name: String,
    #[serde(flatten)]
    stats: ContainerStats,
}

const HEADER: [&str; 8] = ["ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"];

fn cells(r: &Row) -> Vec<String> {
    let s = &r.stats;
    let mem_percent = if s.memory_limit > 0 {
        format!("{:.2}%", s.memory_usage as f64 / s.memory_limit as f64 * 100.0)
    } else {
        "--".into()
    };
    vec![
        r.id.clone(),
        r.name.clone(),
        s.cpu_percent.map_or("--".into(), |p| format!("{p:.2}%")),
        format!("{} / {}", human_size(s.memory_usage), human_size(s.memory_limit)),
        mem_percent,
        format!("{} / {}", human_size(s.network_rx_bytes), human_size(s.network_tx_bytes)),
        format!("{} / {}", human_size(s.block_read_bytes), human_size(s.block_write_bytes)),
        s.pids.to_string(),
    ]
}

pub async fn stats(cli: &Cli, out: &mut Out, a: &StatsArgs) -> Result<u8> {
    let sig = |k| signal(k).map_err(|e| Error::io("install a signal handler", e));
    let (mut int, mut term_sig, mut hup) =
        (sig(SignalKind::interrupt())?, sig(SignalKind::terminate())?, sig(SignalKind::hangup())?);
    let rt = connect(cli).await?;
    let mut failures = Failures::new(out);
    let mut opened: Vec<Arc<dyn Container>> = Vec::new();
    for p in &a.containers {
        let found = match need(rt.containers(), rt.kind(), "opening containers") {
            Ok(containers) => containers.open(p).await,
            Err(e) => Err(e),
        };
        match found {
            Ok(c) => opened.push(c),
            Err(e) => failures.add(out, e),
        }
    }
    // Names for the table; a listing that fails only leaves them out.
    let names: HashMap<String, String> = if opened.is_empty() {
        HashMap::new()
    } else {
        let all = match rt.containers() {
            Some(containers) => containers.list(&[]).await.unwrap_or_default(),
            None => Vec::new(),
        };
        all.into_iter().map(|c| (c.id, c.names.first().cloned().unwrap_or_default())).collect()
    };
    // Every container's samples into one channel, tagged with its index.
    let (tx, mut rx) = mpsc::channel::<(usize, Result<ContainerStats>)>(16);
    let mut rows: Vec<Option<Row>> = Vec::new();
    for c in &opened {
        let i = rows.len();
        rows.push(None);
        let sampled = match need(c.stats(), c.kind(), "container stats") {
            Ok(stats) => stats.read(!a.no_stream).await,
            Err(e) => Err(e),
        };
        match sampled {
            Ok(mut samples) => {
                let tx = tx.clone();
                tokio::spawn(async move {
                    while let Some(s) = samples.recv().await {
                        if tx.send((i, s)).await.is_err() {
                            return;
                        }
                    }
                });
            }
            Err(e) => failures.add(out, e),
        }
    }
    drop(tx);
    let row = |i: usize, stats: ContainerStats| {
        let id = opened[i].id().to_string();
        Row { name: names.get(&id).cloned().unwrap_or_default(), id, stats }
    };
    if a.no_stream {
        while let Some((i, s)) = rx.recv().await {
            match s {
                Ok(s) if rows[i].is_none() => rows[i] = Some(row(i, s)),
                Ok(_) => {}
                Err(e) => failures.add(out, e),
            }
        }
        let shown: Vec<Row> = rows.into_iter().flatten().collect();
        // Every target failed: the errors say it all.
        if !shown.is_empty() || failures.code() == 0 {
            out.table(&HEADER, &shown, cells)?;
        }
        return Ok(failures.code());
    }
    // Streaming: JSON lines as samples come; a table redrawn when something changed.
    let clear = term::is_tty(1);
    let mut tick = tokio::time::interval(REDRAW);
    let mut changed = false;
    loop {
        tokio::select! {
            sample = rx.recv() => match sample {
                Some((i, Ok(s))) => {
                    let r = row(i, s);
                    if out.json() {
                        out.record(&r, String::new)?;
                        out.flush()?;
                    } else {
                        rows[i] = Some(r);
                        changed = true;
                    }
                }
                Some((_, Err(e))) => failures.add(out, e),
                None => break,
            },
            _ = tick.tick() => {
                if changed {
                    draw(out, &rows, clear)?;
                    changed = false;
                }
            }
            _ = int.recv() => break,
            _ = term_sig.recv() => break,
            _ = hup.recv() => break,
        }
    }
    if changed {
        draw(out, &rows, clear)?;
    }
    Ok(failures.code())
}

/// The table of the latest samples; on a terminal, in place of the previous one.
fn draw(out: &mut Out, rows: &[Option<Row>], clear: bool) -> Result<()> {
    let shown: Vec<&Row> = rows.iter().flatten().collect();
    if clear {
        // Home, then erase the screen: the table replaces the last one.
        out.raw("\x1b[H\x1b[2J")?;
    }
    out.table(&HEADER, &shown, |r| cells(r))?;
    out.flush()
}

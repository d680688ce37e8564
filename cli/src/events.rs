//! `events`: the runtime's events as they happen, until interrupted.

use berth_core::model::Event;
use berth_core::{need, Error, ErrorKind, Result};
use tokio::signal::unix::{signal, SignalKind};

use crate::output::Out;
use crate::{connect, Cli};

/// One human line: time, kind, what it is about, exit code.
fn human(e: &Event) -> String {
    let mut subject = match (&e.container_id, &e.image) {
        (Some(c), _) => c.clone(),
        (None, Some(i)) => i.clone(),
        (None, None) => "-".into(),
    };
    if let Some(x) = e.exec_id.as_deref().filter(|x| !x.is_empty()) {
        subject.push_str(&format!(" exec={x}"));
    }
    let kind = if e.kind == "other" { e.topic.as_str() } else { e.kind.as_str() };
    let mut line = format!("{:<30}  {:<18}  {}", e.time.as_deref().unwrap_or("-"), kind, subject);
    if let Some(pid) = e.pid.filter(|p| *p != 0) {
        line.push_str(&format!(" pid={pid}"));
    }
    if let Some(code) = e.exit_code {
        line.push_str(&format!(" exit_code={code}"));
    }
    line
}

/// Prints events until SIGINT, SIGTERM or SIGHUP (exit 0); each line is flushed at once.
pub async fn events(cli: &Cli, out: &mut Out, filters: &[String]) -> Result<u8> {
    let sig = |k| signal(k).map_err(|e| Error::io("install a signal handler", e));
    let (mut int, mut term, mut hup) =
        (sig(SignalKind::interrupt())?, sig(SignalKind::terminate())?, sig(SignalKind::hangup())?);
    let rt = connect(cli).await?;
    let mut rx = need(rt.events(), rt.kind(), "events")?.subscribe(filters).await?;
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(Ok(e)) => {
                    out.record(&e, || human(&e))?;
                    out.flush()?;
                }
                Some(Err(e)) => return Err(e),
                None => return Err(Error::new(ErrorKind::Unavailable, format!("events of {}: the stream ended", rt.endpoint()))),
            },
            _ = int.recv() => return Ok(0),
            _ = term.recv() => return Ok(0),
            _ = hup.recv() => return Ok(0),
        }
    }
}

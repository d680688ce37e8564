//! `exec`: a process in a running container, its output streamed to ours as it comes,
//! our stdin forwarded with -i, its exit code passed on. `run` streams an attached
//! container's init process the same way.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use berth_core::container::{Container, ExecEvent, ExecOptions, ExecSession, OutputStream};
use berth_core::{Error, ErrorKind, Result};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;

use crate::output::{printable, Out};
use crate::term::{self, RawMode};
use crate::{exit_status_code, open_container, Cli};

#[derive(clap::Args)]
pub struct ExecArgs {
    /// Forward this process's stdin (its end delivers EOF).
    #[arg(short = 'i', long)]
    interactive: bool,
    /// Give the process a terminal; with -i on a terminal, ours goes into raw mode.
    #[arg(short = 't', long)]
    tty: bool,
    /// Set an environment variable (KEY alone: this shell's value, when set).
    #[arg(short = 'e', long = "env", value_name = "K=V")]
    env: Vec<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long = "workdir", value_name = "DIR")]
    workdir: Option<String>,
    /// Numeric user (and group) of the process.
    #[arg(short = 'u', long, value_name = "UID[:GID]")]
    user: Option<String>,
    /// The container: its ID or name, or a unique ID prefix.
    container: String,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "CMD")]
    command: Vec<String>,
}

pub async fn exec(cli: &Cli, out: &mut Out, a: &ExecArgs) -> Result<u8> {
    let env = a
        .env
        .iter()
        .filter_map(
            |e| if e.contains('=') { Some(e.clone()) } else { std::env::var(e).ok().map(|v| format!("{e}={v}")) },
        )
        .collect();
    let options = ExecOptions {
        args: a.command.clone(),
        env,
        cwd: a.workdir.clone(),
        user: a.user.clone(),
        tty: a.tty,
        stdin: a.interactive,
    };
    out.flush()?;
    let c = open_container(cli, &a.container).await?;
    let session = c.exec(options).await?;
    // Raw mode only where keys go to the process: a terminal stdin that is forwarded.
    let raw = if a.tty && a.interactive { RawMode::enable(0) } else { None };
    if a.tty {
        if let Some((w, h)) = term::size() {
            let _ = session.resize(w, h).await;
        }
    }
    if a.interactive {
        forward_stdin(session.clone());
    }
    let result = stream(&session, a.tty, raw.is_some(), OnSignal::Forward).await;
    drop(raw);
    let code = result?.exit_code.ok_or_else(|| Error::internal("exec ended without an exit status"))?;
    Ok(exit_status_code(code))
}

/// Reads our stdin on a thread of its own (a blocked read must not hold the process at
/// exit) and writes it to the process; EOF closes the process's stdin.
pub fn forward_stdin(session: Arc<dyn ExecSession>) {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(8);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx.blocking_send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        // Dropping tx tells the writer task: EOF.
    });
    tokio::spawn(async move {
        while let Some(chunk) = rx.recv().await {
            if session.write_stdin(&chunk).await.is_err() {
                // The process closed its stdin or exited: nothing more to deliver.
                return;
            }
        }
        let _ = session.close_stdin().await;
    });
}

/// What SIGINT, SIGTERM and SIGHUP sent to berth do while output streams.
pub enum OnSignal {
    /// Pass it on to the process; the same signal a second time sends SIGKILL (`exec`).
    Forward,
    /// Stop the container (SIGTERM, then SIGKILL after the grace period); any later
    /// signal sends SIGKILL at once (`run`).
    Stop(Arc<dyn Container>, Duration),
}

/// How a stream of output ended.
pub struct Ended {
    /// The exit code; None when the output ended without one.
    pub exit_code: Option<i32>,
    /// The last output on stdout did not end with a newline.
    pub mid_line: bool,
}

/// Copies output until the exit. Signals to berth are handled as `on_signal` says; a
/// terminal size change resizes the process's tty.
pub async fn stream(session: &Arc<dyn ExecSession>, tty: bool, raw: bool, on_signal: OnSignal) -> Result<Ended> {
    let sig = |k| signal(k).map_err(|e| Error::io("install a signal handler", e));
    let mut int = sig(SignalKind::interrupt())?;
    let mut term_sig = sig(SignalKind::terminate())?;
    let mut hup = sig(SignalKind::hangup())?;
    let mut winch = sig(SignalKind::window_change())?;
    let mut sent: Vec<i32> = Vec::new();
    // Once our stdout or stderr is closed (`| head`), output is dropped but the process
    // still runs to its end.
    let (mut out_ok, mut err_ok) = (true, true);
    let mut mid_line = false;
    loop {
        let forward = tokio::select! {
            ev = session.next_event() => match ev {
                Some(ExecEvent::Output(OutputStream::Stdout, d)) => {
                    if out_ok && !d.is_empty() {
                        let mut o = std::io::stdout().lock();
                        out_ok = o.write_all(&d).and_then(|()| o.flush()).is_ok();
                        mid_line = !d.ends_with(b"\n");
                    }
                    continue;
                }
                Some(ExecEvent::Output(OutputStream::Stderr, d)) => {
                    if err_ok {
                        let mut e = std::io::stderr().lock();
                        err_ok = e.write_all(&d).and_then(|()| e.flush()).is_ok();
                    }
                    continue;
                }
                Some(ExecEvent::Exit(s)) => return Ok(Ended { exit_code: Some(s.exit_code), mid_line }),
                None => return Ok(Ended { exit_code: None, mid_line }),
            },
            // In raw mode Ctrl-C is a byte for the process, not a signal for us.
            _ = int.recv(), if !raw => libc::SIGINT,
            _ = term_sig.recv() => libc::SIGTERM,
            _ = hup.recv() => libc::SIGHUP,
            _ = winch.recv(), if tty => {
                if let Some((w, h)) = term::size() {
                    let _ = session.resize(w, h).await;
                }
                continue;
            }
        };
        match &on_signal {
            OnSignal::Forward => {
                let signal = if sent.contains(&forward) { libc::SIGKILL } else { forward };
                sent.push(forward);
                if let Err(e) = session.kill(signal).await {
                    eprintln!("berth: could not pass signal {signal} on to the process: {}", printable(e.message()));
                }
            }
            OnSignal::Stop(c, grace) if sent.is_empty() => {
                sent.push(forward);
                eprintln!("berth: stopping container {} (SIGKILL after {} s)", printable(c.id()), grace.as_secs());
                // The output goes on streaming while it stops; the exit ends the loop.
                let (c, grace) = (c.clone(), *grace);
                tokio::spawn(async move {
                    match c.stop(grace).await {
                        Ok(_) => {}
                        // It ended on its own meanwhile.
                        Err(e) if e.kind() == ErrorKind::Conflict => {}
                        Err(e) => {
                            eprintln!(
                                "berth: could not stop container {}: {}",
                                printable(c.id()),
                                printable(e.message())
                            )
                        }
                    }
                });
            }
            OnSignal::Stop(c, _) => {
                if let Err(e) = c.kill(libc::SIGKILL).await {
                    if e.kind() != ErrorKind::Conflict {
                        eprintln!("berth: could not kill container {}: {}", printable(c.id()), printable(e.message()));
                    }
                }
            }
        }
    }
}

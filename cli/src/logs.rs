//! `logs`: a container's log, stdout to stdout and stderr to stderr (Docker, Podman).

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use berth_core::container::{LogOptions, OutputStream};
use berth_core::{need, Error, Result};
use serde_json::json;
use tokio::signal::unix::{signal, SignalKind};

use crate::output::Out;
use crate::{open_container, Cli};

#[derive(clap::Args)]
pub struct LogsArgs {
    /// Keep printing new output until the container stops (or berth is interrupted).
    #[arg(short = 'f', long)]
    follow: bool,
    /// Only output written at or after T: seconds since the epoch, RFC 3339, or a
    /// duration such as 10m, 2h, 1h30m (that long ago).
    #[arg(long, value_name = "T")]
    since: Option<String>,
    /// Only output written before T (as --since).
    #[arg(long, value_name = "T")]
    until: Option<String>,
    /// Only the last N lines.
    #[arg(short = 'n', long, value_name = "N")]
    tail: Option<u64>,
    /// Prefix each line with the time the runtime recorded it (RFC 3339).
    #[arg(short = 't', long)]
    timestamps: bool,
    /// The container: its ID or name, or a unique ID prefix.
    container: String,
}

pub async fn logs(cli: &Cli, out: &mut Out, a: &LogsArgs) -> Result<u8> {
    let now = now_secs();
    let since = a.since.as_deref().map(|t| parse_time("--since", t, now)).transpose()?;
    let until = a.until.as_deref().map(|t| parse_time("--until", t, now)).transpose()?;
    let options = LogOptions {
        follow: a.follow,
        since,
        until,
        tail: a.tail,
        timestamps: a.timestamps,
        stdout: true,
        stderr: true,
    };
    let sig = |k| signal(k).map_err(|e| Error::io("install a signal handler", e));
    let (mut int, mut term, mut hup) =
        (sig(SignalKind::interrupt())?, sig(SignalKind::terminate())?, sig(SignalKind::hangup())?);
    let c = open_container(cli, &a.container).await?;
    let mut rx = need(c.logs(), c.kind(), "container logs")?.read(options).await?;
    out.flush()?;
    loop {
        tokio::select! {
            chunk = rx.recv() => match chunk {
                Some(Ok(chunk)) => {
                    let stream = match chunk.stream {
                        OutputStream::Stdout => "stdout",
                        OutputStream::Stderr => "stderr",
                    };
                    if out.json() {
                        let doc = json!({ "stream": stream, "data": String::from_utf8_lossy(&chunk.data) });
                        out.record(&doc, String::new)?;
                        out.flush()?;
                    } else if chunk.stream == OutputStream::Stdout {
                        let mut o = std::io::stdout().lock();
                        o.write_all(&chunk.data).and_then(|()| o.flush()).map_err(|e| Error::io("write to stdout", e))?;
                    } else {
                        let mut e = std::io::stderr().lock();
                        e.write_all(&chunk.data).and_then(|()| e.flush()).map_err(|e| Error::io("write to stderr", e))?;
                    }
                }
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            },
            _ = int.recv() => return Ok(0),
            _ = term.recv() => return Ok(0),
            _ = hup.recv() => return Ok(0),
        }
    }
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A point in time as seconds since the epoch: a number of seconds, an RFC 3339 time
/// (`2024-05-01T12:00:00Z`, `...+02:00`, fractions dropped), or a duration before `now`
/// (`90s`, `10m`, `2h`, `1d`, `1h30m`).
pub fn parse_time(flag: &str, s: &str, now: i64) -> Result<i64> {
    let bad = || {
        Error::invalid(format!(
            "{flag} {s:?}: expected seconds since the epoch, an RFC 3339 time, or a duration such as 10m, 2h, 1h30m"
        ))
    };
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().map_err(|_| bad());
    }
    if let Some(t) = parse_rfc3339(s) {
        return Ok(t);
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    let mut any = false;
    for ch in s.chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
            continue;
        }
        let unit = match ch {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: i64 = digits.parse().map_err(|_| bad())?;
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
        digits.clear();
        any = true;
    }
    if !any || !digits.is_empty() {
        return Err(bad());
    }
    Ok(now - total)
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)` as seconds since the epoch.
fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let end = frac.find(|c: char| !c.is_ascii_digit()).unwrap_or(frac.len());
        if end == 0 {
            return None;
        }
        rest = &frac[end..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = rest[1..].split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60)
        }
    };
    // Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + min * 60 + sec - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let now = 1_700_000_000;
        assert_eq!(parse_time("--since", "1699999000", now).unwrap(), 1_699_999_000);
        assert_eq!(parse_time("--since", "10m", now).unwrap(), now - 600);
        assert_eq!(parse_time("--since", "2h", now).unwrap(), now - 7200);
        assert_eq!(parse_time("--since", "1h30m", now).unwrap(), now - 5400);
        assert_eq!(parse_time("--since", "1d", now).unwrap(), now - 86_400);
        assert_eq!(parse_time("--since", "1970-01-01T00:00:00Z", now).unwrap(), 0);
        assert_eq!(parse_time("--since", "2023-11-14T22:13:20Z", now).unwrap(), 1_700_000_000);
        assert_eq!(parse_time("--since", "2023-11-14T22:13:20.123456789Z", now).unwrap(), 1_700_000_000);
        assert_eq!(parse_time("--since", "2023-11-15T00:13:20+02:00", now).unwrap(), 1_700_000_000);
        assert_eq!(parse_time("--since", "2000-02-29T00:00:00Z", now).unwrap(), 951_782_400);
        for bad in ["", "m", "10x", "1h30", "-5m", "2023-13-01T00:00:00Z", "yesterday"] {
            let e = parse_time("--since", bad, now).unwrap_err();
            assert_eq!(e.kind(), berth_core::ErrorKind::InvalidArgument, "{bad}");
        }
    }
}

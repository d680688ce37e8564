//! What the CLI tests against real daemons share: running `berth` on one endpoint within a
//! time limit, and reading what it printed.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Longest any one command may take before the test fails (never hang the suite).
pub const LIMIT: Duration = Duration::from_secs(90);

pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn lines(&self) -> Vec<Value> {
        self.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}"))).collect()
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {:?}", self.stdout))
    }
}

/// `berth` on one endpoint, with the image the harness put there.
pub struct T {
    pub endpoint: String,
    pub image: String,
}

/// A harness variable, when set and not empty.
pub fn var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

impl T {
    pub fn new(endpoint: String, image: String) -> T {
        T { endpoint, image }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_berth"));
        c.env("BERTH_RUNTIME", &self.endpoint).args(args);
        c
    }

    /// Runs berth with `stdin` (or nothing) and collects its output, within [`LIMIT`].
    pub fn run_with(&self, args: &[&str], stdin: Option<&[u8]>) -> Out {
        let mut child = self
            .command(args)
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(data) = stdin {
            let mut w = child.stdin.take().unwrap();
            let data = data.to_vec();
            std::thread::spawn(move || {
                let _ = w.write_all(&data);
            });
        }
        let read = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut s = String::new();
                r.read_to_string(&mut s).unwrap();
                s
            })
        };
        let out = read(Box::new(child.stdout.take().unwrap()));
        let err = read(Box::new(child.stderr.take().unwrap()));
        let status = wait_within(&mut child, LIMIT).unwrap_or_else(|| {
            panic!("berth {args:?} on {} did not finish within {} s", self.endpoint, LIMIT.as_secs())
        });
        Out { code: status.code(), stdout: out.join().unwrap(), stderr: err.join().unwrap() }
    }

    pub fn run(&self, args: &[&str]) -> Out {
        self.run_with(args, None)
    }

    /// Runs berth and requires exit 0.
    pub fn ok(&self, args: &[&str]) -> Out {
        let o = self.run(args);
        assert_eq!(o.code, Some(0), "berth {args:?} on {}: {}{}", self.endpoint, o.stdout, o.stderr);
        o
    }

    /// Runs berth and requires exit `code` with an error line of `kind`.
    pub fn fails(&self, args: &[&str], code: i32, kind: &str) -> Out {
        let o = self.run(args);
        assert_eq!(o.code, Some(code), "berth {args:?} on {}: {}{}", self.endpoint, o.stdout, o.stderr);
        assert!(o.stderr.starts_with(&format!("berth: {kind}: ")), "berth {args:?} on {}: {}", self.endpoint, o.stderr);
        o
    }

    /// The `ps -a --json` row of the container with this ID or name.
    pub fn row(&self, id: &str) -> Option<Value> {
        let o = self.ok(&["--json", "ps", "-a"]);
        o.lines().into_iter().find(|c| c["id"] == id || c["names"].as_array().unwrap().iter().any(|n| n == id))
    }

    pub fn status(&self, id: &str) -> Option<String> {
        self.row(id).map(|c| c["state"]["status"].as_str().unwrap().to_string())
    }

    /// Polls `exec ID test -e PATH` until the container created PATH.
    pub fn wait_for_file(&self, id: &str, path: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.run(&["exec", id, "test", "-e", path]).code != Some(0) {
            assert!(Instant::now() < deadline, "container {id} on {} never created {path}", self.endpoint);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The names of the runtime's images.
    pub fn image_names(&self) -> Vec<String> {
        self.ok(&["--json", "images"])
            .lines()
            .iter()
            .flat_map(|i| {
                i["repo_tags"].as_array().unwrap().iter().map(|n| n.as_str().unwrap().to_string()).collect::<Vec<_>>()
            })
            .collect()
    }
}

/// Waits for `child` to exit, at most `limit`; None (and the child killed) when it did not.
pub fn wait_within(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads `child`'s stdout lines on a thread.
pub fn line_reader(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Sends `signal` to `child`.
pub fn signal(child: &Child, signal: i32) {
    // SAFETY: kill(2) with a pid and a signal number has no memory effects.
    unsafe { libc::kill(child.id() as i32, signal) };
}

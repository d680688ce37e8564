//! A fault-injecting HTTP proxy that stands beside a real registry (the harness's
//! docker-registry) for the fault tests: everything is forwarded as it is, except blob
//! downloads, which it stops after a number of bytes of the blob.
//!
//! It never stands in for the registry (DESIGN.md §6): the registry answers every request;
//! the proxy only breaks the connection where a network or a crash would.
//!
//! Each client connection carries one request: the proxy asks the registry with
//! `Connection: close` and tells the client the same, so it can read each answer to its
//! end without parsing chunked bodies, and clients simply open a new connection for the
//! next request (every HTTP client does).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What happens to a blob download once `after` bytes of the blob have gone through.
/// Offsets are the blob's, so a client that resumes with `Range: bytes=N-` gets no more
/// than `after` bytes in total: the fault cannot be retried away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The connection is cut (both directions shut down, then closed).
    Cut { after: u64 },
    /// The connection stays open and silent until [`Proxy::release`] (or the proxy is
    /// dropped), and is cut then: for killing a daemon while it waits in a download.
    Hold { after: u64 },
}

impl Fault {
    fn after(self) -> u64 {
        match self {
            Fault::Cut { after } | Fault::Hold { after } => after,
        }
    }
}

struct State {
    upstream: SocketAddr,
    fault: Fault,
    /// Blob responses that met the fault (cut or held).
    faulted: AtomicUsize,
    /// Downloads waiting in a hold right now.
    holding: Mutex<usize>,
    changed: Condvar,
    released: AtomicBool,
    stopping: AtomicBool,
    /// Every socket in use, so that dropping the proxy can shut them down and join its
    /// threads (the tests count descriptors and threads of their own process).
    sockets: Mutex<std::collections::HashMap<usize, TcpStream>>,
    next_socket: AtomicUsize,
}

/// A running proxy on 127.0.0.1, forwarding to `upstream`.
pub struct Proxy {
    addr: SocketAddr,
    state: Arc<State>,
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
    acceptor: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Starts a proxy to the registry at `upstream` (`host:port`) with `fault`.
    pub fn start(upstream: &str, fault: Fault) -> Proxy {
        let upstream: SocketAddr = upstream.parse().expect("upstream as IP:PORT");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            upstream,
            fault,
            faulted: AtomicUsize::new(0),
            holding: Mutex::new(0),
            changed: Condvar::new(),
            released: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            sockets: Mutex::default(),
            next_socket: AtomicUsize::new(0),
        });
        let threads: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (s, t) = (state.clone(), threads.clone());
        let acceptor = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s2 = s.clone();
                let handle = std::thread::spawn(move || {
                    let _ = serve(&s2, conn);
                });
                t.lock().unwrap().push(handle);
            }
        });
        Proxy { addr, state, threads, acceptor: Some(acceptor) }
    }

    /// `127.0.0.1:PORT`, the registry's address as clients of the proxy name it.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// How many blob downloads met the fault so far.
    pub fn faulted(&self) -> usize {
        self.state.faulted.load(Ordering::SeqCst)
    }

    /// Waits until a download is held (with [`Fault::Hold`]); false if none came within
    /// `limit` (a bound against a hang, not a timing expectation).
    pub fn wait_for_hold(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut holding = self.state.holding.lock().unwrap();
        while *holding == 0 {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            holding = self.state.changed.wait_timeout(holding, deadline - now).unwrap().0;
        }
        true
    }

    /// Ends every hold (the held connections are cut) and holds no more.
    pub fn release(&self) {
        self.state.released.store(true, Ordering::SeqCst);
        let _guard = self.state.holding.lock().unwrap();
        self.state.changed.notify_all();
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stopping.store(true, Ordering::SeqCst);
        self.release();
        for (_, s) in self.state.sockets.lock().unwrap().drain() {
            let _ = s.shutdown(Shutdown::Both);
        }
        // Wakes the acceptor, which then sees `stopping`.
        let _ = TcpStream::connect(self.addr);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        for t in self.threads.lock().unwrap().drain(..) {
            let _ = t.join();
        }
        // Sockets registered by connections that were accepted while stopping.
        self.state.sockets.lock().unwrap().clear();
    }
}

/// A request or response head: the first line and the headers, as read.
struct Head {
    first: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The head as sent on, with `Connection: close` in place of any connection header.
    fn closing(&self) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.first);
        for (k, v) in &self.headers {
            if !k.eq_ignore_ascii_case("connection") && !k.eq_ignore_ascii_case("keep-alive") {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
        }
        out.push_str("Connection: close\r\n\r\n");
        out.into_bytes()
    }
}

/// Reads a head byte by byte up to the blank line (heads are small; the body that
/// follows is left unread in the socket).
fn read_head(r: &mut TcpStream) -> std::io::Result<Option<Head>> {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        if r.read(&mut byte)? == 0 {
            return Ok(None);
        }
        // A TLS handshake (daemons try HTTPS first on an insecure registry): closing
        // at once makes them fall back to plain HTTP without waiting for a timeout.
        if raw.is_empty() && !byte[0].is_ascii_uppercase() {
            return Ok(None);
        }
        raw.push(byte[0]);
        if raw.len() > 64 * 1024 {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "head over 64 KiB"));
        }
    }
    let text = String::from_utf8_lossy(&raw);
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default().to_string();
    let headers =
        lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))).collect();
    Ok(Some(Head { first, headers }))
}

/// Keeps a clone of `s` for [`Proxy`]'s drop; returns its key for [`unregister`].
fn register(state: &State, s: &TcpStream) -> Option<usize> {
    let c = s.try_clone().ok()?;
    let key = state.next_socket.fetch_add(1, Ordering::SeqCst);
    state.sockets.lock().unwrap().insert(key, c);
    Some(key)
}

fn unregister(state: &State, key: Option<usize>) {
    if let Some(k) = key {
        state.sockets.lock().unwrap().remove(&k);
    }
}

/// One client connection: one request, forwarded; its answer, forwarded or faulted.
fn serve(state: &State, client: TcpStream) -> std::io::Result<()> {
    let key = register(state, &client);
    let mut upstream_key = None;
    let result = forward(state, client, &mut upstream_key);
    unregister(state, key);
    unregister(state, upstream_key);
    result
}

fn forward(state: &State, mut client: TcpStream, upstream_key: &mut Option<usize>) -> std::io::Result<()> {
    let Some(request) = read_head(&mut client)? else { return Ok(()) };
    let mut upstream = TcpStream::connect(state.upstream)?;
    *upstream_key = register(state, &upstream);
    upstream.write_all(&request.closing())?;
    // Request bodies (a pull sends none; anything else is passed through by length).
    let length: u64 = request.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    if length > 0 {
        std::io::copy(&mut (&mut client).take(length), &mut upstream)?;
    }
    let Some(response) = read_head(&mut upstream)? else { return Ok(()) };
    client.write_all(&response.closing())?;
    let mut words = request.first.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let status = response.first.split_whitespace().nth(1).unwrap_or("");
    let blob = method == "GET" && path.contains("/blobs/sha256:") && (status == "200" || status == "206");
    let body_len: Option<u64> = response.header("content-length").and_then(|v| v.parse().ok());
    let start = if status == "206" { range_start(request.header("range")) } else { 0 };
    let allowed = state.fault.after().saturating_sub(start);
    if !blob || body_len.is_some_and(|n| n <= allowed) {
        std::io::copy(&mut upstream, &mut client)?;
        return Ok(());
    }
    std::io::copy(&mut (&mut upstream).take(allowed), &mut client)?;
    client.flush()?;
    state.faulted.fetch_add(1, Ordering::SeqCst);
    if matches!(state.fault, Fault::Hold { .. }) {
        let mut holding = state.holding.lock().unwrap();
        *holding += 1;
        state.changed.notify_all();
        while !state.released.load(Ordering::SeqCst) {
            holding = state.changed.wait(holding).unwrap();
        }
        *holding -= 1;
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.shutdown(Shutdown::Both);
    Ok(())
}

/// The first byte of a `Range: bytes=N-[M]` request.
fn range_start(range: Option<&str>) -> u64 {
    range
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.split('-').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

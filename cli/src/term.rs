//! The local terminal: is a descriptor one, its size, and raw mode (libc termios) that is
//! always restored.

use std::io;

pub fn is_tty(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

/// The terminal's size as (columns, rows), from the first of stdout, stdin and stderr
/// that is a terminal.
pub fn size() -> Option<(u32, u32)> {
    for fd in [1, 0, 2] {
        let mut ws = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCGWINSZ writes one winsize into the struct we own.
        let r = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) };
        if r == 0 && ws.ws_col > 0 && ws.ws_row > 0 {
            return Some((u32::from(ws.ws_col), u32::from(ws.ws_row)));
        }
    }
    None
}

/// Raw mode on a terminal while this lives; the saved settings come back on drop
/// (also when unwinding from a panic).
pub struct RawMode {
    fd: i32,
    saved: libc::termios,
}

impl RawMode {
    /// Puts `fd` in raw mode; `None` when it is not a terminal or the settings cannot
    /// be read or changed (then nothing was changed).
    pub fn enable(fd: i32) -> Option<RawMode> {
        if !is_tty(fd) {
            return None;
        }
        // SAFETY: termios is plain data; tcgetattr fills it, or fails and we return.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            return None;
        }
        let mut raw = saved;
        // SAFETY: cfmakeraw edits the struct we own.
        unsafe { libc::cfmakeraw(&mut raw) };
        // Keep output processing so that stray "\n" from berth itself still returns the carriage.
        raw.c_oflag |= libc::OPOST;
        if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &raw) } != 0 {
            return None;
        }
        Some(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in enable().
        if unsafe { libc::tcsetattr(self.fd, libc::TCSANOW, &self.saved) } != 0 {
            let e = io::Error::last_os_error();
            eprintln!("berth: could not restore the terminal settings: {e} (run `stty sane`)");
        }
    }
}

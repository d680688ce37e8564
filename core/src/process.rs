//! Processes of containers, read from the host's /proc.
//!
//! Backends know their containers' host pids (a task's pid, an exec's pid, the cgroup's
//! members); this module turns a host pid into a [`ProcessInfo`], with the pid as the
//! container sees it (the last `NSpid` entry) and the family links.

use std::collections::BTreeMap;

use procfs::process::Process;

use crate::error::{Error, ErrorKind, Result};
use crate::model::ProcessInfo;

fn proc_error(pid: u32, e: procfs::ProcError) -> Error {
    match e {
        procfs::ProcError::NotFound(_) => Error::not_found(format!("process {pid}: no such process")),
        procfs::ProcError::PermissionDenied(_) => {
            Error::new(ErrorKind::PermissionDenied, format!("process {pid}: permission denied reading /proc"))
        }
        other => Error::new(ErrorKind::Io, format!("process {pid}: {other}")),
    }
}

/// Everything /proc says about host pid `pid`. Fields the caller may not read (another
/// user's environ) come back empty rather than failing the whole call.
pub fn process_info(pid: u32) -> Result<ProcessInfo> {
    let p = Process::new(pid as i32).map_err(|e| proc_error(pid, e))?;
    let stat = p.stat().map_err(|e| proc_error(pid, e))?;
    let status = p.status().map_err(|e| proc_error(pid, e))?;
    let ns_pid = status.nspid.as_ref().and_then(|v| v.last().copied()).unwrap_or(pid as i32);
    let start_time = procfs::boot_time_secs()
        .ok()
        .map(|boot| boot as f64 + stat.starttime as f64 / procfs::ticks_per_second() as f64);
    let ids = |v: (u32, u32, u32, u32)| [v.0, v.1, v.2, v.3];
    Ok(ProcessInfo {
        pid: ns_pid as u32,
        host_pid: pid,
        ppid: stat.ppid as u32,
        name: stat.comm.clone(),
        cmdline: p.cmdline().unwrap_or_default(),
        cwd: p.cwd().ok().map(|c| c.display().to_string()),
        environ: p
            .environ()
            .map(|m| m.into_iter().map(|(k, v)| format!("{}={}", k.to_string_lossy(), v.to_string_lossy())).collect())
            .unwrap_or_default(),
        exe: p.exe().ok().map(|e| e.display().to_string()),
        uids: ids((status.ruid, status.euid, status.suid, status.fuid)),
        gids: ids((status.rgid, status.egid, status.sgid, status.fgid)),
        status: stat.state.to_string(),
        start_time,
        children: children_of(pid),
    })
}

/// The host pids whose parent is `pid`.
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(all) = procfs::process::all_processes() {
        for p in all.flatten() {
            if let Ok(s) = p.stat() {
                if s.ppid as u32 == pid {
                    out.push(p.pid as u32);
                }
            }
        }
    }
    out.sort_unstable();
    out
}

/// `root` and every process below it, each once, parents first. Processes that exit
/// while being read are left out.
pub fn process_tree(root: u32) -> Result<Vec<ProcessInfo>> {
    let mut parents: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for p in procfs::process::all_processes().map_err(|e| proc_error(root, e))?.flatten() {
        if let Ok(s) = p.stat() {
            parents.entry(s.ppid as u32).or_default().push(p.pid as u32);
        }
    }
    let mut out = vec![process_info(root)?];
    let mut i = 0;
    while i < out.len() {
        let pid = out[i].host_pid;
        for &child in parents.get(&pid).map(Vec::as_slice).unwrap_or(&[]) {
            if let Ok(info) = process_info(child) {
                out.push(info);
            }
        }
        i += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_child_process() {
        let mut child = std::process::Command::new("sleep").arg("30").env("BERTH_PROC_TEST", "1").spawn().unwrap();
        // Wait for the exec to finish: until then /proc shows the forked test binary.
        let mut info = process_info(child.id()).unwrap();
        for _ in 0..200 {
            if info.cmdline.first().map(String::as_str) == Some("sleep") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            info = process_info(child.id()).unwrap();
        }
        let me = std::process::id();
        assert_eq!(info.name, "sleep");
        assert_eq!(info.cmdline, vec!["sleep", "30"]);
        assert_eq!(info.ppid, me);
        assert_eq!(info.pid, child.id(), "same pid namespace");
        assert!(info.environ.iter().any(|e| e == "BERTH_PROC_TEST=1"));
        assert!(info.exe.as_deref().unwrap_or("").ends_with("sleep"));
        assert!(info.start_time.unwrap() > 1.6e9);
        assert!(children_of(me).contains(&child.id()));
        let tree = process_tree(me).unwrap();
        assert_eq!(tree[0].host_pid, me);
        assert!(tree.iter().any(|p| p.host_pid == child.id()));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(process_info(child.id()).unwrap_err().kind(), ErrorKind::NotFound);
    }
}

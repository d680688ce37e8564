//! The `berth` command against a real containerd (started by tests/harness). Run with
//! `bash tests/harness/with-daemons.sh cargo test -p berth-cli --test containerd`;
//! without the harness's variables every test fails, saying so.

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use berth_tests::harness::Harness;
use common::{line_reader, unique, T};
use serde_json::Value;

fn setup() -> T {
    let h = Harness::from_env();
    T::new(h.containerd_endpoint(), h.image.clone())
}

#[test]
fn run_rm_passes_the_exit_code_on() {
    let t = setup();
    let name = unique("run");
    let o = t.run(&["run", "--rm", "--name", &name, &t.image, "sh", "-c", "exit 3"]);
    assert_eq!(o.code, Some(3), "{}", o.stderr);
    assert_eq!(o.stdout, "", "stdio of the init process is not attached");
    assert_eq!(t.status(&name), None, "--rm deleted it");
    // --json: the ID and the exit code; environment and workdir reach the process.
    let name = unique("run");
    let o = t.run(&[
        "--json",
        "run",
        "--rm",
        "--name",
        &name,
        "-e",
        "X=7",
        "-w",
        "/tmp",
        &t.image,
        "sh",
        "-c",
        "[ \"$(pwd)\" = /tmp ] && exit $X",
    ]);
    assert_eq!(o.code, Some(7), "{}", o.stderr);
    let doc = o.json();
    assert_eq!((doc["id"].as_str(), doc["exit_code"].as_i64()), (Some(name.as_str()), Some(7)));
    // -d prints the ID and leaves it running.
    let name = unique("run");
    let o = t.ok(&["run", "-d", "--name", &name, "--label", "berth.test=cli", &t.image, "sleep", "300"]);
    assert_eq!(o.stdout, format!("{name}\n"));
    assert_eq!(t.status(&name).as_deref(), Some("running"));
    let filtered = t.ok(&["--json", "ps", "--filter", "labels.\"berth.test\"==cli"]).lines();
    assert!(filtered.iter().any(|c| c["id"] == name.as_str() && c["labels"]["berth.test"] == "cli"), "{filtered:?}");
    t.ok(&["rm", "-f", &name]);
    assert_eq!(t.status(&name), None);
}

#[test]
fn create_start_exec_pause_resume_stop_rm() {
    let t = setup();
    let name = unique("life");
    let o = t.ok(&["create", "--name", &name, &t.image, "sleep", "300"]);
    assert_eq!(o.stdout, format!("{name}\n"));
    assert_eq!(t.status(&name).as_deref(), Some("created"));
    assert!(
        !t.ok(&["--json", "ps"]).lines().iter().any(|c| c["id"] == name.as_str()),
        "ps without -a: running and paused only"
    );
    assert_eq!(t.ok(&["start", &name]).stdout, format!("{name}\n"));

    // ps --json: the documented fields.
    let rows = t.ok(&["--json", "ps"]).lines();
    let row = rows.iter().find(|c| c["id"] == name.as_str()).unwrap_or_else(|| panic!("{name} not in {rows:?}"));
    for k in ["id", "names", "image", "image_id", "labels", "state", "created", "pod"] {
        assert!(row.get(k).is_some(), "{k} missing in {row}");
    }
    assert_eq!(row["image"], t.image.as_str());
    assert_eq!(row["state"]["status"], "running");
    assert!(row["state"]["pid"].as_u64().unwrap() > 1);
    assert!(row["state"]["exit_code"].is_null());
    assert!(row["created"].as_str().unwrap().ends_with('Z'));
    let human = t.ok(&["ps"]).stdout;
    assert!(human.starts_with("ID") && human.contains("EXIT CODE") && human.contains(&name), "{human}");

    // exec: stdin forwarded (its end is EOF), output captured, exit code passed on.
    let o = t.run_with(&["exec", "-i", &name, "cat"], Some(b"through stdin\n"));
    assert_eq!((o.code, o.stdout.as_str()), (Some(0), "through stdin\n"), "{}", o.stderr);
    let o = t.run(&["exec", "-e", "W=world", &name, "sh", "-c", "echo hello $W; echo to-stderr >&2; exit 5"]);
    assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (Some(5), "hello world\n", "to-stderr\n"));
    let o = t.ok(&["exec", "-u", "65534", &name, "id", "-u"]);
    assert_eq!(o.stdout, "65534\n");

    // top: the init process.
    let procs = t.ok(&["--json", "top", &name]).lines();
    let init = procs.iter().find(|p| p["cmdline"][0] == "sleep").unwrap_or_else(|| panic!("{procs:?}"));
    assert_eq!(init["pid"], 1);
    assert!(init["host_pid"].as_u64().unwrap() > 1);
    let human = t.ok(&["top", &name]).stdout;
    assert!(human.starts_with("PID") && human.contains("HOST-PID") && human.contains("sleep 300"), "{human}");

    // diff: a file the container added.
    t.ok(&["exec", &name, "sh", "-c", "echo new > /added.txt"]);
    assert!(t.ok(&["diff", &name]).stdout.lines().any(|l| l == "A /added.txt"));
    let changes = t.ok(&["--json", "diff", &name]).lines();
    assert!(changes.iter().any(|c| c["path"] == "/added.txt" && c["kind"] == "added"), "{changes:?}");

    // container-inspect: one JSON document.
    let doc = t.ok(&["container-inspect", &name]).json();
    assert_eq!(doc["id"], name.as_str());
    assert_eq!(doc["spec"]["process"]["args"][0], "sleep");
    assert!(doc["snapshot_key"].is_string());

    t.ok(&["pause", &name]);
    assert_eq!(t.status(&name).as_deref(), Some("paused"));
    t.ok(&["resume", &name]);
    assert_eq!(t.status(&name).as_deref(), Some("running"));

    // rm of a running container without -f: conflict.
    t.fails(&["rm", &name], 11, "conflict");
    // sleep is pid 1 and has no TERM handler, so it ignores SIGTERM: SIGKILL after 1 s.
    let o = t.ok(&["--json", "stop", "-t", "1", &name]);
    assert_eq!(o.json()["exit_code"], 137);
    assert_eq!(t.status(&name).as_deref(), Some("stopped"));
    let rows = t.ok(&["--json", "ps", "-a"]).lines();
    assert_eq!(rows.iter().find(|c| c["id"] == name.as_str()).unwrap()["state"]["exit_code"], 137);
    assert_eq!(t.ok(&["rm", &name]).stdout, format!("{name}\n"));
    t.fails(&["container-inspect", &name], 3, "not_found");
}

#[test]
fn kill_with_a_named_signal_then_wait() {
    let t = setup();
    let name = unique("kill");
    t.ok(&[
        "run",
        "-d",
        "--name",
        &name,
        &t.image,
        "sh",
        "-c",
        "trap 'exit 42' TERM; touch /ready; while true; do sleep 0.1; done",
    ]);
    t.wait_for_file(&name, "/ready");
    t.fails(&["kill", "-s", "NOSUCHSIG", &name], 4, "invalid_argument");
    assert_eq!(t.ok(&["kill", "-s", "SIGTERM", &name]).stdout, format!("{name}\n"));
    assert_eq!(t.ok(&["wait", &name]).stdout, "42\n");
    let doc = t.ok(&["--json", "wait", &name]).json();
    assert_eq!((doc["id"].as_str(), doc["exit_code"].as_i64()), (Some(name.as_str()), Some(42)));
    t.ok(&["rm", &name]);

    // By number, on a process that has no handler: KILL always ends it.
    let name = unique("kill");
    t.ok(&["run", "-d", "--name", &name, &t.image, "sleep", "300"]);
    t.ok(&["kill", "-s", "9", &name]);
    assert_eq!(t.ok(&["wait", &name]).stdout, "137\n");
    t.ok(&["rm", &name]);
}

#[test]
fn error_exit_codes() {
    let t = setup();
    let o = t.fails(&["start", "no-such-container-xyz"], 3, "not_found");
    assert!(o.stderr.contains("no-such-container-xyz"), "{}", o.stderr);
    t.fails(&["exec", "no-such-container-xyz", "true"], 3, "not_found");
    t.fails(&["run", "--rm", "no.such/image:1"], 3, "not_found");
    t.fails(&["run", "--mount", "/x", &t.image, "true"], 4, "invalid_argument");
    // Several targets: each failure is reported, the others are still done.
    let name = unique("multi");
    t.ok(&["create", "--name", &name, &t.image, "true"]);
    let o = t.run(&["rm", "no-such-container-xyz", &name]);
    assert_eq!((o.code, o.stdout.as_str()), (Some(3), format!("{name}\n").as_str()), "{}", o.stderr);
    assert_eq!(t.status(&name), None);
    // --json: the error as a JSON object on stderr.
    let o = t.run(&["--json", "rm", "no-such-container-xyz"]);
    assert_eq!(o.code, Some(3));
    let err: Value = serde_json::from_str(o.stderr.trim()).unwrap();
    assert_eq!(err["error"]["kind"], "not_found");
    // A usage error is clap's: 2.
    assert_eq!(t.run(&["run", "--rm", "-d", &t.image]).code, Some(2));
}

#[test]
fn events_json_sees_a_task_exit() {
    let t = setup();
    let mut child = t
        .command(&["--json", "events"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = line_reader(&mut child);
    let mut seen = None;
    // The subscription starts a moment after the spawn: a container that ends before it
    // is missed, so run another, a few times at most.
    for _ in 0..5 {
        let name = unique("ev");
        let o = t.run(&["run", "--rm", "--name", &name, &t.image, "sh", "-c", "exit 5"]);
        assert_eq!(o.code, Some(5), "{}", o.stderr);
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Ok(line) = lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            let ev: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
            for k in ["time", "namespace", "topic", "kind", "container_id", "exec_id", "pid", "exit_code", "image"] {
                assert!(ev.get(k).is_some(), "{k} missing in {ev}");
            }
            if ev["kind"] == "task-exit" && ev["container_id"] == name.as_str() {
                seen = Some(ev);
                break;
            }
        }
        if seen.is_some() {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("berth events ended early ({status}): {err}");
        }
    }
    let ev = seen.expect("no task-exit event for the container");
    assert_eq!(ev["exit_code"], 5);
    assert_eq!(ev["topic"], "/tasks/exit");
    // Ctrl-C ends it with 0.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("berth events did not end on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn pull_json_from_the_harness_registry() {
    let t = setup();
    let reference = Harness::from_env()
        .registry_image
        .clone()
        .expect("BERTH_TEST_REGISTRY_IMAGE is not set: run through tests/harness/with-daemons.sh");
    let o = t.ok(&["--json", "pull", "--plain-http", &reference]);
    let lines = o.lines();
    let (summary, progress) = lines.split_last().expect("no output");
    assert!(!progress.is_empty(), "no progress lines: {}", o.stdout);
    for p in progress {
        assert!(p["digest"].as_str().unwrap().starts_with("sha256:"), "{p}");
        for k in ["status", "offset", "total"] {
            assert!(p.get(k).is_some(), "{k} missing in {p}");
        }
    }
    assert!(summary["id"].as_str().unwrap().starts_with("sha256:"), "{summary}");
    assert!(summary["repo_tags"].as_array().unwrap().iter().any(|n| n == reference.as_str()), "{summary}");
    assert!(t.ok(&["--json", "images"]).lines().iter().any(|i| i["repo_tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n == reference.as_str())));
    // Not a terminal, no --json: plain lines, then the image's row.
    let o = t.ok(&["pull", "--plain-http", &reference]);
    assert!(o.stdout.lines().any(|l| l.starts_with("NAME")), "{}", o.stdout);
    assert!(o.stdout.contains(&reference), "{}", o.stdout);
    assert!(!o.stdout.contains('\x1b'), "no terminal control codes when stdout is not a terminal");
    t.ok(&["rmi", &reference]);
}

#[test]
fn tag_and_rmi() {
    let t = setup();
    let target = format!("example.com/{}:1", unique("tag"));
    let o = t.ok(&["--json", "tag", &t.image, &target]);
    assert_eq!(o.json()["target"], target.as_str());
    assert!(t.image_names().contains(&target));
    assert_eq!(t.ok(&["rmi", &target]).stdout, format!("{target}\n"));
    assert!(!t.image_names().contains(&target));
    assert!(t.image_names().contains(&t.image), "the other name is untouched");
    t.fails(&["rmi", &target], 3, "not_found");
}

#[test]
fn export_then_import_round_trip() {
    let t = setup();
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("out.tar");
    let name = format!("example.com/{}:1", unique("rt"));
    t.ok(&["tag", &t.image, &name]);
    t.ok(&["export", "-o", tar.to_str().unwrap(), &name]);
    let bytes = std::fs::read(&tar).unwrap();
    assert!(bytes.len() > 100_000 && bytes.windows(10).any(|w| w == b"oci-layout"), "an oci-archive");
    t.ok(&["rmi", &name]);
    assert!(!t.image_names().contains(&name));
    let imported = t.ok(&["--json", "import", tar.to_str().unwrap()]).lines();
    assert!(
        imported.iter().any(|i| i["repo_tags"].as_array().unwrap().iter().any(|n| n == name.as_str())),
        "{imported:?}"
    );
    assert!(t.image_names().contains(&name));
    // The imported image runs.
    let o = t.run(&["run", "--rm", &name, "sh", "-c", "exit 6"]);
    assert_eq!(o.code, Some(6), "{}", o.stderr);
    t.ok(&["rmi", &name]);
}

#[test]
fn snapshots_ls_prepare_mounts_usage_rm() {
    let t = setup();
    let all = t.ok(&["--json", "snapshots", "ls"]).lines();
    let parent =
        all.iter().find(|s| s["kind"] == "committed").unwrap_or_else(|| panic!("no committed snapshot: {all:?}"));
    let parent = parent["key"].as_str().unwrap().to_string();
    let key = unique("snap");
    let mounts = t.ok(&["--json", "snapshots", "prepare", &key, &parent]).lines();
    assert!(!mounts.is_empty());
    assert!(
        mounts.iter().all(|m| m["type"].is_string() && m["source"].is_string() && m["options"].is_array()),
        "{mounts:?}"
    );
    assert_eq!(t.ok(&["--json", "snapshots", "mounts", &key]).lines(), mounts);
    // It outlives containerd's garbage collection, which a deletion sets off (as a
    // snapshot `ctr snapshots prepare` made does: containerd.io/gc.root).
    let gc = format!("example.com/{}:1", unique("gc"));
    t.ok(&["tag", &t.image, &gc]);
    t.ok(&["rmi", &gc]);
    std::thread::sleep(Duration::from_millis(1500));
    let o = t.run(&["--json", "snapshots", "stat", &key]);
    assert_ne!(o.code, Some(3), "containerd's garbage collection removed the prepared snapshot (prepare must label it containerd.io/gc.root): {}", o.stderr);
    let stat = t.ok(&["--json", "snapshots", "stat", &key]).json();
    assert_eq!((stat["kind"].as_str(), stat["parent"].as_str()), (Some("active"), Some(parent.as_str())));
    let usage = t.ok(&["--json", "snapshots", "usage", &key]).json();
    assert!(usage["size"].as_i64().is_some() && usage["inodes"].as_i64().is_some(), "{usage}");
    assert!(t.ok(&["snapshots", "ls"]).stdout.lines().any(|l| l.starts_with(&key)));
    assert_eq!(t.ok(&["snapshots", "rm", &key]).stdout, format!("{key}\n"));
    t.fails(&["snapshots", "stat", &key], 3, "not_found");
}

#[test]
fn docker_only_commands_are_not_supported() {
    let t = setup();
    let name = unique("nosup");
    t.ok(&["run", "-d", "--name", &name, &t.image, "sleep", "300"]);
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("x.tar");
    let tar = tar.to_str().unwrap();
    for args in [
        vec!["logs", &name],
        vec!["logs", "-f", "--tail", "1", &name],
        vec!["stats", "--no-stream", &name],
        vec!["rename", &name, "other"],
        vec!["commit", &name, "example.com/committed:1"],
        vec!["cp", &format!("{name}:/etc/passwd"), tar],
        vec!["container-export", "-o", tar, &name],
        vec!["pods", "ls"],
        vec!["pods", "create", "--name", "p"],
        vec!["push", "--plain-http", "127.0.0.1:1/x:1"],
        vec!["run", "--rm", "--pod", "p", &t.image, "true"],
    ] {
        let o = t.fails(&args, 6, "not_supported");
        assert!(o.stderr.contains("containerd"), "{}", o.stderr);
    }
    // A stream command that fails prints nothing to stdout.
    assert_eq!(t.run(&["logs", &name]).stdout, "");
    assert!(!std::path::Path::new(tar).exists());
    // `run` without -d cannot attach here: it waits, shows nothing, passes the code on.
    let o = t.run(&["run", "--rm", &t.image, "sh", "-c", "echo unseen; exit 4"]);
    assert_eq!((o.code, o.stdout.as_str()), (Some(4), ""), "{}", o.stderr);
    t.ok(&["rm", "-f", &name]);
}

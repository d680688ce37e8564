//! The `berth` command against a real Docker and a real Podman (started by tests/harness):
//! every test runs on both. Run with
//! `bash tests/harness/with-daemons.sh cargo test -p berth-cli --test docker`.
//! Without the harness's variables a backend is skipped, unless CI=true, where that fails.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{line_reader, signal, unique, var, wait_within, T};
use serde_json::Value;

/// The backends the harness started: Docker, then Podman.
fn backends() -> Vec<T> {
    let image = var("BERTH_TEST_IMAGE").unwrap_or_else(|| "example.com/busybox:latest".into());
    let mut all = Vec::new();
    for (name, scheme) in [("BERTH_TEST_DOCKER", "docker"), ("BERTH_TEST_PODMAN", "podman")] {
        match var(name) {
            Some(socket) => all.push(T::new(format!("{scheme}://{socket}"), image.clone())),
            None => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI=true and {name} is not set: run under tests/harness/with-daemons.sh"
                );
                eprintln!("skipped {scheme}: no {name} (run under tests/harness/with-daemons.sh)");
            }
        }
    }
    all
}

fn podman(t: &T) -> bool {
    t.endpoint.starts_with("podman:")
}

/// `tar` lists or extracts (`-xOf`: a member to stdout).
fn tar(args: &[&str]) -> String {
    let o = Command::new("tar").args(args).output().unwrap();
    assert!(o.status.success(), "tar {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn run_shows_the_output_and_passes_the_exit_code_on() {
    for t in backends() {
        let name = unique("run");
        let o = t.run(&["run", "--rm", "--name", &name, &t.image, "sh", "-c", "echo out; echo err >&2; exit 3"]);
        assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (Some(3), "out\n", "err\n"), "{}", t.endpoint);
        assert_eq!(t.status(&name), None, "--rm deleted it");
        // Environment, workdir and user reach the process.
        let o = t.run(&[
            "run",
            "--rm",
            "-e",
            "X=7",
            "-w",
            "/tmp",
            "-u",
            "65534",
            &t.image,
            "sh",
            "-c",
            "echo $(pwd) $(id -u); exit $X",
        ]);
        assert_eq!((o.code, o.stdout.as_str()), (Some(7), "/tmp 65534\n"), "{}: {}", t.endpoint, o.stderr);
        // --json: the output, then the ID and the exit code on a line of their own.
        let name = unique("run");
        let o = t.run(&["--json", "run", "--rm", "--name", &name, &t.image, "sh", "-c", "printf partial; exit 4"]);
        assert_eq!(o.code, Some(4), "{}", o.stderr);
        let (first, last) = o.stdout.trim_end().split_once('\n').unwrap_or_else(|| panic!("{:?}", o.stdout));
        assert_eq!(first, "partial");
        let doc: Value = serde_json::from_str(last).unwrap();
        assert_eq!(doc["exit_code"], 4);
        assert_eq!(doc["id"].as_str().unwrap().len(), 64, "{doc}");
        // -t: one stream, as from a terminal.
        let o = t.run(&["run", "--rm", "-t", &t.image, "sh", "-c", "echo tty; echo err >&2"]);
        assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (Some(0), "tty\r\nerr\r\n", ""), "{}", t.endpoint);
        // -i: our stdin goes to the container.
        let o = t.run_with(&["run", "--rm", "-i", &t.image, "sh", "-c", "read l; echo got $l"], Some(b"line\n"));
        assert_eq!((o.code, o.stdout.as_str()), (Some(0), "got line\n"), "{}: {}", t.endpoint, o.stderr);
        // Its end is EOF.
        let o = t.run_with(&["run", "--rm", "-i", &t.image, "cat"], Some(b"through stdin\n"));
        assert_eq!((o.code, o.stdout.as_str()), (Some(0), "through stdin\n"), "{}: {}", t.endpoint, o.stderr);
        // -d prints the ID and leaves it running; ps shows it with its name.
        let name = unique("run");
        let o = t.ok(&["run", "-d", "--name", &name, "--label", "berth.test=cli", &t.image, "sleep", "300"]);
        let id = o.stdout.trim().to_string();
        assert_eq!(id.len(), 64, "{}", o.stdout);
        let row = t.row(&name).unwrap_or_else(|| panic!("{name} not listed"));
        for k in ["id", "names", "image", "image_id", "labels", "state", "created", "pod"] {
            assert!(row.get(k).is_some(), "{k} missing in {row}");
        }
        assert_eq!((row["id"].as_str(), row["names"][0].as_str()), (Some(id.as_str()), Some(name.as_str())));
        assert_eq!(
            (row["state"]["status"].as_str(), row["labels"]["berth.test"].as_str()),
            (Some("running"), Some("cli"))
        );
        let filtered = t.ok(&["--json", "ps", "--filter", "label=berth.test=cli"]).lines();
        assert!(filtered.iter().any(|c| c["id"] == id.as_str()), "{filtered:?}");
        let human = t.ok(&["ps"]).stdout;
        assert!(human.starts_with("ID") && human.contains("NAMES"), "{human}");
        assert!(human.lines().any(|l| l.starts_with(&id) && l.ends_with(&name)), "{human}");
        t.ok(&["rm", "-f", &name]);
        assert_eq!(t.status(&name), None);
    }
}

#[test]
fn run_stops_the_container_on_ctrl_c() {
    for t in backends() {
        let name = unique("sig");
        let script = "trap 'echo got-term; exit 42' TERM; echo ready; while true; do sleep 0.1; done";
        let mut child = t
            .command(&["run", "--rm", "--name", &name, &t.image, "sh", "-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = line_reader(&mut child);
        assert_eq!(lines.recv_timeout(Duration::from_secs(30)).as_deref(), Ok("ready"), "{}", t.endpoint);
        signal(&child, libc::SIGINT);
        assert_eq!(lines.recv_timeout(Duration::from_secs(30)).as_deref(), Ok("got-term"), "{}", t.endpoint);
        let status = wait_within(&mut child, Duration::from_secs(30)).expect("run did not end after SIGINT");
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        assert_eq!(status.code(), Some(42), "{}: {err}", t.endpoint);
        assert!(err.contains("stopping container"), "{err}");
        assert_eq!(t.status(&name), None, "--rm deleted it");
    }
}

#[test]
fn exec_rename_inspect() {
    for t in backends() {
        let name = unique("exec");
        t.ok(&["run", "-d", "--name", &name, &t.image, "sleep", "300"]);
        let o = t.run_with(&["exec", "-i", &name, "cat"], Some(b"through stdin\n"));
        assert_eq!((o.code, o.stdout.as_str()), (Some(0), "through stdin\n"), "{}: {}", t.endpoint, o.stderr);
        let o = t.run(&["exec", "-e", "W=world", &name, "sh", "-c", "echo hello $W; echo to-stderr >&2; exit 5"]);
        assert_eq!((o.code, o.stdout.as_str(), o.stderr.as_str()), (Some(5), "hello world\n", "to-stderr\n"));
        t.fails(&["exec", "no-such-container-xyz", "true"], 3, "not_found");

        let renamed = unique("renamed");
        assert_eq!(t.ok(&["rename", &name, &renamed]).stdout, "");
        assert_eq!(t.status(&name), None);
        assert_eq!(t.status(&renamed).as_deref(), Some("running"));
        let doc = t.ok(&["container-inspect", &renamed]).json();
        assert_eq!(doc["names"][0], renamed.as_str());
        assert!(doc["native"].is_object(), "the daemon's own document");
        let again = unique("renamed");
        let o = t.ok(&["--json", "rename", &renamed, &again]).json();
        assert_eq!((o["id"].as_str(), o["name"].as_str()), (doc["id"].as_str(), Some(again.as_str())));
        // A name in use: already_exists, as for `create --name`.
        let other = unique("other");
        t.ok(&["create", "--name", &other, &t.image, "true"]);
        t.fails(&["rename", &again, &other], 12, "already_exists");
        t.ok(&["rm", "-f", &again, &other]);
    }
}

#[test]
fn logs_split_the_streams() {
    for t in backends() {
        let name = unique("logs");
        t.ok(&[
            "run",
            "-d",
            "--name",
            &name,
            &t.image,
            "sh",
            "-c",
            "echo out1; echo err1 >&2; sleep 1; echo out2; sleep 300",
        ]);
        let deadline = Instant::now() + Duration::from_secs(20);
        let o = loop {
            let o = t.ok(&["logs", &name]);
            if o.stdout.contains("out2") || Instant::now() > deadline {
                break o;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert_eq!((o.stdout.as_str(), o.stderr.as_str()), ("out1\nout2\n", "err1\n"), "{}", t.endpoint);
        // (The streams are copied apart: only a pause orders lines across them.)
        assert_eq!(t.ok(&["logs", "--tail", "1", &name]).stdout, "out2\n", "{}", t.endpoint);
        let stamped = t.ok(&["logs", "-t", "-n", "1", &name]).stdout;
        let (time, line) = stamped.trim_end().split_once(' ').unwrap_or_else(|| panic!("{stamped:?}"));
        assert!(time.len() >= 20 && time.as_bytes()[10] == b'T' && time.ends_with('Z'), "{stamped:?}");
        assert_eq!(line, "out2");
        // The time bounds: nothing after tomorrow, nothing before an hour ago... ago.
        assert_eq!(t.ok(&["logs", "--since", "2099-01-01T00:00:00Z", &name]).stdout, "");
        assert_eq!(t.ok(&["logs", "--until", "1h", &name]).stdout, "");
        assert_eq!(t.ok(&["logs", "--since", "1h", &name]).stdout, "out1\nout2\n");
        t.fails(&["logs", "--since", "yesterday", &name], 4, "invalid_argument");
        // --json: one object per chunk, the streams named.
        let chunks = t.ok(&["--json", "logs", &name]).lines();
        assert!(chunks.iter().any(|c| c["stream"] == "stderr" && c["data"] == "err1\n"), "{chunks:?}");
        assert!(chunks.iter().any(|c| c["stream"] == "stdout" && c["data"] == "out1\n"), "{chunks:?}");
        t.fails(&["logs", "no-such-container-xyz"], 3, "not_found");
        t.ok(&["rm", "-f", &name]);

        // -f follows until the container stops.
        let name = unique("logs");
        t.ok(&["run", "-d", "--name", &name, &t.image, "sh", "-c", "echo a; sleep 2; echo b"]);
        let o = t.ok(&["logs", "-f", &name]);
        assert_eq!(o.stdout, "a\nb\n", "{}", t.endpoint);
        t.ok(&["rm", &name]);
    }
}

#[test]
fn stats_once_and_streaming() {
    for t in backends() {
        let name = unique("stats");
        t.ok(&["run", "-d", "--name", &name, &t.image, "sleep", "300"]);
        let human = t.ok(&["stats", "--no-stream", &name]).stdout;
        let header = human.lines().next().unwrap();
        for col in ["ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"] {
            assert!(header.contains(col), "{col} missing: {human}");
        }
        assert!(human.lines().nth(1).unwrap().contains(&name), "{human}");
        let rows = t.ok(&["--json", "stats", "--no-stream", &name]).lines();
        assert_eq!(rows.len(), 1, "{rows:?}");
        let r = &rows[0];
        for k in [
            "id",
            "name",
            "read",
            "cpu_total_ns",
            "system_cpu_ns",
            "online_cpus",
            "cpu_percent",
            "memory_usage",
            "memory_limit",
            "pids",
            "network_rx_bytes",
            "network_tx_bytes",
            "block_read_bytes",
            "block_write_bytes",
        ] {
            assert!(r.get(k).is_some(), "{k} missing in {r}");
        }
        assert_eq!(r["name"], name.as_str());
        assert!(r["memory_usage"].as_u64().unwrap() > 0 && r["pids"].as_u64().unwrap() >= 1, "{r}");
        // One failure among several targets: reported, the others shown.
        let o = t.run(&["stats", "--no-stream", "no-such-container-xyz", &name]);
        assert_eq!(o.code, Some(3), "{}", o.stderr);
        assert!(o.stdout.contains(&name), "{}", o.stdout);

        // Streaming: samples as they come, until Ctrl-C (exit 0).
        let mut child = t
            .command(&["--json", "stats", &name])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = line_reader(&mut child);
        let first = lines.recv_timeout(Duration::from_secs(30)).expect("no sample within 30 s");
        let sample: Value = serde_json::from_str(&first).unwrap();
        assert_eq!(sample["name"], name.as_str());
        signal(&child, libc::SIGINT);
        let status = wait_within(&mut child, Duration::from_secs(10)).expect("stats did not end on SIGINT");
        assert_eq!(status.code(), Some(0));
        t.ok(&["rm", "-f", &name]);
    }
}

#[test]
fn commit_makes_a_runnable_image() {
    for t in backends() {
        let name = unique("commit");
        t.ok(&["run", "-d", "--name", &name, &t.image, "sh", "-c", "echo committed > /hello; sleep 300"]);
        t.wait_for_file(&name, "/hello");
        let reference = format!("example.com/{}:1", unique("committed"));
        let o = t.ok(&[
            "commit",
            "-m",
            "a message",
            "--author",
            "berth tests",
            "--change",
            "CMD [\"cat\", \"/hello\"]",
            "-c",
            "ENV COMMITTED=yes",
            &name,
            &reference,
        ]);
        let id = o.stdout.trim().to_string();
        assert!(id.starts_with("sha256:") && id.len() == 71, "{}", o.stdout);
        assert!(t.image_names().contains(&reference));
        let doc = t.ok(&["--json", "inspect", &reference]).json();
        assert_eq!(doc["id"], id.as_str());
        assert_eq!(doc["config"]["author"], "berth tests", "{}", doc["config"]);
        assert_eq!(doc["config"]["config"]["Cmd"], serde_json::json!(["cat", "/hello"]));
        assert!(doc["config"]["config"]["Env"].as_array().unwrap().iter().any(|e| e == "COMMITTED=yes"));
        let o = t.run(&["run", "--rm", &reference]);
        assert_eq!((o.code, o.stdout.as_str()), (Some(0), "committed\n"), "{}: {}", t.endpoint, o.stderr);
        // Untagged, --no-pause: the ID only.
        let doc = t.ok(&["--json", "commit", "--no-pause", &name]).json();
        let untagged = doc["id"].as_str().unwrap().to_string();
        assert!(untagged.starts_with("sha256:") && doc["reference"].is_null(), "{doc}");
        t.ok(&["rm", "-f", &name]);
        t.ok(&["rmi", &reference]);
        t.ok(&["rmi", &untagged]);
        t.fails(&["commit", "no-such-container-xyz"], 3, "not_found");
    }
}

#[test]
fn save_then_load_round_trip() {
    for t in backends() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("images.tar");
        let file = file.to_str().unwrap();
        let name = format!("example.com/{}:1", unique("saved"));
        t.ok(&["tag", &t.image, &name]);
        let o = t.ok(&["--json", "save", "-o", file, &name]).json();
        assert_eq!(o["images"][0], name.as_str());
        // The daemon's own format: a docker-archive.
        let members = tar(&["-tf", file]);
        assert!(members.lines().any(|l| l == "manifest.json"), "{members}");
        let manifest: Value = serde_json::from_str(&tar(&["-xOf", file, "manifest.json"])).unwrap();
        let tags = &manifest[0]["RepoTags"];
        assert!(tags.as_array().unwrap().iter().any(|n| n == name.as_str()), "{manifest}");
        t.ok(&["rmi", &name]);
        assert!(!t.image_names().contains(&name));
        let loaded = t.ok(&["--json", "load", "-i", file]).lines();
        assert!(
            loaded.iter().any(|i| i["repo_tags"].as_array().unwrap().iter().any(|n| n == name.as_str())),
            "{loaded:?}"
        );
        assert!(t.image_names().contains(&name));
        // `import FILE` is the same command.
        let human = t.ok(&["import", file]).stdout;
        assert!(human.starts_with("NAME") && human.contains(&name), "{human}");
        let o = t.run(&["run", "--rm", &name, "sh", "-c", "exit 6"]);
        assert_eq!(o.code, Some(6), "{}", o.stderr);
        t.ok(&["rmi", &name]);
        t.fails(&["load", "-i", "/no/such/file.tar"], 3, "not_found");
    }
}

#[test]
fn cp_and_container_export_write_tars() {
    for t in backends() {
        let name = unique("cp");
        t.ok(&["run", "-d", "--name", &name, &t.image, "sh", "-c", "mkdir /data; echo hi > /data/x.txt; sleep 300"]);
        t.wait_for_file(&name, "/data/x.txt");
        let dir = tempfile::tempdir().unwrap();
        let one = dir.path().join("one.tar");
        let one = one.to_str().unwrap();
        assert_eq!(t.ok(&["cp", &format!("{name}:/data/x.txt"), one]).stdout, "");
        assert_eq!(tar(&["-xOf", one, "x.txt"]), "hi\n");
        let tree = dir.path().join("tree.tar");
        let tree = tree.to_str().unwrap();
        let doc = t.ok(&["--json", "cp", &format!("{name}:/data"), tree]).json();
        assert_eq!((doc["path"].as_str(), doc["output"].as_str()), (Some("/data"), Some(tree)));
        assert!(tar(&["-tf", tree]).lines().any(|l| l == "data/x.txt"));
        t.fails(&["cp", &format!("{name}:/no/such/path"), one], 3, "not_found");
        t.fails(&["cp", &name, one], 4, "invalid_argument");
        t.fails(&["cp", &format!("{name}:/data"), dir.path().to_str().unwrap()], 4, "invalid_argument");

        let all = dir.path().join("all.tar");
        let all = all.to_str().unwrap();
        assert_eq!(t.ok(&["container-export", "-o", all, &name]).stdout, "");
        let members = tar(&["-tf", all]);
        for m in ["bin/busybox", "data/x.txt", "etc/passwd"] {
            assert!(members.lines().any(|l| l.trim_start_matches("./") == m), "{m} missing");
        }
        assert_eq!(tar(&["-xOf", all, "data/x.txt"]), "hi\n");
        t.ok(&["rm", "-f", &name]);
    }
}

#[test]
fn push_to_the_harness_registries() {
    for t in backends() {
        let (Some(registry), Some(auth)) = (var("BERTH_TEST_REGISTRY"), var("BERTH_TEST_REGISTRY_AUTH")) else {
            panic!("BERTH_TEST_REGISTRY(_AUTH) is not set: run through tests/harness/with-daemons.sh");
        };
        let scheme = t.endpoint.split(':').next().unwrap().to_string();
        let reference = format!("{registry}/berth/{}:1", unique(&format!("pushed-{scheme}")));
        t.ok(&["tag", &t.image, &reference]);
        let lines = t.ok(&["--json", "push", "--plain-http", &reference]).lines();
        let (last, progress) = lines.split_last().unwrap();
        assert_eq!(last["pushed"], reference.as_str());
        for p in progress {
            for k in ["digest", "status", "offset", "total"] {
                assert!(p.get(k).is_some(), "{k} missing in {p}");
            }
        }
        // Not a terminal: plain lines, then the reference; no control codes.
        let o = t.ok(&["push", "--plain-http", &reference]);
        assert!(o.stdout.ends_with(&format!("{reference}\n")) && !o.stdout.contains('\x1b'), "{}", o.stdout);
        // It is there: pull it back under its name.
        t.ok(&["rmi", &reference]);
        t.ok(&["pull", "--plain-http", &reference]);
        assert!(t.image_names().contains(&reference));
        t.ok(&["rmi", &reference]);

        // Basic auth, the password from stdin.
        let reference = format!("{auth}/berth/{}:1", unique(&format!("pushed-{scheme}")));
        t.ok(&["tag", &t.image, &reference]);
        let user = var("BERTH_TEST_REGISTRY_USER").unwrap_or_else(|| "berth".into());
        let password = var("BERTH_TEST_REGISTRY_PASSWORD").unwrap_or_else(|| "berth-test".into());
        let args = ["push", "--plain-http", "--user", user.as_str(), "--password-stdin", reference.as_str()];
        let o = t.run_with(&args, Some(format!("{password}\n").as_bytes()));
        assert_eq!(o.code, Some(0), "{}: {}", t.endpoint, o.stderr);
        let o = t.run_with(&args, Some(b"wrong\n"));
        assert!(o.code != Some(0) && o.stderr.starts_with("berth: "), "{}: {}", t.endpoint, o.stderr);
        if !podman(&t) {
            // (Podman's refusal comes back as a 400 that berth-core reads as invalid_argument.)
            assert_eq!(o.code, Some(8), "{}", o.stderr);
        }
        t.ok(&["rmi", &reference]);
        assert_eq!(t.run(&["push", "--password-stdin", &reference]).code, Some(2), "--password-stdin needs --user");
    }
}

#[test]
fn pods_on_podman_not_supported_on_docker() {
    for t in backends() {
        if !podman(&t) {
            t.fails(&["pods", "ls"], 6, "not_supported");
            t.fails(&["pods", "create", "--name", "p"], 6, "not_supported");
            t.fails(&["run", "--rm", "--pod", "p", &t.image, "true"], 6, "not_supported");
            continue;
        }
        let pod = unique("pod");
        let o = t.ok(&["pods", "create", "--name", &pod, "--label", "berth.test=pod"]);
        let pod_id = o.stdout.trim().to_string();
        assert_eq!(pod_id.len(), 64, "{}", o.stdout);
        let name = unique("inpod");
        let id =
            t.ok(&["run", "-d", "--pod", &pod, "--name", &name, &t.image, "sleep", "300"]).stdout.trim().to_string();
        assert_eq!(t.row(&name).unwrap()["pod"], pod_id.as_str());
        let pods = t.ok(&["--json", "pods", "ls"]).lines();
        let p = pods.iter().find(|p| p["name"] == pod.as_str()).unwrap_or_else(|| panic!("{pods:?}"));
        for k in ["id", "name", "state", "containers", "labels", "created"] {
            assert!(p.get(k).is_some(), "{k} missing in {p}");
        }
        assert_eq!((p["id"].as_str(), p["labels"]["berth.test"].as_str()), (Some(pod_id.as_str()), Some("pod")));
        assert!(p["containers"].as_array().unwrap().iter().any(|c| c == id.as_str()), "{p}");
        let human = t.ok(&["pods", "ls"]).stdout;
        assert!(
            human.starts_with("ID") && human.lines().any(|l| l.starts_with(&pod_id) && l.contains(&pod)),
            "{human}"
        );
        let state = |t: &T| t.ok(&["pods", "inspect", &pod]).json()["state"].as_str().unwrap().to_string();
        assert_eq!(state(&t), "Running");
        assert_eq!(t.ok(&["pods", "pause", &pod]).stdout, format!("{pod_id}\n"));
        assert_eq!(state(&t), "Paused");
        assert_eq!(t.status(&name).as_deref(), Some("paused"));
        t.ok(&["pod", "unpause", &pod]);
        assert_eq!(state(&t), "Running");
        t.ok(&["pods", "stop", "-t", "1", &pod]);
        assert_eq!(t.status(&name).as_deref(), Some("stopped"));
        t.ok(&["pods", "start", &pod]);
        assert_eq!(t.status(&name).as_deref(), Some("running"));
        t.fails(&["pods", "rm", &pod], 11, "conflict");
        t.fails(&["pods", "kill", "-s", "NOSUCHSIG", &pod], 4, "invalid_argument");
        t.ok(&["--json", "pods", "kill", "-s", "KILL", &pod]);
        let o = t.ok(&["--json", "pods", "rm", "-f", &pod]);
        assert_eq!(o.json()["id"], pod_id.as_str());
        assert!(!t.ok(&["--json", "pods", "ls"]).lines().iter().any(|p| p["id"] == pod_id.as_str()));
        assert_eq!(t.status(&name), None, "the pod's containers went with it");
        t.fails(&["pods", "inspect", &pod], 3, "not_found");
        // Several targets: each failure reported, the others done.
        let a = unique("pod");
        t.ok(&["pods", "create", "--name", &a]);
        let o = t.run(&["pods", "rm", "no-such-pod-xyz", &a]);
        assert_eq!(o.code, Some(3), "{}", o.stderr);
        assert_eq!(o.stdout.lines().count(), 1);
    }
}

//! The daemons of tests/harness, as tests see them: the env file that
//! `tests/harness/up.sh` writes (exported by `tests/harness/with-daemons.sh`).

use std::sync::Arc;

use berth_core::{need, Runtime};

/// The daemon backends the harness starts; the behaviour suite runs on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Containerd,
    Docker,
    Podman,
}

fn lib_sh_path() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/harness/lib.sh")
}

/// The harness' name of a backend's daemon (lib.sh's KIND).
fn daemon_kind(backend: Backend) -> &'static str {
    match backend {
        Backend::Containerd => "containerd",
        Backend::Docker => "dockerd",
        Backend::Podman => "podman",
    }
}

/// What the harness started.
pub struct Harness {
    pub containerd: String,
    /// dockerd's socket (on the harness' containerd).
    pub docker: Option<String>,
    /// Podman's API service socket.
    pub podman: Option<String>,
    pub namespace: String,
    pub image: String,
    pub runc_root: String,
    pub registry: Option<String>,
    pub registry_image: Option<String>,
    pub registry_auth: Option<String>,
    pub registry_user: Option<String>,
    pub registry_password: Option<String>,
    /// The harness' temp dir (BERTH_HARNESS_DIR), where fault tests mount a small tmpfs.
    pub dir: Option<std::path::PathBuf>,
    rt: tokio::runtime::Runtime,
}

impl Harness {
    /// Reads the harness' environment; a test run without it is a setup error.
    pub fn from_env() -> Harness {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let containerd = var("BERTH_TEST_CONTAINERD").unwrap_or_else(|| {
            panic!("BERTH_TEST_CONTAINERD is not set: run the daemon tests through tests/harness/with-daemons.sh (tests/run-all.sh does)")
        });
        Harness {
            containerd,
            docker: var("BERTH_TEST_DOCKER"),
            podman: var("BERTH_TEST_PODMAN"),
            namespace: var("BERTH_TEST_NAMESPACE").unwrap_or_else(|| "default".into()),
            image: var("BERTH_TEST_IMAGE").unwrap_or_else(|| "example.com/busybox:latest".into()),
            runc_root: var("BERTH_TEST_RUNC_ROOT").unwrap_or_default(),
            registry: var("BERTH_TEST_REGISTRY"),
            registry_image: var("BERTH_TEST_REGISTRY_IMAGE"),
            registry_auth: var("BERTH_TEST_REGISTRY_AUTH"),
            registry_user: var("BERTH_TEST_REGISTRY_USER"),
            registry_password: var("BERTH_TEST_REGISTRY_PASSWORD"),
            dir: var("BERTH_HARNESS_DIR").map(std::path::PathBuf::from),
            rt: tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap(),
        }
    }

    /// The endpoint of the harness' containerd, with its own runc root.
    pub fn containerd_endpoint(&self) -> String {
        let mut e = format!("containerd://{}?namespace={}", self.containerd, self.namespace);
        if !self.runc_root.is_empty() {
            e.push_str(&format!("&runc_root={}", self.runc_root));
        }
        e
    }

    /// The endpoint of a backend's daemon. Under CI=true a daemon the harness did not
    /// start is a failure.
    pub fn endpoint(&self, backend: Backend) -> String {
        let need = |v: &Option<String>, name: &str| {
            v.clone().unwrap_or_else(|| panic!("{name} is not set: run through tests/harness/with-daemons.sh"))
        };
        match backend {
            Backend::Containerd => self.containerd_endpoint(),
            Backend::Docker => format!("docker://{}", need(&self.docker, "BERTH_TEST_DOCKER")),
            Backend::Podman => format!("podman://{}", need(&self.podman, "BERTH_TEST_PODMAN")),
        }
    }

    /// A runtime on a backend's daemon.
    pub fn connect(&self, backend: Backend) -> Arc<dyn Runtime> {
        self.block_on(berth_core::connect(Some(&self.endpoint(backend)), Default::default())).unwrap()
    }

    /// The directory a backend's daemon was started in (its socket's directory).
    pub fn daemon_dir(&self, backend: Backend) -> std::path::PathBuf {
        let sock = match backend {
            Backend::Containerd => self.containerd.clone(),
            Backend::Docker => self.docker.clone().expect("BERTH_TEST_DOCKER"),
            Backend::Podman => self.podman.clone().expect("BERTH_TEST_PODMAN"),
        };
        std::path::Path::new(&sock).parent().expect("socket in a dir").to_path_buf()
    }

    /// Restarts a backend's daemon (SIGTERM, then start again), for fault tests.
    pub fn restart(&self, backend: Backend) {
        let function = match backend {
            Backend::Containerd => "harness_restart_containerd",
            Backend::Docker => "harness_restart_dockerd",
            Backend::Podman => "harness_restart_podman",
        };
        self.lib_sh(function, &[&self.daemon_dir(backend).display().to_string()]);
    }

    /// SIGKILLs a backend's daemon, as a crash would (what it started lives on).
    pub fn kill(&self, backend: Backend) {
        self.lib_sh("harness_kill_daemon", &[daemon_kind(backend), &self.daemon_dir(backend).display().to_string()]);
    }

    /// Starts a killed daemon again with its first config, and waits until it answers.
    pub fn relaunch(&self, backend: Backend) {
        if let Err(e) = self.try_relaunch(backend) {
            panic!("{e}");
        }
    }

    /// [`Harness::relaunch`] that reports a failure instead of panicking (for guards
    /// that relaunch from `drop`).
    pub fn try_relaunch(&self, backend: Backend) -> Result<(), String> {
        self.try_lib_sh(
            "harness_relaunch_daemon",
            &[daemon_kind(backend), &self.daemon_dir(backend).display().to_string()],
        )
    }

    /// True when the daemon of `backend` runs (its harness PID file names a live process).
    pub fn is_running(&self, backend: Backend) -> bool {
        let dir = self.daemon_dir(backend).display().to_string();
        self.try_lib_sh("_harness_daemon_pid", &[daemon_kind(backend), &dir]).is_ok()
    }

    /// A fresh directory in the harness' dir with a tmpfs of `size` (mount's `size=`,
    /// such as `1m`) mounted on it; the teardown unmounts it.
    pub fn tmpfs(&self, size: &str) -> std::path::PathBuf {
        let base = self.dir.clone().expect("BERTH_HARNESS_DIR is not set: run through tests/harness/with-daemons.sh");
        let dir = base.join(self.unique("tmpfs"));
        self.lib_sh("harness_tmpfs", &[&dir.display().to_string(), size]);
        dir
    }

    /// Unmounts a tmpfs made by [`Harness::tmpfs`].
    pub fn untmpfs(&self, dir: &std::path::Path) {
        self.lib_sh("harness_untmpfs", &[&dir.display().to_string()]);
    }

    /// A command that runs `program` as nobody:nogroup, without supplementary groups or
    /// capabilities (`harness_unprivileged`).
    pub fn unprivileged(&self, program: &std::path::Path) -> std::process::Command {
        let mut c = std::process::Command::new("bash");
        c.arg("-c")
            .arg(format!("source {}; harness_unprivileged \"$@\"", lib_sh_path()))
            .arg("harness_unprivileged")
            .arg(program);
        c
    }

    /// Pushes an oci-archive to a harness registry as `reference` (`harness_push_image`:
    /// skopeo over plain HTTP).
    pub fn push_image(&self, oci_archive: &std::path::Path, reference: &str) {
        self.lib_sh("harness_push_image", &[&oci_archive.display().to_string(), reference]);
    }

    /// Calls a function of tests/harness/lib.sh; its failure fails the test.
    fn lib_sh(&self, function: &str, args: &[&str]) {
        if let Err(e) = self.try_lib_sh(function, args) {
            panic!("{e}");
        }
    }

    fn try_lib_sh(&self, function: &str, args: &[&str]) -> Result<(), String> {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("set -e; source {}; {function} \"$@\"", lib_sh_path()))
            .arg(function)
            .args(args)
            .output()
            .map_err(|e| format!("bash: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("{function} {args:?}: {}", String::from_utf8_lossy(&out.stderr)))
        }
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// A name no other test uses.
    pub fn unique(&self, prefix: &str) -> String {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        format!("{prefix}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
    }

    /// Nothing of container `id` is left: not listed, and on containerd no task and no
    /// snapshot either.
    pub fn assert_container_gone(&self, rt: &Arc<dyn Runtime>, id: &str) {
        let left = self.block_on(need(rt.containers(), rt.kind(), "listing containers").unwrap().list(&[])).unwrap();
        assert!(!left.iter().any(|c| c.id == id || c.names.iter().any(|n| n == id)), "container {id} is still listed");
        if rt.kind() != berth_core::model::RuntimeKind::Containerd {
            return;
        }
        let snapshots = need(rt.snapshots(), rt.kind(), "snapshots").unwrap().snapshotter(None).unwrap();
        let err = self.block_on(snapshots.stat(id)).unwrap_err();
        assert_eq!(err.kind(), berth_core::ErrorKind::NotFound, "snapshot {id} is left: {err}");
        let ctr = std::process::Command::new("ctr")
            .args(["--address", &self.containerd, "-n", &self.namespace, "tasks", "ls", "-q"])
            .output()
            .expect("ctr");
        assert!(!String::from_utf8_lossy(&ctr.stdout).lines().any(|l| l.trim() == id), "task {id} is left");
    }

    /// The leases of the namespace (for checking that nothing is left behind).
    pub fn leases(&self) -> Vec<String> {
        let out = std::process::Command::new("ctr")
            .args(["--address", &self.containerd, "-n", &self.namespace, "leases", "ls", "-q"])
            .output()
            .expect("ctr");
        String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
    }
}

//! The daemons of tests/harness, as tests see them: the env file that
//! `tests/harness/up.sh` writes (exported by `tests/harness/with-daemons.sh`).

use std::sync::Arc;

use berth_core::Runtime;

/// The daemon backends the harness starts; the behaviour suite runs on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Containerd,
    Docker,
    Podman,
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

    /// Restarts a backend's daemon (SIGTERM, then start again), for fault tests.
    pub fn restart(&self, backend: Backend) {
        let (sock, function) = match backend {
            Backend::Containerd => (self.containerd.clone(), "harness_restart_containerd"),
            Backend::Docker => (self.docker.clone().expect("BERTH_TEST_DOCKER"), "harness_restart_dockerd"),
            Backend::Podman => (self.podman.clone().expect("BERTH_TEST_PODMAN"), "harness_restart_podman"),
        };
        let dir = std::path::Path::new(&sock).parent().expect("socket in a dir").to_path_buf();
        let harness = concat!(env!("CARGO_MANIFEST_DIR"), "/harness/lib.sh");
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("set -e; source {harness}; {function} {}", dir.display()))
            .output()
            .expect("bash");
        assert!(out.status.success(), "{function}: {}", String::from_utf8_lossy(&out.stderr));
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
        let left = self.block_on(rt.list_containers(&[])).unwrap();
        assert!(!left.iter().any(|c| c.id == id || c.names.iter().any(|n| n == id)), "container {id} is still listed");
        if rt.kind() != berth_core::model::RuntimeKind::Containerd {
            return;
        }
        let snapshots = rt.snapshots(None).unwrap();
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

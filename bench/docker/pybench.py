"""The Python side of bench/docker/docker-bench.sh: berth through its C ABI (ctypes on
libberth.so) against docker-py, in one warm Python process.

  python3 pybench.py SOCK LIBBERTH list LABEL COUNT RUNS
      List the containers labelled LABEL (key=value) with a full inspect of each:
      - berth: berth_runtime_list_containers, then berth_runtime_open_container +
        berth_container_inspect (+ json.loads) of each;
      - docker-py: client.containers.list(all=True, filters={"label": LABEL}), which
        inspects each;
      - references: the same requests (GET /containers/json, then GET /containers/ID/json
        of each, + json.loads) with http.client on one keep-alive connection (the floor
        for a client that sends one request at a time), and with the inspects spread
        over 4 threads, each with its own keep-alive connection.
      Each runs once untimed (warm-up, and a check that all list the same COUNT
      containers), then RUNS timed runs, interleaved. Prints "name median_ms" lines,
      with the parts of berth's time: "berth_list_only_ms" (the list call),
      "berth_open_ms" and "berth_inspect_ms" (per container).
  python3 pybench.py SOCK LIBBERTH serve-exec CONTAINER
      For each line "exec" on stdin, runs `true` in the running CONTAINER with
      berth_container_exec_output, then with docker-py's container.exec_run(["true"]),
      and answers "berth-py MS docker-py MS".
"""

import concurrent.futures
import ctypes
import http.client
import json
import socket
import statistics
import sys
import threading
import time
import urllib.parse

import docker


class Handle(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint64)]


class Bytes(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class ExecOutput(ctypes.Structure):
    _fields_ = [("exit_code", ctypes.c_int32), ("stdout_data", Bytes), ("stderr_data", Bytes)]


class Berth:
    """The few libberth calls the benchmark needs."""

    def __init__(self, path):
        lib = ctypes.CDLL(path)
        P, S, H = ctypes.POINTER, ctypes.c_char_p, Handle
        sigs = {
            "berth_runtime_open": [P(H), S, S],
            "berth_runtime_list_containers": [P(ctypes.c_void_p), H, S],
            "berth_runtime_open_container": [P(H), H, S],
            "berth_container_inspect": [P(ctypes.c_void_p), H],
            "berth_container_close": [H],
            "berth_container_exec_output": [P(ExecOutput), H, S, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int64],
        }
        for name, args in sigs.items():
            f = getattr(lib, name)
            f.argtypes, f.restype = args, ctypes.c_int32
        lib.berth_string_free.argtypes, lib.berth_string_free.restype = [ctypes.c_void_p], None
        lib.berth_exec_output_free.argtypes, lib.berth_exec_output_free.restype = [ExecOutput], None
        lib.berth_last_error_message.argtypes, lib.berth_last_error_message.restype = [], ctypes.c_char_p
        self.lib = lib

    def check(self, status, what):
        if status != 0:
            raise RuntimeError(f"{what}: status {status}: {self.lib.berth_last_error_message().decode()}")

    def string(self, f, *args):
        out = ctypes.c_void_p()
        self.check(f(ctypes.byref(out), *args), f.__name__)
        try:
            return ctypes.string_at(out.value)
        finally:
            self.lib.berth_string_free(out)

    def open_runtime(self, endpoint):
        rt = Handle()
        self.check(self.lib.berth_runtime_open(ctypes.byref(rt), endpoint.encode(), None), "berth_runtime_open")
        return rt

    def list_containers(self, rt, filters):
        return json.loads(self.string(self.lib.berth_runtime_list_containers, rt, json.dumps(filters).encode()))

    def open_container(self, rt, pattern):
        c = Handle()
        self.check(self.lib.berth_runtime_open_container(ctypes.byref(c), rt, pattern.encode()), "open container")
        return c

    def inspect(self, c):
        return json.loads(self.string(self.lib.berth_container_inspect, c))

    def close(self, c):
        self.check(self.lib.berth_container_close(c), "berth_container_close")

    def exec_output(self, c, args):
        out = ExecOutput()
        options = json.dumps({"args": args}).encode()
        self.check(self.lib.berth_container_exec_output(ctypes.byref(out), c, options, None, 0, -1), "exec")
        code = out.exit_code
        self.lib.berth_exec_output_free(out)
        return code


class RawApi(http.client.HTTPConnection):
    """One keep-alive HTTP connection to the daemon's socket: the floor for any client
    that asks the Engine API one request at a time."""

    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)

    def get_json(self, url):
        self.request("GET", url)
        r = self.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"GET {url}: {r.status} {body[:200]!r}")
        return json.loads(body)


def ms(t0):
    return (time.perf_counter() - t0) * 1000.0


def median(v):
    return statistics.median(v)


def main():
    sock, libpath, job = sys.argv[1], sys.argv[2], sys.argv[3]
    b = Berth(libpath)
    rt = b.open_runtime(f"docker://{sock}")
    client = docker.DockerClient(base_url=f"unix://{sock}", version="auto")
    times = {}

    def record(name, value):
        times.setdefault(name, []).append(value)

    if job == "list":
        label, count, runs = sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
        parts = {"list": 0.0, "open": 0.0, "inspect": 0.0}

        def berth_list():
            t = time.perf_counter()
            listed = b.list_containers(rt, [f"label={label}"])
            parts["list"] = ms(t)
            out = []
            for s in listed:
                t = time.perf_counter()
                c = b.open_container(rt, s["id"])
                parts["open"] += ms(t)
                t = time.perf_counter()
                out.append(b.inspect(c))
                parts["inspect"] += ms(t)
                b.close(c)
            return out

        def dockerpy_list():
            return [c.attrs for c in client.containers.list(all=True, filters={"label": label})]

        raw = RawApi(sock)
        version = client.api.api_version
        query = urllib.parse.urlencode({"all": "1", "filters": json.dumps({"label": [label]})})

        def raw_list():
            listed = raw.get_json(f"/v{version}/containers/json?{query}")
            return [raw.get_json(f"/v{version}/containers/{c['Id']}/json") for c in listed]

        # The same with the inspects spread over 4 threads, each with its own connection.
        pool = concurrent.futures.ThreadPoolExecutor(4)
        local = threading.local()

        def inspect_on_own_connection(cid):
            if not hasattr(local, "conn"):
                local.conn = RawApi(sock)
            return local.conn.get_json(f"/v{version}/containers/{cid}/json")

        def raw4_list():
            listed = raw.get_json(f"/v{version}/containers/json?{query}")
            return list(pool.map(inspect_on_own_connection, [c["Id"] for c in listed]))

        for name, f in (("berth", berth_list), ("docker-py", dockerpy_list), ("raw API", raw_list), ("raw API x4", raw4_list)):
            got = f()  # warm-up, and a check
            if len(got) != count:
                raise SystemExit(f"{name} listed {len(got)} containers with label {label}, expected {count}")
        ids = sorted(i["id"] for i in berth_list())
        if ids != sorted(a["Id"] for a in dockerpy_list()):
            raise SystemExit("berth and docker-py listed different containers")
        for _ in range(runs):
            parts.update(open=0.0, inspect=0.0)
            t = time.perf_counter()
            berth_list()
            record("berth_list_inspect_ms", ms(t))
            record("berth_list_only_ms", parts["list"])
            record("berth_open_ms", parts["open"] / count)
            record("berth_inspect_ms", parts["inspect"] / count)
            t = time.perf_counter()
            dockerpy_list()
            record("dockerpy_list_inspect_ms", ms(t))
            t = time.perf_counter()
            raw_list()
            record("raw_list_inspect_ms", ms(t))
            t = time.perf_counter()
            raw4_list()
            record("raw4_list_inspect_ms", ms(t))
    elif job == "serve-exec":
        target = sys.argv[4]
        c = b.open_container(rt, target)
        container = client.containers.get(target)
        for line in sys.stdin:
            if line.strip() != "exec":
                raise SystemExit(f"unknown command {line.strip()!r} (exec)")
            t = time.perf_counter()
            code = b.exec_output(c, ["true"])
            berth_ms = ms(t)
            if code != 0:
                raise SystemExit(f"berth: exec true exited with {code}")
            t = time.perf_counter()
            r = container.exec_run(["true"])
            dockerpy_ms = ms(t)
            if r.exit_code != 0:
                raise SystemExit(f"docker-py: exec true exited with {r.exit_code}")
            print(f"berth-py {berth_ms:.2f} docker-py {dockerpy_ms:.2f}", flush=True)
        b.close(c)
        return
    else:
        raise SystemExit(f"unknown job {job}")
    for name, v in times.items():
        print(f"{name} {median(v):.2f}")


if __name__ == "__main__":
    main()

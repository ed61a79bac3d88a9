"""The `stowage` command: Helm's post-renderer and its companions.

Exit codes: 0 output written (warnings allowed); 1 rejected by a check;
2 unusable input, config or arguments. On any non-zero exit stdout stays
empty, so Helm aborts and nothing partial is ever applied. Heavy modules are
imported lazily: a pass-through run starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from stowage.engine import Options, Outcome

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2
RENDER_COMMANDS = ("render", "check", "plan", "graph")
COMMANDS = (*RENDER_COMMANDS, "explain", "version", "helm-check", "import")
REPORT_FILE_ENV = "STOWAGE_REPORT_FILE"
WRITE_CHUNK = 1 << 20  # characters per write of the rendered output
# Set by the Helm 4 plugin launcher: Helm drops a post-renderer plugin's stderr,
# so a report worth reading also goes straight to the user's terminal.
REPORT_TTY_ENV = "STOWAGE_REPORT_TTY"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise _ArgumentError(message)


class _ArgumentError(Exception):
    pass


def _render_options(parser: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        type=Path,
        metavar="FILE",
        help="config file (repeatable; later files deep-merge over earlier)",
    )
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="value for ${NAME} in volumes and mounts (repeatable)",
    )
    parser.add_argument("--strict", action="store_true", help="warnings become errors")
    parser.add_argument(
        "--report",
        choices=("text", "json"),
        default="text",
        help="report format on stderr (default text)",
    )
    parser.add_argument(
        "--report-file",
        type=Path,
        metavar="PATH",
        help=f"also write the report here (env {REPORT_FILE_ENV} sets a default)",
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="print the RFC 6902 patch of every changed resource on stderr",
    )
    parser.add_argument("--quiet", action="store_true", help="no report on stderr when all is ok")
    parser.add_argument(
        "--max-input-bytes",
        type=int,
        metavar="N",
        help="refuse input larger than N bytes (default 64 MiB)",
    )
    parser.add_argument(
        "--max-nodes",
        type=int,
        metavar="N",
        help="refuse a document expanding to more than N YAML nodes "
        "(alias bombs; default 2,000,000)",
    )
    parser.add_argument(
        "--format", choices=formats, default=formats[0], help="output format of `plan` / `graph`"
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="`graph`: write the drawing here instead of stdout",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="stowage",
        description="Attach durable storage to rendered "
        "Kubernetes manifests and refuse unsafe storage setups.",
        epilog="With no command, `render` runs (what Helm's --post-renderer does). Exit codes: "
        "0 output written, 1 rejected by a check, 2 unusable input, config or arguments; "
        "stdout is empty unless 0. Docs: docs/README.md",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    helps = {
        "render": "read manifests on stdin, write them with storage attached (the default)",
        "check": "do the same work but write only the report",
        "plan": "print which volumes, mounts, env and node pool each workload gets, and why",
        "graph": "draw the storage map (Mermaid or SVG) with every finding highlighted",
    }
    formats = {"graph": ("mermaid", "svg"), "plan": ("text", "json")}
    for name, text in helps.items():
        _render_options(
            sub.add_parser(name, help=text, description=text), formats.get(name, ("text",))
        )
    explain = sub.add_parser("explain", help="print the documentation of a check")
    explain.add_argument("rule", nargs="?", help="rule ID or name (omit to list all)")
    sub.add_parser("version", help="print the version")
    helm_check = sub.add_parser(
        "helm-check",
        help="run `helm template ARGS` and check the result (the `helm stowage-check` plugin)",
        description="Render with `helm template` (the HELM_BIN Helm sets for plugins, or helm "
        "on PATH) and print stowage's full report. Arguments after `--` go to stowage.",
    )
    helm_check.add_argument(
        "helm_args",
        nargs=argparse.REMAINDER,
        help="helm template arguments [-- stowage check options]",
    )
    _import_parser(sub)
    return parser


def _import_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    text = "turn a Polyaxon, Owl or MLRun storage setup into stowage chart values (YAML)"
    parser = sub.add_parser("import", help=text, description=text)
    parser.add_argument("system", metavar="{polyaxon,owl,mlrun}", help="the system to import")
    parser.add_argument("file", type=Path, help="its values/config file ('-' for stdin)")
    parser.add_argument(
        "--polyaxonfile",
        type=Path,
        metavar="FILE",
        help="polyaxon only: also take environment.data_refs from this polyaxonfile",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list or args_list[0] not in (*COMMANDS, "-h", "--help"):
        args_list.insert(0, "render")
    try:
        args = build_parser().parse_args(args_list)
        return _dispatch(args)
    except _ArgumentError as err:
        print(f"stowage: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("stowage: interrupted", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`stowage ... | head`): nothing to report to, no traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_USAGE
    except Exception as err:  # the last line of defence: never a traceback
        if os.environ.get("STOWAGE_DEBUG"):
            raise
        print(
            f"stowage: internal error: {type(err).__name__}: {err} "
            "(set STOWAGE_DEBUG=1 for details, and please report it)",
            file=sys.stderr,
        )
        return EXIT_USAGE


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "version":
        from stowage import __version__

        print(f"stowage {__version__}")
        return EXIT_OK
    if args.command == "explain":
        return _explain(args.rule)
    if args.command == "helm-check":
        return _helm_check(args.helm_args)
    if args.command == "import":
        from stowage.importers.command import run

        return run(args.system, args.file, args.polyaxonfile, sys.stdout, sys.stderr)
    return _render(args)


def _helm_check(arguments: list[str]) -> int:
    import shutil
    import subprocess

    helm_args, _, stowage_args = _split_on_dashes(arguments)
    helm = os.environ.get("HELM_BIN") or shutil.which("helm") or "helm"
    try:
        rendered = subprocess.run(
            [helm, "template", *helm_args], capture_output=True, text=True, check=False
        )
    except OSError as err:
        print(
            f"stowage: error: cannot run {helm!r}: {err.strerror}; set HELM_BIN to the helm binary",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if rendered.returncode != 0:
        sys.stderr.write(rendered.stderr)
        print("stowage: error: helm template failed; nothing was checked", file=sys.stderr)
        return EXIT_USAGE
    checked = subprocess.run(
        [sys.executable, "-m", "stowage", "check", *stowage_args],
        input=rendered.stdout,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, REPORT_TTY_ENV: "0"},
    )
    sys.stdout.write(checked.stderr)
    return checked.returncode


def _split_on_dashes(arguments: list[str]) -> tuple[list[str], str, list[str]]:
    if "--" in arguments:
        index = arguments.index("--")
        return arguments[:index], "--", arguments[index + 1 :]
    return arguments, "", []


def _explain(rule: str | None) -> int:
    from stowage.checks.docs import explain, rule_index

    if rule is None:
        sys.stdout.write(rule_index())
        return EXIT_OK
    try:
        sys.stdout.write(explain(rule))
    except LookupError as err:
        print(f"stowage: error: {err.args[0] if err.args else err}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _options(args: argparse.Namespace) -> Options:
    from stowage.engine import Options
    from stowage.yamlload import Limits

    defaults = Limits()
    limits = Limits(
        max_input_bytes=args.max_input_bytes or defaults.max_input_bytes,
        max_nodes=args.max_nodes or defaults.max_nodes,
    )
    if not (args.config or args.var):
        return Options(strict=args.strict, limits=limits)
    from stowage.configload import load_config_file, parse_vars  # ruamel: only when needed

    layers = [load_config_file(path) for path in args.config]
    return Options(layers, parse_vars(args.var), args.strict, limits)


def _render(args: argparse.Namespace) -> int:
    from stowage.errors import UsageError

    try:
        options = _options(args)
        text = _read_stdin(options.limits.max_input_bytes)
        from stowage.engine import run

        outcome = run(text, options)
    except UsageError as err:
        message = f"stowage: error: {err}\n"
        sys.stderr.write(message)
        _write_report_file(args, message)
        _to_terminal(message)
        return EXIT_USAGE
    return _finish(args, outcome)


def _read_stdin(max_bytes: int) -> str:
    from stowage.errors import UsageError

    data = sys.stdin.buffer.read(max_bytes + 1)  # never hold more than the limit
    if len(data) > max_bytes:
        raise UsageError(
            f"input is larger than {max_bytes} bytes; raise --max-input-bytes if it is genuine"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UsageError(f"input is not UTF-8 (byte {err.start})") from None


def _finish(args: argparse.Namespace, outcome: Outcome) -> int:
    from stowage import report

    body = report.as_json(outcome) if args.report == "json" else None
    text = body or report.as_text(outcome, color=sys.stderr.isatty())
    plain = body or report.as_text(outcome)
    _write_report_file(args, plain)
    if args.command == "graph":
        _emit_report(args, outcome, text)
        _write_graph(args, outcome)
        return EXIT_OK
    if args.command == "plan":
        plan_out = report.plan_text(outcome) if args.format == "text" else _plan_json(outcome)
        sys.stdout.write(plan_out)
        _emit_report(args, outcome, text)
        return EXIT_REJECTED if outcome.rejected else EXIT_OK
    if args.diff:
        sys.stderr.write(report.diff_text(outcome))
    _emit_report(args, outcome, text)
    if outcome.rejected:
        return EXIT_REJECTED
    if args.command == "render":
        from stowage.manifests import write_pieces

        _write_all(sys.stdout, write_pieces(outcome.stream))
    return EXIT_OK


def _write_graph(args: argparse.Namespace, outcome: Outcome) -> None:
    from stowage import graph

    drawing = graph.build(outcome)
    text = graph.svg(drawing) if args.format == "svg" else graph.mermaid(drawing)
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _plan_json(outcome: Outcome) -> str:
    import json

    return json.dumps([p.as_json() for p in outcome.placements], indent=2) + "\n"


def _emit_report(args: argparse.Namespace, outcome: Outcome, text: str) -> None:
    quiet = args.quiet and not outcome.findings
    if not quiet or args.command == "check":
        sys.stderr.write(text)
    if outcome.findings:
        _to_terminal(text)


def _to_terminal(text: str) -> None:
    """Under Helm 4's plugin runtime stderr is lost: write to the terminal, if there is one."""
    if os.environ.get(REPORT_TTY_ENV) != "1":
        return
    try:
        with open("/dev/tty", "w", encoding="utf-8") as tty:
            tty.write(text)
    except OSError:
        pass  # no terminal (CI): the report file still has it


def _write_report_file(args: argparse.Namespace, content: str) -> None:
    target = args.report_file or (
        Path(os.environ[REPORT_FILE_ENV]) if os.environ.get(REPORT_FILE_ENV) else None
    )
    if target is None:
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    except OSError as err:
        print(
            f"stowage: warning: cannot write report file {target}: {err.strerror}", file=sys.stderr
        )


def _write_all(stream: TextIO, pieces: list[str]) -> None:
    """Write the rendered pieces (all rendered before the first byte: stdout stays empty on
    error) in chunks of about 1 MiB: one write for most outputs, as a reader that stops
    early (`| grep -m1`) expects, and never the whole of a large output encoded at once."""
    chunk: list[str] = []
    size = 0
    for text in pieces:
        chunk.append(text)
        size += len(text)
        if size >= WRITE_CHUNK:
            _write_text(stream, "".join(chunk))
            chunk, size = [], 0
    _write_text(stream, "".join(chunk))
    stream.flush()


def _write_text(stream: TextIO, text: str) -> None:
    stream.buffer.write(text.encode("utf-8")) if hasattr(stream, "buffer") else stream.write(text)

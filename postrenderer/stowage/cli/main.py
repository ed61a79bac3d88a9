"""The `stowage` command: Helm's post-renderer and its companions.

Exit codes, the same for every command: 0 done (warnings allowed); 1 rejected
by a check; 2 unusable input, config, arguments or output. `render` writes
nothing to stdout unless it exits 0, so Helm aborts and nothing partial is
ever applied. The views for people (`plan`, `graph`) are the one exemption:
they print the view of a rejected stream too, since showing where the rejected
storage goes is their point, and still exit 1. Heavy modules are imported
lazily: a pass-through run starts fast.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from stowage.errors import OutputError, UsageError

if TYPE_CHECKING:
    from stowage.engine import Options, Outcome

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2
RENDER_COMMANDS = ("render", "check", "plan", "graph", "admission")
VIEWS = ("plan", "graph")
COMMANDS = (
    *RENDER_COMMANDS,
    "explain",
    "import",
    "helm-check",
    "schema",
    "docs",
    "completion",
    "help",
    "version",
)
# Options that take a value as the next word: needed to find the command among the
# words, so that options may come before or after it.
VALUE_OPTIONS = frozenset(
    {
        "--config",
        "--var",
        "--report",
        "--report-file",
        "--chart-path",
        "--max-input-bytes",
        "--max-nodes",
        "--format",
        "--output",
        "--polyaxonfile",
        "--api-version",
    }
)
REPORT_FILE_ENV = "STOWAGE_REPORT_FILE"
REPORT_FORMATS = ("text", "json", "sarif", "junit")
WRITE_CHUNK = 1 << 20  # characters per write of the rendered output
# What a command writes: text, bytes (a PNG), or the pieces of a rendered stream.
Output = str | bytes | list[str]
# Set by the Helm 4 plugin launcher: Helm drops a post-renderer plugin's stderr,
# so a report worth reading also goes straight to the user's terminal.
REPORT_TTY_ENV = "STOWAGE_REPORT_TTY"
READ_CHUNK = 1 << 20
CONTRACT = (
    "Exit codes, for every command: 0 done, 1 rejected by a check, 2 unusable input, "
    "config, arguments or output. stdout is empty unless the exit code is 0, except for "
    "the views `plan` and `graph`, which print a rejected stream's view too (that is "
    "what they are for) and exit 1."
)
TTY_HINT = (
    "stowage: reading manifests from stdin (end with Ctrl-D); usually Helm runs stowage, "
    "or pipe `helm template` into it. `stowage help` for more."
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _ArgumentError(message, self)


class _ArgumentError(Exception):
    def __init__(self, message: str, parser: argparse.ArgumentParser | None = None) -> None:
        super().__init__(message)
        self.parser = parser


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive whole number, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def _render_options(parser: argparse.ArgumentParser, command: str) -> None:
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
        choices=REPORT_FORMATS,
        default="text",
        help="report format on stderr and in the report file (default text): json, "
        "sarif (SARIF 2.1.0 for code scanning), junit (JUnit XML for CI test tabs)",
    )
    parser.add_argument(
        "--chart-path",
        metavar="DIR",
        default="",
        help="the chart's directory in your repository, for the template paths in sarif and "
        "junit reports (Helm writes them starting with the chart's name)",
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
        help="print a unified YAML diff of every changed resource on stderr (and in the "
        "report file); --report json carries the RFC 6902 patches",
    )
    parser.add_argument("--quiet", action="store_true", help="no report on stderr when all is ok")
    parser.add_argument(
        "--max-input-bytes",
        type=_positive_int,
        metavar="N",
        help="refuse input larger than N bytes (N >= 1; default 64 MiB)",
    )
    parser.add_argument(
        "--max-nodes",
        type=_positive_int,
        metavar="N",
        help="refuse a document expanding to more than N YAML nodes "
        "(alias bombs; N >= 1; default 2,000,000)",
    )
    formats = {"graph": ("mermaid", "svg", "png", "dot"), "plan": ("text", "json")}.get(command)
    if formats:
        parser.add_argument(
            "--format",
            choices=formats,
            default=formats[0],
            help=f"output format (default {formats[0]})",
        )
    if command == "graph":
        parser.add_argument(
            "--include-hooks",
            action="store_true",
            help="also draw Helm hooks and test pods (left out by default)",
        )
    if command == "admission":
        parser.add_argument(
            "--api-version",
            choices=("v1", "v1beta1"),
            help="admissionregistration.k8s.io version of the mutating policies: v1 "
            "(Kubernetes >= 1.36) or v1beta1 (1.34, 1.35); default the plan's "
            "admission.apiVersion (v1)",
        )
    if command != "check":
        what = {
            "render": "the manifests",
            "plan": "the plan",
            "graph": "the drawing",
            "admission": "the policies",
        }[command]
        parser.add_argument(
            "--output",
            type=Path,
            metavar="FILE",
            help=f"write {what} to FILE instead of stdout (replaced only when complete)",
        )


HELPS = {
    "render": "read manifests on stdin, write them with storage attached (the default)",
    "check": "do the same work but write only the report",
    "plan": "print which volumes, mounts, env and node pool each workload gets, and why",
    "graph": "draw the storage map (Mermaid, SVG, PNG or DOT) with every finding on it",
    "admission": "print the plan as MutatingAdmissionPolicies and a ValidatingAdmissionPolicy, "
    "with their bindings, for pods created later through the API",
}
VIEW_NOTE = (
    " This is a view for people: a rejected stream's view is printed too, and the exit code is 1."
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="stowage",
        allow_abbrev=False,
        description="Attach durable storage to rendered "
        "Kubernetes manifests and refuse unsafe storage setups.",
        epilog="With no command, `render` runs (what Helm's --post-renderer does); options may "
        f"come before or after the command. {CONTRACT} Docs: `stowage docs`.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, text in HELPS.items():
        description = text + (VIEW_NOTE if name in VIEWS else "")
        _render_options(
            sub.add_parser(
                name, help=text, description=description, epilog=CONTRACT, allow_abbrev=False
            ),
            name,
        )
    explain = sub.add_parser("explain", help="print the documentation of a check")
    explain.add_argument("rule", nargs="?", help="rule ID or name (omit to list all)")
    _import_parser(sub)
    _helm_check_parser(sub)
    schema = sub.add_parser(
        "schema",
        help="print the JSON Schema of the config file (for editors)",
        description="Print the JSON Schema of a --config file, generated from the models "
        "stowage validates with. Editors that use yaml-language-server check and complete a "
        "config file that starts with `# yaml-language-server: $schema=stowage-config.json`.",
        allow_abbrev=False,
    )
    schema.add_argument("--output", type=Path, metavar="FILE", help="write it to FILE")
    docs = sub.add_parser("docs", help="print where the documentation is, or one page of it")
    docs.add_argument("topic", nargs="?", help="a page, e.g. postrenderer or recipes")
    completion = sub.add_parser("completion", help="print a shell completion script")
    completion.add_argument("shell", choices=("bash", "zsh", "fish"))
    help_parser = sub.add_parser("help", help="show the help of stowage or of a command")
    help_parser.add_argument("topic", nargs="?", metavar="COMMAND")
    sub.add_parser("version", help="print the version")
    return parser


def _import_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    text = "turn a Polyaxon, Owl or MLRun storage setup into stowage chart values (YAML)"
    parser = sub.add_parser("import", help=text, description=text, allow_abbrev=False)
    parser.add_argument("system", metavar="{polyaxon,owl,mlrun}", help="the system to import")
    parser.add_argument("file", type=Path, help="its values/config file ('-' for stdin)")
    parser.add_argument(
        "--polyaxonfile",
        type=Path,
        metavar="FILE",
        help="polyaxon only: also take environment.data_refs from this polyaxonfile",
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="write the values to FILE, only when the import succeeds (a shell's `>` "
        "creates the file even when it fails)",
    )


def _helm_check_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    under_helm = os.environ.get("HELM_PLUGIN_NAME") == "stowage-check"
    helm_check = sub.add_parser(
        "helm-check",
        prog="helm stowage-check" if under_helm else None,
        help="run `helm template ARGS` and check the result (the `helm stowage-check` plugin)",
        description="Render with `helm template` (the HELM_BIN Helm sets for plugins, or helm "
        "on PATH) and print stowage's full report. Arguments after `--` go to stowage.",
        epilog=CONTRACT,
    )
    helm_check.add_argument(
        "helm_args",
        nargs=argparse.REMAINDER,
        help="helm template arguments [-- stowage check options]",
    )


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(words)
    except _ArgumentError as err:
        if err.parser is not None:
            err.parser.print_usage(sys.stderr)
        print(f"stowage: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as err:
        print(f"stowage: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("stowage: interrupted", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`stowage ... | head`): nothing to report to, no traceback.
        _silence_stdout()
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


def console() -> NoReturn:
    """The `stowage` command: :func:`main`, then exit at once. A run over thousands of
    workloads leaves objects that Python would free one by one on its way out (30 ms
    for 2,000); the output is flushed first, and nothing else waits for exit."""
    code = main()
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except OSError:  # the reader went away, or the disk filled: the output is not whole
        code = code or EXIT_USAGE
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.flush()
    os._exit(code)


def _main(words: list[str]) -> int:
    parser = build_parser()
    arranged = arrange(words, _option_strings(parser))
    if arranged is None:
        return _top_level(parser, words)
    try:
        args, extras = parser.parse_known_args(arranged)
    except SystemExit as done:  # --help printed
        _flush_stdout()
        return int(done.code or 0)
    if extras:
        raise _ArgumentError(_unknown_arguments(extras, parser, args.command))
    return _dispatch(parser, args)


def _top_level(parser: argparse.ArgumentParser, words: list[str]) -> int:
    """`stowage --help` / `stowage --version` with no command."""
    if "-h" in words or "--help" in words:
        _write_stdout(parser.format_help())
    else:
        _write_stdout(_version_line())
    return EXIT_OK


def _option_strings(parser: argparse.ArgumentParser) -> frozenset[str]:
    subs = [parser, *_subparsers(parser).values()]
    return frozenset(s for sub in subs for action in sub._actions for s in action.option_strings)


def arrange(words: list[str], known_options: frozenset[str]) -> list[str] | None:
    """The words with the command first (default `render`); None for top-level --help/--version.

    Options may come before or after the command, as with kubectl and helm. An
    unknown command is refused with the nearest one suggested.
    """
    positionals = list(_positionals(words))
    if not positionals:
        if {"-h", "--help", "--version"} & set(_before_dashes(words)):
            return None
        return ["render", *words]
    index, word = positionals[0]
    if word not in COMMANDS and index and words[index - 1].split("=")[0] not in known_options:
        return ["render", *words]  # the value of an unknown option: argparse names the option
    if word not in COMMANDS:
        raise _ArgumentError(f"unknown command {word!r}{_did_you_mean(word, COMMANDS)}")
    return [word, *words[:index], *words[index + 1 :]]


def _before_dashes(words: list[str]) -> list[str]:
    return words[: words.index("--")] if "--" in words else words


def _positionals(words: list[str]) -> Iterator[tuple[int, str]]:
    takes_value = False
    for index, word in enumerate(words):
        if takes_value:
            takes_value = False
            continue
        if word == "--":
            return
        if word.startswith("-") and word != "-":
            takes_value = word in VALUE_OPTIONS
            continue
        yield index, word


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    import difflib  # only on a mistake: a pass-through run stays lean

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _unknown_arguments(extras: list[str], parser: argparse.ArgumentParser, command: str) -> str:
    sub = _subparsers(parser).get(command, parser)
    known = [s for action in sub._actions for s in action.option_strings]
    word = extras[0]
    if word.startswith("-"):
        option = word.split("=", 1)[0]
        return f"unknown option {option!r} for `stowage {command}`{_did_you_mean(option, known)}"
    return f"unexpected argument {word!r} for `stowage {command}`"


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.version or args.command == "version":
        _write_stdout(_version_line())
        return EXIT_OK
    if args.command == "help":
        return _help(parser, args.topic)
    if args.command == "explain":
        return _explain(args.rule)
    if args.command == "helm-check":
        return _helm_check(args.helm_args)
    if args.command == "import":
        import io

        from stowage.importers.command import run

        out = io.StringIO()
        code = run(args.system, args.file, args.polyaxonfile, out, sys.stderr)
        if code == EXIT_OK:
            _deliver(out.getvalue(), args.output)
        return code
    if args.command == "schema":
        from stowage.plan.schema import config_schema_text

        _deliver(config_schema_text(), args.output)
        return EXIT_OK
    if args.command == "docs":
        from stowage.cli.docsfiles import docs_text

        _write_stdout(docs_text(args.topic))
        return EXIT_OK
    if args.command == "completion":
        from stowage.cli.completion import script

        _write_stdout(script(args.shell, parser))
        return EXIT_OK
    return _render(args)


def _version_line() -> str:
    from stowage import __version__

    return f"stowage {__version__}\n"


def _help(parser: argparse.ArgumentParser, topic: str | None) -> int:
    if topic is None:
        _write_stdout(parser.format_help())
        return EXIT_OK
    commands = _subparsers(parser)
    if topic not in commands:
        raise _ArgumentError(f"no command {topic!r}{_did_you_mean(topic, list(commands))}")
    _write_stdout(commands[topic].format_help())
    return EXIT_OK


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
    _write_stdout(checked.stderr)
    return checked.returncode


def _split_on_dashes(arguments: list[str]) -> tuple[list[str], str, list[str]]:
    if "--" in arguments:
        index = arguments.index("--")
        return arguments[:index], "--", arguments[index + 1 :]
    return arguments, "", []


def _explain(rule: str | None) -> int:
    from stowage.checks.docs import explain, rule_index

    if rule is None:
        _write_stdout(rule_index())
        return EXIT_OK
    try:
        text = explain(rule)
    except LookupError as err:
        print(f"stowage: error: {err.args[0] if err.args else err}", file=sys.stderr)
        return EXIT_USAGE
    _write_stdout(text)
    return EXIT_OK


def _options(args: argparse.Namespace) -> Options:
    from stowage.engine import Options
    from stowage.read.yamlload import Limits

    defaults = Limits()
    limits = Limits(
        max_input_bytes=args.max_input_bytes or defaults.max_input_bytes,
        max_nodes=args.max_nodes or defaults.max_nodes,
    )
    if not (args.config or args.var):
        return Options(strict=args.strict, limits=limits)
    from stowage.plan.configload import load_config_file, parse_vars  # ruamel: only when needed

    layers = [load_config_file(path) for path in args.config]
    return Options(layers, parse_vars(args.var), args.strict, limits)


def _render(args: argparse.Namespace) -> int:
    try:
        options = _options(args)
        text = "" if _config_only(args) else _read_stdin(options.limits.max_input_bytes)
        from stowage.engine import run

        # A run builds thousands of objects that live until exit and no reference
        # cycles (tests/test_performance_guards.py): the collector would only rescan them.
        gc.disable()
        outcome = run(text, options)
        return _finish(args, outcome)
    except UsageError as err:
        message = f"stowage: error: {err}\n"
        sys.stderr.write(message)
        _write_report_file(args, message)
        _to_terminal(message)
        return EXIT_USAGE


def _config_only(args: argparse.Namespace) -> bool:
    """`stowage admission --config FILE` at a terminal: the plan is the config alone."""
    stream = sys.stdin
    return args.command == "admission" and bool(args.config) and (stream is None or stream.isatty())


def _read_stdin(max_bytes: int) -> str:
    stream = sys.stdin
    if stream is None:
        raise UsageError("standard input is closed: pipe the manifests into stowage")
    if stream.isatty():
        print(TTY_HINT, file=sys.stderr)
    data = bytearray()
    while chunk := stream.buffer.read(READ_CHUNK):  # never hold much more than the limit
        data += chunk
        if len(data) > max_bytes:
            raise UsageError(
                f"input is larger than {max_bytes} bytes; raise --max-input-bytes if it is genuine"
            )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UsageError(f"input is not UTF-8 (byte {err.start})") from None


def _finish(args: argparse.Namespace, outcome: Outcome) -> int:
    """Write the output first, then the report: a report never says ok about lost output."""
    from stowage.views import report

    code = EXIT_REJECTED if outcome.rejected else EXIT_OK
    output = _output_of(args, outcome)
    if output is not None and (code == EXIT_OK or args.command in VIEWS):
        _deliver(output, args.output)
    body = _machine_report(args, outcome)
    text = body or report.as_text(outcome, color=_color(sys.stderr))
    diff = report.diff_text(outcome) if args.diff and args.command not in VIEWS else ""
    # Helm 4 drops a plugin's stderr: the report file is where a --diff can be read.
    _write_report_file(args, body or diff + report.as_text(outcome))
    if diff:
        sys.stderr.write(diff)
        _to_terminal(diff)
    _emit_report(args, outcome, text)
    return code


def _machine_report(args: argparse.Namespace, outcome: Outcome) -> str | None:
    """The report for tools (--report json, sarif or junit), or None for people's text."""
    from stowage.views import report

    if args.report == "json":
        return report.as_json(outcome)
    if args.report in ("sarif", "junit"):
        from stowage.views import ci

        write = ci.as_sarif if args.report == "sarif" else ci.as_junit
        return write(outcome, args.chart_path)
    return None


def _output_of(args: argparse.Namespace, outcome: Outcome) -> Output | None:
    from stowage.views import report

    if args.command == "graph":
        return _drawing(args, outcome)
    if args.command == "plan":
        return report.plan_text(outcome) if args.format == "text" else report.plan_json(outcome)
    if args.command == "render":
        from stowage.write.stream import write_pieces

        return write_pieces(outcome.stream)
    if args.command == "admission":
        return _admission_text(args, outcome)
    return None


def _admission_text(args: argparse.Namespace, outcome: Outcome) -> str:
    from stowage.admission import policies
    from stowage.plan.plan import build
    from stowage.write.yamlwrite import dump

    if outcome.config is None or not outcome.config.targets:
        raise UsageError(
            "no targets in the plan: pipe the chart's rendered output (its plan ConfigMap) "
            "or pass --config FILE with `targets`"
        )
    built = policies.build(build(outcome.config), args.api_version)
    outcome.notes.extend(f"admission: {note}" for note in built.notes)
    return "".join(f"---\n{dump(body)}" for body in built.objects)


def _color(stream: object) -> bool:
    """Colour on a terminal unless NO_COLOR is set to anything (https://no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def _drawing(args: argparse.Namespace, outcome: Outcome) -> str | bytes:
    """The storage map in the asked format; SVG and PNG are laid out by Graphviz when present."""
    from stowage.views import graph

    drawing = graph.build(outcome, include_hooks=args.include_hooks)
    if args.format in ("mermaid", "dot"):
        return graph.mermaid(drawing) if args.format == "mermaid" else graph.dot(drawing)
    if args.format == "png" and not args.output and sys.stdout.isatty():
        raise UsageError("not writing a PNG to a terminal; use --output FILE or redirect stdout")
    laid_out = _graphviz(graph.dot(drawing), args.format)
    if laid_out is not None:
        return laid_out
    if args.format == "png":
        raise UsageError(
            "--format png needs Graphviz's `dot`, which is not on PATH; install graphviz "
            "(`make setup` or `apt-get install graphviz`), or use --format svg"
        )
    print(
        "stowage: note: Graphviz's `dot` is not on PATH: drawn with the simple built-in layout; "
        "install graphviz (`make setup` or `apt-get install graphviz`) for the full map",
        file=sys.stderr,
    )
    return graph.svg(drawing)


def _graphviz(source: str, fmt: str) -> bytes | None:
    """`dot -T<fmt>` of the DOT source, or None when Graphviz is absent or fails."""
    import shutil
    import subprocess

    binary = shutil.which("dot")
    if binary is None:
        return None
    done = subprocess.run(
        [binary, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, check=False
    )
    if done.returncode != 0:
        print(
            f"stowage: warning: dot failed: {done.stderr.decode(errors='replace')}", file=sys.stderr
        )
        return None
    return done.stdout


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


def _deliver(text: Output, path: Path | None) -> None:
    if path is None:
        _write_stdout(text)
    else:
        write_file(path, text)


def write_file(path: Path, text: Output) -> None:
    """Write ``path`` whole or not at all (a temporary file renamed over it)."""
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory; name a file")
    if not path.parent.is_dir():
        raise OutputError(f"cannot write {path}: the directory {path.parent} does not exist")
    temporary = path.with_name(f".{path.name}.stowage-tmp")
    try:
        with temporary.open("wb") as file:
            for chunk in _chunks(text):
                file.write(chunk)
        os.replace(temporary, path)
    except OSError as err:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {err.strerror}") from None


def _write_stdout(text: Output) -> None:
    stream = sys.stdout
    if stream is None:
        raise OutputError("standard output is closed; nothing was written")
    try:
        for data in _chunks(text):
            if hasattr(stream, "buffer"):
                stream.buffer.write(data)
            else:
                stream.write(data.decode("utf-8", "replace"))
        stream.flush()
    except BrokenPipeError:
        raise
    except OSError as err:
        _silence_stdout()
        raise OutputError(f"cannot write to standard output: {err.strerror}") from None


def _chunks(output: Output) -> Iterator[bytes]:
    """The output as UTF-8 in chunks of about 1 MiB. The pieces of a rendered stream are
    all rendered before the first byte (stdout stays empty on error); one write serves
    most outputs, as a reader that stops early (`| grep -m1`) expects, and a large
    output is never encoded whole at once."""
    if isinstance(output, bytes):
        yield output
        return
    pieces = [output] if isinstance(output, str) else output
    chunk: list[str] = []
    size = 0
    for text in pieces:
        chunk.append(text)
        size += len(text)
        if size >= WRITE_CHUNK:
            yield "".join(chunk).encode("utf-8")
            chunk, size = [], 0
    yield "".join(chunk).encode("utf-8")


def _flush_stdout() -> None:
    _write_stdout("")


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the flush at exit cannot fail a second time."""
    with contextlib.suppress(OSError, AttributeError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

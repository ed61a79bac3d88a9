"""`stowage completion bash|zsh|fish`: shell completion scripts built from the parser itself.

The commands, their options and the choices of each option come from the
argparse parser, so a new option completes without touching this module.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[str, ...]
    choices: dict[str, tuple[str, ...]]  # option (or "" for the positional) -> its choices
    file_options: tuple[str, ...]  # options whose value is a path


def commands(parser: argparse.ArgumentParser) -> list[Command]:
    out = []
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: str(choice.help or "") for choice in action._choices_actions}
        for name, sub in action.choices.items():
            out.append(_command(name, helps.get(name, ""), sub, list(action.choices)))
    return out


def _command(name: str, text: str, sub: argparse.ArgumentParser, names: list[str]) -> Command:
    options: list[str] = []
    choices: dict[str, tuple[str, ...]] = {}
    files: list[str] = []
    for action in sub._actions:
        long = [s for s in action.option_strings if s.startswith("--")]
        options += long
        if action.choices is not None:
            key = long[0] if long else ""
            choices[key] = tuple(str(c) for c in action.choices)
        elif long and action.type is not None and getattr(action.type, "__name__", "") == "Path":
            files.append(long[0])
    if name == "help":
        choices[""] = tuple(names)
    return Command(name, text, tuple(options), choices, tuple(files))


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    found = commands(parser)
    return {"bash": bash, "zsh": zsh, "fish": fish}[shell](found)


def _words(items: tuple[str, ...] | list[str]) -> str:
    return " ".join(items)


def _pattern(command: Command, option: str) -> str:
    """`cmd:--opt`; with no command stowage renders, so render's options match `:--opt` too."""
    key = f"{command.name}:{option}"
    return f"{key}|:{option}" if command.name == "render" else key


def bash(found: list[Command]) -> str:
    names = _words([c.name for c in found])
    render = next(c for c in found if c.name == "render")
    lines = [
        "# stowage completion for bash: source <(stowage completion bash)",
        "_stowage() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        f'    local commands="{names}" cmd="" word',
        '    for word in "${COMP_WORDS[@]:1:COMP_CWORD-1}"; do',
        '        case " $commands " in *" $word "*) cmd=$word; break ;; esac',
        "    done",
        '    case "$cmd:$prev" in',
    ]
    for command in found:
        for option, values in command.choices.items():
            if option:
                reply = f'COMPREPLY=($(compgen -W "{_words(values)}" -- "$cur"))'
                lines.append(f"        {_pattern(command, option)}) {reply}; return ;;")
        for option in command.file_options:
            reply = 'COMPREPLY=($(compgen -f -- "$cur"))'
            lines.append(f"        {_pattern(command, option)}) {reply}; return ;;")
    lines.append("    esac")
    # Options once a `-` is typed, as kubectl and helm do; otherwise commands or choices.
    lines.append('    local options="" words=""')
    lines.append('    case "$cmd" in')
    for command in found:
        positional = _words(command.choices.get("", ()))
        lines.append(
            f'        {command.name}) options="{_words(command.options)}" words="{positional}" ;;'
        )
    lines.append(f'        "") options="{_words(render.options)} --version" words="$commands" ;;')
    lines += [
        "    esac",
        '    [[ "$cur" == -* ]] && words=$options',
        '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
        "}",
        "complete -o default -F _stowage stowage",
        "",
    ]
    return "\n".join(lines)


def zsh(found: list[Command]) -> str:
    names = _words([c.name for c in found])
    lines = [
        "#compdef stowage",
        "# stowage completion for zsh: stowage completion zsh > ${fpath[1]}/_stowage",
        "_stowage() {",
        f"    local -a commands=({names})",
        "    local cmd='' word",
        "    for word in ${words[2,CURRENT-1]}; do",
        "        if (( ${commands[(Ie)$word]} )); then cmd=$word; break; fi",
        "    done",
        '    case "$cmd:${words[CURRENT-1]}" in',
    ]
    for command in found:
        for option, values in command.choices.items():
            if option:
                lines.append(
                    f"        {_pattern(command, option)}) compadd -- {_words(values)}; return ;;"
                )
        for option in command.file_options:
            lines.append(f"        {_pattern(command, option)}) _files; return ;;")
    lines += ["    esac", "    local -a options words", '    case "$cmd" in']
    for command in found:
        positional = _words(command.choices.get("", ()))
        options = _words(command.options)
        lines.append(f"        {command.name}) options=({options}); words=({positional}) ;;")
    lines += [
        '        "") options=(--help --version); words=($commands) ;;',
        "    esac",
        "    if [[ $PREFIX == -* ]]; then compadd -- $options",
        "    elif (( $#words )); then compadd -- $words",
        "    else _files; fi",
        "}",
        'if [[ "$funcstack[1]" = "_stowage" ]]; then _stowage "$@";',
        "else compdef _stowage stowage; fi",
        "",
    ]
    return "\n".join(lines)


def fish(found: list[Command]) -> str:
    names = _words([c.name for c in found])
    lines = [
        "# stowage completion for fish:",
        "#   stowage completion fish > ~/.config/fish/completions/stowage.fish",
        f"complete -c stowage -n 'not __fish_seen_subcommand_from {names}' -l version"
        " -d 'print the version'",
    ]
    for command in found:
        lines.append(
            f"complete -c stowage -f -n 'not __fish_seen_subcommand_from {names}'"
            f" -a {command.name} -d {_fish_quote(command.help)}"
        )
    for command in found:
        seen = f"__fish_seen_subcommand_from {command.name}"
        for option in command.options:
            if option == "--help":
                continue
            values = command.choices.get(option)
            value = f" -x -a '{_words(values)}'" if values else ""
            value += " -r -F" if option in command.file_options else ""
            lines.append(f"complete -c stowage -n '{seen}' -l {option[2:]}{value}")
        positional = command.choices.get("")
        if positional:
            lines.append(f"complete -c stowage -f -n '{seen}' -a '{_words(positional)}'")
    return "\n".join(lines) + "\n"


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

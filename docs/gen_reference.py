"""Regenerate the option tables of docs/reference/options.md from the plugin's own parser.

    .venv/bin/python docs/gen_reference.py          # rewrite the generated part of the page
    .venv/bin/python docs/gen_reference.py --check  # exit 1 if the page is out of date

It asks pytest for every option of the ``aotparity`` group and every ``aot_parity*`` ini key
(so options added anywhere in the plugin show up), pairs each flag with its ini key and writes
the text between ``<!-- options:begin -->`` and ``<!-- options:end -->``. The prose around the
markers is written by hand. Help texts come from the code unchanged: fix wording there.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PAGE = Path(__file__).resolve().parent / "reference" / "options.md"
BEGIN = "<!-- options:begin -->"
END = "<!-- options:end -->"
GROUP = "aotparity"
INI_PREFIX = "aot_parity"

INI_TYPES = {
    "bool": "bool: `true` or `false`",
    "string": "string",
    "linelist": "list, one per line",
    "args": "list, space-separated",
    "int": "integer",
    "float": "number",
}


@dataclass
class Row:
    flag: str | None
    ini: str | None
    action: str  # "flag", "value", "repeat" or "" (no command-line option)
    metavar: str | None
    ini_type: str | None
    ini_default: Any
    help: str
    ini_help: str

    @property
    def anchor(self) -> str:
        name = self.flag or self.ini or ""
        return name.lstrip("-").replace("_", "-")

    @property
    def title(self) -> str:
        return self.flag or self.ini or ""


def _parser() -> Any:
    """pytest's parser with every plugin loaded (private API: pytest 8/9)."""
    from _pytest.config import _prepareconfig

    with tempfile.TemporaryDirectory() as rootdir:
        config = _prepareconfig(["-p", "aotparity", "-c", os.devnull, "--rootdir", rootdir])
        return config._parser


def _action_kind(action: argparse.Action) -> str:
    if isinstance(action, argparse._StoreTrueAction):
        return "flag"
    if isinstance(action, argparse._AppendAction):
        return "repeat"
    return "value"


def _ini_for(flag: str, inidict: dict[str, Any]) -> str | None:
    snake = flag.lstrip("-").replace("-", "_")
    if snake in inidict:
        return snake
    # --aot-parity-no-generate is backed by aot_parity_generate (default true)
    if snake.startswith(INI_PREFIX + "_no_"):
        positive = INI_PREFIX + "_" + snake[len(INI_PREFIX + "_no_") :]
        if positive in inidict:
            return positive
    return None


def collect() -> list[Row]:
    """Every option of the group and every aot_parity ini key, in registration order."""
    parser = _parser()
    inidict: dict[str, tuple[str, Any, Any]] = {
        name: value for name, value in parser._inidict.items() if name.startswith(INI_PREFIX)
    }
    rows: list[Row] = []
    used: set[str] = set()
    for group in parser._groups:
        if group.name != GROUP:
            continue
        for option in group.options:
            action: argparse.Action = option._action
            flag = max(option.names(), key=len)
            ini = _ini_for(flag, inidict)
            ini_help, ini_type, ini_default = inidict.get(ini or "", ("", None, None))
            if ini:
                used.add(ini)
            rows.append(
                Row(
                    flag=flag,
                    ini=ini,
                    action=_action_kind(action),
                    metavar=action.metavar if isinstance(action.metavar, str) else None,
                    ini_type=ini_type,
                    ini_default=ini_default,
                    help=str(action.help or ""),
                    ini_help=ini_help,
                )
            )
    for name, (ini_help, ini_type, ini_default) in inidict.items():
        if name not in used:
            rows.append(
                Row(
                    flag=None,
                    ini=name,
                    action="",
                    metavar=None,
                    ini_type=ini_type,
                    ini_default=ini_default,
                    help=ini_help,
                    ini_help=ini_help,
                )
            )
    return rows


_DEFAULT_IN_HELP = re.compile(r"\b[Dd]efault:?\s+(.+?)(?:\)|;|\.(?:\s|$)|$)")


def default_text(row: Row) -> str:
    """The effective default: a bool ini default, else what the help text says, else unset."""
    if row.flag and row.flag.startswith("--aot-parity-no-") and isinstance(row.ini_default, bool):
        # a negative flag backed by a positive ini key: say what the ini default means
        return f"`{row.ini} = {str(row.ini_default).lower()}`"
    if isinstance(row.ini_default, bool):
        return "on" if row.ini_default else "off"
    for text in (row.help, row.ini_help):
        match = _DEFAULT_IN_HELP.search(text)
        if match and not match.group(1).lower().startswith("for "):
            value = match.group(1).strip().rstrip(".")
            if value.startswith("the ") or " " in value:
                return prose(value)
            return f"`{value}`"
    if row.ini_default:
        return f"`{row.ini_default}`"
    return "not set"


def _code(text: str) -> str:
    return f"`{text}`"


def command_line(row: Row) -> str:
    if row.flag is None:
        return "(ini only)"
    if row.action == "flag":
        return _code(row.flag)
    value = f"{row.flag} {row.metavar or 'VALUE'}"
    return _code(value) + (" (repeatable)" if row.action == "repeat" else "")


def ini_text(row: Row) -> str:
    if row.ini is None:
        return "(command line only)"
    kind = INI_TYPES.get(str(row.ini_type or "string"), str(row.ini_type))
    return f"{_code(row.ini)} ({kind})"


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


_CODE_LIKE = re.compile(
    r"`([^`]+)`"  # already code
    r"|'([^'\s]+)'"  # 'auto', '$.servedAt'
    r"|(--aot-parity[\w-]*)"  # other options
    r"|(aot_parity_\w+(?: = \w+)?)"  # ini keys, with a value
    r"|(?<=e\.g\. )([^\s;,()']+)"  # the example after "e.g."
    r"|((?:image|cmd):[^\s,;)]+|(?:https?|http\(s\))://[^\s,;)]+)"  # targets, URLs
    r"|(\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|\b[A-Z]+=[A-Z][A-Z:]*\b)"  # ENV_NAMES, KEY=VALUE
    r"|(?<![\w:/])(/[\w./{}-]+)"  # paths on the app
    r"|(\{port\})"
)
_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


def prose(text: str) -> str:
    """A help text as Markdown: code-like tokens in code spans, the rest escaped."""
    out: list[str] = []
    last = 0
    for match in _CODE_LIKE.finditer(text):
        out.append(_SPECIAL.sub(r"\\\1", text[last : match.start()]))
        token = next(group for group in match.groups() if group is not None)
        trailing = "." if token.endswith(".") and len(token) > 1 else ""
        out.append(f"`{token[: len(token) - len(trailing)]}`{trailing}")
        last = match.end()
    out.append(_SPECIAL.sub(r"\\\1", text[last:]))
    return "".join(out).strip()


def render(rows: list[Row]) -> str:
    out = [
        BEGIN,
        "<!-- Generated by docs/gen_reference.py from the plugin's parser; do not edit by "
        "hand. -->",
        "",
        "| command line | ini key (type) | default |",
        "|---|---|---|",
    ]
    for row in rows:
        out.append(
            f"| [{_escape(command_line(row))}](#{row.anchor}) | {_escape(ini_text(row))} "
            f"| {_escape(default_text(row))} |"
        )
    for row in rows:
        out += [
            "",
            f"### `{row.title}` {{ #{row.anchor} }}",
            "",
            f"- command line: {command_line(row)}",
            f"- ini key: {ini_text(row)}",
            f"- default: {default_text(row)}",
            "",
            prose(row.help),
        ]
        if (
            row.ini_help
            and row.ini_help.strip() != row.help.strip()
            and row.flag is not None
            and not row.ini_help.startswith("Default for ")
        ):
            out += ["", f"In the ini file (`{row.ini}`): {prose(row.ini_help)}"]
    out.append(END)
    return "\n".join(out)


def updated(page: str, generated: str) -> str:
    start = page.find(BEGIN)
    stop = page.find(END)
    if start < 0 or stop < start:
        raise SystemExit(f"{PAGE}: the markers {BEGIN} … {END} are missing")
    return page[:start] + generated + page[stop + len(END) :]


def main(argv: list[str]) -> int:
    check = "--check" in argv
    page = PAGE.read_text(encoding="utf-8")
    new = updated(page, render(collect()))
    if new == page:
        print(f"{PAGE.name} is up to date")
        return 0
    if check:
        print(
            f"{PAGE} is out of date with the plugin's options; run "
            ".venv/bin/python docs/gen_reference.py and commit the result",
            file=sys.stderr,
        )
        return 1
    PAGE.write_text(new, encoding="utf-8")
    print(f"rewrote the option tables of {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

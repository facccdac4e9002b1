"""Collect the trim (IL2xxx) and AOT (IL3xxx) warnings of a `dotnet publish -p:PublishAot=true`
log into JSON: one record per distinct warning, with its code, the member it was reported on,
the message, the assembly and the source location when the compiler gave one.

Usage: python3 aot_warnings.py PUBLISH_LOG OUT_JSON
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

# "<origin>: Trim analysis warning IL2070: <member>: <message> [<project>]"
# "<origin>: AOT analysis warning IL3050: <member>: <message> [<project>]"
# "<origin> : warning IL2104: Assembly 'X' produced trim warnings. ... [<project>]"
LINE = re.compile(
    r"^(?P<origin>.*?)\s*:\s*(?:(?P<analysis>Trim|AOT) analysis )?warning (?P<code>IL[23]\d{3}):\s*"
    r"(?P<rest>.*?)\s*(?:\[[^\]]+\])?\s*$"
)
ORIGIN = re.compile(r"^(?P<file>.*?)(?:\((?P<line>\d+)(?:,\d+)?\))?$")
ASSEMBLY = re.compile(r"[\\/](?P<name>[^\\/]+)\.dll$")


def split_member(rest: str) -> tuple[str | None, str]:
    """'Ns.Type.Method(Args): message' -> (member, message); a member has no spaces outside
    its parentheses and angle brackets."""
    depth = 0
    for i, ch in enumerate(rest):
        if ch in "(<[":
            depth += 1
        elif ch in ")>]":
            depth -= 1
        elif ch == " " and depth == 0:
            return None, rest
        elif ch == ":" and depth == 0 and rest[i + 1 : i + 2] == " ":
            return rest[:i], rest[i + 2 :]
    return None, rest


def declaring_type(member: str | None) -> str | None:
    """'Ns.Type.<>c.Method(Args)' -> 'Ns.Type' (compiler-generated nested types folded)."""
    if not member:
        return None
    name = member.split("(", 1)[0]
    parts = name.split(".")
    if len(parts) > 1:
        parts = parts[:-1]
    while parts and (parts[-1].startswith("<") or parts[-1] == ""):
        parts = parts[:-1]
    return ".".join(parts) or None


def parse(log: str) -> list[dict[str, object]]:
    seen: set[tuple[str, str | None, str]] = set()
    records: list[dict[str, object]] = []
    for raw in log.splitlines():
        m = LINE.match(raw.strip())
        if not m:
            continue
        code, rest = m["code"], m["rest"]
        member, message = split_member(rest)
        key = (code, member, message)
        if key in seen:
            continue
        seen.add(key)
        origin = ORIGIN.match(m["origin"].strip())
        file = origin["file"] if origin else m["origin"]
        asm = ASSEMBLY.search(file or "")
        assembly = asm["name"] if asm else None
        records.append(
            {
                "code": code,
                "kind": "aot" if code.startswith("IL3") else "trim",
                "member": member,
                "type": declaring_type(member),
                "message": message,
                "assembly": assembly,
                "file": file or None,
                "line": int(origin["line"]) if origin and origin["line"] else None,
            }
        )
    records.sort(key=lambda r: (str(r["code"]), str(r["member"])))
    return records


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    records = parse(Path(sys.argv[1]).read_text(encoding="utf-8", errors="replace"))
    by_code: dict[str, int] = {}
    for r in records:
        by_code[str(r["code"])] = by_code.get(str(r["code"]), 0) + 1
    Path(sys.argv[2]).write_text(
        json.dumps(
            {"count": len(records), "by_code": by_code, "warnings": records},
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"aot_warnings: {len(records)} distinct warnings -> {sys.argv[2]} {by_code}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

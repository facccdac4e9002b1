"""The documentation site: it builds, it documents every option, and the README stays short.

- ``mkdocs build --strict`` succeeds (broken links, missing anchors, pages left out of the nav
  all fail it);
- every option of ``pytest_aotparity.config.ALL_OPTIONS`` — flag and ini key — appears in
  ``docs/reference/``, and the generated option tables of ``docs/reference/options.md`` match
  the options the plugin really registers (``docs/gen_reference.py --check``), so an option
  added without documentation fails here;
- README.md holds exactly two fenced console commands: ``scripts/gate`` and ``scripts/test``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_aotparity.config import ALL_OPTIONS

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
REFERENCE = DOCS / "reference"


def _mkdocs() -> list[str]:
    """The mkdocs of the running interpreter's environment (the repo's .venv)."""
    script = Path(sys.executable).parent / "mkdocs"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "mkdocs"]


def _quiet_env() -> dict[str, str]:
    env = dict(os.environ)
    env["NO_MKDOCS_2_WARNING"] = "1"  # mkdocs-material's end-of-life banner
    return env


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = subprocess.run(
        [*_mkdocs(), "build", "--strict", "-f", str(REPO / "mkdocs.yml"), "-d", str(site)],
        cwd=REPO,
        env=_quiet_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{output}"
    for page in ("index.html", "tutorial/index.html", "reference/options/index.html"):
        assert (site / page).is_file(), f"{page} was not built:\n{output}"


def _reference_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(REFERENCE.glob("*.md")))


@pytest.mark.parametrize("spec", ALL_OPTIONS, ids=lambda spec: spec.flag)
def test_option_is_documented_in_the_reference(spec: object) -> None:
    flag: str = spec.flag  # type: ignore[attr-defined]
    ini: str = spec.ini  # type: ignore[attr-defined]
    text = _reference_text()
    assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text), (
        f"{flag} is not documented in docs/reference/; run .venv/bin/python "
        "docs/gen_reference.py (it rewrites the option tables from the parser)"
    )
    assert re.search(rf"(?<!\w){re.escape(ini)}(?!\w)", text), (
        f"the ini key {ini} is not documented in docs/reference/; run .venv/bin/python "
        "docs/gen_reference.py"
    )


def test_generated_option_tables_are_up_to_date() -> None:
    """Every option the plugin registers (core, generation, reports) is in the tables, with
    its current help text. Runs in a subprocess: the plugin is off in this pytest run."""
    result = subprocess.run(
        [sys.executable, str(DOCS / "gen_reference.py"), "--check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _fenced_commands(markdown: str) -> list[str]:
    """Commands in ```console / ```bash / ```sh / ```shell fences (a leading "$ " prompt
    removed; output lines of console blocks — those without a prompt after a prompted line —
    are not commands)."""
    commands: list[str] = []
    for match in re.finditer(
        r"^```(console|bash|sh|shell)[^\n]*\n(.*?)^```", markdown, flags=re.M | re.S
    ):
        prompted = False
        for line in match.group(2).splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if stripped.startswith("$ "):
                prompted = True
                commands.append(stripped[2:].strip())
            elif not prompted:
                commands.append(stripped)
    return commands


def test_readme_has_exactly_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert _fenced_commands(readme) == ["scripts/gate", "scripts/test"]


def test_fenced_command_parsing() -> None:
    text = (
        "intro\n\n```console\n$ scripts/gate\nsome output\n```\n\n```bash\nscripts/test\n```\n"
        "\n```toml\n[tool.pytest.ini_options]\n```\n"
    )
    assert _fenced_commands(text) == ["scripts/gate", "scripts/test"]
    assert _fenced_commands(text + "\n```console\n$ pytest --aot-parity\n```\n") == [
        "scripts/gate",
        "scripts/test",
        "pytest --aot-parity",
    ]

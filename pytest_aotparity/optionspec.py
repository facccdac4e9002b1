"""The one description of an option: its command-line flag, the ini key that backs it,
and where argparse stores it. Every option group (targets and comparison, generation,
verdict) declares its options with it, so error messages and the generated reference
name each option the same way."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class OptionSpec:
    flag: str
    ini: str
    store: str | None = None
    """argparse's ``dest`` when it is not the ini key (``--aot-parity-no-generate`` stores
    ``aot_parity_no_generate``, backed by the ini key ``aot_parity_generate``)."""

    @property
    def dest(self) -> str:
        return self.store or self.ini

    def name(self) -> str:
        """``--aot-parity-jit (ini aot_parity_jit)``: how error messages refer to it."""
        return f"{self.flag} (ini {self.ini})"


def spec(flag: str, *, ini: str | None = None, store: str | None = None) -> OptionSpec:
    """The spec of ``flag``; the ini key is the flag in snake case unless given."""
    return OptionSpec(flag=flag, ini=ini or flag.lstrip("-").replace("-", "_"), store=store)


def resolve_path(config: pytest.Config, option: OptionSpec, text: str) -> Path:
    """A path option's value as a path: one rule for every path option. A relative path
    given on the command line is relative to where pytest was started; one given in the
    ini file is relative to that file's directory (the rootdir when there is no file), as
    pytest's own ini paths are, so the same ini works from any directory."""
    path = Path(text).expanduser()
    if path.is_absolute():
        return path
    if config.getoption(option.dest, None) is not None:
        return Path(config.invocation_params.dir) / path
    base = config.inipath.parent if config.inipath else config.rootpath
    return base / path

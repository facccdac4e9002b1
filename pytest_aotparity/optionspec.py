"""The one description of an option: its command-line flag, the ini key that backs it,
and where argparse stores it. Every option group (targets and comparison, generation,
verdict) declares its options with it, so error messages and the generated reference
name each option the same way."""

from __future__ import annotations

from dataclasses import dataclass


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

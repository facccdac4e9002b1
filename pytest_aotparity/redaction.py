"""The one list of secrets the plugin never shows: headers, query parameters and JSON members
by these names read ``***`` in failures, curl commands, the terminal, JSON, HTML and JUnit.

``--aot-parity-redact`` (ini ``aot_parity_redact``) adds names; the run holds the result
(:attr:`~pytest_aotparity.run.parity.ParityRun.redact`) and every writer takes it from there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

DEFAULT_REDACT: Final = (
    "authorization",
    "cookie",
    "set-cookie",
    "proxy-authorization",
    "proxy-authenticate",
    "x-api-key",
)
REDACTED: Final = "***"


def redaction_names(extra: Iterable[str] = ()) -> frozenset[str]:
    """The defaults plus ``extra``, folded to lower case."""
    return frozenset(name.lower() for name in (*DEFAULT_REDACT, *extra))

"""Repo-level pytest configuration for the parity gate on the sample app.

`pytest --aot-parity` at the repo root reads the targets from pyproject.toml
([tool.pytest.ini_options]: the aotparity-sample:jit and :aot images built by
sample_app/build.sh) and runs the sample app's API suite, sample_app/tests, against both.

Nothing here is needed by the plugin; it only makes the gate usable from a fresh checkout.
"""

from __future__ import annotations

import os

# No registry is reachable on the machines this repo is built on, so the testcontainers
# reaper image cannot be pulled; the plugin removes every container it starts itself.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

"""pytest-aotparity: does the Native AOT build of an ASP.NET Core API answer like its JIT build?

Importing this package is cheap on purpose: the pytest entry point is
:mod:`pytest_aotparity.plugin`, and everything heavy (testcontainers, deepdiff,
hypothesis, schemathesis) is imported only once ``--aot-parity`` is given.
"""

__version__ = "0.1.0"
